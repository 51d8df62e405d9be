/* src/train/run.c: opening a run (model, task, optimizer, engine from the configuration), checking a run
 * directory's configuration before continuing it, and the checkpoints that make resuming exact. */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "core/err.h"
#include "core/strbuf.h"
#include "plast/checkpoint.h"
#include "plast/runtime.h"
#include "train/run_internal.h"

const plast_experiment_cfg *plast_run_cfg(const plast_run *r) { return &r->cfg; }
plast_params *plast_run_params(plast_run *r) { return r ? r->params : NULL; }
const plast_model *plast_run_model(const plast_run *r) { return r->model; }
const plast_task *plast_run_task(const plast_run *r) { return r->task; }
const char *plast_run_dir(const plast_run *r) { return r->dir; }
int64_t plast_run_step(const plast_run *r) { return r->prog.step; }
int plast_run_finished(const plast_run *r) { return r->prog.step >= r->cfg.train.steps; }
plast_engine *run_engine(const plast_run *r) {
    return r->a2c ? plast_a2c_engine(r->a2c) : r->ppo ? plast_ppo_engine(r->ppo) : r->engine;
}
plast_engine_kind plast_run_engine_kind(const plast_run *r) { return plast_engine_get_kind(run_engine(r)); }
const char *plast_run_metric_name(const plast_run *r) {
    return r->env ? "reward" : plast_metric_kind_name(plast_task_metric_kind(r->task));
}
const char *plast_run_data_describe(const plast_run *r) {
    return r->env ? plast_env_describe(r->env) : plast_task_describe(r->task);
}

/* a tie counts as better: on a saturating metric (an accuracy at 100%, a reward at its maximum) the latest of the
 * tied steps is kept, the model trained longest (Miconi et al. 2016's completion reached 100% at step 200 and
 * kept improving its MSE) */
int run_metric_better(const plast_run *r, double a, double b) {
    if (isnan(a)) return 0;
    if (isnan(b)) return 1;
    if (r->env) return a >= b; /* the mean episode reward */
    return plast_metric_kind_higher_better(plast_task_metric_kind(r->task)) ? a >= b : a <= b;
}

void plast_run_free(plast_run *r) {
    if (!r) return;
    if (r->lock_fd > 0) close(r->lock_fd); /* releases the run directory */
    plast_engine_free(r->engine);
    plast_batch_free(r->shard);
    free(r->reduce);
    plast_a2c_free(r->a2c);
    plast_ppo_free(r->ppo);
    plast_env_free(r->eval_env);
    plast_env_free(r->env);
    plast_optim_free(r->optim);
    plast_params_free(r->params);
    plast_strbuf_free(&r->learner_rows);
    plast_batch_free(r->batch);
    plast_task_free(r->task);
    plast_model_free(r->model);
    free(r->y);
    free(r->dy);
    free(r);
}

/* train.engine's kind (the schema admits only its names) */
static plast_engine_kind engine_kind_parse(const char *s) {
    const plast_engine_kind k = plast_engine_kind_parse(s);
    return k == PLAST_ENGINE_KIND_COUNT ? PLAST_ENGINE_AUTO : k;
}

/* The memory the run needs, from shapes alone, before anything large is allocated: parameters with their
 * gradients and the optimizer's state, the state of one batch, and the training engine's plan (what the path keeps
 * for backpropagation: plast_engine_plan; the tape path does not plan ahead, so for it this is a lower bound; PPO's
 * small minibatch engines are not counted). A run that cannot fit is refused naming the keys that size it. */
