/* tests/test_meta_e2e.c: end-to-end meta-gradient through gradient-based plasticity, against finite differences.
 *
 * A small layer whose weight is updated inside the sequence by its own gradient of an internal loss, as in
 * Duan et al. 2023 (gradient rule), unrolled over T steps:
 *     o_t   = tanh(x_t (W + P_{t-1}) + b)                       per sample, P_0 = 0
 *     L_int = mean((w_int * o_t)^2)
 *     P_t   = (1 - lambda) P_{t-1} + eta * alpha * dL_int/dP_{t-1}     (the inner gradient, kept on the tape)
 *     L     = (1/T) sum_t mse(o_t, y_t)
 * dL/d(W, b, alpha, w_int) needs the derivative of the inner gradient: second order. It must match central finite
 * differences in float64 before and after a few meta-training steps, it must differ from the first-order
 * approximation that detaches the inner gradient (so the test does exercise second order), and meta-training must
 * lower the loss.
 */
#include "plast.h"
#include "test.h"

#ifndef PLAST_DOUBLE
#error "finite-difference tests need the float64 build (plast64)"
#endif

enum { B = 3, T = 5, I = 4, O = 3 };
static const double ETA = 0.5, LAMBDA = 0.1;

typedef struct batch {
    double x[T][B * I];
    double y[T][B * O];
} batch;

/* Records the unrolled trial on t and returns the meta-loss. */
static plast_node *meta_loss(plast_tape *t, plast_params *p, const batch *d, int second_order) {
    plast_node *W = plast_tape_param(t, p, 0), *b = plast_tape_param(t, p, 1);
    plast_node *alpha = plast_tape_param(t, p, 2), *w_int = plast_tape_param(t, p, 3);
    plast_node *P = plast_tape_const(t, PLAST_SHAPE3(B, I, O), NULL);
    plast_node *loss = NULL;
    for (int s = 0; s < T; s++) {
        plast_node *x = plast_tape_const(t, PLAST_SHAPE3(B, 1, I), d->x[s]);
        plast_node *y = plast_tape_const(t, PLAST_SHAPE3(B, 1, O), d->y[s]);
        plast_node *o = plast_tanh(t, plast_add(t, plast_matmul(t, x, plast_add(t, W, P), 0, 0), b));
        plast_node *l_int = plast_mean_all(t, plast_square(t, plast_mul(t, o, w_int)));
        plast_node *G;
        plast_tape_grad(t, l_int, NULL, 1, &P, &G, second_order);
        if (!second_order) G = plast_detach(t, G);
        P = plast_add(t, plast_scale(t, P, 1 - LAMBDA), plast_scale(t, plast_mul(t, alpha, G), ETA));
        plast_node *step = plast_mse(t, o, y);
        loss = loss ? plast_add(t, loss, step) : step;
    }
    return plast_scale(t, loss, 1.0 / T);
}

static double loss_value(plast_tape *t, plast_params *p, const batch *d) {
    plast_tape_reset(t);
    plast_node *l = meta_loss(t, p, d, 1);
    return l ? plast_node_item(l) : NAN;
}

