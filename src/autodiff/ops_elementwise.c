/* src/autodiff/ops_elementwise.c: elementwise ops. Each op's shape rule, forward kernel and backward rule sit
 * together; backward rules are built from op constructors only, so they can be differentiated again. */
#include <math.h>
#include <stdio.h>
#include <tgmath.h>

#include "autodiff/tape_internal.h"
#include "core/fastmath.h"

/* ---- shape rules ------------------------------------------------------------------------------------------- */

static plast_status shape_broadcast(plast_node *const *in, int n_in, const plast_op_params *p, plast_shape *out,
                                    char *why, size_t why_cap) {
    (void)n_in, (void)p;
    if (plast_shape_broadcast(in[0]->shape, in[1]->shape, out)) return PLAST_OK;
    char a[96], b[96];
    snprintf(why, why_cap, "shapes %s and %s do not broadcast", plast_shape_format(in[0]->shape, a, sizeof a),
             plast_shape_format(in[1]->shape, b, sizeof b));
    return PLAST_ERR_SHAPE;
}

static plast_status shape_unary(plast_node *const *in, int n_in, const plast_op_params *p, plast_shape *out,
                                char *why, size_t why_cap) {
    (void)n_in, (void)p, (void)why, (void)why_cap;
    *out = in[0]->shape;
    return PLAST_OK;
}

static plast_status shape_equal2(plast_node *const *in, int n_in, const plast_op_params *p, plast_shape *out,
                                 char *why, size_t why_cap) {
    (void)n_in, (void)p;
    if (!plast_shape_equal(in[0]->shape, in[1]->shape)) {
        char a[96], b[96];
        snprintf(why, why_cap, "shapes %s and %s differ", plast_shape_format(in[0]->shape, a, sizeof a),
                 plast_shape_format(in[1]->shape, b, sizeof b));
        return PLAST_ERR_SHAPE;
    }
    *out = in[0]->shape;
    return PLAST_OK;
}

/* ---- kernels ----------------------------------------------------------------------------------------------- */

/* y = EXPR(a, b) with numpy broadcasting; flat loops when no axis is stretched. */
#define BINARY_KERNEL(NAME, EXPR)                                                                               \
    static void NAME(plast_node *y) {                                                                           \
        const plast_node *A = y->in[0], *B = y->in[1];                                                          \
        const plast_real *pa = A->data, *pb = B->data;                                                          \
        plast_real *py = y->data;                                                                               \
        const int64_t n = y->numel;                                                                             \
        if (A->numel == n && B->numel == n) {                                                                   \
            _Pragma("omp parallel for if (n >= 32768)") for (int64_t i = 0; i < n; i++) {                       \
                plast_real a = pa[i], b = pb[i];                                                                \
                py[i] = (EXPR);                                                                                 \
            }                                                                                                   \
        } else if (B->numel == 1) {                                                                             \
            const plast_real b = pb[0];                                                                         \
            _Pragma("omp parallel for if (n >= 32768)") for (int64_t i = 0; i < n; i++) {                       \
                plast_real a = pa[i];                                                                           \
                py[i] = (EXPR);                                                                                 \
            }                                                                                                   \
        } else { /* rows of the last axis, in parallel */                                                       \
            int64_t sa[PLAST_MAX_DIMS], sb[PLAST_MAX_DIMS], d[PLAST_MAX_DIMS];                                  \
            plast_broadcast_strides(A->shape, y->shape, sa, d);                                                 \
            plast_broadcast_strides(B->shape, y->shape, sb, d);                                                 \
            const int64_t rows = d[0] * d[1] * d[2];                                                            \
            _Pragma("omp parallel for if (n >= 32768)") for (int64_t r = 0; r < rows; r++) {                    \
                const int64_t i2 = r % d[2], i1 = r / d[2] % d[1], i0 = r / (d[2] * d[1]);                       \
                const plast_real *ra = pa + i0 * sa[0] + i1 * sa[1] + i2 * sa[2];                               \
                const plast_real *rb = pb + i0 * sb[0] + i1 * sb[1] + i2 * sb[2];                               \
                plast_real *ry = py + r * d[3];                                                                 \
                /* one loop per pair of last-axis strides, so the common ones vectorise */                      \
                if (sa[3] == 1 && sb[3] == 1) {                                                                 \
                    for (int64_t i3 = 0; i3 < d[3]; i3++) {                                                     \
                        plast_real a = ra[i3], b = rb[i3];                                                      \
                        ry[i3] = (EXPR);                                                                        \
                    }                                                                                           \
                } else if (sa[3] == 1 && sb[3] == 0) {                                                          \
                    const plast_real b = rb[0];                                                                 \
                    for (int64_t i3 = 0; i3 < d[3]; i3++) {                                                     \
                        plast_real a = ra[i3];                                                                  \
                        ry[i3] = (EXPR);                                                                        \
                    }                                                                                           \
                } else if (sa[3] == 0 && sb[3] == 1) {                                                          \
                    const plast_real a = ra[0];                                                                 \
                    for (int64_t i3 = 0; i3 < d[3]; i3++) {                                                     \
                        plast_real b = rb[i3];                                                                  \
                        ry[i3] = (EXPR);                                                                        \
                    }                                                                                           \
                } else {                                                                                        \
                    for (int64_t i3 = 0; i3 < d[3]; i3++) {                                                     \
                        plast_real a = ra[i3 * sa[3]], b = rb[i3 * sb[3]];                                      \
                        ry[i3] = (EXPR);                                                                        \
                    }                                                                                           \
                }                                                                                               \
            }                                                                                                   \
        }                                                                                                       \
    }

