/* src/envs/env_list.h: the environments (env.name), once. X(name, summary); each name has its plast_env_def
 * plast_env_<name> (its own file) and a page docs/envs/<name>.md. */
#ifndef PLAST_ENVS_ENV_LIST_H
#define PLAST_ENVS_ENV_LIST_H

#define PLAST_ENV_LIST(X)                                                                                            \
    X(maze, "Miconi et al. 2019, Rodriguez et al. 2022: find the hidden reward cell of a 13x13 grid maze, again and again") \
    X(pendulum, "MuJoCo's inverted pendulum with InvertedPendulum-v4 semantics (Gymnasium): balance a pole on a cart") \
    X(ponglike, "a native Pong-like game with ALE Pong v5's interface (not the Arcade Learning Environment)")

#define PLAST_ENV_NAME_BAR(name, summary) "|" #name
#define PLAST_ENV_NAMES (&PLAST_ENV_LIST(PLAST_ENV_NAME_BAR)[1])

#endif
