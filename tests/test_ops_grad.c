/* tests/test_ops_grad.c: every op on the tape, differentiated once and twice, against central finite differences
 * in float64.
 *
 * For each case, with inputs x drawn away from the op's kinks and fixed random weights w:
 *   first order:  f(x) = sum(w * op(x));  df/dx from plast_tape_grad vs (f(x + e) - f(x - e)) / 2e per element;
 *   second order: L(x) = sum(w * op(x)^3); g(x) = dL/dx built with create_graph; the Hessian-vector product
 *                 d(g . v)/dx vs (g(x + e v) - g(x - e v)) / 2e for random directions v.
 * The second check differentiates each op's backward rule, so it fails for a rule that is not itself built of
 * differentiable ops. Each case must see a clearly non-zero gradient and Hessian-vector product, so an op whose
 * gradient silently vanishes cannot pass. The test also fails if any op in the table has no case.
 */
#include "autodiff/tape_internal.h"
#include "plast/rng.h"
#include "test.h"

#ifndef PLAST_DOUBLE
#error "finite-difference tests need the float64 build (plast64)"
#endif

#define MAX_IN 4
#define MAX_KINKS 4

typedef plast_node *(*build_fn)(plast_tape *t, plast_node **in);

typedef struct grad_case {
    const char *name;
    int op;                 /* the table op this case covers, or -1 for a composite function */
    build_fn build;
    int n_in;
    plast_shape shape[MAX_IN];
    double lo, hi;          /* inputs ~ U[lo, hi] ... */
    double kinks[MAX_KINKS]; /* ... at least MARGIN away from each of these kink points */
    int n_kinks;
} grad_case;

#define MARGIN 0.05
#define EPS1 1e-6
#define EPS2 1e-5

/* ---- builders: one per case ------------------------------------------------------------------------------- */