/* y = EXPR(x), with c = the op's scalar parameter where it has one. */
#define UNARY_KERNEL(NAME, EXPR)                                                                                \
    static void NAME(plast_node *y) {                                                                           \
        const plast_real *px = y->in[0]->data;                                                                  \
        plast_real *py = y->data;                                                                               \
        const int64_t n = y->numel;                                                                             \
        const plast_real c = (plast_real)y->p.c;                                                                \
        const plast_real lo = (plast_real)y->p.mask.lo, hi = (plast_real)y->p.mask.hi;                          \
        (void)c, (void)lo, (void)hi;                                                                            \
        _Pragma("omp parallel for if (n >= 32768)") for (int64_t i = 0; i < n; i++) {                           \
            plast_real x = px[i];                                                                               \
            py[i] = (EXPR);                                                                                     \
        }                                                                                                       \
    }

static inline plast_real clamp1(plast_real x, plast_real lo, plast_real hi) { return x < lo ? lo : (x > hi ? hi : x); }

BINARY_KERNEL(fwd_add, a + b)
BINARY_KERNEL(fwd_sub, a - b)
BINARY_KERNEL(fwd_mul, a * b)
BINARY_KERNEL(fwd_div, a / b)
BINARY_KERNEL(fwd_div_safe, b != 0 ? a / b : 0)
UNARY_KERNEL(fwd_scale, c * x)
UNARY_KERNEL(fwd_add_scalar, x + c)
UNARY_KERNEL(fwd_relu, x > 0 ? x : 0)
/* libm's tanhf is a scalar call that cost the MLP baseline more than its matrix products; fastmath.h's are
 * vectorised and within 3e-7 relative (libm's in the float64 build) */
UNARY_KERNEL(fwd_sigmoid, plast_fsigmoid(x))
UNARY_KERNEL(fwd_tanh, plast_ftanh(x))
UNARY_KERNEL(fwd_exp, exp(x))
UNARY_KERNEL(fwd_log, log(x))
UNARY_KERNEL(fwd_abs, fabs(x))
UNARY_KERNEL(fwd_sqrt, sqrt(x))
UNARY_KERNEL(fwd_square, x * x)
UNARY_KERNEL(fwd_clamp, clamp1(x, lo, hi))

