/* src/models/model_internal.h: model families, plasticity rules and the helpers they share (internal).
 *
 * A model family (family_*.c) is one `const plast_family_def`: it lays out parameters and state from the
 * configuration, initialises parameters as its paper does, and records one time step on a tape. A plasticity rule
 * (rules.c) is one `const plast_rule_def`: the raw weight update from pre- and postsynaptic activity. Families that
 * take a `model.rule` call whichever rule the configuration names, so a new rule is one row in rule_list.h.
 */
#ifndef PLAST_MODELS_MODEL_INTERNAL_H
#define PLAST_MODELS_MODEL_INTERNAL_H

#include "plast/model.h"

/* ---- layout -------------------------------------------------------------------------------------------------- */

typedef struct plast_model_layout {
    int n_params;
    char param_names[PLAST_MODEL_MAX_PARAMS][PLAST_PARAM_NAME_MAX];
    plast_param_spec params[PLAST_MODEL_MAX_PARAMS]; /* .name points into param_names */
    int n_state;
    char state_names[PLAST_MODEL_MAX_STATE][PLAST_MODEL_NAME_MAX];
    plast_shape state_shape[PLAST_MODEL_MAX_STATE]; /* per sample */
    uint8_t state_plastic[PLAST_MODEL_MAX_STATE];
} plast_model_layout;

