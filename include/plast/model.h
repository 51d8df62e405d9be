/* plast/model.h: recurrent networks with plasticity, one step at a time, with caller-owned state.
 *
 * A plast_model is an immutable description built from a plast_model_cfg: which family (Duan et al.'s plastic
 * RNN/LSTM, STPN, the baselines...), its sizes and settings, the layout of its parameters and of its per-sample
 * state. It owns no parameters and no state: those belong to the caller, so one model can serve many parameter
 * sets, batches and threads.
 *
 * Two ways to run a model:
 *   - training: plast_trial_begin records a batch of trials on a plast_tape, plast_trial_step records one time
 *     step, and plast_tape_backward gives the BPTT gradient of any loss built from the step outputs;
 *   - stepping: plast_model_step advances a caller-owned plast_state by one step, without gradients (inference,
 *     environments, interactive use).
 *
 * Model families (model.family): duan, stpn, rnn, lstm, mlp, fastweights, hebbff, modplast, diffplast, bohp.
 * docs/models/ has one page per family with its equations as implemented.
 */
#ifndef PLAST_MODEL_H
#define PLAST_MODEL_H

#include "plast/config.h"
#include "plast/params.h"
#include "plast/rng.h"
#include "plast/tape.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PLAST_MODEL_MAX_PARAMS 48
#define PLAST_MODEL_MAX_STATE 24
#define PLAST_MODEL_NAME_MAX 32

/* Every setting of every family; the schema (plast_model_cfg_schema) documents each key "model.*". */
typedef struct plast_model_cfg {
    char family[PLAST_MODEL_NAME_MAX];   /* duan | stpn | rnn | lstm | mlp | fastweights | hebbff | modplast | ... */
    int64_t input, output, hidden;       /* I, O (task outputs), H */
    char hidden_scaling[16];             /* duan: "paper" applies x1.5 without plasticity, x2 for the RNN cell */
    char rule[PLAST_MODEL_NAME_MAX];     /* plasticity rule: none | hebbian | gradient | oja | ... (rules table) */
    char activation[16];                 /* default | tanh | relu | sigmoid */
    /* Duan et al. 2023 */
    char cell[8];                        /* rnn | lstm */
    int modulation;                      /* eta(t) = 2 plastic_lr sigmoid(m_t) */
    double plastic_lr, plastic_decay;    /* p_lr, p_wd */
    double max_norm;                     /* joint per-sample max-norm of the raw update */
    char alpha[16];                      /* random | uniform | neg_uniform | none */
    int64_t extra;                       /* extra outputs E */
    int64_t inner_batch;                 /* B in the internal loss mean over batch x outputs; 0: the actual batch */
    char encoder[8];                     /* linear (plastic with plasticity) | conv4 (Conv-4 CNN for images) */
    int64_t image_channels, image_size;  /* conv4: the images in each input (0: the task's) */
    int64_t conv_channels;               /* conv4: feature maps per layer (64) */
    char frontend[16];                   /* none | mnih_conv | mnih_conv_fc: convolutions in front of any family */
    int64_t frontend_units;              /* mnih_conv_fc: units of the dense layer after them (256) */
    int64_t policy_log_std;              /* a free parameter "policy.log_std" of this many reals (PPO, ppo.std free) */
    /* STPN (Rodriguez et al. 2022) and its relatives */
    char variant[8];                     /* stpn: r (recurrent) | f (feed-forward) */
    char stp_params[16];                 /* synapse | scalar: lambda and gamma per synapse or one each */
    char norm[8];                        /* stpn weight normalisation: pre | post | none */
    char stpn_form[8];                   /* stpn: paper | hebbff (the CFD runs' nets) */
    double clamp;                        /* bound on the plastic state (stpn, modplast, diffplast); inf = none */
    int pre_new_h;                       /* stpn: presynaptic vector [x_t; h_t] (the ART driver's quirk) */
    /* fast weights (Ba et al. 2016) */
    double fw_decay, fw_lr;              /* lambda 0.9, eta 0.5 */
    int64_t fw_steps;                    /* inner loop S */
    int fw_double_update;                /* the ART driver's second update per step */
    /* Backpropamine / differentiable plasticity (Miconi et al. 2018, 2019) */
    char neuromod[16];                   /* modplast: simple | retroactive */
    char modulator[16];                  /* modplast: tanh | sigmoid | linear */
    char trace[16];                      /* diffplast: decay | clip */
    int direct_input;                    /* diffplast: x is added to the neurons' input directly (I = H) */
    char readout[8];                     /* linear | none (y = h, O = H) */
    double eta_init;                     /* diffplast/modplast retroactive: initial learned eta (0.01) */
    /* HebbFF (Tyulmankov et al. 2022) */
    char hebbff_lambda[16];              /* clamp | sigmoid */
    char hebbff_eta[16];                 /* free | anti | hebb */
    /* BOHP (Miconi 2016) */
    double trace_decay;                  /* gamma: Hebb <- gamma Hebb + (1 - gamma) y x^T */
} plast_model_cfg;

