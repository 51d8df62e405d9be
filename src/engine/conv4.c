/* src/engine/conv4.c: the Conv-4 encoder by hand; see conv4.h. Each stage's forward and backward sit side by side.
 * Layout: activations channels last, (images, side, side, channels) row-major; layer l's input is S[l] x S[l] x C[l]
 * and its output after pooling S[l+1] x S[l+1] x F. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/gemm.h"
#include "core/patches.h"
#include "engine/conv4.h"
#include "models/family_duan.h"
#include "models/model_internal.h"

/* batch-normalisation sums are taken over this many fixed blocks of rows, in parallel, then added in block order:
 * the result does not depend on the thread count */
#define BN_BLOCKS 32
#define BN_EPS 1e-5
#define POOL_POSITIVE 4

struct conv4 {
    int64_t B, T, N, F, Hf, feat;
    int64_t S[5], C[5];
    duan_conv k;
    const plast_real *images; /* (N, S0, S0, C0), the caller's, from the last forward */
    /* kept from forward */
    plast_real *X[5];    /* X[l] (N, S[l], S[l], C[l]), l = 1..4: the pooled outputs (X[0] is images) */
    plast_real *XH[4];   /* (N, S[l], S[l], F): normalised convolution outputs */
    plast_real *ISTD[4]; /* (T, F): 1 / sqrt(var + eps) of each step's batch */
    uint8_t *ARG[4];     /* (N, S[l+1], S[l+1], F): position 0..3 of each pooled maximum in its 2x2 window, plus
                          * POOL_POSITIVE when the ReLU passed it (z > 0), so backward needs no z */
    plast_real *OUT;     /* (N, Hf): the features */
    /* scratch */
    plast_real *cols;      /* one step's patches, or their adjoint: (B S[l] S[l], 9 C[l]) for the largest l */
    plast_real *dA, *dB;   /* one step's activation adjoints, (B S[l] S[l], max(C[l], F)) */
    plast_real *dpre, *dX4; /* (N, Hf), (N, feat) */
    double *part;          /* (BN_BLOCKS, 2, F) */
    size_t bytes;
};

/* ---- batch normalisation ------------------------------------------------------------------------------------ */

/* per-channel sums over R rows of (a, a * b) (b = NULL: of a and a^2 about mu), in fixed row blocks */
static void channel_sums(const plast_real *a, const plast_real *b, const double *mu, int64_t R, int64_t F, double *part,
                         double *s1, double *s2) {
#pragma omp parallel for if (R * F >= 32768)
    for (int blk = 0; blk < BN_BLOCKS; blk++) {
        double *p1 = part + (size_t)blk * 2 * F, *p2 = p1 + F;
        for (int64_t c = 0; c < F; c++) p1[c] = p2[c] = 0;
        const int64_t r0 = R * blk / BN_BLOCKS, r1 = R * (blk + 1) / BN_BLOCKS;
        for (int64_t r = r0; r < r1; r++) {
            const plast_real *ar = a + r * F, *br = b ? b + r * F : NULL;
            if (br)
                for (int64_t c = 0; c < F; c++) p1[c] += ar[c], p2[c] += (double)ar[c] * br[c];
            else if (mu)
                for (int64_t c = 0; c < F; c++) {
                    const double d = ar[c] - mu[c];
                    p2[c] += d * d;
                }
            else
                for (int64_t c = 0; c < F; c++) p1[c] += ar[c];
        }
    }
    for (int64_t c = 0; c < F; c++) s1[c] = s2[c] = 0;
    for (int blk = 0; blk < BN_BLOCKS; blk++)
        for (int64_t c = 0; c < F; c++) {
            s1[c] += part[(size_t)blk * 2 * F + c];
            s2[c] += part[(size_t)blk * 2 * F + F + c];
        }
}

