/* src/tasks/regression.c: few-shot regression, Duan et al. 2023 (reference Regression; docs/tasks/regression.md). Each trial draws a function f with torch's nn.Linear initialisation (weights and biases
 * ~ U[-1/sqrt(fan_in), 1/sqrt(fan_in)]): linear, Linear(12, 1); or mlp, Linear(6, 2) -> tanh -> Linear(2, 1).
 * K + 20 points v ~ U[-1, 1]^d, values standardised over the trial (mean 0, unbiased std 1):
 *   support steps 0..K-1:   x = [v | f(v) + N(0, 0.1^2) | 1]
 *   query steps:            x = [v | 0 | 0]
 * The target is f(v) at every step; the loss (mean squared error) averages all K + 20 steps, support included,
 * as the reference. Chance (answering 0): the mean square of standardised values, (N - 1) / N for N points. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tasks/task_internal.h"

typedef struct reg_priv {
    int mlp;
    int64_t vars, K, Q;
    double noise;
} reg_priv;

static plast_status reg_init(plast_task *t, plast_err *err) {
    reg_priv *p = PLAST_TASK_PRIV(t, reg_priv);
    p->mlp = strcmp(t->cfg.function, "mlp") == 0;
    p->vars = plast_task_or(t->cfg.dim, p->mlp ? 6 : 12);
    p->K = plast_task_or(t->cfg.shots, 10);
    p->Q = plast_task_or(t->cfg.queries, 20);
    p->noise = t->cfg.noise >= 0 ? t->cfg.noise : 0.1;
    if (p->vars < 1 || p->vars > 64) return plast_task_cfg_fail(err, "dim", "regression takes 1 to 64 variables");
    if (p->K + p->Q < 2) return plast_task_cfg_fail(err, "shots", "regression needs at least 2 points");
    t->I = p->vars + 2, t->O = 1, t->T = p->K + p->Q;
    t->loss = PLAST_LOSS_MSE, t->metric = PLAST_METRIC_MSE;
    t->chance_loss = t->chance_metric = (double)(t->T - 1) / (double)t->T;
    snprintf(t->description, sizeof t->description, "few-shot regression, %s d=%lld, K=%lld", p->mlp ? "mlp" : "linear",
             (long long)p->vars, (long long)p->K);
    return PLAST_OK;
}

static plast_status reg_sample(const plast_task *t, plast_rng *rng, int split, plast_batch *b, plast_err *err) {
    (void)split, (void)err;
    const reg_priv *p = (const reg_priv *)t->priv;
    const int64_t B = b->B, I = t->I, T = t->T, d = p->vars;
    double w1[64 * 2], b1[2], w2[2] = {0, 0}, b2 = 0, v[1024];
    double x[64];
    for (int64_t s = 0; s < B; s++) {
        /* the function */
        const int hidden = p->mlp ? 2 : 1;
        double k1 = 1 / sqrt((double)d);
        for (int64_t i = 0; i < d * hidden; i++) w1[i] = plast_rng_uniform_in(rng, -k1, k1);
        for (int j = 0; j < hidden; j++) b1[j] = plast_rng_uniform_in(rng, -k1, k1);
        double k2 = 1 / sqrt(2.0);
        if (p->mlp) {
            for (int j = 0; j < 2; j++) w2[j] = plast_rng_uniform_in(rng, -k2, k2);
            b2 = plast_rng_uniform_in(rng, -k2, k2);
        }
        /* the points and their values */
        double mean = 0;
        for (int64_t tt = 0; tt < T; tt++) {
            for (int64_t i = 0; i < d; i++) {
                x[i] = plast_rng_uniform_in(rng, -1, 1);
                PLAST_AT(b->x, tt, s, i, B, I) = (plast_real)x[i];
            }
            double out = 0;
            for (int j = 0; j < hidden; j++) {
                double a = b1[j];
                for (int64_t i = 0; i < d; i++) a += w1[j * d + i] * x[i];
                out += p->mlp ? w2[j] * tanh(a) : a;
            }
            if (p->mlp) out += b2;
            v[tt] = out;
            mean += out / (double)T;
        }
        double var = 0;
        for (int64_t tt = 0; tt < T; tt++) var += (v[tt] - mean) * (v[tt] - mean) / (double)(T - 1);
        double sd = sqrt(var) > 1e-12 ? sqrt(var) : 1;
        for (int64_t tt = 0; tt < T; tt++) {
            double val = (v[tt] - mean) / sd;
            PLAST_AT(b->target, tt, s, 0, B, 1) = (plast_real)val;
            if (tt < p->K) {
                PLAST_AT(b->x, tt, s, d, B, I) = (plast_real)(val + p->noise * plast_rng_normal(rng));
                PLAST_AT(b->x, tt, s, d + 1, B, I) = 1;
            }
            b->loss_w[tt * B + s] = b->metric_w[tt * B + s] = 1;
        }
    }
    return PLAST_OK;
}

const plast_task_def plast_task_regression = {"regression",
                                              "Duan et al. 2023: infer a random function from K noisy examples",
                                              reg_init, reg_sample, NULL};
