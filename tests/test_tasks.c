/* tests/test_tasks.c: the task generators do what docs/tasks/ says (structure of inputs, targets and loss
 * weights), the documented chance levels are what the chance answer actually scores, the losses' gradients match
 * finite differences, and bad settings are refused naming the key. */
#include "plast.h"
#include "test.h"

#define AT(p, t, b, k, B, n) ((p)[((t) * (B) + (b)) * (n) + (k)])

static plast_task *make(const char *const *sets, plast_err *err) {
    plast_task_cfg cfg;
    plast_cfg_defaults(plast_task_cfg_schema(), &cfg, NULL);
    for (int k = 0; sets[k]; k++)
        if (plast_cfg_apply_set(plast_task_cfg_schema(), &cfg, sets[k], err) != PLAST_OK) return NULL;
    return plast_task_init(&cfg, err);
}

typedef struct drawn {
    plast_task *t;
    plast_batch *b;
    plast_real *y;
} drawn;

static drawn draw(const char *const *sets, int64_t B, uint64_t seed) {
    plast_err err;
    drawn d = {make(sets, &err), NULL, NULL};
    CHECK(d.t != NULL, "%s: %s", sets[0], err.msg);
    if (!d.t) return d;
    d.b = plast_batch_init(d.t, B, &err);
    plast_rng rng;
    plast_rng_init(&rng, seed, 7);
    CHECK(d.b && plast_task_sample(d.t, &rng, 0, d.b, &err) == PLAST_OK, "%s: sampling: %s", sets[0], err.msg);
    d.y = calloc((size_t)(d.b->T * B * d.b->O), sizeof(plast_real));
    return d;
}

static void drop(drawn *d) {
    free(d->y);
    plast_batch_free(d->b);
    plast_task_free(d->t);
}

/* the loss and metric of outputs d->y */
static double score(const drawn *d, double *metric) {
    double mw;
    return plast_task_loss(d->t, d->b, d->y, NULL, metric, &mw);
}

static void test_copy(void) {
    const char *sets[] = {"task.name=copy", "task.length=5", "task.delay=3", NULL};
    drawn d = draw(sets, 16, 1);
    if (!d.t) return;
    const int64_t B = 16, n = 5, m = 3;
    CHECK(d.b->T == 13 && d.b->I == 3 && d.b->O == 1, "copy sizes T=%lld I=%lld", (long long)d.b->T, (long long)d.b->I);
    int ok = 1;
    for (int64_t s = 0; s < B; s++)
        for (int64_t k = 0; k < n; k++) {
            ok &= AT(d.b->x, k, s, 0, B, 3) == AT(d.b->target, n + m + k, s, 0, B, 1);
            ok &= AT(d.b->x, k, s, 1, B, 3) == 1 && AT(d.b->x, n + m + k, s, 2, B, 3) == 1;
            ok &= d.b->loss_w[k * B + s] == 0 && d.b->loss_w[(n + m + k) * B + s] == 1;
        }
    CHECK(ok, "copy: the recall steps' targets are the values shown, and only they count");
    drop(&d);
}

static void test_cuereward(void) {
    const char *sets[] = {"task.name=cuereward", "task.noise=0", NULL};
    drawn d = draw(sets, 8, 2);
    if (!d.t) return;
    const int64_t B = 8, I = 16;
    int ok = 1;
    for (int64_t s = 0; s < B; s++)
        for (int64_t a = 0; a < 20; a++)
            for (int64_t b = 0; b < 20; b++) { /* without noise, equal stimuli carry equal rewards */
                int same = 1;
                for (int64_t k = 0; k < 14; k++) same &= AT(d.b->x, a, s, k, B, I) == AT(d.b->x, b, s, k, B, I);
                if (same) ok &= AT(d.b->target, a, s, 0, B, 1) == AT(d.b->target, b, s, 0, B, 1);
                if (a < 10) ok &= AT(d.b->x, a, s, 14, B, I) == AT(d.b->target, a, s, 0, B, 1);
                if (a >= 10) ok &= AT(d.b->x, a, s, 14, B, I) == 0 && AT(d.b->x, a, s, 15, B, I) == 1;
            }
    CHECK(ok, "cuereward: a cue's reward is fixed in a trial, shown in the first half only");
    drop(&d);
}

