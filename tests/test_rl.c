/* tests/test_rl.c: A2C and PPO (plast/rl.h). The A2C loss and its gradient on a fixed rollout against an
 * independent computation and central finite differences in float64, for both baselines and both penalties; the
 * sampler against the softmax; learning: a short A2C run on a small maze collects far more reward than a random
 * agent. PPO: the loss and gradient on a fixed minibatch against torch (tests/fixtures/ppo_torch.safetensors, by
 * tools/fixtures/make_ppo_fixture.py) for every value-clipping form, and against central finite differences. */
#include <math.h>
#include <stdlib.h>

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

/* ---- PPO ---------------------------------------------------------------------------------------------------- */

enum { PN = 12, PA = 2, PO = 2 * PA + 1 };

typedef struct ppo_fixture {
    plast_real y[PN * PO], action[PN * PA], mean_old[PN * PA], std_old[PN * PA], logp_old[PN], value_old[PN];
    plast_real advantage[PN], target[PN], valid[PN], settings[5];
    double d_mean[PN * PA], d_std[PN * PA], d_logp[PN], d_value[PN], d_adv[PN], d_target[PN];
    uint8_t mask[PN];
} ppo_fixture;

static int fixture_read(const plast_st_reader *r, const char *name, int64_t n, plast_real *dst) {
    plast_err err;
    plast_status s = plast_st_reader_read(r, name, n == PN * PO ? PLAST_SHAPE2(PN, PO)
                                                  : n == PN * PA ? PLAST_SHAPE2(PN, PA) : PLAST_SHAPE1(n), dst, &err);
    CHECK(s == PLAST_OK, "fixture %s: %s", name, s == PLAST_OK ? "" : err.msg);
    return s == PLAST_OK;
}

static plast_ppo_batch fixture_batch(ppo_fixture *f) {
    for (int i = 0; i < PN * PA; i++) f->d_mean[i] = (double)f->mean_old[i], f->d_std[i] = (double)f->std_old[i];
    for (int i = 0; i < PN; i++) {
        f->d_logp[i] = (double)f->logp_old[i], f->d_value[i] = (double)f->value_old[i];
        f->d_adv[i] = (double)f->advantage[i], f->d_target[i] = (double)f->target[i];
        f->mask[i] = f->valid[i] != 0;
    }
    return (plast_ppo_batch){PN, PA, 0, f->action, f->d_mean, f->d_std, f->d_logp, f->d_value, f->d_adv, f->d_target,
                             f->mask, NULL, NULL, 0};
}

/* a categorical policy over 6 actions: PPO's clipped loss (KL and rllib2022 value clipping included) and RLlib's
 * A2C loss (sums), against torch and central differences */
