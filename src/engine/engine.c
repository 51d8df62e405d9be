/* src/engine/engine.c: choosing a path for a model and running it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/gemm.h"
#include "engine/engine_internal.h"
#include "models/model_internal.h"

#define KIND_NAME(ID, name) name,
static const char *const KIND_NAMES[] = {PLAST_ENGINE_KIND_LIST(KIND_NAME)};
#undef KIND_NAME
_Static_assert(sizeof KIND_NAMES / sizeof KIND_NAMES[0] == PLAST_ENGINE_KIND_COUNT, "an engine kind lacks a name");

const char *plast_engine_kind_name(plast_engine_kind k) {
    return ((int)k >= 0 && k < PLAST_ENGINE_KIND_COUNT) ? KIND_NAMES[k] : "unknown";
}

plast_engine_kind plast_engine_kind_parse(const char *s) {
    for (int k = 0; s && k < PLAST_ENGINE_KIND_COUNT; k++)
        if (strcmp(s, KIND_NAMES[k]) == 0) return (plast_engine_kind)k;
    return PLAST_ENGINE_KIND_COUNT;
}

/* ---- the paths: one row each, in order of preference for train.engine = auto ------------------------------------ */

/* The trial length from which train.engine = auto runs Duan et al.'s plastic models on the dense path rather than
 * the low-rank one. The low-rank form costs O(T^2) per trial in large matrix products, the dense form O(T) in
 * passes over each sample's plastic matrices, so their ratio falls as 1/T. Measured (plast-bench --run
 * copy_{40,long,160}_lstm_hebbian_{lowrank,dense}, batch 64, LSTM H = 128, 2 cores): dense / low-rank 2.4 at
 * T = 40, 1.27 at 80, 0.66 at 160, so equal near T = 100 (docs/PERFORMANCE.md). */
enum { DUAN_DENSE_FROM_T = 100 };

typedef struct engine_path_row {
    plast_engine_kind kind;
    /* 1 if the path serves model m (with the energy measure if asked); otherwise 0 and the reason in why */
    int (*supports)(const plast_model *m, int want_energy, char *why, size_t cap);
    plast_status (*open)(plast_engine *e, plast_err *err); /* sets e->path and e->impl */
    int64_t auto_below_T; /* train.engine = auto takes the path for trials shorter than this only; 0: any length */
} engine_path_row;

static int lowrank_supports(const plast_model *m, int want_energy, char *why, size_t cap) {
    return engine_duan_supports(m, PLAST_ENGINE_LOWRANK, want_energy, why, cap);
}
static int dense_supports(const plast_model *m, int want_energy, char *why, size_t cap) {
    return engine_duan_supports(m, PLAST_ENGINE_DENSE, want_energy, why, cap);
}
static int tape_supports(const plast_model *m, int want_energy, char *why, size_t cap) {
    (void)m, (void)want_energy, (void)why, (void)cap;
    return 1; /* every model records on the tape */
}
/* Duan models with the Conv-4 image encoder run it by hand in front of the recurrent core (engine_frontend.c) */
static plast_status duan_open(plast_engine *e, plast_err *err) {
    return engine_duan_has_image_encoder(e->model) ? engine_frontend_init(e, err) : engine_duan_init(e, err);
}

static const engine_path_row PATHS[] = {
    {PLAST_ENGINE_LOWRANK, lowrank_supports, duan_open, DUAN_DENSE_FROM_T},
    {PLAST_ENGINE_DENSE, dense_supports, duan_open, 0},
    {PLAST_ENGINE_DENSE, engine_cell_supports, engine_cell_init, 0},
    {PLAST_ENGINE_FUSED, engine_fused_supports, engine_fused_init, 0},
    {PLAST_ENGINE_FUSED, engine_fastweights_supports, engine_fastweights_init, 0},
    {PLAST_ENGINE_TAPE, tape_supports, engine_tape_init, 0},
};

/* the first path of the table that serves the model (kind auto) or the one asked, opened on e (or planned, with
 * e->plan_only) */
