/* src/core/gemm.c: matrix products through CBLAS, and the reference loop they are checked against.
 *
 * Results never depend on the number of threads. OpenBLAS splits a product between its threads by rows and columns
 * of C, and the kernels it uses at the edges of each thread's part sum over K in another order, so the same product
 * differed in the last bits between --threads 1 and 2 (issue 16). Here a product is cut into fixed tiles of C that
 * depend on its shape alone, each tile is one single-threaded BLAS call, and threads only share out the tiles.
 * A product with few tiles but a long K (a weight gradient summed over every row of a batch of images) is also cut
 * along K into fixed chunks: each (tile, chunk) is one call into that chunk's own buffer, and the chunks are added in
 * chunk order afterwards, so both threads work and the sum still depends on the shape alone. */
#include <omp.h>
#include <stdlib.h>

#include "core/blas.h"
#include "core/gemm.h"

enum {
    GEMM_TILE = 256,          /* rows and columns of C per tile */
    GEMM_SPLIT_MIN = 1 << 20, /* multiply-adds below which a product is one call on one thread */
    GEMM_KCHUNK = 512,        /* K per chunk, about, when a product with few tiles is cut along K */
    GEMM_MIN_CHUNKS = 8,      /* chunks at least (shorter ones for a shorter K), so that threads share them evenly */
    GEMM_MAX_CHUNKS = 64,     /* chunks at most: a longer K gets longer chunks */
    GEMM_FEW_TILES = 8,       /* tiles below which a product with a long K is cut along K */
    GEMM_CHUNK_C = 1 << 18,   /* elements of C up to which each chunk's product is one call for the whole of C */
};

#ifdef PLAST_DOUBLE
#define CBLAS_GEMM blas->dgemm
#define CBLAS_GEMV blas->dgemv
#else
#define CBLAS_GEMM blas->sgemm
#define CBLAS_GEMV blas->sgemv
#endif