enum { CA = 6, CO = CA + 1 };
static void check_ppo_categorical(const plast_st_reader *r, ppo_fixture *f) {
    static plast_real y[PN * CO], act[PN], logits_old[PN * CA], logp_old[PN], value_old[PN], target[PN];
    plast_err err;
    int ok = plast_st_reader_read(r, "cat/y", PLAST_SHAPE2(PN, CO), y, &err) == PLAST_OK &&
             plast_st_reader_read(r, "cat/action", PLAST_SHAPE1(PN), act, &err) == PLAST_OK &&
             plast_st_reader_read(r, "cat/logits_old", PLAST_SHAPE2(PN, CA), logits_old, &err) == PLAST_OK &&
             plast_st_reader_read(r, "cat/logp_old", PLAST_SHAPE1(PN), logp_old, &err) == PLAST_OK &&
             plast_st_reader_read(r, "cat/value_old", PLAST_SHAPE1(PN), value_old, &err) == PLAST_OK &&
             plast_st_reader_read(r, "cat/target", PLAST_SHAPE1(PN), target, &err) == PLAST_OK;
    CHECK(ok, "categorical fixture: %s", ok ? "" : err.msg);
    if (!ok) return;
    double lo[PN * CA], lp[PN], vo[PN], tg[PN];
    for (int i = 0; i < PN * CA; i++) lo[i] = (double)logits_old[i];
    for (int i = 0; i < PN; i++) lp[i] = (double)logp_old[i], vo[i] = (double)value_old[i], tg[i] = (double)target[i];
    const plast_ppo_batch b = {PN, CA, 1, act, lo, NULL, lp, vo, f->d_adv, tg, f->mask, NULL, NULL, 0};
    const char *objectives[2] = {"clip", "a2c"};
    for (int k = 0; k < 2; k++) {
        plast_ppo_cfg c = plast_ppo_cfg_default();
        snprintf(c.objective, sizeof c.objective, "%s", objectives[k]);
        c.clip = (double)f->settings[0], c.vf_clip_param = (double)f->settings[1], c.value_coef = (double)f->settings[2];
        c.entropy_coef = (double)f->settings[3];
        const double kl = (double)f->settings[4];
        plast_real want_loss[1], want_dy[PN * CO], dy[PN * CO], scratch[PN * CO];
        char name[64];
        snprintf(name, sizeof name, "cat/%s/loss", objectives[k]);
        plast_st_reader_read(r, name, PLAST_SHAPE1(1), want_loss, NULL);
        snprintf(name, sizeof name, "cat/%s/dy", objectives[k]);
        plast_st_reader_read(r, name, PLAST_SHAPE2(PN, CO), want_dy, NULL);
        plast_ppo_stats st;
        CHECK(plast_ppo_loss(&c, kl, &b, CO, y, dy, &st, &err) == PLAST_OK, "categorical %s", objectives[k]);
        double worst = 0, fd_worst = 0, gnorm = 0;
        for (int i = 0; i < PN * CO; i++) {
            worst = fmax(worst, fabs((double)(dy[i] - want_dy[i])) / (1 + fabs((double)want_dy[i])));
            gnorm += (double)dy[i] * (double)dy[i];
            const plast_real y0 = y[i], h = 1e-5;
            plast_ppo_stats sp, sm;
            y[i] = y0 + h;
            plast_ppo_loss(&c, kl, &b, CO, y, scratch, &sp, NULL);
            y[i] = y0 - h;
            plast_ppo_loss(&c, kl, &b, CO, y, scratch, &sm, NULL);
            y[i] = y0;
            fd_worst = fmax(fd_worst, fabs((sp.loss - sm.loss) / (2 * h) - (double)dy[i]) / (1 + fabs((double)dy[i])));
        }
        CHECK(fabs(st.loss - (double)want_loss[0]) < 1e-12 * (1 + fabs((double)want_loss[0])),
              "categorical %s loss %.15g, torch %.15g", objectives[k], st.loss, (double)want_loss[0]);
        CHECK(gnorm > 1e-4 && worst < 1e-12 && fd_worst < 1e-6,
              "categorical %s: gradient against torch %.3g, against finite differences %.3g (norm %g)", objectives[k],
              worst, fd_worst, gnorm);
        printf("ppo loss, categorical, objective %-4s: loss %.6f (torch %.6f), gradient vs torch %.1e, vs finite "
               "differences %.1e\n", objectives[k], st.loss, (double)want_loss[0], worst, fd_worst);
    }
}

/* ppo.std = free: std = exp(log_std), one vector for every row (cleanrl's actor_logstd). The loss on rows of means and
 * value equals the state-dependent loss on rows whose s give the same std (softplus(s) = exp(log_std)); its
 * gradient in the means, the value and log_std agrees with central differences. */
