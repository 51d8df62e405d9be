/* src/engine/engine_duan_plastic.c: the plastic products of Duan et al.'s paths (engine_duan_internal.h) in their
 * two forms. Low-rank: each layer's plastic weight as its history of rank-one updates (lowrank.h), O(t) work at step
 * t. Dense: each sample's S = P / alpha as a matrix, O(1) work per step: y += x (alpha * S) forward, and backward
 *     dx += dy (alpha * S)^T,   gS += alpha * (x (x) dy),   d alpha += S * (x (x) dy) summed over samples,
 * with S_{t-1} from the segment's recomputation and the update's own adjoints taken from gS when backward reaches it. */
#include <math.h>
#include <omp.h>
#include <string.h>

#include "engine/engine_duan_internal.h"

/* ---- the low-rank form ----------------------------------------------------------------------------------------- */

static lr_product lr_of(const duan_engine *E, int k, int64_t t) {
    switch (k) {
    case P_ENC: return p_enc(E, t);
    case P_CELL: return p_cell(E, t);
    case P_OUT: return p_out(E, t);
    case P_OUT_T: return p_out_t(E, t);
    default: return p_ih_t(E, t);
    }
}

/* where the adjoints of product k's input-side and output-side factors go (the encoder's inputs are data) */
static void lr_adjoints(const duan_engine *E, int k, lr_factor *df1, lr_factor *df2) {
    const int64_t H = E->H, G = E->G, D = E->D, C2 = E->C2;
    switch (k) {
    case P_ENC: *df1 = (lr_factor){0}, *df2 = fac(E->gVenc, E, H); break;
    case P_CELL: *df1 = fac(E->gUcell, E, C2), *df2 = fac(E->gVcell, E, G); break;
    case P_OUT: *df1 = fac(E->gUout, E, H), *df2 = fac(E->gVout, E, D); break;
    case P_OUT_T: *df1 = fac(E->gVout, E, D), *df2 = fac(E->gUout, E, H); break;
    default: *df1 = fac(E->gVcell, E, G), *df2 = fac(E->gUcell + H, E, C2); break;
    }
}

/* ---- the dense form ------------------------------------------------------------------------------------------- */

/* product k's block of a sample's S: rows [row0, row0 + rows) of an (in, out) matrix at offset off; trans: the
 * product runs out -> rows (the gradient rule's transposed output and ih halves) */
typedef struct dense_view {
    int64_t off, in, out, row0, rows;
    const plast_real *alpha;
    plast_real *dalpha;
    int trans;
} dense_view;

static dense_view dense_of(const duan_engine *E, int k) {
    const int64_t I = E->I, H = E->H, G = E->G, D = E->D, C2 = E->C2;
    const int64_t enc = E->no_enc ? 0 : I * H, out = enc + C2 * G;
    switch (k) {
    case P_ENC: return (dense_view){0, I, H, 0, I, E->aenc, E->daenc, 0};
    case P_CELL: return (dense_view){enc, C2, G, 0, C2, E->acat, E->dacat, 0};
    case P_OUT: return (dense_view){out, H, D, 0, H, E->aout, E->daout, 0};
    case P_OUT_T: return (dense_view){out, H, D, 0, H, E->aout, E->daout, 1};
    default: return (dense_view){enc, C2, G, H, H, E->acat, E->dacat, 1};
    }
}

enum { LANES = 8 };
/* sum_j a_j b_j c_j in LANES partial sums (vector registers without -ffast-math), added in order */
static inline plast_real dot3(const plast_real *a, const plast_real *b, const plast_real *c, int64_t n) {
    plast_real s[LANES] = {0}, t = 0;
    int64_t j = 0;
    for (; j + LANES <= n; j += LANES)
        for (int l = 0; l < LANES; l++) s[l] += a[j + l] * b[j + l] * c[j + l];
    for (; j < n; j++) s[0] += a[j] * b[j] * c[j];
    for (int l = 0; l < LANES; l++) t += s[l];
    return t;
}

