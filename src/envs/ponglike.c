/* src/envs/ponglike.c: PongLike, a native two-paddle game with the interface and statistics of the Arcade Learning
 * Environment's Pong v5 (docs/envs/ponglike.md). It is NOT the Arcade Learning Environment: no ROM, no emulator;
 * the physics, the opponent and the pixels are re-invented (docs/DEVIATIONS.md), and its numbers are never put
 * beside ALE numbers. physics_version 1:
 *   screen: 210 x 160, walls rows 24-33 and 194-209, the opponent's paddle at x 16-19 (left), the agent's at
 *     x 140-143 (right), both 16 rows tall, a 2 x 4 ball, the scores as digits above the top wall
 *   actions (ALE's minimal set): 0 NOOP, 1 FIRE, 2 RIGHT and 4 RIGHTFIRE move the paddle up 4 px per frame,
 *     3 LEFT and 5 LEFTFIRE down; FIRE adds nothing
 *   each frame (60 Hz, integer positions): sticky actions (the previous action kept with probability sticky), the
 *     paddles move, the ball moves and reflects off the walls; a paddle hit sends it back with a vertical speed
 *     from the contact offset (steeper at the edges) and a horizontal speed of 2, then 3, 4, 5, 6 after 4, 8, 12
 *     and 20 hits of a rally; a ball past a paddle scores; the next serve comes from the centre, towards the
 *     side that lost the point, 48 frames later
 *   the opponent follows the ball's height of `delay` frames ago (4, 3, 2, 1 by difficulty) at 2, 2, 3, 3 px per
 *     frame, and returns to the centre while the ball moves away
 *   a step: the action for frameskip frames, rewards (+1 the agent scores, -1 the opponent) summed; terminated
 *     when a side reaches 21; truncated after max_frames frames; reset: a serve delay, optionally 1..noop_max
 *     NOOP frames, every draw from the copy's (seed, copy, episode) generator
 *   observations: one frame (grey84, rllib or rgb), or Mnih et al.'s preprocessing as options: the last
 *     frame_stack frames as channels, each frame the maximum of a step's last two (frame_max) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envs/env_internal.h"

enum {
    PL_W = 160, PL_H = 210, PL_TOP = 34, PL_BOTTOM = 194, /* the ball moves in rows [TOP, BOTTOM) */
    PL_CPU_X = 16, PL_AGENT_X = 140, PL_PADDLE_W = 4, PL_PADDLE_H = 16, PL_AGENT_SPEED = 4,
    PL_BALL_W = 2, PL_BALL_H = 4, PL_SERVE_DELAY = 48, PL_WIN = 21, PL_ACTIONS = 6,
    PL_CROP0 = 25, PL_CROP = 160, PL_OBS = 84, PL_HIST = 8
};

typedef enum { PL_OBS_GREY84, PL_OBS_RLLIB, PL_OBS_RGB } pl_obs;

/* the opponent by difficulty: its speed (rows per frame) and reaction delay (frames) */
static const int CPU_SPEED[4] = {2, 3, 3, 4}, CPU_DELAY[4] = {1, 2, 1, 0};

/* colours (R, G, B) */
static const uint8_t C_BACK[3] = {144, 72, 17}, C_WALL[3] = {236, 236, 236}, C_CPU[3] = {213, 130, 74},
                     C_AGENT[3] = {92, 186, 92}, C_BALL[3] = {236, 236, 236};

typedef struct pl_copy {
    int32_t ay, cy;           /* top rows of the agent's and the opponent's paddles */
    int32_t bx, by, vx, vy;   /* the ball's top-left corner and velocity */
    int32_t live, serve_in;   /* the ball is in play; frames until the next serve */
    int32_t serve_dir;        /* +1 towards the agent, -1 towards the opponent */
    int32_t hits;             /* paddle hits in this rally */
    int32_t score_agent, score_cpu;
    int32_t last_action;      /* the action applied at the previous frame (sticky actions) */
    int32_t hist_at;
    int32_t ball_hist[PL_HIST]; /* the ball's centre row over the last frames */
    int32_t stack_at;         /* frame_stack: the ring slot of the oldest frame */
    int32_t pad;
    int64_t frames;
} pl_copy;

