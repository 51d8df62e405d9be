/* src/train/train_loop.c: the meta-training loop: draw a batch, forward and backward on the engine, clip, update,
 * validate every train.val_every steps, keep the best parameters, checkpoint, report through the callback. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "plast/runtime.h"
#include "train/run_internal.h"

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double scheduled_lr(const plast_train_cfg *tc, int64_t step) {
    if (strcmp(tc->schedule, "cosine") == 0) return plast_schedule_cosine(step, tc->steps, tc->lr, tc->lr_min);
    return tc->lr;
}

typedef struct loop {
    plast_run *r;
    plast_train_callback cb;
    void *user;
    int stop;
    double clock; /* time of the last progress update */
    /* train.adapt_threads: the threads asked for, the meter, the time of its last reading */
    int max_threads;
    plast_cpu_meter meter;
    double metered;
} loop;

/* every few seconds, compute on the cores other processes leave free (never more than asked for) */
static void adapt_threads(loop *L) {
    if (!L->r->cfg.train.adapt_threads) return;
    const double t = now_seconds();
    if (t - L->metered < 3) return;
    L->metered = t;
    const int n = plast_cpu_meter_free(&L->meter, L->max_threads);
    if (n != plast_runtime_threads()) plast_runtime_set_threads(n);
}

static void emit(loop *L, plast_train_event ev) {
    ev.step = L->r->prog.step;
    ev.steps = L->r->cfg.train.steps;
    ev.seconds = L->r->prog.seconds;
    if (L->cb && L->cb(&ev, L->user)) L->stop = 1;
}

static void tick(loop *L) {
    double t = now_seconds();
    L->r->prog.seconds += t - L->clock;
    L->clock = t;
}

/* What a step adds to the progress: its loss, and its metric weighted by mw, the items it averages (an RL
 * iteration's ended episodes; with none it has no metric, not a metric of 0). */
static void record_step(loop *L, double loss, double metric, double mw, double gn, double lr) {
    run_progress *p = &L->r->prog;
    p->step++;
    p->loss_sum += loss;
    if (mw > 0) p->metric_sum += metric * mw, p->metric_weight += mw;
    p->grad_norm_sum += gn;
    p->count++;
    tick(L);
    emit(L, (plast_train_event){.kind = PLAST_EVENT_STEP, .loss = loss, .metric = mw > 0 ? metric : NAN,
                                .metric_weight = mw, .lr = lr, .grad_norm = gn});
}

/* Iteration `step` of a PPO run: sampling (episodes continue across iterations), the epochs of updates; the
 * training metric is the mean return of the episodes that ended, weighted by their number. */
static plast_status ppo_step(loop *L, double lr, plast_err *err) {
    plast_run *r = L->r;
    const plast_train_cfg *tc = &r->cfg.train;
    plast_ppo_stats st;
    plast_status s = plast_ppo_iterate(r->ppo, r->params, r->optim, lr, tc->clip, (uint64_t)tc->seed, r->prog.step,
                                       &st, err);
    if (s != PLAST_OK)
        return plast_err_prefix(err, s, "iteration %lld: the run diverged or failed (last.safetensors holds the last "
                                        "good checkpoint): ", (long long)r->prog.step);
    r->prog.energy_sum += st.energy;
    record_step(L, st.loss, st.reward, (double)st.episodes, st.grad_norm, st.lr);
    return run_learner_append(r, r->prog.step, &st, err);
}

/* Iteration `step` of an RL run: a new episode in every copy, the update (after the learner's burn-in). */
static plast_status rl_step(loop *L, double lr, plast_err *err) {
    plast_run *r = L->r;
    const plast_train_cfg *tc = &r->cfg.train;
    if (r->ppo) return ppo_step(L, lr, err);
    plast_a2c_stats st;
    plast_status s = plast_a2c_iterate(r->a2c, r->params, r->optim, lr, tc->clip, (uint64_t)tc->seed, r->prog.step,
                                       1, &st, err);
    if (s != PLAST_OK)
        return plast_err_prefix(err, s, "iteration %lld: the run diverged or failed (last.safetensors holds the last "
                                        "good checkpoint): ", (long long)r->prog.step);
    r->prog.energy_sum += st.energy;
    record_step(L, st.loss, st.reward, 1, st.grad_norm, lr);
    return PLAST_OK;
}


