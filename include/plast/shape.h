/* plast/shape.h: dense tensor shapes and non-owning tensor views.
 *
 * Tensors are dense and row-major (the last axis varies fastest), with at most PLAST_MAX_DIMS axes. A shape with
 * ndim == 0 is a scalar holding one element. Dimension letters used in comments across plast:
 *   B batch, T time steps, I input size, H hidden size, O task outputs, D all outputs, C classes.
 */
#ifndef PLAST_SHAPE_H
#define PLAST_SHAPE_H

#include "plast/base.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PLAST_MAX_DIMS 4

typedef struct plast_shape {
    int ndim;                   /* 0..PLAST_MAX_DIMS */
    int64_t d[PLAST_MAX_DIMS];  /* d[0..ndim-1]; entries past ndim are 0 */
} plast_shape;

#define PLAST_SHAPE0() ((plast_shape){0, {0, 0, 0, 0}})
#define PLAST_SHAPE1(a) ((plast_shape){1, {(a), 0, 0, 0}})
#define PLAST_SHAPE2(a, b) ((plast_shape){2, {(a), (b), 0, 0}})
#define PLAST_SHAPE3(a, b, c) ((plast_shape){3, {(a), (b), (c), 0}})
#define PLAST_SHAPE4(a, b, c, e) ((plast_shape){4, {(a), (b), (c), (e)}})

/* Number of elements (1 for a scalar); -1 if the shape is invalid (negative size, ndim out of range, overflow). */
PLAST_API int64_t plast_shape_numel(plast_shape s);
PLAST_API int plast_shape_equal(plast_shape a, plast_shape b);
/* Writes "(3, 4)" (or "()" for a scalar) into buf; returns buf. */
PLAST_API char *plast_shape_format(plast_shape s, char *buf, size_t n);

/* A non-owning view of a dense tensor: the caller keeps `data` alive. */
typedef struct plast_tensor {
    plast_shape shape;
    plast_real *data;
} plast_tensor;

#ifdef __cplusplus
}
#endif
#endif
