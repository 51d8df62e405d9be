/* src/engine/engine_duan_dense.c: the path of Duan et al.'s models without plasticity (model.rule = none). The
 * encoder and the input half of the cell do not depend on the recurrence, so they run as one product over all
 * (sample, step) rows each, forward and back; only h W_hh stays step by step. */
#include <omp.h>
#include <string.h>

#include "core/gemm.h"
#include "engine/engine_duan_internal.h"

/* The dense path (no plasticity): the encoder and the input half of the cell do not depend on the recurrence, so
 * x W_enc and e W_ih are computed for all T steps in one product each; only h W_hh stays step by step. */
void duan_forward_dense(duan_engine *E) {
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
        duan_cell_forward(E, t);
    }
    /* output for every step */
    plast_gemm(0, 0, T * B, D, H, 1, E->Hs + B * H, H, E->Wout, D, 0, E->Orec, D);
    add_row(E->Orec, T * B, D, D, E->bout);
}

/* The dense path backwards: step by step only dh_{t-1} = dz W_hh^T; the input half, the encoder and the weight
 * gradients as products over all (sample, step) rows afterwards. */
void duan_backward_dense(duan_engine *E, const plast_real *dy) {
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
