/* plast/base.h: version, the real type, status codes and error messages.
 *
 * Every fallible plast function returns a plast_status and, where it can say more, fills a caller-owned
 * plast_err with a readable message that names the file, key, tensor or value at fault. The library never
 * prints, exits or aborts: the caller decides what to do with the message.
 */
#ifndef PLAST_BASE_H
#define PLAST_BASE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PLAST_VERSION_MAJOR 0
#define PLAST_VERSION_MINOR 1
#define PLAST_VERSION_PATCH 0
#define PLAST_VERSION_STRING "0.1.0"
/* One integer that grows with every release: 10000*major + 100*minor + patch. */
#define PLAST_VERSION (PLAST_VERSION_MAJOR * 10000 + PLAST_VERSION_MINOR * 100 + PLAST_VERSION_PATCH)

#if defined(_WIN32)
#define PLAST_API
#else
#define PLAST_API __attribute__((visibility("default")))
#endif

/* The floating-point type of every tensor. float32 by default; the plast64 variant of the library (built with
 * PLAST_DOUBLE defined, used by the gradient tests) works in float64. Define PLAST_DOUBLE before including plast.h
 * when linking against plast64; plast_real_bytes() tells which variant was linked. */
#ifdef PLAST_DOUBLE
typedef double plast_real;
#else
typedef float plast_real;
#endif

PLAST_API const char *plast_version(void); /* "0.1.0" */
PLAST_API int plast_real_bytes(void);      /* sizeof(plast_real) of the linked library: 4 or 8 */

typedef enum plast_status {
    PLAST_OK = 0,
    PLAST_ERR_INVALID_ARG, /* a NULL or out-of-range argument */
    PLAST_ERR_SHAPE,       /* tensor shapes do not fit the operation */
    PLAST_ERR_NOMEM,       /* an allocation failed or a size overflowed */
    PLAST_ERR_IO,          /* a file could not be opened, read, written or renamed */
    PLAST_ERR_FORMAT,      /* a file is corrupt, truncated or not what it claims to be */
    PLAST_ERR_MISMATCH,    /* a file is valid but does not match what the caller expects */
    PLAST_ERR_CONFIG,      /* a configuration key or value is wrong */
    PLAST_ERR_STATE,       /* a call out of order, or on an object already in error */
    PLAST_ERR_NUMERIC,     /* a NaN or infinity where a finite number is required */
    PLAST_STATUS_COUNT
} plast_status;

PLAST_API const char *plast_status_name(plast_status s); /* "ok", "shape error", ... */

#define PLAST_ERR_MSG_MAX 512

/* A caller-owned error report. Functions that take a `plast_err *err` accept NULL when the caller only wants
 * the status code. */
typedef struct plast_err {
    plast_status status;
    char msg[PLAST_ERR_MSG_MAX];
} plast_err;

PLAST_API void plast_err_clear(plast_err *err);

#ifdef __cplusplus
}
#endif
#endif
