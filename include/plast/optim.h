/* plast/optim.h: outer-loop optimizers, gradient clipping and learning-rate schedules.
 *
 * The update rules are PyTorch's (torch.optim 1.13), so that training runs can be compared with the reference
 * code: SGD with momentum, Adam with L2 weight decay, AdamW with decoupled weight decay, both with the amsgrad
 * option that Duan et al. use. Optimizer state buffers share the layout of the plast_params they update.
 */
#ifndef PLAST_OPTIM_H
#define PLAST_OPTIM_H

#include "plast/params.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The optimizers, once: X(ID, name). The enum, plast_optim_kind_name and train.optimizer's choices come from it.
 *   sgd    b = momentum*b + (g + wd*p); p -= lr*b   (b = g on the first step, as torch)
 *   adam   g += wd*p; Adam moments; p -= lr * mhat / (sqrt(vhat) + eps)
 *   adamw  p *= 1 - lr*wd; then the Adam update on the raw gradient */
#define PLAST_OPTIM_KIND_LIST(X) X(SGD, "sgd") X(ADAM, "adam") X(ADAMW, "adamw")
#define PLAST_OPTIM_KIND_ENUM(ID, name) PLAST_OPTIM_##ID,
typedef enum plast_optim_kind { PLAST_OPTIM_KIND_LIST(PLAST_OPTIM_KIND_ENUM) PLAST_OPTIM_KIND_COUNT } plast_optim_kind;
#undef PLAST_OPTIM_KIND_ENUM
/* "sgd|adam|adamw", as configuration choices */
#define PLAST_OPTIM_KIND_BAR(ID, name) "|" name
#define PLAST_OPTIM_KIND_CHOICES (&PLAST_OPTIM_KIND_LIST(PLAST_OPTIM_KIND_BAR)[1])

PLAST_API const char *plast_optim_kind_name(plast_optim_kind k); /* "sgd", "adam", "adamw" */
/* Parses "sgd", "adam" or "adamw"; returns PLAST_OPTIM_KIND_COUNT for anything else. */
PLAST_API plast_optim_kind plast_optim_kind_parse(const char *s);

typedef struct plast_optim_config {
    plast_optim_kind kind;
    double lr;           /* base learning rate; plast_optim_step takes the scheduled one */
    double beta1, beta2; /* Adam moment decays (0.9, 0.999) */
    double eps;          /* Adam denominator term (1e-8) */
    double weight_decay; /* L2 (sgd, adam) or decoupled (adamw) */
    double momentum;     /* sgd only */
    int amsgrad;         /* Adam/AdamW: use the running max of the second moment */
} plast_optim_config;

/* torch defaults for the kind: lr 1e-3 (sgd 1e-2), betas (0.9, 0.999), eps 1e-8, wd 0 (adamw 1e-2). */
PLAST_API plast_optim_config plast_optim_config_default(plast_optim_kind kind);

typedef struct plast_optim plast_optim;

/* State buffers sized for p's layout, zeroed, in one allocation. */
PLAST_API plast_optim *plast_optim_init(const plast_optim_config *cfg, const plast_params *p, plast_err *err);
PLAST_API void plast_optim_free(plast_optim *o);

/* One update of p from its gradient buffer at learning rate lr (pass the schedule's value). */
PLAST_API plast_status plast_optim_step(plast_optim *o, plast_params *p, double lr, plast_err *err);

PLAST_API const plast_optim_config *plast_optim_get_config(const plast_optim *o);
PLAST_API int64_t plast_optim_steps(const plast_optim *o); /* updates taken so far */
PLAST_API void plast_optim_set_steps(plast_optim *o, int64_t steps);
/* State buffers for checkpoints: "momentum" (sgd), or "exp_avg", "exp_avg_sq" and, with amsgrad,
 * "max_exp_avg_sq" (torch's names). Each is a flat buffer in the params' layout. */
PLAST_API int plast_optim_state_count(const plast_optim *o);
PLAST_API const char *plast_optim_state_name(const plast_optim *o, int k);
PLAST_API plast_real *plast_optim_state(plast_optim *o, int k);

/* Global gradient-norm clipping as torch.nn.utils.clip_grad_norm_: with n = sqrt(sum of all g^2), every gradient
 * is scaled by max_norm / (n + 1e-6) when that is below 1. Returns n (before clipping). */
PLAST_API double plast_params_clip_grad_norm(plast_params *p, double max_norm);

/* Cosine annealing (torch CosineAnnealingLR, closed form):
 * lr_min + (lr0 - lr_min) * (1 + cos(pi * step / total)) / 2, and lr_min past total. */
PLAST_API double plast_schedule_cosine(int64_t step, int64_t total, double lr0, double lr_min);

#ifdef __cplusplus
}
#endif
#endif