enum { FO = PA + 1 };
static void check_ppo_free_std(ppo_fixture *f) {
    plast_real yf[PN * FO], ys[PN * PO], dyf[PN * FO], dys[PN * PO], scratch[PN * PO];
    plast_real log_std[PA] = {(plast_real)-0.3, (plast_real)0.4};
    for (int i = 0; i < PN; i++) {
        for (int k = 0; k < PA; k++) {
            yf[i * FO + k] = ys[i * PO + k] = f->y[i * PO + k];
            ys[i * PO + PA + k] = (plast_real)log(expm1(exp((double)log_std[k]))); /* softplus^-1(exp(log_std)) */
        }
        yf[i * FO + PA] = ys[i * PO + 2 * PA] = f->y[i * PO + 2 * PA];
    }
    plast_ppo_batch bs = fixture_batch(f), bf = bs;
    /* old log-probabilities near the new ones (ratios near 1, a loss of order 1, so that central differences are
     * accurate): the fixture's own rows include a ratio of 1e7 */
    static double lp_old[PN];
    for (int i = 0; i < PN; i++) {
        double lp = 0;
        for (int k = 0; k < PA; k++) {
            const double z = ((double)f->action[i * PA + k] - (double)yf[i * FO + k]) / exp((double)log_std[k]);
            lp += -0.5 * z * z - (double)log_std[k] - 0.9189385332046727;
        }
        lp_old[i] = lp + 0.15 * sin((double)i);
    }
    bs.logp_old = bf.logp_old = lp_old;
    double g[PA] = {0};
    bf.log_std = log_std, bf.g_log_std = g;
    plast_ppo_cfg c = plast_ppo_cfg_default();
    c.clip = (double)f->settings[0], c.vf_clip_param = (double)f->settings[1], c.value_coef = (double)f->settings[2];
    c.entropy_coef = (double)f->settings[3];
    const double kl = (double)f->settings[4];
    plast_ppo_stats sf, ss, sp, sm;
    plast_err err;
    CHECK(plast_ppo_loss(&c, kl, &bf, FO, yf, dyf, &sf, &err) == PLAST_OK, "free std: %s", err.msg);
    double gls[PA]; /* d loss / d log_std of this call (later calls add theirs into g) */
    memcpy(gls, g, sizeof gls);
    plast_ppo_loss(&c, kl, &bs, PO, ys, dys, &ss, NULL);
    CHECK(fabs(sf.loss - ss.loss) < 1e-9 * (1 + fabs(ss.loss)) && fabs(sf.kl - ss.kl) < 1e-9 && fabs(sf.entropy - ss.entropy) < 1e-9,
          "free std: loss %.12g, the same std from outputs %.12g", sf.loss, ss.loss);
    double fd_worst = 0, gnorm = 0;
    for (int i = 0; i < PN * FO; i++) { /* means and value */
        const plast_real y0 = yf[i], h = 1e-5;
        yf[i] = y0 + h, plast_ppo_loss(&c, kl, &bf, FO, yf, scratch, &sp, NULL);
        yf[i] = y0 - h, plast_ppo_loss(&c, kl, &bf, FO, yf, scratch, &sm, NULL);
        yf[i] = y0;
        fd_worst = fmax(fd_worst, fabs((sp.loss - sm.loss) / (2 * h) - (double)dyf[i]) / (1 + fabs((double)dyf[i])));
    }
    for (int k = 0; k < PA; k++) { /* log_std */
        const plast_real l0 = log_std[k], h = 1e-6;
        log_std[k] = l0 + h, plast_ppo_loss(&c, kl, &bf, FO, yf, scratch, &sp, NULL);
        log_std[k] = l0 - h, plast_ppo_loss(&c, kl, &bf, FO, yf, scratch, &sm, NULL);
        log_std[k] = l0;
        fd_worst = fmax(fd_worst, fabs((sp.loss - sm.loss) / (2 * h) - gls[k]) / (1 + fabs(gls[k])));
        gnorm += gls[k] * gls[k];
    }
    CHECK(gnorm > 1e-8 && fd_worst < 1e-6, "free std: gradient against central differences %.3g (log_std norm %g)",
          fd_worst, sqrt(gnorm));
    printf("ppo loss, free std: loss %.6f (the same std from outputs %.6f), gradient vs finite differences %.1e\n",
           sf.loss, ss.loss, fd_worst);
}

