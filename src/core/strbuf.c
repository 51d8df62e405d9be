/* src/core/strbuf.c: a growable text buffer. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"

void plast_strbuf_init(plast_strbuf *b) {
    b->buf = NULL;
    b->len = b->cap = 0;
}

void plast_strbuf_free(plast_strbuf *b) {
    free(b->buf);
    plast_strbuf_init(b);
}

static int reserve(plast_strbuf *b, size_t extra) {
    if (b->len + extra + 1 <= b->cap) return 1;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) cap *= 2;
    char *p = realloc(b->buf, cap);
    if (!p) return 0;
    b->buf = p;
    b->cap = cap;
    return 1;
}

int plast_strbuf_putc(plast_strbuf *b, char c) {
    if (!reserve(b, 1)) return 0;
    b->buf[b->len++] = c;
    b->buf[b->len] = '\0';
    return 1;
}

int plast_strbuf_puts(plast_strbuf *b, const char *s) {
    size_t n = strlen(s);
    if (!reserve(b, n)) return 0;
    memcpy(b->buf + b->len, s, n + 1);
    b->len += n;
    return 1;
}

int plast_strbuf_printf(plast_strbuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(b, (size_t)n)) return 0;
    va_start(ap, fmt);
    vsnprintf(b->buf + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 1;
}

char *plast_format_double(double v, char *buf, size_t cap) {
    for (int digits = 6; digits <= 17; digits++) {
        snprintf(buf, cap, "%.*g", digits, v);
        if (strtod(buf, NULL) == v) break;
    }
    return buf;
}
