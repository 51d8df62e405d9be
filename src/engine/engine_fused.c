/* src/engine/engine_fused.c: the fused path: a model whose core is one plastic layer (models/plastic_layer.h gives
 * the equations; STPNr/STPNf, HebbFF, differentiable plasticity, simple neuromodulated plasticity and BOHP are) run
 * by hand, one sample per thread at a time. Each step's work on a sample's plastic matrix F (P, H) is a few passes
 * over it while it sits in cache: the column norms, the product with p_t, the energy and the rule's update in the
 * forward; the update's adjoint, the product's and the norms' in the backward. The drive and the readout, which
 * do not depend on F, run as one matrix product each over all (step, sample) rows. Inside the path every (P, H)
 * matrix and every per-step vector has rows of S = H rounded up to whole 8-lane vectors (fused_stride), zero in
 * the padding; the parameters, gradients and states outside keep their (P, H) layout.
 *
 * Memory does not grow with T times P H: the forward keeps F only every K steps (checkpoints, K about sqrt(T));
 * the backward recomputes the K states of a segment from its checkpoint (only the rule's update, from the saved
 * p_t, h_t, norms and modulators) and walks them back. Per step it keeps the vectors p_t, a_t, h_t and the norms.
 * tests/test_engine.c checks outputs, modulation, energy and every gradient against the tape path. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/fastmath.h"
#include "core/gemm.h"
#include "engine/engine_fused_internal.h"

/* the threads a call runs on: those OpenMP has now (train.adapt_threads may lower them), at most the workspaces
 * and the samples (an idle thread would only spin) */
static int threads_now(const fused_engine *E) {
    int n = omp_get_max_threads();
    n = n < E->threads ? n : E->threads;
    return (int64_t)n < E->B ? n : (int)E->B;
}

static thread_ws ws_of(const fused_engine *E, int k) {
    const int64_t PH = E->PH, SN = E->SN, S = E->S, P = E->L.P;
    plast_real *p = E->WS + (int64_t)k * E->ws_n;
    thread_ws w;
    w.Fseg = p, p += E->K * SN;
    w.gF = p, p += SN;
    w.Fc = p, p += PH;
    w.gW = w.glam = w.ggam = w.galpha = w.gb = w.gwm = w.gbm = w.geta = NULL; /* set per sample, into GS, by fused_backward */
    w.gh = p, p += S;
    w.ghn = p, p += S;
    w.ga = p, p += S;
    w.gn = p, p += S;
    w.inv = p, p += S;
    w.dv = p, p += S;
    w.sum = p, p += S;
    w.tg = p, p += S;
    w.tm = p, p += S;
    w.gp = p, p += P;
    w.gq = p, p += P;
    w.qbuf = p, p += P + S;
    w.rr = p;
    w.acc = E->ACC + (int64_t)k * S;
    return w;
}

static int64_t ws_count(int64_t K, int64_t SN, int64_t PH, int64_t S, int64_t P) {
    return K * SN + SN + PH + 11 * S + 3 * P;
}

/* ---- the engine path ------------------------------------------------------------------------------------------ */

/* a rate's value at synapse k from its parameter v, and d value / d parameter into d */
static plast_real rate_at(const plast_layer_rate *r, const plast_real *v, int64_t k, int scalar, double *d) {
    switch (r->map) {
    case PLAST_RATE_PARAM: *d = 1; return v[scalar ? 0 : k];
    case PLAST_RATE_SIGMOID: {
        const plast_real s = plast_fsigmoid(v[0]);
        *d = (double)s * (1 - s);
        return s;
    }
    case PLAST_RATE_EXP: *d = plast_fexp(v[0]); return plast_fexp(v[0]);
    case PLAST_RATE_NEG_EXP: *d = -plast_fexp(v[0]); return -plast_fexp(v[0]);
    case PLAST_RATE_ONE_MINUS: *d = -1; return 1 - v[0];
    default: *d = 0; return (plast_real)r->value;
    }
}

/* a (P, H) matrix into (P, S) rows, the padding zero */
static void rows_pad(const plast_real *src, int64_t P, int64_t H, int64_t S, plast_real *dst) {
    for (int64_t i = 0; i < P; i++) {
        memcpy(dst + i * S, src + i * H, (size_t)H * sizeof(plast_real));
        for (int64_t j = H; j < S; j++) dst[i * S + j] = 0;
    }
}