static plast_status run_fits_memory(const plast_run *r, plast_err *err) {
    const plast_train_cfg *tc = &r->cfg.train;
    int64_t n = 0;
    const plast_param_spec *specs = plast_model_param_specs(r->model);
    for (int i = 0; i < plast_model_param_count(r->model); i++) n += plast_shape_numel(specs[i].shape);
    const double per_param = (double)sizeof(plast_real) * (strcmp(tc->optimizer, "sgd") == 0 ? 3 : tc->amsgrad ? 5 : 4);
    const double params = (double)n * per_param;
    const double state = (double)plast_model_state_bytes(r->model, tc->batch);
    /* the training engine: this process's share of the batch over a whole trial (an A2C episode) */
    const int64_t T = r->task ? plast_task_steps(r->task)
                              : strcmp(r->cfg.rl.algorithm, "a2c") == 0 ? plast_env_max_steps(r->env) : 0;
    size_t plan = 0;
    plast_engine_kind path = PLAST_ENGINE_AUTO;
    if (T > 0 && plast_engine_plan(r->model, tc->batch / r->comm.size, T, engine_kind_parse(tc->engine), 0, &path,
                                   &plan, NULL) != PLAST_OK)
        plan = 0; /* a path that cannot serve the model is reported when the engine opens */
    const double avail = plast_runtime_memory_available();
    if (avail > 0 && params + state + (double)plan > avail)
        return plast_err_set(err, PLAST_ERR_NOMEM, "the run needs at least %.1f GB (%lld parameters with gradients "
                             "and optimizer state: %.1f GB, from model.hidden = %lld; the state of train.batch = %lld "
                             "trials: %.1f GB; the %s path's buffers for backpropagation over %lld steps, the trial "
                             "length the task.* or env.* keys give: %.1f GB), "
                             "more than the %.1f GB available", (params + state + (double)plan) / 1e9, (long long)n,
                             params / 1e9, (long long)r->cfg.model.hidden, (long long)tc->batch, state / 1e9,
                             plast_engine_kind_name(path), (long long)T, (double)plan / 1e9, avail / 1e9);
    return PLAST_OK;
}

/* Everything but the directory: task (which fixes the model's sizes), model, parameters (initialised from the
 * seed), optimizer, engine and buffers. */
static plast_status run_build(plast_run *r, plast_err *err) {
    const plast_train_cfg *tc = &r->cfg.train;
    const int rl = plast_experiment_is_rl(&r->cfg);
    const int64_t P = r->comm.size, Bl = tc->batch / P; /* this process's share of the global batch */
    if (tc->batch % P != 0)
        return plast_err_set(err, PLAST_ERR_CONFIG, "key 'train.batch' = %lld: data-parallel training over %d "
                             "processes needs a multiple of %d", (long long)tc->batch, (int)P, (int)P);
    /* an RL run's environment holds this process's copies of the global batch, drawing as those copies */
    if (rl ? !(r->env = experiment_env_range(&r->cfg, r->comm.rank * Bl, Bl, err))
           : !(r->task = plast_experiment_task(&r->cfg, err)))
        return plast_err_status(err, PLAST_ERR_CONFIG);
    if (!(r->model = plast_model_init(&r->cfg.model, err))) return plast_err_status(err, PLAST_ERR_CONFIG);
    plast_status fits = run_fits_memory(r, err);
    if (fits != PLAST_OK) return fits;
    if (!(r->params = plast_model_params_init(r->model, err))) return plast_err_status(err, PLAST_ERR_NOMEM);
    plast_rng init = plast_rng_derive((uint64_t)tc->seed, PLAST_STREAM_INIT, 0);
    plast_model_params_reset(r->model, r->params, &init);
    plast_optim_config oc = plast_optim_config_default(plast_optim_kind_parse(tc->optimizer));
    oc.lr = tc->lr;
    oc.weight_decay = tc->weight_decay;
    oc.momentum = tc->momentum;
    oc.amsgrad = tc->amsgrad;
    oc.eps = tc->eps;
    if (!(r->optim = plast_optim_init(&oc, r->params, err))) return plast_err_status(err, PLAST_ERR_NOMEM);
    r->prog = (run_progress){0, 0, 0, 0, 0, 0, 0, NAN, -1, 0};
    const plast_engine_kind kind = engine_kind_parse(tc->engine);
    if (rl && strcmp(r->cfg.rl.algorithm, "ppo") == 0) {
        plast_rng seeder = plast_rng_derive((uint64_t)tc->seed, PLAST_STREAM_ENV, 1);
        /* validation and test play whole episodes in a batch of their own; data-parallel, this process's share */
        if (!(r->eval_env = plast_env_init_range(&r->cfg.env, r->comm.rank * Bl, Bl, plast_rng_u64(&seeder), err)))
            return plast_err_status(err, PLAST_ERR_CONFIG);
        if (!(r->ppo = plast_ppo_init(&r->cfg.rl.ppo, r->model, r->env, kind, err)))
            return plast_err_prefix(err, plast_err_status(err, PLAST_ERR_CONFIG), "key 'train.engine' = \"%s\": ",
                                    tc->engine);
        return P > 1 ? plast_ppo_set_comm(r->ppo, &r->comm, err) : PLAST_OK;
    }
    if (rl) {
        if (!(r->a2c = plast_a2c_init(&r->cfg.rl.a2c, r->model, r->env, kind, 1, err)))
            return plast_err_prefix(err, plast_err_status(err, PLAST_ERR_CONFIG), "key 'train.engine' = \"%s\": ",
                                    tc->engine);
        return r->comm.size > 1 ? plast_a2c_set_comm(r->a2c, &r->comm, err) : PLAST_OK;
    }
    const int64_t B = tc->batch, T = plast_task_steps(r->task);
    r->engine = plast_engine_init(r->model, Bl, T, kind, 0, err);
    if (!r->engine)
        return plast_err_prefix(err, plast_err_status(err, PLAST_ERR_CONFIG), "key 'train.engine' = \"%s\": ",
                                tc->engine);
    if (!(r->batch = plast_batch_init(r->task, B, err))) return plast_err_status(err, PLAST_ERR_NOMEM);
    if (P > 1) {
        if (!(r->shard = plast_batch_init(r->task, Bl, err))) return plast_err_status(err, PLAST_ERR_NOMEM);
        r->reduce = malloc(sizeof(double) * (size_t)(plast_params_numel(r->params) + 3));
        if (!r->reduce) return plast_err_set(err, PLAST_ERR_NOMEM, "run: out of memory");
    }
    const size_t ny = (size_t)(T * Bl * plast_task_output(r->task));
    r->y = malloc(ny * sizeof(plast_real));
    r->dy = malloc(ny * sizeof(plast_real));
    if (!r->y || !r->dy) return plast_err_set(err, PLAST_ERR_NOMEM, "run: out of memory for %lld outputs", (long long)ny);
    return PLAST_OK;
}

