/* src/engine/engine_duan.c: the fast path of Duan et al.'s models (family_duan.c gives the equations): forward and
 * BPTT by hand, with each plastic weight kept as its history of rank-one updates (lowrank.h).
 *
 * Per sample, at step t, every plastic update is rank one, with one decay and one rate for all layers:
 *   P_t = (1 - lambda_t) P_{t-1} + c_t alpha * (u_t v_t^T),   c_t = eta_t s_t
 * so P_t = alpha * sum_{k<=t} gamma_t[k] u_k v_k^T with gamma_t[k] = (1 - lambda_t) gamma_{t-1}[k], gamma_t[t] = c_t.
 *   Hebbian:  (u, v) = encoder (x_t, e_t), cell ([h_{t-1}; e_t], post), output (h_t, o_t); biases unchanged
 *   gradient: (u, v) = encoder (x_t, da), cell ([h_{t-1}; e_t], dz), output (h_t, do); bias updates da, dz, dz, do
 * (d* the inner gradient's deltas), and the joint norm is sum |u|^2 |v|^2 + |g|^2. The two cell matrices (h -> gates
 * and e -> gates) share v, so they are one layer with input [h_{t-1}; e_t] and stacked weights [W_hh; W_ih].
 * Plastic biases are dense (B, out) per step.
 *
 * The backward pass is the adjoint of every forward line, in reverse; for the gradient rule that includes the
 * adjoint of the inner gradient (second order). tests/test_engine.c checks it against the tape path.
 * Without plasticity (model.rule = none) the same code runs with no history: the "dense" path.
 * With the conv4 image encoder (model.encoder = conv4) the engine has no encoder layer: its inputs are the cell's
 * inputs e_t, computed by the image front end (engine_frontend.c), and backward leaves d loss / d e_t in DX.
 */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/fastmath.h"
#include "core/gemm.h"
#include "engine/engine_internal.h"
#include "engine/lowrank.h"
#include "models/family_duan.h"
#include "models/model_internal.h"

/* the low-rank products: encoder, cell, output, and the gradient rule's transposed output and ih products */
enum { P_ENC, P_CELL, P_OUT, P_OUT_T, P_IH_T, N_PROD };

typedef struct duan_engine {
    int64_t B, T, I, H, G, D, Oy, C2; /* Oy: task outputs O */
    int plastic, lstm, grad_rule, modulated, relu_cell, learn_alpha;
    int no_enc; /* inputs are the cell inputs e_t (no encoder layer); backward fills DX */
    double p_lr, p_wd, max_norm, kappa;
    duan_priv dp;

    /* parameters in the engine's layout: weights (in, out); the cell stacked [hh; ih] along its input */
    plast_real *Wenc, *benc, *Wcat, *bhh, *bih, *Wout, *bout, *wo;
    plast_real *aenc, *abenc, *acat, *abhh, *abih, *aout, *about; /* alphas (ones when not learned) */
    plast_real *dWenc, *dbenc, *dWcat, *dbhh, *dbih, *dWout, *dbout, *dwo;
    plast_real *daenc, *dabenc, *dacat, *dabhh, *dabih, *daout, *dabout;

    /* forward record, time-major (T, B, n) unless noted: Apre (T, B, H) the encoder's pre-activation, E (T, B, H)
     * its output e_t, Zc (T, B, G) the cell's pre-activation, GATE (T, B, G) the LSTM gates, TAU (T, B, H)
     * tanh(c_t), Orec (T, B, D) the outputs before the readout */
    plast_real *Apre, *E, *Zc, *GATE, *TAU, *Hs, *Cs, *Orec;    /* Hs, Cs: (T + 1, B, H), index 0 the zero state */
    /* (T, B): the modulation's sigmoid, eta_t, lambda_t, the max-norm scale s_t, the joint squared norm, c_t */
    plast_real *SIG, *ETA, *LAM, *S, *N2, *COEF;
    /* inner-gradient deltas (gradient rule): Do (T, B, D), Dh, Dc, De, Da (T, B, H), Dz (T, B, G) */
    plast_real *Do, *Dh, *Dc, *Dz, *De, *Da;
    plast_real *Uenc, *Venc, *Ucell, *Vcell, *Uout, *Vout;   /* histories, sample-major (B, T, n) */
    plast_real *GAM;                                         /* (T, B, T): gamma_t[b, k] */
    plast_real *PBenc, *PBhh, *PBih, *PBout;                 /* plastic biases (T + 1, B, n) */
    /* the low-rank products of each layer: A = (x * f1) W of every step, saved for the adjoint (B t rows at step
     * t); the rows x * f1 and gamma f2 dy live in scratch (d/dalpha needs none of them, see lr_dalpha) */
    plast_real *Ap[N_PROD];
    plast_real *sN, *sM; /* scratch (B T, widest); sM also holds lr_dalpha's blocks */
    int64_t sM_n;
    /* per-step adjoints kept for the weight gradients: tA_all (B, T, H), tZ_all (B, T, G), tO_all (T, B, D),
     * qE_all and qH_all (T, B, H) */
    plast_real *tA_all, *tZ_all, *tO_all, *qE_all, *qH_all;

    /* backward. Naming: g<X> is the adjoint of forward buffer X; t<X> the adjoint of one step's forward quantity X
     * (B, n), reused every step; q<X> the adjoint of the gradient rule's delta D<X> at one step (B, n). */
    plast_real *gVenc, *gUcell, *gVcell, *gUout, *gVout; /* adjoints of the histories, (B, T, n) as U/V */
    plast_real *gGAM;                                    /* (T, B, T): adjoint of GAM */
    plast_real *gPBenc, *gPBhh, *gPBih, *gPBout;         /* (B, n): adjoints of the plastic biases, carried back */
    plast_real *gh, *gc;                                 /* (B, H): adjoints of h_t and c_t, carried back */
    plast_real *tO, *tH, *tGate, *tZ;                    /* (B, D) outputs, (B, H) h, (B, G) gates and pre-gates */
    plast_real *tCell, *tE, *tA;                         /* (B, C2) cell input [h; e], (B, H) e_t, encoder pre-act */
    plast_real *tTau, *tC, *tCp;                         /* (B, H) tanh(c_t), c_t, c_{t-1} (LSTM) */
    plast_real *qO, *qH, *qC, *qZ, *qE, *qA;             /* (B, n): adjoints of Do, Dh, Dc, Dz, De, Da */
    plast_real *gge, *ggz, *ggo;                         /* (B, n): adjoints of the bias updates de, dz, do */
    plast_real *gcoef, *glam;                            /* (B): adjoints of c_t = eta_t s_t and lambda_t */
    plast_real *DX; /* (T, B, I): d loss / d input, without an encoder */

    size_t bytes;
    void *block;
} duan_engine;

