/* src/tasks/oneshot.c: N-way K-shot image classification, as Duan et al. 2023 (reference FSC and CNNtoRNN;
 * docs/tasks/oneshot.md). An episode draws N = task.items (5) classes of the split and K + Q distinct
 * images of each (task.shots 1, task.queries 1). The N K support steps show an image with its one-hot label, the
 * N Q query steps an image with zeros, each group in a shuffled order; labels 0..N-1 follow the drawn classes'
 * order in the data set (the reference sorts by class id), so they are a random assignment. Inputs are the image
 * (channels last, each channel standardised with the training classes' mean and deviation) then the N label
 * inputs: I = C S S + N. The target is the label at every step; the loss is the cross-entropy of the N logits
 * averaged over the query steps, the metric the accuracy of the first query step only (as the reference).
 * Chance: accuracy 1/N, loss ln N.
 *
 * Data (task.dataset, task.data_path): fashion-mnist (Debian's dataset-fashion-mnist; 10 classes, split 6/2/2 and,
 * by default, each rotation by a multiple of 90 degrees made a class: 24/8/8), cifar (CIFAR-100 binary, CIFAR-FS
 * split 64/16/20) or folder (Omniglot or miniImageNet layouts). Training draws from the training classes, validation
 * and testing from their own classes. Not implemented: the reference's data augmentation (random crops, colour
 * jitter, flips) for CIFAR-FS and miniImageNet (docs/DEVIATIONS.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "data/image_set.h"
#include "tasks/task_internal.h"

#define FASHION_DIR "/usr/share/datasets/fashion-mnist"
#define MAX_WAYS 64
#define MAX_PER_CLASS 64

static const char *const FASHION_NAMES[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                              "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
/* the Fashion-MNIST split: six training classes, two for validation, two for testing */
static const int8_t FASHION_SPLIT[10] = {0, 0, 0, 0, 0, 0, 1, 1, 2, 2};

typedef struct oneshot_priv {
    int64_t ways, shots, queries, rotations;
    int64_t classes[3];            /* classes in each split, rotations included */
} oneshot_priv;

/* the k-th class of a split, as (base class, rotation) */
static void split_class(const image_set *s, const oneshot_priv *p, int split, int64_t k, int64_t *base, int *rot) {
    for (int64_t c = 0; c < s->n_classes; c++) {
        if (s->split[c] != split) continue;
        if (k < p->rotations) {
            *base = c, *rot = (int)k;
            return;
        }
        k -= p->rotations;
    }
    *base = 0, *rot = 0; /* unreachable for k < classes[split] */
}

static plast_status load(plast_task *t, image_set *s, plast_err *err) {
    const plast_task_cfg *c = &t->cfg;
    plast_status st;
    if (strcmp(c->dataset, "fashion-mnist") == 0) {
        st = image_set_load_idx(s, c->data_path[0] ? c->data_path : FASHION_DIR, FASHION_NAMES, err);
        if (st == PLAST_OK && s->n_classes == 10) memcpy(s->split, FASHION_SPLIT, 10);
        if (st != PLAST_OK && !c->data_path[0])
            plast_err_prefix(err, st, "(install Debian's dataset-fashion-mnist, or set task.data_path) ");
    } else if (strcmp(c->dataset, "cifar") == 0) {
        if (!c->data_path[0]) return plast_task_cfg_fail(err, "data_path", "cifar needs the CIFAR-100 binary folder");
        st = image_set_load_cifar100(s, c->data_path, err);
        /* the CIFAR-FS split goes by class name: label names that miss it would leave a split empty */
        for (int k = 1; k < 3 && st == PLAST_OK && !c->split_file[0]; k++)
            if (image_set_split_count(s, k) == 0)
                st = plast_err_set(err, PLAST_ERR_FORMAT, "task.data_path: %s/fine_label_names.txt names none of the "
                                   "CIFAR-FS %s classes (%s, ...): not CIFAR-100's fine label names, or none of their "
                                   "images; set task.split_file for another split", c->data_path,
                                   k == 1 ? "validation" : "test", k == 1 ? "otter" : "baby");
    } else {
        if (!c->data_path[0]) return plast_task_cfg_fail(err, "data_path", "folder needs a folder of class folders");
        st = image_set_load_folder(s, c->data_path, c->image_size, err);
    }
    if (st == PLAST_OK && c->split_file[0]) st = image_set_split_file(s, c->split_file, err);
    if (st == PLAST_OK && c->image_size && c->image_size != s->size) st = image_set_resize(s, c->image_size, err);
    if (st == PLAST_OK) image_set_stats(s);
    return st;
}

