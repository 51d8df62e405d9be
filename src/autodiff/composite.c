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
