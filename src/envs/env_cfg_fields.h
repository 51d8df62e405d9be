/* src/envs/env_cfg_fields.h: the env.* configuration keys, an X-macro list (see models/model_cfg_fields.h).
 * Include it with EF(key, type, member, def, lo, hi, choices, help) defined. A help text that starts with an
 * environment's name and a colon ("maze: ...") makes the key that environment's: set for another, it is an error
 * (plast_env_cfg_check_scope in env_config.c). */
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
EF("frameskip", INT, frameskip, "4", 1, 64, NULL, "ponglike: emulator frames per step, rewards summed (ALE v5: 4; NoFrameskip: 1)")
EF("sticky", REAL, sticky, "0.25", 0, 1, NULL,
   "ponglike: at every frame the previous action is kept with this probability (ALE v5: 0.25; v4: 0)")
EF("max_frames", INT, max_frames, "108000", 1, 1e12, NULL,
   "ponglike: episodes are truncated after this many frames (ALE: 108,000; gym 0.19's NoFrameskip-v4: 400,000)")
EF("noop_max", INT, noop_max, "0", 0, 1000, NULL, "ponglike: 1..noop_max random NOOP frames at reset (0: none; Mnih: 30)")
EF("difficulty", INT, difficulty, "0", 0, 3, NULL, "ponglike: the opponent's speed and reaction, 0 (easiest) to 3")
EF("obs", CHOICE, obs, "grey84", 0, -1, "grey84|rllib|rgb",
   "ponglike: 84x84 grey drawn directly, the 210x160 frame through RLlib's preprocessor (crop, bilinear 84x84, "
   "mean grey, (v - 128) / 128) as the STPN runs, or the raw 210x160x3 frame")
EF("frame_stack", INT, frame_stack, "1", 1, 16, NULL,
   "ponglike: the observation holds the last k frames as k channels, channels last, the first frame repeated at reset "
   "(1: one frame, as the STPN runs; Mnih et al.: 4)")
EF("frame_max", BOOL, frame_max, "false", 0, -1, NULL,
   "ponglike: each frame is the pixel-wise maximum of a step's last two emulator frames (Mnih et al.'s flicker "
   "removal; PongLike has no flicker, so it only doubles the moving objects)")
EF("autoreset", BOOL, autoreset, "true", 0, -1, NULL,
   "after an episode ends, the next step starts a new one (Gymnasium's next-step autoreset)")
