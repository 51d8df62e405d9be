/* bench/plast_bench.c: the side-by-side benchmark of docs/PERFORMANCE.md, a developer's tool (built into
 * build/bench/, never installed): training steps and evaluation passes of every case of src/cli/bench_cases.c,
 * alternating with the PyTorch peer (bench/torch_peer.py), with peak memory and the fraction of the machine floor.
 *
 *   build/bench/plast-bench [--case NAME] [--json] [--rounds N] [--steps N] [--no-peer] [--list] [--busy]
 *     --busy: each case quiet and with one core kept busy by another process (a spinning child), ours and the
 *     peer's, alternating; prints the slowdowns
 *   build/bench/plast-bench --run NAME STEPS   one case in this process: "path flops bytes t1 t2 ... | eval"
 *   build/bench/plast-bench --floor            the machine's matrix-product rate and memory bandwidth
 *
 * Each measurement runs in a fresh process (this program re-executed with --run or --floor, or the peer), so each
 * has its own peak RSS and no thread pool survives a fork. Ours and the peer's alternate for --rounds rounds, so slow
 * drifts of a shared machine hit both; the figures are medians over all timed steps. The peer is found at
 * $PLAST_PEER, else in this source tree. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/bench_cases.h"
#include "core/gemm.h"

#ifndef PLAST_SOURCE_DIR
#define PLAST_SOURCE_DIR "."
#endif

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("plast-bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}


/* --run NAME STEPS: one case on our side, in this process */
static int run_one(const char *name, int steps) {
    const bench_case *c = bench_case_find(name);
    if (!c) die("unknown case '%s' (see --list)", name);
    static bench_timing t;
    plast_err err;
    if (bench_case_time(c, steps, 30.0, &t, &err) != PLAST_OK) die("case %s: %s", name, err.msg);
    printf("%s %.6g %zu", t.path, t.flops, t.engine_bytes);
    for (int k = 0; k < t.n_steps; k++) printf(" %.6f", t.step_s[k]);
    printf(" | %.6f\n", t.eval_s);
    return 0;
}

/* --floor: the machine's matrix-product rate (GFLOP/s, a low-rank-sized sgemm) and memory bandwidth
 * (GB/s, a triad over 3 x 128 MiB) */
static int run_floor(void) {
    const int64_t M = 1216, N = 512, K = 256;
    plast_real *A = malloc(sizeof(plast_real) * (size_t)(M * K)), *Bm = malloc(sizeof(plast_real) * (size_t)(K * N));
    plast_real *C = malloc(sizeof(plast_real) * (size_t)(M * N));
    const int64_t n = (int64_t)32 << 20;
    float *a = malloc(sizeof(float) * (size_t)n), *b = malloc(sizeof(float) * (size_t)n), *c = malloc(sizeof(float) * (size_t)n);
    if (!A || !Bm || !C || !a || !b || !c) die("out of memory");
    for (int64_t i = 0; i < M * K; i++) A[i] = (plast_real)((i % 7) * 0.01);
    for (int64_t i = 0; i < K * N; i++) Bm[i] = (plast_real)((i % 5) * 0.01);
    double best = 1e30;
    for (int r = 0; r < 7; r++) {
        double t0 = bench_now();
        for (int q = 0; q < 10; q++) plast_gemm(0, 0, M, N, K, 1, A, K, Bm, N, 0, C, N);
        best = fmin(best, (bench_now() - t0) / 10);
    }
    double gflops = 2.0 * M * N * K / best / 1e9;
#pragma omp parallel for
    for (int64_t i = 0; i < n; i++) a[i] = 0, b[i] = 1, c[i] = 2;
    double bt = 1e30;
    for (int r = 0; r < 5; r++) {
        double t0 = bench_now();
#pragma omp parallel for
        for (int64_t i = 0; i < n; i++) a[i] = b[i] + 0.5f * c[i];
        bt = fmin(bt, bench_now() - t0);
    }
    printf("%.3f %.3f\n", gflops, 3.0 * sizeof(float) * (double)n / bt / 1e9);
    free(A), free(Bm), free(C), free(a), free(b), free(c);
    return 0;
}

