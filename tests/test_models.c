/* tests/test_models.c: the model API: parameter counts at the papers' sizes, stepping with caller-owned state
 * equals recording on a tape, the energy measure, configuration errors. */
#include "models/model_internal.h"
#include "plast.h"
#include "test.h"

static plast_model *make(const char *const *sets, int n, plast_err *err) {
    plast_model_cfg cfg;
    plast_model_cfg_default(&cfg, NULL);
    for (int k = 0; k < n; k++)
        if (plast_cfg_apply_set(plast_model_cfg_schema(), &cfg, sets[k], err) != PLAST_OK) return NULL;
    return plast_model_init(&cfg, err);
}

static int64_t count_params(const plast_model *m) {
    int64_t n = 0;
    for (int i = 0; i < plast_model_param_count(m); i++) n += plast_shape_numel(plast_model_param_specs(m)[i].shape);
    return n;
}

typedef struct count_case {
    const char *name;
    const char *sets[10];
    int64_t params;
    int64_t plastic; /* per-sample plastic floats, or -1 */
} count_case;

/* Duan et al.: docs/models/DUAN.md (counted from the reference's own model classes).
 * STPN paper, ART (I = O = 37): docs/models/STPN.md; CFD (d = 100): HebbNet and uSTPNf at about 10.2k. */
#define DUAN(in, cell) "model.input=" #in, "model.output=1", "model.cell=" #cell, "model.hidden_scaling=paper"
static const count_case COUNTS[] = {
    {"duan copy RNN plastic", {DUAN(3, rnn)}, 268306, 134150},
    {"duan copy RNN none", {DUAN(3, rnn), "model.rule=none"}, 299532, 0},
    {"duan copy LSTM plastic", {DUAN(3, lstm)}, 266770, 133382},
    {"duan copy LSTM none", {DUAN(3, lstm), "model.rule=none"}, 298380, 0},
    {"duan cue-reward RNN", {DUAN(16, rnn)}, 274962, 137478},
    {"duan cue-reward RNN none", {DUAN(16, rnn), "model.rule=none"}, 304524, 0},
    {"duan cue-reward LSTM gradient", {DUAN(16, lstm), "model.rule=gradient"}, 270098, 135046},
    {"duan cue-reward LSTM none", {DUAN(16, lstm), "model.rule=none"}, 300876, 0},
    {"duan regression linear RNN", {DUAN(14, rnn)}, 273938, 136966},
    {"duan regression linear LSTM none", {DUAN(14, lstm), "model.rule=none"}, 300492, 0},
    {"duan regression MLP RNN none", {DUAN(8, rnn), "model.rule=none"}, 301452, 0},
    {"duan regression MLP LSTM", {DUAN(8, lstm)}, 268050, 134022},
#define CIFAR(cell) "model.input=3077", "model.output=5", "model.cell=" #cell, "model.hidden=256",                     \
                    "model.hidden_scaling=paper", "model.encoder=conv4", "model.image_channels=3", "model.image_size=32"
    {"duan 1-shot CIFAR-FS Conv-4 LSTM", {CIFAR(lstm)}, 1235161, 528906},
    {"duan 1-shot CIFAR-FS Conv-4 RNN", {CIFAR(rnn)}, 1304025, 530442},
    {"duan 1-shot CIFAR-FS Conv-4 LSTM none", {CIFAR(lstm), "model.rule=none"}, 1396815, 0},
    {"duan 1-shot CIFAR-FS Conv-4 RNN none", {CIFAR(rnn), "model.rule=none"}, 1497807, 0},
    {"stpn ART STPNr h11", {"model.family=stpn", "model.input=37", "model.output=37", "model.hidden=11"}, 2039, 528},
    {"stpn ART LSTM h9", {"model.family=lstm", "model.input=37", "model.output=37", "model.hidden=9"}, 2062, 0},
    {"stpn ART RNN h20", {"model.family=rnn", "model.input=37", "model.output=37", "model.hidden=20"}, 1937, 0},
    {"stpn ART FastWeights h20", {"model.family=fastweights", "model.input=37", "model.output=37", "model.hidden=20"}, 1977, 400},
    {"stpn ART Modplast h17", {"model.family=modplast", "model.input=37", "model.output=37", "model.hidden=17"}, 1908,
     289},
    {"stpn maze STPN h55 (two heads = 5 outputs)", {"model.family=stpn", "model.input=17", "model.output=5",
                                                    "model.hidden=55"}, 12215, 3960},
    {"stpn maze RNN h100", {"model.family=rnn", "model.input=17", "model.output=5", "model.hidden=100"}, 12305, 0},
    {"CFD HebbFF h100", {"model.family=hebbff", "model.input=100", "model.output=1", "model.hidden=100"}, 10203, 10000},
    {"CFD uSTPNf h100", {"model.family=stpn", "model.variant=f", "model.stp_params=scalar", "model.input=100",
                         "model.output=1", "model.hidden=100"}, 10203, 10000},
    /* rl.md A.1: the STPN paper's Pong models, conv trunk 9,264, heads Linear(H, 6) and Linear(H, 1) as one
     * readout; the LSTM has one bias where nn.LSTM has two (192 fewer) */
    {"Pong STPNr h64", {"model.family=stpn", "model.frontend=mnih_conv", "model.input=7056", "model.output=7",
                        "model.hidden=64"}, 519735, 64 * 2656},
    {"Pong LSTM h48", {"model.family=lstm", "model.frontend=mnih_conv", "model.input=7056", "model.output=7",
                       "model.hidden=48"}, 516871 - 192, -1},
    /* with Mnih et al.'s dense layer (mnih_conv_fc): 2592 x 256 + 256 more, and the core reads 256 features */
    {"Pong STPNr h64, dense 256", {"model.family=stpn", "model.frontend=mnih_conv_fc", "model.input=7056",
                                   "model.output=7", "model.hidden=64"}, 9264 + 663808 + 3 * 64 * 320 + 64 + 455,
     64 * 320},
};

