/* src/autodiff/op_table.c: the op table, indexed by plast_op. A missing entry fails to compile (the count check)
 * or fails tests/test_ops_grad.c (every entry must be non-NULL and have finite-difference cases). */
#include "autodiff/tape_internal.h"

#define X(ID) extern const plast_op_def plast_op_##ID;
X(add) X(sub) X(mul) X(div) X(div_safe) X(scale) X(add_scalar) X(relu) X(sigmoid) X(tanh) X(exp) X(log) X(abs)
X(sqrt) X(square) X(clamp) X(mask_mul) X(matmul) X(outer) X(sum) X(norm2) X(broadcast_to) X(sum_to) X(reshape)
X(transpose) X(concat) X(slice) X(pad) X(softmax) X(log_softmax) X(mse) X(cross_entropy) X(im2col) X(col2im)
X(pool_argmax) X(pool_gather) X(pool_scatter)
#undef X

const plast_op_def *const plast_op_table[] = {
    [PLAST_OP_ADD] = &plast_op_add,
    [PLAST_OP_SUB] = &plast_op_sub,
    [PLAST_OP_MUL] = &plast_op_mul,
    [PLAST_OP_DIV] = &plast_op_div,
    [PLAST_OP_DIV_SAFE] = &plast_op_div_safe,
    [PLAST_OP_SCALE] = &plast_op_scale,
    [PLAST_OP_ADD_SCALAR] = &plast_op_add_scalar,
    [PLAST_OP_RELU] = &plast_op_relu,
    [PLAST_OP_SIGMOID] = &plast_op_sigmoid,
    [PLAST_OP_TANH] = &plast_op_tanh,
    [PLAST_OP_EXP] = &plast_op_exp,
    [PLAST_OP_LOG] = &plast_op_log,
    [PLAST_OP_ABS] = &plast_op_abs,
    [PLAST_OP_SQRT] = &plast_op_sqrt,
    [PLAST_OP_SQUARE] = &plast_op_square,
    [PLAST_OP_CLAMP] = &plast_op_clamp,
    [PLAST_OP_MASK_MUL] = &plast_op_mask_mul,
    [PLAST_OP_MATMUL] = &plast_op_matmul,
    [PLAST_OP_OUTER] = &plast_op_outer,
    [PLAST_OP_SUM] = &plast_op_sum,
    [PLAST_OP_NORM2] = &plast_op_norm2,
    [PLAST_OP_BROADCAST_TO] = &plast_op_broadcast_to,
    [PLAST_OP_SUM_TO] = &plast_op_sum_to,
    [PLAST_OP_RESHAPE] = &plast_op_reshape,
    [PLAST_OP_TRANSPOSE] = &plast_op_transpose,
    [PLAST_OP_CONCAT] = &plast_op_concat,
    [PLAST_OP_SLICE] = &plast_op_slice,
    [PLAST_OP_PAD] = &plast_op_pad,
    [PLAST_OP_SOFTMAX] = &plast_op_softmax,
    [PLAST_OP_LOG_SOFTMAX] = &plast_op_log_softmax,
    [PLAST_OP_MSE] = &plast_op_mse,
    [PLAST_OP_CROSS_ENTROPY] = &plast_op_cross_entropy,
    [PLAST_OP_IM2COL] = &plast_op_im2col,
    [PLAST_OP_COL2IM] = &plast_op_col2im,
    [PLAST_OP_POOL_ARGMAX] = &plast_op_pool_argmax,
    [PLAST_OP_POOL_GATHER] = &plast_op_pool_gather,
    [PLAST_OP_POOL_SCATTER] = &plast_op_pool_scatter,
};
_Static_assert(sizeof plast_op_table / sizeof plast_op_table[0] == PLAST_OP_COUNT,
               "plast_op_table must have one entry per plast_op");
