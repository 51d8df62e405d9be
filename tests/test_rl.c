/* tests/test_rl.c: A2C (plast/rl.h). The loss and its gradient on a fixed rollout against an independent
 * computation and central finite differences in float64, for both baselines and both penalties; the sampler
 * against the softmax; and learning: a short A2C run on a small maze collects far more reward than a random
 * agent. */
#include "plast.h"
#include "test.h"

enum { T = 5, B = 4, A = 4, O = 5 };

/* the loss written out directly: pi = softmax(logits); the policy term uses the advantages adv0 (held constant),
 * the value term the advantages of y itself */
static double loss_ref(const plast_a2c_cfg *c, const plast_real *y, const int32_t *act, const plast_real *rew,
                       const double *adv0) {
    double R[B] = {0}, L = 0;
    const int element0 = strcmp(c->baseline, "element0") == 0, sum_pi2 = strcmp(c->penalty, "sum_pi2") == 0;
    for (int t = T - 1; t >= 0; t--)
        for (int b = 0; b < B; b++) {
            R[b] = rew[t * B + b] + c->gamma * R[b];
            const plast_real *l = y + (t * B + b) * O;
            double z = 0, pen = 0;
            for (int a = 0; a < A; a++) z += exp((double)l[a]);
            for (int a = 0; a < A; a++) {
                const double p = exp((double)l[a]) / z;
                pen += sum_pi2 ? p * p : p * log(p);
            }
            const double v = element0 ? y[(t * B) * O + A] : y[(t * B + b) * O + A], adv = R[b] - v;
            const double logp = (double)l[act[t * B + b]] - log(z);
            L += c->entropy_coef * pen - logp * adv0[t * B + b] + c->value_coef * adv * adv;
        }
    return L / (T * B);
}

static void check_loss(const char *baseline, const char *penalty, plast_rng *rng) {
    plast_a2c_cfg c = plast_a2c_cfg_default();
    snprintf(c.baseline, sizeof c.baseline, "%s", baseline);
    snprintf(c.penalty, sizeof c.penalty, "%s", penalty);
    plast_real y[T * B * O], dy[T * B * O], rew[T * B];
    int32_t act[T * B];
    plast_rng_fill_uniform(rng, y, T * B * O, -2, 2);
    for (int k = 0; k < T * B; k++) {
        act[k] = (int32_t)plast_rng_below(rng, A);
        rew[k] = plast_rng_below(rng, 4) == 0 ? 10 : 0;
    }
    plast_a2c_stats st;
    plast_err err;
    CHECK(plast_a2c_loss(&c, T, B, A, O, y, act, rew, dy, &st, &err) == PLAST_OK, "a2c loss: %s", err.msg);
    /* the advantages of the rollout, for the policy term */
    double adv0[T * B], R[B] = {0}, total = 0;
    for (int t = T - 1; t >= 0; t--)
        for (int b = 0; b < B; b++) {
            R[b] = rew[t * B + b] + c.gamma * R[b];
            total += rew[t * B + b];
            adv0[t * B + b] = R[b] - (strcmp(baseline, "element0") == 0 ? y[t * B * O + A] : y[(t * B + b) * O + A]);
        }
    const double L = loss_ref(&c, y, act, rew, adv0);
    CHECK(fabs(st.loss - L) <= 1e-12 * fmax(1, fabs(L)), "%s %s: loss %.15g, reference %.15g", baseline, penalty,
          st.loss, L);
    CHECK(fabs(st.reward - total / B) < 1e-12, "mean episode reward %g, expected %g", st.reward, total / B);
    double worst = 0, gmax = 0;
    for (int k = 0; k < T * B * O; k++) {
        const plast_real keep = y[k], h = 1e-6;
        y[k] = keep + h;
        const double up = loss_ref(&c, y, act, rew, adv0);
        y[k] = keep - h;
        const double down = loss_ref(&c, y, act, rew, adv0);
        y[k] = keep;
        const double fd = (up - down) / (2 * h);
        worst = fmax(worst, fabs(fd - dy[k]));
        gmax = fmax(gmax, fabs(fd));
    }
    CHECK(gmax > 1e-3, "%s %s: the gradient is not all zero", baseline, penalty);
    CHECK(worst <= 1e-8 * gmax, "%s %s: d loss / d y differs from finite differences by %g (largest %g)", baseline,
          penalty, worst, gmax);
    /* element0: only copy 0's value gets a gradient */
    if (strcmp(baseline, "element0") == 0) {
        int others = 0;
        for (int t = 0; t < T; t++)
            for (int b = 1; b < B; b++) others += dy[(t * B + b) * O + A] != 0;
        CHECK(others == 0, "element0: copies other than 0 get no value gradient");
    }
    printf("a2c loss, %-11s %-7s: loss %.6f, gradient vs finite differences %.1e\n", baseline, penalty, st.loss, worst);
}

