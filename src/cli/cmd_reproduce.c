/* src/cli/cmd_reproduce.c: `plast reproduce NAME`: one of the papers' tables (reproduce_tables.h) rebuilt from
 * plast's own runs. Each configuration the table uses is one `plast sweep` into OUT/<configuration> (so the runs
 * resume, tables that share runs share them, and the runs spread over ranks under mpirun or over --jobs worker
 * processes); then OUT/<table>.md in the paper's layout, every cell plast's figure in the paper's statistic beside
 * the paper's, marked inside when it lies within the paper's interval. --quick runs a short version (at most 300
 * steps, 2 seeds) into its own OUT, labelled as such. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/plot.h"
#include "cli/reproduce_tables.h"
#include "core/fileio.h"
#include "core/strbuf.h"

#ifndef PLAST_CONFIG_DIR
#define PLAST_CONFIG_DIR "configs"
#endif

typedef struct cell {
    const char *table, *column, *config, *combination, *row;
    double paper, paper_pm, scale; /* scale < 0: the runs' test energy, unit 1 */
} cell;
#define STAT_ID(id, text) id,
typedef enum { REPRODUCE_STATS(STAT_ID) N_STATS } stat_kind;
#undef STAT_ID
#define STAT_TEXT(id, text) text,
static const char *const STAT_TEXTS[] = {REPRODUCE_STATS(STAT_TEXT)};
#undef STAT_TEXT
_Static_assert(sizeof STAT_TEXTS / sizeof STAT_TEXTS[0] == N_STATS, "a statistic lacks its description");
typedef struct table {
    const char *name, *title;
    int energy; /* the runs' test energy instead of their metric */
    stat_kind stat;
    const char *note;
    const char *xlabel; /* a figure's x axis, the number ending each column title; "" for a table alone */
} table;

#define CELL_ROW(t, col, cfg, comb, row, m, pm, sc) {t, col, cfg, comb, row, m, pm, sc},
static const cell CELLS[] = {REPRODUCE_CELLS(CELL_ROW)};
#undef CELL_ROW
#define TABLE_ROW(name, title, energy, stat, note, xlabel) {name, title, energy, stat, note, xlabel},
static const table TABLES[] = {REPRODUCE_TABLES(TABLE_ROW)};
#undef TABLE_ROW
enum { N_CELLS = sizeof CELLS / sizeof CELLS[0], N_TABLES = sizeof TABLES / sizeof TABLES[0], MAX_COLS = 8 };

/* the distinct values of a field (0 column, 1 row, 2 config) among the table's cells, in order of appearance */
static int distinct(const char *name, int field, const char **out, int cap) {
    int n = 0;
    for (int i = 0; i < N_CELLS; i++) {
        if (strcmp(CELLS[i].table, name) != 0) continue;
        const char *v = field == 1 ? CELLS[i].row : field == 2 ? CELLS[i].config : CELLS[i].column;
        int seen = 0;
        for (int k = 0; k < n; k++) seen |= strcmp(out[k], v) == 0;
        if (!seen && n < cap) out[n++] = v;
    }
    return n;
}

/* one combination's line of a sweep's summary.csv */
typedef struct summary_line {
    int seeds;
    double mean, sd, sem, ci95, loss, energy, energy_sd, median, q1, q3;
} summary_line;

static int read_summary(const char *path, const char *combination, summary_line *out) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char line[1024];
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        char *comma = strchr(line, ',');
        if (!comma || (size_t)(comma - line) != strlen(combination) || strncmp(line, combination, strlen(combination)))
            continue;
        /* seeds, metric_mean, metric_sd, metric_sem, metric_ci95, loss_mean, energy_mean, energy_sd, metric_median,
         * metric_q1, metric_q3 (the last three absent from summaries written before they existed) */
        double v[11];
        int n = 0;
        for (char *p = comma + 1; p && n < 11; n++) {
            char *end = NULL;
            const double x = strtod(p, &end);
            v[n] = end == p ? NAN : x;
            p = strchr(p, ',');
            if (p) p++;
        }
        for (; n < 11; n++) v[n] = NAN;
        *out = (summary_line){(int)v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10]};
        found = 1;
    }
    fclose(f);
    return found;
}

static void list_tables(void) {
    for (int t = 0; t < N_TABLES; t++) {
        const char *cols[MAX_COLS];
        const int nc = distinct(TABLES[t].name, 0, cols, MAX_COLS);
        printf("%-16s %s (columns:", TABLES[t].name, TABLES[t].title);
        for (int k = 0; k < nc; k++) printf("%s %s", k ? "," : "", cols[k]);
        printf(")\n");
    }
}

