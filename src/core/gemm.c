/* src/core/gemm.c: matrix products through CBLAS, and the reference loop they are checked against. */
#include <cblas.h>

#include "core/gemm.h"

#ifdef PLAST_DOUBLE
#define CBLAS_GEMM cblas_dgemm
#define CBLAS_GEMV cblas_dgemv
#else
#define CBLAS_GEMM cblas_sgemm
#define CBLAS_GEMV cblas_sgemv
#endif

void plast_gemm(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, plast_real alpha, const plast_real *A,
                int64_t lda, const plast_real *B, int64_t ldb, plast_real beta, plast_real *C, int64_t ldc) {
    if (M == 0 || N == 0) return;
    if (K == 0) { /* BLAS leaves C untouched when K == 0 only if beta == 1; make it explicit */
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) C[i * ldc + j] = beta == 0 ? 0 : beta * C[i * ldc + j];
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
