/* plast/task.h: the tasks of the three papers, as generators of batches of trials, with their losses and metrics.
 *
 * A task draws batches of trials from an explicit RNG: inputs x (T, B, I), targets (T, B, O), and per (step, sample)
 * weights saying which steps count in the loss and which in the reported metric (copying scores only the recall
 * steps; one-shot classification trains on every query but reports the first). The loss and its gradient with
 * respect to the model's outputs are computed here for every task, so any model or engine can be trained on any
 * task. docs/tasks/ has one page per task with its exact generator, loss, metric and chance level.
 */
#ifndef PLAST_TASK_H
#define PLAST_TASK_H

#include "plast/config.h"
#include "plast/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PLAST_TASK_NAME_MAX 32
#define PLAST_TASK_PATH_MAX 512

/* Every setting of every task; 0 (or "") means the task's own default. The schema documents each key "task.*". */
typedef struct plast_task_cfg {
    char name[PLAST_TASK_NAME_MAX]; /* copy | cuereward | regression | oneshot | art | cfd | completion | ... */
    int64_t steps;                  /* T where the task does not fix it */
    int64_t length;                 /* copy: n; cuereward: trial length; cfd: sequence length */
    int64_t delay;                  /* copy: m */
    int64_t items;                  /* cuereward: cues; pattern: patterns; oneshot: ways */
    int64_t dim;                    /* cuereward: stimulus size; regression: variables; cfd: d; pattern: bits */
    int64_t shots;                  /* regression: K support points; oneshot: shots per class */
    int64_t queries;                /* regression: query points */
    double noise;                   /* cuereward, regression: noise std */
    char function[16];              /* regression: linear | mlp */
    int64_t repeat;                 /* cfd: R, the distance of a repeat */
    double repeat_prob;             /* cfd: P */
    char mode[16];                  /* cfd, art: dataset | infinite */
    int64_t dataset_size;           /* art: training sequences in dataset mode */
    char dataset[16];               /* oneshot: fashion-mnist | cifar | folder */
    char data_path[PLAST_TASK_PATH_MAX]; /* oneshot: file or folder of the images */
    int64_t image_size;             /* oneshot: images are resized to this (0: as stored) */
    int64_t rotations;              /* oneshot: 4 adds each class rotated by 90, 180, 270 degrees as new classes */
    char split_file[PLAST_TASK_PATH_MAX]; /* oneshot: lines "train|val|test <class>" replacing the built-in split */
    int64_t presentations;          /* pattern: steps each pattern is shown */
    int64_t cycles;                 /* pattern: presentation cycles */
    int64_t learn_period;           /* oneshot_binary, reversal: steps shown with labels */
    int64_t data_seed;              /* the seed of fixed data sets (art, cfd dataset mode), the same for every run */
} plast_task_cfg;

PLAST_API plast_cfg_schema plast_task_cfg_schema(void);

typedef enum plast_loss_kind {
    PLAST_LOSS_MSE, /* mean squared error over the output */
    PLAST_LOSS_CE,  /* cross-entropy of logits against target probabilities */
    PLAST_LOSS_BCE, /* binary cross-entropy of logits against targets in [0, 1] */
    PLAST_LOSS_KIND_COUNT
} plast_loss_kind;

typedef enum plast_metric_kind {
    PLAST_METRIC_MSE,          /* mean squared error; lower is better */
    PLAST_METRIC_ACCURACY,     /* the largest output is the target's class; higher is better */
    PLAST_METRIC_BIT_ACCURACY, /* fraction of outputs on the target's side (0 for +-1 targets, 0.5 for 0/1 targets
                                * under BCE, where outputs are logits); higher is better */
    PLAST_METRIC_KIND_COUNT
} plast_metric_kind;

PLAST_API const char *plast_metric_kind_name(plast_metric_kind k); /* "mse", "accuracy", "bit_accuracy" */
PLAST_API int plast_metric_kind_higher_better(plast_metric_kind k);

typedef struct plast_task plast_task;

/* Checks the configuration, loads any data (errors name the file and what is wrong), computes the sizes. */
PLAST_API plast_task *plast_task_init(const plast_task_cfg *cfg, plast_err *err);
PLAST_API void plast_task_free(plast_task *t);

PLAST_API const char *plast_task_describe(const plast_task *t);
PLAST_API int64_t plast_task_input(const plast_task *t);  /* I */
PLAST_API int64_t plast_task_output(const plast_task *t); /* O */
PLAST_API int64_t plast_task_steps(const plast_task *t);  /* T */
PLAST_API plast_loss_kind plast_task_loss_kind(const plast_task *t);
PLAST_API plast_metric_kind plast_task_metric_kind(const plast_task *t);
/* The loss and the metric of the best answer that ignores the trial (chance), documented per task. */
PLAST_API double plast_task_chance_loss(const plast_task *t);
PLAST_API double plast_task_chance_metric(const plast_task *t);
/* 1 if each input step starts with an image of channels x size x size values (channels last), 0 otherwise. */
PLAST_API int plast_task_image(const plast_task *t, int64_t *channels, int64_t *size);

/* A batch of trials, time-major. */
typedef struct plast_batch {
    int64_t B, T, I, O;
    plast_real *x;        /* (T, B, I) */
    plast_real *target;   /* (T, B, O) */
    plast_real *loss_w;   /* (T, B): weight of each (step, sample) in the loss */
    plast_real *metric_w; /* (T, B): weight in the metric */
} plast_batch;

PLAST_API plast_batch *plast_batch_init(const plast_task *t, int64_t batch, plast_err *err); /* one allocation */
PLAST_API void plast_batch_free(plast_batch *b);
/* Trials [first, first + rows->B) of `all` copied into rows (same T, I, O), every array (data-parallel shares). */
PLAST_API void plast_batch_take_rows(const plast_batch *all, plast_batch *rows, int64_t first);

/* Draws a batch of trials. `split` picks the data for tasks with fixed data (0 train, 1 validation, 2 test). */
PLAST_API plast_status plast_task_sample(const plast_task *t, plast_rng *rng, int split, plast_batch *b,
                                         plast_err *err);

/* The loss of outputs y (T, B, O) on batch b, and its gradient dy (may be NULL); *metric (may be NULL) gets the
 * metric and *metric_weight its total weight (so that metrics of several batches can be averaged). */
PLAST_API double plast_task_loss(const plast_task *t, const plast_batch *b, const plast_real *y, plast_real *dy,
                                 double *metric, double *metric_weight);

/* For a task whose metric is bit_accuracy: adds to counts (4) the metric-weighted outputs of batch b that are
 * (true positives, positives, false positives, negatives), a positive being a target on the high side, and
 * returns 1; returns 0 (counts untouched) for other metrics. TPR = counts[0] / counts[1], FPR = counts[2] /
 * counts[3], as the familiarity-detection papers report. */
PLAST_API int plast_task_rates(const plast_task *t, const plast_batch *b, const plast_real *y, double counts[4]);

#ifdef __cplusplus
}
#endif
#endif
