/* src/engine/engine_duan.c: the fast paths of Duan et al.'s models (engine_duan_internal.h gives the equations and
 * the files): the memory plan, parameters in and out, the parts both paths share, and the engine path. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/gemm.h"
#include "engine/engine_duan_internal.h"


/* ---- memory plan: every buffer carved from one block, sized before allocation (engine_plan) -------------- */

static plast_real *carve(engine_plan *pl, int64_t n) { return engine_plan_carve(pl, n); }

static void layout_buffers(void *impl, engine_plan *pl) {
    duan_engine *E = impl;
    const int64_t B = E->B, T = E->T, I = E->I, H = E->H, G = E->G, D = E->D, C2 = E->C2;
    /* rows over all steps of the (sample, update) products: the low-rank form's */
    const int64_t tri = E->dense ? 0 : B * T * (T - 1) / 2;
    plast_real **w[] = {&E->Wenc, &E->aenc, &E->dWenc, &E->daenc};
    for (int k = 0; k < 4; k++) *w[k] = carve(pl, I * H);
    plast_real **hb[] = {&E->benc, &E->abenc, &E->dbenc, &E->dabenc};
    for (int k = 0; k < 4; k++) *hb[k] = carve(pl, H);
    plast_real **c[] = {&E->Wcat, &E->acat, &E->dWcat, &E->dacat};
    for (int k = 0; k < 4; k++) *c[k] = carve(pl, C2 * G);
    plast_real **gb[] = {&E->bhh, &E->bih, &E->abhh, &E->abih, &E->dbhh, &E->dbih, &E->dabhh, &E->dabih};
    for (int k = 0; k < 8; k++) *gb[k] = carve(pl, G);
    plast_real **o[] = {&E->Wout, &E->aout, &E->dWout, &E->daout};
    for (int k = 0; k < 4; k++) *o[k] = carve(pl, H * D);
    plast_real **ob[] = {&E->bout, &E->about, &E->dbout, &E->dabout, &E->wo, &E->dwo};
    for (int k = 0; k < 6; k++) *ob[k] = carve(pl, D);

    E->Apre = carve(pl, T * B * H);
    E->E = carve(pl, T * B * H);
    E->Zc = carve(pl, T * B * G);
    E->GATE = carve(pl, E->lstm ? T * B * G : 0);
    E->TAU = carve(pl, E->lstm ? T * B * H : 0);
    E->Hs = carve(pl, (T + 1) * B * H);
    E->Cs = carve(pl, E->lstm ? (T + 1) * B * H : 0);
    E->Orec = carve(pl, T * B * D);
    plast_real **tb[] = {&E->SIG, &E->ETA, &E->LAM, &E->S, &E->N2, &E->COEF};
    for (int k = 0; k < 6; k++) *tb[k] = carve(pl, T * B);
    const int64_t g = E->grad_rule ? 1 : 0;
    E->Do = carve(pl, g * T * B * D);
    E->Dh = carve(pl, g * T * B * H);
    E->Dc = carve(pl, g * E->lstm * T * B * H);
    E->Dz = carve(pl, g * T * B * G);
    E->De = carve(pl, g * T * B * H);
    E->Da = carve(pl, g * T * B * H);

    const int64_t p = E->plastic ? 1 : 0;
    E->Uenc = carve(pl, B * T * I);
    E->Venc = carve(pl, p * B * T * H);
    E->Ucell = carve(pl, B * T * C2);
    E->Vcell = carve(pl, p * B * T * G);
    E->Uout = carve(pl, p * B * T * H);
    E->Vout = carve(pl, p * B * T * D);
    const int64_t lr = p * (E->dense ? 0 : 1); /* the low-rank form's buffers */
    E->GAM = carve(pl, lr * T * B * T);
    E->PBenc = carve(pl, p * (T + 1) * B * H);
    E->PBhh = carve(pl, p * (T + 1) * B * G);
    E->PBih = carve(pl, p * (T + 1) * B * G);
    E->PBout = carve(pl, p * (T + 1) * B * D);
    const int64_t n2[N_PROD] = {H, G, D, H, H};
    for (int k = 0; k < N_PROD; k++) {
        /* without an encoder: no encoder product, and no transposed ih product (only the encoder's update used it) */
        const int64_t used = p * (k < P_OUT_T ? 1 : g) * ((k == P_ENC || k == P_IH_T) && E->no_enc ? 0 : 1);
        E->Ap[k] = carve(pl, used * tri * n2[k]);
    }
    int64_t wide = I > C2 ? I : C2;
    if (G > wide) wide = G;
    if (D > wide) wide = D;
    E->sN = carve(pl, lr * B * T * wide);
    const int64_t blocks = lr_dalpha_scratch(wide, omp_get_max_threads());
    E->sM_n = lr * (B * T * wide > blocks ? B * T * wide : blocks);
    E->sM = carve(pl, E->sM_n);
    const int64_t dn = p * (E->dense ? 1 : 0); /* the dense form's: S, gS, checkpoints, one segment */
    E->Scur = carve(pl, dn * B * E->s_len);
    E->gS = carve(pl, dn * B * E->s_len);
    E->Sck = carve(pl, dn * E->n_ck * B * E->s_len);
    E->Sseg = carve(pl, dn * (E->seg_len - 1) * B * E->s_len);
    E->tA_all = carve(pl, B * T * H);
    E->tZ_all = carve(pl, B * T * G);
    E->tO_all = carve(pl, T * B * D);
    E->qE_all = carve(pl, g * T * B * H);
    E->qH_all = carve(pl, g * T * B * H);

    E->gVenc = carve(pl, p * B * T * H);
    E->gUcell = carve(pl, p * B * T * C2);
    E->gVcell = carve(pl, p * B * T * G);
    E->gUout = carve(pl, p * B * T * H);
    E->gVout = carve(pl, p * B * T * D);
    E->gGAM = carve(pl, lr * T * B * T);
    E->gPBenc = carve(pl, p * B * H);
    E->gPBhh = carve(pl, p * B * G);
    E->gPBih = carve(pl, p * B * G);
    E->gPBout = carve(pl, p * B * D);
    E->gh = carve(pl, B * H);
    E->gc = carve(pl, B * H);
    E->tO = carve(pl, B * D);
    E->tH = carve(pl, B * H);
    E->tGate = carve(pl, B * G);
    E->tZ = carve(pl, B * G);
    E->tCell = carve(pl, B * C2);
    E->tE = carve(pl, B * H);
    E->tA = carve(pl, B * H);
    E->tTau = carve(pl, B * H);
    E->tC = carve(pl, B * H);
    E->tCp = carve(pl, B * H);
    E->qO = carve(pl, B * D);
    E->qH = carve(pl, B * H);
    E->qC = carve(pl, B * H);
    E->qZ = carve(pl, B * G);
    E->qE = carve(pl, B * H);
    E->qA = carve(pl, B * H);
    E->gge = carve(pl, B * H);
    E->ggz = carve(pl, B * G);
    E->ggo = carve(pl, B * D);
    E->gcoef = engine_plan_take(pl, sizeof(double) * (size_t)B);
    E->glam = engine_plan_take(pl, sizeof(double) * (size_t)B);
    E->DX = carve(pl, E->no_enc ? T * B * I : 0);
}