/* Every cell of table `name` (every table: NULL) names a combination that its configuration's sweep makes, with the
 * overrides `sets` applied; otherwise the table could never fill that cell, so this is an error naming them. */
static void check_cells(const char *cfg_dir, const char *name, int n_sets, const char *const *sets) {
    const char *loaded = NULL; /* the configuration in cfg: a table's cells come grouped by configuration */
    char path[1200];
    plast_experiment_cfg cfg;
    for (int i = 0; i < N_CELLS; i++) {
        const cell *c = &CELLS[i];
        if (name && strcmp(c->table, name) != 0) continue;
        if (!loaded || strcmp(loaded, c->config) != 0) {
            plast_err err;
            snprintf(path, sizeof path, "%s/%s", cfg_dir, c->config);
            if (plast_experiment_cfg_load(&cfg, path, n_sets, sets, &err) != PLAST_OK) cli_fail(&err);
            loaded = c->config;
        }
        if (!cli_sweep_has_combination(cfg.sweep.vary, c->combination))
            cli_die("table %s, row \"%s\", column \"%s\": %s's sweep.vary (\"%s\") makes no combination \"%s\"",
                    c->table, c->row, c->column, path, cfg.sweep.vary, c->combination);
    }
}

/* Runs (or resumes; with --collect only summarises) the sweep of one configuration into its directory under out;
 * the steps it runs and the paper's, and its seeds per combination. */
static void sweep_config(const cli_args *a, const char *cfg_dir, const char *config, const char *out, char *dir,
                         size_t dir_cap, int64_t *steps_run, int64_t *steps_paper, int *seeds_run) {
    char path[1200], steps[64], seeds[32], val[64], threads[16], jobs[16];
    snprintf(path, sizeof path, "%s/%s", cfg_dir, config);
    plast_experiment_cfg cfg;
    plast_err err;
    if (plast_experiment_cfg_load(&cfg, path, 0, NULL, &err) != PLAST_OK) cli_fail(&err);
    *steps_paper = cfg.train.steps;
    const int64_t hundredth = cfg.train.steps / 100 > 0 ? cfg.train.steps / 100 : 1;
    const int64_t quick_steps = hundredth < 300 ? hundredth : 300;
    /* the runs: OUT/<config's name>, shared by the tables that use it */
    char base[256];
    cli_default_out(config, base, sizeof base);
    snprintf(dir, dir_cap, "%.1024s/%.250s", out, base + strlen("runs/"));
    /* the overrides: --quick's first, then the user's, which win */
    const char *sets[CLI_MAX_SETS + 3];
    int n_sets = 0;
    if (a->quick) {
        snprintf(steps, sizeof steps, "train.steps=%lld", (long long)quick_steps);
        snprintf(val, sizeof val, "train.val_every=%lld", (long long)quick_steps);
        snprintf(seeds, sizeof seeds, "sweep.seeds=2");
        sets[n_sets++] = steps, sets[n_sets++] = val, sets[n_sets++] = seeds;
    }
    for (int s = 0; s < a->n_sets; s++) sets[n_sets++] = a->sets[s];
    if (plast_experiment_cfg_load(&cfg, path, n_sets, sets, &err) != PLAST_OK) cli_fail(&err);
    *steps_run = cfg.train.steps, *seeds_run = (int)cfg.sweep.seeds;
    if (a->collect && access(dir, F_OK) != 0) return; /* no runs of this configuration at all */
    const char *sv[2 * (CLI_MAX_SETS + 3) + 12];
    int n = 0;
    sv[n++] = "sweep", sv[n++] = path, sv[n++] = "--out", sv[n++] = dir;
    for (int s = 0; s < n_sets; s++) sv[n++] = "--set", sv[n++] = sets[s];
    if (a->collect) sv[n++] = "--collect"; /* the summary of the runs finished so far, nothing trained */
    if (a->quiet) sv[n++] = "--quiet";
    if (a->restart) sv[n++] = "--restart";
    if (a->threads) snprintf(threads, sizeof threads, "%d", a->threads), sv[n++] = "--threads", sv[n++] = threads;
    if (a->jobs) snprintf(jobs, sizeof jobs, "%d", a->jobs), sv[n++] = "--jobs", sv[n++] = jobs;
    printf("== plast sweep %s --out %s%s\n", path, dir, a->quick ? " (quick)" : "");
    fflush(stdout);
    cmd_sweep(n, (char **)sv);
}

/* a cell's text and whether plast's figure lies inside the paper's interval (-1: no paper figure); its centre and
 * band (lo, hi) for a figure. seeds_planned: the configuration's seeds per combination; a sweep still running
 * (--collect) has fewer, and the cell says over how many */
