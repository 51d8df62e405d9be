/* src/engine/engine_internal.h: the engine object and the paths behind it (internal). */
#ifndef PLAST_ENGINE_ENGINE_INTERNAL_H
#define PLAST_ENGINE_ENGINE_INTERNAL_H

#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "plast/engine.h"

typedef struct engine_path {
    plast_status (*forward)(plast_engine *e, plast_params *p, const plast_real *x, plast_real *y,
                            plast_real *modulation, plast_real *energy, int train, plast_err *err);
    plast_status (*backward)(plast_engine *e, plast_params *p, const plast_real *dy, plast_err *err);
    void (*release)(plast_engine *e);
    size_t (*bytes)(const plast_engine *e);
    double (*flops)(const plast_engine *e); /* matrix-product FLOPs of one training step, or 0 if not counted */
    /* step t of a training trial (plast_engine_step); NULL where the path cannot step */
    plast_status (*step)(plast_engine *e, plast_params *p, int64_t t, const plast_real *x_t, plast_real *y_t,
                         plast_real *modulation_t, plast_real *energy_t, plast_err *err);
    /* d loss / d x (T, B, I) after a backward of an engine opened with want_dx; NULL where the path has none */
    const plast_real *(*input_grad)(const plast_engine *e);
    int initial_state; /* 1: trials start from plast_engine_set_initial_state's state (e->initial) */
} engine_path;

struct plast_engine {
    const plast_model *model;
    int64_t B, T;
    plast_engine_kind kind;
    int want_energy;
    const engine_path *path;
    void *impl; /* the path's own state */
    const plast_state *initial; /* the state trials start from (paths with initial_state); NULL: zeros */
    int want_dx;                /* set before the path opens: backward also computes d loss / d x (input_grad) */
    plast_state *final;         /* a forward writes the trial's last state here (plast_engine_advance); NULL: not */
    int plan_only;              /* plast_engine_plan: the path's init sets `planned` and allocates nothing */
    size_t planned;             /* the bytes it would allocate; 0: it does not plan ahead (the tape) */
};

/* A path's memory plan: every buffer taken from one block, sized before allocation. Run the path's layout once with
 * base NULL (counting: off becomes the size), allocate off bytes, run it again with base set. */
typedef struct engine_plan {
    char *base; /* NULL while counting */
    size_t off;
} engine_plan;

/* the next n bytes (at least 64, 64-aligned) of the block; NULL while counting */
static inline void *engine_plan_take(engine_plan *pl, size_t n) {
    const size_t bytes = ((n > 0 ? n : 1) + 63) / 64 * 64;
    void *p = pl->base ? pl->base + pl->off : NULL;
    pl->off += bytes;
    return p;
}
/* n reals (none: still one slot) */
static inline plast_real *engine_plan_carve(engine_plan *pl, int64_t n) {
    return engine_plan_take(pl, (size_t)(n > 0 ? n : 1) * sizeof(plast_real));
}
/* A path's whole memory: layout(impl, pl) run once counting, one zeroed 64-aligned block of that size, then layout
 * again to carve it. Returns the block (NULL when out of memory); its size in *bytes either way. */
static inline void *engine_plan_alloc(void (*layout)(void *impl, engine_plan *pl), void *impl, size_t *bytes) {
    engine_plan pl = {NULL, 0};
    layout(impl, &pl);
    *bytes = pl.off;
    void *block = aligned_alloc(64, pl.off);
    if (!block) return NULL;
    pl = (engine_plan){block, 0};
    layout(impl, &pl);
    memset(block, 0, pl.off);
    return block;
}

/* The end of a path's init, for the paths whose memory is one planned block: with eng->plan_only the size alone
 * (eng->planned, impl freed), otherwise the block allocated (into *block, its size plus impl_size into *bytes) and
 * the engine given impl and path; out of memory frees impl and names `what`. */
static inline plast_status engine_plan_open(plast_engine *eng, void *impl, size_t impl_size,
                                            void (*layout)(void *impl, engine_plan *pl), void **block, size_t *bytes,
                                            const engine_path *path, const char *what, plast_err *err) {
    size_t n;
    if (eng->plan_only) { /* plast_engine_plan: the size alone */
        engine_plan pl = {NULL, 0};
        layout(impl, &pl);
        eng->planned = pl.off + impl_size;
        free(impl);
        return PLAST_OK;
    }
    *block = engine_plan_alloc(layout, impl, &n);
    if (!*block) {
        free(impl);
        return plast_err_set(err, PLAST_ERR_NOMEM, "engine: out of memory for %zu bytes (%s)", n, what);
    }
    *bytes = n + impl_size;
    eng->impl = impl;
    eng->path = path;
    return PLAST_OK;
}

/* A linear readout of `rows` rows of h (H each, ld apart): y = h R^T + r with R (O, H) (torch's layout), or
 * y = h R + r with R (H, O) when `plain`; w and b are parameter indices. The backward writes d loss / d h into gh
 * (rows ld apart, columns H.. left alone) and accumulates d R and d r. (engine.c) */
void engine_readout_forward(plast_params *p, int w, int b, int plain, const plast_real *h, int64_t rows, int64_t H,
                            int64_t ld, int64_t O, plast_real *y);
void engine_readout_backward(plast_params *p, int w, int b, int plain, const plast_real *h, const plast_real *dy,
                             int64_t rows, int64_t H, int64_t ld, int64_t O, plast_real *gh);

/* Each path: 1 if it serves the model (a reason in why otherwise), then init. */
plast_status engine_tape_init(plast_engine *e, plast_err *err);
int engine_duan_supports(const plast_model *m, plast_engine_kind kind, int want_energy, char *why, size_t cap);
plast_status engine_duan_init(plast_engine *e, plast_err *err);
/* Duan models with the conv4 image encoder: the encoder on a tape over all steps, then the Duan engine. */
plast_status engine_frontend_init(plast_engine *e, plast_err *err);
int engine_duan_has_image_encoder(const plast_model *m);
/* Models that are one plastic layer (models/plastic_layer.h): STPNr and STPNf */
int engine_fused_supports(const plast_model *m, int want_energy, char *why, size_t cap);
plast_status engine_fused_init(plast_engine *e, plast_err *err);
/* model.frontend in front of a path that gives d loss / d x: open_core opens that path on the features */
plast_status engine_features_init(plast_engine *e, plast_status (*open_core)(plast_engine *e, plast_err *err),
                                  plast_err *err);
/* Models that are one fast-weight layer (models/fast_layer.h): Fast Weights */
int engine_fastweights_supports(const plast_model *m, int want_energy, char *why, size_t cap);
plast_status engine_fastweights_init(plast_engine *e, plast_err *err);
/* Models that are one non-plastic recurrent cell (models/cell_layer.h): the rnn and lstm baselines */
int engine_cell_supports(const plast_model *m, int want_energy, char *why, size_t cap);
plast_status engine_cell_init(plast_engine *e, plast_err *err);
/* d loss / d input (T, B, I) after backward, for a Duan engine without an encoder layer */
const plast_real *engine_duan_input_grad(const plast_engine *e);

#endif