/* Keys that may change when a run is continued: they change neither the trials drawn nor the updates made. The
 * step count may grow only under a constant learning rate (a cosine schedule depends on it). */
static int may_differ(const char *key, const plast_experiment_cfg *cfg) {
    if (strncmp(key, "sweep.", 6) == 0) return 1;
    if (!strcmp(key, "train.log_every") || !strcmp(key, "train.ckpt_every")) return 1;
    if (!strcmp(key, "train.test_batches") || !strcmp(key, "train.test_seed") || !strcmp(key, "train.test_on"))
        return 1;
    return !strcmp(key, "train.steps") && !strcmp(cfg->train.schedule, "constant");
}

/* Compares the run directory's config.json with cfg; a difference in a key that matters is an error. */
static plast_status check_same_config(const plast_run *r, const char *path, plast_err *err) {
    plast_experiment_cfg old;
    plast_status s = plast_experiment_cfg_load(&old, path, 0, NULL, err);
    if (s != PLAST_OK)
        return plast_err_prefix(err, s, "run directory %s holds an unreadable configuration (use --restart): ", r->dir);
    plast_experiment_cfg_settle(&old); /* as r->cfg (a run written before runs settled theirs may hold more keys) */
    plast_cfg_schema sc = plast_experiment_cfg_schema();
    for (int i = 0; i < sc.n; i++) {
        char a[PLAST_TASK_PATH_MAX + 8], b[PLAST_TASK_PATH_MAX + 8];
        const char *key = sc.fields[i].key;
        plast_cfg_format_value(sc, &old, key, a, sizeof a);
        plast_cfg_format_value(sc, &r->cfg, key, b, sizeof b);
        if (strcmp(a, b) != 0 && !may_differ(key, &r->cfg))
            return plast_err_set(err, PLAST_ERR_MISMATCH,
                                 "run directory %s was started with %s = %s, but this configuration has %s: "
                                 "choose another --out, or --restart to discard that run",
                                 r->dir, key, a, b);
    }
    return PLAST_OK;
}

