/* src/engine/conv4.h: Duan et al.'s Conv-4 image encoder, forward and backward by hand (internal).
 *
 * The same function as duan_conv_features on a tape (models/family_duan.c), for the T B images of a trial:
 *   4 x [3x3 convolution (padding 1, no bias) -> batch normalisation -> ReLU -> 2x2 max pooling (floor)]
 *   -> flatten -> ReLU(f proj_w^T + proj_b)
 * with the batch-normalisation statistics of each step's B images (the reference runs the encoder once per step,
 * in train mode). The steps never mix in the encoder, so forward and backward run one step's images at a time,
 * and each convolution a group of them at a time (about 256 rows of patches, gathered into the thread's own buffer
 * and multiplied while in cache). What backward needs is kept from forward instead of recomputed: each layer's
 * input (to rebuild its patches), its convolution outputs with their batch means and inverse standard deviations,
 * and the pooling choices (about 0.35 MB per 28 x 28 image at F = 64). tests/test_engine.c checks outputs and
 * gradients against the tape.
 */
#ifndef PLAST_ENGINE_CONV4_H
#define PLAST_ENGINE_CONV4_H

#include <stddef.h>
#include <stdint.h>

#include "plast/model.h"

typedef struct conv4 conv4;

/* For trials of T steps of B images each, of model m (model.encoder = conv4). */
conv4 *conv4_init(const plast_model *m, int64_t B, int64_t T, plast_err *err);
void conv4_free(conv4 *c);
size_t conv4_bytes(const conv4 *c);
/* the bytes conv4_init would allocate, nothing allocated */
size_t conv4_plan(const plast_model *m, int64_t B, int64_t T);

/* images (T B, S, S, C), rows t B + b -> features (T B, Hf) at row stride ldf; keeps what backward needs. */
void conv4_forward(conv4 *c, plast_params *p, const plast_real *images, plast_real *features, int64_t ldf);

/* Adds d loss / d theta of the encoder's parameters into p's gradients, given d loss / d features (T B, Hf) at
 * row stride ldd, after a conv4_forward on the same parameters and images. */
void conv4_backward(conv4 *c, plast_params *p, const plast_real *dfeatures, int64_t ldd);

#endif