/* Data-parallel: the global loss is sum_i w_i l_i / W over the global batch, so this process's share of it (and
 * of its gradient) is its shard's loss scaled by W_shard / W; the shares are summed over the processes, gradients
 * in one call over the flat buffer together with the loss and the metric's sums. */
static plast_status reduce_step(plast_run *r, double *loss, double *metric, double *mw, plast_err *err) {
    double sums[3] = {*loss, isfinite(*metric) ? *metric * *mw : 0, isfinite(*metric) ? *mw : 0};
    plast_status s = plast_params_allreduce_grads(r->params, &r->comm, 1, 1.0, sums, 3, r->reduce, err);
    if (s != PLAST_OK) return s;
    *loss = sums[0], *mw = sums[2];
    *metric = *mw > 0 ? sums[1] / *mw : NAN;
    return PLAST_OK;
}

/* One optimizer step on a fresh batch. */
static plast_status train_step(loop *L, plast_err *err) {
    plast_run *r = L->r;
    const plast_train_cfg *tc = &r->cfg.train;
    run_progress *p = &r->prog;
    double lr = scheduled_lr(tc, p->step);
    if (r->env) return rl_step(L, lr, err);
    plast_rng rng = plast_rng_derive((uint64_t)tc->seed, PLAST_STREAM_TRAIN, (uint64_t)p->step);
    plast_status s = plast_task_sample(r->task, &rng, 0, r->batch, err); /* the global batch, on every process */
    if (s != PLAST_OK) return s;
    const int dp = r->comm.size > 1;
    plast_batch *mine = dp ? r->shard : r->batch;
    if (dp) plast_batch_take_rows(r->batch, r->shard, (int64_t)r->comm.rank * r->shard->B);
    plast_params_zero_grad(r->params);
    s = plast_engine_forward(r->engine, r->params, mine->x, r->y, NULL, NULL, 1, err);
    if (s != PLAST_OK) return s;
    double metric = NAN, mw = 0;
    double loss = plast_task_loss(r->task, mine, r->y, r->dy, &metric, &mw);
    if (dp) { /* this shard's share of the global loss */
        const int64_t n = mine->T * mine->B, O = plast_task_output(r->task);
        const double share = run_loss_share(mine, r->batch);
        loss *= share;
        for (int64_t i = 0; i < n * O; i++) r->dy[i] = (plast_real)((double)r->dy[i] * share);
    }
    if (!isfinite(loss))
        return plast_err_set(err, PLAST_ERR_NUMERIC,
                             "step %lld: the training loss is %g: the run diverged (lower train.lr or train.clip); "
                             "last.safetensors holds the last good checkpoint",
                             (long long)p->step, loss);
    s = plast_engine_backward(r->engine, r->params, r->dy, err);
    if (s == PLAST_OK && dp) s = reduce_step(r, &loss, &metric, &mw, err);
    if (s != PLAST_OK) return s;
    double gn = plast_params_clip_grad_norm(r->params, tc->clip > 0 ? tc->clip : INFINITY);
    if (!isfinite(gn))
        return plast_err_set(err, PLAST_ERR_NUMERIC, "step %lld: the gradient norm is %g: the run diverged (lower "
                                                     "train.lr or train.clip); last.safetensors holds the last good "
                                                     "checkpoint",
                             (long long)p->step, gn);
    s = plast_optim_step(r->optim, r->params, lr, err);
    if (s != PLAST_OK) return s;
    plast_model_params_constrain(r->model, r->params);
    record_step(L, loss, metric, mw, gn, lr);
    return PLAST_OK;
}

