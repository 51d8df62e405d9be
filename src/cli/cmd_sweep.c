/* src/cli/cmd_sweep.c: `plast sweep CONFIG`: every combination of the values in sweep.vary ("key=a,b;key2=c,d")
 * times sweep.seeds seeds (keys joined by '+' vary together: "model.family+model.hidden=stpn+11,lstm+9"), one run directory each (OUT/<combination>/seed<k>), trained or resumed in turn; then
 * the paper-style table of the test metric per combination (mean, standard deviation, 95% confidence interval)
 * in summary.md and summary.csv, and plots with one curve per combination and a band over seeds. Running the
 * same command again resumes unfinished runs and redraws the summary. --jobs N runs N at a time, in N worker
 * processes of threads / N threads each, pinned to their own processors (see run_workers). --collect writes the table
 * of the runs finished so far (each combination over its finished seeds) and trains nothing. */
#define _GNU_SOURCE /* sched_setaffinity */
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "core/strbuf.h"
#include "core/fileio.h"

#define MAX_AXES 8
#define MAX_VALUES 16
#define MAX_COMBOS 256
#define MAX_SEEDS 100

#define MAX_TIED 4 /* keys varied together on one axis */

typedef struct axis {
    int n_keys;
    char keys[MAX_TIED][96];
    int n;
    char values[MAX_VALUES][MAX_TIED][96];
} axis;

/* splits s at '+' into at most MAX_TIED parts of cap bytes; returns the count, or -1 if there are more */
static int split_plus(const char *s, char (*parts)[96], size_t cap) {
    int n = 0;
    for (const char *p = s;; n++) {
        if (n == MAX_TIED) return -1;
        const char *end = strchr(p, '+');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        snprintf(parts[n], cap, "%.*s", (int)len, p);
        if (!end) return n + 1;
        p = end + 1;
    }
}

static int parse_vary(const char *vary, axis *ax) {
    int n = 0;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", vary);
    char *save = NULL;
    for (char *part = strtok_r(buf, ";", &save); part; part = strtok_r(NULL, ";", &save)) {
        while (*part == ' ') part++;
        if (!*part) continue;
        char *eq = strchr(part, '=');
        if (!eq || eq == part) cli_die("sweep.vary: \"%s\" is not key=value1,value2,...", part);
        if (n == MAX_AXES) cli_die("sweep.vary: more than %d keys", MAX_AXES);
        *eq = '\0';
        axis *a = &ax[n++];
        a->n_keys = split_plus(part, a->keys, sizeof a->keys[0]);
        if (a->n_keys < 0) cli_die("sweep.vary: more than %d keys tied in '%s'", MAX_TIED, part);
        a->n = 0;
        char *vsave = NULL;
        for (char *v = strtok_r(eq + 1, ",", &vsave); v; v = strtok_r(NULL, ",", &vsave)) {
            while (*v == ' ') v++;
            if (a->n == MAX_VALUES) cli_die("sweep.vary: more than %d values for '%s'", MAX_VALUES, part);
            char vals[MAX_TIED][96];
            if (split_plus(v, vals, sizeof vals[0]) != a->n_keys)
                cli_die("sweep.vary: value '%s' of '%s' needs %d parts joined by '+'", v, part, a->n_keys);
            for (int k = 0; k < a->n_keys; k++) snprintf(a->values[a->n][k], sizeof a->values[0][0], "%s", vals[k]);
            a->n++;
        }
        if (a->n == 0) cli_die("sweep.vary: no values for '%s'", part);
    }
    return n;
}

/* the key without its section, for names: model.rule -> rule */
static const char *short_key(const char *key) {
    const char *dot = strchr(key, '.');
    return dot ? dot + 1 : key;
}

typedef struct combo {
    char name[256];    /* "rule=hebbian cell=lstm" */
    char dirname[256]; /* "rule-hebbian_cell-lstm" */
    char sets[MAX_AXES * MAX_TIED][200];
    int n_sets;
    double metric[MAX_SEEDS], loss[MAX_SEEDS], energy[MAX_SEEDS]; /* the first `done` are the finished runs' */
    int done;
    char *dirs[MAX_SEEDS];
} combo;

