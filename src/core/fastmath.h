/* src/core/fastmath.h: exp, sigmoid and tanh that the compiler can vectorise (internal).
 *
 * libm's expf/tanhf are scalar calls; in the gate loops of an LSTM they cost more than the matrix products. These are
 * the Cephes single-precision algorithms (range reduction plus a minimax polynomial), written with plain float
 * arithmetic and a bit cast so that GCC vectorises the loops that use them, without -ffast-math (their selects need
 * -fno-trapping-math to be if-converted, which the build sets: see CMakeLists.txt). Accuracy (tested in
 * tests/test_core.c against libm in double): exp and sigmoid within 2e-7 relative, tanh within 3e-7 relative over
 * [-10, 10]. In the float64 build they are libm's exp and tanh.
 */
#ifndef PLAST_CORE_FASTMATH_H
#define PLAST_CORE_FASTMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "plast/base.h"

#ifdef PLAST_DOUBLE

static inline plast_real plast_fexp(plast_real x) { return exp(x); }
static inline plast_real plast_fsigmoid(plast_real x) {
    if (x >= 0) return 1 / (1 + exp(-x));
    plast_real e = exp(x);
    return e / (1 + e);
}
static inline plast_real plast_ftanh(plast_real x) { return tanh(x); }

#else

static inline float plast_fexp(float x) {
    const int nan_in = x != x; /* NaN stays NaN, and never reaches the float-to-int conversion below */
    x = nan_in ? 0.0f : x;
    x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
    float n = floorf(x * 1.44269504088896341f + 0.5f); /* x = n ln2 + r, |r| <= ln2 / 2 */
    float r = x - n * 0.693359375f - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    uint32_t bits = (uint32_t)((int32_t)n + 127) << 23; /* 2^n */
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return nan_in ? (float)NAN : p * scale;
}

static inline float plast_fsigmoid(float x) { return 1.0f / (1.0f + plast_fexp(-x)); }

static inline float plast_ftanh(float x) {
    float ax = fabsf(x);
    /* small |x|: odd polynomial; large: 1 - 2 / (exp(2|x|) + 1); both computed so the loop stays branch-free */
    float z = x * x;
    float p = -5.70498872745e-3f;
    p = p * z + 2.06390887954e-2f;
    p = p * z - 5.37397155531e-2f;
    p = p * z + 1.33314422036e-1f;
    p = p * z - 3.33332819422e-1f;
    float small = x + x * z * p;
    float big = 1.0f - 2.0f / (plast_fexp(2.0f * ax) + 1.0f);
    big = x < 0 ? -big : big;
    return ax < 0.625f ? small : big;
}

#endif
#endif
