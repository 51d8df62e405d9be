/* tests/test_engine.c: every fast path against the op-by-op tape path, gradients included, for every rule and
 * setting it serves: outputs, the modulation signal and every parameter gradient of a random loss must agree
 * (1e-10 relative in float64, 1e-4 in float32). The tape path itself is checked against the reference's golden
 * vectors and finite differences, so this carries those checks over to the fast paths. */
#include "models/rule_list.h"
#include "plast.h"
#include "test.h"

enum { MAX_SETS = 12 };

typedef struct engine_case {
    const char *name;
    plast_engine_kind kind;
    int64_t B, T;
    const char *sets[MAX_SETS];
} engine_case;

static const engine_case CASES[] = {
    {"rnn hebbian", PLAST_ENGINE_LOWRANK, 3, 5, {"model.cell=rnn", "model.rule=hebbian"}},
    {"lstm hebbian", PLAST_ENGINE_LOWRANK, 3, 5, {"model.cell=lstm", "model.rule=hebbian"}},
    {"rnn gradient", PLAST_ENGINE_LOWRANK, 3, 5, {"model.cell=rnn", "model.rule=gradient", "model.inner_batch=1"}},
    {"lstm gradient", PLAST_ENGINE_LOWRANK, 3, 5, {"model.cell=lstm", "model.rule=gradient", "model.inner_batch=1"}},
    {"rnn hebbian, rescale active", PLAST_ENGINE_LOWRANK, 2, 6, {"model.cell=rnn", "model.rule=hebbian",
                                                                 "model.max_norm=0.05"}},
    {"lstm hebbian, rescale active", PLAST_ENGINE_LOWRANK, 2, 6, {"model.cell=lstm", "model.rule=hebbian",
                                                                  "model.max_norm=0.05"}},
    {"rnn gradient, rescale active", PLAST_ENGINE_LOWRANK, 2, 6, {"model.cell=rnn", "model.rule=gradient",
                                                                  "model.inner_batch=1", "model.max_norm=0.01"}},
    {"lstm gradient, rescale active", PLAST_ENGINE_LOWRANK, 2, 6, {"model.cell=lstm", "model.rule=gradient",
                                                                   "model.inner_batch=1", "model.max_norm=0.01"}},
    {"lstm gradient, unmodulated", PLAST_ENGINE_LOWRANK, 3, 4, {"model.cell=lstm", "model.rule=gradient",
                                                                "model.modulation=false", "model.inner_batch=1"}},
    {"rnn hebbian, unmodulated", PLAST_ENGINE_LOWRANK, 3, 4, {"model.cell=rnn", "model.rule=hebbian",
                                                              "model.modulation=false"}},
    {"lstm hebbian, alpha none", PLAST_ENGINE_LOWRANK, 3, 4, {"model.cell=lstm", "model.rule=hebbian",
                                                              "model.alpha=none"}},
    {"rnn gradient, alpha none", PLAST_ENGINE_LOWRANK, 3, 4, {"model.cell=rnn", "model.rule=gradient",
                                                              "model.alpha=none", "model.inner_batch=1"}},
    {"tanh rnn gradient", PLAST_ENGINE_LOWRANK, 3, 4, {"model.cell=rnn", "model.rule=gradient",
                                                       "model.activation=tanh", "model.inner_batch=1"}},
    {"lstm gradient, batch-mean inner loss", PLAST_ENGINE_LOWRANK, 4, 3, {"model.cell=lstm", "model.rule=gradient",
                                                                          "model.inner_batch=0"}},
    /* Duan's plastic models on the dense path: each sample's plastic matrices, checkpointed every K = ceil(sqrt T)
     * steps, so T = 10 runs three segments (4, 4, 2) and T = 6 two */
    {"dense rnn hebbian", PLAST_ENGINE_DENSE, 3, 10, {"model.cell=rnn", "model.rule=hebbian"}},
    {"dense lstm hebbian", PLAST_ENGINE_DENSE, 3, 10, {"model.cell=lstm", "model.rule=hebbian"}},
    {"dense rnn gradient", PLAST_ENGINE_DENSE, 3, 10, {"model.cell=rnn", "model.rule=gradient", "model.inner_batch=1"}},
    {"dense lstm gradient", PLAST_ENGINE_DENSE, 3, 10, {"model.cell=lstm", "model.rule=gradient",
                                                         "model.inner_batch=1"}},
    {"dense lstm hebbian, rescale active", PLAST_ENGINE_DENSE, 2, 6, {"model.cell=lstm", "model.rule=hebbian",
                                                                      "model.max_norm=0.05"}},
    {"dense lstm gradient, rescale active", PLAST_ENGINE_DENSE, 2, 6, {"model.cell=lstm", "model.rule=gradient",
                                                                       "model.inner_batch=1", "model.max_norm=0.01"}},
    {"dense rnn hebbian, unmodulated", PLAST_ENGINE_DENSE, 3, 4, {"model.cell=rnn", "model.rule=hebbian",
                                                                  "model.modulation=false"}},
    {"dense rnn gradient, alpha none", PLAST_ENGINE_DENSE, 3, 5, {"model.cell=rnn", "model.rule=gradient",
                                                                  "model.alpha=none", "model.inner_batch=1"}},
    {"dense lstm gradient, batch-mean inner loss", PLAST_ENGINE_DENSE, 4, 3, {"model.cell=lstm",
                                                                               "model.rule=gradient",
                                                                               "model.inner_batch=0"}},
    {"dense lstm gradient, one step", PLAST_ENGINE_DENSE, 2, 1, {"model.cell=lstm", "model.rule=gradient"}},
    {"rnn, no plasticity", PLAST_ENGINE_DENSE, 3, 5, {"model.cell=rnn", "model.rule=none"}},
    {"lstm, no plasticity", PLAST_ENGINE_DENSE, 3, 5, {"model.cell=lstm", "model.rule=none"}},
    {"lstm gradient, one step", PLAST_ENGINE_LOWRANK, 2, 1, {"model.cell=lstm", "model.rule=gradient"}},
#define CONV "model.encoder=conv4", "model.image_channels=1", "model.image_size=16", "model.conv_channels=3", \
             "model.input=258"
    {"conv4 lstm hebbian", PLAST_ENGINE_LOWRANK, 3, 4, {"model.cell=lstm", "model.rule=hebbian", CONV}},
    {"conv4 rnn gradient, rescale active", PLAST_ENGINE_LOWRANK, 3, 4, {"model.cell=rnn", "model.rule=gradient",
                                                                        "model.inner_batch=1", "model.max_norm=0.05",
                                                                        CONV}},
    {"conv4 lstm gradient", PLAST_ENGINE_LOWRANK, 3, 4, {"model.cell=lstm", "model.rule=gradient",
                                                         "model.inner_batch=1", CONV}},
    {"conv4 lstm, no plasticity", PLAST_ENGINE_DENSE, 3, 4, {"model.cell=lstm", "model.rule=none", CONV}},
    {"dense conv4 lstm gradient", PLAST_ENGINE_DENSE, 3, 5, {"model.cell=lstm", "model.rule=gradient",
                                                              "model.inner_batch=1", CONV}},
    /* batch 40: each step's images in groups of several images, and the first layer's 40 groups in 16 chunks of
     * uneven size for d/dW (conv4.c), shared by three threads */
    {"conv4 lstm hebbian, batch 40", PLAST_ENGINE_LOWRANK, 40, 3, {"model.cell=lstm", "model.rule=hebbian", CONV}},
    /* 20 -> 10 -> 5 -> 2 -> 1: a side of 5 pools to 2 and drops its last row and column */
    {"conv4 rnn hebbian, odd side", PLAST_ENGINE_LOWRANK, 3, 3, {"model.cell=rnn", "model.rule=hebbian",
                                                                 "model.encoder=conv4", "model.image_channels=1",
                                                                 "model.image_size=20", "model.conv_channels=3",
                                                                 "model.input=402"}},
    /* the fused path (STPN): T = 10 runs three checkpoint segments (K = 4); energy compared too */
#define STPN "model.family=stpn"
    {"stpnr pre hebbian, H = 11", PLAST_ENGINE_FUSED, 3, 10, {STPN, "model.variant=r", "model.norm=pre",
                                                              "model.hidden=11"}},
    {"stpnr post hebbian, clamp active, H = 19", PLAST_ENGINE_FUSED, 3, 10, {STPN, "model.variant=r",
                                                                             "model.norm=post", "model.clamp=0.0004",
                                                                             "model.hidden=19"}},
    {"stpnr none hebbian, clamp active, scalar", PLAST_ENGINE_FUSED, 2, 7, {STPN, "model.variant=r", "model.norm=none",
                                                                      "model.clamp=0.00002", "model.stp_params=scalar"}},
    {"stpnr pre scalar, new h in the rule", PLAST_ENGINE_FUSED, 3, 9, {STPN, "model.variant=r", "model.norm=pre",
                                                                        "model.stp_params=scalar", "model.pre_new_h=true"}},
    {"stpnr post oja, new h in the rule", PLAST_ENGINE_FUSED, 2, 6, {STPN, "model.variant=r", "model.norm=post",
                                                                      "model.rule=oja", "model.pre_new_h=true"}},
    {"stpnr pre instar, relu", PLAST_ENGINE_FUSED, 2, 6, {STPN, "model.variant=r", "model.norm=pre",
                                                           "model.rule=instar", "model.activation=relu"}},
    {"stpnf pre hebbian, H = 9", PLAST_ENGINE_FUSED, 3, 10, {STPN, "model.variant=f", "model.norm=pre",
                                                             "model.hidden=9"}},
    {"stpnf post instar, clamp active", PLAST_ENGINE_FUSED, 2, 8, {STPN, "model.variant=f", "model.norm=post",
                                                                    "model.rule=instar", "model.clamp=0.0004"}},
    {"stpnf none oja, sigmoid, scalar", PLAST_ENGINE_FUSED, 3, 5, {STPN, "model.variant=f", "model.norm=none",
                                                                    "model.rule=oja", "model.activation=sigmoid",
                                                                    "model.stp_params=scalar"}},
    {"stpnf hebbff form: bias, F/n decay", PLAST_ENGINE_FUSED, 3, 10, {STPN, "model.variant=f", "model.norm=pre",
                                                                        "model.stpn_form=hebbff", "model.hidden=9"}},
    {"stpnf hebbff form, post, scalar, clamp active", PLAST_ENGINE_FUSED, 2, 8,
     {STPN, "model.variant=f", "model.norm=post", "model.stpn_form=hebbff", "model.stp_params=scalar",
      "model.clamp=0.0004"}},
    {"stpnr hebbff form, scalar", PLAST_ENGINE_FUSED, 2, 6, {STPN, "model.variant=r", "model.stpn_form=hebbff",
                                                              "model.stp_params=scalar"}},
    {"stpnr pre hebbian, one step", PLAST_ENGINE_FUSED, 2, 1, {STPN, "model.variant=r"}},
    /* the non-plastic baselines on the cell path */
    {"rnn baseline, H = 9", PLAST_ENGINE_DENSE, 3, 7, {"model.family=rnn", "model.hidden=9"}},
    {"rnn baseline, relu", PLAST_ENGINE_DENSE, 2, 5, {"model.family=rnn", "model.activation=relu"}},
    {"lstm baseline, H = 7", PLAST_ENGINE_DENSE, 3, 7, {"model.family=lstm", "model.hidden=7"}},
    {"lstm baseline, one step", PLAST_ENGINE_DENSE, 2, 1, {"model.family=lstm"}},
    /* Duan's paths at a batch and width where their loops and products split between threads */
    {"lstm hebbian, batch 64, H = 32", PLAST_ENGINE_LOWRANK, 64, 6, {"model.cell=lstm", "model.rule=hebbian",
                                                                    "model.hidden=32"}},
    {"rnn gradient, batch 64, H = 32", PLAST_ENGINE_LOWRANK, 64, 6, {"model.cell=rnn", "model.rule=gradient",
                                                                    "model.hidden=32"}},
    {"dense lstm hebbian, batch 64, H = 32", PLAST_ENGINE_DENSE, 64, 6, {"model.cell=lstm", "model.rule=hebbian",
                                                                        "model.hidden=32"}},
    {"dense rnn gradient, batch 64, H = 32", PLAST_ENGINE_DENSE, 64, 6, {"model.cell=rnn", "model.rule=gradient",
                                                                        "model.hidden=32"}},
    /* batch 160: at least two blocks of samples (engine_cell.c) shared by three threads in the check below */
    {"lstm baseline, batch 160", PLAST_ENGINE_DENSE, 160, 3, {"model.family=lstm", "model.hidden=11"}},
    {"rnn baseline, batch 160", PLAST_ENGINE_DENSE, 160, 3, {"model.family=rnn", "model.hidden=13"}},
    /* the other families that are one plastic layer */
#define HEBBFF "model.family=hebbff"
    {"hebbff hebbian, H = 11", PLAST_ENGINE_FUSED, 3, 10, {HEBBFF, "model.hidden=11"}},
    {"hebbff anti oja, sigmoid lambda", PLAST_ENGINE_FUSED, 2, 7, {HEBBFF, "model.hebbff_eta=anti",
                                                                    "model.hebbff_lambda=sigmoid", "model.rule=oja"}},
    {"hebbff hebb instar", PLAST_ENGINE_FUSED, 3, 5, {HEBBFF, "model.hebbff_eta=hebb", "model.rule=instar"}},
#define MODPLAST "model.family=modplast"
    {"modplast tanh, H = 9", PLAST_ENGINE_FUSED, 3, 10, {MODPLAST, "model.hidden=9"}},
    {"modplast sigmoid, clamp active", PLAST_ENGINE_FUSED, 2, 8, {MODPLAST, "model.modulator=sigmoid",
                                                                   "model.clamp=0.002", "model.hidden=6"}},
    {"modplast linear oja", PLAST_ENGINE_FUSED, 3, 6, {MODPLAST, "model.modulator=linear", "model.rule=oja"}},
    {"modplast retroactive, H = 9", PLAST_ENGINE_FUSED, 3, 10, {MODPLAST, "model.neuromod=retroactive",
                                                                 "model.hidden=9", "model.eta_init=0.3"}},
    {"modplast retroactive sigmoid, clamp active", PLAST_ENGINE_FUSED, 2, 8, {MODPLAST, "model.neuromod=retroactive",
                                                                              "model.modulator=sigmoid",
                                                                              "model.clamp=0.001", "model.hidden=6",
                                                                              "model.eta_init=0.4"}},
    {"modplast retroactive linear instar", PLAST_ENGINE_FUSED, 3, 6, {MODPLAST, "model.neuromod=retroactive",
                                                                       "model.modulator=linear", "model.rule=instar",
                                                                       "model.eta_init=0.2"}},
#define DIFFPLAST "model.family=diffplast"
    {"diffplast decay hebbian, H = 10", PLAST_ENGINE_FUSED, 3, 10, {DIFFPLAST, "model.hidden=10"}},
    {"diffplast clip, clamp active", PLAST_ENGINE_FUSED, 2, 8, {DIFFPLAST, "model.trace=clip", "model.clamp=0.0005",
                                                                 "model.hidden=7"}},
    {"diffplast direct, no readout, oja", PLAST_ENGINE_FUSED, 3, 6, {DIFFPLAST, "model.direct_input=true",
                                                                      "model.readout=none", "model.input=5",
                                                                      "model.hidden=5", "model.rule=oja"}},
#define FW "model.family=fastweights"
    {"fastweights S = 1, H = 9", PLAST_ENGINE_FUSED, 3, 10, {FW, "model.hidden=9"}},
    {"fastweights S = 3, double update", PLAST_ENGINE_FUSED, 2, 8, {FW, "model.fw_steps=3", "model.fw_double_update=true",
                                                                     "model.fw_lr=0.8"}},
    {"fastweights double update, clamp active", PLAST_ENGINE_FUSED, 2, 14, {FW, "model.fw_steps=2",
                                                                            "model.fw_double_update=true",
                                                                            "model.fw_lr=100", "model.fw_decay=1",
                                                                            "model.hidden=6"}},
    /* model.frontend: the convolutions on a tape in front of each path (engine_features.c); 20 x 20 images give
     * 32 features */
#define MNIH "model.frontend=mnih_conv", "model.input=400"
    {"stpnr with mnih_conv", PLAST_ENGINE_FUSED, 2, 5, {STPN, MNIH, "model.variant=r"}},
    {"stpnr new h in the rule, mnih_conv", PLAST_ENGINE_FUSED, 2, 4, {STPN, MNIH, "model.pre_new_h=true"}},
    {"stpnf with mnih_conv", PLAST_ENGINE_FUSED, 2, 4, {STPN, MNIH, "model.variant=f"}},
    {"modplast retroactive, mnih_conv", PLAST_ENGINE_FUSED, 2, 4, {MODPLAST, MNIH, "model.neuromod=retroactive"}},
    {"diffplast direct, mnih_conv", PLAST_ENGINE_FUSED, 2, 4, {DIFFPLAST, MNIH, "model.direct_input=true",
                                                                "model.hidden=32"}},
    {"fastweights with mnih_conv", PLAST_ENGINE_FUSED, 2, 4, {FW, MNIH}},
    {"lstm with mnih_conv", PLAST_ENGINE_DENSE, 2, 4, {"model.family=lstm", MNIH}},
    {"rnn with mnih_conv", PLAST_ENGINE_DENSE, 2, 3, {"model.family=rnn", MNIH}},
    /* mnih_conv_fc: a dense ReLU layer (12 units here) after the convolutions, on the same tape */
#define MNIH_FC "model.frontend=mnih_conv_fc", "model.frontend_units=12", "model.input=400"
    {"stpnr with mnih_conv_fc", PLAST_ENGINE_FUSED, 2, 4, {STPN, MNIH_FC, "model.variant=r"}},
    {"lstm with mnih_conv_fc", PLAST_ENGINE_DENSE, 2, 3, {"model.family=lstm", MNIH_FC}},
#define BOHP "model.family=bohp"
    {"bohp hebbian, H = 8", PLAST_ENGINE_FUSED, 3, 10, {BOHP, "model.hidden=8", "model.trace_decay=0.7"}},
    {"bohp no readout, instar", PLAST_ENGINE_FUSED, 2, 6, {BOHP, "model.readout=none", "model.output=4",
                                                           "model.hidden=4", "model.rule=instar"}},
    /* H = 15 and 23: the fused path pads the rows of its matrices to 16 and 24 (fused_stride), as it pads every H
     * that is not a multiple of 8 (most cases above; H = 8 and 32 run unpadded); more variants with padding columns
     * that must stay inert */
    {"stpnr post hebbian, clamp active, padded rows", PLAST_ENGINE_FUSED, 3, 10, {STPN, "model.variant=r",
                                                                              "model.norm=post", "model.clamp=0.0004",
                                                                              "model.hidden=15"}},
    {"stpnr pre, new h in the rule, padded rows", PLAST_ENGINE_FUSED, 2, 7, {STPN, "model.variant=r", "model.norm=pre",
                                                                           "model.pre_new_h=true", "model.hidden=23"}},
    {"stpnr post instar, padded rows", PLAST_ENGINE_FUSED, 2, 6, {STPN, "model.variant=r", "model.norm=post",
                                                                   "model.rule=instar", "model.hidden=15"}},
    {"stpnf none oja, sigmoid, padded rows", PLAST_ENGINE_FUSED, 2, 5, {STPN, "model.variant=f", "model.norm=none",
                                                                         "model.rule=oja", "model.activation=sigmoid",
                                                                         "model.hidden=15"}},
    {"stpnf hebbff form, padded rows", PLAST_ENGINE_FUSED, 3, 8, {STPN, "model.variant=f", "model.norm=pre",
                                                                   "model.stpn_form=hebbff", "model.hidden=15"}},
    {"hebbff anti oja, padded rows", PLAST_ENGINE_FUSED, 2, 6, {HEBBFF, "model.hebbff_eta=anti", "model.rule=oja",
                                                                 "model.hidden=15"}},
    {"modplast sigmoid oja, padded rows", PLAST_ENGINE_FUSED, 2, 6, {MODPLAST, "model.modulator=sigmoid",
                                                                      "model.rule=oja", "model.hidden=15"}},
    {"modplast retroactive, clamp active, padded rows", PLAST_ENGINE_FUSED, 2, 8, {MODPLAST,
                                                                                   "model.neuromod=retroactive",
                                                                                   "model.clamp=0.001",
                                                                                   "model.hidden=15",
                                                                                   "model.eta_init=0.3"}},
    {"diffplast decay hebbian, padded rows", PLAST_ENGINE_FUSED, 3, 8, {DIFFPLAST, "model.hidden=15"}},
    {"diffplast direct, no readout, padded rows", PLAST_ENGINE_FUSED, 2, 6, {DIFFPLAST, "model.direct_input=true",
                                                                              "model.readout=none", "model.input=15",
                                                                              "model.hidden=15", "model.rule=oja"}},
    {"bohp hebbian, padded rows", PLAST_ENGINE_FUSED, 2, 6, {BOHP, "model.hidden=15", "model.trace_decay=0.7"}},
};

