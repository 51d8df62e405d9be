/* src/cli/args.c: argument parsing and error exits shared by the subcommands. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"

void cli_fail(const plast_err *err) {
    fprintf(stderr, "plast: %s\n", err->msg[0] ? err->msg : plast_status_name(err->status));
    exit(1);
}

void cli_die(const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "plast: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
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

void cli_parse_args(int argc, char **argv, int first, const char *command, const char *allow, cli_args *a) {
    memset(a, 0, sizeof *a);
    for (int i = first; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--set") == 0) {
            if (i + 1 >= argc) cli_usage_fail(command, "--set needs key=value");
            if (a->n_sets == CLI_MAX_SETS) cli_usage_fail(command, "more than %d --set options", CLI_MAX_SETS);
            a->sets[a->n_sets++] = argv[++i];
        } else if (strncmp(arg, "--set=", 6) == 0) {
            if (a->n_sets == CLI_MAX_SETS) cli_usage_fail(command, "more than %d --set options", CLI_MAX_SETS);
            a->sets[a->n_sets++] = arg + 6;
        } else if ((strcmp(arg, "--out") == 0 && allowed(allow, "out")) ||
                   (strcmp(arg, "--params") == 0 && allowed(allow, "params")) ||
                   (strcmp(arg, "--inputs") == 0 && allowed(allow, "inputs"))) {
            if (i + 1 >= argc || argv[i + 1][0] == '\0') cli_usage_fail(command, "%s needs a path", arg);
            const char **dst = arg[2] == 'o' ? &a->out : arg[2] == 'p' ? &a->params : &a->inputs;
            *dst = argv[++i];
        } else if (strcmp(arg, "--quiet") == 0 && allowed(allow, "quiet")) {
            a->quiet = 1;
        } else if (strcmp(arg, "--restart") == 0 && allowed(allow, "restart")) {
            a->restart = 1;
        } else if (strcmp(arg, "--threads") == 0 && allowed(allow, "threads")) {
            char *end = NULL;
            long n = i + 1 < argc ? strtol(argv[i + 1], &end, 10) : 0;
            if (i + 1 >= argc || !end || *end || n < 1 || n > 1024)
                cli_usage_fail(command, "--threads needs a count from 1 to 1024, got '%s'",
                               i + 1 < argc ? argv[i + 1] : "");
            a->threads = (int)n;
            i++;
        } else if (arg[0] == '-' && arg[1] != '\0') {
            cli_usage_fail(command, "unknown option '%s'", arg);
        } else if (!a->config) {
            a->config = arg;
        } else {
            cli_usage_fail(command, "unexpected argument '%s' (the configuration is already '%s')", arg, a->config);
        }
    }
    if (a->threads) plast_runtime_set_threads(a->threads);
}

void cli_load_config(plast_cfg_schema s, void *cfg, const cli_args *a) {
    plast_err err;
    if (plast_cfg_load(s, cfg, a->config, a->n_sets, a->sets, &err) != PLAST_OK) cli_fail(&err);
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