static void dense_forward(duan_engine *E, const dense_view *v, const plast_real *x, int64_t ldx, plast_real *y,
                          int64_t ldy) {
    const int64_t B = E->B, n = v->out;
#pragma omp parallel for if (B * v->rows * n >= 32768)
    for (int64_t b = 0; b < B; b++) {
        const plast_real *S = E->Sview + b * E->s_len + v->off, *xb = x + b * ldx;
        plast_real *yb = y + b * ldy;
        if (v->trans) { /* rows <- out: y_i += sum_j x_j alpha_ij S_ij */
            for (int64_t i = 0; i < v->rows; i++) {
                const int64_t r = v->row0 + i;
                yb[i] += dot3(xb, v->alpha + r * n, S + r * n, n);
            }
            continue;
        }
        plast_real acc[n];
        for (int64_t j = 0; j < n; j++) acc[j] = 0;
        for (int64_t i = 0; i < v->in; i++) {
            const plast_real xi = xb[i], *a = v->alpha + i * n, *s = S + i * n;
            for (int64_t j = 0; j < n; j++) acc[j] += xi * a[j] * s[j];
        }
        for (int64_t j = 0; j < n; j++) yb[j] += acc[j];
    }
}

/* The adjoint of dense_forward for output adjoint dy: dx (may be NULL), gS and d alpha (when alpha is learned).
 * gS and d alpha are split between threads by rows of S, each summing its samples in order, so the result does not
 * depend on the thread count; the transposed product's dx needs a pass by samples of its own. */
static void dense_backward(duan_engine *E, const dense_view *v, const plast_real *x, int64_t ldx, const plast_real *dy,
                           int64_t lddy, plast_real *dx, int64_t lddx) {
    const int64_t B = E->B, n = v->out, L = E->s_len;
    const int learn = E->learn_alpha;
    if (v->trans && dx) /* dx_j += sum_i dy_i alpha_ij S_ij */
#pragma omp parallel for if (B * v->rows * n >= 32768)
        for (int64_t b = 0; b < B; b++) {
            const plast_real *S = E->Sview + b * L + v->off, *qb = dy + b * lddy;
            plast_real acc[n];
            for (int64_t j = 0; j < n; j++) acc[j] = 0;
            for (int64_t i = 0; i < v->rows; i++) {
                const int64_t r = v->row0 + i;
                const plast_real q = qb[i], *a = v->alpha + r * n, *s = S + r * n;
                for (int64_t j = 0; j < n; j++) acc[j] += q * a[j] * s[j];
            }
            for (int64_t j = 0; j < n; j++) dx[b * lddx + j] += acc[j];
        }
#pragma omp parallel for if (B * v->rows * n >= 32768)
    for (int64_t i = 0; i < v->rows; i++) {
        const int64_t r = v->row0 + i;
        const plast_real *a = v->alpha + r * n;
        plast_real *da = learn ? v->dalpha + r * n : NULL;
        for (int64_t b = 0; b < B; b++) {
            const plast_real *s = E->Sview + b * L + v->off + r * n;
            plast_real *gs = E->gS + b * L + v->off + r * n;
            /* forward: y += x_r (alpha_r * s) (rows r of the input), or y_i += (alpha_r * s) . x (transposed) */
            const plast_real *col = v->trans ? x + b * ldx : dy + b * lddy; /* the length-n factor */
            const plast_real coef = v->trans ? dy[b * lddy + i] : x[b * ldx + r];
            if (!v->trans && dx) dx[b * lddx + r] += dot3(col, a, s, n);
            for (int64_t j = 0; j < n; j++) {
                const plast_real g = coef * col[j];
                gs[j] += a[j] * g;
                if (learn) da[j] += s[j] * g;
            }
        }
    }
}

/* sample b's three plastic layers at step t: their block of S and the update's factors u, v (from the histories)
 * with the adjoints they receive (gu NULL for the encoder, whose u is data); the encoder is absent without one */
typedef struct dense_layer {
    int64_t off, in, out;
    const plast_real *u, *v;
    plast_real *gu, *gv;
} dense_layer;

static int dense_layers(const duan_engine *E, int64_t b, int64_t t, dense_layer l[3]) {
    const int64_t T = E->T, I = E->I, H = E->H, G = E->G, D = E->D, C2 = E->C2, r = b * T + t;
    const int64_t enc = E->no_enc ? 0 : I * H;
    int n = 0;
    if (!E->no_enc) l[n++] = (dense_layer){0, I, H, E->Uenc + r * I, E->Venc + r * H, NULL, E->gVenc + r * H};
    l[n++] = (dense_layer){enc, C2, G, E->Ucell + r * C2, E->Vcell + r * G, E->gUcell + r * C2, E->gVcell + r * G};
    l[n++] = (dense_layer){enc + C2 * G, H, D, E->Uout + r * H, E->Vout + r * D, E->gUout + r * H, E->gVout + r * D};
    return n;
}

