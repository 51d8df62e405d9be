/* src/engine/engine_fused_layer.c: the plastic layer of models/plastic_layer.h run for one sample, one step at a
 * time, forward and backward (the fused path, engine_fused.c). Each function is a few passes over the sample's
 * plastic matrix F (P, S) while it sits in cache: rows of S = H rounded up to whole 8-lane vectors, so that no row
 * ends in a scalar tail; the padding columns of W, alpha, lambda, gamma, F, h and of every adjoint stay zero. */
#include <math.h>
#include <string.h>

#include "core/fastmath.h"
#include "engine/engine_fused_internal.h"

#define NORM_EPS 1e-16 /* n_j = |G_:j| + eps, as the reference */
/* the hot loops are written once with flags that are constants at each call site, so each variant compiles
 * without the branches of the others */
#define HOT static inline __attribute__((always_inline))
/* the loop's rows (j) are distinct elements of distinct buffers: GCC drops restrict when it inlines and then gives
 * up on too many alias checks, so each such elementwise loop says so */
#define IVDEP _Pragma("GCC ivdep")

/* ---- the layer, one sample ------------------------------------------------------------------------------------- */

static inline plast_real act_fwd(plast_act a, plast_real x) {
    switch (a) {
    case PLAST_ACT_TANH: return plast_ftanh(x);
    case PLAST_ACT_RELU: return x > 0 ? x : 0;
    case PLAST_ACT_SIGMOID: return plast_fsigmoid(x);
    default: return x;
    }
}

/* d act / d a from a and h = act(a), as the tape's rules */
static inline plast_real act_grad(plast_act a, plast_real x, plast_real h) {
    switch (a) {
    case PLAST_ACT_TANH: return 1 - h * h;
    case PLAST_ACT_RELU: return x > 0 ? 1 : 0;
    case PLAST_ACT_SIGMOID: return h * (1 - h);
    default: return 1;
    }
}

/* column norms |W + F|_:j into r (H), 1 / (r + eps) into inv */
static void col_norms(const plast_real *W, const plast_real *F, int64_t P, int64_t H, plast_real *r, plast_real *inv,
                      plast_real *acc) {
    for (int64_t j = 0; j < H; j++) acc[j] = 0;
    for (int64_t i = 0; i < P; i++) {
        const plast_real *w = W + i * H, *f = F + i * H;
        IVDEP
        for (int64_t j = 0; j < H; j++) {
            const plast_real g = w[j] + f[j];
            acc[j] += g * g;
        }
    }
    for (int64_t j = 0; j < H; j++) {
        r[j] = (plast_real)sqrt(acc[j]);
        inv[j] = 1 / (r[j] + (plast_real)NORM_EPS);
    }
}

/* the clamp's bounds, infinite without one (clamping to them changes nothing, NaN included) */
static plast_real clamp_lo(const fused_engine *E) { return E->L.clamp > 0 ? (plast_real)-E->L.clamp : -(plast_real)INFINITY; }
static plast_real clamp_hi(const fused_engine *E) { return E->L.clamp > 0 ? (plast_real)E->L.clamp : (plast_real)INFINITY; }
/* written as two selects, max then min, so that each compiles to one vmaxps / vminps (NaN passes through both, as
 * before); the nested form v < lo ? lo : (v > hi ? hi : v) took seven vector instructions per clamp */
static inline plast_real clamp_to(plast_real v, plast_real lo, plast_real hi) {
    const plast_real up = v < lo ? lo : v;
    return up > hi ? hi : up;
}

/* Sums over j run in LANES independent partial sums, which the compiler turns into vector registers (a single
 * running sum would have to stay scalar without -ffast-math); the lanes are added in order at the end. */
enum { LANES = FUSED_LANES };
static inline plast_real lanes_sum(const plast_real s[LANES]) {
    plast_real t = 0;
    for (int l = 0; l < LANES; l++) t += s[l];
    return t;
}

