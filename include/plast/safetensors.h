/* plast/safetensors.h: reading and writing safetensors files (named tensors, readable from numpy and PyTorch).
 *
 * Format (huggingface/safetensors): an 8-byte little-endian header length N, N bytes of JSON mapping each tensor
 * name to {"dtype", "shape", "data_offsets": [begin, end]} plus an optional "__metadata__" object of strings, then
 * the raw little-endian tensor bytes, packed without gaps.
 *
 * The reader validates the whole file before handing anything out: header length, JSON syntax, known dtypes,
 * shapes, offsets inside the file and tiling the data section exactly. A truncated or corrupted file gives an
 * error naming the file and the tensor, never a crash. The writer writes atomically: a temporary file in the same
 * folder, fsync, then rename over the target, so a crash leaves either the old file or the new one.
 */
#ifndef PLAST_SAFETENSORS_H
#define PLAST_SAFETENSORS_H

#include "plast/shape.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum plast_dtype {
    PLAST_DTYPE_F64,
    PLAST_DTYPE_F32,
    PLAST_DTYPE_F16,
    PLAST_DTYPE_BF16,
    PLAST_DTYPE_I64,
    PLAST_DTYPE_I32,
    PLAST_DTYPE_I16,
    PLAST_DTYPE_I8,
    PLAST_DTYPE_U8,
    PLAST_DTYPE_BOOL,
    PLAST_DTYPE_COUNT
} plast_dtype;

PLAST_API const char *plast_dtype_name(plast_dtype d); /* the safetensors spelling: "F32", "I64", ... */
PLAST_API size_t plast_dtype_size(plast_dtype d);      /* bytes per element */
/* The dtype plast_real is stored as: F32, or F64 in the plast64 variant. */
PLAST_API plast_dtype plast_dtype_real(void);

/* ---- reader ------------------------------------------------------------------------------------------------ */

typedef struct plast_st_reader plast_st_reader;

/* Reads and validates the whole file (one allocation). NULL with err filled on any problem. */
PLAST_API plast_st_reader *plast_st_reader_open(const char *path, plast_err *err);
PLAST_API void plast_st_reader_close(plast_st_reader *r);

PLAST_API const char *plast_st_reader_path(const plast_st_reader *r);
PLAST_API int plast_st_reader_count(const plast_st_reader *r);
PLAST_API int plast_st_reader_find(const plast_st_reader *r, const char *name); /* index, or -1 */
PLAST_API const char *plast_st_reader_name(const plast_st_reader *r, int i);
PLAST_API plast_dtype plast_st_reader_dtype(const plast_st_reader *r, int i);
/* The tensor's rank (safetensors allows any) and its sizes; ndim may exceed PLAST_MAX_DIMS. */
PLAST_API int plast_st_reader_ndim(const plast_st_reader *r, int i);
PLAST_API int64_t plast_st_reader_dim(const plast_st_reader *r, int i, int axis);
PLAST_API int64_t plast_st_reader_numel(const plast_st_reader *r, int i);
/* The raw little-endian bytes of tensor i (plast_dtype_size * numel of them). */
PLAST_API const void *plast_st_reader_bytes(const plast_st_reader *r, int i);
/* A metadata value, or NULL if the key is absent. */
PLAST_API const char *plast_st_reader_meta(const plast_st_reader *r, const char *key);

/* Copies tensor `name` into dst as plast_real, converting from any floating or integer dtype. The tensor must
 * exist and have exactly the shape `expect`; otherwise an error naming the file, the tensor and both shapes. */
PLAST_API plast_status plast_st_reader_read(const plast_st_reader *r, const char *name, plast_shape expect,
                                            plast_real *dst, plast_err *err);
/* Like plast_st_reader_read but takes whatever shape the file has (up to PLAST_MAX_DIMS axes), reporting it in
 * *shape; dst must hold max_numel elements. */
PLAST_API plast_status plast_st_reader_read_any(const plast_st_reader *r, const char *name, plast_shape *shape,
                                                plast_real *dst, int64_t max_numel, plast_err *err);

/* ---- writer ------------------------------------------------------------------------------------------------ */

typedef struct plast_st_writer plast_st_writer;

PLAST_API plast_st_writer *plast_st_writer_init(plast_err *err);
PLAST_API void plast_st_writer_free(plast_st_writer *w);
/* Adds a tensor. `data` is copied at once; names must be unique. */
PLAST_API plast_status plast_st_writer_add(plast_st_writer *w, const char *name, plast_dtype dtype, int ndim,
                                           const int64_t *dims, const void *data, plast_err *err);
/* Adds a plast_real tensor, stored as plast_dtype_real(). */
PLAST_API plast_status plast_st_writer_add_real(plast_st_writer *w, const char *name, plast_shape shape,
                                                const plast_real *data, plast_err *err);
/* Sets a "__metadata__" string entry (replacing an earlier value for the same key). */
PLAST_API plast_status plast_st_writer_set_meta(plast_st_writer *w, const char *key, const char *value,
                                                plast_err *err);
/* Writes everything added so far to path, atomically. */
PLAST_API plast_status plast_st_writer_save(const plast_st_writer *w, const char *path, plast_err *err);

#ifdef __cplusplus
}
#endif
#endif
