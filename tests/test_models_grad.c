/* tests/test_models_grad.c: whole-model BPTT gradients of every model family and rule against central finite
 * differences, in float64.
 *
 * For each configuration: a small model with its paper initialisation, random inputs and targets over T steps,
 * loss = (1/T) sum_t mse(y_t, target_t). The gradient of every parameter from plast_tape_backward (through the
 * inner gradient for the gradient rule: second order) must match (L(theta + e) - L(theta - e)) / 2e. Every
 * family in the table must appear here at least once.
 */
#include "models/model_internal.h"
#include "plast.h"
#include "test.h"

#ifndef PLAST_DOUBLE
#error "finite-difference tests need the float64 build (plast64)"
#endif

enum { B = 2, T = 4, MAX_SETS = 16 };

typedef struct model_case {
    const char *name;
    const char *sets[MAX_SETS];
} model_case;

/* Small sizes; max_norm small enough in some cases that the rescale is active. */
static const model_case CASES[] = {
    {"duan rnn hebbian", {"model.family=duan", "model.cell=rnn", "model.rule=hebbian", "model.hidden=4"}},
    {"duan rnn hebbian, rescale active", {"model.family=duan", "model.cell=rnn", "model.rule=hebbian",
                                          "model.hidden=4", "model.max_norm=0.05"}},
    {"duan lstm hebbian", {"model.family=duan", "model.cell=lstm", "model.rule=hebbian", "model.hidden=3"}},
    {"duan rnn gradient", {"model.family=duan", "model.cell=rnn", "model.rule=gradient", "model.hidden=4",
                           "model.inner_batch=1"}},
    {"duan lstm gradient, rescale active", {"model.family=duan", "model.cell=lstm", "model.rule=gradient",
                                            "model.hidden=3", "model.inner_batch=1", "model.max_norm=0.01"}},
    {"duan lstm gradient, unmodulated", {"model.family=duan", "model.cell=lstm", "model.rule=gradient",
                                         "model.hidden=3", "model.modulation=false", "model.inner_batch=1"}},
    {"duan rnn oja", {"model.family=duan", "model.cell=rnn", "model.rule=oja", "model.hidden=4"}},
    {"duan lstm instar", {"model.family=duan", "model.cell=lstm", "model.rule=instar", "model.hidden=3"}},
    {"stpn r instar", {"model.family=stpn", "model.rule=instar", "model.hidden=3"}},
    {"duan lstm hebbian, alpha none", {"model.family=duan", "model.cell=lstm", "model.rule=hebbian",
                                       "model.hidden=3", "model.alpha=none"}},
    {"duan rnn, no plasticity", {"model.family=duan", "model.cell=rnn", "model.rule=none", "model.hidden=4"}},
    {"duan lstm, no plasticity", {"model.family=duan", "model.cell=lstm", "model.rule=none", "model.hidden=3"}},
    {"stpn r, norm pre", {"model.family=stpn", "model.variant=r", "model.norm=pre", "model.hidden=3"}},
    {"stpn r, norm post, clamp", {"model.family=stpn", "model.variant=r", "model.norm=post", "model.clamp=0.5",
                                  "model.hidden=3"}},
    {"stpn r, scalar, no norm", {"model.family=stpn", "model.variant=r", "model.stp_params=scalar",
                                 "model.norm=none", "model.hidden=3"}},
    {"stpn r, oja, new h", {"model.family=stpn", "model.variant=r", "model.rule=oja", "model.pre_new_h=true",
                            "model.hidden=3"}},
    {"stpn f, norm", {"model.family=stpn", "model.variant=f", "model.hidden=4"}},
    {"stpn f, hebbff form", {"model.family=stpn", "model.variant=f", "model.stpn_form=hebbff", "model.hidden=4"}},
    {"stpn f, scalar, no norm", {"model.family=stpn", "model.variant=f", "model.stp_params=scalar",
                                 "model.norm=none", "model.hidden=4"}},
    {"rnn", {"model.family=rnn", "model.hidden=4"}},
    {"lstm", {"model.family=lstm", "model.hidden=3"}},
    {"mlp", {"model.family=mlp", "model.hidden=4"}},
    {"stpn r behind the mnih_conv frontend (36 x 36 images)",
     {"model.family=stpn", "model.hidden=3", "model.frontend=mnih_conv", "model.input=1296"}},
    {"stpn r behind the mnih_conv_fc frontend (36 x 36 images, dense layer of 5)",
     {"model.family=stpn", "model.hidden=3", "model.frontend=mnih_conv_fc", "model.frontend_units=5",
      "model.input=1296"}},
    {"fastweights, S=2", {"model.family=fastweights", "model.hidden=4", "model.fw_steps=2"}},
    {"fastweights, double update", {"model.family=fastweights", "model.hidden=4", "model.fw_double_update=true"}},
    {"hebbff", {"model.family=hebbff", "model.hidden=4"}},
    {"hebbff anti, sigmoid lambda", {"model.family=hebbff", "model.hidden=4", "model.hebbff_eta=anti",
                                     "model.hebbff_lambda=sigmoid"}},
    {"modplast simple", {"model.family=modplast", "model.hidden=4"}},
    {"modplast retroactive, sigmoid", {"model.family=modplast", "model.hidden=4", "model.neuromod=retroactive",
                                       "model.modulator=sigmoid"}},
    {"diffplast decay", {"model.family=diffplast", "model.hidden=4", "model.eta_init=0.3"}},
    {"diffplast clip, oja", {"model.family=diffplast", "model.hidden=4", "model.trace=clip", "model.rule=oja",
                             "model.eta_init=0.3"}},
    {"diffplast direct input, no readout", {"model.family=diffplast", "model.hidden=3", "model.direct_input=true",
                                            "model.readout=none", "model.output=3", "model.eta_init=0.3"}},
    {"bohp", {"model.family=bohp", "model.hidden=3", "model.trace_decay=0.7"}},
    {"bohp, no plasticity", {"model.family=bohp", "model.hidden=3", "model.rule=none"}},
    {"diffplast, no plasticity", {"model.family=diffplast", "model.hidden=4", "model.rule=none"}},
    {"duan lstm hebbian, conv4 encoder", {"model.family=duan", "model.cell=lstm", "model.rule=hebbian",
                                          "model.hidden=4", "model.encoder=conv4", "model.image_channels=1",
                                          "model.image_size=16", "model.conv_channels=2", "model.input=258"}},
    {"duan rnn gradient, conv4 encoder", {"model.family=duan", "model.cell=rnn", "model.rule=gradient",
                                          "model.hidden=4", "model.encoder=conv4", "model.image_channels=1",
                                          "model.image_size=16", "model.conv_channels=2", "model.input=258",
                                          "model.inner_batch=1"}},
};
#define N_CASES ((int)(sizeof CASES / sizeof CASES[0]))

