/* src/rl/ppo_loss.c: PPO's objective for one batch of steps (plast_ppo_loss, plast/rl.h; docs/RL.md) and the
 * learner's default settings: the clipped surrogate or RLlib's A2C sum, the value term with its clipping variants,
 * the entropy bonus and the KL penalty, each with its gradient in the model's outputs. A pure function of its
 * arguments, checked against torch's autograd and central differences in tests/test_rl.c. */
#include <math.h>
#include <string.h>

#include "core/err.h"
#include "plast/rl.h"
#include "rl/ppo_policy.h"

plast_ppo_cfg plast_ppo_cfg_default(void) {
    plast_ppo_cfg c;
    memset(&c, 0, sizeof c);
    c.gamma = 0.99, c.lambda = 0.95, c.clip = 0.2, c.vf_clip_param = 10, c.value_coef = 1, c.entropy_coef = 0.01;
    c.kl_coef = 0.2, c.kl_target = 0.01, c.steps = 2048, c.minibatch = 64, c.epochs = 10, c.seq_len = 20;
    c.eval_explore = 1;
    strcpy(c.objective, "clip");
    strcpy(c.vf_clip, "rllib2022");
    strcpy(c.adv_norm, "batch");
    strcpy(c.std, "state");
    return c;
}

enum { VF_NONE, VF_RLLIB2022, VF_CLAMP, VF_CLEAN };
static int vf_kind(const char *s) {
    return !strcmp(s, "rllib2022") ? VF_RLLIB2022 : !strcmp(s, "clamp") ? VF_CLAMP : !strcmp(s, "clean") ? VF_CLEAN : VF_NONE;
}

/* the value term and its derivative in V */
static double value_term(int kind, double eps, double v, double v_old, double R, double *dv) {
    const double u = (v - R) * (v - R);
    switch (kind) {
    case VF_CLAMP:
        *dv = u < eps ? 2 * (v - R) : 0;
        return u < eps ? u : eps;
    case VF_RLLIB2022:
    case VF_CLEAN: {
        const double half = kind == VF_CLEAN ? 0.5 : 1;
        const double d = v - v_old, vc = v_old + fmax(-eps, fmin(eps, d)), c = (vc - R) * (vc - R);
        /* the clipped branch is constant in V once |V - V_old| > eps (the quirk of ray issue #19291) */
        *dv = half * (u >= c ? 2 * (v - R) : (fabs(d) < eps ? 2 * (vc - R) : 0));
        return half * fmax(u, c);
    }
    default:
        *dv = 2 * (v - R);
        return u;
    }
}

/* one row's policy terms over its policy outputs y (box: mu then s; discrete: logits): log pi(a), the entropy and
 * KL(old || new), each with its gradient in [mu, s] (box; s the std's parameter: the output s, or log_std with a
 * free std) or the logits */
typedef struct policy_terms {
    double lp, ent, kl;
    double g_lp[128], g_ent[128], g_kl[128];
} policy_terms;

static void policy_row(const plast_ppo_batch *b, int64_t i, const plast_real *y, policy_terms *o) {
    const int64_t A = b->A;
    const plast_real *a = b->action + (b->discrete ? i : i * A);
    const double *old = b->mean_old + i * A;
    o->lp = o->ent = o->kl = 0;
    if (b->discrete) { /* softmax of the logits */
        double mx = y[0], so = 0, sn = 0, old_mx = old[0];
        for (int64_t k = 1; k < A; k++) mx = fmax(mx, (double)y[k]), old_mx = fmax(old_mx, old[k]);
        for (int64_t k = 0; k < A; k++) sn += exp((double)y[k] - mx), so += exp(old[k] - old_mx);
        const double lse = mx + log(sn), lse_old = old_mx + log(so);
        const int64_t at = (int64_t)a[0];
        double lpk[128] = {0}, pk[128];
        for (int64_t k = 0; k < A; k++) lpk[k] = (double)y[k] - lse, pk[k] = exp(lpk[k]), o->ent -= pk[k] * lpk[k];
        o->lp = lpk[at];
        for (int64_t k = 0; k < A; k++) {
            const double lpo = old[k] - lse_old, po = exp(lpo);
            o->kl += po * (lpo - lpk[k]);
            o->g_lp[k] = (k == at ? 1.0 : 0.0) - pk[k];
            o->g_ent[k] = -pk[k] * (lpk[k] + o->ent);
            o->g_kl[k] = pk[k] - po;
        }
        return;
    }
    const double *sd_old = b->std_old + i * A;
    for (int64_t k = 0; k < A; k++) { /* N(mu, softplus(s)) or N(mu, exp(log_std)); gradients in mu and std, then s */
        const double ls = b->log_std ? (double)b->log_std[k] : 0;
        const double mu = (double)y[k], sd = b->log_std ? exp(ls) : softplus((double)y[A + k]);
        const double z = ((double)a[k] - mu) / sd;
        const double mo = old[k], so = sd_old[k], dm = mu - mo, ds = b->log_std ? sd : sigmoid((double)y[A + k]);
        o->lp += -0.5 * z * z - log(sd) - 0.5 * LOG_2PI;
        o->ent += 0.5 + 0.5 * LOG_2PI + log(sd);
        o->kl += log(sd / so) + (so * so + dm * dm) / (2 * sd * sd) - 0.5;
        o->g_lp[k] = z / sd, o->g_lp[A + k] = (z * z - 1) / sd * ds;
        o->g_ent[k] = 0, o->g_ent[A + k] = ds / sd;
        o->g_kl[k] = dm / (sd * sd), o->g_kl[A + k] = (1 / sd - (so * so + dm * dm) / (sd * sd * sd)) * ds;
    }
}

