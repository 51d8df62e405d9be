/* src/cli/cmd_demo.c: `plast demo`: meta-training a gradient-plasticity layer with the tape alone.
 *
 * The task is in-context association: each trial draws a fresh value for each of `keys` one-hot keys. The first
 * `keys` steps show every key with its value and a flag; the `queries` steps that follow show a key alone and the
 * target is its value. Nothing in the slow weights can know the values, so anything below chance (the variance
 * of the values, 1/3) has been learned inside the trial, by plasticity.
 *
 * The layer follows Duan et al. 2023's gradient rule in its simplest form: o_t = x_t (W + P_{t-1}) + b, internal
 * loss L_int = (1/D) sum_b sum_k (w_k o_k)^2, P_t = (1 - decay) P_{t-1} + eta * alpha * dL_int/dP_{t-1}. The
 * meta-gradient differentiates through the inner gradient (second order).
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"

typedef struct demo_cfg {
    int64_t keys, queries, steps, batch, seed, print_every, eval_batches;
    double eta, decay, lr, clip;
} demo_cfg;

#define F(key, type, member, def, lo, hi, help) {key, type, offsetof(demo_cfg, member), 0, def, lo, hi, NULL, help}
static const plast_cfg_field DEMO_FIELDS[] = {
    F("task.keys", PLAST_CFG_INT, keys, "4", 1, 64, "one-hot keys per trial, each shown once with its value"),
    F("task.queries", PLAST_CFG_INT, queries, "4", 1, 256, "query steps after the keys"),
    F("model.eta", PLAST_CFG_REAL, eta, "1.0", 0, 1e3, "plastic learning rate"),
    F("model.decay", PLAST_CFG_REAL, decay, "0.1", 0, 1, "plastic decay per step"),
    F("train.steps", PLAST_CFG_INT, steps, "1500", 1, 1e9, "meta-training steps"),
    F("train.batch", PLAST_CFG_INT, batch, "32", 1, 4096, "trials per step"),
    F("train.lr", PLAST_CFG_REAL, lr, "3e-3", 0, 1, "AdamW (amsgrad) learning rate"),
    F("train.clip", PLAST_CFG_REAL, clip, "5", 0, 1e9, "global gradient-norm clip"),
    F("train.seed", PLAST_CFG_INT, seed, "0", 0, 4e18, "seed"),
    F("train.print_every", PLAST_CFG_INT, print_every, "100", 1, 1e9, "progress line period (steps)"),
    F("eval.batches", PLAST_CFG_INT, eval_batches, "20", 1, 1e6, "validation batches after training"),
};
#undef F
static const plast_cfg_schema DEMO_SCHEMA = {DEMO_FIELDS, (int)(sizeof DEMO_FIELDS / sizeof DEMO_FIELDS[0]), NULL};

enum { D = 3 }; /* outputs: the value prediction and two extra outputs that shape the internal loss */

typedef struct demo_batch {
    int64_t B, T, I;
    plast_real *x; /* (T, B, I) */
    plast_real *y; /* (T, B) */
} demo_batch;

static void sample(const demo_cfg *c, plast_rng *rng, demo_batch *d) {
    const int64_t K = c->keys;
    int32_t perm[64];
    plast_real val[64];
    for (int64_t b = 0; b < d->B; b++) {
        plast_rng_permutation(rng, perm, (int32_t)K);
        for (int64_t k = 0; k < K; k++) val[k] = (plast_real)plast_rng_uniform_in(rng, -1, 1);
        for (int64_t s = 0; s < d->T; s++) {
            int64_t key = s < K ? perm[s] : (int64_t)plast_rng_below(rng, (uint32_t)K);
            plast_real *x = d->x + (s * d->B + b) * d->I;
            for (int64_t i = 0; i < d->I; i++) x[i] = 0;
            x[key] = 1;
            if (s < K) x[K] = val[key], x[K + 1] = 1;
            d->y[s * d->B + b] = val[key];
        }
    }
}

/* Records one batch of trials; returns the query-step loss. */
static plast_node *trial_loss(plast_tape *t, plast_params *p, const demo_cfg *c, const demo_batch *d,
                              int create_graph) {
    plast_node *W = plast_tape_param(t, p, 0), *b = plast_tape_param(t, p, 1);
    plast_node *alpha = plast_tape_param(t, p, 2), *w_int = plast_tape_param(t, p, 3);
    plast_node *P = plast_tape_const(t, PLAST_SHAPE3(d->B, d->I, D), NULL);
    plast_node *loss = NULL;
    for (int64_t s = 0; s < d->T; s++) {
        plast_node *x = plast_tape_const(t, PLAST_SHAPE3(d->B, 1, d->I), d->x + s * d->B * d->I);
        plast_node *o = plast_add(t, plast_matmul(t, x, plast_add(t, W, P), 0, 0), b);
        plast_node *l_int = plast_scale(t, plast_sum_all(t, plast_square(t, plast_mul(t, o, w_int))), 1.0 / D);
        plast_node *G;
        plast_tape_grad(t, l_int, NULL, 1, &P, &G, create_graph);
        P = plast_add(t, plast_scale(t, P, 1 - c->decay), plast_scale(t, plast_mul(t, alpha, G), c->eta));
        if (s >= c->keys) {
            plast_node *target = plast_tape_const(t, PLAST_SHAPE3(d->B, 1, 1), d->y + s * d->B);
            plast_node *l = plast_mse(t, plast_slice(t, o, 2, 0, 1), target);
            loss = loss ? plast_add(t, loss, l) : l;
        }
    }
    return plast_scale(t, loss, 1.0 / (double)c->queries);
}

