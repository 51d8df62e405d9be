/* src/params/optim.c: SGD, Adam and AdamW exactly as torch.optim (1.13) computes them, with amsgrad. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "plast/optim.h"
#include "params/params_internal.h"

#define MAX_STATE 3

struct plast_optim {
    plast_optim_config cfg;
    int64_t steps;
    int64_t numel;
    int n_state;
    const char *state_names[MAX_STATE];
    plast_real *state[MAX_STATE]; /* each numel, in the params' layout, inside this allocation */
};

#define KIND_NAME(ID, name) name,
static const char *const KIND_NAMES[] = {PLAST_OPTIM_KIND_LIST(KIND_NAME)};
#undef KIND_NAME
_Static_assert(sizeof KIND_NAMES / sizeof KIND_NAMES[0] == PLAST_OPTIM_KIND_COUNT, "an optimizer lacks a name");

const char *plast_optim_kind_name(plast_optim_kind k) {
    return ((int)k >= 0 && k < PLAST_OPTIM_KIND_COUNT) ? KIND_NAMES[k] : "unknown";
}

plast_optim_kind plast_optim_kind_parse(const char *s) {
    for (int k = 0; k < PLAST_OPTIM_KIND_COUNT; k++)
        if (s && strcmp(s, KIND_NAMES[k]) == 0) return (plast_optim_kind)k;
    return PLAST_OPTIM_KIND_COUNT;
}

plast_optim_config plast_optim_config_default(plast_optim_kind kind) {
    plast_optim_config c = {kind, 1e-3, 0.9, 0.999, 1e-8, 0.0, 0.0, 0};
    if (kind == PLAST_OPTIM_SGD) c.lr = 1e-2;
    if (kind == PLAST_OPTIM_ADAMW) c.weight_decay = 1e-2;
    return c;
}

plast_optim *plast_optim_init(const plast_optim_config *cfg, const plast_params *p, plast_err *err) {
    if (!cfg || !p || (int)cfg->kind < 0 || cfg->kind >= PLAST_OPTIM_KIND_COUNT) {
        plast_err_set(err, PLAST_ERR_INVALID_ARG, "optim: missing configuration or parameters, or unknown kind");
        return NULL;
    }
    if (!(cfg->lr >= 0) || !(cfg->weight_decay >= 0) || !(cfg->eps >= 0) || !(cfg->beta1 >= 0 && cfg->beta1 < 1) ||
        !(cfg->beta2 >= 0 && cfg->beta2 < 1) || !(cfg->momentum >= 0)) {
        plast_err_set(err, PLAST_ERR_INVALID_ARG,
                      "optim: lr %g, weight decay %g, eps %g and momentum %g must be >= 0 and betas (%g, %g) in [0, 1)",
                      cfg->lr, cfg->weight_decay, cfg->eps, cfg->momentum, cfg->beta1, cfg->beta2);
        return NULL;
    }
    const char *names[MAX_STATE];
    int n_state = 0;
    if (cfg->kind == PLAST_OPTIM_SGD) {
        if (cfg->momentum > 0) names[n_state++] = "momentum_buffer";
    } else {
        names[n_state++] = "exp_avg";
        names[n_state++] = "exp_avg_sq";
        if (cfg->amsgrad) names[n_state++] = "max_exp_avg_sq";
    }
    size_t head = (sizeof(plast_optim) + 63) / 64 * 64;
    size_t buf = ((size_t)p->numel * sizeof(plast_real) + 63) / 64 * 64;
    plast_optim *o = aligned_alloc(64, head + (size_t)n_state * buf);
    if (!o) {
        plast_err_set(err, PLAST_ERR_NOMEM, "optim: out of memory");
        return NULL;
    }
    memset(o, 0, head + (size_t)n_state * buf);
    o->cfg = *cfg;
    o->numel = p->numel;
    o->n_state = n_state;
    for (int k = 0; k < n_state; k++) {
        o->state_names[k] = names[k];
        o->state[k] = (plast_real *)((char *)o + head + (size_t)k * buf);
    }
    return o;
}

void plast_optim_free(plast_optim *o) { free(o); }

