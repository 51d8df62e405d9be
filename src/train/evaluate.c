/* src/train/evaluate.c: forward-only evaluation (validation and test), the per-step traces of a test (eta(t),
 * energy), and a run's test on its fixed test set. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>

#include "core/err.h"
#include "core/strbuf.h"
#include "plast/checkpoint.h"
#include "train/run_internal.h"

/* Data-parallel evaluation: each global batch is sampled whole on every process (the trials of one process), which
 * evaluates its rows [first, first + its engine's batch) and sums its shares of the loss, the metric and the traces
 * with the others' */
typedef struct eval_share {
    const plast_comm *comm;
    plast_batch *global; /* (B_global) */
    int64_t first;
} eval_share;

static double weight_sum(const plast_real *w, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += w[i];
    return s;
}

double run_loss_share(const plast_batch *rows, const plast_batch *all) {
    const double W = weight_sum(all->loss_w, all->T * all->B);
    return W > 0 ? weight_sum(rows->loss_w, rows->T * rows->B) / W : 0;
}

static plast_status evaluate(plast_engine *e, const plast_model *m, plast_params *p, const plast_task *task,
                             int64_t batches, plast_rng *rng, int split, const eval_share *share, double *loss,
                             double *metric, plast_eval_trace *trace, plast_err *err) {
    const int64_t B = plast_engine_batch(e), T = plast_task_steps(task), O = plast_task_output(task);
    const int64_t Bg = share ? share->global->B : B, first = share ? share->first : 0;
    if (plast_engine_steps(e) != T || plast_model_output(m) != O || batches < 1 || first + B > Bg)
        return plast_err_set(err, PLAST_ERR_MISMATCH, "evaluate: the engine, model and task do not fit together");
    const int want_eta = trace && (trace->eta_mean || trace->eta_std) && plast_model_is_modulated(m);
    /* the energy needs the tape path, whose memory grows with the plastic state: a few trials of the first batch
     * (Be_all of them; this process's rows among them, Be) */
    const int64_t Be_all = trace && trace->energy ? (trace->energy_trials < Bg ? trace->energy_trials : Bg) : 0;
    const int64_t Be = Be_all - first < 0 ? 0 : Be_all - first > B ? B : Be_all - first;
    plast_engine *tape = NULL;
    plast_batch *b = plast_batch_init(task, B, err);
    plast_real *y = malloc(sizeof(plast_real) * (size_t)(T * B * O));
    plast_real *mod = malloc(sizeof(plast_real) * (size_t)(T * B) * 2); /* modulation, then energy */
    plast_real *xe = Be ? malloc(sizeof(plast_real) * (size_t)(T * Be * plast_task_input(task))) : NULL;
    plast_real *ye = Be ? malloc(sizeof(plast_real) * (size_t)(T * Be * O)) : NULL;
    /* eta sum, eta sum of squares, energy (T each); the sums; the rates' counts */
    double *acc = calloc((size_t)T * 3 + 7, sizeof(double));
    plast_status s = b && y && mod && acc && (!Be || (xe && ye))
                         ? PLAST_OK
                         : plast_err_set(err, PLAST_ERR_NOMEM, "evaluate: out of memory");
    if (s == PLAST_OK && Be > 0 && !(tape = plast_engine_init(m, Be, T, PLAST_ENGINE_TAPE, 1, err)))
        s = plast_err_status(err, PLAST_ERR_NOMEM);
    double *sums = acc + 3 * T, *counts = sums + 3; /* loss, metric sum, metric weight; plast_task_rates' */
    int rates = 0;
    for (int64_t k = 0; k < batches && s == PLAST_OK; k++) {
        if ((s = plast_task_sample(task, rng, split, share ? share->global : b, err)) != PLAST_OK) break;
        if (share) plast_batch_take_rows(share->global, b, first);
        if ((s = plast_engine_forward(e, p, b->x, y, want_eta ? mod : NULL, NULL, 0, err)) != PLAST_OK) break;
        double mt, mw, l = plast_task_loss(task, b, y, NULL, &mt, &mw);
        if (share) /* the loss is a weighted mean: this share of the global batch's is the rows' weight over all */
            l *= run_loss_share(b, share->global);
        sums[0] += l;
        if (mw > 0) sums[1] += mt * mw, sums[2] += mw;
        rates = plast_task_rates(task, b, y, counts);
        for (int64_t t = 0; want_eta && t < T; t++)
            for (int64_t i = 0; i < B; i++) acc[t] += mod[t * B + i], acc[T + t] += mod[t * B + i] * mod[t * B + i];
        if (k == 0 && Be > 0) {
            const int64_t I = plast_task_input(task);
            for (int64_t t = 0; t < T; t++) /* the first Be trials of the batch */
                memcpy(xe + t * Be * I, b->x + t * B * I, sizeof(plast_real) * (size_t)(Be * I));
            plast_real *energy = mod + T * B;
            if ((s = plast_engine_forward(tape, p, xe, ye, NULL, energy, 0, err)) != PLAST_OK) break;
            for (int64_t t = 0; t < T; t++)
                for (int64_t i = 0; i < Be; i++) acc[2 * T + t] += energy[t * Be + i];
        }
    }
    if (s == PLAST_OK && share && share->comm->allreduce_sum(acc, 3 * T + 7, share->comm->user) != PLAST_OK)
        s = plast_err_set(err, PLAST_ERR_STATE, "data-parallel evaluation: the allreduce failed");
    if (s == PLAST_OK) {
        *loss = sums[0] / (double)batches;
        *metric = sums[2] > 0 ? sums[1] / sums[2] : NAN;
        const double n = (double)(batches * Bg);
        if (trace) {
            trace->tpr = rates && counts[1] > 0 ? counts[0] / counts[1] : NAN;
            trace->fpr = rates && counts[3] > 0 ? counts[2] / counts[3] : NAN;
        }
        for (int64_t t = 0; trace && t < T; t++) {
            double mean = acc[t] / n, var = fmax(acc[T + t] / n - mean * mean, 0);
            if (trace->eta_mean) trace->eta_mean[t] = want_eta ? mean : NAN;
            if (trace->eta_std) trace->eta_std[t] = want_eta ? sqrt(var) : NAN;
            if (trace->energy) trace->energy[t] = Be_all ? acc[2 * T + t] / (double)Be_all : NAN;
        }
    }
    plast_engine_free(tape);
    plast_batch_free(b);
    free(y);
    free(mod);
    free(acc);
    free(xe);
    free(ye);
    return s;
}

