/* tests/test_tape.c: forward values of the ops, and the tape's behaviour: sticky errors, gradient modes, detach,
 * parameter gradients, memory reuse, third-order derivatives. (Derivatives of every op are checked against
 * finite differences in test_ops_grad.) */
#include "autodiff/tape_internal.h"
#include "plast.h"
#include "test.h"

static const double TOL = sizeof(plast_real) == 8 ? 1e-12 : 1e-5;

static plast_node *vec(plast_tape *t, plast_shape s, const double *v) {
    plast_real buf[64] = {0};
    int64_t n = plast_shape_numel(s);
    for (int64_t i = 0; i < n; i++) buf[i] = (plast_real)v[i];
    return plast_tape_const(t, s, buf);
}

static void expect_values(plast_node *y, const double *want, int64_t n, const char *what) {
    CHECK(y != NULL && plast_node_numel(y) == n, "%s: missing or wrong size", what);
    if (!y || plast_node_numel(y) != n) return;
    for (int64_t i = 0; i < n; i++) CHECK_CLOSE(plast_node_data(y)[i], want[i], TOL, TOL, "%s[%lld]", what, (long long)i);
}

static void test_forward_values(void) {
    plast_tape *t = plast_tape_init(NULL);
    const double a6[6] = {1, -2, 3, -4, 5, -6}, b3[3] = {0.5, -1, 2};
    plast_node *a = vec(t, PLAST_SHAPE2(2, 3), a6), *b = vec(t, PLAST_SHAPE1(3), b3);
    expect_values(plast_add(t, a, b), (double[]){1.5, -3, 5, -3.5, 4, -4}, 6, "add broadcast");
    expect_values(plast_mul(t, a, b), (double[]){0.5, 2, 6, -2, -5, -12}, 6, "mul broadcast");
    expect_values(plast_div(t, a, b), (double[]){2, 2, 1.5, -8, -5, -3}, 6, "div broadcast");
    expect_values(plast_div_safe(t, a, vec(t, PLAST_SHAPE1(3), (double[]){0, 2, 0})), (double[]){0, -1, 0, 0, 2.5, 0},
                  6, "div_safe with zeros");
    expect_values(plast_relu(t, a), (double[]){1, 0, 3, 0, 5, 0}, 6, "relu");
    expect_values(plast_abs(t, a), (double[]){1, 2, 3, 4, 5, 6}, 6, "abs");
    expect_values(plast_clamp(t, a, -2.5, 3), (double[]){1, -2, 3, -2.5, 3, -2.5}, 6, "clamp");
    expect_values(plast_sigmoid(t, vec(t, PLAST_SHAPE1(3), (double[]){0, 800, -800})), (double[]){0.5, 1, 0}, 3,
                  "sigmoid saturates without overflow");
    expect_values(plast_mask_mul(t, a, vec(t, PLAST_SHAPE2(2, 3), (double[]){1, -1, 0, 2, 0, -3}), PLAST_MASK_SIGN, 0,
                                 0),
                  (double[]){1, 2, 0, -4, 0, 6}, 6, "mask_mul sign");
    /* matmul: a (2,3) b (3,2) */
    plast_node *m = vec(t, PLAST_SHAPE2(3, 2), (double[]){1, 0, 0, 1, 1, 1});
    expect_values(plast_matmul(t, a, m, 0, 0), (double[]){4, 1, -10, -1}, 4, "matmul");
    expect_values(plast_matmul(t, m, a, 1, 1), (double[]){4, -10, 1, -1}, 4, "matmul transposed both");
    plast_node *ab = vec(t, PLAST_SHAPE3(2, 1, 3), a6); /* two samples of (1, 3) */
    expect_values(plast_matmul(t, ab, m, 0, 0), (double[]){4, 1, -10, -1}, 4, "matmul shared b");
    expect_values(plast_outer(t, vec(t, PLAST_SHAPE2(1, 2), (double[]){2, 3}), vec(t, PLAST_SHAPE2(1, 2), (double[]){5, 7})),
                  (double[]){10, 14, 15, 21}, 4, "outer");
    expect_values(plast_sum(t, a, 0, 0), (double[]){-3, 3, -3}, 3, "sum axis 0");
    expect_values(plast_sum(t, a, 1, 1), (double[]){2, -5}, 2, "sum axis 1");
    expect_values(plast_mean_all(t, a), (double[]){-0.5}, 1, "mean_all");
    expect_values(plast_norm2(t, vec(t, PLAST_SHAPE2(2, 2), (double[]){3, 4, 0, 0}), 1, 0), (double[]){5, 0}, 2, "norm2");
    expect_values(plast_transpose(t, a), (double[]){1, -4, -2, 5, 3, -6}, 6, "transpose");
    expect_values(plast_slice(t, a, 1, 1, 2), (double[]){-2, 3, 5, -6}, 4, "slice");
    expect_values(plast_pad(t, b, 0, 1, 5), (double[]){0, 0.5, -1, 2, 0}, 5, "pad");
    plast_node *cat_in[2] = {a, vec(t, PLAST_SHAPE2(2, 1), (double[]){9, 8})};
    expect_values(plast_concat(t, 2, cat_in, 1), (double[]){1, -2, 3, 9, -4, 5, -6, 8}, 8, "concat");
    expect_values(plast_broadcast_to(t, b, PLAST_SHAPE2(2, 3)), (double[]){0.5, -1, 2, 0.5, -1, 2}, 6, "broadcast_to");
    expect_values(plast_sum_to(t, a, PLAST_SHAPE2(1, 3)), (double[]){-3, 3, -3}, 3, "sum_to");
    /* softmax family, stable for large logits */
    plast_node *lg = vec(t, PLAST_SHAPE2(2, 3), (double[]){1000, 1000, 1000, 0, log(2.0), log(3.0)});
    expect_values(plast_softmax(t, lg), (double[]){1.0 / 3, 1.0 / 3, 1.0 / 3, 1.0 / 6, 2.0 / 6, 3.0 / 6}, 6,
                  "softmax");
    expect_values(plast_log_softmax(t, lg),
                  (double[]){-log(3.0), -log(3.0), -log(3.0), log(1.0 / 6), log(2.0 / 6), log(3.0 / 6)}, 6,
                  "log_softmax");
    plast_node *onehot = vec(t, PLAST_SHAPE2(2, 3), (double[]){0, 1, 0, 0, 0, 1});
    expect_values(plast_cross_entropy(t, lg, onehot), (double[]){(log(3.0) - log(0.5)) / 2}, 1, "cross_entropy");
    expect_values(plast_mse(t, a, vec(t, PLAST_SHAPE2(2, 3), (double[]){0, 0, 0, 0, 0, 0})), (double[]){91.0 / 6}, 1,
                  "mse");
    plast_node *ln = plast_layer_norm(t, vec(t, PLAST_SHAPE1(4), (double[]){1, 2, 3, 4}), NULL, NULL, 0);
    double sd = sqrt(1.25);
    expect_values(ln, (double[]){-1.5 / sd, -0.5 / sd, 0.5 / sd, 1.5 / sd}, 4, "layer_norm");
    plast_node *r = plast_reshape(t, a, PLAST_SHAPE2(3, 2));
    CHECK(r && plast_node_data(r) == plast_node_data(a), "reshape shares its input's values");
    CHECK(plast_tape_status(t) == PLAST_OK, "no error expected: %s", plast_tape_error(t));
    plast_tape_free(t);
}

