/* tests/test_envs.c: the environments against their specs (docs/envs/): the maze's layout, observation slots,
 * walls, reward and teleport, truncation and autoreset, determinism per (seed, copy, episode) whatever the batch,
 * saved and restored state, bad input, and the reward of a random agent (measured, printed for the docs); the
 * MuJoCo pendulum's model, falls, a balancing controller, flags, determinism and state; PongLike's calibration
 * (random and intercepting policies, sticky actions, frameskip), its two 84 x 84 forms, determinism and state. */
#include <math.h>

#include "plast.h"
#include "plast/env.h"
#include "test.h"

/* n copies of environment `name` with `count` env.* overrides (NULL entries skipped); a failure to open is a test
 * failure */
static plast_env *make_env_sets(const char *name, int64_t n, uint64_t seed, int count, const char *const *sets) {
    plast_env_cfg cfg;
    plast_err err;
    plast_env_cfg_default(&cfg, NULL);
    snprintf(cfg.name, sizeof cfg.name, "%s", name);
    for (int k = 0; k < count; k++)
        if (sets[k]) CHECK(plast_cfg_apply_set(plast_env_cfg_schema(), &cfg, sets[k], &err) == PLAST_OK, "%s", err.msg);
    plast_env *e = plast_env_init(&cfg, n, seed, &err);
    CHECK(e != NULL, "%s: %s", name, e ? "" : err.msg);
    return e;
}
/* the same with up to two overrides */
static plast_env *make_env(const char *name, int64_t n, uint64_t seed, const char *set1, const char *set2) {
    const char *sets[2] = {set1, set2};
    return make_env_sets(name, n, seed, 2, sets);
}
static plast_env *maze(int64_t n, uint64_t seed, const char *set) { return make_env("maze", n, seed, set, NULL); }

/* the 13 x 13 layout from the reference: walls where the border is or row and column are both even, but the
 * centre; at the start (the centre, (6, 6)) every neighbour has an odd coordinate: the 3 x 3 window is free */
static void check_layout_and_first_observation(void) {
    plast_env *e = maze(3, 7, NULL);
    if (!e) return;
    CHECK(plast_env_observation_space(e).n == 17 && plast_env_action_space(e).kind == PLAST_SPACE_DISCRETE &&
              plast_env_action_space(e).n == 4 && plast_env_max_steps(e) == 200,
          "maze spaces: 17 observations, 4 actions, 200 steps");
    CHECK(strstr(plast_env_describe(e), "97 free cells") != NULL, "13x13 maze has 97 free cells: %s",
          plast_env_describe(e));
    plast_real obs[3 * 17];
    CHECK(plast_env_reset(e, obs, NULL) == PLAST_OK, "reset");
    const plast_real want[17] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0};
    for (int k = 0; k < 17; k++) CHECK(obs[17 + k] == want[k], "first observation slot %d is %g, expected %g", k,
                                       (double)obs[17 + k], (double)want[k]);
    plast_env_free(e);
    plast_env *m = maze(1, 7, "env.reward_cells=without_centre");
    if (m) CHECK(strstr(plast_env_describe(m), "reward cell among 96") != NULL, "Miconi's option: %s",
                 plast_env_describe(m));
    plast_env_free(m);
}

/* walking: up from the centre (6,6) reaches (5,6); up again is (4,6), a pillar (both coordinates even), so the
 * agent stays there with reward -wall_penalty */
static void check_walls_and_slots(void) {
    plast_env *e = maze(1, 3, "env.wall_penalty=0.5");
    if (!e) return;
    plast_real obs[17], r;
    uint8_t term, trunc;
    plast_env_reset(e, obs, NULL);
    int32_t up = 0;
    plast_env_step(e, (plast_env_actions){&up, NULL}, obs, &r, &term, &trunc, NULL);
    /* at (5, 6): left (5,5) and right (5,7) free, up (4,6) a pillar; (4,5), (4,7) free: row 4 odd columns */
    const plast_real w1[9] = {0, 1, 0, 0, 0, 0, 0, 0, 0};
    int ok = 1;
    for (int k = 0; k < 9; k++) ok &= obs[k] == w1[k];
    CHECK(ok, "the 3x3 window after moving up from the centre");
    CHECK(obs[11] == (plast_real)(1.0 / 200) && obs[13] == 1 && obs[14] == 0, "slot 11 = t/length, 13.. one-hot");
    const int reached = r == 10; /* the reward cell might be (5, 6) */
    plast_env_step(e, (plast_env_actions){&up, NULL}, obs, &r, &term, &trunc, NULL);
    if (!reached) CHECK(r == (plast_real)-0.5 && obs[12] == (plast_real)-0.5 && obs[1] == 1,
                        "moving into a pillar: stay, reward -wall_penalty (%g), slot 12 the previous reward", (double)r);
    plast_env_free(e);
}

