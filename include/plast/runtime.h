/* plast/runtime.h: what the linked library was built with, and the threads it computes on.
 *
 * plast keeps no global state of its own. Threads are the one process-wide setting it touches, because OpenMP and
 * OpenBLAS keep their thread counts process-wide: plast runs its own loops with OpenMP and calls BLAS only outside
 * those loops, so the two never oversubscribe the cores.
 */
#ifndef PLAST_RUNTIME_H
#define PLAST_RUNTIME_H

#include "plast/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Sets the OpenMP and BLAS thread counts (n >= 1). */
PLAST_API void plast_runtime_set_threads(int n);
PLAST_API int plast_runtime_threads(void);
/* One line describing the build: version, precision, compiler, BLAS, OpenMP. Returns buf. */
PLAST_API char *plast_runtime_describe(char *buf, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
