/* src/models/family_duan.h: the Duan family's private layout, shared with its fast engine (internal). */
#ifndef PLAST_MODELS_FAMILY_DUAN_H
#define PLAST_MODELS_FAMILY_DUAN_H

#include <stdint.h>

typedef struct duan_layer {
    int w, b;         /* parameter indices of the slow weight and bias */
    int aw, ab;       /* alpha (plastic learning rates), -1 when not learned */
    int pw, pb;       /* state indices of the plastic weight and bias, -1 without plasticity */
    int64_t in, out;
} duan_layer;

typedef struct duan_priv {
    int plastic, lstm, modulated, relu_cell;
    int64_t D;
    duan_layer enc, hh, ih, out;
    int out_weight; /* w of the internal loss */
    int h, c;       /* state indices (c = -1 for the RNN) */
} duan_priv;

#endif
