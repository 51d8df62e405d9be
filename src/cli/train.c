/* src/cli/train.c: running one training run from the CLI: progress on stderr, Ctrl-C as a clean stop, the test
 * and the plots at the end. Shared by plast train and plast sweep. */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "core/fileio.h"

static volatile sig_atomic_t interrupted;

/* SIGINT (Ctrl-C) and SIGTERM (kill, a scheduler's end of job): stop after the next checkpoint; a second one stops
 * at once */
static void on_sigint(int sig) {
    if (interrupted) {
        signal(sig, SIG_DFL);
        raise(sig);
    }
    interrupted = 1;
}

int cli_interrupted(void) { return interrupted; }

void cli_progress_init(cli_progress *p, const char *label, int quiet, int64_t log_every) {
    memset(p, 0, sizeof *p);
    p->label = label;
    p->quiet = quiet;
    p->tty = isatty(STDERR_FILENO) && !getenv("PLAST_NO_TTY");
    p->log_every = log_every;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static void format_duration(double s, char *buf, size_t cap) {
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, cap, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else if (t >= 60) snprintf(buf, cap, "%ldm%02lds", t / 60, t % 60);
    else snprintf(buf, cap, "%lds", t);
}

static void progress_line(cli_progress *p, const plast_train_event *ev, int final) {
    double dt = ev->seconds - p->start_seconds;
    double rate = dt > 0 ? (double)(ev->step - p->start_step) / dt : 0;
    char eta[32] = "?";
    if (rate > 0) format_duration((double)(ev->steps - ev->step) / rate, eta, sizeof eta);
    char metric[48] = "";
    if (p->metric_w > 0)
        snprintf(metric, sizeof metric, "  %s %.4g", p->metric_name ? p->metric_name : "metric", p->metric_avg);
    fprintf(stderr, "%s%s%sstep %lld/%lld  loss %.4g%s  %.3g steps/s  ETA %s%s", p->tty ? "\r\033[K" : "",
            p->label ? p->label : "", p->label ? ": " : "", (long long)ev->step, (long long)ev->steps,
            p->loss_n ? p->loss_avg : ev->loss, metric, rate, eta, p->tty && !final ? "" : "\n");
    p->loss_avg = p->metric_avg = 0;
    p->loss_n = 0;
    p->metric_w = 0;
}

int cli_progress_event(const plast_train_event *ev, void *user) {
    cli_progress *p = user;
    if (p->quiet) return interrupted;
    const char *lab = p->label ? p->label : "", *sep = p->label ? ": " : "";
    const char *clear = p->tty ? "\r\033[K" : "";
    switch (ev->kind) {
    case PLAST_EVENT_START:
        p->start_step = ev->step;
        p->start_seconds = ev->seconds;
        if (ev->resumed) fprintf(stderr, "%s%sresuming at step %lld of %lld\n", lab, sep, (long long)ev->step,
                                 (long long)ev->steps);
        break;
    case PLAST_EVENT_STEP: {
        p->loss_avg += (ev->loss - p->loss_avg) / (double)++p->loss_n;
        if (isfinite(ev->metric) && ev->metric_weight > 0) {
            p->metric_w += ev->metric_weight;
            p->metric_avg += (ev->metric - p->metric_avg) * ev->metric_weight / p->metric_w;
        }
        double t = cli_now();
        if (p->tty ? t - p->last_draw >= 0.1 : ev->step % p->log_every == 0) {
            p->last_draw = t;
            progress_line(p, ev, 0);
        }
        break;
    }
    case PLAST_EVENT_VALIDATION:
        if (isnan(ev->loss)) /* PPO validates by whole episodes: no loss */
            fprintf(stderr, "%s%s%sstep %lld: validation %s %.5g%s\n", clear, lab, sep, (long long)ev->step,
                    p->metric_name ? p->metric_name : "metric", ev->metric, ev->best ? "  (best)" : "");
        else
            fprintf(stderr, "%s%s%sstep %lld: validation loss %.5g, %s %.5g%s\n", clear, lab, sep,
                    (long long)ev->step, ev->loss, p->metric_name ? p->metric_name : "metric", ev->metric,
                    ev->best ? "  (best)" : "");
        p->last_draw = 0;
        break;
    case PLAST_EVENT_DONE:
        if (p->tty) fprintf(stderr, "\r\033[K");
        break;
    case PLAST_EVENT_CHECKPOINT: break;
    }
    return interrupted;
}

/* dir's test.json parsed, its path into path; NULL when it cannot be read or is not JSON (err, may be NULL, says
 * why when it cannot be read) */
static cJSON *test_json_parse(const char *dir, char *path, size_t cap, plast_err *err) {
    snprintf(path, cap, "%s/test.json", dir);
    size_t n = 0;
    unsigned char *text = NULL;
    if (plast_file_read_all(path, &text, &n, err) != PLAST_OK) return NULL;
    cJSON *root = cJSON_ParseWithLength((const char *)text, n);
    free(text);
    return root;
}

/* the test result held by a parsed test.json */
static void test_result_of(const cJSON *root, plast_test_result *res) {
    static char names[2][32];
    const cJSON *m = cJSON_GetObjectItem(root, "metric"), *l = cJSON_GetObjectItem(root, "loss");
    const cJSON *cm = cJSON_GetObjectItem(root, "chance_metric"), *mn = cJSON_GetObjectItem(root, "metric_name");
    const cJSON *tr = cJSON_GetObjectItem(root, "trials"), *ep = cJSON_GetObjectItem(root, "episodes");
    const cJSON *en = cJSON_GetObjectItem(root, "energy");
    memset(res, 0, sizeof *res);
    res->energy = cJSON_IsNumber(en) ? en->valuedouble : NAN;
    res->metric = cJSON_IsNumber(m) ? m->valuedouble : NAN;
    res->loss = cJSON_IsNumber(l) ? l->valuedouble : NAN;
    res->chance_metric = cJSON_IsNumber(cm) ? cm->valuedouble : NAN;
    snprintf(names[0], sizeof names[0], "%s", cJSON_IsString(mn) ? mn->valuestring : "metric");
    res->metric_name = names[0];
    res->trials = cJSON_IsNumber(tr) ? (int64_t)tr->valuedouble : cJSON_IsNumber(ep) ? (int64_t)ep->valuedouble : 0;
    snprintf(names[1], sizeof names[1], "%s", cJSON_IsNumber(ep) ? "episodes" : "trials");
    res->trials_name = names[1];
}

void cli_test_read(const char *dir, plast_test_result *res) {
    char path[1500];
    plast_err err = {0};
    cJSON *root = test_json_parse(dir, path, sizeof path, &err);
    if (!root) {
        if (err.status != PLAST_OK) cli_fail(&err);
        cli_die("%s: not JSON", path);
    }
    test_result_of(root, res);
    cJSON_Delete(root);
}

/* A finished run keeps its test: when dir's test.json tested the run as cfg would (the same test_on, test_batches
 * and test_seed), its result goes to res and 1 is returned. A test.json without those fields is not current. */
static int test_json_reuse(const char *dir, const plast_experiment_cfg *cfg, plast_test_result *res) {
    char path[1500];
    cJSON *root = test_json_parse(dir, path, sizeof path, NULL);
    const cJSON *w = cJSON_GetObjectItem(root, "which"), *tb = cJSON_GetObjectItem(root, "test_batches");
    const cJSON *ts = cJSON_GetObjectItem(root, "test_seed");
    const int same = cJSON_IsString(w) && !strcmp(w->valuestring, cfg->train.test_on) && cJSON_IsNumber(tb) &&
                     tb->valuedouble == (double)cfg->train.test_batches && cJSON_IsNumber(ts) &&
                     ts->valuedouble == (double)cfg->train.test_seed;
    if (same) test_result_of(root, res);
    cJSON_Delete(root);
    return same;
}

void cli_train_run(const plast_experiment_cfg *cfg, const char *dir, int restart, const char *label, int quiet,
                   plast_test_result *res, const plast_comm *comm) {
    plast_err err;
    if (interrupted) { /* a stop asked for while the previous run of a sweep was testing: no new run is started */
        fprintf(stderr, "\nplast: interrupted before %s; the same command resumes\n", dir);
        cli_mpi_abort(130);
        exit(130);
    }
    plast_run *r = plast_run_open_comm(cfg, dir, restart, comm, &err);
    if (!r) cli_fail(&err);
    if (comm && comm->rank != 0) quiet = 1; /* data-parallel: rank 0 reports */
    if (!quiet) {
        fprintf(stderr, "%s%s%s | %s | %s engine | %s\n", label ? label : "", label ? ": " : "",
                plast_model_describe(plast_run_model(r)), plast_run_data_describe(r),
                plast_engine_kind_name(plast_run_engine_kind(r)), dir);
    }
    cli_progress p;
    cli_progress_init(&p, label, quiet, cfg->train.log_every);
    p.metric_name = plast_run_metric_name(r);
    if (plast_run_finished(r) && test_json_reuse(dir, cfg, res)) { /* a resumed sweep: the finished run's test stands */
        plast_run_free(r);
        if (!quiet)
            fprintf(stderr, "%s%stest from %s/test.json: loss %.5g, %s %.5g\n", label ? label : "", label ? ": " : "",
                    dir, res->loss, res->metric_name, res->metric);
        return;
    }
    if (plast_run_train(r, cli_progress_event, &p, &err) != PLAST_OK) cli_fail(&err);
    if (!plast_run_finished(r)) {
        fprintf(stderr, "\nplast: interrupted at step %lld; the same command resumes the run\n",
                (long long)plast_run_step(r));
        plast_run_free(r);
        cli_mpi_abort(130);
        exit(130);
    }
    if (plast_run_test(r, 1, res, &err) != PLAST_OK) cli_fail(&err);
    if (cli_plot_run(dir, res->metric_name, res->chance_metric, &err) != 0) fprintf(stderr, "plast: warning: plots not written: %s\n", err.msg);
    if (!quiet)
        fprintf(stderr, "%s%stest (%s, step %lld, %lld %s): loss %.5g, %s %.5g (chance %.4g)\n", label ? label : "",
                label ? ": " : "", res->which, (long long)res->step, (long long)res->trials, res->trials_name,
                res->loss, res->metric_name, res->metric, res->chance_metric);
    plast_run_free(r);
}