/* ---- parameters in and out ------------------------------------------------------------------------------------ */

/* dst (in, out) from a (out, in) torch weight, or copied as is */
static void load_w(plast_real *dst, const plast_real *src, int64_t in, int64_t out, int torch) {
    if (!torch) {
        memcpy(dst, src, (size_t)(in * out) * sizeof(plast_real));
        return;
    }
    for (int64_t i = 0; i < in; i++)
        for (int64_t j = 0; j < out; j++) dst[i * out + j] = src[j * in + i];
}

static void store_w(plast_real *dst, const plast_real *src, int64_t in, int64_t out, int torch) {
    for (int64_t i = 0; i < in; i++)
        for (int64_t j = 0; j < out; j++) dst[torch ? j * in + i : i * out + j] += src[i * out + j];
}

static void ones(plast_real *p, int64_t n) {
    for (int64_t i = 0; i < n; i++) p[i] = 1;
}

static void load_params(duan_engine *E, plast_params *p) {
    const duan_priv *d = &E->dp;
    const int torch = !E->plastic;
    const int64_t H = E->H, G = E->G;
    if (!E->no_enc) {
        load_w(E->Wenc, plast_params_value(p, d->enc.w), E->I, H, torch);
        memcpy(E->benc, plast_params_value(p, d->enc.b), (size_t)H * sizeof(plast_real));
    }
    load_w(E->Wcat, plast_params_value(p, d->hh.w), H, G, torch);
    load_w(E->Wcat + H * G, plast_params_value(p, d->ih.w), H, G, torch);
    memcpy(E->bhh, plast_params_value(p, d->hh.b), (size_t)G * sizeof(plast_real));
    memcpy(E->bih, plast_params_value(p, d->ih.b), (size_t)G * sizeof(plast_real));
    load_w(E->Wout, plast_params_value(p, d->out.w), H, E->D, torch);
    memcpy(E->bout, plast_params_value(p, d->out.b), (size_t)E->D * sizeof(plast_real));
    memcpy(E->wo, plast_params_value(p, d->out_weight), (size_t)E->D * sizeof(plast_real));
    if (!E->plastic) return;
    struct { int idx; plast_real *dst; int64_t n; } a[] = {
        {d->enc.aw, E->aenc, E->I * H}, {d->enc.ab, E->abenc, H},     {d->hh.aw, E->acat, H * G},
        {d->ih.aw, E->acat + H * G, H * G}, {d->hh.ab, E->abhh, G},   {d->ih.ab, E->abih, G},
        {d->out.aw, E->aout, H * E->D}, {d->out.ab, E->about, E->D}};
    for (size_t k = 0; k < sizeof a / sizeof a[0]; k++) {
        if (a[k].idx >= 0)
            memcpy(a[k].dst, plast_params_value(p, a[k].idx), (size_t)a[k].n * sizeof(plast_real));
        else
            ones(a[k].dst, a[k].n);
    }
}

