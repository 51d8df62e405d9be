/* src/core/patches.h: the image windows behind convolutions and max pooling (internal), on channels-last images
 * (N, H, W, C). Used by the tape's image ops (autodiff/ops_image.c) and by the hand-written Conv-4 encoder
 * (engine/conv4.c), so both share one definition of each window.
 *
 * k x k patches, zero padding `pad`, stride s: cols (N, Ho, Wo, k*k*C) with
 * cols[n, i, j, (a k + b) C + c] = x[n, s i + a - pad, s j + b - pad, c] (0 outside), Ho = (H + 2 pad - k) / s + 1.
 * plast_patches_gather is im2col; plast_patches_scatter_add, its adjoint (col2im), adds each patch back where it
 * came from.
 */
#ifndef PLAST_CORE_PATCHES_H
#define PLAST_CORE_PATCHES_H

#include <stdint.h>

#include "plast/base.h"

void plast_patches_gather(const plast_real *x, plast_real *cols, int64_t N, int64_t H, int64_t W, int64_t C, int k,
                          int pad, int stride);
void plast_patches_scatter_add(plast_real *x, const plast_real *cols, int64_t N, int64_t H, int64_t W, int64_t C,
                               int k, int pad, int stride);

/* The 2x2 windows of max pooling (floor: an odd last row or column is left out). Runs the body (the remaining
 * arguments, commas allowed) for each window, with `o` the offset of its C channels in the pooled (N, H/2, W/2, C),
 * `off[q]` the offsets of its four positions in the image, row-major (q = 2 a + b), and `pw_c` = C. Images are
 * split between threads when the batch is large; the body may only write the window's own elements. */
#define PLAST_FOR_EACH_POOL_WINDOW(N, H, W, C, ...)                                                                  \
    do {                                                                                                             \
        const int64_t pw_n = (N), pw_h = (H), pw_w = (W), pw_c = (C), pw_ho = pw_h / 2, pw_wo = pw_w / 2;            \
        _Pragma("omp parallel for if (pw_n * pw_h * pw_w * pw_c >= 32768)") for (int64_t n = 0; n < pw_n; n++)       \
            for (int64_t i = 0; i < pw_ho; i++)                                                                      \
                for (int64_t j = 0; j < pw_wo; j++) {                                                                \
                    const int64_t o = ((n * pw_ho + i) * pw_wo + j) * pw_c;                                          \
                    const int64_t pw_0 = ((n * pw_h + 2 * i) * pw_w + 2 * j) * pw_c;                                  \
                    const int64_t off[4] = {pw_0, pw_0 + pw_c, pw_0 + pw_w * pw_c, pw_0 + pw_w * pw_c + pw_c};      \
                    __VA_ARGS__                                                                                      \
                }                                                                                                    \
    } while (0)

#endif