typedef struct pl_shared {
    pl_obs obs;
    int64_t frame;       /* reals per frame: 84 * 84 (grey84, rllib) or 210 * 160 * 3 (rgb) */
    int64_t stack;       /* frames per observation (env.frame_stack) */
    uint8_t *rgb;        /* (210, 160, 3) scratch frame for the rllib and rgb observations */
    uint8_t *rgb_prev;   /* (210, 160, 3) frame_max: the step's second-to-last frame */
    plast_real *grey_prev; /* (frame) frame_max with grey84: the step's second-to-last frame */
    plast_real *now;     /* (frame) the newest frame, when it is stacked or maximised */
} pl_shared;

/* frame_stack > 1: the copy's last `stack` frames, (stack, frame) in a ring after its pl_copy; slot
 * (g->stack_at + k) % stack holds frame k, oldest first */
static plast_real *pl_frames(pl_copy *g) { return (plast_real *)(g + 1); }

static plast_status pl_open(plast_env *e, plast_err *err) {
    const plast_env_cfg *c = &e->cfg;
    const pl_obs obs = !strcmp(c->obs, "rgb") ? PL_OBS_RGB : !strcmp(c->obs, "rllib") ? PL_OBS_RLLIB : PL_OBS_GREY84;
    const int64_t frame = obs == PL_OBS_RGB ? PL_H * PL_W * 3 : PL_OBS * PL_OBS;
    const size_t rgb = PL_H * PL_W * 3, reals = (size_t)frame * sizeof(plast_real);
    pl_shared *S = calloc(1, sizeof *S + 2 * reals + 2 * rgb);
    if (!S) return plast_err_set(err, PLAST_ERR_NOMEM, "env: out of memory for PongLike");
    e->shared = S;
    S->obs = obs, S->frame = frame, S->stack = c->frame_stack;
    S->grey_prev = (plast_real *)(S + 1);
    S->now = S->grey_prev + frame;
    S->rgb = (uint8_t *)(S->now + frame);
    S->rgb_prev = S->rgb + rgb;
    if (e->cfg.episode_length == 0) e->cfg.episode_length = (c->max_frames + c->frameskip - 1) / c->frameskip;
    e->obs_size = frame * c->frame_stack;
    if (obs != PL_OBS_RGB) e->image_channels = c->frame_stack, e->image_side = PL_OBS;
    e->action = (plast_space){PLAST_SPACE_DISCRETE, PL_ACTIONS, 0, PL_ACTIONS - 1};
    e->max_steps = e->cfg.episode_length;
    e->copy_bytes = sizeof(pl_copy) + (c->frame_stack > 1 ? (size_t)c->frame_stack * reals : 0);
    return PLAST_OK;
}

/* ---- drawing: the frame as rectangles --------------------------------------------------------------------- */

typedef struct pl_rect {
    int x0, y0, x1, y1; /* [x0, x1) x [y0, y1) on the 210 x 160 screen */
    const uint8_t *rgb;
} pl_rect;

/* 3 x 5 digits, rows top to bottom, 3 bits each (4 = left column) */
static const uint8_t DIGITS[10][5] = {{7, 5, 5, 5, 7}, {2, 6, 2, 2, 7}, {7, 1, 7, 4, 7}, {7, 1, 7, 1, 7},
                                      {5, 5, 7, 1, 1}, {7, 4, 7, 1, 7}, {7, 4, 7, 5, 7}, {7, 1, 1, 1, 1},
                                      {7, 5, 7, 5, 7}, {7, 5, 7, 1, 7}};

/* a score as 4 x 4-pixel cells from column x, rows 6-25 */
static int score_rects(int score, int x, const uint8_t *rgb, pl_rect *out) {
    int n = 0, digits[2] = {score / 10, score % 10}, first = score >= 10 ? 0 : 1;
    for (int d = first; d < 2; d++, x += 16)
        for (int r = 0; r < 5; r++)
            for (int c = 0; c < 3; c++)
                if (DIGITS[digits[d]][r] & (4 >> c)) out[n++] = (pl_rect){x + 4 * c, 6 + 4 * r, x + 4 * c + 4, 10 + 4 * r, rgb};
    return n;
}