/* ---- memory plan: every buffer carved from one block, sized before allocation ------------------------------ */

typedef struct plan {
    char *base; /* NULL while counting */
    size_t off;
} plan;

static plast_real *carve(plan *pl, int64_t n) {
    size_t bytes = ((size_t)(n > 0 ? n : 1) * sizeof(plast_real) + 63) / 64 * 64;
    plast_real *p = pl->base ? (plast_real *)(pl->base + pl->off) : NULL;
    pl->off += bytes;
    return p;
}

static void layout_buffers(duan_engine *E, plan *pl) {
    const int64_t B = E->B, T = E->T, I = E->I, H = E->H, G = E->G, D = E->D, C2 = E->C2;
    const int64_t tri = B * T * (T - 1) / 2; /* rows over all steps of the (sample, update) products */
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
    E->GAM = carve(pl, p * T * B * T);
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
    E->sN = carve(pl, p * B * T * wide);
    const int64_t blocks = lr_dalpha_scratch(wide, omp_get_max_threads());
    E->sM_n = p * (B * T * wide > blocks ? B * T * wide : blocks);
    E->sM = carve(pl, E->sM_n);
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
    E->gGAM = carve(pl, p * T * B * T);
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
    E->gcoef = carve(pl, B);
    E->glam = carve(pl, B);
    E->DX = carve(pl, E->no_enc ? T * B * I : 0);
}

/* ---- small helpers -------------------------------------------------------------------------------------------- */

static inline plast_real sigm(plast_real x) { return plast_fsigmoid(x); }

static void zero(plast_real *p, int64_t n) { memset(p, 0, (size_t)n * sizeof(plast_real)); }

/* y[b, :] += v for each of n rows of width w */
static void add_row(plast_real *y, int64_t rows, int64_t w, int64_t ldy, const plast_real *v) {
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < w; j++) y[r * ldy + j] += v[j];
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

