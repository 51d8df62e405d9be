/* src/core/im2col.h: the patch gather behind every 3x3 convolution (internal).
 *
 * cols (N, Ho, Wo, k*k*C) from images x (N, H, W, C), channels last, zero padding `pad`, stride 1:
 * cols[n, i, j, (a k + b) C + c] = x[n, i + a - pad, j + b - pad, c] (0 outside), Ho = H + 2 pad - k + 1.
 * plast_patches_scatter_add is its adjoint (col2im): it adds each patch back where it came from. Used by the
 * tape's im2col/col2im ops and by the hand-written Conv-4 encoder (engine/conv4.c), so both share one definition.
 */
#ifndef PLAST_CORE_IM2COL_H
#define PLAST_CORE_IM2COL_H

#include <stdint.h>

#include "plast/base.h"

void plast_patches_gather(const plast_real *x, plast_real *cols, int64_t N, int64_t H, int64_t W, int64_t C, int k,
                          int pad);
void plast_patches_scatter_add(plast_real *x, const plast_real *cols, int64_t N, int64_t H, int64_t W, int64_t C,
                               int k, int pad);

#endif