/* a random agent: the reward comes in 10s, each followed by a teleport away from the reward cell; episodes are
 * truncated at 200 and the next step starts a new one (reward 0, t back to 0) */
static double random_agent(int64_t B, int iterations, uint64_t seed, int check) {
    plast_env *e = maze(B, seed, NULL);
    if (!e) return 0;
    plast_real *obs = malloc(sizeof(plast_real) * (size_t)(B * 17)), *r = malloc(sizeof(plast_real) * (size_t)B);
    uint8_t *term = malloc((size_t)B), *trunc = malloc((size_t)B);
    int32_t *a = malloc(sizeof(int32_t) * (size_t)B);
    plast_rng rng;
    plast_rng_init(&rng, seed, 99);
    double total = 0;
    int bad = 0;
    plast_env_reset(e, obs, NULL);
    for (int it = 0; it < iterations; it++) {
        for (int t = 0; t < 200; t++) {
            for (int64_t i = 0; i < B; i++) a[i] = (int32_t)plast_rng_below(&rng, 4);
            plast_env_step(e, (plast_env_actions){a, NULL}, obs, r, term, trunc, NULL);
            for (int64_t i = 0; i < B; i++) {
                total += r[i];
                bad += r[i] != 0 && r[i] != 10;
                bad += term[i] || trunc[i] != (t == 199);
                bad += obs[i * 17 + 4] != 0; /* the agent's own cell is never a wall, teleports included */
            }
        }
        /* autoreset: this step starts the next episode whatever the action */
        if (it + 1 < iterations) {
            plast_env_step(e, (plast_env_actions){a, NULL}, obs, r, term, trunc, NULL);
            for (int64_t i = 0; i < B; i++) bad += r[i] != 0 || obs[i * 17 + 11] != 0 || obs[i * 17 + 13] != 1;
        }
    }
    if (check) CHECK(bad == 0, "random agent: %d inconsistent steps", bad);
    plast_env_free(e);
    free(obs), free(r), free(term), free(trunc), free(a);
    return total / (double)(B * iterations);
}

/* copy i's episodes depend only on (seed, i, episode): the same copy in a batch of 5 and of 2 sees the same
 * reward cells and teleports; and a state saved mid-episode and loaded into a fresh object continues exactly */
static void check_determinism_and_state(void) {
    plast_env *a = maze(5, 11, NULL), *b = maze(2, 11, NULL), *c = maze(5, 11, NULL);
    if (!a || !b || !c) return;
    plast_real oa[5 * 17], ob[2 * 17], oc[5 * 17], ra[5], rb[2], rc[5];
    plast_env_reset(a, oa, NULL);
    plast_env_reset(b, ob, NULL);
    int32_t act[5];
    plast_rng rng;
    plast_rng_init(&rng, 1, 2);
    int same = 1;
    size_t bytes = plast_env_state_bytes(a);
    void *saved = malloc(bytes);
    for (int t = 0; t < 450; t++) {
        for (int i = 0; i < 5; i++) act[i] = (int32_t)plast_rng_below(&rng, 4);
        if (t == 137) CHECK(plast_env_state_save(a, saved, bytes, NULL) == PLAST_OK, "state save");
        if (t >= 137) {
            if (t == 137) CHECK(plast_env_state_load(c, saved, bytes, NULL) == PLAST_OK, "state load");
            plast_env_step(c, (plast_env_actions){act, NULL}, oc, rc, NULL, NULL, NULL);
        }
        plast_env_step(a, (plast_env_actions){act, NULL}, oa, ra, NULL, NULL, NULL);
        plast_env_step(b, (plast_env_actions){act, NULL}, ob, rb, NULL, NULL, NULL);
        same &= memcmp(oa, ob, sizeof ob) == 0 && ra[0] == rb[0] && ra[1] == rb[1];
        if (t >= 137) CHECK(memcmp(oa, oc, sizeof oa) == 0 && memcmp(ra, rc, sizeof ra) == 0, "restored state, step %d", t);
    }
    CHECK(same, "copies 0 and 1 do not depend on the batch size");
    /* a state from another setting or size is refused with a reason */
    plast_err err;
    CHECK(plast_env_state_load(b, saved, bytes, &err) == PLAST_ERR_MISMATCH && strstr(err.msg, "bytes"),
          "a 5-copy state into 2 copies: %s", err.msg);
    plast_env *d = maze(5, 11, "env.reward=3");
    CHECK(d && plast_env_state_load(d, saved, bytes, &err) == PLAST_ERR_MISMATCH && strstr(err.msg, "reward 10"),
          "a state of other settings: %s", err.msg);
    plast_env_free(d);
    free(saved);
    plast_env_free(a), plast_env_free(b), plast_env_free(c);
}

