/* src/engine/engine_fastweights.c: the fast-weight path: a model whose core is one fast-weight layer
 * (models/fast_layer.h gives the equations; the fastweights family of Ba et al. 2016 is) run by hand, one sample
 * per thread at a time, as the fused path runs a plastic layer (engine_fused.c). Each step's work on a sample's fast
 * weights A (H, H) is a few passes over it while it sits in cache: the Hebbian update, the inner loop's products
 * h^{s-1} A with their layer norms, and the energy in the forward; the same walked back in the backward. The input
 * half of z (x W_x + b), the readout and the weight gradients, which do not depend on A, run as one matrix product
 * each over all (step, sample) rows.
 *
 * Memory does not grow with T times H^2: A is kept every K steps (about sqrt(T)) and each segment is recomputed in
 * the backward pass from the saved h_t. Per step it keeps the inner loop's normalised values, 1 / std and outputs.
 * tests/test_engine.c checks outputs, energy and every gradient against the tape path. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/fastmath.h"
#include "core/gemm.h"
#include "engine/engine_internal.h"
#include "models/fast_layer.h"

#define FW_CLAMP 1000.0 /* the double update's clamp, as the reference's ART driver */

typedef struct fastw_engine {
    plast_fast_layer L;
    int64_t B, T, O, HH, NS; /* HH = H * H; NS = S + 1 inner stages */
    int64_t K, n_ck;         /* checkpoint interval and checkpoints per sample */
    int threads;             /* the most threads a call uses: the workspaces allocated */
    plast_real *XS;  /* (T, B, I) the inputs, for W_x's gradient */
    plast_real *UX;  /* (T, B, H) x_t W_x + b */
    plast_real *HS;  /* (T, B, H) h_t */
    plast_real *NRM; /* (T, B, NS, H) each stage's normalised pre-activation (z^s - mean) / std */
    plast_real *RSD; /* (T, B, NS) each stage's 1 / std */
    plast_real *HIN; /* (T, B, NS, H) each stage's output h^s */
    plast_real *CK;  /* (B, n_ck, H, H) A at the start of steps 0, K, 2K, ... */
    plast_real *GHY; /* (T, B, H) d loss / d h_t through the readout */
    plast_real *DZ;  /* (T, B, H) d loss / d z_t */
    plast_real *CW;  /* (I + H) sum_j |W_ij|: the energy's weights */
    plast_real *GS;  /* (B + 1, 2 H) each sample's gradients of g and beta, then their totals */
    plast_real *DX;  /* (T, B, I) d loss / d x_t (want_dx only) */
    const plast_state *init; /* the state trials start from, or NULL: zeros */
    int want_dx;
    plast_real *WS;  /* per thread, ws_n each (see thread_ws) */
    int64_t ws_n;
    size_t bytes;
    void *block;
    plast_real *RUN; /* (B, H, H) the running fast weights of closed-loop stepping, or NULL */
} fastw_engine;

typedef struct thread_ws {
    plast_real *Aseg;            /* (K, H, H) A at the start of each step of a segment */
    plast_real *Am, *gA;         /* (H, H) A_t of the step (after its first update); d loss / d A */
    plast_real *z, *zs, *ra;     /* (H) z without the fast weights, a stage's input, sum_j |A_ij| */
    plast_real *gh, *gz, *gc, *gn, *hp; /* (H) */
} thread_ws;

static thread_ws ws_of(const fastw_engine *E, int k) {
    const int64_t H = E->L.H, HH = E->HH;
    plast_real *p = E->WS + (int64_t)k * E->ws_n;
    thread_ws w;
    w.Aseg = p, p += E->K * HH;
    w.Am = p, p += HH;
    w.gA = p, p += HH;
    w.z = p, p += H;
    w.zs = p, p += H;
    w.ra = p, p += H;
    w.gh = p, p += H;
    w.gz = p, p += H;
    w.gc = p, p += H;
    w.gn = p, p += H;
    w.hp = p;
    return w;
}
static int64_t ws_count(int64_t K, int64_t HH, int64_t H) { return (K + 2) * HH + 8 * H; }

static int threads_now(const fastw_engine *E) {
    int n = omp_get_max_threads();
    n = n < E->threads ? n : E->threads;
    return (int64_t)n < E->B ? n : (int)E->B;
}

typedef struct fw_params {
    const plast_real *W, *g, *beta; /* W (I + H, H), g and beta (H) */
} fw_params;