plast_status plast_evaluate(plast_engine *e, const plast_model *m, plast_params *p, const plast_task *task,
                            int64_t batches, plast_rng *rng, int split, double *loss, double *metric,
                            plast_eval_trace *trace, plast_err *err) {
    return evaluate(e, m, p, task, batches, rng, split, NULL, loss, metric, trace, err);
}

plast_status run_evaluate(plast_run *r, plast_params *p, int64_t batches, plast_rng *rng, int split, double *loss,
                          double *metric, plast_eval_trace *trace, plast_err *err) {
    const eval_share share = {&r->comm, r->batch, (int64_t)r->comm.rank * plast_engine_batch(r->engine)};
    return evaluate(r->engine, r->model, p, r->task, batches, rng, split, r->comm.size > 1 ? &share : NULL, loss,
                    metric, trace, err);
}

/* ---- a run's test ------------------------------------------------------------------------------------------- */

/* Adds key: v, written as plast_format_double writes it (shortest exact form), or null when v is not finite. */
static int json_add_number(cJSON *obj, const char *key, double v) {
    char text[40];
    cJSON *item = isfinite(v) ? cJSON_CreateRaw(plast_format_double(v, text, sizeof text)) : cJSON_CreateNull();
    return item && cJSON_AddItemToObject(obj, key, item);
}