static void test_sticky_errors(void) {
    plast_tape *t = plast_tape_init(NULL);
    plast_node *a = plast_tape_full(t, PLAST_SHAPE2(3, 4), 1), *b = plast_tape_full(t, PLAST_SHAPE2(5, 6), 1);
    plast_node *c = plast_matmul(t, a, b, 0, 0);
    CHECK(c == NULL, "a bad matmul returns NULL");
    CHECK(plast_tape_status(t) == PLAST_ERR_SHAPE, "status is a shape error");
    CHECK(strstr(plast_tape_error(t), "matmul") && strstr(plast_tape_error(t), "(3, 4)") &&
              strstr(plast_tape_error(t), "(5, 6)"),
          "the message names the op and both shapes: %s", plast_tape_error(t));
    char first[PLAST_ERR_MSG_MAX];
    snprintf(first, sizeof first, "%s", plast_tape_error(t));
    CHECK(plast_add(t, a, a) == NULL && plast_tanh(t, c) == NULL, "every later op returns NULL");
    CHECK(strcmp(first, plast_tape_error(t)) == 0, "the first error is kept");
    plast_err e;
    CHECK(plast_tape_take_error(t, &e) == PLAST_ERR_SHAPE && strcmp(e.msg, first) == 0, "take_error copies it");
    plast_tape_reset(t);
    CHECK(plast_tape_status(t) == PLAST_OK && plast_tape_node_count(t) == 0, "reset clears the error and the nodes");

    a = plast_tape_full(t, PLAST_SHAPE2(3, 4), 1);
    CHECK(plast_add(t, a, plast_tape_full(t, PLAST_SHAPE1(3), 1)) == NULL, "(3,4) + (3) does not broadcast");
    plast_tape_reset(t);
    a = plast_tape_var(t, PLAST_SHAPE2(3, 4), NULL);
    plast_node *g;
    CHECK(plast_tape_grad(t, plast_tanh(t, a), NULL, 1, &a, &g, 0) == PLAST_ERR_SHAPE &&
              strstr(plast_tape_error(t), "not a scalar"),
          "a non-scalar output needs a seed: %s", plast_tape_error(t));
    plast_tape_reset(t);
    CHECK(plast_slice(t, plast_tape_full(t, PLAST_SHAPE1(4), 0), 0, 3, 2) == NULL, "slice past the end is an error");
    plast_tape_reset(t);
    CHECK(plast_sum(t, plast_tape_full(t, PLAST_SHAPE1(4), 0), 2, 0) == NULL && strstr(plast_tape_error(t), "axis"),
          "a bad axis is an error: %s", plast_tape_error(t));
    plast_tape_reset(t);
    CHECK(plast_tanh(t, NULL) == NULL && plast_tape_status(t) == PLAST_ERR_INVALID_ARG, "a NULL input is an error");
    plast_tape_free(t);
}

