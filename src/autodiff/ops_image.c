/* src/autodiff/ops_image.c: the ops of convolutional image encoders, on channels-last images (N, H, W, C).
 *
 * A 2-D convolution is im2col followed by a matrix product (composite.c), so only the patch gathering needs an op;
 * its adjoint col2im (scatter-add of patches) is the other op, and each one's backward is the other. 2x2 max
 * pooling is a gather of the window's largest element: pool_argmax picks the element (a piecewise-constant choice
 * with zero derivative), pool_gather reads it and pool_scatter writes a gradient back to it; gather and scatter
 * are each other's adjoint. All four are linear in their differentiable input, so every gradient is made of ops
 * and can be differentiated again. */
#include <stdio.h>
#include <string.h>

#include "autodiff/tape_internal.h"
#include "core/patches.h"

/* ---- im2col and col2im: k x k patches with zero padding and a stride ------------------------------------- */

static plast_status shape_im2col(plast_node *const *in, int n_in, const plast_op_params *p, plast_shape *out,
                                 char *why, size_t why_cap) {
    (void)n_in;
    plast_shape s = in[0]->shape;
    const int k = p->img.k, pad = p->img.pad, st = p->img.stride;
    if (s.ndim != 4 || k < 1 || pad < 0 || st < 1 || s.d[1] + 2 * pad < k || s.d[2] + 2 * pad < k) {
        snprintf(why, why_cap, "needs an image batch (N, H, W, C) at least k = %d wide with padding %d, stride %d >= 1",
                 k, pad, st);
        return PLAST_ERR_SHAPE;
    }
    *out = PLAST_SHAPE4(s.d[0], (s.d[1] + 2 * pad - k) / st + 1, (s.d[2] + 2 * pad - k) / st + 1,
                        (int64_t)k * k * s.d[3]);
    return PLAST_OK;
}

static void fwd_im2col(plast_node *y) {
    plast_shape s = y->in[0]->shape;
    plast_patches_gather(y->in[0]->data, y->data, s.d[0], s.d[1], s.d[2], s.d[3], y->p.img.k, y->p.img.pad,
                         y->p.img.stride);
}

static void bwd_im2col(plast_tape *t, plast_node *y, plast_node *gy, const uint8_t *need, plast_node **gin) {
    (void)need;
    plast_shape s = y->in[0]->shape;
    gin[0] = plast_col2im(t, gy, y->p.img.k, y->p.img.pad, y->p.img.stride, s.d[1], s.d[2]);
}

const plast_op_def plast_op_im2col = {"im2col", "y[n,i,j,(a,b,c)] = x[n, s i+a-pad, s j+b-pad, c] (0 outside);  dx = col2im(gy)",
                                      1, shape_im2col, fwd_im2col, bwd_im2col, 0};

plast_node *plast_im2col(plast_tape *t, plast_node *x, int k, int pad, int stride) {
    plast_op_params p = {.img = {k, pad, stride, 0, 0}};
    return plast_tape_op(t, PLAST_OP_IM2COL, 1, &x, &p);
}

static plast_status shape_col2im(plast_node *const *in, int n_in, const plast_op_params *p, plast_shape *out,
                                 char *why, size_t why_cap) {
    (void)n_in;
    plast_shape s = in[0]->shape;
    const int k = p->img.k, pad = p->img.pad, st = p->img.stride;
    const int64_t H = p->img.h, W = p->img.w;
    if (s.ndim != 4 || k < 1 || pad < 0 || st < 1 || H < 1 || W < 1 || H + 2 * pad < k || W + 2 * pad < k ||
        s.d[1] != (H + 2 * pad - k) / st + 1 || s.d[2] != (W + 2 * pad - k) / st + 1 || s.d[3] % ((int64_t)k * k) != 0) {
        snprintf(why, why_cap, "patches (N, Ho, Wo, k*k*C) do not fit a %lld x %lld image with k = %d, padding %d, "
                 "stride %d", (long long)H, (long long)W, k, pad, st);
        return PLAST_ERR_SHAPE;
    }
    *out = PLAST_SHAPE4(s.d[0], H, W, s.d[3] / ((int64_t)k * k));
    return PLAST_OK;
}

static void fwd_col2im(plast_node *y) {
    memset(y->data, 0, sizeof(plast_real) * (size_t)y->numel);
    plast_shape s = y->shape;
    plast_patches_scatter_add(y->data, y->in[0]->data, s.d[0], s.d[1], s.d[2], s.d[3], y->p.img.k, y->p.img.pad,
                              y->p.img.stride);
}

static void bwd_col2im(plast_tape *t, plast_node *y, plast_node *gy, const uint8_t *need, plast_node **gin) {
    (void)need;
    gin[0] = plast_im2col(t, gy, y->p.img.k, y->p.img.pad, y->p.img.stride);
}

const plast_op_def plast_op_col2im = {"col2im", "y[n, s i+a-pad, s j+b-pad, c] += x[n,i,j,(a,b,c)];  dx = im2col(gy)", 1,
                                      shape_col2im, fwd_col2im, bwd_col2im, 0};

plast_node *plast_col2im(plast_tape *t, plast_node *cols, int k, int pad, int stride, int64_t h, int64_t w) {
    plast_op_params p = {.img = {k, pad, stride, h, w}};
    return plast_tape_op(t, PLAST_OP_COL2IM, 1, &cols, &p);
}

/* ---- 2x2 max pooling: argmax, gather, scatter -------------------------------------------------------------- */

