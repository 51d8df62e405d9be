/* src/engine/engine_features.c: model.frontend (convolutions in front of any family, models/model.c) on the fast
 * paths. The frontend has no recurrence, so it runs apart from the recurrent core: the forward records the features
 * of all T B images at once on a tape (the frontend's ops), and the family's own path (fused, fast-weight or cell)
 * runs on them; the backward runs that path with want_dx and sends d loss / d features back through the tape into
 * the frontend's parameters. Stepping records each step's features on the same tape. tests/test_engine.c checks the
 * whole against the tape path. */
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "engine/engine_internal.h"
#include "models/model_internal.h"

typedef struct features_engine {
    plast_engine core;   /* the family's path on the features */
    plast_tape *tape;
    plast_node **feat;   /* (T) each step's feature node when stepping; feat[0] all T B rows after a forward */
    int64_t I, pixels;   /* features per sample (the family's input) and the model's input */
    plast_real *fx;      /* (T, B, I) the features */
    int recorded;        /* steps recorded since the last backward: T after a training forward (one node) */
    int stepped;         /* the record is per step */
    plast_node *param[PLAST_MODEL_MAX_PARAMS];
} features_engine;

/* a new record: the tape cleared and the parameters as its leaves */
static void record_begin(features_engine *F, plast_params *p, int train) {
    const plast_model *m = F->core.model;
    plast_tape_reset(F->tape);
    plast_tape_set_grad_enabled(F->tape, train);
    for (int i = 0; i < m->layout.n_params; i++) F->param[i] = plast_tape_param(F->tape, p, i);
}

/* the features of `rows` inputs x into fx (rows, I); the node, or NULL with the tape's error */
static plast_node *features_of(features_engine *F, const plast_real *x, int64_t rows, plast_real *fx) {
    plast_node *xn = plast_tape_const(F->tape, PLAST_SHAPE2(rows, F->pixels), x);
    plast_node *f = plast_model_frontend_features(F->core.model, F->tape, F->param, xn, rows);
    if (plast_tape_status(F->tape) != PLAST_OK) return NULL;
    memcpy(fx, plast_node_data(f), (size_t)(rows * F->I) * sizeof(plast_real));
    return f;
}

static plast_status ft_forward(plast_engine *e, plast_params *p, const plast_real *x, plast_real *y,
                               plast_real *modulation, plast_real *energy, int train, plast_err *err) {
    features_engine *F = e->impl;
    record_begin(F, p, train);
    F->recorded = 0, F->stepped = 0;
    F->feat[0] = features_of(F, x, e->T * e->B, F->fx);
    if (!F->feat[0]) return plast_tape_take_error(F->tape, err);
    F->core.initial = e->initial, F->core.final = e->final;
    plast_status s = F->core.path->forward(&F->core, p, F->fx, y, modulation, energy, train, err);
    F->core.final = NULL;
    F->recorded = s == PLAST_OK && train ? (int)e->T : 0;
    return s;
}

static plast_status ft_step(plast_engine *e, plast_params *p, int64_t t, const plast_real *x_t, plast_real *y_t,
                            plast_real *modulation_t, plast_real *energy_t, plast_err *err) {
    features_engine *F = e->impl;
    if (t == 0) {
        record_begin(F, p, 1);
        F->recorded = 0, F->stepped = 1;
        F->core.initial = e->initial;
    }
    F->feat[t] = features_of(F, x_t, e->B, F->fx + t * e->B * F->I);
    if (!F->feat[t]) return plast_tape_take_error(F->tape, err);
    plast_status s = F->core.path->step(&F->core, p, t, F->fx + t * e->B * F->I, y_t, modulation_t, energy_t, err);
    F->recorded = s == PLAST_OK ? (int)t + 1 : 0;
    return s;
}

/* the core's backward, then d loss / d features through the frontend: one backward over the tape of
 * sum <dx, features> */
