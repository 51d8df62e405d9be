/* plast/tape.h: reverse-mode automatic differentiation of any order.
 *
 * A plast_tape records every operation as it is computed (define-by-run). Each op constructor below computes its
 * output at once and returns a node; nodes live until plast_tape_reset or plast_tape_free. plast_tape_grad walks
 * the tape backwards and *builds the gradient out of the same ops*, so with create_graph set the gradient is
 * itself on the tape and can be differentiated again. That is how a plastic layer can update its weights with
 * the gradient of an internal loss inside the forward pass, and meta-training can still differentiate through it
 * (Duan et al. 2023, gradient-based plasticity).
 *
 *     plast_tape *t = plast_tape_init(NULL);
 *     plast_node *w = plast_tape_var(t, PLAST_SHAPE2(3, 2), w0);     // differentiable leaf
 *     plast_node *x = plast_tape_const(t, PLAST_SHAPE2(4, 3), x0);   // constant input
 *     plast_node *y = plast_tanh(t, plast_matmul(t, x, w, 0, 0));
 *     plast_node *l = plast_mse(t, y, plast_tape_const(t, PLAST_SHAPE2(4, 2), target));
 *     plast_node *g;
 *     plast_tape_grad(t, l, NULL, 1, &w, &g, 1);                     // dl/dw, itself differentiable
 *     if (plast_tape_status(t) != PLAST_OK) report(plast_tape_error(t));
 *     plast_tape_free(t);
 *
 * Errors are sticky: after a failed op (shape mismatch, out of memory) every later op returns NULL and the tape
 * keeps the first message, so a model can be built without checking each call and checked once at the end.
 *
 * Broadcasting in the elementwise binary ops follows numpy: shapes are aligned on the right and an axis of size 1
 * (or a missing leading axis) stretches to match. Everything else requires exact shapes.
 * Axes may be negative (-1 is the last axis).
 */
#ifndef PLAST_TAPE_H
#define PLAST_TAPE_H

#include "plast/shape.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct plast_tape plast_tape;
typedef struct plast_node plast_node;
struct plast_params;

/* ---- lifetime ---------------------------------------------------------------------------------------------- */

PLAST_API plast_tape *plast_tape_init(plast_err *err); /* NULL (with err filled) if out of memory */
PLAST_API void plast_tape_free(plast_tape *t);
/* Forgets every node and the error state but keeps the memory for the next pass. */
PLAST_API void plast_tape_reset(plast_tape *t);

PLAST_API plast_status plast_tape_status(const plast_tape *t);
PLAST_API const char *plast_tape_error(const plast_tape *t); /* "" when status is PLAST_OK */
/* Copies the tape's status and message into err (if err != NULL); returns the status. */
PLAST_API plast_status plast_tape_take_error(const plast_tape *t, plast_err *err);
/* Puts t in error with status s and a printf-style message, unless it already is (the first error sticks), as the
 * ops do on bad input; code that records on a tape uses it for its own checks. Returns NULL for convenience. */
