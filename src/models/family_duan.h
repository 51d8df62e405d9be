/* src/models/family_duan.h: the Duan family's private layout, shared with its fast engine (internal). */
#ifndef PLAST_MODELS_FAMILY_DUAN_H
#define PLAST_MODELS_FAMILY_DUAN_H

#include <stdint.h>

#include "plast/tape.h"

typedef struct duan_layer {
    int w, b;         /* parameter indices of the slow weight and bias */
    int aw, ab;       /* alpha (plastic learning rates), -1 when not learned */
    int pw, pb;       /* state indices of the plastic weight and bias, -1 without plasticity */
    int64_t in, out;
} duan_layer;

/* The conv4 image encoder (Snell et al.'s Conv-4, as the reference's CNNtoRNN): 4 x [3x3 convolution without
 * bias, batch normalisation, ReLU, 2x2 max pooling], a linear projection to H - L and ReLU. */
typedef struct duan_conv {
    int64_t channels, size, label; /* input images C x S x S (channels last), then L label inputs */
    int64_t features;              /* flattened CNN output */
    int w[4], gamma[4], beta[4];   /* parameter indices */
    int proj_w, proj_b;
} duan_conv;

typedef struct duan_priv {
    int plastic, lstm, modulated, relu_cell;
    int conv; /* the conv4 encoder instead of the linear one (enc unused) */
    int64_t D;
    duan_conv cnn;
    duan_layer enc, hh, ih, out;
    int out_weight; /* w of the internal loss */
    int h, c;       /* state indices (c = -1 for the RNN) */
} duan_priv;

/* The conv4 encoder on a tape: images (N, S, S, C) -> features (N, H - L) after the projection and ReLU, the batch
 * normalisation statistics taken over each of `groups` equal blocks of the N images (the time steps of a trial). */
struct plast_model;
plast_node *duan_conv_features(plast_tape *t, const struct plast_model *m, plast_node *const *param, plast_node *img,
                               int64_t groups);

#endif
