/* src/autodiff/ops_matmul.c: matrix products, batched or shared, and per-sample outer products. */
#include <stdio.h>

#include "autodiff/tape_internal.h"
#include "core/gemm.h"

/* Batch axes of a matmul operand: all but the last two. */
static int batch_ndim(plast_shape s) { return s.ndim - 2; }

static int64_t batch_count(plast_shape s) {
    int64_t n = 1;
    for (int i = 0; i < s.ndim - 2; i++) n *= s.d[i];
    return n;
}

/* ---- matmul ------------------------------------------------------------------------------------------------ */

static plast_status shape_matmul(plast_node *const *in, int n_in, const plast_op_params *p, plast_shape *out,
                                 char *why, size_t why_cap) {
    (void)n_in;
    plast_shape a = in[0]->shape, b = in[1]->shape;
    char sa[96], sb[96];
    plast_shape_format(a, sa, sizeof sa);
    plast_shape_format(b, sb, sizeof sb);
    if (a.ndim < 2 || b.ndim < 2) {
        snprintf(why, why_cap, "operands %s and %s need at least 2 axes", sa, sb);
        return PLAST_ERR_SHAPE;
    }
    int64_t M = p->mm.trans_a ? a.d[a.ndim - 1] : a.d[a.ndim - 2];
    int64_t Ka = p->mm.trans_a ? a.d[a.ndim - 2] : a.d[a.ndim - 1];
    int64_t Kb = p->mm.trans_b ? b.d[b.ndim - 1] : b.d[b.ndim - 2];
    int64_t N = p->mm.trans_b ? b.d[b.ndim - 2] : b.d[b.ndim - 1];
    if (Ka != Kb) {
        snprintf(why, why_cap, "inner sizes differ: a %s%s and b %s%s", sa, p->mm.trans_a ? " transposed" : "", sb,
                 p->mm.trans_b ? " transposed" : "");
        return PLAST_ERR_SHAPE;
    }
    int na = batch_ndim(a), nb = batch_ndim(b);
    if (na > 0 && nb > 0) {
        int same = na == nb;
        for (int i = 0; same && i < na; i++) same = a.d[i] == b.d[i];
        if (!same) {
            snprintf(why, why_cap, "batch axes of a %s and b %s differ", sa, sb);
            return PLAST_ERR_SHAPE;
        }
    }
    plast_shape batch = na > 0 ? a : b;
    int nbatch = na > 0 ? na : nb;
    *out = PLAST_SHAPE0();
    out->ndim = nbatch + 2;
    for (int i = 0; i < nbatch; i++) out->d[i] = batch.d[i];
    out->d[nbatch] = M;
    out->d[nbatch + 1] = N;
    return PLAST_OK;
}

static void fwd_matmul(plast_node *y) {
    const plast_node *A = y->in[0], *B = y->in[1];
    const int ta = y->p.mm.trans_a, tb = y->p.mm.trans_b;
    const int64_t M = y->shape.d[y->shape.ndim - 2], N = y->shape.d[y->shape.ndim - 1];
    const int64_t K = ta ? A->shape.d[A->shape.ndim - 2] : A->shape.d[A->shape.ndim - 1];
    const int64_t lda = A->shape.d[A->shape.ndim - 1], ldb = B->shape.d[B->shape.ndim - 1];
    const int64_t nbatch = batch_count(y->shape);
    const int a_batched = batch_ndim(A->shape) > 0, b_batched = batch_ndim(B->shape) > 0;
    if (a_batched && !b_batched && !ta) { /* shared b: the batch folds into the rows of one product */
        plast_gemm(0, tb, nbatch * M, N, K, 1, A->data, lda, B->data, ldb, 0, y->data, N);
        return;
    }
    for (int64_t i = 0; i < nbatch; i++) {
        const plast_real *a = A->data + (a_batched ? i * M * K : 0);
        const plast_real *b = B->data + (b_batched ? i * K * N : 0);
        plast_gemm(ta, tb, M, N, K, 1, a, lda, b, ldb, 0, y->data + i * M * N, N);
    }
}

/* y = op(a) op(b). With g = gy:
 *   da = g op(b)^T  (stored transposed when trans_a: op(b) g^T),
 *   db = op(a)^T g  (stored transposed when trans_b: g^T op(a)),
 * summed over the batch for an operand shared by the whole batch. */