/* every rectangle of the frame, back to front; returns the count (at most 64) */
static int frame_rects(const pl_copy *g, pl_rect *out) {
    int n = 0;
    out[n++] = (pl_rect){0, 0, PL_W, PL_H, C_BACK};
    out[n++] = (pl_rect){0, 24, PL_W, PL_TOP, C_WALL};
    out[n++] = (pl_rect){0, PL_BOTTOM, PL_W, PL_H, C_WALL};
    n += score_rects(g->score_cpu, 32, C_CPU, out + n);
    n += score_rects(g->score_agent, 104, C_AGENT, out + n);
    out[n++] = (pl_rect){PL_CPU_X, g->cy, PL_CPU_X + PL_PADDLE_W, g->cy + PL_PADDLE_H, C_CPU};
    out[n++] = (pl_rect){PL_AGENT_X, g->ay, PL_AGENT_X + PL_PADDLE_W, g->ay + PL_PADDLE_H, C_AGENT};
    if (g->live) {
        const int x0 = g->bx < 0 ? 0 : g->bx, x1 = g->bx + PL_BALL_W > PL_W ? PL_W : g->bx + PL_BALL_W;
        if (x1 > x0) out[n++] = (pl_rect){x0, g->by, x1, g->by + PL_BALL_H, C_BALL};
    }
    return n;
}

static void render_rgb(const pl_copy *g, uint8_t *rgb) {
    pl_rect r[64];
    const int n = frame_rects(g, r);
    for (int k = 0; k < n; k++)
        for (int y = r[k].y0; y < r[k].y1; y++)
            for (int x = r[k].x0; x < r[k].x1; x++) memcpy(rgb + ((size_t)y * PL_W + (size_t)x) * 3, r[k].rgb, 3);
}

/* grey84: each rectangle mapped onto the 84 x 84 image of rows 25-184 (RLlib's crop) and filled with its colour's
 * (mean(R, G, B) - 128) / 128, at least one pixel wide */
static void render_grey84(const pl_copy *g, plast_real *obs) {
    pl_rect r[64];
    const int n = frame_rects(g, r);
    for (int k = 0; k < n; k++) {
        int y0 = r[k].y0 - PL_CROP0, y1 = r[k].y1 - PL_CROP0;
        if (y1 <= 0 || y0 >= PL_CROP) continue;
        y0 = y0 < 0 ? 0 : y0, y1 = y1 > PL_CROP ? PL_CROP : y1;
        const int Y0 = y0 * PL_OBS / PL_CROP, Y1 = (y1 * PL_OBS + PL_CROP - 1) / PL_CROP;
        const int X0 = r[k].x0 * PL_OBS / PL_W, X1 = (r[k].x1 * PL_OBS + PL_W - 1) / PL_W;
        const plast_real v = (plast_real)(((r[k].rgb[0] + r[k].rgb[1] + r[k].rgb[2]) / 3.0 - 128) / 128);
        for (int y = Y0; y < (Y1 > Y0 ? Y1 : Y0 + 1); y++)
            for (int x = X0; x < (X1 > X0 ? X1 : X0 + 1); x++) obs[y * PL_OBS + x] = v;
    }
}

/* RLlib's GenericPixelPreprocessor as the STPN runs used it: rows 25..184, OpenCV's bilinear resize to 84 x 84
 * (half-pixel centres, edges clamped, each channel rounded to uint8), the mean of R, G and B, (v - 128) / 128 */
