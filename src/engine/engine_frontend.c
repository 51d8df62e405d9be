/* src/engine/engine_frontend.c: Duan et al.'s image models (model.encoder = conv4) on the fast path.
 *
 * The Conv-4 encoder has no recurrence, so it runs apart from the recurrent core: forward computes each step's
 * features (batch normalisation over that step's B images, as the reference) without recording anything, and the
 * features with the label inputs appended are the cell inputs of the Duan engine (engine_duan.c without an encoder
 * layer), which runs the plastic recurrence on its low-rank (or dense) path. Backward runs the Duan engine, takes
 * d loss / d cell input from it, then, one step at a time, records the encoder again on a tape and sends the
 * feature part of that gradient back through it. Recomputing the encoder's forward (a third of its cost) keeps the
 * tape to one step's images: ten times less memory for a 10-step trial, and memory that stays in use (a tape of
 * all steps at once was twice as slow, mostly in page faults and cache misses). tests/test_engine.c checks the
 * whole against the tape path.
 */
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "engine/engine_internal.h"
#include "models/family_duan.h"
#include "models/model_internal.h"

typedef struct frontend {
    plast_engine core;    /* the Duan engine on the cell inputs */
    plast_tape *tape;     /* the encoder over one step's images */
    int ready;            /* the last forward was a training forward: backward may follow */
    int64_t pixels, label, Hf, H, I;
    plast_real *images;   /* (T B, S, S, C) */
    plast_real *cell_x;   /* (T, B, H): features then labels */
    plast_real *seed;     /* (T B, Hf): d loss / d features */
} frontend;

/* Records the encoder on step t's images with parameter leaves (and gradients when grad); returns the features. */
static plast_node *encode_step(frontend *F, const plast_engine *e, plast_params *p, int64_t t, int grad) {
    const duan_conv *k = &PLAST_PRIV(e->model, duan_priv)->cnn;
    plast_tape *tp = F->tape;
    plast_tape_reset(tp);
    plast_tape_set_grad_enabled(tp, grad);
    plast_node *param[PLAST_MODEL_MAX_PARAMS] = {0};
    for (int l = 0; l < 4; l++) {
        const int idx[3] = {k->w[l], k->gamma[l], k->beta[l]};
        for (int j = 0; j < 3; j++) param[idx[j]] = plast_tape_param(tp, p, idx[j]);
    }
    param[k->proj_w] = plast_tape_param(tp, p, k->proj_w);
    param[k->proj_b] = plast_tape_param(tp, p, k->proj_b);
    plast_node *img = plast_tape_const(tp, PLAST_SHAPE4(e->B, k->size, k->size, k->channels),
                                       F->images + t * e->B * F->pixels);
    return duan_conv_features(tp, e->model, param, img, 1);
}

static plast_status fe_forward(plast_engine *e, plast_params *p, const plast_real *x, plast_real *y,
                               plast_real *modulation, plast_real *energy, int train, plast_err *err) {
    (void)energy;
    frontend *F = e->impl;
    const int64_t B = e->B;
    for (int64_t r = 0; r < e->T * B; r++)
        memcpy(F->images + r * F->pixels, x + r * F->I, (size_t)F->pixels * sizeof(plast_real));
    for (int64_t t = 0; t < e->T; t++) {
        plast_node *f = encode_step(F, e, p, t, 0);
        if (plast_tape_status(F->tape) != PLAST_OK)
            return plast_err_set(err, plast_tape_status(F->tape), "engine: image encoder: %s",
                                 plast_tape_error(F->tape));
        const plast_real *fd = plast_node_data(f);
        for (int64_t b = 0; b < B; b++) {
            const int64_t r = t * B + b;
            memcpy(F->cell_x + r * F->H, fd + b * F->Hf, (size_t)F->Hf * sizeof(plast_real));
            memcpy(F->cell_x + r * F->H + F->Hf, x + r * F->I + F->pixels, (size_t)F->label * sizeof(plast_real));
        }
    }
    F->ready = train;
    return F->core.path->forward(&F->core, p, F->cell_x, y, modulation, NULL, train, err);
}