static void fwd_mask_mul(plast_node *y) {
    const plast_real *pa = y->in[0]->data, *pb = y->in[1]->data;
    plast_real *py = y->data;
    const int64_t n = y->numel;
    const plast_real lo = (plast_real)y->p.mask.lo, hi = (plast_real)y->p.mask.hi;
    switch ((plast_mask_kind)y->p.mask.kind) {
    case PLAST_MASK_POSITIVE:
#pragma omp parallel for if (n >= PLAST_PAR_MIN)
        for (int64_t i = 0; i < n; i++) py[i] = pb[i] > 0 ? pa[i] : 0;
        break;
    case PLAST_MASK_SIGN:
#pragma omp parallel for if (n >= PLAST_PAR_MIN)
        for (int64_t i = 0; i < n; i++) py[i] = pb[i] > 0 ? pa[i] : (pb[i] < 0 ? -pa[i] : 0);
        break;
    default:
#pragma omp parallel for if (n >= PLAST_PAR_MIN)
        for (int64_t i = 0; i < n; i++) py[i] = (pb[i] > lo && pb[i] < hi) ? pa[i] : 0;
        break;
    }
}

/* ---- backward rules ---------------------------------------------------------------------------------------- */

static void bwd_add(plast_tape *t, plast_node *y, plast_node *gy, const uint8_t *need, plast_node **gin) {
    if (need[0]) gin[0] = plast_sum_to(t, gy, y->in[0]->shape);
    if (need[1]) gin[1] = plast_sum_to(t, gy, y->in[1]->shape);
}

static void bwd_sub(plast_tape *t, plast_node *y, plast_node *gy, const uint8_t *need, plast_node **gin) {
    if (need[0]) gin[0] = plast_sum_to(t, gy, y->in[0]->shape);
    if (need[1]) gin[1] = plast_sum_to(t, plast_neg(t, gy), y->in[1]->shape);
}

static void bwd_mul(plast_tape *t, plast_node *y, plast_node *gy, const uint8_t *need, plast_node **gin) {
    if (need[0]) gin[0] = plast_sum_to(t, plast_mul(t, gy, y->in[1]), y->in[0]->shape);
    if (need[1]) gin[1] = plast_sum_to(t, plast_mul(t, gy, y->in[0]), y->in[1]->shape);
}

/* y = a / b: da = gy / b, db = -gy * a / b^2 = -(gy / b) * y */
static void bwd_div(plast_tape *t, plast_node *y, plast_node *gy, const uint8_t *need, plast_node **gin) {
    plast_node *q = plast_div(t, gy, y->in[1]);
    if (need[0]) gin[0] = plast_sum_to(t, q, y->in[0]->shape);
    if (need[1]) gin[1] = plast_sum_to(t, plast_neg(t, plast_mul(t, q, y)), y->in[1]->shape);
}

static void bwd_div_safe(plast_tape *t, plast_node *y, plast_node *gy, const uint8_t *need, plast_node **gin) {
    plast_node *q = plast_div_safe(t, gy, y->in[1]);
    if (need[0]) gin[0] = plast_sum_to(t, q, y->in[0]->shape);
    if (need[1]) gin[1] = plast_sum_to(t, plast_neg(t, plast_mul(t, q, y)), y->in[1]->shape);
}

static void bwd_scale(plast_tape *t, plast_node *y, plast_node *gy, const uint8_t *need, plast_node **gin) {
    (void)need;
    gin[0] = plast_scale(t, gy, y->p.c);
}

static void bwd_identity(plast_tape *t, plast_node *y, plast_node *gy, const uint8_t *need, plast_node **gin) {
    (void)t, (void)y, (void)need;
    gin[0] = gy;
}

static void bwd_relu(plast_tape *t, plast_node *y, plast_node *gy, const uint8_t *need, plast_node **gin) {
    (void)need;
    gin[0] = plast_mask_mul(t, gy, y->in[0], PLAST_MASK_POSITIVE, 0, 0);
}

/* sigmoid' = y (1 - y) */
static void bwd_sigmoid(plast_tape *t, plast_node *y, plast_node *gy, const uint8_t *need, plast_node **gin) {
    (void)need;
    gin[0] = plast_mul(t, gy, plast_mul(t, y, plast_add_scalar(t, plast_neg(t, y), 1.0)));
}

/* tanh' = 1 - y^2 */
static void bwd_tanh(plast_tape *t, plast_node *y, plast_node *gy, const uint8_t *need, plast_node **gin) {
    (void)need;
    gin[0] = plast_mul(t, gy, plast_add_scalar(t, plast_neg(t, plast_square(t, y)), 1.0));
}

static void bwd_exp(plast_tape *t, plast_node *y, plast_node *gy, const uint8_t *need, plast_node **gin) {
    (void)need;
    gin[0] = plast_mul(t, gy, y);
}