static plast_status write_config(const plast_run *r, plast_err *err) {
    plast_cfg_schema sc = plast_experiment_cfg_schema();
    long n = plast_cfg_to_json(sc, &r->cfg, NULL, 0);
    char *text = n > 0 ? malloc((size_t)n + 2) : NULL;
    if (!text) return plast_err_set(err, PLAST_ERR_NOMEM, "run: cannot format the configuration");
    plast_cfg_to_json(sc, &r->cfg, text, (size_t)n + 1);
    strcat(text, "\n");
    plast_status s = run_write_text(r, "config.json", text, err);
    free(text);
    return s;
}

/* ---- checkpoints -------------------------------------------------------------------------------------------- */

#define RUN_LEARNER_TENSOR "learner/ppo" /* a PPO run's learner state, bytes */

/* The progress a checkpoint carries, as metadata "run_<member>": one row per member of run_progress. */
#define RUN_PROGRESS_FIELDS(X)                                                                                     \
    X(step, INT) X(loss_sum, REAL) X(metric_sum, REAL) X(metric_weight, REAL) X(grad_norm_sum, REAL)                \
    X(count, INT) X(best, REAL) X(best_step, INT) X(seconds, REAL) X(energy_sum, REAL)
enum { PROGRESS_INT, PROGRESS_REAL };
typedef struct progress_field {
    const char *key;
    int kind;      /* PROGRESS_INT: an int64_t member; PROGRESS_REAL: a double */
    size_t offset; /* into run_progress */
} progress_field;
#define PROGRESS_ROW(member, kind) {"run_" #member, PROGRESS_##kind, offsetof(run_progress, member)},
static const progress_field PROGRESS_FIELDS[] = {RUN_PROGRESS_FIELDS(PROGRESS_ROW)};
#undef PROGRESS_ROW
enum { PROGRESS_N = (int)(sizeof PROGRESS_FIELDS / sizeof PROGRESS_FIELDS[0]) };

/* a PPO run's learner state, gathered from every process (collective when data-parallel) */
static plast_status learner_blob(plast_run *r, void **blob, int64_t *bytes, plast_err *err) {
    *bytes = (int64_t)plast_ppo_state_bytes(r->ppo);
    if (!(*blob = malloc((size_t)*bytes))) return plast_err_set(err, PLAST_ERR_NOMEM, "checkpoint: out of memory");
    return plast_ppo_state_save(r->ppo, *blob, (size_t)*bytes, err);
}

plast_status run_save_last(plast_run *r, plast_err *err) {
    plast_status s = run_learner_flush(r, err); /* the rows up to this checkpoint are on disk before it */
    if (s == PLAST_OK) s = plast_run_check_replicas(r, err);
    void *blob = NULL;
    int64_t bytes = 0;
    if (s == PLAST_OK && r->ppo) s = learner_blob(r, &blob, &bytes, err);
    if (s != PLAST_OK || !r->writer) {
        free(blob);
        return s;
    }
    char v[PROGRESS_N][40];
    const char *keys[PROGRESS_N], *vals[PROGRESS_N];
    for (int k = 0; k < PROGRESS_N; k++) {
        const progress_field *f = &PROGRESS_FIELDS[k];
        const char *member = (const char *)&r->prog + f->offset;
        if (f->kind == PROGRESS_INT) snprintf(v[k], sizeof v[k], "%lld", (long long)*(const int64_t *)member);
        else plast_format_double(*(const double *)member, v[k], sizeof v[k]);
        keys[k] = f->key;
        vals[k] = v[k];
    }
    char path[RUN_PATH_MAX];
    run_path(r, "last.safetensors", path);
    if (!r->ppo) return plast_ckpt_save(path, r->params, r->optim, PROGRESS_N, keys, vals, err);
    /* PPO carries episodes, the model's state and the KL coefficient across iterations: they resume too */
    plast_st_writer *w = plast_ckpt_writer_init(err);
    if (!w) {
        free(blob);
        return plast_err_status(err, PLAST_ERR_NOMEM);
    }
    for (int k = 0; k < PROGRESS_N && s == PLAST_OK; k++) s = plast_st_writer_set_meta(w, keys[k], vals[k], err);
    if (s == PLAST_OK) s = plast_ckpt_add_params(w, "param/", r->params, err);
    if (s == PLAST_OK) s = plast_ckpt_add_optim(w, r->optim, r->params, err);
    if (s == PLAST_OK) s = plast_st_writer_add(w, RUN_LEARNER_TENSOR, PLAST_DTYPE_U8, 1, &bytes, blob, err);
    if (s == PLAST_OK) s = plast_st_writer_save(w, path, err);
    free(blob);
    plast_st_writer_free(w);
    return s;
}