PLAST_API plast_cfg_schema plast_model_cfg_schema(void);
/* The defaults of every key (a valid "duan" model needs input and output set). */
PLAST_API plast_status plast_model_cfg_default(plast_model_cfg *cfg, plast_err *err);
/* A key whose help begins with family names ("stpn: ...") applies to those families only: set away from its
 * default for another family it is an error (in plast_model_init), and when an override changes model.family
 * (plast_cfg_apply_set, the schema's on_change) the keys of other families return to their defaults. This is that
 * reset, for cfg->family. */
PLAST_API void plast_model_cfg_keep_family(plast_model_cfg *cfg);

typedef struct plast_model plast_model;

/* Checks the configuration and computes every size (one allocation). Errors name the key at fault. */
PLAST_API plast_model *plast_model_init(const plast_model_cfg *cfg, plast_err *err);
PLAST_API void plast_model_free(plast_model *m);

PLAST_API const plast_model_cfg *plast_model_get_cfg(const plast_model *m);
PLAST_API const char *plast_model_describe(const plast_model *m); /* "duan lstm hebbian H=128 I=16 O=1 ..." */
PLAST_API int64_t plast_model_hidden(const plast_model *m);       /* H after any paper scaling */
PLAST_API int64_t plast_model_input(const plast_model *m);
PLAST_API int64_t plast_model_output(const plast_model *m);
/* 1 when the model's steps report a learned, time-varying plasticity rate (Duan's eta(t), Backpropamine's M(t)) */
PLAST_API int plast_model_is_modulated(const plast_model *m);

/* ---- parameters --------------------------------------------------------------------------------------------- */

PLAST_API int plast_model_param_count(const plast_model *m);
PLAST_API const plast_param_spec *plast_model_param_specs(const plast_model *m);
/* A parameter buffer with the model's layout, zeroed. */
PLAST_API plast_params *plast_model_params_init(const plast_model *m, plast_err *err);
/* The papers' initialisation, drawn from rng. */
PLAST_API void plast_model_params_reset(const plast_model *m, plast_params *p, plast_rng *rng);
/* Restores constraints the family keeps on its parameters (HebbFF's lambda in [0, 1]); call after each
 * optimizer step. */
PLAST_API void plast_model_params_constrain(const plast_model *m, plast_params *p);
/* Another accepted name for parameter `name` in files (the Duan reference writes in_fc.* or in_fc.0.*), or NULL. */
PLAST_API const char *plast_model_param_alias(const plast_model *m, const char *name, char *buf, size_t cap);
struct plast_st_reader;
/* Reads every parameter from `prefix<name>` (or its alias) in a safetensors file, converting dtypes; commits only
 * if all were found with the right shapes. Errors name the file and the tensor. */
