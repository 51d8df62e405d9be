/* src/envs/env_cfg_fields.h: the env.* configuration keys, an X-macro list (see models/model_cfg_fields.h).
 * Include it with EF(key, type, member, def, lo, hi, choices, help) defined. */
#include "envs/env_list.h"
EF("name", CHOICE, name, "maze", 0, -1, PLAST_ENV_NAMES, "the environment (docs/envs/)")
EF("size", INT, size, "13", 5, 1001, NULL, "maze: side of the square grid, odd")
EF("episode_length", INT, episode_length, "0", 0, 1 << 24, NULL,
   "steps after which an episode is truncated; 0: the environment's own (maze 200, pendulum 1000)")
EF("reward", REAL, reward, "10", -1e6, 1e6, NULL, "maze: reward for reaching the reward cell")
EF("wall_penalty", REAL, wall_penalty, "0", -1e6, 1e6, NULL, "maze: the reward is -wall_penalty for moving into a wall")
EF("reward_cells", CHOICE, reward_cells, "with_centre", 0, -1, "with_centre|without_centre",
   "maze: the reward cell is drawn from every free cell (Rodriguez et al.'s code) or from all but the centre (Miconi's)")
EF("terminal_reward", REAL, terminal_reward, "1", -1e6, 1e6, NULL,
   "pendulum: reward of the step that ends the episode by falling (InvertedPendulum-v4: 1, v5: 0)")
EF("reset_noise", REAL, reset_noise, "0.01", 0, 1, NULL,
   "pendulum: the first state is qpos0 + U(-r, r) and U(-r, r) velocities per coordinate")
EF("autoreset", BOOL, autoreset, "true", 0, -1, NULL,
   "after an episode ends, the next step starts a new one (Gymnasium's next-step autoreset)")
