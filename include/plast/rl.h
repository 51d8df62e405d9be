/* plast/rl.h: reinforcement learning: agents (a model whose outputs are a policy's logits and a value), rollouts in
 * a batch of environments, advantage actor-critic (A2C) as Miconi et al. 2019 and Rodriguez et al. 2022 train
 * their maze agents, and PPO as Rodriguez et al. 2022 train their pendulum agents (docs/RL.md).
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

#include "plast/comm.h"
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
/* Data-parallel A2C: this learner's environment holds copies [plast_env_first, + count) of a global batch of
 * count * comm->size copies (plast_env_init_range); its actions draw as those copies; iterate sums the gradient
 * shares and the statistics over the processes before clipping and stepping. Needs the per_element baseline (the
 * reference's copy-0 baseline is one copy of the global batch). */
PLAST_API plast_status plast_a2c_set_comm(plast_a2c *a, const plast_comm *comm, plast_err *err);
/* The last rollout's energy per step (T), averaged over the copies (zeros without want_energy). */
PLAST_API const double *plast_a2c_step_energy(const plast_a2c *a);
/* One iteration number `iteration` (its actions drawn from (seed, copy, iteration), its episodes the environment's
 * episode `iteration` of every copy): a rollout of a new episode in every copy, the loss, gradients (clipped to
 * clip when clip > 0) and, after the burn-in, an optimizer step with
 * learning rate lr. With update = 0 nothing is learned (evaluation). */
PLAST_API plast_status plast_a2c_iterate(plast_a2c *a, plast_params *p, plast_optim *o, double lr, double clip,
                                         uint64_t seed, int64_t iteration, int update, plast_a2c_stats *stats,
                                         plast_err *err);

/* ---- PPO, and RLlib's A2C over fragments ------------------------------------------------------------------------
 * Proximal policy optimisation (Schulman et al. 2017), with the options of RLlib's PPO as the STPN paper ran it and
 * of cleanrl's (docs/RL.md); with objective "a2c" the same learner is RLlib's A2C as the STPN paper ran it on Pong.
 * The agent is any model whose outputs are its policy then its value. For a box of n actions: outputs 0..n-1 the
 * means mu, n..2n-1 the pre-activations s of the standard deviations, std = softplus(s) (state-dependent, as the
 * STPN runs), output 2n the value; or with std "free" outputs 0..n-1 the means and output n the value, std =
 * exp(log_std) from the model's parameter "policy.log_std" (n; model.policy_log_std), the same in every state; the sampled action a ~ N(mu, std) is what the loss sees, the environment gets
 * clip(low + (a + 1)(high - low) / 2, low, high) (RLlib's unsquashing). For n discrete actions: n logits of a
 * categorical policy, then the value.
 *
 * Each iteration samples `steps` steps in every copy, carrying episodes and the model's state across iterations;
 * then GAE advantages, and `epochs` passes over minibatches of sequences of at most seq_len steps (cut at episode
 * starts), each replayed from the state recorded when it was sampled (truncated BPTT, RLlib's max_seq_len); then
 * the KL coefficient adapts. Per valid step of a minibatch, with rho = pi(a) / pi_old(a) and A standardised:
 *   loss = mean[ -min(A rho, A clip(rho, 1 - clip, 1 + clip)) + kl_coef KL(pi_old || pi) + value_coef VF
 *                - entropy_coef H(pi) ]
 *   VF: none (V - R)^2 | rllib2022 max((V - R)^2, (V_old + clip(V - V_old, +-vf_clip_param) - R)^2)
 *       | clamp min((V - R)^2, vf_clip_param) | clean 0.5 max(...) as rllib2022
 * and with objective "a2c" (RLlib's actor_critic_loss: sums over the minibatch, not means, no ratio):
 *   loss = sum[ -log pi(a) A + value_coef 0.5 (V - R)^2 - entropy_coef H(pi) ] */
typedef struct plast_ppo_cfg {
    char objective[8];            /* clip (PPO) | a2c (RLlib's A2C loss) */
    double gamma, lambda;         /* 0.99, GAE 0.95 */
    double clip;                  /* 0.2 */
    char vf_clip[16];             /* none | rllib2022 | clamp | clean */
    double vf_clip_param;         /* 10 (RLlib's default) */
    double value_coef;            /* 1 */
    double entropy_coef;          /* 0.01 */
    double kl_coef, kl_target;    /* 0.2, 0.01; kl_coef 0: no KL term */
    int64_t steps;                /* per copy per iteration: 2048 */
    int64_t minibatch;            /* steps per minibatch: 64 (whole sequences: max(1, minibatch / seq_len) of them) */
    int64_t epochs;               /* 10 */
    int64_t seq_len;              /* 20; 0: whole fragments (cut only at episode starts) */
    char adv_norm[16];            /* batch (RLlib) | minibatch (cleanrl) | none */
    int bootstrap_on_truncation;  /* 0: the time limit is terminal (RLlib 2022); 1: bootstrap from V(final obs) */
    double lr_end;                /* the learning rate falls linearly to lr_end at lr_end_steps environment steps */
    int64_t lr_end_steps;         /* 0: constant */
    int eval_explore;             /* runs evaluate with sampled actions (RLlib's default, 1) or the means (0) */
    char std[8];                  /* box actions: state (std = softplus of an output, the STPN runs) | free
                                   * (std = exp(log_std), a parameter of its own: cleanrl's actor_logstd) */
} plast_ppo_cfg;

