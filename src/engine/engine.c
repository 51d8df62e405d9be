/* src/engine/engine.c: choosing a path for a model and running it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "engine/engine_internal.h"

static const char *const KIND_NAMES[] = {"auto", "tape", "lowrank", "dense"};
_Static_assert(sizeof KIND_NAMES / sizeof KIND_NAMES[0] == PLAST_ENGINE_KIND_COUNT, "an engine kind lacks a name");

const char *plast_engine_kind_name(plast_engine_kind k) {
    return ((int)k >= 0 && k < PLAST_ENGINE_KIND_COUNT) ? KIND_NAMES[k] : "unknown";
}

plast_engine *plast_engine_init(const plast_model *m, int64_t batch, int64_t steps, plast_engine_kind kind,
                                int want_energy, plast_err *err) {
    if (!m || batch < 1 || steps < 1 || (int)kind < 0 || kind >= PLAST_ENGINE_KIND_COUNT) {
        plast_err_set(err, PLAST_ERR_INVALID_ARG, "engine: needs a model, batch >= 1, steps >= 1 and a known kind");
        return NULL;
    }
    plast_engine *e = calloc(1, sizeof *e);
    if (!e) {
        plast_err_set(err, PLAST_ERR_NOMEM, "engine: out of memory");
        return NULL;
    }
    e->model = m;
    e->B = batch;
    e->T = steps;
    e->want_energy = want_energy;
    char why[256] = "";
    plast_status s;
    if (kind != PLAST_ENGINE_TAPE && engine_duan_supports(m, kind, want_energy, why, sizeof why)) {
        s = engine_duan_has_image_encoder(m) ? engine_frontend_init(e, err) : engine_duan_init(e, err);
    } else if (kind == PLAST_ENGINE_AUTO || kind == PLAST_ENGINE_TAPE) {
        e->kind = PLAST_ENGINE_TAPE;
        s = engine_tape_init(e, err);
    } else {
        s = plast_err_set(err, PLAST_ERR_INVALID_ARG, "engine: no %s path for %s: %s", plast_engine_kind_name(kind),
                          plast_model_describe(m), why);
    }
    if (s != PLAST_OK) {
        free(e);
        return NULL;
    }
    return e;
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

plast_status plast_engine_backward(plast_engine *e, plast_params *p, const plast_real *dy, plast_err *err) {
    return e->path->backward(e, p, dy, err);
}