static plast_status write_test_files(plast_run *r, const plast_test_result *res, const plast_eval_trace *tr,
                                     plast_err *err) {
    const int64_t T = plast_task_steps(r->task);
    char a[40];
    /* test.json through cJSON: strings escaped, a non-finite number written as null (never invalid JSON) */
    cJSON *root = cJSON_CreateObject();
    int ok = root != NULL;
    ok = ok && cJSON_AddStringToObject(root, "which", res->which);
    ok = ok && json_add_number(root, "step", (double)res->step);
    ok = ok && json_add_number(root, "trials", (double)res->trials);
    ok = ok && json_add_number(root, "test_batches", (double)r->cfg.train.test_batches);
    ok = ok && json_add_number(root, "test_seed", (double)r->cfg.train.test_seed);
    ok = ok && json_add_number(root, "loss", res->loss);
    ok = ok && cJSON_AddStringToObject(root, "metric_name", res->metric_name);
    ok = ok && json_add_number(root, "metric", res->metric);
    ok = ok && json_add_number(root, "chance_loss", res->chance_loss);
    ok = ok && json_add_number(root, "chance_metric", res->chance_metric);
    ok = ok && json_add_number(root, "energy", res->energy);
    if (!isnan(res->tpr)) { /* familiarity detection's rates */
        ok = ok && json_add_number(root, "tpr", res->tpr);
        ok = ok && json_add_number(root, "fpr", res->fpr);
    }
    ok = ok && cJSON_AddStringToObject(root, "task", plast_task_describe(r->task));
    ok = ok && cJSON_AddStringToObject(root, "model", plast_model_describe(r->model));
    char *text = ok ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    plast_strbuf js, csv;
    plast_strbuf_init(&js);
    plast_strbuf_init(&csv);
    ok = text && plast_strbuf_puts(&js, text) && plast_strbuf_putc(&js, '\n');
    free(text);
    ok &= plast_strbuf_puts(&csv, "step,eta_mean,eta_std,energy\n");
    for (int64_t t = 0; t < T; t++) {
        const double v[3] = {tr->eta_mean[t], tr->eta_std[t], tr->energy[t]};
        ok &= plast_strbuf_printf(&csv, "%lld", (long long)t);
        for (int k = 0; k < 3; k++) ok &= plast_strbuf_printf(&csv, ",%s", isfinite(v[k]) ? plast_format_double(v[k], a, sizeof a) : "");
        ok &= plast_strbuf_putc(&csv, '\n');
    }
    plast_status s = ok ? PLAST_OK : plast_err_set(err, PLAST_ERR_NOMEM, "test: out of memory");
    if (s == PLAST_OK) s = run_write_text(r, "test.json", js.buf, err);
    if (s == PLAST_OK) s = run_write_text(r, "trace.csv", csv.buf, err);
    plast_strbuf_free(&js);
    plast_strbuf_free(&csv);
    return s;
}

/* The parameters to test: best.safetensors into `scratch`, or the run's current (last) parameters. */
static plast_status test_params(plast_run *r, plast_params *scratch, plast_params **use, int64_t *step,
                                plast_err *err) {
    if (strcmp(r->cfg.train.test_on, "last") == 0) {
        *use = r->params;
        *step = r->prog.step;
        return PLAST_OK;
    }
    char path[RUN_PATH_MAX];
    run_path(r, "best.safetensors", path);
    if (access(path, F_OK) != 0)
        return plast_err_set(err, PLAST_ERR_STATE, "%s: no such file: the run has not been validated yet", path);
    plast_status s = plast_ckpt_load(path, scratch, NULL, err);
    if (s != PLAST_OK) return s;
    plast_st_reader *rd = plast_st_reader_open(path, err);
    if (!rd) return plast_err_status(err, PLAST_ERR_IO);
    const char *v = plast_st_reader_meta(rd, "run_step"); /* owned by the reader: used before it closes */
    char *end = NULL;
    const long long st = v ? strtoll(v, &end, 10) : -1;
    const int bad = !v || end == v || *end || st < 0 || st > r->cfg.train.steps;
    if (bad)
        plast_err_set(err, PLAST_ERR_FORMAT, "%s: metadata 'run_step' is %s%s%s, not a step of this run (0 to %lld)",
                      path, v ? "\"" : "missing", v ? v : "", v ? "\"" : "", (long long)r->cfg.train.steps);
    plast_st_reader_close(rd);
    if (bad) return PLAST_ERR_FORMAT;
    *step = st;
    *use = scratch;
    return PLAST_OK;
}

plast_status run_rl_evaluate(plast_run *r, plast_params *p, int purpose, int64_t index, int64_t iterations,
                             double *loss, double *reward, double *energy, double *trace, plast_err *err) {
    const uint64_t seed = (uint64_t)(purpose == PLAST_STREAM_TEST ? r->cfg.train.test_seed : r->cfg.train.seed);
    plast_rng rng = plast_rng_derive(seed, (uint64_t)purpose, (uint64_t)index);
    const uint64_t action_seed = plast_rng_u64(&rng);
    /* episodes of their own: iteration numbers 2^48 * purpose + ..., never those of training */
    const int64_t first = ((int64_t)purpose << 48) + index * iterations;
    if (r->ppo) { /* `iterations` whole episodes of every copy of the evaluation environment */
        *loss = NAN;
        return plast_ppo_evaluate(r->ppo, p, r->eval_env, action_seed, first, iterations, r->cfg.rl.ppo.eval_explore,
                                  reward, energy, err);
    }
    double l = 0, rw = 0, e = 0;
    const int64_t T = plast_env_max_steps(r->env);
    if (trace)
        for (int64_t t = 0; t < T; t++) trace[t] = 0;
    plast_status s = PLAST_OK;
    for (int64_t k = 0; k < iterations && s == PLAST_OK; k++) {
        plast_a2c_stats st;
        s = plast_a2c_iterate(r->a2c, p, NULL, 0, 0, action_seed, first + k, 0, &st, err);
        l += st.loss / (double)iterations, rw += st.reward / (double)iterations, e += st.energy / (double)iterations;
        const double *se = plast_a2c_step_energy(r->a2c);
        if (trace)
            for (int64_t t = 0; t < T; t++) trace[t] += se[t] / (double)iterations;
    }
    *loss = l, *reward = rw;
    if (energy) *energy = e;
    return s;
}