static void bwd_matmul(plast_tape *t, plast_node *y, plast_node *gy, const uint8_t *need, plast_node **gin) {
    plast_node *a = y->in[0], *b = y->in[1];
    const int ta = y->p.mm.trans_a, tb = y->p.mm.trans_b;
    if (need[0]) {
        plast_node *g = ta ? plast_matmul(t, b, gy, tb, 1) : plast_matmul(t, gy, b, 0, !tb);
        gin[0] = plast_sum_to(t, g, a->shape);
    }
    if (need[1]) {
        plast_node *g;
        if (batch_ndim(b->shape) == 0 && batch_ndim(a->shape) > 0 && !ta) {
            /* shared b: fold the batch into one product instead of summing per-sample products */
            int64_t rows = batch_count(a->shape) * a->shape.d[a->shape.ndim - 2];
            plast_node *a2 = plast_reshape(t, a, PLAST_SHAPE2(rows, a->shape.d[a->shape.ndim - 1]));
            plast_node *g2 = plast_reshape(t, gy, PLAST_SHAPE2(rows, gy->shape.d[gy->shape.ndim - 1]));
            g = tb ? plast_matmul(t, g2, a2, 1, 0) : plast_matmul(t, a2, g2, 1, 0);
        } else {
            g = tb ? plast_matmul(t, gy, a, 1, ta) : plast_matmul(t, a, gy, !ta, 0);
        }
        gin[1] = plast_sum_to(t, g, b->shape);
    }
}

const plast_op_def plast_op_matmul = {"matmul", "y = op(a) op(b);  da = gy op(b)^T, db = op(a)^T gy", 2,
                                      shape_matmul, fwd_matmul, bwd_matmul, 0};

plast_node *plast_matmul(plast_tape *t, plast_node *a, plast_node *b, int trans_a, int trans_b) {
    plast_node *in[2] = {a, b};
    plast_op_params p = {.mm = {trans_a != 0, trans_b != 0}};
    return plast_tape_op(t, PLAST_OP_MATMUL, 2, in, &p);
}

/* ---- outer ------------------------------------------------------------------------------------------------- */

static plast_status shape_outer(plast_node *const *in, int n_in, const plast_op_params *p, plast_shape *out,
                                char *why, size_t why_cap) {
    (void)n_in, (void)p;
    plast_shape u = in[0]->shape, v = in[1]->shape;
    if (u.ndim != v.ndim || u.ndim < 1 || u.ndim > 2 || (u.ndim == 2 && u.d[0] != v.d[0])) {
        char su[96], sv[96];
        snprintf(why, why_cap, "needs u (M) and v (N), or u (B, M) and v (B, N); got %s and %s",
                 plast_shape_format(u, su, sizeof su), plast_shape_format(v, sv, sizeof sv));
        return PLAST_ERR_SHAPE;
    }
    *out = u.ndim == 1 ? PLAST_SHAPE2(u.d[0], v.d[0]) : PLAST_SHAPE3(u.d[0], u.d[1], v.d[1]);
    return PLAST_OK;
}

static void fwd_outer(plast_node *y) {
    const plast_node *U = y->in[0], *V = y->in[1];
    const int64_t M = U->shape.d[U->shape.ndim - 1], N = V->shape.d[V->shape.ndim - 1];
    const int64_t nbatch = U->shape.ndim == 2 ? U->shape.d[0] : 1;
#pragma omp parallel for if (nbatch * M * N >= PLAST_PAR_MIN)
    for (int64_t b = 0; b < nbatch; b++) {
        const plast_real *u = U->data + b * M, *v = V->data + b * N;
        plast_real *yb = y->data + b * M * N;
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) yb[i * N + j] = u[i] * v[j];
    }
}

/* du[b,i] = sum_j gy[b,i,j] v[b,j];  dv[b,j] = sum_i gy[b,i,j] u[b,i] */
static void bwd_outer(plast_tape *t, plast_node *y, plast_node *gy, const uint8_t *need, plast_node **gin) {
    plast_node *u = y->in[0], *v = y->in[1];
    plast_shape su = u->shape, sv = v->shape;
    plast_shape col_u = su.ndim == 1 ? PLAST_SHAPE2(su.d[0], 1) : PLAST_SHAPE3(su.d[0], su.d[1], 1);
    plast_shape col_v = sv.ndim == 1 ? PLAST_SHAPE2(sv.d[0], 1) : PLAST_SHAPE3(sv.d[0], sv.d[1], 1);
    if (need[0]) gin[0] = plast_reshape(t, plast_matmul(t, gy, plast_reshape(t, v, col_v), 0, 0), su);
    if (need[1]) gin[1] = plast_reshape(t, plast_matmul(t, gy, plast_reshape(t, u, col_u), 1, 0), sv);
}

const plast_op_def plast_op_outer = {"outer", "y[b,i,j] = u[b,i] v[b,j];  du = gy v, dv = gy^T u", 2, shape_outer,
                                     fwd_outer, bwd_outer, 0};

plast_node *plast_outer(plast_tape *t, plast_node *u, plast_node *v) {
    plast_node *in[2] = {u, v};
    return plast_tape_op(t, PLAST_OP_OUTER, 2, in, NULL);
}
