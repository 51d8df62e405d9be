/* src/core/blas.h: the BLAS, loaded on first use (internal to core).
 *
 * plast does not link OpenBLAS: it opens it (dlopen) the first time a product needs it. OpenBLAS's library
 * constructor reserves its buffers, and under an address-space limit (ulimit -v) smaller than it needs it retries
 * forever, before main() could say anything (issue 16). Loaded late, the command-line tool first checks the limit
 * (plast_runtime_check_address_space) and stops with a message instead. Without a BLAS to open, products fall back
 * to plast_gemm_ref's loops, and plast_runtime_describe says so. */
#ifndef PLAST_CORE_BLAS_H
#define PLAST_CORE_BLAS_H

#include <cblas.h>

typedef struct plast_blas {
    __typeof__(cblas_sgemm) *sgemm;
    __typeof__(cblas_dgemm) *dgemm;
    __typeof__(cblas_sgemv) *sgemv;
    __typeof__(cblas_dgemv) *dgemv;
    void (*set_threads)(int);  /* openblas_set_num_threads, NULL for another BLAS */
    int (*get_threads)(void);  /* openblas_get_num_threads */
    char *(*get_config)(void); /* openblas_get_config */
    const char *path;          /* the file opened, or NULL when none could be */
    char error[256];           /* why not */
} plast_blas;

/* address space OpenBLAS takes per thread: as it loads, and again for each product running at once (a 128 MB
 * buffer, which it waits for forever when it cannot map it); measured 133 MB, with a margin */
#define PLAST_BLAS_THREAD_BYTES (160.0 * 1048576.0)

/* The BLAS, opened once (thread-safe); its products are NULL when none could be opened, or when the address space
 * left (ulimit -v) is below what it reserves as it loads (plast_blas_space). */
const plast_blas *plast_blas_get(void);
/* The BLAS if it has been opened, else NULL (opens nothing). */
const plast_blas *plast_blas_peek(void);
/* the threads OpenBLAS sizes itself for when it loads (OpenMP's count, or a larger OPENBLAS_NUM_THREADS), the
 * address space loading it needs, and what this process has left (-1: no limit) */
int plast_blas_load_threads(void);
double plast_blas_space_needed(void);
double plast_blas_space_left(void);

#endif
