/* src/tasks/task.c: the task object, batches, and the losses and metrics every task shares. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "tasks/task_internal.h"

static const struct {
    const char *name;
    int higher_better;
} METRICS[] = {{"mse", 0}, {"accuracy", 1}, {"bit_accuracy", 1}};
_Static_assert(sizeof METRICS / sizeof METRICS[0] == PLAST_METRIC_KIND_COUNT, "a metric lacks its table entry");

const char *plast_metric_kind_name(plast_metric_kind k) {
    return ((int)k >= 0 && k < PLAST_METRIC_KIND_COUNT) ? METRICS[k].name : "?";
}

int plast_metric_kind_higher_better(plast_metric_kind k) {
    return ((int)k >= 0 && k < PLAST_METRIC_KIND_COUNT) ? METRICS[k].higher_better : 0;
}

plast_status plast_task_cfg_fail(plast_err *err, const char *key, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    plast_status s = plast_err_config_key(err, "task", key, fmt, ap);
    va_end(ap);
    return s;
}

int64_t plast_task_or(int64_t value, int64_t dflt) { return value ? value : dflt; }

plast_task *plast_task_init(const plast_task_cfg *cfg, plast_err *err) {
    const plast_task_def *def = NULL;
    for (int i = 0; i < plast_task_count; i++)
        if (strcmp(plast_task_table[i]->name, cfg->name) == 0) def = plast_task_table[i];
    if (!def) {
        char names[512] = "";
        for (int i = 0; i < plast_task_count; i++) {
            strncat(names, i ? "|" : "", sizeof names - strlen(names) - 1);
            strncat(names, plast_task_table[i]->name, sizeof names - strlen(names) - 1);
        }
        plast_task_cfg_fail(err, "name", "unknown task \"%s\" (one of %s)", cfg->name, names);
        return NULL;
    }
    plast_task *t = calloc(1, sizeof *t);
    if (!t) {
        plast_err_set(err, PLAST_ERR_NOMEM, "task: out of memory");
        return NULL;
    }
    t->cfg = *cfg;
    t->def = def;
    if (def->init(t, err) != PLAST_OK) {
        plast_task_free(t);
        return NULL;
    }
    if (!t->description[0]) snprintf(t->description, sizeof t->description, "%s", def->name);
    return t;
}

void plast_task_free(plast_task *t) {
    if (!t) return;
    if (t->def && t->def->release) t->def->release(t);
    free(t);
}

const char *plast_task_describe(const plast_task *t) { return t->description; }
int64_t plast_task_input(const plast_task *t) { return t->I; }
int64_t plast_task_output(const plast_task *t) { return t->O; }
int64_t plast_task_steps(const plast_task *t) { return t->T; }
plast_loss_kind plast_task_loss_kind(const plast_task *t) { return t->loss; }
plast_metric_kind plast_task_metric_kind(const plast_task *t) { return t->metric; }
double plast_task_chance_loss(const plast_task *t) { return t->chance_loss; }
double plast_task_chance_metric(const plast_task *t) { return t->chance_metric; }
int plast_task_image(const plast_task *t, int64_t *channels, int64_t *size) {
    if (channels) *channels = t->image_channels;
    if (size) *size = t->image_size;
    return t->image_size > 0;
}

plast_batch *plast_batch_init(const plast_task *t, int64_t batch, plast_err *err) {
    if (batch < 1) {
        plast_err_set(err, PLAST_ERR_INVALID_ARG, "batch: %lld trials", (long long)batch);
        return NULL;
    }
    const int64_t T = t->T, I = t->I, O = t->O;
    size_t head = (sizeof(plast_batch) + 63) / 64 * 64;
    size_t n = (size_t)(T * batch * (I + O + 2));
    plast_batch *b = aligned_alloc(64, head + (n * sizeof(plast_real) + 63) / 64 * 64);
    if (!b) {
        plast_err_set(err, PLAST_ERR_NOMEM, "batch: out of memory for %lld trials of %lld steps", (long long)batch,
                      (long long)T);
        return NULL;
    }
    b->B = batch, b->T = T, b->I = I, b->O = O;
    b->x = (plast_real *)((char *)b + head);
    b->target = b->x + T * batch * I;
    b->loss_w = b->target + T * batch * O;
    b->metric_w = b->loss_w + T * batch;
    memset(b->x, 0, n * sizeof(plast_real));
    return b;
}

void plast_batch_free(plast_batch *b) { free(b); }

void plast_batch_take_rows(const plast_batch *all, plast_batch *rows, int64_t first) {
    const int64_t Bl = rows->B, B = all->B, I = all->I, O = all->O;
    for (int64_t t = 0; t < all->T; t++) {
        memcpy(rows->x + t * Bl * I, all->x + (t * B + first) * I, sizeof(plast_real) * (size_t)(Bl * I));
        memcpy(rows->target + t * Bl * O, all->target + (t * B + first) * O, sizeof(plast_real) * (size_t)(Bl * O));
        memcpy(rows->loss_w + t * Bl, all->loss_w + t * B + first, sizeof(plast_real) * (size_t)Bl);
        memcpy(rows->metric_w + t * Bl, all->metric_w + t * B + first, sizeof(plast_real) * (size_t)Bl);
    }
}

plast_status plast_task_sample(const plast_task *t, plast_rng *rng, int split, plast_batch *b, plast_err *err) {
    if (b->T != t->T || b->I != t->I || b->O != t->O)
        return plast_err_set(err, PLAST_ERR_MISMATCH, "task %s: batch of the wrong sizes", t->def->name);
    memset(b->x, 0, (size_t)(b->T * b->B * (b->I + b->O + 2)) * sizeof(plast_real));
    return t->def->sample(t, rng, split, b, err);
}

/* index of the largest of n values */
static int64_t argmax(const plast_real *v, int64_t n) {
    int64_t k = 0;
    for (int64_t i = 1; i < n; i++)
        if (v[i] > v[k]) k = i;
    return k;
}