static void check_bad_input(void) {
    plast_env_cfg cfg;
    plast_err err;
    plast_env_cfg_default(&cfg, NULL);
    CHECK(plast_cfg_apply_set(plast_env_cfg_schema(), &cfg, "env.name=pong", &err) == PLAST_ERR_CONFIG &&
              strstr(err.msg, "env.name"), "unknown env: %s", err.msg);
    plast_cfg_apply_set(plast_env_cfg_schema(), &cfg, "env.size=12", NULL);
    CHECK(!plast_env_init(&cfg, 2, 0, &err) && strstr(err.msg, "env") && strstr(err.msg, "size") && strstr(err.msg, "odd"),
          "even side: %s", err.msg);
    /* a key of another environment ("ponglike: ..." in its help) set away from its default is an error naming it;
     * at its default, or for its own environment, it is fine */
    const struct {
        const char *name, *set, *key;
    } scoped[] = {{"maze", "env.frame_stack=4", "frame_stack"}, {"maze", "env.sticky=0", "sticky"},
                  {"pendulum", "env.size=15", "size"},          {"ponglike", "env.reset_noise=0.1", "reset_noise"},
                  {"ponglike", "env.reward_cells=without_centre", "reward_cells"}};
    for (size_t k = 0; k < sizeof scoped / sizeof scoped[0]; k++) {
        plast_env_cfg_default(&cfg, NULL);
        snprintf(cfg.name, sizeof cfg.name, "%s", scoped[k].name);
        plast_cfg_apply_set(plast_env_cfg_schema(), &cfg, scoped[k].set, NULL);
        plast_env *bad = plast_env_init(&cfg, 1, 0, &err);
        CHECK(!bad && strstr(err.msg, scoped[k].key) && strstr(err.msg, " only and env.name is") &&
                  strstr(err.msg, scoped[k].name),
              "%s with %s: %s", scoped[k].name, scoped[k].set, bad ? "accepted" : err.msg);
        plast_env_free(bad);
    }
    plast_env *fine[3] = {make_env("maze", 1, 0, "env.frame_stack=1", "env.size=15"),
                          make_env("ponglike", 1, 0, "env.size=13", "env.sticky=0"),
                          make_env("pendulum", 1, 0, "env.reset_noise=0.1", "env.obs=grey84")};
    for (int k = 0; k < 3; k++) plast_env_free(fine[k]);
    plast_env *e = maze(2, 0, NULL);
    plast_real obs[34], r[2];
    int32_t a[2] = {0, 4};
    CHECK(e && plast_env_step(e, (plast_env_actions){a, NULL}, obs, r, NULL, NULL, &err) == PLAST_ERR_INVALID_ARG &&
              strstr(err.msg, "action 4 of copy 1"), "an action out of range: %s", err.msg);
    CHECK(plast_env_step(e, (plast_env_actions){NULL, NULL}, obs, r, NULL, NULL, NULL) == PLAST_ERR_INVALID_ARG,
          "no actions");
    plast_env_free(e);
}

/* ---- the pendulum ------------------------------------------------------------------------------------------ */

/* episodes of copy 0 under a policy: a = clamp(k . obs, -3, 3) (k NULL: zero, or uniform in [-3, 3] with random);
 * returns the mean length, and the flags of the last step of the last episode */
static double pendulum_episodes(plast_env *e, const double *k, int random, int episodes, int *term, int *trunc,
                                double *last_reward) {
    const int64_t n = plast_env_count(e);
    plast_real *obs = calloc((size_t)(4 * n), sizeof *obs), *r = calloc((size_t)n, sizeof *r);
    plast_real *a = calloc((size_t)n, sizeof *a);
    uint8_t *te = calloc((size_t)n, 1), *tr = calloc((size_t)n, 1);
    plast_rng rng;
    plast_rng_init(&rng, 5, 6);
    double steps = 0;
    for (int ep = 0; ep < episodes; ep++) {
        plast_env_seek(e, ep);
        plast_env_reset(e, obs, NULL);
        for (int t = 0; t < 5000; t++) {
            for (int64_t i = 0; i < n; i++) {
                double v = 0;
                for (int j = 0; j < 4 && k; j++) v += k[j] * (double)obs[i * 4 + j];
                if (random) v = 6 * plast_rng_uniform(&rng) - 3;
                a[i] = (plast_real)fmax(-3, fmin(3, v));
            }
            plast_env_step(e, (plast_env_actions){NULL, a}, obs, r, te, tr, NULL);
            steps++;
            if (te[0] || tr[0]) break;
        }
    }
    *term = te[0], *trunc = tr[0], *last_reward = (double)r[0];
    free(obs), free(r), free(a), free(te), free(tr);
    return steps / episodes;
}

