/* src/tasks/cuereward.c: cue-reward association, Duan et al. 2023 (reference CueReward; docs/tasks/cuereward.md). Each trial draws 5 cues, stimuli s_c ~ U[0, 1]^14 and rewards r_c ~ U[-1, 1], fixed for the
 * trial. At every step a cue c is drawn uniformly with replacement and shown with fresh noise:
 *   steps 0..9:    x = [s_c + N(0, 0.1^2) | r_c | 0]     (the reward is shown)
 *   steps 10..19:  x = [s_c + N(0, 0.1^2) | 0   | 1]     (the model must recall it)
 * The target is r_c at every step, and the loss (mean squared error) averages all 20 steps, as the reference does.
 * Chance (answering 0): E[r^2] = 1/3. */
#include "tasks/task_internal.h"
#include <stdio.h>

typedef struct cue_priv {
    int64_t cues, length, dim;
    double noise;
} cue_priv;

static plast_status cue_init(plast_task *t, plast_err *err) {
    cue_priv *p = PLAST_TASK_PRIV(t, cue_priv);
    p->cues = plast_task_or(t->cfg.items, 5);
    p->length = plast_task_or(t->cfg.length, 20);
    p->dim = plast_task_or(t->cfg.dim, 14);
    p->noise = t->cfg.noise >= 0 ? t->cfg.noise : 0.1;
    if (p->cues < 1 || p->cues > 256) return plast_task_cfg_fail(err, "items", "cuereward needs 1 to 256 cues");
    if (p->length < 2) return plast_task_cfg_fail(err, "length", "cuereward needs at least 2 steps");
    if (p->dim < 1 || p->dim > 64) return plast_task_cfg_fail(err, "dim", "cuereward stimuli have 1 to 64 values");
    t->I = p->dim + 2, t->O = 1, t->T = p->length;
    t->loss = PLAST_LOSS_MSE, t->metric = PLAST_METRIC_MSE;
    t->chance_loss = t->chance_metric = 1.0 / 3.0;
    snprintf(t->description, sizeof t->description, "cue-reward association, %lld cues, %lld steps",
             (long long)p->cues, (long long)p->length);
    return PLAST_OK;
}

static plast_status cue_sample(const plast_task *t, plast_rng *rng, int split, plast_batch *b, plast_err *err) {
    (void)split, (void)err;
    const cue_priv *p = (const cue_priv *)t->priv;
    const int64_t B = b->B, I = t->I, d = p->dim, half = p->length / 2;
    plast_real stim[256 * 64], reward[256];
    for (int64_t s = 0; s < B; s++) {
        for (int64_t c = 0; c < p->cues; c++) {
            for (int64_t k = 0; k < d; k++) stim[c * 64 + k] = (plast_real)plast_rng_uniform(rng);
            reward[c] = (plast_real)plast_rng_uniform_in(rng, -1, 1);
        }
        for (int64_t tt = 0; tt < t->T; tt++) {
            int64_t c = (int64_t)plast_rng_below(rng, (uint32_t)p->cues);
            for (int64_t k = 0; k < d; k++)
                PLAST_AT(b->x, tt, s, k, B, I) = stim[c * 64 + k] + (plast_real)(p->noise * plast_rng_normal(rng));
            PLAST_AT(b->x, tt, s, d, B, I) = tt < half ? reward[c] : 0;
            PLAST_AT(b->x, tt, s, d + 1, B, I) = tt < half ? 0 : 1;
            PLAST_AT(b->target, tt, s, 0, B, 1) = reward[c];
            b->loss_w[tt * B + s] = b->metric_w[tt * B + s] = 1;
        }
    }
    return PLAST_OK;
}

const plast_task_def plast_task_cuereward = {"cuereward",
                                             "Duan et al. 2023: recall the reward paired with each of 5 cues",
                                             cue_init, cue_sample, NULL};
