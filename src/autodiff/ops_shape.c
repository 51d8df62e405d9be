/* src/autodiff/ops_shape.c: reshape, transpose, concat, slice and its adjoint pad. */
#include <stdio.h>
#include <string.h>

#include "autodiff/tape_internal.h"

/* ---- reshape (shares its input's data) --------------------------------------------------------------------- */

static plast_status shape_reshape(plast_node *const *in, int n_in, const plast_op_params *p, plast_shape *out,
                                  char *why, size_t why_cap) {
    (void)n_in;
    if (plast_shape_numel(p->target) != in[0]->numel) {
        char a[96], b[96];
        snprintf(why, why_cap, "cannot reshape %s into %s", plast_shape_format(in[0]->shape, a, sizeof a),
                 plast_shape_format(p->target, b, sizeof b));
        return PLAST_ERR_SHAPE;
    }
    *out = p->target;
    return PLAST_OK;
}

static void fwd_reshape(plast_node *y) { (void)y; /* y->data aliases the input */ }

static void bwd_reshape(plast_tape *t, plast_node *y, plast_node *gy, const uint8_t *need, plast_node **gin) {
    (void)need;
    gin[0] = plast_reshape(t, gy, y->in[0]->shape);
}

const plast_op_def plast_op_reshape = {"reshape", "y = x with a new shape;  dx = reshape(gy)", 1, shape_reshape,
                                       fwd_reshape, bwd_reshape, 1};

plast_node *plast_reshape(plast_tape *t, plast_node *x, plast_shape s) {
    if (x && plast_shape_equal(x->shape, s)) return x;
    plast_op_params p = {.target = s};
    return plast_tape_op(t, PLAST_OP_RESHAPE, 1, &x, &p);
}

/* ---- transpose (last two axes) ----------------------------------------------------------------------------- */

static plast_status shape_transpose(plast_node *const *in, int n_in, const plast_op_params *p, plast_shape *out,
                                    char *why, size_t why_cap) {
    (void)n_in, (void)p;
    plast_shape s = in[0]->shape;
    if (s.ndim < 2) {
        snprintf(why, why_cap, "needs at least 2 axes, got %d", s.ndim);
        return PLAST_ERR_SHAPE;
    }
    int64_t tmp = s.d[s.ndim - 1];
    s.d[s.ndim - 1] = s.d[s.ndim - 2];
    s.d[s.ndim - 2] = tmp;
    *out = s;
    return PLAST_OK;
}

static void fwd_transpose(plast_node *y) {
    const plast_node *X = y->in[0];
    const int64_t R = X->shape.d[X->shape.ndim - 2], C = X->shape.d[X->shape.ndim - 1];
    const int64_t nb = R * C == 0 ? 0 : X->numel / (R * C);
    for (int64_t b = 0; b < nb; b++) {
        const plast_real *x = X->data + b * R * C;
        plast_real *yb = y->data + b * R * C;
        for (int64_t i = 0; i < R; i++)
            for (int64_t j = 0; j < C; j++) yb[j * R + i] = x[i * C + j];
    }
}

static void bwd_transpose(plast_tape *t, plast_node *y, plast_node *gy, const uint8_t *need, plast_node **gin) {
    (void)need, (void)y;
    gin[0] = plast_transpose(t, gy);
}

const plast_op_def plast_op_transpose = {"transpose", "y = x with the last two axes swapped;  dx = transpose(gy)",
                                         1, shape_transpose, fwd_transpose, bwd_transpose, 0};

plast_node *plast_transpose(plast_tape *t, plast_node *x) { return plast_tape_op(t, PLAST_OP_TRANSPOSE, 1, &x, NULL); }

/* ---- concat, slice, pad: copies of blocks along one axis --------------------------------------------------- */

/* Copies the (outer, len, inner) block of src (whose axis has size src_n) at src_start into dst (axis size dst_n)
 * at dst_start. */