static void oneshot_release(plast_task *t) {
    if (t->data) image_set_free(t->data);
    free(t->data);
}

static plast_status oneshot_init(plast_task *t, plast_err *err) {
    oneshot_priv *p = PLAST_TASK_PRIV(t, oneshot_priv);
    const plast_task_cfg *c = &t->cfg;
    p->ways = plast_task_or(c->items, 5);
    p->shots = plast_task_or(c->shots, 1);
    p->queries = plast_task_or(c->queries, 1);
    p->rotations = plast_task_or(c->rotations, strcmp(c->dataset, "fashion-mnist") == 0 ? 4 : 1);
    if (p->ways < 2 || p->ways > MAX_WAYS) return plast_task_cfg_fail(err, "items", "oneshot takes 2 to %d ways", MAX_WAYS);
    if (p->shots + p->queries > MAX_PER_CLASS)
        return plast_task_cfg_fail(err, "shots", "shots + queries per class at most %d", MAX_PER_CLASS);
    if (p->rotations != 1 && p->rotations != 4)
        return plast_task_cfg_fail(err, "rotations", "1 or 4, got %lld", (long long)p->rotations);
    image_set *s = calloc(1, sizeof *s);
    if (!s) return plast_err_set(err, PLAST_ERR_NOMEM, "oneshot: out of memory");
    t->data = s;
    plast_status st = load(t, s, err);
    if (st != PLAST_OK) return st;
    static const char *const split_names[3] = {"training", "validation", "test"};
    for (int k = 0; k < 3; k++) {
        p->classes[k] = image_set_split_count(s, k) * p->rotations;
        if (p->classes[k] < p->ways)
            return plast_task_cfg_fail(err, "items", "%lld-way episodes, but the %s split of %s has %lld classes",
                                       (long long)p->ways, split_names[k], c->dataset, (long long)p->classes[k]);
    }
    for (int64_t k = 0; k < s->n_classes; k++)
        if (s->count[k] < p->shots + p->queries)
            return plast_task_cfg_fail(err, "shots", "class \"%s\" has %lld images, fewer than shots + queries = %lld",
                                       s->names[k], (long long)s->count[k], (long long)(p->shots + p->queries));
    t->image_channels = s->channels, t->image_size = s->size;
    t->I = s->channels * s->size * s->size + p->ways, t->O = p->ways;
    t->T = p->ways * (p->shots + p->queries);
    t->loss = PLAST_LOSS_CE, t->metric = PLAST_METRIC_ACCURACY;
    t->chance_loss = log((double)p->ways), t->chance_metric = 1.0 / (double)p->ways;
    snprintf(t->description, sizeof t->description, "%lld-way %lld-shot %s (%lldx%lldx%lld, %lld/%lld/%lld classes)",
             (long long)p->ways, (long long)p->shots, c->dataset, (long long)s->size, (long long)s->size,
             (long long)s->channels, (long long)p->classes[0], (long long)p->classes[1], (long long)p->classes[2]);
    return PLAST_OK;
}

