/* src/rl/a2c.c: advantage actor-critic as Miconi et al. 2019 and Rodriguez et al. 2022 run it (plast/rl.h;
 * reference: STPN's Maze/Scripts/run_maze.py; docs/RL.md lists the quirks kept and their options). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "plast/model.h"
#include "plast/rl.h"
#include "plast/tape.h"

/* actions are drawn from stream PLAST_RL_ACTION_STREAM + copy, item = iteration */
#define PLAST_RL_ACTION_STREAM ((uint64_t)2 << 32)

plast_a2c_cfg plast_a2c_cfg_default(void) {
    plast_a2c_cfg c;
    memset(&c, 0, sizeof c);
    c.gamma = 0.9, c.entropy_coef = 0.03, c.value_coef = 0.1, c.burn_in = 100;
    strcpy(c.penalty, "sum_pi2");
    strcpy(c.baseline, "element0");
    return c;
}

/* softmax of one row of logits into pi (A), log pi into lp */
static void softmax_row(const plast_real *l, int64_t A, double *pi, double *lp) {
    double mx = l[0], s = 0;
    for (int64_t a = 1; a < A; a++) mx = fmax(mx, l[a]);
    for (int64_t a = 0; a < A; a++) s += exp((double)l[a] - mx);
    const double ls = log(s);
    for (int64_t a = 0; a < A; a++) {
        lp[a] = (double)l[a] - mx - ls;
        pi[a] = exp(lp[a]);
    }
}

plast_status plast_a2c_loss(const plast_a2c_cfg *cfg, int64_t T, int64_t B, int64_t A, int64_t O,
                            const plast_real *y, const int32_t *actions, const plast_real *rewards, plast_real *dy,
                            plast_a2c_stats *stats, plast_err *err) {
    if (!cfg || !y || !actions || !rewards || !dy || T < 1 || B < 1 || A < 1 || O < A + 1 || A > 4096)
        return plast_err_set(err, PLAST_ERR_INVALID_ARG, "a2c loss: needs T, B, A >= 1, O >= A + 1 and every buffer");
    const int element0 = strcmp(cfg->baseline, "element0") == 0, sum_pi2 = strcmp(cfg->penalty, "sum_pi2") == 0;
    double *R = malloc(sizeof(double) * (size_t)B), pi[4096], lp[4096];
    if (!R) return plast_err_set(err, PLAST_ERR_NOMEM, "a2c loss: out of memory");
    for (int64_t b = 0; b < B; b++) R[b] = 0;
    const double scale = 1.0 / ((double)T * (double)B);
    double loss = 0, vloss = 0, total_reward = 0;
    memset(dy, 0, sizeof(plast_real) * (size_t)(T * B * O));
    for (int64_t t = T - 1; t >= 0; t--) {
        const plast_real *yt = y + t * B * O;
        plast_real *dyt = dy + t * B * O;
        double g_v0 = 0; /* element0: every copy's value-loss gradient lands on copy 0's value */
        for (int64_t b = 0; b < B; b++) {
            R[b] = rewards[t * B + b] + cfg->gamma * R[b];
            total_reward += rewards[t * B + b];
            const double v = element0 ? yt[A] : yt[b * O + A], adv = R[b] - v;
            softmax_row(yt + b * O, A, pi, lp);
            const int32_t at = actions[t * B + b];
            double pen = 0, plogp = 0;
            for (int64_t a = 0; a < A; a++) {
                pen += pi[a] * pi[a];
                plogp += pi[a] * lp[a];
            }
            if (!sum_pi2) pen = plogp;
            loss += scale * (cfg->entropy_coef * pen - lp[at] * adv + cfg->value_coef * adv * adv);
            vloss += scale * adv * adv;
            for (int64_t a = 0; a < A; a++) {
                /* d P / d l_a: sum_pi2 2 pi_a (pi_a - sum pi^2); entropy pi_a (log pi_a - sum pi log pi) */
                const double dpen = sum_pi2 ? 2 * pi[a] * (pi[a] - pen) : pi[a] * (lp[a] - plogp);
                const double dlogp = (a == at ? 1.0 : 0.0) - pi[a]; /* d log pi(a_t) / d l_a */
                dyt[b * O + a] = (plast_real)(scale * (cfg->entropy_coef * dpen - dlogp * adv));
            }
            const double dv = scale * cfg->value_coef * -2 * adv;
            if (element0) g_v0 += dv;
            else dyt[b * O + A] = (plast_real)dv;
        }
        if (element0) dyt[A] = (plast_real)g_v0;
    }
    free(R);
    if (stats) {
        stats->loss = loss;
        stats->value_loss = vloss;
        stats->reward = total_reward / (double)B;
    }
    if (!isfinite(loss)) return plast_err_set(err, PLAST_ERR_NUMERIC, "a2c loss: not finite (%g)", loss);
    return PLAST_OK;
}