static void check_ppo_loss(void) {
    const char *dir = getenv("PLAST_FIXTURES");
    char path[1024];
    snprintf(path, sizeof path, "%s/ppo_torch.safetensors", dir ? dir : "tests/fixtures");
    plast_err err;
    plast_st_reader *r = plast_st_reader_open(path, &err);
    CHECK(r != NULL, "%s", r ? "" : err.msg);
    if (!r) return;
    static ppo_fixture f;
    int ok = fixture_read(r, "y", PN * PO, f.y) && fixture_read(r, "action", PN * PA, f.action) &&
             fixture_read(r, "mean_old", PN * PA, f.mean_old) && fixture_read(r, "std_old", PN * PA, f.std_old) &&
             fixture_read(r, "logp_old", PN, f.logp_old) && fixture_read(r, "value_old", PN, f.value_old) &&
             fixture_read(r, "advantage", PN, f.advantage) && fixture_read(r, "target", PN, f.target) &&
             fixture_read(r, "valid", PN, f.valid) && fixture_read(r, "settings", 5, f.settings);
    const plast_ppo_batch b = fixture_batch(&f);
    const char *forms[4] = {"none", "rllib2022", "clamp", "clean"};
    for (int k = 0; k < 4 && ok; k++) {
        plast_ppo_cfg c = plast_ppo_cfg_default();
        c.clip = (double)f.settings[0], c.vf_clip_param = (double)f.settings[1], c.value_coef = (double)f.settings[2];
        c.entropy_coef = (double)f.settings[3];
        snprintf(c.vf_clip, sizeof c.vf_clip, "%s", forms[k]);
        plast_real want_loss[1], want_dy[PN * PO], dy[PN * PO];
        char name[64];
        snprintf(name, sizeof name, "%s/loss", forms[k]);
        fixture_read(r, name, 1, want_loss);
        snprintf(name, sizeof name, "%s/dy", forms[k]);
        fixture_read(r, name, PN * PO, want_dy);
        plast_ppo_stats st;
        const double kl = (double)f.settings[4];
        CHECK(plast_ppo_loss(&c, kl, &b, PO, f.y, dy, &st, &err) == PLAST_OK, "ppo loss %s", forms[k]);
        CHECK(fabs(st.loss - (double)want_loss[0]) < 1e-12 * (1 + fabs((double)want_loss[0])),
              "ppo loss %s: %.15g, torch %.15g", forms[k], st.loss, (double)want_loss[0]);
        double worst = 0, gnorm = 0, fd_worst = 0;
        for (int i = 0; i < PN * PO; i++) {
            worst = fmax(worst, fabs((double)(dy[i] - want_dy[i])) / (1 + fabs((double)want_dy[i])));
            gnorm += (double)dy[i] * (double)dy[i];
        }
        CHECK(gnorm > 1e-4, "ppo %s: the gradient is not all zero (%g)", forms[k], gnorm);
        CHECK(worst < 1e-12, "ppo %s: d loss / d y against torch, worst relative %.3g", forms[k], worst);
        /* central finite differences of plast's own loss */
        for (int i = 0; i < PN * PO; i++) {
            const plast_real y0 = f.y[i], h = 1e-5;
            plast_ppo_stats sp, sm;
            plast_real scratch[PN * PO];
            f.y[i] = y0 + h;
            plast_ppo_loss(&c, kl, &b, PO, f.y, scratch, &sp, NULL);
            f.y[i] = y0 - h;
            plast_ppo_loss(&c, kl, &b, PO, f.y, scratch, &sm, NULL);
            f.y[i] = y0;
            /* relative: one row's ratio is large, its gradient about 1e5 */
            fd_worst = fmax(fd_worst, fabs((sp.loss - sm.loss) / (2 * h) - (double)dy[i]) / (1 + fabs((double)dy[i])));
        }
        printf("ppo loss, value clipping %-9s: loss %.6f (torch %.6f), gradient vs torch %.1e, vs finite differences "
               "%.1e\n", forms[k], st.loss, (double)want_loss[0], worst, fd_worst);
        CHECK(fd_worst < 1e-6, "ppo %s: d loss / d y against central differences, worst relative %.3g", forms[k], fd_worst);
    }
    check_ppo_categorical(r, &f);
    if (ok) check_ppo_free_std(&f);
    plast_st_reader_close(r);
}

