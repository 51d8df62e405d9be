/* src/models/plastic_layer.h: a family's recurrent core described as one plastic layer, for the fused path of
 * src/engine/engine_fused.c (internal; exported to engine). With presynaptic vector p_t = [x_t; h_{t-1}]
 * (recurrent) or x_t, fixed weight W (P, H), plastic state F (B, P, H) from zero, and G = W + F:
 *
 *   n_j   = |G_{:,j}| + 1e-16                       (norm != NONE; otherwise n = 1)
 *   a     = p (G / n) + b                           (b only with bias >= 0)
 *   h_t   = act(a)                                   y_t = h_t R^T + r  (the readout, torch layout)
 *   Fk    = F / n  (decay_normalised)  or F
 *   F'    = clamp(lambda * Fk + gamma * rule(q, h_t, Fk))   q = [x_t; h_t] (hebb_new_h) or p_t; clamp 0: none
 *   F     = F' / (|W + F'|_col + 1e-16)  (renormalise)  or F'
 *   energy = sum_i p_i^2 sum_j |G_ij / n_j|
 *
 * lambda and gamma are (P, H) or one scalar each; rule is an elementwise kernel of the rule table. STPNr and STPNf
 * (family_stpn.c) are this layer; a family describes itself through plast_family_def.fused. */
#ifndef PLAST_MODELS_PLASTIC_LAYER_H
#define PLAST_MODELS_PLASTIC_LAYER_H

#include "models/model_internal.h"

typedef enum plast_column_norm { PLAST_LAYER_NORM_NONE, PLAST_LAYER_NORM_COLUMNS } plast_column_norm;

typedef struct plast_plastic_layer {
    int64_t I, H, P;      /* input, hidden and presynaptic sizes (P = I + H when recurrent, else I) */
    int recurrent;        /* p_t holds h_{t-1} */
    int hebb_new_h;       /* the rule sees [x_t; h_t] instead of p_t (recurrent only) */
    plast_column_norm norm;
    int decay_normalised; /* Fk = F / n */
    int renormalise;      /* F = F' / |W + F'| after the update */
    int scalar_rates;     /* lambda and gamma are one scalar each */
    double clamp;         /* F' in [-clamp, clamp]; 0: no clamp */
    plast_act act;
    int w, b, lambda, gamma; /* parameter indices; b = -1 without a bias */
    plast_linear readout;
    int h, F;                /* state indices */
} plast_plastic_layer;

#endif