static double rel_err(const plast_real *a, const plast_real *b, int64_t n) {
    double e = 0, m = 0;
    for (int64_t i = 0; i < n; i++) {
        e = fmax(e, fabs((double)a[i] - b[i]));
        m = fmax(m, fabs((double)b[i]));
    }
    return m > 0 ? e / m : e;
}

/* Rollouts: plast_engine_advance on the path (an engine of T = 1) steps a state in place as plast_model_step does on
 * the tape, from the same random state: outputs, energy and every state tensor after each of T steps. */
static void check_advance(const engine_case *c, plast_model *m, plast_params *p, const plast_real *x, plast_rng *rng) {
    const int64_t B = c->B, T = c->T, I = plast_model_input(m), O = plast_model_output(m);
    plast_err err;
    plast_state *a = plast_state_init(m, B, NULL), *b = plast_state_init(m, B, NULL);
    plast_engine *e = plast_engine_init(m, B, 1, c->kind, 0, NULL);
    plast_tape *tape = plast_tape_init(NULL);
    CHECK(a && b && e && tape, "%s, advance: set-up", c->name);
    plast_real *y1 = malloc(sizeof(plast_real) * (size_t)(B * O)), *y2 = malloc(sizeof(plast_real) * (size_t)(B * O));
    plast_real *e1 = malloc(sizeof(plast_real) * (size_t)B), *e2 = malloc(sizeof(plast_real) * (size_t)B);
    for (int k = 0; a && b && k < plast_model_state_count(m); k++) {
        const size_t n = (size_t)(B * plast_shape_numel(plast_model_state_shape(m, k)));
        plast_rng_fill_uniform(rng, plast_state_data(a, k), n, -0.3, 0.3);
        memcpy(plast_state_data(b, k), plast_state_data(a, k), n * sizeof(plast_real));
    }
    const double tol = sizeof(plast_real) == 8 ? 1e-10 : 1e-4;
    for (int64_t t = 0; a && b && e && tape && t < T; t++) {
        plast_status s = plast_engine_advance(e, p, b, x + t * B * I, y2, e2, &err);
        if (s != PLAST_OK) { /* Duan's paths start from zeros only */
            CHECK(c->kind == PLAST_ENGINE_LOWRANK || c->kind == PLAST_ENGINE_DENSE, "%s, advance: %s", c->name, err.msg);
            break;
        }
        CHECK(plast_model_step(m, p, a, x + t * B * I, y1, NULL, e1, tape, &err) == PLAST_OK, "%s: %s", c->name, err.msg);
        double es = 0;
        for (int k = 0; k < plast_model_state_count(m); k++)
            es = fmax(es, rel_err(plast_state_data(b, k), plast_state_data(a, k),
                                  B * plast_shape_numel(plast_model_state_shape(m, k))));
        const double ey = rel_err(y2, y1, B * O), ee = rel_err(e2, e1, B);
        CHECK(ey <= tol && ee <= tol && es <= tol, "%s, advance step %lld: outputs %g, energy %g, state %g", c->name,
              (long long)t, ey, ee, es);
    }
    free(y1), free(y2), free(e1), free(e2);
    plast_tape_free(tape), plast_engine_free(e), plast_state_free(a), plast_state_free(b);
}