plast_status plast_ppo_loss(const plast_ppo_cfg *cfg, double kl_coef, const plast_ppo_batch *b, int64_t O,
                            const plast_real *y, plast_real *dy, plast_ppo_stats *stats, plast_err *err) {
    /* policy outputs; the value is output P */
    const int64_t P = b ? (b->discrete || b->log_std ? b->A : 2 * b->A) : 0;
    if (!cfg || !b || !y || !dy || b->n < 1 || b->A < 1 || P > 128 || O < P + 1 || !b->action || !b->mean_old ||
        (!b->discrete && !b->std_old) || !b->logp_old || !b->value_old || !b->advantage || !b->target ||
        (b->log_std && (b->discrete || !b->g_log_std)))
        return plast_err_set(err, PLAST_ERR_INVALID_ARG, "ppo loss: needs n >= 1, at most 64 box or 128 discrete "
                                                         "actions, O >= policy outputs + 1 and every buffer");
    const int64_t n = b->n;
    const int vk = vf_kind(cfg->vf_clip), a2c = strcmp(cfg->objective, "a2c") == 0;
    int64_t count = 0; /* the rows the means run over: this batch's valid ones, or the whole minibatch's */
    for (int64_t i = 0; i < n; i++) count += !b->valid || b->valid[i];
    if (b->count_total > 0) count = b->count_total;
    memset(dy, 0, sizeof(plast_real) * (size_t)(n * O));
    double L = 0, Lpg = 0, Lv = 0, KL = 0, H = 0, clipped = 0;
    /* PPO: means over the valid steps; RLlib's A2C: sums */
    const double w = count ? (a2c ? 1.0 : 1.0 / (double)count) : 0, ws = count ? 1.0 / (double)count : 0;
    policy_terms pt;
    for (int64_t i = 0; i < n; i++) {
        if (b->valid && !b->valid[i]) continue;
        const plast_real *yi = y + i * O;
        plast_real *di = dy + i * O;
        policy_row(b, i, yi, &pt);
        const double adv = b->advantage[i], v = (double)yi[P];
        double pg, d_lp, kl_w, vf, dv;
        if (a2c) {
            pg = -pt.lp * adv, d_lp = -adv, kl_w = 0;
            vf = 0.5 * (v - b->target[i]) * (v - b->target[i]), dv = v - b->target[i];
        } else {
            const double rho = exp(pt.lp - b->logp_old[i]), rc = fmax(1 - cfg->clip, fmin(1 + cfg->clip, rho));
            const double s1 = adv * rho, s2 = adv * rc;
            pg = -fmin(s1, s2);
            /* the gradient flows through s1 when it is the smaller or rho is inside the clip range */
            d_lp = s1 <= s2 || (rho > 1 - cfg->clip && rho < 1 + cfg->clip) ? -adv * rho : 0;
            clipped += s2 < s1;
            kl_w = kl_coef;
            vf = value_term(vk, cfg->vf_clip_param, v, b->value_old[i], b->target[i], &dv);
        }
        L += w * (pg + kl_w * pt.kl + cfg->value_coef * vf - cfg->entropy_coef * pt.ent);
        Lpg += ws * pg, Lv += ws * vf, KL += ws * pt.kl, H += ws * pt.ent;
        for (int64_t k = 0; k < P; k++)
            di[k] = (plast_real)(w * (d_lp * pt.g_lp[k] + kl_w * pt.g_kl[k] - cfg->entropy_coef * pt.g_ent[k]));
        for (int64_t k = 0; b->log_std && k < b->A; k++) /* the free std's parameter */
            b->g_log_std[k] += w * (d_lp * pt.g_lp[b->A + k] + kl_w * pt.g_kl[b->A + k] -
                                    cfg->entropy_coef * pt.g_ent[b->A + k]);
        di[P] = (plast_real)(w * cfg->value_coef * dv);
    }
    if (stats) {
        stats->loss = L, stats->policy_loss = Lpg, stats->value_loss = Lv, stats->kl = KL, stats->entropy = H;
        stats->clip_fraction = clipped * ws;
    }
    if (!isfinite(L)) return plast_err_set(err, PLAST_ERR_NUMERIC, "ppo loss: not finite (%g)", L);
    return PLAST_OK;
}