/* Data-parallel PPO runs a minibatch's sequences in chunks of its engine's batch (plast_ppo_set_comm). With a
 * communicator whose sums see this process alone (size 2, rank 0: the global table is its own), a learner trains on
 * its own sequences as a learner alone does in one chunk per minibatch, up to the order of the chunks' sums. */
static plast_status sum_alone(double *buf, int64_t n, void *user) {
    (void)buf, (void)n, (void)user;
    return PLAST_OK;
}
static plast_status bcast_alone(void *buf, int64_t bytes, int root, void *user) {
    (void)buf, (void)bytes, (void)root, (void)user;
    return PLAST_OK;
}
static void check_ppo_chunks(void) {
    plast_ppo_cfg c = plast_ppo_cfg_default();
    c.steps = 16, c.seq_len = 4, c.minibatch = 32, c.epochs = 2; /* 8 sequences a minibatch; chunks of 7 */
    plast_env_cfg ec;
    plast_env_cfg_default(&ec, NULL);
    ec.size = 7, ec.episode_length = 10;
    plast_model_cfg mc;
    plast_model_cfg_default(&mc, NULL);
    snprintf(mc.family, sizeof mc.family, "stpn");
    mc.input = 17, mc.output = 5, mc.hidden = 8;
    plast_model *m = plast_model_init(&mc, NULL);
    plast_env *env[2];
    plast_params *p[2];
    plast_optim *o[2];
    plast_ppo *a[2];
    const plast_optim_config oc = plast_optim_config_default(PLAST_OPTIM_ADAM);
    for (int k = 0; k < 2; k++) {
        env[k] = plast_env_init(&ec, 3, 7, NULL);
        p[k] = plast_model_params_init(m, NULL);
        plast_rng init;
        plast_rng_init(&init, 5, 0);
        plast_model_params_reset(m, p[k], &init);
        o[k] = plast_optim_init(&oc, p[k], NULL);
        a[k] = plast_ppo_init(&c, m, env[k], PLAST_ENGINE_AUTO, NULL);
    }
    const plast_comm alone = {0, 2, NULL, sum_alone, bcast_alone, NULL};
    CHECK(plast_ppo_set_comm(a[1], &alone, NULL) == PLAST_OK, "set_comm");
    CHECK(plast_engine_batch(plast_ppo_engine(a[1])) == 7, "chunks of %lld sequences, expected 7",
          (long long)plast_engine_batch(plast_ppo_engine(a[1])));
    plast_ppo_stats st[2];
    for (int it = 0; it < 2; it++)
        for (int k = 0; k < 2; k++)
            CHECK(plast_ppo_iterate(a[k], p[k], o[k], 1e-2, 4, 11, it, &st[k], NULL) == PLAST_OK, "iterate");
    const int64_t n = plast_params_numel(p[0]);
    double worst = 0, moved = 0;
    plast_params *fresh = plast_model_params_init(m, NULL);
    plast_rng init;
    plast_rng_init(&init, 5, 0);
    plast_model_params_reset(m, fresh, &init);
    for (int64_t i = 0; i < n; i++) {
        const double x = plast_params_values(p[0])[i], y = plast_params_values(p[1])[i];
        worst = fmax(worst, fabs(x - y) / (1 + fabs(x)));
        moved = fmax(moved, fabs(x - plast_params_values(fresh)[i]));
    }
    CHECK(moved > 1e-3, "the parameters did not move (%g)", moved);
    CHECK(worst < 1e-12, "chunked minibatches differ from whole ones by %g", worst);
    CHECK(fabs(st[0].loss - st[1].loss) < 1e-12 * (1 + fabs(st[0].loss)), "losses %.17g and %.17g", st[0].loss, st[1].loss);
    printf("ppo in chunks of 7 of 8 sequences: parameters within %.2g of whole minibatches after 2 iterations\n", worst);
    plast_params_free(fresh);
    for (int k = 0; k < 2; k++) plast_ppo_free(a[k]), plast_optim_free(o[k]), plast_params_free(p[k]), plast_env_free(env[k]);
    plast_model_free(m);
}

int main(void) {
    check_ppo_loss();
    check_ppo_chunks();
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