typedef struct child_out {
    char text[65536];
    double rss_mb;
    int status;
} child_out;

/* Runs argv with extra environment pairs, capturing stdout and the child's peak RSS. */
static void run_child(char *const *argv, const char *const *env, child_out *out) {
    int fd[2];
    out->text[0] = '\0';
    out->rss_mb = 0;
    out->status = -1;
    if (pipe(fd) != 0) return;
    pid_t pid = fork();
    if (pid < 0) return;
    if (pid == 0) {
        dup2(fd[1], STDOUT_FILENO);
        close(fd[0]);
        close(fd[1]);
        for (int k = 0; env && env[k]; k += 2) setenv(env[k], env[k + 1], 1);
        execv(argv[0], argv);
        _exit(127);
    }
    close(fd[1]);
    size_t used = 0;
    ssize_t r;
    while ((r = read(fd[0], out->text + used, sizeof out->text - 1 - used)) > 0) used += (size_t)r;
    out->text[used] = '\0';
    close(fd[0]);
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) == pid) {
        out->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
        out->rss_mb = (double)ru.ru_maxrss / 1024.0;
    }
}

typedef struct series {
    double t[512];
    int n;
    double eval, rss_mb;
} series;

static void series_stats(series *s, double *med, double *mn, double *mx) {
    *med = s->n ? bench_median(s->t, s->n) : NAN; /* sorts s->t */
    *mn = s->n ? s->t[0] : NAN;
    *mx = s->n ? s->t[s->n - 1] : NAN;
}

/* a number after "key": in a flat JSON line */
static double json_num(const char *text, const char *key) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *p = strstr(text, pat);
    return p ? strtod(p + strlen(pat), NULL) : NAN;
}

static void measure_floor(const char *exe, double *gemm_rate, double *bandwidth) {
    child_out fl;
    char *fargv[] = {(char *)exe, "--floor", NULL};
    run_child(fargv, NULL, &fl);
    double g = 0, bw = 0;
    if (sscanf(fl.text, "%lf %lf", &g, &bw) != 2) die("bench: the floor measurement failed: %s", fl.text);
    *gemm_rate = fmax(*gemm_rate, g);
    *bandwidth = fmax(*bandwidth, bw);
}

static const char *self_exe(void) {
    static char path[4096];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    if (n <= 0) return "plast";
    path[n] = '\0';
    return path;
}

/* --busy: another process that keeps one core busy while a measurement runs, as a user's second seed or other job
 * would; a child spinning until killed */
static pid_t busy_start(void) {
    pid_t pid = fork();
    if (pid == 0) {
        volatile unsigned long spin = 0;
        for (;;) spin++;
    }
    return pid;
}

