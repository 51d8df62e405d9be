/* src/models/family_modplast.c: Backpropamine, Miconi et al. 2019: neuromodulated plasticity, the "modulated
 * plasticity" baseline of Rodriguez et al. 2022 (docs/models/MICONI.md).
 *   h_t = tanh(x_t W_in^T + b_in + h_{t-1} (w + alpha * Hebb_t))        w, alpha, Hebb: (H pre, H post)
 *   M_t = f(h_t w_M^T + b_M)                                            one modulator per sample, f = tanh
 *   simple:      Hebb_{t+1} = clamp(Hebb_t + M_t G_t, -c, c)
 *   retroactive: PW_{t+1} = clamp(PW_t + M_t E_t, -c, c) (the forward uses PW, the *old* trace E_t);
 *                E_{t+1} = (1 - eta_E) E_t + eta_E G_t, eta_E learned (init 0.01)
 * with G_t the rule's update from pre h_{t-1} and post h_t (Hebbian: h_{t-1} (x) h_t) and c = 1 by default.
 * Init: w, alpha ~ 0.01 U[0, 1]; W_in, the modulator and the readout torch's Linear default.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "models/model_internal.h"
#include "models/plastic_layer.h"

typedef struct modplast_priv {
    int retro;
    int modulator; /* 0 tanh, 1 sigmoid, 2 linear */
    double clamp;
    plast_linear i2h, h2mod, readout;
    int w, alpha, eta_e;
    int h, hebb, trace;
} modplast_priv;
_Static_assert(sizeof(modplast_priv) <= PLAST_MODEL_PRIV_BYTES, "modplast_priv does not fit");

static plast_status modplast_layout(plast_model *m, plast_err *err) {
    (void)err; /* the rule is checked by model_init; every other modplast key is a choice */
    modplast_priv *d = (modplast_priv *)m->priv;
    const plast_model_cfg *c = &m->cfg;
    d->retro = strcmp(c->neuromod, "retroactive") == 0;
    d->modulator = strcmp(c->modulator, "tanh") == 0 ? 0 : strcmp(c->modulator, "sigmoid") == 0 ? 1 : 2;
    d->clamp = c->clamp > 0 ? c->clamp : 1.0;
    m->modulated = 1;
    const int64_t H = m->H;
    plast_model_layout *L = &m->layout;
    d->i2h = plast_layout_linear(L, "i2h", m->I, H);
    d->w = plast_layout_param(L, PLAST_SHAPE2(H, H), "w");
    d->alpha = plast_layout_param(L, PLAST_SHAPE2(H, H), "alpha");
    d->h2mod = plast_layout_linear(L, "h2mod", H, 1);
    d->eta_e = d->retro ? plast_layout_param(L, PLAST_SHAPE1(1), "eta_e") : -1;
    d->readout = plast_layout_linear(L, "readout", H, m->O);
    d->h = plast_layout_state(L, "h", PLAST_SHAPE1(H), 0);
    d->hebb = plast_layout_state(L, d->retro ? "PW" : "Hebb", PLAST_SHAPE2(H, H), 1);
    d->trace = d->retro ? plast_layout_state(L, "E", PLAST_SHAPE2(H, H), 1) : -1;
    return PLAST_OK;
}

static void modplast_init(const plast_model *m, plast_params *p, plast_rng *rng) {
    const modplast_priv *d = PLAST_PRIV(m, modplast_priv);
    plast_linear_init(&d->i2h, p, rng);
    plast_init_uniform(p, d->w, rng, 0, 0.01);
    plast_init_uniform(p, d->alpha, rng, 0, 0.01);
    plast_linear_init(&d->h2mod, p, rng);
    if (d->eta_e >= 0) plast_init_const(p, d->eta_e, m->cfg.eta_init);
    plast_linear_init(&d->readout, p, rng);
}