/* Compares the meta-gradient with central differences on every parameter; returns the number of mismatches. */
static int check_meta_gradient(plast_tape *t, plast_params *p, const batch *d, const char *when) {
    plast_params_zero_grad(p);
    plast_tape_reset(t);
    plast_tape_backward(t, meta_loss(t, p, d, 1));
    CHECK(plast_tape_status(t) == PLAST_OK, "%s: backward: %s", when, plast_tape_error(t));
    int64_t n = plast_params_numel(p);
    double *grad = malloc((size_t)n * sizeof *grad), *first = malloc((size_t)n * sizeof *first);
    for (int64_t i = 0; i < n; i++) grad[i] = plast_params_grads(p)[i];
    plast_params_zero_grad(p);
    plast_tape_reset(t);
    plast_tape_backward(t, meta_loss(t, p, d, 0));
    for (int64_t i = 0; i < n; i++) first[i] = plast_params_grads(p)[i];

    int bad = 0;
    double max_g = 0, max_diff_first = 0;
    plast_real *v = plast_params_values(p);
    const double eps = 1e-6;
    for (int64_t i = 0; i < n; i++) {
        double keep = v[i];
        v[i] = keep + eps;
        double lp = loss_value(t, p, d);
        v[i] = keep - eps;
        double lm = loss_value(t, p, d);
        v[i] = keep;
        double fd = (lp - lm) / (2 * eps);
        if (!test_close(grad[i], fd, 1e-6, 1e-9) && bad++ < 5)
            fprintf(stderr, "  %s: dL/dtheta[%lld] analytic %.12g, finite difference %.12g\n", when, (long long)i,
                    grad[i], fd);
        max_g = fmax(max_g, fabs(grad[i]));
        max_diff_first = fmax(max_diff_first, fabs(grad[i] - first[i]));
    }
    CHECK(bad == 0, "%s: %d meta-gradient entries disagree with finite differences", when, bad);
    CHECK(max_g > 1e-3, "%s: the meta-gradient is (nearly) zero: %g", when, max_g);
    CHECK(max_diff_first > 1e-4 * max_g, "%s: second-order terms change the meta-gradient (by %g of %g)", when,
          max_diff_first, max_g);
    printf("%s: %lld meta-gradient entries match finite differences (max |g| %.3g, second-order part %.3g)\n", when,
           (long long)n, max_g, max_diff_first);
    free(grad);
    free(first);
    return bad;
}

int main(void) {
    plast_param_spec specs[4] = {{"w", PLAST_SHAPE2(I, O)}, {"b", PLAST_SHAPE1(O)}, {"alpha", PLAST_SHAPE2(I, O)},
                                 {"w_int", PLAST_SHAPE1(O)}};
    plast_params *p = plast_params_init(4, specs, NULL);
    plast_rng rng;
    plast_rng_init(&rng, 7, 0);
    plast_rng_fill_uniform(&rng, plast_params_value(p, 0), I * O, -0.5, 0.5);
    plast_rng_fill_uniform(&rng, plast_params_value(p, 1), O, -0.5, 0.5);
    plast_rng_fill_uniform(&rng, plast_params_value(p, 2), I * O, -1, 1);
    for (int k = 0; k < O; k++) plast_params_value(p, 3)[k] = 1;
    batch d;
    for (int s = 0; s < T; s++) {
        for (int k = 0; k < B * I; k++) d.x[s][k] = plast_rng_uniform_in(&rng, -1, 1);
        for (int k = 0; k < B * O; k++) d.y[s][k] = plast_rng_uniform_in(&rng, -1, 1);
    }
    plast_tape *t = plast_tape_init(NULL);
    check_meta_gradient(t, p, &d, "at initialisation");

    /* meta-train with AdamW (amsgrad), as the papers do */
    plast_optim_config cfg = plast_optim_config_default(PLAST_OPTIM_ADAMW);
    cfg.lr = 0.02;
    cfg.amsgrad = 1;
    cfg.weight_decay = 0;
    plast_optim *opt = plast_optim_init(&cfg, p, NULL);
    double first_loss = loss_value(t, p, &d), last_loss = first_loss;
    for (int step = 0; step < 60; step++) {
        plast_params_zero_grad(p);
        plast_tape_reset(t);
        plast_node *l = meta_loss(t, p, &d, 1);
        last_loss = plast_node_item(l);
        plast_tape_backward(t, l);
        plast_params_clip_grad_norm(p, 5.0);
        plast_optim_step(opt, p, cfg.lr, NULL);
    }
    printf("meta-training: loss %.4f -> %.4f\n", first_loss, last_loss);
    CHECK(last_loss < 0.7 * first_loss, "meta-training lowers the loss: %g -> %g", first_loss, last_loss);
    check_meta_gradient(t, p, &d, "after 60 meta-training steps");
    plast_optim_free(opt);
    plast_tape_free(t);
    plast_params_free(p);
    return test_finish("test_meta_e2e");
}