static void rllib_preprocess(const uint8_t *rgb, plast_real *obs) {
    int i0[PL_OBS], i1[PL_OBS];
    double w1[PL_OBS];
    const double scale = (double)PL_CROP / PL_OBS;
    for (int d = 0; d < PL_OBS; d++) {
        double f = (d + 0.5) * scale - 0.5;
        if (f < 0) f = 0;
        int a = (int)floor(f);
        if (a >= PL_CROP - 1) a = PL_CROP - 1, f = a;
        i0[d] = a, i1[d] = a + 1 < PL_CROP ? a + 1 : a, w1[d] = f - a;
    }
    for (int y = 0; y < PL_OBS; y++) {
        const uint8_t *r0 = rgb + (size_t)(PL_CROP0 + i0[y]) * PL_W * 3, *r1 = rgb + (size_t)(PL_CROP0 + i1[y]) * PL_W * 3;
        for (int x = 0; x < PL_OBS; x++) {
            double grey = 0;
            for (int ch = 0; ch < 3; ch++) {
                const double top = r0[i0[x] * 3 + ch] * (1 - w1[x]) + r0[i1[x] * 3 + ch] * w1[x];
                const double bot = r1[i0[x] * 3 + ch] * (1 - w1[x]) + r1[i1[x] * 3 + ch] * w1[x];
                grey += floor(top * (1 - w1[y]) + bot * w1[y] + 0.5);
            }
            obs[y * PL_OBS + x] = (plast_real)((grey / 3 - 128) / 128);
        }
    }
}

/* The current frame as one observation frame (S->frame reals). frame_max: the pixel-wise maximum with the step's
 * second-to-last frame, kept by pl_keep_prev (on the RGB frame before preprocessing, as RLlib's MaxAndSkipEnv; on
 * the grey frame for grey84, as Gymnasium's AtariPreprocessing). */
static void pl_render(const plast_env *e, const pl_copy *g, int with_prev, plast_real *out) {
    pl_shared *S = e->shared;
    if (S->obs == PL_OBS_GREY84) {
        render_grey84(g, out);
        if (with_prev)
            for (int64_t k = 0; k < S->frame; k++) out[k] = out[k] > S->grey_prev[k] ? out[k] : S->grey_prev[k];
        return;
    }
    render_rgb(g, S->rgb);
    if (with_prev)
        for (size_t k = 0; k < (size_t)(PL_H * PL_W * 3); k++)
            S->rgb[k] = S->rgb[k] > S->rgb_prev[k] ? S->rgb[k] : S->rgb_prev[k];
    if (S->obs == PL_OBS_RLLIB) {
        rllib_preprocess(S->rgb, out);
        return;
    }
    for (size_t k = 0; k < (size_t)(PL_H * PL_W * 3); k++) out[k] = (plast_real)S->rgb[k];
}

/* frame_max: the frame before a step's last, in the form pl_render maximises over */
static void pl_keep_prev(const plast_env *e, const pl_copy *g) {
    pl_shared *S = e->shared;
    if (S->obs == PL_OBS_GREY84) render_grey84(g, S->grey_prev);
    else render_rgb(g, S->rgb_prev);
}

/* The observation: the newest frame, or (frame_stack k > 1) the last k frames as channels, obs[p * k + j] = frame j
 * at pixel p, oldest first; `fresh` (a reset) fills every slot with the first frame, as Gymnasium's FrameStack. */
static void pl_observe(const plast_env *e, pl_copy *g, int with_prev, int fresh, plast_real *obs) {
    pl_shared *S = e->shared;
    const int64_t K = S->stack, F = S->frame;
    if (K == 1) {
        pl_render(e, g, with_prev, obs);
        return;
    }
    plast_real *ring = pl_frames(g);
    pl_render(e, g, with_prev, S->now);
    if (fresh)
        for (int64_t j = 0; j < K; j++) memcpy(ring + j * F, S->now, (size_t)F * sizeof *ring);
    else { /* the oldest slot takes the newest frame */
        memcpy(ring + (int64_t)g->stack_at * F, S->now, (size_t)F * sizeof *ring);
        g->stack_at = (int32_t)((g->stack_at + 1) % K);
    }
    const plast_real *f[16]; /* oldest first; K <= 16 (env.frame_stack) */
    for (int64_t j = 0; j < K; j++) f[j] = ring + ((g->stack_at + j) % K) * F;
    for (int64_t p = 0; p < F; p++) /* the observation written in order, K reals per pixel */
        for (int64_t j = 0; j < K; j++) obs[p * K + j] = f[j][p];
}

