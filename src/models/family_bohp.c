/* src/models/family_bohp.c: backpropagation of Hebbian plasticity, Miconi 2016 (paper 002; docs/models/MICONI.md): layers x -> y -> z, only x -> y plastic.
 *   y_t = tanh(x_t (W + alpha * Hebb_t) + b_y);   z_t = y_t W_yz + b_z (or z_t = y_t without a readout)
 *   Hebb_{t+1} = gamma Hebb_t + (1 - gamma) G_t,  G_t = x_t (x) y_t (the rule's update), gamma = trace_decay
 * The reference computes gradients forward in time (RTRL-style recursions); plast differentiates the same
 * function by BPTT, which gives the same gradient. Init: W, alpha, b_y, b_z ~ 0.1 N(0, 1); W_yz = |0.1 N(0, 1)|.
 * model.rule = none is the same network without alpha and Hebb: the non-plastic control.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "models/model_internal.h"
#include "models/plastic_layer.h"

typedef struct bohp_priv {
    int has_readout;
    int w, alpha, by, wyz, bz;
    int hebb;
} bohp_priv;
_Static_assert(sizeof(bohp_priv) <= PLAST_MODEL_PRIV_BYTES, "bohp_priv does not fit");

static plast_status bohp_layout(plast_model *m, plast_err *err) {
    bohp_priv *d = (bohp_priv *)m->priv;
    const plast_model_cfg *c = &m->cfg;
    d->has_readout = strcmp(c->readout, "linear") == 0;
    if (!d->has_readout && m->O != m->H)
        return plast_model_cfg_fail(err, "readout", "none needs model.output (%lld) = model.hidden (%lld)",
                                    (long long)m->O, (long long)m->H);
    const int64_t H = m->H, I = m->I;
    plast_model_layout *L = &m->layout;
    d->w = plast_layout_param(L, PLAST_SHAPE2(I, H), "w_xy");
    d->alpha = m->rule ? plast_layout_param(L, PLAST_SHAPE2(I, H), "alpha") : -1;
    d->by = plast_layout_param(L, PLAST_SHAPE1(H), "b_y");
    d->wyz = d->has_readout ? plast_layout_param(L, PLAST_SHAPE2(H, m->O), "w_yz") : -1;
    d->bz = d->has_readout ? plast_layout_param(L, PLAST_SHAPE1(m->O), "b_z") : -1;
    d->hebb = m->rule ? plast_layout_state(L, "Hebb", PLAST_SHAPE2(I, H), 1) : -1;
    return PLAST_OK;
}

static void bohp_init(const plast_model *m, plast_params *p, plast_rng *rng) {
    const bohp_priv *d = PLAST_PRIV(m, bohp_priv);
    plast_init_normal(p, d->w, rng, 0, 0.1);
    if (d->alpha >= 0) plast_init_normal(p, d->alpha, rng, 0, 0.1);
    plast_init_normal(p, d->by, rng, 0, 0.1);
    if (!d->has_readout) return;
    plast_init_normal(p, d->wyz, rng, 0, 0.1);
    plast_real *w = plast_params_value(p, d->wyz);
    for (int64_t i = 0; i < m->H * m->O; i++) w[i] = (plast_real)fabs((double)w[i]);
    plast_init_normal(p, d->bz, rng, 0, 0.1);
}

static void bohp_step(const plast_step_ctx *c, plast_step_out *out) {
    const plast_model *m = c->m;
    const bohp_priv *d = PLAST_PRIV(m, bohp_priv);
    plast_tape *t = c->t;
    const double gamma = m->cfg.trace_decay;
    plast_node *x = c->x, *y;
    if (!m->rule) { /* the non-plastic control */
        y = plast_tanh(t, plast_add(t, plast_mm_shared(t, x, c->param[d->w], 0), c->param[d->by]));
        if (c->want_energy) out->energy = plast_energy(t, x, c->param[d->w]);
    } else {
        plast_node *hebb = c->state[d->hebb];
        plast_node *Weff = plast_add(t, c->param[d->w], plast_mul(t, c->param[d->alpha], hebb));
        y = plast_tanh(t, plast_add(t, plast_mm_sample(t, x, Weff), c->param[d->by]));
        if (c->want_energy) out->energy = plast_energy(t, x, Weff);
        plast_node *G = m->rule->weight(t, x, y, hebb);
        c->state_out[d->hebb] = plast_add(t, plast_scale(t, hebb, gamma), plast_scale(t, G, 1 - gamma));
    }
    out->y = d->has_readout ? plast_add(t, plast_mm_shared(t, y, c->param[d->wyz], 0), c->param[d->bz]) : y;
}

/* the same step as one plastic layer, for the fused path: p = x, G = W + alpha Hebb, lambda = gamma_trace and
 * gamma = 1 - gamma_trace constants, the readout y W_yz + b_z or none */
static int bohp_fused(const plast_model *m, plast_plastic_layer *L, char *why, size_t cap) {
    const bohp_priv *d = PLAST_PRIV(m, bohp_priv);
    if (!m->rule) {
        snprintf(why, cap, "without a rule there is no plastic state");
        return 0;
    }
    const double g = m->cfg.trace_decay;
    *L = (plast_plastic_layer){
        .I = m->I, .H = m->H, .P = m->I, .pre = PLAST_LAYER_PRE_X, .hebb_new_h = 0, .norm = PLAST_LAYER_NORM_NONE,
        .decay_normalised = 0, .renormalise = 0, .scalar_rates = 1, .clamp = 0, .act = PLAST_ACT_TANH, .w = d->w,
        .b = d->by, .alpha = d->alpha, .lambda = {PLAST_RATE_CONST, -1, g}, .gamma = {PLAST_RATE_CONST, -1, 1 - g},
        .drive = PLAST_DRIVE_NONE, .drive_w = {-1, -1, 0, 0}, .modulator = {-1, -1, 0, 0},
        .mod_act = PLAST_ACT_IDENTITY, .readout_form = d->has_readout ? PLAST_READOUT_PLAIN : PLAST_READOUT_FIRST,
        .readout = {d->wyz, d->bz, m->H, m->O}, .h = -1, .F = d->hebb};
    return 1;
}

const plast_family_def plast_family_bohp = {
    .name = "bohp", .rule_use = PLAST_RULE_USE_OPTIONAL, .default_rule = "hebbian",
    .summary = "Miconi 2016: backpropagation of Hebbian plasticity (x -> y plastic, y -> z readout)",
    .caps = 0, .variant = NULL, .fused = bohp_fused, .cell = NULL,
    .layout = bohp_layout, .init = bohp_init, .step = bohp_step, .constrain = NULL, .alias = NULL};