/* the random agent's mean episode return in the run's environment (the RL "chance"), over `episodes` whole episodes
 * per copy: uniform actions (over the actions, or over the box) */
static double random_agent_reward(const plast_run *r, int64_t episodes, plast_err *err) {
    plast_env *e = plast_env_init(&r->cfg.env, r->cfg.train.batch, 0x5eed, err); /* the global batch */
    if (!e) return NAN;
    const plast_space as = plast_env_action_space(e);
    const int64_t B = plast_env_count(e), T = plast_env_max_steps(e) > 0 ? plast_env_max_steps(e) : 100000;
    const int64_t na = as.kind == PLAST_SPACE_DISCRETE ? 1 : as.n;
    plast_real *obs = malloc(sizeof(plast_real) * (size_t)(B * plast_env_observation_space(e).n));
    plast_real *rew = malloc(sizeof(plast_real) * (size_t)B), *val = malloc(sizeof(plast_real) * (size_t)(B * na));
    int32_t *act = malloc(sizeof(int32_t) * (size_t)B);
    uint8_t *te = malloc((size_t)B), *tr = malloc((size_t)B);
    int64_t *done = calloc((size_t)B, sizeof(int64_t));
    double total = NAN;
    if (obs && rew && val && act && te && tr && done) {
        plast_rng rng = plast_rng_derive(0x5eed, PLAST_STREAM_TEST, 1);
        total = 0;
        plast_env_reset(e, obs, NULL);
        for (int64_t t = 0, left = B; left > 0 && t < episodes * T; t++) {
            for (int64_t b = 0; b < B; b++) act[b] = (int32_t)plast_rng_below(&rng, (uint32_t)as.n);
            for (int64_t k = 0; k < B * na && as.kind == PLAST_SPACE_BOX; k++)
                val[k] = (plast_real)plast_rng_uniform_in(&rng, as.low, as.high);
            plast_env_step(e, (plast_env_actions){as.kind == PLAST_SPACE_DISCRETE ? act : NULL,
                                                  as.kind == PLAST_SPACE_BOX ? val : NULL},
                           obs, rew, te, tr, NULL);
            for (int64_t b = 0; b < B; b++) {
                if (done[b] >= episodes) continue;
                total += rew[b];
                if ((te[b] || tr[b]) && ++done[b] == episodes) left--;
            }
            plast_env_reset_ended(e, obs, NULL, NULL);
        }
        total /= (double)(episodes * B);
    }
    free(obs), free(rew), free(val), free(act), free(te), free(tr), free(done);
    plast_env_free(e);
    return total;
}