static plast_node *b_add(plast_tape *t, plast_node **x) { return plast_add(t, x[0], x[1]); }
static plast_node *b_sub(plast_tape *t, plast_node **x) { return plast_sub(t, x[0], x[1]); }
static plast_node *b_mul(plast_tape *t, plast_node **x) { return plast_mul(t, x[0], x[1]); }
static plast_node *b_div(plast_tape *t, plast_node **x) { return plast_div(t, x[0], x[1]); }
static plast_node *b_div_safe(plast_tape *t, plast_node **x) { return plast_div_safe(t, x[0], x[1]); }
static plast_node *b_scale(plast_tape *t, plast_node **x) { return plast_scale(t, x[0], -1.7); }
static plast_node *b_add_scalar(plast_tape *t, plast_node **x) { return plast_add_scalar(t, x[0], 0.3); }
static plast_node *b_neg(plast_tape *t, plast_node **x) { return plast_neg(t, x[0]); }
static plast_node *b_relu(plast_tape *t, plast_node **x) { return plast_relu(t, x[0]); }
static plast_node *b_sigmoid(plast_tape *t, plast_node **x) { return plast_sigmoid(t, x[0]); }
static plast_node *b_tanh(plast_tape *t, plast_node **x) { return plast_tanh(t, x[0]); }
static plast_node *b_exp(plast_tape *t, plast_node **x) { return plast_exp(t, x[0]); }
static plast_node *b_log(plast_tape *t, plast_node **x) { return plast_log(t, x[0]); }
static plast_node *b_abs(plast_tape *t, plast_node **x) { return plast_abs(t, x[0]); }
static plast_node *b_sqrt(plast_tape *t, plast_node **x) { return plast_sqrt(t, x[0]); }
static plast_node *b_square(plast_tape *t, plast_node **x) { return plast_square(t, x[0]); }
static plast_node *b_clamp(plast_tape *t, plast_node **x) { return plast_clamp(t, x[0], -0.5, 0.6); }
static plast_node *b_clamp_lo(plast_tape *t, plast_node **x) { return plast_clamp(t, x[0], -0.5, INFINITY); }
static plast_node *b_mask_pos(plast_tape *t, plast_node **x) {
    return plast_mask_mul(t, x[0], x[1], PLAST_MASK_POSITIVE, 0, 0);
}
static plast_node *b_mask_sign(plast_tape *t, plast_node **x) {
    return plast_mask_mul(t, x[0], x[1], PLAST_MASK_SIGN, 0, 0);
}
static plast_node *b_mask_inside(plast_tape *t, plast_node **x) {
    return plast_mask_mul(t, x[0], x[1], PLAST_MASK_INSIDE, -0.5, 0.5);
}
static plast_node *b_mm00(plast_tape *t, plast_node **x) { return plast_matmul(t, x[0], x[1], 0, 0); }
static plast_node *b_mm01(plast_tape *t, plast_node **x) { return plast_matmul(t, x[0], x[1], 0, 1); }
static plast_node *b_mm10(plast_tape *t, plast_node **x) { return plast_matmul(t, x[0], x[1], 1, 0); }
static plast_node *b_mm11(plast_tape *t, plast_node **x) { return plast_matmul(t, x[0], x[1], 1, 1); }
static plast_node *b_outer(plast_tape *t, plast_node **x) { return plast_outer(t, x[0], x[1]); }
static plast_node *b_sum0(plast_tape *t, plast_node **x) { return plast_sum(t, x[0], 0, 0); }
static plast_node *b_sum1k(plast_tape *t, plast_node **x) { return plast_sum(t, x[0], 1, 1); }
static plast_node *b_sum_last(plast_tape *t, plast_node **x) { return plast_sum(t, x[0], -1, 0); }
static plast_node *b_mean1(plast_tape *t, plast_node **x) { return plast_mean(t, x[0], 1, 0); }
static plast_node *b_sum_all(plast_tape *t, plast_node **x) { return plast_sum_all(t, x[0]); }
static plast_node *b_mean_all(plast_tape *t, plast_node **x) { return plast_mean_all(t, x[0]); }
static plast_node *b_norm2_1(plast_tape *t, plast_node **x) { return plast_norm2(t, x[0], 1, 0); }
static plast_node *b_norm2_0k(plast_tape *t, plast_node **x) { return plast_norm2(t, x[0], 0, 1); }
static plast_node *b_bcast_a(plast_tape *t, plast_node **x) {
    return plast_broadcast_to(t, x[0], PLAST_SHAPE3(2, 3, 4));
}
static plast_node *b_bcast_b(plast_tape *t, plast_node **x) { return plast_broadcast_to(t, x[0], PLAST_SHAPE2(3, 4)); }
static plast_node *b_sum_to_a(plast_tape *t, plast_node **x) { return plast_sum_to(t, x[0], PLAST_SHAPE2(3, 1)); }
static plast_node *b_sum_to_b(plast_tape *t, plast_node **x) { return plast_sum_to(t, x[0], PLAST_SHAPE1(4)); }
static plast_node *b_reshape(plast_tape *t, plast_node **x) { return plast_reshape(t, x[0], PLAST_SHAPE2(2, 6)); }
static plast_node *b_transpose(plast_tape *t, plast_node **x) { return plast_transpose(t, x[0]); }
static plast_node *b_concat1(plast_tape *t, plast_node **x) { return plast_concat(t, 3, x, 1); }
static plast_node *b_concat0(plast_tape *t, plast_node **x) { return plast_concat(t, 2, x, 0); }
static plast_node *b_slice(plast_tape *t, plast_node **x) { return plast_slice(t, x[0], 1, 1, 2); }
static plast_node *b_slice_last(plast_tape *t, plast_node **x) { return plast_slice(t, x[0], -1, 0, 3); }
static plast_node *b_pad(plast_tape *t, plast_node **x) { return plast_pad(t, x[0], 0, 1, 5); }
static plast_node *b_softmax(plast_tape *t, plast_node **x) { return plast_softmax(t, x[0]); }
static plast_node *b_log_softmax(plast_tape *t, plast_node **x) { return plast_log_softmax(t, x[0]); }
static plast_node *b_mse(plast_tape *t, plast_node **x) { return plast_mse(t, x[0], x[1]); }
static plast_node *b_ce(plast_tape *t, plast_node **x) { return plast_cross_entropy(t, x[0], x[1]); }
static plast_node *b_layer_norm(plast_tape *t, plast_node **x) { return plast_layer_norm(t, x[0], x[1], x[2], 1e-5); }
static plast_node *b_layer_norm_plain(plast_tape *t, plast_node **x) { return plast_layer_norm(t, x[0], NULL, NULL, 1e-5); }