void plast_policy_sample(const plast_real *logits, int64_t B, int64_t A, int64_t stride, const double *u,
                         int32_t *actions) {
    double pi[4096], lp[4096];
    if (A > 4096) A = 4096;
    for (int64_t b = 0; b < B; b++) {
        softmax_row(logits + b * stride, A, pi, lp);
        double c = 0;
        int32_t a = (int32_t)(A - 1); /* rounding: the last action takes the remainder */
        for (int64_t k = 0; k < A; k++) {
            c += pi[k];
            if (u[b] < c) {
                a = (int32_t)k;
                break;
            }
        }
        actions[b] = a;
    }
}

/* ---- the learner -------------------------------------------------------------------------------------------- */

struct plast_a2c {
    plast_a2c_cfg cfg;
    const plast_model *m;
    plast_env *env;
    plast_engine *engine;
    plast_state *state;
    plast_tape *scratch;
    int want_energy;
    int64_t T, B, I, O, A;
    plast_real *obs;     /* (T, B, I) the observations of the rollout, the engine's input */
    plast_real *y_step;  /* (B, O) one step's outputs in the rollout */
    plast_real *y, *dy;  /* (T, B, O) the engine's outputs and their gradient */
    plast_real *rewards; /* (T, B) */
    plast_real *energy;  /* (B) one step's energy */
    double *step_energy; /* (T) the last rollout's mean energy per step over the copies */
    plast_real *next;    /* (B, I) the environment's next observation */
    int32_t *actions;    /* (T, B) */
    double *u;           /* (B) uniform draws */
    plast_rng *rngs;     /* (B) this iteration's action generators */
    plast_comm comm;     /* size 1 when alone */
    double *reduce;      /* data-parallel: (numel + 4) the gradient and the statistics to sum */
};

