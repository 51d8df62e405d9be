/* src/cli/plot.h: PNG line charts for run directories, drawn in-process: an RGB canvas (plot_canvas.c), a bitmap
 * font (plot_font.c) and a chart with axes, bands, a reference line and a legend (plot_chart.c). */
#ifndef PLAST_CLI_PLOT_H
#define PLAST_CLI_PLOT_H

#include "plast.h"

typedef struct rgb {
    unsigned char r, g, b;
} rgb;

typedef struct canvas {
    int w, h;
    unsigned char *px; /* (h, w, 3) */
} canvas;

int canvas_init(canvas *c, int w, int h, rgb background); /* 0, or -1 out of memory */
void canvas_free(canvas *c);
/* the rectangle [x0, x1) x [y0, y1), clipped; with alpha < 1 blended over what is there */
void canvas_rect(canvas *c, int x0, int y0, int x1, int y1, rgb col);
void canvas_rect_blend(canvas *c, int x0, int y0, int x1, int y1, rgb col, double alpha);
/* a line of the given width (pixels); dashed with dash > 0 (pattern length in pixels) */
void canvas_line(canvas *c, double x0, double y0, double x1, double y1, int width, int dash, rgb col);
/* text with its top-left corner at (x, y); scale 2 gives about 14-pixel capitals */
void canvas_text(canvas *c, int x, int y, const char *text, int scale, rgb col);
int canvas_text_width(const char *text, int scale);
/* Writes the canvas as a PNG, atomically (a temporary file renamed over path). */
int canvas_write_png(const canvas *c, const char *path, plast_err *err);

typedef struct chart_series {
    const char *name;
    int n;
    const double *x, *y;    /* points with a NaN coordinate are skipped */
    const double *lo, *hi;  /* a shaded band around the line, or NULL */
} chart_series;

typedef struct chart {
    const char *title, *xlabel, *ylabel;
    double hline;           /* a dashed reference line (chance), or NaN */
    const char *hline_label;
    int logy;               /* 1 log scale, 0 linear, -1 log when the values span more than a decade */
} chart;

int chart_png(const char *path, const chart *ch, int n, const chart_series *s, plast_err *err);

/* A CSV file with a header row, as columns of doubles (an empty or unparsable field is NaN). */
typedef struct csv_table {
    int rows, cols;
    char **names; /* (cols) */
    double *data; /* (rows, cols) */
} csv_table;

int csv_read(const char *path, csv_table *t, plast_err *err); /* 0, or -1 with the reason */
void csv_free(csv_table *t);
int csv_col(const csv_table *t, const char *name); /* index, or -1 */
/* column k as a new array (rows values); NULL out of memory */
double *csv_column(const csv_table *t, int k);

#endif
