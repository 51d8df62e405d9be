/* tests/test_optim.c: optimizers, clipping and the cosine schedule against trajectories recorded from torch.optim
 * (tests/fixtures/optim_torch.safetensors, written by tools/fixtures/make_optim_fixture.py in float64). */
#include "plast.h"
#include "test.h"

#define STEPS 6

static const double TOL = sizeof(plast_real) == 8 ? 1e-12 : 2e-5;

static const char *fixture(void) {
    static char path[1024];
    const char *dir = getenv("PLAST_FIXTURES");
    snprintf(path, sizeof path, "%s/optim_torch.safetensors", dir ? dir : "tests/fixtures");
    return path;
}

static plast_params *make_params(void) {
    plast_param_spec specs[2] = {{"a", PLAST_SHAPE2(3, 4)}, {"b", PLAST_SHAPE1(5)}};
    return plast_params_init(2, specs, NULL);
}

static void read_into(const plast_st_reader *r, const char *name, plast_params *p, int i, plast_real *dst) {
    plast_err err;
    plast_status s = plast_st_reader_read(r, name, plast_params_shape(p, i), dst, &err);
    CHECK(s == PLAST_OK, "fixture: %s", err.msg);
}

static void run_case(const plast_st_reader *r, const char *name, plast_optim_config cfg) {
    plast_params *p = make_params();
    char key[128];
    for (int i = 0; i < 2; i++) {
        snprintf(key, sizeof key, "init/%d", i);
        read_into(r, key, p, i, plast_params_value(p, i));
    }
    plast_err err;
    plast_optim *o = plast_optim_init(&cfg, p, &err);
    CHECK(o != NULL, "%s: %s", name, err.msg);
    plast_real want[12];
    double worst = 0;
    for (int k = 0; k < STEPS && o; k++) {
        for (int i = 0; i < 2; i++) {
            snprintf(key, sizeof key, "grad/%d/%d", k, i);
            read_into(r, key, p, i, plast_params_grad(p, i));
        }
        plast_optim_step(o, p, cfg.lr, NULL);
        for (int i = 0; i < 2; i++) {
            snprintf(key, sizeof key, "%s/%d/%d", name, k, i);
            read_into(r, key, p, i, want);
            int64_t n = plast_shape_numel(plast_params_shape(p, i));
            for (int64_t j = 0; j < n; j++) {
                double got = plast_params_value(p, i)[j];
                worst = fmax(worst, fabs(got - want[j]) / fmax(1.0, fabs(want[j])));
            }
        }
    }
    CHECK(worst <= TOL, "%s: parameters differ from torch by %g (tolerance %g)", name, worst, TOL);
    CHECK(o && plast_optim_steps(o) == STEPS, "%s: step count", name);
    plast_optim_free(o);
    plast_params_free(p);
}

static plast_optim_config cfg_of(plast_optim_kind kind, double lr, double wd, double momentum, int amsgrad) {
    plast_optim_config c = plast_optim_config_default(kind);
    c.lr = lr;
    c.weight_decay = wd;
    c.momentum = momentum;
    c.amsgrad = amsgrad;
    return c;
}

int main(void) {
    plast_err err;
    plast_st_reader *r = plast_st_reader_open(fixture(), &err);
    CHECK(r != NULL, "cannot read the fixture: %s", err.msg);
    if (!r) return test_finish("test_optim");

    run_case(r, "sgd", cfg_of(PLAST_OPTIM_SGD, 0.1, 0, 0, 0));
    run_case(r, "sgd_momentum_wd", cfg_of(PLAST_OPTIM_SGD, 0.05, 0.01, 0.9, 0));
    run_case(r, "adam", cfg_of(PLAST_OPTIM_ADAM, 0.01, 0, 0, 0));
    run_case(r, "adam_wd_amsgrad", cfg_of(PLAST_OPTIM_ADAM, 0.01, 0.1, 0, 1));
    run_case(r, "adamw", cfg_of(PLAST_OPTIM_ADAMW, 0.01, 0.05, 0, 0));
    plast_optim_config c = cfg_of(PLAST_OPTIM_ADAMW, 1e-3, 0, 0, 1);
    c.beta1 = 0.8, c.beta2 = 0.95, c.eps = 1e-6;
    run_case(r, "adamw_amsgrad", c);

    /* clipping */
    const char *tags[2] = {"clip_small", "clip_large"};
    const double max_norms[2] = {0.5, 100.0};
    for (int k = 0; k < 2; k++) {
        plast_params *p = make_params();
        char key[64];
        for (int i = 0; i < 2; i++) {
            snprintf(key, sizeof key, "grad/0/%d", i);
            read_into(r, key, p, i, plast_params_grad(p, i));
        }
        double norm = plast_params_clip_grad_norm(p, max_norms[k]);
        plast_real want[12], want_norm;
        snprintf(key, sizeof key, "%s/norm", tags[k]);
        plast_st_reader_read(r, key, PLAST_SHAPE1(1), &want_norm, NULL);
        CHECK_CLOSE(norm, want_norm, TOL, 0, "%s: norm", tags[k]);
        for (int i = 0; i < 2; i++) {
            snprintf(key, sizeof key, "%s/%d", tags[k], i);
            read_into(r, key, p, i, want);
            for (int64_t j = 0; j < plast_shape_numel(plast_params_shape(p, i)); j++)
                CHECK_CLOSE(plast_params_grad(p, i)[j], want[j], TOL, 1e-7, "%s: clipped gradient", tags[k]);
        }
        plast_params_free(p);
    }

    /* cosine annealing, within the annealing period (past it plast holds lr_min; torch's recursion rises again) */
    plast_real lrs[13];
    plast_st_reader_read(r, "cosine/lr", PLAST_SHAPE1(13), lrs, NULL);
    for (int k = 0; k <= 10; k++)
        CHECK_CLOSE(plast_schedule_cosine(k, 10, 1e-3, 1e-4), lrs[k], TOL, 1e-12, "cosine lr at step %d", k);
    CHECK(plast_schedule_cosine(25, 10, 1e-3, 1e-4) == 1e-4, "cosine holds lr_min after the period");

    /* bad settings */
    plast_params *p = make_params();
    plast_optim_config bad = cfg_of(PLAST_OPTIM_ADAM, -1, 0, 0, 0);
    CHECK(plast_optim_init(&bad, p, &err) == NULL && strstr(err.msg, "lr"), "negative lr rejected: %s", err.msg);
    bad = cfg_of(PLAST_OPTIM_ADAM, 1e-3, 0, 0, 0);
    bad.beta2 = 1.0;
    CHECK(plast_optim_init(&bad, p, &err) == NULL, "beta2 = 1 rejected");
    CHECK(plast_optim_kind_parse("adamw") == PLAST_OPTIM_ADAMW && plast_optim_kind_parse("rmsprop") == PLAST_OPTIM_KIND_COUNT,
          "kind names");
    plast_params_free(p);
    plast_st_reader_close(r);
    return test_finish(sizeof(plast_real) == 8 ? "test_optim (float64)" : "test_optim (float32)");
}
