/* src/engine/engine_frontend.c: Duan et al.'s image models (model.encoder = conv4) on the fast path.
 *
 * The Conv-4 encoder has no recurrence, so it runs apart from the recurrent core: forward computes every step's
 * features with the hand-written encoder (engine/conv4.c: batch normalisation over each step's B images, as the
 * reference), and the features with the label inputs appended are the cell inputs of the Duan engine
 * (engine_duan.c without an encoder layer), which runs the plastic recurrence on its low-rank (or dense) path.
 * Backward runs the Duan engine, takes d loss / d cell input from it and sends the feature part of it back through
 * the encoder. tests/test_engine.c checks the whole against the tape path.
 */
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "engine/conv4.h"
#include "engine/engine_internal.h"
#include "models/family_duan.h"
#include "models/model_internal.h"

typedef struct frontend {
    plast_engine core;    /* the Duan engine on the cell inputs */
    conv4 *enc;           /* the encoder over all T B images */
    int ready;            /* the last forward was a training forward: backward may follow */
    int64_t pixels, label, Hf, H, I;
    plast_real *images;   /* (T B, S, S, C) */
    plast_real *cell_x;   /* (T, B, H): features then labels */
} frontend;

static plast_status fe_forward(plast_engine *e, plast_params *p, const plast_real *x, plast_real *y,
                               plast_real *modulation, plast_real *energy, int train, plast_err *err) {
    (void)energy;
    frontend *F = e->impl;
    const int64_t B = e->B;
    for (int64_t r = 0; r < e->T * B; r++)
        memcpy(F->images + r * F->pixels, x + r * F->I, (size_t)F->pixels * sizeof(plast_real));
    conv4_forward(F->enc, p, F->images, F->cell_x, F->H);
    for (int64_t r = 0; r < e->T * B; r++)
        memcpy(F->cell_x + r * F->H + F->Hf, x + r * F->I + F->pixels, (size_t)F->label * sizeof(plast_real));
    F->ready = train;
    return F->core.path->forward(&F->core, p, F->cell_x, y, modulation, NULL, train, err);
}

static plast_status fe_backward(plast_engine *e, plast_params *p, const plast_real *dy, plast_err *err) {
    frontend *F = e->impl;
    if (!F->ready) return plast_err_set(err, PLAST_ERR_STATE, "engine: backward needs a forward with train set");
    plast_status s = F->core.path->backward(&F->core, p, dy, err);
    if (s != PLAST_OK) return s;
    conv4_backward(F->enc, p, engine_duan_input_grad(&F->core), F->H);
    F->ready = 0;
    return PLAST_OK;
}

static void fe_release(plast_engine *e) {
    frontend *F = e->impl;
    if (!F) return;
    if (F->core.path) F->core.path->release(&F->core);
    conv4_free(F->enc);
    free(F->images);
    free(F->cell_x);
    free(F);
}

static size_t fe_bytes(const plast_engine *e) {
    const frontend *F = e->impl;
    const int64_t rows = e->T * e->B;
    return F->core.path->bytes(&F->core) + sizeof *F + (size_t)(rows * (F->pixels + F->H)) * sizeof(plast_real) +
           conv4_bytes(F->enc);
}

/* the Duan engine's products, and the encoder's: each 3x3 convolution and the projection, once forward and twice
 * back (d/dW and d/dx; the first layer's d/dx, of the images, is not computed) */
static double fe_flops(const plast_engine *e) {
    const frontend *F = e->impl;
    const duan_conv *k = &PLAST_PRIV(e->model, duan_priv)->cnn;
    const double N = (double)(e->T * e->B), Fm = (double)e->model->cfg.conv_channels;
    double flops = 0, side = (double)k->size, in = (double)k->channels;
    for (int l = 0; l < 4; l++) {
        flops += (l == 0 ? 2 : 3) * 2 * N * side * side * 9 * in * Fm;
        side = (double)((int64_t)side / 2), in = Fm;
    }
    flops += 3 * 2 * N * (double)k->features * (double)F->Hf;
    return flops + (F->core.path->flops ? F->core.path->flops(&F->core) : 0);
}

static const engine_path FRONTEND_PATH = {fe_forward, fe_backward, fe_release, fe_bytes, fe_flops, NULL, NULL, 0};

plast_status engine_frontend_init(plast_engine *e, plast_err *err) {
    const plast_model *m = e->model;
    const duan_conv *k = &PLAST_PRIV(m, duan_priv)->cnn;
    if (e->plan_only) { /* the Duan engine's plan, the encoder's, the images and the cell inputs */
        plast_engine core = {.model = m, .B = e->B, .T = e->T, .kind = e->kind, .plan_only = 1};
        plast_status s = engine_duan_init(&core, err);
        e->planned = core.planned + conv4_plan(m, e->B, e->T) +
                     (size_t)(e->T * e->B * (k->channels * k->size * k->size + m->H)) * sizeof(plast_real);
        return s;
    }
    frontend *F = calloc(1, sizeof *F);
    if (!F) return plast_err_set(err, PLAST_ERR_NOMEM, "engine: out of memory");
    e->impl = F;
    e->path = &FRONTEND_PATH;
    F->pixels = k->channels * k->size * k->size, F->label = k->label, F->H = m->H, F->Hf = m->H - k->label;
    F->I = m->I;
    F->core = (plast_engine){.model = m, .B = e->B, .T = e->T, .kind = e->kind};
    const int64_t rows = e->T * e->B;
    F->images = malloc((size_t)(rows * F->pixels) * sizeof(plast_real));
    F->cell_x = malloc((size_t)(rows * F->H) * sizeof(plast_real));
    plast_status s = F->images && F->cell_x ? PLAST_OK : plast_err_set(err, PLAST_ERR_NOMEM, "engine: out of memory");
    if (s == PLAST_OK && !(F->enc = conv4_init(m, e->B, e->T, err))) s = plast_err_status(err, PLAST_ERR_NOMEM);
    if (s == PLAST_OK) s = engine_duan_init(&F->core, err);
    if (s != PLAST_OK) {
        fe_release(e);
        e->impl = NULL, e->path = NULL;
        return s;
    }
    return PLAST_OK;
}
