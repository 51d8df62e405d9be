/* tests/test_envs.c: the environments against their specs (docs/envs/): the maze's layout, observation slots,
 * walls, reward and teleport, truncation and autoreset, determinism per (seed, copy, episode) whatever the batch,
 * saved and restored state, bad input, and the reward of a random agent (measured, printed for the docs). */
#include "plast.h"
#include "plast/env.h"
#include "test.h"

static plast_env *maze(int64_t n, uint64_t seed, const char *set) {
    plast_env_cfg cfg;
    plast_err err;
    plast_env_cfg_default(&cfg, NULL);
    if (set) CHECK(plast_cfg_apply_set(plast_env_cfg_schema(), &cfg, set, &err) == PLAST_OK, "%s", err.msg);
    plast_env *e = plast_env_init(&cfg, n, seed, &err);
    CHECK(e != NULL, "maze: %s", e ? "" : err.msg);
    return e;
}

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
    plast_env *e = maze(2, 0, NULL);
    plast_real obs[34], r[2];
    int32_t a[2] = {0, 4};
    CHECK(e && plast_env_step(e, (plast_env_actions){a, NULL}, obs, r, NULL, NULL, &err) == PLAST_ERR_INVALID_ARG &&
              strstr(err.msg, "action 4 of copy 1"), "an action out of range: %s", err.msg);
    CHECK(plast_env_step(e, (plast_env_actions){NULL, NULL}, obs, r, NULL, NULL, NULL) == PLAST_ERR_INVALID_ARG,
          "no actions");
    plast_env_free(e);
}

int main(void) {
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