/* the hebbian presynaptic vector q: [x_t; h_t] or p_t */
const plast_real *fused_hebb_pre(const fused_engine *E, const plast_real *p, const plast_real *h, plast_real *buf) {
    if (!E->L.hebb_new_h) return p;
    memcpy(buf, p, (size_t)E->L.I * sizeof(plast_real));
    memcpy(buf + E->L.I, h, (size_t)E->L.H * sizeof(plast_real));
    return buf;
}

/* F' = clamp(lambda Fk + gamma m G(q, h, Fk)) into Fout (may be F), Fk = F dv (dv = 1 / n or 1); lambda and gamma
 * per synapse (E->LX, E->GX), m the step's modulator (1 without one). With the eligibility trace (trace: E after F
 * in the state) F' = clamp(lambda Fk + gamma m E) and E' = (1 - eta_E) E + eta_E G. */
HOT void layer_update_impl(const fused_engine *E, const plast_real *F, const plast_real *q, const plast_real *h,
                           const plast_real *dv, plast_real m_step, plast_real *Fout, const int hebbian,
                           const int modulated, const int trace) {
    const int64_t P = E->L.P, S = E->S, PH = E->PH;
    const plast_real lo = clamp_lo(E), hi = clamp_hi(E), m = modulated ? m_step : 1, eta = E->eta_e;
    for (int64_t i = 0; i < P; i++) {
        const plast_real *f = F + i * S, *li = E->LX + i * S, *gi = E->GX + i * S, qi = q[i];
        const plast_real *e = trace ? F + PH + i * S : NULL;
        plast_real *fo = Fout + i * S; /* Fout is F or a distinct state: elementwise either way */
        plast_real *eo = trace ? Fout + PH + i * S : NULL;
        IVDEP
        for (int64_t j = 0; j < S; j++) {
            plast_real d3[3];
            const plast_real fk = f[j] * dv[j], G = hebbian ? qi * h[j] : E->kernel(qi, h[j], fk, d3);
            const plast_real ev = trace ? e[j] : 0;
            const plast_real v = li[j] * fk + (gi[j] * m) * (trace ? ev : G);
            fo[j] = clamp_to(v, lo, hi);
            if (trace) eo[j] = (1 - eta) * ev + eta * G;
        }
    }
}

void fused_layer_update(const fused_engine *E, const plast_real *F, const plast_real *q, const plast_real *h,
                         const plast_real *dv, plast_real m, plast_real *Fout) {
    if (E->L.eligibility) {
        if (E->hebbian) {
            if (E->modulated) layer_update_impl(E, F, q, h, dv, m, Fout, 1, 1, 1);
            else layer_update_impl(E, F, q, h, dv, m, Fout, 1, 0, 1);
        } else {
            if (E->modulated) layer_update_impl(E, F, q, h, dv, m, Fout, 0, 1, 1);
            else layer_update_impl(E, F, q, h, dv, m, Fout, 0, 0, 1);
        }
    } else if (E->hebbian) {
        if (E->modulated) layer_update_impl(E, F, q, h, dv, m, Fout, 1, 1, 0);
        else layer_update_impl(E, F, q, h, dv, m, Fout, 1, 0, 0);
    } else {
        if (E->modulated) layer_update_impl(E, F, q, h, dv, m, Fout, 0, 1, 0);
        else layer_update_impl(E, F, q, h, dv, m, Fout, 0, 0, 0);
    }
}

void fused_layer_advance(const fused_engine *E, const plast_real *W, const plast_real *F, const plast_real *q,
                         const plast_real *h, const plast_real *dv, plast_real m, plast_real *Fout, plast_real *r,
                         plast_real *inv, plast_real *acc) {
    fused_layer_update(E, F, q, h, dv, m, Fout);
    if (!E->L.renormalise) return;
    /* F = F' / (|W + F'| + eps). Summing the norms inside the update's pass saved 4% of the instructions of
     * maze_stpn but no measurable time (2026-12-01), so they stay a pass of their own */
    const int64_t P = E->L.P, S = E->S;
    col_norms(W, Fout, P, S, r, inv, acc);
    for (int64_t i = 0; i < P; i++)
        for (int64_t j = 0; j < S; j++) Fout[i * S + j] *= inv[j];
}