/* h_{t-1} of sample b into hp: the step before's, the initial state's at t = 0, or zeros */
static void h_before(const fastw_engine *E, int64_t b, int64_t t, plast_real *hp) {
    const int64_t H = E->L.H;
    if (t > 0) memcpy(hp, E->HS + ((t - 1) * E->B + b) * H, (size_t)H * sizeof(plast_real));
    else if (E->init) memcpy(hp, plast_state_view(E->init, E->L.h) + b * H, (size_t)H * sizeof(plast_real));
    else memset(hp, 0, (size_t)H * sizeof(plast_real));
}

/* sample b's fast weights at the start of a trial: the initial state's or zeros */
static void state_start(const fastw_engine *E, int64_t b, plast_real *A) {
    if (E->init) memcpy(A, plast_state_view(E->init, E->L.A) + b * E->HH, (size_t)E->HH * sizeof(plast_real));
    else memset(A, 0, (size_t)E->HH * sizeof(plast_real));
}

static fw_params params_of(fastw_engine *E, plast_params *p) {
    const int64_t P = E->L.I + E->L.H, H = E->L.H;
    fw_params fp = {plast_params_value(p, E->L.w), plast_params_value(p, E->L.ln_g), plast_params_value(p, E->L.ln_b)};
    for (int64_t i = 0; i < P; i++) {
        plast_real s = 0;
        for (int64_t j = 0; j < H; j++) s += (plast_real)fabs((double)fp.W[i * H + j]);
        E->CW[i] = s;
    }
    return fp;
}

/* A = lambda A + eta u (x) u, clamped to +-c when c > 0 (into Aout, which may be A) */
static void hebb_update(const plast_real *A, const plast_real *u, int64_t H, plast_real lam, plast_real eta,
                        plast_real c, plast_real *Aout) {
    for (int64_t i = 0; i < H; i++) {
        const plast_real eu = eta * u[i];
        for (int64_t j = 0; j < H; j++) {
            const plast_real v = lam * A[i * H + j] + eu * u[j];
            Aout[i * H + j] = c > 0 ? (v < -c ? -c : (v > c ? c : v)) : v;
        }
    }
}

/* one stage: h = tanh(LN(zs)); its normalised values and 1 / std kept */
static void stage_forward(const fastw_engine *E, const fw_params *fp, const plast_real *zs, plast_real *nrm,
                          plast_real *rsd, plast_real *h) {
    const int64_t H = E->L.H;
    plast_real mu = 0, var = 0;
    for (int64_t j = 0; j < H; j++) mu += zs[j];
    mu /= (plast_real)H;
    for (int64_t j = 0; j < H; j++) var += (zs[j] - mu) * (zs[j] - mu);
    var /= (plast_real)H;
    const plast_real r = 1 / (plast_real)sqrt((double)(var + (plast_real)E->L.ln_eps));
    *rsd = r;
    for (int64_t j = 0; j < H; j++) {
        nrm[j] = (zs[j] - mu) * r;
        h[j] = plast_ftanh(nrm[j] * fp->g[j] + fp->beta[j]);
    }
}

