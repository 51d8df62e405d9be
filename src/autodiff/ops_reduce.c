/* src/autodiff/ops_reduce.c: reductions over an axis, and broadcasting made explicit (broadcast_to / sum_to). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <tgmath.h>

#include "autodiff/tape_internal.h"

/* x viewed as (outer, n, inner) around `axis`. */
static void axis_split(plast_shape s, int axis, int64_t *outer, int64_t *n, int64_t *inner) {
    *outer = 1;
    *inner = 1;
    for (int i = 0; i < axis; i++) *outer *= s.d[i];
    for (int i = axis + 1; i < s.ndim; i++) *inner *= s.d[i];
    *n = s.d[axis];
}

/* x's shape with `axis` reduced: kept with size 1, or removed. */
static plast_shape reduced_shape(plast_shape s, int axis, int keepdim) {
    plast_shape r = s;
    if (keepdim) {
        r.d[axis] = 1;
        return r;
    }
    for (int i = axis; i < s.ndim - 1; i++) r.d[i] = s.d[i + 1];
    r.d[--r.ndim] = 0;
    return r;
}

static plast_status shape_reduce(plast_node *const *in, int n_in, const plast_op_params *p, plast_shape *out,
                                 char *why, size_t why_cap) {
    (void)n_in;
    plast_shape s = in[0]->shape;
    if (p->red.axis < 0 || p->red.axis >= s.ndim) {
        char b[96];
        snprintf(why, why_cap, "axis %d out of range for shape %s", p->red.axis, plast_shape_format(s, b, sizeof b));
        return PLAST_ERR_SHAPE;
    }
    *out = reduced_shape(s, p->red.axis, p->red.keepdim);
    return PLAST_OK;
}

/* ---- sum --------------------------------------------------------------------------------------------------- */

/* sum of n contiguous values in SIMD lanes: a fixed order (lane partial sums, then the lanes), so it is as
 * deterministic as a serial loop but not one chain of dependent additions */
static plast_real sum_contiguous(const plast_real *x, int64_t n) {
    plast_real acc = 0;
#pragma omp simd reduction(+ : acc)
    for (int64_t i = 0; i < n; i++) acc += x[i];
    return acc;
}

static void fwd_sum(plast_node *y) {
    const plast_node *X = y->in[0];
    int64_t outer, n, inner;
    axis_split(X->shape, y->p.red.axis, &outer, &n, &inner);
    for (int64_t o = 0; o < outer; o++) {
        plast_real *yo = y->data + o * inner;
        const plast_real *xo = X->data + o * n * inner;
        if (inner == 1) {
            yo[0] = sum_contiguous(xo, n);
            continue;
        }
        for (int64_t i = 0; i < inner; i++) yo[i] = 0;
        for (int64_t k = 0; k < n; k++)
            for (int64_t i = 0; i < inner; i++) yo[i] += xo[k * inner + i];
    }
}

static void bwd_sum(plast_tape *t, plast_node *y, plast_node *gy, const uint8_t *need, plast_node **gin) {
    (void)need;
    plast_node *x = y->in[0];
    plast_node *g = plast_reshape(t, gy, reduced_shape(x->shape, y->p.red.axis, 1));
    gin[0] = plast_broadcast_to(t, g, x->shape);
}

const plast_op_def plast_op_sum = {"sum", "y = sum_axis x;  dx = broadcast(gy)", 1, shape_reduce, fwd_sum, bwd_sum,
                                   0};

/* ---- norm2 ------------------------------------------------------------------------------------------------- */

static void fwd_norm2(plast_node *y) {
    const plast_node *X = y->in[0];
    int64_t outer, n, inner;
    axis_split(X->shape, y->p.red.axis, &outer, &n, &inner);
    for (int64_t o = 0; o < outer; o++) {
        plast_real *yo = y->data + o * inner;
        const plast_real *xo = X->data + o * n * inner;
        for (int64_t i = 0; i < inner; i++) {
            double acc = 0;
            for (int64_t k = 0; k < n; k++) acc += (double)xo[k * inner + i] * xo[k * inner + i];
            yo[i] = (plast_real)sqrt(acc);
        }
    }
}

