/* src/cli/plot.c: the plots of a run directory (learning curves, eta(t), energy per step, a PPO learner's entropy
 * and clipped fraction) and of a sweep
 * (learning curves and traces per model, mean with a band over seeds), from the runs' CSV files. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/plot.h"
#include "core/err.h"

static int read_run_csv(const char *dir, const char *file, csv_table *t, plast_err *err) {
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    return csv_read(path, t, err);
}

static int run_has_file(const char *dir, const char *file) {
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    return access(path, F_OK) == 0;
}

static int any_finite(const csv_table *t, int k) {
    for (int i = 0; k >= 0 && i < t->rows; i++)
        if (isfinite(t->data[(size_t)i * (size_t)t->cols + (size_t)k])) return 1;
    return 0;
}

static int column_or_fail(const csv_table *t, const char *name, const char *file, plast_err *err) {
    int k = csv_col(t, name);
    if (k < 0) plast_err_set(err, PLAST_ERR_FORMAT, "%s: no column '%s'", file, name);
    return k;
}

/* a chart of columns ys of one table against column x; the band is ys[0] +- band column when band != NULL */
static int plot_columns(const char *dir, const char *png, const csv_table *t, const char *x, int n,
                        const char *const *ys, const char *const *names, const char *band, const chart *ch,
                        plast_err *err) {
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", dir, png);
    int kx = column_or_fail(t, x, png, err);
    if (kx < 0) return -1;
    double *cols[8] = {0}, *lo = NULL, *hi = NULL, *xs = csv_column(t, kx);
    chart_series s[4];
    int rc = 0, m = 0;
    for (int k = 0; k < n && rc == 0; k++) {
        int ky = column_or_fail(t, ys[k], png, err);
        if (ky < 0) rc = -1;
        else if (any_finite(t, ky)) {
            cols[m] = csv_column(t, ky);
            s[m] = (chart_series){names[k], t->rows, xs, cols[m], NULL, NULL};
            m++;
        }
    }
    if (rc == 0 && band && m > 0) {
        int kb = csv_col(t, band);
        double *sd = kb >= 0 ? csv_column(t, kb) : NULL;
        lo = malloc(sizeof(double) * (size_t)(t->rows + 1));
        hi = malloc(sizeof(double) * (size_t)(t->rows + 1));
        for (int i = 0; sd && lo && hi && i < t->rows; i++) lo[i] = cols[0][i] - sd[i], hi[i] = cols[0][i] + sd[i];
        if (sd && lo && hi) s[0].lo = lo, s[0].hi = hi;
        free(sd);
    }
    if (rc == 0 && m > 0) rc = chart_png(path, ch, m, s, err);
    for (int k = 0; k < m; k++) free(cols[k]);
    free(xs), free(lo), free(hi);
    return rc;
}

int cli_plot_run(const char *dir, const char *metric_name, double chance, plast_err *err) {
    csv_table t;
    if (read_run_csv(dir, "metrics.csv", &t, err) != 0) return -1;
    char title[128], ylabel[64];
    snprintf(title, sizeof title, "learning curve: %s", metric_name);
    snprintf(ylabel, sizeof ylabel, "%s", metric_name);
    chart ch = {title, "optimizer step", ylabel, chance, "chance", -1};
    const char *ys[2] = {"train_metric", "val_metric"}, *names[2] = {"training batches", "validation"};
    int rc = plot_columns(dir, "curves.png", &t, "step", 2, ys, names, NULL, &ch, err);
    if (rc == 0 && !run_has_file(dir, "trace.csv")) { /* no per-step trace (PPO): the energy over training instead */
        if (any_finite(&t, csv_col(&t, "energy"))) {
            chart cn = {"energy per step during training (sum of x^2 |w|)", "optimizer step", "energy", NAN, NULL, 0};
            const char *y[1] = {"energy"}, *nm[1] = {"energy"};
            rc = plot_columns(dir, "energy.png", &t, "step", 1, y, nm, NULL, &cn, err);
        }
        csv_free(&t);
        if (rc == 0 && run_has_file(dir, "learner.csv")) { /* a PPO run: the policy's entropy and the clipped share */
            if (read_run_csv(dir, "learner.csv", &t, err) != 0) return -1;
            chart cl = {"the PPO learner per iteration", "iteration", "nats / fraction", NAN, NULL, 0};
            const char *y[2] = {"entropy", "clip_fraction"}, *nm[2] = {"policy entropy", "clipped fraction"};
            rc = plot_columns(dir, "learner.png", &t, "step", 2, y, nm, NULL, &cl, err);
            csv_free(&t);
        }
        return rc;
    }
    csv_free(&t);
    if (rc != 0) return rc;
    if (read_run_csv(dir, "trace.csv", &t, err) != 0) return -1;
    if (any_finite(&t, csv_col(&t, "eta_mean"))) {
        chart ce = {"plasticity rate eta(t) over a test trial (mean, +-1 sd)", "time step of the trial", "eta(t)", NAN,
                    NULL, 0};
        const char *y[1] = {"eta_mean"}, *nm[1] = {"eta(t)"};
        rc = plot_columns(dir, "eta.png", &t, "step", 1, y, nm, "eta_std", &ce, err);
    }
    if (rc == 0 && any_finite(&t, csv_col(&t, "energy"))) {
        chart cn = {"energy per step over a test trial (sum of x^2 |w|)", "time step of the trial", "energy", NAN, NULL,
                    0};
        const char *y[1] = {"energy"}, *nm[1] = {"energy"};
        rc = plot_columns(dir, "energy.png", &t, "step", 1, y, nm, NULL, &cn, err);
    }
    csv_free(&t);
    return rc;
}