static void check_sampler(plast_rng *rng) {
    enum { N = 200000 };
    const plast_real logits[A] = {0.5, -1, 2, 0};
    int count[A] = {0};
    for (int k = 0; k < N; k++) {
        double u = plast_rng_uniform(rng);
        int32_t a;
        plast_policy_sample(logits, 1, A, A, &u, &a);
        count[a]++;
    }
    double z = 0, worst = 0;
    for (int a = 0; a < A; a++) z += exp((double)logits[a]);
    for (int a = 0; a < A; a++) {
        const double p = exp((double)logits[a]) / z, sd = sqrt(p * (1 - p) / N);
        worst = fmax(worst, fabs(count[a] / (double)N - p) / sd);
    }
    CHECK(worst < 5, "sampled frequencies within 5 standard deviations of softmax (worst %.2f)", worst);
}

/* A2C learns: STPN on a 7 x 7 maze (21 free cells, 50-step episodes), 64 agents, 200 iterations at lr 3e-3;
 * the mean episode reward of the last 25 iterations against a uniformly random agent's in the same maze */
static void check_learning(void) {
    enum { N = 64, LEN = 50, ITERS = 200 };
    plast_err err;
    plast_env_cfg ec;
    plast_env_cfg_default(&ec, NULL);
    ec.size = 7, ec.episode_length = LEN;
    plast_env *env = plast_env_init(&ec, N, 1, &err);
    plast_model_cfg mc;
    plast_model_cfg_default(&mc, NULL);
    snprintf(mc.family, sizeof mc.family, "stpn");
    snprintf(mc.norm, sizeof mc.norm, "post");
    mc.input = 17, mc.output = 5, mc.hidden = 24, mc.clamp = 1;
    plast_model *m = plast_model_init(&mc, &err);
    CHECK(env && m, "maze and model: %s", err.msg);
    if (!env || !m) return;
    /* the random agent: the same environment, uniform actions */
    plast_real obs[N * 17], rew[N];
    int32_t act[N];
    plast_rng rng;
    plast_rng_init(&rng, 9, 0);
    double random_reward = 0;
    for (int ep = 0; ep < 20; ep++) {
        plast_env_reset(env, obs, NULL);
        for (int t = 0; t < LEN; t++) {
            for (int b = 0; b < N; b++) act[b] = (int32_t)plast_rng_below(&rng, 4);
            plast_env_step(env, (plast_env_actions){act, NULL}, obs, rew, NULL, NULL, NULL);
            for (int b = 0; b < N; b++) random_reward += rew[b] / (20.0 * N);
        }
    }
    plast_params *p = plast_model_params_init(m, &err);
    plast_rng init;
    plast_rng_init(&init, 1, 0);
    plast_model_params_reset(m, p, &init);
    plast_optim_config oc = plast_optim_config_default(PLAST_OPTIM_ADAM);
    oc.eps = 1e-4, oc.amsgrad = 0;
    plast_optim *o = plast_optim_init(&oc, p, &err);
    plast_a2c_cfg ac = plast_a2c_cfg_default();
    ac.burn_in = -1;
    plast_a2c *a = plast_a2c_init(&ac, m, env, PLAST_ENGINE_AUTO, 0, &err);
    CHECK(a != NULL, "a2c: %s", err.msg);
    double first = 0, last = 0;
    for (int it = 0; a && it < ITERS; it++) {
        plast_a2c_stats st;
        if (plast_a2c_iterate(a, p, o, 3e-3, 4.0, 7, it, 1, &st, &err) != PLAST_OK) {
            CHECK(0, "a2c iteration %d: %s", it, err.msg);
            break;
        }
        if (it < 25) first += st.reward / 25;
        if (it >= ITERS - 25) last += st.reward / 25;
    }
    CHECK(last > 2.5 * random_reward && last > first + 5,
          "A2C on a 7x7 maze: reward %.2f in the last 25 iterations (first 25: %.2f), random agent %.2f", last, first,
          random_reward);
    printf("a2c learning, 7x7 maze, STPN H=24, 64 agents: reward %.2f after %d iterations (first 25: %.2f; random "
           "agent %.2f)\n", last, ITERS, first, random_reward);
    plast_a2c_free(a);
    plast_optim_free(o);
    plast_params_free(p);
    plast_model_free(m);
    plast_env_free(env);
}

int main(void) {
    plast_rng rng;
    plast_rng_init(&rng, 3, 0);
    check_loss("element0", "sum_pi2", &rng);
    check_loss("per_element", "sum_pi2", &rng);
    check_loss("element0", "entropy", &rng);
    check_loss("per_element", "entropy", &rng);
    check_sampler(&rng);
    check_learning();
    return test_finish("test_rl");
}
