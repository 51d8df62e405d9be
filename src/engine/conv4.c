/* src/engine/conv4.c: the Conv-4 encoder by hand; see conv4.h. Each stage's forward and backward sit side by side.
 * Layout: activations channels last, (images, side, side, channels) row-major; layer l's input is S[l] x S[l] x C[l]
 * and its output after pooling S[l+1] x S[l+1] x F. */
#include <math.h>
#include <omp.h>
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
/* a convolution runs on groups of one step's images of about GROUP_ROWS patch rows, and d/dW is summed over at
 * most DW_CHUNKS chunks of groups: see conv_forward and conv_backward */
#define GROUP_ROWS 256
#define DW_CHUNKS 16

struct conv4 {
    int64_t B, T, N, F, Hf, feat;
    int64_t S[5], C[5];
    duan_conv k;
    const plast_real *images; /* (N, S0, S0, C0), the caller's, from the last forward */
    /* kept from forward */
    plast_real *X[5];    /* X[l] (N, S[l], S[l], C[l]), l = 1..4: the pooled outputs (X[0] is images) */
    plast_real *Y[4];    /* (N, S[l], S[l], F): convolution outputs, before normalisation */
    plast_real *MEAN[4]; /* (T, F): each step's batch mean of them */
    plast_real *ISTD[4]; /* (T, F): 1 / sqrt(var + eps) of each step's batch */
    uint8_t *ARG[4];     /* (N, S[l+1], S[l+1], F): position 0..3 of each pooled maximum in its 2x2 window, plus
                          * POOL_POSITIVE when the ReLU passed it (z > 0), so backward needs no z */
    plast_real *OUT;     /* (N, Hf): the features */
    /* scratch */
    int slots;             /* threads that may work on the groups of images at once */
    size_t slot;           /* elements of one group's patches, the largest over the layers */
    plast_real *cols;      /* (slots, slot): each thread's group patches, or their adjoint */
    plast_real *dwpart;    /* (DW_CHUNKS, 9 F, F) at most: d/dW of each chunk of groups, added in chunk order */
    size_t dy_slot;        /* elements of one group's d loss / d y, the largest over the layers */
    plast_real *dys;       /* (slots, dy_slot): each thread's group of d loss / d y */
    plast_real *bk;        /* (3, F): a layer's batch-normalisation backward scales (bn_back) */
    plast_real *dA, *dB;   /* one step's adjoints of a layer's pooled output, (B S[l+1] S[l+1], F), in turn */
    plast_real *dpre, *dX4; /* (N, Hf), (N, feat) */
    double *part;          /* (BN_BLOCKS, 2, F) */
    size_t bytes;
};

/* ---- batch normalisation, ReLU and 2x2 max pooling (floor) ------------------------------------------------------
 *
 * The convolution's output y (R = B S S rows, F channels) is kept as it is; its normalisation
 * xhat = (y - mean) istd and z = gamma xhat + beta are recomputed where they are read, so forward makes one pass over
 * y for the statistics and one for the pooling, and backward one sparse pass for the sums and one dense pass for
 * d/dy (before: seven passes over y and its adjoint, which for the first layer of 28 x 28 images is 12.8 MB a step,
 * larger than the caches). */

/* rows [r0, r1) of a block */
#define BN_BLOCK_ROWS(R, blk) const int64_t r0 = (R) * (blk) / BN_BLOCKS, r1 = (R) * ((blk) + 1) / BN_BLOCKS

/* channel c's two sums from the blocks' parts (BN_BLOCKS, 2, F), added in block order */
static void block_sums(const double *part, int64_t F, int64_t c, double *s1, double *s2) {
    *s1 = *s2 = 0;
    for (int blk = 0; blk < BN_BLOCKS; blk++) {
        const double *p = part + (size_t)blk * 2 * F;
        *s1 += p[c], *s2 += p[F + c];
    }
}

/* mean and istd = 1 / sqrt(var + eps) of y's channels over its R rows, the biased variance, in one pass: sums of
 * y - y[0] and its square in double (shifted by the first row so a large mean loses nothing), in fixed row blocks
 * added in block order, so the result does not depend on the thread count */