/* the learner's state of a PPO run's last.safetensors */
static plast_status read_learner(const plast_run *r, const plast_st_reader *rd, plast_err *err) {
    const int i = plast_st_reader_find(rd, RUN_LEARNER_TENSOR);
    if (i < 0 || plast_st_reader_dtype(rd, i) != PLAST_DTYPE_U8)
        return plast_err_set(err, PLAST_ERR_FORMAT, "%s: no PPO learner state (tensor %s of U8)",
                             plast_st_reader_path(rd), RUN_LEARNER_TENSOR);
    plast_status s = plast_ppo_state_load(r->ppo, plast_st_reader_bytes(rd, i), (size_t)plast_st_reader_numel(rd, i), err);
    return s == PLAST_OK ? s : plast_err_prefix(err, s, "%s: tensor %s: ", plast_st_reader_path(rd), RUN_LEARNER_TENSOR);
}

plast_status run_save_best(plast_run *r, double val_metric, plast_err *err) {
    if (!r->writer) return PLAST_OK;
    char step[32], val[40], path[RUN_PATH_MAX];
    snprintf(step, sizeof step, "%lld", (long long)r->prog.step);
    plast_format_double(val_metric, val, sizeof val);
    const char *keys[2] = {"run_step", "val_metric"}, *vals[2] = {step, val};
    return plast_ckpt_save(run_path(r, "best.safetensors", path), r->params, NULL, 2, keys, vals, err);
}

/* Reads the progress metadata of an open last.safetensors; p is written only when every key is read. */
static plast_status read_progress(const plast_st_reader *rd, run_progress *p, plast_err *err) {
    run_progress got = *p;
    for (int k = 0; k < PROGRESS_N; k++) {
        const progress_field *f = &PROGRESS_FIELDS[k];
        const char *text = plast_st_reader_meta(rd, f->key);
        if (!text && strcmp(f->key, "run_energy_sum") == 0) text = "0"; /* checkpoints written before it existed */
        char *end = NULL;
        double v = text ? strtod(text, &end) : 0;
        if (!text || end == text || *end)
            return plast_err_set(err, PLAST_ERR_FORMAT, "%s: metadata '%s' is %s%s%s, not a number",
                                 plast_st_reader_path(rd), f->key, text ? "\"" : "missing", text ? text : "",
                                 text ? "\"" : "");
        char *member = (char *)&got + f->offset;
        if (f->kind == PROGRESS_INT) {
            if (!(v >= -1 && v <= 4e18) || v != floor(v))
                return plast_err_set(err, PLAST_ERR_FORMAT, "%s: metadata '%s' is %s, not a step count",
                                     plast_st_reader_path(rd), f->key, text);
            *(int64_t *)member = (int64_t)v;
        } else {
            *(double *)member = v;
        }
    }
    /* the progress must be one a run could have made: steps within [0, train.steps], the best step among them */
    const char *bad = got.step < 0 ? "run_step" : got.count < 0 || got.count > got.step ? "run_count"
                    : got.best_step < -1 || got.best_step > got.step ? "run_best_step"
                    : !(got.seconds >= 0) ? "run_seconds" : NULL;
    if (bad)
        return plast_err_set(err, PLAST_ERR_FORMAT, "%s: metadata '%s' is out of range (step %lld, count %lld, best "
                             "step %lld)", plast_st_reader_path(rd), bad, (long long)got.step, (long long)got.count,
                             (long long)got.best_step);
    *p = got;
    return PLAST_OK;
}

