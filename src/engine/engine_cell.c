/* src/engine/engine_cell.c: the cell path: models whose core is one non-plastic recurrent cell (models/cell_layer.h:
 * the rnn and lstm baselines) by hand. Each step is one matrix product over the batch, z_t = [x_t; h_{t-1}] W + b,
 * and the cell's elementwise work; the backward pass walks the steps back with one product per step for
 * d loss / d h_{t-1}, and the weight gradient is one product over every (step, sample) row at the end. The readout
 * is one product over all rows. The input half x_t W_x + b of every step is one product before the recurrence; the
 * recurrence is then one parallel region whose threads each keep their blocks of samples through every step, each
 * block with its product h_{t-1} W_h (single-threaded inside the region) and the cell's arithmetic: no fork, join or
 * barrier per step, and no separate pass to clear or scale z. Memory per step: x_t, the (activated) gates, c_t and
 * h_t. tests/test_engine.c checks outputs, energy and every gradient against the tape path. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/fastmath.h"
#include "core/gemm.h"
#include "engine/engine_internal.h"
#include "models/cell_layer.h"

typedef struct cell_engine {
    plast_cell_layer L;
    int64_t B, T, O, P; /* P = I + H */
    int64_t rows;       /* samples per block of a step (block_size) */
    plast_real *XS;  /* (T, B, I) the inputs x_t */
    plast_real *Z;   /* (T, B, G) x_t W_x + b, then rnn: z; lstm: the activated gates i, f, g, o */
    plast_real *C;   /* (T, B, H) lstm: c_t */
    plast_real *HS;  /* (T, B, H) h_t */
    plast_real *GHY; /* (T, B, H) d loss / d h_t through the readout */
    plast_real *DZ;  /* (T, B, G) d loss / d z_t */
    plast_real *GH, *GC; /* (B, H) the running adjoints of h and c */
    plast_real *DX;  /* (T, B, I) d loss / d x_t (want_dx only) */
    const plast_state *init; /* the state trials start from, or NULL: zeros */
    int want_dx;
    plast_real *CW;  /* (P) sum_j |W_ij|: the energy's weights */
    size_t bytes;
    void *block;
} cell_engine;

/* the threads of the elementwise loops over the samples: those OpenMP has now, at most one per 16 samples (each
 * sample's work is a few hundred operations) */
static int threads_for(int64_t B) {
    const int n = omp_get_max_threads();
    const int64_t most = B / 16 > 0 ? B / 16 : 1;
    return (int64_t)n < most ? n : (int)most;
}

/* h = act(z) over n values; the switch outside the loops, so that each loop vectorises */
static void act_rows(plast_act a, const plast_real *z, plast_real *h, int64_t n) {
    switch (a) {
    case PLAST_ACT_TANH:
        for (int64_t j = 0; j < n; j++) h[j] = plast_ftanh(z[j]);
        break;
    case PLAST_ACT_RELU:
        for (int64_t j = 0; j < n; j++) h[j] = z[j] > 0 ? z[j] : 0;
        break;
    case PLAST_ACT_SIGMOID:
        for (int64_t j = 0; j < n; j++) h[j] = plast_fsigmoid(z[j]);
        break;
    default: memcpy(h, z, (size_t)n * sizeof(plast_real));
    }
}

/* dz = g * act'(z) from z and h = act(z), as the tape's rules */
static void act_grad_rows(plast_act a, const plast_real *z, const plast_real *h, const plast_real *g, plast_real *dz,
                          int64_t n) {
    switch (a) {
    case PLAST_ACT_TANH:
        for (int64_t j = 0; j < n; j++) dz[j] = g[j] * (1 - h[j] * h[j]);
        break;
    case PLAST_ACT_RELU:
        for (int64_t j = 0; j < n; j++) dz[j] = z[j] > 0 ? g[j] : 0;
        break;
    case PLAST_ACT_SIGMOID:
        for (int64_t j = 0; j < n; j++) dz[j] = g[j] * (h[j] * (1 - h[j]));
        break;
    default: memcpy(dz, g, (size_t)n * sizeof(plast_real));
    }
}