static void bn_stats(const plast_real *y, int64_t R, int64_t F, double *part, plast_real *mean, plast_real *istd) {
#pragma omp parallel for if (R * F >= 32768)
    for (int blk = 0; blk < BN_BLOCKS; blk++) {
        double *p1 = part + (size_t)blk * 2 * F, *p2 = p1 + F;
        for (int64_t c = 0; c < F; c++) p1[c] = p2[c] = 0;
        BN_BLOCK_ROWS(R, blk);
        for (int64_t r = r0; r < r1; r++)
            for (int64_t c = 0; c < F; c++) {
                const double d = (double)y[r * F + c] - y[c];
                p1[c] += d, p2[c] += d * d;
            }
    }
    for (int64_t c = 0; c < F; c++) {
        double s1, s2;
        block_sums(part, F, c, &s1, &s2);
        const double m = s1 / (double)R, var = s2 / (double)R - m * m;
        mean[c] = (plast_real)(y[c] + m);
        istd[c] = (plast_real)(1 / sqrt((var > 0 ? var : 0) + BN_EPS));
    }
}

/* out (B, S/2, S/2, F) = max over each window of relu(z), z = gamma (y - mean) istd + beta; arg the window position
 * (the first of equal maxima, as PyTorch) and whether z > 0 there */
static void relu_pool_forward(const plast_real *y, const plast_real *mean, const plast_real *istd,
                              const plast_real *gamma, const plast_real *beta, int64_t B, int64_t S, int64_t F,
                              plast_real *out, uint8_t *arg) {
    PLAST_FOR_EACH_POOL_WINDOW(B, S, S, F, {
        const plast_real *w0 = y + off[0], *w1 = y + off[1], *w2 = y + off[2], *w3 = y + off[3];
        /* written as selects, not a loop over the window with a branch, so it vectorises over c */
        _Pragma("omp simd") for (int64_t c = 0; c < pw_c; c++) {
            const plast_real g = gamma[c], b = beta[c], m = mean[c], k = istd[c];
            const plast_real x0 = (w0[c] - m) * k, x1 = (w1[c] - m) * k, x2 = (w2[c] - m) * k, x3 = (w3[c] - m) * k;
            const plast_real z0 = x0 * g + b, z1 = x1 * g + b, z2 = x2 * g + b, z3 = x3 * g + b;
            plast_real best = z0 > 0 ? z0 : 0;
            int code = z0 > 0 ? POOL_POSITIVE : 0;
            if ((z1 > 0 ? z1 : 0) > best) best = z1, code = 1 | POOL_POSITIVE; /* r > best >= 0: z > 0 */
            if ((z2 > 0 ? z2 : 0) > best) best = z2, code = 2 | POOL_POSITIVE;
            if ((z3 > 0 ? z3 : 0) > best) best = z3, code = 3 | POOL_POSITIVE;
            out[o + c] = best, arg[o + c] = (uint8_t)code;
        }
    });
}

/* Backward through pooling, ReLU and normalisation, for one step's B images. d/dz is dout at each window's chosen
 * position where z > 0 and zero elsewhere, so its sums s1 = sum d/dz and s2 = sum d/dz xhat come from the pooled grid
 * alone (bn_back_sums); then d/dy = istd gamma (d/dz - s1 / R - xhat s2 / R) everywhere, the rows outside every
 * window (an odd S) included, written a group of images at a time where the convolution's backward uses it
 * (bn_back_rows, from conv_backward). */
typedef struct bn_back {
    const plast_real *dout;  /* (B, S/2, S/2, F) d loss / d the pooled output */
    const uint8_t *arg;      /* (B, S/2, S/2, F) the pooling choices */
    const plast_real *y;     /* (B, S, S, F) the convolution's output */
    const plast_real *mean, *istd; /* (F) the step's batch statistics */
    plast_real *k, *m1, *m2; /* (F) istd gamma, s1 / R, s2 / R: set by bn_back_sums */
    int64_t S;
} bn_back;

