/* src/tasks/pattern.c: binary pattern memorisation and completion, Miconi et al. 2018 ("differentiable
 * plasticity"; reference simple/full.py; docs/tasks/pattern.md). Each trial draws K =
 * task.items (2) patterns of N = task.dim (50) bits in {-1, +1}, balanced (exactly N/2 of each sign, as the
 * reference's simple/full.py). In each of task.cycles (1) cycles the patterns are shown in a shuffled order, each
 * for task.presentations (3) steps followed by task.delay (1) blank steps; then one of them, with exactly half of its
 * bits zeroed, is shown for task.presentations steps. Inputs are scaled by 20 and an extra input is a constant bias
 * (20), so I = N + 1 for a network of N + 1 neurons fed directly (model.family = diffplast, model.direct_input,
 * model.readout = none, model.hidden = N + 1). These defaults are the reference README's 50-bit variant; the
 * 2018 paper's 1000-bit setting is task.dim = 1000, task.items = 5, task.cycles = 2, task.presentations = 6,
 * task.delay = 4.
 *
 * The target is the whole pattern at the last step only: mean squared error over its bits (the reference sums
 * them) and the fraction of bits on the right side. Chance (nothing stored, the probe's bits copied): mse 1/2,
 * bit accuracy 3/4. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "tasks/task_internal.h"

enum { MAX_BITS = 4096, MAX_PATTERNS = 64 };
#define INPUT_SCALE 20.0

typedef struct pattern_priv {
    int64_t N, K, shown, blank, cycles;
} pattern_priv;

static plast_status pattern_init(plast_task *t, plast_err *err) {
    pattern_priv *p = PLAST_TASK_PRIV(t, pattern_priv);
    p->N = plast_task_or(t->cfg.dim, 50);
    p->K = plast_task_or(t->cfg.items, 2);
    p->shown = plast_task_or(t->cfg.presentations, 3);
    p->blank = t->cfg.delay >= 0 ? t->cfg.delay : 1;
    p->cycles = plast_task_or(t->cfg.cycles, 1);
    if (p->N < 2 || p->N > MAX_BITS || p->N % 2)
        return plast_task_cfg_fail(err, "dim", "pattern needs an even number of bits from 2 to %d, got %lld", MAX_BITS,
                                   (long long)p->N);
    if (p->K < 1 || p->K > MAX_PATTERNS)
        return plast_task_cfg_fail(err, "items", "pattern stores 1 to %d patterns", MAX_PATTERNS);
    t->I = p->N + 1, t->O = p->N;
    t->T = p->cycles * p->K * (p->shown + p->blank) + p->shown;
    t->loss = PLAST_LOSS_MSE, t->metric = PLAST_METRIC_BIT_ACCURACY;
    t->chance_loss = 0.5, t->chance_metric = 0.75;
    snprintf(t->description, sizeof t->description, "pattern memorisation, %lld patterns of %lld bits (T=%lld)",
             (long long)p->K, (long long)p->N, (long long)t->T);
    return PLAST_OK;
}

static plast_status pattern_sample(const plast_task *t, plast_rng *rng, int split, plast_batch *b, plast_err *err) {
    (void)split;
    const pattern_priv *p = (const pattern_priv *)t->priv;
    const int64_t N = p->N, B = b->B, I = t->I;
    _Static_assert(MAX_BITS >= MAX_PATTERNS, "perm holds both bit and pattern permutations");
    int32_t perm[MAX_BITS];
    plast_real *pat = malloc(sizeof(plast_real) * (size_t)(p->K * N));
    if (!pat) return plast_err_set(err, PLAST_ERR_NOMEM, "pattern: out of memory");
    for (int64_t s = 0; s < B; s++) {
        for (int64_t k = 0; k < p->K; k++) { /* balanced: a random half of the bits is +1 */
            plast_rng_permutation(rng, perm, (int32_t)N);
            for (int64_t i = 0; i < N; i++) pat[k * N + perm[i]] = i < N / 2 ? 1 : -1;
        }
        int64_t tt = 0;
        for (int64_t c = 0; c < p->cycles; c++) {
            plast_rng_permutation(rng, perm, (int32_t)p->K);
            for (int64_t k = 0; k < p->K; k++) {
                for (int64_t r = 0; r < p->shown; r++, tt++)
                    for (int64_t i = 0; i < N; i++) PLAST_AT(b->x, tt, s, i, B, I) = (plast_real)(INPUT_SCALE * pat[perm[k] * N + i]);
                tt += p->blank;
            }
        }
        const int64_t probe = plast_rng_below(rng, (uint32_t)p->K);
        plast_rng_permutation(rng, perm, (int32_t)N); /* the bits kept: perm[0 .. N/2) */
        for (; tt < t->T; tt++)
            for (int64_t i = 0; i < N / 2; i++)
                PLAST_AT(b->x, tt, s, perm[i], B, I) = (plast_real)(INPUT_SCALE * pat[probe * N + perm[i]]);
        for (int64_t u = 0; u < t->T; u++) PLAST_AT(b->x, u, s, N, B, I) = (plast_real)INPUT_SCALE; /* bias */
        memcpy(&PLAST_AT(b->target, t->T - 1, s, 0, B, N), pat + probe * N, sizeof(plast_real) * (size_t)N);
        b->loss_w[(t->T - 1) * B + s] = b->metric_w[(t->T - 1) * B + s] = 1;
    }
    free(pat);
    return PLAST_OK;
}

const plast_task_def plast_task_pattern = {"pattern", "Miconi et al. 2018: store binary patterns, complete a half one",
                                           pattern_init, pattern_sample, NULL};
