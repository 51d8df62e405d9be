/* src/cli/plot_font.c: plot labels in stb_easy_font (Sean Barrett, public domain; Debian's libstb-dev), whose quads
 * are filled straight onto a canvas at an integer scale. */
#include <string.h>

#include "cli/plot.h"

/* The header is written for its own style: unused helpers and implicit conversions, not ours to fix. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include <stb_easy_font.h>
#pragma GCC diagnostic pop

#define TEXT_MAX 128 /* a label longer than this is cut */

/* stb_easy_font takes a mutable string; labels are short */
static void copy_label(char *dst, const char *text) {
    size_t n = strlen(text);
    if (n > TEXT_MAX - 1) n = TEXT_MAX - 1;
    memcpy(dst, text, n);
    dst[n] = '\0';
}

int canvas_text_width(const char *text, int scale) {
    char buf[TEXT_MAX];
    copy_label(buf, text);
    return stb_easy_font_width(buf) * scale;
}

void canvas_text(canvas *c, int x, int y, const char *text, int scale, rgb col) {
    char buf[TEXT_MAX];
    copy_label(buf, text);
    /* each quad: 4 vertices of (x, y, z as float, colour as 4 bytes), at most 270 bytes of quads per character */
    float quads[TEXT_MAX * 270 / sizeof(float)];
    int n = stb_easy_font_print(0, 0, buf, NULL, quads, (int)sizeof quads);
    for (int q = 0; q < n; q++) {
        const float *v = quads + 16 * q; /* 4 vertices x 4 floats */
        int x0 = (int)v[0], y0 = (int)v[1], x1 = (int)v[8], y1 = (int)v[9];
        canvas_rect(c, x + x0 * scale, y + y0 * scale, x + x1 * scale, y + y1 * scale, col);
    }
}
