/* src/models/plastic_layer.h: a family's recurrent core described as one plastic layer, for the fused path of
 * src/engine/engine_fused.c (internal; exported to engine). With presynaptic vector p_t = x_t, [x_t; h_{t-1}] or
 * h_{t-1} (pre), fixed weight W (P, H), plastic state F (B, P, H) from zero, and G = W + alpha * F (alpha (P, H),
 * or 1 without one):
 *
 *   n_j   = |G_{:,j}| + 1e-16                       (norm != NONE; otherwise n = 1)
 *   a     = u_t + p (G / n) + b                     u_t: the drive, x_t W_in^T + b_in, x_t itself, or none
 *   h_t   = act(a)                                   y_t: the readout of h_t (readout_form)
 *   m_t   = mod_act(h_t w_M^T + b_M)                 one modulator per sample (modulator.w >= 0), else m_t = 1
 *   Fk    = F / n  (decay_normalised)  or F
 *   F'    = clamp(lambda * Fk + gamma * m_t * rule(q, h_t, Fk))   q = [x_t; h_t] (hebb_new_h) or p_t; clamp 0: none
 *   F     = F' / (|W + F'|_col + 1e-16)  (renormalise)  or F'
 * With an eligibility trace E (B, P, H), from zero (retroactive neuromodulation, Miconi et al. 2019), the rule
 * feeds E and E feeds F, which the forward uses before either changes:
 *   F'    = clamp(lambda * Fk + gamma * m_t * E)     E' = (1 - eta_E) E + eta_E * rule(q, h_t, Fk)
 *   energy = sum_i p_i^2 sum_j |G_ij / n_j|  +  sum_i x_i^2 sum_j |W_in_ji|  (the drive's part, linear drive only)
 *
 * lambda and gamma are each a parameter (per synapse (P, H), or one scalar with scalar_rates), a map of a scalar
 * parameter (sigmoid, exp, -exp, 1 - p) or a constant; rule is an elementwise kernel of the rule table; eta_E is
 * a scalar rate of the same kinds.
 * STPNr/STPNf, HebbFF, differentiable plasticity, neuromodulated plasticity (simple and retroactive) and BOHP are
 * this layer; a family describes itself through plast_family_def.fused. */
#ifndef PLAST_MODELS_PLASTIC_LAYER_H
#define PLAST_MODELS_PLASTIC_LAYER_H

#include "models/model_internal.h"

typedef enum plast_column_norm { PLAST_LAYER_NORM_NONE, PLAST_LAYER_NORM_COLUMNS } plast_column_norm;
/* what p_t holds: x_t (feed-forward), [x_t; h_{t-1}], or h_{t-1} alone (the input then enters by the drive) */
typedef enum plast_layer_pre { PLAST_LAYER_PRE_X, PLAST_LAYER_PRE_XH, PLAST_LAYER_PRE_H } plast_layer_pre;
typedef enum plast_layer_drive { PLAST_DRIVE_NONE, PLAST_DRIVE_LINEAR, PLAST_DRIVE_DIRECT } plast_layer_drive;
/* y_t = h R^T + r (torch's Linear), h W + b (W (H, O)), or the first O units of h */
typedef enum plast_readout_form { PLAST_READOUT_TORCH, PLAST_READOUT_PLAIN, PLAST_READOUT_FIRST } plast_readout_form;

/* a rate from a parameter: p itself, sigmoid(p), exp(p), -exp(p), 1 - p; or a constant */
typedef enum plast_rate_map {
    PLAST_RATE_PARAM,
    PLAST_RATE_SIGMOID,
    PLAST_RATE_EXP,
    PLAST_RATE_NEG_EXP,
    PLAST_RATE_ONE_MINUS,
    PLAST_RATE_CONST
} plast_rate_map;
typedef struct plast_layer_rate {
    plast_rate_map map;
    int param;    /* parameter index; -1 for a constant */
    double value; /* the constant */
} plast_layer_rate;

typedef struct plast_plastic_layer {
    int64_t I, H, P;      /* input, hidden and presynaptic sizes (P = I, I + H or H) */
    plast_layer_pre pre;
    int hebb_new_h;       /* the rule sees [x_t; h_t] instead of p_t (pre XH only) */
    plast_column_norm norm;
    int decay_normalised; /* Fk = F / n */
    int renormalise;      /* F = F' / |W + F'| after the update */
    int scalar_rates;     /* PLAST_RATE_PARAM rates are one scalar each, not (P, H) */
    double clamp;         /* F' in [-clamp, clamp]; 0: no clamp */
    plast_act act;
    int w, b, alpha;      /* parameter indices; b, alpha = -1 without */
    plast_layer_rate lambda, gamma;
    plast_layer_drive drive;
    plast_linear drive_w;   /* the linear drive (torch layout, (H, I)) */
    plast_linear modulator; /* (1, H) and (1): modulator.w = -1 without one */
    plast_act mod_act;
    plast_readout_form readout_form;
    plast_linear readout;
    int eligibility;           /* 1: the eligibility trace E between the rule and F (no renormalisation then) */
    plast_layer_rate trace_rate; /* eta_E, a scalar (eligibility only) */
    int h, F, E; /* state indices (h = -1 without an h; in p_t only with pre XH or H; E with eligibility only) */
} plast_plastic_layer;

/* 1 if the layer has h_{t-1} in p_t, and where it starts there */
static inline int plast_layer_recurrent(const plast_plastic_layer *L) { return L->pre != PLAST_LAYER_PRE_X; }
static inline int64_t plast_layer_h_offset(const plast_plastic_layer *L) { return L->pre == PLAST_LAYER_PRE_XH ? L->I : 0; }

#endif