/* A trial from a given state (sequences replayed from recorded states, as the RL learners do): the fast path and
 * the tape from the same random state give the same outputs, energy and gradients, whole or stepped. Paths that
 * start from zeros only (Duan's) refuse the state. */
static void check_initial_state(const engine_case *c, plast_model *m, plast_params *p, const plast_real *x,
                                const plast_real *dy, int energy, plast_rng *rng) {
    const int64_t B = c->B, T = c->T, I = plast_model_input(m), O = plast_model_output(m), n = plast_params_numel(p);
    if (plast_model_state_count(m) == 0) return;
    plast_state *s0 = plast_state_init(m, B, NULL);
    plast_engine *ref = plast_engine_init(m, B, T, PLAST_ENGINE_TAPE, energy, NULL);
    plast_engine *fast = plast_engine_init(m, B, T, c->kind, energy, NULL);
    for (int k = 0; s0 && k < plast_model_state_count(m); k++)
        plast_rng_fill_uniform(rng, plast_state_data(s0, k),
                               (size_t)(B * plast_shape_numel(plast_model_state_shape(m, k))), -0.3, 0.3);
    if (!s0 || !ref || !fast || plast_engine_set_initial_state(fast, s0, NULL) != PLAST_OK) {
        CHECK(c->kind == PLAST_ENGINE_LOWRANK || c->kind == PLAST_ENGINE_DENSE, "%s: no initial state", c->name);
        plast_engine_free(ref), plast_engine_free(fast), plast_state_free(s0);
        return;
    }
    plast_err err;
    CHECK(plast_engine_set_initial_state(ref, s0, &err) == PLAST_OK, "%s: %s", c->name, err.msg);
    const size_t TB = (size_t)(T * B);
    plast_real *y1 = malloc(sizeof(plast_real) * TB * (size_t)O), *y2 = malloc(sizeof(plast_real) * TB * (size_t)O);
    plast_real *e1 = malloc(sizeof(plast_real) * TB), *e2 = malloc(sizeof(plast_real) * TB);
    plast_real *m2 = malloc(sizeof(plast_real) * TB), *g1 = malloc(sizeof(plast_real) * (size_t)n);
    plast_params_zero_grad(p);
    plast_engine_forward(ref, p, x, y1, m2, energy ? e1 : NULL, 1, &err);
    plast_engine_backward(ref, p, dy, &err);
    memcpy(g1, plast_params_grads(p), sizeof(plast_real) * (size_t)n);
    const double tol = sizeof(plast_real) == 8 ? 1e-10 : 1e-4;
    for (int stepped = 0; stepped < 2; stepped++) {
        plast_params_zero_grad(p);
        int ok = 1;
        if (stepped && !plast_engine_can_step(fast)) break;
        if (stepped)
            for (int64_t t = 0; t < T && ok; t++)
                ok = plast_engine_step(fast, p, t, x + t * B * I, y2 + t * B * O, m2 + t * B, energy ? e2 + t * B : NULL,
                                       &err) == PLAST_OK;
        else
            ok = plast_engine_forward(fast, p, x, y2, m2, energy ? e2 : NULL, 1, &err) == PLAST_OK;
        CHECK(ok && plast_engine_backward(fast, p, dy, &err) == PLAST_OK, "%s, from a state: %s", c->name, err.msg);
        const double ey = rel_err(y2, y1, T * B * O), eg = rel_err(plast_params_grads(p), g1, n);
        const double ee = energy ? rel_err(e2, e1, T * B) : 0;
        CHECK(ey <= tol && eg <= tol && ee <= tol, "%s, from a state%s: outputs %g, gradients %g, energy %g", c->name,
              stepped ? ", stepped" : "", ey, eg, ee);
    }
    free(y1), free(y2), free(e1), free(e2), free(m2), free(g1);
    plast_engine_free(ref), plast_engine_free(fast), plast_state_free(s0);
    check_advance(c, m, p, x, rng);
}

