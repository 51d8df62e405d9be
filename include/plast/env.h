/* plast/env.h: environments for reinforcement learning, a batch of them stepped in lock-step.
 *
 * An environment object holds num_envs independent copies of one environment. Every random draw of copy i comes
 * from its own counter-based generator, keyed by (seed, i, episode): results do not depend on how the batch is
 * split (threads, MPI ranks). Observations are rows of num_envs x obs_size reals; actions are an index per copy
 * (a discrete space) or num_envs x n reals (a box). After an episode ends (terminated or truncated), the next
 * step resets that copy and returns its first observation with reward 0 and both flags false ("next-step
 * autoreset", as Gymnasium's vector environments), unless env.autoreset = false. The whole state (positions,
 * counters, generators) saves into a buffer and loads back, for checkpoints that resume exactly.
 * docs/envs/ has one page per environment; src/envs/env_list.h lists them.
 */
#ifndef PLAST_ENV_H
#define PLAST_ENV_H

#include "plast/config.h"
#include "plast/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PLAST_ENV_NAME_MAX 32

/* Every setting of every environment; the schema documents each key "env.*". */
typedef struct plast_env_cfg {
    char name[PLAST_ENV_NAME_MAX]; /* maze | pendulum | ponglike */
    int64_t size;                  /* maze: side of the square grid (13) */
    int64_t episode_length;        /* steps before truncation; 0: the environment's own (maze 200, pendulum 1000) */
    double reward;                 /* maze: reward of reaching the reward cell (10) */
    double wall_penalty;           /* maze: reward -wall_penalty for moving into a wall (0) */
    char reward_cells[16];         /* maze: with_centre (Rodriguez et al., 97 cells) | without_centre (Miconi) */
    double terminal_reward;        /* pendulum: reward of the falling step (v4: 1, v5: 0) */
    double reset_noise;            /* pendulum: U(-r, r) on the first state (0.01) */
    int64_t frameskip;             /* ponglike: emulator frames per step, rewards summed (4) */
    double sticky;                 /* ponglike: per-frame probability of repeating the previous action (0.25) */
    int64_t max_frames;            /* ponglike: frames after which an episode is truncated (108,000) */
    int64_t noop_max;              /* ponglike: 1..noop_max NOOP frames at reset; 0: none */
    int64_t difficulty;            /* ponglike: 0..3, the opponent's speed and reaction (0) */
    char obs[16];                  /* ponglike: grey84 | rllib | rgb */
    int64_t frame_stack;           /* ponglike: the last k frames as k channels, channels last (1; Mnih: 4) */
    int frame_max;                 /* ponglike: each frame the maximum of a step's last two (Mnih: true) */
    int autoreset;                 /* next-step autoreset after an episode ends */
} plast_env_cfg;

PLAST_API plast_cfg_schema plast_env_cfg_schema(void);
/* The defaults of every key. */
PLAST_API plast_status plast_env_cfg_default(plast_env_cfg *cfg, plast_err *err);
/* A key whose help begins with an environment's name ("ponglike: ...") applies to it only: set away from its default
 * for another environment it is an error (plast_env_init), and when an override changes env.name (the schema's
 * on_change) the keys of the other environments return to their defaults. This is that reset, for cfg->name. */
PLAST_API void plast_env_cfg_keep_name(plast_env_cfg *cfg);

typedef enum plast_space_kind { PLAST_SPACE_DISCRETE, PLAST_SPACE_BOX, PLAST_SPACE_KIND_COUNT } plast_space_kind;
/* A discrete space of n actions, or a box of n reals each in [low, high]. */
typedef struct plast_space {
    plast_space_kind kind;
    int64_t n;
    double low, high;
} plast_space;

/* One step's actions: index (num_envs) for a discrete space, value (num_envs, n) for a box; the other NULL. */
typedef struct plast_env_actions {
    const int32_t *index;
    const plast_real *value;
} plast_env_actions;

