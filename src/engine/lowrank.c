/* src/engine/lowrank.c: products with a low-rank plastic weight, and their adjoint (see lowrank.h).
 *
 * Each call is one OpenMP region split by blocks of samples: a thread builds the rows of a block, multiplies them
 * in one single-threaded BLAS product (the OpenMP build of OpenBLAS runs single-threaded inside a parallel region)
 * and reduces them into the block's outputs while they are still in cache. Splitting the work ourselves instead of
 * letting BLAS split each product saves a fork/join and BLAS's inter-thread waits per product, and keeps each
 * thread on the rows it just wrote. Results do not depend on the number of threads: the blocks depend on the
 * product's shape alone (BLAS sums a row's dot products differently at the edge of a product, so a split by thread
 * made the last bits depend on --threads: issue 16).
 */
#include <omp.h>

#include "engine/lowrank.h"
#include "core/gemm.h"

#define ROW(f, b, k) ((f).p + (b) * (f).bstride + (k) * (f).ld)

/* below this many multiply-adds a product runs on one thread */
#define LR_PARALLEL_MIN 262144
/* elements of one block of d/dalpha and of its R (lr_dalpha): 2 x 128 KiB in float32, which stay in L2 */
#define LR_BLOCK 32768

/* rows of one block's product, about: a block is ceil(LR_BLOCK_ROWS / K) samples of K rows each */
#define LR_BLOCK_ROWS 192

/* the samples per block at K updates */
static int64_t block_samples(int64_t K) { return (LR_BLOCK_ROWS + K - 1) / K; }

void lr_forward(const lr_product *L, const plast_real *x, int64_t ldx, plast_real *y, int64_t ldy, plast_real *Z,
                plast_real *A) {
    const int64_t B = L->B, K = L->K, n1 = L->n1, n2 = L->n2;
    if (K == 0) return;
    const int64_t sb = block_samples(K);
#pragma omp parallel for schedule(static) if (B * K * n1 * n2 >= LR_PARALLEL_MIN)
    for (int64_t b0 = 0; b0 < B; b0 += sb) {
        const int64_t b1 = b0 + sb < B ? b0 + sb : B;
        /* Z[(b,k), :] = x[b, :] * f1[b, k, :] */
        for (int64_t b = b0; b < b1; b++)
            for (int64_t k = 0; k < K; k++) {
                const plast_real *xb = x + b * ldx, *f = ROW(L->f1, b, k);
                plast_real *z = Z + (b * K + k) * n1;
                for (int64_t i = 0; i < n1; i++) z[i] = xb[i] * f[i];
            }
        /* A = Z W: W = alpha (in, out) forwards, alpha^T transposed */
        if (b1 > b0)
            plast_gemm(0, L->trans, (b1 - b0) * K, n2, n1, 1, Z + b0 * K * n1, n1, L->alpha, L->lda, 0,
                       A + b0 * K * n2, n2);
        /* y[b] += sum_k gamma_k f2_k * A_k */
        for (int64_t b = b0; b < b1; b++) {
            plast_real *yb = y + b * ldy;
            for (int64_t k = 0; k < K; k++) {
                const plast_real g = L->gamma[b * L->gstride + k], *f = ROW(L->f2, b, k), *a = A + (b * K + k) * n2;
                for (int64_t j = 0; j < n2; j++) yb[j] += g * f[j] * a[j];
            }
        }
    }
}

