/* src/cli/bench_cases.h: the benchmark cases (training steps at the papers' sizes) and the timing of one of them in
 * this process. `plast bench` times them on the user's machine; bench/plast_bench.c runs them side by side with the
 * PyTorch peer (docs/PERFORMANCE.md). */
#ifndef PLAST_CLI_BENCH_CASES_H
#define PLAST_CLI_BENCH_CASES_H

#include "plast.h"

#define BENCH_MAX_SETS 16
#define BENCH_MAX_STEPS 512

typedef struct bench_case {
    const char *name;
    const char *sets[BENCH_MAX_SETS]; /* experiment keys: model.*, and env.*, rl.* for an RL case */
    int64_t B, T;
    const char *note;
} bench_case;

extern const bench_case bench_cases[];
extern const int bench_case_count;

const bench_case *bench_case_find(const char *name); /* NULL if unknown */
plast_model *bench_case_model(const bench_case *c, plast_err *err);
/* 1 for an RL case (its keys set rl.algorithm): a step is an A2C iteration in its environment */
int bench_case_is_rl(const bench_case *c);

/* One case timed in this process: what train does per step (forward, d(mse)/dy, backward, global-norm clip 5,
 * AdamW with amsgrad) after 2 warm-up steps, `steps` times or until `budget_s` seconds have passed (at least 3),
 * then the median of 3 evaluation passes (forward without keeping what backward needs). */
typedef struct bench_timing {
    char path[16];                 /* the engine path auto chose */
    double flops;                  /* per step, as the path counts them (0: not counted) */
    size_t engine_bytes;           /* memory the engine holds */
    double step_s[BENCH_MAX_STEPS]; /* each timed step */
    int n_steps;
    double eval_s;
} bench_timing;
plast_status bench_case_time(const bench_case *c, int steps, double budget_s, bench_timing *out, plast_err *err);

/* Environment throughput: `copies` copies of one environment (its env.* keys) stepped with uniformly random actions
 * on the calling thread, as a rollout steps them; a step is one action of every copy, a frame one emulator frame
 * (PongLike's env.frameskip per step, 1 elsewhere). */
typedef struct bench_env_case {
    const char *name;
    const char *sets[BENCH_MAX_SETS];
    int64_t copies;
    const char *note;
} bench_env_case;
extern const bench_env_case bench_env_cases[];
extern const int bench_env_case_count;
const bench_env_case *bench_env_case_find(const char *name); /* NULL if unknown */
typedef struct bench_env_timing {
    double steps_per_s, frames_per_s; /* copies x steps (frames) per second */
    int64_t steps;                    /* timed steps of every copy */
} bench_env_timing;
/* Steps for at least budget_s seconds after a warm-up. */
plast_status bench_env_time(const bench_env_case *c, double budget_s, bench_env_timing *out, plast_err *err);
/* Every environment case (or only `only`) timed and printed to stdout as a table, or as JSON lines. */
plast_status bench_env_table(const char *only, int json, plast_err *err);

/* Monotonic seconds. */
double bench_now(void);
/* Median of n values (sorts them). */
double bench_median(double *v, int n);

#endif
