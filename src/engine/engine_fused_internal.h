/* src/engine/engine_fused_internal.h: the fused path's state (engine_fused.c) and its plastic layer run for one
 * sample (engine_fused_layer.c); internal to the engine layer. models/plastic_layer.h gives the equations. */
#ifndef PLAST_ENGINE_FUSED_INTERNAL_H
#define PLAST_ENGINE_FUSED_INTERNAL_H

#include "engine/engine_internal.h"
#include "models/plastic_layer.h"

/* the vector width the rows are padded to: S is a multiple of it, so the layer's loops over a row have no tail */
enum { FUSED_LANES = 8 };

typedef struct layer_params {
    const plast_real *W, *b, *alpha; /* (P, H), (H) or NULL, (P, H) or NULL */
    const plast_real *wm, *bm;       /* the modulator: (H), (1); NULL without one */
} layer_params;

typedef struct fused_engine {
    plast_plastic_layer L;
    plast_real (*kernel)(plast_real pre, plast_real post, plast_real F, plast_real d[3]);
    int hebbian;         /* the rule is pre (x) post: its kernel inlined */
    int modulated;       /* a modulator m_t scales gamma */
    int64_t B, T, O;
    /* S: the row stride of the plastic matrices (P, S) and of the per-step vectors, H rounded up to a whole number
     * of 8-lane vectors (fused_stride); the padding columns hold zeros throughout. PH = P S. */
    int64_t S, PH;
    int64_t SN;          /* one sample's plastic state: F (P, H), then E (P, H) with an eligibility trace */
    int64_t K, n_ck;     /* checkpoint interval and checkpoints per sample, ceil(T / K) */
    int64_t gs_n;        /* one sample's gradients in GS (see gs_layout) */
    int threads;         /* the most threads a call uses: the workspaces allocated */
    int want_dx;         /* d loss / d x into DX in the backward */
    int keep;            /* the trial runs for a backward: checkpoints kept */

    /* forward record, time-major (T, B, n), n = S for the (H) vectors */
    plast_real *PRE; /* (T, B, P) presynaptic vectors p_t */
    plast_real *A;   /* (T, B, H) pre-activations a_t */
    plast_real *HS;  /* (T, B, H) h_t */
    plast_real *NR;  /* (T, B, H) column norms |G_:j| without eps (norm only) */
    plast_real *MR;  /* (T, B, H) column norms |W + F'|_:j of the renormalisation, without eps (renormalise only) */
    plast_real *MZ, *MS; /* (T, B) the modulator before and after mod_act (modulated only) */
    plast_real *XS;  /* (T, B, I) the inputs (linear drive only: its weight's gradient) */
    plast_real *UG;  /* (T, B, H) the drive u_t in the forward, d loss / d a_t in the backward (drive only) */
    plast_real *CK;  /* (B, n_ck, SN) the plastic state at the start of steps 0, K, 2K, ... */
    plast_real *GHY; /* (T, B, H) d loss / d h_t through the readout */
    plast_real *DX;  /* (T, B, I) d loss / d x_t (want_dx only) */
    const plast_state *init; /* the state trials start from (plast_engine_set_initial_state), or NULL: zeros */
    plast_real *LX, *GX; /* (P, S) lambda and gamma per synapse (a scalar or constant spread over all) */
    plast_real *WP, *AP; /* (P, S) W and alpha with padded rows (NULL when S = H: the parameters are used as they are) */
    plast_real *CIN; /* (I) sum_j |W_in_ji|: the drive's energy weights (linear drive only) */
    double dlam, dgam; /* d rate / d parameter of a mapped scalar rate */
    plast_real eta_e;  /* the eligibility trace's rate (eligibility only) */
    double deta;       /* d eta_e / d its parameter */
    /* (B, gs_n): each sample's gradients, summed over the samples in order afterwards, so the result does not
     * depend on the number of threads */
    plast_real *GS;
    /* per thread, ws_n each: the segment's states (K, SN), gF (SN), Fc (P, S) and vectors (see thread_ws); ACC
     * (threads, S) accumulators */
    plast_real *WS;
    plast_real *ACC;
    int64_t ws_n;
    size_t bytes;
    void *block;
    plast_real *RUN;      /* (B, SN) the running states of closed-loop stepping (fused_step), or NULL */
    layer_params lp_step; /* the parameters of the trial being stepped, read at its step 0 */
} fused_engine;