static plast_env *pendulum(int64_t n, uint64_t seed, const char *set) {
    plast_env_cfg cfg;
    plast_err err;
    plast_env_cfg_default(&cfg, NULL);
    plast_cfg_apply_set(plast_env_cfg_schema(), &cfg, "env.name=pendulum", NULL);
    if (set) CHECK(plast_cfg_apply_set(plast_env_cfg_schema(), &cfg, set, &err) == PLAST_OK, "%s", err.msg);
    plast_env *e = plast_env_init(&cfg, n, seed, &err);
#ifdef PLAST_TEST_MUJOCO
    CHECK(e != NULL, "pendulum: %s", e ? "" : err.msg);
#else
    CHECK(!e && strstr(err.msg, "without MuJoCo") && strstr(err.msg, "env.name"), "no MuJoCo: %s", err.msg);
#endif
    return e;
}

static void check_pendulum(void) {
    plast_env *e = pendulum(1, 3, NULL);
    if (!e) return;
    const plast_space as = plast_env_action_space(e);
    CHECK(plast_env_observation_space(e).n == 4 && as.kind == PLAST_SPACE_BOX && as.n == 1 && as.low == -3 &&
              as.high == 3 && plast_env_max_steps(e) == 1000,
          "pendulum spaces: 4 observations, one action in [-3, 3], 1000 steps");
    CHECK(strstr(plast_env_describe(e), "InvertedPendulum-v4 semantics, MuJoCo 2.2") != NULL, "label: %s",
          plast_env_describe(e));
    plast_real obs[4];
    plast_env_reset(e, obs, NULL);
    int small = 1;
    for (int j = 0; j < 4; j++) small &= fabs((double)obs[j]) <= 0.01 && obs[j] != 0;
    CHECK(small, "the first state is within the reset noise 0.01");
    /* with no force the pole falls past 0.2 rad in 20 to 40 steps (measured 22-36 from noise 0.01), terminated,
     * with reward 1 on that step (v4) */
    int term, trunc;
    double last;
    double len = pendulum_episodes(e, NULL, 0, 10, &term, &trunc, &last);
    CHECK(len >= 15 && len <= 60 && term && !trunc && last == 1, "zero force: falls after %.1f steps (term %d, reward %g)",
          len, term, last);
    double rnd = pendulum_episodes(e, NULL, 1, 20, &term, &trunc, &last);
    CHECK(rnd >= 3 && rnd <= 40, "random force: %.1f steps per episode", rnd);
    printf("pendulum: episode length (= return) with no force %.1f, with uniform random force %.1f\n", len, rnd);
    /* a hand-tuned linear controller (push the cart under the pole) balances to the time limit: truncated */
    const double k[4] = {1, 20, 1, 3};
    len = pendulum_episodes(e, k, 0, 3, &term, &trunc, &last);
    CHECK(len == 1000 && trunc && !term, "the linear controller balances for 1000 steps (%.1f, trunc %d)", len, trunc);
    plast_env_free(e);
    /* v5's terminal reward */
    e = pendulum(1, 3, "env.terminal_reward=0");
    if (e) {
        pendulum_episodes(e, NULL, 0, 1, &term, &trunc, &last);
        CHECK(term && last == 0, "terminal_reward 0: the falling step gives %g", last);
    }
    plast_env_free(e);
    /* copy i does not depend on the batch; a state saved mid-episode continues exactly; non-finite actions are
     * refused */
    plast_env *a = pendulum(3, 8, NULL), *b = pendulum(1, 8, NULL), *c = pendulum(3, 8, NULL);
    if (!a || !b || !c) goto done;
    plast_real oa[12], ob[4], oc[12], ra[3], rb[1], rc[3], act[3];
    plast_env_reset(a, oa, NULL);
    plast_env_reset(b, ob, NULL);
    size_t bytes = plast_env_state_bytes(a);
    void *saved = malloc(bytes);
    int same = 1, restored = 1;
    for (int t = 0; t < 300; t++) {
        for (int i = 0; i < 3; i++) act[i] = (plast_real)fmax(-3, fmin(3, 20 * (double)oa[i * 4 + 1] + 2 * (double)oa[i * 4 + 3]));
        if (t == 57) {
            plast_env_state_save(a, saved, bytes, NULL);
            CHECK(plast_env_state_load(c, saved, bytes, NULL) == PLAST_OK, "pendulum state load");
        }
        if (t >= 57) plast_env_step(c, (plast_env_actions){NULL, act}, oc, rc, NULL, NULL, NULL);
        plast_env_step(a, (plast_env_actions){NULL, act}, oa, ra, NULL, NULL, NULL);
        plast_env_step(b, (plast_env_actions){NULL, act}, ob, rb, NULL, NULL, NULL);
        same &= memcmp(oa, ob, sizeof ob) == 0 && ra[0] == rb[0];
        if (t >= 57) restored &= memcmp(oa, oc, sizeof oa) == 0 && memcmp(ra, rc, sizeof ra) == 0;
    }
    CHECK(same && restored, "pendulum: copy 0 independent of the batch (%d), restored state continues (%d)", same,
          restored);
    plast_err err;
    act[1] = (plast_real)NAN;
    CHECK(plast_env_step(a, (plast_env_actions){NULL, act}, oa, ra, NULL, NULL, &err) == PLAST_ERR_INVALID_ARG &&
              strstr(err.msg, "copy 1"), "a NaN action: %s", err.msg);
    free(saved);
done:
    plast_env_free(a), plast_env_free(b), plast_env_free(c);
}