static void test_param_counts(void) {
    for (size_t i = 0; i < sizeof COUNTS / sizeof COUNTS[0]; i++) {
        const count_case *c = &COUNTS[i];
        int n = 0;
        while (n < 10 && c->sets[n]) n++;
        plast_err err;
        plast_model *m = make(c->sets, n, &err);
        CHECK(m != NULL, "%s: %s", c->name, err.msg);
        if (!m) continue;
        CHECK(count_params(m) == c->params, "%s: %lld parameters, the reference has %lld", c->name,
              (long long)count_params(m), (long long)c->params);
        if (c->plastic >= 0)
            CHECK(plast_model_plastic_numel(m) == c->plastic, "%s: %lld plastic floats per sample, expected %lld",
                  c->name, (long long)plast_model_plastic_numel(m), (long long)c->plastic);
        plast_model_free(m);
    }
}

/* Stepping a caller-owned state gives exactly what recording the same trial on a tape gives. */
static void test_step_equals_trial(const char *family, const char *extra) {
    const char *sets[5] = {family, "model.input=5", "model.output=3", "model.hidden=6", extra};
    plast_err err;
    plast_model *m = make(sets, extra ? 5 : 4, &err);
    CHECK(m != NULL, "%s: %s", family, err.msg);
    if (!m) return;
    plast_rng rng;
    plast_rng_init(&rng, 4, 4);
    plast_params *p = plast_model_params_init(m, NULL);
    plast_model_params_reset(m, p, &rng);
    enum { B = 3, T = 6 };
    plast_real x[T][B * 5];
    for (int s = 0; s < T; s++) plast_rng_fill_uniform(&rng, x[s], B * 5, -1, 1);
    plast_tape *t = plast_tape_init(NULL), *scratch = plast_tape_init(NULL);
    plast_trial tr;
    plast_trial_begin(&tr, m, t, p, B);
    tr.want_energy = 1;
    plast_state *st = plast_state_init(m, B, NULL);
    double worst = 0, min_energy = 1e300;
    int finite = 1;
    for (int s = 0; s < T; s++) {
        plast_step_out o;
        plast_trial_step(&tr, plast_tape_const(t, PLAST_SHAPE2(B, 5), x[s]), &o);
        plast_real y[B * 3], mod[B], en[B];
        CHECK(plast_model_step(m, p, st, x[s], y, mod, en, scratch, &err) == PLAST_OK, "%s: %s", family, err.msg);
        if (!o.y || !o.energy) break;
        for (int k = 0; k < B * 3; k++) worst = fmax(worst, fabs((double)y[k] - plast_node_data(o.y)[k]));
        for (int b = 0; b < B; b++) {
            worst = fmax(worst, fabs((double)en[b] - plast_node_data(o.energy)[b]));
            finite &= isfinite((double)en[b]);
            min_energy = fmin(min_energy, en[b]);
        }
    }
    CHECK(plast_tape_status(t) == PLAST_OK, "%s: %s", family, plast_tape_error(t));
    CHECK(worst == 0, "%s: stepping and recording differ by %g", family, worst);
    CHECK(finite && min_energy > 0, "%s: energy must be finite and positive (min %g)", family, min_energy);
    plast_state_free(st);
    plast_tape_free(t);
    plast_tape_free(scratch);
    plast_params_free(p);
    plast_model_free(m);
}

/* The energy of an RNN step is sum_i x_i^2 sum_j |W_ij| over [x; h]. */
static void test_energy_formula(void) {
    const char *sets[4] = {"model.family=rnn", "model.input=2", "model.output=1", "model.hidden=2"};
    plast_model *m = make(sets, 4, NULL);
    plast_params *p = plast_model_params_init(m, NULL);
    plast_real *W = plast_params_value(p, 0); /* (I + H, H) = (4, 2) */
    const double w[8] = {1, -2, 3, 0.5, -1, 1, 2, -2};
    for (int k = 0; k < 8; k++) W[k] = (plast_real)w[k];
    plast_state *st = plast_state_init(m, 1, NULL);
    plast_tape *t = plast_tape_init(NULL);
    plast_real x[2] = {2, -1}, y[1], e[1];
    plast_model_step(m, p, st, x, y, NULL, e, t, NULL); /* h_0 = 0: energy = 4 * (1 + 2) + 1 * (3 + 0.5) */
    CHECK_CLOSE(e[0], 15.5, 1e-6, 0, "energy of the first step");
    plast_tape_free(t);
    plast_state_free(st);
    plast_params_free(p);
    plast_model_free(m);
}