static void test_gradient_modes(void) {
    plast_tape *t = plast_tape_init(NULL);
    /* differentiating with respect to a constant leaf (the zero plastic state of a trial) */
    plast_node *p0 = plast_tape_const(t, PLAST_SHAPE1(3), NULL);
    plast_node *x = plast_tape_full(t, PLAST_SHAPE1(3), 2.0);
    plast_node *l = plast_sum_all(t, plast_square(t, plast_add(t, p0, x)));
    plast_node *g;
    plast_tape_grad(t, l, NULL, 1, &p0, &g, 0);
    expect_values(g, (double[]){4, 4, 4}, 3, "gradient with respect to a constant leaf");

    /* an unreachable input gets a zero gradient of its shape */
    plast_node *u = plast_tape_var(t, PLAST_SHAPE2(2, 2), NULL);
    plast_tape_grad(t, l, NULL, 1, &u, &g, 0);
    expect_values(g, (double[]){0, 0, 0, 0}, 4, "unreachable input");

    /* detach and grad-disabled recording stop gradients */
    plast_node *v = plast_tape_full(t, PLAST_SHAPE1(2), 3.0);
    v = plast_tape_var(t, PLAST_SHAPE1(2), plast_node_data(v));
    plast_node *d = plast_mul(t, v, plast_detach(t, v));
    plast_tape_grad(t, plast_sum_all(t, d), NULL, 1, &v, &g, 0);
    expect_values(g, (double[]){3, 3}, 2, "detach: d(v * stop(v))/dv = v");
    int old = plast_tape_set_grad_enabled(t, 0);
    plast_node *frozen = plast_square(t, v);
    plast_tape_set_grad_enabled(t, old);
    CHECK(!plast_node_requires_grad(frozen), "ops recorded with gradients disabled do not require them");
    plast_tape_grad(t, plast_sum_all(t, plast_mul(t, frozen, v)), NULL, 1, &v, &g, 0);
    expect_values(g, (double[]){9, 9}, 2, "grad-disabled op is a constant");

    /* vector-Jacobian product with a seed */
    plast_node *seed = vec(t, PLAST_SHAPE1(2), (double[]){1, -2});
    plast_tape_grad(t, plast_square(t, v), seed, 1, &v, &g, 0);
    expect_values(g, (double[]){6, -12}, 2, "vector-Jacobian product");

    /* zero norm and zero division give zero gradients, not NaN */
    plast_node *z = plast_tape_var(t, PLAST_SHAPE1(3), NULL);
    plast_tape_grad(t, plast_sum_all(t, plast_norm2(t, z, 0, 0)), NULL, 1, &z, &g, 0);
    expect_values(g, (double[]){0, 0, 0}, 3, "norm2 gradient at the zero vector");
    plast_tape_grad(t, plast_sum_all(t, plast_div_safe(t, plast_tape_full(t, PLAST_SHAPE1(3), 2.0), z)), NULL, 1, &z, &g, 0);
    expect_values(g, (double[]){0, 0, 0}, 3, "div_safe gradient at zero");

    /* third order: d^3/dx^3 x^4 = 24 x */
    const plast_real x3v = (plast_real)1.5;
    plast_node *x3 = plast_tape_var(t, PLAST_SHAPE0(), &x3v);
    plast_node *f = plast_square(t, plast_square(t, x3));
    plast_node *g1, *g2, *g3;
    plast_tape_grad(t, f, NULL, 1, &x3, &g1, 1);
    plast_tape_grad(t, g1, NULL, 1, &x3, &g2, 1);
    plast_tape_grad(t, g2, NULL, 1, &x3, &g3, 0);
    expect_values(g1, (double[]){4 * 1.5 * 1.5 * 1.5}, 1, "d/dx x^4");
    expect_values(g2, (double[]){12 * 1.5 * 1.5}, 1, "d2/dx2 x^4");
    expect_values(g3, (double[]){24 * 1.5}, 1, "d3/dx3 x^4");
    CHECK(plast_tape_status(t) == PLAST_OK, "no error expected: %s", plast_tape_error(t));
    plast_tape_free(t);
}

