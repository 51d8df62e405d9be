/* src/cli/bench_cases.c: the benchmark cases and the timing of one case (bench_cases.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/bench_cases.h"
#include "core/err.h"

/* a Duan et al. case at the paper's size on a path (auto: as training picks it) */
#define DUAN_CASE(name, I, T, cell, rule, path, note)                                                                \
    {name,                                                                                                           \
     {"model.family=duan", "model.cell=" cell, "model.rule=" rule, "model.input=" #I, "model.output=1",              \
      "model.hidden=128", "model.hidden_scaling=paper", "train.engine=" path},                                       \
     64, T, note}
#define DUAN(task, I, T, cell, rule) DUAN_CASE(task "_" cell "_" rule, I, T, cell, rule, "auto", "Duan et al. at paper size")

const bench_case bench_cases[] = {
/* the three rules of one cell: Hebbian, gradient, none */
#define DUAN_RULES(task, I, T, cell)                                                                                 \
    DUAN(task, I, T, cell, "hebbian"), DUAN(task, I, T, cell, "gradient"), DUAN(task, I, T, cell, "none")
    DUAN_RULES("cuereward", 16, 20, "lstm"),
    DUAN_RULES("cuereward", 16, 20, "rnn"),
    DUAN_RULES("copy", 3, 30, "lstm"),
    DUAN_RULES("copy", 3, 30, "rnn"),
    DUAN("copy_long", 3, 80, "lstm", "hebbian"), /* n = 20 values after a delay of 40 (configs/duan/copy_long.json) */
    DUAN("copy_long", 3, 80, "lstm", "gradient"),
    /* the same on the dense path, and longer trials where the low-rank form's O(T^2) loses */
#define DUAN_ON(task, I, T, cell, rule, path)                                                                        \
    DUAN_CASE(task "_" cell "_" rule "_" path, I, T, cell, rule, path, "Duan et al. at paper size, the " path " path")
    DUAN_ON("copy_long", 3, 80, "lstm", "hebbian", "dense"),
    DUAN_ON("copy_long", 3, 80, "lstm", "gradient", "dense"),
    DUAN_ON("copy_40", 3, 40, "lstm", "hebbian", "lowrank"),
    DUAN_ON("copy_40", 3, 40, "lstm", "hebbian", "dense"),
    DUAN_ON("copy_160", 3, 160, "lstm", "hebbian", "lowrank"),
    DUAN_ON("copy_160", 3, 160, "lstm", "hebbian", "dense"),
    {"art_stpn", {"model.family=stpn", "model.input=37", "model.output=37", "model.hidden=11"}, 128, 9,
     "STPNr, associative retrieval size"},
    {"art_lstm", {"model.family=lstm", "model.input=37", "model.output=37", "model.hidden=9"}, 128, 9, ""},
    {"art_rnn", {"model.family=rnn", "model.input=37", "model.output=37", "model.hidden=20"}, 128, 9, ""},
    {"art_fastweights", {"model.family=fastweights", "model.input=37", "model.output=37", "model.hidden=20"}, 128, 9,
     ""},
    {"art_modplast", {"model.family=modplast", "model.input=37", "model.output=37", "model.hidden=17"}, 128, 9, ""},
    {"maze_stpn", {"model.family=stpn", "model.input=17", "model.output=5", "model.hidden=55", "model.norm=post",
                   "model.clamp=1"}, 16, 200, "maze size, batch 16"},
    {"maze_stpn_512", {"model.family=stpn", "model.input=17", "model.output=5", "model.hidden=55", "model.norm=post",
                       "model.clamp=1"}, 512, 200, "maze at the paper's size: batch 512, 200 steps"},
    {"maze_lstm_512", {"model.family=lstm", "model.input=17", "model.output=5", "model.hidden=47"}, 512, 200,
     "maze LSTM at the paper's size"},
    {"maze_rnn_512", {"model.family=rnn", "model.input=17", "model.output=5", "model.hidden=100"}, 512, 200,
     "maze RNN at the paper's size"},
    {"maze_modplast_512", {"model.family=modplast", "model.input=17", "model.output=5", "model.hidden=73"}, 512, 200,
     "maze modulated plasticity at the paper's size"},
    {"maze_modplast_retro", {"model.family=modplast", "model.neuromod=retroactive", "model.input=17",
                             "model.output=5", "model.hidden=73"}, 64, 200,
     "maze size with retroactive neuromodulation (an eligibility trace), batch 64"},
#define MAZE_A2C(family, H, ...)                                                                                      \
    {"maze_a2c_" family, {"rl.algorithm=a2c", "env.name=maze", "model.family=" family, "model.hidden=" #H, __VA_ARGS__}, \
     512, 200, "one maze A2C iteration at the paper's size: 512 agents, 200 steps, rollout, backward, update"}
    MAZE_A2C("stpn", 55, "model.norm=post", "model.clamp=1"),
    MAZE_A2C("lstm", 47, NULL),
    MAZE_A2C("rnn", 100, NULL),
    MAZE_A2C("modplast", 73, NULL),
    /* one PPO iteration as the STPN pendulum script: 2,048 steps, 10 epochs of 64-step minibatches */
    {"pendulum_ppo_stpnf", {"rl.algorithm=ppo", "env.name=pendulum", "model.family=stpn", "model.variant=f",
                            "model.hidden=64", "model.norm=none", "model.clamp=0.1"}, 1, 2048,
     "one PPO iteration on the pendulum, STPNf 64 (rollout of 2,048 steps, 10 epochs of minibatch updates)"},
    {"pendulum_ppo_mlp", {"rl.algorithm=ppo", "env.name=pendulum", "model.family=mlp", "model.hidden=64"}, 1, 2048,
     "one PPO iteration on the pendulum, MLP 64"},
    /* one A2C iteration as the STPN Pong runs: 64 copies x 50 frames, 200-step slices of 20-step sequences */
    {"ponglike_a2c_stpn", {"rl.algorithm=ppo", "ppo.objective=a2c", "ppo.steps=50", "ppo.minibatch=200",
                           "ppo.epochs=1", "ppo.lambda=1", "ppo.kl_coef=0", "ppo.adv_norm=none", "env.name=ponglike",
                           "env.obs=rllib", "env.frameskip=1", "env.sticky=0", "model.family=stpn",
                           "model.frontend=mnih_conv"}, 64, 50,
     "one A2C iteration on PongLike as the STPN Pong runs: conv + STPNr 64, 64 copies x 50 frames"},
    {"cfd_hebbff", {"model.family=hebbff", "model.input=100", "model.output=1", "model.hidden=100"}, 1, 5000,
     "familiarity detection, one 5000-step sequence"},
    {"cfd_stpnf", {"model.family=stpn", "model.variant=f", "model.input=100", "model.output=1", "model.hidden=100"},
     1, 5000, "familiarity detection with STPNf, one 5000-step sequence"},
    {"cfd_stpnr", {"model.family=stpn", "model.variant=r", "model.input=100", "model.output=1", "model.hidden=27"},
     1, 5000, "familiarity detection with STPNr (the paper's 27 units), one 5000-step sequence"},
    {"pendulum_mlp", {"model.family=mlp", "model.input=4", "model.output=2", "model.hidden=64"}, 64, 100,
     "inverted-pendulum policy size, 64 rollouts of 100 steps"},
    {"pattern_diffplast", {"model.family=diffplast", "model.input=51", "model.output=51", "model.hidden=51",
                           "model.direct_input=true", "model.readout=none"}, 16, 25,
     "Miconi 2018 pattern memorisation, 50 bits + bias, batch 16"},
    {"oneshot_bohp", {"model.family=bohp", "model.input=10", "model.output=2", "model.hidden=2",
                      "model.trace_decay=0.98"}, 32, 20, "Miconi 2016 one-shot learning, batch 32"},
#define FASHION(cell, rule)                                                                                          \
    {"fashion_" cell "_" rule,                                                                                      \
     {"model.family=duan", "model.cell=" cell, "model.rule=" rule, "model.input=789", "model.output=5",              \
      "model.hidden=256", "model.hidden_scaling=paper", "model.encoder=conv4", "model.image_channels=1",             \
      "model.image_size=28"},                                                                                        \
     64, 10, "Duan et al. 5-way 1-shot at paper size, Fashion-MNIST images (28 x 28)"}
    FASHION("lstm", "hebbian"),
    FASHION("lstm", "gradient"),
    FASHION("lstm", "none"),
};
const int bench_case_count = (int)(sizeof bench_cases / sizeof bench_cases[0]);

const bench_env_case bench_env_cases[] = {
    {"env_maze", {"env.name=maze"}, 64, "the 13 x 13 maze"},
    {"env_pendulum", {"env.name=pendulum"}, 64, "InvertedPendulum-v4 semantics on MuJoCo (two mj_step per step)"},
    {"env_ponglike", {"env.name=ponglike"}, 64, "PongLike as ALE v5: 84 x 84 grey, frameskip 4, sticky 0.25"},
    {"env_ponglike_fs1", {"env.name=ponglike", "env.frameskip=1", "env.sticky=0"}, 64,
     "PongLike 84 x 84 grey, every frame (NoFrameskip)"},
    {"env_ponglike_rllib", {"env.name=ponglike", "env.obs=rllib", "env.frameskip=1", "env.sticky=0"}, 64,
     "PongLike as the STPN runs: the 210 x 160 frame through RLlib's preprocessor, every frame"},
    {"env_ponglike_mnih", {"env.name=ponglike", "env.sticky=0", "env.noop_max=30", "env.frame_stack=4",
                           "env.frame_max=true"}, 64,
     "PongLike with Mnih et al.'s preprocessing: 4 stacked frames, each the max of two, frameskip 4"},
    {"env_ponglike_rgb", {"env.name=ponglike", "env.obs=rgb"}, 64, "PongLike's raw 210 x 160 x 3 frames, frameskip 4"},
};
const int bench_env_case_count = (int)(sizeof bench_env_cases / sizeof bench_env_cases[0]);

const bench_env_case *bench_env_case_find(const char *name) {
    for (int i = 0; i < bench_env_case_count; i++)
        if (strcmp(bench_env_cases[i].name, name) == 0) return &bench_env_cases[i];
    return NULL;
}

plast_status bench_env_time(const bench_env_case *c, double budget_s, bench_env_timing *out, plast_err *err) {
    memset(out, 0, sizeof *out);
    plast_env_cfg cfg;
    plast_status s = plast_env_cfg_default(&cfg, err);
    for (int k = 0; s == PLAST_OK && k < BENCH_MAX_SETS && c->sets[k]; k++)
        s = plast_cfg_apply_set(plast_env_cfg_schema(), &cfg, c->sets[k], err);
    plast_env *e = s == PLAST_OK ? plast_env_init(&cfg, c->copies, 1, err) : NULL;
    if (!e) return plast_err_status(err, PLAST_ERR_CONFIG);
    const int64_t N = c->copies, I = plast_env_observation_space(e).n;
    const plast_space as = plast_env_action_space(e);
    const int discrete = as.kind == PLAST_SPACE_DISCRETE;
    enum { TABLE = 256 }; /* random actions drawn before the clock starts, used in turn */
    const int64_t per = discrete ? 1 : as.n;
    plast_real *obs = malloc(sizeof(plast_real) * (size_t)(N * I)), *rew = malloc(sizeof(plast_real) * (size_t)N);
    plast_real *val = discrete ? NULL : malloc(sizeof(plast_real) * (size_t)(TABLE * N * per));
    int32_t *idx = discrete ? malloc(sizeof(int32_t) * (size_t)(TABLE * N)) : NULL;
    if (!obs || !rew || (discrete ? !idx : !val)) s = plast_err_set(err, PLAST_ERR_NOMEM, "bench: out of memory");
    plast_rng rng;
    plast_rng_init(&rng, 1, 2);
    for (int64_t k = 0; s == PLAST_OK && k < TABLE * N * per; k++) {
        if (discrete) idx[k] = (int32_t)plast_rng_below(&rng, (uint32_t)as.n);
        else val[k] = (plast_real)(as.low + (as.high - as.low) * plast_rng_uniform(&rng));
    }
    if (s == PLAST_OK) s = plast_env_reset(e, obs, err);
    double start = 0;
    for (int64_t t = 0; s == PLAST_OK; t++) {
        const int64_t row = t % TABLE;
        const plast_env_actions a = discrete ? (plast_env_actions){idx + row * N, NULL}
                                             : (plast_env_actions){NULL, val + row * N * per};
        if (t == 200) start = bench_now(); /* after a warm-up */
        s = plast_env_step(e, a, obs, rew, NULL, NULL, err);
        if (t >= 200 && t % 100 == 99) {
            out->steps = t + 1 - 200;
            if (bench_now() - start >= budget_s) break;
        }
    }
    if (s == PLAST_OK) {
        const double dt = bench_now() - start, frames = strcmp(cfg.name, "ponglike") == 0 ? (double)cfg.frameskip : 1;
        out->steps_per_s = (double)(out->steps * N) / dt;
        out->frames_per_s = out->steps_per_s * frames;
    }
    free(obs), free(rew), free(val), free(idx);
    plast_env_free(e);
    return s;
}


const bench_case *bench_case_find(const char *name) {
    for (int i = 0; i < bench_case_count; i++)
        if (strcmp(bench_cases[i].name, name) == 0) return &bench_cases[i];
    return NULL;
}

/* the case's keys over the experiment's defaults: model.* for every case, rl.* and env.* for the RL cases, and
 * train.engine for a case that asks for a path (otherwise auto, as training) */
static plast_status case_cfg(const bench_case *c, plast_experiment_cfg *cfg, plast_err *err) {
    plast_status s = plast_experiment_cfg_load(cfg, NULL, 0, NULL, err);
    for (int k = 0; s == PLAST_OK && k < BENCH_MAX_SETS && c->sets[k]; k++)
        s = plast_cfg_apply_set(plast_experiment_cfg_schema(), cfg, c->sets[k], err);
    return s;
}

int bench_case_is_rl(const bench_case *c) {
    plast_experiment_cfg cfg;
    return case_cfg(c, &cfg, NULL) == PLAST_OK && plast_experiment_is_rl(&cfg);
}

plast_model *bench_case_model(const bench_case *c, plast_err *err) {
    plast_experiment_cfg cfg;
    if (case_cfg(c, &cfg, err) != PLAST_OK) return NULL;
    if (plast_experiment_is_rl(&cfg)) { /* the model's sizes from the environment */
        cfg.train.batch = c->B;
        plast_env *e = plast_experiment_env(&cfg, err);
        if (!e) return NULL;
        plast_env_free(e);
    }
    return plast_model_init(&cfg.model, err);
}

/* A PPO case: iterations of the learner (sampling, advantages, the epochs of updates; clip 40, Adam 3e-4) */
static plast_status ppo_case_time(plast_experiment_cfg *cfg, int steps, double budget_s, bench_timing *out,
                                  plast_err *err) {
    plast_env *env = plast_experiment_env(cfg, err);
    plast_model *m = env ? plast_model_init(&cfg->model, err) : NULL;
    plast_params *p = m ? plast_model_params_init(m, err) : NULL;
    plast_optim_config oc = plast_optim_config_default(PLAST_OPTIM_ADAM);
    oc.amsgrad = 0;
    plast_optim *o = p ? plast_optim_init(&oc, p, err) : NULL;
    plast_ppo *a = o ? plast_ppo_init(&cfg->rl.ppo, m, env, PLAST_ENGINE_AUTO, err) : NULL;
    plast_status s = a ? PLAST_OK : plast_err_status(err, PLAST_ERR_CONFIG);
    if (s == PLAST_OK) {
        plast_rng rng;
        plast_rng_init(&rng, 1, 0);
        plast_model_params_reset(m, p, &rng);
        snprintf(out->path, sizeof out->path, "%s", plast_engine_kind_name(plast_engine_get_kind(plast_ppo_engine(a))));
        const double start = bench_now();
        for (int k = 0; s == PLAST_OK && out->n_steps < steps; k++) {
            plast_ppo_stats st;
            const double t0 = bench_now();
            s = plast_ppo_iterate(a, p, o, 3e-4, 40, 1, k, &st, err);
            if (k < 1) continue; /* one warm-up iteration */
            out->step_s[out->n_steps++] = bench_now() - t0;
            if (out->n_steps >= 2 && bench_now() - start > budget_s) break;
        }
        out->engine_bytes = plast_engine_bytes(plast_ppo_engine(a));
    }
    plast_ppo_free(a);
    plast_optim_free(o);
    plast_params_free(p);
    plast_model_free(m);
    plast_env_free(env);
    return s;
}

/* An RL case: A2C iterations (rollout, loss, backward, clip 4, Adam with eps 1e-4; no burn-in) of B agents */
static plast_status rl_case_time(const bench_case *c, int steps, double budget_s, bench_timing *out, plast_err *err) {
    plast_experiment_cfg cfg;
    plast_status s = case_cfg(c, &cfg, err);
    if (s != PLAST_OK) return s;
    if (strcmp(cfg.rl.algorithm, "ppo") == 0) {
        cfg.train.batch = c->B;
        cfg.rl.ppo.steps = c->T;
        return ppo_case_time(&cfg, steps, budget_s, out, err);
    }
    cfg.train.batch = c->B;
    cfg.rl.a2c.burn_in = -1;
    plast_env *env = plast_experiment_env(&cfg, err);
    plast_model *m = env ? plast_model_init(&cfg.model, err) : NULL;
    plast_params *p = m ? plast_model_params_init(m, err) : NULL;
    plast_optim_config oc = plast_optim_config_default(PLAST_OPTIM_ADAM);
    oc.eps = 1e-4, oc.amsgrad = 0;
    plast_optim *o = p ? plast_optim_init(&oc, p, err) : NULL;
    plast_a2c *a = o ? plast_a2c_init(&cfg.rl.a2c, m, env, PLAST_ENGINE_AUTO, 0, err) : NULL;
    s = a ? PLAST_OK : plast_err_status(err, PLAST_ERR_CONFIG);
    if (s == PLAST_OK) {
        plast_rng rng;
        plast_rng_init(&rng, 1, 0);
        plast_model_params_reset(m, p, &rng);
        plast_engine *e = plast_a2c_engine(a);
        snprintf(out->path, sizeof out->path, "%s", plast_engine_kind_name(plast_engine_get_kind(e)));
        out->flops = plast_engine_flops(e);
        out->engine_bytes = plast_engine_bytes(e);
        const double start = bench_now();
        for (int k = 0; s == PLAST_OK && out->n_steps < steps; k++) {
            plast_a2c_stats st;
            const double t0 = bench_now();
            s = plast_a2c_iterate(a, p, o, 1e-4, 4.0, 1, k, 1, &st, err);
            if (k < 1) continue; /* one warm-up iteration */
            out->step_s[out->n_steps++] = bench_now() - t0;
            if (out->n_steps >= 2 && bench_now() - start > budget_s) break;
        }
        plast_a2c_stats st;
        const double t0 = bench_now();
        if (s == PLAST_OK) s = plast_a2c_iterate(a, p, NULL, 0, 0, 2, 0, 0, &st, err);
        out->eval_s = bench_now() - t0;
        out->engine_bytes = plast_engine_bytes(e); /* with the running states of stepping */
    }
    plast_a2c_free(a);
    plast_optim_free(o);
    plast_params_free(p);
    plast_model_free(m);
    plast_env_free(env);
    return s;
}

plast_status bench_env_table(const char *only, int json, plast_err *err) {
    if (!json)
        printf("\nenvironments: copies stepped with uniformly random actions on one thread, 2 s each\n%-24s %8s "
               "%14s %14s\n", "case", "copies", "steps/s", "frames/s");
    for (int i = 0; i < bench_env_case_count; i++) {
        const bench_env_case *c = &bench_env_cases[i];
        if (only && strcmp(only, c->name) != 0) continue;
        bench_env_timing et;
        plast_status s = bench_env_time(c, 2.0, &et, err);
        if (s != PLAST_OK) return s;
        if (json)
            printf("{\"case\": \"%s\", \"copies\": %lld, \"steps_per_s\": %.1f, \"frames_per_s\": %.1f}\n", c->name,
                   (long long)c->copies, et.steps_per_s, et.frames_per_s);
        else
            printf("%-24s %8lld %14.0f %14.0f\n", c->name, (long long)c->copies, et.steps_per_s, et.frames_per_s);
        fflush(stdout);
    }
    return PLAST_OK;
}

double bench_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(double *v, int n) {
    if (n < 1) return 0;
    qsort(v, (size_t)n, sizeof v[0], cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

plast_status bench_case_time(const bench_case *c, int steps, double budget_s, bench_timing *out, plast_err *err) {
    memset(out, 0, sizeof *out);
    if (steps > BENCH_MAX_STEPS) steps = BENCH_MAX_STEPS;
    if (bench_case_is_rl(c)) return rl_case_time(c, steps, budget_s, out, err);
    plast_model *m = bench_case_model(c, err);
    plast_params *p = m ? plast_model_params_init(m, err) : NULL;
    plast_experiment_cfg cfg;
    const plast_engine_kind kind =
        case_cfg(c, &cfg, NULL) == PLAST_OK ? plast_engine_kind_parse(cfg.train.engine) : PLAST_ENGINE_AUTO;
    plast_engine *e = p ? plast_engine_init(m, c->B, c->T, kind, 0, err) : NULL;
    plast_optim_config oc = plast_optim_config_default(PLAST_OPTIM_ADAMW);
    oc.weight_decay = 0, oc.amsgrad = 1;
    plast_optim *opt = e ? plast_optim_init(&oc, p, err) : NULL;
    const int64_t n_in = m ? c->T * c->B * plast_model_input(m) : 0, n_out = m ? c->T * c->B * plast_model_output(m) : 0;
    plast_real *x = malloc(sizeof(plast_real) * (size_t)(n_in + 1)), *y = malloc(sizeof(plast_real) * (size_t)(n_out + 1));
    plast_real *target = malloc(sizeof(plast_real) * (size_t)(n_out + 1));
    plast_real *dy = malloc(sizeof(plast_real) * (size_t)(n_out + 1));
    plast_status s = opt ? PLAST_OK : plast_err_status(err, PLAST_ERR_NOMEM);
    if (s == PLAST_OK && (!x || !y || !target || !dy)) s = plast_err_set(err, PLAST_ERR_NOMEM, "bench: out of memory");
    if (s == PLAST_OK) {
        plast_rng rng;
        plast_rng_init(&rng, 1, 0);
        plast_model_params_reset(m, p, &rng);
        plast_rng_fill_uniform(&rng, x, (size_t)n_in, -1, 1);
        plast_rng_fill_uniform(&rng, target, (size_t)n_out, -1, 1);
        snprintf(out->path, sizeof out->path, "%s", plast_engine_kind_name(plast_engine_get_kind(e)));
        out->flops = plast_engine_flops(e);
        out->engine_bytes = plast_engine_bytes(e);
        /* as a training loop with train.adapt_threads: compute on the cores other processes leave free. The
         * warm-up (2 steps, and 0.3 s for the meter's first reading) is not timed; then a reading every second. */
        plast_cpu_meter meter;
        plast_cpu_meter_init(&meter);
        const int max_threads = plast_runtime_threads();
        const double start = bench_now();
        double metered = -1;
        for (int k = 0; s == PLAST_OK && out->n_steps < steps; k++) {
            const int warm = k < 2 || (metered < 0 && bench_now() - start < 0.3 && k < 200);
            if (!warm && (metered < 0 || bench_now() - metered >= 1.0)) {
                metered = bench_now();
                const int n = plast_cpu_meter_free(&meter, max_threads);
                if (n != plast_runtime_threads()) plast_runtime_set_threads(n);
            }
            const double t0 = bench_now();
            s = plast_engine_forward(e, p, x, y, NULL, NULL, 1, err);
            for (int64_t i = 0; i < n_out && s == PLAST_OK; i++)
                dy[i] = (plast_real)(2.0 * (y[i] - target[i]) / (double)n_out);
            plast_params_zero_grad(p);
            if (s == PLAST_OK) s = plast_engine_backward(e, p, dy, err);
            plast_params_clip_grad_norm(p, 5.0);
            if (s == PLAST_OK) s = plast_optim_step(opt, p, oc.lr, err);
            if (warm) continue;
            out->step_s[out->n_steps++] = bench_now() - t0;
            if (out->n_steps >= 2 && bench_now() - start > budget_s) break; /* a budget for the slow reference paths */
        }
        double ev[3];
        for (int k = 0; k < 3 && s == PLAST_OK; k++) {
            const double t0 = bench_now();
            s = plast_engine_forward(e, p, x, y, NULL, NULL, 0, err);
            ev[k] = bench_now() - t0;
        }
        if (s == PLAST_OK) out->eval_s = bench_median(ev, 3);
        plast_runtime_set_threads(max_threads);
    }
    plast_engine_free(e);
    plast_optim_free(opt);
    plast_params_free(p);
    plast_model_free(m);
    free(x), free(y), free(target), free(dy);
    return s;
}
