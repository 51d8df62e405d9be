/* src/core/status.c: version, status names and error messages. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"

const char *plast_version(void) { return PLAST_VERSION_STRING; }

int plast_real_bytes(void) { return (int)sizeof(plast_real); }

static const char *const STATUS_NAMES[] = {
    [PLAST_OK] = "ok",
    [PLAST_ERR_INVALID_ARG] = "invalid argument",
    [PLAST_ERR_SHAPE] = "shape error",
    [PLAST_ERR_NOMEM] = "out of memory",
    [PLAST_ERR_IO] = "i/o error",
    [PLAST_ERR_FORMAT] = "format error",
    [PLAST_ERR_MISMATCH] = "mismatch",
    [PLAST_ERR_CONFIG] = "configuration error",
    [PLAST_ERR_STATE] = "invalid state",
    [PLAST_ERR_NUMERIC] = "numeric error",
};
_Static_assert(sizeof STATUS_NAMES / sizeof STATUS_NAMES[0] == PLAST_STATUS_COUNT, "a status lacks a name");

const char *plast_status_name(plast_status s) {
    if ((int)s < 0 || s >= PLAST_STATUS_COUNT) return "unknown status";
    return STATUS_NAMES[s];
}

void plast_err_clear(plast_err *err) {
    if (!err) return;
    err->status = PLAST_OK;
    err->msg[0] = '\0';
}

plast_status plast_err_set(plast_err *err, plast_status s, const char *fmt, ...) {
    if (!err) return s;
    err->status = s;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return s;
}

plast_status plast_err_prefix(plast_err *err, plast_status s, const char *fmt, ...) {
    if (!err) return s;
    char prefix[PLAST_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    /* shift the old message right to make room, truncating its tail if the whole does not fit */
    size_t np = strlen(prefix), no = strlen(err->msg);
    if (np > sizeof err->msg - 1) np = sizeof err->msg - 1;
    if (np + no > sizeof err->msg - 1) no = sizeof err->msg - 1 - np;
    memmove(err->msg + np, err->msg, no);
    memcpy(err->msg, prefix, np);
    err->msg[np + no] = '\0';
    return s;
}

plast_status plast_err_config_key(plast_err *err, const char *section, const char *key, const char *fmt, va_list ap) {
    char msg[PLAST_ERR_MSG_MAX];
    vsnprintf(msg, sizeof msg, fmt, ap);
    return plast_err_set(err, PLAST_ERR_CONFIG, "%s: key '%s': %s", section, key, msg);
}