const plast_optim_config *plast_optim_get_config(const plast_optim *o) { return &o->cfg; }
int64_t plast_optim_steps(const plast_optim *o) { return o->steps; }
void plast_optim_set_steps(plast_optim *o, int64_t steps) { o->steps = steps; }
int plast_optim_state_count(const plast_optim *o) { return o->n_state; }
const char *plast_optim_state_name(const plast_optim *o, int k) { return o->state_names[k]; }
plast_real *plast_optim_state(plast_optim *o, int k) { return o->state[k]; }

static void sgd_step(plast_optim *o, plast_real *w, const plast_real *g, int64_t n, double lr) {
    const double wd = o->cfg.weight_decay, mu = o->cfg.momentum;
    plast_real *buf = o->n_state ? o->state[0] : NULL;
    for (int64_t i = 0; i < n; i++) {
        double d = (double)g[i] + wd * w[i];
        if (buf) {
            d = o->steps == 0 ? d : mu * buf[i] + d; /* torch: the first buffer is the gradient itself */
            buf[i] = (plast_real)d;
        }
        w[i] = (plast_real)(w[i] - lr * d);
    }
}

static void adam_step(plast_optim *o, plast_real *w, const plast_real *g, int64_t n, double lr) {
    const double b1 = o->cfg.beta1, b2 = o->cfg.beta2, eps = o->cfg.eps, wd = o->cfg.weight_decay;
    const int decoupled = o->cfg.kind == PLAST_OPTIM_ADAMW;
    const double t = (double)(o->steps + 1);
    const double step_size = lr / (1.0 - pow(b1, t));
    const double bc2_sqrt = sqrt(1.0 - pow(b2, t));
    plast_real *m = o->state[0], *v = o->state[1], *vmax = o->cfg.amsgrad ? o->state[2] : NULL;
    /* elementwise, so splitting it between threads changes no result */
#pragma omp parallel for if (n >= 65536)
    for (int64_t i = 0; i < n; i++) {
        double wi = w[i];
        double gi = g[i];
        if (decoupled)
            wi *= 1.0 - lr * wd;
        else
            gi += wd * wi;
        m[i] = (plast_real)(b1 * m[i] + (1.0 - b1) * gi);
        v[i] = (plast_real)(b2 * v[i] + (1.0 - b2) * gi * gi);
        double vi = v[i];
        if (vmax) {
            if (vi > vmax[i]) vmax[i] = (plast_real)vi;
            vi = vmax[i];
        }
        double denom = sqrt(vi) / bc2_sqrt + eps;
        w[i] = (plast_real)(wi - step_size * m[i] / denom);
    }
}

plast_status plast_optim_step(plast_optim *o, plast_params *p, double lr, plast_err *err) {
    if (p->numel != o->numel)
        return plast_err_set(err, PLAST_ERR_MISMATCH, "optim: built for %lld parameters, given %lld",
                             (long long)o->numel, (long long)p->numel);
    if (!isfinite(lr) || lr < 0) return plast_err_set(err, PLAST_ERR_INVALID_ARG, "optim: learning rate %g", lr);
    if (o->cfg.kind == PLAST_OPTIM_SGD)
        sgd_step(o, p->values, p->grads, p->numel, lr);
    else
        adam_step(o, p->values, p->grads, p->numel, lr);
    o->steps++;
    return PLAST_OK;
}

double plast_params_clip_grad_norm(plast_params *p, double max_norm) {
    double s = 0;
    for (int64_t i = 0; i < p->numel; i++) s += (double)p->grads[i] * p->grads[i];
    double norm = sqrt(s);
    double coef = max_norm / (norm + 1e-6);
    if (coef < 1)
        for (int64_t i = 0; i < p->numel; i++) p->grads[i] = (plast_real)(p->grads[i] * coef);
    return norm;
}

double plast_schedule_cosine(int64_t step, int64_t total, double lr0, double lr_min) {
    if (total <= 0 || step >= total) return lr_min;
    if (step <= 0) return lr0;
    return lr_min + (lr0 - lr_min) * (1.0 + cos(3.14159265358979323846 * (double)step / (double)total)) / 2.0;
}