/* ---- dynamics ------------------------------------------------------------------------------------------------ */

static int32_t clampi(int32_t v, int32_t lo, int32_t hi) { return v < lo ? lo : v > hi ? hi : v; }

static void serve(plast_env_copy *c, pl_copy *g) {
    g->live = 1;
    g->hits = 0;
    g->bx = (PL_W - PL_BALL_W) / 2;
    g->by = PL_TOP + 40 + (int32_t)plast_rng_below(&c->rng, (uint32_t)(PL_BOTTOM - PL_TOP - 80 - PL_BALL_H));
    static const int32_t VY[4] = {-2, -1, 1, 2};
    g->vy = VY[plast_rng_below(&c->rng, 4)];
    g->vx = 2 * g->serve_dir;
}

/* the vertical speed after hit number `hits` of a rally at `offset` rows from the paddle's centre: 1 + |offset| / 3
 * rows per frame in the offset's direction (never flat), at most 2 in the first 4 hits, 3 until hit 8, then 4 */
static int32_t bounce_vy(int32_t offset, int32_t hits) {
    const int32_t cap = hits < 4 ? 2 : hits < 8 ? 3 : 4, v = 1 + (offset < 0 ? -offset : offset) / 3;
    return (offset < 0 ? -1 : 1) * (v > cap ? cap : v);
}

/* the speed of the ball after `hits` paddle hits of a rally */
static int32_t rally_speed(int32_t hits) { return hits < 4 ? 2 : hits < 8 ? 3 : hits < 12 ? 4 : hits < 20 ? 5 : 6; }

/* one emulator frame with action a applied; the reward of the frame */
static int frame(const plast_env *e, plast_env_copy *c, pl_copy *g, int32_t a) {
    const int d = (int)e->cfg.difficulty;
    if (a == 2 || a == 4) g->ay -= PL_AGENT_SPEED;
    if (a == 3 || a == 5) g->ay += PL_AGENT_SPEED;
    g->ay = clampi(g->ay, PL_TOP, PL_BOTTOM - PL_PADDLE_H);
    /* the opponent: the ball's row `delay` frames ago while it comes, the centre while it goes */
    const int32_t seen = g->ball_hist[(g->hist_at + PL_HIST - CPU_DELAY[d]) % PL_HIST];
    const int32_t target = (g->live && g->vx < 0 ? seen : (PL_TOP + PL_BOTTOM) / 2) - PL_PADDLE_H / 2;
    g->cy += clampi(target - g->cy, -CPU_SPEED[d], CPU_SPEED[d]);
    g->cy = clampi(g->cy, PL_TOP, PL_BOTTOM - PL_PADDLE_H);
    int reward = 0;
    if (!g->live) {
        if (--g->serve_in <= 0) serve(c, g);
    } else {
        g->bx += g->vx, g->by += g->vy;
        if (g->by < PL_TOP) g->by = 2 * PL_TOP - g->by, g->vy = -g->vy;
        if (g->by + PL_BALL_H > PL_BOTTOM) g->by = 2 * (PL_BOTTOM - PL_BALL_H) - g->by, g->vy = -g->vy;
        const int32_t centre = g->by + PL_BALL_H / 2;
        /* a paddle hit: the ball reached the paddle's face this frame and overlaps it vertically */
        if (g->vx > 0 && g->bx + PL_BALL_W > PL_AGENT_X && g->bx + PL_BALL_W - g->vx <= PL_AGENT_X + 1 &&
            g->by + PL_BALL_H > g->ay && g->by < g->ay + PL_PADDLE_H) {
            g->bx = PL_AGENT_X - PL_BALL_W;
            g->vx = -rally_speed(++g->hits);
            g->vy = bounce_vy(centre - (g->ay + PL_PADDLE_H / 2), g->hits);
        } else if (g->vx < 0 && g->bx < PL_CPU_X + PL_PADDLE_W && g->bx - g->vx >= PL_CPU_X + PL_PADDLE_W - 1 &&
                   g->by + PL_BALL_H > g->cy && g->by < g->cy + PL_PADDLE_H) {
            g->bx = PL_CPU_X + PL_PADDLE_W;
            g->vx = rally_speed(++g->hits);
            g->vy = bounce_vy(centre - (g->cy + PL_PADDLE_H / 2), g->hits);
        }
        if (g->bx + PL_BALL_W <= 0 || g->bx >= PL_W) { /* past a paddle: a point */
            reward = g->bx >= PL_W ? -1 : 1;
            if (reward > 0) g->score_agent++;
            else g->score_cpu++;
            g->live = 0;
            g->serve_in = PL_SERVE_DELAY;
            g->serve_dir = reward > 0 ? -1 : 1; /* towards the side that lost it */
        }
    }
    g->hist_at = (g->hist_at + 1) % PL_HIST;
    g->ball_hist[g->hist_at] = g->live ? g->by + PL_BALL_H / 2 : (PL_TOP + PL_BOTTOM) / 2;
    g->frames++;
    return reward;
}