/* The STPN pendulum script's settings (RLlib defaults where it sets none): gamma 0.99, lambda 0.95, clip 0.2,
 * rllib2022 value clipping at 10, value_coef 1, entropy_coef 0.01, kl 0.2 / 0.01, 2048 steps, minibatch 64,
 * 10 epochs, seq_len 20, batch advantage normalisation, no bootstrap at the time limit, constant learning rate. */
PLAST_API plast_ppo_cfg plast_ppo_cfg_default(void);

/* One minibatch for the loss: n rows, each a step with its sampled action (n, A; discrete: (n) indices as reals),
 * the policy that sampled it (box: mean_old, std_old (n, A); discrete: the logits in mean_old (n, A), std_old
 * unused; logp_old (n)), its value then (value_old), the advantage as used and the value target; valid (n) marks
 * real steps (0: padding), NULL: all. A: action dimensions, or the number of discrete actions. log_std (A): box
 * actions with std exp(log_std) for every row (ppo.std free; the rows then hold means and value only), with
 * d loss / d log_std added into g_log_std (A); NULL: std from the rows (softplus). */
typedef struct plast_ppo_batch {
    int64_t n, A;
    int discrete;
    const plast_real *action;
    const double *mean_old, *std_old, *logp_old, *value_old, *advantage, *target;
    const uint8_t *valid;
    const plast_real *log_std;
    double *g_log_std;
    int64_t count_total; /* valid rows of the whole minibatch over all processes (data-parallel); 0: this batch's */
} plast_ppo_batch;

typedef struct plast_ppo_stats {
    double loss, policy_loss, value_loss, kl, entropy, clip_fraction; /* means over the minibatches' valid steps */
    double reward;       /* mean return of the episodes that ended this iteration (NaN if none) */
    int64_t episodes;    /* how many ended */
    double grad_norm;    /* mean over minibatches, before clipping */
    double energy;       /* mean energy per step and copy */
    double kl_coef;      /* after this iteration's adaptation */
    double lr;           /* the learning rate used */
} plast_ppo_stats;

/* The loss above over batch b and d loss / d y: y and dy (n, O) rows (box: mu, s, value at 0, A, 2A; box with
 * b->log_std: mu, value at 0, A; discrete: logits, value at 0, A). Stats get loss, policy_loss, value_loss, kl, entropy, clip_fraction. */
PLAST_API plast_status plast_ppo_loss(const plast_ppo_cfg *cfg, double kl_coef, const plast_ppo_batch *b, int64_t O,
                                      const plast_real *y, plast_real *dy, plast_ppo_stats *stats, plast_err *err);

typedef struct plast_ppo plast_ppo;

/* A learner for model m (output 2n + 1 for a box of n actions, n + 1 for n discrete ones) on env (its copies sample
 * in lock-step) with a
 * training engine of kind (a model with state needs the tape path to start from recorded states: AUTO picks it)
 * and buffers; the parameters and optimizer stay the caller's. */
PLAST_API plast_ppo *plast_ppo_init(const plast_ppo_cfg *cfg, const plast_model *m, plast_env *env,
                                    plast_engine_kind kind, plast_err *err);
PLAST_API void plast_ppo_free(plast_ppo *a);
PLAST_API plast_engine *plast_ppo_engine(plast_ppo *a);
/* Data-parallel PPO: this learner's environment holds copies [plast_env_first, + count) of a global batch of
 * count * comm->size copies; its actions draw as those copies. Every iteration then works on the global rollout as
 * one process would: the sequences of every process in one table, one permutation, each minibatch the union of the
 * processes' slices of it, its loss normalised by its global count of steps; advantage standardisation, gradients,
 * statistics and the KL mean summed over the processes. State save is then collective (every process calls it with
 * a buffer of the global size) and holds the global state; load takes this process's copies from it. */
PLAST_API plast_status plast_ppo_set_comm(plast_ppo *a, const plast_comm *comm, plast_err *err);
/* One iteration number `iteration` (its draws from (seed, copy, iteration)): sampling, advantages, the epochs of
 * minibatch updates (gradients clipped to clip when clip > 0) at learning rate lr (before the schedule), and the
 * KL adaptation. */
PLAST_API plast_status plast_ppo_iterate(plast_ppo *a, plast_params *p, plast_optim *o, double lr, double clip,
                                         uint64_t seed, int64_t iteration, plast_ppo_stats *stats, plast_err *err);
/* Evaluation on env (its own, not the learner's): `episodes` whole episodes in every copy from episode number
 * first_episode on, actions sampled (explore) or the means; the mean return and energy per step. Data-parallel
 * (plast_ppo_set_comm): collective; env holds this process's copies of the evaluation batch (as many on every
 * process, plast_env_init_range), and the figures are the whole batch's. */
PLAST_API plast_status plast_ppo_evaluate(plast_ppo *a, plast_params *p, plast_env *env, uint64_t seed,
                                          int64_t first_episode, int64_t episodes, int explore, double *mean_return,
                                          double *energy, plast_err *err);
/* The learner's state between iterations (environment, episodes in progress, the model's state, the KL
 * coefficient, steps sampled) as bytes, for checkpoints that resume exactly: one record per copy of the global
 * batch, so a state saved by P processes loads into any other number (plast_ppo_set_comm). */
PLAST_API size_t plast_ppo_state_bytes(const plast_ppo *a);
PLAST_API plast_status plast_ppo_state_save(const plast_ppo *a, void *buf, size_t cap, plast_err *err);
PLAST_API plast_status plast_ppo_state_load(plast_ppo *a, const void *buf, size_t n, plast_err *err);

#ifdef __cplusplus
}
#endif
#endif
