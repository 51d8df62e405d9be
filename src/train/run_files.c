/* src/train/run_files.c: the run directory's text files. Whole files are replaced atomically; the metrics files
 * grow by appended lines and are cut back (atomically) to the checkpoint's step when a run resumes, which also
 * drops a line half-written by a killed process. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "core/strbuf.h"
#include "core/fileio.h"
#include "train/run_internal.h"

#define CSV_HEADER "step,train_loss,train_metric,val_loss,val_metric,lr,grad_norm,seconds,energy\n"
/* learner.csv: a PPO run's iterations, one row each */
#define LEARNER_HEADER                                                                                              \
    "step,episodes,return,loss,policy_loss,value_loss,entropy,kl,kl_coef,clip_fraction,grad_norm,lr,energy\n"

const char *run_path(const plast_run *r, const char *name, char *buf) {
    int n = snprintf(buf, RUN_PATH_MAX, "%s/%s", r->dir, name); /* fits: dir < RUN_DIR_MAX, names are short */
    (void)n;
    return buf;
}

plast_status run_mkdirs(const char *dir, plast_err *err) {
    char buf[RUN_PATH_MAX];
    snprintf(buf, sizeof buf, "%s", dir);
    for (char *p = buf + 1;; p++) {
        int end = *p == '\0';
        if (*p == '/' || end) {
            *p = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return plast_err_set(err, PLAST_ERR_IO, "%s: cannot create the directory: %s", buf, strerror(errno));
            if (end) break;
            *p = '/';
        }
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return plast_err_set(err, PLAST_ERR_IO, "%s: not a directory", dir);
    return PLAST_OK;
}

plast_status run_write_text(const plast_run *r, const char *name, const char *text, plast_err *err) {
    if (!r->writer) return PLAST_OK; /* data-parallel: rank 0 writes the run's files */
    char path[RUN_PATH_MAX];
    const void *parts[1] = {text};
    size_t sizes[1] = {strlen(text)};
    return plast_file_write_atomic(run_path(r, name, path), 1, parts, sizes, err);
}

/* a number for JSON (null for NaN) or CSV (empty for NaN) */
static const char *num(double v, int json, char *buf, size_t cap) {
    if (!isfinite(v)) return json ? "null" : "";
    return plast_format_double(v, buf, cap);
}

static plast_status append_line(const plast_run *r, const char *name, const char *header, const char *line,
                                plast_err *err) {
    char path[RUN_PATH_MAX];
    run_path(r, name, path);
    int fresh = access(path, F_OK) != 0;
    FILE *f = fopen(path, "a");
    if (!f) return plast_err_set(err, PLAST_ERR_IO, "%s: cannot open for appending: %s", path, strerror(errno));
    int ok = (!fresh || !header || fputs(header, f) >= 0) && fputs(line, f) >= 0 && fflush(f) == 0;
    ok = fsync(fileno(f)) == 0 && ok;
    int e = errno;
    if (fclose(f) != 0) ok = 0;
    return ok ? PLAST_OK : plast_err_set(err, PLAST_ERR_IO, "%s: write failed: %s", path, strerror(e));
}

/* a CSV row onto csv: the step, then n numbers (empty for NaN); 0 when out of memory */
static int csv_row(plast_strbuf *csv, int64_t step, int n, const double *v) {
    char b[40];
    int ok = plast_strbuf_printf(csv, "%lld", (long long)step);
    for (int k = 0; k < n; k++) ok &= plast_strbuf_printf(csv, ",%s", num(v[k], 0, b, sizeof b));
    return ok & plast_strbuf_putc(csv, '\n');
}

plast_status run_metrics_append(const plast_run *r, const run_metrics_row *w, plast_err *err) {
    if (!r->writer) return PLAST_OK;
    const double v[8] = {w->train_loss, w->train_metric, w->val_loss, w->val_metric, w->lr, w->grad_norm, w->seconds,
                         w->energy};
    static const char *const names[8] = {"train_loss", "train_metric", "val_loss", "val_metric",
                                         "lr",         "grad_norm",    "seconds",  "energy"};
    plast_strbuf js, csv;
    plast_strbuf_init(&js);
    plast_strbuf_init(&csv);
    char b[40];
    int ok = plast_strbuf_printf(&js, "{\"step\": %lld", (long long)w->step);
    for (int k = 0; k < 8; k++) ok &= plast_strbuf_printf(&js, ", \"%s\": %s", names[k], num(v[k], 1, b, sizeof b));
    ok &= plast_strbuf_puts(&js, "}\n") & csv_row(&csv, w->step, 8, v);
    plast_status s = ok ? PLAST_OK : plast_err_set(err, PLAST_ERR_NOMEM, "metrics: out of memory");
    if (s == PLAST_OK) s = append_line(r, "metrics.jsonl", NULL, js.buf, err);
    if (s == PLAST_OK) s = append_line(r, "metrics.csv", CSV_HEADER, csv.buf, err);
    plast_strbuf_free(&js);
    plast_strbuf_free(&csv);
    return s;
}

plast_status run_learner_append(plast_run *r, int64_t step, const plast_ppo_stats *st, plast_err *err) {
    if (!r->writer) return PLAST_OK;
    const double v[12] = {(double)st->episodes, st->episodes ? st->reward : NAN, st->loss, st->policy_loss,
                          st->value_loss, st->entropy, st->kl, st->kl_coef, st->clip_fraction, st->grad_norm, st->lr,
                          st->energy};
    return csv_row(&r->learner_rows, step, 12, v) ? PLAST_OK
                                                   : plast_err_set(err, PLAST_ERR_NOMEM, "learner.csv: out of memory");
}

plast_status run_learner_flush(plast_run *r, plast_err *err) {
    if (!r->learner_rows.len) return PLAST_OK;
    plast_status s = append_line(r, "learner.csv", LEARNER_HEADER, r->learner_rows.buf, err);
    plast_strbuf_free(&r->learner_rows);
    return s;
}

/* the step a metrics line starts with ("{\"step\": N" or "N,"), or -1 for the CSV header and broken lines */
static long long line_step(const char *line, int json) {
    if (json) {
        if (strncmp(line, "{\"step\": ", 9) != 0) return -1;
        line += 9;
    }
    char *end;
    errno = 0;
    long long v = strtoll(line, &end, 10);
    return end == line || errno ? -1 : v;
}

static plast_status truncate_file(const plast_run *r, const char *name, int json, const char *csv_header,
                                  int64_t step, plast_err *err) {
    char path[RUN_PATH_MAX];
    run_path(r, name, path);
    if (access(path, F_OK) != 0) return PLAST_OK;
    unsigned char *buf;
    size_t size;
    plast_status s = plast_file_read_all(path, &buf, &size, err);
    if (s != PLAST_OK) return s;
    plast_strbuf out;
    plast_strbuf_init(&out);
    int ok = json || plast_strbuf_puts(&out, csv_header);
    int lineno = 0;
    for (char *line = (char *)buf; ok && s == PLAST_OK && *line;) {
        char *nl = strchr(line, '\n');
        if (!nl) break; /* a line cut short by a kill */
        *nl = '\0';
        lineno++;
        const int header = !json && lineno == 1 && strncmp(line, "step,", 5) == 0;
        long long st = header ? -1 : line_step(line, json);
        if (!header && st < 0) /* a whole line that is no row: damage, not a kill; never dropped silently */
            s = plast_err_set(err, PLAST_ERR_FORMAT, "%s: line %d is not a metrics row (\"%.40s\"): repair or remove "
                              "it, or --restart", path, lineno, line);
        else if (st >= 0 && st <= step)
            ok = plast_strbuf_puts(&out, line) && plast_strbuf_putc(&out, '\n');
        line = nl + 1;
    }
    free(buf);
    if (!ok) s = plast_err_set(err, PLAST_ERR_NOMEM, "%s: out of memory", path);
    if (s == PLAST_OK) {
        const void *parts[1] = {out.buf ? out.buf : ""};
        size_t sizes[1] = {out.len};
        s = plast_file_write_atomic(path, 1, parts, sizes, err);
    }
    plast_strbuf_free(&out);
    return s;
}

plast_status run_metrics_truncate(const plast_run *r, int64_t step, plast_err *err) {
    if (!r->writer) return PLAST_OK;
    plast_status s = truncate_file(r, "metrics.jsonl", 1, NULL, step, err);
    if (s == PLAST_OK) s = truncate_file(r, "metrics.csv", 0, CSV_HEADER, step, err);
    return s == PLAST_OK ? truncate_file(r, "learner.csv", 0, LEARNER_HEADER, step, err) : s;
}
