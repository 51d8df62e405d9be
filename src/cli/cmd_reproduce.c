/* src/cli/cmd_reproduce.c: `plast reproduce NAME`: one of the papers' tables (reproduce_tables.h) rebuilt from
 * plast's own runs. Each column is one `plast sweep` of the paper's configuration (so the runs resume, and spread
 * over ranks under mpirun); then the table in the paper's layout, every cell plast's mean +- standard deviation over
 * seeds beside the paper's, marked inside when plast's mean lies within the paper's mean +- its interval. --quick
 * runs a short version (at most 300 steps, 2 seeds), labelled as such. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/reproduce_tables.h"
#include "core/fileio.h"
#include "core/strbuf.h"

#ifndef PLAST_CONFIG_DIR
#define PLAST_CONFIG_DIR "configs"
#endif

typedef struct cell {
    const char *table, *column, *config, *combination, *row;
    double paper_mean, paper_pm, scale;
} cell;
typedef struct table {
    const char *name, *title;
    int energy; /* the runs' test energy instead of their metric */
} table;

#define CELL_ROW(t, col, cfg, comb, row, m, pm, sc) {t, col, cfg, comb, row, m, pm, sc},
static const cell CELLS[] = {REPRODUCE_CELLS(CELL_ROW)};
#undef CELL_ROW
#define TABLE_ROW(name, title, energy) {name, title, energy},
static const table TABLES[] = {REPRODUCE_TABLES(TABLE_ROW)};
#undef TABLE_ROW
enum { N_CELLS = sizeof CELLS / sizeof CELLS[0], N_TABLES = sizeof TABLES / sizeof TABLES[0], MAX_COLS = 8 };

/* the distinct values of a field among the table's cells, in order of appearance */
static int distinct(const char *name, int row_field, const char **out, int cap) {
    int n = 0;
    for (int i = 0; i < N_CELLS; i++) {
        if (strcmp(CELLS[i].table, name) != 0) continue;
        const char *v = row_field ? CELLS[i].row : CELLS[i].column;
        int seen = 0;
        for (int k = 0; k < n; k++) seen |= strcmp(out[k], v) == 0;
        if (!seen && n < cap) out[n++] = v;
    }
    return n;
}

/* a combination's mean and sd of the metric (or the energy) and its seeds, from a sweep's summary.csv */
static int read_summary(const char *path, const char *combination, int energy, double *mean, double *sd, int *seeds) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char line[1024];
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        char *comma = strchr(line, ',');
        if (!comma || (size_t)(comma - line) != strlen(combination) || strncmp(line, combination, strlen(combination)))
            continue;
        double v[8] = {NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN};
        int n = 0;
        for (char *p = comma + 1; p && n < 9; n++) {
            char *end = NULL;
            const double x = strtod(p, &end);
            if (n == 0) *seeds = (int)x;
            else v[n - 1] = end == p ? NAN : x;
            p = strchr(p, ',');
            if (p) p++;
        }
        /* metric_mean, metric_sd, sem, ci95, loss_mean, energy_mean, energy_sd */
        *mean = energy ? v[5] : v[0], *sd = energy ? v[6] : v[1];
        found = 1;
    }
    fclose(f);
    return found;
}

static void list_tables(void) {
    for (int t = 0; t < N_TABLES; t++) {
        const char *cols[MAX_COLS];
        const int nc = distinct(TABLES[t].name, 0, cols, MAX_COLS);
        printf("%-12s %s (columns:", TABLES[t].name, TABLES[t].title);
        for (int k = 0; k < nc; k++) printf("%s %s", k ? "," : "", cols[k]);
        printf(")\n");
    }
}

