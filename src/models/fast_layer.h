/* src/models/fast_layer.h: a family's recurrent core described as one fast-weight layer (Ba et al. 2016), for the
 * fast-weight path of src/engine/engine_fastweights.c (internal; exported to engine). With p_t = [x_t; h_{t-1}],
 * W (I + H, H), b (H), a fast-weight matrix A (B, H, H) from zero that is not learned, constants lambda and eta,
 * and LN torch's LayerNorm over the H units with a learned gain g and bias beta:
 *
 *   A_t  = lambda A_{t-1} + eta h_{t-1} (x) h_{t-1}          h_{-1}, A_{-1}: zeros or the initial state
 *   z    = p_t W + b;   h^0 = tanh(LN(z));   h^s = tanh(LN(z + h^{s-1} A_t)), s = 1..S;   h_t = h^S
 *   double_update: A_t <- clamp(lambda A_t + eta h_t (x) h_t, -1000, 1000) after the step
 *   y_t  = h_t R^T + r;   energy = sum_i p_i^2 sum_j |W_ij| + sum_{s=1..S} sum_i (h^{s-1}_i)^2 sum_j |A_t,ij|
 *
 * The fastweights family (family_fastweights.c) is this layer; a family describes itself through
 * plast_family_def.fast. */
#ifndef PLAST_MODELS_FAST_LAYER_H
#define PLAST_MODELS_FAST_LAYER_H

#include "models/model_internal.h"

typedef struct plast_fast_layer {
    int64_t I, H, S;      /* input and hidden sizes, inner-loop iterations */
    double lambda, eta;   /* the fast weights' decay and rate (constants) */
    double ln_eps;        /* LayerNorm's eps */
    int double_update;    /* the ART driver's second update after the step */
    int w, b, ln_g, ln_b; /* parameter indices: W (I + H, H), b, g, beta (H) */
    plast_linear readout;
    int h, A;             /* state indices */
} plast_fast_layer;

#endif
