/* src/envs/env.c: num_envs copies of one environment stepped in lock-step (plast/env.h): the table of
 * environments, per-copy generators keyed by (seed, copy, episode), autoreset, truncation, and the state saved
 * for checkpoints. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envs/env_internal.h"

#define ENV_ROW(name, summary) &plast_env_##name,
static const plast_env_def *const ENVS[] = {PLAST_ENV_LIST(ENV_ROW)};
#undef ENV_ROW

static plast_env_copy *copy_of(const plast_env *e, int64_t i) {
    return (plast_env_copy *)(void *)(e->copies + (size_t)i * e->stride);
}
static void *state_of(const plast_env *e, int64_t i) { return (unsigned char *)copy_of(e, i) + sizeof(plast_env_copy); }

plast_env *plast_env_init(const plast_env_cfg *cfg, int64_t num_envs, uint64_t seed, plast_err *err) {
    return plast_env_init_range(cfg, 0, num_envs, seed, err);
}

int64_t plast_env_first(const plast_env *e) { return e->first; }

plast_env *plast_env_init_range(const plast_env_cfg *cfg, int64_t first, int64_t num_envs, uint64_t seed,
                                plast_err *err) {
    if (!cfg || num_envs < 1 || num_envs > ((int64_t)1 << 24) || first < 0 || first > ((int64_t)1 << 24)) {
        plast_err_set(err, PLAST_ERR_INVALID_ARG, "env: needs a configuration and 1 to 2^24 copies (got %lld)",
                      (long long)num_envs);
        return NULL;
    }
    const plast_env_def *def = NULL;
    for (size_t k = 0; k < sizeof ENVS / sizeof ENVS[0]; k++)
        if (strcmp(ENVS[k]->name, cfg->name) == 0) def = ENVS[k];
    if (!def) {
        plast_env_cfg_fail(err, "name", "unknown environment \"%s\" (one of %s)", cfg->name, PLAST_ENV_NAMES);
        return NULL;
    }
    if (plast_env_cfg_check_scope(cfg, err) != PLAST_OK) return NULL;
    plast_env *e = calloc(1, sizeof *e);
    if (!e) {
        plast_err_set(err, PLAST_ERR_NOMEM, "env: out of memory");
        return NULL;
    }
    e->def = def, e->cfg = *cfg, e->n = num_envs, e->seed = seed, e->first = first;
    if (def->open(e, err) != PLAST_OK) {
        plast_env_free(e);
        return NULL;
    }
    e->stride = (sizeof(plast_env_copy) + e->copy_bytes + 15) / 16 * 16;
    e->copies = calloc((size_t)num_envs, e->stride);
    if (!e->copies) {
        plast_err_set(err, PLAST_ERR_NOMEM, "env: out of memory for %lld copies", (long long)num_envs);
        plast_env_free(e);
        return NULL;
    }
    def->describe(e);
    return e;
}

void plast_env_free(plast_env *e) {
    if (!e) return;
    if (e->def && e->def->close) e->def->close(e);
    free(e->shared);
    free(e->copies);
    free(e);
}

int64_t plast_env_count(const plast_env *e) { return e->n; }
int plast_env_image(const plast_env *e, int64_t *channels, int64_t *side) {
    if (!e || e->image_channels < 1) return 0;
    if (channels) *channels = e->image_channels;
    if (side) *side = e->image_side;
    return 1;
}
plast_space plast_env_observation_space(const plast_env *e) {
    return (plast_space){PLAST_SPACE_BOX, e->obs_size, -1e30, 1e30};
}
plast_space plast_env_action_space(const plast_env *e) { return e->action; }
int64_t plast_env_max_steps(const plast_env *e) { return e->max_steps; }
const char *plast_env_describe(const plast_env *e) { return e->desc; }

/* a new episode of copy i: the next episode's generator, then the environment's reset */
static void reset_copy(plast_env *e, int64_t i, plast_real *obs) {
    plast_env_copy *c = copy_of(e, i);
    c->rng = plast_rng_derive(e->seed, PLAST_ENV_STREAM + (uint64_t)(e->first + i), (uint64_t)c->episode);
    c->episode++;
    c->t = 0;
    c->done = 0;
    e->def->reset(e, c, state_of(e, i), obs);
}

