/* src/tasks/cfd.c: continual familiarity detection (Tyulmankov et al. 2022, generator data.py; used by Rodriguez et
 * al. 2022; docs/tasks/cfd.md). A stream of T = task.length (5000) random items
 * x_t in {-1, +1}^d (d = task.dim, 100); from step R on, with probability P (task.repeat_prob, 0.5) the item R
 * steps back is shown again, unless that item was itself a repeat. The target is 1 for a repeat ("familiar") and 0
 * otherwise, at every step: binary cross-entropy on a logit, mean over steps; the metric is the fraction of steps
 * answered on the right side.
 *
 * In the stationary regime a fraction q = P / (1 + P) of items repeat (1/3 for P = 0.5), so always answering
 * "novel" scores 1 - q; chance is that accuracy and the entropy of q for the loss. The reference tests `U > P` for
 * the repeat, which is the same as `U < P` only at P = 0.5; plast uses P as the repeat probability (docs/tasks/cfd.md).
 *
 * task.mode = infinite: a fresh stream for every training batch; dataset: one fixed training stream (from
 * task.data_seed) for every step, as the reference's `dat` mode. Validation and test streams are always fresh. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "tasks/task_internal.h"

typedef struct cfd_priv {
    int64_t d, R;
    double P;
    int dataset;
} cfd_priv;

/* Fills one stream into sample s of the batch (x and targets), drawing from rng. */
static void cfd_draw(const plast_task *t, plast_rng *rng, plast_batch *b, int64_t s) {
    const cfd_priv *p = (const cfd_priv *)t->priv;
    const int64_t B = b->B, T = t->T, d = p->d;
    for (int64_t tt = 0; tt < T; tt++) {
        int repeat = tt >= p->R && PLAST_AT(b->target, tt - p->R, s, 0, B, 1) == 0 && plast_rng_uniform(rng) < p->P;
        for (int64_t k = 0; k < d; k++)
            PLAST_AT(b->x, tt, s, k, B, d) = repeat ? PLAST_AT(b->x, tt - p->R, s, k, B, d)
                                                    : (plast_rng_u32(rng) & 1 ? 1 : -1);
        PLAST_AT(b->target, tt, s, 0, B, 1) = (plast_real)repeat;
        b->loss_w[tt * B + s] = b->metric_w[tt * B + s] = 1;
    }
}

static plast_status cfd_init(plast_task *t, plast_err *err) {
    cfd_priv *p = PLAST_TASK_PRIV(t, cfd_priv);
    p->d = plast_task_or(t->cfg.dim, 100);
    p->R = plast_task_or(t->cfg.repeat, 3);
    p->P = t->cfg.repeat_prob;
    p->dataset = strcmp(t->cfg.mode, "dataset") == 0;
    t->T = plast_task_or(t->cfg.length, 5000);
    if (p->R >= t->T) return plast_task_cfg_fail(err, "repeat", "R = %lld needs task.length > R (it is %lld)",
                                                  (long long)p->R, (long long)t->T);
    if (p->P <= 0 || p->P >= 1) return plast_task_cfg_fail(err, "repeat_prob", "needs 0 < P < 1, got %g", p->P);
    t->I = p->d, t->O = 1;
    t->loss = PLAST_LOSS_BCE, t->metric = PLAST_METRIC_BIT_ACCURACY;
    const double q = p->P / (1 + p->P);
    t->chance_metric = 1 - q;
    t->chance_loss = -q * log(q) - (1 - q) * log(1 - q);
    snprintf(t->description, sizeof t->description, "continual familiarity detection, d=%lld R=%lld T=%lld (%s)",
             (long long)p->d, (long long)p->R, (long long)t->T, p->dataset ? "one fixed training stream" : "fresh");
    if (!p->dataset) return PLAST_OK;
    /* the fixed training stream, stored as a one-sample batch */
    plast_batch *fixed = plast_batch_init(t, 1, err);
    if (!fixed) return plast_err_status(err, PLAST_ERR_NOMEM);
    plast_rng rng;
    plast_rng_init(&rng, (uint64_t)t->cfg.data_seed, 0x434644); /* the data's own stream ("CFD") */
    cfd_draw(t, &rng, fixed, 0);
    t->data = fixed;
    return PLAST_OK;
}

static void cfd_release(plast_task *t) { plast_batch_free(t->data); }

static plast_status cfd_sample(const plast_task *t, plast_rng *rng, int split, plast_batch *b, plast_err *err) {
    (void)err;
    const cfd_priv *p = (const cfd_priv *)t->priv;
    const plast_batch *fixed = t->data;
    for (int64_t s = 0; s < b->B; s++) {
        if (!(p->dataset && split == 0)) {
            cfd_draw(t, rng, b, s);
            continue;
        }
        for (int64_t tt = 0; tt < t->T; tt++) { /* every sample of a training batch is the fixed stream */
            memcpy(&PLAST_AT(b->x, tt, s, 0, b->B, p->d), &fixed->x[tt * p->d], sizeof(plast_real) * (size_t)p->d);
            PLAST_AT(b->target, tt, s, 0, b->B, 1) = fixed->target[tt];
            b->loss_w[tt * b->B + s] = b->metric_w[tt * b->B + s] = 1;
        }
    }
    return PLAST_OK;
}

const plast_task_def plast_task_cfd = {"cfd", "Tyulmankov et al. 2022: say whether each item was seen R steps ago",
                                       cfd_init, cfd_sample, cfd_release};