int cli_plot_groups(const char *png, const char *title, const char *file, const char *xcol, const char *ycol,
                    const char *xlabel, const char *ylabel, double chance, int n, const cli_group *groups,
                    plast_err *err) {
    chart_series *s = calloc((size_t)n, sizeof *s);
    double **bufs = calloc((size_t)n * 4, sizeof *bufs); /* per group: x, mean, lo, hi */
    int rc = s && bufs ? 0 : -1, m = 0;
    if (rc) plast_err_set(err, PLAST_ERR_NOMEM, "%s: out of memory", png);
    for (int g = 0; g < n && rc == 0; g++) {
        int rows = -1, used = 0;
        double *sum = NULL, *sq = NULL;
        for (int k = 0; k < groups[g].n_runs && rc == 0; k++) {
            csv_table t;
            char path[2048]; /* the run's file, also named in a column's error */
            snprintf(path, sizeof path, "%s/%s", groups[g].dirs[k], file);
            if (csv_read(path, &t, err) != 0) {
                rc = -1;
                break;
            }
            int kx = column_or_fail(&t, xcol, path, err), ky = kx >= 0 ? column_or_fail(&t, ycol, path, err) : -1;
            if (ky < 0) rc = -1;
            if (rc == 0 && any_finite(&t, ky)) {
                if (rows < 0) { /* the first run fixes the x values; runs are cut to the shortest */
                    rows = t.rows;
                    bufs[4 * g] = csv_column(&t, kx);
                    sum = calloc((size_t)rows + 1, sizeof *sum), sq = calloc((size_t)rows + 1, sizeof *sq);
                }
                if (t.rows < rows) rows = t.rows;
                for (int i = 0; sum && sq && i < rows; i++) {
                    double v = t.data[(size_t)i * (size_t)t.cols + (size_t)ky];
                    sum[i] += v, sq[i] += v * v;
                }
                used++;
            }
            csv_free(&t);
        }
        if (rc == 0 && used > 0 && sum && sq) {
            double *mean = malloc(sizeof(double) * (size_t)rows + 8), *lo = malloc(sizeof(double) * (size_t)rows + 8),
                   *hi = malloc(sizeof(double) * (size_t)rows + 8);
            for (int i = 0; mean && lo && hi && i < rows; i++) {
                mean[i] = sum[i] / used;
                double sd = used > 1 ? sqrt(fmax(sq[i] - used * mean[i] * mean[i], 0) / (used - 1)) : 0;
                lo[i] = mean[i] - sd, hi[i] = mean[i] + sd;
            }
            bufs[4 * g + 1] = mean, bufs[4 * g + 2] = lo, bufs[4 * g + 3] = hi;
            if (mean && lo && hi)
                s[m++] = (chart_series){groups[g].name, rows, bufs[4 * g], mean, used > 1 ? lo : NULL,
                                        used > 1 ? hi : NULL};
        }
        free(sum), free(sq);
    }
    if (rc == 0 && m > 0) {
        chart ch = {title, xlabel, ylabel, chance, isfinite(chance) ? "chance" : NULL, -1};
        rc = chart_png(png, &ch, m, s, err);
    }
    for (int k = 0; bufs && k < 4 * n; k++) free(bufs[k]);
    free(bufs), free(s);
    return rc == 0 ? m : -1;
}