/* combination i of the axes (the last axis varies fastest): its name, directory name and overrides */
static void combo_make(const axis *ax, int n_axes, int i, combo *c) {
    int rem = i, pick[MAX_AXES];
    for (int k = n_axes - 1; k >= 0; k--) {
        pick[k] = rem % ax[k].n;
        rem /= ax[k].n;
    }
    c->n_sets = 0;
    c->name[0] = c->dirname[0] = '\0';
    for (int k = 0; k < n_axes; k++)
        for (int j = 0; j < ax[k].n_keys; j++) {
            const char *key = ax[k].keys[j], *v = ax[k].values[pick[k]][j];
            snprintf(c->sets[c->n_sets++], sizeof c->sets[0], "%s=%s", key, v);
            size_t l = strlen(c->name), d = strlen(c->dirname);
            snprintf(c->name + l, sizeof c->name - l, "%s%s=%s", l ? " " : "", short_key(key), v);
            snprintf(c->dirname + d, sizeof c->dirname - d, "%s%s-%s", d ? "_" : "", short_key(key), v);
        }
    if (n_axes == 0) snprintf(c->name, sizeof c->name, "base"), snprintf(c->dirname, 8, "base");
    for (char *p = c->dirname; *p; p++)
        if (*p == '/' || *p == ' ') *p = '-';
}

int cli_sweep_has_combination(const char *vary, const char *name) {
    axis ax[MAX_AXES];
    int n_axes = parse_vary(vary, ax), n = 1;
    for (int i = 0; i < n_axes; i++) n *= ax[i].n;
    combo *c = malloc(sizeof *c);
    if (!c) cli_die("out of memory");
    int found = 0;
    for (int i = 0; i < n && !found; i++) {
        combo_make(ax, n_axes, i, c);
        found = strcmp(c->name, name) == 0;
    }
    free(c);
    return found;
}

static void write_summary(const char *out, const combo *c, int n, int seeds, const plast_test_result *r0,
                          const char *task_desc) {
    plast_strbuf md, csv;
    plast_strbuf_init(&md);
    plast_strbuf_init(&csv);
    const char *mname = r0->metric_name ? r0->metric_name : "metric";
    plast_strbuf_printf(&md, "%s: test %s over %lld %s per run (chance %.4g), %d seed%s\n\n", task_desc, mname,
                        (long long)r0->trials, r0->trials_name ? r0->trials_name : "trials", r0->chance_metric, seeds,
                        seeds > 1 ? "s" : "");
    plast_strbuf_printf(&md, "| %-32s | seeds | %-10s | SEM        | 95%% CI (t)  | sd         | loss       | energy     |\n",
                        "combination", mname);
    plast_strbuf_printf(&md, "|%s|-------|------------|------------|-------------|------------|------------|------------|\n",
                        "----------------------------------");
    plast_strbuf_puts(&csv, "combination,seeds,metric_mean,metric_sd,metric_sem,metric_ci95,loss_mean,energy_mean,energy_sd,"
                         "metric_median,metric_q1,metric_q3\n");
    for (int i = 0; i < n; i++) {
        plast_summary s = plast_summarize(c[i].metric, c[i].done), l = plast_summarize(c[i].loss, c[i].done);
        plast_summary e = plast_summarize(c[i].energy, c[i].done);
        char loss[32] = "-", energy[32] = "-"; /* PPO runs have no test loss; some models no energy */
        if (!isnan(l.mean)) snprintf(loss, sizeof loss, "%.5g", l.mean);
        if (!isnan(e.mean)) snprintf(energy, sizeof energy, "%.5g", e.mean);
        plast_strbuf_printf(&md, "| %-32s | %5d | %10.5g | %-10.3g | +- %-8.3g | %-10.3g | %-10s | %-10s |\n", c[i].name,
                            s.n, s.mean, s.sem, s.ci95, s.sd, loss, energy);
        plast_strbuf_printf(&csv, "%s,%d,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g\n", c[i].name, s.n, s.mean,
                            s.sd, s.sem, s.ci95, l.mean, e.mean, e.sd, s.median, s.q1, s.q3);
    }
    if (!md.buf || !csv.buf) cli_die("out of memory");
    fputs(md.buf, stdout);
    const char *names[2] = {"summary.md", "summary.csv"};
    const plast_strbuf *texts[2] = {&md, &csv};
    for (int k = 0; k < 2; k++) {
        char path[2048];
        plast_err err;
        snprintf(path, sizeof path, "%s/%s", out, names[k]);
        const void *parts[1] = {texts[k]->buf};
        size_t sizes[1] = {texts[k]->len};
        if (plast_file_write_atomic(path, 1, parts, sizes, &err) != PLAST_OK) cli_fail(&err);
    }
    plast_strbuf_free(&md);
    plast_strbuf_free(&csv);
}