static void run_case(const engine_case *c, plast_rng *rng) {
    plast_model_cfg cfg;
    plast_err err;
    plast_model_cfg_default(&cfg, NULL);
    const char *base[] = {"model.family=duan", "model.input=3", "model.output=2", "model.hidden=4"};
    for (int k = 0; k < 4; k++) plast_cfg_apply_set(plast_model_cfg_schema(), &cfg, base[k], NULL);
    for (int k = 0; k < MAX_SETS && c->sets[k]; k++)
        CHECK(plast_cfg_apply_set(plast_model_cfg_schema(), &cfg, c->sets[k], &err) == PLAST_OK, "%s: %s", c->name, err.msg);
    plast_model *m = plast_model_init(&cfg, &err);
    CHECK(m != NULL, "%s: %s", c->name, err.msg);
    if (!m) return;
    const int64_t B = c->B, T = c->T, I = plast_model_input(m), O = plast_model_output(m);
    plast_params *p = plast_model_params_init(m, NULL);
    plast_model_params_reset(m, p, rng);
    plast_real *x = malloc(sizeof(plast_real) * (size_t)(T * B * I)), *dy = malloc(sizeof(plast_real) * (size_t)(T * B * O));
    plast_real *y1 = malloc(sizeof(plast_real) * (size_t)(T * B * O)), *y2 = malloc(sizeof(plast_real) * (size_t)(T * B * O));
    /* (T, B) each: modulation and energy of the two paths */
    plast_real *m1 = malloc(sizeof(plast_real) * (size_t)(T * B)), *m2 = malloc(sizeof(plast_real) * (size_t)(T * B));
    plast_real *e1 = malloc(sizeof(plast_real) * (size_t)(T * B)), *e2 = malloc(sizeof(plast_real) * (size_t)(T * B));
    /* the energy is compared wherever the fast path computes it (the fused and cell paths; not Duan's) */
    plast_engine *probe = plast_engine_init(m, B, T, c->kind, 1, NULL);
    const int energy = probe != NULL;
    plast_engine_free(probe);
    plast_rng_fill_uniform(rng, x, (size_t)(T * B * I), -1, 1);
    plast_rng_fill_uniform(rng, dy, (size_t)(T * B * O), -1, 1);
    int64_t n = plast_params_numel(p);
    plast_real *g1 = malloc(sizeof(plast_real) * (size_t)n);

    plast_engine *ref = plast_engine_init(m, B, T, PLAST_ENGINE_TAPE, energy, &err);
    plast_engine *fast = plast_engine_init(m, B, T, c->kind, energy, &err);
    CHECK(ref && fast, "%s: engine: %s", c->name, err.msg);
    if (ref && fast) {
        CHECK(plast_engine_get_kind(fast) == c->kind, "%s: got the %s path", c->name,
              plast_engine_kind_name(plast_engine_get_kind(fast)));
        /* the plan from shapes alone: the same path, and the memory it then takes (give or take its small structs) */
        plast_engine_kind planned_kind = PLAST_ENGINE_AUTO;
        size_t planned = 0;
        const size_t held = plast_engine_bytes(fast);
        CHECK(plast_engine_plan(m, B, T, c->kind, energy, &planned_kind, &planned, &err) == PLAST_OK &&
                  planned_kind == c->kind && planned > 0 && planned <= held && held <= planned + 65536,
              "%s: planned %zu bytes on the %s path, the engine holds %zu", c->name, planned,
              plast_engine_kind_name(planned_kind), held);
        plast_params_zero_grad(p);
        plast_engine_forward(ref, p, x, y1, m1, energy ? e1 : NULL, 1, &err);
        plast_engine_backward(ref, p, dy, &err);
        memcpy(g1, plast_params_grads(p), sizeof(plast_real) * (size_t)n);
        /* a comparison of zeros proves nothing: the reference's outputs and every weight matrix's gradient move
         * (in a one-step trial the recurrent weights and the plasticity coefficients cannot: h_0 = 0, no update yet
         * is used) */
        double ymax = 0;
        for (int64_t i = 0; i < T * B * O; i++) ymax = fmax(ymax, fabs((double)y1[i]));
        CHECK(ymax > 0, "%s: the reference's outputs are all zero", c->name);
        for (int i = 0; i < plast_params_count(p); i++) {
            const int64_t off = plast_params_offset(p, i), k = plast_shape_numel(plast_params_shape(p, i));
            const char *name = plast_params_name(p, i);
            if (plast_params_shape(p, i).ndim != 2 || (T == 1 && (strstr(name, "h_fc") || strstr(name, ".lr") ||
                                                                  strstr(name, "lambda") || strstr(name, "gamma"))))
                continue;
            double gmax = 0;
            for (int64_t j = 0; j < k; j++) gmax = fmax(gmax, fabs((double)g1[off + j]));
            CHECK(gmax > 0, "%s: the reference's gradient of %s is all zero", c->name, name);
        }
        plast_params_zero_grad(p);
        CHECK(plast_engine_forward(fast, p, x, y2, m2, energy ? e2 : NULL, 1, &err) == PLAST_OK, "%s: %s", c->name,
              err.msg);
        CHECK(plast_engine_backward(fast, p, dy, &err) == PLAST_OK, "%s: %s", c->name, err.msg);
        const double tol = sizeof(plast_real) == 8 ? 1e-10 : 1e-4;
        double ey = rel_err(y2, y1, T * B * O), em = rel_err(m2, m1, T * B);
        CHECK(ey <= tol, "%s: outputs differ by %g", c->name, ey);
        CHECK(em <= tol, "%s: modulation differs by %g", c->name, em);
        if (energy) {
            const double ee = rel_err(e2, e1, T * B), e_last = (double)e1[T * B - 1];
            CHECK(ee <= tol && e_last > 0, "%s: energy differs by %g (tape %g)", c->name, ee, e_last);
        }
        double worst = 0;
        for (int i = 0; i < plast_params_count(p); i++) {
            int64_t off = plast_params_offset(p, i), k = plast_shape_numel(plast_params_shape(p, i));
            double e = rel_err(plast_params_grads(p) + off, g1 + off, k);
            if (e > tol) fprintf(stderr, "  %s: gradient of %s differs by %g\n", c->name, plast_params_name(p, i), e);
            worst = fmax(worst, e);
        }
        CHECK(worst <= tol, "%s: gradients differ by up to %g", c->name, worst);
        /* the same on one thread, bit for bit: results never depend on the number of threads */
        memcpy(g1, plast_params_grads(p), sizeof(plast_real) * (size_t)n);
        const int threads = plast_runtime_threads();
        plast_runtime_set_threads(1);
        plast_engine *one = plast_engine_init(m, B, T, c->kind, energy, &err);
        plast_params_zero_grad(p);
        CHECK(one && plast_engine_forward(one, p, x, y1, m1, energy ? e1 : NULL, 1, &err) == PLAST_OK &&
                  plast_engine_backward(one, p, dy, &err) == PLAST_OK, "%s, one thread: %s", c->name, err.msg);
        CHECK(memcmp(y1, y2, sizeof(plast_real) * (size_t)(T * B * O)) == 0 &&
                  memcmp(g1, plast_params_grads(p), sizeof(plast_real) * (size_t)n) == 0,
              "%s: one thread and %d threads differ", c->name, threads);
        plast_engine_free(one);
        plast_runtime_set_threads(threads);
        /* closed-loop stepping (plast_engine_step) records the same trial: outputs, energy and gradients agree */
        for (int k = 0; k < 2; k++) {
        plast_engine *st = plast_engine_init(m, B, T, k ? PLAST_ENGINE_TAPE : c->kind, energy, &err);
        if (st && plast_engine_can_step(st)) {
            plast_params_zero_grad(p);
            int ok = 1;
            for (int64_t t = 0; t < T && ok; t++)
                ok = plast_engine_step(st, p, t, x + t * B * I, y1 + t * B * O, m1 + t * B, energy ? e1 + t * B : NULL,
                                       &err) == PLAST_OK;
            CHECK(ok && plast_engine_backward(st, p, dy, &err) == PLAST_OK, "%s, stepped: %s", c->name, err.msg);
            const double sy = rel_err(y1, y2, T * B * O), sg = rel_err(plast_params_grads(p), g1, n);
            const double se = energy ? rel_err(e1, e2, T * B) : 0, sm = rel_err(m1, m2, T * B);
            CHECK(sy <= tol && sg <= tol && se <= tol && sm <= tol,
                  "%s, stepped: outputs %g, gradients %g, energy %g, modulation %g from the forward", c->name, sy, sg,
                  se, sm);
        }
        plast_engine_free(st);
        }
        check_initial_state(c, m, p, x, dy, energy, rng);
        printf("%-42s %-7s outputs %.1e, gradients %.1e\n", c->name, plast_engine_kind_name(c->kind), ey, worst);
    }
    plast_engine_free(ref);
    plast_engine_free(fast);
    free(x), free(dy), free(y1), free(y2), free(g1), free(m1), free(m2), free(e1), free(e2);
    plast_params_free(p);
    plast_model_free(m);
}