static plast_status engine_open(plast_engine *e, plast_engine_kind kind, plast_err *err) {
    const plast_model *m = e->model;
    char why[256] = "";
    const engine_path_row *row = NULL;
    for (size_t i = 0; i < sizeof PATHS / sizeof PATHS[0] && !row; i++) {
        if (kind != PLAST_ENGINE_AUTO && kind != PATHS[i].kind) continue;
        if (!PATHS[i].supports(m, e->want_energy, why, sizeof why)) continue;
        if (kind == PLAST_ENGINE_AUTO && PATHS[i].auto_below_T && e->T >= PATHS[i].auto_below_T)
            snprintf(why, sizeof why, "from T = %lld the next path is cheaper", (long long)PATHS[i].auto_below_T);
        else
            row = &PATHS[i];
    }
    if (!row)
        return plast_err_set(err, PLAST_ERR_INVALID_ARG, "engine: no %s path for %s: %s", plast_engine_kind_name(kind),
                             plast_model_describe(m), why);
    e->kind = row->kind;
    /* model.frontend: the convolutions on a tape in front of the family's own path (engine_features.c) */
    return plast_model_has_frontend(m) && row->kind != PLAST_ENGINE_TAPE ? engine_features_init(e, row->open, err)
                                                                         : row->open(e, err);
}

static int engine_args_ok(const plast_model *m, int64_t batch, int64_t steps, plast_engine_kind kind, plast_err *err) {
    if (m && batch >= 1 && steps >= 1 && (int)kind >= 0 && kind < PLAST_ENGINE_KIND_COUNT) return 1;
    plast_err_set(err, PLAST_ERR_INVALID_ARG, "engine: needs a model, batch >= 1, steps >= 1 and a known kind");
    return 0;
}

plast_engine *plast_engine_init(const plast_model *m, int64_t batch, int64_t steps, plast_engine_kind kind,
                                int want_energy, plast_err *err) {
    if (!engine_args_ok(m, batch, steps, kind, err)) return NULL;
    plast_engine *e = calloc(1, sizeof *e);
    if (!e) {
        plast_err_set(err, PLAST_ERR_NOMEM, "engine: out of memory");
        return NULL;
    }
    e->model = m;
    e->B = batch;
    e->T = steps;
    e->want_energy = want_energy;
    if (engine_open(e, kind, err) != PLAST_OK) {
        free(e);
        return NULL;
    }
    return e;
}

plast_status plast_engine_plan(const plast_model *m, int64_t batch, int64_t steps, plast_engine_kind kind,
                               int want_energy, plast_engine_kind *chosen, size_t *bytes, plast_err *err) {
    if (!engine_args_ok(m, batch, steps, kind, err)) return plast_err_status(err, PLAST_ERR_INVALID_ARG);
    plast_engine e = {.model = m, .B = batch, .T = steps, .want_energy = want_energy, .plan_only = 1};
    plast_status s = engine_open(&e, kind, err);
    if (chosen) *chosen = e.kind;
    if (bytes) *bytes = s == PLAST_OK ? e.planned : 0;
    return s;
}

void plast_engine_free(plast_engine *e) {
    if (!e) return;
    if (e->path) e->path->release(e);
    free(e);
}

plast_engine_kind plast_engine_get_kind(const plast_engine *e) { return e->kind; }
int64_t plast_engine_batch(const plast_engine *e) { return e->B; }
int64_t plast_engine_steps(const plast_engine *e) { return e->T; }
size_t plast_engine_bytes(const plast_engine *e) { return e->path->bytes(e); }
double plast_engine_flops(const plast_engine *e) { return e->path->flops ? e->path->flops(e) : 0; }

plast_status plast_engine_forward(plast_engine *e, plast_params *p, const plast_real *x, plast_real *y,
                                  plast_real *modulation, plast_real *energy, int train, plast_err *err) {
    if (energy && !e->want_energy)
        return plast_err_set(err, PLAST_ERR_STATE, "engine: energy was not requested at init");
    return e->path->forward(e, p, x, y, modulation, energy, train, err);
}

plast_status plast_engine_set_initial_state(plast_engine *e, const plast_state *s, plast_err *err) {
    if (!e) return plast_err_set(err, PLAST_ERR_INVALID_ARG, "engine: set_initial_state needs an engine");
    if (s && plast_state_batch(s) != e->B)
        return plast_err_set(err, PLAST_ERR_INVALID_ARG, "engine: an initial state of batch %lld for an engine of "
                                                         "batch %lld", (long long)plast_state_batch(s), (long long)e->B);
    if (plast_model_state_count(e->model) == 0) return PLAST_OK; /* nothing to start from */
    if (s && !e->path->initial_state)
        return plast_err_set(err, PLAST_ERR_CONFIG, "engine: the %s path starts every trial from the zero state; "
                                                         "training from recorded states needs another path",
                             plast_engine_kind_name(e->kind));
    e->initial = s;
    return PLAST_OK;
}