/* ---- PongLike ------------------------------------------------------------------------------------------------ */

static plast_env *ponglike(int64_t n, uint64_t seed, const char *set1, const char *set2) {
    return make_env("ponglike", n, seed, set1, set2);
}

/* from a raw frame (env.obs = rgb): the agent paddle's top row (green at column 141) and the ball (white between
 * the paddles; -1 when not in play) */
static int pl_paddle_row(const plast_real *o) {
    for (int y = 34; y < 194; y++)
        if (o[(y * 160 + 141) * 3] == 92 && o[(y * 160 + 141) * 3 + 1] == 186) return y;
    return -1;
}
static int pl_ball(const plast_real *o, int *bx) {
    for (int y = 34; y < 194; y++)
        for (int x = 20; x < 140; x++)
            if (o[(y * 160 + x) * 3] == 236) return *bx = x, y + 2;
    return -1;
}

/* the ball's centre row when it reaches the agent's paddle, from two sightings, walls reflected */
static int pl_intercept(int bx, int by, int pbx, int pby) {
    if (by < 0 || pby < 0 || bx <= pbx) return 114;
    double y = by + (double)(by - pby) * (138 - bx) / (bx - pbx);
    while (y < 36 || y > 192) y = y < 36 ? 72 - y : 384 - y;
    return (int)y;
}

/* whole episodes of copy 0 under a random policy (policy 0), the interceptor (1) or a naive tracker that follows the
 * ball's current row (2), either of which acts at each step with probability skill and at random otherwise: the
 * mean return; the points of each side counted from the rewards must end at 21 for exactly one side */
static double pl_episodes(plast_env *e, int policy, double skill, int episodes, int *bad) {
    plast_real *o = malloc(sizeof(plast_real) * 160 * 210 * 3), r;
    uint8_t te, tr;
    plast_rng rng;
    plast_rng_init(&rng, 4, 4);
    double total = 0;
    for (int ep = 0; ep < episodes; ep++) {
        plast_env_seek(e, ep);
        plast_env_reset(e, o, NULL);
        int agent = 0, cpu = 0, pbx = -1, pby = -1;
        for (int t = 0; t < 27000; t++) {
            int32_t a = (int32_t)plast_rng_below(&rng, 6);
            if (policy) {
                int bx = -1, by = pl_ball(o, &bx);
                const int target = policy == 2 ? (by < 0 ? 114 : by) : pl_intercept(bx, by, pbx, pby);
                const int c = pl_paddle_row(o) + 8;
                pbx = by < 0 ? -1 : bx, pby = by;
                if (skill >= 1 || plast_rng_uniform(&rng) < skill) a = target < c - 8 ? 2 : target > c + 8 ? 3 : 0;
            }
            plast_env_step(e, (plast_env_actions){&a, NULL}, o, &r, &te, &tr, NULL);
            agent += r > 0, cpu += r < 0;
            *bad += r != 0 && r != 1 && r != -1;
            if (te || tr) break;
        }
        *bad += !te || (agent == 21) == (cpu == 21) || agent > 21 || cpu > 21;
        total += agent - cpu;
    }
    free(o);
    return total / episodes;
}

