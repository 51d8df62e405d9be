/* src/cli/cmd_plot.c: `plast plot [LABEL=]RUN_DIR... --out PNG [--column NAME] [--file CSV]`: one chart of a column
 * of several runs' CSV files against their step, to compare runs that no sweep made together (two learning rates,
 * two models, a run and its continuation). Runs given the same label are one line: their mean, with a band of one
 * standard deviation across them (as a sweep's seeds); a run without a label is labelled by its directory's name. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

/* "LABEL=DIR" -> label and dir; a plain DIR (or one whose '=' comes after a '/') is labelled by its last component */
static void split_run(const char *arg, char *label, size_t cap, const char **dir) {
    const char *eq = strchr(arg, '='), *slash = strchr(arg, '/');
    if (eq && eq > arg && (!slash || eq < slash)) {
        snprintf(label, cap, "%.*s", (int)(eq - arg), arg);
        *dir = eq + 1;
        return;
    }
    *dir = arg;
    size_t n = strlen(arg);
    while (n > 1 && arg[n - 1] == '/') n--; /* "runs/a/" is labelled "a" */
    size_t b = n;
    while (b > 0 && arg[b - 1] != '/') b--;
    snprintf(label, cap, "%.*s", (int)(n - b), arg + b);
}

int cmd_plot(int argc, char **argv) {
    cli_args a;
    cli_parse_args(argc, argv, 1, "plot", "runs out column file", &a);
    if (a.n_runs == 0) cli_usage_fail("plot", "no run directories given");
    if (!a.out) cli_usage_fail("plot", "--out PNG is needed (the chart's path)");
    const char *file = a.file ? a.file : "metrics.csv", *column = a.column ? a.column : "val_metric";

    /* groups by label, in the order the labels first appear */
    char labels[CLI_MAX_SETS][128];
    const char *dirs[CLI_MAX_SETS][CLI_MAX_SETS];
    int counts[CLI_MAX_SETS] = {0}, n_groups = 0;
    for (int i = 0; i < a.n_runs; i++) {
        char label[128];
        const char *dir;
        split_run(a.runs[i], label, sizeof label, &dir);
        if (!dir[0]) cli_usage_fail("plot", "'%s': no run directory after the label", a.runs[i]);
        int g = 0;
        while (g < n_groups && strcmp(labels[g], label) != 0) g++;
        if (g == n_groups) snprintf(labels[n_groups++], sizeof labels[0], "%s", label);
        dirs[g][counts[g]++] = dir;
    }
    cli_group groups[CLI_MAX_SETS];
    for (int g = 0; g < n_groups; g++) groups[g] = (cli_group){labels[g], counts[g], dirs[g]};

    char title[256];
    snprintf(title, sizeof title, "%s (%s)%s", column, file, a.n_runs > n_groups ? ", mean and +-1 sd over runs" : "");
    plast_err err;
    const int drawn = cli_plot_groups(a.out, title, file, "step", column, "step", column, NAN, n_groups, groups, &err);
    if (drawn < 0) cli_fail(&err);
    if (drawn == 0) cli_die("%s not written: no run has a value in column '%s' of its %s", a.out, column, file);
    printf("%s: %s of %d run%s in %d line%s\n", a.out, column, a.n_runs, a.n_runs > 1 ? "s" : "", drawn,
           drawn > 1 ? "s" : "");
    return 0;
}