PLAST_API plast_node *plast_tape_fail(plast_tape *t, plast_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* When disabled, new nodes record no gradient dependence (like torch.no_grad); returns the previous setting. */
PLAST_API int plast_tape_set_grad_enabled(plast_tape *t, int enabled);

PLAST_API int64_t plast_tape_node_count(const plast_tape *t);
PLAST_API size_t plast_tape_bytes_used(const plast_tape *t);     /* bytes of nodes and values on the tape */
PLAST_API size_t plast_tape_bytes_reserved(const plast_tape *t); /* bytes held from the system */

/* ---- leaves ------------------------------------------------------------------------------------------------- */

/* A constant: copies `data` (NULL gives zeros). Never requires a gradient. */
PLAST_API plast_node *plast_tape_const(plast_tape *t, plast_shape s, const plast_real *data);
/* A constant filled with `value`. */
PLAST_API plast_node *plast_tape_full(plast_tape *t, plast_shape s, double value);
/* A differentiable leaf: copies `data` (NULL gives zeros). Its gradient is read with plast_tape_grad. */
PLAST_API plast_node *plast_tape_var(plast_tape *t, plast_shape s, const plast_real *data);
/* The parameter `index` of p, without copying: plast_tape_backward accumulates its gradient into p's gradient
 * buffer. The node reads p's values in place, so do not change p while the tape still uses them. */
PLAST_API plast_node *plast_tape_param(plast_tape *t, struct plast_params *p, int index);
/* A constant sharing x's values: gradients do not flow through it (torch's detach). */
PLAST_API plast_node *plast_detach(plast_tape *t, plast_node *x);

/* ---- node access -------------------------------------------------------------------------------------------- */

PLAST_API plast_shape plast_node_shape(const plast_node *n);
PLAST_API int64_t plast_node_numel(const plast_node *n);
PLAST_API const plast_real *plast_node_data(const plast_node *n); /* numel values, row-major */
PLAST_API plast_real plast_node_item(const plast_node *n);        /* element 0 (the value of a scalar) */
PLAST_API int plast_node_requires_grad(const plast_node *n);
PLAST_API const char *plast_node_op_name(const plast_node *n); /* "leaf" or the op's name */

/* ---- ops ------------------------------------------------------------------------------------------------------
 * Each returns the output node, or NULL once the tape is in error. */

/* elementwise, with broadcasting */
PLAST_API plast_node *plast_add(plast_tape *t, plast_node *a, plast_node *b);      /* a + b */
PLAST_API plast_node *plast_sub(plast_tape *t, plast_node *a, plast_node *b);      /* a - b */
PLAST_API plast_node *plast_mul(plast_tape *t, plast_node *a, plast_node *b);      /* a * b */
PLAST_API plast_node *plast_div(plast_tape *t, plast_node *a, plast_node *b);      /* a / b */
PLAST_API plast_node *plast_div_safe(plast_tape *t, plast_node *a, plast_node *b); /* a / b, and 0 where b == 0 */

/* elementwise, one input */
PLAST_API plast_node *plast_scale(plast_tape *t, plast_node *x, double c);      /* c * x */
PLAST_API plast_node *plast_add_scalar(plast_tape *t, plast_node *x, double c); /* x + c */
PLAST_API plast_node *plast_neg(plast_tape *t, plast_node *x);                  /* -x */
PLAST_API plast_node *plast_relu(plast_tape *t, plast_node *x);                 /* max(x, 0); derivative 0 at 0 */
PLAST_API plast_node *plast_sigmoid(plast_tape *t, plast_node *x);              /* 1 / (1 + exp(-x)) */
PLAST_API plast_node *plast_tanh(plast_tape *t, plast_node *x);
PLAST_API plast_node *plast_exp(plast_tape *t, plast_node *x);
PLAST_API plast_node *plast_log(plast_tape *t, plast_node *x);
PLAST_API plast_node *plast_abs(plast_tape *t, plast_node *x); /* derivative sign(x), 0 at 0 */
PLAST_API plast_node *plast_sqrt(plast_tape *t, plast_node *x);
PLAST_API plast_node *plast_square(plast_tape *t, plast_node *x); /* x * x */
/* min(max(x, lo), hi); pass -INFINITY or INFINITY for a one-sided clamp. Derivative 1 strictly inside (lo, hi). */
PLAST_API plast_node *plast_clamp(plast_tape *t, plast_node *x, double lo, double hi);

/* a * m(b) for a piecewise-constant mask m of b (same shapes). Its derivative in b is zero; backward rules of
 * relu, abs and clamp are built from it, which keeps them differentiable again. */
typedef enum plast_mask_kind {
    PLAST_MASK_POSITIVE, /* m(b) = [b > 0] */
    PLAST_MASK_SIGN,     /* m(b) = sign(b), 0 at 0 */
    PLAST_MASK_INSIDE,   /* m(b) = [lo < b < hi] */
    PLAST_MASK_KIND_COUNT
} plast_mask_kind;
PLAST_API plast_node *plast_mask_mul(plast_tape *t, plast_node *a, plast_node *b, plast_mask_kind kind, double lo,
                                     double hi);

/* matrices. a (..., M, K) or (..., K, M) if trans_a; b (..., K, N) or (..., N, K) if trans_b; y (..., M, N).
 * Leading (batch) axes of a and b must be equal, or one of a, b has none and is shared by the whole batch. */
PLAST_API plast_node *plast_matmul(plast_tape *t, plast_node *a, plast_node *b, int trans_a, int trans_b);
/* Per-sample outer product: u (B, M), v (B, N) -> y (B, M, N), y[b,i,j] = u[b,i] * v[b,j]. */
PLAST_API plast_node *plast_outer(plast_tape *t, plast_node *u, plast_node *v);

/* reductions over one axis; keepdim keeps it with size 1 */
PLAST_API plast_node *plast_sum(plast_tape *t, plast_node *x, int axis, int keepdim);
PLAST_API plast_node *plast_mean(plast_tape *t, plast_node *x, int axis, int keepdim);
PLAST_API plast_node *plast_norm2(plast_tape *t, plast_node *x, int axis, int keepdim); /* sqrt(sum x^2) */
PLAST_API plast_node *plast_sum_all(plast_tape *t, plast_node *x);  /* scalar */
PLAST_API plast_node *plast_mean_all(plast_tape *t, plast_node *x); /* scalar */

/* broadcasting made explicit: broadcast_to stretches x to shape s; sum_to sums x down to a shape that
 * broadcasts to x's shape. Each is the other's adjoint. */
PLAST_API plast_node *plast_broadcast_to(plast_tape *t, plast_node *x, plast_shape s);
PLAST_API plast_node *plast_sum_to(plast_tape *t, plast_node *x, plast_shape s);

/* shape */
PLAST_API plast_node *plast_reshape(plast_tape *t, plast_node *x, plast_shape s); /* same numel, shares data */
PLAST_API plast_node *plast_transpose(plast_tape *t, plast_node *x);              /* swaps the last two axes */
PLAST_API plast_node *plast_concat(plast_tape *t, int n, plast_node *const *xs, int axis);
/* y = x[..., start : start+len, ...] along axis */
PLAST_API plast_node *plast_slice(plast_tape *t, plast_node *x, int axis, int64_t start, int64_t len);
/* The adjoint of slice: y has size `total` along axis, zeros except y[..., start : start+len, ...] = x. */
PLAST_API plast_node *plast_pad(plast_tape *t, plast_node *x, int axis, int64_t start, int64_t total);

/* softmax family, over the last axis */
PLAST_API plast_node *plast_softmax(plast_tape *t, plast_node *x);
PLAST_API plast_node *plast_log_softmax(plast_tape *t, plast_node *x);

/* losses, each a scalar */
PLAST_API plast_node *plast_mse(plast_tape *t, plast_node *y, plast_node *target); /* mean((y - target)^2) */
/* Cross-entropy of logits (..., C) against target probabilities of the same shape (one-hot for hard labels):
 * -(1/R) * sum_rows sum_c target * log_softmax(logits), R = number of rows. */
PLAST_API plast_node *plast_cross_entropy(plast_tape *t, plast_node *logits, plast_node *target);

/* Layer normalisation over the last axis: (x - mean) / sqrt(var + eps) * gain + bias, var biased (as PyTorch).
 * gain and bias have shape (last axis) and may be NULL. */
PLAST_API plast_node *plast_layer_norm(plast_tape *t, plast_node *x, plast_node *gain, plast_node *bias, double eps);

/* image ops, on channels-last image batches (N, H, W, C) */
/* k x k patches, zero padding `pad`, stride s: (N, Ho, Wo, k*k*C) with Ho = (H + 2 pad - k) / s + 1, patch order
 * (a, b, c) */
PLAST_API plast_node *plast_im2col(plast_tape *t, plast_node *x, int k, int pad, int stride);
/* The adjoint of im2col: patches (N, Ho, Wo, k*k*C) added back into an (N, h, w, C) image batch. */
PLAST_API plast_node *plast_col2im(plast_tape *t, plast_node *cols, int k, int pad, int stride, int64_t h, int64_t w);
/* The position (0..3, row-major) of the largest element of each 2x2 window: (N, H/2, W/2, C), no gradient. */
PLAST_API plast_node *plast_pool_argmax(plast_tape *t, plast_node *x);
/* The elements of x at window positions pos (from plast_pool_argmax): (N, H/2, W/2, C). */
PLAST_API plast_node *plast_pool_gather(plast_tape *t, plast_node *x, plast_node *pos);
/* The adjoint of pool_gather: an image batch of shape `image`, zeros except g at the window positions pos. */
PLAST_API plast_node *plast_pool_scatter(plast_tape *t, plast_node *g, plast_node *pos, plast_shape image);

/* Convolution of x (N, H, W, C) with w (k*k*C, F), zero padding `pad`, stride s, no bias: (N, Ho, Wo, F).
 * w's rows are in patch order (a, b, c); PyTorch's (F, C, k, k) weight permuted to (k, k, C, F). */
PLAST_API plast_node *plast_conv2d(plast_tape *t, plast_node *x, plast_node *w, int k, int pad, int stride);
/* 2x2 max pooling with stride 2 (odd sizes rounded down, as PyTorch). */
PLAST_API plast_node *plast_maxpool2(plast_tape *t, plast_node *x);
/* Batch normalisation with the batch's statistics (PyTorch's training mode) over every axis but the last:
 * (x - mean) / sqrt(var + eps) * gamma + beta, var biased; gamma and beta (C) may be NULL. */
PLAST_API plast_node *plast_batch_norm(plast_tape *t, plast_node *x, plast_node *gamma, plast_node *beta, double eps);
/* The same with separate statistics for each of `groups` equal blocks of the first axis (several batches, e.g.
 * the time steps of a trial, normalised in one call as if one at a time). */
PLAST_API plast_node *plast_batch_norm_groups(plast_tape *t, plast_node *x, int64_t groups, plast_node *gamma,
                                              plast_node *beta, double eps);

/* ---- differentiation ------------------------------------------------------------------------------------------ */

/* Gradients of y with respect to wrt[0..n-1], written to grads[0..n-1] (a zero node where y does not depend on
 * it). y must be a scalar unless seed is given; seed (same shape as y) gives the vector-Jacobian product
 * sum(seed * y). With create_graph the gradients are recorded on the tape and can be differentiated again;
 * otherwise they are plain values. */
PLAST_API plast_status plast_tape_grad(plast_tape *t, plast_node *y, plast_node *seed, int n,
                                       plast_node *const *wrt, plast_node **grads, int create_graph);
/* d loss / d p for every parameter leaf (plast_tape_param) that loss depends on, *added* to its parameter
 * gradient buffer (zero it first with plast_params_zero_grad). loss must be a scalar. */
PLAST_API plast_status plast_tape_backward(plast_tape *t, plast_node *loss);

#ifdef __cplusplus
}
#endif
#endif
