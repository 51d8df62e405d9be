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
    int threads;                    /* --threads N, 0 = default */
} cli_args;

/* Parses argv[first..] into a; exits with a usage message naming the bad argument. `allow` lists the accepted
 * options besides --set ("out", "quiet", "threads"). */
void cli_parse_args(int argc, char **argv, int first, const char *command, const char *allow, cli_args *a);

/* Prints "plast: <message>" to stderr and exits with status 1 (2 for usage errors). */
void cli_fail(const plast_err *err) __attribute__((noreturn));
void cli_usage_fail(const char *command, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
void cli_die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* Loads a schema-described configuration from a->config and a->sets, or exits with the error. */
void cli_load_config(plast_cfg_schema s, void *cfg, const cli_args *a);

/* Monotonic seconds. */
double cli_now(void);

/* subcommands */
int cmd_demo(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_bench_run(int argc, char **argv);
int cmd_bench_floor(int argc, char **argv);

#endif
