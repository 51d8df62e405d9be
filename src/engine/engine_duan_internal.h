/* src/engine/engine_duan_internal.h: the fast paths of Duan et al.'s models (family_duan.c gives the equations):
 * forward and BPTT by hand, with each plastic weight kept as its history of rank-one updates (lowrank.h).
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
 * With plasticity the "dense" path keeps instead each sample's S_t = P_t / alpha for every layer as a matrix and
 * updates it in place (S_t = (1 - lambda_t) S_{t-1} + c_t u_t v_t^T): O(T) work per trial where the low-rank form
 * costs O(T^2), for long trials. Backward needs S_{t-1} at every step: S is checkpointed every K ~ sqrt(T) steps
 * and each segment recomputed from its checkpoint (the same code, so the same bits), and the adjoint gS carried
 * back step by step gives the update's adjoints directly (d c_t = u^T gS v, d lambda_t = -<gS, S_{t-1}>).
 * Both forms sit behind one interface (duan_prod_forward / duan_prod_backward, engine_duan_plastic.c), so the step
 * code is the same for both.
 * With the conv4 image encoder (model.encoder = conv4) the engine has no encoder layer: its inputs are the cell's
 * inputs e_t, computed by the image front end (engine_frontend.c), and backward leaves d loss / d e_t in DX.
 *
 * The engine's files:
 *   engine_duan.c          the memory plan, parameters in and out, the cell nonlinearity, the weight gradients
 *                          after the last step, and the engine path (forward, backward, supports, init, flops)
 *   engine_duan_lowrank.c  the plastic ("lowrank") path: step by step, forward and back
 *   engine_duan_dense.c    the path without plasticity ("dense"): whole-trial products around the recurrence
 *   engine_duan_plastic.c  the plastic products in low-rank or dense form, and the dense form's state
 */
#ifndef PLAST_ENGINE_DUAN_INTERNAL_H
#define PLAST_ENGINE_DUAN_INTERNAL_H

#include <string.h>

#include "core/fastmath.h"
#include "engine/engine_internal.h"
#include "engine/lowrank.h"
#include "models/family_duan.h"
#include "models/model_internal.h"

/* the low-rank products: encoder, cell, output, and the gradient rule's transposed output and ih products */
enum { P_ENC, P_CELL, P_OUT, P_OUT_T, P_IH_T, N_PROD };

typedef struct duan_engine {
    int64_t B, T, I, H, G, D, Oy, C2; /* Oy: task outputs O */
    int plastic, lstm, grad_rule, modulated, relu_cell, learn_alpha;
    int dense; /* plastic weights as dense per-sample matrices (the "dense" path), not histories */
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
    double *gcoef, *glam; /* (B): the plastic weights' part of the adjoints of c_t = eta_t s_t and lambda_t */
    /* the dense form: each sample's S of the three layers, (B, I H + C2 G + H D) (encoder, cell, output), the
     * current one and its adjoint; checkpoints of S_{kK - 1} (n_ck, B, .) and one segment's S_{t-1} (K - 1, B, .) */
    int64_t s_len, seg_len, n_ck; /* elements of one sample's S; K; checkpoints */
    plast_real *Scur, *gS, *Sck, *Sseg; /* Sseg: K - 1 states (a segment's first is its checkpoint) */
    const plast_real *Sview;             /* the S the products read: Scur forwards, S_{t-1} backwards */
    plast_real *DX; /* (T, B, I): d loss / d input, without an encoder */

    size_t bytes;
    void *block;
} duan_engine;

/* ---- small helpers -------------------------------------------------------------------------------------------- */

static inline plast_real sigm(plast_real x) { return plast_fsigmoid(x); }

static inline void zero(plast_real *p, int64_t n) { memset(p, 0, (size_t)n * sizeof(plast_real)); }

/* y[b, :] += v for each of n rows of width w */
static inline void add_row(plast_real *y, int64_t rows, int64_t w, int64_t ldy, const plast_real *v) {
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < w; j++) y[r * ldy + j] += v[j];
}

/* acc[j] += sum over rows of y[r, j]; columns in blocks between threads, each summed in row order */

