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
/* Prefixes err's message with printf-style context ("file.json: " + old message); returns err's status. */
plast_status plast_err_prefix(plast_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