static void sweep_plots(const char *out, const combo *c, int n, int seeds, const plast_test_result *r0) {
    cli_group g[MAX_COMBOS];
    for (int i = 0; i < n; i++) g[i] = (cli_group){c[i].name, seeds, (const char *const *)c[i].dirs};
    char png[2048], title[128];
    plast_err err;
    snprintf(png, sizeof png, "%s/curves.png", out);
    snprintf(title, sizeof title, "validation %s (mean over seeds, +-1 sd)", r0->metric_name);
    if (cli_plot_groups(png, title, "metrics.csv", "step", "val_metric", "optimizer step", r0->metric_name,
                        r0->chance_metric, n, g, &err) < 0)
        fprintf(stderr, "plast: warning: %s not written: %s\n", png, err.msg);
    snprintf(png, sizeof png, "%s/eta.png", out);
    cli_plot_groups(png, "eta(t) over a test trial (mean over seeds, +-1 sd)", "trace.csv", "step", "eta_mean",
                    "time step of the trial", "eta(t)", NAN, n, g, &err); /* no plot without modulated models */
    snprintf(png, sizeof png, "%s/energy.png", out);
    cli_plot_groups(png, "energy per step over a test trial", "trace.csv", "step", "energy", "time step of the trial",
                    "energy", NAN, n, g, &err);
}

typedef struct sweep_job_ctx {
    const plast_experiment_cfg *base;
    combo *c;
    int n, seeds; /* combinations, seeds of each */
    const char *out;
    const cli_args *a;
} sweep_job_ctx;

/* run s of combination i's directory, OUT/<combination>/seed<s>, kept in c[i].dirs[s] */
static const char *run_dir(const sweep_job_ctx *x, int i, int s) {
    if (!x->c[i].dirs[s]) {
        char dir[1400];
        snprintf(dir, sizeof dir, "%s/%s/seed%d", x->out, x->c[i].dirname, s);
        x->c[i].dirs[s] = strdup(dir);
        if (!x->c[i].dirs[s]) cli_die("out of memory");
    }
    return x->c[i].dirs[s];
}

/* trains (or resumes, or finds finished) run number job: combination job / seeds, seed job % seeds */
static void run_job(const sweep_job_ctx *x, long job, plast_test_result *res) {
    const int i = (int)(job / x->seeds), s = (int)(job % x->seeds);
    plast_experiment_cfg cfg = *x->base;
    for (int k = 0; k < x->c[i].n_sets; k++) plast_cfg_apply_set(plast_experiment_cfg_schema(), &cfg, x->c[i].sets[k], NULL);
    cfg.train.seed = x->base->train.seed + s;
    char label[400];
    snprintf(label, sizeof label, "[%ld/%ld] %s seed %d", job + 1, (long)x->seeds * x->n, x->c[i].name, s);
    cli_train_run(&cfg, run_dir(x, i, s), x->a->restart, label, x->a->quiet, res, NULL);
    x->c[i].metric[s] = res->metric, x->c[i].loss[s] = res->loss, x->c[i].energy[s] = res->energy;
}

