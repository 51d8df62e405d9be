/* src/engine/engine_fused.c: the fused path: a model whose core is one plastic layer (models/plastic_layer.h gives
 * the equations; STPNr/STPNf, HebbFF, differentiable plasticity, simple neuromodulated plasticity and BOHP are) run
 * by hand, one sample per thread at a time. Each step's work on a sample's plastic matrix F (P, H) is a few passes
 * over it while it sits in cache: the column norms, the product with p_t, the energy and the rule's update in the
 * forward; the update's adjoint, the product's and the norms' in the backward. The drive and the readout, which
 * do not depend on F, run as one matrix product each over all (step, sample) rows.
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
#include "engine/engine_internal.h"
#include "models/plastic_layer.h"

#define NORM_EPS 1e-16 /* n_j = |G_:j| + eps, as the reference */
/* the hot loops are written once with flags that are constants at each call site, so each variant compiles
 * without the branches of the others */
#define HOT static inline __attribute__((always_inline))
/* the loop's rows (j) are distinct elements of distinct buffers: GCC drops restrict when it inlines and then gives
 * up on too many alias checks, so each such elementwise loop says so */
#define IVDEP _Pragma("GCC ivdep")

typedef struct fused_engine {
    plast_plastic_layer L;
    plast_real (*kernel)(plast_real pre, plast_real post, plast_real F, plast_real d[3]);
    int hebbian;         /* the rule is pre (x) post: its kernel inlined */
    int modulated;       /* a modulator m_t scales gamma */
    int64_t B, T, O, PH; /* PH: elements of one plastic matrix */
    int64_t K, n_ck;     /* checkpoint interval and checkpoints per sample, ceil(T / K) */
    int64_t gs_n;        /* one sample's gradients in GS (see gs_layout) */
    int threads;         /* the most threads a call uses: the workspaces allocated */

    /* forward record, time-major (T, B, n) */
    plast_real *PRE; /* (T, B, P) presynaptic vectors p_t */
    plast_real *A;   /* (T, B, H) pre-activations a_t */
    plast_real *HS;  /* (T, B, H) h_t */
    plast_real *NR;  /* (T, B, H) column norms |G_:j| without eps (norm only) */
    plast_real *MR;  /* (T, B, H) column norms |W + F'|_:j of the renormalisation, without eps (renormalise only) */
    plast_real *MZ, *MS; /* (T, B) the modulator before and after mod_act (modulated only) */
    plast_real *XS;  /* (T, B, I) the inputs (linear drive only: its weight's gradient) */
    plast_real *UG;  /* (T, B, H) the drive u_t in the forward, d loss / d a_t in the backward (drive only) */
    plast_real *CK;  /* (B, n_ck, P, H) F at the start of steps 0, K, 2K, ... */
    plast_real *GHY; /* (T, B, H) d loss / d h_t through the readout */
    plast_real *LX, *GX; /* (P, H) lambda and gamma per synapse (a scalar or constant spread over all) */
    plast_real *CIN; /* (I) sum_j |W_in_ji|: the drive's energy weights (linear drive only) */
    double dlam, dgam; /* d rate / d parameter of a mapped scalar rate */
    /* (B, gs_n): each sample's gradients, summed over the samples in order afterwards, so the result does not
     * depend on the number of threads */
    plast_real *GS;
    /* per thread, ws_n each: the segment's states (K, P, H), gF, Fc (P, H) and vectors (see thread_ws); ACC
     * (threads, H) double accumulators */
    plast_real *WS;
    double *ACC;
    int64_t ws_n;
    size_t bytes;
    void *block;
} fused_engine;

/* one sample's gradients in a row of GS: W, lambda, gamma (P, H each), alpha (P, H, with alpha), b, w_M (H each),
 * b_M (1) */
typedef struct gs_layout {
    int64_t w, lam, gam, alpha, b, wm, bm, n;
} gs_layout;

static gs_layout gs_of(const plast_plastic_layer *L) {
    const int64_t PH = L->P * L->H;
    gs_layout g;
    g.w = 0, g.lam = PH, g.gam = 2 * PH, g.alpha = 3 * PH;
    g.b = g.alpha + (L->alpha >= 0 ? PH : 0);
    g.wm = g.b + L->H, g.bm = g.wm + L->H, g.n = g.bm + 1;
    return g;
}

typedef struct thread_ws {
    plast_real *Fseg;          /* (K, P, H) F at the start of each step of a segment */
    plast_real *gF, *Fc;       /* (P, H) adjoint of the plastic state; the clamped update before renormalising */
    plast_real *gW, *glam, *ggam, *galpha; /* (P, H): the sample's gradients (per synapse), in GS */
    plast_real *gb, *gwm, *gbm; /* (H), (H), (1), in GS */
    plast_real *gh, *ghn, *ga, *gn, *inv, *dv, *sum; /* (H) */
    plast_real *tg, *tm;       /* (H) a row's d loss / d G and modulator terms, summed after the row's loop */
    plast_real *gp, *gq;       /* (P) */
    plast_real *qbuf;          /* (P + H): the Hebbian presynaptic vector [x; h_t], then 1 / m of a renormalisation */
    plast_real *rr;            /* (H) norms of a recomputed renormalisation */
    double *acc;               /* (H) */
} thread_ws;

/* the threads a call runs on: those OpenMP has now (train.adapt_threads may lower them), at most the workspaces
 * and the samples (an idle thread would only spin) */
