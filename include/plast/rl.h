/* plast/rl.h: reinforcement learning: agents (a model whose outputs are a policy's logits and a value), rollouts in
 * a batch of environments, and advantage actor-critic (A2C) as Miconi et al. 2019 and Rodriguez et al. 2022 train
 * their maze agents (docs/RL.md).
 *
 * An agent is any model with output size A + 1 for A discrete actions: outputs 0..A-1 are the logits of a
 * categorical policy, output A the value estimate (the reference's h2o and h2v heads, one linear readout here).
 * Actions are sampled with a generator per (seed, copy, iteration), so they do not depend on how the batch is
 * split. An A2C iteration runs one episode of length T in every copy: a rollout that is the engine's training
 * trial itself where the path can step (plast_engine_step: the fused and tape paths), otherwise the model stepped
 * without gradients and then one engine forward pass over the recorded observations; then the loss below, one
 * backward pass, a clipped gradient and an optimizer step. */
#ifndef PLAST_RL_H
#define PLAST_RL_H

#include "plast/engine.h"
#include "plast/env.h"
#include "plast/optim.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The A2C loss of one iteration, with returns R_t = r_t + gamma R_{t+1} (R_T = 0), advantages A_t = R_t - b_t and
 * pi the softmax of the logits:
 *   loss = (1 / T) sum_t (1 / B) sum_b [ entropy_coef * P(pi) - log pi(a_t) * A_t (held constant)
 *                                        + value_coef * A_t^2 ]
 * P(pi) = sum_a pi_a^2 (the reference's penalty, "sum_pi2") or sum_a pi_a log pi_a (minus the entropy, "entropy");
 * the baseline b_t is the value of copy 0 for every copy (the reference's vs[t][0], "element0") or each copy's own
 * value ("per_element"). */
typedef struct plast_a2c_cfg {
    double gamma;         /* 0.9 */
    double entropy_coef;  /* bent, 0.03 */
    double value_coef;    /* blossv, 0.1 */
    char penalty[16];     /* sum_pi2 | entropy */
    char baseline[16];    /* element0 | per_element */
    int64_t burn_in;      /* no optimizer step in iterations 0..burn_in (100: the reference's numiter > 100) */
} plast_a2c_cfg;

/* The reference's settings: gamma 0.9, entropy_coef 0.03, value_coef 0.1, sum_pi2, element0, burn_in 100. */
PLAST_API plast_a2c_cfg plast_a2c_cfg_default(void);

/* What one iteration measured. */
typedef struct plast_a2c_stats {
    double loss;         /* the loss above */
    double reward;       /* mean over copies of the episode's total reward */
    double value_loss;   /* (1 / T B) sum A^2 */
    double grad_norm;    /* before clipping */
    double energy;       /* mean energy per step and copy (0 when not measured) */
    int stepped;         /* the optimizer stepped (after the burn-in) */
} plast_a2c_stats;

/* The loss and d loss / d y. y and dy (T, B, O) with O >= A + 1 (logits 0..A-1, value at A; other outputs get a
 * zero gradient); actions and rewards (T, B). */
PLAST_API plast_status plast_a2c_loss(const plast_a2c_cfg *cfg, int64_t T, int64_t B, int64_t A, int64_t O,
                                      const plast_real *y, const int32_t *actions, const plast_real *rewards,
                                      plast_real *dy, plast_a2c_stats *stats, plast_err *err);

/* Action of each copy drawn from softmax(logits): logits row b at logits + b * stride (A of them); u[b] in [0, 1)
 * a uniform draw (inverse CDF). */
PLAST_API void plast_policy_sample(const plast_real *logits, int64_t B, int64_t A, int64_t stride, const double *u,
                                   int32_t *actions);

typedef struct plast_a2c plast_a2c;

/* An A2C learner for model m (output = actions + 1) on env, episodes of env's length, with its own engine
 * (kind, usually PLAST_ENGINE_AUTO) and buffers; the parameters and optimizer stay the caller's. want_energy
 * records the energy per step during rollouts. */
PLAST_API plast_a2c *plast_a2c_init(const plast_a2c_cfg *cfg, const plast_model *m, plast_env *env,
                                    plast_engine_kind kind, int want_energy, plast_err *err);
PLAST_API void plast_a2c_free(plast_a2c *a);
PLAST_API plast_engine *plast_a2c_engine(plast_a2c *a);
/* The last rollout's energy per step (T), averaged over the copies (zeros without want_energy). */
PLAST_API const double *plast_a2c_step_energy(const plast_a2c *a);
/* One iteration number `iteration` (its actions drawn from (seed, copy, iteration), its episodes the environment's
 * episode `iteration` of every copy): a rollout of a new episode in every copy, the loss, gradients (clipped to
 * clip when clip > 0) and, after the burn-in, an optimizer step with
 * learning rate lr. With update = 0 nothing is learned (evaluation). */
PLAST_API plast_status plast_a2c_iterate(plast_a2c *a, plast_params *p, plast_optim *o, double lr, double clip,
                                         uint64_t seed, int64_t iteration, int update, plast_a2c_stats *stats,
                                         plast_err *err);

#ifdef __cplusplus
}
#endif
#endif
