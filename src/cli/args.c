/* src/cli/args.c: argument parsing and error exits shared by the subcommands. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"

void cli_fail(const plast_err *err) {
    fprintf(stderr, "plast: %s\n", err->msg[0] ? err->msg : plast_status_name(err->status));
    cli_mpi_abort(1);
    exit(1);
}

void cli_die(const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "plast: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    cli_mpi_abort(1);
    exit(1);
}

void cli_usage_fail(const char *command, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "plast %s: ", command);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(see 'plast help %s')\n", command);
    exit(2);
}

static int allowed(const char *allow, const char *opt) {
    size_t n = strlen(opt);
    for (const char *c = allow; c && (c = strstr(c, opt)); c += n)
        if ((c == allow || c[-1] == ' ') && (c[n] == '\0' || c[n] == ' ')) return 1;
    return 0;
}

/* Every option of every command, once: "--<name>", what it takes, where it goes in cli_args. */
typedef enum { OPT_FLAG, OPT_PATH, OPT_WORD, OPT_COUNT } opt_kind;
typedef struct cli_option {
    const char *name;
    opt_kind kind;   /* FLAG: sets an int to 1; PATH/WORD: a non-empty string; COUNT: an integer in [1, max] */
    size_t offset;   /* into cli_args */
    long max;        /* COUNT only */
} cli_option;
static const cli_option OPTIONS[] = {
    {"out", OPT_PATH, offsetof(cli_args, out), 0},
    {"params", OPT_PATH, offsetof(cli_args, params), 0},
    {"inputs", OPT_PATH, offsetof(cli_args, inputs), 0},
    {"quiet", OPT_FLAG, offsetof(cli_args, quiet), 0},
    {"restart", OPT_FLAG, offsetof(cli_args, restart), 0},
    {"threads", OPT_COUNT, offsetof(cli_args, threads), 1024},
    {"json", OPT_FLAG, offsetof(cli_args, json), 0},
    {"case", OPT_WORD, offsetof(cli_args, case_name), 0},
    {"steps", OPT_COUNT, offsetof(cli_args, steps), 100000},
    {"list", OPT_FLAG, offsetof(cli_args, list), 0},
    {"quick", OPT_FLAG, offsetof(cli_args, quick), 0},
    {"jobs", OPT_COUNT, offsetof(cli_args, jobs), 64},
    {"curve", OPT_FLAG, offsetof(cli_args, curve), 0},
    {"collect", OPT_FLAG, offsetof(cli_args, collect), 0},
    {"column", OPT_WORD, offsetof(cli_args, column), 0},
    {"file", OPT_WORD, offsetof(cli_args, file), 0},
};

void cli_parse_args(int argc, char **argv, int first, const char *command, const char *allow, cli_args *a) {
    memset(a, 0, sizeof *a);
    unsigned char seen[sizeof OPTIONS / sizeof OPTIONS[0]] = {0};
    for (int i = first; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--set") == 0 || strncmp(arg, "--set=", 6) == 0) {
            const char *kv = arg[5] == '=' ? arg + 6 : (i + 1 < argc ? argv[++i] : NULL);
            if (!kv) cli_usage_fail(command, "--set needs key=value");
            if (a->n_sets == CLI_MAX_SETS) cli_usage_fail(command, "more than %d --set options", CLI_MAX_SETS);
            a->sets[a->n_sets++] = kv;
            continue;
        }
        const cli_option *o = NULL;
        for (size_t k = 0; arg[0] == '-' && arg[1] == '-' && k < sizeof OPTIONS / sizeof OPTIONS[0]; k++)
            if (strcmp(arg + 2, OPTIONS[k].name) == 0 && allowed(allow, OPTIONS[k].name)) o = &OPTIONS[k];
        if (o) {
            size_t k = (size_t)(o - OPTIONS);
            if (seen[k]++) cli_usage_fail(command, "%s given twice", arg);
            char *field = (char *)a + o->offset;
            if (o->kind == OPT_FLAG) {
                *(int *)field = 1;
            } else if (o->kind == OPT_COUNT) {
                char *end = NULL;
                long n = i + 1 < argc ? strtol(argv[i + 1], &end, 10) : 0;
                if (i + 1 >= argc || !end || end == argv[i + 1] || *end || n < 1 || n > o->max)
                    cli_usage_fail(command, "%s needs a count from 1 to %ld, got '%s'", arg, o->max,
                                   i + 1 < argc ? argv[i + 1] : "");
                *(int *)field = (int)n;
                i++;
            } else {
                if (i + 1 >= argc || argv[i + 1][0] == '\0')
                    cli_usage_fail(command, "%s needs %s", arg, o->kind == OPT_PATH ? "a path" : "a value");
                *(const char **)field = argv[++i];
            }
        } else if (arg[0] == '-' && arg[1] != '\0') {
            cli_usage_fail(command, "unknown option '%s'", arg);
        } else if (allowed(allow, "runs")) {
            if (a->n_runs == CLI_MAX_SETS) cli_usage_fail(command, "more than %d runs", CLI_MAX_SETS);
            a->runs[a->n_runs++] = arg;
        } else if (!a->config) {
            a->config = arg;
        } else {
            cli_usage_fail(command, "unexpected argument '%s' (the configuration is already '%s')", arg, a->config);
        }
    }
    /* the BLAS opened now, for the threads asked, while the address space is still there: under a small
     * address-space limit it would otherwise wait forever, or products would run on slow loops */
    if (a->threads) plast_runtime_set_threads(a->threads);
    char n[16]; /* OpenBLAS's OpenMP build sizes itself for OMP_NUM_THREADS (else every processor) as it loads */
    snprintf(n, sizeof n, "%d", plast_runtime_threads());
    setenv("OMP_NUM_THREADS", n, 1);
    plast_err err;
    if (plast_runtime_load_blas(&err) != PLAST_OK) cli_fail(&err);
}

void cli_load_config(plast_cfg_schema s, void *cfg, const cli_args *a) {
    plast_err err;
    if (plast_cfg_load(s, cfg, a->config, a->n_sets, a->sets, &err) != PLAST_OK) cli_fail(&err);
}

void cli_load_experiment(plast_experiment_cfg *cfg, const cli_args *a) {
    cli_load_config(plast_experiment_cfg_schema(), cfg, a);
    plast_experiment_cfg_settle(cfg); /* as a run of it would have it */
}

double cli_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

const char *cli_default_out(const char *config, char *buf, size_t cap) {
    const char *base = strrchr(config, '/');
    base = base ? base + 1 : config;
    size_t n = strlen(base);
    if (n > 5 && strcmp(base + n - 5, ".json") == 0) n -= 5;
    snprintf(buf, cap, "runs/%.*s", (int)n, base);
    return buf;
}
