/* src/models/family_stpn.c: Short-Term Plasticity Neurons, Rodriguez, Guo & Moraitis 2022 (paper 001), as the
 * reference code computes them (docs/models/STPN.md).
 *
 * With presynaptic vector p_t = [x_t; h_{t-1}] (STPNr) or x_t (STPNf), efficacies G = W + F (in x out here: the
 * transpose of the reference's out x in) and n_j = |G_{:,j}| + 1e-16, the norm over each postsynaptic neuron's
 * inputs:
 *   norm "pre":  h_t = act(p_t G/n + b);   F <- lambda * F/n + gamma * (p (x) h_t)
 *   norm "post": h_t = act(p_t G/n + b);   F' = clamp(lambda * F + gamma * (p (x) h_t)),  F <- F' / |W + F'|
 *   norm "none": h_t = act(p_t G + b);     F <- clamp(lambda * F + gamma * (p (x) h_t))
 * lambda and gamma are learned and unconstrained, per synapse or one scalar each. STPNf adds no bias and never
 * rescales F when it normalises (the reference's STPNF). The Hebbian term p (x) h can be any local rule.
 * model.stpn_form = hebbff gives the nets of the paper's familiarity-detection runs (the reference's HebbFF folder,
 * networks.py STPNfNet/uSTPNfNet/STPNrNet/uSTPNrNet): STPNf then has the bias and the F/n decay of STPNr, and the
 * initialisation is Gaussian (stpn_init). Their norm has no epsilon; plast keeps its 1e-16 (docs/DEVIATIONS.md).
 * A linear readout (torch layout) gives the output; energy is sum x^2 |G/n| over the normalised efficacies.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "models/model_internal.h"
#include "models/plastic_layer.h"

typedef struct stpn_priv {
    int recurrent, scalar, norm; /* norm: 0 none, 1 pre, 2 post */
    int like_r;                  /* bias and F rescaling as STPNr: STPNr, or STPNf in the hebbff form */
    int hebbff;                  /* model.stpn_form = hebbff */
    int64_t P;                   /* presynaptic size: I + H or I */
    double clamp;                /* 0: none */
    int w, b, lambda, gamma;
    plast_linear readout;
    int h, F;
    plast_act act;
} stpn_priv;
_Static_assert(sizeof(stpn_priv) <= PLAST_MODEL_PRIV_BYTES, "stpn_priv does not fit");

static plast_status stpn_layout(plast_model *m, plast_err *err) {
    (void)err; /* the rule is checked by model_init; every other stpn key is a choice */
    stpn_priv *s = (stpn_priv *)m->priv;
    const plast_model_cfg *c = &m->cfg;
    s->recurrent = strcmp(c->variant, "r") == 0;
    s->scalar = strcmp(c->stp_params, "scalar") == 0;
    s->norm = strcmp(c->norm, "pre") == 0 ? 1 : strcmp(c->norm, "post") == 0 ? 2 : 0;
    s->hebbff = strcmp(c->stpn_form, "hebbff") == 0;
    s->like_r = s->recurrent || s->hebbff;
    s->clamp = c->clamp;
    s->act = plast_act_from_cfg(c, PLAST_ACT_TANH);
    const int64_t H = m->H;
    s->P = m->I + (s->recurrent ? H : 0);
    plast_model_layout *L = &m->layout;
    plast_shape ws = PLAST_SHAPE2(s->P, H), ps = s->scalar ? PLAST_SHAPE1(1) : ws;
    s->w = plast_layout_param(L, ws, "stpn.weight");
    s->b = plast_layout_param(L, PLAST_SHAPE1(H), "stpn.bias");
    s->lambda = plast_layout_param(L, ps, "stpn.lambda");
    s->gamma = plast_layout_param(L, ps, "stpn.gamma");
    s->readout = plast_layout_linear(L, "readout", H, m->O);
    s->h = plast_layout_state(L, "h", PLAST_SHAPE1(H), 0);
    s->F = plast_layout_state(L, "F", ws, 1);
    return PLAST_OK;
}

/* the paper's initialisation (Appendix A.4): k = 1/H (STPNr) or 1/I (STPNf), s = sqrt(k). The hebbff form as the
 * HebbFF folder's random_weight_init: weights N(0, 1) / sqrt(fan_in), biases N(0, 1), lambda U(0, 1), gamma
 * U(-0.001, 0.001) / sqrt(H), or / H for the scalar STPNr (uSTPNrNet) */