/* y (R, F) -> xhat = (y - mean) / sqrt(var + eps) in place, the biased variance of the R rows; istd (F) */
static void bn_forward(plast_real *y, int64_t R, int64_t F, double *part, plast_real *istd) {
    double mu[F], s1[F], s2[F];
    channel_sums(y, NULL, NULL, R, F, part, s1, s2);
    for (int64_t c = 0; c < F; c++) mu[c] = s1[c] / (double)R;
    channel_sums(y, NULL, mu, R, F, part, s1, s2);
    plast_real m[F];
    for (int64_t c = 0; c < F; c++) {
        istd[c] = (plast_real)(1 / sqrt(s2[c] / (double)R + BN_EPS));
        m[c] = (plast_real)mu[c];
    }
#pragma omp parallel for if (R * F >= 32768)
    for (int64_t r = 0; r < R; r++)
        for (int64_t c = 0; c < F; c++) y[r * F + c] = (y[r * F + c] - m[c]) * istd[c];
}

/* dz (R, F) = d/d(gamma xhat + beta) -> d/dy in place; adds d/dgamma and d/dbeta */
static void bn_backward(plast_real *dz, const plast_real *xhat, const plast_real *istd, const plast_real *gamma,
                        int64_t R, int64_t F, double *part, plast_real *dgamma, plast_real *dbeta) {
    double s1[F], s2[F];
    channel_sums(dz, xhat, NULL, R, F, part, s1, s2);
    plast_real k[F], m1[F], m2[F];
    for (int64_t c = 0; c < F; c++) {
        dbeta[c] += (plast_real)s1[c], dgamma[c] += (plast_real)s2[c];
        k[c] = istd[c] * gamma[c], m1[c] = (plast_real)(s1[c] / (double)R), m2[c] = (plast_real)(s2[c] / (double)R);
    }
#pragma omp parallel for if (R * F >= 32768)
    for (int64_t r = 0; r < R; r++)
        for (int64_t c = 0; c < F; c++) {
            const int64_t i = r * F + c;
            dz[i] = k[c] * (dz[i] - m1[c] - xhat[i] * m2[c]);
        }
}

/* ---- ReLU and 2x2 max pooling (floor), on z = gamma xhat + beta --------------------------------------------- */

/* out (B, S/2, S/2, F) = max over each window of relu(z); arg the window position (the first of equal maxima, as
 * PyTorch) and whether z > 0 there */
static void relu_pool_forward(const plast_real *xhat, const plast_real *gamma, const plast_real *beta, int64_t B,
                              int64_t S, int64_t F, plast_real *out, uint8_t *arg) {
    PLAST_FOR_EACH_POOL_WINDOW(B, S, S, F, {
        const plast_real *w0 = xhat + off[0], *w1 = xhat + off[1], *w2 = xhat + off[2], *w3 = xhat + off[3];
        /* written as selects, not a loop over the window with a branch, so it vectorises over c */
        _Pragma("omp simd") for (int64_t c = 0; c < pw_c; c++) {
            const plast_real g = gamma[c], b = beta[c];
            const plast_real z0 = w0[c] * g + b, z1 = w1[c] * g + b, z2 = w2[c] * g + b, z3 = w3[c] * g + b;
            plast_real best = z0 > 0 ? z0 : 0;
            int code = z0 > 0 ? POOL_POSITIVE : 0;
            if ((z1 > 0 ? z1 : 0) > best) best = z1, code = 1 | POOL_POSITIVE; /* r > best >= 0: z > 0 */
            if ((z2 > 0 ? z2 : 0) > best) best = z2, code = 2 | POOL_POSITIVE;
            if ((z3 > 0 ? z3 : 0) > best) best = z3, code = 3 | POOL_POSITIVE;
            out[o + c] = best, arg[o + c] = (uint8_t)code;
        }
    });
}

/* dz (B, S, S, F) = d/dz from d/dout: to each window's chosen position, where z > 0; zero elsewhere */
static void relu_pool_backward(const plast_real *dout, const uint8_t *arg, int64_t B, int64_t S, int64_t F,
                               plast_real *dz) {
    memset(dz, 0, sizeof(plast_real) * (size_t)(B * S * S * F));
    PLAST_FOR_EACH_POOL_WINDOW(B, S, S, F, {
        for (int64_t c = 0; c < pw_c; c++)
            if (arg[o + c] & POOL_POSITIVE) dz[off[arg[o + c] & 3] + c] = dout[o + c];
    });
}

