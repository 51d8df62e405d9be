/* src/models/family_hebbff.c: HebbFF, Tyulmankov, Yang & Abbott 2022 (docs/models/BASELINES.md),
 * the continual-familiarity-detection network:
 *   h_t = sigmoid(b1 + x_t (W1 + A_t));   A_{t+1} = lambda A_t + eta G_t (Hebbian: x_t (x) h_t);
 *   y_t = w2 h_t + b2, a logit: the task applies the sigmoid (binary cross-entropy on logits).
 * lambda is one learned scalar, projected to [0, 1] after every optimizer step ("clamp", the reference's default)
 * or sigmoid-parameterised; eta one learned scalar, free in sign, or forced anti-Hebbian (-exp) or Hebbian (+exp).
 * Init: W1, w2 ~ N(0, 1)/sqrt(fan_in), b1, b2 ~ N(0, 1), lambda = 0.99, eta = -5/I.
 */
#include <math.h>
#include <string.h>

#include "models/model_internal.h"
#include "models/plastic_layer.h"

typedef struct hebbff_priv {
    int lam_sigmoid, eta_mode; /* eta_mode: 0 free, 1 anti (-exp), 2 hebb (+exp) */
    int w1, b1, w2, b2, lam, eta;
    int A;
} hebbff_priv;
_Static_assert(sizeof(hebbff_priv) <= PLAST_MODEL_PRIV_BYTES, "hebbff_priv does not fit");

static plast_status hebbff_layout(plast_model *m, plast_err *err) {
    (void)err; /* the rule is checked by model_init; every other hebbff key is a choice */
    hebbff_priv *d = (hebbff_priv *)m->priv;
    const plast_model_cfg *c = &m->cfg;
    d->lam_sigmoid = strcmp(c->hebbff_lambda, "sigmoid") == 0;
    d->eta_mode = strcmp(c->hebbff_eta, "anti") == 0 ? 1 : strcmp(c->hebbff_eta, "hebb") == 0 ? 2 : 0;
    const int64_t H = m->H, I = m->I;
    plast_model_layout *L = &m->layout;
    d->w1 = plast_layout_param(L, PLAST_SHAPE2(I, H), "w1");
    d->b1 = plast_layout_param(L, PLAST_SHAPE1(H), "b1");
    d->w2 = plast_layout_param(L, PLAST_SHAPE2(m->O, H), "w2");
    d->b2 = plast_layout_param(L, PLAST_SHAPE1(m->O), "b2");
    d->lam = plast_layout_param(L, PLAST_SHAPE1(1), "lam");
    d->eta = plast_layout_param(L, PLAST_SHAPE1(1), "eta");
    d->A = plast_layout_state(L, "A", PLAST_SHAPE2(I, H), 1);
    return PLAST_OK;
}

static void hebbff_init(const plast_model *m, plast_params *p, plast_rng *rng) {
    const hebbff_priv *d = PLAST_PRIV(m, hebbff_priv);
    plast_init_normal(p, d->w1, rng, 0, 1 / sqrt((double)m->I));
    plast_init_normal(p, d->w2, rng, 0, 1 / sqrt((double)m->H));
    plast_init_normal(p, d->b1, rng, 0, 1);
    plast_init_normal(p, d->b2, rng, 0, 1);
    plast_init_const(p, d->lam, d->lam_sigmoid ? log(0.99 / 0.01) : 0.99);
    double eta0 = 5.0 / (double)m->I;
    plast_init_const(p, d->eta, d->eta_mode == 0 ? -eta0 : log(eta0));
}

static void hebbff_constrain(const plast_model *m, plast_params *p) {
    const hebbff_priv *d = PLAST_PRIV(m, hebbff_priv);
    if (d->lam_sigmoid) return;
    plast_real *lam = plast_params_value(p, d->lam);
    lam[0] = lam[0] < 0 ? 0 : lam[0] > 1 ? 1 : lam[0];
}

static void hebbff_step(const plast_step_ctx *c, plast_step_out *out) {
    const plast_model *m = c->m;
    const hebbff_priv *d = PLAST_PRIV(m, hebbff_priv);
    plast_tape *t = c->t;
    plast_node *A = c->state[d->A], *x = c->x;
    plast_node *a = plast_add(t, plast_add(t, plast_mm_shared(t, x, c->param[d->w1], 0), plast_mm_sample(t, x, A)),
                              c->param[d->b1]);
    plast_node *h = plast_sigmoid(t, a);
    if (c->want_energy) out->energy = plast_energy(t, x, plast_add(t, c->param[d->w1], A));
    plast_node *lam = d->lam_sigmoid ? plast_sigmoid(t, c->param[d->lam]) : c->param[d->lam];
    plast_node *eta = c->param[d->eta];
    if (d->eta_mode == 1) eta = plast_neg(t, plast_exp(t, eta));
    if (d->eta_mode == 2) eta = plast_exp(t, eta);
    plast_node *G = m->rule->weight(t, x, h, A);
    c->state_out[d->A] = plast_add(t, plast_mul(t, lam, A), plast_mul(t, eta, G));
    out->y = plast_add(t, plast_mm_shared(t, h, c->param[d->w2], 1), c->param[d->b2]);
}

/* the same step as one plastic layer, for the fused path: p = x, G = W1 + A, lambda and eta scalar maps */
static int hebbff_fused(const plast_model *m, plast_plastic_layer *L, char *why, size_t cap) {
    (void)why, (void)cap;
    const hebbff_priv *d = PLAST_PRIV(m, hebbff_priv);
    static const plast_rate_map ETA[3] = {PLAST_RATE_PARAM, PLAST_RATE_NEG_EXP, PLAST_RATE_EXP};
    *L = (plast_plastic_layer){
        .I = m->I, .H = m->H, .P = m->I, .pre = PLAST_LAYER_PRE_X, .hebb_new_h = 0, .norm = PLAST_LAYER_NORM_NONE,
        .decay_normalised = 0, .renormalise = 0, .scalar_rates = 1, .clamp = 0, .act = PLAST_ACT_SIGMOID,
        .w = d->w1, .b = d->b1, .alpha = -1,
        .lambda = {d->lam_sigmoid ? PLAST_RATE_SIGMOID : PLAST_RATE_PARAM, d->lam, 0},
        .gamma = {ETA[d->eta_mode], d->eta, 0}, .drive = PLAST_DRIVE_NONE, .drive_w = {-1, -1, 0, 0},
        .modulator = {-1, -1, 0, 0}, .mod_act = PLAST_ACT_IDENTITY, .readout_form = PLAST_READOUT_TORCH,
        .readout = {d->w2, d->b2, m->H, m->O}, .h = -1, .F = d->A};
    return 1;
}

const plast_family_def plast_family_hebbff = {
    .name = "hebbff", .rule_use = PLAST_RULE_USE_REQUIRED, .default_rule = "hebbian",
    .summary = "Tyulmankov et al. 2022: HebbFF, a feed-forward layer with a decaying Hebbian trace",
    .caps = 0, .variant = NULL, .fused = hebbff_fused, .cell = NULL,
    .layout = hebbff_layout, .init = hebbff_init, .step = hebbff_step, .constrain = hebbff_constrain, .alias = NULL};
