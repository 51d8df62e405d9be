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
 * usage (cgroup v2); 0 when neither can be read. */
PLAST_API double plast_runtime_memory_available(void);

#ifdef __cplusplus
}
#endif
#endif