/* A step's samples in blocks of E->rows rows, shared out between the threads. The blocks, and so each block's
 * product, depend on B and the machine's processors alone, never on --threads: BLAS sums a row differently at the
 * edge of a product, so a split by thread made the last bits depend on the thread count. One block per processor
 * (at least 64 rows, a multiple of 16): each product packs W once per block, so fewer, larger blocks are faster. */
static int64_t block_size(int64_t B) {
    const int64_t procs = omp_get_num_procs() > 0 ? omp_get_num_procs() : 1;
    const int64_t rows = ((B + procs - 1) / procs + 15) / 16 * 16;
    return rows > 64 ? rows : 64;
}
static int64_t cell_blocks(const cell_engine *E) { return (E->B + E->rows - 1) / E->rows; }
static void block_rows(const cell_engine *E, int64_t k, int64_t *b0, int64_t *b1) {
    *b0 = k * E->rows;
    *b1 = *b0 + E->rows < E->B ? *b0 + E->rows : E->B;
}

/* h_{t-1} and c_{t-1} of every sample, (B, H): the step before, the initial state's at t = 0, or NULL for zeros */
static const plast_real *h_before(const cell_engine *E, int64_t t) {
    if (t > 0) return E->HS + (t - 1) * E->B * E->L.H;
    return E->init ? plast_state_view(E->init, E->L.h) : NULL;
}
static const plast_real *c_before(const cell_engine *E, int64_t t) {
    if (t > 0) return E->C + (t - 1) * E->B * E->L.H;
    return E->init ? plast_state_view(E->init, E->L.c) : NULL;
}

/* the input half of z for rows r0 .. r0 + rows - 1 (x holds them): x W_x + b into Z, x into XS */
static void input_forward(cell_engine *E, plast_params *p, const plast_real *x, int64_t r0, int64_t rows) {
    const int64_t I = E->L.I, G = E->L.G;
    const plast_real *W = plast_params_value(p, E->L.w), *bias = plast_params_value(p, E->L.b);
    memcpy(E->XS + r0 * I, x, (size_t)(rows * I) * sizeof(plast_real));
    plast_real *z = E->Z + r0 * G;
    plast_gemm(0, 0, rows, G, I, 1, x, I, W, G, 0, z, G);
#pragma omp parallel for schedule(static) num_threads(threads_for(rows))
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < G; j++) z[r * G + j] += bias[j];
}

/* the cell on rows [b0, b1) of step t, whose z holds x W_x + b: z += h_{t-1} W_h (one product on those rows), then
 * the cell's arithmetic and h_t; the energy per sample if asked. One thread's share of a step: the product runs
 * single-threaded inside the parallel region, so a step costs one fork and one join. */
static void cell_rows_forward(cell_engine *E, const plast_real *W, int64_t t, int64_t b0, int64_t b1,
                              plast_real *energy_t) {
    const int64_t B = E->B, I = E->L.I, H = E->L.H, G = E->L.G, n = b1 - b0;
    plast_real *z = E->Z + t * B * G, *h = E->HS + t * B * H;
    const plast_real *h_prev = h_before(E, t), *c_all = E->L.kind == PLAST_CELL_LSTM ? c_before(E, t) : NULL;
    if (h_prev && n > 0) plast_gemm(0, 0, n, G, H, 1, h_prev + b0 * H, H, W + I * G, G, 1, z + b0 * G, G);
    for (int64_t b = b0; b < b1; b++) {
        plast_real *zb = z + b * G, *hb = h + b * H;
        if (energy_t) {
            const plast_real *xb = E->XS + (t * B + b) * I;
            plast_real e = 0;
            for (int64_t i = 0; i < I; i++) e += xb[i] * xb[i] * E->CW[i];
            if (h_prev)
                for (int64_t i = 0; i < H; i++) e += h_prev[b * H + i] * h_prev[b * H + i] * E->CW[I + i];
            energy_t[b] = e;
        }
        if (E->L.kind == PLAST_CELL_RNN) {
            act_rows(E->L.act, zb, hb, H);
            continue;
        }
        /* the gates in place: i, f sigmoid; g tanh; o sigmoid */
        act_rows(PLAST_ACT_SIGMOID, zb, zb, 2 * H);
        act_rows(PLAST_ACT_TANH, zb + 2 * H, zb + 2 * H, H);
        act_rows(PLAST_ACT_SIGMOID, zb + 3 * H, zb + 3 * H, H);
        const plast_real *gi = zb, *gf = zb + H, *gg = zb + 2 * H, *go = zb + 3 * H;
        plast_real *c = E->C + (t * B + b) * H;
        if (c_all) {
            const plast_real *c_prev = c_all + b * H;
            for (int64_t j = 0; j < H; j++) c[j] = gf[j] * c_prev[j] + gi[j] * gg[j];
        } else {
            for (int64_t j = 0; j < H; j++) c[j] = gi[j] * gg[j];
        }
        act_rows(PLAST_ACT_TANH, c, hb, H);
        for (int64_t j = 0; j < H; j++) hb[j] *= go[j];
    }
}

