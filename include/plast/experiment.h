/* plast/experiment.h: the configuration of a whole run: model, task and training settings in one JSON file,
 *
 *   {"model": {...}, "task": {...}, "train": {...}, "sweep": {...}}
 *
 * or, for reinforcement learning (rl.algorithm other than none), an environment instead of a task:
 *
 *   {"model": {...}, "env": {...}, "rl": {...}, "train": {...}}
 *
 * every key documented by its schema (`plast config` lists them all with their meaning). The task (or the
 * environment) fixes the model's input and output sizes: model.input and model.output may be left at 0 (or must
 * agree with it). In an RL run train.batch is the number of environment copies and a step is one iteration.
 */
#ifndef PLAST_EXPERIMENT_H
#define PLAST_EXPERIMENT_H

#include "plast/env.h"
#include "plast/model.h"
#include "plast/rl.h"
#include "plast/task.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct plast_train_cfg {
    int64_t batch;          /* trials per step (64) */
    int64_t steps;          /* optimizer steps */
    int64_t seed;           /* every random stream of the run derives from it */
    char optimizer[8];      /* adamw | adam | sgd */
    double lr, weight_decay, clip, momentum;
    int amsgrad;
    char schedule[16];      /* constant | cosine */
    double lr_min;          /* cosine floor */
    int64_t val_every;      /* validate every N steps (and at step 0) */
    int64_t val_batches;    /* batches per validation */
    int64_t test_batches;   /* batches of the fixed test set */
    int64_t test_seed;      /* the test set's seed, the same for every run */
    char test_on[8];        /* best | last: the parameters tested */
    int64_t ckpt_every;     /* write the resume checkpoint every N steps */
    char engine[8];         /* auto | tape | lowrank | dense | fused */
    int64_t log_every;      /* progress line period when not on a terminal */
    int adapt_threads;      /* use only the cores other processes leave free (plast_cpu_meter) */
    double eps;             /* adam/adamw: the denominator term (1e-8; the maze's A2C: 1e-4) */
} plast_train_cfg;

/* Reinforcement learning: the algorithm (none: a supervised run on the task) and its settings. */
typedef struct plast_rl_cfg {
    char algorithm[8]; /* none | a2c | ppo */
    plast_a2c_cfg a2c; /* rl.* */
    plast_ppo_cfg ppo; /* ppo.* */
} plast_rl_cfg;

typedef struct plast_sweep_cfg {
    char vary[512]; /* "key=v1,v2,...;key2=..." : every combination is run */
    int64_t seeds;  /* seeds 0..seeds-1 of each combination */
} plast_sweep_cfg;

typedef struct plast_experiment_cfg {
    plast_model_cfg model;
    plast_task_cfg task;
    plast_train_cfg train;
    plast_sweep_cfg sweep;
    plast_env_cfg env;
    plast_rl_cfg rl;
} plast_experiment_cfg;

/* sizeof(plast_experiment_cfg), for bindings that allocate one, and its model and env sections */
PLAST_API size_t plast_experiment_cfg_bytes(void);
PLAST_API plast_model_cfg *plast_experiment_cfg_model(plast_experiment_cfg *cfg);
PLAST_API plast_env_cfg *plast_experiment_cfg_env(plast_experiment_cfg *cfg);
/* 1 when the configuration is a reinforcement-learning run (rl.algorithm is not none) */
PLAST_API int plast_experiment_is_rl(const plast_experiment_cfg *cfg);
/* Creates the environment copies (train.batch of them) of an RL run and writes its observation size and action
 * count + 1 (the value) into the model section, as plast_experiment_task does. */
PLAST_API plast_env *plast_experiment_env(plast_experiment_cfg *cfg, plast_err *err);

/* The schema of every key of an experiment (model.*, task.*, train.*, sweep.*, env.*, rl.*). */
PLAST_API plast_cfg_schema plast_experiment_cfg_schema(void);
/* A configuration whose sweep.vary varies model.family is the base of several families' runs, and may hold each
 * family's model keys (docs/TRAINING.md, "Keys of one model family"); for one run, the keys of families other than
 * model.family return to their defaults (plast_model_cfg_keep_family). Other configurations are left as they are:
 * there a key of another family is an error when the model is built. A run does this to its configuration before it
 * writes config.json (plast_run_open); so does any user of a configuration that may be such a base before it builds
 * the model. */
PLAST_API void plast_experiment_cfg_settle(plast_experiment_cfg *cfg);
/* Defaults, then the file (if path != NULL), then the overrides. */
PLAST_API plast_status plast_experiment_cfg_load(plast_experiment_cfg *cfg, const char *path, int n_set,
                                                 const char *const *sets, plast_err *err);
/* Creates the task and writes its input and output sizes into the model section (model.input/output 0 = the
 * task's; any other value must agree with it). The "random" task takes its sizes from the model instead. */
PLAST_API plast_task *plast_experiment_task(plast_experiment_cfg *cfg, plast_err *err);

#ifdef __cplusplus
}
#endif
#endif