/* the sums s1 and s2 in fixed blocks of windows, added in block order; adds s2 to d/dgamma and s1 to d/dbeta */
static void bn_back_sums(const bn_back *bb, const plast_real *gamma, int64_t B, int64_t F, double *part,
                         plast_real *dgamma, plast_real *dbeta) {
    const int64_t S = bb->S, So = S / 2, R = B * S * S;
    const plast_real *dout = bb->dout, *y = bb->y, *mean = bb->mean, *istd = bb->istd;
    const uint8_t *arg = bb->arg;
#pragma omp parallel for if (R * F >= 32768)
    for (int blk = 0; blk < BN_BLOCKS; blk++) {
        double *p1 = part + (size_t)blk * 2 * F, *p2 = p1 + F;
        for (int64_t c = 0; c < F; c++) p1[c] = p2[c] = 0;
        const int64_t w0 = B * So * So * blk / BN_BLOCKS, w1 = B * So * So * (blk + 1) / BN_BLOCKS;
        for (int64_t w = w0; w < w1; w++) { /* window w = (n, i, j) of the pooled grid */
            const int64_t n = w / (So * So), i = w / So % So, j = w % So;
            const int64_t corner = ((n * S + 2 * i) * S + 2 * j) * F;
            for (int64_t c = 0; c < F; c++) {
                const int code = arg[w * F + c];
                if (!(code & POOL_POSITIVE)) continue;
                const int q = code & 3;
                const plast_real xhat = (y[corner + ((q >> 1) * S + (q & 1)) * F + c] - mean[c]) * istd[c];
                p1[c] += dout[w * F + c], p2[c] += (double)dout[w * F + c] * xhat;
            }
        }
    }
    for (int64_t c = 0; c < F; c++) {
        double s1, s2;
        block_sums(part, F, c, &s1, &s2);
        dbeta[c] += (plast_real)s1, dgamma[c] += (plast_real)s2;
        bb->k[c] = istd[c] * gamma[c];
        bb->m1[c] = (plast_real)(s1 / (double)R), bb->m2[c] = (plast_real)(s2 / (double)R);
    }
}

/* d/dy of rows [r0, r1) of the step (r = (n S + i) S + j) into dy, row r0 first */
static void bn_back_rows(const bn_back *bb, int64_t F, int64_t r0, int64_t r1, plast_real *dy) {
    const int64_t S = bb->S, So = S / 2;
    const plast_real *k = bb->k, *m1 = bb->m1, *m2 = bb->m2, *mean = bb->mean, *istd = bb->istd;
    for (int64_t r = r0; r < r1; r++) {
        const int64_t i = r / S % S, j = r % S;
        const int inside = i < 2 * So && j < 2 * So;
        const int64_t w = ((r / (S * S)) * So + i / 2) * So + j / 2; /* its window, when inside */
        const int q = (int)((i & 1) * 2 + (j & 1)) | POOL_POSITIVE;
        const plast_real *yr = bb->y + r * F, *dw = bb->dout + w * F;
        const uint8_t *aw = bb->arg + w * F;
        plast_real *dr = dy + (r - r0) * F;
        _Pragma("omp simd") for (int64_t c = 0; c < F; c++) {
            const plast_real d = inside && aw[c] == q ? dw[c] : 0;
            dr[c] = k[c] * (d - m1[c] - (yr[c] - mean[c]) * istd[c] * m2[c]);
        }
    }
}

/* ---- the convolutions, a group of images at a time ----------------------------------------------------------
 *
 * One step's B images are cut into groups of about GROUP_ROWS patch rows (from the layer's shape alone), and each
 * group's patches are gathered into its thread's own buffer and multiplied while they are still in cache: one step's
 * patches at once are 29 MB for the second layer of 28 x 28 images, written to memory and read back by the BLAS. */

static int64_t group_images(int64_t B, int64_t S) {
    const int64_t g = GROUP_ROWS / (S * S);
    return g < 1 ? 1 : g < B ? g : B;
}

static int conv_team(const conv4 *c) {
    const int team = omp_get_max_threads();
    return team < c->slots ? team : c->slots;
}