/* one sample's gradients in a row of GS: W, lambda, gamma (P, S each), alpha (P, S, with alpha), b, w_M (H each),
 * b_M (1), eta_E (1) */
typedef struct gs_layout {
    int64_t w, lam, gam, alpha, b, wm, bm, eta, n;
} gs_layout;

static inline gs_layout gs_of(const plast_plastic_layer *L, int64_t S) {
    const int64_t PH = L->P * S;
    gs_layout g;
    g.w = 0, g.lam = PH, g.gam = 2 * PH, g.alpha = 3 * PH;
    g.b = g.alpha + (L->alpha >= 0 ? PH : 0);
    g.wm = g.b + L->H, g.bm = g.wm + L->H, g.eta = g.bm + 1, g.n = g.eta + 1;
    return g;
}

typedef struct thread_ws {
    plast_real *Fseg;          /* (K, SN) the plastic state at the start of each step of a segment */
    plast_real *gF, *Fc;       /* (SN) adjoint of the plastic state; (P, S) the clamped update before renormalising */
    plast_real *gW, *glam, *ggam, *galpha; /* (P, S): the sample's gradients (per synapse), in GS */
    plast_real *gb, *gwm, *gbm, *geta; /* (H), (H), (1), (1), in GS */
    plast_real *gh, *ghn, *ga, *gn, *inv, *dv, *sum; /* (S) */
    plast_real *tg, *tm;       /* (S) a row's d loss / d G and modulator terms, summed after the row's loop */
    plast_real *gp, *gq;       /* (P) */
    plast_real *qbuf;          /* (P + H): the Hebbian presynaptic vector [x; h_t], then 1 / m of a renormalisation */
    plast_real *rr;            /* (S) norms of a recomputed renormalisation */
    plast_real *acc;           /* (S) */
} thread_ws;


/* the vectors a step keeps for its sample: written by the forward, read back by the backward */
typedef struct step_rec {
    const plast_real *x; /* (I) the input */
    plast_real *p;       /* (P) */
    plast_real *u;       /* (H) the drive (NULL without); the backward writes d loss / d a there */
    plast_real *a, *h, *nr, *mr; /* (S): H values, then zeros */
    plast_real *mz, *ms; /* the modulator before and after mod_act (NULL without one) */
} step_rec;

static inline step_rec rec_of(const fused_engine *E, const plast_real *x, int64_t r) {
    const int64_t H = E->S;
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
static inline plast_real step_mod(const step_rec *s) { return s->ms ? *s->ms : 1; }

/* the layer, one sample at a time (engine_fused_layer.c); matrices (P, S) and vectors (S) as above */
/* 1 / n (or 1 without the norm) and the decay's factor dv */
void fused_step_scales(const fused_engine *E, const plast_real *nr, plast_real *inv, plast_real *dv);
/* the Hebbian presynaptic vector q: [x_t; h_t] (in buf) or p_t */
const plast_real *fused_hebb_pre(const fused_engine *E, const plast_real *p, const plast_real *h, plast_real *buf);
/* F' = clamp(lambda Fk + gamma m G(q, h, Fk)) into Fout (may be F); with an eligibility trace (after F in the
 * state) F' = clamp(lambda Fk + gamma m E), E' = (1 - eta_E) E + eta_E G */
void fused_layer_update(const fused_engine *E, const plast_real *F, const plast_real *q, const plast_real *h,
                        const plast_real *dv, plast_real m, plast_real *Fout);
/* the step's new state: F' as fused_layer_update, then with renormalisation F' / (|W + F'| + eps) with the norms
 * into r (inv, acc: (H) scratch) */
void fused_layer_advance(const fused_engine *E, const plast_real *W, const plast_real *F, const plast_real *q,
                         const plast_real *h, const plast_real *dv, plast_real m, plast_real *Fout, plast_real *r,
                         plast_real *inv, plast_real *acc);
/* one step forward: the record s filled, F updated in place; returns the step's energy */
plast_real fused_layer_forward(const fused_engine *E, const layer_params *lp, plast_real *F, const step_rec *s,
                               thread_ws *w);
/* one step backward from F_t and the record: w->gF, w->gp and the gradients in w (see the definition) */
void fused_layer_backward(const fused_engine *E, const layer_params *lp, const plast_real *F, const step_rec *s,
                          thread_ws *w);

#endif
