/* src/core/blas.c: the BLAS opened on first use (core/blas.h). The one process-wide state of the library besides
 * the OpenMP runtime's: a shared library handle, written once under pthread_once and read-only afterwards. */
#include <dlfcn.h>
#include <omp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/blas.h"

#ifndef PLAST_BLAS_PATH
#define PLAST_BLAS_PATH "libopenblas.so.0"
#endif

static plast_blas blas;
static pthread_once_t blas_once = PTHREAD_ONCE_INIT;
static int blas_opened; /* set (atomically) once blas_open has run */

/* the threads OpenBLAS sizes itself for as it loads. Measured: its OpenMP build follows the OMP_NUM_THREADS variable
 * (every processor without it), not OpenMP's count set in the program (with OPENBLAS_NUM_THREADS=1 and no
 * OMP_NUM_THREADS it reserved for two on two processors). So the most of OpenMP's count, OMP_NUM_THREADS (else the
 * processors online), OPENBLAS_NUM_THREADS and GOTO_NUM_THREADS. */
int plast_blas_load_threads(void) {
    int n = omp_get_max_threads();
    const char *omp = getenv("OMP_NUM_THREADS");
    const long procs = sysconf(_SC_NPROCESSORS_ONLN);
    if (!omp && procs > n) n = (int)procs;
    const char *const vars[] = {"OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        const int k = v ? atoi(v) : 0;
        if (k > n) n = k;
    }
    return n > 0 ? n : 1;
}

/* OpenBLAS 0.3.21 (Debian 12) reserves about 53 MB and 133 MB per thread as it loads (measured with ulimit -v);
 * with a margin */
double plast_blas_space_needed(void) { return 64.0 * 1048576.0 + PLAST_BLAS_THREAD_BYTES * plast_blas_load_threads(); }

double plast_blas_space_left(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return -1;
    double used = 0; /* VmSize, kB */
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmSize:", 7) == 0) used = strtod(line + 7, NULL) * 1024.0;
    if (f) fclose(f);
    return (double)rl.rlim_cur > used ? (double)rl.rlim_cur - used : 0;
}

static void blas_open(void) {
    const double left = plast_blas_space_left(), need = plast_blas_space_needed();
    if (left >= 0 && left < need) {
        snprintf(blas.error, sizeof blas.error, "not opened: %.0f MB of address space left (ulimit -v), %.0f MB "
                 "needed to load it for %d threads", left / 1048576.0, need / 1048576.0, plast_blas_load_threads());
        return;
    }
    /* the library found at build time (the OpenMP build of OpenBLAS), else the system's */
    const char *const paths[] = {PLAST_BLAS_PATH, "libopenblas.so.0"};
    void *h = NULL;
    for (size_t i = 0; i < sizeof paths / sizeof paths[0] && !h; i++)
        if ((h = dlopen(paths[i], RTLD_NOW | RTLD_LOCAL))) blas.path = paths[i];
    if (!h) {
        const char *why = dlerror();
        snprintf(blas.error, sizeof blas.error, "%s", why ? why : "cannot open libopenblas.so.0");
        return;
    }
    /* dlsym returns data pointers; POSIX guarantees they convert to function pointers */
    *(void **)&blas.sgemm = dlsym(h, "cblas_sgemm");
    *(void **)&blas.dgemm = dlsym(h, "cblas_dgemm");
    *(void **)&blas.sgemv = dlsym(h, "cblas_sgemv");
    *(void **)&blas.dgemv = dlsym(h, "cblas_dgemv");
    *(void **)&blas.set_threads = dlsym(h, "openblas_set_num_threads");
    *(void **)&blas.get_threads = dlsym(h, "openblas_get_num_threads");
    *(void **)&blas.get_config = dlsym(h, "openblas_get_config");
    if (!blas.sgemm || !blas.dgemm || !blas.sgemv || !blas.dgemv) {
        snprintf(blas.error, sizeof blas.error, "%s has no CBLAS products", blas.path);
        blas.sgemm = NULL, blas.dgemm = NULL, blas.sgemv = NULL, blas.dgemv = NULL, blas.path = NULL;
        dlclose(h);
        return;
    }
    if (blas.set_threads) blas.set_threads(omp_get_max_threads()); /* the count plast_runtime_set_threads set */
}

static void blas_open_once(void) {
    blas_open();
    __atomic_store_n(&blas_opened, 1, __ATOMIC_RELEASE);
}

const plast_blas *plast_blas_peek(void) { return __atomic_load_n(&blas_opened, __ATOMIC_ACQUIRE) ? &blas : NULL; }

const plast_blas *plast_blas_get(void) {
    pthread_once(&blas_once, blas_open_once);
    return &blas;
}