int cmd_reproduce(int argc, char **argv) {
    cli_args a;
    cli_parse_args(argc, argv, 1, "reproduce", "out quiet threads restart list quick", &a);
    if (a.list) {
        list_tables();
        return 0;
    }
    if (!a.config) cli_usage_fail("reproduce", "needs a table's name (plast reproduce --list)");
    const table *tb = NULL;
    for (int t = 0; t < N_TABLES; t++)
        if (strcmp(TABLES[t].name, a.config) == 0) tb = &TABLES[t];
    if (!tb) cli_usage_fail("reproduce", "no table '%s' (plast reproduce --list)", a.config);
    const char *cfg_dir = getenv("PLAST_CONFIGS") ? getenv("PLAST_CONFIGS") : PLAST_CONFIG_DIR;
    char out[1024];
    if (a.out) snprintf(out, sizeof out, "%s", a.out);
    else snprintf(out, sizeof out, "runs/reproduce/%s%s", tb->name, a.quick ? "_quick" : "");
    const char *cols[MAX_COLS], *rows[64];
    const int nc = distinct(tb->name, 0, cols, MAX_COLS), nr = distinct(tb->name, 1, rows, 64);
    char col_dir[MAX_COLS][1500];
    int64_t steps_run[MAX_COLS] = {0}, steps_paper[MAX_COLS] = {0};

    /* one sweep per column (several tables share a column's runs: the same directory under runs/reproduce) */
    for (int k = 0; k < nc; k++) {
        const char *config = NULL;
        for (int i = 0; i < N_CELLS && !config; i++)
            if (!strcmp(CELLS[i].table, tb->name) && !strcmp(CELLS[i].column, cols[k])) config = CELLS[i].config;
        char path[1200], steps[64], seeds[32], val[64], threads[16];
        snprintf(path, sizeof path, "%s/%s", cfg_dir, config);
        plast_experiment_cfg cfg;
        plast_err err;
        if (plast_experiment_cfg_load(&cfg, path, 0, NULL, &err) != PLAST_OK) cli_fail(&err);
        steps_paper[k] = cfg.train.steps;
        const int64_t quick_steps = cfg.train.steps / 100 < 300 ? (cfg.train.steps / 100 > 0 ? cfg.train.steps / 100 : 1)
                                                                : 300;
        /* the column's runs: OUT/<config's name>, shared by the tables that use it */
        char base[256];
        cli_default_out(config, base, sizeof base);
        snprintf(col_dir[k], sizeof col_dir[k], "%.1024s/%.250s", out, base + strlen("runs/"));
        /* the overrides: --quick's first, then the user's, which win */
        const char *sets[CLI_MAX_SETS + 3];
        int n_sets = 0;
        if (a.quick) {
            snprintf(steps, sizeof steps, "train.steps=%lld", (long long)quick_steps);
            snprintf(val, sizeof val, "train.val_every=%lld", (long long)quick_steps);
            snprintf(seeds, sizeof seeds, "sweep.seeds=2");
            sets[n_sets++] = steps, sets[n_sets++] = val, sets[n_sets++] = seeds;
        }
        for (int s = 0; s < a.n_sets; s++) sets[n_sets++] = a.sets[s];
        if (plast_experiment_cfg_load(&cfg, path, n_sets, sets, &err) != PLAST_OK) cli_fail(&err);
        steps_run[k] = cfg.train.steps; /* the steps the runs take */
        const char *sv[2 * (CLI_MAX_SETS + 3) + 10];
        int n = 0;
        sv[n++] = "sweep", sv[n++] = path, sv[n++] = "--out", sv[n++] = col_dir[k];
        for (int s = 0; s < n_sets; s++) sv[n++] = "--set", sv[n++] = sets[s];
        if (a.quiet) sv[n++] = "--quiet";
        if (a.restart) sv[n++] = "--restart";
        if (a.threads) snprintf(threads, sizeof threads, "%d", a.threads), sv[n++] = "--threads", sv[n++] = threads;
        printf("== %s, column \"%s\": plast sweep %s --out %s%s\n", tb->name, cols[k], path, col_dir[k],
               a.quick ? " (quick)" : "");
        fflush(stdout);
        cmd_sweep(n, (char **)sv);
    }
    if (cli_mpi_rank() != 0) return 0;

    /* the table: rows as the paper's, each cell plast's and the paper's */
    plast_strbuf md;
    plast_strbuf_init(&md);
    plast_strbuf_printf(&md, "# %s\n\n", tb->title);
    if (a.quick) plast_strbuf_printf(&md, "**Quick version, not the paper's scale**: at most 300 steps, 2 seeds.\n\n");
    if (a.n_sets) {
        plast_strbuf_puts(&md, "Settings changed from the paper's:");
        for (int k = 0; k < a.n_sets; k++) plast_strbuf_printf(&md, " `%s`", a.sets[k]);
        plast_strbuf_puts(&md, ".\n\n");
    }
    plast_strbuf_printf(&md, "Each cell: plast's mean +- sd over seeds, then the paper's; *in* when plast's mean lies "
                             "within the paper's mean +- its sd.\n\n| model |");
    for (int k = 0; k < nc; k++) plast_strbuf_printf(&md, " %s |", cols[k]);
    plast_strbuf_puts(&md, "\n|---|");
    for (int k = 0; k < nc; k++) plast_strbuf_puts(&md, "---|");
    plast_strbuf_puts(&md, "\n");
    int inside = 0, outside = 0, missing = 0;
    for (int r = 0; r < nr; r++) {
        plast_strbuf_printf(&md, "| %s |", rows[r]);
        for (int k = 0; k < nc; k++) {
            const cell *c = NULL;
            for (int i = 0; i < N_CELLS && !c; i++)
                if (!strcmp(CELLS[i].table, tb->name) && !strcmp(CELLS[i].column, cols[k]) && !strcmp(CELLS[i].row, rows[r]))
                    c = &CELLS[i];
            if (!c) {
                plast_strbuf_puts(&md, " - |");
                continue;
            }
            char path[1600];
            snprintf(path, sizeof path, "%.1500s/summary.csv", col_dir[k]);
            double mean = NAN, sd = NAN;
            int seeds = 0;
            if (!read_summary(path, c->combination, tb->energy, &mean, &sd, &seeds) || isnan(mean)) {
                plast_strbuf_printf(&md, " no result (paper %.4g +- %.3g) |", c->paper_mean, c->paper_pm);
                missing++;
                continue;
            }
            mean *= c->scale, sd *= c->scale;
            const int in = fabs(mean - c->paper_mean) <= c->paper_pm;
            in ? inside++ : outside++;
            char ours[64];
            if (isnan(sd)) snprintf(ours, sizeof ours, "%.4g (1 seed)", mean);
            else snprintf(ours, sizeof ours, "%.4g +- %.3g", mean, sd);
            plast_strbuf_printf(&md, " %s (paper %.4g +- %.3g) *%s* |", ours, c->paper_mean, c->paper_pm,
                                in ? "in" : "out");
        }
        plast_strbuf_puts(&md, "\n");
    }
    plast_strbuf_printf(&md, "\n%d cells inside the paper's interval, %d outside, %d without a result.", inside,
                        outside, missing);
    for (int k = 0; k < nc; k++)
        plast_strbuf_printf(&md, "%s %s: %lld of the paper's %lld steps", k ? ";" : " Steps:", cols[k],
                            (long long)steps_run[k], (long long)steps_paper[k]);
    plast_strbuf_puts(&md, ".\n");
    if (!md.buf) cli_die("out of memory");
    printf("\n%s", md.buf);
    char path[1200];
    snprintf(path, sizeof path, "%s/%s.md", out, tb->name);
    const void *parts[1] = {md.buf};
    size_t sizes[1] = {md.len};
    plast_err err;
    if (plast_file_write_atomic(path, 1, parts, sizes, &err) != PLAST_OK) cli_fail(&err);
    printf("\nthe table in %s\n", path);
    plast_strbuf_free(&md);
    return 0;
}