/* 1 / n (or 1 without the norm) and the decay's factor dv (1 / n when F / n decays, else 1) */
void fused_step_scales(const fused_engine *E, const plast_real *nr, plast_real *inv, plast_real *dv) {
    const int norm = E->L.norm == PLAST_LAYER_NORM_COLUMNS;
    for (int64_t j = 0; j < E->S; j++) {
        inv[j] = norm ? 1 / (nr[j] + (plast_real)NORM_EPS) : 1;
        dv[j] = E->L.decay_normalised ? inv[j] : 1;
    }
}

/* sum = p (G / n) with G = W + alpha F (W + F without alpha); returns the energy sum_i p_i^2 sum_j |G_ij / n_j| */
HOT plast_real product_forward(const fused_engine *E, const layer_params *lp, const plast_real *F, const plast_real *p,
                               const plast_real *inv, plast_real *sum, const int has_alpha) {
    const int64_t P = E->L.P, S = E->S;
    plast_real energy = 0;
    for (int64_t j = 0; j < S; j++) sum[j] = 0;
    for (int64_t i = 0; i < P; i++) {
        const plast_real *wr = lp->W + i * S, *f = F + i * S, *al = has_alpha ? lp->alpha + i * S : NULL, pi = p[i];
        plast_real row[LANES] = {0};
        for (int64_t j = 0; j < S; j += LANES) /* S is whole vectors */
            for (int l = 0; l < LANES; l++) {
                const plast_real g = has_alpha ? wr[j + l] + al[j + l] * f[j + l] : wr[j + l] + f[j + l];
                const plast_real gn = g * inv[j + l];
                sum[j + l] += pi * gn;
                row[l] += gn < 0 ? -gn : gn;
            }
        energy += pi * pi * lanes_sum(row);
    }
    return energy;
}

/* One step forward for one sample: a, h, the norms, the modulator and the energy from p and F; F updated in
 * place. */
/* The same with column norms, in one pass over W and F instead of two: per column j the sums of G_ij^2, p_i G_ij
 * and p_i^2 |G_ij| accumulate together, then each is divided by n_j (so nr, inv and sum are set here). G = W + F
 * (no alpha with a norm). The energy is sum_j (sum_i p_i^2 |G_ij|) / n_j. */
static plast_real product_forward_normed(const fused_engine *E, const plast_real *W, const plast_real *F,
                                         const plast_real *p, plast_real *nr, plast_real *inv, plast_real *sum,
                                         plast_real *sq, plast_real *eab) {
    const int64_t P = E->L.P, S = E->S;
    for (int64_t j = 0; j < S; j++) sq[j] = sum[j] = eab[j] = 0;
    for (int64_t i = 0; i < P; i++) {
        const plast_real *wr = W + i * S, *f = F + i * S, pi = p[i], pi2 = pi * pi;
        IVDEP
        for (int64_t j = 0; j < S; j++) {
            const plast_real g = wr[j] + f[j];
            sq[j] += g * g;
            sum[j] += pi * g;
            eab[j] += pi2 * (g < 0 ? -g : g);
        }
    }
    plast_real energy = 0;
    for (int64_t j = 0; j < S; j++) {
        nr[j] = (plast_real)sqrt(sq[j]);
        inv[j] = 1 / (nr[j] + (plast_real)NORM_EPS);
        sum[j] *= inv[j];
        energy += eab[j] * inv[j];
    }
    return energy;
}

