/* src/core/fileio.c: whole-file reads and crash-safe writes. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "core/fileio.h"

#define MAX_FILE ((size_t)1 << 36)

plast_status plast_file_read_all(const char *path, unsigned char **buf, size_t *size, plast_err *err) {
    *buf = NULL;
    *size = 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0) return plast_err_set(err, PLAST_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return plast_err_set(err, PLAST_ERR_IO, "%s: not a regular file", path);
    }
    if ((size_t)st.st_size > MAX_FILE) {
        close(fd);
        return plast_err_set(err, PLAST_ERR_IO, "%s: %lld bytes is too large", path, (long long)st.st_size);
    }
    size_t n = (size_t)st.st_size;
    unsigned char *b = malloc(n + 1);
    if (!b) {
        close(fd);
        return plast_err_set(err, PLAST_ERR_NOMEM, "%s: out of memory for %zu bytes", path, n);
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, b + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            int e = errno;
            free(b);
            close(fd);
            return plast_err_set(err, PLAST_ERR_IO, "%s: read failed after %zu of %zu bytes: %s", path, got, n,
                                 r < 0 ? strerror(e) : "unexpected end of file");
        }
        got += (size_t)r;
    }
    close(fd);
    b[n] = '\0';
    *buf = b;
    *size = n;
    return PLAST_OK;
}

static int write_all(int fd, const void *p, size_t n) {
    const unsigned char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return 0;
        c += w;
        n -= (size_t)w;
    }
    return 1;
}

/* fsync the folder holding path, so the rename itself survives a crash. */
static void sync_parent(const char *path) {
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        dir[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

plast_status plast_file_write_atomic(const char *path, int n, const void *const *parts, const size_t *sizes,
                                     plast_err *err) {
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path) >= (int)sizeof tmp)
        return plast_err_set(err, PLAST_ERR_IO, "%s: path too long", path);
    int fd = mkstemp(tmp);
    if (fd < 0) return plast_err_set(err, PLAST_ERR_IO, "%s: cannot create a temporary file: %s", path, strerror(errno));
    int ok = 1;
    for (int i = 0; i < n && ok; i++) ok = sizes[i] == 0 || write_all(fd, parts[i], sizes[i]);
    int e = errno;
    if (ok && fsync(fd) != 0) ok = 0, e = errno;
    if (ok && fchmod(fd, 0644) != 0) ok = 0, e = errno;
    if (close(fd) != 0 && ok) ok = 0, e = errno;
    if (ok && rename(tmp, path) != 0) ok = 0, e = errno;
    if (!ok) {
        unlink(tmp);
        return plast_err_set(err, PLAST_ERR_IO, "%s: write failed: %s", path, strerror(e));
    }
    sync_parent(path);
    return PLAST_OK;
}