typedef struct plast_env plast_env;

/* num_envs copies of the environment cfg names, drawing from seed. Errors name the key at fault. */
PLAST_API plast_env *plast_env_init(const plast_env_cfg *cfg, int64_t num_envs, uint64_t seed, plast_err *err);
/* Copies first .. first + num_envs - 1 of a larger batch (one process's share in data-parallel training): copy i
 * here draws as copy first + i of the whole batch. plast_env_init is first = 0. */
PLAST_API plast_env *plast_env_init_range(const plast_env_cfg *cfg, int64_t first, int64_t num_envs, uint64_t seed,
                                          plast_err *err);
PLAST_API int64_t plast_env_first(const plast_env *e);
PLAST_API void plast_env_free(plast_env *e);

PLAST_API int64_t plast_env_count(const plast_env *e);
PLAST_API plast_space plast_env_observation_space(const plast_env *e); /* a box of obs_size reals */
PLAST_API plast_space plast_env_action_space(const plast_env *e);
/* The episode length after which copies are truncated (0: none). */
PLAST_API int64_t plast_env_max_steps(const plast_env *e);
/* Observations that are images (ponglike's grey84 and rllib): 1 with their channels (the frames stacked, channels
 * last) and side; 0 for other observations. */
PLAST_API int plast_env_image(const plast_env *e, int64_t *channels, int64_t *side);
/* "maze 13x13, 200 steps, reward 10 ..." */
PLAST_API const char *plast_env_describe(const plast_env *e);

/* The next reset of every copy starts episode number `episode` (its draws keyed by it): a learner that starts
 * new episodes in every copy each iteration resumes exactly by seeking to its iteration. */
PLAST_API void plast_env_seek(plast_env *e, int64_t episode);
/* Starts a new episode in every copy; obs (num_envs, obs_size). */
PLAST_API plast_status plast_env_reset(plast_env *e, plast_real *obs, plast_err *err);
/* Starts a new episode in every copy whose episode has ended, writing its first observation into its row of obs
 * (other rows untouched); was_reset (num_envs, may be NULL) says which. For learners that reset at once instead of
 * by next-step autoreset (PPO over fragments that cross episodes). */
PLAST_API plast_status plast_env_reset_ended(plast_env *e, plast_real *obs, uint8_t *was_reset, plast_err *err);
/* One step of every copy. obs (num_envs, obs_size), reward (num_envs), terminated and truncated (num_envs) are
 * written; terminated/truncated may be NULL. */
PLAST_API plast_status plast_env_step(plast_env *e, plast_env_actions a, plast_real *obs, plast_real *reward,
                                      uint8_t *terminated, uint8_t *truncated, plast_err *err);

/* The whole state as bytes, for checkpoints: plast_env_state_bytes() of them. Loading checks that the state was
 * saved by the same environment with the same settings and number of copies. */
PLAST_API size_t plast_env_state_bytes(const plast_env *e);
PLAST_API plast_status plast_env_state_save(const plast_env *e, void *buf, size_t cap, plast_err *err);
PLAST_API plast_status plast_env_state_load(plast_env *e, const void *buf, size_t n, plast_err *err);
/* The same for a global batch of `total` copies of which this environment holds [plast_env_first, + count)
 * (plast_env_init_range; data-parallel runs): the state of all `total`; save writes the header and this
 * environment's copies in their place, leaving the others' bytes as they are; load reads this environment's. With
 * first 0 and total = count these are the functions above. bytes_global is 0 when the copies do not fit in total. */
PLAST_API size_t plast_env_state_bytes_global(const plast_env *e, int64_t total);
PLAST_API plast_status plast_env_state_save_global(const plast_env *e, int64_t total, void *buf, size_t cap,
                                                   plast_err *err);
PLAST_API plast_status plast_env_state_load_global(plast_env *e, int64_t total, const void *buf, size_t n,
                                                   plast_err *err);

#ifdef __cplusplus
}
#endif
#endif