/* dst = (1 - lambda_t) src + c_t u_t v_t^T for every layer of every sample (in place when dst is src) */
static void dense_apply(duan_engine *E, int64_t t, const plast_real *src, plast_real *dst) {
    const int64_t B = E->B;
#pragma omp parallel for if (B * E->s_len >= 32768)
    for (int64_t b = 0; b < B; b++) {
        const plast_real keep = 1 - E->LAM[t * B + b], c = E->COEF[t * B + b];
        dense_layer l[3];
        const int n = dense_layers(E, b, t, l);
        for (int k = 0; k < n; k++) {
            const int64_t o = b * E->s_len + l[k].off;
            for (int64_t i = 0; i < l[k].in; i++) {
                const plast_real cu = c * l[k].u[i], *s = src + o + i * l[k].out;
                plast_real *d = dst + o + i * l[k].out;
                for (int64_t j = 0; j < l[k].out; j++) d[j] = keep * s[j] + cu * l[k].v[j];
            }
        }
    }
}

int64_t duan_dense_segment(int64_t T) {
    int64_t K = (int64_t)ceil(sqrt((double)T));
    return K > 0 ? K : 1;
}

/* ---- the update of step t in either form, and its adjoint ------------------------------------------------------ */

void duan_plastic_begin(duan_engine *E) {
    if (!E->dense) return; /* the histories start empty: step t writes its own rows */
    zero(E->Scur, E->B * E->s_len);
    zero(E->Sck, E->B * E->s_len); /* S_{-1} = 0, the first segment's start */
    E->Sview = E->Scur;
}

void duan_plastic_update(duan_engine *E, int64_t t) {
    const int64_t B = E->B, T = E->T;
    if (!E->dense) { /* gamma_t[k] = (1 - lambda_t) gamma_{t-1}[k], gamma_t[t] = c_t */
        for (int64_t b = 0; b < B; b++) {
            const plast_real keep = 1 - E->LAM[t * B + b];
            plast_real *gam = E->GAM + (t * B + b) * T;
            const plast_real *prev = t > 0 ? E->GAM + ((t - 1) * B + b) * T : NULL;
            for (int64_t k = 0; k < t; k++) gam[k] = keep * prev[k];
            gam[t] = E->COEF[t * B + b];
        }
        return;
    }
    dense_apply(E, t, E->Scur, E->Scur);
    const int64_t next = t + 1, K = E->seg_len;
    if (next < T && next % K == 0) /* the start of the next segment: S_{next - 1} */
        memcpy(E->Sck + next / K * B * E->s_len, E->Scur, sizeof(plast_real) * (size_t)(B * E->s_len));
}

/* low-rank: the adjoints of c_t and lambda_t from gamma's, which carries on to gamma_{t-1} */
static void lowrank_backward_update(duan_engine *E, int64_t t) {
    const int64_t B = E->B, T = E->T;
#pragma omp parallel for if (B * T >= 4096)
    for (int64_t b = 0; b < B; b++) {
        const plast_real keep = 1 - E->LAM[t * B + b];
        plast_real *gg = E->gGAM + (t * B + b) * T;
        plast_real *gprev = t > 0 ? E->gGAM + ((t - 1) * B + b) * T : NULL;
        const plast_real *prev = t > 0 ? E->GAM + ((t - 1) * B + b) * T : NULL;
        double glam = 0;
        for (int64_t k = 0; k < t; k++) {
            glam -= (double)gg[k] * prev[k];
            gprev[k] += keep * gg[k];
        }
        E->gcoef[b] = gg[t], E->glam[b] = glam;
    }
}

