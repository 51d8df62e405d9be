/* src/rl/ppo_policy.h: the policy's distributions, shared by PPO's loss (ppo_loss.c) and its learner (ppo.c):
 * the softplus standard deviation of the Gaussian policy and the Gaussian's log-density. Internal to src/rl/. */
#ifndef PLAST_RL_PPO_POLICY_H
#define PLAST_RL_PPO_POLICY_H

#include <math.h>

#include "plast/base.h"

#define LOG_2PI 1.8378770664093453

/* std = softplus(s), computed without overflow; d std / d s = sigmoid(s) */
static inline double softplus(double s) { return s > 30 ? s : log1p(exp(s)); }
static inline double sigmoid(double s) { return 1 / (1 + exp(-s)); }

/* log N(a; mu, std) summed over the A dimensions */
static inline double gauss_logp(const plast_real *a, const double *mu, const double *sd, int64_t A) {
    double lp = 0;
    for (int64_t k = 0; k < A; k++) {
        const double z = ((double)a[k] - mu[k]) / sd[k];
        lp += -0.5 * z * z - log(sd[k]) - 0.5 * LOG_2PI;
    }
    return lp;
}

#endif
