/* src/cli/cmd_train.c: `plast train CONFIG` trains one run (resuming it if its directory holds one), tests it and
 * draws its plots; `plast eval RUN_DIR` tests a run again, optionally on other task settings, or (--curve) draws a
 * familiarity-detection run's generalisation curve. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/plot.h"
#include "core/fileio.h"
#include "core/strbuf.h"

static void print_result(const char *dir, const plast_test_result *res) {
    printf("%s: test %s %.6g (chance %.4g), loss %.6g, %lld %s, %s parameters of step %lld\n", dir,
           res->metric_name, res->metric, res->chance_metric, res->loss, (long long)res->trials, res->trials_name,
           res->which, (long long)res->step);
}

int cmd_train(int argc, char **argv) {
    cli_args a;
    cli_parse_args(argc, argv, 1, "train", "out quiet threads restart", &a);
    if (!a.config) cli_usage_fail("train", "needs a configuration file (configs/ has one per experiment)");
    plast_experiment_cfg cfg;
    cli_load_config(plast_experiment_cfg_schema(), &cfg, &a);
    char out[1024];
    const char *dir = a.out ? a.out : cli_default_out(a.config, out, sizeof out);
    plast_test_result res;
    const plast_comm *comm = cli_mpi_comm();
    cli_mpi_share_cores(a.threads);
    cli_train_run(&cfg, dir, a.restart, NULL, a.quiet, &res, comm);
    if (cli_mpi_rank() == 0) print_result(dir, &res);
    return 0;
}

enum { CURVE_MAX = 64 };

/* --curve: continual familiarity detection's generalisation curve, as Tyulmankov et al. 2022 draw it (and the STPN
 * paper's CFD runs): the run's tested parameters at R = 1, then R = ceil(1.3 R), while the true-positive rate exceeds
 * the false-positive rate and R stays below the stream's length. Writes RUN/generalisation.csv and .png. */
static int eval_curve(const cli_args *a) {
    const char *sets[CLI_MAX_SETS + 1];
    char repeat[48];
    for (int k = 0; k < a->n_sets; k++) sets[k] = a->sets[k];
    double R[CURVE_MAX], acc[CURVE_MAX], tpr[CURVE_MAX], fpr[CURVE_MAX];
    int n = 0;
    int64_t T = 0;
    plast_strbuf csv;
    plast_strbuf_init(&csv);
    plast_strbuf_puts(&csv, "R,accuracy,tpr,fpr\n");
    printf("%s: generalisation over the repeat distance R\n%8s %10s %8s %8s\n", a->config, "R", "accuracy", "TPR",
           "FPR");
    for (int64_t r_now = 1; n < CURVE_MAX && (n == 0 || (tpr[n - 1] > fpr[n - 1] && r_now < T));
         r_now = (int64_t)ceil(1.3 * (double)r_now)) {
        snprintf(repeat, sizeof repeat, "task.repeat=%lld", (long long)r_now);
        sets[a->n_sets] = repeat;
        plast_err err;
        plast_run *r = plast_run_load(a->config, a->n_sets + 1, sets, &err);
        if (!r) cli_fail(&err);
        if (strcmp(plast_run_cfg(r)->task.name, "cfd") != 0)
            cli_die("eval --curve: %s is a %s run; the curve is continual familiarity detection's (task.name = cfd)",
                    a->config, plast_run_cfg(r)->task.name);
        T = plast_task_steps(plast_run_task(r));
        plast_test_result res;
        if (plast_run_test(r, 0, &res, &err) != PLAST_OK) cli_fail(&err);
        plast_run_free(r);
        R[n] = (double)r_now, acc[n] = res.metric, tpr[n] = res.tpr, fpr[n] = res.fpr;
        printf("%8lld %10.4f %8.4f %8.4f\n", (long long)r_now, acc[n], tpr[n], fpr[n]);
        fflush(stdout);
        plast_strbuf_printf(&csv, "%lld,%.9g,%.9g,%.9g\n", (long long)r_now, acc[n], tpr[n], fpr[n]);
        n++;
    }
    if (!csv.buf) cli_die("out of memory");
    char path[1200];
    plast_err err;
    snprintf(path, sizeof path, "%s/generalisation.csv", a->config);
    const void *parts[1] = {csv.buf};
    size_t sizes[1] = {csv.len};
    if (plast_file_write_atomic(path, 1, parts, sizes, &err) != PLAST_OK) cli_fail(&err);
    plast_strbuf_free(&csv);
    const chart ch = {"generalisation over the repeat distance", "R", "rate", NAN, NULL, 0};
    const chart_series s[3] = {{"accuracy", n, R, acc, NULL, NULL}, {"true positives", n, R, tpr, NULL, NULL},
                               {"false positives", n, R, fpr, NULL, NULL}};
    snprintf(path, sizeof path, "%s/generalisation.png", a->config);
    if (chart_png(path, &ch, 3, s, &err) != 0) fprintf(stderr, "plast: warning: %s not written: %s\n", path, err.msg);
    printf("%d distances; %s/generalisation.csv and .png\n", n, a->config);
    return 0;
}

int cmd_eval(int argc, char **argv) {
    cli_args a;
    cli_parse_args(argc, argv, 1, "eval", "threads curve", &a);
    if (!a.config) cli_usage_fail("eval", "needs a run directory (plast train --out)");
    if (a.curve) return eval_curve(&a);
    plast_err err;
    plast_run *r = plast_run_load(a.config, a.n_sets, a.sets, &err);
    if (!r) cli_fail(&err);
    plast_test_result res;
    /* with overrides the results describe another test, so the run's own test.json stays as it is */
    const plast_status s = plast_run_test(r, a.n_sets == 0, &res, &err);
    if (s != PLAST_OK && !res.tested) cli_fail(&err);
    if (a.n_sets) printf("%s (%s)\n", a.config, plast_run_data_describe(r));
    print_result(a.config, &res);
    if (s != PLAST_OK) { /* the test ran; its files could not be written (a read-only run) */
        fflush(stdout);
        cli_fail(&err);
    }
    plast_run_free(r);
    return 0;
}