/* steps [t0, t1) of every sample, their input halves already in Z; energy (t1 - t0, B) or NULL. One parallel region
 * for all the steps: a block's step t needs only its own rows of step t - 1, and a static schedule gives each thread
 * the same blocks at every step, so the threads never wait for each other between steps (nowait). */
static void cell_steps_forward(cell_engine *E, plast_params *p, int64_t t0, int64_t t1, plast_real *energy) {
    const plast_real *W = plast_params_value(p, E->L.w);
    const int nt = threads_for(E->B);
#pragma omp parallel num_threads(nt)
    for (int64_t t = t0; t < t1; t++) {
#pragma omp for schedule(static) nowait
        for (int64_t k = 0; k < cell_blocks(E); k++) {
            int64_t b0, b1;
            block_rows(E, k, &b0, &b1);
            cell_rows_forward(E, W, t, b0, b1, energy ? energy + (t - t0) * E->B : NULL);
        }
    }
}

/* the energy's weights sum_j |W_ij| */
static void energy_weights(cell_engine *E, plast_params *p) {
    const plast_real *W = plast_params_value(p, E->L.w);
    for (int64_t i = 0; i < E->P; i++) {
        plast_real s = 0;
        for (int64_t j = 0; j < E->L.G; j++) s += fabs(W[i * E->L.G + j]);
        E->CW[i] = s;
    }
}

static plast_status cell_forward(plast_engine *eng, plast_params *p, const plast_real *x, plast_real *y,
                                 plast_real *modulation, plast_real *energy, int train, plast_err *err) {
    (void)train, (void)err;
    cell_engine *E = eng->impl;
    const int64_t B = E->B, T = E->T;
    E->init = eng->initial;
    if (energy) energy_weights(E, p);
    input_forward(E, p, x, 0, T * B);
    cell_steps_forward(E, p, 0, T, energy);
    if (eng->final) { /* the last step's h and c: the trial's state */
        const int64_t H = E->L.H;
        memcpy(plast_state_data(eng->final, E->L.h), E->HS + (T - 1) * B * H, (size_t)(B * H) * sizeof(plast_real));
        if (E->L.kind == PLAST_CELL_LSTM)
            memcpy(plast_state_data(eng->final, E->L.c), E->C + (T - 1) * B * H, (size_t)(B * H) * sizeof(plast_real));
    }
    if (modulation) memset(modulation, 0, (size_t)(T * B) * sizeof(plast_real));
    engine_readout_forward(p, E->L.readout.w, E->L.readout.b, 0, E->HS, T * B, E->L.H, E->L.H, E->O, y);
    return PLAST_OK;
}

static plast_status cell_step(plast_engine *eng, plast_params *p, int64_t t, const plast_real *x_t, plast_real *y_t,
                              plast_real *modulation_t, plast_real *energy_t, plast_err *err) {
    (void)err;
    cell_engine *E = eng->impl;
    if (t == 0) E->init = eng->initial;
    if (t == 0 && energy_t) energy_weights(E, p);
    input_forward(E, p, x_t, t * E->B, E->B);
    cell_steps_forward(E, p, t, t + 1, energy_t);
    if (modulation_t) memset(modulation_t, 0, (size_t)E->B * sizeof(plast_real));
    engine_readout_forward(p, E->L.readout.w, E->L.readout.b, 0, E->HS + t * E->B * E->L.H, E->B, E->L.H, E->L.H,
                           E->O, y_t);
    return PLAST_OK;
}

