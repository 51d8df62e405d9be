/* src/models/model_util.c: pieces the model families share. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "models/model_internal.h"

int plast_layout_param(plast_model_layout *L, plast_shape s, const char *fmt, ...) {
    if (L->n_params >= PLAST_MODEL_MAX_PARAMS) return -1;
    int i = L->n_params++;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(L->param_names[i], sizeof L->param_names[i], fmt, ap);
    va_end(ap);
    L->params[i].name = L->param_names[i];
    L->params[i].shape = s;
    return i;
}

int plast_layout_state(plast_model_layout *L, const char *name, plast_shape s, int plastic) {
    if (L->n_state >= PLAST_MODEL_MAX_STATE) return -1;
    int k = L->n_state++;
    snprintf(L->state_names[k], sizeof L->state_names[k], "%s", name);
    L->state_shape[k] = s;
    L->state_plastic[k] = (uint8_t)(plastic != 0);
    return k;
}

plast_node *plast_act_apply(plast_tape *t, plast_act a, plast_node *x) {
    switch (a) {
    case PLAST_ACT_TANH: return plast_tanh(t, x);
    case PLAST_ACT_RELU: return plast_relu(t, x);
    case PLAST_ACT_SIGMOID: return plast_sigmoid(t, x);
    default: return x;
    }
}

plast_act plast_act_from_cfg(const plast_model_cfg *c, plast_act dflt) {
    if (strcmp(c->activation, "tanh") == 0) return PLAST_ACT_TANH;
    if (strcmp(c->activation, "relu") == 0) return PLAST_ACT_RELU;
    if (strcmp(c->activation, "sigmoid") == 0) return PLAST_ACT_SIGMOID;
    return dflt;
}

plast_node *plast_mm_shared(plast_tape *t, plast_node *x, plast_node *W, int trans_w) {
    return plast_matmul(t, x, W, 0, trans_w);
}

plast_node *plast_mm_sample(plast_tape *t, plast_node *x, plast_node *P) {
    plast_shape s = plast_node_shape(P);
    plast_node *x3 = plast_reshape(t, x, PLAST_SHAPE3(s.d[0], 1, s.d[1]));
    return plast_reshape(t, plast_matmul(t, x3, P, 0, 0), PLAST_SHAPE2(s.d[0], s.d[2]));
}

plast_node *plast_per_sample(plast_tape *t, plast_node *s, int ndim) {
    int64_t B = plast_node_shape(s).d[0];
    plast_shape sh = PLAST_SHAPE0();
    sh.ndim = ndim;
    sh.d[0] = B;
    for (int i = 1; i < ndim; i++) sh.d[i] = 1;
    return plast_reshape(t, s, sh);
}

plast_node *plast_energy(plast_tape *t, plast_node *x, plast_node *G) {
    int old = plast_tape_set_grad_enabled(t, 0);
    plast_node *x2 = plast_square(t, x);
    plast_node *col = plast_sum(t, plast_abs(t, G), -1, 0); /* sum_j |G_ij|: (in) or (B, in) */
    plast_node *e = plast_sum(t, plast_mul(t, x2, col), -1, 0);
    plast_tape_set_grad_enabled(t, old);
    return e;
}

void plast_init_uniform(plast_params *p, int i, plast_rng *rng, double lo, double hi) {
    int64_t n = plast_shape_numel(plast_params_shape(p, i));
    plast_rng_fill_uniform(rng, plast_params_value(p, i), (size_t)n, lo, hi);
}

void plast_init_normal(plast_params *p, int i, plast_rng *rng, double mean, double std) {
    int64_t n = plast_shape_numel(plast_params_shape(p, i));
    plast_rng_fill_normal(rng, plast_params_value(p, i), (size_t)n, mean, std);
}

void plast_init_const(plast_params *p, int i, double v) {
    int64_t n = plast_shape_numel(plast_params_shape(p, i));
    plast_real *x = plast_params_value(p, i);
    for (int64_t k = 0; k < n; k++) x[k] = (plast_real)v;
}

plast_status plast_model_cfg_fail(plast_err *err, const char *key, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    plast_status s = plast_err_config_key(err, "model", key, fmt, ap);
    va_end(ap);
    return s;
}

plast_linear plast_layout_linear(plast_model_layout *L, const char *name, int64_t in, int64_t out) {
    plast_linear l = {-1, -1, in, out};
    l.w = plast_layout_param(L, PLAST_SHAPE2(out, in), "%s.weight", name);
    l.b = plast_layout_param(L, PLAST_SHAPE1(out), "%s.bias", name);
    return l;
}

plast_node *plast_linear_apply(const plast_step_ctx *c, const plast_linear *l, plast_node *x) {
    return plast_add(c->t, plast_mm_shared(c->t, x, c->param[l->w], 1), c->param[l->b]);
}

void plast_linear_init(const plast_linear *l, plast_params *p, plast_rng *rng) {
    double k = 1.0 / sqrt((double)l->in);
    plast_init_uniform(p, l->w, rng, -k, k);
    plast_init_uniform(p, l->b, rng, -k, k);
}