/* (P, S) rows back into a (P, H) matrix: dst += src, or dst = src */
static void rows_unpad(const plast_real *src, int64_t P, int64_t H, int64_t S, int add, plast_real *dst) {
    for (int64_t i = 0; i < P; i++)
        for (int64_t j = 0; j < H; j++) dst[i * H + j] = (add ? dst[i * H + j] : 0) + src[i * S + j];
}

/* a rate spread per synapse into X (P, S), zero in the padding: a parameter per synapse copied row by row, any
 * other rate one value (rate_at per synapse cost 4% of a PongLike PPO iteration, whose layer has 170,000 synapses
 * and is read at every step of the rollout) */
static void rate_spread(const plast_plastic_layer *L, const plast_layer_rate *r, const plast_real *v, int64_t S,
                        plast_real *X, double *d) {
    const int64_t P = L->P, H = L->H;
    if (r->map == PLAST_RATE_PARAM && !L->scalar_rates) {
        *d = 1;
        rows_pad(v, P, H, S, X);
        return;
    }
    const plast_real c = rate_at(r, v, 0, L->scalar_rates, d);
    for (int64_t i = 0; i < P; i++)
        for (int64_t j = 0; j < S; j++) X[i * S + j] = j < H ? c : 0;
}

/* the parameters as the layer uses them: lambda and gamma spread per synapse into LX, GX (their derivatives in
 * dlam, dgam), zero in the padding; W and alpha with padded rows when S > H; the drive's energy weights into CIN */
static layer_params params_of(fused_engine *E, plast_params *p) {
    const plast_plastic_layer *L = &E->L;
    const int64_t H = L->H, S = E->S;
    const plast_real *lam = L->lambda.param >= 0 ? plast_params_value(p, L->lambda.param) : NULL;
    const plast_real *gam = L->gamma.param >= 0 ? plast_params_value(p, L->gamma.param) : NULL;
    rate_spread(L, &L->lambda, lam, S, E->LX, &E->dlam);
    rate_spread(L, &L->gamma, gam, S, E->GX, &E->dgam);
    if (L->eligibility) {
        double d;
        E->eta_e = rate_at(&L->trace_rate, plast_params_value(p, L->trace_rate.param), 0, 1, &d);
        E->deta = d;
    }
    if (L->drive == PLAST_DRIVE_LINEAR) {
        const plast_real *Win = plast_params_value(p, L->drive_w.w); /* (H, I) */
        for (int64_t i = 0; i < L->I; i++) E->CIN[i] = 0;
        for (int64_t j = 0; j < L->H; j++)
            for (int64_t i = 0; i < L->I; i++) E->CIN[i] += fabs(Win[j * L->I + i]);
    }
    layer_params lp = {plast_params_value(p, L->w), L->b >= 0 ? plast_params_value(p, L->b) : NULL,
                       L->alpha >= 0 ? plast_params_value(p, L->alpha) : NULL, NULL, NULL};
    if (E->WP) rows_pad(lp.W, L->P, H, S, E->WP), lp.W = E->WP;
    if (E->AP) rows_pad(lp.alpha, L->P, H, S, E->AP), lp.alpha = E->AP;
    if (E->modulated) lp.wm = plast_params_value(p, L->modulator.w), lp.bm = plast_params_value(p, L->modulator.b);
    return lp;
}

/* the drive of rows r0 .. r0 + rows - 1 (x holds them) into UG: x W_in^T + b_in, or x */
static void drive_forward(const fused_engine *E, plast_params *p, const plast_real *x, int64_t r0, int64_t rows) {
    const int64_t H = E->L.H, I = E->L.I, S = E->S;
    plast_real *U = E->UG + r0 * S;
    if (E->L.drive == PLAST_DRIVE_DIRECT) { /* I = H */
        for (int64_t r = 0; r < rows; r++) memcpy(U + r * S, x + r * H, (size_t)H * sizeof(plast_real));
        return;
    }
    memcpy(E->XS + r0 * I, x, (size_t)(rows * I) * sizeof(plast_real));
    const plast_real *bin = plast_params_value(p, E->L.drive_w.b);
    plast_gemm(0, 1, rows, H, I, 1, x, I, plast_params_value(p, E->L.drive_w.w), I, 0, U, S);
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < H; j++) U[r * S + j] += bin[j];
}

