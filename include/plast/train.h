/* plast/train.h: meta-training runs with the papers' protocol, evaluation, and summaries over seeds.
 *
 * A run trains one model on one task (a plast_experiment_cfg) inside a run directory:
 *   config.json        the resolved configuration: every key, with the sizes the task fixed
 *   metrics.jsonl      one object per validation: step, train_loss, train_metric (means since the previous
 *                      validation), val_loss, val_metric, lr, grad_norm (mean before clipping), seconds
 *   metrics.csv        the same rows as CSV
 *   last.safetensors   the resume checkpoint: parameters, optimizer state and progress (metadata)
 *   best.safetensors   the parameters with the best validation metric
 *   test.json          the fixed test set's loss and metric, the checkpoint tested, the chance levels
 *   trace.csv          per step of a test trial: eta(t) mean and std (modulated models), energy per step
 * Files are replaced atomically; on resume the metrics files are cut back to the checkpoint's step.
 *
 * Protocol (Duan et al. 2023; docs/TRAINING.md): every optimizer step draws a fresh batch of
 * trials (or one from the task's fixed training set); validation every train.val_every steps, step 0 included, on
 * fresh trials; the best validation checkpoint (or the last, train.test_on) is tested on a fixed test set drawn
 * from train.test_seed, the same trials for every run, model and seed.
 *
 * Reproducibility: every batch is drawn from an RNG seeded by (train.seed, purpose, step), so a resumed run draws
 * exactly the batches the uninterrupted run would and reaches the same result; the checkpoint holds no RNG state.
 * The library prints nothing: progress reaches the caller through a callback.
 */
#ifndef PLAST_TRAIN_H
#define PLAST_TRAIN_H

#include "plast/comm.h"
#include "plast/engine.h"
#include "plast/experiment.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- evaluation ---------------------------------------------------------------------------------------------- */

/* Per-step statistics of an evaluation, arrays of T values owned by the caller; any may be NULL. */
typedef struct plast_eval_trace {
    double *eta_mean, *eta_std; /* the model's modulation (plast_model_is_modulated), mean and std over trials */
    double *energy;             /* energy per step, mean over the first energy_trials trials (on the tape path) */
    int64_t energy_trials;      /* trials of the first batch the energy is measured on (0: none) */
    double tpr, fpr;            /* out: true- and false-positive rates (plast_task_rates), NaN for other metrics */
} plast_eval_trace;

/* The task's loss and metric over `batches` batches drawn from rng (split: 0 train, 1 validation, 2 test), forward
 * only, on engine e (its batch size is the batches'). Losses are averaged over batches, metrics weighted by the
 * task's metric weights. `trace` may be NULL. */
PLAST_API plast_status plast_evaluate(plast_engine *e, const plast_model *m, plast_params *p, const plast_task *task,
                                      int64_t batches, plast_rng *rng, int split, double *loss, double *metric,
                                      plast_eval_trace *trace, plast_err *err);

/* The RNG streams of a run: batch `index` for a purpose is plast_rng_derive(seed, PLAST_STREAM_<purpose>, index). */
enum { PLAST_STREAM_INIT, PLAST_STREAM_TRAIN, PLAST_STREAM_VALID, PLAST_STREAM_TEST, PLAST_STREAM_ENV };

/* ---- runs ---------------------------------------------------------------------------------------------------- */

typedef enum plast_train_event_kind {
    PLAST_EVENT_START,      /* step: the first step of this session (the checkpoint's when resuming) */
    PLAST_EVENT_STEP,       /* after an optimizer step: the batch's loss and metric, lr, grad_norm */
    PLAST_EVENT_VALIDATION, /* loss and metric on fresh trials; best = 1 for a new best */
    PLAST_EVENT_CHECKPOINT, /* last.safetensors was written at this step */
    PLAST_EVENT_DONE        /* the last step was reached */
} plast_train_event_kind;

typedef struct plast_train_event {
    plast_train_event_kind kind;
    int64_t step, steps;
    double loss, metric;
    double lr, grad_norm;
    double seconds; /* training time so far, earlier sessions of a resumed run included */
    int best;
    int resumed; /* START: the run continues from a checkpoint */
    /* STEP: how much the metric averages: the task's weight of the batch's scored items, or an RL iteration's
     * episodes that ended; 0, with the metric NaN, when the step has none. A mean over steps weights by it. */
    double metric_weight;
} plast_train_event;

/* Called on every event; returning nonzero stops training after the checkpoint is written (a clean interrupt). */
typedef int (*plast_train_callback)(const plast_train_event *ev, void *user);

typedef struct plast_run plast_run;


