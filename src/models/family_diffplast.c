/* src/models/family_diffplast.c: differentiable plasticity, Miconi et al. 2018 (docs/models/MICONI.md): a recurrent layer whose weights are w + alpha * Hebb, Hebb a trace driven by a
 * plasticity rule at a learned rate eta (one scalar):
 *   h_t = tanh(u_t + h_{t-1} (w + alpha * Hebb_t)),   u_t = x_t W_in^T + b_in, or x_t itself (direct_input)
 *   trace "decay": Hebb_{t+1} = (1 - eta) Hebb_t + eta G_t          (the decaying average of the 2018 paper)
 *   trace "clip":  Hebb_{t+1} = clamp(Hebb_t + eta G_t, -c, c)       (the maze code's "plastic" type)
 * G_t from the rule with pre h_{t-1} and post h_t (Hebbian h_{t-1} (x) h_t, or Oja's rule). Init: w, alpha ~
 * 0.01 N(0, 1), eta = eta_init (0.01); torch's Linear default for W_in and the readout.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "models/model_internal.h"
#include "models/plastic_layer.h"

typedef struct diffplast_priv {
    int clip, direct, has_readout;
    double clamp;
    plast_linear i2h, readout;
    int w, alpha, eta;
    int h, hebb;
} diffplast_priv;
_Static_assert(sizeof(diffplast_priv) <= PLAST_MODEL_PRIV_BYTES, "diffplast_priv does not fit");

static plast_status diffplast_layout(plast_model *m, plast_err *err) {
    diffplast_priv *d = (diffplast_priv *)m->priv;
    const plast_model_cfg *c = &m->cfg;
    d->clip = strcmp(c->trace, "clip") == 0;
    d->clamp = c->clamp > 0 ? c->clamp : 1.0;
    d->direct = c->direct_input;
    d->has_readout = strcmp(c->readout, "linear") == 0;
    const int64_t H = m->H;
    if (d->direct && m->I != H)
        return plast_model_cfg_fail(err, "direct_input", "needs model.input (%lld) = model.hidden (%lld)",
                                    (long long)m->I, (long long)H);
    if (!d->has_readout && m->O > H)
        return plast_model_cfg_fail(err, "readout", "none needs model.output (%lld) <= model.hidden (%lld)",
                                    (long long)m->O, (long long)H);
    plast_model_layout *L = &m->layout;
    if (!d->direct) d->i2h = plast_layout_linear(L, "i2h", m->I, H);
    d->w = plast_layout_param(L, PLAST_SHAPE2(H, H), "w");
    d->alpha = m->rule ? plast_layout_param(L, PLAST_SHAPE2(H, H), "alpha") : -1; /* rule none: the control */
    d->eta = m->rule ? plast_layout_param(L, PLAST_SHAPE1(1), "eta") : -1;
    if (d->has_readout) d->readout = plast_layout_linear(L, "readout", H, m->O);
    d->h = plast_layout_state(L, "h", PLAST_SHAPE1(H), 0);
    d->hebb = m->rule ? plast_layout_state(L, "Hebb", PLAST_SHAPE2(H, H), 1) : -1;
    return PLAST_OK;
}

static void diffplast_init(const plast_model *m, plast_params *p, plast_rng *rng) {
    const diffplast_priv *d = PLAST_PRIV(m, diffplast_priv);
    if (!d->direct) plast_linear_init(&d->i2h, p, rng);
    plast_init_normal(p, d->w, rng, 0, 0.01);
    if (d->alpha >= 0) plast_init_normal(p, d->alpha, rng, 0, 0.01);
    if (d->eta >= 0) plast_init_const(p, d->eta, m->cfg.eta_init);
    if (d->has_readout) plast_linear_init(&d->readout, p, rng);
}