/* d loss / d x_t of one step through p_t (and, with the rule on [x_t; h_t], through q): from the step's backward */
static void input_grad_row(const fused_engine *E, const thread_ws *w, plast_real *dx) {
    const int64_t I = E->L.I;
    if (E->L.pre == PLAST_LAYER_PRE_H) {
        memset(dx, 0, (size_t)I * sizeof(plast_real));
        return;
    }
    for (int64_t i = 0; i < I; i++) dx[i] = w->gp[i] + (E->L.hebb_new_h ? w->gq[i] : 0);
}

/* d loss / d x through the drive, from d loss / d a of every row (UG): + UG W_in (linear) or + UG (direct) */
static void drive_input_grad(const fused_engine *E, plast_params *p) {
    const int64_t TB = E->T * E->B, H = E->L.H, I = E->L.I, S = E->S;
    if (E->L.drive == PLAST_DRIVE_LINEAR) {
        plast_gemm(0, 0, TB, I, H, 1, E->UG, S, plast_params_value(p, E->L.drive_w.w), I, 1, E->DX, I);
        return;
    }
    for (int64_t r = 0; r < TB; r++) /* I = H */
        for (int64_t j = 0; j < H; j++) E->DX[r * I + j] += E->UG[r * S + j];
}

/* the linear drive's gradients from d loss / d a of every row (UG) */
static void drive_backward(const fused_engine *E, plast_params *p) {
    if (E->L.drive != PLAST_DRIVE_LINEAR) return;
    const int64_t TB = E->T * E->B, H = E->L.H, I = E->L.I, S = E->S;
    plast_gemm(1, 0, H, I, TB, 1, E->UG, S, E->XS, I, 1, plast_params_grad(p, E->L.drive_w.w), I);
    plast_real *gb = plast_params_grad(p, E->L.drive_w.b);
    for (int64_t r = 0; r < TB; r++)
        for (int64_t j = 0; j < H; j++) gb[j] += E->UG[r * S + j];
}

/* the readout of every row at once: y from HS */
static void readout_forward(const fused_engine *E, plast_params *p, plast_real *y, int64_t r0, int64_t rows) {
    const int64_t H = E->L.H, O = E->O, S = E->S;
    const plast_real *HS = E->HS + r0 * S;
    if (E->L.readout_form == PLAST_READOUT_FIRST) {
        for (int64_t r = 0; r < rows; r++) memcpy(y + r * O, HS + r * S, (size_t)O * sizeof(plast_real));
        return;
    }
    engine_readout_forward(p, E->L.readout.w, E->L.readout.b, E->L.readout_form == PLAST_READOUT_PLAIN, HS, rows, H, S,
                           O, y);
}

/* the readout backwards: d loss / d h_t of every row into GHY; the readout's gradients */
static void readout_backward(const fused_engine *E, plast_params *p, const plast_real *dy) {
    const int64_t TB = E->T * E->B, H = E->L.H, O = E->O, S = E->S;
    if (E->L.readout_form == PLAST_READOUT_FIRST) {
        memset(E->GHY, 0, (size_t)(TB * S) * sizeof(plast_real));
        for (int64_t r = 0; r < TB; r++) memcpy(E->GHY + r * S, dy + r * O, (size_t)O * sizeof(plast_real));
        return;
    }
    engine_readout_backward(p, E->L.readout.w, E->L.readout.b, E->L.readout_form == PLAST_READOUT_PLAIN, E->HS, dy,
                            TB, H, S, O, E->GHY);
}

/* sample b's plastic state at the start of a trial (F, then E with an eligibility trace): the initial state's or
 * zeros */
static void state_start(const fused_engine *E, int64_t b, plast_real *F) {
    if (!E->init) {
        memset(F, 0, (size_t)E->SN * sizeof(plast_real));
        return;
    }
    const int64_t P = E->L.P, H = E->L.H, S = E->S, PH = P * H; /* the state's matrices are (P, H) */
    rows_pad(plast_state_view(E->init, E->L.F) + b * PH, P, H, S, F);
    if (E->L.eligibility) rows_pad(plast_state_view(E->init, E->L.E) + b * PH, P, H, S, F + E->PH);
}

/* step t of sample b with input x (I): the checkpoint, p_t, the layer forward on the running state F; returns
 * the energy */
