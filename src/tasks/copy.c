/* src/tasks/copy.c: the copying task of Duan et al. 2023 (reference SeqReproduction; docs/tasks/copy.md
 * §2.2). n values v_k ~ U[-1, 1], a delay of m steps, then the values back:
 *   steps 0..n-1:        x = [v_k, 1, 0]
 *   steps n..n+m-1:      x = [0, 0, 0]
 *   steps n+m..2n+m-1:   x = [0, 0, 1], target v_k
 * Loss and metric: mean squared error over the n recall steps only. Chance (answering 0): E[v^2] = 1/3. */
#include "tasks/task_internal.h"
#include <stdio.h>

typedef struct copy_priv {
    int64_t n, m;
} copy_priv;

static plast_status copy_init(plast_task *t, plast_err *err) {
    copy_priv *p = PLAST_TASK_PRIV(t, copy_priv);
    p->n = plast_task_or(t->cfg.length, 20);
    p->m = t->cfg.delay >= 0 ? t->cfg.delay : 20;
    if (p->n < 1) return plast_task_cfg_fail(err, "length", "copy needs at least one value");
    t->I = 3, t->O = 1, t->T = 2 * p->n + p->m;
    t->loss = PLAST_LOSS_MSE, t->metric = PLAST_METRIC_MSE;
    t->chance_loss = t->chance_metric = 1.0 / 3.0;
    snprintf(t->description, sizeof t->description, "copy n=%lld m=%lld (T=%lld)", (long long)p->n, (long long)p->m,
             (long long)t->T);
    return PLAST_OK;
}

static plast_status copy_sample(const plast_task *t, plast_rng *rng, int split, plast_batch *b, plast_err *err) {
    (void)split, (void)err;
    const copy_priv *p = (const copy_priv *)t->priv;
    const int64_t B = b->B, n = p->n, m = p->m;
    for (int64_t s = 0; s < b->B; s++)
        for (int64_t k = 0; k < n; k++) {
            plast_real v = (plast_real)plast_rng_uniform_in(rng, -1, 1);
            PLAST_AT(b->x, k, s, 0, B, 3) = v;
            PLAST_AT(b->x, k, s, 1, B, 3) = 1;
            PLAST_AT(b->target, n + m + k, s, 0, B, 1) = v;
        }
    for (int64_t tt = n + m; tt < t->T; tt++)
        for (int64_t s = 0; s < B; s++) {
            PLAST_AT(b->x, tt, s, 2, B, 3) = 1;
            b->loss_w[tt * B + s] = b->metric_w[tt * B + s] = 1;
        }
    return PLAST_OK;
}

const plast_task_def plast_task_copy = {"copy", "Duan et al. 2023: reproduce n values after a delay of m steps",
                                        copy_init, copy_sample, NULL};