/* step t of sample b: A (H, H) in and out, the record of row r = t B + b filled; returns the energy */
static plast_real sample_step(const fastw_engine *E, const fw_params *fp, plast_real *A, int64_t b, int64_t t,
                              thread_ws *w) {
    const int64_t B = E->B, I = E->L.I, H = E->L.H, NS = E->NS, r = t * B + b;
    const plast_real lam = (plast_real)E->L.lambda, eta = (plast_real)E->L.eta;
    if (t % E->K == 0) memcpy(E->CK + (b * E->n_ck + t / E->K) * E->HH, A, (size_t)E->HH * sizeof(plast_real));
    const plast_real *hp = w->hp;
    h_before(E, b, t, w->hp);
    hebb_update(A, hp, H, lam, eta, 0, A);
    /* z = x W_x + b (UX) + h_{t-1} W_h; the energy of p = [x; h_{t-1}] on W */
    const plast_real *x = E->XS + r * I, *Wh = fp->W + I * H;
    plast_real energy = 0;
    for (int64_t i = 0; i < I; i++) energy += x[i] * x[i] * E->CW[i];
    memcpy(w->z, E->UX + r * H, (size_t)H * sizeof(plast_real));
    for (int64_t i = 0; i < H; i++) {
        energy += hp[i] * hp[i] * E->CW[I + i];
        for (int64_t j = 0; j < H; j++) w->z[j] += hp[i] * Wh[i * H + j];
    }
    plast_real *nrm = E->NRM + r * NS * H, *rsd = E->RSD + r * NS, *hin = E->HIN + r * NS * H;
    stage_forward(E, fp, w->z, nrm, rsd, hin);
    if (NS > 1)
        for (int64_t i = 0; i < H; i++) {
            plast_real s = 0;
            for (int64_t j = 0; j < H; j++) s += (plast_real)fabs((double)A[i * H + j]);
            w->ra[i] = s;
        }
    for (int64_t s = 1; s < NS; s++) {
        const plast_real *hq = hin + (s - 1) * H;
        memcpy(w->zs, w->z, (size_t)H * sizeof(plast_real));
        for (int64_t i = 0; i < H; i++) {
            energy += hq[i] * hq[i] * w->ra[i];
            for (int64_t j = 0; j < H; j++) w->zs[j] += hq[i] * A[i * H + j];
        }
        stage_forward(E, fp, w->zs, nrm + s * H, rsd + s, hin + s * H);
    }
    memcpy(E->HS + r * H, hin + (NS - 1) * H, (size_t)H * sizeof(plast_real));
    if (E->L.double_update) hebb_update(A, E->HS + r * H, H, lam, eta, (plast_real)FW_CLAMP, A);
    return energy;
}

/* rows r0 .. r0 + rows - 1 of the inputs (x holds them) into XS, and x W_x + b into UX */
static void input_forward(const fastw_engine *E, const fw_params *fp, plast_params *p, const plast_real *x, int64_t r0,
                          int64_t rows) {
    const int64_t H = E->L.H, I = E->L.I;
    plast_real *U = E->UX + r0 * H;
    memcpy(E->XS + r0 * I, x, (size_t)(rows * I) * sizeof(plast_real));
    plast_gemm(0, 0, rows, H, I, 1, x, I, fp->W, H, 0, U, H);
    const plast_real *bias = plast_params_value(p, E->L.b);
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < H; j++) U[r * H + j] += bias[j];
}

static void readout_forward(const fastw_engine *E, plast_params *p, plast_real *y, int64_t r0, int64_t rows) {
    engine_readout_forward(p, E->L.readout.w, E->L.readout.b, 0, E->HS + r0 * E->L.H, rows, E->L.H, E->L.H,
                           E->O, y);
}

static plast_status fastw_forward(plast_engine *eng, plast_params *p, const plast_real *x, plast_real *y,
                                  plast_real *modulation, plast_real *energy, int train, plast_err *err) {
    (void)train, (void)err;
    fastw_engine *E = eng->impl;
    const int64_t B = E->B, T = E->T;
    E->init = eng->initial;
    const fw_params fp = params_of(E, p);
    input_forward(E, &fp, p, x, 0, T * B);
    const int nt = threads_now(E);
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int64_t b = 0; b < B; b++) {
        thread_ws w = ws_of(E, omp_get_thread_num());
        plast_real *A = w.gA; /* the running fast weights; gA is free during the forward */
        state_start(E, b, A);
        for (int64_t t = 0; t < T; t++) {
            const plast_real e = sample_step(E, &fp, A, b, t, &w);
            if (energy) energy[t * B + b] = e;
        }
        if (eng->final) { /* the trial's state: A and the last h */
            const int64_t H = E->L.H;
            memcpy(plast_state_data(eng->final, E->L.A) + b * E->HH, A, (size_t)E->HH * sizeof(plast_real));
            memcpy(plast_state_data(eng->final, E->L.h) + b * H, E->HS + ((T - 1) * B + b) * H,
                   (size_t)H * sizeof(plast_real));
        }
    }
    if (modulation) memset(modulation, 0, (size_t)(T * B) * sizeof(plast_real));
    readout_forward(E, p, y, 0, T * B);
    return PLAST_OK;
}