plast_real fused_layer_forward(const fused_engine *E, const layer_params *lp, plast_real *F, const step_rec *s,
                                thread_ws *w) {
    const int64_t P = E->L.P, H = E->L.H;
    plast_real *inv = w->inv, *sum = w->sum, *a = s->a, *h = s->h;
    plast_real energy;
    if (E->L.norm == PLAST_LAYER_NORM_COLUMNS && !lp->alpha) {
        energy = product_forward_normed(E, lp->W, F, s->p, s->nr, inv, sum, w->acc, w->ga);
        fused_step_scales(E, s->nr, inv, w->dv);
    } else {
        if (E->L.norm == PLAST_LAYER_NORM_COLUMNS) col_norms(lp->W, F, P, E->S, s->nr, inv, w->acc);
        fused_step_scales(E, s->nr, inv, w->dv);
        energy = lp->alpha ? product_forward(E, lp, F, s->p, inv, sum, 1) : product_forward(E, lp, F, s->p, inv, sum, 0);
    }
    if (E->L.drive == PLAST_DRIVE_LINEAR)
        for (int64_t i = 0; i < E->L.I; i++) energy += s->x[i] * s->x[i] * E->CIN[i];
    for (int64_t j = 0; j < H; j++) {
        a[j] = (s->u ? s->u[j] + sum[j] : sum[j]) + (lp->b ? lp->b[j] : 0);
        h[j] = act_fwd(E->L.act, a[j]);
    }
    for (int64_t j = H; j < E->S; j++) a[j] = h[j] = 0; /* the padding: no post-synaptic activity */
    if (E->modulated) {
        plast_real z = 0;
        for (int64_t j = 0; j < H; j++) z += h[j] * lp->wm[j];
        *s->mz = z + lp->bm[0];
        *s->ms = act_fwd(E->L.mod_act, *s->mz);
    }
    fused_layer_advance(E, lp->W, F, fused_hebb_pre(E, s->p, h, w->qbuf), h, w->dv, step_mod(s), F, s->mr, w->qbuf,
                        w->acc);
    return energy;
}

/* the renormalisation's scales from gm_j = sum_i gF_ij Fc_ij and the norms mr (without eps): im = 1 / m and, in
 * place, gm_j = -gm_j / (m_j^2 mr_j), so that d loss / d Fc_ij = gF_ij im_j + gm_j (W + Fc)_ij */
static void renorm_scales(const plast_real *mr, int64_t H, plast_real *gm, plast_real *im) {
    for (int64_t j = 0; j < H; j++) {
        im[j] = 1 / (mr[j] + (plast_real)NORM_EPS);
        gm[j] = mr[j] > 0 ? -gm[j] * im[j] * im[j] / mr[j] : 0; /* d |S_:j| / d S_ij = S_ij / |S_:j| (0 where 0) */
    }
}

/* the renormalisation F_{t+1} = Fc / m, m = |W + Fc| + eps, backwards: gF becomes d loss / d Fc */
static void renormalise_backward(const fused_engine *E, const layer_params *lp, const plast_real *mr, thread_ws *w) {
    const int64_t P = E->L.P, S = E->S;
    plast_real *gm = w->sum, *im = w->ga, *gF = w->gF;
    for (int64_t j = 0; j < S; j++) gm[j] = 0;
    for (int64_t i = 0; i < P; i++)
        for (int64_t j = 0; j < S; j++) gm[j] += gF[i * S + j] * w->Fc[i * S + j];
    renorm_scales(mr, S, gm, im);
    for (int64_t i = 0; i < P; i++) {
        const plast_real *wr = lp->W + i * S, *fc = w->Fc + i * S;
        plast_real *gf = gF + i * S, *gw = w->gW + i * S;
        for (int64_t j = 0; j < S; j++) {
            const plast_real gs = gm[j] * (wr[j] + fc[j]);
            gf[j] = gf[j] * im[j] + gs;
            gw[j] += gs;
        }
    }
}

/* the update F' = clamp(lambda Fk + gamma m G(q, h, Fk)) backwards, for a rule's kernel: gF becomes d loss / d F_t
 * through Fk; gq, gh, gn (the decay's F / n), glam and ggam collect theirs; returns d loss / d m (0 unless
 * modulated). The kernel is called through a pointer, so this loop stays scalar. */
