/* tests/test_golden_duan.c: the Duan et al. reference's own numbers, reproduced.
 *
 * tests/fixtures/golden/ holds four cases written by the reference implementation (PyTorch autograd, float64):
 * RNN and LSTM, Hebbian and gradient rule, H = 8, B = 3, T = 5, I = 16, O = 1, E = 4. Loading the reference's
 * parameters by their own names, plast must reproduce every step's output, every step's plastic state, the loss
 * and every parameter gradient: to 1e-9 in float64, and to 1e-4 relative in float32.
 */
#include "plast.h"
#include "test.h"

enum { B = 3, T = 5, I = 16 };

static const int F64 = sizeof(plast_real) == 8;

/* max |a - b| / max(1, max |b|) in float64; max |a - b| / max |b| in float32 */
static double rel_error(const plast_real *a, const plast_real *b, int64_t n) {
    double err = 0, mag = 0;
    for (int64_t i = 0; i < n; i++) {
        err = fmax(err, fabs((double)a[i] - (double)b[i]));
        mag = fmax(mag, fabs((double)b[i]));
    }
    if (F64) return err / fmax(1.0, mag);
    return mag > 0 ? err / mag : err;
}

static void run_case(const char *cell, const char *rule) {
    char path[1024], name[64];
    const char *dir = getenv("PLAST_FIXTURES");
    snprintf(name, sizeof name, "%s %s", cell, rule);
    snprintf(path, sizeof path, "%s/golden/golden_%s_%s_H8_B3_T5.safetensors", dir ? dir : "tests/fixtures",
             strcmp(cell, "rnn") == 0 ? "RNN" : "LSTM", rule);
    plast_err err;
    plast_st_reader *r = plast_st_reader_open(path, &err);
    CHECK(r != NULL, "%s: %s", name, err.msg);
    if (!r) return;

    plast_model_cfg cfg;
    plast_model_cfg_default(&cfg, NULL);
    const char *sets[] = {"model.family=duan", "model.input=16", "model.output=1", "model.hidden=8",
                          "model.extra=4", "model.inner_batch=0"};
    plast_cfg_schema schema = plast_model_cfg_schema();
    for (size_t k = 0; k < sizeof sets / sizeof sets[0]; k++) plast_cfg_apply_set(schema, &cfg, sets[k], NULL);
    snprintf(cfg.cell, sizeof cfg.cell, "%s", cell);
    snprintf(cfg.rule, sizeof cfg.rule, "%s", rule);
    plast_model *m = plast_model_init(&cfg, &err);
    CHECK(m != NULL, "%s: model: %s", name, err.msg);
    if (!m) return;
    plast_params *p = plast_model_params_init(m, NULL);
    CHECK(plast_model_params_read(m, p, r, "param/", &err) == PLAST_OK, "%s: parameters: %s", name, err.msg);

    /* inputs (B, T, I) and targets (B, T, 1), regrouped per step */
    plast_real x[B * T * I], y[B * T], xt[T][B * I], yt[T][B];
    plast_st_reader_read(r, "x", PLAST_SHAPE3(B, T, I), x, NULL);
    plast_st_reader_read(r, "y", PLAST_SHAPE3(B, T, 1), y, NULL);
    for (int b = 0; b < B; b++)
        for (int s = 0; s < T; s++) {
            for (int i = 0; i < I; i++) xt[s][b * I + i] = x[(b * T + s) * I + i];
            yt[s][b] = y[b * T + s];
        }

    plast_tape *t = plast_tape_init(NULL);
    plast_trial tr;
    plast_trial_begin(&tr, m, t, p, B);
    int64_t S = plast_model_plastic_numel(m);
    plast_real *states = malloc(sizeof(plast_real) * (size_t)(B * T * S)); /* (B, T, S) as in the file */
    plast_real outputs[B * T];
    plast_node *loss = NULL;
    for (int s = 0; s < T; s++) {
        plast_step_out o;
        plast_trial_step(&tr, plast_tape_const(t, PLAST_SHAPE2(B, I), xt[s]), &o);
        if (plast_tape_status(t) != PLAST_OK) break;
        for (int b = 0; b < B; b++) outputs[b * T + s] = plast_node_data(o.y)[b];
        int64_t at = 0; /* flatten the plastic tensors of each sample in state order */
        for (int k = 0; k < plast_model_state_count(m); k++) {
            if (!plast_model_state_is_plastic(m, k)) continue;
            int64_t n = plast_shape_numel(plast_model_state_shape(m, k));
            for (int b = 0; b < B; b++)
                memcpy(states + (b * T + s) * S + at, plast_node_data(tr.state[k]) + b * n, sizeof(plast_real) * (size_t)n);
            at += n;
        }
        plast_node *l = plast_mse(t, o.y, plast_tape_const(t, PLAST_SHAPE2(B, 1), yt[s]));
        loss = loss ? plast_add(t, loss, l) : l;
    }
    loss = plast_scale(t, loss, 1.0 / T);
    plast_params_zero_grad(p);
    plast_tape_backward(t, loss);
    CHECK(plast_tape_status(t) == PLAST_OK, "%s: %s", name, plast_tape_error(t));
    if (plast_tape_status(t) != PLAST_OK) goto done;

    const double tol = F64 ? 1e-9 : 1e-4;
    plast_real want[B * T * 800];
    plast_st_reader_read(r, "outputs", PLAST_SHAPE3(B, T, 1), want, NULL);
    double e = rel_error(outputs, want, B * T);
    CHECK(e <= tol, "%s: outputs differ by %g", name, e);
    CHECK(plast_st_reader_read(r, "plastic_states", PLAST_SHAPE3(B, T, S), want, &err) == PLAST_OK,
          "%s: plastic state size %lld: %s", name, (long long)S, err.msg);
    double es = rel_error(states, want, B * T * S);
    CHECK(es <= tol, "%s: plastic states differ by %g", name, es);
    plast_st_reader_read(r, "loss", PLAST_SHAPE1(1), want, NULL);
    double el = fabs((double)plast_node_item(loss) - want[0]) / (F64 ? 1.0 : fabs(want[0]));
    CHECK(el <= tol, "%s: loss %.17g vs %.17g", name, (double)plast_node_item(loss), (double)want[0]);

    double worst = 0;
    int n_grads = 0;
    for (int i = 0; i < plast_params_count(p); i++) {
        char gname[128], alias[64];
        snprintf(gname, sizeof gname, "grad/%s", plast_params_name(p, i));
        if (plast_st_reader_find(r, gname) < 0 && plast_model_param_alias(m, plast_params_name(p, i), alias, sizeof alias))
            snprintf(gname, sizeof gname, "grad/%s", alias);
        int64_t n = plast_shape_numel(plast_params_shape(p, i));
        const plast_real *g = plast_params_grad(p, i);
        if (plast_st_reader_find(r, gname) < 0) { /* Hebbian: out_weight is unused, so its gradient is absent */
            double mx = 0;
            for (int64_t k = 0; k < n; k++) mx = fmax(mx, fabs((double)g[k]));
            CHECK(mx == 0, "%s: %s has no reference gradient but ours is %g", name, plast_params_name(p, i), mx);
            continue;
        }
        plast_st_reader_read(r, gname, plast_params_shape(p, i), want, NULL);
        double eg = rel_error(g, want, n);
        if (eg > tol) fprintf(stderr, "  %s: gradient of %s differs by %g\n", name, plast_params_name(p, i), eg);
        worst = fmax(worst, eg);
        n_grads++;
    }
    CHECK(worst <= tol, "%s: parameter gradients differ by up to %g", name, worst);
    CHECK(n_grads >= 16, "%s: only %d gradients compared", name, n_grads);
    printf("%-14s outputs %.1e, plastic states %.1e, loss %.1e, %d gradients %.1e (tolerance %.0e)\n", name, e, es, el,
           n_grads, worst, tol);
done:
    free(states);
    plast_tape_free(t);
    plast_params_free(p);
    plast_model_free(m);
    plast_st_reader_close(r);
}

int main(void) {
    run_case("rnn", "hebbian");
    run_case("rnn", "gradient");
    run_case("lstm", "hebbian");
    run_case("lstm", "gradient");
    return test_finish(F64 ? "test_golden_duan (float64)" : "test_golden_duan (float32)");
}