plast_a2c *plast_a2c_init(const plast_a2c_cfg *cfg, const plast_model *m, plast_env *env, plast_engine_kind kind,
                          int want_energy, plast_err *err) {
    if (!cfg || !m || !env) {
        plast_err_set(err, PLAST_ERR_INVALID_ARG, "a2c: needs a configuration, a model and an environment");
        return NULL;
    }
    const plast_space as = plast_env_action_space(env);
    const int64_t T = plast_env_max_steps(env), B = plast_env_count(env);
    if (as.kind != PLAST_SPACE_DISCRETE) {
        plast_err_set(err, PLAST_ERR_CONFIG, "a2c: %s has continuous actions; A2C here needs a discrete space",
                      plast_env_describe(env));
        return NULL;
    }
    if (T < 1) {
        plast_err_set(err, PLAST_ERR_CONFIG, "a2c: %s has no fixed episode length", plast_env_describe(env));
        return NULL;
    }
    if (plast_model_input(m) != plast_env_observation_space(env).n || plast_model_output(m) < as.n + 1) {
        plast_err_set(err, PLAST_ERR_CONFIG,
                      "a2c: model input %lld and output %lld do not fit %s (input %lld, output %lld: %lld logits and "
                      "a value)", (long long)plast_model_input(m), (long long)plast_model_output(m),
                      plast_env_describe(env), (long long)plast_env_observation_space(env).n, (long long)(as.n + 1),
                      (long long)as.n);
        return NULL;
    }
    plast_a2c *a = calloc(1, sizeof *a);
    if (!a) {
        plast_err_set(err, PLAST_ERR_NOMEM, "a2c: out of memory");
        return NULL;
    }
    a->cfg = *cfg, a->m = m, a->env = env, a->want_energy = want_energy;
    a->comm.size = 1;
    a->T = T, a->B = B, a->I = plast_model_input(m), a->O = plast_model_output(m), a->A = as.n;
    const size_t R = sizeof(plast_real);
    a->obs = malloc(R * (size_t)(T * B * a->I));
    a->y_step = malloc(R * (size_t)(B * a->O));
    a->y = malloc(R * (size_t)(T * B * a->O));
    a->dy = malloc(R * (size_t)(T * B * a->O));
    a->rewards = malloc(R * (size_t)(T * B));
    a->energy = malloc(R * (size_t)B);
    a->next = malloc(R * (size_t)(B * a->I));
    a->actions = malloc(sizeof(int32_t) * (size_t)(T * B));
    a->u = malloc(sizeof(double) * (size_t)B);
    a->rngs = malloc(sizeof(plast_rng) * (size_t)B);
    a->step_energy = calloc((size_t)T, sizeof(double));
    if (!a->step_energy || !a->obs || !a->y_step || !a->y || !a->dy || !a->rewards || !a->energy || !a->next || !a->actions || !a->u ||
        !a->rngs) {
        plast_err_set(err, PLAST_ERR_NOMEM, "a2c: out of memory for %lld copies x %lld steps", (long long)B,
                      (long long)T);
        plast_a2c_free(a);
        return NULL;
    }
    a->state = plast_state_init(m, B, err);
    a->scratch = a->state ? plast_tape_init(err) : NULL;
    a->engine = a->scratch ? plast_engine_init(m, B, T, kind, want_energy, err) : NULL;
    if (!a->engine) {
        plast_a2c_free(a);
        return NULL;
    }
    return a;
}

void plast_a2c_free(plast_a2c *a) {
    if (!a) return;
    plast_engine_free(a->engine);
    plast_tape_free(a->scratch);
    plast_state_free(a->state);
    free(a->obs), free(a->y_step), free(a->y), free(a->dy), free(a->rewards), free(a->energy), free(a->next);
    free(a->actions), free(a->u), free(a->rngs), free(a->step_energy), free(a->reduce);
    free(a);
}

plast_engine *plast_a2c_engine(plast_a2c *a) { return a->engine; }

plast_status plast_a2c_set_comm(plast_a2c *a, const plast_comm *comm, plast_err *err) {
    if (!a || !comm || comm->size < 1 || !comm->allreduce_sum)
        return plast_err_set(err, PLAST_ERR_INVALID_ARG, "a2c: set_comm needs a learner and a communicator");
    if (comm->size > 1 && strcmp(a->cfg.baseline, "per_element") != 0)
        return plast_err_set(err, PLAST_ERR_CONFIG, "key 'rl.baseline' = \"%s\": data-parallel A2C needs per_element "
                             "(the reference's baseline is copy 0 of the whole batch, on one process only)",
                             a->cfg.baseline);
    a->comm = *comm;
    return PLAST_OK;
}

/* data-parallel: this process's shares summed over the processes: the gradient (when updating, already scaled by
 * B / B_global) and the statistics */
static plast_status a2c_reduce(plast_a2c *a, plast_params *p, int with_grads, plast_a2c_stats *st, plast_err *err) {
    if (!a->reduce && !(a->reduce = malloc(sizeof(double) * (size_t)(plast_params_numel(p) + 4))))
        return plast_err_set(err, PLAST_ERR_NOMEM, "a2c: out of memory");
    double sums[4] = {st->loss, st->reward, st->value_loss, st->energy};
    /* every process holds the same number of copies: its share is 1 / size */
    plast_status s = plast_params_allreduce_grads(p, &a->comm, with_grads, 1.0 / (double)a->comm.size, sums, 4,
                                                  a->reduce, err);
    st->loss = sums[0], st->reward = sums[1], st->value_loss = sums[2], st->energy = sums[3];
    return s;
}
const double *plast_a2c_step_energy(const plast_a2c *a) { return a->step_energy; }