static void modplast_step(const plast_step_ctx *c, plast_step_out *out) {
    const plast_model *m = c->m;
    const modplast_priv *d = PLAST_PRIV(m, modplast_priv);
    plast_tape *t = c->t;
    const int64_t B = c->batch;
    plast_node *h_old = c->state[d->h], *hebb = c->state[d->hebb];
    plast_node *Weff = plast_add(t, c->param[d->w], plast_mul(t, c->param[d->alpha], hebb)); /* (B, H, H) */
    plast_node *z = plast_add(t, plast_linear_apply(c, &d->i2h, c->x), plast_mm_sample(t, h_old, Weff));
    plast_node *h = plast_tanh(t, z);
    if (c->want_energy) {
        plast_node *Win = plast_transpose(t, c->param[d->i2h.w]);
        out->energy = plast_add(t, plast_energy(t, c->x, Win), plast_energy(t, h_old, Weff));
    }
    plast_node *M = plast_reshape(t, plast_linear_apply(c, &d->h2mod, h), PLAST_SHAPE1(B));
    M = d->modulator == 0 ? plast_tanh(t, M) : d->modulator == 1 ? plast_sigmoid(t, M) : M;
    plast_node *Mb = plast_per_sample(t, M, 3);
    plast_node *G = m->rule->weight(t, h_old, h, hebb);
    if (d->retro) {
        plast_node *E = c->state[d->trace], *eta = c->param[d->eta_e];
        c->state_out[d->hebb] = plast_clamp(t, plast_add(t, hebb, plast_mul(t, Mb, E)), -d->clamp, d->clamp);
        c->state_out[d->trace] =
            plast_add(t, plast_mul(t, plast_add_scalar(t, plast_neg(t, eta), 1.0), E), plast_mul(t, eta, G));
    } else {
        c->state_out[d->hebb] = plast_clamp(t, plast_add(t, hebb, plast_mul(t, Mb, G)), -d->clamp, d->clamp);
    }
    c->state_out[d->h] = h;
    out->modulation = M;
    out->y = plast_linear_apply(c, &d->readout, h);
}

/* neuromodulated plasticity as one plastic layer, for the fused path: p = h_{t-1}, u = i2h(x), G = w + alpha Hebb,
 * lambda = gamma = 1 with the modulator; retroactive: the eligibility trace E with rate eta_E between the rule and
 * the plastic weights PW */
static int modplast_fused(const plast_model *m, plast_plastic_layer *L, char *why, size_t cap) {
    (void)why, (void)cap;
    const modplast_priv *d = PLAST_PRIV(m, modplast_priv);
    static const plast_act MOD[3] = {PLAST_ACT_TANH, PLAST_ACT_SIGMOID, PLAST_ACT_IDENTITY};
    *L = (plast_plastic_layer){
        .I = m->I, .H = m->H, .P = m->H, .pre = PLAST_LAYER_PRE_H, .hebb_new_h = 0, .norm = PLAST_LAYER_NORM_NONE,
        .decay_normalised = 0, .renormalise = 0, .scalar_rates = 1, .clamp = d->clamp, .act = PLAST_ACT_TANH,
        .w = d->w, .b = -1, .alpha = d->alpha, .lambda = {PLAST_RATE_CONST, -1, 1.0},
        .gamma = {PLAST_RATE_CONST, -1, 1.0}, .drive = PLAST_DRIVE_LINEAR, .drive_w = d->i2h,
        .modulator = d->h2mod, .mod_act = MOD[d->modulator], .readout_form = PLAST_READOUT_TORCH,
        .readout = d->readout, .eligibility = d->retro, .trace_rate = {PLAST_RATE_PARAM, d->eta_e, 0},
        .h = d->h, .F = d->hebb, .E = d->trace};
    return 1;
}

const plast_family_def plast_family_modplast = {
    .name = "modplast", .rule_use = PLAST_RULE_USE_REQUIRED, .default_rule = "hebbian",
    .summary = "Miconi et al. 2019 (Backpropamine): simple or retroactive neuromodulated plasticity",
    .caps = 0, .variant = NULL, .fused = modplast_fused, .cell = NULL,
    .layout = modplast_layout, .init = modplast_init, .step = modplast_step, .constrain = NULL, .alias = NULL};