static int threads_now(const fused_engine *E) {
    int n = omp_get_max_threads();
    n = n < E->threads ? n : E->threads;
    return (int64_t)n < E->B ? n : (int)E->B;
}

static thread_ws ws_of(const fused_engine *E, int k) {
    const int64_t PH = E->PH, H = E->L.H, P = E->L.P;
    plast_real *p = E->WS + (int64_t)k * E->ws_n;
    thread_ws w;
    w.Fseg = p, p += E->K * PH;
    w.gF = p, p += PH;
    w.Fc = p, p += PH;
    w.gW = w.glam = w.ggam = w.galpha = w.gb = w.gwm = w.gbm = NULL; /* set per sample, into GS, by fused_backward */
    w.gh = p, p += H;
    w.ghn = p, p += H;
    w.ga = p, p += H;
    w.gn = p, p += H;
    w.inv = p, p += H;
    w.dv = p, p += H;
    w.sum = p, p += H;
    w.tg = p, p += H;
    w.tm = p, p += H;
    w.gp = p, p += P;
    w.gq = p, p += P;
    w.qbuf = p, p += P + H;
    w.rr = p;
    w.acc = E->ACC + (int64_t)k * H;
    return w;
}

static int64_t ws_count(int64_t K, int64_t PH, int64_t H, int64_t P) {
    return K * PH + 2 * PH + 11 * H + 3 * P;
}

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
                      double *acc) {
    for (int64_t j = 0; j < H; j++) acc[j] = 0;
    for (int64_t i = 0; i < P; i++) {
        const plast_real *w = W + i * H, *f = F + i * H;
        for (int64_t j = 0; j < H; j++) {
            const double g = (double)w[j] + f[j];
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

/* Sums over j run in LANES independent partial sums, which the compiler turns into vector registers (a single
 * running sum would have to stay scalar without -ffast-math); the lanes are added in order at the end. */
enum { LANES = 8 };
static inline plast_real lanes_sum(const plast_real s[LANES]) {
    plast_real t = 0;
    for (int l = 0; l < LANES; l++) t += s[l];
    return t;
}

/* the hebbian presynaptic vector q: [x_t; h_t] or p_t */
static const plast_real *hebb_pre(const fused_engine *E, const plast_real *p, const plast_real *h, plast_real *buf) {
    if (!E->L.hebb_new_h) return p;
    memcpy(buf, p, (size_t)E->L.I * sizeof(plast_real));
    memcpy(buf + E->L.I, h, (size_t)E->L.H * sizeof(plast_real));
    return buf;
}

/* F' = clamp(lambda Fk + gamma m G(q, h, Fk)) into Fout (may be F), Fk = F dv (dv = 1 / n or 1); lambda and gamma
 * per synapse (E->LX, E->GX), m the step's modulator (1 without one) */
HOT void layer_update_impl(const fused_engine *E, const plast_real *F, const plast_real *q, const plast_real *h,
                           const plast_real *dv, plast_real m_step, plast_real *Fout, const int hebbian,
                           const int modulated) {
    const int64_t P = E->L.P, H = E->L.H;
    const plast_real lo = clamp_lo(E), hi = clamp_hi(E), m = modulated ? m_step : 1;
    for (int64_t i = 0; i < P; i++) {
        const plast_real *f = F + i * H, *li = E->LX + i * H, *gi = E->GX + i * H, qi = q[i];
        plast_real *fo = Fout + i * H; /* Fout is F or a distinct matrix: elementwise either way */
        IVDEP
        for (int64_t j = 0; j < H; j++) {
            plast_real d3[3];
            const plast_real fk = f[j] * dv[j], G = hebbian ? qi * h[j] : E->kernel(qi, h[j], fk, d3);
            const plast_real v = li[j] * fk + (gi[j] * m) * G;
            fo[j] = v < lo ? lo : (v > hi ? hi : v);
        }
    }
}

static void layer_update(const fused_engine *E, const plast_real *F, const plast_real *q, const plast_real *h,
                         const plast_real *dv, plast_real m, plast_real *Fout) {
    if (E->hebbian) {
        if (E->modulated) layer_update_impl(E, F, q, h, dv, m, Fout, 1, 1);
        else layer_update_impl(E, F, q, h, dv, m, Fout, 1, 0);
    } else {
        if (E->modulated) layer_update_impl(E, F, q, h, dv, m, Fout, 0, 1);
        else layer_update_impl(E, F, q, h, dv, m, Fout, 0, 0);
    }
}

/* the renormalisation F = F' / (|W + F'| + eps), r the norms */
static void layer_renormalise(const fused_engine *E, const plast_real *W, plast_real *F, plast_real *r, plast_real *inv,
                              double *acc) {
    const int64_t P = E->L.P, H = E->L.H;
    col_norms(W, F, P, H, r, inv, acc);
    for (int64_t i = 0; i < P; i++)
        for (int64_t j = 0; j < H; j++) F[i * H + j] *= inv[j];
}

typedef struct layer_params {
    const plast_real *W, *b, *alpha; /* (P, H), (H) or NULL, (P, H) or NULL */
    const plast_real *wm, *bm;       /* the modulator: (H), (1); NULL without one */
} layer_params;

/* 1 / n (or 1 without the norm) and the decay's factor dv (1 / n when F / n decays, else 1) */
static void step_scales(const fused_engine *E, const plast_real *nr, plast_real *inv, plast_real *dv) {
    const int norm = E->L.norm == PLAST_LAYER_NORM_COLUMNS;
    for (int64_t j = 0; j < E->L.H; j++) {
        inv[j] = norm ? 1 / (nr[j] + (plast_real)NORM_EPS) : 1;
        dv[j] = E->L.decay_normalised ? inv[j] : 1;
    }
}

/* sum = p (G / n) with G = W + alpha F (W + F without alpha); returns the energy sum_i p_i^2 sum_j |G_ij / n_j| */
HOT plast_real product_forward(const fused_engine *E, const layer_params *lp, const plast_real *F, const plast_real *p,
                               const plast_real *inv, plast_real *sum, const int has_alpha) {
    const int64_t P = E->L.P, H = E->L.H;
    plast_real energy = 0;
    for (int64_t j = 0; j < H; j++) sum[j] = 0;
    for (int64_t i = 0; i < P; i++) {
        const plast_real *wr = lp->W + i * H, *f = F + i * H, *al = has_alpha ? lp->alpha + i * H : NULL, pi = p[i];
        plast_real row[LANES] = {0};
        int64_t j = 0;
        for (; j + LANES <= H; j += LANES)
            for (int l = 0; l < LANES; l++) {
                const plast_real g = has_alpha ? wr[j + l] + al[j + l] * f[j + l] : wr[j + l] + f[j + l];
                const plast_real gn = g * inv[j + l];
                sum[j + l] += pi * gn;
                row[l] += gn < 0 ? -gn : gn;
            }
        for (; j < H; j++) {
            const plast_real g = has_alpha ? wr[j] + al[j] * f[j] : wr[j] + f[j];
            const plast_real gn = g * inv[j];
            sum[j] += pi * gn;
            row[0] += gn < 0 ? -gn : gn;
        }
        energy += pi * pi * lanes_sum(row);
    }
    return energy;
}

/* the vectors a step keeps for its sample: written by the forward, read back by the backward */
typedef struct step_rec {
    const plast_real *x; /* (I) the input */
    plast_real *p;       /* (P) */
    plast_real *u;       /* (H) the drive (NULL without); the backward writes d loss / d a there */
    plast_real *a, *h, *nr, *mr; /* (H) */
    plast_real *mz, *ms; /* the modulator before and after mod_act (NULL without one) */
} step_rec;

static step_rec rec_of(const fused_engine *E, const plast_real *x, int64_t r) {
    const int64_t H = E->L.H;
    step_rec s;
    s.x = x ? x + r * E->L.I : NULL;
    s.p = E->PRE + r * E->L.P;
    s.u = E->UG ? E->UG + r * H : NULL;
    s.a = E->A + r * H, s.h = E->HS + r * H, s.nr = E->NR + r * H, s.mr = E->MR + r * H;
    s.mz = E->modulated ? E->MZ + r : NULL;
    s.ms = E->modulated ? E->MS + r : NULL;
    return s;
}

/* the step's modulator m (1 without one) */
static plast_real step_mod(const step_rec *s) { return s->ms ? *s->ms : 1; }

/* One step forward for one sample: a, h, the norms, the modulator and the energy from p and F; F updated in
 * place. */
static plast_real layer_forward(const fused_engine *E, const layer_params *lp, plast_real *F, const step_rec *s,
                                thread_ws *w) {
    const int64_t P = E->L.P, H = E->L.H;
    plast_real *inv = w->inv, *sum = w->sum, *a = s->a, *h = s->h;
    if (E->L.norm == PLAST_LAYER_NORM_COLUMNS) col_norms(lp->W, F, P, H, s->nr, inv, w->acc);
    step_scales(E, s->nr, inv, w->dv);
    plast_real energy = lp->alpha ? product_forward(E, lp, F, s->p, inv, sum, 1)
                                  : product_forward(E, lp, F, s->p, inv, sum, 0);
    if (E->L.drive == PLAST_DRIVE_LINEAR)
        for (int64_t i = 0; i < E->L.I; i++) energy += s->x[i] * s->x[i] * E->CIN[i];
    for (int64_t j = 0; j < H; j++) {
        a[j] = (s->u ? s->u[j] + sum[j] : sum[j]) + (lp->b ? lp->b[j] : 0);
        h[j] = act_fwd(E->L.act, a[j]);
    }
    if (E->modulated) {
        plast_real z = 0;
        for (int64_t j = 0; j < H; j++) z += h[j] * lp->wm[j];
        *s->mz = z + lp->bm[0];
        *s->ms = act_fwd(E->L.mod_act, *s->mz);
    }
    layer_update(E, F, hebb_pre(E, s->p, h, w->qbuf), h, w->dv, step_mod(s), F);
    if (E->L.renormalise) layer_renormalise(E, lp->W, F, s->mr, w->qbuf, w->acc);
    return energy;
}

/* the renormalisation F_{t+1} = Fc / m, m = |W + Fc| + eps, backwards: gF becomes d loss / d Fc */
static void renormalise_backward(const fused_engine *E, const layer_params *lp, const plast_real *mr, thread_ws *w) {
    const int64_t P = E->L.P, H = E->L.H;
    plast_real *gm = w->sum, *im = w->ga, *gF = w->gF;
    for (int64_t j = 0; j < H; j++) gm[j] = 0;
    for (int64_t i = 0; i < P; i++)
        for (int64_t j = 0; j < H; j++) gm[j] += gF[i * H + j] * w->Fc[i * H + j];
    for (int64_t j = 0; j < H; j++) {
        im[j] = 1 / (mr[j] + (plast_real)NORM_EPS);
        gm[j] = mr[j] > 0 ? -gm[j] * im[j] * im[j] / mr[j] : 0; /* d |S_:j| / d S_ij = S_ij / |S_:j| (0 where 0) */
    }
    for (int64_t i = 0; i < P; i++) {
        const plast_real *wr = lp->W + i * H, *fc = w->Fc + i * H;
        plast_real *gf = gF + i * H, *gw = w->gW + i * H;
        for (int64_t j = 0; j < H; j++) {
            const plast_real gs = gm[j] * (wr[j] + fc[j]);
            gf[j] = gf[j] * im[j] + gs;
            gw[j] += gs;
        }
    }
}

/* the update F' = clamp(lambda Fk + gamma m G(q, h, Fk)) backwards: gF becomes d loss / d F_t through Fk; gq, gh,
 * gn (the decay's F / n), glam and ggam collect theirs; returns d loss / d m (0 unless modulated) */
HOT plast_real update_backward_impl(const fused_engine *E, const plast_real *F, const plast_real *q,
                                    const plast_real *h, plast_real m_step, thread_ws *w, const int hebbian,
                                    const int modulated) {
    const int64_t P = E->L.P, H = E->L.H;
    const plast_real m = modulated ? m_step : 1; /* folded away without a modulator */
    const plast_real lo = clamp_lo(E), hi = clamp_hi(E), dnf = E->L.decay_normalised ? 1 : 0;
    const plast_real *dv = w->dv;
    plast_real gmod[LANES] = {0};
    for (int64_t i = 0; i < P; i++) {
        const plast_real *f = F + i * H, *li = E->LX + i * H, *gi = E->GX + i * H, qi = q[i];
        plast_real *restrict gf = w->gF + i * H, *restrict gli = w->glam + i * H, *restrict ggi = w->ggam + i * H;
        plast_real *restrict gh = w->gh, *restrict gn = w->gn;
        plast_real gq[LANES] = {0};
        int64_t j = 0;
        /* one synapse; l the lane of the partial sums */
#define UPDATE_BACKWARD_ONE(k, l)                                                                                   \
    do {                                                                                                            \
        const plast_real fk = f[k] * dv[k];                                                                         \
        plast_real G, dq, dpost, dfk = 0; /* the rule and its partial derivatives */                               \
        if (hebbian) {                                                                                              \
            G = qi * h[k], dq = h[k], dpost = qi;                                                                   \
        } else {                                                                                                    \
            plast_real d3[3];                                                                                       \
            G = E->kernel(qi, h[k], fk, d3), dq = d3[0], dpost = d3[1], dfk = d3[2];                                \
        }                                                                                                           \
        const plast_real ge = gi[k] * m, fn = li[k] * fk + ge * G;                                                  \
        const plast_real gfn = ((fn > lo) & (fn < hi)) ? gf[k] : 0; /* & not &&: no branch, so it vectorises */      \
        gli[k] += gfn * fk;                                                                                         \
        ggi[k] += (gfn * m) * G;                                                                                    \
        if (modulated) gmod[l] += gfn * gi[k] * G;                                                                  \
        const plast_real gG = ge * gfn, gfk = hebbian ? li[k] * gfn : li[k] * gfn + gG * dfk;                       \
        gq[l] += gG * dq;                                                                                           \
        gh[k] += gG * dpost;                                                                                        \
        gf[k] = gfk * dv[k];                                                                                        \
        gn[k] -= dnf * gfk * fk * dv[k];                                                                            \
    } while (0)
        if (hebbian)
            for (; j + LANES <= H; j += LANES)
                for (int l = 0; l < LANES; l++) UPDATE_BACKWARD_ONE(j + l, l);
        for (; j < H; j++) UPDATE_BACKWARD_ONE(j, 0);
#undef UPDATE_BACKWARD_ONE
        w->gq[i] = lanes_sum(gq);
    }
    return lanes_sum(gmod);
}

/* the same for the Hebbian rule G = q (x) h, in two passes per row so that both vectorise: the elementwise part
 * (no sums across j), then the row's sums d loss / d q_i and d loss / d m in LANES partial sums */
HOT plast_real update_backward_rank_one(const fused_engine *E, const plast_real *F, const plast_real *q,
                                        const plast_real *h, plast_real m_step, thread_ws *w, const int modulated) {
    const int64_t P = E->L.P, H = E->L.H;
    const plast_real m = modulated ? m_step : 1; /* folded away without a modulator */
    const plast_real lo = clamp_lo(E), hi = clamp_hi(E), dnf = E->L.decay_normalised ? 1 : 0;
    const plast_real *restrict dv = w->dv;
    plast_real *restrict tg = w->tg, *restrict tm = w->tm, *restrict gh = w->gh, *restrict gn = w->gn;
    plast_real gmod[LANES] = {0};
    for (int64_t i = 0; i < P; i++) {
        const plast_real *restrict f = F + i * H, *restrict li = E->LX + i * H, *restrict gi = E->GX + i * H;
        const plast_real qi = q[i];
        plast_real *restrict gf = w->gF + i * H, *restrict gli = w->glam + i * H, *restrict ggi = w->ggam + i * H;
        IVDEP
        for (int64_t j = 0; j < H; j++) {
            const plast_real fk = f[j] * dv[j], G = qi * h[j], ge = gi[j] * m, fn = li[j] * fk + ge * G;
            const plast_real gfn = ((fn > lo) & (fn < hi)) ? gf[j] : 0; /* & not &&: no branch */
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
        int64_t j = 0;
        for (; j + LANES <= H; j += LANES)
            for (int l = 0; l < LANES; l++) {
                gq[l] += tg[j + l] * h[j + l];
                if (modulated) gmod[l] += tm[j + l];
            }
        for (; j < H; j++) {
            gq[0] += tg[j] * h[j];
            if (modulated) gmod[0] += tm[j];
        }
        w->gq[i] = lanes_sum(gq);
    }
    return lanes_sum(gmod);
}

static plast_real update_backward(const fused_engine *E, const plast_real *F, const plast_real *q, const plast_real *h,
                                  plast_real m, thread_ws *w) {
    if (E->hebbian)
        return E->modulated ? update_backward_rank_one(E, F, q, h, m, w, 1) : update_backward_rank_one(E, F, q, h, m, w, 0);
    return E->modulated ? update_backward_impl(E, F, q, h, m, w, 0, 1) : update_backward_impl(E, F, q, h, m, w, 0, 0);
}

/* a = u + p (G / n) + b with G = W + alpha F, n = |G| + eps, backwards from ga: gp, and d/dG into gW, gF (through
 * alpha) and galpha */
HOT void product_backward_impl(const fused_engine *E, const layer_params *lp, const plast_real *F, const plast_real *p,
                               const plast_real *nr, thread_ws *w, const int has_alpha) {
    const int64_t P = E->L.P, H = E->L.H;
    const int norm = E->L.norm == PLAST_LAYER_NORM_COLUMNS;
    const plast_real *inv = w->inv, *ga = w->ga;
    plast_real *sum = w->sum, *gn = w->gn;
    for (int64_t j = 0; j < H; j++) sum[j] = 0;
    for (int64_t i = 0; i < P; i++) {
        const plast_real *wr = lp->W + i * H, *f = F + i * H, *al = has_alpha ? lp->alpha + i * H : NULL, pi = p[i];
        plast_real gp[LANES] = {0};
        int64_t j = 0;
        for (; j + LANES <= H; j += LANES)
            for (int l = 0; l < LANES; l++) {
                const plast_real g = has_alpha ? wr[j + l] + al[j + l] * f[j + l] : wr[j + l] + f[j + l];
                const plast_real gnv = g * inv[j + l];
                gp[l] += gnv * ga[j + l];
                sum[j + l] += pi * gnv;
            }
        for (; j < H; j++) {
            const plast_real g = has_alpha ? wr[j] + al[j] * f[j] : wr[j] + f[j];
            const plast_real gnv = g * inv[j];
            gp[0] += gnv * ga[j];
            sum[j] += pi * gnv;
        }
        w->gp[i] += lanes_sum(gp);
    }
    /* through n: gn_j gets -sum_i gGn_ij G_ij / n_j^2, then d |G_:j| / d G_ij = G_ij / |G_:j| */
    for (int64_t j = 0; j < H; j++) {
        const plast_real g = gn[j] - ga[j] * sum[j] * inv[j];
        gn[j] = norm && nr[j] > 0 ? g / nr[j] : 0;
    }
    for (int64_t i = 0; i < P; i++) {
        const plast_real *wr = lp->W + i * H, *f = F + i * H, *al = has_alpha ? lp->alpha + i * H : NULL, pi = p[i];
        plast_real *restrict gf = w->gF + i * H, *restrict gw = w->gW + i * H;
        plast_real *restrict gal = has_alpha ? w->galpha + i * H : NULL;
        IVDEP
        for (int64_t j = 0; j < H; j++) {
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
static void layer_backward(const fused_engine *E, const layer_params *lp, const plast_real *F, const step_rec *s,
                           thread_ws *w) {
    const int64_t P = E->L.P, H = E->L.H, I = E->L.I;
    const plast_real *h = s->h, m = step_mod(s);
    step_scales(E, s->nr, w->inv, w->dv);
    const plast_real *q = hebb_pre(E, s->p, h, w->qbuf);
    memset(w->gn, 0, (size_t)H * sizeof(plast_real));
    if (E->L.renormalise) {
        layer_update(E, F, q, h, w->dv, m, w->Fc);
        renormalise_backward(E, lp, s->mr, w);
    }
    const plast_real gm = update_backward(E, F, q, h, m, w);
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
    if (s->u) memcpy(s->u, w->ga, (size_t)H * sizeof(plast_real));
    if (lp->alpha) product_backward_impl(E, lp, F, s->p, s->nr, w, 1);
    else product_backward_impl(E, lp, F, s->p, s->nr, w, 0);
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

/* the parameters as the layer uses them: lambda and gamma spread per synapse into LX, GX (their derivatives in
 * dlam, dgam); the drive's energy weights into CIN */
static layer_params params_of(fused_engine *E, plast_params *p) {
    const plast_plastic_layer *L = &E->L;
    const plast_real *lam = L->lambda.param >= 0 ? plast_params_value(p, L->lambda.param) : NULL;
    const plast_real *gam = L->gamma.param >= 0 ? plast_params_value(p, L->gamma.param) : NULL;
    for (int64_t k = 0; k < E->PH; k++) {
        E->LX[k] = rate_at(&L->lambda, lam, k, L->scalar_rates, &E->dlam);
        E->GX[k] = rate_at(&L->gamma, gam, k, L->scalar_rates, &E->dgam);
    }
    if (L->drive == PLAST_DRIVE_LINEAR) {
        const plast_real *Win = plast_params_value(p, L->drive_w.w); /* (H, I) */
        for (int64_t i = 0; i < L->I; i++) E->CIN[i] = 0;
        for (int64_t j = 0; j < L->H; j++)
            for (int64_t i = 0; i < L->I; i++) E->CIN[i] += fabs(Win[j * L->I + i]);
    }
    layer_params lp = {plast_params_value(p, L->w), L->b >= 0 ? plast_params_value(p, L->b) : NULL,
                       L->alpha >= 0 ? plast_params_value(p, L->alpha) : NULL, NULL, NULL};
    if (E->modulated) lp.wm = plast_params_value(p, L->modulator.w), lp.bm = plast_params_value(p, L->modulator.b);
    return lp;
}

/* the drive of every (step, sample) row at once into UG: x W_in^T + b_in, or x */
static void drive_forward(const fused_engine *E, plast_params *p, const plast_real *x) {
    const int64_t TB = E->T * E->B, H = E->L.H, I = E->L.I;
    if (E->L.drive == PLAST_DRIVE_DIRECT) {
        memcpy(E->UG, x, (size_t)(TB * H) * sizeof(plast_real));
        return;
    }
    memcpy(E->XS, x, (size_t)(TB * I) * sizeof(plast_real));
    const plast_real *bin = plast_params_value(p, E->L.drive_w.b);
    plast_gemm(0, 1, TB, H, I, 1, x, I, plast_params_value(p, E->L.drive_w.w), I, 0, E->UG, H);
    for (int64_t r = 0; r < TB; r++)
        for (int64_t j = 0; j < H; j++) E->UG[r * H + j] += bin[j];
}

/* the linear drive's gradients from d loss / d a of every row (UG) */
static void drive_backward(const fused_engine *E, plast_params *p) {
    if (E->L.drive != PLAST_DRIVE_LINEAR) return;
    const int64_t TB = E->T * E->B, H = E->L.H, I = E->L.I;
    plast_gemm(1, 0, H, I, TB, 1, E->UG, H, E->XS, I, 1, plast_params_grad(p, E->L.drive_w.w), I);
    plast_real *gb = plast_params_grad(p, E->L.drive_w.b);
    for (int64_t r = 0; r < TB; r++)
        for (int64_t j = 0; j < H; j++) gb[j] += E->UG[r * H + j];
}

/* the readout of every row at once: y from HS */
static void readout_forward(const fused_engine *E, plast_params *p, plast_real *y) {
    const int64_t TB = E->T * E->B, H = E->L.H, O = E->O;
    if (E->L.readout_form == PLAST_READOUT_FIRST) {
        for (int64_t r = 0; r < TB; r++) memcpy(y + r * O, E->HS + r * H, (size_t)O * sizeof(plast_real));
        return;
    }
    const plast_real *R = plast_params_value(p, E->L.readout.w), *rb = plast_params_value(p, E->L.readout.b);
    if (E->L.readout_form == PLAST_READOUT_TORCH) plast_gemm(0, 1, TB, O, H, 1, E->HS, H, R, H, 0, y, O);
    else plast_gemm(0, 0, TB, O, H, 1, E->HS, H, R, O, 0, y, O);
    for (int64_t r = 0; r < TB; r++)
        for (int64_t k = 0; k < O; k++) y[r * O + k] += rb[k];
}

/* the readout backwards: d loss / d h_t of every row into GHY; the readout's gradients */
static void readout_backward(const fused_engine *E, plast_params *p, const plast_real *dy) {
    const int64_t TB = E->T * E->B, H = E->L.H, O = E->O;
    if (E->L.readout_form == PLAST_READOUT_FIRST) {
        memset(E->GHY, 0, (size_t)(TB * H) * sizeof(plast_real));
        for (int64_t r = 0; r < TB; r++) memcpy(E->GHY + r * H, dy + r * O, (size_t)O * sizeof(plast_real));
        return;
    }
    const plast_real *R = plast_params_value(p, E->L.readout.w);
    plast_real *gR = plast_params_grad(p, E->L.readout.w), *grb = plast_params_grad(p, E->L.readout.b);
    if (E->L.readout_form == PLAST_READOUT_TORCH) {
        plast_gemm(0, 0, TB, H, O, 1, dy, O, R, H, 0, E->GHY, H);
        plast_gemm(1, 0, O, H, TB, 1, dy, O, E->HS, H, 1, gR, H);
    } else {
        plast_gemm(0, 1, TB, H, O, 1, dy, O, R, O, 0, E->GHY, H);
        plast_gemm(1, 0, H, O, TB, 1, E->HS, H, dy, O, 1, gR, O);
    }
    for (int64_t r = 0; r < TB; r++)
        for (int64_t k = 0; k < O; k++) grb[k] += dy[r * O + k];
}

static plast_status fused_forward(plast_engine *eng, plast_params *p, const plast_real *x, plast_real *y,
                                  plast_real *modulation, plast_real *energy, int train, plast_err *err) {
    (void)train, (void)err;
    fused_engine *E = eng->impl;
    const int64_t B = E->B, T = E->T, I = E->L.I, H = E->L.H, PH = E->PH;
    const int64_t h_off = plast_layer_h_offset(&E->L);
    const int recurrent = plast_layer_recurrent(&E->L), has_x = E->L.pre != PLAST_LAYER_PRE_H;
    const layer_params lp = params_of(E, p);
    if (E->L.drive != PLAST_DRIVE_NONE) drive_forward(E, p, x);
    const int nt = threads_now(E);
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int64_t b = 0; b < B; b++) {
        thread_ws w = ws_of(E, omp_get_thread_num());
        plast_real *F = w.gF; /* the running state; gF is free during the forward */
        memset(F, 0, (size_t)PH * sizeof(plast_real));
        for (int64_t t = 0; t < T; t++) {
            const int64_t r = t * B + b;
            if (t % E->K == 0) memcpy(E->CK + (b * E->n_ck + t / E->K) * PH, F, (size_t)PH * sizeof(plast_real));
            const step_rec s = rec_of(E, x, r);
            if (has_x) memcpy(s.p, s.x, (size_t)I * sizeof(plast_real));
            if (recurrent) {
                if (t > 0) memcpy(s.p + h_off, E->HS + (r - B) * H, (size_t)H * sizeof(plast_real));
                else memset(s.p + h_off, 0, (size_t)H * sizeof(plast_real));
            }
            const plast_real e = layer_forward(E, &lp, F, &s, &w);
            if (energy) energy[r] = e;
            if (modulation) modulation[r] = E->modulated ? *s.ms : 0;
        }
    }
    readout_forward(E, p, y);
    return PLAST_OK;
}

/* the states of segment [s, e) of sample b from its checkpoint into w->Fseg: each step's update again, from the
 * saved vectors */
static void segment_recompute(const fused_engine *E, const layer_params *lp, int64_t b, int64_t seg, int64_t s,
                              int64_t e, thread_ws *w) {
    const int64_t B = E->B, PH = E->PH;
    memcpy(w->Fseg, E->CK + (b * E->n_ck + seg) * PH, (size_t)PH * sizeof(plast_real));
    for (int64_t t = s; t + 1 < e; t++) {
        const step_rec sr = rec_of(E, NULL, t * B + b);
        step_scales(E, sr.nr, w->inv, w->dv);
        plast_real *Fn = w->Fseg + (t - s + 1) * PH;
        layer_update(E, w->Fseg + (t - s) * PH, hebb_pre(E, sr.p, sr.h, w->qbuf), sr.h, w->dv, step_mod(&sr), Fn);
        if (E->L.renormalise) layer_renormalise(E, lp->W, Fn, w->rr, w->inv, w->acc);
    }
}

/* a rate's gradient: per synapse as it is, or the sum over synapses times the map's derivative */
static void rate_grad(const plast_layer_rate *r, int scalar, double deriv, plast_params *p, const plast_real *acc,
                      int64_t PH) {
    if (r->map == PLAST_RATE_CONST) return;
    plast_real *g = plast_params_grad(p, r->param);
    if (r->map == PLAST_RATE_PARAM && !scalar) {
        for (int64_t i = 0; i < PH; i++) g[i] += acc[i];
        return;
    }
    plast_real s = 0;
    for (int64_t i = 0; i < PH; i++) s += acc[i];
    g[0] += (plast_real)(s * deriv);
}

/* the samples' gradients (GS) into the parameters' gradients, summed in sample order; the columns are split
 * between threads, so the sums do not depend on their number */
static void sum_samples(const fused_engine *E, plast_params *p) {
    const int64_t B = E->B, PH = E->PH, gs_n = E->gs_n, H = E->L.H;
    const gs_layout g = gs_of(&E->L);
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
    plast_real *gW = plast_params_grad(p, L->w);
    for (int64_t i = 0; i < PH; i++) gW[i] += acc[g.w + i];
    rate_grad(&L->lambda, L->scalar_rates, E->dlam, p, acc + g.lam, PH);
    rate_grad(&L->gamma, L->scalar_rates, E->dgam, p, acc + g.gam, PH);
    if (L->alpha >= 0) {
        plast_real *ga = plast_params_grad(p, L->alpha);
        for (int64_t i = 0; i < PH; i++) ga[i] += acc[g.alpha + i];
    }
    if (L->b >= 0) {
        plast_real *gb = plast_params_grad(p, L->b);
        for (int64_t j = 0; j < H; j++) gb[j] += acc[g.b + j];
    }
    if (E->modulated) {
        plast_real *gwm = plast_params_grad(p, L->modulator.w);
        for (int64_t j = 0; j < H; j++) gwm[j] += acc[g.wm + j];
        plast_params_grad(p, L->modulator.b)[0] += acc[g.bm];
    }
}

static plast_status fused_backward(plast_engine *eng, plast_params *p, const plast_real *dy, plast_err *err) {
    (void)err;
    fused_engine *E = eng->impl;
    const int64_t B = E->B, T = E->T, H = E->L.H, PH = E->PH;
    const int64_t h_off = plast_layer_h_offset(&E->L);
    const int recurrent = plast_layer_recurrent(&E->L);
    const layer_params lp = params_of(E, p);
    readout_backward(E, p, dy);

    const int64_t gs_n = E->gs_n;
    const gs_layout g = gs_of(&E->L);
    const int nt = threads_now(E);
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int64_t b = 0; b < B; b++) {
        thread_ws w = ws_of(E, omp_get_thread_num());
        plast_real *gs = E->GS + b * gs_n;
        memset(gs, 0, (size_t)gs_n * sizeof(plast_real));
        w.gW = gs + g.w, w.glam = gs + g.lam, w.ggam = gs + g.gam, w.galpha = gs + g.alpha;
        w.gb = gs + g.b, w.gwm = gs + g.wm, w.gbm = gs + g.bm;
        memset(w.gF, 0, (size_t)PH * sizeof(plast_real));
        memset(w.ghn, 0, (size_t)H * sizeof(plast_real));
        for (int64_t seg = E->n_ck - 1; seg >= 0; seg--) {
            const int64_t s = seg * E->K, e = s + E->K < T ? s + E->K : T;
            segment_recompute(E, &lp, b, seg, s, e, &w);
            for (int64_t t = e - 1; t >= s; t--) {
                const int64_t r = t * B + b;
                const step_rec sr = rec_of(E, NULL, r);
                for (int64_t j = 0; j < H; j++) w.gh[j] = E->GHY[r * H + j] + w.ghn[j];
                layer_backward(E, &lp, w.Fseg + (t - s) * PH, &sr, &w);
                if (recurrent) memcpy(w.ghn, w.gp + h_off, (size_t)H * sizeof(plast_real));
            }
        }
    }
    sum_samples(E, p);
    drive_backward(E, p);
    return PLAST_OK;
}

static void fused_release(plast_engine *eng) {
    fused_engine *E = eng->impl;
    if (E) free(E->block);
    free(E);
}

static size_t fused_bytes(const plast_engine *eng) { return ((const fused_engine *)eng->impl)->bytes; }

/* the products with the plastic matrices (p G forward; G ga and the recomputed update backward), the drive and
 * the readout */
static double fused_flops(const plast_engine *eng) {
    const fused_engine *E = eng->impl;
    const double BT = (double)E->B * (double)E->T, PH = (double)E->PH, HO = (double)E->L.H * (double)E->O;
    const double HI = E->L.drive == PLAST_DRIVE_LINEAR ? (double)E->L.H * (double)E->L.I : 0;
    return BT * (2 * PH + 2 * HO + 2 * HI) + BT * (4 * PH + 4 * HO + 2 * HI);
}

static const engine_path FUSED_PATH = {fused_forward, fused_backward, fused_release, fused_bytes, fused_flops};

int engine_fused_supports(const plast_model *m, int want_energy, char *why, size_t cap) {
    (void)want_energy; /* the fused path computes the energy */
    if (!m->family->fused) {
        snprintf(why, cap, "the %s family is not one plastic layer", m->family->name);
        return 0;
    }
    plast_plastic_layer L;
    if (!m->family->fused(m, &L, why, cap)) return 0;
    if (!m->rule || !m->rule->kernel) {
        snprintf(why, cap, "rule \"%s\" has no elementwise kernel", m->rule ? m->rule->name : "none");
        return 0;
    }
    return 1;
}

/* every buffer of the engine from one block (engine_plan) */
static void layout_buffers(fused_engine *E, engine_plan *pl) {
    const int64_t B = E->B, T = E->T, H = E->L.H, P = E->L.P, PH = E->PH;
    const int drive = E->L.drive != PLAST_DRIVE_NONE, linear = E->L.drive == PLAST_DRIVE_LINEAR;
    E->PRE = engine_plan_carve(pl, T * B * P);
    E->A = engine_plan_carve(pl, T * B * H);
    E->HS = engine_plan_carve(pl, T * B * H);
    E->NR = engine_plan_carve(pl, T * B * H);
    E->MR = engine_plan_carve(pl, T * B * H);
    E->MZ = E->modulated ? engine_plan_carve(pl, T * B) : NULL;
    E->MS = E->modulated ? engine_plan_carve(pl, T * B) : NULL;
    E->XS = linear ? engine_plan_carve(pl, T * B * E->L.I) : NULL;
    E->UG = drive ? engine_plan_carve(pl, T * B * H) : NULL;
    E->CK = engine_plan_carve(pl, B * E->n_ck * PH);
    E->GHY = engine_plan_carve(pl, T * B * H);
    E->LX = engine_plan_carve(pl, PH);
    E->GX = engine_plan_carve(pl, PH);
    E->CIN = linear ? engine_plan_carve(pl, E->L.I) : NULL;
    E->GS = engine_plan_carve(pl, (B + 1) * E->gs_n); /* and a row for the totals */
    E->WS = engine_plan_carve(pl, (int64_t)E->threads * E->ws_n);
    E->ACC = engine_plan_take(pl, (size_t)E->threads * (size_t)H * sizeof(double));
}

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
    E->B = eng->B, E->T = eng->T, E->O = m->O, E->PH = E->L.P * E->L.H;
    E->K = checkpoint_interval(E->T);
    E->n_ck = (E->T + E->K - 1) / E->K;
    E->threads = omp_get_max_threads();
    E->ws_n = ws_count(E->K, E->PH, E->L.H, E->L.P);
    E->gs_n = gs_of(&E->L).n;
    engine_plan pl = {NULL, 0};
    layout_buffers(E, &pl);
    E->block = aligned_alloc(64, pl.off);
    if (!E->block) {
        free(E);
        return plast_err_set(err, PLAST_ERR_NOMEM, "engine: out of memory for %zu bytes (fused path)", pl.off);
    }
    pl = (engine_plan){E->block, 0};
    layout_buffers(E, &pl);
    memset(E->block, 0, pl.off);
    E->bytes = pl.off + sizeof *E;
    eng->impl = E;
    eng->path = &FUSED_PATH;
    return PLAST_OK;
}
