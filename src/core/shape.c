/* src/core/shape.c: shape arithmetic. */
#include <stdio.h>

#include "plast/shape.h"

int64_t plast_shape_numel(plast_shape s) {
    if (s.ndim < 0 || s.ndim > PLAST_MAX_DIMS) return -1;
    int64_t n = 1;
    for (int i = 0; i < s.ndim; i++) {
        if (s.d[i] < 0) return -1;
        if (s.d[i] != 0 && n > INT64_MAX / s.d[i]) return -1;
        n *= s.d[i];
    }
    return n;
}

int plast_shape_equal(plast_shape a, plast_shape b) {
    if (a.ndim != b.ndim) return 0;
    for (int i = 0; i < a.ndim; i++)
        if (a.d[i] != b.d[i]) return 0;
    return 1;
}

char *plast_shape_format(plast_shape s, char *buf, size_t n) {
    if (!buf || n == 0) return buf;
    size_t used = 0;
    int w = snprintf(buf, n, "(");
    used = w > 0 ? (size_t)w : 0;
    for (int i = 0; i < s.ndim && i < PLAST_MAX_DIMS && used < n; i++) {
        w = snprintf(buf + used, n - used, i ? ", %lld" : "%lld", (long long)s.d[i]);
        if (w > 0) used += (size_t)w;
    }
    if (used < n) snprintf(buf + used, n - used, s.ndim == 1 ? ",)" : ")");
    return buf;
}
