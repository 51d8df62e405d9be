/* src/autodiff/ops_softmax.c: softmax and log-softmax over the last axis, and the two losses. */
#include <math.h>
#include <stdio.h>
#include <tgmath.h>

#include "autodiff/tape_internal.h"

static plast_status shape_last_axis(plast_node *const *in, int n_in, const plast_op_params *p, plast_shape *out,
                                    char *why, size_t why_cap) {
    (void)n_in, (void)p;
    if (in[0]->shape.ndim < 1 || in[0]->shape.d[in[0]->shape.ndim - 1] < 1) {
        snprintf(why, why_cap, "needs a non-empty last axis");
        return PLAST_ERR_SHAPE;
    }
    *out = in[0]->shape;
    return PLAST_OK;
}

/* rows of length C: y = x - logsumexp(x) (log) or exp of that (softmax), stable under large x */
static void softmax_rows(const plast_node *X, plast_real *y, int log_space) {
    const int64_t C = X->shape.d[X->shape.ndim - 1], R = X->numel / C;
#pragma omp parallel for if (X->numel >= PLAST_PAR_MIN)
    for (int64_t r = 0; r < R; r++) {
        const plast_real *x = X->data + r * C;
        plast_real *yr = y + r * C;
        plast_real mx = x[0];
        for (int64_t c = 1; c < C; c++) mx = x[c] > mx ? x[c] : mx;
        double s = 0;
        for (int64_t c = 0; c < C; c++) s += exp((double)(x[c] - mx));
        if (log_space) {
            plast_real lse = mx + (plast_real)log(s);
            for (int64_t c = 0; c < C; c++) yr[c] = x[c] - lse;
        } else {
            for (int64_t c = 0; c < C; c++) yr[c] = (plast_real)(exp((double)(x[c] - mx)) / s);
        }
    }
}

static void fwd_softmax(plast_node *y) { softmax_rows(y->in[0], y->data, 0); }
static void fwd_log_softmax(plast_node *y) { softmax_rows(y->in[0], y->data, 1); }

/* dx = y (gy - sum_c gy y) */
static void bwd_softmax(plast_tape *t, plast_node *y, plast_node *gy, const uint8_t *need, plast_node **gin) {
    (void)need;
    plast_node *dot = plast_sum(t, plast_mul(t, gy, y), -1, 1);
    gin[0] = plast_mul(t, y, plast_sub(t, gy, dot));
}

/* dx = gy - exp(y) sum_c gy */
static void bwd_log_softmax(plast_tape *t, plast_node *y, plast_node *gy, const uint8_t *need, plast_node **gin) {
    (void)need;
    gin[0] = plast_sub(t, gy, plast_mul(t, plast_exp(t, y), plast_sum(t, gy, -1, 1)));
}

const plast_op_def plast_op_softmax = {"softmax", "y = exp(x) / sum_c exp(x);  dx = y (gy - sum_c gy y)", 1,
                                       shape_last_axis, fwd_softmax, bwd_softmax, 0};
const plast_op_def plast_op_log_softmax = {"log_softmax", "y = x - log sum_c exp(x);  dx = gy - exp(y) sum_c gy",
                                           1, shape_last_axis, fwd_log_softmax, bwd_log_softmax, 0};

plast_node *plast_softmax(plast_tape *t, plast_node *x) { return plast_tape_op(t, PLAST_OP_SOFTMAX, 1, &x, NULL); }
plast_node *plast_log_softmax(plast_tape *t, plast_node *x) {
    return plast_tape_op(t, PLAST_OP_LOG_SOFTMAX, 1, &x, NULL);
}

/* ---- losses ------------------------------------------------------------------------------------------------ */

static plast_status shape_loss(plast_node *const *in, int n_in, const plast_op_params *p, plast_shape *out,
                               char *why, size_t why_cap) {
    (void)n_in, (void)p;
    if (!plast_shape_equal(in[0]->shape, in[1]->shape) || in[0]->numel < 1) {
        char a[96], b[96];
        snprintf(why, why_cap, "prediction %s and target %s must have the same non-empty shape",
                 plast_shape_format(in[0]->shape, a, sizeof a), plast_shape_format(in[1]->shape, b, sizeof b));
        return PLAST_ERR_SHAPE;
    }
    *out = PLAST_SHAPE0();
    return PLAST_OK;
}

