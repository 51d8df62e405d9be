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

/* Opens the BLAS now (it is otherwise opened by the first product), or says why it cannot. OpenBLAS 0.3.21
 * reserves about 53 MB and 133 MB per thread of address space as it loads (measured; for the threads of
 * plast_runtime_set_threads, or a larger OPENBLAS_NUM_THREADS), and under an address-space limit
 * (ulimit -v) that leaves less it retries forever. So plast opens it only when the space left covers 64 MB and
 * 160 MB per thread; otherwise products fall back to slow reference loops, and this returns an error naming the
 * limit, the space left and what loading needs. A program that would rather stop than run slowly calls it first. */
PLAST_API plast_status plast_runtime_load_blas(plast_err *err);
/* Sets the OpenMP and BLAS thread counts (n >= 1); before the BLAS is opened, the count it will be opened for. */
PLAST_API void plast_runtime_set_threads(int n);
PLAST_API int plast_runtime_threads(void);
/* Measures how many of this process's cores other processes leave free, from /proc/stat (Linux) between two
 * readings: the busy time of the CPUs this process may run on, less this process's own CPU time. A training loop
 * uses it to compute on the free cores only: on a machine where another process holds a core, threads that wait
 * for a thread sharing that core cost far more than the core gives. */
typedef struct plast_cpu_meter {
    double wall, own;               /* at the last reading: monotonic seconds; this process's CPU seconds */
    unsigned long long busy;        /* at the last reading: /proc/stat busy ticks of our CPUs */
    int cpus;                       /* CPUs this process may run on; 0 when /proc/stat cannot be read */
} plast_cpu_meter;
PLAST_API void plast_cpu_meter_init(plast_cpu_meter *m);
/* The cores other processes left free since the last reading (or init), between 1 and max; max when unknown or when
 * under 0.2 s have passed (the reading is then kept). */
PLAST_API int plast_cpu_meter_free(plast_cpu_meter *m, int max);
/* One line describing the build: version, precision, compiler, BLAS, OpenMP. Returns buf. */
PLAST_API char *plast_runtime_describe(char *buf, size_t cap);
/* Bytes of memory a new allocation can count on: the kernel's MemAvailable, capped by the cgroup's limit less its
 * usage (cgroup v2) and by the address space left under ulimit -v less 160 MB per thread (OpenBLAS's per-thread
 * buffers); 0 when none can be read. */
PLAST_API double plast_runtime_memory_available(void);

#ifdef __cplusplus
}
#endif
#endif
