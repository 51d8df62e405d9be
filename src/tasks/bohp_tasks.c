/* src/tasks/bohp_tasks.c: the three tasks of Miconi 2016 (paper 002; reference LearningToLearnBOHP
 * completion.py, oneshot.py, reversal.py; docs/tasks/completion.md, oneshot_binary.md and reversal.md).
 *
 * completion (N = task.dim, 8): a random +-1 pattern p; step 0 shows p, step 1 shows p with one random bit kept and
 *   the others 0. The target is p; only step 1 counts (the learning period is step 0). Loss: mean squared error
 *   over the bits (the reference sums them, a factor N); metric: the fraction of bits on the right side. Chance
 *   (step 0 forgotten, the kept bit copied): mse (N - 1) / N, bit accuracy (1 + (N - 1) / 2) / N.
 * oneshot_binary: two random +-1 patterns of N = task.dim (8) bits that differ somewhere; at step n the input is
 *   [label | pattern n mod 2] and the target is class n mod 2, for task.steps (20) steps. The 2 label bits show the
 *   target one-hot during the first task.learn_period (2) steps and are 0 afterwards; cross-entropy and accuracy
 *   on the steps after the learning period. Chance: accuracy 1/2, loss ln 2.
 * reversal: oneshot_binary, and at step T/2 the patterns swap labels, which are shown again for the learning
 *   period after the swap; those steps do not count either.
 * Miconi's network (model.family = bohp) is feed-forward with plastic input weights, so it can only answer by
 * having stored the pairing in its Hebbian trace; a recurrent model could instead count the steps' parity (the
 * patterns alternate, as in the reference). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tasks/task_internal.h"

typedef struct bohp_priv {
    int64_t N, learn, reversal;
} bohp_priv;

static void random_pattern(plast_rng *rng, plast_real *p, int64_t n) {
    for (int64_t k = 0; k < n; k++) p[k] = plast_rng_u32(rng) & 1 ? 1 : -1;
}

/* ---- completion ----------------------------------------------------------------------------------------------- */

static plast_status completion_init(plast_task *t, plast_err *err) {
    bohp_priv *p = PLAST_TASK_PRIV(t, bohp_priv);
    p->N = plast_task_or(t->cfg.dim, 8);
    if (p->N < 2 || p->N > 4096) return plast_task_cfg_fail(err, "dim", "completion takes 2 to 4096 bits");
    t->I = t->O = p->N, t->T = 2;
    t->loss = PLAST_LOSS_MSE, t->metric = PLAST_METRIC_BIT_ACCURACY;
    t->chance_loss = (double)(p->N - 1) / (double)p->N;
    t->chance_metric = (1 + (double)(p->N - 1) / 2) / (double)p->N;
    snprintf(t->description, sizeof t->description, "pattern completion, %lld bits", (long long)p->N);
    return PLAST_OK;
}

static plast_status completion_sample(const plast_task *t, plast_rng *rng, int split, plast_batch *b,
                                      plast_err *err) {
    (void)split, (void)err;
    const int64_t N = ((const bohp_priv *)t->priv)->N, B = b->B;
    for (int64_t s = 0; s < B; s++) {
        plast_real *x0 = &PLAST_AT(b->x, 0, s, 0, B, N), *x1 = &PLAST_AT(b->x, 1, s, 0, B, N);
        random_pattern(rng, x0, N);
        int64_t keep = plast_rng_below(rng, (uint32_t)N);
        x1[keep] = x0[keep];
        for (int tt = 0; tt < 2; tt++) memcpy(&PLAST_AT(b->target, tt, s, 0, B, N), x0, sizeof(plast_real) * (size_t)N);
        b->loss_w[B + s] = b->metric_w[B + s] = 1;
    }
    return PLAST_OK;
}

/* ---- one-shot learning and reversal ------------------------------------------------------------------------ */

static plast_status pairing_init(plast_task *t, plast_err *err, int reversal) {
    bohp_priv *p = PLAST_TASK_PRIV(t, bohp_priv);
    p->N = plast_task_or(t->cfg.dim, 8);
    p->learn = plast_task_or(t->cfg.learn_period, 2);
    p->reversal = reversal;
    t->T = plast_task_or(t->cfg.steps, 20);
    if (p->N < 1 || p->N > 4096) return plast_task_cfg_fail(err, "dim", "takes 1 to 4096 pattern bits");
    if (p->learn < 1 || p->learn * (reversal ? 2 : 1) >= t->T)
        return plast_task_cfg_fail(err, "learn_period", "%lld steps with labels leave no step to test in %lld",
                                   (long long)p->learn, (long long)t->T);
    t->I = p->N + 2, t->O = 2;
    t->loss = PLAST_LOSS_CE, t->metric = PLAST_METRIC_ACCURACY;
    t->chance_loss = log(2.0), t->chance_metric = 0.5;
    snprintf(t->description, sizeof t->description, "%s of two %lld-bit patterns, %lld steps",
             reversal ? "label reversal" : "one-shot learning", (long long)p->N, (long long)t->T);
    return PLAST_OK;
}

static plast_status oneshot_binary_init(plast_task *t, plast_err *err) { return pairing_init(t, err, 0); }
static plast_status reversal_init(plast_task *t, plast_err *err) { return pairing_init(t, err, 1); }

static plast_status pairing_sample(const plast_task *t, plast_rng *rng, int split, plast_batch *b, plast_err *err) {
    (void)split, (void)err;
    const bohp_priv *p = (const bohp_priv *)t->priv;
    const int64_t N = p->N, B = b->B, I = t->I, T = t->T, half = T / 2;
    plast_real pat[2][4096];
    for (int64_t s = 0; s < B; s++) {
        int same;
        do { /* two patterns that differ in at least one bit */
            random_pattern(rng, pat[0], N);
            random_pattern(rng, pat[1], N);
            same = memcmp(pat[0], pat[1], sizeof(plast_real) * (size_t)N) == 0;
        } while (same);
        for (int64_t tt = 0; tt < T; tt++) {
            const int shown = (int)(tt % 2), swapped = p->reversal && tt >= half;
            const int label = shown ^ swapped;
            const int labelled = tt < p->learn || (p->reversal && tt >= half && tt < half + p->learn);
            if (labelled) PLAST_AT(b->x, tt, s, label, B, I) = 1;
            memcpy(&PLAST_AT(b->x, tt, s, 2, B, I), pat[shown], sizeof(plast_real) * (size_t)N);
            PLAST_AT(b->target, tt, s, label, B, 2) = 1;
            b->loss_w[tt * B + s] = b->metric_w[tt * B + s] = labelled ? 0 : 1;
        }
    }
    return PLAST_OK;
}

const plast_task_def plast_task_completion = {"completion", "Miconi 2016: complete a pattern seen once from one bit",
                                              completion_init, completion_sample, NULL};
const plast_task_def plast_task_oneshot_binary = {"oneshot_binary",
                                                  "Miconi 2016: label two binary patterns after one labelled view",
                                                  oneshot_binary_init, pairing_sample, NULL};
const plast_task_def plast_task_reversal = {"reversal", "Miconi 2016: one-shot pairing, then the labels swap",
                                            reversal_init, pairing_sample, NULL};
