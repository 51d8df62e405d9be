/* src/cli/plot_chart.c: a line chart (axes with round ticks, linear or log y, shaded bands, a dashed reference
 * line, a legend) and the small CSV reader the plots read run files with. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/plot.h"
#include "core/err.h"
#include "core/fileio.h"

enum { W = 960, H = 560, LEFT = 100, RIGHT = 30, TOP = 56, BOTTOM = 64, FONT = 2 };

static const rgb WHITE = {255, 255, 255}, BLACK = {0, 0, 0}, GRID = {225, 225, 225}, GREY = {110, 110, 110};
/* matplotlib's tab10 */
static const rgb PALETTE[10] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},  {214, 39, 40},   {148, 103, 189},
                                {140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207}};

typedef struct axes {
    double x0, x1, y0, y1; /* data range (y in log10 units when logy) */
    int logy;
} axes;

static double ty(const axes *a, double y) { return a->logy ? log10(y) : y; }
static double px(const axes *a, double x) { return LEFT + (x - a->x0) / (a->x1 - a->x0) * (W - LEFT - RIGHT); }
static double py(const axes *a, double y) {
    return H - BOTTOM - (ty(a, y) - a->y0) / (a->y1 - a->y0) * (H - TOP - BOTTOM);
}

static int usable(const axes *a, double y) { return isfinite(y) && (!a->logy || y > 0); }

/* the range of every finite value of the series */
static void data_range(const chart *ch, int n, const chart_series *s, double *xmin, double *xmax, double *ymin,
                       double *ymax, int positive_only) {
    *xmin = *ymin = INFINITY, *xmax = *ymax = -INFINITY;
    for (int k = 0; k < n; k++)
        for (int i = 0; i < s[k].n; i++) {
            const double v[3] = {s[k].y[i], s[k].lo ? s[k].lo[i] : NAN, s[k].hi ? s[k].hi[i] : NAN};
            if (!isfinite(s[k].x[i])) continue;
            for (int j = 0; j < 3; j++) {
                if (!isfinite(v[j]) || (positive_only && v[j] <= 0)) continue;
                *xmin = fmin(*xmin, s[k].x[i]), *xmax = fmax(*xmax, s[k].x[i]);
                *ymin = fmin(*ymin, v[j]), *ymax = fmax(*ymax, v[j]);
            }
        }
    if (isfinite(ch->hline) && (!positive_only || ch->hline > 0))
        *ymin = fmin(*ymin, ch->hline), *ymax = fmax(*ymax, ch->hline);
}

static double nice_step(double range, int target) {
    double raw = range / target, mag = pow(10, floor(log10(raw))), f = raw / mag;
    return mag * (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10);
}

static void fmt_tick(double v, char *buf, size_t cap) {
    if (fabs(v) < 1e-12) v = 0;
    snprintf(buf, cap, "%.4g", v);
}

static void draw_axes(canvas *c, const axes *a, const chart *ch) {
    char lab[32];
    /* x ticks */
    double step = nice_step(a->x1 - a->x0, 6);
    for (double x = ceil(a->x0 / step) * step; x <= a->x1 + 1e-9 * step; x += step) {
        double X = px(a, x);
        canvas_line(c, X, TOP, X, H - BOTTOM, 1, 0, GRID);
        fmt_tick(x, lab, sizeof lab);
        canvas_text(c, (int)X - canvas_text_width(lab, FONT) / 2, H - BOTTOM + 8, lab, FONT, BLACK);
    }
    /* y ticks: round numbers, or powers of ten (with 2 and 5 between when few decades show) */
    if (a->logy) {
        int few = a->y1 - a->y0 < 2.5;
        for (int e = (int)floor(a->y0); e <= (int)ceil(a->y1); e++)
            for (int m = 1; m <= 5; m++) {
                if (m != 1 && (!few || (m != 2 && m != 5))) continue;
                double v = m * pow(10, e);
                if (log10(v) < a->y0 - 1e-9 || log10(v) > a->y1 + 1e-9) continue;
                double Y = py(a, v);
                canvas_line(c, LEFT, Y, W - RIGHT, Y, 1, 0, GRID);
                fmt_tick(v, lab, sizeof lab);
                canvas_text(c, LEFT - 8 - canvas_text_width(lab, FONT), (int)Y - 7, lab, FONT, BLACK);
            }
    } else {
        double ys = nice_step(a->y1 - a->y0, 5);
        for (double y = ceil(a->y0 / ys) * ys; y <= a->y1 + 1e-9 * ys; y += ys) {
            double Y = py(a, y);
            canvas_line(c, LEFT, Y, W - RIGHT, Y, 1, 0, GRID);
            fmt_tick(y, lab, sizeof lab);
            canvas_text(c, LEFT - 8 - canvas_text_width(lab, FONT), (int)Y - 7, lab, FONT, BLACK);
        }
    }
    canvas_line(c, LEFT, H - BOTTOM, W - RIGHT, H - BOTTOM, 2, 0, BLACK);
    canvas_line(c, LEFT, TOP, LEFT, H - BOTTOM, 2, 0, BLACK);
    if (ch->title) canvas_text(c, (W - canvas_text_width(ch->title, FONT)) / 2, 14, ch->title, FONT, BLACK);
    if (ch->xlabel)
        canvas_text(c, LEFT + (W - LEFT - RIGHT - canvas_text_width(ch->xlabel, FONT)) / 2, H - 28, ch->xlabel, FONT,
                    BLACK);
    if (ch->ylabel) {
        char yl[96];
        snprintf(yl, sizeof yl, "%s%s", ch->ylabel, a->logy ? " (log scale)" : "");
        canvas_text(c, 10, TOP - 24, yl, FONT, BLACK);
    }
}