static plast_node *b_im2col(plast_tape *t, plast_node **x) { return plast_im2col(t, x[0], 3, 1, 1); }
static plast_node *b_im2col_valid(plast_tape *t, plast_node **x) { return plast_im2col(t, x[0], 2, 0, 1); }
static plast_node *b_im2col_strided(plast_tape *t, plast_node **x) { return plast_im2col(t, x[0], 4, 0, 2); }
static plast_node *b_col2im(plast_tape *t, plast_node **x) { return plast_col2im(t, x[0], 3, 1, 1, 3, 4); }
static plast_node *b_col2im_strided(plast_tape *t, plast_node **x) { return plast_col2im(t, x[0], 4, 0, 2, 8, 9); }
static plast_node *b_maxpool(plast_tape *t, plast_node **x) { return plast_maxpool2(t, x[0]); }
/* positions chosen by another tensor: the gradient reaches x[0] only */
static plast_node *b_pool_gather(plast_tape *t, plast_node **x) {
    return plast_pool_gather(t, x[0], plast_pool_argmax(t, x[1]));
}
static plast_node *b_pool_scatter(plast_tape *t, plast_node **x) {
    return plast_pool_scatter(t, x[0], plast_pool_argmax(t, x[1]), plast_node_shape(x[1]));
}
static plast_node *b_conv2d(plast_tape *t, plast_node **x) { return plast_conv2d(t, x[0], x[1], 3, 1, 1); }
static plast_node *b_batch_norm(plast_tape *t, plast_node **x) { return plast_batch_norm(t, x[0], x[1], x[2], 1e-5); }
static plast_node *b_batch_norm_groups(plast_tape *t, plast_node **x) {
    return plast_batch_norm_groups(t, x[0], 2, x[1], NULL, 1e-5);
}

#define S1(a) PLAST_SHAPE1(a)
#define S2(a, b) PLAST_SHAPE2(a, b)
#define S3(a, b, c) PLAST_SHAPE3(a, b, c)
#define S4(a, b, c, d) PLAST_SHAPE4(a, b, c, d)