/* one step of every sample (closed-loop use): the running fast weights in RUN, allocated at the first call */
static plast_status fastw_step(plast_engine *eng, plast_params *p, int64_t t, const plast_real *x_t, plast_real *y_t,
                               plast_real *modulation_t, plast_real *energy_t, plast_err *err) {
    fastw_engine *E = eng->impl;
    const int64_t B = E->B, HH = E->HH;
    if (!E->RUN) {
        E->RUN = aligned_alloc(64, ((size_t)(B * HH) * sizeof(plast_real) + 63) / 64 * 64);
        if (!E->RUN) return plast_err_set(err, PLAST_ERR_NOMEM, "engine: out of memory for %lld running states",
                                          (long long)B);
        E->bytes += (size_t)(B * HH) * sizeof(plast_real);
    }
    if (t == 0) {
        E->init = eng->initial;
        for (int64_t b = 0; b < B; b++) state_start(E, b, E->RUN + b * HH);
    }
    const fw_params fp = params_of(E, p);
    input_forward(E, &fp, p, x_t, t * B, B);
    const int nt = threads_now(E);
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int64_t b = 0; b < B; b++) {
        thread_ws w = ws_of(E, omp_get_thread_num());
        const plast_real e = sample_step(E, &fp, E->RUN + b * HH, b, t, &w);
        if (energy_t) energy_t[b] = e;
    }
    if (modulation_t) memset(modulation_t, 0, (size_t)B * sizeof(plast_real));
    readout_forward(E, p, y_t, t * B, B);
    return PLAST_OK;
}

/* A at the start of each step of segment [s, e) of sample b from its checkpoint, into w->Aseg */
static void segment_recompute(const fastw_engine *E, int64_t b, int64_t seg, int64_t s, int64_t e, thread_ws *w) {
    const int64_t B = E->B, H = E->L.H, HH = E->HH;
    const plast_real lam = (plast_real)E->L.lambda, eta = (plast_real)E->L.eta;
    memcpy(w->Aseg, E->CK + (b * E->n_ck + seg) * HH, (size_t)HH * sizeof(plast_real));
    for (int64_t t = s; t + 1 < e; t++) {
        plast_real *An = w->Aseg + (t - s + 1) * HH;
        h_before(E, b, t, w->hp);
        hebb_update(w->Aseg + (t - s) * HH, w->hp, H, lam, eta, 0, An);
        if (E->L.double_update) hebb_update(An, E->HS + (t * B + b) * H, H, lam, eta, (plast_real)FW_CLAMP, An);
    }
}

/* one stage backwards from d loss / d h^s (gc): gz_s into gn; g's and beta's gradients into gg, gbeta */
static void stage_backward(const fastw_engine *E, const fw_params *fp, const plast_real *nrm, plast_real rsd,
                           const plast_real *h, const plast_real *gc, plast_real *gn, plast_real *gg, plast_real *gbeta) {
    const int64_t H = E->L.H;
    plast_real m1 = 0, m2 = 0;
    for (int64_t j = 0; j < H; j++) {
        const plast_real gy = gc[j] * (1 - h[j] * h[j]);
        gg[j] += gy * nrm[j];
        gbeta[j] += gy;
        gn[j] = gy * fp->g[j];
        m1 += gn[j];
        m2 += gn[j] * nrm[j];
    }
    m1 /= (plast_real)H, m2 /= (plast_real)H;
    for (int64_t j = 0; j < H; j++) gn[j] = rsd * (gn[j] - m1 - nrm[j] * m2);
}

/* step t of sample b backwards: in, w->gh (d loss / d h_t) and w->gA (d loss / d A after the step), Aprev the state
 * before it; out, DZ's row, w->gh d loss / d h_{t-1} through this step, w->gA d loss / d A_{t-1} */
