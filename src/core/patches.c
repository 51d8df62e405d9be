/* src/core/patches.c: see patches.h. */
#include "core/patches.h"

/* Runs BODY_INSIDE for every (patch, window position) inside the image, with `col` the offset of its C channels in
 * cols and `px` the offset of the pixel's C channels in x, and BODY_OUTSIDE for positions in the padding. Written
 * once so the gather and its adjoint visit the same pairs. */
#define FOR_EACH_PATCH(BODY_INSIDE, BODY_OUTSIDE)                                                                    \
    const int64_t Ho = (H + 2 * pad - k) / stride + 1, Wo = (W + 2 * pad - k) / stride + 1, K = (int64_t)k * k * C;  \
    _Pragma("omp parallel for if (N * Ho * Wo * K >= 32768)") for (int64_t n = 0; n < N; n++)                       \
        for (int64_t i = 0; i < Ho; i++)                                                                            \
            for (int64_t j = 0; j < Wo; j++)                                                                        \
                for (int di = 0; di < k; di++) {                                                                    \
                    const int64_t r = i * stride + di - pad;                                                        \
                    for (int dj = 0; dj < k; dj++) {                                                                \
                        const int64_t c = j * stride + dj - pad;                                                    \
                        const int64_t col = ((n * Ho + i) * Wo + j) * K + ((int64_t)di * k + dj) * C;               \
                        if (r < 0 || r >= H || c < 0 || c >= W) {                                                   \
                            BODY_OUTSIDE;                                                                           \
                            continue;                                                                               \
                        }                                                                                           \
                        const int64_t px = ((n * H + r) * W + c) * C;                                               \
                        BODY_INSIDE;                                                                                \
                    }                                                                                               \
                }

void plast_patches_gather(const plast_real *x, plast_real *cols, int64_t N, int64_t H, int64_t W, int64_t C, int k,
                          int pad, int stride) {
    /* plain loops, not memcpy: with one input channel a call per 4-byte copy cost more than the copying */
    FOR_EACH_PATCH(for (int64_t ch = 0; ch < C; ch++) cols[col + ch] = x[px + ch],
                   for (int64_t ch = 0; ch < C; ch++) cols[col + ch] = 0)
}

/* patches of one image only ever add into that image, so splitting by image between threads is race-free */
void plast_patches_scatter_add(plast_real *x, const plast_real *cols, int64_t N, int64_t H, int64_t W, int64_t C,
                               int k, int pad, int stride) {
    FOR_EACH_PATCH(for (int64_t ch = 0; ch < C; ch++) x[px + ch] += cols[col + ch], (void)0)
}