static void test_regression(void) {
    const char *sets[] = {"task.name=regression", "task.function=mlp", NULL};
    drawn d = draw(sets, 8, 3);
    if (!d.t) return;
    const int64_t B = 8, T = d.b->T;
    double worst = 0;
    for (int64_t s = 0; s < B; s++) {
        double mean = 0, ss = 0;
        for (int64_t t = 0; t < T; t++) mean += AT(d.b->target, t, s, 0, B, 1) / (double)T;
        for (int64_t t = 0; t < T; t++) ss += pow(AT(d.b->target, t, s, 0, B, 1) - mean, 2) / (double)(T - 1);
        worst = fmax(worst, fmax(fabs(mean), fabs(ss - 1)));
    }
    CHECK(worst < 1e-5, "regression: values standardised per trial (off by %g)", worst);
    double metric, loss = score(&d, &metric); /* answering 0 scores (T - 1) / T exactly */
    CHECK_CLOSE(loss, plast_task_chance_loss(d.t), 1e-5, 0, "regression chance");
    double c[4] = {0, 0, 0, 0};
    CHECK(plast_task_rates(d.t, d.b, d.y, c) == 0 && c[1] == 0, "an MSE task has no positive and negative rates");
    drop(&d);
}

static void test_art(void) {
    const char *sets[] = {"task.name=art", "task.mode=dataset", "task.dataset_size=500", NULL};
    drawn d = draw(sets, 64, 4);
    if (!d.t) return;
    const int64_t B = 64, T = 9, I = 37;
    int ok = 1;
    for (int64_t s = 0; s < B; s++) {
        int sym[9];
        for (int64_t t = 0; t < T; t++) {
            int n = 0;
            for (int k = 0; k < I; k++) n += AT(d.b->x, t, s, k, B, I) != 0, sym[t] = AT(d.b->x, t, s, k, B, I) ? k : sym[t];
            ok &= n == 1;
        }
        ok &= sym[6] == 36 && sym[7] == 36 && sym[0] != sym[2] && sym[0] != sym[4] && sym[2] != sym[4];
        int answer = -1;
        for (int p = 0; p < 3; p++) {
            ok &= sym[2 * p] < 26 && sym[2 * p + 1] >= 26 && sym[2 * p + 1] < 36;
            if (sym[2 * p] == sym[8]) answer = sym[2 * p + 1];
        }
        ok &= answer >= 0 && AT(d.b->target, 8, s, answer, B, I) == 1 && d.b->loss_w[8 * B + s] == 1;
        for (int64_t t = 0; t < 8; t++) ok &= d.b->loss_w[t * B + s] == 0;
    }
    CHECK(ok, "art: k v k v k v ? ? q, distinct keys, the answer is the query's value at the last step only");
    /* uniform logits over the digits: the chance loss and (with ties broken at the first digit) about 1/10 */
    for (int64_t s = 0; s < B; s++)
        for (int k = 0; k < I; k++) AT(d.y, 8, s, k, B, I) = k >= 26 && k < 36 ? 0 : -1e4f;
    double metric, loss = score(&d, &metric);
    CHECK_CLOSE(loss, plast_task_chance_loss(d.t), 1e-5, 0, "art chance loss");
    CHECK(metric < 0.3, "art: a fixed answer is right about 1 time in 10 (%g)", metric);
    drop(&d);
}

static void test_cfd(void) {
    const char *sets[] = {"task.name=cfd", "task.length=6000", "task.dim=20", "task.repeat=4", NULL};
    drawn d = draw(sets, 2, 5);
    if (!d.t) return;
    const int64_t B = 2, T = 6000, D = 20, R = 4;
    int ok = 1;
    double repeats = 0;
    for (int64_t s = 0; s < B; s++)
        for (int64_t t = 0; t < T; t++) {
            int rep = AT(d.b->target, t, s, 0, B, 1) == 1;
            repeats += rep;
            if (t < R) ok &= !rep;
            if (rep) {
                ok &= AT(d.b->target, t - R, s, 0, B, 1) == 0;
                for (int64_t k = 0; k < D; k++) ok &= AT(d.b->x, t, s, k, B, D) == AT(d.b->x, t - R, s, k, B, D);
            }
            for (int64_t k = 0; k < D; k++) ok &= fabs(AT(d.b->x, t, s, k, B, D)) == 1;
        }
    CHECK(ok, "cfd: +-1 items; a repeat copies the item R back, which was novel; none in the first R steps");
    CHECK(fabs(repeats / (double)(B * T) - 1.0 / 3) < 0.02, "cfd: a third of the items repeat (%g)",
          repeats / (double)(B * T));
    /* answering "novel" with the stationary repeat probability: the chance levels */
    const double q = 1.0 / 3;
    for (int64_t i = 0; i < T * B; i++) d.y[i] = (plast_real)log(q / (1 - q));
    double metric, loss = score(&d, &metric);
    CHECK_CLOSE(loss, plast_task_chance_loss(d.t), 0.02, 0, "cfd chance loss");
    CHECK_CLOSE(metric, plast_task_chance_metric(d.t), 0.02, 0, "cfd chance accuracy");
    /* the true- and false-positive rates: "novel" everywhere has neither; "familiar" on every other repeat gives
     * a true-positive rate of one half and no false positives */
    double c[4] = {0, 0, 0, 0};
    CHECK(plast_task_rates(d.t, d.b, d.y, c) == 1, "cfd has rates");
    CHECK(c[0] == 0 && c[2] == 0 && c[1] == repeats && c[3] == B * T - repeats, "rates of a constant 'novel': %g %g %g %g",
          c[0], c[1], c[2], c[3]);
    int64_t flip = 0, pos = 0;
    for (int64_t i = 0; i < T * B; i++) {
        const int rep = d.b->target[i] == 1;
        d.y[i] = rep && pos++ % 2 == 0 ? 1 : -1;
        flip += d.y[i] > 0;
    }
    memset(c, 0, sizeof c);
    plast_task_rates(d.t, d.b, d.y, c);
    CHECK(c[0] == (double)flip && c[2] == 0 && fabs(c[0] / c[1] - 0.5) < 1e-3, "half the repeats answered: TPR %g, FPR %g",
          c[0] / c[1], c[2] / c[3]);
    drop(&d);
}