/* one episode in every copy: observations, actions and rewards recorded, the mean energy per step returned. Where
 * the engine can step, the rollout is the engine's training trial itself (a->y filled, ready for the backward);
 * otherwise the model steps without gradients and the engine runs the recorded observations afterwards. */
static plast_status rollout(plast_a2c *a, plast_params *p, uint64_t seed, int64_t iteration, double *energy,
                            plast_err *err) {
    const int64_t T = a->T, B = a->B, I = a->I, O = a->O;
    const int stepping = plast_engine_can_step(a->engine);
    if (!stepping) plast_state_reset(a->state);
    const int64_t first = plast_env_first(a->env); /* the global index of copy 0 (data-parallel shares) */
    for (int64_t b = 0; b < B; b++)
        a->rngs[b] = plast_rng_derive(seed, PLAST_RL_ACTION_STREAM + (uint64_t)(first + b), (uint64_t)iteration);
    plast_env_seek(a->env, iteration); /* iteration i plays episode i of every copy: resumable exactly */
    plast_status s = plast_env_reset(a->env, a->obs, err);
    double e_sum = 0;
    for (int64_t t = 0; t < T && s == PLAST_OK; t++) {
        const plast_real *x = a->obs + t * B * I;
        plast_real *y = stepping ? a->y + t * B * O : a->y_step, *e = a->want_energy ? a->energy : NULL;
        s = stepping ? plast_engine_step(a->engine, p, t, x, y, NULL, e, err)
                     : plast_model_step(a->m, p, a->state, x, y, NULL, e, a->scratch, err);
        if (s != PLAST_OK) break;
        double e_t = 0;
        for (int64_t b = 0; b < B; b++) {
            a->u[b] = plast_rng_uniform(&a->rngs[b]);
            if (e) e_t += e[b];
        }
        e_sum += e_t;
        a->step_energy[t] = e_t / (double)B;
        int32_t *act = a->actions + t * B;
        plast_policy_sample(y, B, a->A, O, a->u, act);
        plast_real *next = t + 1 < T ? a->obs + (t + 1) * B * I : a->next;
        s = plast_env_step(a->env, (plast_env_actions){act, NULL}, next, a->rewards + t * B, NULL, NULL, err);
    }
    *energy = e_sum / (double)(T * B);
    if (s == PLAST_OK && !stepping) s = plast_engine_forward(a->engine, p, a->obs, a->y, NULL, NULL, 1, err);
    return s;
}

plast_status plast_a2c_iterate(plast_a2c *a, plast_params *p, plast_optim *o, double lr, double clip, uint64_t seed,
                               int64_t iteration, int update, plast_a2c_stats *stats, plast_err *err) {
    if (!a || !p || !stats || (update && !o))
        return plast_err_set(err, PLAST_ERR_INVALID_ARG, "a2c iterate: needs the learner, parameters and stats");
    memset(stats, 0, sizeof *stats);
    plast_status s = rollout(a, p, seed, iteration, &stats->energy, err);
    if (s == PLAST_OK)
        s = plast_a2c_loss(&a->cfg, a->T, a->B, a->A, a->O, a->y, a->actions, a->rewards, a->dy, stats, err);
    const int dp = a->comm.size > 1;
    if (s != PLAST_OK || !update) return s == PLAST_OK && dp ? a2c_reduce(a, p, 0, stats, err) : s;
    plast_params_zero_grad(p);
    s = plast_engine_backward(a->engine, p, a->dy, err);
    if (s == PLAST_OK && dp) s = a2c_reduce(a, p, 1, stats, err);
    if (s != PLAST_OK) return s;
    stats->grad_norm = plast_params_clip_grad_norm(p, clip > 0 ? clip : INFINITY);
    if (!isfinite(stats->grad_norm))
        return plast_err_set(err, PLAST_ERR_NUMERIC, "a2c: gradient norm %g at iteration %lld", stats->grad_norm,
                             (long long)iteration);
    if (iteration > a->cfg.burn_in) {
        s = plast_optim_step(o, p, lr, err);
        plast_model_params_constrain(a->m, p);
        stats->stepped = 1;
    }
    return s;
}