/* dx = x gy / y, and 0 where y == 0 (the subgradient torch uses) */
static void bwd_norm2(plast_tape *t, plast_node *y, plast_node *gy, const uint8_t *need, plast_node **gin) {
    (void)need;
    plast_node *x = y->in[0];
    plast_shape keep = reduced_shape(x->shape, y->p.red.axis, 1);
    plast_node *r = plast_reshape(t, plast_div_safe(t, gy, y), keep);
    gin[0] = plast_mul(t, x, r);
}

const plast_op_def plast_op_norm2 = {"norm2", "y = sqrt(sum_axis x^2);  dx = x gy / y (0 where y = 0)", 1,
                                     shape_reduce, fwd_norm2, bwd_norm2, 0};

/* ---- broadcast_to / sum_to --------------------------------------------------------------------------------- */

static plast_status shape_broadcast_to(plast_node *const *in, int n_in, const plast_op_params *p, plast_shape *out,
                                       char *why, size_t why_cap) {
    (void)n_in;
    if (!plast_shape_broadcasts_to(in[0]->shape, p->target) || plast_shape_numel(p->target) < 0) {
        char a[96], b[96];
        snprintf(why, why_cap, "%s does not broadcast to %s", plast_shape_format(in[0]->shape, a, sizeof a),
                 plast_shape_format(p->target, b, sizeof b));
        return PLAST_ERR_SHAPE;
    }
    *out = p->target;
    return PLAST_OK;
}

static plast_status shape_sum_to(plast_node *const *in, int n_in, const plast_op_params *p, plast_shape *out,
                                 char *why, size_t why_cap) {
    (void)n_in;
    if (!plast_shape_broadcasts_to(p->target, in[0]->shape) || plast_shape_numel(p->target) < 0) {
        char a[96], b[96];
        snprintf(why, why_cap, "%s cannot be summed to %s", plast_shape_format(in[0]->shape, a, sizeof a),
                 plast_shape_format(p->target, b, sizeof b));
        return PLAST_ERR_SHAPE;
    }
    *out = p->target;
    return PLAST_OK;
}

static void fwd_broadcast_to(plast_node *y) {
    const plast_node *X = y->in[0];
    int64_t s[PLAST_MAX_DIMS], d[PLAST_MAX_DIMS];
    plast_broadcast_strides(X->shape, y->shape, s, d);
    int64_t k = 0;
    for (int64_t i0 = 0; i0 < d[0]; i0++)
        for (int64_t i1 = 0; i1 < d[1]; i1++)
            for (int64_t i2 = 0; i2 < d[2]; i2++) {
                const plast_real *row = X->data + i0 * s[0] + i1 * s[1] + i2 * s[2];
                for (int64_t i3 = 0; i3 < d[3]; i3++) y->data[k++] = row[i3 * s[3]];
            }
}

/* 1 when y only drops leading axes of x (right-aligned, y's dims are 1 up to some axis and x's from there on): then x
 * is (x.numel / y.numel, y.numel) rows, the common case of a gradient summed over the batch */
static int sums_leading_axes(plast_shape x, plast_shape y) {
    int p = x.ndim;
    while (p > 0) {
        const int j = p - 1 - (x.ndim - y.ndim);
        if ((j >= 0 ? y.d[j] : 1) != x.d[p - 1]) break;
        p--;
    }
    for (int i = 0; i < p; i++) {
        const int j = i - (x.ndim - y.ndim);
        if (j >= 0 && y.d[j] != 1) return 0;
    }
    return 1;
}

static void fwd_sum_to(plast_node *y) {
    const plast_node *X = y->in[0];
    if (y->numel == 1) {
        y->data[0] = sum_contiguous(X->data, X->numel);
        return;
    }
    memset(y->data, 0, (size_t)y->numel * sizeof(plast_real));
    if (y->numel > 0 && sums_leading_axes(X->shape, y->shape)) {
        /* columns in blocks, split between threads; each element still sums its rows in order */
        const int64_t n = y->numel, R = X->numel / n, BLK = 512;
#pragma omp parallel for if (X->numel >= PLAST_PAR_MIN)
        for (int64_t j0 = 0; j0 < n; j0 += BLK) {
            const int64_t len = n - j0 < BLK ? n - j0 : BLK;
            plast_real *out = y->data + j0;
            for (int64_t r = 0; r < R; r++) {
                const plast_real *in = X->data + r * n + j0;
                for (int64_t j = 0; j < len; j++) out[j] += in[j];
            }
        }
        return;
    }
    int64_t s[PLAST_MAX_DIMS], d[PLAST_MAX_DIMS];
    plast_broadcast_strides(y->shape, X->shape, s, d);
    int64_t k = 0;
    for (int64_t i0 = 0; i0 < d[0]; i0++)
        for (int64_t i1 = 0; i1 < d[1]; i1++)
            for (int64_t i2 = 0; i2 < d[2]; i2++) {
                plast_real *row = y->data + i0 * s[0] + i1 * s[1] + i2 * s[2];
                for (int64_t i3 = 0; i3 < d[3]; i3++) row[i3 * s[3]] += X->data[k++];
            }
}

