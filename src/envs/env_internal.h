/* src/envs/env_internal.h: what an environment implements (one plast_env_def per file, listed in env_list.h) and
 * the batch object that runs num_envs copies of it (env.c). Internal to the envs layer. */
#ifndef PLAST_ENVS_ENV_INTERNAL_H
#define PLAST_ENVS_ENV_INTERNAL_H

#include "core/err.h"
#include "envs/env_list.h"
#include "plast/env.h"

/* The RNG stream of copy i is PLAST_ENV_STREAM + i; its item is the episode number (plast_rng_derive). */
#define PLAST_ENV_STREAM ((uint64_t)1 << 32)

/* The generic part of every copy's state, followed by the environment's own (copy_bytes). */
typedef struct plast_env_copy {
    plast_rng rng;   /* this episode's draws */
    int64_t episode; /* episodes started, this one included */
    int64_t t;       /* steps taken in this episode */
    int32_t done;    /* the episode has ended: the next step starts a new one (autoreset) */
    int32_t pad;
} plast_env_copy;

typedef struct plast_env_def {
    const char *name, *summary;
    /* Checks e->cfg (errors name the key), sets e->obs_size, e->action, e->max_steps, e->copy_bytes and, if the
     * environment shares data between copies (a layout), allocates e->shared. */
    plast_status (*open)(plast_env *e, plast_err *err);
    /* A new episode of one copy: its state from rng, its first observation into obs (obs_size). */
    void (*reset)(const plast_env *e, plast_env_copy *c, void *state, plast_real *obs);
    /* One step of one copy with action a (an index, or n reals): the next observation, reward and whether the
     * episode ended by itself (terminated); c->t counts the step already, truncation is decided by env.c. */
    void (*step)(const plast_env *e, plast_env_copy *c, void *state, int32_t index, const plast_real *value,
                 plast_real *obs, plast_real *reward, int *terminated);
    /* One line describing the settings, into e->desc. */
    void (*describe)(plast_env *e);
    /* Releases what open acquired besides e->shared itself (freed by env.c); NULL if nothing. */
    void (*close)(plast_env *e);
} plast_env_def;

struct plast_env {
    const plast_env_def *def;
    plast_env_cfg cfg;
    int64_t n;          /* copies */
    int64_t first;      /* global index of copy 0 (data-parallel shares) */
    int64_t obs_size;
    int64_t image_channels, image_side; /* observations that are images (0: not an image) */
    plast_space action;
    int64_t max_steps;  /* truncation (0: none) */
    size_t copy_bytes;  /* the environment's own state per copy */
    size_t stride;      /* bytes per copy: plast_env_copy then the environment's state, 16-aligned */
    uint64_t seed;
    void *shared;       /* data shared by the copies (freed with the object) */
    unsigned char *copies; /* (n, stride) */
    char desc[256];
};

#define PLAST_ENV_DEF_DECL(name, summary) extern const plast_env_def plast_env_##name;
PLAST_ENV_LIST(PLAST_ENV_DEF_DECL)
#undef PLAST_ENV_DEF_DECL

/* a config error naming key env.<key> */
plast_status plast_env_cfg_fail(plast_err *err, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* an error for a key of one environment ("ponglike: ..." in its help) set away from its default for another */
plast_status plast_env_cfg_check_scope(const plast_env_cfg *cfg, plast_err *err);

#endif