/* rows [b0, b1) of step t backwards: GH holds d loss / d h_t (the readout's and step t + 1's), GC d loss / d c_t
 * from step t + 1; dz into DZ, then GH becomes d loss / d h_{t-1} (the readout's part, then dz W_h^T added by one
 * product on those rows) and GC d loss / d c_{t-1} */
static void cell_rows_backward(cell_engine *E, const plast_real *W, int64_t t, int64_t b0, int64_t b1) {
    const int64_t B = E->B, I = E->L.I, H = E->L.H, G = E->L.G, n = b1 - b0;
    const plast_real *z = E->Z + t * B * G, *h = E->HS + t * B * H;
    const plast_real *c_all = E->L.kind == PLAST_CELL_LSTM ? c_before(E, t) : NULL;
    plast_real *dz = E->DZ + t * B * G;
    for (int64_t b = b0; b < b1; b++) {
        plast_real *gh = E->GH + b * H, *gc = E->GC + b * H, *dzb = dz + b * G;
        const plast_real *zb = z + b * G, *hb = h + b * H;
        if (E->L.kind == PLAST_CELL_RNN) {
            act_grad_rows(E->L.act, zb, hb, gh, dzb, H);
            continue;
        }
        const plast_real *c = E->C + (t * B + b) * H;
        const plast_real *gi = zb, *gf = zb + H, *gg = zb + 2 * H, *go = zb + 3 * H;
        plast_real *tc = dzb + H; /* tanh(c_t), in the forget gate's slot until it is written */
        act_rows(PLAST_ACT_TANH, c, tc, H);
        for (int64_t j = 0; j < H; j++) {
            const plast_real dc = gc[j] + gh[j] * go[j] * (1 - tc[j] * tc[j]);
            dzb[3 * H + j] = gh[j] * tc[j] * go[j] * (1 - go[j]);
            dzb[j] = dc * gg[j] * gi[j] * (1 - gi[j]);
            dzb[2 * H + j] = dc * gi[j] * (1 - gg[j] * gg[j]);
            gc[j] = dc; /* d loss / d c_t for now; times f below */
        }
        if (c_all) {
            const plast_real *c_prev = c_all + b * H;
            for (int64_t j = 0; j < H; j++) dzb[H + j] = gc[j] * c_prev[j] * gf[j] * (1 - gf[j]);
        } else {
            for (int64_t j = 0; j < H; j++) dzb[H + j] = 0;
        }
        for (int64_t j = 0; j < H; j++) gc[j] *= gf[j];
    }
    if (t == 0 || n == 0) return;
    /* d loss / d h_{t-1} = the readout's + dz W_h^T */
    memcpy(E->GH + b0 * H, E->GHY + ((t - 1) * B + b0) * H, (size_t)(n * H) * sizeof(plast_real));
    plast_gemm(0, 1, n, H, G, 1, dz + b0 * G, G, W + I * G, G, 1, E->GH + b0 * H, H);
}