/* ---- the encoder ---------------------------------------------------------------------------------------------- */

static plast_real *param(plast_params *p, int i) { return plast_params_value(p, i); }
static plast_real *grad(plast_params *p, int i) { return plast_params_grad(p, i); }

void conv4_forward(conv4 *c, plast_params *p, const plast_real *images, plast_real *features, int64_t ldf) {
    const int64_t B = c->B, F = c->F, N = c->N, Hf = c->Hf, feat = c->feat;
    c->images = images;
    for (int64_t t = 0; t < c->T; t++)
        for (int l = 0; l < 4; l++) {
            const int64_t S = c->S[l], Cin = c->C[l], R = B * S * S, K9 = 9 * Cin, So = c->S[l + 1];
            const plast_real *x = (l == 0 ? images : c->X[l]) + t * B * S * S * Cin;
            plast_patches_gather(x, c->cols, B, S, S, Cin, 3, 1, 1);
            plast_real *y = c->XH[l] + t * R * F;
            plast_gemm(0, 0, R, F, K9, 1, c->cols, K9, param(p, c->k.w[l]), F, 0, y, F);
            bn_forward(y, R, F, c->part, c->ISTD[l] + t * F);
            relu_pool_forward(y, param(p, c->k.gamma[l]), param(p, c->k.beta[l]), B, S, F,
                              c->X[l + 1] + t * B * So * So * F, c->ARG[l] + t * B * So * So * F);
        }
    /* the projection for all images at once */
    const plast_real *pb = param(p, c->k.proj_b);
    plast_gemm(0, 1, N, Hf, feat, 1, c->X[4], feat, param(p, c->k.proj_w), feat, 0, c->OUT, Hf);
#pragma omp parallel for if (N * Hf >= 32768)
    for (int64_t r = 0; r < N; r++)
        for (int64_t j = 0; j < Hf; j++) {
            const plast_real v = c->OUT[r * Hf + j] + pb[j];
            c->OUT[r * Hf + j] = v > 0 ? v : 0;
            features[r * ldf + j] = c->OUT[r * Hf + j];
        }
}

void conv4_backward(conv4 *c, plast_params *p, const plast_real *dfeatures, int64_t ldd) {
    const int64_t B = c->B, F = c->F, N = c->N, Hf = c->Hf, feat = c->feat;
    /* projection: pre = X4 proj_w^T + proj_b, out = relu(pre) */
    plast_real *dpb = grad(p, c->k.proj_b);
    for (int64_t r = 0; r < N; r++)
        for (int64_t j = 0; j < Hf; j++) c->dpre[r * Hf + j] = c->OUT[r * Hf + j] > 0 ? dfeatures[r * ldd + j] : 0;
    for (int64_t r = 0; r < N; r++)
        for (int64_t j = 0; j < Hf; j++) dpb[j] += c->dpre[r * Hf + j];
    plast_gemm(1, 0, Hf, feat, N, 1, c->dpre, Hf, c->X[4], feat, 1, grad(p, c->k.proj_w), feat);
    plast_gemm(0, 0, N, feat, Hf, 1, c->dpre, Hf, param(p, c->k.proj_w), feat, 0, c->dX4, feat);
    /* the layers, one step's images at a time; dout is d/d(pooled output of layer l) */
    for (int64_t t = 0; t < c->T; t++) {
        const plast_real *dout = c->dX4 + t * B * feat;
        for (int l = 3; l >= 0; l--) {
            const int64_t S = c->S[l], Cin = c->C[l], R = B * S * S, K9 = 9 * Cin, So = c->S[l + 1];
            const plast_real *xhat = c->XH[l] + t * R * F, *gamma = param(p, c->k.gamma[l]);
            relu_pool_backward(dout, c->ARG[l] + t * B * So * So * F, B, S, F, c->dA);
            bn_backward(c->dA, xhat, c->ISTD[l] + t * F, gamma, R, F, c->part, grad(p, c->k.gamma[l]),
                        grad(p, c->k.beta[l]));
            /* convolution: d/dW = patches^T dy; d/dx = col2im(dy W^T), not needed for the images */
            const plast_real *x = (l == 0 ? c->images : c->X[l]) + t * B * S * S * Cin;
            plast_patches_gather(x, c->cols, B, S, S, Cin, 3, 1, 1);
            plast_gemm(1, 0, K9, F, R, 1, c->cols, K9, c->dA, F, 1, grad(p, c->k.w[l]), F);
            if (l == 0) break;
            plast_gemm(0, 1, R, K9, F, 1, c->dA, F, param(p, c->k.w[l]), F, 0, c->cols, K9);
            memset(c->dB, 0, sizeof(plast_real) * (size_t)(R * Cin));
            plast_patches_scatter_add(c->dB, c->cols, B, S, S, Cin, 3, 1, 1);
            dout = c->dB;
        }
    }
}