/* the loss of one (step, sample) and, with di != NULL, its gradient scaled by `scale` */
static double point_loss(plast_loss_kind kind, const plast_real *yi, const plast_real *ti, int64_t O, plast_real *di,
                         double scale) {
    double l = 0;
    switch (kind) {
    case PLAST_LOSS_MSE:
        for (int64_t k = 0; k < O; k++) {
            double d = (double)yi[k] - ti[k];
            l += d * d / (double)O;
            if (di) di[k] = (plast_real)(2 * scale * d / (double)O);
        }
        break;
    case PLAST_LOSS_CE: {
        double mx = yi[0], s = 0, tsum = 0;
        for (int64_t k = 1; k < O; k++) mx = fmax(mx, yi[k]);
        for (int64_t k = 0; k < O; k++) s += exp((double)yi[k] - mx), tsum += ti[k];
        double lse = mx + log(s);
        for (int64_t k = 0; k < O; k++) {
            l -= (double)ti[k] * ((double)yi[k] - lse);
            if (di) di[k] = (plast_real)(scale * (exp((double)yi[k] - lse) * tsum - ti[k]));
        }
        break;
    }
    default: /* binary cross-entropy on logits, mean over outputs */
        for (int64_t k = 0; k < O; k++) {
            double z = yi[k], tk = ti[k];
            l += (fmax(z, 0) - z * tk + log1p(exp(-fabs(z)))) / (double)O;
            if (di) di[k] = (plast_real)(scale * (1 / (1 + exp(-z)) - tk) / (double)O);
        }
        break;
    }
    return l;
}

/* the side of 0 a bit_accuracy target or output is on: logits against 0/1 targets, values against +-1 */
static double bit_side(plast_loss_kind loss) { return loss == PLAST_LOSS_BCE ? 0.5 : 0; }

static double point_metric(plast_metric_kind kind, plast_loss_kind loss, const plast_real *yi, const plast_real *ti,
                           int64_t O) {
    double m = 0;
    switch (kind) {
    case PLAST_METRIC_MSE:
        for (int64_t k = 0; k < O; k++) m += ((double)yi[k] - ti[k]) * ((double)yi[k] - ti[k]) / (double)O;
        return m;
    case PLAST_METRIC_ACCURACY: return argmax(yi, O) == argmax(ti, O);
    default: {
        const double side = bit_side(loss);
        for (int64_t k = 0; k < O; k++) m += ((yi[k] > 0) == (ti[k] > side)) / (double)O;
        return m;
    }
    }
}

int plast_task_rates(const plast_task *t, const plast_batch *b, const plast_real *y, double counts[4]) {
    if (t->metric != PLAST_METRIC_BIT_ACCURACY) return 0;
    const int64_t n = b->T * b->B, O = b->O;
    const double side = bit_side(t->loss);
    for (int64_t i = 0; i < n; i++) {
        const double w = b->metric_w[i];
        for (int64_t k = 0; w != 0 && k < O; k++) {
            const int positive = b->target[i * O + k] > side, said = y[i * O + k] > 0;
            counts[positive ? 0 : 2] += said ? w : 0;
            counts[positive ? 1 : 3] += w;
        }
    }
    return 1;
}

double plast_task_loss(const plast_task *t, const plast_batch *b, const plast_real *y, plast_real *dy,
                       double *metric, double *metric_weight) {
    const int64_t T = b->T, B = b->B, O = b->O;
    double wsum = 0, msum = 0, mval = 0, total = 0;
    for (int64_t i = 0; i < T * B; i++) wsum += b->loss_w[i], msum += b->metric_w[i];
    if (dy) memset(dy, 0, (size_t)(T * B * O) * sizeof(plast_real));
    for (int64_t i = 0; i < T * B; i++) {
        const double w = b->loss_w[i], mw = b->metric_w[i];
        const plast_real *yi = y + i * O, *ti = b->target + i * O;
        if (w != 0) total += w * point_loss(t->loss, yi, ti, O, dy ? dy + i * O : NULL, w / wsum);
        if (mw != 0) mval += mw * point_metric(t->metric, t->loss, yi, ti, O);
    }
    if (metric) *metric = msum > 0 ? mval / msum : NAN;
    if (metric_weight) *metric_weight = msum;
    return wsum > 0 ? total / wsum : 0;
}
