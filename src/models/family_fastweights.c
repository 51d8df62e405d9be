/* src/models/family_fastweights.c: the Fast Weights RNN of Ba et al. 2016, with layer normalisation, as the STPN
 * reference runs it (docs/models/BASELINES.md):
 *   A_t = lambda A_{t-1} + eta h_{t-1} (x) h_{t-1}              fast weights on hidden -> hidden only, not learned
 *   z = [x_t; h_{t-1}] W + b;   h^0 = tanh(LN(z));   h^s = tanh(LN(z + h^{s-1} A_t)), s = 1..S;   h_t = h^S
 * LN has a learned gain and bias, initialised U[-1/sqrt(H), 1/sqrt(H)] like every slow weight there (the
 * reference's quirk, kept). With fw_double_update the ART driver's extra update after the step is applied as well:
 * A <- clamp(lambda A + eta h_t (x) h_t, +-1000). Energy: sum x^2 |W| plus, per inner step, sum h^2 |A|.
 */
#include <math.h>
#include <string.h>

#include "models/fast_layer.h"
#include "models/model_internal.h"

typedef struct fw_priv {
    int w, b, ln_g, ln_b;
    plast_linear readout;
    int h, A;
} fw_priv;
_Static_assert(sizeof(fw_priv) <= PLAST_MODEL_PRIV_BYTES, "fw_priv does not fit");

static plast_status fw_layout(plast_model *m, plast_err *err) {
    (void)err; /* the rule is checked by model_init; fast weights have no other checked key */
    fw_priv *f = (fw_priv *)m->priv;
    const int64_t H = m->H;
    plast_model_layout *L = &m->layout;
    f->w = plast_layout_param(L, PLAST_SHAPE2(m->I + H, H), "fw.weight");
    f->b = plast_layout_param(L, PLAST_SHAPE1(H), "fw.bias");
    f->ln_g = plast_layout_param(L, PLAST_SHAPE1(H), "fw.ln.weight");
    f->ln_b = plast_layout_param(L, PLAST_SHAPE1(H), "fw.ln.bias");
    f->readout = plast_layout_linear(L, "readout", H, m->O);
    f->h = plast_layout_state(L, "h", PLAST_SHAPE1(H), 0);
    f->A = plast_layout_state(L, "A", PLAST_SHAPE2(H, H), 1);
    return PLAST_OK;
}

static void fw_init(const plast_model *m, plast_params *p, plast_rng *rng) {
    const fw_priv *f = PLAST_PRIV(m, fw_priv);
    double k = 1.0 / sqrt((double)m->H);
    int slow[4] = {f->w, f->b, f->ln_g, f->ln_b};
    for (int i = 0; i < 4; i++) plast_init_uniform(p, slow[i], rng, -k, k);
    plast_linear_init(&f->readout, p, rng);
}

static void fw_step(const plast_step_ctx *c, plast_step_out *out) {
    const plast_model *m = c->m;
    const fw_priv *f = PLAST_PRIV(m, fw_priv);
    plast_tape *t = c->t;
    const double lam = m->cfg.fw_decay, eta = m->cfg.fw_lr;
    plast_node *h_old = c->state[f->h];
    plast_node *A = plast_add(t, plast_scale(t, c->state[f->A], lam), plast_scale(t, plast_outer(t, h_old, h_old), eta));
    plast_node *parts[2] = {c->x, h_old};
    plast_node *pre = plast_concat(t, 2, parts, 1);
    plast_node *z = plast_add(t, plast_mm_shared(t, pre, c->param[f->w], 0), c->param[f->b]);
    plast_node *g = c->param[f->ln_g], *bb = c->param[f->ln_b];
    plast_node *h = plast_tanh(t, plast_layer_norm(t, z, g, bb, 1e-5));
    plast_node *energy = c->want_energy ? plast_energy(t, pre, c->param[f->w]) : NULL;
    for (int64_t s = 0; s < m->cfg.fw_steps; s++) {
        if (energy) energy = plast_add(t, energy, plast_energy(t, h, A));
        h = plast_tanh(t, plast_layer_norm(t, plast_add(t, z, plast_mm_sample(t, h, A)), g, bb, 1e-5));
    }
    if (m->cfg.fw_double_update)
        A = plast_clamp(t, plast_add(t, plast_scale(t, A, lam), plast_scale(t, plast_outer(t, h, h), eta)), -1000, 1000);
    c->state_out[f->A] = A;
    c->state_out[f->h] = h;
    out->energy = energy;
    out->y = plast_linear_apply(c, &f->readout, h);
}

/* the model as one fast-weight layer, for the fast-weight path (the equations above are fast_layer.h's) */
static int fw_fast(const plast_model *m, plast_fast_layer *L) {
    const fw_priv *f = PLAST_PRIV(m, fw_priv);
    *L = (plast_fast_layer){.I = m->I, .H = m->H, .S = m->cfg.fw_steps, .lambda = m->cfg.fw_decay,
                            .eta = m->cfg.fw_lr, .ln_eps = 1e-5, .double_update = m->cfg.fw_double_update,
                            .w = f->w, .b = f->b, .ln_g = f->ln_g, .ln_b = f->ln_b, .readout = f->readout,
                            .h = f->h, .A = f->A};
    return 1;
}

const plast_family_def plast_family_fastweights = {
    .name = "fastweights", .rule_use = PLAST_RULE_USE_FIXED, .default_rule = "hebbian",
    .summary = "Ba et al. 2016: fast weights with layer normalisation",
    .caps = 0, .variant = NULL, .fused = NULL, .cell = NULL, .fast = fw_fast,
    .layout = fw_layout, .init = fw_init, .step = fw_step, .constrain = NULL, .alias = NULL};