/* Loads last.safetensors if the run has one (*found = 1); a run without one starts from its initialisation. */
static plast_status load_last(plast_run *r, int with_optim, int *found, plast_err *err) {
    char path[RUN_PATH_MAX];
    run_path(r, "last.safetensors", path);
    *found = access(path, F_OK) == 0;
    if (!*found) return PLAST_OK;
    plast_st_reader *rd = plast_st_reader_open(path, err);
    plast_status s = rd ? PLAST_OK : plast_err_status(err, PLAST_ERR_IO);
    if (s == PLAST_OK) s = plast_ckpt_read(rd, r->params, with_optim ? r->optim : NULL, err);
    if (s == PLAST_OK) s = read_progress(rd, &r->prog, err);
    if (s == PLAST_OK && r->prog.step > r->cfg.train.steps)
        s = plast_err_set(err, PLAST_ERR_MISMATCH, "%s: the checkpoint is at step %lld, beyond train.steps = %lld",
                          path, (long long)r->prog.step, (long long)r->cfg.train.steps);
    if (s == PLAST_OK && r->ppo) s = read_learner(r, rd, err);
    plast_st_reader_close(rd);
    if (s != PLAST_OK)
        return plast_err_prefix(err, s, r->read_only ? "cannot load the run's checkpoint (do the --set overrides change "
                                                       "the model?): "
                                                     : "cannot resume (use --restart to start over): ");
    return PLAST_OK;
}

/* ---- opening ------------------------------------------------------------------------------------------------ */

static const char *const RUN_FILES[] = {"config.json",     "metrics.jsonl", "metrics.csv", "last.safetensors",
                                        "best.safetensors", "test.json",     "trace.csv",   "curves.png",
                                        "eta.png",          "energy.png",    "learner.csv", "learner.png"};

static plast_run *run_alloc(const plast_experiment_cfg *cfg, const char *dir, plast_err *err) {
    plast_run *r = calloc(1, sizeof *r);
    if (!r) {
        plast_err_set(err, PLAST_ERR_NOMEM, "run: out of memory");
        return NULL;
    }
    r->cfg = *cfg;
    plast_experiment_cfg_settle(&r->cfg);
    r->comm.size = 1, r->writer = 1; /* alone unless plast_run_open_comm says otherwise */
    if (snprintf(r->dir, sizeof r->dir, "%s", dir) >= (int)sizeof r->dir) {
        plast_err_set(err, PLAST_ERR_INVALID_ARG, "run directory %.60s...: path too long", dir);
        free(r);
        return NULL;
    }
    size_t n = strlen(r->dir);
    while (n > 1 && r->dir[n - 1] == '/') r->dir[--n] = '\0';
    return r;
}

plast_run *plast_run_open(const plast_experiment_cfg *cfg, const char *dir, int restart, plast_err *err) {
    return plast_run_open_comm(cfg, dir, restart, NULL, err);
}

/* One process trains a run directory at a time: an advisory lock (flock) on <dir>/.lock, which the system releases
 * when the process ends however it ends, so a killed run never blocks its resume. The file holds the pid. */
static plast_status lock_dir(plast_run *r, plast_err *err) {
    char path[RUN_PATH_MAX];
    run_path(r, ".lock", path);
    const int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return plast_err_set(err, PLAST_ERR_IO, "%s: cannot open the run's lock: %s", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        char pid[32] = "";
        const ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        close(fd);
        return plast_err_set(err, PLAST_ERR_STATE, "run directory %s is in use by process %s: wait for it to end, or "
                             "choose another --out", r->dir, pid[0] ? pid : "(unknown)");
    }
    char pid[32];
    const int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
        close(fd);
        return plast_err_set(err, PLAST_ERR_IO, "%s: cannot write the lock: %s", path, strerror(errno));
    }
    r->lock_fd = fd;
    return PLAST_OK;
}

/* temporary files of atomic writes that a killed process left behind ("<file>.tmp.XXXXXX"): only this run's own
 * files, and only while the run is locked, so no live writer is disturbed */
static void remove_stale_tmp(const plast_run *r) {
    DIR *d = opendir(r->dir);
    if (!d) return;
    struct dirent *e;
    char path[RUN_PATH_MAX];
    while ((e = readdir(d)) != NULL) {
        const char *t = strstr(e->d_name, ".tmp.");
        if (!t || strlen(t) != 11) continue; /* mkstemp's six characters */
        for (size_t i = 0; i < sizeof RUN_FILES / sizeof RUN_FILES[0]; i++)
            if (strncmp(e->d_name, RUN_FILES[i], (size_t)(t - e->d_name)) == 0 &&
                strlen(RUN_FILES[i]) == (size_t)(t - e->d_name))
                unlink(run_path(r, e->d_name, path));
    }
    closedir(d);
}

