/* src/models/cell_layer.h: a family's recurrent core described as one non-plastic cell, for the cell path of
 * src/engine/engine_cell.c (internal; exported to engine). With p_t = [x_t; h_{t-1}], W (I + H, G), b (G):
 *
 *   z   = p_t W + b
 *   rnn:  h_t = act(z)                                                       G = H
 *   lstm: [i f g o] = z, i f o sigmoid, g tanh; c_t = f c_{t-1} + i g;       G = 4 H (torch's LSTMCell order)
 *         h_t = o tanh(c_t)
 *   y_t = h_t R^T + r;   energy = sum_i p_i^2 sum_j |W_ij|;   h_{-1}, c_{-1}: zeros or the initial state
 *
 * The rnn and lstm families (family_rnn.c) are this cell; a family describes itself through plast_family_def.cell. */
#ifndef PLAST_MODELS_CELL_LAYER_H
#define PLAST_MODELS_CELL_LAYER_H

#include "models/model_internal.h"

typedef enum plast_cell_kind { PLAST_CELL_RNN, PLAST_CELL_LSTM } plast_cell_kind;

typedef struct plast_cell_layer {
    plast_cell_kind kind;
    int64_t I, H, G; /* input and hidden sizes; G = H (rnn) or 4 H (lstm) columns of W */
    plast_act act;   /* rnn: the activation */
    int w, b;        /* parameter indices: W (I + H, G), b (G) */
    plast_linear readout;
    int h, c;        /* state indices: h, and c (lstm; -1 for the rnn) */
} plast_cell_layer;

#endif
