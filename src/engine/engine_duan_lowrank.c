/* src/engine/engine_duan_lowrank.c: the plastic paths of Duan et al.'s models, one step at a time (see
 * engine_duan_internal.h for the equations and the buffers): forward, then the adjoint of every forward line in
 * reverse, including the adjoint of the gradient rule's inner gradient (second order). The plastic products go
 * through engine_duan_plastic.c, in low-rank ("lowrank" path) or dense ("dense" path) form. */
#include <math.h>
#include <omp.h>
#include <string.h>

#include "core/gemm.h"
#include "engine/engine_duan_internal.h"

/* ---- forward -------------------------------------------------------------------------------------------------- */

/* the inner gradient of the gradient rule at step t: do, dh, (dc), dz, de, da */
static void inner_gradient(duan_engine *E, int64_t t) {
    const int64_t B = E->B, H = E->H, G = E->G, D = E->D;
    const plast_real *o = E->Orec + t * B * D, *z = E->Zc + t * B * G;
    plast_real *dO = E->Do + t * B * D, *dH = E->Dh + t * B * H, *dZ = E->Dz + t * B * G;
    plast_real *dE = E->De + t * B * H, *dA = E->Da + t * B * H;
    for (int64_t b = 0; b < B; b++)
        for (int64_t k = 0; k < D; k++) dO[b * D + k] = (plast_real)E->kappa * E->wo[k] * E->wo[k] * o[b * D + k];
    plast_gemm(0, 1, B, H, D, 1, dO, D, E->Wout, D, 0, dH, H);
    duan_prod_forward(E, P_OUT_T, t, dO, D, dH, H);
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
    duan_prod_forward(E, P_IH_T, t, dZ, G, dE, H);
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
        const plast_real keep = 1 - lam[b];
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

/* One step forward: encoder, cell and output with their plastic parts, then the inner gradient (gradient rule) and
 * the step's update of the histories, coefficients and plastic biases. */
void duan_forward_step(duan_engine *E, int64_t t) {
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
        add_to(a, E->PBenc + t * B * H, B * H);
        duan_prod_forward(E, P_ENC, t, x, T * I, a, H);
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
    add_to(z, E->PBhh + t * B * G, B * G);
    add_to(z, E->PBih + t * B * G, B * G);
    duan_prod_forward(E, P_CELL, t, u, T * C2, z, G);
    duan_cell_forward(E, t);

    /* output */
    plast_gemm(0, 0, B, D, H, 1, hn, H, E->Wout, D, 0, o, D);
    add_row(o, B, D, D, E->bout);
    add_to(o, E->PBout + t * B * D, B * D);
    duan_prod_forward(E, P_OUT, t, hn, H, o, D);
    if (E->grad_rule) inner_gradient(E, t);
    plastic_update(E, t);
    duan_plastic_update(E, t);
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
        double gcoef = E->gcoef[b], glam = E->glam[b]; /* the plastic weights' part (duan_plastic_backward_update) */
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
    const int64_t B = E->B, H = E->H, G = E->G, D = E->D;
    const plast_real *a = E->Apre + t * B * H, *o = E->Orec + t * B * D, *z = E->Zc + t * B * G;
    const plast_real *dO = E->Do + t * B * D, *dH = E->Dh + t * B * H, *dZ = E->Dz + t * B * G;
    plast_real *qE = E->qE_all + t * B * H, *qH = E->qH_all + t * B * H;
    if (!E->no_enc) { /* the encoder's update: da = de [a > 0] */
        for (int64_t i = 0; i < B * H; i++) qE[i] = a[i] > 0 ? E->qA[i] : 0;
        /* de = dz W_ih^T + (dz) P_ih^T (d/dW_ih and d/dalpha_ih later, from the saved adjoints qE) */
        plast_gemm(0, 0, B, G, H, 1, qE, H, E->Wcat + H * G, G, 1, E->qZ, G);
        duan_prod_backward(E, P_IH_T, t, dZ, G, qE, H, E->qZ, G);
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
    duan_prod_backward(E, P_OUT_T, t, dO, D, qH, H, E->qO, D);
    /* do = kappa w^2 o */
    for (int64_t b = 0; b < B; b++)
        for (int64_t k = 0; k < D; k++) {
            const plast_real q = E->qO[b * D + k], w = E->wo[k];
            E->tO[b * D + k] += (plast_real)E->kappa * w * w * q;
            E->dwo[k] += (plast_real)(2 * E->kappa) * w * o[b * D + k] * q;
        }
}

/* (a, b) the update of step t back to the step's activations: the history adjoints of step t go to tCell, tH and
 * (Hebbian) tE, tGate or tH, tO; for the gradient rule into the deltas' adjoints qA, qZ, qO, then backward_inner */
static void backward_update_to_step(duan_engine *E, int64_t t) {
    const int64_t B = E->B, T = E->T, H = E->H, G = E->G, D = E->D, C2 = E->C2;
    duan_plastic_backward_update(E, t);
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
}

/* (c) the cell's nonlinearity backwards: from tH (and tGate, tTau, gc) to the pre-activation adjoint tZ (B, G),
 * sample b at tZ + b * T * G, beside the cell history; for the LSTM tCp collects d loss / d c_{t-1} */
static void backward_cell(duan_engine *E, int64_t t, plast_real *tZ) {
    const int64_t B = E->B, T = E->T, H = E->H, G = E->G;
    const plast_real *z = E->Zc + t * B * G, *hn = E->Hs + (t + 1) * B * H, *cp = E->Cs + t * B * H;
    if (!E->lstm) {
        for (int64_t b = 0; b < B; b++)
            for (int64_t j = 0; j < H; j++) {
                const int64_t i = b * H + j;
                tZ[b * T * G + j] = E->relu_cell ? (z[i] > 0 ? E->tH[i] : 0) : E->tH[i] * (1 - hn[i] * hn[i]);
            }
        return;
    }
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
}

/* One step of BPTT: the update of step t, then the forward pass of step t backwards. In: dy (B, O), the carried
 * adjoints gh, gc and the plastic-bias and history adjoints; out: the same carried to step t - 1, and the step's
 * adjoints kept for the weight gradients (tO_all, tZ_all, tA_all). */
void duan_backward_step(duan_engine *E, int64_t t, const plast_real *dy) {
    const int64_t B = E->B, T = E->T, I = E->I, H = E->H, G = E->G, D = E->D, O = E->Oy, C2 = E->C2;
    const plast_real *x = E->Uenc + t * I, *a = E->Apre + t * B * H;
    const plast_real *hn = E->Hs + (t + 1) * B * H, *u = E->Ucell + t * C2;
    plast_real *tO = E->tO_all + t * B * D;
    zero(E->tO, B * D), zero(E->tGate, B * G), zero(E->tE, B * H), zero(E->tTau, B * H), zero(E->tCp, B * H);
    for (int64_t b = 0; b < B; b++) memcpy(E->tO + b * D, dy + b * O, (size_t)O * sizeof(plast_real));
    memcpy(E->tH, E->gh, (size_t)(B * H) * sizeof(plast_real));

    backward_update_to_step(E, t);
    memcpy(tO, E->tO, (size_t)(B * D) * sizeof(plast_real)); /* kept for d/dW_out */

    /* output: o = h W_out + b_out + p_out + (h) P_out */
    plast_gemm(0, 1, B, H, D, 1, tO, D, E->Wout, D, 1, E->tH, H);
    add_to(E->gPBout, tO, B * D);
    duan_prod_backward(E, P_OUT, t, hn, H, tO, D, E->tH, H);
    plast_real *tZ = E->tZ_all + t * G; /* sample b at tZ + b * T * G: rows paired with the cell history */
    backward_cell(E, t, tZ);
    /* cell: z = u W_cat + biases + plastic biases + (u) P_cell, u = [h_{t-1}; e_t] */
    plast_gemm(0, 1, B, C2, G, 1, tZ, T * G, E->Wcat, G, 1, E->tCell, C2);
    for (int64_t b = 0; b < B; b++) {
        add_to(E->gPBhh + b * G, tZ + b * T * G, G);
        add_to(E->gPBih + b * G, tZ + b * T * G, G);
    }
    duan_prod_backward(E, P_CELL, t, u, T * C2, tZ, T * G, E->tCell, C2);
    for (int64_t b = 0; b < B; b++) {
        memcpy(E->gh + b * H, E->tCell + b * C2, (size_t)H * sizeof(plast_real));
        add_to(E->tE + b * H, E->tCell + b * C2 + H, H);
    }
    if (E->lstm) memcpy(E->gc, E->tCp, (size_t)(B * H) * sizeof(plast_real));
    if (E->no_enc) { /* the inputs were the cell inputs: their adjoint is the result */
        memcpy(E->DX + t * B * H, E->tE, (size_t)(B * H) * sizeof(plast_real));
        return;
    }
    /* encoder: a = x W_enc + b_enc + p_enc + (x) P_enc; e = relu(a) */
    plast_real *tA = E->tA_all + t * H; /* sample b at tA + b * T * H, paired with the encoder history */
    for (int64_t b = 0; b < B; b++)
        for (int64_t j = 0; j < H; j++) tA[b * T * H + j] = a[b * H + j] > 0 ? E->tE[b * H + j] : 0;
    for (int64_t b = 0; b < B; b++) add_to(E->gPBenc + b * H, tA + b * T * H, H);
    duan_prod_backward(E, P_ENC, t, x, T * I, tA, T * H, NULL, 0);
}