static void sample_backward(const fastw_engine *E, const fw_params *fp, const plast_real *Aprev, int64_t b, int64_t t,
                            plast_real *gs, thread_ws *w) {
    const int64_t B = E->B, I = E->L.I, H = E->L.H, NS = E->NS, r = t * B + b;
    const plast_real lam = (plast_real)E->L.lambda, eta = (plast_real)E->L.eta, c = (plast_real)FW_CLAMP;
    h_before(E, b, t, w->hp);
    hebb_update(Aprev, w->hp, H, lam, eta, 0, w->Am);
    plast_real *gA = w->gA, *gh = w->gh, *gz = w->gz;
    const plast_real *h = E->HS + r * H;
    /* the double update A' = clamp(lambda A_t + eta h (x) h) */
    if (E->L.double_update)
        for (int64_t i = 0; i < H; i++)
            for (int64_t j = 0; j < H; j++) {
                const plast_real v = lam * w->Am[i * H + j] + eta * h[i] * h[j];
                const plast_real gv = (v > -c && v < c) ? gA[i * H + j] : 0;
                gA[i * H + j] = lam * gv;
                gh[i] += eta * gv * h[j];
                gh[j] += eta * gv * h[i];
            }
    /* the inner loop, last stage first */
    const plast_real *nrm = E->NRM + r * NS * H, *rsd = E->RSD + r * NS, *hin = E->HIN + r * NS * H;
    memset(gz, 0, (size_t)H * sizeof(plast_real));
    memcpy(w->gc, gh, (size_t)H * sizeof(plast_real));
    for (int64_t s = NS - 1; s >= 0; s--) {
        stage_backward(E, fp, nrm + s * H, rsd[s], hin + s * H, w->gc, w->gn, gs, gs + H);
        for (int64_t j = 0; j < H; j++) gz[j] += w->gn[j];
        if (s == 0) break;
        /* z^s = z + h^{s-1} A_t */
        const plast_real *hq = hin + (s - 1) * H;
        for (int64_t i = 0; i < H; i++) {
            plast_real acc = 0;
            for (int64_t j = 0; j < H; j++) {
                acc += w->Am[i * H + j] * w->gn[j];
                gA[i * H + j] += hq[i] * w->gn[j];
            }
            w->gc[i] = acc;
        }
    }
    memcpy(E->DZ + r * H, gz, (size_t)H * sizeof(plast_real));
    /* z = x W_x + h_{t-1} W_h + b, then A_t = lambda A_{t-1} + eta h_{t-1} (x) h_{t-1} */
    const plast_real *Wh = fp->W + I * H;
    for (int64_t i = 0; i < H; i++) {
        plast_real acc = 0;
        for (int64_t j = 0; j < H; j++)
            acc += Wh[i * H + j] * gz[j] + eta * (gA[i * H + j] + gA[j * H + i]) * w->hp[j];
        gh[i] = acc;
    }
    for (int64_t k = 0; k < E->HH; k++) gA[k] *= lam;
}

static plast_status fastw_backward(plast_engine *eng, plast_params *p, const plast_real *dy, plast_err *err) {
    (void)err;
    fastw_engine *E = eng->impl;
    const int64_t B = E->B, T = E->T, H = E->L.H, I = E->L.I, HH = E->HH, TB = T * B;
    const fw_params fp = params_of(E, p);
    engine_readout_backward(p, E->L.readout.w, E->L.readout.b, 0, E->HS, dy, TB, H, H, E->O, E->GHY);
    const int nt = threads_now(E);
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int64_t b = 0; b < B; b++) {
        thread_ws w = ws_of(E, omp_get_thread_num());
        plast_real *gs = E->GS + b * 2 * H;
        memset(gs, 0, (size_t)(2 * H) * sizeof(plast_real));
        memset(w.gA, 0, (size_t)HH * sizeof(plast_real));
        plast_real *ghn = w.z; /* d loss / d h_t from step t + 1 (z is free in the backward) */
        memset(ghn, 0, (size_t)H * sizeof(plast_real));
        for (int64_t seg = E->n_ck - 1; seg >= 0; seg--) {
            const int64_t s = seg * E->K, e = s + E->K < T ? s + E->K : T;
            segment_recompute(E, b, seg, s, e, &w);
            for (int64_t t = e - 1; t >= s; t--) {
                const int64_t r = t * B + b;
                for (int64_t j = 0; j < H; j++) w.gh[j] = E->GHY[r * H + j] + ghn[j];
                sample_backward(E, &fp, w.Aseg + (t - s) * HH, b, t, gs, &w);
                memcpy(ghn, w.gh, (size_t)H * sizeof(plast_real));
            }
        }
    }
    /* g and beta summed over the samples in order; W and b from every row's d loss / d z */
    plast_real *tot = E->GS + B * 2 * H, *gg = plast_params_grad(p, E->L.ln_g), *gbeta = plast_params_grad(p, E->L.ln_b);
    memset(tot, 0, (size_t)(2 * H) * sizeof(plast_real));
    for (int64_t b = 0; b < B; b++)
        for (int64_t j = 0; j < 2 * H; j++) tot[j] += E->GS[b * 2 * H + j];
    for (int64_t j = 0; j < H; j++) gg[j] += tot[j], gbeta[j] += tot[H + j];
    plast_real *gW = plast_params_grad(p, E->L.w), *gb = plast_params_grad(p, E->L.b);
    plast_gemm(1, 0, I, H, TB, 1, E->XS, I, E->DZ, H, 1, gW, H);
    if (T > 1) plast_gemm(1, 0, H, H, (T - 1) * B, 1, E->HS, H, E->DZ + B * H, H, 1, gW + I * H, H);
    if (E->init) plast_gemm(1, 0, H, H, B, 1, plast_state_view(E->init, E->L.h), H, E->DZ, H, 1, gW + I * H, H);
    /* d loss / d x_t = dz_t W_x^T */
    if (E->DX) plast_gemm(0, 1, TB, I, H, 1, E->DZ, H, fp.W, H, 0, E->DX, I);
    for (int64_t r = 0; r < TB; r++)
        for (int64_t j = 0; j < H; j++) gb[j] += E->DZ[r * H + j];
    return PLAST_OK;
}