static plast_real sample_step(const fused_engine *E, const layer_params *lp, plast_real *F, const plast_real *x,
                              int64_t b, int64_t t, thread_ws *w) {
    const int64_t B = E->B, I = E->L.I, H = E->L.H, SN = E->SN, r = t * B + b;
    if (E->keep && t % E->K == 0) memcpy(E->CK + (b * E->n_ck + t / E->K) * SN, F, (size_t)SN * sizeof(plast_real));
    step_rec s = rec_of(E, NULL, r);
    s.x = x;
    if (E->L.pre != PLAST_LAYER_PRE_H) memcpy(s.p, s.x, (size_t)I * sizeof(plast_real));
    if (plast_layer_recurrent(&E->L)) {
        plast_real *ph = s.p + plast_layer_h_offset(&E->L);
        if (t > 0) memcpy(ph, E->HS + (r - B) * E->S, (size_t)H * sizeof(plast_real));
        else if (E->init) memcpy(ph, plast_state_view(E->init, E->L.h) + b * H, (size_t)H * sizeof(plast_real));
        else memset(ph, 0, (size_t)H * sizeof(plast_real));
    }
    return fused_layer_forward(E, lp, F, &s, w);
}

static plast_status fused_forward(plast_engine *eng, plast_params *p, const plast_real *x, plast_real *y,
                                  plast_real *modulation, plast_real *energy, int train, plast_err *err) {
    (void)train, (void)err;
    fused_engine *E = eng->impl;
    const int64_t B = E->B, T = E->T, P = E->L.P, H = E->L.H, S = E->S, PH = P * H; /* the state's (P, H) */
    E->init = eng->initial;
    E->keep = train;
    /* advancing a state (plast_engine_advance): F runs in the state itself, no copies, unless E must follow it or
     * its rows are padded */
    const int in_place = eng->final && (const plast_state *)eng->final == E->init && !E->L.eligibility && S == H;
    const layer_params lp = params_of(E, p);
    if (E->L.drive != PLAST_DRIVE_NONE) drive_forward(E, p, x, 0, T * B);
    const int nt = threads_now(E);
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int64_t b = 0; b < B; b++) {
        thread_ws w = ws_of(E, omp_get_thread_num());
        /* the running state, in cache for the whole trial; gF is free during the forward */
        plast_real *F = in_place ? plast_state_data(eng->final, E->L.F) + b * PH : w.gF;
        if (!in_place) state_start(E, b, F);
        for (int64_t t = 0; t < T; t++) {
            const int64_t r = t * B + b;
            const plast_real e = sample_step(E, &lp, F, x + r * E->L.I, b, t, &w);
            if (energy) energy[r] = e;
            if (modulation) modulation[r] = E->modulated ? E->MS[r] : 0;
        }
        if (eng->final) { /* the trial's state: F (and E), the last h */
            if (!in_place) rows_unpad(F, P, H, S, 0, plast_state_data(eng->final, E->L.F) + b * PH);
            if (E->L.eligibility) rows_unpad(F + E->PH, P, H, S, 0, plast_state_data(eng->final, E->L.E) + b * PH);
            if (E->L.h >= 0)
                memcpy(plast_state_data(eng->final, E->L.h) + b * H, E->HS + ((T - 1) * B + b) * S,
                       (size_t)H * sizeof(plast_real));
        }
    }
    readout_forward(E, p, y, 0, T * B);
    return PLAST_OK;
}

/* One step of every sample (closed-loop use): the running states live in RUN (B, P, H), allocated at the first
 * call; the parameters are read at t = 0 and must not change until the trial's backward. */