static plast_status shape_pool(plast_node *const *in, int n_in, const plast_op_params *p, plast_shape *out, char *why,
                               size_t why_cap) {
    (void)n_in, (void)p;
    plast_shape s = in[0]->shape;
    if (s.ndim != 4 || s.d[1] < 2 || s.d[2] < 2) {
        snprintf(why, why_cap, "needs an image batch (N, H, W, C) of at least 2 x 2");
        return PLAST_ERR_SHAPE;
    }
    *out = PLAST_SHAPE4(s.d[0], s.d[1] / 2, s.d[2] / 2, s.d[3]);
    return PLAST_OK;
}

static void fwd_pool_argmax(plast_node *y) {
    const plast_node *X = y->in[0];
    const plast_real *x = X->data;
    PLAST_FOR_EACH_POOL_WINDOW(X->shape.d[0], X->shape.d[1], X->shape.d[2], X->shape.d[3], {
        for (int64_t c = 0; c < pw_c; c++) { /* the first of equal maxima, as PyTorch */
            plast_real best = x[off[0] + c], q = 0;
            if (x[off[1] + c] > best) best = x[off[1] + c], q = 1;
            if (x[off[2] + c] > best) best = x[off[2] + c], q = 2;
            if (x[off[3] + c] > best) q = 3;
            y->data[o + c] = q;
        }
    });
}

static void bwd_none(plast_tape *t, plast_node *y, plast_node *gy, const uint8_t *need, plast_node **gin) {
    (void)t, (void)y, (void)gy, (void)need;
    gin[0] = NULL; /* a choice of position: zero derivative almost everywhere */
}

const plast_op_def plast_op_pool_argmax = {"pool_argmax", "y = position (0..3) of the largest of each 2x2 window;  dx = 0",
                                           1, shape_pool, fwd_pool_argmax, bwd_none, 0};

plast_node *plast_pool_argmax(plast_tape *t, plast_node *x) { return plast_tape_op(t, PLAST_OP_POOL_ARGMAX, 1, &x, NULL); }

static plast_status shape_pool_gather(plast_node *const *in, int n_in, const plast_op_params *p, plast_shape *out,
                                      char *why, size_t why_cap) {
    plast_status s = shape_pool(in, n_in, p, out, why, why_cap);
    if (s == PLAST_OK && !plast_shape_equal(*out, in[1]->shape)) {
        snprintf(why, why_cap, "the positions must have the pooled shape");
        return PLAST_ERR_SHAPE;
    }
    return s;
}

static void fwd_pool_gather(plast_node *y) {
    const plast_node *X = y->in[0], *Q = y->in[1];
    PLAST_FOR_EACH_POOL_WINDOW(X->shape.d[0], X->shape.d[1], X->shape.d[2], X->shape.d[3], {
        for (int64_t c = 0; c < pw_c; c++) y->data[o + c] = X->data[off[(int)Q->data[o + c]] + c];
    });
}

static void bwd_pool_gather(plast_tape *t, plast_node *y, plast_node *gy, const uint8_t *need, plast_node **gin) {
    if (need[0]) gin[0] = plast_pool_scatter(t, gy, y->in[1], y->in[0]->shape);
    gin[1] = NULL;
}

const plast_op_def plast_op_pool_gather = {"pool_gather", "y[n,i,j,c] = x at window position q[n,i,j,c];  dx = pool_scatter(gy, q)",
                                           2, shape_pool_gather, fwd_pool_gather, bwd_pool_gather, 0};

plast_node *plast_pool_gather(plast_tape *t, plast_node *x, plast_node *pos) {
    plast_node *in[2] = {x, pos};
    return plast_tape_op(t, PLAST_OP_POOL_GATHER, 2, in, NULL);
}

static plast_status shape_pool_scatter(plast_node *const *in, int n_in, const plast_op_params *p, plast_shape *out,
                                       char *why, size_t why_cap) {
    (void)n_in;
    plast_shape s = p->target;
    if (s.ndim != 4 || !plast_shape_equal(in[0]->shape, in[1]->shape) ||
        !plast_shape_equal(in[0]->shape, PLAST_SHAPE4(s.d[0], s.d[1] / 2, s.d[2] / 2, s.d[3]))) {
        snprintf(why, why_cap, "values and positions must have the pooled shape of the target image batch");
        return PLAST_ERR_SHAPE;
    }
    *out = s;
    return PLAST_OK;
}

static void fwd_pool_scatter(plast_node *y) {
    const plast_node *G = y->in[0], *Q = y->in[1];
    memset(y->data, 0, sizeof(plast_real) * (size_t)y->numel);
    PLAST_FOR_EACH_POOL_WINDOW(y->shape.d[0], y->shape.d[1], y->shape.d[2], y->shape.d[3], {
        for (int64_t c = 0; c < pw_c; c++) y->data[off[(int)Q->data[o + c]] + c] = G->data[o + c];
    });
}

static void bwd_pool_scatter(plast_tape *t, plast_node *y, plast_node *gy, const uint8_t *need, plast_node **gin) {
    if (need[0]) gin[0] = plast_pool_gather(t, gy, y->in[1]);
    gin[1] = NULL;
}

const plast_op_def plast_op_pool_scatter = {"pool_scatter", "y = zeros with x at window positions q;  dx = pool_gather(gy, q)",
                                            2, shape_pool_scatter, fwd_pool_scatter, bwd_pool_scatter, 0};

plast_node *plast_pool_scatter(plast_tape *t, plast_node *g, plast_node *pos, plast_shape image) {
    plast_node *in[2] = {g, pos};
    plast_op_params p = {.target = image};
    return plast_tape_op(t, PLAST_OP_POOL_SCATTER, 2, in, &p);
}