static void check_ponglike(void) {
    plast_env *e = ponglike(1, 3, "env.obs=rgb", NULL);
    if (!e) return;
    CHECK(plast_env_observation_space(e).n == 210 * 160 * 3 && plast_env_action_space(e).n == 6 &&
              plast_env_max_steps(e) == 27000 && strstr(plast_env_describe(e), "not the Arcade Learning Environment"),
          "ponglike: 210x160x3 frames, 6 actions, 108,000 frames / 4, honest name: %s", plast_env_describe(e));
    int bad = 0;
    const double rnd = pl_episodes(e, 0, 0, 3, &bad), intercept = pl_episodes(e, 1, 1, 3, &bad);
    CHECK(bad == 0, "ponglike: rewards in {-1, 0, 1}, games end when one side reaches 21 (%d bad)", bad);
    /* measured 2026-11-30: random -20.75, interceptor +19.5 over 4 games */
    CHECK(rnd <= -18, "a uniformly random policy loses almost every point: %.2f", rnd);
    CHECK(intercept > 5, "a ball-intercepting policy wins: %.2f", intercept);
    printf("ponglike: mean return of a random policy %.2f, of a ball-intercepting policy %+.2f (3 games each)\n", rnd,
           intercept);
    /* the reward landscape a learner climbs: the interceptor acting at a fraction of the steps, at random otherwise.
     * Returns stay near the random policy's until the policy is mostly skilled (docs/envs/ponglike.md) */
    const double skills[3] = {0.5, 0.75, 0.9};
    double partial[3];
    for (int k = 0; k < 3; k++) partial[k] = pl_episodes(e, 1, skills[k], 3, &bad);
    CHECK(partial[0] < partial[2] && partial[2] <= intercept + 1 && partial[0] < -10,
          "partly skilled interceptors: %.2f (half the steps) < %.2f (0.9) <= %.2f (always), half loses nearly all",
          partial[0], partial[2], intercept);
    printf("ponglike: the interceptor acting at 50%%, 75%%, 90%% of steps (random otherwise): %+.2f, %+.2f, %+.2f\n",
           partial[0], partial[1], partial[2]);
    const double tracker = pl_episodes(e, 2, 1, 3, &bad);
    CHECK(tracker > rnd && tracker < intercept, "a naive tracker (%.2f) lies between random and the interceptor",
          tracker);
    printf("ponglike: a naive tracker (the ball's current row) %+.2f\n", tracker);
    plast_env_free(e);

    /* sticky actions: alternating up and down one frame at a time, the paddle goes the other way when the previous
     * action was kept and differs; that happens at rate p / (1 + p) = 0.2 for p = 0.25 */
    e = ponglike(1, 5, "env.obs=rgb", "env.frameskip=1");
    plast_real *o = malloc(sizeof(plast_real) * 160 * 210 * 3), r;
    plast_env_reset(e, o, NULL);
    int against = 0, n = 0;
    for (int t = 0; t < 20000; t++) {
        int32_t a = t % 2 ? 2 : 3;
        const int before = pl_paddle_row(o);
        plast_env_step(e, (plast_env_actions){&a, NULL}, o, &r, NULL, NULL, NULL);
        const int moved = pl_paddle_row(o) - before;
        if (before > 40 && before < 170) against += a == 2 ? moved > 0 : moved < 0, n++;
    }
    CHECK(fabs((double)against / n - 0.2) < 0.015, "sticky actions: %.4f of frames against the choice (0.2)",
          (double)against / n);
    plast_env_free(e);

    /* frameskip: one step of 4 frames is 4 steps of 1 frame with the same action, rewards summed (no stickiness:
     * the draws differ); the same frames come out */
    plast_env *four = ponglike(1, 9, "env.sticky=0", NULL), *one = ponglike(1, 9, "env.sticky=0", "env.frameskip=1");
    plast_real o4[84 * 84], o1[84 * 84], r4, r1;
    plast_env_reset(four, o4, NULL);
    plast_env_reset(one, o1, NULL);
    int same = 1, points = 0;
    uint8_t te = 0;
    plast_rng rng;
    plast_rng_init(&rng, 2, 2);
    for (int t = 0; t < 3000 && !te; t++) { /* one game: the last step of a game may stop within its skip */
        int32_t a = (int32_t)plast_rng_below(&rng, 6);
        plast_env_step(four, (plast_env_actions){&a, NULL}, o4, &r4, &te, NULL, NULL);
        double sum = 0;
        for (int k = 0; k < 4; k++) plast_env_step(one, (plast_env_actions){&a, NULL}, o1, &r1, NULL, NULL, NULL), sum += r1;
        if (!te) same &= sum == r4 && memcmp(o4, o1, sizeof o4) == 0;
        points += r4 != 0;
    }
    CHECK(same && points > 10, "frameskip 4 = four frames, rewards summed (%d points seen)", points);
    plast_env_free(four), plast_env_free(one);

    /* the two 84 x 84 forms agree in layout: the same pixels are background (the direct drawing rounds edges) */
    plast_env *g = ponglike(1, 2, NULL, NULL), *rl = ponglike(1, 2, "env.obs=rllib", NULL);
    plast_real og[84 * 84], orl[84 * 84];
    plast_env_reset(g, og, NULL);
    plast_env_reset(rl, orl, NULL);
    int agree = 0;
    const plast_real back = (plast_real)(((144 + 72 + 17) / 3.0 - 128) / 128);
    for (int k = 0; k < 84 * 84; k++) agree += (fabs((double)(og[k] - back)) < 1e-6) == (fabs((double)(orl[k] - back)) < 0.02);
    CHECK(agree > 84 * 84 * 97 / 100, "grey84 and rllib frames: %d of 7056 pixels agree on background", agree);
    CHECK(orl[0] >= -1 && orl[0] < 1, "rllib values in [-1, 1)");
    plast_env_free(g), plast_env_free(rl);

    /* independence of the batch and a restored state */
    plast_env *a = ponglike(3, 8, NULL, NULL), *b = ponglike(1, 8, NULL, NULL), *c = ponglike(3, 8, NULL, NULL);
    plast_real *oa = malloc(sizeof(plast_real) * 3 * 7056), *ob = malloc(sizeof(plast_real) * 7056);
    plast_real *oc = malloc(sizeof(plast_real) * 3 * 7056), ra[3], rb[1], rc[3];
    plast_env_reset(a, oa, NULL);
    plast_env_reset(b, ob, NULL);
    size_t bytes = plast_env_state_bytes(a);
    void *saved = malloc(bytes);
    int indep = 1, restored = 1;
    for (int t = 0; t < 2000; t++) {
        int32_t act[3] = {(int32_t)plast_rng_below(&rng, 6), (int32_t)plast_rng_below(&rng, 6), 1};
        if (t == 333) plast_env_state_save(a, saved, bytes, NULL), plast_env_state_load(c, saved, bytes, NULL);
        if (t >= 333) plast_env_step(c, (plast_env_actions){act, NULL}, oc, rc, NULL, NULL, NULL);
        plast_env_step(a, (plast_env_actions){act, NULL}, oa, ra, NULL, NULL, NULL);
        plast_env_step(b, (plast_env_actions){act, NULL}, ob, rb, NULL, NULL, NULL);
        indep &= memcmp(oa, ob, sizeof(plast_real) * 7056) == 0 && ra[0] == rb[0];
        if (t >= 333) restored &= memcmp(oa, oc, sizeof(plast_real) * 3 * 7056) == 0 && memcmp(ra, rc, sizeof ra) == 0;
    }
    CHECK(indep && restored, "ponglike: copy 0 independent of the batch (%d), restored state continues (%d)", indep,
          restored);
    free(saved), free(oa), free(ob), free(oc), free(o);
    plast_env_free(a), plast_env_free(b), plast_env_free(c);
}