/* The task's or environment's one-line description, for the summary's header. */
static void describe_task(const plast_experiment_cfg *base, char *out, size_t cap) {
    plast_experiment_cfg cfg = *base;
    plast_env *e = plast_experiment_is_rl(&cfg) ? plast_experiment_env(&cfg, NULL) : NULL;
    plast_task *t = e ? NULL : plast_experiment_task(&cfg, NULL);
    snprintf(out, cap, "%s", e ? plast_env_describe(e) : t ? plast_task_describe(t) : "");
    plast_env_free(e);
    plast_task_free(t);
}

/* --jobs: `jobs` worker processes take run numbers from one counter they share (in memory mapped before the fork),
 * so a long run never holds up the others' queue. Each has threads / jobs threads (at least one) and, when the
 * processors this process may use hold jobs x that many, is pinned to its own share of them, so the workers' OpenMP
 * threads never take turns on one core. The parent only waits: it has run nothing in parallel before the fork,
 * and afterwards it reads the runs' test.json. A worker that fails leaves its run to be resumed; the sweep then
 * fails after the others finish. */
static void run_workers(const sweep_job_ctx *x, long total, int jobs) {
    long *next = mmap(NULL, sizeof(long), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (next == MAP_FAILED) cli_die("sweep --jobs: cannot map the shared run counter");
    *next = 0;
    cpu_set_t mine;
    CPU_ZERO(&mine);
    const int have = sched_getaffinity(0, sizeof mine, &mine) == 0 ? CPU_COUNT(&mine) : 0;
    const int per = plast_runtime_threads() / jobs > 0 ? plast_runtime_threads() / jobs : 1;
    const int pin = have >= jobs * per;
    int cpus[CPU_SETSIZE], nc = 0;
    for (int k = 0; k < CPU_SETSIZE && pin; k++)
        if (CPU_ISSET(k, &mine)) cpus[nc++] = k;
    printf("sweep: %ld runs, %d at a time, %d thread%s each%s\n", total, jobs, per, per > 1 ? "s" : "",
           pin ? ", each worker on its own processors" : "");
    fflush(stdout); /* or the children would print the parent's buffered text again */
    fflush(stderr);
    pid_t pids[64];
    for (int w = 0; w < jobs; w++) {
        pids[w] = fork();
        if (pids[w] < 0) cli_die("sweep --jobs: fork failed");
        if (pids[w] > 0) continue;
        setvbuf(stdout, NULL, _IOLBF, 0); /* whole lines from each worker */
        if (pin) {
            cpu_set_t set;
            CPU_ZERO(&set);
            for (int k = 0; k < per; k++) CPU_SET(cpus[w * per + k], &set);
            sched_setaffinity(0, sizeof set, &set);
        }
        plast_runtime_set_threads(per);
        for (long job; (job = __atomic_fetch_add(next, 1, __ATOMIC_SEQ_CST)) < total;) {
            plast_test_result res;
            run_job(x, job, &res);
        }
        fflush(stdout);
        _exit(0);
    }
    int failed = 0;
    for (int w = 0; w < jobs; w++) {
        int st = 0;
        if (waitpid(pids[w], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) failed++;
    }
    munmap(next, sizeof(long));
    if (failed) cli_die("sweep: %d of %d workers failed (messages above); the same command resumes", failed, jobs);
}

int cmd_sweep(int argc, char **argv) {
    cli_args a;
    cli_parse_args(argc, argv, 1, "sweep", "out quiet threads restart jobs collect", &a);
    if (!a.config) cli_usage_fail("sweep", "needs a configuration file with sweep.vary and sweep.seeds");
    plast_experiment_cfg base;
    cli_load_config(plast_experiment_cfg_schema(), &base, &a);
    char out[1024];
    if (a.out) snprintf(out, sizeof out, "%s", a.out);
    else cli_default_out(a.config, out, sizeof out);
    axis ax[MAX_AXES];
    int n_axes = parse_vary(base.sweep.vary, ax), n = 1;
    for (int i = 0; i < n_axes; i++) n *= ax[i].n;
    if (n > MAX_COMBOS) cli_die("sweep.vary: %d combinations, at most %d", n, MAX_COMBOS);
    const int seeds = (int)base.sweep.seeds;
    if (seeds > MAX_SEEDS) cli_die("sweep.seeds: %d, at most %d", seeds, MAX_SEEDS);
    combo *c = calloc((size_t)n, sizeof *c);
    if (!c) cli_die("out of memory");

    /* every combination's overrides, checked before anything runs */
    for (int i = 0; i < n; i++) {
        combo_make(ax, n_axes, i, &c[i]);
        plast_experiment_cfg cfg = base;
        plast_err err;
        for (int k = 0; k < c[i].n_sets; k++)
            if (plast_cfg_apply_set(plast_experiment_cfg_schema(), &cfg, c[i].sets[k], &err) != PLAST_OK)
                cli_die("sweep.vary: %s", err.msg);
    }

    /* under MPI every rank takes the next unfinished run (dynamic scheduling) on the cores it is given; with --jobs
     * every worker process does; then one process reads every run's result and prints the table */
    const int rank = cli_mpi_rank(), ranks = cli_mpi_size();
    if (a.jobs > 1 && ranks > 1) cli_die("sweep: --jobs spreads runs over processes on one machine; under MPI the "
                                        "ranks do that already");
    cli_mpi_share_cores(a.threads);
    sweep_job_ctx ctx = {&base, c, n, seeds, out, &a};
    plast_test_result r0 = {0};
    char task_desc[256] = "";
    if (a.collect) { /* the table from the runs already finished: nothing trained, no plots */
        if (rank != 0) { /* one process writes the table */
            free(c);
            return 0;
        }
        for (int i = 0; i < n; i++)
            for (int s = 0; s < seeds; s++) {
                char path[1600];
                snprintf(path, sizeof path, "%s/test.json", run_dir(&ctx, i, s));
                if (access(path, R_OK) != 0) continue;
                plast_test_result res;
                cli_test_read(run_dir(&ctx, i, s), &res);
                const int k = c[i].done++;
                c[i].metric[k] = res.metric, c[i].loss[k] = res.loss, c[i].energy[k] = res.energy;
                r0 = res;
            }
    } else {
        for (int i = 0; i < n; i++) c[i].done = seeds; /* each run fills its own slot */
        if (a.jobs > 1) {
            run_workers(&ctx, n * seeds, a.jobs);
        } else {
            long next = ranks > 1 ? cli_mpi_next_job() : 0;
            for (long job = 0; job < (long)n * seeds; job++) {
                if (ranks > 1 && job != next) continue;
                if (ranks > 1) next = cli_mpi_next_job();
                plast_test_result res;
                run_job(&ctx, job, &res);
                r0 = res;
            }
            if (ranks > 1) cli_mpi_barrier();
            if (rank != 0) return 0;
        }
        if (ranks > 1 || a.jobs > 1)
            for (int i = 0; i < n; i++) /* every run's result, whichever rank or worker ran it */
                for (int s = 0; s < seeds; s++) {
                    plast_test_result res;
                    cli_test_read(run_dir(&ctx, i, s), &res);
                    c[i].metric[s] = res.metric, c[i].loss[s] = res.loss, c[i].energy[s] = res.energy;
                    r0 = res;
                }
    }
    describe_task(&base, task_desc, sizeof task_desc);
    printf(a.collect ? "\nthe runs finished so far (--collect):\n" : "\n");
    write_summary(out, c, n, seeds, &r0, task_desc);
    if (a.collect) {
        printf("\nsummary.md and summary.csv in %s\n", out);
    } else {
        sweep_plots(out, c, n, seeds, &r0);
        printf("\nruns, summary.md, summary.csv and plots (curves.png, eta.png, energy.png) in %s\n", out);
    }
    for (int i = 0; i < n; i++)
        for (int s = 0; s < seeds; s++) free(c[i].dirs[s]);
    free(c);
    return 0;
}