static int format_cell(const table *tb, const cell *c, const summary_line *l, int seeds_planned, char *buf,
                       size_t cap, double *lo, double *centre_out, double *hi) {
    const int energy = tb->energy || c->scale < 0;
    const double scale = c->scale < 0 ? 1 : c->scale;
    const double mean = (energy ? l->energy : l->mean) * scale, sd = (energy ? l->energy_sd : l->sd) * scale;
    char ours[96], seeds_note[48] = "";
    if (l->seeds < seeds_planned) snprintf(seeds_note, sizeof seeds_note, " (%d of %d seeds)", l->seeds, seeds_planned);
    double centre = mean;
    *lo = *hi = NAN;
    if (tb->stat == STAT_MEDIAN_IQR && !energy) {
        centre = l->median * scale, *lo = l->q1 * scale, *hi = l->q3 * scale;
        snprintf(ours, sizeof ours, "%.4g [%.4g, %.4g]", centre, *lo, *hi);
    } else if (isnan(sd)) { /* one seed: said once, by the seeds note when the sweep has more to come */
        snprintf(ours, sizeof ours, seeds_note[0] ? "%.4g" : "%.4g (1 seed)", mean);
    } else {
        const double pm = tb->stat == STAT_SEM196 && !energy ? 1.96 * l->sem * scale : sd;
        *lo = mean - pm, *hi = mean + pm;
        snprintf(ours, sizeof ours, "%.4g +- %.3g", mean, pm);
    }
    *centre_out = centre;
    if (isnan(c->paper)) {
        snprintf(buf, cap, " %s%s |", ours, seeds_note);
        return -1;
    }
    /* the paper's figures are decimals: 100 lies within 99.99 +- 0.01, though 100 - 99.99 > 0.01 in binary */
    const int in = fabs(centre - c->paper) <= c->paper_pm * (1 + 1e-9);
    snprintf(buf, cap, " %s (paper %.4g +- %.3g) *%s*%s |", ours, c->paper, c->paper_pm, in ? "in" : "out",
             seeds_note);
    return in;
}

/* A figure table's curves: x from the number ending each column title, one line per row with its band, into
 * OUT/<table>.png. */
static void draw_figure(const table *tb, const char *out, const char *const *cols, int nc, const char *const *rows,
                        int nr, double (*y)[MAX_COLS], double (*lo)[MAX_COLS], double (*hi)[MAX_COLS]) {
    double x[MAX_COLS];
    for (int k = 0; k < nc; k++) {
        const char *num = cols[k] + strlen(cols[k]);
        while (num > cols[k] && (num[-1] == '.' || (num[-1] >= '0' && num[-1] <= '9'))) num--;
        x[k] = *num ? strtod(num, NULL) : NAN;
    }
    chart_series s[64];
    for (int r = 0; r < nr; r++) s[r] = (chart_series){rows[r], nc, x, y[r], lo[r], hi[r]};
    const chart ch = {tb->title, tb->xlabel, STAT_TEXTS[tb->stat], NAN, NULL, -1};
    char path[1200];
    plast_err err;
    snprintf(path, sizeof path, "%s/%s.png", out, tb->name);
    if (chart_png(path, &ch, nr, s, &err) != 0) fprintf(stderr, "plast: warning: %s not written: %s\n", path, err.msg);
    else printf("the figure in %s\n", path);
}