static void pl_reset(const plast_env *e, plast_env_copy *c, void *state, plast_real *obs) {
    pl_copy *g = state;
    memset(g, 0, sizeof *g);
    g->ay = (PL_TOP + PL_BOTTOM - PL_PADDLE_H) / 2;
    g->cy = (PL_TOP + PL_BOTTOM) / 2 - PL_PADDLE_H / 2;
    for (int k = 0; k < PL_HIST; k++) g->ball_hist[k] = (PL_TOP + PL_BOTTOM) / 2;
    g->serve_in = PL_SERVE_DELAY;
    g->serve_dir = plast_rng_below(&c->rng, 2) ? 1 : -1;
    const int64_t noops = e->cfg.noop_max > 0 ? 1 + (int64_t)plast_rng_below(&c->rng, (uint32_t)e->cfg.noop_max) : 0;
    for (int64_t k = 0; k < noops; k++) frame(e, c, g, 0);
    g->frames = 0;
    pl_observe(e, g, 0, 1, obs);
}

static void pl_step(const plast_env *e, plast_env_copy *c, void *state, int32_t action, const plast_real *value,
                    plast_real *obs, plast_real *reward, int *terminated) {
    (void)value;
    pl_copy *g = state;
    int r = 0, with_prev = 0;
    for (int64_t k = 0; k < e->cfg.frameskip; k++) {
        /* ALE's sticky actions: at every frame the previous action stays with probability sticky */
        const int32_t a = e->cfg.sticky > 0 && plast_rng_uniform(&c->rng) < e->cfg.sticky ? g->last_action : action;
        g->last_action = a;
        if (e->cfg.frame_max && k == e->cfg.frameskip - 1 && k > 0) pl_keep_prev(e, g), with_prev = 1;
        r += frame(e, c, g, a);
        if (g->score_agent >= PL_WIN || g->score_cpu >= PL_WIN) break;
    }
    *reward = (plast_real)r;
    *terminated = g->score_agent >= PL_WIN || g->score_cpu >= PL_WIN;
    pl_observe(e, g, with_prev, 0, obs);
}

static void pl_describe(plast_env *e) {
    const plast_env_cfg *c = &e->cfg;
    char stack[64] = "";
    if (c->frame_stack > 1 || c->frame_max)
        snprintf(stack, sizeof stack, ", %lld frames stacked%s", (long long)c->frame_stack,
                 c->frame_max ? ", max of 2" : "");
    snprintf(e->desc, sizeof e->desc, "PongLike (not the Arcade Learning Environment; physics 1), %s observations%s, "
             "frameskip %lld, sticky %g, difficulty %lld, noop_max %lld, %lld steps", c->obs, stack,
             (long long)c->frameskip, c->sticky, (long long)c->difficulty, (long long)c->noop_max,
             (long long)c->episode_length);
}

const plast_env_def plast_env_ponglike = {"ponglike", "PongLike (not the Arcade Learning Environment)", pl_open,
                                          pl_reset,   pl_step,  pl_describe,  NULL};
