/* src/core/patches.c: see patches.h. */
#include "core/patches.h"

/* Runs the bodies for every row of every patch: a row is k positions of one image row, k C contiguous reals in both
 * x and cols. SPAN(a, b, len) for its part inside the image (len reals from x + b, to cols + a), ZERO(a, len) for
 * the parts in the padding. Written once so the gather and its adjoint visit the same pairs, in the same order as
 * position by position (the adjoint's sums are unchanged); a row at a time, the copies are vector-wide (one
 * position of one channel at a time took 15% of a PongLike iteration). */
#define FOR_EACH_PATCH_ROW(SPAN, ZERO)                                                                               \
    const int64_t Ho = (H + 2 * pad - k) / stride + 1, Wo = (W + 2 * pad - k) / stride + 1, K = (int64_t)k * k * C;  \
    _Pragma("omp parallel for if (N * Ho * Wo * K >= 32768)") for (int64_t n = 0; n < N; n++)                       \
        for (int64_t i = 0; i < Ho; i++)                                                                            \
            for (int64_t j = 0; j < Wo; j++) {                                                                      \
                const int64_t c0 = j * stride - pad; /* the row's first column */                                   \
                const int64_t lo = c0 < 0 ? (-c0 < k ? -c0 : k) : 0;    /* positions [lo, hi) are inside */         \
                const int64_t hi = c0 + k > W ? (W - c0 > lo ? W - c0 : lo) : k;                                    \
                for (int di = 0; di < k; di++) {                                                                    \
                    const int64_t r = i * stride + di - pad;                                                        \
                    const int64_t col = ((n * Ho + i) * Wo + j) * K + (int64_t)di * k * C;                          \
                    if (r < 0 || r >= H) {                                                                          \
                        ZERO(col, k * C);                                                                           \
                        continue;                                                                                   \
                    }                                                                                               \
                    if (lo > 0) ZERO(col, lo * C);                                                                  \
                    if (hi < k) ZERO(col + hi * C, (k - hi) * C);                                                   \
                    SPAN(col + lo * C, ((n * H + r) * W + c0 + lo) * C, (hi - lo) * C);                             \
                }                                                                                                   \
            }

void plast_patches_gather(const plast_real *x, plast_real *cols, int64_t N, int64_t H, int64_t W, int64_t C, int k,
                          int pad, int stride) {
    /* plain loops, not memcpy: a call per row of 8 reals cost more than the copying */
#define GATHER_SPAN(a, b, len) for (int64_t e = 0; e < (len); e++) cols[(a) + e] = x[(b) + e]
#define GATHER_ZERO(a, len) for (int64_t e = 0; e < (len); e++) cols[(a) + e] = 0
    FOR_EACH_PATCH_ROW(GATHER_SPAN, GATHER_ZERO)
#undef GATHER_SPAN
#undef GATHER_ZERO
}

/* patches of one image only ever add into that image, so splitting by image between threads is race-free */
void plast_patches_scatter_add(plast_real *x, const plast_real *cols, int64_t N, int64_t H, int64_t W, int64_t C,
                               int k, int pad, int stride) {
#define SCATTER_SPAN(a, b, len) for (int64_t e = 0; e < (len); e++) x[(b) + e] += cols[(a) + e]
#define SCATTER_ZERO(a, len) (void)0
    FOR_EACH_PATCH_ROW(SCATTER_SPAN, SCATTER_ZERO)
#undef SCATTER_SPAN
#undef SCATTER_ZERO
}