static plast_status fused_step(plast_engine *eng, plast_params *p, int64_t t, const plast_real *x_t, plast_real *y_t,
                               plast_real *modulation_t, plast_real *energy_t, plast_err *err) {
    fused_engine *E = eng->impl;
    const int64_t B = E->B, SN = E->SN, I = E->L.I;
    if (!E->RUN) {
        E->RUN = aligned_alloc(64, ((size_t)(B * SN) * sizeof(plast_real) + 63) / 64 * 64);
        if (!E->RUN) return plast_err_set(err, PLAST_ERR_NOMEM, "engine: out of memory for %lld running states",
                                          (long long)B);
        E->bytes += (size_t)(B * SN) * sizeof(plast_real);
    }
    if (t == 0) {
        E->init = eng->initial;
        E->keep = 1;
        E->lp_step = params_of(E, p);
        for (int64_t b = 0; b < B; b++) state_start(E, b, E->RUN + b * SN);
    }
    if (E->L.drive != PLAST_DRIVE_NONE) drive_forward(E, p, x_t, t * B, B);
    const int nt = threads_now(E);
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int64_t b = 0; b < B; b++) {
        thread_ws w = ws_of(E, omp_get_thread_num());
        const plast_real e = sample_step(E, &E->lp_step, E->RUN + b * SN, x_t + b * I, b, t, &w);
        if (energy_t) energy_t[b] = e;
        if (modulation_t) modulation_t[b] = E->modulated ? E->MS[t * B + b] : 0;
    }
    readout_forward(E, p, y_t, t * B, B);
    return PLAST_OK;
}

/* the states of segment [s, e) of sample b from its checkpoint into w->Fseg: each step's update again, from the
 * saved vectors */
static void segment_recompute(const fused_engine *E, const layer_params *lp, int64_t b, int64_t seg, int64_t s,
                              int64_t e, thread_ws *w) {
    const int64_t B = E->B, SN = E->SN;
    memcpy(w->Fseg, E->CK + (b * E->n_ck + seg) * SN, (size_t)SN * sizeof(plast_real));
    for (int64_t t = s; t + 1 < e; t++) {
        const step_rec sr = rec_of(E, NULL, t * B + b);
        fused_step_scales(E, sr.nr, w->inv, w->dv);
        plast_real *Fn = w->Fseg + (t - s + 1) * SN;
        fused_layer_advance(E, lp->W, w->Fseg + (t - s) * SN, fused_hebb_pre(E, sr.p, sr.h, w->qbuf), sr.h, w->dv,
                            step_mod(&sr), Fn, w->rr, w->inv, w->acc);
    }
}

/* a rate's gradient from its (P, S) sums over the samples: per synapse as it is, or the sum over synapses (the
 * padding adds zeros) times the map's derivative */
static void rate_grad(const fused_engine *E, const plast_layer_rate *r, int scalar, double deriv, plast_params *p,
                      const plast_real *acc, int64_t n) {
    if (r->map == PLAST_RATE_CONST) return;
    plast_real *g = plast_params_grad(p, r->param);
    if (r->map == PLAST_RATE_PARAM && !scalar) {
        rows_unpad(acc, E->L.P, E->L.H, E->S, 1, g);
        return;
    }
    plast_real s = 0;
    for (int64_t i = 0; i < n; i++) s += acc[i];
    g[0] += (plast_real)(s * deriv);
}

/* the samples' gradients (GS) into the parameters' gradients, summed in sample order; the columns are split
 * between threads, so the sums do not depend on their number */
static void sum_samples(const fused_engine *E, plast_params *p) {
    const int64_t B = E->B, PH = E->PH, gs_n = E->gs_n, H = E->L.H;
    const gs_layout g = gs_of(&E->L, E->S);
    plast_real *acc = E->GS + B * gs_n; /* one more row: the totals */
    const int nt = threads_now(E);
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int64_t c0 = 0; c0 < gs_n; c0 += 256) {
        const int64_t c1 = c0 + 256 < gs_n ? c0 + 256 : gs_n;
        for (int64_t c = c0; c < c1; c++) acc[c] = 0;
        for (int64_t b = 0; b < B; b++)
            for (int64_t c = c0; c < c1; c++) acc[c] += E->GS[b * gs_n + c];
    }
    const plast_plastic_layer *L = &E->L;
    rows_unpad(acc + g.w, L->P, H, E->S, 1, plast_params_grad(p, L->w));
    rate_grad(E, &L->lambda, L->scalar_rates, E->dlam, p, acc + g.lam, PH);
    rate_grad(E, &L->gamma, L->scalar_rates, E->dgam, p, acc + g.gam, PH);
    if (L->alpha >= 0) rows_unpad(acc + g.alpha, L->P, H, E->S, 1, plast_params_grad(p, L->alpha));
    if (L->b >= 0) {
        plast_real *gb = plast_params_grad(p, L->b);
        for (int64_t j = 0; j < H; j++) gb[j] += acc[g.b + j];
    }
    if (E->modulated) {
        plast_real *gwm = plast_params_grad(p, L->modulator.w);
        for (int64_t j = 0; j < H; j++) gwm[j] += acc[g.wm + j];
        plast_params_grad(p, L->modulator.b)[0] += acc[g.bm];
    }
    if (L->eligibility) rate_grad(E, &L->trace_rate, 1, E->deta, p, acc + g.eta, 1);
}