static void diffplast_step(const plast_step_ctx *c, plast_step_out *out) {
    const plast_model *m = c->m;
    const diffplast_priv *d = PLAST_PRIV(m, diffplast_priv);
    plast_tape *t = c->t;
    plast_node *h_old = c->state[d->h];
    plast_node *hebb = m->rule ? c->state[d->hebb] : NULL;
    plast_node *Weff = m->rule ? plast_add(t, c->param[d->w], plast_mul(t, c->param[d->alpha], hebb)) : c->param[d->w];
    plast_node *u = d->direct ? c->x : plast_linear_apply(c, &d->i2h, c->x);
    plast_node *rec = m->rule ? plast_mm_sample(t, h_old, Weff) : plast_mm_shared(t, h_old, Weff, 0);
    plast_node *h = plast_tanh(t, plast_add(t, u, rec));
    if (c->want_energy) {
        out->energy = plast_energy(t, h_old, Weff);
        if (!d->direct) out->energy = plast_add(t, out->energy, plast_energy(t, c->x, plast_transpose(t, c->param[d->i2h.w])));
    }
    c->state_out[d->h] = h;
    if (m->rule) {
        plast_node *eta = c->param[d->eta], *G = m->rule->weight(t, h_old, h, hebb), *next;
        if (d->clip)
            next = plast_clamp(t, plast_add(t, hebb, plast_mul(t, eta, G)), -d->clamp, d->clamp);
        else
            next = plast_add(t, plast_mul(t, plast_add_scalar(t, plast_neg(t, eta), 1.0), hebb), plast_mul(t, eta, G));
        c->state_out[d->hebb] = next;
    }
    /* without a readout the outputs are the first O neurons (the pattern task reads all but the bias neuron) */
    out->y = d->has_readout ? plast_linear_apply(c, &d->readout, h) : m->O == m->H ? h : plast_slice(t, h, 1, 0, m->O);
}

/* the same step as one plastic layer, for the fused path: p = h_{t-1}, u = i2h(x) or x, G = w + alpha Hebb;
 * decay: lambda = 1 - eta, gamma = eta; clip: lambda = 1, gamma = eta, the clamp */
static int diffplast_fused(const plast_model *m, plast_plastic_layer *L, char *why, size_t cap) {
    const diffplast_priv *d = PLAST_PRIV(m, diffplast_priv);
    if (!m->rule) {
        snprintf(why, cap, "without a rule there is no plastic state");
        return 0;
    }
    *L = (plast_plastic_layer){
        .I = m->I, .H = m->H, .P = m->H, .pre = PLAST_LAYER_PRE_H, .hebb_new_h = 0, .norm = PLAST_LAYER_NORM_NONE,
        .decay_normalised = 0, .renormalise = 0, .scalar_rates = 1, .clamp = d->clip ? d->clamp : 0,
        .act = PLAST_ACT_TANH, .w = d->w, .b = -1, .alpha = d->alpha,
        .lambda = d->clip ? (plast_layer_rate){PLAST_RATE_CONST, -1, 1.0} : (plast_layer_rate){PLAST_RATE_ONE_MINUS, d->eta, 0},
        .gamma = {PLAST_RATE_PARAM, d->eta, 0}, .drive = d->direct ? PLAST_DRIVE_DIRECT : PLAST_DRIVE_LINEAR,
        .drive_w = d->i2h, .modulator = {-1, -1, 0, 0}, .mod_act = PLAST_ACT_IDENTITY,
        .readout_form = d->has_readout ? PLAST_READOUT_TORCH : PLAST_READOUT_FIRST, .readout = d->readout,
        .h = d->h, .F = d->hebb};
    return 1;
}

const plast_family_def plast_family_diffplast = {
    .name = "diffplast", .rule_use = PLAST_RULE_USE_OPTIONAL, .default_rule = "hebbian",
    .summary = "Miconi et al. 2018: differentiable plasticity, w + alpha * Hebb with a learned rate",
    .caps = 0, .variant = NULL, .fused = diffplast_fused, .cell = NULL,
    .layout = diffplast_layout, .init = diffplast_init, .step = diffplast_step, .constrain = NULL, .alias = NULL};