void plast_env_seek(plast_env *e, int64_t episode) {
    for (int64_t i = 0; i < e->n; i++) copy_of(e, i)->episode = episode;
}

plast_status plast_env_reset(plast_env *e, plast_real *obs, plast_err *err) {
    if (!e || !obs) return plast_err_set(err, PLAST_ERR_INVALID_ARG, "env reset: needs an environment and obs");
    for (int64_t i = 0; i < e->n; i++) reset_copy(e, i, obs + i * e->obs_size);
    return PLAST_OK;
}

plast_status plast_env_reset_ended(plast_env *e, plast_real *obs, uint8_t *was_reset, plast_err *err) {
    if (!e || !obs) return plast_err_set(err, PLAST_ERR_INVALID_ARG, "env reset_ended: needs an environment and obs");
    for (int64_t i = 0; i < e->n; i++) {
        const int ended = copy_of(e, i)->done;
        if (ended) reset_copy(e, i, obs + i * e->obs_size);
        if (was_reset) was_reset[i] = (uint8_t)ended;
    }
    return PLAST_OK;
}

plast_status plast_env_step(plast_env *e, plast_env_actions a, plast_real *obs, plast_real *reward,
                            uint8_t *terminated, uint8_t *truncated, plast_err *err) {
    if (!e || !obs || !reward) return plast_err_set(err, PLAST_ERR_INVALID_ARG, "env step: needs obs and reward");
    const int discrete = e->action.kind == PLAST_SPACE_DISCRETE;
    if (discrete ? !a.index : !a.value)
        return plast_err_set(err, PLAST_ERR_INVALID_ARG, "env step: %s needs %s actions", e->def->name,
                             discrete ? "index" : "value");
    if (discrete)
        for (int64_t i = 0; i < e->n; i++)
            if (a.index[i] < 0 || a.index[i] >= e->action.n)
                return plast_err_set(err, PLAST_ERR_INVALID_ARG, "env step: action %d of copy %lld is not in 0..%lld",
                                     (int)a.index[i], (long long)i, (long long)(e->action.n - 1));
    if (!discrete)
        for (int64_t k = 0; k < e->n * e->action.n; k++)
            if (!isfinite((double)a.value[k]))
                return plast_err_set(err, PLAST_ERR_INVALID_ARG, "env step: action %lld of copy %lld is %g",
                                     (long long)(k % e->action.n), (long long)(k / e->action.n), (double)a.value[k]);
    for (int64_t i = 0; i < e->n; i++) {
        plast_env_copy *c = copy_of(e, i);
        plast_real *o = obs + i * e->obs_size;
        int term = 0, trunc = 0;
        if (c->done && e->cfg.autoreset) {
            reset_copy(e, i, o);
            reward[i] = 0;
        } else {
            c->t++;
            e->def->step(e, c, state_of(e, i), discrete ? a.index[i] : 0, discrete ? NULL : a.value + i * e->action.n,
                         o, &reward[i], &term);
            trunc = !term && e->max_steps > 0 && c->t >= e->max_steps;
            c->done = term || trunc;
        }
        if (terminated) terminated[i] = (uint8_t)term;
        if (truncated) truncated[i] = (uint8_t)trunc;
    }
    return PLAST_OK;
}

/* ---- state -------------------------------------------------------------------------------------------------- */

/* the saved state: this header, then the copies as they are in memory */
typedef struct env_state_header {
    char magic[8]; /* "plastENV" */
    char name[PLAST_ENV_NAME_MAX];
    char desc[256]; /* the settings must match */
    int64_t n;
    uint64_t stride, seed;
    int64_t first;
} env_state_header;

/* The state of `total` copies whose rows [first, first + n) are this environment's: plast_env_state_* with
 * total = n and first = 0, or the whole batch of a data-parallel run (the header then says copies 0 .. total - 1). */