/* the band between lo and hi, filled column by column between consecutive points */
static void draw_band(canvas *c, const axes *a, const chart_series *s, rgb col) {
    for (int i = 0; i + 1 < s->n; i++) {
        double xa = s->x[i], xb = s->x[i + 1];
        if (!isfinite(xa) || !isfinite(xb) || xb <= xa) continue;
        if (!usable(a, s->lo[i]) || !usable(a, s->hi[i]) || !usable(a, s->lo[i + 1]) || !usable(a, s->hi[i + 1]))
            continue;
        int X0 = (int)lround(px(a, xa)), X1 = (int)lround(px(a, xb));
        for (int X = X0; X < X1 || (X == X0 && X1 == X0); X++) {
            double f = X1 > X0 ? (double)(X - X0) / (X1 - X0) : 0;
            double lo = py(a, s->lo[i]) * (1 - f) + py(a, s->lo[i + 1]) * f;
            double hi = py(a, s->hi[i]) * (1 - f) + py(a, s->hi[i + 1]) * f;
            canvas_rect_blend(c, X, (int)lround(fmin(lo, hi)), X + 1, (int)lround(fmax(lo, hi)) + 1, col, 0.22);
        }
    }
}

static void draw_series(canvas *c, const axes *a, const chart_series *s, rgb col) {
    int prev = -1, drawn = 0;
    for (int i = 0; i < s->n; i++) {
        if (!isfinite(s->x[i]) || !usable(a, s->y[i])) continue;
        if (prev >= 0) canvas_line(c, px(a, s->x[prev]), py(a, s->y[prev]), px(a, s->x[i]), py(a, s->y[i]), 3, 0, col);
        prev = i, drawn++;
    }
    if (drawn == 1) /* a single point: a dot */
        canvas_rect(c, (int)px(a, s->x[prev]) - 3, (int)py(a, s->y[prev]) - 3, (int)px(a, s->x[prev]) + 4,
                    (int)py(a, s->y[prev]) + 4, col);
}

/* how much of the lines (points along them, every few pixels) falls in the box [x0, x0 + bw) x [y0, y0 + bh) */
static int ink_in_box(const axes *a, int n, const chart_series *s, int x0, int y0, int bw, int bh) {
    int count = 0;
    for (int k = 0; k < n; k++) {
        int prev = -1;
        for (int i = 0; i < s[k].n; i++) {
            if (!isfinite(s[k].x[i]) || !usable(a, s[k].y[i])) continue;
            double xa = px(a, s[k].x[i]), ya = py(a, s[k].y[i]);
            double xb = prev >= 0 ? px(a, s[k].x[prev]) : xa, yb = prev >= 0 ? py(a, s[k].y[prev]) : ya;
            int pieces = 1 + (int)(hypot(xb - xa, yb - ya) / 4);
            for (int j = 0; j < pieces; j++) {
                double f = (double)j / pieces, X = xa + (xb - xa) * f, Y = ya + (yb - ya) * f;
                count += X >= x0 && X < x0 + bw && Y >= y0 && Y < y0 + bh;
            }
            prev = i;
        }
    }
    return count;
}

/* the legend where it hides the least of the lines: a corner, or the middle of an edge (top right when that is as
 * good) */
static void draw_legend(canvas *c, const axes *a, const chart *ch, int n, const chart_series *s) {
    int wmax = 0, rows = n + (isfinite(ch->hline) && ch->hline_label ? 1 : 0);
    for (int k = 0; k < n; k++) wmax = fmax(wmax, canvas_text_width(s[k].name ? s[k].name : "", FONT));
    if (rows > n) wmax = fmax(wmax, canvas_text_width(ch->hline_label, FONT));
    int bw = wmax + 56, bh = rows * 22 + 10, x0 = 0, y0 = 0;
    const int xs[3] = {W - RIGHT - bw - 10, LEFT + 10, (LEFT + W - RIGHT - bw) / 2},
              ys[3] = {TOP + 10, H - BOTTOM - bh - 10, (TOP + H - BOTTOM - bh) / 2};
    for (int k = 0, best = -1; k < 9; k++) {
        int ink = ink_in_box(a, n, s, xs[k % 3], ys[k / 3], bw, bh);
        if (best < 0 || ink < best) best = ink, x0 = xs[k % 3], y0 = ys[k / 3];
    }
    canvas_rect_blend(c, x0, y0, x0 + bw, y0 + bh, WHITE, 0.85);
    for (int k = 0; k < rows; k++) {
        int y = y0 + 8 + 22 * k;
        int is_h = k == n;
        rgb col = is_h ? GREY : PALETTE[k % 10];
        canvas_line(c, x0 + 8, y + 7, x0 + 38, y + 7, is_h ? 2 : 3, is_h ? 5 : 0, col);
        canvas_text(c, x0 + 46, y, is_h ? ch->hline_label : (s[k].name ? s[k].name : ""), FONT, BLACK);
    }
}