static void test_completion(void) {
    const char *sets[] = {"task.name=completion", NULL};
    drawn d = draw(sets, 32, 6);
    if (!d.t) return;
    const int64_t B = 32, N = 8;
    int ok = 1;
    for (int64_t s = 0; s < B; s++) {
        int kept = 0;
        for (int64_t k = 0; k < N; k++) {
            ok &= AT(d.b->x, 0, s, k, B, N) == AT(d.b->target, 1, s, k, B, N);
            if (AT(d.b->x, 1, s, k, B, N) != 0) kept++, ok &= AT(d.b->x, 1, s, k, B, N) == AT(d.b->x, 0, s, k, B, N);
            AT(d.y, 1, s, k, B, N) = AT(d.b->x, 1, s, k, B, N); /* the chance answer: copy the kept bit */
        }
        ok &= kept == 1 && d.b->loss_w[s] == 0 && d.b->loss_w[B + s] == 1;
    }
    CHECK(ok, "completion: step 1 keeps one bit of the pattern of step 0, and only it counts");
    double metric, loss = score(&d, &metric);
    CHECK_CLOSE(loss, plast_task_chance_loss(d.t), 1e-6, 0, "completion chance loss");
    drop(&d);
}

static void test_pairing(int reversal) {
    const char *sets[] = {reversal ? "task.name=reversal" : "task.name=oneshot_binary", NULL};
    drawn d = draw(sets, 16, 7);
    if (!d.t) return;
    const int64_t B = 16, T = 20, I = 10;
    int ok = 1;
    for (int64_t s = 0; s < B; s++)
        for (int64_t t = 0; t < T; t++) {
            int label = AT(d.b->target, t, s, 1, B, 2) == 1, swapped = reversal && t >= 10;
            ok &= label == (int)((t % 2) ^ swapped);
            int shown = AT(d.b->x, t, s, 0, B, I) != 0 || AT(d.b->x, t, s, 1, B, I) != 0;
            int expect = t < 2 || (reversal && t >= 10 && t < 12);
            ok &= shown == expect && d.b->loss_w[t * B + s] == (expect ? 0 : 1);
            if (shown) ok &= AT(d.b->x, t, s, label, B, I) == 1;
            for (int64_t k = 2; k < I; k++) ok &= AT(d.b->x, t, s, k, B, I) == AT(d.b->x, t % 2, s, k, B, I);
        }
    CHECK(ok, "%s: alternating patterns, labels shown in the learning periods only", sets[0]);
    double metric, loss = score(&d, &metric); /* all-zero logits */
    CHECK_CLOSE(loss, plast_task_chance_loss(d.t), 1e-6, 0, "%s chance loss", sets[0]);
    drop(&d);
}

