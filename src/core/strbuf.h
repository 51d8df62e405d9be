/* src/core/strbuf.h: a growable text buffer (internal). Each append returns 0 when memory runs out; the buffer then
 * stays as it was, so a chain of appends can be checked once at the end. */
#ifndef PLAST_CORE_STRBUF_H
#define PLAST_CORE_STRBUF_H

#include <stddef.h>

typedef struct plast_strbuf {
    char *buf;  /* NUL-terminated once anything has been appended */
    size_t len; /* characters, without the terminator */
    size_t cap;
} plast_strbuf;

void plast_strbuf_init(plast_strbuf *b);
void plast_strbuf_free(plast_strbuf *b);
int plast_strbuf_putc(plast_strbuf *b, char c);
int plast_strbuf_puts(plast_strbuf *b, const char *s);
int plast_strbuf_printf(plast_strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The shortest "%.Ng" spelling of v that reads back as exactly v (0.1, not 0.10000000000000001); returns buf. */
char *plast_format_double(double v, char *buf, size_t cap);

#endif