static void stpn_init(const plast_model *m, plast_params *p, plast_rng *rng) {
    const stpn_priv *s = PLAST_PRIV(m, stpn_priv);
    if (s->hebbff) {
        const double g = 0.001 / (s->recurrent && s->scalar ? (double)m->H : sqrt((double)m->H));
        plast_init_normal(p, s->w, rng, 0, 1 / sqrt((double)s->P));
        plast_init_normal(p, s->b, rng, 0, 1);
        plast_init_uniform(p, s->lambda, rng, 0, 1);
        plast_init_uniform(p, s->gamma, rng, -g, g);
        plast_init_normal(p, s->readout.w, rng, 0, 1 / sqrt((double)m->H));
        plast_init_normal(p, s->readout.b, rng, 0, 1);
        return;
    }
    double sk = sqrt(1.0 / (double)(s->recurrent ? m->H : m->I));
    plast_init_uniform(p, s->w, rng, -sk, sk);
    plast_init_uniform(p, s->b, rng, -sk, sk);
    plast_init_uniform(p, s->lambda, rng, 0, 1);
    plast_init_uniform(p, s->gamma, rng, -0.001 * sk, 0.001 * sk);
    plast_linear_init(&s->readout, p, rng);
}

/* |G_{:,j}| + 1e-16 per sample and postsynaptic neuron: (B, 1, H) */
static plast_node *col_norm(plast_tape *t, plast_node *G) {
    return plast_add_scalar(t, plast_norm2(t, G, 1, 1), 1e-16);
}

static plast_node *bound(plast_tape *t, plast_node *F, double c) { return c > 0 ? plast_clamp(t, F, -c, c) : F; }

static void stpn_step(const plast_step_ctx *c, plast_step_out *out) {
    const plast_model *m = c->m;
    const stpn_priv *s = PLAST_PRIV(m, stpn_priv);
    plast_tape *t = c->t;
    plast_node *h_old = s->recurrent ? c->state[s->h] : NULL;
    plast_node *pre = c->x;
    if (s->recurrent) {
        plast_node *parts[2] = {c->x, h_old};
        pre = plast_concat(t, 2, parts, 1);
    }
    plast_node *W = c->param[s->w], *F = c->state[s->F];
    plast_node *G = plast_add(t, W, F), *n = NULL, *Gn = G;
    if (s->norm) {
        n = col_norm(t, G);
        Gn = plast_div(t, G, n);
    }
    plast_node *a = plast_mm_sample(t, pre, Gn);
    if (s->like_r || !s->norm) a = plast_add(t, a, c->param[s->b]); /* STPNf normalised: no bias */
    plast_node *h = plast_act_apply(t, s->act, a);
    if (c->want_energy) out->energy = plast_energy(t, pre, Gn);

    plast_node *hebb_pre = pre;
    if (s->recurrent && m->cfg.pre_new_h) {
        plast_node *parts[2] = {c->x, h};
        hebb_pre = plast_concat(t, 2, parts, 1);
    }
    plast_node *Fk = (s->norm == 1 && s->like_r) ? plast_div(t, F, n) : F; /* "pre": F/n decays */
    plast_node *dF = m->rule->weight(t, hebb_pre, h, Fk);
    plast_node *Fn = plast_add(t, plast_mul(t, c->param[s->lambda], Fk), plast_mul(t, c->param[s->gamma], dF));
    Fn = bound(t, Fn, s->clamp);
    if (s->norm == 2 && s->like_r) Fn = plast_div(t, Fn, col_norm(t, plast_add(t, W, Fn)));
    c->state_out[s->F] = Fn;
    c->state_out[s->h] = h;
    out->y = plast_linear_apply(c, &s->readout, h);
}

/* the same step as one plastic layer, for the fused path */
static int stpn_fused(const plast_model *m, plast_plastic_layer *L, char *why, size_t cap) {
    (void)why, (void)cap;
    const stpn_priv *s = PLAST_PRIV(m, stpn_priv);
    *L = (plast_plastic_layer){
        .I = m->I, .H = m->H, .P = s->P, .pre = s->recurrent ? PLAST_LAYER_PRE_XH : PLAST_LAYER_PRE_X,
        .hebb_new_h = s->recurrent && m->cfg.pre_new_h,
        .norm = s->norm ? PLAST_LAYER_NORM_COLUMNS : PLAST_LAYER_NORM_NONE,
        .decay_normalised = s->norm == 1 && s->like_r, .renormalise = s->norm == 2 && s->like_r,
        .scalar_rates = s->scalar, .clamp = s->clamp, .act = s->act, .w = s->w,
        .b = (s->like_r || !s->norm) ? s->b : -1, .alpha = -1,
        .lambda = {PLAST_RATE_PARAM, s->lambda, 0}, .gamma = {PLAST_RATE_PARAM, s->gamma, 0},
        .drive = PLAST_DRIVE_NONE, .drive_w = {-1, -1, 0, 0}, .modulator = {-1, -1, 0, 0}, .mod_act = PLAST_ACT_IDENTITY,
        .readout_form = PLAST_READOUT_TORCH, .readout = s->readout, .h = s->h, .F = s->F};
    return 1;
}

const plast_family_def plast_family_stpn = {
    .name = "stpn", .rule_use = PLAST_RULE_USE_REQUIRED, .default_rule = "hebbian",
    .summary = "Rodriguez et al. 2022: short-term plasticity neurons, recurrent (r) or feed-forward (f)",
    .caps = 0, .variant = NULL, .fused = stpn_fused, .cell = NULL,
    .layout = stpn_layout, .init = stpn_init, .step = stpn_step, .constrain = NULL, .alias = NULL};
