/* src/cli/cli.h: shared pieces of the plast command-line tool. Only the CLI prints and exits; the library reports
 * through plast_err. */
#ifndef PLAST_CLI_CLI_H
#define PLAST_CLI_CLI_H

#include "plast.h"

#define CLI_MAX_SETS 64

/* Options common to the commands that read a configuration. */
typedef struct cli_args {
    const char *config;             /* positional CONFIG, or NULL */
    const char *sets[CLI_MAX_SETS]; /* --set key=value, in order */
    int n_sets;
    const char *out;                /* --out PATH */
    const char *params;             /* --params FILE */
    const char *inputs;             /* --inputs FILE */
    int quiet;                      /* --quiet */
    int restart;                    /* --restart */
    int threads;                    /* --threads N, 0 = default */
    int json;                       /* --json */
    const char *case_name;          /* --case NAME (bench) */
    int steps;                      /* --steps N (bench), 0 = default */
    int list;                       /* --list (bench, reproduce) */
    int quick;                      /* --quick (reproduce) */
    int jobs;                       /* --jobs N (sweep, reproduce): runs at a time, 0 = one */
    int curve;                      /* --curve (eval): familiarity detection's generalisation curve */
    int collect;                    /* --collect (reproduce): the table from finished runs, nothing trained */
    const char *column;             /* --column NAME (plot): the CSV column drawn */
    const char *file;               /* --file NAME (plot): the CSV file of each run */
    const char *runs[CLI_MAX_SETS]; /* the positional arguments of a command that takes several ("runs" allowed) */
    int n_runs;
} cli_args;

/* Parses argv[first..] into a, by the one table of options in args.c; exits with a usage message naming the bad
 * argument. `allow` lists the options the command accepts besides --set ("out quiet threads"); with "runs" in it the
 * positional arguments go to runs[] (several allowed), otherwise the one positional is CONFIG. An option given
 * twice is an error. */
void cli_parse_args(int argc, char **argv, int first, const char *command, const char *allow, cli_args *a);

/* Prints "plast: <message>" to stderr and exits with status 1 (2 for usage errors). */
void cli_fail(const plast_err *err) __attribute__((noreturn));

/* MPI (src/cli/mpi.c): started only under a launcher (mpirun, srun); otherwise, and without MPI, one process of
 * size 1. cli_mpi_next_job hands out 0, 1, 2, ... across all ranks (each number once). cli_mpi_abort ends every
 * rank (a failure on one must not leave the others waiting); the failing exits below call it. */
void cli_mpi_init(int *argc, char ***argv);
void cli_mpi_finalize(void);
int cli_mpi_rank(void);
int cli_mpi_size(void);
/* Under several ranks and without --threads (threads_given 0): this rank computes on its node's cores divided by
 * the node's ranks, so that P ranks on one node do not oversubscribe it. */
void cli_mpi_share_cores(int threads_given);
long cli_mpi_next_job(void);
void cli_mpi_barrier(void);
void cli_mpi_abort(int code);
/* the MPI operations for data-parallel training (plast_run_open_comm); NULL when alone */
const plast_comm *cli_mpi_comm(void);
void cli_usage_fail(const char *command, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
void cli_die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* Loads a schema-described configuration from a->config and a->sets, or exits with the error. */
void cli_load_config(plast_cfg_schema s, void *cfg, const cli_args *a);
/* the experiment configuration of the command line, settled for one run (plast_experiment_cfg_settle); exits on
 * error */
void cli_load_experiment(plast_experiment_cfg *cfg, const cli_args *a);

/* runs/<the configuration file's name without folder and .json>, the default run directory of train and sweep */
const char *cli_default_out(const char *config, char *buf, size_t cap);

/* Monotonic seconds. */
double cli_now(void);

/* subcommands */
int cmd_demo(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
/* 1 if sweep.vary `vary` makes a combination named `name` ("family=stpn hidden=11"), as plast sweep names them */
int cli_sweep_has_combination(const char *vary, const char *name);
int cmd_reproduce(int argc, char **argv);
int cmd_plot(int argc, char **argv);

/* ---- training runs (train.c) ---- */

/* Progress of a run on stderr: a live line on a terminal, one plain line every train.log_every steps otherwise,
 * validation lines always (unless quiet). The first Ctrl-C stops the run cleanly after a checkpoint. */
typedef struct cli_progress {
    const char *label; /* shown before each line (a sweep's run name), or NULL */
    int quiet, tty;
    int64_t log_every;
    double last_draw, start_seconds;
    int64_t start_step;
    double loss_avg; /* running mean of the training loss since the last line */
    int64_t loss_n;
    double metric_avg; /* and of the training metric (an RL run's mean episode reward), weighted by what each step's
                        * metric averages (plast_train_event.metric_weight: an RL iteration's ended episodes) */
    double metric_w;   /* the weights' sum: 0, no metric yet */
    const char *metric_name; /* its name, "metric" when not set */
} cli_progress;
void cli_progress_init(cli_progress *p, const char *label, int quiet, int64_t log_every);
int cli_progress_event(const plast_train_event *ev, void *user); /* a plast_train_callback */
/* 1 once Ctrl-C was pressed (the handler is installed by cli_progress_init) */
int cli_interrupted(void);
/* a run's test result from its test.json (exits naming the file if it cannot be read) */
void cli_test_read(const char *dir, plast_test_result *res);

/* Trains (or resumes) the run of cfg in dir, tests it and draws its plots; returns the run's test result. A run
 * finished before the call keeps its test.json when that was written with the same test settings. Exits with the
 * error on failure, and with status 130 when interrupted. */
void cli_train_run(const plast_experiment_cfg *cfg, const char *dir, int restart, const char *label, int quiet,
                   plast_test_result *res, const plast_comm *comm);

/* ---- plots (plot.c) ---- */

/* PNG plots of the run in dir from its metrics.csv and trace.csv: curves.png (training and validation metric,
 * the chance level dashed), and eta.png and energy.png when the trace has them. Returns 0, or -1 with a message in
 * err (plots are a convenience: callers warn and go on). */
int cli_plot_run(const char *dir, const char *metric_name, double chance, plast_err *err);
/* One plot over groups of runs (a sweep, or `plast plot`): per group, the mean over its runs of a column of each
 * run's `file` (metrics.csv: val_metric per step; trace.csv: eta_mean or energy per trial step) with a +-1 standard
 * deviation band across runs. Returns the number of lines drawn (0: no run had a value in the column, and no file
 * is written), or -1 with the reason in err. */
typedef struct cli_group {
    const char *name;
    int n_runs;
    const char *const *dirs;
} cli_group;
int cli_plot_groups(const char *png, const char *title, const char *file, const char *xcol, const char *ycol,
                    const char *xlabel, const char *ylabel, double chance, int n, const cli_group *groups,
                    plast_err *err);

#endif