PLAST_API plast_status plast_model_params_read(const plast_model *m, plast_params *p, const struct plast_st_reader *r,
                                               const char *prefix, plast_err *err);

/* ---- state -------------------------------------------------------------------------------------------------- */

/* The per-sample state tensors (hidden state, cell state, plastic weights...), in a fixed order. */
PLAST_API int plast_model_state_count(const plast_model *m);
PLAST_API const char *plast_model_state_name(const plast_model *m, int k);
PLAST_API plast_shape plast_model_state_shape(const plast_model *m, int k); /* per sample */
PLAST_API int plast_model_state_is_plastic(const plast_model *m, int k);   /* a plastic weight, not an activity */
PLAST_API int64_t plast_model_state_numel(const plast_model *m);           /* per sample, all tensors */
PLAST_API int64_t plast_model_plastic_numel(const plast_model *m);         /* per sample, plastic tensors only */

typedef struct plast_state plast_state;

/* State for `batch` samples, zeroed (the start of a trial): one allocation. */
PLAST_API plast_state *plast_state_init(const plast_model *m, int64_t batch, plast_err *err);
PLAST_API void plast_state_free(plast_state *s);
PLAST_API void plast_state_reset(plast_state *s);                      /* zeros: a new trial */
PLAST_API int64_t plast_state_batch(const plast_state *s);
PLAST_API plast_real *plast_state_data(plast_state *s, int k);         /* (batch, per-sample shape of k) */
PLAST_API const plast_real *plast_state_view(const plast_state *s, int k); /* the same, read only */

/* ---- recording trials on a tape (training) ------------------------------------------------------------------ */

/* What one step produced, as tape nodes. */
typedef struct plast_step_out {
    plast_node *y;          /* (B, O): the task output (logits, prediction, ...) */
    plast_node *modulation; /* (B): the step's plasticity rate eta(t) or modulator M(t); NULL without one */
    plast_node *energy;     /* (B): sum over synapses of x^2 |g| for this step (only with want_energy) */
} plast_step_out;

typedef struct plast_trial {
    const plast_model *model;
    plast_tape *tape;
    int64_t batch;
    int want_energy;                              /* set to compute out.energy at each step */
    plast_node *param[PLAST_MODEL_MAX_PARAMS];    /* one leaf per parameter */
    plast_node *state[PLAST_MODEL_MAX_STATE];     /* the current state, (batch, ...) each */
} plast_trial;

/* Starts recording `batch` trials from the zero state. The parameters are read in place (see plast_tape_param). */
PLAST_API plast_status plast_trial_begin(plast_trial *tr, const plast_model *m, plast_tape *t, plast_params *p,
                                         int64_t batch);
/* Replaces the recorded state by the values of s (a constant: no gradient flows into earlier trials). */
PLAST_API plast_status plast_trial_set_state(plast_trial *tr, const plast_state *s);
/* Records one step with input x (B, I). */
PLAST_API plast_status plast_trial_step(plast_trial *tr, plast_node *x, plast_step_out *out);
/* Copies the current state values into s. */
PLAST_API plast_status plast_trial_get_state(const plast_trial *tr, plast_state *s);

/* ---- stepping without gradients ----------------------------------------------------------------------------- */

/* Advances s by one step: x (batch, I) in, y (batch, O) out; modulation and energy (batch) may be NULL. `scratch`
 * is a tape used as workspace (reset inside). */
PLAST_API plast_status plast_model_step(const plast_model *m, plast_params *p, plast_state *s, const plast_real *x,
                                        plast_real *y, plast_real *modulation, plast_real *energy,
                                        plast_tape *scratch, plast_err *err);

/* ---- memory ------------------------------------------------------------------------------------------------- */

/* Bytes of per-trial state for a batch, and bytes the reference (tape) path records per time step of training. */
PLAST_API int64_t plast_model_state_bytes(const plast_model *m, int64_t batch);

#ifdef __cplusplus
}
#endif
#endif