/* Adds a parameter (printf-style name); returns its index, or -1 when the layout is full. */
int plast_layout_param(plast_model_layout *L, plast_shape s, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Adds a per-sample state tensor; returns its index, or -1 when the layout is full. */
int plast_layout_state(plast_model_layout *L, const char *name, plast_shape s, int plastic);

/* ---- rules --------------------------------------------------------------------------------------------------- */

typedef struct plast_rule_def {
    const char *name;    /* as in model.rule */
    const char *formula; /* the raw update G in one line */
    /* 1 for the gradient rule: G is the gradient of the network's internal loss, which only a family with an
     * internal loss (duan) can form; `weight` and `bias` are then NULL. */
    int needs_internal_loss;
    /* 1 when G = pre (x) post exactly (biases 0): each update has rank one, which the low-rank path exploits */
    int rank_one;
    /* G (B, in, out) for a plastic weight from presynaptic pre (B, in), postsynaptic post (B, out) and the current
     * plastic state F (B, in, out) */
    plast_node *(*weight)(plast_tape *t, plast_node *pre, plast_node *post, plast_node *F);
    /* G (B, out) for a plastic bias, or NULL for none (zero) */
    plast_node *(*bias)(plast_tape *t, plast_node *post, plast_node *F);
    /* The same update one synapse at a time, G_ij = kernel(pre_i, post_j, F_ij), with its partial derivatives
     * written to d[0..2] (d/dpre, d/dpost, d/dF); NULL for a rule that is not elementwise. The fused path
     * (src/engine/engine_fused.c) runs every rule that has one; test_engine checks it against `weight`. */
    plast_real (*kernel)(plast_real pre, plast_real post, plast_real F, plast_real d[3]);
} plast_rule_def;

/* The rule named `name`, or NULL ("none" and unknown names alike; check with plast_rule_exists). */
const plast_rule_def *plast_rule_find(const char *name);
/* "hebbian|gradient|oja|..." into buf: the names model.rule accepts. */
const char *plast_rule_names(char *buf, size_t cap);

/* ---- families ------------------------------------------------------------------------------------------------ */

typedef struct plast_step_ctx {
    const plast_model *m;
    plast_tape *t;
    int64_t batch;
    plast_node *const *param;  /* leaves, in layout order */
    plast_node *const *state;  /* state before the step */
    plast_node **state_out;    /* state after the step, to fill (every entry) */
    plast_node *x;             /* (B, I) */
    int want_energy;
} plast_step_ctx;

/* How a family takes model.rule. model_init resolves and checks the rule from this, so families never do. */
typedef enum plast_rule_use {
    PLAST_RULE_USE_NONE,     /* no plastic weights: model.rule must be none (or default) */
    PLAST_RULE_USE_FIXED,    /* its own rule, default_rule, only */
    PLAST_RULE_USE_REQUIRED, /* any rule its capabilities allow, not none */
    PLAST_RULE_USE_OPTIONAL, /* any rule its capabilities allow, or none (the non-plastic control) */
    PLAST_RULE_USE_COUNT
} plast_rule_use;

/* Capabilities of a family, as bits of plast_family_def.caps. */
enum {
    PLAST_FAMILY_INTERNAL_LOSS = 1 << 0, /* forms a learned internal loss, so it can run the gradient rule */
    PLAST_FAMILY_DUAN_PATHS = 1 << 1,    /* the hand-written low-rank and dense paths of src/engine/ serve it */
};

struct plast_plastic_layer; /* plastic_layer.h */
struct plast_cell_layer;    /* cell_layer.h */
struct plast_fast_layer;    /* fast_layer.h */

typedef struct plast_family_def {
    const char *name;
    const char *summary;
    plast_rule_use rule_use;
    const char *default_rule; /* the rule model.rule = default means, or NULL for none */
    unsigned caps;            /* PLAST_FAMILY_* bits */
    /* a word after the family name in descriptions ("duan lstm"), or NULL for none */
    const char *(*variant)(const plast_model *m);
    /* 1 and L filled when this model is one plastic layer (plastic_layer.h) the fused path runs; 0 with the reason
     * in why otherwise. NULL: the family has no such form. */
    int (*fused)(const plast_model *m, struct plast_plastic_layer *L, char *why, size_t cap);
    /* 1 and L filled when this model is one non-plastic recurrent cell (cell_layer.h) the cell path runs. NULL: the
     * family has no such form. */
    int (*cell)(const plast_model *m, struct plast_cell_layer *L);
    /* 1 and L filled when this model is one fast-weight layer (fast_layer.h) the fast-weight path runs. NULL: the
     * family has no such form. */
    int (*fast)(const plast_model *m, struct plast_fast_layer *L);
    /* Validates m->cfg, sets m->H and fills m->layout and m->priv; errors name the model.* key. m->rule is set
     * (resolved and checked against rule_use and caps) before it is called. */
    plast_status (*layout)(plast_model *m, plast_err *err);
    void (*init)(const plast_model *m, plast_params *p, plast_rng *rng);
    void (*step)(const plast_step_ctx *c, plast_step_out *out);
    void (*constrain)(const plast_model *m, plast_params *p);                            /* may be NULL */
    const char *(*alias)(const plast_model *m, const char *name, char *buf, size_t cap); /* may be NULL */
} plast_family_def;

extern const plast_family_def *const plast_family_table[];
extern const int plast_family_count;

/* Room for a family's private settings (parameter indices, derived constants). */
#define PLAST_MODEL_PRIV_BYTES 512

/* Convolutions in front of the family (model.frontend): the model's input is an image of side x side x channels,
 * the family sees the flattened features of the last layer, or (mnih_conv_fc) a dense ReLU layer of them (I of
 * them). Parameters after the family's. */
typedef struct plast_model_frontend {
    int layers;                 /* convolutions; 0: no frontend */
    int64_t side, channels;     /* the input image */
    int k[2], stride[2];        /* kernel and stride per layer */
    int64_t maps[2], out[2];    /* feature maps and output side per layer */
    int w[2], b[2];             /* parameters: w (k*k*C_in, maps) in patch order, b (maps) */
    int64_t flat;               /* the last convolution's features, out[1]^2 maps[1] */
    int64_t fc;                 /* units of the dense layer after them; 0: none */
    int fc_w, fc_b;             /* parameters: fc_w (flat, fc), fc_b (fc) */
} plast_model_frontend;

struct plast_model {
    plast_model_cfg cfg;
    const plast_family_def *family;
    const plast_rule_def *rule; /* NULL: no plasticity rule */
    int64_t I, O, H;            /* I: what the family sees (the frontend's features when there is one) */
    int64_t input;              /* the model's input: I, or the frontend's image */
    plast_model_frontend frontend;
    int modulated; /* set by the family: out.modulation is a learned, time-varying rate (eta(t), M(t)) */
    plast_model_layout layout;
    char description[256];
    _Alignas(16) unsigned char priv[PLAST_MODEL_PRIV_BYTES];
};

/* 1 if the model has convolutions in front of its family: only the tape path runs it */
static inline int plast_model_has_frontend(const plast_model *m) { return m->frontend.layers > 0; }
/* the features the family sees for `rows` inputs x (rows, input): the frontend's convolutions on the tape */
plast_node *plast_model_frontend_features(const plast_model *m, plast_tape *t, plast_node *const *param, plast_node *x,
                                          int64_t rows);

/* The family's private struct; a _Static_assert in each family checks that it fits. */
#define PLAST_PRIV(m, type) ((const type *)(m)->priv)

/* ---- helpers shared by the families (model_util.c) ------------------------------------------------------------ */

typedef enum plast_act { PLAST_ACT_TANH, PLAST_ACT_RELU, PLAST_ACT_SIGMOID, PLAST_ACT_IDENTITY } plast_act;
plast_node *plast_act_apply(plast_tape *t, plast_act a, plast_node *x);
/* model.activation: the family's default unless set */
plast_act plast_act_from_cfg(const plast_model_cfg *c, plast_act dflt);

/* x (B, in) times a weight shared by the batch, W (in, out), or with trans_w W (out, in): (B, out) */
plast_node *plast_mm_shared(plast_tape *t, plast_node *x, plast_node *W, int trans_w);
/* x (B, in) times per-sample weights P (B, in, out): (B, out) */
plast_node *plast_mm_sample(plast_tape *t, plast_node *x, plast_node *P);
/* a per-sample scalar s (B) shaped to broadcast against a (B, ...) tensor of `ndim` axes */
plast_node *plast_per_sample(plast_tape *t, plast_node *s, int ndim);
/* Energy sum_{i,j} x_i^2 |G_ij| per sample: G shared (in, out) or per sample (B, in, out); (B). Recorded with
 * gradients disabled. */
plast_node *plast_energy(plast_tape *t, plast_node *x, plast_node *G);

/* A torch-style linear layer: "<name>.weight" (out, in) and "<name>.bias" (out), as the baselines' readouts. */
typedef struct plast_linear {
    int w, b;
    int64_t in, out;
} plast_linear;
plast_linear plast_layout_linear(plast_model_layout *L, const char *name, int64_t in, int64_t out);
/* x (B, in) -> x W^T + b (B, out) */
plast_node *plast_linear_apply(const plast_step_ctx *c, const plast_linear *l, plast_node *x);
/* torch's nn.Linear default: weight and bias ~ U[-1/sqrt(in), 1/sqrt(in)] */
void plast_linear_init(const plast_linear *l, plast_params *p, plast_rng *rng);

/* U[lo, hi] into parameter i */
void plast_init_uniform(plast_params *p, int i, plast_rng *rng, double lo, double hi);
void plast_init_normal(plast_params *p, int i, plast_rng *rng, double mean, double std);
void plast_init_const(plast_params *p, int i, double v);

/* a key of another family set away from its default is an error (plast_model_cfg_keep_family) */
plast_status model_cfg_check_scope(const plast_model_cfg *cfg, plast_err *err);
/* Fails with a message naming the model.* key. */
plast_status plast_model_cfg_fail(plast_err *err, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