static plast_status fused_backward(plast_engine *eng, plast_params *p, const plast_real *dy, plast_err *err) {
    (void)err;
    fused_engine *E = eng->impl;
    const int64_t B = E->B, T = E->T, H = E->L.H, S = E->S, SN = E->SN;
    const int64_t h_off = plast_layer_h_offset(&E->L);
    const int recurrent = plast_layer_recurrent(&E->L);
    const layer_params lp = params_of(E, p);
    readout_backward(E, p, dy);

    const int64_t gs_n = E->gs_n;
    const gs_layout g = gs_of(&E->L, S);
    const int nt = threads_now(E);
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int64_t b = 0; b < B; b++) {
        thread_ws w = ws_of(E, omp_get_thread_num());
        plast_real *gs = E->GS + b * gs_n;
        memset(gs, 0, (size_t)gs_n * sizeof(plast_real));
        w.gW = gs + g.w, w.glam = gs + g.lam, w.ggam = gs + g.gam, w.galpha = gs + g.alpha;
        w.gb = gs + g.b, w.gwm = gs + g.wm, w.gbm = gs + g.bm, w.geta = gs + g.eta;
        memset(w.gF, 0, (size_t)SN * sizeof(plast_real));
        memset(w.ghn, 0, (size_t)S * sizeof(plast_real));
        for (int64_t seg = E->n_ck - 1; seg >= 0; seg--) {
            const int64_t s = seg * E->K, e = s + E->K < T ? s + E->K : T;
            segment_recompute(E, &lp, b, seg, s, e, &w);
            for (int64_t t = e - 1; t >= s; t--) {
                const int64_t r = t * B + b;
                const step_rec sr = rec_of(E, NULL, r);
                for (int64_t j = 0; j < S; j++) w.gh[j] = j < H ? E->GHY[r * S + j] + w.ghn[j] : 0;
                fused_layer_backward(E, &lp, w.Fseg + (t - s) * SN, &sr, &w);
                if (recurrent) memcpy(w.ghn, w.gp + h_off, (size_t)H * sizeof(plast_real));
                if (E->DX) input_grad_row(E, &w, E->DX + r * E->L.I);
            }
        }
    }
    sum_samples(E, p);
    drive_backward(E, p);
    if (E->DX && E->L.drive != PLAST_DRIVE_NONE) drive_input_grad(E, p);
    return PLAST_OK;
}

static const plast_real *fused_input_grad(const plast_engine *eng) { return ((const fused_engine *)eng->impl)->DX; }

static void fused_release(plast_engine *eng) {
    fused_engine *E = eng->impl;
    if (E) free(E->block), free(E->RUN);
    free(E);
}

static size_t fused_bytes(const plast_engine *eng) { return ((const fused_engine *)eng->impl)->bytes; }

/* the products with the plastic matrices (p G forward; G ga and the recomputed update backward), the drive and
 * the readout */
static double fused_flops(const plast_engine *eng) {
    const fused_engine *E = eng->impl;
    const double BT = (double)E->B * (double)E->T, HO = (double)E->L.H * (double)E->O;
    const double PH = (double)E->L.P * (double)E->L.H; /* the synapses, without the padding */
    const double HI = E->L.drive == PLAST_DRIVE_LINEAR ? (double)E->L.H * (double)E->L.I : 0;
    return BT * (2 * PH + 2 * HO + 2 * HI) + BT * (4 * PH + 4 * HO + 2 * HI);
}

static const engine_path FUSED_PATH = {fused_forward, fused_backward, fused_release, fused_bytes, fused_flops,
                                       fused_step, fused_input_grad, 1};

int engine_fused_supports(const plast_model *m, int want_energy, char *why, size_t cap) {
    (void)want_energy; /* the fused path computes the energy */
    if (!m->family->fused) {
        snprintf(why, cap, "the %s family is not one plastic layer", m->family->name);
        return 0;
    }
    plast_plastic_layer L;
    if (!m->family->fused(m, &L, why, cap)) return 0;
    if (L.eligibility && L.renormalise) {
        snprintf(why, cap, "an eligibility trace with renormalisation is not on the fused path");
        return 0;
    }
    if (!m->rule || !m->rule->kernel) {
        snprintf(why, cap, "rule \"%s\" has no elementwise kernel", m->rule ? m->rule->name : "none");
        return 0;
    }
    return 1;
}