plast_status plast_engine_advance(plast_engine *e, plast_params *p, plast_state *s, const plast_real *x,
                                  plast_real *y, plast_real *energy, plast_err *err) {
    if (!e || !p || !s || !x || !y)
        return plast_err_set(err, PLAST_ERR_INVALID_ARG, "engine advance: needs parameters, a state, x and y");
    if (e->T != 1 || plast_state_batch(s) != e->B)
        return plast_err_set(err, PLAST_ERR_INVALID_ARG, "engine advance: needs an engine of T = 1 and a state of its "
                                                         "batch %lld (got T = %lld, batch %lld)", (long long)e->B,
                             (long long)e->T, (long long)plast_state_batch(s));
    if (!e->path->initial_state)
        return plast_err_set(err, PLAST_ERR_CONFIG, "engine advance: the %s path starts every trial from the zero "
                                                    "state", plast_engine_kind_name(e->kind));
    const plast_state *before = e->initial;
    e->initial = s, e->final = s;
    plast_status st = e->path->forward(e, p, x, y, NULL, energy, 0, err);
    e->initial = before, e->final = NULL;
    return st;
}

int plast_engine_can_step(const plast_engine *e) {
    if (!e->path->step) return 0;
    /* the tape path folds a stateless model's steps into one batch */
    return e->kind != PLAST_ENGINE_TAPE || plast_model_state_count(e->model) > 0;
}

plast_status plast_engine_step(plast_engine *e, plast_params *p, int64_t t, const plast_real *x_t, plast_real *y_t,
                               plast_real *modulation_t, plast_real *energy_t, plast_err *err) {
    if (!e || !p || !x_t || !y_t || t < 0 || t >= e->T)
        return plast_err_set(err, PLAST_ERR_INVALID_ARG, "engine step: needs parameters, x_t, y_t and 0 <= t < T");
    if (!plast_engine_can_step(e))
        return plast_err_set(err, PLAST_ERR_STATE, "engine step: the %s path cannot step this model",
                             plast_engine_kind_name(e->kind));
    if (energy_t && !e->want_energy && e->kind == PLAST_ENGINE_TAPE)
        return plast_err_set(err, PLAST_ERR_STATE, "engine: energy was not requested at init");
    return e->path->step(e, p, t, x_t, y_t, modulation_t, energy_t, err);
}

plast_status plast_engine_backward(plast_engine *e, plast_params *p, const plast_real *dy, plast_err *err) {
    return e->path->backward(e, p, dy, err);
}

void engine_readout_forward(plast_params *p, int w, int b, int plain, const plast_real *h, int64_t rows, int64_t H,
                            int64_t ld, int64_t O, plast_real *y) {
    const plast_real *R = plast_params_value(p, w), *rb = plast_params_value(p, b);
    if (plain) plast_gemm(0, 0, rows, O, H, 1, h, ld, R, O, 0, y, O);
    else plast_gemm(0, 1, rows, O, H, 1, h, ld, R, H, 0, y, O);
    for (int64_t r = 0; r < rows; r++)
        for (int64_t k = 0; k < O; k++) y[r * O + k] += rb[k];
}

void engine_readout_backward(plast_params *p, int w, int b, int plain, const plast_real *h, const plast_real *dy,
                             int64_t rows, int64_t H, int64_t ld, int64_t O, plast_real *gh) {
    const plast_real *R = plast_params_value(p, w);
    plast_real *gR = plast_params_grad(p, w), *grb = plast_params_grad(p, b);
    if (plain) {
        plast_gemm(0, 1, rows, H, O, 1, dy, O, R, O, 0, gh, ld);
        plast_gemm(1, 0, H, O, rows, 1, h, ld, dy, O, 1, gR, O);
    } else {
        plast_gemm(0, 0, rows, H, O, 1, dy, O, R, H, 0, gh, ld);
        plast_gemm(1, 0, O, H, rows, 1, dy, O, h, ld, 1, gR, H);
    }
    for (int64_t r = 0; r < rows; r++)
        for (int64_t k = 0; k < O; k++) grb[k] += dy[r * O + k];
}