static plast_status cell_backward(plast_engine *eng, plast_params *p, const plast_real *dy, plast_err *err) {
    (void)err;
    cell_engine *E = eng->impl;
    const int64_t B = E->B, T = E->T, I = E->L.I, H = E->L.H, G = E->L.G, O = E->O;
    /* the readout: d h of every row, d R and d r */
    engine_readout_backward(p, E->L.readout.w, E->L.readout.b, 0, E->HS, dy, T * B, H, H, O, E->GHY);
    const plast_real *W = plast_params_value(p, E->L.w);
    memcpy(E->GH, E->GHY + (T - 1) * B * H, (size_t)(B * H) * sizeof(plast_real));
    memset(E->GC, 0, (size_t)(B * H) * sizeof(plast_real));
    /* one parallel region for all the steps, as cell_steps_forward: a block's step t - 1 needs only its own rows
     * of GH and GC from step t */
    const int nt = threads_for(B);
#pragma omp parallel num_threads(nt)
    for (int64_t t = T - 1; t >= 0; t--) {
#pragma omp for schedule(static) nowait
        for (int64_t k = 0; k < cell_blocks(E); k++) {
            int64_t b0, b1;
            block_rows(E, k, &b0, &b1);
            cell_rows_backward(E, W, t, b0, b1);
        }
    }
    /* the weights over every (step, sample) row at once: W_x from x_t, W_h from h_{t-1} (zero or the initial
     * state's at t = 0) */
    plast_real *gW = plast_params_grad(p, E->L.w);
    plast_gemm(1, 0, I, G, T * B, 1, E->XS, I, E->DZ, G, 1, gW, G);
    if (T > 1) plast_gemm(1, 0, H, G, (T - 1) * B, 1, E->HS, H, E->DZ + B * G, G, 1, gW + I * G, G);
    if (h_before(E, 0)) plast_gemm(1, 0, H, G, B, 1, h_before(E, 0), H, E->DZ, G, 1, gW + I * G, G);
    /* d loss / d x_t = dz_t W_x^T */
    if (E->DX) plast_gemm(0, 1, T * B, I, G, 1, E->DZ, G, W, G, 0, E->DX, I);
    plast_real *gb = plast_params_grad(p, E->L.b);
    for (int64_t r = 0; r < T * B; r++)
        for (int64_t j = 0; j < G; j++) gb[j] += E->DZ[r * G + j];
    return PLAST_OK;
}

static void cell_release(plast_engine *eng) {
    cell_engine *E = eng->impl;
    if (E) free(E->block);
    free(E);
}

static size_t cell_bytes(const plast_engine *eng) { return ((const cell_engine *)eng->impl)->bytes; }

/* the products: z forward, d p and d W backward, and the readout */
static double cell_flops(const plast_engine *eng) {
    const cell_engine *E = eng->impl;
    const double BT = (double)E->B * (double)E->T, PG = (double)E->P * (double)E->L.G;
    const double HO = (double)E->L.H * (double)E->O;
    return BT * (2 * PG + 2 * HO) + BT * (4 * PG + 4 * HO);
}

static const plast_real *cell_input_grad(const plast_engine *eng) { return ((const cell_engine *)eng->impl)->DX; }

static const engine_path CELL_PATH = {cell_forward, cell_backward, cell_release, cell_bytes, cell_flops, cell_step,
                                      cell_input_grad, 1};

int engine_cell_supports(const plast_model *m, int want_energy, char *why, size_t cap) {
    (void)want_energy; /* the cell path computes the energy */
    plast_cell_layer L;
    if (!m->family->cell || !m->family->cell(m, &L)) {
        snprintf(why, cap, "the %s family is not one non-plastic recurrent cell", m->family->name);
        return 0;
    }
    return 1;
}

static void layout_buffers(void *impl, engine_plan *pl) {
    cell_engine *E = impl;
    const int64_t B = E->B, T = E->T, H = E->L.H, G = E->L.G, P = E->P;
    E->XS = engine_plan_carve(pl, T * B * E->L.I);
    E->Z = engine_plan_carve(pl, T * B * G);
    E->C = E->L.kind == PLAST_CELL_LSTM ? engine_plan_carve(pl, T * B * H) : NULL;
    E->HS = engine_plan_carve(pl, T * B * H);
    E->GHY = engine_plan_carve(pl, T * B * H);
    E->DZ = engine_plan_carve(pl, T * B * G);
    E->GH = engine_plan_carve(pl, B * H);
    E->GC = engine_plan_carve(pl, B * H);
    E->DX = E->want_dx ? engine_plan_carve(pl, T * B * E->L.I) : NULL;
    E->CW = engine_plan_carve(pl, P);
}

plast_status engine_cell_init(plast_engine *eng, plast_err *err) {
    const plast_model *m = eng->model;
    cell_engine *E = calloc(1, sizeof *E);
    if (!E) return plast_err_set(err, PLAST_ERR_NOMEM, "engine: out of memory");
    m->family->cell(m, &E->L);
    E->B = eng->B, E->T = eng->T, E->O = m->O, E->P = E->L.I + E->L.H, E->want_dx = eng->want_dx;
    E->rows = block_size(E->B);
    return engine_plan_open(eng, E, sizeof *E, layout_buffers, &E->block, &E->bytes, &CELL_PATH, "cell path", err);
}