void lr_backward(const lr_product *L, const plast_real *x, int64_t ldx, const plast_real *dy, int64_t lddy,
                 const plast_real *A, plast_real *dx, int64_t lddx, lr_factor df1, lr_factor df2, plast_real *dgamma,
                 plast_real *M, plast_real *N) {
    const int64_t B = L->B, K = L->K, n1 = L->n1, n2 = L->n2;
    if (K == 0) return;
    const int64_t sb = block_samples(K);
#pragma omp parallel for schedule(static) if (B * K * n1 * n2 >= LR_PARALLEL_MIN)
    for (int64_t b0 = 0; b0 < B; b0 += sb) {
        const int64_t b1 = b0 + sb < B ? b0 + sb : B;
        /* M[(b,k), j] = gamma f2 dy; with A also d/df2 and d/dgamma */
        for (int64_t r = b0 * K; r < b1 * K; r++) {
            const int64_t b = r / K, k = r % K;
            const plast_real g = L->gamma[b * L->gstride + k], *f = ROW(L->f2, b, k), *a = A + r * n2;
            const plast_real *d = dy + b * lddy;
            plast_real *m = M + r * n2, *df = df2.p ? ROW(df2, b, k) : NULL;
            /* the dot product in plast_real lanes: `omp simd reduction` lets it vectorise (the order of a
             * reduction is fixed by the build, so results stay reproducible); n2 terms */
            plast_real dg = 0;
#pragma omp simd reduction(+ : dg)
            for (int64_t j = 0; j < n2; j++) {
                const plast_real da = d[j] * a[j];
                m[j] = g * f[j] * d[j];
                if (df) df[j] += g * da;
                dg += f[j] * da;
            }
            if (dgamma) dgamma[b * L->gstride + k] += dg;
        }
        if ((dx || df1.p) && b1 > b0) {
            /* N = M W^T, then d/dx = sum_k f1 * N and d/df1 = x * N */
            plast_gemm(0, !L->trans, (b1 - b0) * K, n1, n2, 1, M + b0 * K * n2, n2, L->alpha, L->lda, 0,
                       N + b0 * K * n1, n1);
            for (int64_t b = b0; b < b1; b++) {
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
    }
}

int64_t lr_dalpha_scratch(int64_t n, int threads) {
    return 2 * (n > LR_BLOCK ? n : LR_BLOCK) * (threads > 1 ? threads : 1);
}

/* g <= DALPHA_STEPS consecutive steps of lr_dalpha's recursion (k, k-1, ...), done in one pass over R and the sum:
 * both stay in registers across the g steps, so each element of them crosses L2 once per g steps, not every step */
#define DALPHA_STEPS 4
typedef struct dalpha_steps {
    int g;
    plast_real keep[DALPHA_STEPS], c[DALPHA_STEPS];
    const plast_real *pa[DALPHA_STEPS], *pb[DALPHA_STEPS], *u[DALPHA_STEPS], *v[DALPHA_STEPS];
} dalpha_steps;

static inline __attribute__((always_inline)) void dalpha_pass(const dalpha_steps *st, int g, int first, int64_t m,
                                                              int64_t nb, plast_real *R, plast_real *acc) {
    for (int64_t i = 0; i < m; i++) {
        plast_real xi[DALPHA_STEPS], ci[DALPHA_STEPS];
        for (int q = 0; q < g; q++) xi[q] = st->pa[q][i], ci[q] = st->c[q] * st->u[q][i];
        plast_real *r = R + i * nb, *a = acc + i * nb;
        /* `omp simd`: the rows never overlap, and GCC's run-time overlap check fails on this many pointers. R_{T-1}
         * = 0 is not read: `first` is the same for the whole loop, so GCC unswitches it into two loops. */
#pragma omp simd
        for (int64_t j = 0; j < nb; j++) {
            plast_real rj = first ? 0 : r[j], aj = a[j];
            for (int q = 0; q < g; q++) {
                rj = xi[q] * st->pb[q][j] + st->keep[q] * rj;
                aj += ci[q] * st->v[q][j] * rj;
            }
            r[j] = rj, a[j] = aj;
        }
    }
}

void lr_dalpha(const lr_product *L, int64_t T, lr_seq x, lr_seq dy, const plast_real *coef, const plast_real *lam,
               plast_real *dalpha, plast_real *scratch, int64_t scratch_n) {
    const int64_t B = L->B;
    if (T < 2) return;
    /* R and the sum are (na, nb) blocks with the longer side nb innermost, so the inner loop vectorises: side "a"
     * is the input side (x, f1) unless the output side is the shorter. Element (ia, ib) of the sum belongs at
     * dalpha[ia * sa + ib * sb]. */
    const int swap = L->n2 < L->n1;
    const int64_t na = swap ? L->n2 : L->n1, nb = swap ? L->n1 : L->n2;
    const lr_seq xa = swap ? dy : x, xb = swap ? x : dy;
    const lr_factor fa = swap ? L->f2 : L->f1, fb = swap ? L->f1 : L->f2;
    const int a_is_row = swap == L->trans; /* side a indexes alpha's rows (in) */
    const int64_t sa = a_is_row ? L->lda : 1, sb = a_is_row ? 1 : L->lda;
    /* blocks of `rows` rows of side a, each with its R block: small enough for L2 (where the rows of side b, read
     * once per block, meet them), and at least one block per thread */
    int64_t nt = B * T * na * nb >= LR_PARALLEL_MIN ? omp_get_max_threads() : 1;
    int64_t rows = nb >= LR_BLOCK ? 1 : LR_BLOCK / nb;
    if (rows > (na + nt - 1) / nt) rows = (na + nt - 1) / nt;
    const int64_t nblk = (na + rows - 1) / rows, per = 2 * rows * nb;
    if (nt > nblk) nt = nblk;
    if (nt > scratch_n / per) nt = scratch_n / per;
    if (nt < 1) nt = 1; /* lr_dalpha_scratch(max(n1, n2), 1) is the least a caller gives */
#pragma omp parallel num_threads((int)nt)
    {
        plast_real *R = scratch + omp_get_thread_num() * per, *acc = R + rows * nb;
#pragma omp for schedule(static)
        for (int64_t blk = 0; blk < nblk; blk++) {
            const int64_t i0 = blk * rows, m = (i0 + rows < na ? rows : na - i0);
            for (int64_t e = 0; e < m * nb; e++) acc[e] = 0;
            for (int64_t b = 0; b < B; b++) {
                /* R_k = x_{k+1} (x) dy_{k+1} + keep_{k+1} R_{k+1};  acc += c_k (f1_k (x) f2_k) * R_k, for k = T-2
                 * down to 0, DALPHA_STEPS steps per pass. R_{T-1} is zero. */
                for (int64_t k = T - 2; k >= 0; k -= DALPHA_STEPS) {
                    dalpha_steps st;
                    st.g = k + 1 < DALPHA_STEPS ? (int)(k + 1) : DALPHA_STEPS;
                    for (int q = 0; q < st.g; q++) {
                        const int64_t kk = k - q;
                        st.keep[q] = 1 - lam[(kk + 1) * B + b], st.c[q] = coef[kk * B + b];
                        st.pa[q] = xa.p + b * xa.bstride + (kk + 1) * xa.tstride + i0;
                        st.pb[q] = xb.p + b * xb.bstride + (kk + 1) * xb.tstride;
                        st.u[q] = ROW(fa, b, kk) + i0, st.v[q] = ROW(fb, b, kk);
                    }
                    const int first = k == T - 2;
                    switch (st.g) { /* a constant g for each copy, so its step loop unrolls */
                    case 1: dalpha_pass(&st, 1, first, m, nb, R, acc); break;
                    case 2: dalpha_pass(&st, 2, first, m, nb, R, acc); break;
                    case 3: dalpha_pass(&st, 3, first, m, nb, R, acc); break;
                    default: dalpha_pass(&st, DALPHA_STEPS, first, m, nb, R, acc); break;
                    }
                }
            }
            for (int64_t i = 0; i < m; i++)
                for (int64_t j = 0; j < nb; j++) dalpha[(i0 + i) * sa + j * sb] += acc[i * nb + j];
        }
    }
}