static void store_grads(const duan_engine *E, plast_params *p) {
    const duan_priv *d = &E->dp;
    const int torch = !E->plastic;
    const int64_t H = E->H, G = E->G;
    if (!E->no_enc) {
        store_w(plast_params_grad(p, d->enc.w), E->dWenc, E->I, H, torch);
        add_to(plast_params_grad(p, d->enc.b), E->dbenc, H);
    }
    store_w(plast_params_grad(p, d->hh.w), E->dWcat, H, G, torch);
    store_w(plast_params_grad(p, d->ih.w), E->dWcat + H * G, H, G, torch);
    add_to(plast_params_grad(p, d->hh.b), E->dbhh, G);
    add_to(plast_params_grad(p, d->ih.b), E->dbih, G);
    store_w(plast_params_grad(p, d->out.w), E->dWout, H, E->D, torch);
    add_to(plast_params_grad(p, d->out.b), E->dbout, E->D);
    add_to(plast_params_grad(p, d->out_weight), E->dwo, E->D);
    if (!E->plastic || !E->learn_alpha) return;
    if (!E->no_enc) {
        add_to(plast_params_grad(p, d->enc.aw), E->daenc, E->I * H);
        add_to(plast_params_grad(p, d->enc.ab), E->dabenc, H);
    }
    add_to(plast_params_grad(p, d->hh.aw), E->dacat, H * G);
    add_to(plast_params_grad(p, d->ih.aw), E->dacat + H * G, H * G);
    add_to(plast_params_grad(p, d->hh.ab), E->dabhh, G);
    add_to(plast_params_grad(p, d->ih.ab), E->dabih, G);
    add_to(plast_params_grad(p, d->out.aw), E->daout, H * E->D);
    add_to(plast_params_grad(p, d->out.ab), E->dabout, E->D);
}

/* ---- shared by both paths ------------------------------------------------------------------------------------ */

/* the cell's nonlinearity at step t, from its pre-activations Zc[t]: h_t (and for the LSTM the gates, c_t and
 * tanh c_t) */
void duan_cell_forward(duan_engine *E, int64_t t) {
    const int64_t B = E->B, H = E->H, G = E->G;
    const plast_real *z = E->Zc + t * B * G, *cp = E->Cs + t * B * H;
    plast_real *hn = E->Hs + (t + 1) * B * H, *cn = E->Cs + (t + 1) * B * H;
    if (E->lstm) {
        plast_real *gate = E->GATE + t * B * G, *tau = E->TAU + t * B * H;
#pragma omp parallel for if (B * H >= 4096)
        for (int64_t b = 0; b < B; b++) {
            const plast_real *zb = z + b * G;
            plast_real *gb = gate + b * G;
            /* the buffers never overlap; without the pragma GCC gives up on the alias checks and runs it scalar */
#pragma omp simd
            for (int64_t j = 0; j < H; j++) {
                plast_real gi = sigm(zb[j]), gf = sigm(zb[H + j]), gg = plast_ftanh(zb[2 * H + j]);
                plast_real go = sigm(zb[3 * H + j]);
                gb[j] = gi, gb[H + j] = gf, gb[2 * H + j] = gg, gb[3 * H + j] = go;
                plast_real c = gf * cp[b * H + j] + gi * gg;
                cn[b * H + j] = c;
                tau[b * H + j] = plast_ftanh(c);
                hn[b * H + j] = go * tau[b * H + j];
            }
        }
    } else {
        for (int64_t i = 0; i < B * H; i++) hn[i] = E->relu_cell ? (z[i] > 0 ? z[i] : 0) : plast_ftanh(z[i]);
    }
}