static void test_pattern(void) {
    const char *sets[] = {"task.name=pattern", "task.dim=10", "task.items=3", "task.cycles=2", NULL};
    drawn d = draw(sets, 8, 8);
    if (!d.t) return;
    const int64_t B = 8, N = 10, I = 11, T = d.b->T;
    CHECK(T == 2 * 3 * 4 + 3, "pattern: T = cycles K (shown + blank) + shown, got %lld", (long long)T);
    int ok = 1;
    for (int64_t s = 0; s < B; s++) {
        double sum = 0;
        int zeros = 0, agree = 1;
        for (int64_t k = 0; k < N; k++) {
            sum += AT(d.b->target, T - 1, s, k, B, N);
            plast_real probe = AT(d.b->x, T - 1, s, k, B, I);
            zeros += probe == 0;
            if (probe != 0) agree &= probe == 20 * AT(d.b->target, T - 1, s, k, B, N);
            AT(d.y, T - 1, s, k, B, N) = probe / 20; /* the chance answer: the probe itself */
        }
        int stored = 0; /* the target is one of the patterns shown */
        for (int64_t t = 0; t < T - 3; t++) {
            int same = AT(d.b->x, t, s, 0, B, I) != 0;
            for (int64_t k = 0; k < N; k++) same &= AT(d.b->x, t, s, k, B, I) == 20 * AT(d.b->target, T - 1, s, k, B, N);
            stored |= same;
        }
        for (int64_t t = 0; t < T; t++) ok &= AT(d.b->x, t, s, N, B, I) == 20;
        ok &= sum == 0 && zeros == N / 2 && agree && stored;
    }
    CHECK(ok, "pattern: balanced patterns, a half-zeroed probe of a stored one, a bias input");
    double metric, loss = score(&d, &metric);
    CHECK_CLOSE(loss, plast_task_chance_loss(d.t), 1e-6, 0, "pattern chance loss");
    drop(&d);
}

/* The gradient plast_task_loss returns against central differences of its loss, for each loss kind. */
static void test_loss_gradients(void) {
    const char *tasks[][2] = {{"task.name=copy", NULL}, {"task.name=art", NULL}, {"task.name=cfd", NULL}};
    const char *cfd_sets[] = {"task.name=cfd", "task.length=12", "task.dim=4", NULL};
    for (int c = 0; c < 3; c++) {
        drawn d = draw(c == 2 ? cfd_sets : tasks[c], 3, 9);
        if (!d.t) continue;
        const int64_t n = d.b->T * d.b->B * d.b->O;
        plast_rng rng;
        plast_rng_init(&rng, 11, 0);
        for (int64_t i = 0; i < n; i++) d.y[i] = (plast_real)plast_rng_uniform_in(&rng, -1, 1);
        plast_real *dy = malloc(sizeof(plast_real) * (size_t)n);
        plast_task_loss(d.t, d.b, d.y, dy, NULL, NULL);
        double worst = 0, scale = 0;
        const double h = sizeof(plast_real) == 8 ? 1e-6 : 1e-2;
        for (int64_t i = 0; i < n; i += 1 + n / 200) {
            plast_real keep = d.y[i];
            d.y[i] = keep + (plast_real)h;
            double lp = plast_task_loss(d.t, d.b, d.y, NULL, NULL, NULL);
            d.y[i] = keep - (plast_real)h;
            double lm = plast_task_loss(d.t, d.b, d.y, NULL, NULL, NULL);
            d.y[i] = keep;
            worst = fmax(worst, fabs((lp - lm) / (2 * h) - dy[i]));
            scale = fmax(scale, fabs(dy[i]));
        }
        /* central differences: truncation O(h^2), rounding O(eps |loss| / h) */
        const double tol = sizeof(plast_real) == 8 ? 1e-8 : 1e-3;
        printf("%-16s loss gradient vs central differences: %.2g (largest entry %.2g)\n", tasks[c][0], worst, scale);
        CHECK(scale > 1e-3 && worst <= tol,
              "%s: loss gradient off by %g (largest %g)", tasks[c][0], worst, scale);
        free(dy);
        drop(&d);
    }
}

static void test_errors(void) {
    struct {
        const char *sets[4];
        const char *expect;
    } cases[] = {
        {{"task.name=cuerewards", NULL}, "unknown task \"cuerewards\""},
        {{"task.name=cfd", "task.repeat=10", "task.length=10", NULL}, "'repeat'"},
        {{"task.name=pattern", "task.dim=7", NULL}, "'dim'"},
        {{"task.name=art", "task.items=30", NULL}, "'items'"},
        {{"task.name=reversal", "task.learn_period=10", NULL}, "'learn_period'"},
        {{"task.name=cuereward", "task.dim=100", NULL}, "'dim'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        plast_err err;
        plast_task *t = make(cases[i].sets, &err);
        CHECK(!t && strstr(err.msg, cases[i].expect), "%s: expected an error with %s, got \"%s\"", cases[i].sets[0],
              cases[i].expect, t ? "no error" : err.msg);
        plast_task_free(t);
    }
}

int main(void) {
    test_copy();
    test_cuereward();
    test_regression();
    test_art();
    test_cfd();
    test_completion();
    test_pairing(0);
    test_pairing(1);
    test_pattern();
    test_loss_gradients();
    test_errors();
    return test_finish(sizeof(plast_real) == 8 ? "test_tasks (float64)" : "test_tasks (float32)");
}