/* ---- memory: one block, carved into the views above ------------------------------------------------------------ */

/* Points c's views into base, each 64-byte aligned after the struct itself, and returns the bytes they span; with
 * base = NULL it only counts. One list of the views serves both the sizing and the carving. */
static size_t place_views(conv4 *c, unsigned char *base) {
    const int64_t N = c->N, F = c->F;
    int64_t cols = 0, act = 0; /* the largest step of any layer: patches, and activations in or out */
    for (int l = 0; l < 4; l++) {
        const int64_t R = c->B * c->S[l] * c->S[l], width = c->C[l] > F ? c->C[l] : F;
        if (R * 9 * c->C[l] > cols) cols = R * 9 * c->C[l];
        if (R * width > act) act = R * width;
    }
    size_t at = (sizeof *c + 63) / 64 * 64;
#define VIEW(ptr, count, type)                                                                                       \
    ((ptr) = base ? (type *)(void *)(base + at) : NULL, at += ((size_t)(count) * sizeof(type) + 63) / 64 * 64)
    for (int l = 0; l < 4; l++) {
        VIEW(c->X[l + 1], N * c->S[l + 1] * c->S[l + 1] * F, plast_real);
        VIEW(c->XH[l], N * c->S[l] * c->S[l] * F, plast_real);
        VIEW(c->ISTD[l], c->T * F, plast_real);
        VIEW(c->ARG[l], N * c->S[l + 1] * c->S[l + 1] * F, uint8_t);
    }
    VIEW(c->OUT, N * c->Hf, plast_real);
    VIEW(c->cols, cols, plast_real);
    VIEW(c->dA, act, plast_real);
    VIEW(c->dB, act, plast_real);
    VIEW(c->dpre, N * c->Hf, plast_real);
    VIEW(c->dX4, N * c->feat, plast_real);
    VIEW(c->part, BN_BLOCKS * 2 * F, double);
#undef VIEW
    return at;
}

/* the encoder's sizes for B x T images */
static conv4 conv4_shape(const plast_model *m, int64_t B, int64_t T) {
    const duan_conv *k = &PLAST_PRIV(m, duan_priv)->cnn;
    conv4 h = {.B = B, .T = T, .N = B * T, .F = m->cfg.conv_channels, .k = *k};
    h.Hf = m->H - k->label, h.feat = k->features;
    h.S[0] = k->size, h.C[0] = k->channels;
    for (int l = 1; l <= 4; l++) h.S[l] = h.S[l - 1] / 2, h.C[l] = h.F;
    return h;
}

size_t conv4_plan(const plast_model *m, int64_t B, int64_t T) {
    conv4 h = conv4_shape(m, B, T);
    return place_views(&h, NULL);
}

conv4 *conv4_init(const plast_model *m, int64_t B, int64_t T, plast_err *err) {
    conv4 h = conv4_shape(m, B, T);
    const size_t total = place_views(&h, NULL);
    conv4 *c = aligned_alloc(64, total); /* total is a multiple of 64 */
    if (!c) {
        plast_err_set(err, PLAST_ERR_NOMEM, "engine: out of memory for the conv4 encoder (%zu bytes)", total);
        return NULL;
    }
    *c = h;
    place_views(c, (unsigned char *)c);
    c->bytes = total;
    return c;
}

void conv4_free(conv4 *c) { free(c); }

size_t conv4_bytes(const conv4 *c) { return c->bytes; }
