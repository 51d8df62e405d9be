/* src/train/run_internal.h: the run object and its files (internal). run.c opens and checkpoints runs,
 * run_files.c owns the directory's text files, train_loop.c trains, evaluate.c validates and tests. */
#ifndef PLAST_TRAIN_RUN_INTERNAL_H
#define PLAST_TRAIN_RUN_INTERNAL_H

#include <limits.h>

#include "core/strbuf.h"
#include "plast/optim.h"
#include "plast/rl.h"
#include "plast/train.h"

#define RUN_PATH_MAX PATH_MAX
#define RUN_DIR_MAX (PATH_MAX - 64) /* so that "<dir>/<any file of the run>" fits */

/* Progress that a checkpoint carries, so a resumed run continues exactly where the checkpoint left it. */
typedef struct run_progress {
    int64_t step;
    /* sums over the steps since the last validation, for the next metrics row */
    double loss_sum, metric_sum, metric_weight, grad_norm_sum;
    double energy_sum;    /* an RL run's mean energy per step and copy, summed over the iterations */
    int64_t count;
    double best;          /* best validation metric so far (NAN before the first validation) */
    int64_t best_step;    /* its step, or -1 */
    double seconds;       /* training time before this session */
} run_progress;

struct plast_run {
    plast_experiment_cfg cfg;
    char dir[RUN_DIR_MAX];
    plast_model *model;
    plast_task *task;
    plast_params *params;
    plast_optim *optim;
    plast_engine *engine; /* NULL in an RL run: the learner has its own */
    plast_batch *batch;
    plast_env *env;       /* an RL run's environment copies, and its learner (one of a2c and ppo) */
    plast_a2c *a2c;
    plast_ppo *ppo;
    plast_env *eval_env;  /* PPO: validation and test play here, leaving the learner's episodes as they are */
    plast_real *y, *dy; /* (T, B, O) of this process's share */
    plast_comm comm;      /* size 1 when alone */
    int writer;           /* writes the run's files (rank 0) */
    int lock_fd;          /* <dir>/.lock, held (flock) while the run is open for training; 0 when not */
    plast_batch *shard;   /* data-parallel: this process's rows of `batch` (the global batch) */
    double *reduce;       /* data-parallel: (numel + 3) the gradient and the loss statistics to sum */
    run_progress prog;
    plast_strbuf learner_rows; /* PPO: learner.csv rows not yet written, written with the next checkpoint */
    int resumed;   /* a checkpoint was loaded: its step's validation is done */
    int read_only; /* opened by plast_run_load: never writes the run's files except test results */
};

/* the engine of the run's training trials (the learner's in an RL run) */
plast_engine *run_engine(const plast_run *r);
/* Data-parallel: plast's losses are weighted means, so the loss over rows taken from the global batch `all` is this
 * share of the global loss (and of its gradient): the rows' loss-weight sum over the global one (0 without weight) */
double run_loss_share(const plast_batch *rows, const plast_batch *all);
/* validation or test of a supervised run on `batches` batches from rng: whole alone; data-parallel, every process
 * evaluates its rows of each global batch and the sums are reduced */
plast_status run_evaluate(plast_run *r, plast_params *p, int64_t batches, plast_rng *rng, int split, double *loss,
                          double *metric, plast_eval_trace *trace, plast_err *err);

/* plast_experiment_env for copies first .. first + count - 1 of the global batch (data-parallel shares) */
plast_env *experiment_env_range(plast_experiment_cfg *cfg, int64_t first, int64_t count, plast_err *err);

/* An RL run's policy evaluated without updates: `iterations` new episodes of every copy, drawn from stream
 * `purpose` (PLAST_STREAM_VALID or _TEST) at item `index`; mean A2C loss (NaN under PPO), episode reward and
 * energy per step, and (trace, may be NULL; A2C only) the energy at each step of the episode. */
plast_status run_rl_evaluate(plast_run *r, plast_params *p, int purpose, int64_t index, int64_t iterations,
                             double *loss, double *reward, double *energy, double *trace, plast_err *err);

/* the path of a file of the run ("<dir>/<name>") */
const char *run_path(const plast_run *r, const char *name, char *buf);

/* metrics.jsonl and metrics.csv */
typedef struct run_metrics_row {
    int64_t step;
    double train_loss, train_metric, val_loss, val_metric, lr, grad_norm, seconds;
    double energy; /* an RL run's mean energy per step and copy since the last row; NAN otherwise */
} run_metrics_row;
plast_status run_metrics_append(const plast_run *r, const run_metrics_row *row, plast_err *err);
/* learner.csv: iteration `step` of a PPO run (the learner's statistics: losses, entropy, KL, clip fraction), kept
 * in memory until run_learner_flush appends the rows at once (with each checkpoint: one write and fsync, not one
 * per iteration; rows after the checkpoint are cut again on resume) */
plast_status run_learner_append(plast_run *r, int64_t step, const plast_ppo_stats *st, plast_err *err);
plast_status run_learner_flush(plast_run *r, plast_err *err);
/* Keeps the rows with step <= `step` (all rows are removed for step < 0), rewriting the metrics files (and
 * learner.csv) atomically. */
plast_status run_metrics_truncate(const plast_run *r, int64_t step, plast_err *err);

/* Text written atomically to a file of the run. */
plast_status run_write_text(const plast_run *r, const char *name, const char *text, plast_err *err);
/* mkdir -p */
plast_status run_mkdirs(const char *dir, plast_err *err);

/* Checkpoints: last.safetensors (parameters, optimizer, progress) and best.safetensors (parameters). */
plast_status run_save_last(plast_run *r, plast_err *err);
plast_status run_save_best(plast_run *r, double val_metric, plast_err *err);

/* 1 when metric a is better than b for this task (lower mse, higher accuracy); NAN b loses */
int run_metric_better(const plast_run *r, double a, double b);

#endif