static void bwd_broadcast_to(plast_tape *t, plast_node *y, plast_node *gy, const uint8_t *need, plast_node **gin) {
    (void)need;
    gin[0] = plast_sum_to(t, gy, y->in[0]->shape);
}

static void bwd_sum_to(plast_tape *t, plast_node *y, plast_node *gy, const uint8_t *need, plast_node **gin) {
    (void)need;
    gin[0] = plast_broadcast_to(t, gy, y->in[0]->shape);
}

const plast_op_def plast_op_broadcast_to = {"broadcast_to", "y = x stretched to a shape;  dx = sum_to(gy, x)", 1,
                                            shape_broadcast_to, fwd_broadcast_to, bwd_broadcast_to, 0};
const plast_op_def plast_op_sum_to = {"sum_to", "y = x summed over stretched axes;  dx = broadcast_to(gy, x)", 1,
                                      shape_sum_to, fwd_sum_to, bwd_sum_to, 0};

/* ---- constructors ------------------------------------------------------------------------------------------ */

static plast_node *reduce(plast_tape *t, plast_op op, plast_node *x, int axis, int keepdim) {
    if (!x) return plast_tape_op(t, op, 1, &x, NULL); /* reports the NULL input */
    int a = plast_axis_normalize(axis, x->shape.ndim);
    if (a < 0) {
        char b[96];
        return plast_tape_fail(t, PLAST_ERR_SHAPE, "%s: axis %d out of range for shape %s", plast_op_table[op]->name,
                               axis, plast_shape_format(x->shape, b, sizeof b));
    }
    plast_op_params p = {.red = {a, keepdim != 0}};
    return plast_tape_op(t, op, 1, &x, &p);
}

plast_node *plast_sum(plast_tape *t, plast_node *x, int axis, int keepdim) {
    return reduce(t, PLAST_OP_SUM, x, axis, keepdim);
}

plast_node *plast_norm2(plast_tape *t, plast_node *x, int axis, int keepdim) {
    return reduce(t, PLAST_OP_NORM2, x, axis, keepdim);
}

plast_node *plast_mean(plast_tape *t, plast_node *x, int axis, int keepdim) {
    plast_node *s = reduce(t, PLAST_OP_SUM, x, axis, keepdim);
    if (!s) return NULL;
    return plast_scale(t, s, 1.0 / (double)x->shape.d[plast_axis_normalize(axis, x->shape.ndim)]);
}

plast_node *plast_sum_all(plast_tape *t, plast_node *x) {
    if (!x) return plast_tape_op(t, PLAST_OP_SUM, 1, &x, NULL);
    return plast_sum(t, plast_reshape(t, x, PLAST_SHAPE1(x->numel)), 0, 0);
}

plast_node *plast_mean_all(plast_tape *t, plast_node *x) {
    if (!x) return plast_tape_op(t, PLAST_OP_SUM, 1, &x, NULL);
    if (x->numel == 0) return plast_tape_fail(t, PLAST_ERR_SHAPE, "mean_all: empty tensor");
    return plast_scale(t, plast_sum_all(t, x), 1.0 / (double)x->numel);
}

plast_node *plast_broadcast_to(plast_tape *t, plast_node *x, plast_shape s) {
    if (x && plast_shape_equal(x->shape, s)) return x;
    plast_op_params p = {.target = s};
    return plast_tape_op(t, PLAST_OP_BROADCAST_TO, 1, &x, &p);
}

plast_node *plast_sum_to(plast_tape *t, plast_node *x, plast_shape s) {
    if (x && plast_shape_equal(x->shape, s)) return x;
    plast_op_params p = {.target = s};
    return plast_tape_op(t, PLAST_OP_SUM_TO, 1, &x, &p);
}