static void copy_block(plast_real *dst, int64_t dst_n, int64_t dst_start, const plast_real *src, int64_t src_n,
                       int64_t src_start, int64_t len, int64_t outer, int64_t inner) {
    for (int64_t o = 0; o < outer; o++)
        memcpy(dst + (o * dst_n + dst_start) * inner, src + (o * src_n + src_start) * inner,
               (size_t)(len * inner) * sizeof(plast_real));
}

static void outer_inner(plast_shape s, int axis, int64_t *outer, int64_t *inner) {
    *outer = 1;
    *inner = 1;
    for (int i = 0; i < axis; i++) *outer *= s.d[i];
    for (int i = axis + 1; i < s.ndim; i++) *inner *= s.d[i];
}

static plast_status shape_concat(plast_node *const *in, int n_in, const plast_op_params *p, plast_shape *out,
                                 char *why, size_t why_cap) {
    plast_shape s = in[0]->shape;
    int axis = p->sl.axis;
    if (axis < 0 || axis >= s.ndim) {
        snprintf(why, why_cap, "axis %d out of range for %d axes", axis, s.ndim);
        return PLAST_ERR_SHAPE;
    }
    for (int k = 1; k < n_in; k++) {
        plast_shape r = in[k]->shape;
        int ok = r.ndim == s.ndim;
        for (int i = 0; ok && i < s.ndim; i++) ok = i == axis || r.d[i] == s.d[i];
        if (!ok) {
            char a[96], b[96];
            snprintf(why, why_cap, "input %d of shape %s does not fit input 0 of shape %s along axis %d", k,
                     plast_shape_format(r, a, sizeof a), plast_shape_format(in[0]->shape, b, sizeof b), axis);
            return PLAST_ERR_SHAPE;
        }
        s.d[axis] += r.d[axis];
    }
    *out = s;
    return PLAST_OK;
}

static void fwd_concat(plast_node *y) {
    int axis = y->p.sl.axis;
    int64_t outer, inner, at = 0;
    outer_inner(y->shape, axis, &outer, &inner);
    for (int k = 0; k < y->n_in; k++) {
        const plast_node *x = y->in[k];
        int64_t len = x->shape.d[axis];
        copy_block(y->data, y->shape.d[axis], at, x->data, len, 0, len, outer, inner);
        at += len;
    }
}

static void bwd_concat(plast_tape *t, plast_node *y, plast_node *gy, const uint8_t *need, plast_node **gin) {
    int axis = y->p.sl.axis;
    int64_t at = 0;
    for (int k = 0; k < y->n_in; k++) {
        int64_t len = y->in[k]->shape.d[axis];
        if (need[k]) gin[k] = plast_slice(t, gy, axis, at, len);
        at += len;
    }
}

const plast_op_def plast_op_concat = {"concat", "y = [x0 | x1 | ...] along an axis;  dxk = slice(gy)", -1,
                                      shape_concat, fwd_concat, bwd_concat, 0};

plast_node *plast_concat(plast_tape *t, int n, plast_node *const *xs, int axis) {
    if (n < 1 || !xs) return plast_tape_fail(t, PLAST_ERR_INVALID_ARG, "concat: needs at least one input");
    if (!xs[0]) return plast_tape_op(t, PLAST_OP_CONCAT, n, xs, NULL); /* reports the NULL input */
    plast_op_params p = {.sl = {plast_axis_normalize(axis, xs[0]->shape.ndim), 0, 0}};
    if (p.sl.axis < 0) return plast_tape_fail(t, PLAST_ERR_SHAPE, "concat: axis %d out of range", axis);
    return plast_tape_op(t, PLAST_OP_CONCAT, n, xs, &p);
}

static plast_status shape_slice(plast_node *const *in, int n_in, const plast_op_params *p, plast_shape *out,
                                char *why, size_t why_cap) {
    (void)n_in;
    plast_shape s = in[0]->shape;
    int axis = p->sl.axis;
    if (axis < 0 || axis >= s.ndim || p->sl.start < 0 || p->sl.len < 0 || p->sl.start + p->sl.len > s.d[axis]) {
        char a[96];
        snprintf(why, why_cap, "range [%lld, %lld) along axis %d is outside shape %s", (long long)p->sl.start,
                 (long long)(p->sl.start + p->sl.len), axis, plast_shape_format(s, a, sizeof a));
        return PLAST_ERR_SHAPE;
    }
    s.d[axis] = p->sl.len;
    *out = s;
    return PLAST_OK;
}