static const grad_case CASES[] = {
    {"add", PLAST_OP_ADD, b_add, 2, {S2(3, 4), S2(3, 4)}, -1, 1, {0}, 0},
    {"add broadcast (3,4)+(4)", PLAST_OP_ADD, b_add, 2, {S2(3, 4), S1(4)}, -1, 1, {0}, 0},
    {"add broadcast (2,3,1)+(1,4)", PLAST_OP_ADD, b_add, 2, {S3(2, 3, 1), S2(1, 4)}, -1, 1, {0}, 0},
    {"sub", PLAST_OP_SUB, b_sub, 2, {S2(3, 4), S2(3, 4)}, -1, 1, {0}, 0},
    {"sub broadcast (4)-(3,4)", PLAST_OP_SUB, b_sub, 2, {S1(4), S2(3, 4)}, -1, 1, {0}, 0},
    {"mul", PLAST_OP_MUL, b_mul, 2, {S2(3, 4), S2(3, 4)}, -1, 1, {0}, 0},
    {"mul per-sample scalar (2,3,4)*(2,1,1)", PLAST_OP_MUL, b_mul, 2, {S3(2, 3, 4), S3(2, 1, 1)}, -1, 1, {0}, 0},
    {"div", PLAST_OP_DIV, b_div, 2, {S2(3, 4), S2(3, 4)}, 0.5, 2, {0}, 0},
    {"div broadcast (3,4)/(3,1)", PLAST_OP_DIV, b_div, 2, {S2(3, 4), S2(3, 1)}, 0.5, 2, {0}, 0},
    {"div_safe", PLAST_OP_DIV_SAFE, b_div_safe, 2, {S2(3, 4), S2(3, 4)}, 0.4, 2, {0}, 0},
    {"scale", PLAST_OP_SCALE, b_scale, 1, {S2(3, 4)}, -1, 1, {0}, 0},
    {"neg", -1, b_neg, 1, {S2(3, 4)}, -1, 1, {0}, 0},
    {"add_scalar", PLAST_OP_ADD_SCALAR, b_add_scalar, 1, {S2(3, 4)}, -1, 1, {0}, 0},
    {"relu", PLAST_OP_RELU, b_relu, 1, {S2(4, 5)}, -1, 1, {0}, 1},
    {"sigmoid", PLAST_OP_SIGMOID, b_sigmoid, 1, {S2(3, 4)}, -3, 3, {0}, 0},
    {"tanh", PLAST_OP_TANH, b_tanh, 1, {S2(3, 4)}, -2, 2, {0}, 0},
    {"exp", PLAST_OP_EXP, b_exp, 1, {S2(3, 4)}, -1, 1, {0}, 0},
    {"log", PLAST_OP_LOG, b_log, 1, {S2(3, 4)}, 0.3, 2, {0}, 0},
    {"abs", PLAST_OP_ABS, b_abs, 1, {S2(4, 5)}, -1, 1, {0}, 1},
    {"sqrt", PLAST_OP_SQRT, b_sqrt, 1, {S2(3, 4)}, 0.3, 2, {0}, 0},
    {"square", PLAST_OP_SQUARE, b_square, 1, {S2(3, 4)}, -1, 1, {0}, 0},
    {"clamp [-0.5, 0.6]", PLAST_OP_CLAMP, b_clamp, 1, {S2(4, 5)}, -1, 1, {-0.5, 0.6}, 2},
    {"clamp [-0.5, inf)", PLAST_OP_CLAMP, b_clamp_lo, 1, {S2(4, 5)}, -1, 1, {-0.5}, 1},
    {"mask_mul positive", PLAST_OP_MASK_MUL, b_mask_pos, 2, {S2(3, 4), S2(3, 4)}, -1, 1, {0}, 1},
    {"mask_mul sign", PLAST_OP_MASK_MUL, b_mask_sign, 2, {S2(3, 4), S2(3, 4)}, -1, 1, {0}, 1},
    {"mask_mul inside", PLAST_OP_MASK_MUL, b_mask_inside, 2, {S2(3, 4), S2(3, 4)}, -1, 1, {-0.5, 0.5}, 2},
    {"matmul (3,4)(4,2)", PLAST_OP_MATMUL, b_mm00, 2, {S2(3, 4), S2(4, 2)}, -1, 1, {0}, 0},
    {"matmul (3,4)(2,4)^T", PLAST_OP_MATMUL, b_mm01, 2, {S2(3, 4), S2(2, 4)}, -1, 1, {0}, 0},
    {"matmul (4,3)^T(4,2)", PLAST_OP_MATMUL, b_mm10, 2, {S2(4, 3), S2(4, 2)}, -1, 1, {0}, 0},
    {"matmul (4,3)^T(2,4)^T", PLAST_OP_MATMUL, b_mm11, 2, {S2(4, 3), S2(2, 4)}, -1, 1, {0}, 0},
    {"matmul vector (1,4)(4,3)", PLAST_OP_MATMUL, b_mm00, 2, {S2(1, 4), S2(4, 3)}, -1, 1, {0}, 0},
    {"matmul vector (4,1)^T(3,4)^T", PLAST_OP_MATMUL, b_mm11, 2, {S2(4, 1), S2(3, 4)}, -1, 1, {0}, 0},
    {"matmul batched (2,3,4)(2,4,2)", PLAST_OP_MATMUL, b_mm00, 2, {S3(2, 3, 4), S3(2, 4, 2)}, -1, 1, {0}, 0},
    {"matmul batched (2,4,3)^T(2,2,4)^T", PLAST_OP_MATMUL, b_mm11, 2, {S3(2, 4, 3), S3(2, 2, 4)}, -1, 1, {0}, 0},
    {"matmul shared b (2,3,4)(4,2)", PLAST_OP_MATMUL, b_mm00, 2, {S3(2, 3, 4), S2(4, 2)}, -1, 1, {0}, 0},
    {"matmul shared b (2,3,4)(2,4)^T", PLAST_OP_MATMUL, b_mm01, 2, {S3(2, 3, 4), S2(2, 4)}, -1, 1, {0}, 0},
    {"matmul shared b (2,4,3)^T(4,2)", PLAST_OP_MATMUL, b_mm10, 2, {S3(2, 4, 3), S2(4, 2)}, -1, 1, {0}, 0},
    {"matmul shared a (3,4)(2,4,2)", PLAST_OP_MATMUL, b_mm00, 2, {S2(3, 4), S3(2, 4, 2)}, -1, 1, {0}, 0},
    {"matmul shared a (4,3)^T(2,2,4)^T", PLAST_OP_MATMUL, b_mm11, 2, {S2(4, 3), S3(2, 2, 4)}, -1, 1, {0}, 0},
    {"outer (3)(4)", PLAST_OP_OUTER, b_outer, 2, {S1(3), S1(4)}, -1, 1, {0}, 0},
    {"outer batched (2,3)(2,4)", PLAST_OP_OUTER, b_outer, 2, {S2(2, 3), S2(2, 4)}, -1, 1, {0}, 0},
    {"sum axis 0", PLAST_OP_SUM, b_sum0, 1, {S3(2, 3, 4)}, -1, 1, {0}, 0},
    {"sum axis 1 keepdim", PLAST_OP_SUM, b_sum1k, 1, {S3(2, 3, 4)}, -1, 1, {0}, 0},
    {"sum last axis", PLAST_OP_SUM, b_sum_last, 1, {S2(3, 4)}, -1, 1, {0}, 0},
    {"mean axis 1", -1, b_mean1, 1, {S3(2, 3, 4)}, -1, 1, {0}, 0},
    {"sum_all", -1, b_sum_all, 1, {S2(3, 4)}, -1, 1, {0}, 0},
    {"mean_all", -1, b_mean_all, 1, {S2(3, 4)}, -1, 1, {0}, 0},
    {"norm2 axis 1", PLAST_OP_NORM2, b_norm2_1, 1, {S3(2, 3, 4)}, -1, 1, {0}, 0},
    {"norm2 axis 0 keepdim", PLAST_OP_NORM2, b_norm2_0k, 1, {S2(3, 4)}, -1, 1, {0}, 0},
    {"broadcast_to (3,1)->(2,3,4)", PLAST_OP_BROADCAST_TO, b_bcast_a, 1, {S2(3, 1)}, -1, 1, {0}, 0},
    {"broadcast_to (4)->(3,4)", PLAST_OP_BROADCAST_TO, b_bcast_b, 1, {S1(4)}, -1, 1, {0}, 0},
    {"sum_to (2,3,4)->(3,1)", PLAST_OP_SUM_TO, b_sum_to_a, 1, {S3(2, 3, 4)}, -1, 1, {0}, 0},
    {"sum_to (3,4)->(4)", PLAST_OP_SUM_TO, b_sum_to_b, 1, {S2(3, 4)}, -1, 1, {0}, 0},
    {"reshape", PLAST_OP_RESHAPE, b_reshape, 1, {S2(3, 4)}, -1, 1, {0}, 0},
    {"transpose", PLAST_OP_TRANSPOSE, b_transpose, 1, {S3(2, 3, 4)}, -1, 1, {0}, 0},
    {"concat axis 1", PLAST_OP_CONCAT, b_concat1, 3, {S2(2, 3), S2(2, 1), S2(2, 2)}, -1, 1, {0}, 0},
    {"concat axis 0", PLAST_OP_CONCAT, b_concat0, 2, {S3(1, 2, 3), S3(2, 2, 3)}, -1, 1, {0}, 0},
    {"slice axis 1", PLAST_OP_SLICE, b_slice, 1, {S3(2, 4, 3)}, -1, 1, {0}, 0},
    {"slice last axis", PLAST_OP_SLICE, b_slice_last, 1, {S2(2, 5)}, -1, 1, {0}, 0},
    {"pad axis 0", PLAST_OP_PAD, b_pad, 1, {S2(3, 2)}, -1, 1, {0}, 0},
    {"softmax", PLAST_OP_SOFTMAX, b_softmax, 1, {S2(3, 5)}, -2, 2, {0}, 0},
    {"log_softmax", PLAST_OP_LOG_SOFTMAX, b_log_softmax, 1, {S3(2, 2, 4)}, -2, 2, {0}, 0},
    {"mse", PLAST_OP_MSE, b_mse, 2, {S2(3, 4), S2(3, 4)}, -1, 1, {0}, 0},
    {"cross_entropy (soft targets)", PLAST_OP_CROSS_ENTROPY, b_ce, 2, {S2(3, 5), S2(3, 5)}, 0.05, 1, {0}, 0},
    {"layer_norm with gain and bias", -1, b_layer_norm, 3, {S2(3, 5), S1(5), S1(5)}, -1, 1, {0}, 0},
    {"layer_norm plain", -1, b_layer_norm_plain, 1, {S3(2, 2, 4)}, -1, 1, {0}, 0},
    {"im2col 3x3 padding 1", PLAST_OP_IM2COL, b_im2col, 1, {S4(2, 3, 4, 2)}, -1, 1, {0}, 0},
    {"im2col 2x2 no padding", PLAST_OP_IM2COL, b_im2col_valid, 1, {S4(1, 3, 3, 2)}, -1, 1, {0}, 0},
    {"col2im 3x3 padding 1", PLAST_OP_COL2IM, b_col2im, 1, {S4(2, 3, 4, 18)}, -1, 1, {0}, 0},
    {"im2col 4x4 stride 2 (an odd edge left out)", PLAST_OP_IM2COL, b_im2col_strided, 1, {S4(2, 9, 8, 2)}, -1, 1, {0}, 0},
    {"col2im 4x4 stride 2", PLAST_OP_COL2IM, b_col2im_strided, 1, {S4(1, 3, 3, 16)}, -1, 1, {0}, 0},
    {"maxpool2 (pool_argmax then pool_gather), odd size", PLAST_OP_POOL_ARGMAX, b_maxpool, 1, {S4(2, 5, 4, 2)}, -1, 1,
     {0}, 0},
    {"pool_gather at another tensor's maxima", PLAST_OP_POOL_GATHER, b_pool_gather, 2, {S4(2, 4, 4, 2), S4(2, 4, 4, 2)},
     -1, 1, {0}, 0},
    {"pool_scatter", PLAST_OP_POOL_SCATTER, b_pool_scatter, 2, {S4(2, 2, 3, 2), S4(2, 5, 6, 2)}, -1, 1, {0}, 0},
    {"conv2d 3x3 padding 1", -1, b_conv2d, 2, {S4(2, 4, 3, 2), S2(18, 3)}, -1, 1, {0}, 0},
    {"batch_norm with gamma and beta", -1, b_batch_norm, 3, {S4(3, 2, 2, 3), S1(3), S1(3)}, -1, 1, {0}, 0},
    {"batch_norm in 2 groups, gamma only", -1, b_batch_norm_groups, 2, {S4(4, 2, 1, 3), S1(3)}, -1, 1, {0}, 0},
};
#define N_CASES ((int)(sizeof CASES / sizeof CASES[0]))