static void test_config_errors(void) {
    plast_err err;
    const char *a[1] = {"model.family=gru"};
    CHECK(!make(a, 1, &err) && strstr(err.msg, "'family'") && strstr(err.msg, "gru") && strstr(err.msg, "stpn"),
          "unknown family: %s", err.msg);
    const char *b[1] = {"model.rule=bcm"};
    CHECK(!make(b, 1, &err) && strstr(err.msg, "'rule'") && strstr(err.msg, "hebbian"), "unknown rule: %s", err.msg);
    const char *c[2] = {"model.family=stpn", "model.rule=gradient"};
    CHECK(!make(c, 2, &err) && strstr(err.msg, "internal loss"), "gradient rule outside duan: %s", err.msg);
    const char *d[2] = {"model.family=lstm", "model.rule=hebbian"};
    CHECK(!make(d, 2, &err) && strstr(err.msg, "no plasticity"), "rule on a non-plastic family: %s", err.msg);
    const char *e[3] = {"model.family=diffplast", "model.direct_input=true", "model.hidden=7"};
    CHECK(!make(e, 3, &err) && strstr(err.msg, "direct_input"), "direct input needs I = H: %s", err.msg);
}

/* model.stpn_form = hebbff initialises as the HebbFF folder's random_weight_init: weights N(0, 1) / sqrt(fan_in),
 * biases N(0, 1), lambda U(0, 1), gamma U(-0.001, 0.001) / sqrt(H) (the paper's form: uniform, 1/sqrt(I)) */
static void test_hebbff_form_init(void) {
    const char *sets[] = {"model.family=stpn", "model.variant=f", "model.stpn_form=hebbff", "model.input=100",
                          "model.output=1", "model.hidden=400"};
    plast_model *m = make(sets, 6, NULL);
    plast_params *p = m ? plast_model_params_init(m, NULL) : NULL;
    CHECK(p != NULL, "a hebbff-form STPNf");
    if (!p) return;
    plast_rng rng;
    plast_rng_init(&rng, 9, 0);
    plast_model_params_reset(m, p, &rng);
    const char *names[4] = {"stpn.weight", "stpn.bias", "stpn.gamma", "stpn.lambda"};
    double mean[4], sd[4], amax[4];
    for (int k = 0; k < 4; k++) {
        const int i = plast_params_find(p, names[k]);
        const int64_t n = plast_shape_numel(plast_params_shape(p, i));
        const plast_real *v = plast_params_values(p) + plast_params_offset(p, i);
        double s1 = 0, s2 = 0;
        amax[k] = 0;
        for (int64_t j = 0; j < n; j++) s1 += v[j], s2 += (double)v[j] * v[j], amax[k] = fmax(amax[k], fabs((double)v[j]));
        mean[k] = s1 / (double)n, sd[k] = sqrt(s2 / (double)n - mean[k] * mean[k]);
    }
    CHECK(fabs(sd[0] - 0.1) < 0.005 && fabs(mean[0]) < 0.005, "weights: mean %g, sd %g (want 0, 0.1)", mean[0], sd[0]);
    CHECK(fabs(sd[1] - 1) < 0.15 && fabs(mean[1]) < 0.2, "biases: mean %g, sd %g (want 0, 1)", mean[1], sd[1]);
    CHECK(amax[2] <= 0.001 / 20 && amax[2] > 0.0009 / 20, "gamma within 0.001 / sqrt(400): max |g| %g", amax[2]);
    CHECK(amax[3] <= 1 && mean[3] > 0.45 && mean[3] < 0.55, "lambda U(0, 1): mean %g", mean[3]);
    plast_params_free(p);
    plast_model_free(m);
}

int main(void) {
    test_param_counts();
    test_hebbff_form_init();
    const char *families[][2] = {{"model.family=duan", "model.rule=hebbian"}, {"model.family=duan", "model.rule=gradient"},
                                 {"model.family=duan", "model.rule=none"},    {"model.family=stpn", NULL},
                                 {"model.family=stpn", "model.variant=f"},    {"model.family=rnn", NULL},
                                 {"model.family=lstm", NULL},                 {"model.family=mlp", NULL},
                                 {"model.family=fastweights", NULL},          {"model.family=hebbff", NULL},
                                 {"model.family=modplast", NULL},             {"model.family=modplast", "model.neuromod=retroactive"},
                                 {"model.family=diffplast", NULL},            {"model.family=bohp", NULL}};
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++) test_step_equals_trial(families[i][0], families[i][1]);
    test_energy_formula();
    test_config_errors();
    return test_finish(sizeof(plast_real) == 8 ? "test_models (float64)" : "test_models (float32)");
}
