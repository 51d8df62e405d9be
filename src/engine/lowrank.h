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

/* y (B, n2, row stride ldy) += sum_k gamma (x * f1_k) W * f2_k, W = alpha or alpha^T. Z (B K, n1) receives
 * x * f1_k and A (B K, n2) receives (x * f1_k) W: the adjoint needs both. */
void lr_forward(const lr_product *L, const plast_real *x, int64_t ldx, plast_real *y, int64_t ldy, plast_real *Z,
                plast_real *A);

/* The adjoint of lr_forward for output adjoint dy (B, n2), except d/dalpha: adds d/dx into dx (may be NULL), d/df1
 * into df1, d/df2 into df2 (same layouts as f1, f2; p = NULL: not needed) and d/dgamma into dgamma (NULL: not
 * needed). A is what lr_forward saved. M (B K, n2) receives gamma f2 dy, which with Z gives d/dalpha (see
 * lr_dalpha); N (B K, n1) is scratch. */
void lr_backward(const lr_product *L, const plast_real *x, int64_t ldx, const plast_real *dy, int64_t lddy,
                 const plast_real *A, plast_real *dx, int64_t lddx, lr_factor df1, lr_factor df2, plast_real *dgamma,
                 plast_real *M, plast_real *N);

/* d/dalpha += Z^T M over `rows` saved rows (all the steps of a trial at once: one large product), into dalpha
 * (in, out, leading dimension lda); trans as in the product that saved Z (n1 wide) and M (n2 wide). */
void lr_dalpha(int trans, int64_t rows, int64_t n1, int64_t n2, const plast_real *Z, const plast_real *M,
               plast_real *dalpha, int64_t lda);

#endif
