/* src/envs/maze.c: the grid maze of Miconi et al. 2019 as Rodriguez et al. 2022 run it (docs/envs/maze.md;
 * reference: STPN's Maze/Scripts/run_maze.py, Miconi's maze/batch.py).
 *   grid: size x size; the border and every interior cell with even row and even column are walls, the centre
 *         is cleared (13 x 13: 97 free cells)
 *   episode: the agent starts at the centre; the reward cell is uniform over the free cells (with_centre) or
 *         over all but the centre (without_centre)
 *   actions: 0 up (row - 1), 1 down (row + 1), 2 left (col - 1), 3 right (col + 1); into a wall: stay, reward
 *         -wall_penalty; onto the reward cell: +reward and, in the same step, a teleport to a free cell other than
 *         the reward cell, uniformly
 *   observation (17): [0..8] the 3 x 3 walls around the agent, row-major; [9] 0; [10] 1 (bias); [11] t / length
 *         (t the steps taken); [12] the previous reward; [13..16] one-hot of the previous action (action 0 at t = 0,
 *         the reference's zero-initialised buffer)
 *   episodes end by truncation after episode_length steps. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envs/env_internal.h"

enum { MAZE_OBS = 17, MAZE_ACTIONS = 4 };

typedef struct maze_layout {
    int32_t side, centre;
    int32_t n_free, n_reward; /* free cells; cells the reward may be drawn from */
    /* wall[side * side], then free[n_free] and reward[n_reward] as row * side + col */
    uint8_t *wall;
    int32_t *free_cells, *reward_cells;
} maze_layout;

typedef struct maze_copy {
    int32_t pos, goal; /* row * side + col */
    int32_t prev_action;
    int32_t pad;
    double prev_reward;
} maze_copy;

static plast_status maze_open(plast_env *e, plast_err *err) {
    const int64_t S = e->cfg.size;
    if (S % 2 == 0) return plast_env_cfg_fail(err, "size", "is %lld: the maze needs an odd side", (long long)S);
    const size_t cells = (size_t)(S * S);
    maze_layout *L = calloc(1, sizeof *L + cells + 2 * cells * sizeof(int32_t) + 16);
    if (!L) return plast_err_set(err, PLAST_ERR_NOMEM, "env: out of memory for the maze");
    L->side = (int32_t)S;
    L->centre = (int32_t)((S / 2) * S + S / 2);
    L->free_cells = (int32_t *)(void *)(L + 1);
    L->reward_cells = L->free_cells + cells;
    L->wall = (uint8_t *)(L->reward_cells + cells);
    const int without_centre = strcmp(e->cfg.reward_cells, "without_centre") == 0;
    for (int32_t r = 0; r < S; r++)
        for (int32_t c = 0; c < S; c++) {
            const int32_t k = r * (int32_t)S + c;
            const int border = r == 0 || c == 0 || r == S - 1 || c == S - 1;
            L->wall[k] = (uint8_t)((border || (r % 2 == 0 && c % 2 == 0)) && k != L->centre);
            if (L->wall[k]) continue;
            L->free_cells[L->n_free++] = k;
            if (!(without_centre && k == L->centre)) L->reward_cells[L->n_reward++] = k;
        }
    e->shared = L;
    e->obs_size = MAZE_OBS;
    e->action = (plast_space){PLAST_SPACE_DISCRETE, MAZE_ACTIONS, 0, MAZE_ACTIONS - 1};
    if (e->cfg.episode_length == 0) e->cfg.episode_length = 200;
    e->max_steps = e->cfg.episode_length;
    e->copy_bytes = sizeof(maze_copy);
    return PLAST_OK;
}

static void maze_observe(const plast_env *e, const plast_env_copy *c, const maze_copy *m, plast_real *obs) {
    const maze_layout *L = e->shared;
    const int32_t S = L->side, r = m->pos / S, col = m->pos % S;
    for (int dr = -1, k = 0; dr <= 1; dr++)
        for (int dc = -1; dc <= 1; dc++, k++) obs[k] = (plast_real)L->wall[(r + dr) * S + (col + dc)];
    obs[9] = 0;
    obs[10] = 1;
    obs[11] = (plast_real)((double)c->t / (double)e->cfg.episode_length);
    obs[12] = (plast_real)m->prev_reward;
    for (int a = 0; a < MAZE_ACTIONS; a++) obs[13 + a] = (plast_real)(a == m->prev_action);
}

static void maze_reset(const plast_env *e, plast_env_copy *c, void *state, plast_real *obs) {
    const maze_layout *L = e->shared;
    maze_copy *m = state;
    m->pos = L->centre;
    m->goal = L->reward_cells[plast_rng_below(&c->rng, (uint32_t)L->n_reward)];
    m->prev_action = 0;
    m->prev_reward = 0;
    maze_observe(e, c, m, obs);
}

static void maze_step(const plast_env *e, plast_env_copy *c, void *state, int32_t action, const plast_real *value,
                      plast_real *obs, plast_real *reward, int *terminated) {
    (void)value;
    const maze_layout *L = e->shared;
    maze_copy *m = state;
    static const int32_t DR[MAZE_ACTIONS] = {-1, 1, 0, 0}, DC[MAZE_ACTIONS] = {0, 0, -1, 1};
    const int32_t S = L->side, target = m->pos + DR[action] * S + DC[action];
    double r = 0;
    if (L->wall[target]) {
        r = -e->cfg.wall_penalty;
    } else {
        m->pos = target;
    }
    if (m->pos == m->goal) {
        r += e->cfg.reward;
        /* a free cell other than the goal: draw among n_free - 1 and skip the goal */
        int32_t k = (int32_t)plast_rng_below(&c->rng, (uint32_t)(L->n_free - 1));
        int32_t cell = L->free_cells[k];
        if (cell >= m->goal) cell = L->free_cells[k + 1];
        m->pos = cell;
    }
    m->prev_action = action;
    m->prev_reward = r;
    *reward = (plast_real)r;
    *terminated = 0;
    maze_observe(e, c, m, obs);
}

static void maze_describe(plast_env *e) {
    const maze_layout *L = e->shared;
    snprintf(e->desc, sizeof e->desc, "maze %lldx%lld (%d free cells, reward cell among %d), %lld steps, reward %g, "
             "wall penalty %g", (long long)e->cfg.size, (long long)e->cfg.size, (int)L->n_free, (int)L->n_reward,
             (long long)e->cfg.episode_length, e->cfg.reward, e->cfg.wall_penalty);
}

const plast_env_def plast_env_maze = {"maze", "grid maze exploration", maze_open, maze_reset, maze_step, maze_describe,
                                     NULL};