/* The tape path records a model without state (the MLP) as one step of T*B samples; that must equal recording
 * its T steps one by one, outputs and gradients. */
static void check_stateless_fold(plast_rng *rng) {
    plast_model_cfg cfg;
    plast_err err;
    plast_model_cfg_default(&cfg, NULL);
    const char *sets[] = {"model.family=mlp", "model.input=3", "model.output=2", "model.hidden=5"};
    for (int k = 0; k < 4; k++) plast_cfg_apply_set(plast_model_cfg_schema(), &cfg, sets[k], NULL);
    plast_model *m = plast_model_init(&cfg, &err);
    CHECK(m != NULL && plast_model_state_count(m) == 0, "mlp: %s", m ? "has state" : err.msg);
    if (!m) return;
    enum { B = 3, T = 4, I = 3, O = 2 };
    plast_params *p = plast_model_params_init(m, NULL);
    plast_model_params_reset(m, p, rng);
    const int64_t n = plast_params_numel(p);
    plast_real x[T * B * I], dy[T * B * O], y1[T * B * O], y2[T * B * O];
    plast_real *g1 = malloc(sizeof(plast_real) * (size_t)n);
    plast_rng_fill_uniform(rng, x, T * B * I, -1, 1);
    plast_rng_fill_uniform(rng, dy, T * B * O, -1, 1);
    plast_engine *e = plast_engine_init(m, B, T, PLAST_ENGINE_TAPE, 0, &err);
    CHECK(e != NULL, "mlp engine: %s", err.msg);
    plast_params_zero_grad(p);
    CHECK(e && plast_engine_forward(e, p, x, y1, NULL, NULL, 1, &err) == PLAST_OK &&
              plast_engine_backward(e, p, dy, &err) == PLAST_OK, "mlp engine: %s", err.msg);
    memcpy(g1, plast_params_grads(p), sizeof(plast_real) * (size_t)n);
    /* the same T steps recorded one by one */
    plast_params_zero_grad(p);
    plast_tape *t = plast_tape_init(NULL);
    plast_trial tr;
    plast_trial_begin(&tr, m, t, p, B);
    plast_node *loss = NULL;
    for (int s = 0; s < T; s++) {
        plast_step_out o;
        plast_trial_step(&tr, plast_tape_const(t, PLAST_SHAPE2(B, I), x + s * B * I), &o);
        memcpy(y2 + s * B * O, plast_node_data(o.y), sizeof(plast_real) * B * O);
        plast_node *term = plast_sum_all(t, plast_mul(t, plast_tape_const(t, PLAST_SHAPE2(B, O), dy + s * B * O), o.y));
        loss = loss ? plast_add(t, loss, term) : term;
    }
    plast_tape_backward(t, loss);
    CHECK(plast_tape_status(t) == PLAST_OK, "mlp: step-by-step recording failed");
    const double tol = sizeof(plast_real) == 8 ? 1e-12 : 1e-5;
    const double ey = rel_err(y1, y2, T * B * O), eg = rel_err(g1, plast_params_grads(p), n);
    CHECK(ey <= tol && eg <= tol, "mlp folded into one step: outputs differ by %g, gradients by %g", ey, eg);
    printf("%-42s %-7s outputs %.1e, gradients %.1e\n", "mlp, steps folded into the batch", "tape", ey, eg);
    plast_tape_free(t);
    plast_engine_free(e);
    plast_params_free(p);
    plast_model_free(m);
    free(g1);
}

