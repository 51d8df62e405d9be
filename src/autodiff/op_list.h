/* src/autodiff/op_list.h: every op of the tape, once. X(ID, name, family): the enum value PLAST_OP_<ID>, the
 * definition `const plast_op_def plast_op_<name>` in ops_<family>.c. The enum (tape_internal.h), the op table
 * (op_table.c) and the finite-difference coverage check (tests/test_ops_grad.c) are generated from this list. */
#ifndef PLAST_AUTODIFF_OP_LIST_H
#define PLAST_AUTODIFF_OP_LIST_H

#define PLAST_OP_LIST(X) \
    X(ADD, add, elementwise) \
    X(SUB, sub, elementwise) \
    X(MUL, mul, elementwise) \
    X(DIV, div, elementwise) \
    X(DIV_SAFE, div_safe, elementwise) \
    X(SCALE, scale, elementwise) \
    X(ADD_SCALAR, add_scalar, elementwise) \
    X(RELU, relu, elementwise) \
    X(SIGMOID, sigmoid, elementwise) \
    X(TANH, tanh, elementwise) \
    X(EXP, exp, elementwise) \
    X(LOG, log, elementwise) \
    X(ABS, abs, elementwise) \
    X(SQRT, sqrt, elementwise) \
    X(SQUARE, square, elementwise) \
    X(CLAMP, clamp, elementwise) \
    X(MASK_MUL, mask_mul, elementwise) \
    X(MATMUL, matmul, matmul) \
    X(OUTER, outer, matmul) \
    X(SUM, sum, reduce) \
    X(NORM2, norm2, reduce) \
    X(BROADCAST_TO, broadcast_to, reduce) \
    X(SUM_TO, sum_to, reduce) \
    X(RESHAPE, reshape, shape) \
    X(TRANSPOSE, transpose, shape) \
    X(CONCAT, concat, shape) \
    X(SLICE, slice, shape) \
    X(PAD, pad, shape) \
    X(SOFTMAX, softmax, softmax) \
    X(LOG_SOFTMAX, log_softmax, softmax) \
    X(MSE, mse, softmax) \
    X(CROSS_ENTROPY, cross_entropy, softmax) \
    X(IM2COL, im2col, image) \
    X(COL2IM, col2im, image) \
    X(POOL_ARGMAX, pool_argmax, image) \
    X(POOL_GATHER, pool_gather, image) \
    X(POOL_SCATTER, pool_scatter, image)

#endif