static void bwd_log(plast_tape *t, plast_node *y, plast_node *gy, const uint8_t *need, plast_node **gin) {
    (void)need;
    gin[0] = plast_div(t, gy, y->in[0]);
}

static void bwd_abs(plast_tape *t, plast_node *y, plast_node *gy, const uint8_t *need, plast_node **gin) {
    (void)need;
    gin[0] = plast_mask_mul(t, gy, y->in[0], PLAST_MASK_SIGN, 0, 0);
}

/* sqrt' = 1 / (2 y) */
static void bwd_sqrt(plast_tape *t, plast_node *y, plast_node *gy, const uint8_t *need, plast_node **gin) {
    (void)need;
    gin[0] = plast_div(t, plast_scale(t, gy, 0.5), y);
}

static void bwd_square(plast_tape *t, plast_node *y, plast_node *gy, const uint8_t *need, plast_node **gin) {
    (void)need;
    gin[0] = plast_mul(t, gy, plast_scale(t, y->in[0], 2.0));
}

static void bwd_clamp(plast_tape *t, plast_node *y, plast_node *gy, const uint8_t *need, plast_node **gin) {
    (void)need;
    gin[0] = plast_mask_mul(t, gy, y->in[0], PLAST_MASK_INSIDE, y->p.mask.lo, y->p.mask.hi);
}

/* d/da = m(b); d/db = 0 almost everywhere */
static void bwd_mask_mul(plast_tape *t, plast_node *y, plast_node *gy, const uint8_t *need, plast_node **gin) {
    if (need[0])
        gin[0] = plast_mask_mul(t, gy, y->in[1], (plast_mask_kind)y->p.mask.kind, y->p.mask.lo, y->p.mask.hi);
}

/* ---- op definitions ---------------------------------------------------------------------------------------- */

#define OP(ID, NAME, FORMULA, ARITY, SHAPE, FWD, BWD) \
    const plast_op_def plast_op_##ID = {NAME, FORMULA, ARITY, SHAPE, FWD, BWD, 0};

OP(add, "add", "y = a + b;  da = sum_to(gy), db = sum_to(gy)", 2, shape_broadcast, fwd_add, bwd_add)
OP(sub, "sub", "y = a - b;  da = sum_to(gy), db = -sum_to(gy)", 2, shape_broadcast, fwd_sub, bwd_sub)
OP(mul, "mul", "y = a * b;  da = sum_to(gy b), db = sum_to(gy a)", 2, shape_broadcast, fwd_mul, bwd_mul)
OP(div, "div", "y = a / b;  da = sum_to(gy / b), db = -sum_to(gy y / b)", 2, shape_broadcast, fwd_div, bwd_div)
OP(div_safe, "div_safe", "y = b != 0 ? a / b : 0;  as div, with 0 where b == 0", 2, shape_broadcast, fwd_div_safe,
   bwd_div_safe)
OP(scale, "scale", "y = c x;  dx = c gy", 1, shape_unary, fwd_scale, bwd_scale)
OP(add_scalar, "add_scalar", "y = x + c;  dx = gy", 1, shape_unary, fwd_add_scalar, bwd_identity)
OP(relu, "relu", "y = max(x, 0);  dx = gy [x > 0]", 1, shape_unary, fwd_relu, bwd_relu)
OP(sigmoid, "sigmoid", "y = 1 / (1 + exp(-x));  dx = gy y (1 - y)", 1, shape_unary, fwd_sigmoid, bwd_sigmoid)
OP(tanh, "tanh", "y = tanh(x);  dx = gy (1 - y^2)", 1, shape_unary, fwd_tanh, bwd_tanh)
OP(exp, "exp", "y = exp(x);  dx = gy y", 1, shape_unary, fwd_exp, bwd_exp)
OP(log, "log", "y = log(x);  dx = gy / x", 1, shape_unary, fwd_log, bwd_log)
OP(abs, "abs", "y = |x|;  dx = gy sign(x)", 1, shape_unary, fwd_abs, bwd_abs)
OP(sqrt, "sqrt", "y = sqrt(x);  dx = gy / (2 y)", 1, shape_unary, fwd_sqrt, bwd_sqrt)
OP(square, "square", "y = x^2;  dx = 2 x gy", 1, shape_unary, fwd_square, bwd_square)
OP(clamp, "clamp", "y = min(max(x, lo), hi);  dx = gy [lo < x < hi]", 1, shape_unary, fwd_clamp, bwd_clamp)
OP(mask_mul, "mask_mul", "y = a m(b), m piecewise constant;  da = gy m(b), db = 0", 2, shape_equal2, fwd_mask_mul,
   bwd_mask_mul)

