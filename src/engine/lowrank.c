/* src/engine/lowrank.c: products with a low-rank plastic weight, and their adjoint (see lowrank.h). Each is one
 * (or two) BLAS products over all (sample, update) rows, between elementwise passes run with OpenMP; BLAS is never
 * called inside an OpenMP region. */
#include "engine/lowrank.h"
#include "core/gemm.h"

#define ROW(f, b, k) ((f).p + (b) * (f).bstride + (k) * (f).ld)

/* Z[(b,k), :] = x[b, :] * f1[b, k, :] */
static void build_z(const lr_product *L, const plast_real *x, int64_t ldx, plast_real *Z) {
    const int64_t B = L->B, K = L->K, n1 = L->n1;
#pragma omp parallel for if (B * K * n1 >= 32768)
    for (int64_t r = 0; r < B * K; r++) {
        const int64_t b = r / K, k = r % K;
        const plast_real *xb = x + b * ldx, *f = ROW(L->f1, b, k);
        plast_real *z = Z + r * n1;
        for (int64_t i = 0; i < n1; i++) z[i] = xb[i] * f[i];
    }
}

void lr_forward(const lr_product *L, const plast_real *x, int64_t ldx, plast_real *y, int64_t ldy, plast_real *Z,
                plast_real *A) {
    const int64_t B = L->B, K = L->K, n1 = L->n1, n2 = L->n2;
    if (K == 0) return;
    build_z(L, x, ldx, Z);
    /* A = Z W: W = alpha (in, out) forwards, alpha^T transposed */
    plast_gemm(0, L->trans, B * K, n2, n1, 1, Z, n1, L->alpha, L->lda, 0, A, n2);
#pragma omp parallel for if (B * K * n2 >= 32768)
    for (int64_t b = 0; b < B; b++) {
        plast_real *yb = y + b * ldy;
        for (int64_t k = 0; k < K; k++) {
            const plast_real g = L->gamma[b * L->gstride + k], *f = ROW(L->f2, b, k), *a = A + (b * K + k) * n2;
            for (int64_t j = 0; j < n2; j++) yb[j] += g * f[j] * a[j];
        }
    }
}

void lr_backward(const lr_product *L, const plast_real *x, int64_t ldx, const plast_real *dy, int64_t lddy,
                 const plast_real *A, plast_real *dx, int64_t lddx, lr_factor df1, lr_factor df2, plast_real *dgamma,
                 plast_real *M, plast_real *N) {
    const int64_t B = L->B, K = L->K, n1 = L->n1, n2 = L->n2;
    if (K == 0) return;
    /* M[(b,k), j] = gamma f2 dy; with A also d/df2 and d/dgamma */
#pragma omp parallel for if (B * K * n2 >= 32768)
    for (int64_t r = 0; r < B * K; r++) {
        const int64_t b = r / K, k = r % K;
        const plast_real g = L->gamma[b * L->gstride + k], *f = ROW(L->f2, b, k), *a = A + r * n2, *d = dy + b * lddy;
        plast_real *m = M + r * n2, *df = df2.p ? ROW(df2, b, k) : NULL;
        plast_real dg = 0; /* in plast_real so the loop vectorises; n2 terms of one dot product */
        for (int64_t j = 0; j < n2; j++) {
            m[j] = g * f[j] * d[j];
            dg += d[j] * f[j] * a[j];
        }
        if (df)
            for (int64_t j = 0; j < n2; j++) df[j] += g * d[j] * a[j];
        if (dgamma) dgamma[b * L->gstride + k] += dg;
    }
    if (!dx && !df1.p) return;
    /* N = M W^T, then d/dx = sum_k f1 * N and d/df1 = x * N */
    plast_gemm(0, !L->trans, B * K, n1, n2, 1, M, n2, L->alpha, L->lda, 0, N, n1);
#pragma omp parallel for if (B * K * n1 >= 32768)
    for (int64_t b = 0; b < B; b++) {
        const plast_real *xb = x + b * ldx;
        for (int64_t k = 0; k < K; k++) {
            const plast_real *nr = N + (b * K + k) * n1, *f = ROW(L->f1, b, k);
            if (dx) {
                plast_real *d = dx + b * lddx;
                for (int64_t i = 0; i < n1; i++) d[i] += f[i] * nr[i];
            }
            if (df1.p) {
                plast_real *d = ROW(df1, b, k);
                for (int64_t i = 0; i < n1; i++) d[i] += xb[i] * nr[i];
            }
        }
    }
}

void lr_dalpha(int trans, int64_t rows, int64_t n1, int64_t n2, const plast_real *Z, const plast_real *M,
               plast_real *dalpha, int64_t lda) {
    if (rows == 0) return;
    /* d/dW = Z^T M (n1, n2); alpha (in, out) gets it, or its transpose */
    if (!trans)
        plast_gemm(1, 0, n1, n2, rows, 1, Z, n1, M, n2, 1, dalpha, lda);
    else
        plast_gemm(1, 0, n2, n1, rows, 1, M, n2, Z, n1, 1, dalpha, lda);
}
