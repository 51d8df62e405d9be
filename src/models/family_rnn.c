/* src/models/family_rnn.c: the non-plastic baselines of Rodriguez et al. 2022 (docs/models/BASELINES.md), each followed by a linear readout (torch layout):
 *   rnn:  h_t = act([x_t; h_{t-1}] W + b)                     W (I+H, H), one bias; act tanh by default
 *   lstm: [i f g o] = [x_t; h_{t-1}] W + b, gates as torch's LSTMCell (i, f, g, o), W (I+H, 4H), one bias
 *   mlp:  h_t = act(x_t W + b)                                no memory; the inverted-pendulum baseline
 * All weights ~ U[-1/sqrt(H), 1/sqrt(H)] (the reference's CustomRNNCell / CustomLSTMCell), readouts torch's default.
 * Energy: sum x^2 |W| over the input (and recurrent) synapses.
 */
#include <math.h>
#include <string.h>

#include "models/cell_layer.h"
#include "models/model_internal.h"

typedef struct rnn_priv {
    int kind; /* 0 rnn, 1 lstm, 2 mlp */
    int w, b;
    plast_linear readout;
    int h, c;
    plast_act act;
} rnn_priv;
_Static_assert(sizeof(rnn_priv) <= PLAST_MODEL_PRIV_BYTES, "rnn_priv does not fit");

static plast_status layout_kind(plast_model *m, plast_err *err, int kind, const char *prefix) {
    rnn_priv *r = (rnn_priv *)m->priv;
    if (kind == 1 && strcmp(m->cfg.activation, "default") != 0)
        return plast_model_cfg_fail(err, "activation", "the LSTM uses its own gate nonlinearities");
    r->kind = kind;
    r->act = plast_act_from_cfg(&m->cfg, PLAST_ACT_TANH);
    const int64_t H = m->H, in = m->I + (kind == 2 ? 0 : H), out = kind == 1 ? 4 * H : H;
    plast_model_layout *L = &m->layout;
    r->w = plast_layout_param(L, PLAST_SHAPE2(in, out), "%s.weight", prefix);
    r->b = plast_layout_param(L, PLAST_SHAPE1(out), "%s.bias", prefix);
    r->readout = plast_layout_linear(L, "readout", H, m->O);
    r->h = kind == 2 ? -1 : plast_layout_state(L, "h", PLAST_SHAPE1(H), 0);
    r->c = kind == 1 ? plast_layout_state(L, "c", PLAST_SHAPE1(H), 0) : -1;
    return PLAST_OK;
}

static plast_status rnn_layout(plast_model *m, plast_err *err) { return layout_kind(m, err, 0, "rnn"); }
static plast_status lstm_layout(plast_model *m, plast_err *err) { return layout_kind(m, err, 1, "lstm"); }
static plast_status mlp_layout(plast_model *m, plast_err *err) { return layout_kind(m, err, 2, "mlp"); }

static void rnn_init(const plast_model *m, plast_params *p, plast_rng *rng) {
    const rnn_priv *r = PLAST_PRIV(m, rnn_priv);
    double k = 1.0 / sqrt((double)m->H);
    plast_init_uniform(p, r->w, rng, -k, k);
    plast_init_uniform(p, r->b, rng, -k, k);
    plast_linear_init(&r->readout, p, rng);
}

static void rnn_step(const plast_step_ctx *c, plast_step_out *out) {
    const plast_model *m = c->m;
    const rnn_priv *r = PLAST_PRIV(m, rnn_priv);
    plast_tape *t = c->t;
    const int64_t H = m->H;
    plast_node *pre = c->x;
    if (r->kind != 2) {
        plast_node *parts[2] = {c->x, c->state[r->h]};
        pre = plast_concat(t, 2, parts, 1);
    }
    plast_node *z = plast_add(t, plast_mm_shared(t, pre, c->param[r->w], 0), c->param[r->b]);
    plast_node *h;
    if (r->kind == 1) {
        plast_node *gi = plast_sigmoid(t, plast_slice(t, z, 1, 0, H));
        plast_node *gf = plast_sigmoid(t, plast_slice(t, z, 1, H, H));
        plast_node *gg = plast_tanh(t, plast_slice(t, z, 1, 2 * H, H));
        plast_node *go = plast_sigmoid(t, plast_slice(t, z, 1, 3 * H, H));
        plast_node *cn = plast_add(t, plast_mul(t, gf, c->state[r->c]), plast_mul(t, gi, gg));
        h = plast_mul(t, go, plast_tanh(t, cn));
        c->state_out[r->c] = cn;
    } else {
        h = plast_act_apply(t, r->act, z);
    }
    if (r->h >= 0) c->state_out[r->h] = h;
    if (c->want_energy) out->energy = plast_energy(t, pre, c->param[r->w]);
    out->y = plast_linear_apply(c, &r->readout, h);
}

/* the rnn and lstm as one cell, for the cell path (the mlp has no recurrence: its steps fold into one batch on the
 * tape) */
static int rnn_cell(const plast_model *m, plast_cell_layer *L) {
    const rnn_priv *r = PLAST_PRIV(m, rnn_priv);
    if (r->kind == 2) return 0;
    *L = (plast_cell_layer){.kind = r->kind == 1 ? PLAST_CELL_LSTM : PLAST_CELL_RNN, .I = m->I, .H = m->H,
                            .G = r->kind == 1 ? 4 * m->H : m->H, .act = r->act, .w = r->w, .b = r->b,
                            .readout = r->readout, .h = r->h, .c = r->c};
    return 1;
}

const plast_family_def plast_family_rnn = {
    .name = "rnn", .rule_use = PLAST_RULE_USE_NONE, .default_rule = NULL,
    .summary = "Elman RNN baseline with a linear readout",
    .caps = 0, .variant = NULL, .fused = NULL, .cell = rnn_cell,
    .layout = rnn_layout, .init = rnn_init, .step = rnn_step, .constrain = NULL, .alias = NULL};
const plast_family_def plast_family_lstm = {
    .name = "lstm", .rule_use = PLAST_RULE_USE_NONE, .default_rule = NULL,
    .summary = "LSTM baseline with a linear readout",
    .caps = 0, .variant = NULL, .fused = NULL, .cell = rnn_cell,
    .layout = lstm_layout, .init = rnn_init, .step = rnn_step, .constrain = NULL, .alias = NULL};
const plast_family_def plast_family_mlp = {
    .name = "mlp", .rule_use = PLAST_RULE_USE_NONE, .default_rule = NULL,
    .summary = "one hidden layer, no memory, with a linear readout",
    .caps = 0, .variant = NULL, .fused = NULL, .cell = NULL,
    .layout = mlp_layout, .init = rnn_init, .step = rnn_step, .constrain = NULL, .alias = NULL};