/* ---- harness ----------------------------------------------------------------------------------------------- */

typedef struct inputs {
    double *x[MAX_IN];
    int64_t n[MAX_IN];
} inputs;

static double draw(plast_rng *r, const grad_case *c) {
    for (;;) {
        double v = plast_rng_uniform_in(r, c->lo, c->hi);
        int ok = 1;
        for (int k = 0; k < c->n_kinks; k++) ok &= fabs(v - c->kinks[k]) > MARGIN;
        if (ok) return v;
    }
}

/* Records the case on t with inputs as differentiable leaves; returns the op output. */
static plast_node *record(plast_tape *t, const grad_case *c, const inputs *in, plast_node **leaves) {
    for (int k = 0; k < c->n_in; k++) leaves[k] = plast_tape_var(t, c->shape[k], in->x[k]);
    return c->build(t, leaves);
}

/* sum(w * y), or sum(w * y^3) when `cubed` (nonlinear in y, so even a linear op has a non-zero Hessian) */
static plast_node *objective(plast_tape *t, plast_node *y, const double *w, int cubed) {
    plast_node *wn = plast_tape_const(t, plast_node_shape(y), w);
    plast_node *v = cubed ? plast_mul(t, y, plast_mul(t, y, y)) : y;
    return plast_sum_all(t, plast_mul(t, wn, v));
}