/* one BLAS call for C (M x N): the BLAS's, or the reference loops without one */
static void gemm_call(const plast_blas *blas, int trans_a, int trans_b, int64_t M, int64_t N, int64_t K,
                      plast_real alpha, const plast_real *A, int64_t lda, const plast_real *B, int64_t ldb,
                      plast_real beta, plast_real *C, int64_t ldc) {
    if (!blas->path) {
        plast_gemm_ref(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    if (M == 1) {
        /* OpenBLAS 0.3.21 is slow for sgemm with M == 1; a row times a matrix is a gemv with op(B) transposed. */
        int incx = trans_a ? (int)lda : 1;
        if (!trans_b) /* y(N) = B(K x N)^T a */
            CBLAS_GEMV(CblasRowMajor, CblasTrans, (int)K, (int)N, alpha, B, (int)ldb, A, incx, beta, C, 1);
        else /* y(N) = B(N x K) a */
            CBLAS_GEMV(CblasRowMajor, CblasNoTrans, (int)N, (int)K, alpha, B, (int)ldb, A, incx, beta, C, 1);
        return;
    }
    CBLAS_GEMM(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, (int)M,
               (int)N, (int)K, alpha, A, (int)lda, B, (int)ldb, beta, C, (int)ldc);
}

/* C = alpha op(A) op(B) + beta C with K cut into kc chunks of kl (the last shorter; both from K alone): chunk c's
 * product of tile k goes to part + c M N, then each element adds its chunks in order. A small C is one tile per chunk:
 * a 256-row tile of a 576 x 64 weight gradient leaves a 64-row remainder that runs at two thirds of the speed, and
 * chunks of 512 beat 1024 and longer (measured with OpenBLAS 0.3.21, docs/PERFORMANCE.md); at least 8 chunks, or
 * a K of 2,560 would make 5 and leave one of two threads idle for a fifth of the product. 0 without memory. */
static int gemm_split_k(const plast_blas *blas, int team, int trans_a, int trans_b, int64_t M, int64_t N, int64_t K,
                        plast_real alpha, const plast_real *A, int64_t lda, const plast_real *B, int64_t ldb,
                        plast_real beta, plast_real *C, int64_t ldc, int64_t bm, int64_t bn) {
    if (M * N <= GEMM_CHUNK_C) bm = M, bn = N;
    int64_t want = (K + GEMM_KCHUNK - 1) / GEMM_KCHUNK; /* chunks of about GEMM_KCHUNK, within the bounds */
    want = want < GEMM_MIN_CHUNKS ? GEMM_MIN_CHUNKS : want > GEMM_MAX_CHUNKS ? GEMM_MAX_CHUNKS : want;
    const int64_t kl = (K + want - 1) / want, kc = (K + kl - 1) / kl;
    const int64_t tn = (N + bn - 1) / bn, tiles = (M + bm - 1) / bm * tn;
    plast_real *part = malloc(sizeof(plast_real) * (size_t)(kc * M * N)); /* (kc, M, N) */
    if (!part) return 0;
#pragma omp parallel for schedule(static) num_threads(team) if (team > 1)
    for (int64_t u = 0; u < tiles * kc; u++) {
        const int64_t k = u / kc, c = u % kc, i0 = k / tn * bm, j0 = k % tn * bn, p0 = c * kl;
        const int64_t m = M - i0 < bm ? M - i0 : bm, n = N - j0 < bn ? N - j0 : bn;
        const int64_t kk = K - p0 < kl ? K - p0 : kl;
        const plast_real *a = trans_a ? A + p0 * lda + i0 : A + i0 * lda + p0;
        const plast_real *b = trans_b ? B + j0 * ldb + p0 : B + p0 * ldb + j0;
        gemm_call(blas, trans_a, trans_b, m, n, kk, 1, a, lda, b, ldb, 0, part + c * M * N + i0 * N + j0, N);
    }
    /* each element's chunks added in chunk order, a block of columns at a time so the reads run along rows */
#pragma omp parallel for schedule(static) num_threads(team) if (team > 1 && M * N * kc >= 65536)
    for (int64_t i = 0; i < M; i++)
        for (int64_t j0 = 0; j0 < N; j0 += 64) {
            const int64_t n = N - j0 < 64 ? N - j0 : 64;
            plast_real acc[64] = {0};
            for (int64_t c = 0; c < kc; c++) {
                const plast_real *pc = part + (c * M + i) * N + j0;
                for (int64_t j = 0; j < n; j++) acc[j] += pc[j];
            }
            plast_real *cr = C + i * ldc + j0;
            for (int64_t j = 0; j < n; j++) cr[j] = alpha * acc[j] + (beta == 0 ? 0 : beta * cr[j]);
        }
    free(part);
    return 1;
}

void plast_gemm(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, plast_real alpha, const plast_real *A,
                int64_t lda, const plast_real *B, int64_t ldb, plast_real beta, plast_real *C, int64_t ldc) {
    if (M == 0 || N == 0) return;
    if (K == 0) { /* BLAS leaves C untouched when K == 0 only if beta == 1; make it explicit */
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) C[i * ldc + j] = beta == 0 ? 0 : beta * C[i * ldc + j];
        return;
    }
    /* tiles of bm x bn: GEMM_TILE square for a large product, the whole of C otherwise */
    const int split = M * N * K >= GEMM_SPLIT_MIN;
    const int64_t bm = split ? GEMM_TILE : M, bn = split ? GEMM_TILE : N;
    const int64_t tn = (N + bn - 1) / bn, tiles = (M + bm - 1) / bm * tn;
    const int team = omp_in_parallel() ? 1 : omp_get_max_threads();
    const int nt = (int64_t)team < tiles ? team : (int)tiles;
    /* BLAS runs one thread per call: inside an active parallel region by itself, else told so for the call */
    if (nt <= 1 && !omp_in_parallel()) omp_set_num_threads(1);
    const plast_blas *blas = plast_blas_get();
    /* the choice depends on the shape alone; without memory for the chunks the tiles alone give the same values to
     * rounding, still independently of the thread count */
    if (!(split && tiles < GEMM_FEW_TILES && K >= 4 * GEMM_KCHUNK &&
          gemm_split_k(blas, team, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, bm, bn))) {
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
        for (int64_t k = 0; k < tiles; k++) {
            const int64_t i0 = k / tn * bm, j0 = k % tn * bn;
            const int64_t m = M - i0 < bm ? M - i0 : bm, n = N - j0 < bn ? N - j0 : bn;
            const plast_real *a = trans_a ? A + i0 : A + i0 * lda, *b = trans_b ? B + j0 * ldb : B + j0;
            gemm_call(blas, trans_a, trans_b, m, n, K, alpha, a, lda, b, ldb, beta, C + i0 * ldc + j0, ldc);
        }
    }
    if (nt <= 1 && !omp_in_parallel()) omp_set_num_threads(team);
}

void plast_gemm_one(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, plast_real alpha, const plast_real *A,
                    int64_t lda, const plast_real *B, int64_t ldb, plast_real beta, plast_real *C, int64_t ldc) {
    if (M == 0 || N == 0) return;
    if (K == 0) {
        plast_gemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    const int outside = !omp_in_parallel(), team = omp_get_max_threads();
    if (outside && team > 1) omp_set_num_threads(1);
    gemm_call(plast_blas_get(), trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    if (outside && team > 1) omp_set_num_threads(team);
}

void plast_gemm_ref(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, plast_real alpha,
                    const plast_real *A, int64_t lda, const plast_real *B, int64_t ldb, plast_real beta,
                    plast_real *C, int64_t ldc) {
    for (int64_t i = 0; i < M; i++) {
        for (int64_t j = 0; j < N; j++) {
            double acc = 0;
            for (int64_t k = 0; k < K; k++) {
                double a = trans_a ? A[k * lda + i] : A[i * lda + k];
                double b = trans_b ? B[j * ldb + k] : B[k * ldb + j];
                acc += a * b;
            }
            double c = beta == 0 ? 0.0 : (double)beta * C[i * ldc + j];
            C[i * ldc + j] = (plast_real)(alpha * acc + c);
        }
    }
}