/* a collective's status, or the first error */
static plast_status comm_ok(plast_status s, plast_status c, plast_err *err, const char *what) {
    if (s != PLAST_OK) return s;
    return c == PLAST_OK ? PLAST_OK : plast_err_set(err, c, "data-parallel training: %s failed", what);
}

plast_status plast_run_sync(plast_run *r, plast_err *err) {
    if (!r) return plast_err_set(err, PLAST_ERR_INVALID_ARG, "run sync: needs a run");
    if (r->comm.size == 1) return PLAST_OK;
    const int64_t bytes = (int64_t)sizeof(plast_real) * plast_params_numel(r->params);
    int64_t steps = plast_optim_steps(r->optim);
    plast_status s = comm_ok(PLAST_OK, r->comm.broadcast(plast_params_values(r->params), bytes, 0, r->comm.user), err,
                             "the broadcast of the parameters");
    for (int k = 0; k < plast_optim_state_count(r->optim) && s == PLAST_OK; k++)
        s = comm_ok(s, r->comm.broadcast(plast_optim_state(r->optim, k), bytes, 0, r->comm.user), err,
                    "the broadcast of the optimizer state");
    if (s == PLAST_OK)
        s = comm_ok(s, r->comm.broadcast(&steps, sizeof steps, 0, r->comm.user), err, "the broadcast of the step");
    if (s == PLAST_OK) plast_optim_set_steps(r->optim, steps);
    return s;
}

/* FNV-1a over n bytes, from h */
static uint64_t fnv1a(uint64_t h, const void *p, size_t n) {
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++) h = (h ^ c[i]) * 1099511628211ULL;
    return h;
}

/* 1 when every process passed the same hash h: its four 16-bit pieces and their squares, summed; sum x = P x and
 * sum x^2 = P x^2 hold on a process only if every process has the same x (Cauchy-Schwarz), so every process sees a
 * difference; exact in doubles */
static plast_status same_everywhere(const plast_run *r, uint64_t h, int *same, plast_err *err) {
    double v[8], x[4];
    for (int i = 0; i < 4; i++) x[i] = (double)((h >> (16 * i)) & 0xffff), v[i] = x[i], v[4 + i] = x[i] * x[i];
    plast_status s = comm_ok(PLAST_OK, r->comm.allreduce_sum(v, 8, r->comm.user), err, "a consistency check");
    const double P = (double)r->comm.size;
    *same = 1;
    for (int i = 0; i < 4; i++) *same &= v[i] == P * x[i] && v[4 + i] == P * x[i] * x[i];
    return s;
}

plast_status plast_run_check_replicas(plast_run *r, plast_err *err) {
    if (!r) return plast_err_set(err, PLAST_ERR_INVALID_ARG, "run check: needs a run");
    if (r->comm.size == 1) return PLAST_OK;
    const size_t bytes = sizeof(plast_real) * (size_t)plast_params_numel(r->params);
    const int64_t steps = plast_optim_steps(r->optim);
    uint64_t h = fnv1a(14695981039346656037ULL, plast_params_values(r->params), bytes);
    for (int k = 0; k < plast_optim_state_count(r->optim); k++) h = fnv1a(h, plast_optim_state(r->optim, k), bytes);
    h = fnv1a(h, &steps, sizeof steps);
    int same = 0;
    plast_status s = same_everywhere(r, h, &same, err);
    if (s == PLAST_OK && !same)
        s = plast_err_set(err, PLAST_ERR_STATE, "data-parallel training: at step %lld the processes hold different "
                          "parameters or optimizer states (process %d's hash %016llx differs from another's)",
                          (long long)r->prog.step, r->comm.rank, (unsigned long long)h);
    return s;
}