static plast_status fe_backward(plast_engine *e, plast_params *p, const plast_real *dy, plast_err *err) {
    frontend *F = e->impl;
    if (!F->ready) return plast_err_set(err, PLAST_ERR_STATE, "engine: backward needs a forward with train set");
    plast_status s = F->core.path->backward(&F->core, p, dy, err);
    if (s != PLAST_OK) return s;
    const plast_real *dx = engine_duan_input_grad(&F->core);
    const int64_t B = e->B;
    for (int64_t t = 0; t < e->T; t++) {
        for (int64_t b = 0; b < B; b++)
            memcpy(F->seed + b * F->Hf, dx + (t * B + b) * F->H, (size_t)F->Hf * sizeof(plast_real));
        plast_tape *tp = F->tape;
        plast_node *f = encode_step(F, e, p, t, 1);
        plast_node *seed = plast_tape_const(tp, PLAST_SHAPE2(B, F->Hf), F->seed);
        plast_tape_backward(tp, plast_sum_all(tp, plast_mul(tp, f, seed)));
        if (plast_tape_status(tp) != PLAST_OK)
            return plast_err_set(err, plast_tape_status(tp), "engine: image encoder backward: %s",
                                 plast_tape_error(tp));
    }
    F->ready = 0;
    return PLAST_OK;
}

static void fe_release(plast_engine *e) {
    frontend *F = e->impl;
    if (!F) return;
    if (F->core.path) F->core.path->release(&F->core);
    plast_tape_free(F->tape);
    free(F->images);
    free(F->cell_x);
    free(F->seed);
    free(F);
}

static size_t fe_bytes(const plast_engine *e) {
    const frontend *F = e->impl;
    const int64_t rows = e->T * e->B;
    return F->core.path->bytes(&F->core) + sizeof *F +
           (size_t)(rows * (F->pixels + F->H) + e->B * F->Hf) * sizeof(plast_real) + plast_tape_bytes_reserved(F->tape);
}

/* the Duan engine's products, and the encoder's: each 3x3 convolution and the projection, forward twice (once
 * again before backward) and twice back */
static double fe_flops(const plast_engine *e) {
    const frontend *F = e->impl;
    const duan_conv *k = &PLAST_PRIV(e->model, duan_priv)->cnn;
    const double N = (double)(e->T * e->B), Fm = (double)e->model->cfg.conv_channels;
    double flops = 0, side = (double)k->size, in = (double)k->channels;
    for (int l = 0; l < 4; l++) {
        flops += 4 * 2 * N * side * side * 9 * in * Fm;
        side = (double)((int64_t)side / 2), in = Fm;
    }
    flops += 4 * 2 * N * (double)k->features * (double)F->Hf;
    return flops + (F->core.path->flops ? F->core.path->flops(&F->core) : 0);
}

static const engine_path FRONTEND_PATH = {fe_forward, fe_backward, fe_release, fe_bytes, fe_flops};

plast_status engine_frontend_init(plast_engine *e, plast_err *err) {
    const plast_model *m = e->model;
    const duan_conv *k = &PLAST_PRIV(m, duan_priv)->cnn;
    frontend *F = calloc(1, sizeof *F);
    if (!F) return plast_err_set(err, PLAST_ERR_NOMEM, "engine: out of memory");
    e->impl = F;
    e->path = &FRONTEND_PATH;
    F->pixels = k->channels * k->size * k->size, F->label = k->label, F->H = m->H, F->Hf = m->H - k->label;
    F->I = m->I;
    F->core = (plast_engine){m, e->B, e->T, PLAST_ENGINE_AUTO, 0, NULL, NULL};
    const int64_t rows = e->T * e->B;
    F->images = malloc((size_t)(rows * F->pixels) * sizeof(plast_real));
    F->cell_x = malloc((size_t)(rows * F->H) * sizeof(plast_real));
    F->seed = malloc((size_t)(e->B * F->Hf) * sizeof(plast_real));
    F->tape = plast_tape_init(err);
    plast_status s = F->images && F->cell_x && F->seed ? PLAST_OK : plast_err_set(err, PLAST_ERR_NOMEM, "engine: out of memory");
    if (s == PLAST_OK && !F->tape) s = err ? err->status : PLAST_ERR_NOMEM;
    if (s == PLAST_OK) s = engine_duan_init(&F->core, err);
    if (s != PLAST_OK) {
        fe_release(e);
        e->impl = NULL, e->path = NULL;
        return s;
    }
    e->kind = F->core.kind;
    return PLAST_OK;
}