enum { MAX_IO = 260 }; /* inputs and outputs per sample (the conv4 cases: a 16 x 16 image and 2 labels) */
typedef struct data {
    double x[T][B * MAX_IO];
    double y[T][B * MAX_IO];
} data;

static double trial_loss(const plast_model *m, plast_params *p, const data *d, plast_tape *t, int backward) {
    plast_tape_reset(t);
    plast_trial tr;
    plast_trial_begin(&tr, m, t, p, B);
    plast_node *loss = NULL;
    const int64_t I = plast_model_input(m), O = plast_model_output(m);
    for (int s = 0; s < T; s++) {
        plast_step_out o;
        plast_trial_step(&tr, plast_tape_const(t, PLAST_SHAPE2(B, I), d->x[s]), &o);
        plast_node *l = plast_mse(t, o.y, plast_tape_const(t, PLAST_SHAPE2(B, O), d->y[s]));
        loss = loss ? plast_add(t, loss, l) : l;
    }
    loss = plast_scale(t, loss, 1.0 / T);
    if (backward) plast_tape_backward(t, loss);
    return plast_tape_status(t) == PLAST_OK ? plast_node_item(loss) : NAN;
}

static void run_case(const model_case *c, plast_rng *rng, int *families_seen) {
    plast_model_cfg cfg;
    plast_err err;
    plast_model_cfg_default(&cfg, NULL);
    plast_cfg_apply_set(plast_model_cfg_schema(), &cfg, "model.input=3", NULL);
    plast_cfg_apply_set(plast_model_cfg_schema(), &cfg, "model.output=2", NULL);
    for (int k = 0; k < MAX_SETS && c->sets[k]; k++)
        CHECK(plast_cfg_apply_set(plast_model_cfg_schema(), &cfg, c->sets[k], &err) == PLAST_OK, "%s: %s", c->name,
              err.msg);
    plast_model *m = plast_model_init(&cfg, &err);
    CHECK(m != NULL, "%s: %s", c->name, err.msg);
    if (!m) return;
    for (int f = 0; f < plast_family_count; f++)
        if (m->family == plast_family_table[f]) families_seen[f]++;
    plast_params *p = plast_model_params_init(m, NULL);
    plast_model_params_reset(m, p, rng);
    data d;
    for (int s = 0; s < T; s++)
        for (int k = 0; k < B * MAX_IO; k++) {
            d.x[s][k] = plast_rng_uniform_in(rng, -1, 1);
            d.y[s][k] = plast_rng_uniform_in(rng, -1, 1);
        }
    plast_tape *t = plast_tape_init(NULL);
    plast_params_zero_grad(p);
    double l0 = trial_loss(m, p, &d, t, 1);
    CHECK(isfinite(l0), "%s: loss %g: %s", c->name, l0, plast_tape_error(t));
    int64_t n = plast_params_numel(p);
    double *g = malloc(sizeof(double) * (size_t)n);
    memcpy(g, plast_params_grads(p), sizeof(double) * (size_t)n);
    plast_real *v = plast_params_values(p);
    int bad = 0;
    double max_g = 0;
    const double eps = 1e-6;
    for (int64_t i = 0; i < n; i++) {
        double keep = v[i];
        v[i] = keep + eps;
        double lp = trial_loss(m, p, &d, t, 0);
        v[i] = keep - eps;
        double lm = trial_loss(m, p, &d, t, 0);
        v[i] = keep;
        double fd = (lp - lm) / (2 * eps);
        if (!test_close(g[i], fd, 1e-5, 1e-8)) {
            if (bad++ < 4) {
                int which = 0;
                while (which + 1 < plast_params_count(p) && plast_params_offset(p, which + 1) <= i) which++;
                fprintf(stderr, "  %s: d/d %s[%lld] analytic %.10g, finite difference %.10g\n", c->name,
                        plast_params_name(p, which), (long long)(i - plast_params_offset(p, which)), g[i], fd);
            }
        }
        max_g = fmax(max_g, fabs(g[i]));
    }
    CHECK(bad == 0, "%s: %d of %lld parameter gradients disagree with finite differences", c->name, bad, (long long)n);
    CHECK(max_g > 1e-4, "%s: gradient (nearly) zero: %g", c->name, max_g);
    printf("%-40s %4lld parameters, BPTT gradient matches finite differences (max |g| %.3g)\n", c->name,
           (long long)n, max_g);
    free(g);
    plast_tape_free(t);
    plast_params_free(p);
    plast_model_free(m);
}

int main(void) {
    plast_rng rng;
    plast_rng_init(&rng, 11, 0);
    int seen[64] = {0};
    for (int i = 0; i < N_CASES; i++) run_case(&CASES[i], &rng, seen);
    for (int f = 0; f < plast_family_count; f++)
        CHECK(seen[f] > 0, "family '%s' has no gradient check in this test", plast_family_table[f]->name);
    return test_finish("test_models_grad");
}
