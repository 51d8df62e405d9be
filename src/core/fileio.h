/* src/core/fileio.h: whole-file reads and atomic writes (internal). */
#ifndef PLAST_CORE_FILEIO_H
#define PLAST_CORE_FILEIO_H

#include <stddef.h>

#include "plast/base.h"

/* Reads the whole file into a new malloc'd buffer (NUL-terminated, so text can be parsed in place); *size excludes
 * the terminator. */
plast_status plast_file_read_all(const char *path, unsigned char **buf, size_t *size, plast_err *err);

/* Writes the concatenation of n parts to path atomically: a temporary file in the same folder, fsync, rename over
 * path, fsync of the folder. On failure path is untouched and the temporary file removed. */
plast_status plast_file_write_atomic(const char *path, int n, const void *const *parts, const size_t *sizes,
                                     plast_err *err);

#endif
