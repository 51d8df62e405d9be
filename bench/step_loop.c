/* bench/step_loop.c: the C side of bench/python_overhead.py: N calls of plast_model_step on a batch, timed, for a
 * configuration and --set overrides. Prints "seconds_per_step".
 *   build/bench/plast-step-loop CONFIG BATCH STEPS [key=value ...] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "plast.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s CONFIG BATCH STEPS [key=value ...]\n", argv[0]);
        return 2;
    }
    plast_err err;
    plast_experiment_cfg cfg;
    const int64_t B = atoll(argv[2]), N = atoll(argv[3]);
    if (plast_experiment_cfg_load(&cfg, argv[1], argc - 4, (const char *const *)argv + 4, &err) != PLAST_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    plast_task *task = plast_experiment_is_rl(&cfg) ? NULL : plast_experiment_task(&cfg, &err);
    plast_env *env = plast_experiment_is_rl(&cfg) ? plast_experiment_env(&cfg, &err) : NULL;
    plast_model *m = task || env ? plast_model_init(&cfg.model, &err) : NULL;
    plast_params *p = m ? plast_model_params_init(m, &err) : NULL;
    plast_state *s = p ? plast_state_init(m, B, &err) : NULL;
    plast_tape *scratch = s ? plast_tape_init(&err) : NULL;
    if (!scratch) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    plast_rng rng = plast_rng_derive((uint64_t)cfg.train.seed, PLAST_STREAM_INIT, 0);
    plast_model_params_reset(m, p, &rng);
    const int64_t I = plast_model_input(m), O = plast_model_output(m);
    plast_real *x = calloc((size_t)(B * I), sizeof *x), *y = calloc((size_t)(B * O), sizeof *y);
    for (int64_t k = 0; k < B * I; k++) x[k] = (plast_real)((double)(k % 7) / 7.0);
    for (int warm = 0; warm < 3; warm++) plast_model_step(m, p, s, x, y, NULL, NULL, scratch, NULL);
    const double t0 = now();
    for (int64_t k = 0; k < N; k++) plast_model_step(m, p, s, x, y, NULL, NULL, scratch, NULL);
    printf("%.9g\n", (now() - t0) / (double)N);
    free(x), free(y);
    plast_tape_free(scratch);
    plast_state_free(s);
    plast_params_free(p);
    plast_model_free(m);
    plast_task_free(task);
    plast_env_free(env);
    return 0;
}
