/* src/cli/cmd_bench.c: `plast bench`: times training steps of the benchmark cases (bench_cases.c, every model family
 * at paper sizes) on this machine, in this process: the path chosen, the median step and evaluation times, the
 * engine's memory and the arithmetic rate; then the environments' throughput (steps and frames per second). The
 * side-by-side comparison with the PyTorch peer, with peak memory per fresh process and the machine floor, is a
 * developer's tool: bench/plast_bench.c (docs/PERFORMANCE.md). */
#include <stdio.h>
#include <string.h>

#include "cli/bench_cases.h"
#include "cli/cli.h"

int cmd_bench(int argc, char **argv) {
    cli_args a;
    cli_parse_args(argc, argv, 1, "bench", "case steps json list threads", &a);
    if (a.config) cli_usage_fail("bench", "unexpected argument '%s'", a.config);
    const char *only = a.case_name;
    const int json = a.json, list = a.list, steps = a.steps ? a.steps : 6;
    if (steps > BENCH_MAX_STEPS) cli_usage_fail("bench", "--steps %d: at most %d", steps, BENCH_MAX_STEPS);
    if (list) {
        for (int i = 0; i < bench_case_count; i++) printf("%-26s %s\n", bench_cases[i].name, bench_cases[i].note);
        for (int i = 0; i < bench_env_case_count; i++)
            printf("%-26s %s\n", bench_env_cases[i].name, bench_env_cases[i].note);
        return 0;
    }
    if (only && !bench_case_find(only) && !bench_env_case_find(only))
        cli_usage_fail("bench", "unknown case '%s' (see --list)", only);
    char desc[512];
    plast_runtime_describe(desc, sizeof desc);
    const int models = !only || bench_case_find(only);
    if (!json) printf("%s\n", desc);
    if (!json && models)
        printf("%d timed steps per case, medians\n\n%-24s %-8s %10s %10s %10s %8s\n", steps, "case", "path", "step s",
               "eval s", "engine MB", "GFLOP/s");
    static bench_timing t;
    for (int i = 0; i < bench_case_count && models; i++) {
        const bench_case *c = &bench_cases[i];
        if (only && strcmp(only, c->name) != 0) continue;
        plast_err err;
        if (bench_case_time(c, steps, 30.0, &t, &err) != PLAST_OK) cli_fail(&err);
        const double med = bench_median(t.step_s, t.n_steps), mb = (double)t.engine_bytes / 1048576.0;
        const double gflops = t.flops > 0 ? t.flops / med / 1e9 : 0;
        if (json)
            printf("{\"case\": \"%s\", \"path\": \"%s\", \"median_s\": %.6f, \"steps\": %d, \"eval_s\": %.6f, "
                   "\"engine_mb\": %.1f, \"gflops\": %.1f}\n",
                   c->name, t.path, med, t.n_steps, t.eval_s, mb, gflops);
        else if (t.flops > 0)
            printf("%-24s %-8s %10.4f %10.4f %10.1f %8.0f\n", c->name, t.path, med, t.eval_s, mb, gflops);
        else
            printf("%-24s %-8s %10.4f %10.4f %10.1f %8s\n", c->name, t.path, med, t.eval_s, mb, "-");
        fflush(stdout);
    }
    plast_err err; /* the environments alone, on one thread */
    if ((!only || bench_env_case_find(only)) && bench_env_table(only, json, &err) != PLAST_OK) cli_fail(&err);
    return 0;
}
