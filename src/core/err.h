/* src/core/err.h: filling a plast_err (internal). */
#ifndef PLAST_CORE_ERR_H
#define PLAST_CORE_ERR_H

#include <stdarg.h>

#include "plast/base.h"

/* Sets err (if non-NULL) to status s with a printf-style message; returns s, so callers can write
 * `return plast_err_set(err, PLAST_ERR_IO, "%s: cannot open", path);`. */
plast_status plast_err_set(plast_err *err, plast_status s, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Sets err to PLAST_ERR_CONFIG with "<section>: key '<key>': <message>" (the configuration errors of a section). */
plast_status plast_err_config_key(plast_err *err, const char *section, const char *key, const char *fmt, va_list ap);
/* Prefixes err's message (if err is non-NULL) with printf-style context ("file.json: " + old message); returns s,
 * the status the failed call returned, so that `return plast_err_prefix(err, s, "...")` is right with err == NULL. */
plast_status plast_err_prefix(plast_err *err, plast_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The status a failed call reported in err, or `fallback` when err is NULL (or holds no error): for calls that
 * return NULL on failure, `if (!x) return plast_err_status(err, PLAST_ERR_NOMEM);`. */
static inline plast_status plast_err_status(const plast_err *err, plast_status fallback) {
    return err && err->status != PLAST_OK ? err->status : fallback;
}

#endif