static void fwd_mse(plast_node *y) {
    const plast_real *a = y->in[0]->data, *b = y->in[1]->data;
    const int64_t n = y->in[0]->numel;
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
    y->data[0] = (plast_real)(s / (double)n);
}

/* L = mean((a - b)^2): da = (2/n) gy (a - b), db = -da */
static void bwd_mse(plast_tape *t, plast_node *y, plast_node *gy, const uint8_t *need, plast_node **gin) {
    plast_node *d = plast_scale(t, plast_mul(t, plast_sub(t, y->in[0], y->in[1]), gy), 2.0 / (double)y->in[0]->numel);
    if (need[0]) gin[0] = d;
    if (need[1]) gin[1] = plast_neg(t, d);
}

const plast_op_def plast_op_mse = {"mse", "L = mean((a - b)^2);  da = 2 gy (a - b) / n, db = -da", 2, shape_loss,
                                   fwd_mse, bwd_mse, 0};

static plast_status shape_cross_entropy(plast_node *const *in, int n_in, const plast_op_params *p, plast_shape *out,
                                        char *why, size_t why_cap) {
    if (in[0]->shape.ndim < 1) {
        snprintf(why, why_cap, "logits need a class axis");
        return PLAST_ERR_SHAPE;
    }
    return shape_loss(in, n_in, p, out, why, why_cap);
}

static void fwd_cross_entropy(plast_node *y) {
    const plast_node *X = y->in[0], *T = y->in[1];
    const int64_t C = X->shape.d[X->shape.ndim - 1], R = X->numel / C;
    double total = 0;
    for (int64_t r = 0; r < R; r++) {
        const plast_real *x = X->data + r * C, *tr = T->data + r * C;
        plast_real mx = x[0];
        for (int64_t c = 1; c < C; c++) mx = x[c] > mx ? x[c] : mx;
        double s = 0;
        for (int64_t c = 0; c < C; c++) s += exp((double)(x[c] - mx));
        double lse = (double)mx + log(s);
        for (int64_t c = 0; c < C; c++) total -= (double)tr[c] * ((double)x[c] - lse);
    }
    y->data[0] = (plast_real)(total / (double)R);
}

/* L = -(1/R) sum t log_softmax(x): dx = gy (softmax(x) sum_c t - t) / R, dt = -gy log_softmax(x) / R */
static void bwd_cross_entropy(plast_tape *t, plast_node *y, plast_node *gy, const uint8_t *need, plast_node **gin) {
    plast_node *x = y->in[0], *tg = y->in[1];
    const int64_t C = x->shape.d[x->shape.ndim - 1], R = x->numel / C;
    if (need[0]) {
        plast_node *d = plast_sub(t, plast_mul(t, plast_softmax(t, x), plast_sum(t, tg, -1, 1)), tg);
        gin[0] = plast_scale(t, plast_mul(t, d, gy), 1.0 / (double)R);
    }
    if (need[1]) gin[1] = plast_scale(t, plast_mul(t, plast_log_softmax(t, x), gy), -1.0 / (double)R);
}

const plast_op_def plast_op_cross_entropy = {
    "cross_entropy", "L = -(1/R) sum t log_softmax(x);  dx = gy (softmax(x) sum_c t - t) / R", 2,
    shape_cross_entropy, fwd_cross_entropy, bwd_cross_entropy, 0};

plast_node *plast_mse(plast_tape *t, plast_node *y, plast_node *target) {
    plast_node *in[2] = {y, target};
    return plast_tape_op(t, PLAST_OP_MSE, 2, in, NULL);
}

plast_node *plast_cross_entropy(plast_tape *t, plast_node *logits, plast_node *target) {
    plast_node *in[2] = {logits, target};
    return plast_tape_op(t, PLAST_OP_CROSS_ENTROPY, 2, in, NULL);
}
