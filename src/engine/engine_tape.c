/* src/engine/engine_tape.c: the reference path: whole trials recorded op by op on a tape. Every model and rule
 * runs here; the fast paths are tested against it.
 *
 * A model without state (the MLP) has steps that do not depend on one another, so its T steps of B samples are
 * recorded as one step of T*B samples: x is (T, B, I) and y (T, B, O) in memory, which is (T*B, I) and (T*B, O).
 * The result is the same; the tape holds a few large ops instead of T times as many small ones. */
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "engine/engine_internal.h"

typedef struct tape_engine {
    plast_tape *tape;
    plast_node **y; /* the output node of each recorded step, kept for backward */
    int64_t steps;  /* steps recorded per trial: T, or 1 when a stateless model's steps are folded into the batch */
    int64_t batch;  /* samples per recorded step: B, or T B when folded */
    int recorded;   /* a training forward is on the tape */
    plast_trial trial; /* the trial being stepped (tape_step) */
} tape_engine;

static plast_status tape_forward(plast_engine *e, plast_params *p, const plast_real *x, plast_real *y,
                                 plast_real *modulation, plast_real *energy, int train, plast_err *err) {
    tape_engine *te = e->impl;
    const plast_model *m = e->model;
    const int64_t B = te->batch, I = plast_model_input(m), O = plast_model_output(m);
    plast_tape *t = te->tape;
    plast_tape_reset(t);
    plast_tape_set_grad_enabled(t, train);
    plast_trial tr;
    plast_trial_begin(&tr, m, t, p, B);
    if (e->initial) plast_trial_set_state(&tr, e->initial); /* stateful models only: never folded */
    tr.want_energy = energy != NULL;
    for (int64_t s = 0; s < te->steps; s++) {
        plast_step_out o;
        if (plast_trial_step(&tr, plast_tape_const(t, PLAST_SHAPE2(B, I), x + s * B * I), &o) != PLAST_OK) break;
        te->y[s] = o.y;
        memcpy(y + s * B * O, plast_node_data(o.y), (size_t)(B * O) * sizeof(plast_real));
        for (int64_t b = 0; b < B; b++) {
            if (modulation) modulation[s * B + b] = o.modulation ? plast_node_data(o.modulation)[b] : 0;
            if (energy) energy[s * B + b] = o.energy ? plast_node_data(o.energy)[b] : 0;
        }
    }
    te->recorded = train && plast_tape_status(t) == PLAST_OK;
    if (e->final && plast_tape_status(t) == PLAST_OK) plast_trial_get_state(&tr, e->final);
    return plast_tape_take_error(t, err);
}

/* d loss / d theta = d/d theta sum_t <dy_t, y_t>, one backward over the tape */
static plast_status tape_backward(plast_engine *e, plast_params *p, const plast_real *dy, plast_err *err) {
    (void)p;
    tape_engine *te = e->impl;
    if (!te->recorded) return plast_err_set(err, PLAST_ERR_STATE, "engine: backward without a training forward");
    plast_tape *t = te->tape;
    const int64_t B = te->batch, O = plast_model_output(e->model);
    plast_node *total = NULL;
    for (int64_t s = 0; s < te->steps; s++) {
        plast_node *w = plast_tape_const(t, PLAST_SHAPE2(B, O), dy + s * B * O);
        plast_node *term = plast_sum_all(t, plast_mul(t, w, te->y[s]));
        total = total ? plast_add(t, total, term) : term;
    }
    plast_tape_backward(t, total);
    te->recorded = 0;
    return plast_tape_take_error(t, err);
}

/* step t of a training trial recorded step by step (closed-loop use); a folded stateless model cannot step */
static plast_status tape_step(plast_engine *e, plast_params *p, int64_t t, const plast_real *x_t, plast_real *y_t,
                              plast_real *modulation_t, plast_real *energy_t, plast_err *err) {
    tape_engine *te = e->impl;
    const plast_model *m = e->model;
    const int64_t B = e->B, I = plast_model_input(m), O = plast_model_output(m);
    if (te->steps != e->T)
        return plast_err_set(err, PLAST_ERR_STATE, "engine: a model without state runs its steps as one batch here "
                                                   "and cannot be stepped");
    plast_tape *tp = te->tape;
    if (t == 0) {
        plast_tape_reset(tp);
        plast_tape_set_grad_enabled(tp, 1);
        plast_trial_begin(&te->trial, m, tp, p, B);
        if (e->initial) plast_trial_set_state(&te->trial, e->initial);
        te->trial.want_energy = e->want_energy;
        te->recorded = 0;
    }
    plast_step_out o;
    if (plast_trial_step(&te->trial, plast_tape_const(tp, PLAST_SHAPE2(B, I), x_t), &o) != PLAST_OK)
        return plast_tape_take_error(tp, err);
    te->y[t] = o.y;
    memcpy(y_t, plast_node_data(o.y), (size_t)(B * O) * sizeof(plast_real));
    for (int64_t b = 0; b < B; b++) {
        if (modulation_t) modulation_t[b] = o.modulation ? plast_node_data(o.modulation)[b] : 0;
        if (energy_t) energy_t[b] = o.energy ? plast_node_data(o.energy)[b] : 0;
    }
    te->recorded = t == e->T - 1 && plast_tape_status(tp) == PLAST_OK;
    return plast_tape_take_error(tp, err);
}

static void tape_release(plast_engine *e) {
    tape_engine *te = e->impl;
    if (!te) return;
    plast_tape_free(te->tape);
    free(te->y);
    free(te);
}

static size_t tape_bytes(const plast_engine *e) {
    const tape_engine *te = e->impl;
    return plast_tape_bytes_reserved(te->tape);
}

static const engine_path TAPE_PATH = {tape_forward, tape_backward, tape_release, tape_bytes, NULL, tape_step, NULL, 1};

plast_status engine_tape_init(plast_engine *e, plast_err *err) {
    if (e->plan_only) { /* the tape's use depends on the ops recorded: no plan ahead */
        e->planned = 0;
        return PLAST_OK;
    }
    tape_engine *te = calloc(1, sizeof *te);
    if (!te) return plast_err_set(err, PLAST_ERR_NOMEM, "engine: out of memory");
    te->tape = plast_tape_init(err);
    te->steps = plast_model_state_count(e->model) == 0 ? 1 : e->T;
    te->batch = e->B * (e->T / te->steps);
    te->y = calloc((size_t)te->steps, sizeof *te->y);
    if (!te->tape || !te->y) {
        plast_tape_free(te->tape);
        free(te->y);
        free(te);
        return plast_err_set(err, PLAST_ERR_NOMEM, "engine: out of memory");
    }
    e->impl = te;
    e->path = &TAPE_PATH;
    return PLAST_OK;
}
