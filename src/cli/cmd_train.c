/* src/cli/cmd_train.c: `plast train CONFIG` trains one run (resuming it if its directory holds one), tests it and
 * draws its plots; `plast eval RUN_DIR` tests a run again, optionally on other task settings. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

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

int cmd_eval(int argc, char **argv) {
    cli_args a;
    cli_parse_args(argc, argv, 1, "eval", "threads", &a);
    if (!a.config) cli_usage_fail("eval", "needs a run directory (plast train --out)");
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