int cmd_reproduce(int argc, char **argv) {
    cli_args a;
    cli_parse_args(argc, argv, 1, "reproduce", "out quiet threads restart list quick jobs collect", &a);
    const char *cfg_dir = getenv("PLAST_CONFIGS") ? getenv("PLAST_CONFIGS") : PLAST_CONFIG_DIR;
    if (a.list) {
        check_cells(cfg_dir, NULL, 0, NULL);
        list_tables();
        return 0;
    }
    if (!a.config) cli_usage_fail("reproduce", "needs a table's name (plast reproduce --list)");
    const table *tb = NULL;
    for (int t = 0; t < N_TABLES; t++)
        if (strcmp(TABLES[t].name, a.config) == 0) tb = &TABLES[t];
    if (!tb) cli_usage_fail("reproduce", "no table '%s' (plast reproduce --list)", a.config);
    check_cells(cfg_dir, tb->name, a.n_sets, (const char *const *)a.sets);
    char out[1024];
    if (a.out) snprintf(out, sizeof out, "%s", a.out);
    else snprintf(out, sizeof out, "runs/reproduce%s", a.quick ? "_quick" : ""); /* shared by every table */
    const char *cols[MAX_COLS], *rows[64], *configs[MAX_COLS];
    const int nc = distinct(tb->name, 0, cols, MAX_COLS), nr = distinct(tb->name, 1, rows, 64);
    const int nf = distinct(tb->name, 2, configs, MAX_COLS);
    char cfg_out[MAX_COLS][1500];
    int64_t steps_run[MAX_COLS] = {0}, steps_paper[MAX_COLS] = {0};
    int seeds[MAX_COLS] = {0}; /* each configuration's seeds per combination */
    const double t0 = cli_now();

    /* one sweep per configuration (several tables share a configuration's runs: the same directory) */
    for (int k = 0; k < nf; k++)
        sweep_config(&a, cfg_dir, configs[k], out, cfg_out[k], sizeof cfg_out[k], &steps_run[k], &steps_paper[k],
                     &seeds[k]);
    if (cli_mpi_rank() != 0) return 0;
    const double wall = cli_now() - t0;

    /* the table: rows as the paper's, each cell plast's and the paper's */
    plast_strbuf md;
    plast_strbuf_init(&md);
    plast_strbuf_printf(&md, "# %s\n\n", tb->title);
    if (tb->note[0]) plast_strbuf_printf(&md, "%s\n\n", tb->note);
    if (a.quick) plast_strbuf_printf(&md, "**Quick version, not the paper's scale**: at most 300 steps, 2 seeds.\n\n");
    if (a.collect) plast_strbuf_puts(&md, "Collected from the runs already finished (`--collect`: nothing trained).\n\n");
    if (a.n_sets) {
        plast_strbuf_puts(&md, "Settings changed from the paper's:");
        for (int k = 0; k < a.n_sets; k++) plast_strbuf_printf(&md, " `%s`", a.sets[k]);
        plast_strbuf_puts(&md, ".\n\n");
    }
    plast_strbuf_printf(&md, "Each cell: plast's %s, then the paper's where it gives one; *in* when plast's figure "
                             "lies within the paper's interval.\n\n| model |", STAT_TEXTS[tb->stat]);
    for (int k = 0; k < nc; k++) plast_strbuf_printf(&md, " %s |", cols[k]);
    plast_strbuf_puts(&md, "\n|---|");
    for (int k = 0; k < nc; k++) plast_strbuf_puts(&md, "---|");
    plast_strbuf_puts(&md, "\n");
    int inside = 0, outside = 0, missing = 0, unpaired = 0;
    double fig_y[64][MAX_COLS], fig_lo[64][MAX_COLS], fig_hi[64][MAX_COLS]; /* the cells, for a figure */
    for (int r = 0; r < nr; r++)
        for (int k = 0; k < MAX_COLS; k++) fig_y[r][k] = fig_lo[r][k] = fig_hi[r][k] = NAN;
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
            int f = 0;
            while (strcmp(configs[f], c->config) != 0) f++;
            char path[1600], text[256];
            snprintf(path, sizeof path, "%.1500s/summary.csv", cfg_out[f]);
            summary_line l;
            const int energy = tb->energy || c->scale < 0;
            if (!read_summary(path, c->combination, &l) || isnan(energy ? l.energy : l.mean)) {
                if (isnan(c->paper)) plast_strbuf_puts(&md, " no result |");
                else plast_strbuf_printf(&md, " no result (paper %.4g +- %.3g) |", c->paper, c->paper_pm);
                missing++;
                continue;
            }
            const int in =
                format_cell(tb, c, &l, seeds[f], text, sizeof text, &fig_lo[r][k], &fig_y[r][k], &fig_hi[r][k]);
            plast_strbuf_puts(&md, text);
            in > 0 ? inside++ : in == 0 ? outside++ : unpaired++;
        }
        plast_strbuf_puts(&md, "\n");
    }
    plast_strbuf_printf(&md, "\n%d cells inside the paper's interval, %d outside, %d without a result", inside,
                        outside, missing);
    if (unpaired) plast_strbuf_printf(&md, ", %d without a paper figure", unpaired);
    plast_strbuf_puts(&md, ".");
    for (int k = 0; k < nf; k++)
        plast_strbuf_printf(&md, "%s %s: %lld of its configuration's %lld steps", k ? ";" : " Steps:", configs[k],
                            (long long)steps_run[k], (long long)steps_paper[k]);
    if (!a.collect)
        plast_strbuf_printf(&md, ".\nWall time of this command: %.0f s (runs already finished are not trained again)", wall);
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
    if (tb->xlabel[0]) draw_figure(tb, out, cols, nc, rows, nr, fig_y, fig_lo, fig_hi);
    return 0;
}