HOT plast_real update_backward_kernel(const fused_engine *E, const plast_real *F, const plast_real *q,
                                      const plast_real *h, plast_real m_step, thread_ws *w, const int modulated) {
    const int64_t P = E->L.P, S = E->S;
    const plast_real m = modulated ? m_step : 1; /* folded away without a modulator */
    const plast_real lo = clamp_lo(E), hi = clamp_hi(E), dnf = E->L.decay_normalised ? 1 : 0;
    const plast_real *dv = w->dv;
    plast_real gmod = 0;
    for (int64_t i = 0; i < P; i++) {
        const plast_real *f = F + i * S, *li = E->LX + i * S, *gi = E->GX + i * S, qi = q[i];
        plast_real *gf = w->gF + i * S, *gli = w->glam + i * S, *ggi = w->ggam + i * S, *gh = w->gh, *gn = w->gn;
        plast_real gq = 0;
        for (int64_t j = 0; j < S; j++) {
            plast_real d3[3]; /* d G / d pre, d post, d Fk */
            const plast_real fk = f[j] * dv[j], G = E->kernel(qi, h[j], fk, d3);
            const plast_real ge = gi[j] * m, fn = li[j] * fk + ge * G;
            const plast_real gfn = (fn > lo && fn < hi) ? gf[j] : 0;
            gli[j] += gfn * fk;
            ggi[j] += (gfn * m) * G;
            if (modulated) gmod += gfn * gi[j] * G;
            const plast_real gG = ge * gfn, gfk = li[j] * gfn + gG * d3[2];
            gq += gG * d3[0];
            gh[j] += gG * d3[1];
            gf[j] = gfk * dv[j];
            gn[j] -= dnf * gfk * fk * dv[j];
        }
        w->gq[i] = gq;
    }
    return gmod;
}

/* the same for the Hebbian rule G = q (x) h, in two passes per row so that both vectorise: the elementwise part
 * (no sums across j), then the row's sums d loss / d q_i and d loss / d m in LANES partial sums */
HOT plast_real update_backward_rank_one(const fused_engine *E, const plast_real *W, const plast_real *F,
                                        const plast_real *q, const plast_real *h, plast_real m_step, thread_ws *w,
                                        const int modulated, const int renorm) {
    const int64_t P = E->L.P, S = E->S;
    const plast_real m = modulated ? m_step : 1; /* folded away without a modulator */
    const plast_real lo = clamp_lo(E), hi = clamp_hi(E), dnf = E->L.decay_normalised ? 1 : 0;
    const plast_real *restrict dv = w->dv, *restrict rim = w->ga, *restrict rgm = w->sum; /* renorm_sums' */
    plast_real *restrict tg = w->tg, *restrict tm = w->tm, *restrict gh = w->gh, *restrict gn = w->gn;
    plast_real gmod[LANES] = {0};
    for (int64_t i = 0; i < P; i++) {
        const plast_real *restrict f = F + i * S, *restrict li = E->LX + i * S, *restrict gi = E->GX + i * S;
        const plast_real *restrict wr = renorm ? W + i * S : NULL, qi = q[i];
        plast_real *restrict gf = w->gF + i * S, *restrict gli = w->glam + i * S, *restrict ggi = w->ggam + i * S;
        plast_real *restrict gw = renorm ? w->gW + i * S : NULL;
        IVDEP
        for (int64_t j = 0; j < S; j++) {
            const plast_real fk = f[j] * dv[j], G = qi * h[j], ge = gi[j] * m, fn = li[j] * fk + ge * G;
            plast_real gfc = gf[j]; /* d loss / d F' */
            if (renorm) { /* through F_{t+1} = F' / m_j, m_j = |W + F'|_:j + eps (renormalise_backward's second pass) */
                const plast_real gs = rgm[j] * (wr[j] + clamp_to(fn, lo, hi));
                gfc = gfc * rim[j] + gs;
                gw[j] += gs;
            }
            const plast_real gfn = ((fn > lo) & (fn < hi)) ? gfc : 0; /* & not &&: no branch */
            gli[j] += gfn * fk;
            ggi[j] += (gfn * m) * G;
            if (modulated) tm[j] = gfn * gi[j] * G;
            const plast_real gG = ge * gfn, gfk = li[j] * gfn;
            tg[j] = gG;
            gh[j] += gG * qi;
            gf[j] = gfk * dv[j];
            gn[j] -= dnf * gfk * fk * dv[j];
        }
        plast_real gq[LANES] = {0};
        for (int64_t j = 0; j < S; j += LANES) /* S is whole vectors */
            for (int l = 0; l < LANES; l++) {
                gq[l] += tg[j + l] * h[j + l];
                if (modulated) gmod[l] += tm[j + l];
            }
        w->gq[i] = lanes_sum(gq);
    }
    return lanes_sum(gmod);
}