static void busy_stop(pid_t pid) {
    if (pid <= 0) return;
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* one of our runs (--run in a fresh process) into s; its path, flops and engine bytes into kind, flops, bytes */
static void measure_ours(const char *exe, const bench_case *c, char *steps_s, series *s, int rounds, char kind[32],
                         double *flops, size_t *bytes) {
    child_out o;
    char *oargv[] = {(char *)exe, "--run", (char *)c->name, steps_s, NULL};
    run_child(oargv, NULL, &o);
    char *bar = strchr(o.text, '|');
    if (o.status != 0 || !bar) die("bench: case %s failed: %s", c->name, o.text);
    char *p = o.text;
    int used = 0;
    if (sscanf(p, "%31s %lf %zu%n", kind, flops, bytes, &used) != 3) die("bench: bad output %s", o.text);
    p += used;
    while (p < bar && s->n < 512) {
        char *end;
        double v = strtod(p, &end);
        if (end == p) break;
        s->t[s->n++] = v;
        p = end;
    }
    s->eval += strtod(bar + 1, NULL) / rounds;
    s->rss_mb = fmax(s->rss_mb, o.rss_mb);
}

/* one run of the peer in form `form` into s; 0, or non-zero with the reason in `why`: 3 when the peer says the case
 * cannot fit in memory, 1 when it failed or was killed */
static int measure_peer(const char *peer_script, const bench_case *c, const char *spec, char *steps_s,
                        const char *form, series *s, int rounds, char *why, size_t cap) {
    child_out o;
    char *pargv[] = {"/usr/bin/python3", (char *)peer_script, "--case", (char *)c->name, "--spec", (char *)spec,
                     "--steps", steps_s, "--form", (char *)form, NULL};
    /* PLAST_LIB: this build's library, for a peer that steps plast's environments through the Python bindings */
    const char *penv[] = {"LD_LIBRARY_PATH", "/usr/lib/x86_64-linux-gnu/openblas-openmp", "OMP_NUM_THREADS", "2",
                          "PYTHONUNBUFFERED", "1", "PLAST_LIB", PLAST_SHARED_LIB, NULL};
    run_child(pargv, penv, &o);
    if (o.status == 3) {
        const char *e = strstr(o.text, "\"error\": \"");
        snprintf(why, cap, "%.*s", e ? (int)strcspn(e + 10, "\"") : 0, e ? e + 10 : "");
        return 3;
    }
    if (o.status != 0) { /* killed (status 128: out of memory, most often) or failed: the other forms may run */
        snprintf(why, cap, "the %s form %s (status %d)", form, o.status == 128 ? "was killed" : "failed", o.status);
        fprintf(stderr, "plast-bench: the peer failed on %s (%s): %s\n", c->name, form, o.text);
        return 1;
    }
    const char *ts = strstr(o.text, "\"times\": [");
    for (ts = ts ? ts + 10 : NULL; ts && *ts && *ts != ']' && s->n < 512;) {
        char *end;
        double v = strtod(ts, &end);
        if (end == ts) break;
        s->t[s->n++] = v;
        for (ts = end; *ts == ',' || *ts == ' ';) ts++;
    }
    s->eval += json_num(o.text, "eval_s") / rounds;
    s->rss_mb = fmax(s->rss_mb, o.rss_mb);
    return 0;
}

/* the value a case sets for key ("env.name"), or "" */
static const char *case_setting(const bench_case *c, const char *key) {
    const size_t n = strlen(key);
    for (int k = 0; k < BENCH_MAX_SETS && c->sets[k]; k++)
        if (strncmp(c->sets[k], key, n) == 0 && c->sets[k][n] == '=') return c->sets[k] + n + 1;
    return "";
}

static int run_side_by_side(int argc, char **argv) {
    const char *only = NULL;
    int json = 0, rounds = 2, steps = 6, peer = 1, list = 0, busy = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--case") == 0 && i + 1 < argc) only = argv[++i];
        else if (strcmp(argv[i], "--json") == 0) json = 1;
        else if (strcmp(argv[i], "--no-peer") == 0) peer = 0;
        else if (strcmp(argv[i], "--list") == 0) list = 1;
        else if (strcmp(argv[i], "--busy") == 0) busy = 1;
        else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) rounds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--steps") == 0 && i + 1 < argc) steps = atoi(argv[++i]);
        else die("unknown or incomplete option '%s'", argv[i]);
    }
    if (rounds < 1 || rounds > 20 || steps < 1 || steps > 100) die("rounds 1..20, steps 1..100");
    if (list) {
        for (int i = 0; i < bench_case_count; i++) printf("%-26s %s\n", bench_cases[i].name, bench_cases[i].note);
        for (int i = 0; i < bench_env_case_count; i++)
            printf("%-26s %s\n", bench_env_cases[i].name, bench_env_cases[i].note);
        return 0;
    }
    if (only && !bench_case_find(only) && !bench_env_case_find(only)) die("unknown case '%s' (see --list)", only);
    const char *exe = self_exe();
    char peer_script[4096];
    const char *env_peer = getenv("PLAST_PEER");
    snprintf(peer_script, sizeof peer_script, "%s", env_peer ? env_peer : PLAST_SOURCE_DIR "/bench/torch_peer.py");
    if (peer && (access("/usr/bin/python3", X_OK) != 0 || access(peer_script, R_OK) != 0)) {
        fprintf(stderr, "plast-bench: no peer (/usr/bin/python3 or %s missing); timing plast alone\n", peer_script);
        peer = 0;
    }
    if (peer) {
        child_out probe;
        char *pargv[] = {"/usr/bin/python3", "-c", "import torch", NULL};
        run_child(pargv, NULL, &probe);
        if (probe.status != 0) {
            fprintf(stderr, "plast-bench: python3-torch is not installed (bash tools/deps.sh bench); timing plast alone\n");
            peer = 0;
        }
    }

    /* the machine floor: measured before every case's rounds; a shared machine's speed drifts, so the best rate
     * seen in the whole run is its capability */
    double gemm_rate = 0, bandwidth = 0;
    measure_floor(exe, &gemm_rate, &bandwidth);
    char desc[512];
    plast_runtime_describe(desc, sizeof desc);
    if (!json)
        printf("%s\nmachine: matrix products %.0f GFLOP/s (sgemm 1216x512x256), memory %.1f GB/s (triad)\n"
               "peer: PyTorch %s, 2 threads, the OpenMP OpenBLAS; steps: %d x %d rounds, medians\n\n",
               desc, gemm_rate, bandwidth, peer ? "(bench/torch_peer.py)" : "not run", steps, rounds);
    else
        printf("{\"machine\": true, \"gemm_gflops\": %.1f, \"bandwidth_gbs\": %.1f}\n", gemm_rate, bandwidth);
    if (busy && json) die("--busy prints a table only");
    if (busy)
        printf("one core kept busy by another process (a spinning child) during every \"busy\" run\n"
               "%-24s %-8s %10s %10s %9s | %-8s %10s %10s %9s\n", "case", "path", "quiet s", "busy s", "slowdown",
               "peer", "quiet s", "busy s", "slowdown");
    else if (!json && (!only || bench_case_find(only)))
        printf("%-24s %-8s %10s %10s %8s %8s %8s | %-8s %10s %8s %8s\n", "case", "path", "step s", "eval s", "RSS MB",
               "GFLOP/s", "floor", "peer", "step s", "RSS MB", "ratio");

    for (int ci = 0; ci < bench_case_count; ci++) {
        const bench_case *c = &bench_cases[ci];
        if (only && strcmp(only, c->name) != 0) continue;
        plast_err err;
        plast_model *m = bench_case_model(c, &err);
        if (!m) die("%s", err.msg);
        series ours = {{0}, 0, 0, 0}, theirs[2];
        memset(theirs, 0, sizeof theirs);
        char kind[32] = "", spec[640];
        double flops = 0;
        size_t bytes = 0;
        const plast_model_cfg *mc = plast_model_get_cfg(m);
        const int64_t pixels = mc->image_channels * mc->image_size * mc->image_size;
        snprintf(spec, sizeof spec,
                 "{\"family\": \"%s\", \"cell\": \"%s\", \"rule\": \"%s\", \"I\": %lld, \"O\": %lld, \"H\": %lld, "
                 "\"B\": %lld, \"T\": %lld, \"norm\": \"%s\", \"clamp\": %g, \"encoder\": \"%s\", \"S\": %lld, "
                 "\"C\": %lld, \"L\": %lld, \"variant\": \"%s\", \"neuromod\": \"%s\", \"env\": \"%s\"}",
                 mc->family, mc->cell, strcmp(mc->rule, "default") == 0 ? "hebbian" : mc->rule,
                 (long long)plast_model_input(m), (long long)plast_model_output(m), (long long)plast_model_hidden(m),
                 (long long)c->B, (long long)c->T, mc->norm, mc->clamp, mc->encoder, (long long)mc->image_size,
                 (long long)mc->image_channels, (long long)(plast_model_input(m) - pixels), mc->variant,
                 mc->neuromod, case_setting(c, "env.name"));
        char steps_s[16];
        snprintf(steps_s, sizeof steps_s, "%d", steps);
        /* the peer's forms, each run in its own process: the faster one is the peer */
        const char *forms[2] = {"dense", "lowrank"};
        int n_forms = 1;
        if (strcmp(mc->family, "duan") == 0) {
            if (strcmp(mc->rule, "none") == 0)
                forms[0] = "cell", forms[1] = "sequence";
            n_forms = 2;
        }
        series ours_busy = {{0}, 0, 0, 0}, theirs_busy = {{0}, 0, 0, 0};
        /* an RL case (an A2C iteration) has its own peer, bench/torch_peer_a2c.py, which may not fit in memory */
        const int rl = bench_case_is_rl(c);
        const int case_peer = peer;
        char peer_why[256] = "";
        int form_out[2] = {0, 0}; /* a form that failed, declined or lost by 3x: not run in later rounds */
        const char *script = peer_script;
        if (rl) { /* bench/torch_peer_ppo.py for a PPO iteration, bench/torch_peer_a2c.py for an A2C one */
            const int ppo = strcmp(case_setting(c, "rl.algorithm"), "ppo") == 0;
            static char rl_script[4096];
            snprintf(rl_script, sizeof rl_script, "%s", peer_script);
            char *dot = strstr(rl_script, "torch_peer.py");
            if (dot)
                snprintf(dot, sizeof rl_script - (size_t)(dot - rl_script), ppo ? "torch_peer_ppo.py" : "torch_peer_a2c.py");
            script = rl_script;
            forms[0] = ppo ? "ppo" : "a2c", n_forms = 1;
        }
        for (int r = 0; r < rounds; r++) {
            measure_floor(exe, &gemm_rate, &bandwidth);
            measure_ours(exe, c, steps_s, &ours, rounds, kind, &flops, &bytes);
            if (busy) {
                const pid_t spinner = busy_start();
                measure_ours(exe, c, steps_s, &ours_busy, rounds, kind, &flops, &bytes);
                busy_stop(spinner);
            }
            if (!case_peer) continue;
            for (int f = 0; f < n_forms; f++) /* a form that fails is left out; the others still run */
                if (!form_out[f] && measure_peer(script, c, spec, steps_s, forms[f], &theirs[f], rounds, peer_why,
                                                 sizeof peer_why) != 0)
                    form_out[f] = 1;
            /* after the first round, a form over 3x slower than the peer's other form is not run again: it cannot
             * be the peer, and the dense form of a long trial takes minutes a round */
            if (r == 0 && n_forms == 2 && theirs[0].n && theirs[1].n) {
                double m0, m1, lo, hi; /* series_stats sorts the times in place: the medians do not mind */
                series_stats(&theirs[0], &m0, &lo, &hi);
                series_stats(&theirs[1], &m1, &lo, &hi);
                if (m0 > 3 * m1) form_out[0] = 1;
                if (m1 > 3 * m0) form_out[1] = 1;
            }
            if (busy && theirs[0].n > 0 && !form_out[0]) { /* the peer's first form under the same load */
                const pid_t spinner = busy_start();
                measure_peer(script, c, spec, steps_s, forms[0], &theirs_busy, rounds, peer_why, sizeof peer_why);
                busy_stop(spinner);
            }
        }
        if (busy) {
            double q, bz, pq = NAN, pb = NAN, lo, hi;
            series_stats(&ours, &q, &lo, &hi);
            series_stats(&ours_busy, &bz, &lo, &hi);
            if (case_peer) {
                series_stats(&theirs[0], &pq, &lo, &hi);
                series_stats(&theirs_busy, &pb, &lo, &hi);
            }
            printf("%-24s %-8s %10.4f %10.4f %8.1fx | %-8s %10.4f %10.4f %8.1fx\n", c->name, kind, q, bz, bz / q,
                   case_peer ? forms[0] : "-", pq, pb, pb / pq);
            fflush(stdout);
            plast_model_free(m);
            continue;
        }
        double med, mn, mx, pmed = NAN, pmn = NAN, pmx = NAN;
        series_stats(&ours, &med, &mn, &mx);
        int best = -1;
        for (int f = 0; f < n_forms && case_peer; f++) {
            double fm, fa, fb;
            if (!theirs[f].n) continue;
            series_stats(&theirs[f], &fm, &fa, &fb);
            if (best < 0 || fm < pmed) best = f, pmed = fm, pmn = fa, pmx = fb;
        }
        const char *form = best >= 0 ? forms[best] : "";
        const series *pbest = best >= 0 ? &theirs[best] : NULL;
        double floor_s = flops > 0 ? flops / (gemm_rate * 1e9) : NAN;
        double achieved = flops > 0 ? flops / med / 1e9 : NAN;
        if (json) {
            printf("{\"case\": \"%s\", \"model\": \"%s\", \"family\": \"%s\", \"rule\": \"%s\", \"hidden\": %lld, "
                   "\"batch\": %lld, \"T\": %lld, \"path\": \"%s\", \"median_s\": %.6f, \"min_s\": %.6f, "
                   "\"max_s\": %.6f, \"steps\": %d, \"eval_s\": %.6f, \"peak_rss_mb\": %.1f, \"engine_mb\": %.1f, "
                   "\"gflop\": %.3f, \"gflops\": %.1f, \"floor_s\": %.6f, \"floor_fraction\": %.3f",
                   c->name, plast_model_describe(m), mc->family, strcmp(mc->rule, "default") ? mc->rule : "default",
                   (long long)plast_model_hidden(m), (long long)c->B, (long long)c->T, kind, med, mn, mx, ours.n,
                   ours.eval, ours.rss_mb, (double)bytes / 1048576.0, flops / 1e9, achieved, floor_s,
                   flops > 0 ? floor_s / med : NAN);
            if (pbest)
                printf(", \"peer_form\": \"%s\", \"peer_median_s\": %.6f, \"peer_min_s\": %.6f, \"peer_max_s\": %.6f, "
                       "\"peer_eval_s\": %.6f, \"peer_rss_mb\": %.1f, \"speedup\": %.3f",
                       form, pmed, pmn, pmx, pbest->eval, pbest->rss_mb, pmed / med);
            printf("}\n");
        } else {
            char fl_s[16] = "-", gf_s[16] = "-";
            if (flops > 0) {
                snprintf(fl_s, sizeof fl_s, "%.0f%%", 100 * floor_s / med);
                snprintf(gf_s, sizeof gf_s, "%.0f", achieved);
            }
            printf("%-24s %-8s %10.4f %10.4f %8.0f %8s %8s", c->name, kind, med, ours.eval, ours.rss_mb, gf_s, fl_s);
            if (pbest)
                printf(" | %-8s %10.4f %8.0f %7.1fx\n", form, pmed, pbest->rss_mb, pmed / med);
            else if (peer_why[0])
                printf(" | peer not run: %s\n", peer_why);
            else
                printf("\n");
        }
        fflush(stdout);
        plast_model_free(m);
    }
    /* the environments alone (no model, no peer), on one thread, in this process */
    plast_err env_err;
    if (!busy && (!only || bench_env_case_find(only)) && bench_env_table(only, json, &env_err) != PLAST_OK)
        die("%s", env_err.msg);
    if (json)
        printf("{\"machine\": true, \"gemm_gflops\": %.1f, \"bandwidth_gbs\": %.1f, \"final\": true}\n", gemm_rate,
               bandwidth);
    else
        printf("\nfloor: %.0f GFLOP/s and %.1f GB/s, the best measured during the run; \"floor\" is the time of the\n"
               "case's arithmetic (plast_engine_flops) at that rate over the measured step time\n", gemm_rate, bandwidth);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "--run") == 0) return run_one(argv[2], atoi(argv[3]));
    if (argc == 2 && strcmp(argv[1], "--floor") == 0) return run_floor();
    return run_side_by_side(argc, argv);
}