static double dot(const plast_real *a, const plast_real *b, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

/* the saved products of step t start after the rows of steps 0..t-1: B * t (t - 1) / 2 rows */
static int64_t tri_rows(int64_t B, int64_t t) { return B * t * (t - 1) / 2; }

/* the low-rank product of one layer at step t (K = t updates, coefficients gamma_{t-1}) */
static lr_product product(const duan_engine *E, int64_t t, int64_t n1, int64_t n2, const plast_real *alpha,
                          int64_t lda, int trans, plast_real *f1, int64_t ld1, plast_real *f2, int64_t ld2) {
    lr_product L;
    L.B = E->B;
    L.K = t;
    L.n1 = n1;
    L.n2 = n2;
    L.alpha = alpha;
    L.lda = lda;
    L.trans = trans;
    L.f1 = (lr_factor){f1, E->T * ld1, ld1};
    L.f2 = (lr_factor){f2, E->T * ld2, ld2};
    L.gamma = t > 0 ? E->GAM + (t - 1) * E->B * E->T : NULL;
    L.gstride = E->T;
    return L;
}

/* layer products at step t: encoder, cell, output, and the two transposed ones of the gradient rule */
static lr_product p_enc(const duan_engine *E, int64_t t) {
    return product(E, t, E->I, E->H, E->aenc, E->H, 0, E->Uenc, E->I, E->Venc, E->H);
}
static lr_product p_cell(const duan_engine *E, int64_t t) {
    return product(E, t, E->C2, E->G, E->acat, E->G, 0, E->Ucell, E->C2, E->Vcell, E->G);
}
static lr_product p_out(const duan_engine *E, int64_t t) {
    return product(E, t, E->H, E->D, E->aout, E->D, 0, E->Uout, E->H, E->Vout, E->D);
}
static lr_product p_out_t(const duan_engine *E, int64_t t) { /* delta_o (D) -> (H): transposed output layer */
    return product(E, t, E->D, E->H, E->aout, E->D, 1, E->Vout, E->D, E->Uout, E->H);
}
static lr_product p_ih_t(const duan_engine *E, int64_t t) { /* delta_z (G) -> (H): the ih half of the cell */
    lr_product L = product(E, t, E->G, E->H, E->acat + E->H * E->G, E->G, 1, E->Vcell, E->G, E->Ucell + E->H, E->C2);
    L.f2.bstride = E->T * E->C2;
    return L;
}

static lr_factor fac(plast_real *p, const duan_engine *E, int64_t ld) { return (lr_factor){p, E->T * ld, ld}; }

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

static void add_to(plast_real *dst, const plast_real *src, int64_t n) {
    for (int64_t i = 0; i < n; i++) dst[i] += src[i];
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

/* ---- forward -------------------------------------------------------------------------------------------------- */

/* the saved rows of product k at step t */
static plast_real *rows_of(plast_real *base, const duan_engine *E, int64_t t, int64_t width) {
    return base + tri_rows(E->B, t) * width;
}

/* the inner gradient of the gradient rule at step t: do, dh, (dc), dz, de, da */
static void inner_gradient(duan_engine *E, int64_t t) {
    const int64_t B = E->B, H = E->H, G = E->G, D = E->D;
    const plast_real *o = E->Orec + t * B * D, *z = E->Zc + t * B * G;
    plast_real *dO = E->Do + t * B * D, *dH = E->Dh + t * B * H, *dZ = E->Dz + t * B * G;
    plast_real *dE = E->De + t * B * H, *dA = E->Da + t * B * H;
    for (int64_t b = 0; b < B; b++)
        for (int64_t k = 0; k < D; k++) dO[b * D + k] = (plast_real)E->kappa * E->wo[k] * E->wo[k] * o[b * D + k];
    plast_gemm(0, 1, B, H, D, 1, dO, D, E->Wout, D, 0, dH, H);
    lr_product Lt = p_out_t(E, t);
    lr_forward(&Lt, dO, D, dH, H, E->sN, rows_of(E->Ap[P_OUT_T], E, t, H));
    if (E->lstm) {
        const plast_real *gate = E->GATE + t * B * G, *tau = E->TAU + t * B * H, *cp = E->Cs + t * B * H;
        plast_real *dC = E->Dc + t * B * H;
#pragma omp parallel for if (B * H >= 4096)
        for (int64_t b = 0; b < B; b++)
            for (int64_t j = 0; j < H; j++) {
                const plast_real *gb = gate + b * G;
                plast_real gi = gb[j], gf = gb[H + j], gg = gb[2 * H + j], go = gb[3 * H + j], tj = tau[b * H + j];
                plast_real dh = dH[b * H + j], dc = dh * go * (1 - tj * tj);
                dC[b * H + j] = dc;
                plast_real *dz = dZ + b * G;
                dz[j] = dc * gg * gi * (1 - gi);
                dz[H + j] = dc * cp[b * H + j] * gf * (1 - gf);
                dz[2 * H + j] = dc * gi * (1 - gg * gg);
                dz[3 * H + j] = dh * tj * go * (1 - go);
            }
    } else {
        const plast_real *hn = E->Hs + (t + 1) * B * H;
        for (int64_t i = 0; i < B * H; i++)
            dZ[i] = E->relu_cell ? (z[i] > 0 ? dH[i] : 0) : dH[i] * (1 - hn[i] * hn[i]);
    }
    if (E->no_enc) return; /* de and da only drive the encoder's update */
    plast_gemm(0, 1, B, H, G, 1, dZ, G, E->Wcat + H * G, G, 0, dE, H);
    lr_product Li = p_ih_t(E, t);
    lr_forward(&Li, dZ, G, dE, H, E->sN, rows_of(E->Ap[P_IH_T], E, t, H));
    const plast_real *a = E->Apre + t * B * H;
    for (int64_t i = 0; i < B * H; i++) dA[i] = a[i] > 0 ? dE[i] : 0;
}

/* the rates, the rank-one updates of step t, their joint norm, the new coefficients and plastic biases */
static void plastic_update(duan_engine *E, int64_t t) {
    const int64_t B = E->B, T = E->T, I = E->I, H = E->H, G = E->G, D = E->D, C2 = E->C2;
    const plast_real *x = E->Uenc + t * I, *u = E->Ucell + t * C2, *hn = E->Hs + (t + 1) * B * H;
    const plast_real *o = E->Orec + t * B * D;
    plast_real *sig = E->SIG + t * B, *eta = E->ETA + t * B, *lam = E->LAM + t * B;
    plast_real *s = E->S + t * B, *n2 = E->N2 + t * B, *coef = E->COEF + t * B;
    const plast_real *venc = E->E + t * B * H, *vcell = E->lstm ? E->GATE + t * B * G : hn, *vout = o;
    if (E->grad_rule) venc = E->Da + t * B * H, vcell = E->Dz + t * B * G, vout = E->Do + t * B * D;
    const int enc = !E->no_enc; /* the encoder's update exists */
    const double c2 = E->max_norm * E->max_norm;
#pragma omp parallel for if (B * G >= 4096)
    for (int64_t b = 0; b < B; b++) {
        sig[b] = E->modulated ? sigm(o[b * D + D - 1]) : 0;
        eta[b] = (plast_real)(E->modulated ? 2 * E->p_lr * sig[b] : E->p_lr);
        lam[b] = (plast_real)(E->modulated ? 2 * E->p_wd * sig[b] : E->p_wd);
        if (enc) memcpy(E->Venc + (b * T + t) * H, venc + b * H, (size_t)H * sizeof(plast_real));
        memcpy(E->Vcell + (b * T + t) * G, vcell + b * G, (size_t)G * sizeof(plast_real));
        memcpy(E->Uout + (b * T + t) * H, hn + b * H, (size_t)H * sizeof(plast_real));
        memcpy(E->Vout + (b * T + t) * D, vout + b * D, (size_t)D * sizeof(plast_real));
        const plast_real *xb = x + b * T * I, *ub = u + b * T * C2;
        double ve = enc ? dot(venc + b * H, venc + b * H, H) : 0, vc = dot(vcell + b * G, vcell + b * G, G);
        double vo = dot(vout + b * D, vout + b * D, D);
        double nn = (enc ? dot(xb, xb, I) * ve : 0) + dot(ub, ub, C2) * vc + dot(hn + b * H, hn + b * H, H) * vo;
        if (E->grad_rule) nn += ve + 2 * vc + vo; /* the bias updates */
        n2[b] = (plast_real)nn;
        s[b] = (plast_real)(E->max_norm / sqrt(nn > c2 ? nn : c2));
        coef[b] = eta[b] * s[b];
        plast_real *gam = E->GAM + (t * B + b) * T, keep = 1 - lam[b];
        const plast_real *prev = t > 0 ? E->GAM + ((t - 1) * B + b) * T : NULL;
        for (int64_t k = 0; k < t; k++) gam[k] = keep * prev[k];
        gam[t] = coef[b];
        /* plastic biases: decay, plus the gradient rule's updates */
        struct { plast_real *pb; const plast_real *ab, *g; int64_t n; } bias[4] = {
            {E->PBenc, E->abenc, venc, H}, {E->PBhh, E->abhh, vcell, G}, {E->PBih, E->abih, vcell, G}, {E->PBout, E->about, vout, D}};
        for (int k = enc ? 0 : 1; k < 4; k++) {
            const int64_t n = bias[k].n;
            const plast_real *old = bias[k].pb + (t * B + b) * n;
            plast_real *nw = bias[k].pb + ((t + 1) * B + b) * n;
            for (int64_t j = 0; j < n; j++)
                nw[j] = keep * old[j] + (E->grad_rule ? coef[b] * bias[k].ab[j] * bias[k].g[b * n + j] : 0);
        }
    }
}

/* the cell's nonlinearity at step t, from its pre-activations Zc[t]: h_t (and for the LSTM the gates, c_t and
 * tanh c_t) */
static void cell_forward(duan_engine *E, int64_t t) {
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

/* The dense path (no plasticity): the encoder and the input half of the cell do not depend on the recurrence, so
 * x W_enc and e W_ih are computed for all T steps in one product each; only h W_hh stays step by step. */
static void forward_dense(duan_engine *E) {
    const int64_t B = E->B, T = E->T, I = E->I, H = E->H, G = E->G, D = E->D, C2 = E->C2;
    /* encoder over (sample, step) rows, into the e half of the cell history (or the inputs themselves) */
    if (!E->no_enc) plast_gemm(0, 0, B * T, H, I, 1, E->Uenc, I, E->Wenc, H, 0, E->tA_all, H);
#pragma omp parallel for if (B * T * H >= 32768)
    for (int64_t r = 0; r < B * T; r++) {
        const int64_t b = r / T, t = r % T;
        const plast_real *ar = E->tA_all + r * H;
        plast_real *a = E->Apre + (t * B + b) * H, *u = E->Ucell + r * C2 + H;
        if (E->no_enc) {
            memcpy(u, E->Uenc + r * I, (size_t)H * sizeof(plast_real));
            continue;
        }
        for (int64_t j = 0; j < H; j++) {
            a[j] = ar[j] + E->benc[j];
            u[j] = a[j] > 0 ? a[j] : 0;
        }
    }
    /* input half of the cell for every step: tZ_all (B, T, G) as scratch */
    plast_gemm(0, 0, B * T, G, H, 1, E->Ucell + H, C2, E->Wcat + H * G, G, 0, E->tZ_all, G);
    for (int64_t t = 0; t < T; t++) {
        const plast_real *hp = E->Hs + t * B * H;
        plast_real *z = E->Zc + t * B * G;
#pragma omp parallel for if (B * G >= 16384)
        for (int64_t b = 0; b < B; b++) {
            memcpy(E->Ucell + (b * T + t) * C2, hp + b * H, (size_t)H * sizeof(plast_real));
            memcpy(E->E + (t * B + b) * H, E->Ucell + (b * T + t) * C2 + H, (size_t)H * sizeof(plast_real));
            const plast_real *ih = E->tZ_all + (b * T + t) * G;
            for (int64_t j = 0; j < G; j++) z[b * G + j] = ih[j] + E->bhh[j] + E->bih[j];
        }
        plast_gemm(0, 0, B, G, H, 1, hp, H, E->Wcat, G, 1, z, G);
        cell_forward(E, t);
    }
    /* output for every step */
    plast_gemm(0, 0, T * B, D, H, 1, E->Hs + B * H, H, E->Wout, D, 0, E->Orec, D);
    add_row(E->Orec, T * B, D, D, E->bout);
}

static void forward_step(duan_engine *E, int64_t t) {
    const int64_t B = E->B, T = E->T, I = E->I, H = E->H, G = E->G, D = E->D, C2 = E->C2;
    const plast_real *hp = E->Hs + t * B * H, *hn = E->Hs + (t + 1) * B * H;
    const plast_real *x = E->Uenc + t * I; /* sample b at x + b * T * I */
    plast_real *a = E->Apre + t * B * H, *e = E->E + t * B * H, *z = E->Zc + t * B * G, *o = E->Orec + t * B * D;

    /* encoder, or the cell inputs themselves */
    if (E->no_enc) {
        for (int64_t b = 0; b < B; b++) memcpy(e + b * H, x + b * T * I, (size_t)H * sizeof(plast_real));
    } else {
        plast_gemm(0, 0, B, H, I, 1, x, T * I, E->Wenc, H, 0, a, H);
        add_row(a, B, H, H, E->benc);
        if (E->plastic) {
            add_to(a, E->PBenc + t * B * H, B * H);
            lr_product L = p_enc(E, t);
            lr_forward(&L, x, T * I, a, H, E->sN, rows_of(E->Ap[P_ENC], E, t, H));
        }
        for (int64_t i = 0; i < B * H; i++) e[i] = a[i] > 0 ? a[i] : 0;
    }

    /* cell, on u = [h_{t-1}; e_t], which is also the cell's presynaptic history entry */
    plast_real *u = E->Ucell + t * C2;
    for (int64_t b = 0; b < B; b++) {
        memcpy(u + b * T * C2, hp + b * H, (size_t)H * sizeof(plast_real));
        memcpy(u + b * T * C2 + H, e + b * H, (size_t)H * sizeof(plast_real));
    }
    plast_gemm(0, 0, B, G, C2, 1, u, T * C2, E->Wcat, G, 0, z, G);
    add_row(z, B, G, G, E->bhh);
    add_row(z, B, G, G, E->bih);
    if (E->plastic) {
        add_to(z, E->PBhh + t * B * G, B * G);
        add_to(z, E->PBih + t * B * G, B * G);
        lr_product L = p_cell(E, t);
        lr_forward(&L, u, T * C2, z, G, E->sN, rows_of(E->Ap[P_CELL], E, t, G));
    }
    cell_forward(E, t);

    /* output */
    plast_gemm(0, 0, B, D, H, 1, hn, H, E->Wout, D, 0, o, D);
    add_row(o, B, D, D, E->bout);
    if (!E->plastic) return;
    add_to(o, E->PBout + t * B * D, B * D);
    lr_product Lo = p_out(E, t);
    lr_forward(&Lo, hn, H, o, D, E->sN, rows_of(E->Ap[P_OUT], E, t, D));
    if (E->grad_rule) inner_gradient(E, t);
    plastic_update(E, t);
}

/* ---- backward -------------------------------------------------------------------------------------------------- */

/* (a) the adjoints of step t's update: coefficients, plastic biases, norm and rates; they land in the history
 * adjoints of step t, in the bias-update adjoints (gge, ggz, ggo) and in tO[:, D-1] (the modulation output). */
static void backward_update(duan_engine *E, int64_t t) {
    const int64_t B = E->B, T = E->T, I = E->I, H = E->H, G = E->G, D = E->D, C2 = E->C2;
    const plast_real *lam = E->LAM + t * B, *eta = E->ETA + t * B, *s = E->S + t * B, *n2 = E->N2 + t * B;
    const plast_real *coef = E->COEF + t * B, *sig = E->SIG + t * B;
    zero(E->gge, B * H), zero(E->ggz, B * G), zero(E->ggo, B * D);
#pragma omp parallel for if (B * G >= 4096)
    for (int64_t b = 0; b < B; b++) {
        const plast_real keep = 1 - lam[b];
        plast_real *gg = E->gGAM + (t * B + b) * T;
        plast_real *gprev = t > 0 ? E->gGAM + ((t - 1) * B + b) * T : NULL;
        const plast_real *prev = t > 0 ? E->GAM + ((t - 1) * B + b) * T : NULL;
        double gcoef = gg[t], glam = 0;
        for (int64_t k = 0; k < t; k++) {
            glam -= (double)gg[k] * prev[k];
            gprev[k] += keep * gg[k];
        }
        /* biases: PB_{t+1} = keep PB_t + coef ab * g */
        struct { plast_real *gpb; const plast_real *pb, *ab, *g; plast_real *gg_out; int64_t n; } bias[4] = {
            {E->gPBenc, E->PBenc, E->abenc, E->Da, E->gge, H},
            {E->gPBhh, E->PBhh, E->abhh, E->Dz, E->ggz, G},
            {E->gPBih, E->PBih, E->abih, E->Dz, E->ggz, G},
            {E->gPBout, E->PBout, E->about, E->Do, E->ggo, D}};
        for (int k = E->no_enc ? 1 : 0; k < 4; k++) {
            const int64_t n = bias[k].n;
            plast_real *gp = bias[k].gpb + b * n;
            const plast_real *old = bias[k].pb + (t * B + b) * n;
            for (int64_t j = 0; j < n; j++) {
                glam -= (double)gp[j] * old[j];
                if (E->grad_rule) {
                    const plast_real g = bias[k].g[(t * B + b) * n + j];
                    gcoef += (double)gp[j] * bias[k].ab[j] * g;
                    bias[k].gg_out[b * n + j] += coef[b] * bias[k].ab[j] * gp[j];
                }
            }
        }
        /* coef = eta s; s = c / sqrt(max(n2, c^2)) */
        double geta = gcoef * s[b], gs = gcoef * eta[b];
        double gn2 = n2[b] > E->max_norm * E->max_norm ? -gs * s[b] / (2.0 * n2[b]) : 0;
        if (gn2 != 0) {
            const plast_real *xb = E->Uenc + b * T * I + t * I, *ub = E->Ucell + (b * T + t) * C2;
            const plast_real *ve = E->Venc + (b * T + t) * H, *vc = E->Vcell + (b * T + t) * G;
            const plast_real *uo = E->Uout + (b * T + t) * H, *vo = E->Vout + (b * T + t) * D;
            double xx = E->no_enc ? 0 : dot(xb, xb, I), uu = dot(ub, ub, C2), cc = dot(vc, vc, G);
            double hh = dot(uo, uo, H), oo = dot(vo, vo, D);
            plast_real *gve = E->gVenc + (b * T + t) * H, *guc = E->gUcell + (b * T + t) * C2;
            plast_real *gvc = E->gVcell + (b * T + t) * G, *guo = E->gUout + (b * T + t) * H;
            plast_real *gvo = E->gVout + (b * T + t) * D;
            for (int64_t j = 0; j < H && !E->no_enc; j++) gve[j] += (plast_real)(2 * gn2 * xx * ve[j]);
            for (int64_t j = 0; j < C2; j++) guc[j] += (plast_real)(2 * gn2 * cc * ub[j]);
            for (int64_t j = 0; j < G; j++) gvc[j] += (plast_real)(2 * gn2 * uu * vc[j]);
            for (int64_t j = 0; j < H; j++) guo[j] += (plast_real)(2 * gn2 * oo * uo[j]);
            for (int64_t j = 0; j < D; j++) gvo[j] += (plast_real)(2 * gn2 * hh * vo[j]);
            if (E->grad_rule) { /* the bias updates count in the norm too: |da|^2 + 2 |dz|^2 + |do|^2 */
                for (int64_t j = 0; j < H && !E->no_enc; j++) E->gge[b * H + j] += (plast_real)(2 * gn2 * ve[j]);
                for (int64_t j = 0; j < G; j++) E->ggz[b * G + j] += (plast_real)(4 * gn2 * vc[j]);
                for (int64_t j = 0; j < D; j++) E->ggo[b * D + j] += (plast_real)(2 * gn2 * vo[j]);
            }
        }
        if (E->modulated) { /* eta = 2 p_lr sig(m), lambda = 2 p_wd sig(m) */
            double gsig = 2 * E->p_lr * geta + 2 * E->p_wd * glam;
            E->tO[b * D + D - 1] += (plast_real)(gsig * sig[b] * (1 - sig[b]));
        }
        E->gcoef[b] = (plast_real)gcoef;
    }
    /* d/dalpha of the bias updates, then the carried bias adjoints become those of PB_t */
    for (int k = E->no_enc ? 1 : 0; k < 4; k++) {
        plast_real *gpb = k == 0 ? E->gPBenc : k == 1 ? E->gPBhh : k == 2 ? E->gPBih : E->gPBout;
        plast_real *dab = k == 0 ? E->dabenc : k == 1 ? E->dabhh : k == 2 ? E->dabih : E->dabout;
        const plast_real *g = k == 0 ? E->Da : (k == 3 ? E->Do : E->Dz);
        const int64_t n = k == 0 ? H : (k == 3 ? D : G);
        for (int64_t b = 0; b < B; b++)
            for (int64_t j = 0; j < n; j++) {
                if (E->grad_rule) dab[j] += coef[b] * gpb[b * n + j] * g[(t * B + b) * n + j];
                gpb[b * n + j] *= 1 - lam[b];
            }
    }
}

/* (b, gradient rule) the adjoint of the inner gradient: from the deltas' adjoints (qA, qZ, qO) to the step's
 * activations (tO, tH, tGate, tTau, tCp) and to the parameters. Second order. */
static void backward_inner(duan_engine *E, int64_t t) {
    const int64_t B = E->B, T = E->T, H = E->H, G = E->G, D = E->D, C2 = E->C2;
    const plast_real *a = E->Apre + t * B * H, *o = E->Orec + t * B * D, *z = E->Zc + t * B * G;
    const plast_real *dO = E->Do + t * B * D, *dH = E->Dh + t * B * H, *dZ = E->Dz + t * B * G;
    plast_real *qE = E->qE_all + t * B * H, *qH = E->qH_all + t * B * H;
    plast_real *gamma_adj = t > 0 ? E->gGAM + (t - 1) * B * T : NULL;
    if (!E->no_enc) { /* the encoder's update: da = de [a > 0] */
        for (int64_t i = 0; i < B * H; i++) qE[i] = a[i] > 0 ? E->qA[i] : 0;
        /* de = dz W_ih^T + (dz) P_ih^T (d/dW_ih and d/dalpha_ih later, from the saved adjoints qE) */
        plast_gemm(0, 0, B, G, H, 1, qE, H, E->Wcat + H * G, G, 1, E->qZ, G);
        lr_product Li = p_ih_t(E, t);
        lr_backward(&Li, dZ, G, qE, H, rows_of(E->Ap[P_IH_T], E, t, H), E->qZ, G, fac(E->gVcell, E, G),
                    fac(E->gUcell + H, E, C2), gamma_adj, E->sM, E->sN);
    }
    /* dz from dh (and the gates, c_t, c_{t-1}) */
    if (E->lstm) {
        const plast_real *gate = E->GATE + t * B * G, *tau = E->TAU + t * B * H, *cp = E->Cs + t * B * H;
        const plast_real *dC = E->Dc + t * B * H;
#pragma omp parallel for if (B * H >= 4096)
        for (int64_t b = 0; b < B; b++)
            for (int64_t j = 0; j < H; j++) {
                const int64_t n = b * H + j;
                const plast_real *gb = gate + b * G, *qz = E->qZ + b * G;
                plast_real gi = gb[j], gf = gb[H + j], gg = gb[2 * H + j], go = gb[3 * H + j], tj = tau[n];
                plast_real dc = dC[n], dh = dH[n], c0 = cp[n];
                plast_real q_i = qz[j], q_f = qz[H + j], q_g = qz[2 * H + j], q_o = qz[3 * H + j];
                plast_real *tg = E->tGate + b * G;
                plast_real qc = q_i * gg * gi * (1 - gi) + q_f * c0 * gf * (1 - gf) + q_g * gi * (1 - gg * gg);
                tg[2 * H + j] += q_i * dc * gi * (1 - gi) + q_g * dc * gi * (-2 * gg);
                tg[j] += q_i * dc * gg * (1 - 2 * gi) + q_g * dc * (1 - gg * gg);
                E->tCp[n] += q_f * dc * gf * (1 - gf);
                tg[H + j] += q_f * dc * c0 * (1 - 2 * gf);
                tg[3 * H + j] += q_o * dh * tj * (1 - 2 * go) + qc * dh * (1 - tj * tj);
                E->tTau[n] += q_o * dh * go * (1 - go) + qc * dh * go * (-2 * tj);
                qH[n] = q_o * tj * go * (1 - go) + qc * go * (1 - tj * tj);
            }
    } else {
        const plast_real *hn = E->Hs + (t + 1) * B * H;
        for (int64_t i = 0; i < B * H; i++) {
            if (E->relu_cell) {
                qH[i] = z[i] > 0 ? E->qZ[i] : 0;
            } else {
                qH[i] = E->qZ[i] * (1 - hn[i] * hn[i]);
                E->tH[i] += E->qZ[i] * dH[i] * (-2 * hn[i]);
            }
        }
    }
    /* dh = do W_out^T + (do) P_out^T */
    plast_gemm(0, 0, B, D, H, 1, qH, H, E->Wout, D, 1, E->qO, D);
    lr_product Lt = p_out_t(E, t);
    lr_backward(&Lt, dO, D, qH, H, rows_of(E->Ap[P_OUT_T], E, t, H), E->qO, D, fac(E->gVout, E, D),
                fac(E->gUout, E, H), gamma_adj, E->sM, E->sN);
    /* do = kappa w^2 o */
    for (int64_t b = 0; b < B; b++)
        for (int64_t k = 0; k < D; k++) {
            const plast_real q = E->qO[b * D + k], w = E->wo[k];
            E->tO[b * D + k] += (plast_real)E->kappa * w * w * q;
            E->dwo[k] += (plast_real)(2 * E->kappa) * w * o[b * D + k] * q;
        }
}

/* The dense path backwards: step by step only dh_{t-1} = dz W_hh^T; the input half, the encoder and the weight
 * gradients as products over all (sample, step) rows afterwards. */
static void backward_dense(duan_engine *E, const plast_real *dy) {
    const int64_t B = E->B, T = E->T, H = E->H, G = E->G, D = E->D, O = E->Oy;
    for (int64_t r = 0; r < T * B; r++) {
        plast_real *to = E->tO_all + r * D;
        memset(to, 0, (size_t)D * sizeof(plast_real));
        memcpy(to, dy + r * O, (size_t)O * sizeof(plast_real));
    }
    for (int64_t t = T - 1; t >= 0; t--) {
        const plast_real *z = E->Zc + t * B * G, *hn = E->Hs + (t + 1) * B * H, *cp = E->Cs + t * B * H;
        plast_real *tZ = E->tZ_all + t * G; /* sample b at tZ + b * T * G */
        memcpy(E->tH, E->gh, (size_t)(B * H) * sizeof(plast_real));
        plast_gemm(0, 1, B, H, D, 1, E->tO_all + t * B * D, D, E->Wout, D, 1, E->tH, H);
        if (E->lstm) {
            const plast_real *gate = E->GATE + t * B * G, *tau = E->TAU + t * B * H;
#pragma omp parallel for if (B * H >= 4096)
            for (int64_t b = 0; b < B; b++) {
                const plast_real *gb = gate + b * G;
                plast_real *tz = tZ + b * T * G;
#pragma omp simd /* no overlap between the buffers; see cell_forward */
                for (int64_t j = 0; j < H; j++) {
                    const int64_t n = b * H + j;
                    plast_real gi = gb[j], gf = gb[H + j], gg = gb[2 * H + j], go = gb[3 * H + j], tj = tau[n];
                    plast_real dc = E->gc[n] + E->tH[n] * go * (1 - tj * tj);
                    tz[j] = dc * gg * gi * (1 - gi);
                    tz[H + j] = dc * cp[n] * gf * (1 - gf);
                    tz[2 * H + j] = dc * gi * (1 - gg * gg);
                    tz[3 * H + j] = E->tH[n] * tj * go * (1 - go);
                    E->gc[n] = dc * gf;
                }
            }
        } else {
#pragma omp parallel for if (B * H >= 16384)
            for (int64_t b = 0; b < B; b++)
                for (int64_t j = 0; j < H; j++) {
                    const int64_t i = b * H + j;
                    tZ[b * T * G + j] = E->relu_cell ? (z[i] > 0 ? E->tH[i] : 0) : E->tH[i] * (1 - hn[i] * hn[i]);
                }
        }
        plast_gemm(0, 1, B, H, G, 1, tZ, T * G, E->Wcat, G, 0, E->gh, H);
    }
    /* the input half: d e for every (sample, step), then the encoder (or d input itself) */
    plast_gemm(0, 1, B * T, H, G, 1, E->tZ_all, G, E->Wcat + H * G, G, 0, E->tA_all, H);
#pragma omp parallel for if (B * T * H >= 32768)
    for (int64_t r = 0; r < B * T; r++) {
        const int64_t b = r / T, t = r % T;
        const plast_real *a = E->Apre + (t * B + b) * H;
        plast_real *ta = E->tA_all + r * H;
        if (E->no_enc) memcpy(E->DX + (t * B + b) * H, ta, (size_t)H * sizeof(plast_real));
        else
            for (int64_t j = 0; j < H; j++) ta[j] = a[j] > 0 ? ta[j] : 0;
    }
}

static void backward_step(duan_engine *E, int64_t t, const plast_real *dy) {
    const int64_t B = E->B, T = E->T, I = E->I, H = E->H, G = E->G, D = E->D, O = E->Oy, C2 = E->C2;
    const plast_real *x = E->Uenc + t * I, *a = E->Apre + t * B * H, *z = E->Zc + t * B * G;
    const plast_real *hn = E->Hs + (t + 1) * B * H, *cp = E->Cs + t * B * H, *u = E->Ucell + t * C2;
    plast_real *gamma_adj = (E->plastic && t > 0) ? E->gGAM + (t - 1) * B * T : NULL;
    plast_real *tO = E->tO_all + t * B * D;
    zero(E->tO, B * D), zero(E->tGate, B * G), zero(E->tE, B * H), zero(E->tTau, B * H), zero(E->tCp, B * H);
    for (int64_t b = 0; b < B; b++) memcpy(E->tO + b * D, dy + b * O, (size_t)O * sizeof(plast_real));
    memcpy(E->tH, E->gh, (size_t)(B * H) * sizeof(plast_real));

    /* (a, b) the update of step t, back to the step's activations */
    if (E->plastic) {
        backward_update(E, t);
        for (int64_t b = 0; b < B; b++) {
            const plast_real *gve = E->gVenc + (b * T + t) * H, *guc = E->gUcell + (b * T + t) * C2;
            const plast_real *gvc = E->gVcell + (b * T + t) * G, *guo = E->gUout + (b * T + t) * H;
            const plast_real *gvo = E->gVout + (b * T + t) * D;
            memcpy(E->tCell + b * C2, guc, (size_t)C2 * sizeof(plast_real));
            add_to(E->tH + b * H, guo, H);
            if (E->grad_rule) {
                for (int64_t j = 0; j < H; j++) E->qA[b * H + j] = E->no_enc ? 0 : gve[j] + E->gge[b * H + j];
                for (int64_t j = 0; j < G; j++) E->qZ[b * G + j] = gvc[j] + E->ggz[b * G + j];
                for (int64_t j = 0; j < D; j++) E->qO[b * D + j] = gvo[j] + E->ggo[b * D + j];
            } else {
                if (!E->no_enc) add_to(E->tE + b * H, gve, H);
                add_to(E->lstm ? E->tGate + b * G : E->tH + b * H, gvc, E->lstm ? G : H);
                add_to(E->tO + b * D, gvo, D);
            }
        }
        if (E->grad_rule) backward_inner(E, t);
    } else {
        zero(E->tCell, B * C2);
    }
    memcpy(tO, E->tO, (size_t)(B * D) * sizeof(plast_real)); /* kept for d/dW_out */

    /* (c) the forward pass of step t, backwards */
    /* output: o = h W_out + b_out + p_out + (h) P_out */
    plast_gemm(0, 1, B, H, D, 1, tO, D, E->Wout, D, 1, E->tH, H);
    if (E->plastic) {
        add_to(E->gPBout, tO, B * D);
        lr_product Lo = p_out(E, t);
        lr_backward(&Lo, hn, H, tO, D, rows_of(E->Ap[P_OUT], E, t, D), E->tH, H, fac(E->gUout, E, H),
                    fac(E->gVout, E, D), gamma_adj, E->sM, E->sN);
    }
    /* cell nonlinearity */
    plast_real *tZ = E->tZ_all + t * G; /* sample b at tZ + b * T * G: rows paired with the cell history */
    if (E->lstm) {
        const plast_real *gate = E->GATE + t * B * G, *tau = E->TAU + t * B * H;
#pragma omp parallel for if (B * H >= 4096)
        for (int64_t b = 0; b < B; b++)
            for (int64_t j = 0; j < H; j++) {
                const int64_t n = b * H + j;
                const plast_real *gb = gate + b * G;
                plast_real *tg = E->tGate + b * G, *tz = tZ + b * T * G;
                plast_real gi = gb[j], gf = gb[H + j], gg = gb[2 * H + j], go = gb[3 * H + j], tj = tau[n];
                plast_real dtau = E->tTau[n] + E->tH[n] * go;
                tg[3 * H + j] += E->tH[n] * tj;
                plast_real dc = E->gc[n] + dtau * (1 - tj * tj);
                tg[H + j] += dc * cp[n];
                tg[j] += dc * gg;
                tg[2 * H + j] += dc * gi;
                E->tCp[n] += dc * gf;
                tz[j] = tg[j] * gi * (1 - gi);
                tz[H + j] = tg[H + j] * gf * (1 - gf);
                tz[2 * H + j] = tg[2 * H + j] * (1 - gg * gg);
                tz[3 * H + j] = tg[3 * H + j] * go * (1 - go);
            }
    } else {
        for (int64_t b = 0; b < B; b++)
            for (int64_t j = 0; j < H; j++) {
                const int64_t i = b * H + j;
                tZ[b * T * G + j] = E->relu_cell ? (z[i] > 0 ? E->tH[i] : 0) : E->tH[i] * (1 - hn[i] * hn[i]);
            }
    }
    /* cell: z = u W_cat + biases + plastic biases + (u) P_cell, u = [h_{t-1}; e_t] */
    plast_gemm(0, 1, B, C2, G, 1, tZ, T * G, E->Wcat, G, 1, E->tCell, C2);
    if (E->plastic) {
        for (int64_t b = 0; b < B; b++) {
            add_to(E->gPBhh + b * G, tZ + b * T * G, G);
            add_to(E->gPBih + b * G, tZ + b * T * G, G);
        }
        lr_product Lc = p_cell(E, t);
        lr_backward(&Lc, u, T * C2, tZ, T * G, rows_of(E->Ap[P_CELL], E, t, G), E->tCell, C2, fac(E->gUcell, E, C2),
                    fac(E->gVcell, E, G), gamma_adj, E->sM, E->sN);
    }
    for (int64_t b = 0; b < B; b++) {
        memcpy(E->gh + b * H, E->tCell + b * C2, (size_t)H * sizeof(plast_real));
        add_to(E->tE + b * H, E->tCell + b * C2 + H, H);
    }
    if (E->no_enc) { /* the inputs were the cell inputs: their adjoint is the result */
        memcpy(E->DX + t * B * H, E->tE, (size_t)(B * H) * sizeof(plast_real));
        if (E->lstm) memcpy(E->gc, E->tCp, (size_t)(B * H) * sizeof(plast_real));
        return;
    }
    /* encoder: a = x W_enc + b_enc + p_enc + (x) P_enc; e = relu(a) */
    plast_real *tA = E->tA_all + t * H; /* sample b at tA + b * T * H, paired with the encoder history */
    for (int64_t b = 0; b < B; b++)
        for (int64_t j = 0; j < H; j++) tA[b * T * H + j] = a[b * H + j] > 0 ? E->tE[b * H + j] : 0;
    if (E->plastic) {
        for (int64_t b = 0; b < B; b++) add_to(E->gPBenc + b * H, tA + b * T * H, H);
        lr_product Le = p_enc(E, t);
        lr_backward(&Le, x, T * I, tA, T * H, rows_of(E->Ap[P_ENC], E, t, H), NULL, 0, (lr_factor){0},
                    fac(E->gVenc, E, H), gamma_adj, E->sM, E->sN);
    }
    if (E->lstm) memcpy(E->gc, E->tCp, (size_t)(B * H) * sizeof(plast_real));
}

/* After the last backward step: the gradients of every weight from the inputs and output adjoints all steps saved:
 * the slow weights and biases as one large product over (sample, step) rows each, alpha by lr_dalpha's recursion. */
static void weight_gradients(duan_engine *E) {
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
    if (!E->plastic || !E->learn_alpha) return;
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
    }
    if (!E->plastic) forward_dense(E);
    for (int64_t t = 0; t < T; t++) {
        if (E->plastic) forward_step(E, t);
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
        zero(E->gUout, B * T * H), zero(E->gVout, B * T * D), zero(E->gGAM, T * B * T);
        zero(E->gPBenc, B * H), zero(E->gPBhh, B * G), zero(E->gPBih, B * G), zero(E->gPBout, B * D);
    }
    if (E->plastic)
        for (int64_t t = T - 1; t >= 0; t--) backward_step(E, t, dy + t * B * E->Oy);
    else
        backward_dense(E, dy);
    weight_gradients(E);
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
    double slow_fwd = 2 * B * T * (I * H + C2 * G + H * D + g * D * H + gi * G * H);
    double slow_bwd = 2 * B * T * (D * H + G * C2 + gi * H * G + g * H * D) +
                      2 * B * T * (I * H + C2 * G + H * D + gi * H * G + g * H * D);
    return lr + slow_fwd + slow_bwd;
}

static const engine_path DUAN_PATH = {duan_forward, duan_backward, duan_release, duan_bytes, duan_flops};

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
    if (kind == PLAST_ENGINE_DENSE && d->plastic) {
        snprintf(why, cap, "plastic Duan models run on the lowrank path");
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
    plan pl = {NULL, 0};
    layout_buffers(E, &pl);
    E->bytes = pl.off + sizeof *E;
    E->block = aligned_alloc(64, pl.off);
    if (!E->block) {
        free(E);
        return plast_err_set(err, PLAST_ERR_NOMEM, "engine: out of memory for %zu bytes", pl.off);
    }
    pl = (plan){E->block, 0};
    layout_buffers(E, &pl);
    memset(E->block, 0, pl.off);
    eng->impl = E;
    eng->path = &DUAN_PATH;
    return PLAST_OK;
}

int engine_duan_has_image_encoder(const plast_model *m) { return PLAST_PRIV(m, duan_priv)->conv; }

const plast_real *engine_duan_input_grad(const plast_engine *eng) { return ((const duan_engine *)eng->impl)->DX; }
