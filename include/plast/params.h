/* plast/params.h: one buffer of named parameters, with gradients in the same layout.
 *
 * A plast_params holds every trainable tensor of a model in one contiguous value buffer; each parameter is a named
 * view (name, shape, offset). The gradient buffer and every optimizer state buffer use the very same layout, so
 * clipping and optimizer updates are flat loops and checkpoints write each view under its name. The layout is
 * fixed at creation: sizes are computed from the specs first, then everything is one allocation.
 */
#ifndef PLAST_PARAMS_H
#define PLAST_PARAMS_H

#include "plast/comm.h"
#include "plast/shape.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PLAST_PARAM_NAME_MAX 64

typedef struct plast_params plast_params;

typedef struct plast_param_spec {
    const char *name; /* unique, at most PLAST_PARAM_NAME_MAX-1 bytes, e.g. "rnn.h_fc.w.param" */
    plast_shape shape;
} plast_param_spec;

/* One allocation holding the names, the values (zeroed) and the gradients (zeroed). */
PLAST_API plast_params *plast_params_init(int n, const plast_param_spec *specs, plast_err *err);
PLAST_API void plast_params_free(plast_params *p);

PLAST_API int plast_params_count(const plast_params *p);
PLAST_API int64_t plast_params_numel(const plast_params *p); /* total elements over all parameters */
PLAST_API int plast_params_find(const plast_params *p, const char *name); /* index, or -1 */
PLAST_API const char *plast_params_name(const plast_params *p, int i);
PLAST_API plast_shape plast_params_shape(const plast_params *p, int i);
PLAST_API int64_t plast_params_offset(const plast_params *p, int i); /* element offset into the flat buffers */

PLAST_API plast_real *plast_params_values(plast_params *p);   /* flat, numel elements */
PLAST_API plast_real *plast_params_grads(plast_params *p);    /* flat, same layout */
PLAST_API plast_real *plast_params_value(plast_params *p, int i); /* the view of parameter i */
PLAST_API plast_real *plast_params_grad(plast_params *p, int i);
PLAST_API const plast_real *plast_params_values_const(const plast_params *p);

PLAST_API void plast_params_zero_grad(plast_params *p);
/* Copies values (not gradients) from src, which must have the same names and shapes in the same order. */
PLAST_API plast_status plast_params_copy_values(plast_params *dst, const plast_params *src, plast_err *err);

/* Data-parallel training: sums every process's gradient and n_extra statistics, each times scale, over comm in
 * one in-place allreduce of doubles (scratch: numel + n_extra of them, the caller's), writing the sums back; with
 * with_grads = 0 only the statistics. */
PLAST_API plast_status plast_params_allreduce_grads(plast_params *p, const plast_comm *comm, int with_grads,
                                                    double scale, double *extra, int n_extra, double *scratch,
                                                    plast_err *err);

#ifdef __cplusplus
}
#endif
#endif