static inline double dot(const plast_real *a, const plast_real *b, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

/* the saved products of step t start after the rows of steps 0..t-1: B * t (t - 1) / 2 rows */
static inline int64_t tri_rows(int64_t B, int64_t t) { return B * t * (t - 1) / 2; }

/* the low-rank product of one layer at step t (K = t updates, coefficients gamma_{t-1}) */
static inline lr_product product(const duan_engine *E, int64_t t, int64_t n1, int64_t n2, const plast_real *alpha,
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
static inline lr_product p_enc(const duan_engine *E, int64_t t) {
    return product(E, t, E->I, E->H, E->aenc, E->H, 0, E->Uenc, E->I, E->Venc, E->H);
}
static inline lr_product p_cell(const duan_engine *E, int64_t t) {
    return product(E, t, E->C2, E->G, E->acat, E->G, 0, E->Ucell, E->C2, E->Vcell, E->G);
}
static inline lr_product p_out(const duan_engine *E, int64_t t) {
    return product(E, t, E->H, E->D, E->aout, E->D, 0, E->Uout, E->H, E->Vout, E->D);
}
static inline lr_product p_out_t(const duan_engine *E, int64_t t) { /* delta_o (D) -> (H): transposed output layer */
    return product(E, t, E->D, E->H, E->aout, E->D, 1, E->Vout, E->D, E->Uout, E->H);
}
static inline lr_product p_ih_t(const duan_engine *E, int64_t t) { /* delta_z (G) -> (H): the ih half of the cell */
    lr_product L = product(E, t, E->G, E->H, E->acat + E->H * E->G, E->G, 1, E->Vcell, E->G, E->Ucell + E->H, E->C2);
    L.f2.bstride = E->T * E->C2;
    return L;
}

static inline lr_factor fac(plast_real *p, const duan_engine *E, int64_t ld) { return (lr_factor){p, E->T * ld, ld}; }


static inline void add_to(plast_real *dst, const plast_real *src, int64_t n) {
    for (int64_t i = 0; i < n; i++) dst[i] += src[i];
}



static inline plast_real *rows_of(plast_real *base, const duan_engine *E, int64_t t, int64_t width) {
    return base + tri_rows(E->B, t) * width;
}


/* ---- the steps each path file provides ---------------------------------------------------------------------- */

/* engine_duan_plastic.c: product k (P_ENC ... P_IH_T) of step t with the plastic weight in its form: y += x P_{t-1}
 * (or its transposed ih / output half), and the adjoint: dx += dy P^T (dx may be NULL), with the plastic weight's
 * own adjoint kept by the form (histories and gamma, or gS and d/dalpha at once) */
void duan_prod_forward(duan_engine *E, int k, int64_t t, const plast_real *x, int64_t ldx, plast_real *y, int64_t ldy);
void duan_prod_backward(duan_engine *E, int k, int64_t t, const plast_real *x, int64_t ldx, const plast_real *dy,
                        int64_t lddy, plast_real *dx, int64_t lddx);
/* the plastic weights' update in their form: before a trial (the dense form zeroes S); after step t's rates and
 * histories, the coefficients gamma_t (low-rank) or S_t from S_{t-1} with its checkpoints (dense); before step t's
 * backward, the adjoints of c_t and lambda_t from the form's own (gcoef, glam), the dense form also the history
 * adjoints of row t, with S_{t-1} from the segment's recomputation and gS carried through the decay */
void duan_plastic_begin(duan_engine *E);
void duan_plastic_update(duan_engine *E, int64_t t);
void duan_plastic_backward_update(duan_engine *E, int64_t t);
int64_t duan_dense_segment(int64_t T); /* K */

/* engine_duan.c */
void duan_cell_forward(duan_engine *E, int64_t t); /* h_t (LSTM: gates, c_t, tanh c_t) from Zc[t] */
void duan_weight_gradients(duan_engine *E);        /* every weight's gradient after the last backward step */
/* engine_duan_lowrank.c */
void duan_forward_step(duan_engine *E, int64_t t);
void duan_backward_step(duan_engine *E, int64_t t, const plast_real *dy); /* dy (B, O) of step t */
/* engine_duan_dense.c */
void duan_forward_dense(duan_engine *E);
void duan_backward_dense(duan_engine *E, const plast_real *dy); /* dy (T, B, O) */

#endif