int cmd_demo(int argc, char **argv) {
    cli_args a;
    cli_parse_args(argc, argv, 1, "demo", "quiet threads", &a);
    demo_cfg c;
    cli_load_config(DEMO_SCHEMA, &c, &a);

    const int64_t I = c.keys + 2;
    plast_param_spec specs[4] = {{"w", PLAST_SHAPE2(I, D)}, {"b", PLAST_SHAPE1(D)}, {"alpha", PLAST_SHAPE2(I, D)},
                                 {"w_int", PLAST_SHAPE1(D)}};
    plast_err err;
    plast_params *p = plast_params_init(4, specs, &err);
    if (!p) cli_fail(&err);
    plast_rng init_rng, data_rng, eval_rng;
    plast_rng_init(&init_rng, (uint64_t)c.seed, 0);
    plast_rng_init(&data_rng, (uint64_t)c.seed, 1);
    plast_rng_init(&eval_rng, (uint64_t)c.seed, 2);
    plast_rng_fill_uniform(&init_rng, plast_params_value(p, 0), (size_t)(I * D), -1 / sqrt(D), 1 / sqrt(D));
    plast_rng_fill_uniform(&init_rng, plast_params_value(p, 2), (size_t)(I * D), -1, 1);
    for (int k = 0; k < D; k++) plast_params_value(p, 3)[k] = 1;

    plast_optim_config oc = plast_optim_config_default(PLAST_OPTIM_ADAMW);
    oc.lr = c.lr;
    oc.weight_decay = 0;
    oc.amsgrad = 1;
    plast_optim *opt = plast_optim_init(&oc, p, &err);
    plast_tape *t = plast_tape_init(&err);
    demo_batch d = {c.batch, c.keys + c.queries, I, NULL, NULL};
    d.x = malloc(sizeof(plast_real) * (size_t)(d.T * d.B * d.I));
    d.y = malloc(sizeof(plast_real) * (size_t)(d.T * d.B));
    if (!opt || !t || !d.x || !d.y) cli_fail(&err);

    const double chance = 1.0 / 3.0; /* variance of U[-1, 1]: the loss of always answering 0 */
    if (!a.quiet)
        printf("demo: in-context association, %lld keys, %lld queries, gradient-rule plastic layer, %lld parameters\n",
               (long long)c.keys, (long long)c.queries, (long long)plast_params_numel(p));
    double t0 = cli_now(), avg = 0;
    for (int64_t step = 0; step < c.steps; step++) {
        sample(&c, &data_rng, &d);
        plast_tape_reset(t);
        plast_params_zero_grad(p);
        plast_node *loss = trial_loss(t, p, &c, &d, 1);
        if (plast_tape_backward(t, loss) != PLAST_OK) {
            plast_tape_take_error(t, &err);
            cli_fail(&err);
        }
        plast_params_clip_grad_norm(p, c.clip);
        plast_optim_step(opt, p, c.lr, NULL);
        double l = plast_node_item(loss);
        avg = step == 0 ? l : 0.95 * avg + 0.05 * l;
        if (!a.quiet && ((step + 1) % c.print_every == 0 || step + 1 == c.steps)) {
            double el = cli_now() - t0;
            printf("step %6lld/%lld  loss %.4f (smoothed; chance %.4f)  %.0f steps/s\n", (long long)(step + 1),
                   (long long)c.steps, avg, chance, (double)(step + 1) / el);
            fflush(stdout);
        }
    }
    /* validation on fresh trials, no outer gradient */
    double total = 0;
    for (int64_t k = 0; k < c.eval_batches; k++) {
        sample(&c, &eval_rng, &d);
        plast_tape_reset(t);
        total += plast_node_item(trial_loss(t, p, &c, &d, 0));
    }
    double val = total / (double)c.eval_batches;
    printf("validation loss %.4f over %lld trials (chance %.4f): %s\n", val, (long long)(c.eval_batches * c.batch),
           chance, val < 0.5 * chance ? "learned to learn" : "not learned");
    free(d.x);
    free(d.y);
    plast_tape_free(t);
    plast_optim_free(opt);
    plast_params_free(p);
    return 0;
}