/* y (B S S, F) = patches(x) W, x (B, S, S, Cin) */
static void conv_forward(conv4 *c, const plast_real *x, int64_t S, int64_t Cin, const plast_real *W, plast_real *y) {
    const int64_t B = c->B, F = c->F, K9 = 9 * Cin, g = group_images(B, S), groups = (B + g - 1) / g;
    const int nt = conv_team(c);
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
    for (int64_t q = 0; q < groups; q++) {
        plast_real *cols = c->cols + (size_t)omp_get_thread_num() * c->slot;
        const int64_t n0 = q * g, ng = B - n0 < g ? B - n0 : g;
        plast_patches_gather(x + n0 * S * S * Cin, cols, ng, S, S, Cin, 3, 1, 1);
        plast_gemm_one(0, 0, ng * S * S, F, K9, 1, cols, K9, W, F, 0, y + n0 * S * S * F, F);
    }
}

/* dW += patches(x)^T dy; and, unless dx is NULL, dx = the adjoint of the patches of dy W^T (col2im), with dy = d loss
 * / d the convolution's output, written a group at a time into the thread's own buffer from bb. d/dW is summed over
 * the groups of each of at most DW_CHUNKS chunks, then over the chunks in order: the same bits for any thread
 * count. */
static void conv_backward(conv4 *c, const plast_real *x, int64_t S, int64_t Cin, const plast_real *W,
                          const bn_back *bb, plast_real *dW, plast_real *dx) {
    const int64_t B = c->B, F = c->F, K9 = 9 * Cin, g = group_images(B, S), groups = (B + g - 1) / g;
    const int64_t chunks = groups < DW_CHUNKS ? groups : DW_CHUNKS;
    const int nt = conv_team(c);
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
    for (int64_t ch = 0; ch < chunks; ch++) {
        const int th = omp_get_thread_num();
        plast_real *cols = c->cols + (size_t)th * c->slot, *dyq = c->dys + (size_t)th * c->dy_slot;
        plast_real *part = c->dwpart + ch * K9 * F;
        const int64_t q0 = groups * ch / chunks, q1 = groups * (ch + 1) / chunks;
        for (int64_t q = q0; q < q1; q++) {
            const int64_t n0 = q * g, ng = B - n0 < g ? B - n0 : g, rows = ng * S * S;
            bn_back_rows(bb, F, n0 * S * S, n0 * S * S + rows, dyq);
            plast_patches_gather(x + n0 * S * S * Cin, cols, ng, S, S, Cin, 3, 1, 1);
            plast_gemm_one(1, 0, K9, F, rows, 1, cols, K9, dyq, F, q == q0 ? 0 : 1, part, F);
            if (!dx) continue;
            plast_gemm_one(0, 1, rows, K9, F, 1, dyq, F, W, F, 0, cols, K9);
            memset(dx + n0 * S * S * Cin, 0, sizeof(plast_real) * (size_t)(rows * Cin));
            plast_patches_scatter_add(dx + n0 * S * S * Cin, cols, ng, S, S, Cin, 3, 1, 1);
        }
    }
#pragma omp parallel for if (K9 * F * chunks >= 65536)
    for (int64_t e = 0; e < K9 * F; e++) {
        plast_real acc = 0;
        for (int64_t ch = 0; ch < chunks; ch++) acc += c->dwpart[ch * K9 * F + e];
        dW[e] += acc;
    }
}

/* ---- the encoder ---------------------------------------------------------------------------------------------- */

static plast_real *param(plast_params *p, int i) { return plast_params_value(p, i); }
static plast_real *grad(plast_params *p, int i) { return plast_params_grad(p, i); }