static int global_ok(const plast_env *e, int64_t total) { return total >= e->first + e->n; }
size_t plast_env_state_bytes_global(const plast_env *e, int64_t total) {
    return e && global_ok(e, total) ? sizeof(env_state_header) + (size_t)total * e->stride : 0;
}
size_t plast_env_state_bytes(const plast_env *e) { return sizeof(env_state_header) + (size_t)e->n * e->stride; }

static env_state_header header_of(const plast_env *e, int64_t n, int64_t first) {
    env_state_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, "plastENV", 8);
    snprintf(h.name, sizeof h.name, "%s", e->def->name);
    snprintf(h.desc, sizeof h.desc, "%s", e->desc);
    h.n = n, h.stride = e->stride, h.seed = e->seed, h.first = first;
    return h;
}

/* header (n copies from first), then this environment's copies at row `row` */
static plast_status state_save(const plast_env *e, int64_t n, int64_t first, int64_t row, void *buf, size_t cap,
                               plast_err *err) {
    const size_t need = sizeof(env_state_header) + (size_t)n * e->stride;
    if (!buf || cap < need) return plast_err_set(err, PLAST_ERR_INVALID_ARG, "env state: needs a buffer of %zu bytes", need);
    env_state_header h = header_of(e, n, first);
    memcpy(buf, &h, sizeof h);
    memcpy((char *)buf + sizeof h + (size_t)row * e->stride, e->copies, (size_t)e->n * e->stride);
    return PLAST_OK;
}
static plast_status state_load(plast_env *e, int64_t n, int64_t first, int64_t row, const void *buf, size_t size,
                               plast_err *err) {
    env_state_header h, want = header_of(e, n, first);
    if (!buf || size != sizeof h + (size_t)n * e->stride)
        return plast_err_set(err, PLAST_ERR_MISMATCH, "env state: %zu bytes, expected %zu (%lld copies of %s)", size,
                             sizeof h + (size_t)n * e->stride, (long long)n, e->def->name);
    memcpy(&h, buf, sizeof h);
    if (memcmp(h.magic, want.magic, 8) != 0) return plast_err_set(err, PLAST_ERR_FORMAT, "env state: not an environment state");
    h.name[sizeof h.name - 1] = '\0', h.desc[sizeof h.desc - 1] = '\0';
    if (strcmp(h.name, want.name) != 0 || strcmp(h.desc, want.desc) != 0 || h.n != want.n || h.stride != want.stride ||
        h.seed != want.seed || h.first != want.first)
        return plast_err_set(err, PLAST_ERR_MISMATCH, "env state: saved for \"%s\" (%lld copies, seed %llu), not \"%s\"",
                             h.desc, (long long)h.n, (unsigned long long)h.seed, want.desc);
    memcpy(e->copies, (const char *)buf + sizeof h + (size_t)row * e->stride, (size_t)e->n * e->stride);
    return PLAST_OK;
}

plast_status plast_env_state_save(const plast_env *e, void *buf, size_t cap, plast_err *err) {
    if (!e) return plast_err_set(err, PLAST_ERR_INVALID_ARG, "env state: needs an environment and a buffer");
    return state_save(e, e->n, e->first, 0, buf, cap, err);
}
plast_status plast_env_state_load(plast_env *e, const void *buf, size_t n, plast_err *err) {
    if (!e) return plast_err_set(err, PLAST_ERR_INVALID_ARG, "env state: needs an environment and a buffer");
    return state_load(e, e->n, e->first, 0, buf, n, err);
}
plast_status plast_env_state_save_global(const plast_env *e, int64_t total, void *buf, size_t cap, plast_err *err) {
    if (!e || !global_ok(e, total))
        return plast_err_set(err, PLAST_ERR_INVALID_ARG, "env state: needs an environment within %lld copies", (long long)total);
    return state_save(e, total, 0, e->first, buf, cap, err);
}
plast_status plast_env_state_load_global(plast_env *e, int64_t total, const void *buf, size_t n, plast_err *err) {
    if (!e || !global_ok(e, total))
        return plast_err_set(err, PLAST_ERR_INVALID_ARG, "env state: needs an environment within %lld copies", (long long)total);
    return state_load(e, total, 0, e->first, buf, n, err);
}
