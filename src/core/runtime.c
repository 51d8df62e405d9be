/* src/core/runtime.c: thread settings and a one-line build description. */
#include <stdio.h>

#include <omp.h>

#include "plast/runtime.h"

/* Weak, so plast links against any CBLAS; these exist when the BLAS is OpenBLAS. */
extern void openblas_set_num_threads(int n) __attribute__((weak));
extern int openblas_get_num_threads(void) __attribute__((weak));
extern char *openblas_get_config(void) __attribute__((weak));

void plast_runtime_set_threads(int n) {
    if (n < 1) n = 1;
    omp_set_num_threads(n);
    if (openblas_set_num_threads) openblas_set_num_threads(n);
}

int plast_runtime_threads(void) { return omp_get_max_threads(); }

char *plast_runtime_describe(char *buf, size_t cap) {
    if (!buf || cap == 0) return buf;
    const char *blas = openblas_get_config ? openblas_get_config() : "CBLAS (not OpenBLAS)";
    int blas_threads = openblas_get_num_threads ? openblas_get_num_threads() : -1;
    snprintf(buf, cap, "plast %s, %s, gcc %d.%d, OpenMP %d threads, BLAS: %s (%d threads)", PLAST_VERSION_STRING,
             sizeof(plast_real) == 8 ? "float64" : "float32", __GNUC__, __GNUC_MINOR__, omp_get_max_threads(), blas,
             blas_threads);
    return buf;
}
