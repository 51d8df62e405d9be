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

plast_status plast_evaluate(plast_engine *e, const plast_model *m, plast_params *p, const plast_task *task,
                            int64_t batches, plast_rng *rng, int split, double *loss, double *metric,
                            plast_eval_trace *trace, plast_err *err) {
    const int64_t B = plast_engine_batch(e), T = plast_task_steps(task), O = plast_task_output(task);
    if (plast_engine_steps(e) != T || plast_model_output(m) != O || batches < 1)
        return plast_err_set(err, PLAST_ERR_MISMATCH, "evaluate: the engine, model and task do not fit together");
    const int want_eta = trace && (trace->eta_mean || trace->eta_std) && plast_model_is_modulated(m);
    /* the energy needs the tape path, whose memory grows with the plastic state: a few trials of the first batch */
    const int64_t Be = trace && trace->energy ? (trace->energy_trials < B ? trace->energy_trials : B) : 0;
    plast_engine *tape = NULL;
    plast_batch *b = plast_batch_init(task, B, err);
    plast_real *y = malloc(sizeof(plast_real) * (size_t)(T * B * O));
    plast_real *mod = malloc(sizeof(plast_real) * (size_t)(T * B) * 2); /* modulation, then energy */
    plast_real *xe = Be ? malloc(sizeof(plast_real) * (size_t)(T * Be * plast_task_input(task))) : NULL;
    plast_real *ye = Be ? malloc(sizeof(plast_real) * (size_t)(T * Be * O)) : NULL;
    double *acc = calloc((size_t)T * 3, sizeof(double));                 /* eta sum, eta sum of squares, energy */
    plast_status s = b && y && mod && acc && (!Be || (xe && ye))
                         ? PLAST_OK
                         : plast_err_set(err, PLAST_ERR_NOMEM, "evaluate: out of memory");
    if (s == PLAST_OK && Be > 0 && !(tape = plast_engine_init(m, Be, T, PLAST_ENGINE_TAPE, 1, err)))
        s = plast_err_status(err, PLAST_ERR_NOMEM);
    double loss_sum = 0, metric_sum = 0, metric_weight = 0;
    for (int64_t k = 0; k < batches && s == PLAST_OK; k++) {
        if ((s = plast_task_sample(task, rng, split, b, err)) != PLAST_OK) break;
        if ((s = plast_engine_forward(e, p, b->x, y, want_eta ? mod : NULL, NULL, 0, err)) != PLAST_OK) break;
        double mt, mw;
        loss_sum += plast_task_loss(task, b, y, NULL, &mt, &mw);
        if (mw > 0) metric_sum += mt * mw, metric_weight += mw;
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
    if (s == PLAST_OK) {
        *loss = loss_sum / (double)batches;
        *metric = metric_weight > 0 ? metric_sum / metric_weight : NAN;
        const double n = (double)(batches * B);
        for (int64_t t = 0; trace && t < T; t++) {
            double mean = acc[t] / n, var = fmax(acc[T + t] / n - mean * mean, 0);
            if (trace->eta_mean) trace->eta_mean[t] = want_eta ? mean : NAN;
            if (trace->eta_std) trace->eta_std[t] = want_eta ? sqrt(var) : NAN;
            if (trace->energy) trace->energy[t] = Be ? acc[2 * T + t] / (double)Be : NAN;
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
    ok = ok && json_add_number(root, "test_seed", (double)r->cfg.train.test_seed);
    ok = ok && json_add_number(root, "loss", res->loss);
    ok = ok && cJSON_AddStringToObject(root, "metric_name", res->metric_name);
    ok = ok && json_add_number(root, "metric", res->metric);
    ok = ok && json_add_number(root, "chance_loss", res->chance_loss);
    ok = ok && json_add_number(root, "chance_metric", res->chance_metric);
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
    const char *v = plast_st_reader_meta(rd, "run_step");
    *step = v ? strtoll(v, NULL, 10) : -1;
    plast_st_reader_close(rd);
    *use = scratch;
    return PLAST_OK;
}

plast_status plast_run_test(plast_run *r, int write, plast_test_result *res, plast_err *err) {
    const plast_train_cfg *tc = &r->cfg.train;
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
    plast_eval_trace tr = {trace_buf, trace_buf + T, trace_buf + 2 * T, trials};
    if (s == PLAST_OK) {
        plast_rng rng = plast_rng_derive((uint64_t)tc->test_seed, PLAST_STREAM_TEST, 0);
        s = plast_evaluate(r->engine, r->model, use, r->task, tc->test_batches, &rng, 2, &res->loss, &res->metric,
                           &tr, err);
    }
    res->chance_loss = plast_task_chance_loss(r->task);
    res->chance_metric = plast_task_chance_metric(r->task);
    res->metric_name = plast_metric_kind_name(plast_task_metric_kind(r->task));
    res->trials = tc->test_batches * tc->batch;
    if (s == PLAST_OK && write) s = write_test_files(r, res, &tr, err);
    plast_params_free(scratch);
    free(trace_buf);
    return s;
}
