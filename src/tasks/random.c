/* src/tasks/random.c: inputs and targets U[-1, 1], mean squared error over every step: no structure, for checking
 * implementations against each other (plast dump) and timing them. Chance: E[target^2] = 1/3. */
#include <stdio.h>

#include "tasks/task_internal.h"

static plast_status random_init(plast_task *t, plast_err *err) {
    (void)err;
    t->T = plast_task_or(t->cfg.steps, 5);
    t->I = plast_task_or(t->cfg.dim, 1), t->O = plast_task_or(t->cfg.items, 1);
    t->loss = PLAST_LOSS_MSE, t->metric = PLAST_METRIC_MSE;
    t->chance_loss = t->chance_metric = 1.0 / 3.0;
    snprintf(t->description, sizeof t->description, "random inputs and targets, %lld steps", (long long)t->T);
    return PLAST_OK;
}

static plast_status random_sample(const plast_task *t, plast_rng *rng, int split, plast_batch *b, plast_err *err) {
    (void)t, (void)split, (void)err;
    const int64_t n = b->T * b->B;
    plast_rng_fill_uniform(rng, b->x, (size_t)(n * b->I), -1, 1);
    plast_rng_fill_uniform(rng, b->target, (size_t)(n * b->O), -1, 1);
    for (int64_t i = 0; i < n; i++) b->loss_w[i] = b->metric_w[i] = 1;
    return PLAST_OK;
}

const plast_task_def plast_task_random = {"random", "inputs and targets U[-1, 1] (checking and timing)",
                                          random_init, random_sample, NULL};
