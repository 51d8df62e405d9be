/* plast/experiment.h: the configuration of a whole run: model, task and training settings in one JSON file.
 *
 *   {"model": {...}, "task": {...}, "train": {...}}
 * Every key is documented by its schema (`plast config` prints them all). The task sets the model's input and
 * output sizes.
 */
#ifndef PLAST_EXPERIMENT_H
#define PLAST_EXPERIMENT_H

#include "plast/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct plast_task_cfg {
    char name[PLAST_MODEL_NAME_MAX]; /* "random": inputs and targets U[-1, 1], mse over every step */
    int64_t steps;                   /* T, time steps per trial */
} plast_task_cfg;

typedef struct plast_train_cfg {
    int64_t batch; /* trials per step */
    int64_t seed;
} plast_train_cfg;

typedef struct plast_experiment_cfg {
    plast_model_cfg model;
    plast_task_cfg task;
    plast_train_cfg train;
} plast_experiment_cfg;

/* The schema of every key of an experiment (model.*, task.*, train.*). */
PLAST_API plast_cfg_schema plast_experiment_cfg_schema(void);
/* Defaults, then the file (if path != NULL), then the overrides; finally the task's input and output sizes are
 * written into the model section. */
PLAST_API plast_status plast_experiment_cfg_load(plast_experiment_cfg *cfg, const char *path, int n_set,
                                                 const char *const *sets, plast_err *err);

#ifdef __cplusplus
}
#endif
#endif