/* acc[j] += sum over rows of y[r, j]; columns in blocks between threads, each summed in row order */
static void sum_rows(plast_real *acc, const plast_real *y, int64_t rows, int64_t w, int64_t ldy) {
#pragma omp parallel for if (rows * w >= 65536)
    for (int64_t j0 = 0; j0 < w; j0 += 64) {
        const int64_t j1 = j0 + 64 < w ? j0 + 64 : w;
        for (int64_t r = 0; r < rows; r++)
            for (int64_t j = j0; j < j1; j++) acc[j] += y[r * ldy + j];
    }
}

/* After the last backward step: the gradients of every weight from the inputs and output adjoints all steps saved:
 * the slow weights and biases as one large product over (sample, step) rows each, alpha by lr_dalpha's recursion. */
void duan_weight_gradients(duan_engine *E) {
    const int64_t B = E->B, T = E->T, I = E->I, H = E->H, G = E->G, D = E->D, C2 = E->C2;
    const int64_t rows = B * T;
    if (!E->no_enc) {
        plast_gemm(1, 0, I, H, rows, 1, E->Uenc, I, E->tA_all, H, 1, E->dWenc, H);
        sum_rows(E->dbenc, E->tA_all, rows, H, H);
    }
    plast_gemm(1, 0, C2, G, rows, 1, E->Ucell, C2, E->tZ_all, G, 1, E->dWcat, G);
    sum_rows(E->dbhh, E->tZ_all, rows, G, G);
    sum_rows(E->dbih, E->tZ_all, rows, G, G);
    plast_gemm(1, 0, H, D, rows, 1, E->Hs + B * H, H, E->tO_all, D, 1, E->dWout, D);
    sum_rows(E->dbout, E->tO_all, rows, D, D);
    if (E->grad_rule) { /* the inner gradient's uses of W_ih^T and W_out^T */
        if (!E->no_enc) plast_gemm(1, 0, H, G, rows, 1, E->qE_all, H, E->Dz, G, 1, E->dWcat + H * G, G);
        plast_gemm(1, 0, H, D, rows, 1, E->qH_all, H, E->Do, D, 1, E->dWout, D);
    }
    if (!E->plastic || !E->learn_alpha || E->dense) return; /* the dense form added d/dalpha step by step */
    /* d/dalpha of every product, from its inputs and output adjoints at every step (time- or sample-major) */
    const lr_seq ux = {E->Uenc, T * I, I}, uc = {E->Ucell, T * C2, C2}, hs = {E->Hs + B * H, H, B * H};
    const lr_seq ta = {E->tA_all, T * H, H}, tz = {E->tZ_all, T * G, G}, to = {E->tO_all, D, B * D};
    struct { lr_product L; lr_seq x, dy; plast_real *dalpha; int on; } d[N_PROD] = {
        {p_enc(E, T), ux, ta, E->daenc, !E->no_enc},
        {p_cell(E, T), uc, tz, E->dacat, 1},
        {p_out(E, T), hs, to, E->daout, 1},
        {p_out_t(E, T), {E->Do, D, B * D}, {E->qH_all, H, B * H}, E->daout, E->grad_rule},
        {p_ih_t(E, T), {E->Dz, G, B * G}, {E->qE_all, H, B * H}, E->dacat + H * G, E->grad_rule && !E->no_enc}};
    for (int k = 0; k < N_PROD; k++)
        if (d[k].on) lr_dalpha(&d[k].L, T, d[k].x, d[k].dy, E->COEF, E->LAM, d[k].dalpha, E->sM, E->sM_n);
}