/* Opens the run of experiment `cfg` in `dir` (created if missing). A directory that already holds a run continues
 * it if its config.json matches (train.steps may grow, and logging periods may change); another configuration is
 * an error naming the first differing key. With `restart`, the run's files are removed and it starts over. */
PLAST_API plast_run *plast_run_open(const plast_experiment_cfg *cfg, const char *dir, int restart, plast_err *err);
/* plast_run_open for rank comm->rank of comm->size processes training one run together (comm NULL: one process).
 * Every process samples the same global batch of train.batch trials (so the data do not depend on the number of
 * processes) and computes the gradient of its contiguous share; the gradients are summed, and every process clips
 * and steps identically. Rank 0 broadcasts its parameters at the start and alone writes the run's files; validation
 * and test run whole on every process. train.batch must divide by the size; supervised runs only. */
PLAST_API plast_run *plast_run_open_comm(const plast_experiment_cfg *cfg, const char *dir, int restart,
                                         const plast_comm *comm, plast_err *err);
/* Opens an existing run from its config.json, with overrides (n_set "key=value" strings) for evaluation: the
 * run can then be tested on other task settings or another test set without changing its files. */
/* Data-parallel: every process takes rank 0's parameters, optimizer state and step count (plast_run_open_comm
 * does, once the checkpoint is loaded). Collective; alone, nothing to do. */
PLAST_API plast_status plast_run_sync(plast_run *r, plast_err *err);
/* Data-parallel: PLAST_OK when every process holds the same parameters, optimizer state and step count (a hash of
 * their bytes, compared through one allreduce), else an error on every process. Collective; run before every
 * checkpoint. Alone: PLAST_OK. */
PLAST_API plast_status plast_run_check_replicas(plast_run *r, plast_err *err);
PLAST_API plast_run *plast_run_load(const char *dir, int n_set, const char *const *sets, plast_err *err);
PLAST_API void plast_run_free(plast_run *r);

PLAST_API const plast_experiment_cfg *plast_run_cfg(const plast_run *r);
PLAST_API const plast_model *plast_run_model(const plast_run *r);
PLAST_API plast_params *plast_run_params(plast_run *r); /* the run's parameters, owned by the run */
PLAST_API const plast_task *plast_run_task(const plast_run *r);
/* One line describing the run's data: its task, or its environment in an RL run (plast_run_task is then NULL). */
PLAST_API const char *plast_run_data_describe(const plast_run *r);
/* The name of the run's training and validation metric: the task's ("mse", "accuracy"...), or "reward". */
PLAST_API const char *plast_run_metric_name(const plast_run *r);
PLAST_API const char *plast_run_dir(const plast_run *r);
PLAST_API int64_t plast_run_step(const plast_run *r); /* optimizer steps taken */
PLAST_API int plast_run_finished(const plast_run *r); /* step == train.steps */
PLAST_API plast_engine_kind plast_run_engine_kind(const plast_run *r);

/* Trains from the current step to train.steps, validating and checkpointing on the way; returns PLAST_OK also when
 * the callback stopped it (check plast_run_finished). A non-finite loss stops the run with PLAST_ERR_NUMERIC; the
 * last checkpoint stays as it was. */
PLAST_API plast_status plast_run_train(plast_run *r, plast_train_callback cb, void *user, plast_err *err);

typedef struct plast_test_result {
    double loss, metric;
    double chance_loss, chance_metric;
    const char *metric_name; /* "mse", "accuracy"; "reward" in an RL run */
    double energy;           /* mean energy per step and trial (episode), Rodriguez et al.'s measure; NaN without */
    double tpr, fpr;         /* true- and false-positive rates of a bit_accuracy task (familiarity); NaN otherwise */
    int64_t trials;          /* trials, or episodes in an RL run */
    const char *trials_name; /* "trials" or "episodes" */
    int64_t step;      /* the step of the checkpoint tested */
    char which[8];     /* "best" or "last" */
    int tested;        /* 1 once the test ran: the fields hold its result even when writing its files failed */
} plast_test_result;

/* Tests the run's best (or last, train.test_on) parameters on the fixed test set. With `write`, stores test.json
 * and trace.csv in the run directory; when that fails (a read-only run) the error is returned with res->tested set
 * and the result in res. */
PLAST_API plast_status plast_run_test(plast_run *r, int write, plast_test_result *res, plast_err *err);

/* ---- summaries over seeds ------------------------------------------------------------------------------------ */

typedef struct plast_summary {
    int n;
    double mean, sd, sem;
    double ci95; /* half-width of the 95% confidence interval of the mean: t(0.975, n - 1) * sem */
    double median, q1, q3; /* quartiles, interpolated linearly between order statistics (numpy's default) */
} plast_summary;

PLAST_API plast_summary plast_summarize(const double *x, int n);

#ifdef __cplusplus
}
#endif
#endif