static plast_status ft_backward(plast_engine *e, plast_params *p, const plast_real *dy, plast_err *err) {
    features_engine *F = e->impl;
    if (F->recorded != e->T)
        return plast_err_set(err, PLAST_ERR_STATE, "engine: backward needs a training forward (or all T steps)");
    plast_status s = F->core.path->backward(&F->core, p, dy, err);
    if (s != PLAST_OK) return s;
    const plast_real *dx = F->core.path->input_grad(&F->core);
    plast_tape *t = F->tape;
    plast_node *total = NULL;
    const int64_t parts = F->stepped ? e->T : 1, rows = F->stepped ? e->B : e->T * e->B;
    for (int64_t k = 0; k < parts; k++) {
        plast_node *w = plast_tape_const(t, PLAST_SHAPE2(rows, F->I), dx + k * rows * F->I);
        plast_node *term = plast_sum_all(t, plast_mul(t, w, F->feat[k]));
        total = total ? plast_add(t, total, term) : term;
    }
    plast_tape_backward(t, total);
    F->recorded = 0;
    return plast_tape_take_error(t, err);
}

static void ft_release(plast_engine *e) {
    features_engine *F = e->impl;
    if (!F) return;
    if (F->core.path) F->core.path->release(&F->core);
    plast_tape_free(F->tape);
    free(F->feat), free(F->fx), free(F);
}

static size_t ft_bytes(const plast_engine *e) {
    const features_engine *F = e->impl;
    return F->core.path->bytes(&F->core) + (size_t)(e->T * e->B * F->I) * sizeof(plast_real) + sizeof *F;
}

/* the core's products; the frontend's convolutions are not counted */
static double ft_flops(const plast_engine *e) {
    const features_engine *F = e->impl;
    return F->core.path->flops ? F->core.path->flops(&F->core) : 0;
}

static const engine_path FEATURES_PATH = {ft_forward, ft_backward, ft_release, ft_bytes, ft_flops, ft_step, NULL, 1};

plast_status engine_features_init(plast_engine *e, plast_status (*open_core)(plast_engine *e, plast_err *err),
                                  plast_err *err) {
    const plast_model *m = e->model;
    if (e->plan_only) { /* the core's plan and the features (the frontend's tape not) */
        plast_engine core = {.model = m, .B = e->B, .T = e->T, .kind = e->kind, .want_energy = e->want_energy,
                             .want_dx = 1, .plan_only = 1};
        plast_status s = open_core(&core, err);
        e->planned = core.planned + (size_t)(e->T * e->B * m->I) * sizeof(plast_real);
        return s;
    }
    features_engine *F = calloc(1, sizeof *F);
    if (!F) return plast_err_set(err, PLAST_ERR_NOMEM, "engine: out of memory");
    e->impl = F;
    e->path = &FEATURES_PATH;
    F->I = m->I, F->pixels = m->input;
    F->core = (plast_engine){.model = m, .B = e->B, .T = e->T, .kind = e->kind, .want_energy = e->want_energy,
                             .want_dx = 1};
    F->fx = malloc((size_t)(e->T * e->B * F->I) * sizeof(plast_real));
    F->feat = calloc((size_t)e->T, sizeof *F->feat);
    plast_status s = F->fx && F->feat ? PLAST_OK : plast_err_set(err, PLAST_ERR_NOMEM, "engine: out of memory");
    if (s == PLAST_OK && !(F->tape = plast_tape_init(err))) s = plast_err_status(err, PLAST_ERR_NOMEM);
    if (s == PLAST_OK) s = open_core(&F->core, err);
    if (s == PLAST_OK && (!F->core.path->input_grad || !F->core.path->step))
        s = plast_err_set(err, PLAST_ERR_CONFIG, "engine: the %s path cannot run model.frontend",
                          plast_engine_kind_name(e->kind));
    if (s != PLAST_OK) {
        ft_release(e);
        e->impl = NULL, e->path = NULL;
    }
    return s;
}
