/* src/tasks/art.c: the associative retrieval task (ART) of Rodriguez et al. 2022 (reference data_art.py, after Ba
 * et al. 2016; docs/tasks/art.md). 37 one-hot symbols: letters a-z (0-25) are keys, digits
 * 0-9 (26-35) values, and 36 is '?'. A trial with P = task.items pairs (3) is
 *   k1 v1 k2 v2 ... kP vP ? ? q          (2P + 3 steps; 9 for P = 3)
 * with the keys drawn without replacement, the values with replacement and the query q one of the keys, uniformly.
 * The target is q's value, a class out of 37, at the last step only: cross-entropy on the final logits, accuracy
 * there. Chance (the pairs ignored, a guess among the 10 digits): accuracy 1/10, loss ln 10.
 *
 * task.mode = dataset (the reference): training draws trials from a fixed set of task.dataset_size (100000),
 * validation from a fixed set of 10000 and testing from one of 20000, all generated from task.data_seed, so every
 * run and seed sees the same data as the reference's cached sets. infinite: fresh trials for every batch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "tasks/task_internal.h"

enum { SYMBOLS = 37, KEYS = 26, DIGITS = 10, QUERY = 36, VALID_SIZE = 10000, TEST_SIZE = 20000 };

typedef struct art_priv {
    int64_t pairs;
    int dataset;
    int64_t size[3]; /* trials in the train, validation and test sets (dataset mode) */
} art_priv;

/* one trial's T symbols */
static void art_draw(plast_rng *rng, int64_t pairs, unsigned char *sym) {
    int32_t perm[KEYS];
    plast_rng_permutation(rng, perm, KEYS);
    for (int64_t p = 0; p < pairs; p++) {
        sym[2 * p] = (unsigned char)perm[p];
        sym[2 * p + 1] = (unsigned char)(KEYS + plast_rng_below(rng, DIGITS));
    }
    sym[2 * pairs] = sym[2 * pairs + 1] = QUERY;
    int64_t q = plast_rng_below(rng, (uint32_t)pairs);
    sym[2 * pairs + 2] = sym[2 * q];
}

static unsigned char art_answer(const unsigned char *sym, int64_t pairs) {
    for (int64_t p = 0; p < pairs; p++)
        if (sym[2 * p] == sym[2 * pairs + 2]) return sym[2 * p + 1];
    return 0; /* unreachable: the query is one of the keys */
}

static plast_status art_init(plast_task *t, plast_err *err) {
    art_priv *p = PLAST_TASK_PRIV(t, art_priv);
    p->pairs = plast_task_or(t->cfg.items, 3);
    if (p->pairs < 1 || p->pairs > KEYS) return plast_task_cfg_fail(err, "items", "art has 1 to 26 key-value pairs");
    p->dataset = strcmp(t->cfg.mode, "dataset") == 0;
    t->I = t->O = SYMBOLS, t->T = 2 * p->pairs + 3;
    t->loss = PLAST_LOSS_CE, t->metric = PLAST_METRIC_ACCURACY;
    t->chance_loss = 2.302585092994046; /* ln 10 */
    t->chance_metric = 1.0 / DIGITS;
    snprintf(t->description, sizeof t->description, "associative retrieval, %lld pairs (%s)", (long long)p->pairs,
             p->dataset ? "fixed data set" : "fresh trials");
    if (!p->dataset) return PLAST_OK;
    p->size[0] = plast_task_or(t->cfg.dataset_size, 100000), p->size[1] = VALID_SIZE, p->size[2] = TEST_SIZE;
    const int64_t total = p->size[0] + p->size[1] + p->size[2];
    unsigned char *sym = malloc((size_t)(total * t->T));
    if (!sym) return plast_err_set(err, PLAST_ERR_NOMEM, "art: out of memory for %lld trials", (long long)total);
    plast_rng rng;
    plast_rng_init(&rng, (uint64_t)t->cfg.data_seed, 0x417274); /* the data's own stream ("Art") */
    for (int64_t i = 0; i < total; i++) art_draw(&rng, p->pairs, sym + i * t->T);
    t->data = sym;
    return PLAST_OK;
}

static void art_release(plast_task *t) { free(t->data); }

static plast_status art_sample(const plast_task *t, plast_rng *rng, int split, plast_batch *b, plast_err *err) {
    (void)err;
    const art_priv *p = (const art_priv *)t->priv;
    const int64_t B = b->B, T = t->T;
    unsigned char fresh[2 * KEYS + 3];
    const unsigned char *set = t->data;
    if (p->dataset)
        for (int s = 0; s < split; s++) set += p->size[s] * T;
    for (int64_t s = 0; s < B; s++) {
        const unsigned char *sym = fresh;
        if (p->dataset) sym = set + (int64_t)plast_rng_below(rng, (uint32_t)p->size[split]) * T;
        else art_draw(rng, p->pairs, fresh);
        for (int64_t tt = 0; tt < T; tt++) PLAST_AT(b->x, tt, s, sym[tt], B, SYMBOLS) = 1;
        PLAST_AT(b->target, T - 1, s, art_answer(sym, p->pairs), B, SYMBOLS) = 1;
        b->loss_w[(T - 1) * B + s] = b->metric_w[(T - 1) * B + s] = 1;
    }
    return PLAST_OK;
}

const plast_task_def plast_task_art = {"art", "Rodriguez et al. 2022: recall the value paired with a queried key",
                                       art_init, art_sample, art_release};