/* ---- constructors ------------------------------------------------------------------------------------------ */

static plast_node *binary(plast_tape *t, plast_op op, plast_node *a, plast_node *b) {
    plast_node *in[2] = {a, b};
    return plast_tape_op(t, op, 2, in, NULL);
}

static plast_node *unary(plast_tape *t, plast_op op, plast_node *x, double c) {
    plast_op_params p = {.c = c};
    return plast_tape_op(t, op, 1, &x, &p);
}

plast_node *plast_add(plast_tape *t, plast_node *a, plast_node *b) { return binary(t, PLAST_OP_ADD, a, b); }
plast_node *plast_sub(plast_tape *t, plast_node *a, plast_node *b) { return binary(t, PLAST_OP_SUB, a, b); }
plast_node *plast_mul(plast_tape *t, plast_node *a, plast_node *b) { return binary(t, PLAST_OP_MUL, a, b); }
plast_node *plast_div(plast_tape *t, plast_node *a, plast_node *b) { return binary(t, PLAST_OP_DIV, a, b); }
plast_node *plast_div_safe(plast_tape *t, plast_node *a, plast_node *b) {
    return binary(t, PLAST_OP_DIV_SAFE, a, b);
}
plast_node *plast_scale(plast_tape *t, plast_node *x, double c) { return unary(t, PLAST_OP_SCALE, x, c); }
plast_node *plast_add_scalar(plast_tape *t, plast_node *x, double c) { return unary(t, PLAST_OP_ADD_SCALAR, x, c); }
plast_node *plast_neg(plast_tape *t, plast_node *x) { return unary(t, PLAST_OP_SCALE, x, -1.0); }
plast_node *plast_relu(plast_tape *t, plast_node *x) { return unary(t, PLAST_OP_RELU, x, 0); }
plast_node *plast_sigmoid(plast_tape *t, plast_node *x) { return unary(t, PLAST_OP_SIGMOID, x, 0); }
plast_node *plast_tanh(plast_tape *t, plast_node *x) { return unary(t, PLAST_OP_TANH, x, 0); }
plast_node *plast_exp(plast_tape *t, plast_node *x) { return unary(t, PLAST_OP_EXP, x, 0); }
plast_node *plast_log(plast_tape *t, plast_node *x) { return unary(t, PLAST_OP_LOG, x, 0); }
plast_node *plast_abs(plast_tape *t, plast_node *x) { return unary(t, PLAST_OP_ABS, x, 0); }
plast_node *plast_sqrt(plast_tape *t, plast_node *x) { return unary(t, PLAST_OP_SQRT, x, 0); }
plast_node *plast_square(plast_tape *t, plast_node *x) { return unary(t, PLAST_OP_SQUARE, x, 0); }

plast_node *plast_clamp(plast_tape *t, plast_node *x, double lo, double hi) {
    if (!(lo <= hi)) return plast_tape_fail(t, PLAST_ERR_INVALID_ARG, "clamp: lo %g is above hi %g", lo, hi);
    plast_op_params p = {.mask = {lo, hi, PLAST_MASK_INSIDE}};
    return plast_tape_op(t, PLAST_OP_CLAMP, 1, &x, &p);
}

plast_node *plast_mask_mul(plast_tape *t, plast_node *a, plast_node *b, plast_mask_kind kind, double lo,
                           double hi) {
    if ((int)kind < 0 || kind >= PLAST_MASK_KIND_COUNT)
        return plast_tape_fail(t, PLAST_ERR_INVALID_ARG, "mask_mul: unknown mask kind %d", (int)kind);
    plast_node *in[2] = {a, b};
    plast_op_params p = {.mask = {lo, hi, (int)kind}};
    return plast_tape_op(t, PLAST_OP_MASK_MUL, 2, in, &p);
}