static void fwd_slice(plast_node *y) {
    const plast_node *x = y->in[0];
    int axis = y->p.sl.axis;
    int64_t outer, inner;
    outer_inner(x->shape, axis, &outer, &inner);
    copy_block(y->data, y->p.sl.len, 0, x->data, x->shape.d[axis], y->p.sl.start, y->p.sl.len, outer, inner);
}

static void bwd_slice(plast_tape *t, plast_node *y, plast_node *gy, const uint8_t *need, plast_node **gin) {
    (void)need;
    int axis = y->p.sl.axis;
    gin[0] = plast_pad(t, gy, axis, y->p.sl.start, y->in[0]->shape.d[axis]);
}

const plast_op_def plast_op_slice = {"slice", "y = x[start : start+len] along an axis;  dx = pad(gy)", 1,
                                     shape_slice, fwd_slice, bwd_slice, 0};

/* pad stores the total size in sl.len */
static plast_status shape_pad(plast_node *const *in, int n_in, const plast_op_params *p, plast_shape *out,
                              char *why, size_t why_cap) {
    (void)n_in;
    plast_shape s = in[0]->shape;
    int axis = p->sl.axis;
    if (axis < 0 || axis >= s.ndim || p->sl.start < 0 || p->sl.start + s.d[axis] > p->sl.len) {
        char a[96];
        snprintf(why, why_cap, "shape %s does not fit at %lld of %lld along axis %d",
                 plast_shape_format(s, a, sizeof a), (long long)p->sl.start, (long long)p->sl.len, axis);
        return PLAST_ERR_SHAPE;
    }
    s.d[axis] = p->sl.len;
    *out = s;
    return PLAST_OK;
}

static void fwd_pad(plast_node *y) {
    const plast_node *x = y->in[0];
    int axis = y->p.sl.axis;
    int64_t outer, inner;
    outer_inner(x->shape, axis, &outer, &inner);
    memset(y->data, 0, (size_t)y->numel * sizeof(plast_real));
    copy_block(y->data, y->p.sl.len, y->p.sl.start, x->data, x->shape.d[axis], 0, x->shape.d[axis], outer, inner);
}

static void bwd_pad(plast_tape *t, plast_node *y, plast_node *gy, const uint8_t *need, plast_node **gin) {
    (void)need;
    int axis = y->p.sl.axis;
    gin[0] = plast_slice(t, gy, axis, y->p.sl.start, y->in[0]->shape.d[axis]);
}

const plast_op_def plast_op_pad = {"pad", "y = zeros with x placed at start along an axis;  dx = slice(gy)", 1,
                                   shape_pad, fwd_pad, bwd_pad, 0};

static plast_node *block_op(plast_tape *t, plast_op op, plast_node *x, int axis, int64_t start, int64_t len) {
    if (!x) return plast_tape_op(t, op, 1, &x, NULL);
    plast_op_params p = {.sl = {plast_axis_normalize(axis, x->shape.ndim), start, len}};
    if (p.sl.axis < 0)
        return plast_tape_fail(t, PLAST_ERR_SHAPE, "%s: axis %d out of range", plast_op_table[op]->name, axis);
    return plast_tape_op(t, op, 1, &x, &p);
}

plast_node *plast_slice(plast_tape *t, plast_node *x, int axis, int64_t start, int64_t len) {
    return block_op(t, PLAST_OP_SLICE, x, axis, start, len);
}

plast_node *plast_pad(plast_tape *t, plast_node *x, int axis, int64_t start, int64_t total) {
    return block_op(t, PLAST_OP_PAD, x, axis, start, total);
}