/* data-parallel: every process was given the same configuration (its JSON form, hashed) */
static plast_status check_same_cfg_everywhere(const plast_run *r, plast_err *err) {
    plast_cfg_schema sc = plast_experiment_cfg_schema();
    long n = plast_cfg_to_json(sc, &r->cfg, NULL, 0);
    char *text = n > 0 ? malloc((size_t)n + 1) : NULL;
    if (!text) return plast_err_set(err, PLAST_ERR_NOMEM, "run: cannot format the configuration");
    plast_cfg_to_json(sc, &r->cfg, text, (size_t)n + 1);
    int same = 0;
    plast_status s = same_everywhere(r, fnv1a(14695981039346656037ULL, text, strlen(text)), &same, err);
    free(text);
    if (s == PLAST_OK && !same)
        s = plast_err_set(err, PLAST_ERR_CONFIG, "data-parallel training: process %d was given another configuration "
                          "than another process (compare their --set options): every process must run the same one",
                          r->comm.rank);
    return s;
}

plast_run *plast_run_open_comm(const plast_experiment_cfg *cfg, const char *dir, int restart, const plast_comm *comm,
                               plast_err *err) {
    if (comm && (comm->size < 1 || comm->rank < 0 || comm->rank >= comm->size || !comm->allreduce_sum ||
                 !comm->broadcast || !comm->barrier)) {
        plast_err_set(err, PLAST_ERR_INVALID_ARG, "run: a communicator needs 0 <= rank < size and its three operations");
        return NULL;
    }
    plast_run *r = run_alloc(cfg, dir, err);
    if (!r) return NULL;
    if (comm) r->comm = *comm;
    else r->comm.size = 1;
    r->writer = r->comm.rank == 0;
    const int dp = r->comm.size > 1;
    char path[RUN_PATH_MAX];
    plast_status s = run_build(r, err);
    if (dp && s == PLAST_OK) s = check_same_cfg_everywhere(r, err);
    /* rank 0 prepares the directory (restart, config check); the others follow once it has */
    if (s == PLAST_OK && r->writer) s = run_mkdirs(r->dir, err);
    if (s == PLAST_OK && r->writer) s = lock_dir(r, err);
    if (s == PLAST_OK && r->writer) remove_stale_tmp(r);
    if (s == PLAST_OK && restart && r->writer)
        for (size_t i = 0; i < sizeof RUN_FILES / sizeof RUN_FILES[0]; i++) unlink(run_path(r, RUN_FILES[i], path));
    if (s == PLAST_OK && access(run_path(r, "config.json", path), F_OK) == 0 && r->writer) s = check_same_config(r, path, err);
    if (s == PLAST_OK) s = write_config(r, err);
    if (dp) s = comm_ok(s, r->comm.barrier(r->comm.user), err, "the barrier after opening");
    int found = 0;
    if (s == PLAST_OK) s = load_last(r, 1, &found, err);
    if (dp && s == PLAST_OK) s = plast_run_sync(r, err); /* every process starts from rank 0's */
    r->resumed = found;
    /* rows written after the checkpoint are replayed, so they go; without a checkpoint every row goes */
    if (s == PLAST_OK) s = run_metrics_truncate(r, found ? r->prog.step : -1, err);
    if (s != PLAST_OK) {
        plast_run_free(r);
        return NULL;
    }
    return r;
}

plast_run *plast_run_load(const char *dir, int n_set, const char *const *sets, plast_err *err) {
    char path[RUN_PATH_MAX];
    if (snprintf(path, sizeof path, "%s/config.json", dir) >= (int)sizeof path) {
        plast_err_set(err, PLAST_ERR_INVALID_ARG, "run directory %.60s...: path too long", dir);
        return NULL;
    }
    if (access(path, F_OK) != 0) {
        plast_err_set(err, PLAST_ERR_IO, "%s: no such file: is %s a run directory (plast train --out)?", path, dir);
        return NULL;
    }
    plast_experiment_cfg cfg;
    if (plast_experiment_cfg_load(&cfg, path, n_set, sets, err) != PLAST_OK) return NULL;
    plast_run *r = run_alloc(&cfg, dir, err);
    if (!r) return NULL;
    r->read_only = 1;
    int found;
    if (run_build(r, err) != PLAST_OK || load_last(r, 0, &found, err) != PLAST_OK) {
        plast_run_free(r);
        return NULL;
    }
    return r;
}