/* PongLike's Mnih et al. preprocessing options against the plain form: frame_stack k gives the last k frames of
 * the single-frame environment as channels (channels last, oldest first, the first frame repeated after every reset,
 * truncation included), and restores them with the state; frame_max gives the maximum of a step's last two frames */
static void check_ponglike_frames(void) {
    enum { K = 4, F = 84 * 84, T = 260 };
    plast_env *st = ponglike(1, 4, "env.frame_stack=4", "env.max_frames=400"),
              *st2 = ponglike(1, 4, "env.frame_stack=4", "env.max_frames=400"),
              *one = ponglike(1, 4, "env.max_frames=400", NULL), *rgb = ponglike(1, 4, "env.obs=rgb", NULL);
    int64_t ch = 0, side = 0, ch1 = 0;
    CHECK(plast_env_image(st, &ch, &side) && ch == K && side == 84 && plast_env_image(one, &ch1, NULL) && ch1 == 1,
          "ponglike: stacked frames are an image of %lld channels of side %lld (%lld without stacking)",
          (long long)ch, (long long)side, (long long)ch1);
    CHECK(!plast_env_image(rgb, NULL, NULL), "ponglike: rgb frames are not square images");
    plast_env_free(rgb);
    plast_real *os = malloc(sizeof(plast_real) * K * F), *os2 = malloc(sizeof(plast_real) * K * F);
    plast_real *hist = malloc(sizeof(plast_real) * (T + 1) * F), r, r2;
    plast_env_reset(st, os, NULL);
    plast_env_reset(one, hist, NULL);
    const size_t bytes = plast_env_state_bytes(st);
    void *saved = malloc(bytes);
    plast_rng rng;
    plast_rng_init(&rng, 5, 5);
    int same = 1, restored = 1, resets = 0, moving = 0;
    int64_t first = 0, next_first = -1; /* the steps of the current and the next episode's first frame */
    for (int t = 0;; t++) {
        if (t == next_first) first = t;
        for (int j = 0; j < K; j++) { /* channel j is the single env's frame t - (K - 1) + j, or the episode's first */
            const int64_t at = t - (K - 1) + j < first ? first : t - (K - 1) + j;
            for (int p = 0; p < F; p++) same &= os[p * K + j] == hist[at * F + p];
        }
        if (t == T) break;
        if (t == 77) plast_env_state_save(st, saved, bytes, NULL), plast_env_state_load(st2, saved, bytes, NULL);
        int32_t a = (int32_t)plast_rng_below(&rng, 6);
        uint8_t trunc = 0;
        plast_env_step(st, (plast_env_actions){&a, NULL}, os, &r, NULL, NULL, NULL);
        plast_env_step(one, (plast_env_actions){&a, NULL}, hist + (int64_t)(t + 1) * F, &r2, NULL, &trunc, NULL);
        if (t >= 77) {
            plast_env_step(st2, (plast_env_actions){&a, NULL}, os2, &r2, NULL, NULL, NULL);
            restored &= memcmp(os, os2, sizeof(plast_real) * K * F) == 0 && r == r2;
        }
        moving += memcmp(hist + (int64_t)t * F, hist + (int64_t)(t + 1) * F, sizeof(plast_real) * F) != 0;
        /* after a truncation the next step is the next episode's reset (next-step autoreset) */
        if (trunc) next_first = t + 2, resets++;
    }
    CHECK(same && resets >= 2 && moving > T / 2, "ponglike: frame_stack 4 holds the last 4 frames, oldest first "
          "(%d resets, %d moving frames)", resets, moving);
    CHECK(restored, "ponglike: a restored state continues with its stacked frames");
    free(os), free(os2), free(hist), free(saved);
    plast_env_free(st), plast_env_free(st2), plast_env_free(one);

    /* frame_max: a 2-frame step's observation is the maximum of the two frames of two 1-frame steps */
    const char *forms[2] = {"env.obs=grey84", "env.obs=rgb"};
    for (int f = 0; f < 2; f++) {
        const int64_t n = f ? 210 * 160 * 3 : F;
        const char *one_frame[3] = {forms[f], "env.sticky=0", "env.frameskip=1"},
                   *two_max[4] = {forms[f], "env.sticky=0", "env.frameskip=2", "env.frame_max=true"};
        plast_env *fr = make_env_sets("ponglike", 1, 6, 3, one_frame), *mx = make_env_sets("ponglike", 1, 6, 4, two_max);
        if (!mx || !fr) continue;
        plast_real *om = malloc(sizeof(plast_real) * n), *o1 = malloc(sizeof(plast_real) * n),
                   *o2 = malloc(sizeof(plast_real) * n);
        plast_env_reset(mx, om, NULL);
        plast_env_reset(fr, o1, NULL);
        int ok = 1, differ = 0;
        for (int t = 0; t < 300; t++) {
            int32_t a = (int32_t)plast_rng_below(&rng, 6);
            plast_env_step(mx, (plast_env_actions){&a, NULL}, om, &r, NULL, NULL, NULL);
            plast_env_step(fr, (plast_env_actions){&a, NULL}, o1, &r2, NULL, NULL, NULL);
            plast_env_step(fr, (plast_env_actions){&a, NULL}, o2, &r2, NULL, NULL, NULL);
            for (int64_t p = 0; p < n; p++) {
                ok &= om[p] == (o1[p] > o2[p] ? o1[p] : o2[p]);
                differ += om[p] != o2[p];
            }
        }
        CHECK(ok && differ > 0, "ponglike %s: frame_max is the maximum of a step's last two frames (%d pixels "
              "differ from the last frame alone)", forms[f] + 8, differ);
        free(om), free(o1), free(o2);
        plast_env_free(mx), plast_env_free(fr);
    }
}

int main(void) {
    check_ponglike();
    check_ponglike_frames();
    check_pendulum();
    check_layout_and_first_observation();
    check_walls_and_slots();
    check_determinism_and_state();
    check_bad_input();
    const double rand_reward = random_agent(64, 20, 5, 1);
    /* a random walk finds the reward cell now and then: well above 0, far below a trained agent's ~130 */
    CHECK(rand_reward > 3 && rand_reward < 40, "random agent's episode reward %.2f", rand_reward);
    printf("maze: a uniformly random agent collects %.2f per 200-step episode (64 x 20 episodes)\n", rand_reward);
    return test_finish("test_envs");
}
