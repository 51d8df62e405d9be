/* src/autodiff/composite.c: functions built from table ops (so their gradients come for free, to any order). */
#include "autodiff/tape_internal.h"

/* (x - mean) / sqrt(var + eps) * gain + bias over the last axis; var is the biased variance, as PyTorch's LayerNorm */
plast_node *plast_layer_norm(plast_tape *t, plast_node *x, plast_node *gain, plast_node *bias, double eps) {
    plast_node *mu = plast_mean(t, x, -1, 1);
    plast_node *d = plast_sub(t, x, mu);
    plast_node *var = plast_mean(t, plast_square(t, d), -1, 1);
    plast_node *y = plast_div(t, d, plast_sqrt(t, plast_add_scalar(t, var, eps)));
    if (gain) y = plast_mul(t, y, gain);
    if (bias) y = plast_add(t, y, bias);
    return y;
}

plast_node *plast_conv2d(plast_tape *t, plast_node *x, plast_node *w, int k, int pad, int stride) {
    plast_node *cols = plast_im2col(t, x, k, pad, stride);
    if (!cols || !w) return NULL;
    plast_shape cs = plast_node_shape(cols), ws = plast_node_shape(w);
    plast_node *flat = plast_reshape(t, cols, PLAST_SHAPE2(cs.d[0] * cs.d[1] * cs.d[2], cs.d[3]));
    plast_node *y = plast_matmul(t, flat, w, 0, 0);
    return plast_reshape(t, y, PLAST_SHAPE4(cs.d[0], cs.d[1], cs.d[2], ws.d[ws.ndim - 1]));
}

plast_node *plast_maxpool2(plast_tape *t, plast_node *x) { return plast_pool_gather(t, x, plast_pool_argmax(t, x)); }

plast_node *plast_batch_norm(plast_tape *t, plast_node *x, plast_node *gamma, plast_node *beta, double eps) {
    return plast_batch_norm_groups(t, x, 1, gamma, beta, eps);
}

plast_node *plast_batch_norm_groups(plast_tape *t, plast_node *x, int64_t groups, plast_node *gamma,
                                    plast_node *beta, double eps) {
    if (!x) return NULL;
    plast_shape s = plast_node_shape(x);
    const int64_t C = s.d[s.ndim - 1];
    if (groups < 1 || s.d[0] % groups != 0)
        return plast_tape_fail(t, PLAST_ERR_SHAPE, "batch_norm: %lld groups do not divide the first axis (%lld)",
                               (long long)groups, (long long)s.d[0]);
    plast_node *rows = plast_reshape(t, x, PLAST_SHAPE3(groups, plast_node_numel(x) / (C * groups), C));
    plast_node *mu = plast_mean(t, rows, 1, 1);
    plast_node *d = plast_sub(t, rows, mu);
    plast_node *var = plast_mean(t, plast_square(t, d), 1, 1);
    plast_node *y = plast_div(t, d, plast_sqrt(t, plast_add_scalar(t, var, eps)));
    if (gamma) y = plast_mul(t, y, gamma);
    if (beta) y = plast_add(t, y, beta);
    return plast_reshape(t, y, s);
}