void duan_plastic_backward_update(duan_engine *E, int64_t t) {
    if (!E->dense) {
        lowrank_backward_update(E, t);
        return;
    }
    const int64_t B = E->B, T = E->T, L = E->s_len, K = E->seg_len, c0 = t / K * K;
    /* S_{tt-1} for tt in the segment [c0, c0 + K): slot 0 the checkpoint, slot i > 0 at Sseg + (i - 1) B L */
    const plast_real *ck = E->Sck + c0 / K * B * L;
#define SLOT(i) ((i) == 0 ? ck : E->Sseg + ((i) - 1) * B * L)
    if (t == T - 1 || t == c0 + K - 1) /* entering the segment from its end: recompute it from its checkpoint */
        for (int64_t tt = c0; tt + 1 < c0 + K && tt + 1 < T; tt++)
            dense_apply(E, tt, SLOT(tt - c0), E->Sseg + (tt - c0) * B * L);
    E->Sview = SLOT(t - c0); /* S_{t-1}: what step t's products read */
#undef SLOT
#pragma omp parallel for if (B * L >= 32768)
    for (int64_t b = 0; b < B; b++) {
        const plast_real keep = 1 - E->LAM[t * B + b], c = E->COEF[t * B + b];
        dense_layer l[3];
        const int nl = dense_layers(E, b, t, l);
        double gcoef = 0, glam = 0;
        for (int k = 0; k < nl; k++) {
            const plast_real *S = E->Sview + b * L + l[k].off;
            plast_real *gS = E->gS + b * L + l[k].off;
            /* S_t = keep S_{t-1} + c u v^T: d c = u^T gS v, d lambda = -<gS, S_{t-1}>, d u = c gS v, d v = c gS^T u */
            /* and gS <- keep gS, on to the adjoint of S_{t-1}, in the same pass */
            /* (each row's sums in LANES partial sums, so the loop vectorises; rows add up in double) */
            const int64_t n = l[k].out, n8 = n / LANES * LANES;
            const plast_real *v = l[k].v;
            plast_real *gv = l[k].gv;
            for (int64_t i = 0; i < l[k].in; i++) {
                plast_real *g = gS + i * n;
                const plast_real *s = S + i * n, cu = c * l[k].u[i];
                plast_real sv[LANES] = {0}, ss[LANES] = {0};
                for (int64_t j = 0; j < n8; j += LANES)
                    for (int q = 0; q < LANES; q++) {
                        const plast_real gj = g[j + q];
                        sv[q] += gj * v[j + q];
                        ss[q] += gj * s[j + q];
                        gv[j + q] += cu * gj;
                        g[j + q] = keep * gj;
                    }
                for (int64_t j = n8; j < n; j++) {
                    const plast_real gj = g[j];
                    sv[0] += gj * v[j];
                    ss[0] += gj * s[j];
                    gv[j] += cu * gj;
                    g[j] = keep * gj;
                }
                double gv_i = 0, gs_i = 0;
                for (int q = 0; q < LANES; q++) gv_i += sv[q], gs_i += ss[q];
                glam -= gs_i;
                gcoef += (double)l[k].u[i] * gv_i;
                if (l[k].gu) l[k].gu[i] += (plast_real)(c * gv_i);
            }
        }
        E->gcoef[b] = gcoef, E->glam[b] = glam;
    }
}

/* ---- the interface ------------------------------------------------------------------------------------------- */

void duan_prod_forward(duan_engine *E, int k, int64_t t, const plast_real *x, int64_t ldx, plast_real *y, int64_t ldy) {
    if (E->dense) {
        const dense_view v = dense_of(E, k);
        dense_forward(E, &v, x, ldx, y, ldy);
        return;
    }
    lr_product L = lr_of(E, k, t);
    lr_forward(&L, x, ldx, y, ldy, E->sN, rows_of(E->Ap[k], E, t, L.n2));
}

void duan_prod_backward(duan_engine *E, int k, int64_t t, const plast_real *x, int64_t ldx, const plast_real *dy,
                        int64_t lddy, plast_real *dx, int64_t lddx) {
    if (E->dense) {
        const dense_view v = dense_of(E, k);
        dense_backward(E, &v, x, ldx, dy, lddy, dx, lddx);
        return;
    }
    lr_product L = lr_of(E, k, t);
    lr_factor df1, df2;
    lr_adjoints(E, k, &df1, &df2);
    plast_real *gamma_adj = t > 0 ? E->gGAM + (t - 1) * E->B * E->T : NULL;
    lr_backward(&L, x, ldx, dy, lddy, rows_of(E->Ap[k], E, t, L.n2), dx, lddx, df1, df2, gamma_adj, E->sM, E->sN);
}