/* Validation on fresh trials, its metrics row, and the best checkpoint. */
static plast_status validate(loop *L, plast_err *err) {
    plast_run *r = L->r;
    const plast_train_cfg *tc = &r->cfg.train;
    run_progress *p = &r->prog;
    plast_rng rng = plast_rng_derive((uint64_t)tc->seed, PLAST_STREAM_VALID, (uint64_t)p->step);
    double loss, metric, energy;
    plast_status s = r->env ? run_rl_evaluate(r, r->params, PLAST_STREAM_VALID, p->step, tc->val_batches, &loss,
                                              &metric, &energy, NULL, err)
                            : run_evaluate(r, r->params, tc->val_batches, &rng, 1, &loss, &metric, NULL, err);
    if (s != PLAST_OK) return s;
    run_metrics_row row = {p->step,
                           p->count ? p->loss_sum / (double)p->count : NAN,
                           p->metric_weight > 0 ? p->metric_sum / p->metric_weight : NAN,
                           loss,
                           metric,
                           scheduled_lr(tc, p->step),
                           p->count ? p->grad_norm_sum / (double)p->count : NAN,
                           p->seconds,
                           r->env && p->count ? p->energy_sum / (double)p->count : NAN};
    p->loss_sum = p->metric_sum = p->metric_weight = p->grad_norm_sum = p->energy_sum = 0;
    p->count = 0;
    int best = run_metric_better(r, metric, p->best);
    if (best) {
        p->best = metric;
        p->best_step = p->step;
        if ((s = run_save_best(r, metric, err)) != PLAST_OK) return s;
    }
    if ((s = run_metrics_append(r, &row, err)) != PLAST_OK) return s;
    tick(L);
    emit(L, (plast_train_event){.kind = PLAST_EVENT_VALIDATION, .loss = loss, .metric = metric, .lr = row.lr,
                                .best = best});
    return PLAST_OK;
}

static plast_status checkpoint(loop *L, plast_err *err) {
    plast_status s = run_save_last(L->r, err);
    if (s == PLAST_OK) emit(L, (plast_train_event){.kind = PLAST_EVENT_CHECKPOINT});
    return s;
}

plast_status plast_run_train(plast_run *r, plast_train_callback cb, void *user, plast_err *err) {
    if (r->read_only)
        return plast_err_set(err, PLAST_ERR_STATE, "run %s: opened for evaluation only (plast_run_open trains)",
                             r->dir);
    const plast_train_cfg *tc = &r->cfg.train;
    loop L = {.r = r, .cb = cb, .user = user, .clock = now_seconds(), .max_threads = plast_runtime_threads(),
              .metered = now_seconds()};
    plast_cpu_meter_init(&L.meter);
    emit(&L, (plast_train_event){.kind = PLAST_EVENT_START, .resumed = r->resumed});
    plast_status s = PLAST_OK;
    if (!r->resumed) { /* the step-0 validation; a checkpoint is written after each validation */
        s = validate(&L, err);
        if (s == PLAST_OK) s = checkpoint(&L, err);
        r->resumed = 1;
    }
    while (s == PLAST_OK && !L.stop && r->prog.step < tc->steps) {
        s = train_step(&L, err);
        if (s != PLAST_OK) break;
        adapt_threads(&L);
        const int64_t step = r->prog.step;
        int due = step % tc->val_every == 0 || step == tc->steps;
        if (due) s = validate(&L, err);
        if (s == PLAST_OK && (due || step % tc->ckpt_every == 0 || L.stop)) s = checkpoint(&L, err);
    }
    if (s != PLAST_OK) run_learner_flush(r, NULL); /* a failed run keeps its last iterations' statistics */
    if (s == PLAST_OK && r->prog.step >= tc->steps) emit(&L, (plast_train_event){.kind = PLAST_EVENT_DONE});
    if (plast_runtime_threads() != L.max_threads) plast_runtime_set_threads(L.max_threads);
    return s;
}