void conv4_forward(conv4 *c, plast_params *p, const plast_real *images, plast_real *features, int64_t ldf) {
    const int64_t B = c->B, F = c->F, N = c->N, Hf = c->Hf, feat = c->feat;
    c->images = images;
    for (int64_t t = 0; t < c->T; t++)
        for (int l = 0; l < 4; l++) {
            const int64_t S = c->S[l], Cin = c->C[l], R = B * S * S, So = c->S[l + 1];
            const plast_real *x = (l == 0 ? images : c->X[l]) + t * B * S * S * Cin;
            plast_real *y = c->Y[l] + t * R * F, *mean = c->MEAN[l] + t * F, *istd = c->ISTD[l] + t * F;
            conv_forward(c, x, S, Cin, param(p, c->k.w[l]), y);
            bn_stats(y, R, F, c->part, mean, istd);
            relu_pool_forward(y, mean, istd, param(p, c->k.gamma[l]), param(p, c->k.beta[l]), B, S, F,
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
            const int64_t S = c->S[l], Cin = c->C[l], R = B * S * S, So = c->S[l + 1];
            const bn_back bb = {dout, c->ARG[l] + t * B * So * So * F, c->Y[l] + t * R * F, c->MEAN[l] + t * F,
                                c->ISTD[l] + t * F, c->bk, c->bk + F, c->bk + 2 * F, S};
            bn_back_sums(&bb, param(p, c->k.gamma[l]), B, F, c->part, grad(p, c->k.gamma[l]), grad(p, c->k.beta[l]));
            /* convolution: d/dW = patches^T dy; d/dx = col2im(dy W^T), not needed for the images; dx goes to the
             * buffer dout is not in */
            const plast_real *x = (l == 0 ? c->images : c->X[l]) + t * B * S * S * Cin;
            plast_real *dx = l == 0 ? NULL : dout == c->dA ? c->dB : c->dA;
            conv_backward(c, x, S, Cin, param(p, c->k.w[l]), &bb, grad(p, c->k.w[l]), dx);
            if (l == 0) break;
            dout = dx;
        }
    }
}

/* ---- memory: one block, carved into the views above ------------------------------------------------------------ */

/* Points c's views into base, each 64-byte aligned after the struct itself, and returns the bytes they span; with
 * base = NULL it only counts. One list of the views serves both the sizing and the carving. */
static size_t place_views(conv4 *c, unsigned char *base) {
    const int64_t N = c->N, F = c->F;
    int64_t act = 0, part = 0; /* the largest of any layer: one step's pooled outputs, d/dW's chunks */
    c->slot = c->dy_slot = 0;
    for (int l = 0; l < 4; l++) {
        const int64_t S = c->S[l], pooled = c->B * c->S[l + 1] * c->S[l + 1] * F, K9 = 9 * c->C[l];
        const int64_t g = group_images(c->B, S), groups = (c->B + g - 1) / g;
        if ((size_t)(g * S * S * K9) > c->slot) c->slot = (size_t)(g * S * S * K9);
        if ((size_t)(g * S * S * F) > c->dy_slot) c->dy_slot = (size_t)(g * S * S * F);
        const int64_t chunks = groups < DW_CHUNKS ? groups : DW_CHUNKS;
        if (chunks * K9 * F > part) part = chunks * K9 * F;
        if (pooled > act) act = pooled;
    }
    c->slot = (c->slot + 15) / 16 * 16, c->dy_slot = (c->dy_slot + 15) / 16 * 16; /* own cache lines per thread */
    size_t at = (sizeof *c + 63) / 64 * 64;
#define VIEW(ptr, count, type)                                                                                       \
    ((ptr) = base ? (type *)(void *)(base + at) : NULL, at += ((size_t)(count) * sizeof(type) + 63) / 64 * 64)
    for (int l = 0; l < 4; l++) {
        VIEW(c->X[l + 1], N * c->S[l + 1] * c->S[l + 1] * F, plast_real);
        VIEW(c->Y[l], N * c->S[l] * c->S[l] * F, plast_real);
        VIEW(c->MEAN[l], c->T * F, plast_real);
        VIEW(c->ISTD[l], c->T * F, plast_real);
        VIEW(c->ARG[l], N * c->S[l + 1] * c->S[l + 1] * F, uint8_t);
    }
    VIEW(c->OUT, N * c->Hf, plast_real);
    VIEW(c->cols, (size_t)c->slots * c->slot, plast_real);
    VIEW(c->dwpart, part, plast_real);
    VIEW(c->dys, (size_t)c->slots * c->dy_slot, plast_real);
    VIEW(c->bk, 3 * F, plast_real);
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
    h.slots = omp_get_max_threads() > omp_get_num_procs() ? omp_get_max_threads() : omp_get_num_procs();
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