/* ---- the engine path ---------------------------------------------------------------------------------------- */

static plast_status duan_forward(plast_engine *eng, plast_params *p, const plast_real *x, plast_real *y,
                                 plast_real *modulation, plast_real *energy, int train, plast_err *err) {
    (void)train, (void)energy, (void)err;
    duan_engine *E = eng->impl;
    const int64_t B = E->B, T = E->T, I = E->I, H = E->H, D = E->D, O = E->Oy;
    load_params(E, p);
    for (int64_t t = 0; t < T; t++) /* inputs into the encoder's presynaptic history, sample-major */
        for (int64_t b = 0; b < B; b++)
            memcpy(E->Uenc + (b * T + t) * I, x + (t * B + b) * I, (size_t)I * sizeof(plast_real));
    zero(E->Hs, B * H);
    if (E->lstm) zero(E->Cs, B * H);
    if (E->plastic) {
        zero(E->PBenc, B * H), zero(E->PBhh, B * E->G), zero(E->PBih, B * E->G), zero(E->PBout, B * D);
        duan_plastic_begin(E);
    }
    if (!E->plastic) duan_forward_dense(E);
    for (int64_t t = 0; t < T; t++) {
        if (E->plastic) duan_forward_step(E, t);
        for (int64_t b = 0; b < B; b++) {
            memcpy(y + (t * B + b) * O, E->Orec + (t * B + b) * D, (size_t)O * sizeof(plast_real));
            if (modulation) modulation[t * B + b] = E->plastic ? E->ETA[t * B + b] : 0;
        }
    }
    return PLAST_OK;
}

static plast_status duan_backward(plast_engine *eng, plast_params *p, const plast_real *dy, plast_err *err) {
    (void)err;
    duan_engine *E = eng->impl;
    const int64_t B = E->B, T = E->T, H = E->H, G = E->G, D = E->D, C2 = E->C2;
    plast_real *grads[] = {E->dWenc, E->dbenc, E->dWcat, E->dbhh, E->dbih, E->dWout, E->dbout, E->dwo, E->daenc,
                           E->dabenc, E->dacat, E->dabhh, E->dabih, E->daout, E->dabout};
    const int64_t sizes[] = {E->I * H, H, C2 * G, G, G, H * D, D, D, E->I * H, H, C2 * G, G, G, H * D, D};
    for (int k = 0; k < 15; k++) zero(grads[k], sizes[k]);
    zero(E->gh, B * H), zero(E->gc, B * H);
    if (E->plastic) {
        zero(E->gVenc, B * T * H), zero(E->gUcell, B * T * C2), zero(E->gVcell, B * T * G);
        zero(E->gUout, B * T * H), zero(E->gVout, B * T * D);
        if (E->dense) zero(E->gS, B * E->s_len);
        else zero(E->gGAM, T * B * T);
        zero(E->gPBenc, B * H), zero(E->gPBhh, B * G), zero(E->gPBih, B * G), zero(E->gPBout, B * D);
    }
    if (E->plastic)
        for (int64_t t = T - 1; t >= 0; t--) duan_backward_step(E, t, dy + t * B * E->Oy);
    else
        duan_backward_dense(E, dy);
    duan_weight_gradients(E);
    store_grads(E, p);
    return PLAST_OK;
}

static void duan_release(plast_engine *eng) {
    duan_engine *E = eng->impl;
    if (E) free(E->block);
    free(E);
}

static size_t duan_bytes(const plast_engine *eng) { return ((const duan_engine *)eng->impl)->bytes; }

