/* src/engine/lowrank.h: products with a plastic weight kept in low-rank form (internal).
 *
 * When every plastic update of a trial is rank one (Hebbian pre (x) post; the gradient rule's pre (x) delta) and
 * the decay and rate are per-sample scalars, the plastic weight of sample b after K updates is
 *     P[b] = alpha * sum_{k<K} gamma[b,k] u[b,k] v[b,k]^T            alpha (in, out) shared, * elementwise
 * and a product with it needs no dense P at all:
 *     x P        = sum_k gamma_k ((x * u_k) alpha) * v_k              (the "forward" product, in -> out)
 *     y P^T      = sum_k gamma_k ((y * v_k) alpha^T) * u_k            (the "transposed" product, out -> in)
 * Each is one matrix product over all (sample, update) pairs, (B K, in) x (in, out): compute-bound, O(K) per step,
 * O(T^2) per trial, and memory that does not depend on in x out per sample.
 *
 * Both directions are the same computation with the roles of the factors swapped, so one pair of functions serves
 * them: a factor "f1" on the input side (u forwards, v transposed), "f2" on the output side. Factors are stored per
 * sample as (T, ...) rows: element (b, k, i) at f[b * bstride + k * ld + i].
 */
#ifndef PLAST_ENGINE_LOWRANK_H
#define PLAST_ENGINE_LOWRANK_H

#include <stdint.h>

#include "plast/base.h"

typedef struct lr_factor {
    plast_real *p;   /* element (b, k, i) at p[b * bstride + k * ld + i] */
    int64_t bstride; /* elements between samples */
    int64_t ld;      /* elements between updates */
} lr_factor;

typedef struct lr_product {
    int64_t B, K;       /* samples, updates so far */
    int64_t n1, n2;     /* input and output sizes of this direction */
    const plast_real *alpha; /* (in, out) row-major, leading dimension lda */
    int64_t lda;
    int trans;          /* 0: x (n1 = in) -> y (n2 = out); 1: y (n1 = out) -> x (n2 = in), with alpha^T */
    lr_factor f1, f2;   /* input-side and output-side factors */
    const plast_real *gamma; /* gamma[b * gstride + k] */
    int64_t gstride;
} lr_product;

/* y (B, n2, row stride ldy) += sum_k gamma (x * f1_k) W * f2_k, W = alpha or alpha^T. Z (B K, n1) is scratch
 * for the rows x * f1_k; A (B K, n2) receives (x * f1_k) W, which the adjoint needs. */
void lr_forward(const lr_product *L, const plast_real *x, int64_t ldx, plast_real *y, int64_t ldy, plast_real *Z,
                plast_real *A);

/* The adjoint of lr_forward for output adjoint dy (B, n2), except d/dalpha (lr_dalpha, once per trial): adds d/dx
 * into dx (may be NULL), d/df1 into df1, d/df2 into df2 (same layouts as f1, f2; p = NULL: not needed) and
 * d/dgamma into dgamma (NULL: not needed). A is what lr_forward saved. M (B K, n2) and N (B K, n1) are scratch. */
void lr_backward(const lr_product *L, const plast_real *x, int64_t ldx, const plast_real *dy, int64_t lddy,
                 const plast_real *A, plast_real *dx, int64_t lddx, lr_factor df1, lr_factor df2, plast_real *dgamma,
                 plast_real *M, plast_real *N);

/* Per-step rows of a trial: element (b, t, i) at p[b * bstride + t * tstride + i]. */
typedef struct lr_seq {
    const plast_real *p;
    int64_t bstride, tstride;
} lr_seq;

/* d/dalpha (alpha's layout, leading dimension L->lda) += the gradient of a product over a whole trial of T steps,
 * given the product's input x_t (B, n1) and output adjoint dy_t (B, n2) at every step, the update coefficients
 * c_k = coef[k B + b] and the decays lam[t B + b] (gamma_{t-1}[k] = c_k prod_{k<j<t} (1 - lam_j)). Written over the
 * (sample, step, update) rows it is the product Z^T M of the rows lr_forward and lr_backward build, O(T^2) work;
 * summed instead by the reverse recursion
 *     R_k = x_{k+1} (x) dy_{k+1} + (1 - lam_{k+1}) R_{k+1},   d/dalpha = sum_b sum_k c_k (f1_k (x) f2_k) * R_k
 * it is O(T) work per sample with R held in blocks in L1, and no rows need keeping. scratch holds scratch_n
 * elements, at least lr_dalpha_scratch(max(n1, n2), 1); as many threads run as it has room for. */
void lr_dalpha(const lr_product *L, int64_t T, lr_seq x, lr_seq dy, const plast_real *coef, const plast_real *lam,
               plast_real *dalpha, plast_real *scratch, int64_t scratch_n);
int64_t lr_dalpha_scratch(int64_t n, int threads);

#endif
