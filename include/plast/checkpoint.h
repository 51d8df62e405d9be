/* plast/checkpoint.h: training checkpoints as safetensors files.
 *
 * Layout of a checkpoint (every name is visible to numpy/PyTorch users):
 *   param/<name>              each parameter
 *   optim/<state>/<name>      each optimizer state buffer per parameter (torch's state names)
 *   __metadata__              "format": "plast-checkpoint", "format_version": "1", "plast_version",
 *                             "optim_kind", "optim_steps", and whatever the caller adds (step, config, RNG state)
 * Loading checks every name, shape and dtype against the model and optimizer at hand; a missing, unexpected or
 * mismatched tensor is an error naming the file and the tensor.
 */
#ifndef PLAST_CHECKPOINT_H
#define PLAST_CHECKPOINT_H

#include "plast/optim.h"
#include "plast/safetensors.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PLAST_CKPT_FORMAT "plast-checkpoint"
#define PLAST_CKPT_FORMAT_VERSION 1

/* A writer with the checkpoint's format metadata set, for callers that add more than plast_ckpt_save does (a
 * learner's state): add parameters and optimizer with the functions below, then plast_st_writer_save. */
PLAST_API plast_st_writer *plast_ckpt_writer_init(plast_err *err);
/* Adds `prefix<name>` for every parameter of p (prefix "param/" in checkpoints). */
PLAST_API plast_status plast_ckpt_add_params(plast_st_writer *w, const char *prefix, const plast_params *p,
                                             plast_err *err);
/* Adds the optimizer's state buffers and its kind and step count. */
PLAST_API plast_status plast_ckpt_add_optim(plast_st_writer *w, plast_optim *o, const plast_params *p,
                                            plast_err *err);
/* Reads `prefix<name>` for every parameter of p. With `strict`, a tensor under prefix that p does not have is an
 * error too. */
PLAST_API plast_status plast_ckpt_read_params(const plast_st_reader *r, const char *prefix, plast_params *p,
                                              int strict, plast_err *err);
/* Reads the optimizer state written by plast_ckpt_add_optim; the optimizer kind and amsgrad setting must match. */
PLAST_API plast_status plast_ckpt_read_optim(const plast_st_reader *r, plast_optim *o, const plast_params *p,
                                             plast_err *err);

/* Convenience: parameters, optimizer (may be NULL) and metadata key/value pairs (n_meta of them), atomically. */
PLAST_API plast_status plast_ckpt_save(const char *path, const plast_params *p, plast_optim *o, int n_meta,
                                       const char *const *meta_keys, const char *const *meta_values,
                                       plast_err *err);
/* Checks the format, then reads parameters (strictly) and the optimizer (if o != NULL) from an open file, whose
 * metadata the caller may read as well, so a checkpoint is parsed once. On error p and o are left as they were. */
PLAST_API plast_status plast_ckpt_read(const plast_st_reader *r, plast_params *p, plast_optim *o, plast_err *err);
/* Convenience: plast_ckpt_read on the file at path. */
PLAST_API plast_status plast_ckpt_load(const char *path, plast_params *p, plast_optim *o, plast_err *err);

#ifdef __cplusplus
}
#endif
#endif