/* 2 M N K for every matrix product the two paths make in a training step (see forward_* and backward_*) */
static double duan_flops(const plast_engine *eng) {
    const duan_engine *E = eng->impl;
    const double B = (double)E->B, T = (double)E->T, I = E->no_enc ? 0 : (double)E->I, H = (double)E->H;
    const double G = (double)E->G;
    const double D = (double)E->D, C2 = (double)E->C2;
    if (!E->plastic) /* forward: encoder, input half, hh per step, output; backward: the same twice over */
        return 2 * B * T * (I * H + H * G + H * G + H * D) + 2 * B * T * (D * H + G * H + G * H) +
               2 * B * T * (I * H + C2 * G + H * D);
    const double pairs = B * T * (T - 1) / 2; /* (sample, step, earlier update) rows over the trial */
    const double g = E->grad_rule ? 1 : 0, a = E->learn_alpha ? 1 : 0;
    /* low-rank: forward, d/dinput (not for the encoder, whose input is data); d/dalpha by lr_dalpha's recursion,
     * 6 flops per element of every weight per (sample, step) */
    const double gi = E->no_enc ? 0 : g; /* the transposed ih product serves the encoder's update only */
    const double lr_elems = I * H + C2 * G + H * D + g * D * H + gi * G * H;
    double lr = pairs * 2 * (I * H + C2 * G * 2 + H * D * 2 + (g * D * H + gi * G * H) * 2) +
                a * 6 * B * (T - 1) * lr_elems;
    /* dense: per element of S and step, forward 3, update 3 (and 3 again recomputing it), backward 8, the
     * update's adjoint 5; the gradient rule's transposed products 3 + 8 more on their blocks */
    if (E->dense) lr = B * T * (22 * (double)E->s_len + 11 * (g * D * H + gi * G * H));
    double slow_fwd = 2 * B * T * (I * H + C2 * G + H * D + g * D * H + gi * G * H);
    double slow_bwd = 2 * B * T * (D * H + G * C2 + gi * H * G + g * H * D) +
                      2 * B * T * (I * H + C2 * G + H * D + gi * H * G + g * H * D);
    return lr + slow_fwd + slow_bwd;
}

static const engine_path DUAN_PATH = {duan_forward, duan_backward, duan_release, duan_bytes, duan_flops, NULL, NULL, 0};

int engine_duan_supports(const plast_model *m, plast_engine_kind kind, int want_energy, char *why, size_t cap) {
    if (!(m->family->caps & PLAST_FAMILY_DUAN_PATHS)) {
        snprintf(why, cap, "the %s family has no hand-written path", m->family->name);
        return 0;
    }
    if (want_energy) {
        snprintf(why, cap, "the energy measure is computed on the tape path only");
        return 0;
    }
    const duan_priv *d = PLAST_PRIV(m, duan_priv);
    if (d->plastic && !m->rule->rank_one && !m->rule->needs_internal_loss) {
        snprintf(why, cap, "rule \"%s\" does not make rank-one updates", m->rule->name);
        return 0;
    }
    if (kind == PLAST_ENGINE_LOWRANK && !d->plastic) {
        snprintf(why, cap, "a model without plasticity runs on the dense path");
        return 0;
    }
    return 1;
}

plast_status engine_duan_init(plast_engine *eng, plast_err *err) {
    const plast_model *m = eng->model;
    const duan_priv *d = PLAST_PRIV(m, duan_priv);
    duan_engine *E = calloc(1, sizeof *E);
    if (!E) return plast_err_set(err, PLAST_ERR_NOMEM, "engine: out of memory");
    E->dp = *d;
    E->no_enc = d->conv;
    E->B = eng->B, E->T = eng->T, E->I = d->conv ? m->H : m->I, E->H = m->H, E->D = d->D, E->Oy = m->O;
    E->G = d->lstm ? 4 * m->H : m->H;
    E->C2 = 2 * m->H;
    E->plastic = d->plastic, E->lstm = d->lstm, E->modulated = d->modulated, E->relu_cell = d->relu_cell;
    E->grad_rule = d->plastic && m->rule->needs_internal_loss;
    E->learn_alpha = d->plastic && d->hh.aw >= 0;
    E->p_lr = m->cfg.plastic_lr, E->p_wd = m->cfg.plastic_decay, E->max_norm = m->cfg.max_norm;
    E->kappa = 2.0 / ((double)(m->cfg.inner_batch > 0 ? m->cfg.inner_batch : E->B) * (double)E->D);
    E->dense = E->plastic && eng->kind == PLAST_ENGINE_DENSE;
    E->s_len = (E->no_enc ? 0 : E->I * E->H) + E->C2 * E->G + E->H * E->D;
    E->seg_len = duan_dense_segment(E->T);
    E->n_ck = (E->T + E->seg_len - 1) / E->seg_len;
    return engine_plan_open(eng, E, sizeof *E, layout_buffers, &E->block, &E->bytes, &DUAN_PATH, "Duan path", err);
}

int engine_duan_has_image_encoder(const plast_model *m) { return PLAST_PRIV(m, duan_priv)->conv; }

const plast_real *engine_duan_input_grad(const plast_engine *eng) { return ((const duan_engine *)eng->impl)->DX; }