static double eval_f(plast_tape *t, const grad_case *c, const inputs *in, const double *w) {
    plast_tape_reset(t);
    plast_node *leaves[MAX_IN];
    plast_node *f = objective(t, record(t, c, in, leaves), w, 0);
    return f ? plast_node_item(f) : NAN;
}

/* g = dL/dx (L the cubed objective) into out[k] */
static void eval_g(plast_tape *t, const grad_case *c, const inputs *in, const double *w, double **out) {
    plast_tape_reset(t);
    plast_node *leaves[MAX_IN], *g[MAX_IN];
    plast_node *L = objective(t, record(t, c, in, leaves), w, 1);
    plast_tape_grad(t, L, NULL, c->n_in, leaves, g, 0);
    for (int k = 0; k < c->n_in; k++)
        for (int64_t j = 0; j < in->n[k]; j++) out[k][j] = g[k] ? plast_node_data(g[k])[j] : NAN;
}

static void run_case(const grad_case *c, plast_rng *rng) {
    plast_tape *t = plast_tape_init(NULL);
    inputs in = {{0}, {0}}, tmp = {{0}, {0}};
    double *g0[MAX_IN], *gp[MAX_IN], *gm[MAX_IN], *v[MAX_IN];
    for (int k = 0; k < c->n_in; k++) {
        in.n[k] = tmp.n[k] = plast_shape_numel(c->shape[k]);
        in.x[k] = malloc((size_t)in.n[k] * sizeof(double));
        tmp.x[k] = malloc((size_t)in.n[k] * sizeof(double));
        g0[k] = malloc((size_t)in.n[k] * sizeof(double));
        gp[k] = malloc((size_t)in.n[k] * sizeof(double));
        gm[k] = malloc((size_t)in.n[k] * sizeof(double));
        v[k] = malloc((size_t)in.n[k] * sizeof(double));
        for (int64_t j = 0; j < in.n[k]; j++) in.x[k][j] = draw(rng, c);
    }
    if (c->build == b_ce) { /* cross-entropy targets: rows of probabilities */
        int64_t C = c->shape[1].d[1];
        for (int64_t r = 0; r < in.n[1] / C; r++) {
            double s = 0;
            for (int64_t j = 0; j < C; j++) s += in.x[1][r * C + j];
            for (int64_t j = 0; j < C; j++) in.x[1][r * C + j] /= s;
        }
    }
    /* the output shape fixes the weights */
    plast_node *leaves[MAX_IN];
    plast_node *y = record(t, c, &in, leaves);
    CHECK(y && plast_tape_status(t) == PLAST_OK, "%s: recording failed: %s", c->name, plast_tape_error(t));
    if (!y) goto done;
    int64_t ny = plast_node_numel(y);
    double *w = malloc((size_t)ny * sizeof(double));
    for (int64_t j = 0; j < ny; j++) w[j] = plast_rng_normal(rng);

    /* first order */
    plast_tape_reset(t);
    y = record(t, c, &in, leaves);
    plast_node *f = objective(t, y, w, 0), *g[MAX_IN];
    plast_tape_grad(t, f, NULL, c->n_in, leaves, g, 0);
    CHECK(plast_tape_status(t) == PLAST_OK, "%s: grad failed: %s", c->name, plast_tape_error(t));
    double max_g = 0;
    int bad1 = 0;
    for (int k = 0; k < c->n_in; k++)
        for (int64_t j = 0; j < in.n[k]; j++) g0[k][j] = plast_node_data(g[k])[j];
    for (int k = 0; k < c->n_in; k++) {
        for (int64_t j = 0; j < in.n[k]; j++) {
            for (int q = 0; q < c->n_in; q++) memcpy(tmp.x[q], in.x[q], (size_t)in.n[q] * sizeof(double));
            tmp.x[k][j] = in.x[k][j] + EPS1;
            double fp = eval_f(t, c, &tmp, w);
            tmp.x[k][j] = in.x[k][j] - EPS1;
            double fm = eval_f(t, c, &tmp, w);
            double fd = (fp - fm) / (2 * EPS1);
            if (!test_close(g0[k][j], fd, 1e-6, 1e-7)) {
                if (bad1++ < 5)
                    fprintf(stderr, "  %s: d/dx%d[%lld] analytic %.12g, finite difference %.12g\n", c->name, k,
                            (long long)j, g0[k][j], fd);
            }
            if (fabs(g0[k][j]) > max_g) max_g = fabs(g0[k][j]);
        }
    }
    CHECK(bad1 == 0, "%s: %d first-order derivatives disagree with finite differences", c->name, bad1);
    CHECK(max_g > 1e-3, "%s: gradient is (nearly) zero everywhere, max %g", c->name, max_g);

    /* second order: Hessian-vector products along random directions */
    double max_h = 0;
    int bad2 = 0;
    for (int dir = 0; dir < 3; dir++) {
        for (int k = 0; k < c->n_in; k++)
            for (int64_t j = 0; j < in.n[k]; j++) v[k][j] = plast_rng_normal(rng);
        plast_tape_reset(t);
        y = record(t, c, &in, leaves);
        plast_node *L = objective(t, y, w, 1), *gl[MAX_IN], *h[MAX_IN];
        plast_tape_grad(t, L, NULL, c->n_in, leaves, gl, 1);
        plast_node *gv = NULL;
        for (int k = 0; k < c->n_in; k++) {
            plast_node *dot = plast_sum_all(t, plast_mul(t, gl[k], plast_tape_const(t, c->shape[k], v[k])));
            gv = gv ? plast_add(t, gv, dot) : dot;
        }
        plast_tape_grad(t, gv, NULL, c->n_in, leaves, h, 0);
        CHECK(plast_tape_status(t) == PLAST_OK, "%s: second-order grad failed: %s", c->name, plast_tape_error(t));
        if (plast_tape_status(t) != PLAST_OK) break;
        for (int k = 0; k < c->n_in; k++)
            for (int64_t j = 0; j < in.n[k]; j++) g0[k][j] = plast_node_data(h[k])[j];
        for (int q = 0; q < c->n_in; q++)
            for (int64_t j = 0; j < in.n[q]; j++) tmp.x[q][j] = in.x[q][j] + EPS2 * v[q][j];
        eval_g(t, c, &tmp, w, gp);
        for (int q = 0; q < c->n_in; q++)
            for (int64_t j = 0; j < in.n[q]; j++) tmp.x[q][j] = in.x[q][j] - EPS2 * v[q][j];
        eval_g(t, c, &tmp, w, gm);
        for (int k = 0; k < c->n_in; k++)
            for (int64_t j = 0; j < in.n[k]; j++) {
                double fd = (gp[k][j] - gm[k][j]) / (2 * EPS2);
                if (!test_close(g0[k][j], fd, 1e-6, 1e-7) && bad2++ < 5)
                    fprintf(stderr, "  %s: Hv[%d][%lld] analytic %.12g, finite difference %.12g\n", c->name, k,
                            (long long)j, g0[k][j], fd);
                if (fabs(g0[k][j]) > max_h) max_h = fabs(g0[k][j]);
            }
    }
    CHECK(bad2 == 0, "%s: %d Hessian-vector components disagree with finite differences", c->name, bad2);
    CHECK(max_h > 1e-3, "%s: Hessian-vector product is (nearly) zero everywhere, max %g", c->name, max_h);
    free(w);
done:
    for (int k = 0; k < c->n_in; k++) {
        free(in.x[k]);
        free(tmp.x[k]);
        free(g0[k]);
        free(gp[k]);
        free(gm[k]);
        free(v[k]);
    }
    plast_tape_free(t);
}

int main(void) {
    int covered[PLAST_OP_COUNT] = {0};
    plast_rng rng;
    plast_rng_init(&rng, 20261122, 1);
    for (int i = 0; i < N_CASES; i++) {
        run_case(&CASES[i], &rng);
        if (CASES[i].op >= 0) covered[CASES[i].op]++;
    }
    for (int op = 0; op < PLAST_OP_COUNT; op++) {
        const plast_op_def *d = plast_op_table[op];
        CHECK(d != NULL, "op %d has no table entry", op);
        if (!d) continue;
        CHECK(d->name && *d->name && d->formula && *d->formula, "op %d lacks a name or formula", op);
        CHECK(d->shape && d->forward && d->backward, "op '%s' lacks a shape rule, forward or backward", d->name);
        CHECK(covered[op] > 0, "op '%s' has no finite-difference case in this test", d->name);
    }
    printf("%d cases over %d ops\n", N_CASES, PLAST_OP_COUNT);
    return test_finish("test_ops_grad");
}
