/* src/tasks/task_internal.h: the task table (internal).
 *
 * A task is one `const plast_task_def` in its own file (one file per task or family of tasks), listed in tasks.c:
 * it checks its settings and fixes the sizes (init), and fills batches of trials (sample). Losses and metrics are
 * common (task.c). Adding a task: write src/tasks/<name>.c, add it to task_list.h, add a short learning run to
 * tests/test_tasks.c and a page to docs/tasks/.
 */
#ifndef PLAST_TASKS_TASK_INTERNAL_H
#define PLAST_TASKS_TASK_INTERNAL_H

#include "plast/task.h"

#define PLAST_TASK_PRIV_BYTES 256

typedef struct plast_task_def {
    const char *name;
    const char *summary;
    /* Validates t->cfg (errors name the task.* key), sets I, O, T, loss and metric kinds, chance levels, and may
     * load data into t->data (freed with plast_task_free through release). */
    plast_status (*init)(plast_task *t, plast_err *err);
    /* Fills b (already sized B x T x I x O) with trials drawn from rng; split 0 train, 1 validation, 2 test. */
    plast_status (*sample)(const plast_task *t, plast_rng *rng, int split, plast_batch *b, plast_err *err);
    void (*release)(plast_task *t); /* may be NULL */
} plast_task_def;

extern const plast_task_def *const plast_task_table[];
extern const int plast_task_count;

struct plast_task {
    plast_task_cfg cfg;
    const plast_task_def *def;
    int64_t I, O, T;
    plast_loss_kind loss;
    plast_metric_kind metric;
    double chance_loss, chance_metric;
    int64_t image_channels, image_size; /* tasks whose inputs start with an image (C x S x S, channels last) */
    char description[256];
    void *data; /* the task's loaded data, if any */
    _Alignas(16) unsigned char priv[PLAST_TASK_PRIV_BYTES];
};

#define PLAST_TASK_PRIV(t, type) ((type *)(t)->priv)

/* Fails with a message naming the task.* key. */
plast_status plast_task_cfg_fail(plast_err *err, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* `value` or, if it is 0, `dflt` */
int64_t plast_task_or(int64_t value, int64_t dflt);

/* element (t, b, k) of a (T, B, n) array */
#define PLAST_AT(p, t, b, k, B, n) ((p)[((t) * (B) + (b)) * (n) + (k)])

#endif