/* Every rule of the rule table that declares an elementwise kernel runs on the fused path: each is checked here
 * against its tape form (the rule's weight function) without being listed, in a recurrent STPN layer with the new
 * h in the rule and in a modulated one. */
#define RULE_KERNEL(name, formula, internal, rank_one, weight, bias, kernel) {#name, #kernel},
static const char *const RULE_KERNELS[][2] = {PLAST_RULE_LIST(RULE_KERNEL)};
#undef RULE_KERNEL

static int check_rule_kernels(plast_rng *rng) {
    int n = 0;
    for (size_t i = 0; i < sizeof RULE_KERNELS / sizeof RULE_KERNELS[0]; i++) {
        if (strcmp(RULE_KERNELS[i][1], "NULL") == 0) continue;
        static char rule[64], name[2][96];
        snprintf(rule, sizeof rule, "model.rule=%s", RULE_KERNELS[i][0]);
        snprintf(name[0], sizeof name[0], "rule table: %s in stpnr", RULE_KERNELS[i][0]);
        snprintf(name[1], sizeof name[1], "rule table: %s in modplast", RULE_KERNELS[i][0]);
        const engine_case cases[2] = {
            {name[0], PLAST_ENGINE_FUSED, 3, 7, {"model.family=stpn", "model.variant=r", "model.pre_new_h=true", rule}},
            {name[1], PLAST_ENGINE_FUSED, 3, 7, {"model.family=modplast", "model.hidden=6", rule}},
        };
        run_case(&cases[0], rng);
        run_case(&cases[1], rng);
        n++;
    }
    return n;
}