/* writes image `img` of the set, rotated by rot quarter turns and standardised, to dst (S, S, C) */
static void put_image(const image_set *s, int64_t img, int rot, plast_real *dst) {
    const int64_t S = s->size, C = s->channels;
    const unsigned char *src = s->pixels + img * S * S * C;
    for (int64_t i = 0; i < S; i++)
        for (int64_t j = 0; j < S; j++) {
            int64_t si = i, sj = j; /* the source pixel of output (i, j) */
            if (rot == 1) si = j, sj = S - 1 - i;
            else if (rot == 2) si = S - 1 - i, sj = S - 1 - j;
            else if (rot == 3) si = S - 1 - j, sj = i;
            for (int64_t ch = 0; ch < C; ch++)
                dst[(i * S + j) * C + ch] =
                    (plast_real)((src[(si * S + sj) * C + ch] / 255.0 - s->mean[ch]) / s->std[ch]);
        }
}

typedef struct shown {
    int64_t label, image;
    int rot;
} shown;

static void shuffle(plast_rng *rng, shown *v, int64_t n) {
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = plast_rng_below(rng, (uint32_t)(i + 1));
        shown tmp = v[i];
        v[i] = v[j], v[j] = tmp;
    }
}

static plast_status oneshot_sample(const plast_task *t, plast_rng *rng, int split, plast_batch *b, plast_err *err) {
    (void)err;
    const oneshot_priv *p = (const oneshot_priv *)t->priv;
    const image_set *s = t->data;
    const int64_t N = p->ways, K = p->shots, Q = p->queries, B = b->B, I = t->I, px = I - N;
    shown support[MAX_WAYS * MAX_PER_CLASS], query[MAX_WAYS * MAX_PER_CLASS];
    for (int64_t e = 0; e < B; e++) {
        int64_t pick[MAX_WAYS];
        for (int64_t w = 0; w < N; w++) { /* N distinct classes of the split, in data-set order */
            int fresh;
            do {
                pick[w] = plast_rng_below(rng, (uint32_t)p->classes[split]);
                fresh = 1;
                for (int64_t u = 0; u < w; u++) fresh &= pick[u] != pick[w];
            } while (!fresh);
        }
        for (int64_t w = 1; w < N; w++) /* sort: labels follow the classes' order */
            for (int64_t u = w; u > 0 && pick[u - 1] > pick[u]; u--) {
                int64_t tmp = pick[u];
                pick[u] = pick[u - 1], pick[u - 1] = tmp;
            }
        for (int64_t w = 0; w < N; w++) {
            int64_t base;
            int rot;
            split_class(s, p, split, pick[w], &base, &rot);
            int64_t chosen[MAX_PER_CLASS];
            for (int64_t k = 0; k < K + Q; k++) { /* distinct images of the class */
                int fresh;
                do {
                    chosen[k] = s->first[base] + plast_rng_below(rng, (uint32_t)s->count[base]);
                    fresh = 1;
                    for (int64_t u = 0; u < k; u++) fresh &= chosen[u] != chosen[k];
                } while (!fresh);
                shown v = {w, chosen[k], rot};
                if (k < K) support[w * K + k] = v;
                else query[w * Q + (k - K)] = v;
            }
        }
        shuffle(rng, support, N * K);
        shuffle(rng, query, N * Q);
        for (int64_t tt = 0; tt < t->T; tt++) {
            const int is_support = tt < N * K;
            const shown *v = is_support ? &support[tt] : &query[tt - N * K];
            put_image(s, v->image, v->rot, &PLAST_AT(b->x, tt, e, 0, B, I));
            if (is_support) PLAST_AT(b->x, tt, e, px + v->label, B, I) = 1;
            PLAST_AT(b->target, tt, e, v->label, B, N) = 1;
            b->loss_w[tt * B + e] = is_support ? 0 : 1;
            b->metric_w[tt * B + e] = tt == N * K ? 1 : 0; /* the first query only, as the reference */
        }
    }
    return PLAST_OK;
}

const plast_task_def plast_task_oneshot = {"oneshot", "Duan et al. 2023: N-way K-shot image classification",
                                           oneshot_init, oneshot_sample, oneshot_release};