/* test.json of an RL run: the inference protocol's mean episode reward and energy, beside a random agent's */
static plast_status rl_test(plast_run *r, plast_params *use, int write, plast_test_result *res, plast_err *err) {
    const plast_train_cfg *tc = &r->cfg.train;
    double energy = NAN;
    const int64_t T = r->a2c ? plast_env_max_steps(r->env) : 0; /* A2C's episodes have one length: a trace */
    double *trace = calloc((size_t)(T > 0 ? T : 1), sizeof(double));
    if (!trace) return plast_err_set(err, PLAST_ERR_NOMEM, "test: out of memory");
    plast_status s = run_rl_evaluate(r, use, PLAST_STREAM_TEST, 0, tc->test_batches, &res->loss, &res->metric,
                                     &energy, T > 0 ? trace : NULL, err);
    res->chance_loss = NAN, res->tpr = NAN, res->fpr = NAN;
    res->chance_metric = random_agent_reward(r, 4, NULL);
    res->metric_name = "reward";
    res->trials = tc->test_batches * tc->batch;
    res->trials_name = "episodes";
    res->energy = energy;
    res->tested = s == PLAST_OK;
    if (s != PLAST_OK || !write) {
        free(trace);
        return s;
    }
    cJSON *root = cJSON_CreateObject();
    int ok = root != NULL;
    ok = ok && cJSON_AddStringToObject(root, "which", res->which);
    ok = ok && json_add_number(root, "step", (double)res->step);
    ok = ok && json_add_number(root, "episodes", (double)res->trials);
    ok = ok && json_add_number(root, "test_batches", (double)tc->test_batches);
    ok = ok && json_add_number(root, "test_seed", (double)tc->test_seed);
    ok = ok && json_add_number(root, "loss", res->loss);
    ok = ok && cJSON_AddStringToObject(root, "metric_name", res->metric_name);
    ok = ok && json_add_number(root, "metric", res->metric);
    ok = ok && json_add_number(root, "energy", energy);
    ok = ok && json_add_number(root, "chance_metric", res->chance_metric);
    ok = ok && cJSON_AddStringToObject(root, "env", plast_env_describe(r->env));
    ok = ok && cJSON_AddStringToObject(root, "model", plast_model_describe(r->model));
    char *text = ok ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    plast_strbuf js;
    plast_strbuf_init(&js);
    ok = text && plast_strbuf_puts(&js, text) && plast_strbuf_putc(&js, '\n');
    free(text);
    /* trace.csv: the energy per step of the test episodes (no plasticity rate: eta columns empty) */
    plast_strbuf csv;
    plast_strbuf_init(&csv);
    ok &= plast_strbuf_puts(&csv, "step,eta_mean,eta_std,energy\n");
    char a[40];
    for (int64_t t = 0; t < T; t++)
        ok &= plast_strbuf_printf(&csv, "%lld,,,%s\n", (long long)t, plast_format_double(trace[t], a, sizeof a));
    s = ok ? run_write_text(r, "test.json", js.buf, err) : plast_err_set(err, PLAST_ERR_NOMEM, "test: out of memory");
    if (s == PLAST_OK && T > 0) s = run_write_text(r, "trace.csv", csv.buf, err);
    plast_strbuf_free(&js);
    plast_strbuf_free(&csv);
    free(trace);
    return s;
}

plast_status plast_run_test(plast_run *r, int write, plast_test_result *res, plast_err *err) {
    const plast_train_cfg *tc = &r->cfg.train;
    if (r->env) {
        plast_params *scratch = plast_model_params_init(r->model, err), *use = NULL;
        memset(res, 0, sizeof *res);
        snprintf(res->which, sizeof res->which, "%s", tc->test_on);
        plast_status s = scratch ? test_params(r, scratch, &use, &res->step, err) : PLAST_ERR_NOMEM;
        if (s == PLAST_OK) s = rl_test(r, use, write, res, err);
        plast_params_free(scratch);
        return s;
    }
    const int64_t T = plast_task_steps(r->task);
    plast_params *scratch = plast_model_params_init(r->model, err), *use = NULL;
    double *trace_buf = malloc(sizeof(double) * (size_t)T * 3);
    plast_status s = scratch && trace_buf ? PLAST_OK : plast_err_set(err, PLAST_ERR_NOMEM, "test: out of memory");
    memset(res, 0, sizeof *res);
    snprintf(res->which, sizeof res->which, "%s", tc->test_on);
    if (s == PLAST_OK) s = test_params(r, scratch, &use, &res->step, err);
    /* energy: on the tape path, with as many trials of the first batch as fit a 256 MB tape (about 12 times the
     * model's state per trial and step) */
    const double per_trial = 12.0 * (double)plast_model_state_bytes(r->model, 1) * (double)T;
    int64_t trials = (int64_t)(256e6 / (per_trial > 1 ? per_trial : 1));
    trials = trials < 1 ? 1 : trials > tc->batch ? tc->batch : trials;
    plast_eval_trace tr = {trace_buf, trace_buf + T, trace_buf + 2 * T, trials, NAN, NAN};
    if (s == PLAST_OK) {
        plast_rng rng = plast_rng_derive((uint64_t)tc->test_seed, PLAST_STREAM_TEST, 0);
        s = run_evaluate(r, use, tc->test_batches, &rng, 2, &res->loss, &res->metric, &tr, err);
    }
    res->chance_loss = plast_task_chance_loss(r->task);
    res->chance_metric = plast_task_chance_metric(r->task);
    res->metric_name = plast_metric_kind_name(plast_task_metric_kind(r->task));
    res->trials = tc->test_batches * tc->batch;
    res->trials_name = "trials";
    res->tpr = tr.tpr, res->fpr = tr.fpr;
    res->energy = 0; /* the mean of the per-step trace over the trial */
    for (int64_t t = 0; t < T && s == PLAST_OK; t++) res->energy += tr.energy[t] / (double)T;
    res->tested = s == PLAST_OK;
    if (s == PLAST_OK && write) s = write_test_files(r, res, &tr, err);
    plast_params_free(scratch);
    free(trace_buf);
    return s;
}