int main(void) {
    if (plast_runtime_threads() < 3) plast_runtime_set_threads(3); /* so that samples split between threads */
    plast_rng rng;
    plast_rng_init(&rng, 5, 1);
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) { /* each case its own draw: adding one moves none */
        uint64_t h = 1469598103934665603ull; /* FNV-1a of the name */
        for (const char *q = CASES[i].name; *q; q++) h = (h ^ (unsigned char)*q) * 1099511628211ull;
        plast_rng own;
        plast_rng_init(&own, h, 1);
        run_case(&CASES[i], &own);
    }
    CHECK(check_rule_kernels(&rng) >= 3, "the rule table's kernels (hebbian, oja, instar at least) were checked");
    check_stateless_fold(&rng);
    /* paths a model does not have are refused with a reason */
    plast_model_cfg cfg;
    plast_err err;
    plast_model_cfg_default(&cfg, NULL);
    const char *oja[] = {"model.rule=oja", "model.input=3", "model.output=2"};
    for (int k = 0; k < 3; k++) plast_cfg_apply_set(plast_model_cfg_schema(), &cfg, oja[k], NULL);
    plast_model *m = plast_model_init(&cfg, &err);
    CHECK(m != NULL, "oja model: %s", err.msg);
    CHECK(!plast_engine_init(m, 2, 2, PLAST_ENGINE_LOWRANK, 0, &err) && strstr(err.msg, "rank-one"),
          "oja has no low-rank path: %s", err.msg);
    plast_engine *e = plast_engine_init(m, 2, 2, PLAST_ENGINE_AUTO, 0, &err);
    CHECK(e && plast_engine_get_kind(e) == PLAST_ENGINE_TAPE, "auto falls back to the tape");
    plast_engine_free(e);
    plast_model_free(m);
    return test_finish(sizeof(plast_real) == 8 ? "test_engine (float64)" : "test_engine (float32)");
}