static void fastw_release(plast_engine *eng) {
    fastw_engine *E = eng->impl;
    if (E) free(E->block), free(E->RUN);
    free(E);
}

static size_t fastw_bytes(const plast_engine *eng) { return ((const fastw_engine *)eng->impl)->bytes; }

/* the products: x W_x, h W_h, the S inner products with A and the readout, forward; about twice that backward */
static double fastw_flops(const plast_engine *eng) {
    const fastw_engine *E = eng->impl;
    const double BT = (double)E->B * (double)E->T, H = (double)E->L.H, I = (double)E->L.I, O = (double)E->O;
    const double fwd = 2 * I * H + 2 * H * H * (1 + (double)E->L.S) + 2 * H * O;
    return BT * 3 * fwd;
}

static const plast_real *fastw_input_grad(const plast_engine *eng) { return ((const fastw_engine *)eng->impl)->DX; }

static const engine_path FASTW_PATH = {fastw_forward, fastw_backward, fastw_release, fastw_bytes, fastw_flops,
                                       fastw_step, fastw_input_grad, 1};

int engine_fastweights_supports(const plast_model *m, int want_energy, char *why, size_t cap) {
    (void)want_energy; /* the path computes the energy */
    plast_fast_layer L;
    if (!m->family->fast || !m->family->fast(m, &L)) {
        snprintf(why, cap, "the %s family is not one plastic layer", m->family->name);
        return 0;
    }
    return 1;
}

static void layout_buffers(void *impl, engine_plan *pl) {
    fastw_engine *E = impl;
    const int64_t TB = E->T * E->B, H = E->L.H, I = E->L.I;
    E->XS = engine_plan_carve(pl, TB * I);
    E->UX = engine_plan_carve(pl, TB * H);
    E->HS = engine_plan_carve(pl, TB * H);
    E->NRM = engine_plan_carve(pl, TB * E->NS * H);
    E->RSD = engine_plan_carve(pl, TB * E->NS);
    E->HIN = engine_plan_carve(pl, TB * E->NS * H);
    E->CK = engine_plan_carve(pl, E->B * E->n_ck * E->HH);
    E->GHY = engine_plan_carve(pl, TB * H);
    E->DZ = engine_plan_carve(pl, TB * H);
    E->CW = engine_plan_carve(pl, I + H);
    E->GS = engine_plan_carve(pl, (E->B + 1) * 2 * H);
    E->DX = E->want_dx ? engine_plan_carve(pl, TB * I) : NULL;
    E->WS = engine_plan_carve(pl, (int64_t)E->threads * E->ws_n);
}

plast_status engine_fastweights_init(plast_engine *eng, plast_err *err) {
    const plast_model *m = eng->model;
    fastw_engine *E = calloc(1, sizeof *E);
    if (!E) return plast_err_set(err, PLAST_ERR_NOMEM, "engine: out of memory");
    m->family->fast(m, &E->L);
    E->B = eng->B, E->T = eng->T, E->O = m->O, E->HH = E->L.H * E->L.H, E->NS = E->L.S + 1;
    E->want_dx = eng->want_dx;
    E->K = (int64_t)ceil(sqrt((double)E->T));
    E->n_ck = (E->T + E->K - 1) / E->K;
    E->threads = omp_get_max_threads();
    E->ws_n = ws_count(E->K, E->HH, E->L.H);
    return engine_plan_open(eng, E, sizeof *E, layout_buffers, &E->block, &E->bytes, &FASTW_PATH, "fast-weight path", err);
}
