/* src/train/experiment.c: the configuration of a whole run: the model's keys (models/model_cfg_fields.h), the
 * task's (tasks/task_cfg_fields.h) and the training keys below, in one constant table. */
#include <stddef.h>
#include <string.h>

#include "core/err.h"
#include "plast/engine.h"
#include "plast/experiment.h"
#include "plast/optim.h"
#include "plast/train.h"
#include "train/run_internal.h"

#define E(key, type, member, size, def, lo, hi, choices, help)                                                    \
    {key, PLAST_CFG_##type, offsetof(plast_experiment_cfg, member), size, def, lo, hi, choices, help},
#define MF(key, type, member, def, lo, hi, choices, help)                                                         \
    E("model." key, type, model.member, sizeof(((plast_model_cfg *)0)->member), def, lo, hi, choices, help)
#define TF(key, type, member, def, lo, hi, choices, help)                                                         \
    E("task." key, type, task.member, sizeof(((plast_task_cfg *)0)->member), def, lo, hi, choices, help)
#define TR(key, type, member, def, lo, hi, choices, help)                                                         \
    E("train." key, type, train.member, sizeof(((plast_train_cfg *)0)->member), def, lo, hi, choices, help)
#define EF(key, type, member, def, lo, hi, choices, help)                                                         \
    E("env." key, type, env.member, sizeof(((plast_env_cfg *)0)->member), def, lo, hi, choices, help)
#define RL(key, type, member, def, lo, hi, choices, help)                                                         \
    E("rl." key, type, rl.a2c.member, sizeof(((plast_a2c_cfg *)0)->member), def, lo, hi, choices, help)
#define PP(key, type, member, def, lo, hi, choices, help)                                                         \
    E("ppo." key, type, rl.ppo.member, sizeof(((plast_ppo_cfg *)0)->member), def, lo, hi, choices, help)

static const plast_cfg_field FIELDS[] = {
#include "models/model_cfg_fields.h"
#include "tasks/task_cfg_fields.h"
    TR("batch", INT, batch, "64", 1, 1 << 20, NULL, "trials per optimizer step")
    TR("steps", INT, steps, "1000", 0, 1e12, NULL, "optimizer steps")
    TR("seed", INT, seed, "0", 0, 4e18, NULL, "the run's seed: initialisation, training and validation data")
    TR("optimizer", CHOICE, optimizer, "adamw", 0, -1, PLAST_OPTIM_KIND_CHOICES, "outer optimizer")
    TR("lr", REAL, lr, "1e-3", 0, 10, NULL, "learning rate")
    TR("weight_decay", REAL, weight_decay, "0", 0, 10, NULL, "weight decay (decoupled for adamw)")
    TR("amsgrad", BOOL, amsgrad, "true", 0, -1, NULL, "adam/adamw: amsgrad, as Duan et al.")
    TR("momentum", REAL, momentum, "0", 0, 1, NULL, "sgd momentum")
    TR("clip", REAL, clip, "5", 0, 1e30, NULL, "global gradient-norm clip (0: none)")
    TR("schedule", CHOICE, schedule, "constant", 0, -1, "constant|cosine", "learning-rate schedule")
    TR("lr_min", REAL, lr_min, "1e-4", 0, 10, NULL, "cosine: final learning rate")
    TR("val_every", INT, val_every, "200", 1, 1e12, NULL, "validate every N steps (and before the first)")
    TR("val_batches", INT, val_batches, "10", 1, 1e9, NULL, "batches of fresh trials per validation")
    TR("test_batches", INT, test_batches, "100", 1, 1e9, NULL, "batches of the test set (100 x 64 = 6400 trials)")
    TR("test_seed", INT, test_seed, "1234", 0, 4e18, NULL, "the test set's seed: the same trials for every run")
    TR("test_on", CHOICE, test_on, "best", 0, -1, "best|last",
       "test the best validation checkpoint (Duan et al.) or the last parameters (Rodriguez et al.'s ART)")
    TR("ckpt_every", INT, ckpt_every, "100", 1, 1e12, NULL, "write the resume checkpoint every N steps")
    TR("engine", CHOICE, engine, "auto", 0, -1, PLAST_ENGINE_KIND_CHOICES, "execution path (auto: the fastest)")
    TR("adapt_threads", BOOL, adapt_threads, "true", 0, -1, NULL,
       "compute on the cores other processes leave free, measured every few seconds (results do not change)")
    TR("log_every", INT, log_every, "100", 1, 1e12, NULL, "progress line every N steps when not on a terminal")
    TR("eps", REAL, eps, "1e-8", 0, 1, NULL, "adam/adamw: the denominator term eps (the maze's A2C: 1e-4)")
    E("sweep.vary", STRING, sweep.vary, sizeof(((plast_sweep_cfg *)0)->vary), "", 0, -1, NULL,
      "plast sweep: \"key=v1,v2;key2=w1,w2\", every combination is run")
    E("sweep.seeds", INT, sweep.seeds, 0, "1", 1, 1000, NULL, "plast sweep: seeds per combination")
#include "envs/env_cfg_fields.h"
    E("rl.algorithm", CHOICE, rl.algorithm, sizeof(((plast_rl_cfg *)0)->algorithm), "none", 0, -1, "none|a2c|ppo",
      "reinforcement learning: none (a supervised run on the task), a2c (rl.* keys) or ppo (ppo.* keys): an agent in "
      "env.* (docs/RL.md)")
    RL("gamma", REAL, gamma, "0.9", 0, 1, NULL, "a2c: discount of the returns")
    RL("entropy_coef", REAL, entropy_coef, "0.03", -100, 100, NULL, "a2c: weight of the policy penalty (bent)")
    RL("value_coef", REAL, value_coef, "0.1", 0, 100, NULL, "a2c: weight of the value loss (blossv)")
    RL("penalty", CHOICE, penalty, "sum_pi2", 0, -1, "sum_pi2|entropy",
       "a2c: the reference's sum of pi^2 (a penalty on concentration) or minus the entropy")
    RL("baseline", CHOICE, baseline, "element0", 0, -1, "element0|per_element",
       "a2c: the reference's value of copy 0 for every copy (vs[t][0]), or each copy's own value")
    RL("burn_in", INT, burn_in, "100", -1, 1e12, NULL,
       "a2c: no optimizer step in iterations 0..burn_in (the reference's numiter > 100); -1: none")
    PP("objective", CHOICE, objective, "clip", 0, -1, "clip|a2c",
       "clip: PPO's clipped surrogate; a2c: RLlib's A2C loss (sums over the minibatch) on the same fragments")
    PP("gamma", REAL, gamma, "0.99", 0, 1, NULL, "discount")
    PP("lambda", REAL, lambda, "0.95", 0, 1, NULL, "GAE lambda")
    PP("clip", REAL, clip, "0.2", 0, 10, NULL, "the surrogate's clip range epsilon")
    PP("vf_clip", CHOICE, vf_clip, "rllib2022", 0, -1, "none|rllib2022|clamp|clean",
       "value loss: plain, RLlib's max form of early 2022 (the STPN runs), RLlib's later clamp, cleanrl's half max form")
    PP("vf_clip_param", REAL, vf_clip_param, "10", 0, 1e30, NULL, "the value clipping range (RLlib's default 10)")
    PP("value_coef", REAL, value_coef, "1", 0, 1e6, NULL, "weight of the value loss")
    PP("entropy_coef", REAL, entropy_coef, "0.01", -1e6, 1e6, NULL, "weight of the entropy bonus")
    PP("kl_coef", REAL, kl_coef, "0.2", 0, 1e6, NULL, "initial KL penalty coefficient (0: none)")
    PP("kl_target", REAL, kl_target, "0.01", 0, 1e6, NULL, "KL target of the coefficient's adaptation")
    PP("steps", INT, steps, "2048", 1, 1 << 24, NULL, "steps sampled per copy per iteration")
    PP("minibatch", INT, minibatch, "64", 1, 1 << 24, NULL, "steps per minibatch (whole sequences)")
    PP("epochs", INT, epochs, "10", 0, 100000, NULL, "passes over the iteration's samples")
    PP("seq_len", INT, seq_len, "20", 0, 1 << 24, NULL,
       "BPTT sequence length (RLlib's max_seq_len 20); 0: whole fragments, cut only at episode starts")
    PP("adv_norm", CHOICE, adv_norm, "batch", 0, -1, "batch|minibatch|none",
       "advantage standardisation over the iteration (RLlib) or each minibatch (cleanrl)")
    PP("bootstrap_on_truncation", BOOL, bootstrap_on_truncation, "false", 0, -1, NULL,
       "bootstrap from V(final observation) at the time limit (false: terminal, as the STPN runs' RLlib)")
    PP("lr_end", REAL, lr_end, "0", 0, 10, NULL, "the learning rate falls linearly from train.lr to lr_end ...")
    PP("lr_end_steps", INT, lr_end_steps, "0", 0, 1e15, NULL, "... at this many environment steps (0: constant)")
    PP("eval_explore", BOOL, eval_explore, "true", 0, -1, NULL,
       "validation and test sample actions (RLlib's default) instead of taking the means")
    PP("std", CHOICE, std, "state", 0, -1, "state|free",
       "box actions: std = softplus of an output (the STPN runs), or exp of a free parameter policy.log_std "
       "(cleanrl; sets model.policy_log_std)")
};
#undef PP
#undef RL
#undef EF
#undef TR
#undef TF
#undef MF
#undef E

/* a change of a model.* or env.* key goes to its own schema's on_change, with that section of the configuration
 * (model.family and env.name restate their sections' keys) */
static void on_change(void *obj, const plast_cfg_field *f) {
    plast_experiment_cfg *cfg = obj;
    const plast_cfg_schema m = plast_model_cfg_schema(), e = plast_env_cfg_schema();
    if (strncmp(f->key, "model.", 6) == 0 && m.on_change) m.on_change(&cfg->model, f);
    if (strncmp(f->key, "env.", 4) == 0 && e.on_change) e.on_change(&cfg->env, f);
}

plast_cfg_schema plast_experiment_cfg_schema(void) {
    plast_cfg_schema s = {FIELDS, (int)(sizeof FIELDS / sizeof FIELDS[0]), on_change};
    return s;
}

plast_status plast_experiment_cfg_load(plast_experiment_cfg *cfg, const char *path, int n_set,
                                       const char *const *sets, plast_err *err) {
    return plast_cfg_load(plast_experiment_cfg_schema(), cfg, path, n_set, sets, err);
}

void plast_experiment_cfg_settle(plast_experiment_cfg *cfg) {
    if (cfg && strstr(cfg->sweep.vary, "model.family")) plast_model_cfg_keep_family(&cfg->model);
}

_Static_assert(offsetof(plast_experiment_cfg, model) == 0, "bindings take the model section at the start");
size_t plast_experiment_cfg_bytes(void) { return sizeof(plast_experiment_cfg); }
plast_model_cfg *plast_experiment_cfg_model(plast_experiment_cfg *cfg) { return cfg ? &cfg->model : NULL; }
plast_env_cfg *plast_experiment_cfg_env(plast_experiment_cfg *cfg) { return cfg ? &cfg->env : NULL; }

int plast_experiment_is_rl(const plast_experiment_cfg *cfg) { return strcmp(cfg->rl.algorithm, "none") != 0; }

/* model.input and model.output: 0 takes the data's size; another value must agree with it */
static plast_status fit_sizes(plast_experiment_cfg *cfg, int64_t input, int64_t output, const char *kind,
                              const char *what, plast_err *err) {
    struct { int64_t *model; int64_t data; const char *key; } sz[2] = {{&cfg->model.input, input, "model.input"},
                                                                         {&cfg->model.output, output, "model.output"}};
    for (int k = 0; k < 2; k++) {
        if (*sz[k].model != 0 && *sz[k].model != sz[k].data)
            return plast_err_set(err, PLAST_ERR_CONFIG, "key '%s' = %lld, but %s %s has %lld (leave it at 0)",
                                 sz[k].key, (long long)*sz[k].model, kind, what, (long long)sz[k].data);
        *sz[k].model = sz[k].data;
    }
    return PLAST_OK;
}

/* model.image_channels and model.image_size: 0 takes the data's images (a task's or an environment's) */
static void fit_image(plast_experiment_cfg *cfg, int64_t channels, int64_t side) {
    if (!cfg->model.image_channels) cfg->model.image_channels = channels;
    if (!cfg->model.image_size) cfg->model.image_size = side;
}

plast_env *plast_experiment_env(plast_experiment_cfg *cfg, plast_err *err) {
    return experiment_env_range(cfg, 0, cfg->train.batch, err);
}

plast_env *experiment_env_range(plast_experiment_cfg *cfg, int64_t first, int64_t count, plast_err *err) {
    plast_rng seeder = plast_rng_derive((uint64_t)cfg->train.seed, PLAST_STREAM_ENV, 0);
    plast_env *e = plast_env_init_range(&cfg->env, first, count, plast_rng_u64(&seeder), err);
    if (!e) return NULL;
    const plast_space as = plast_env_action_space(e);
    /* PPO's free standard deviations are a parameter of their own, not outputs */
    const int free_std = strcmp(cfg->rl.algorithm, "ppo") == 0 && strcmp(cfg->rl.ppo.std, "free") == 0 &&
                         as.kind != PLAST_SPACE_DISCRETE;
    if (free_std) cfg->model.policy_log_std = as.n;
    const int64_t out = as.kind == PLAST_SPACE_DISCRETE ? as.n + 1 : (free_std ? 1 : 2) * as.n + 1;
    if (fit_sizes(cfg, plast_env_observation_space(e).n, out, "env", plast_env_describe(e), err) != PLAST_OK) {
        plast_env_free(e);
        return NULL;
    }
    int64_t ch, side; /* image observations (stacked frames) also fix the geometry of model.frontend */
    if (plast_env_image(e, &ch, &side)) fit_image(cfg, ch, side);
    return e;
}

plast_task *plast_experiment_task(plast_experiment_cfg *cfg, plast_err *err) {
    if (strcmp(cfg->task.name, "random") == 0) { /* unstructured data shaped like the model */
        if (cfg->model.input > 0) cfg->task.dim = cfg->model.input;
        if (cfg->model.output > 0) cfg->task.items = cfg->model.output;
    }
    plast_task *task = plast_task_init(&cfg->task, err);
    if (!task) return NULL;
    if (fit_sizes(cfg, plast_task_input(task), plast_task_output(task), "task", plast_task_describe(task), err) != PLAST_OK) {
        plast_task_free(task);
        return NULL;
    }
    int64_t ch, side; /* image tasks also fix the image geometry of an image encoder */
    if (plast_task_image(task, &ch, &side)) fit_image(cfg, ch, side);
    return task;
}
