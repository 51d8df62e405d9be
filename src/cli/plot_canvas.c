/* src/cli/plot_canvas.c: an RGB canvas with rectangles, blended fills and lines, written as PNG by stb. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <stb_image_write.h>

#include "cli/plot.h"
#include "core/err.h"
#include "core/strbuf.h"
#include "core/fileio.h"

int canvas_init(canvas *c, int w, int h, rgb bg) {
    c->w = w, c->h = h;
    c->px = malloc((size_t)w * (size_t)h * 3);
    if (!c->px) return -1;
    for (int i = 0; i < w * h; i++) c->px[3 * i] = bg.r, c->px[3 * i + 1] = bg.g, c->px[3 * i + 2] = bg.b;
    return 0;
}

void canvas_free(canvas *c) {
    free(c->px);
    c->px = NULL;
}

void canvas_rect_blend(canvas *c, int x0, int y0, int x1, int y1, rgb col, double alpha) {
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > c->w) x1 = c->w;
    if (y1 > c->h) y1 = c->h;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) {
            unsigned char *p = c->px + 3 * ((size_t)y * (size_t)c->w + (size_t)x);
            p[0] = (unsigned char)lround(alpha * col.r + (1 - alpha) * p[0]);
            p[1] = (unsigned char)lround(alpha * col.g + (1 - alpha) * p[1]);
            p[2] = (unsigned char)lround(alpha * col.b + (1 - alpha) * p[2]);
        }
}

void canvas_rect(canvas *c, int x0, int y0, int x1, int y1, rgb col) { canvas_rect_blend(c, x0, y0, x1, y1, col, 1); }

/* Steps along the longer axis, stamping a width x width square at each point; `dash` alternates drawn and blank
 * runs of that many steps. */
void canvas_line(canvas *c, double x0, double y0, double x1, double y1, int width, int dash, rgb col) {
    double dx = x1 - x0, dy = y1 - y0;
    int n = (int)ceil(fmax(fabs(dx), fabs(dy)));
    if (n < 1) n = 1;
    for (int i = 0; i <= n; i++) {
        if (dash > 0 && (i / dash) % 2 == 1) continue;
        int x = (int)lround(x0 + dx * i / n) - width / 2, y = (int)lround(y0 + dy * i / n) - width / 2;
        canvas_rect(c, x, y, x + width, y + width, col);
    }
}

typedef struct png_sink {
    plast_strbuf b;
    int ok;
} png_sink;

static void append_png(void *ctx, void *data, int size) {
    png_sink *s = ctx;
    for (int i = 0; i < size && s->ok; i++) s->ok = plast_strbuf_putc(&s->b, ((const char *)data)[i]);
}

int canvas_write_png(const canvas *c, const char *path, plast_err *err) {
    png_sink sink = {{NULL, 0, 0}, 1};
    /* stb's deflate level (its one setting, a global of the library): 8 by default spent a fifth of a short run's
     * time compressing two plots; flat-coloured plots shrink almost as well at 2 */
    stbi_write_png_compression_level = 2;
    if (!stbi_write_png_to_func(append_png, &sink, c->w, c->h, 3, c->px, c->w * 3) || !sink.ok || !sink.b.buf) {
        plast_strbuf_free(&sink.b);
        plast_err_set(err, PLAST_ERR_NOMEM, "%s: PNG encoding failed", path);
        return -1;
    }
    const void *parts[1] = {sink.b.buf};
    size_t sizes[1] = {sink.b.len};
    plast_status s = plast_file_write_atomic(path, 1, parts, sizes, err);
    plast_strbuf_free(&sink.b);
    return s == PLAST_OK ? 0 : -1;
}