/* the update with the eligibility trace backwards: F' = clamp(lambda Fk + gamma m E), E' = (1 - eta_E) E +
 * eta_E G(q, h, Fk). gF holds d loss / d F' then d E' (SN), and becomes d loss / d F_t then d E_t; geta collects
 * d loss / d eta_E = sum d E' (G - E); returns d loss / d m (0 unless modulated). As the rank-one form, in two
 * passes per row: the elementwise part (vectorised for the Hebbian rule, whose kernel is inlined), then the row's
 * sums (d loss / d q_i, m and eta_E) in LANES partial sums; w->rr (unused without renormalisation) holds a row's
 * eta_E terms. */
HOT plast_real update_backward_trace(const fused_engine *E, const plast_real *F, const plast_real *q,
                                     const plast_real *h, plast_real m_step, thread_ws *w, const int hebbian,
                                     const int modulated) {
    const int64_t P = E->L.P, S = E->S, PH = E->PH;
    const plast_real m = modulated ? m_step : 1;
    const plast_real lo = clamp_lo(E), hi = clamp_hi(E), dnf = E->L.decay_normalised ? 1 : 0, eta = E->eta_e;
    const plast_real *restrict dv = w->dv;
    plast_real *restrict tg = w->tg, *restrict tm = w->tm, *restrict te = w->rr, *restrict gh = w->gh;
    plast_real *restrict gn = w->gn;
    plast_real gmod[LANES] = {0}, geta[LANES] = {0};
    for (int64_t i = 0; i < P; i++) {
        const plast_real *restrict f = F + i * S, *restrict e = F + PH + i * S, *restrict li = E->LX + i * S;
        const plast_real *restrict gi = E->GX + i * S, qi = q[i];
        plast_real *restrict gf = w->gF + i * S, *restrict ge = w->gF + PH + i * S;
        plast_real *restrict gli = w->glam + i * S, *restrict ggi = w->ggam + i * S;
        IVDEP
        for (int64_t j = 0; j < S; j++) {
            plast_real d3[3] = {h[j], qi, 0}; /* d G / d pre, d post, d Fk: the Hebbian rule's unless a kernel's */
            const plast_real fk = f[j] * dv[j], G = hebbian ? qi * h[j] : E->kernel(qi, h[j], fk, d3);
            const plast_real ev = e[j], gm = gi[j] * m, fn = li[j] * fk + gm * ev;
            const plast_real gfn = ((fn > lo) & (fn < hi)) ? gf[j] : 0, gen = ge[j]; /* & not &&: no branch */
            gli[j] += gfn * fk;
            ggi[j] += (gfn * m) * ev;
            if (modulated) tm[j] = gfn * gi[j] * ev;
            te[j] = gen * (G - ev);
            const plast_real gG = eta * gen, gfk = li[j] * gfn + gG * d3[2];
            tg[j] = gG * d3[0];
            gh[j] += gG * d3[1];
            gf[j] = gfk * dv[j];
            ge[j] = gm * gfn + (1 - eta) * gen;
            gn[j] -= dnf * gfk * fk * dv[j];
        }
        plast_real gq[LANES] = {0};
        for (int64_t j = 0; j < S; j += LANES) /* S is whole vectors */
            for (int l = 0; l < LANES; l++) {
                gq[l] += tg[j + l];
                geta[l] += te[j + l];
                if (modulated) gmod[l] += tm[j + l];
            }
        w->gq[i] = lanes_sum(gq);
    }
    w->geta[0] += lanes_sum(geta);
    return lanes_sum(gmod);
}