static void test_params_backward(void) {
    plast_param_spec specs[2] = {{"layer.w", PLAST_SHAPE2(2, 2)}, {"layer.b", PLAST_SHAPE1(2)}};
    plast_err err;
    plast_params *p = plast_params_init(2, specs, &err);
    CHECK(p != NULL, "params: %s", err.msg);
    CHECK(plast_params_numel(p) == 6 && plast_params_find(p, "layer.b") == 1, "layout");
    plast_real *w = plast_params_value(p, 0);
    w[0] = 1, w[1] = 2, w[2] = 3, w[3] = 4;
    plast_tape *t = plast_tape_init(NULL);
    static const double ones2[2] = {1, 1};
    for (int pass = 0; pass < 2; pass++) {
        plast_tape_reset(t);
        plast_node *x = vec(t, PLAST_SHAPE2(1, 2), ones2);
        plast_node *y = plast_add(t, plast_matmul(t, x, plast_tape_param(t, p, 0), 0, 0), plast_tape_param(t, p, 1));
        plast_node *wl = plast_tape_param(t, p, 0); /* used twice: both uses accumulate */
        plast_node *l = plast_add(t, plast_sum_all(t, y), plast_sum_all(t, wl));
        CHECK(plast_tape_backward(t, l) == PLAST_OK, "backward: %s", plast_tape_error(t));
    }
    const plast_real *gw = plast_params_grad(p, 0), *gb = plast_params_grad(p, 1);
    CHECK(gw[0] == 4 && gw[3] == 4 && gb[0] == 2 && gb[1] == 2, "two passes accumulate: %g %g %g", (double)gw[0],
          (double)gw[3], (double)gb[0]);
    plast_params_zero_grad(p);
    CHECK(plast_params_grads(p)[0] == 0, "zero_grad");
    /* memory is reused across passes of the same size: after the first reset the chunks of a pass are merged into
     * one, and later passes allocate nothing */
    size_t reserved[3], used = 0;
    for (int pass = 0; pass < 3; pass++) {
        plast_tape_reset(t);
        for (int i = 0; i < 100; i++) plast_tanh(t, plast_tape_full(t, PLAST_SHAPE2(64, 64), 0.5));
        reserved[pass] = plast_tape_bytes_reserved(t);
        used = plast_tape_bytes_used(t);
    }
    CHECK(reserved[2] == reserved[1] && reserved[1] <= reserved[0] && reserved[1] >= used,
          "a reset tape reuses its memory: reserved %zu, %zu, %zu bytes for %zu used", reserved[0], reserved[1],
          reserved[2], used);
    CHECK(plast_params_init(2, (plast_param_spec[]){{"a", PLAST_SHAPE1(1)}, {"a", PLAST_SHAPE1(1)}}, &err) == NULL &&
              strstr(err.msg, "duplicate"),
          "duplicate parameter names are rejected: %s", err.msg);
    plast_tape_free(t);
    plast_params_free(p);
}

int main(void) {
    test_forward_values();
    test_sticky_errors();
    test_gradient_modes();
    test_params_backward();
    return test_finish(sizeof(plast_real) == 8 ? "test_tape (float64)" : "test_tape (float32)");
}