int chart_png(const char *path, const chart *ch, int n, const chart_series *s, plast_err *err) {
    double xmin, xmax, ymin, ymax;
    data_range(ch, n, s, &xmin, &xmax, &ymin, &ymax, 0);
    if (!isfinite(xmin) || !isfinite(ymin)) {
        plast_err_set(err, PLAST_ERR_STATE, "%s: nothing to plot yet", path);
        return -1;
    }
    axes a = {xmin, xmax, ymin, ymax, 0};
    double pmin, pmax, dummy0, dummy1;
    data_range(ch, n, s, &dummy0, &dummy1, &pmin, &pmax, 1);
    a.logy = ch->logy == 1 || (ch->logy == -1 && ymin > 0 && pmax / pmin > 10);
    if (a.logy) a.y0 = log10(pmin), a.y1 = log10(pmax);
    if (a.x1 <= a.x0) a.x0 -= 0.5, a.x1 += 0.5;
    double pad = a.y1 > a.y0 ? 0.06 * (a.y1 - a.y0) : 0.5 * (fabs(a.y0) > 0 ? fabs(a.y0) : 1);
    a.y0 -= pad, a.y1 += pad;
    canvas c;
    if (canvas_init(&c, W, H, WHITE) != 0) {
        plast_err_set(err, PLAST_ERR_NOMEM, "%s: out of memory", path);
        return -1;
    }
    draw_axes(&c, &a, ch);
    for (int k = 0; k < n; k++)
        if (s[k].lo && s[k].hi) draw_band(&c, &a, &s[k], PALETTE[k % 10]);
    if (isfinite(ch->hline) && usable(&a, ch->hline))
        canvas_line(&c, LEFT, py(&a, ch->hline), W - RIGHT, py(&a, ch->hline), 2, 8, GREY);
    for (int k = 0; k < n; k++) draw_series(&c, &a, &s[k], PALETTE[k % 10]);
    draw_legend(&c, &a, ch, n, s);
    int rc = canvas_write_png(&c, path, err);
    canvas_free(&c);
    return rc;
}

/* ---- CSV ----------------------------------------------------------------------------------------------------- */

void csv_free(csv_table *t) {
    for (int k = 0; t->names && k < t->cols; k++) free(t->names[k]);
    free(t->names);
    free(t->data);
    memset(t, 0, sizeof *t);
}

int csv_col(const csv_table *t, const char *name) {
    for (int k = 0; k < t->cols; k++)
        if (strcmp(t->names[k], name) == 0) return k;
    return -1;
}

double *csv_column(const csv_table *t, int k) {
    double *v = malloc(sizeof(double) * (size_t)(t->rows ? t->rows : 1));
    for (int i = 0; v && i < t->rows; i++) v[i] = t->data[(size_t)i * (size_t)t->cols + (size_t)k];
    return v;
}

int csv_read(const char *path, csv_table *t, plast_err *err) {
    memset(t, 0, sizeof *t);
    unsigned char *buf;
    size_t size;
    if (plast_file_read_all(path, &buf, &size, err) != PLAST_OK) return -1;
    char *save = NULL, *line = strtok_r((char *)buf, "\n", &save);
    int ok = line != NULL;
    if (ok) { /* header */
        t->cols = 1;
        for (const char *p = line; *p; p++) t->cols += *p == ',';
        t->names = calloc((size_t)t->cols, sizeof *t->names);
        ok = t->names != NULL;
        char *f = line;
        for (int k = 0; ok && k < t->cols; k++) {
            char *comma = strchr(f, ',');
            if (comma) *comma = '\0';
            ok = (t->names[k] = strdup(f)) != NULL;
            f = comma ? comma + 1 : f + strlen(f);
        }
    }
    int cap = 0;
    while (ok && (line = strtok_r(NULL, "\n", &save))) {
        if (t->rows == cap) {
            cap = cap ? 2 * cap : 64;
            double *d = realloc(t->data, sizeof(double) * (size_t)cap * (size_t)t->cols);
            if (!(ok = d != NULL)) break;
            t->data = d;
        }
        double *row = t->data + (size_t)t->rows * (size_t)t->cols;
        char *f = line;
        for (int k = 0; k < t->cols; k++) {
            char *end;
            errno = 0;
            double v = strtod(f, &end);
            row[k] = end == f || errno ? NAN : v;
            char *comma = strchr(f, ',');
            f = comma ? comma + 1 : f + strlen(f);
        }
        t->rows++;
    }
    free(buf);
    if (!ok) {
        csv_free(t);
        plast_err_set(err, PLAST_ERR_FORMAT, "%s: empty, or out of memory reading it", path);
        return -1;
    }
    return 0;
}