static plast_real update_backward(const fused_engine *E, const plast_real *F, const plast_real *q, const plast_real *h,
                                  plast_real m, thread_ws *w) {
    if (E->L.eligibility) {
        if (E->hebbian)
            return E->modulated ? update_backward_trace(E, F, q, h, m, w, 1, 1) : update_backward_trace(E, F, q, h, m, w, 1, 0);
        return E->modulated ? update_backward_trace(E, F, q, h, m, w, 0, 1) : update_backward_trace(E, F, q, h, m, w, 0, 0);
    }
    if (E->hebbian)
        return E->modulated ? update_backward_rank_one(E, NULL, F, q, h, m, w, 1, 0)
                            : update_backward_rank_one(E, NULL, F, q, h, m, w, 0, 0);
    return E->modulated ? update_backward_kernel(E, F, q, h, m, w, 1) : update_backward_kernel(E, F, q, h, m, w, 0);
}

/* The renormalisation's adjoint folded into the Hebbian update's (no trace): one pass recomputes F' and sums
 * gm_j = sum_i gF_ij F'_ij into w->sum, then renormalise_backward's scales go to w->ga (1 / m_j) and w->sum, and
 * update_backward_rank_one applies them element by element on its own pass. Two passes instead of four, and no F'
 * stored. */
HOT void renorm_sums(const fused_engine *E, const plast_real *F, const plast_real *q, const plast_real *h,
                     plast_real m_step, const plast_real *mr, thread_ws *w, const int modulated) {
    const int64_t P = E->L.P, S = E->S;
    const plast_real m = modulated ? m_step : 1, lo = clamp_lo(E), hi = clamp_hi(E);
    const plast_real *restrict dv = w->dv;
    plast_real *restrict gm = w->sum, *restrict im = w->ga;
    for (int64_t j = 0; j < S; j++) gm[j] = 0;
    for (int64_t i = 0; i < P; i++) {
        const plast_real *restrict f = F + i * S, *restrict li = E->LX + i * S, *restrict gi = E->GX + i * S;
        const plast_real *restrict gf = w->gF + i * S, qi = q[i];
        IVDEP
        for (int64_t j = 0; j < S; j++) {
            const plast_real fk = f[j] * dv[j], G = qi * h[j], fn = li[j] * fk + (gi[j] * m) * G;
            gm[j] += gf[j] * clamp_to(fn, lo, hi);
        }
    }
    renorm_scales(mr, S, gm, im);
}

static plast_real update_backward_renorm(const fused_engine *E, const plast_real *W, const plast_real *F,
                                         const plast_real *q, const plast_real *h, plast_real m, const plast_real *mr,
                                         thread_ws *w) {
    if (E->modulated) {
        renorm_sums(E, F, q, h, m, mr, w, 1);
        return update_backward_rank_one(E, W, F, q, h, m, w, 1, 1);
    }
    renorm_sums(E, F, q, h, m, mr, w, 0);
    return update_backward_rank_one(E, W, F, q, h, m, w, 0, 1);
}

/* a = u + p (G / n) + b with G = W + alpha F, n = |G| + eps, backwards from ga: gp, and d/dG into gW, gF (through
 * alpha) and galpha */