/* every buffer of the engine from one block (engine_plan) */
static void layout_buffers(void *impl, engine_plan *pl) {
    fused_engine *E = impl;
    const int64_t B = E->B, T = E->T, S = E->S, P = E->L.P, PH = E->PH, SN = E->SN; /* records: rows of S */
    const int drive = E->L.drive != PLAST_DRIVE_NONE, linear = E->L.drive == PLAST_DRIVE_LINEAR;
    E->PRE = engine_plan_carve(pl, T * B * P);
    E->A = engine_plan_carve(pl, T * B * S);
    E->HS = engine_plan_carve(pl, T * B * S);
    E->NR = engine_plan_carve(pl, T * B * S);
    E->MR = engine_plan_carve(pl, T * B * S);
    E->MZ = E->modulated ? engine_plan_carve(pl, T * B) : NULL;
    E->MS = E->modulated ? engine_plan_carve(pl, T * B) : NULL;
    E->XS = linear ? engine_plan_carve(pl, T * B * E->L.I) : NULL;
    E->UG = drive ? engine_plan_carve(pl, T * B * S) : NULL;
    E->CK = engine_plan_carve(pl, B * E->n_ck * SN);
    E->GHY = engine_plan_carve(pl, T * B * S);
    E->DX = E->want_dx ? engine_plan_carve(pl, T * B * E->L.I) : NULL;
    E->LX = engine_plan_carve(pl, PH);
    E->GX = engine_plan_carve(pl, PH);
    E->WP = S > E->L.H ? engine_plan_carve(pl, PH) : NULL;
    E->AP = S > E->L.H && E->L.alpha >= 0 ? engine_plan_carve(pl, PH) : NULL;
    E->CIN = linear ? engine_plan_carve(pl, E->L.I) : NULL;
    E->GS = engine_plan_carve(pl, (B + 1) * E->gs_n); /* and a row for the totals */
    E->WS = engine_plan_carve(pl, (int64_t)E->threads * E->ws_n);
    E->ACC = engine_plan_carve(pl, (int64_t)E->threads * S);
}

/* The row stride of the plastic matrices: H rounded up to a whole number of 8-lane vectors, so that no row ends in
 * a tail of half-width and scalar steps. Measured (docs/PERFORMANCE.md): padding pays even where it adds a third
 * of the elements (H = 11 -> 16: ART's STPN step 1.5x faster), so every H is padded. */
static int64_t fused_stride(int64_t H) { return (H + FUSED_LANES - 1) / FUSED_LANES * FUSED_LANES; }

/* the checkpoint interval: about sqrt(T), so that the checkpoints (T / K) and a segment (K) cost alike */
static int64_t checkpoint_interval(int64_t T) {
    int64_t K = (int64_t)ceil(sqrt((double)T));
    return K < 1 ? 1 : K;
}

plast_status engine_fused_init(plast_engine *eng, plast_err *err) {
    const plast_model *m = eng->model;
    fused_engine *E = calloc(1, sizeof *E);
    if (!E) return plast_err_set(err, PLAST_ERR_NOMEM, "engine: out of memory");
    char why[128];
    m->family->fused(m, &E->L, why, sizeof why);
    E->kernel = m->rule->kernel;
    E->hebbian = m->rule->rank_one;
    E->modulated = E->L.modulator.w >= 0;
    E->B = eng->B, E->T = eng->T, E->O = m->O, E->want_dx = eng->want_dx;
    E->S = fused_stride(E->L.H), E->PH = E->L.P * E->S;
    E->SN = E->L.eligibility ? 2 * E->PH : E->PH;
    E->K = checkpoint_interval(E->T);
    E->n_ck = (E->T + E->K - 1) / E->K;
    E->threads = omp_get_max_threads();
    E->ws_n = ws_count(E->K, E->SN, E->PH, E->S, E->L.P);
    E->gs_n = gs_of(&E->L, E->S).n;
    return engine_plan_open(eng, E, sizeof *E, layout_buffers, &E->block, &E->bytes, &FUSED_PATH, "fused path", err);
}