HOT void product_backward_impl(const fused_engine *E, const layer_params *lp, const plast_real *F, const plast_real *p,
                               const plast_real *nr, thread_ws *w, const int has_alpha) {
    const int64_t P = E->L.P, S = E->S;
    const int norm = E->L.norm == PLAST_LAYER_NORM_COLUMNS;
    const plast_real *inv = w->inv, *ga = w->ga;
    plast_real *sum = w->sum, *gn = w->gn;
    for (int64_t j = 0; j < S; j++) sum[j] = 0;
    for (int64_t i = 0; i < P; i++) {
        const plast_real *wr = lp->W + i * S, *f = F + i * S, *al = has_alpha ? lp->alpha + i * S : NULL, pi = p[i];
        plast_real gp[LANES] = {0};
        for (int64_t j = 0; j < S; j += LANES) /* S is whole vectors */
            for (int l = 0; l < LANES; l++) {
                const plast_real g = has_alpha ? wr[j + l] + al[j + l] * f[j + l] : wr[j + l] + f[j + l];
                const plast_real gnv = g * inv[j + l];
                gp[l] += gnv * ga[j + l];
                sum[j + l] += pi * gnv;
            }
        w->gp[i] += lanes_sum(gp);
    }
    /* through n: gn_j gets -sum_i gGn_ij G_ij / n_j^2, then d |G_:j| / d G_ij = G_ij / |G_:j| */
    for (int64_t j = 0; j < S; j++) {
        const plast_real g = gn[j] - ga[j] * sum[j] * inv[j];
        gn[j] = norm && nr[j] > 0 ? g / nr[j] : 0;
    }
    for (int64_t i = 0; i < P; i++) {
        const plast_real *wr = lp->W + i * S, *f = F + i * S, *al = has_alpha ? lp->alpha + i * S : NULL, pi = p[i];
        plast_real *restrict gf = w->gF + i * S, *restrict gw = w->gW + i * S;
        plast_real *restrict gal = has_alpha ? w->galpha + i * S : NULL;
        IVDEP
        for (int64_t j = 0; j < S; j++) {
            const plast_real g = has_alpha ? wr[j] + al[j] * f[j] : wr[j] + f[j];
            const plast_real gG = pi * ga[j] * inv[j] + gn[j] * g;
            gw[j] += gG;
            if (has_alpha) {
                gf[j] += al[j] * gG;
                gal[j] += f[j] * gG;
            } else {
                gf[j] += gG;
            }
        }
    }
}

/* One step backward for one sample. In: F_t (the state before the step), its record, w->gh (d loss / d h_t from
 * the readout and step t + 1) and w->gF (d loss / d F_{t+1}). Out: w->gF becomes d loss / d F_t, w->gp
 * d loss / d p_t, s->u (with a drive) d loss / d a_t; the parameter gradients accumulate in w. */
void fused_layer_backward(const fused_engine *E, const layer_params *lp, const plast_real *F, const step_rec *s,
                           thread_ws *w) {
    const int64_t P = E->L.P, H = E->L.H, I = E->L.I;
    const plast_real *h = s->h, m = step_mod(s);
    fused_step_scales(E, s->nr, w->inv, w->dv);
    const plast_real *q = fused_hebb_pre(E, s->p, h, w->qbuf);
    memset(w->gn, 0, (size_t)E->S * sizeof(plast_real));
    plast_real gm;
    if (E->L.renormalise && E->hebbian && !E->L.eligibility) {
        gm = update_backward_renorm(E, lp->W, F, q, h, m, s->mr, w);
    } else {
        if (E->L.renormalise) {
            fused_layer_update(E, F, q, h, w->dv, m, w->Fc);
            renormalise_backward(E, lp, s->mr, w);
        }
        gm = update_backward(E, F, q, h, m, w);
    }
    /* m = mod_act(h w_M^T + b_M) */
    if (E->modulated) {
        const plast_real gz = gm * act_grad(E->L.mod_act, *s->mz, m);
        for (int64_t j = 0; j < H; j++) {
            w->gh[j] += gz * lp->wm[j];
            w->gwm[j] += gz * h[j];
        }
        w->gbm[0] += gz;
    }
    /* the Hebbian presynaptic vector: [x; h_t] sends its h part to h_t, or it is p_t */
    if (E->L.hebb_new_h)
        for (int64_t j = 0; j < H; j++) w->gh[j] += w->gq[I + j];
    for (int64_t i = 0; i < P; i++) w->gp[i] = E->L.hebb_new_h ? 0 : w->gq[i];
    /* h = act(a) */
    for (int64_t j = 0; j < H; j++) {
        w->ga[j] = w->gh[j] * act_grad(E->L.act, s->a[j], h[j]);
        if (lp->b) w->gb[j] += w->ga[j];
    }
    for (int64_t j = H; j < E->S; j++) w->ga[j] = 0; /* the padding (it held renormalisation scales) */
    if (s->u) memcpy(s->u, w->ga, (size_t)H * sizeof(plast_real));
    if (lp->alpha) product_backward_impl(E, lp, F, s->p, s->nr, w, 1);
    else product_backward_impl(E, lp, F, s->p, s->nr, w, 0);
}

