/* src/models/model.c: the model object, caller-owned state, recording trials on a tape, stepping without one. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "models/model_internal.h"
#include "plast/safetensors.h"

/* ---- model ------------------------------------------------------------------------------------------------- */

static const plast_family_def *family_find(const char *name) {
    for (int i = 0; i < plast_family_count; i++)
        if (strcmp(plast_family_table[i]->name, name) == 0) return plast_family_table[i];
    return NULL;
}

/* model.rule for family fam: "default" is the family's default rule, "none" no rule; checked against the family's
 * rule_use and capabilities. */
static plast_status rule_resolve(const plast_family_def *fam, const char *name, const plast_rule_def **out,
                                 plast_err *err) {
    const int dflt = strcmp(name, "default") == 0, none = strcmp(name, "none") == 0;
    const plast_rule_def *rule = dflt ? (fam->default_rule ? plast_rule_find(fam->default_rule) : NULL)
                                      : (none ? NULL : plast_rule_find(name));
    if (!dflt && !none && !rule) {
        char names[256];
        return plast_model_cfg_fail(err, "rule", "unknown plasticity rule \"%s\" (none, default or one of %s)", name,
                                    plast_rule_names(names, sizeof names));
    }
    switch (fam->rule_use) {
    case PLAST_RULE_USE_NONE:
        if (rule) return plast_model_cfg_fail(err, "rule", "%s has no plasticity (got \"%s\")", fam->name, name);
        break;
    case PLAST_RULE_USE_FIXED:
        if (rule != plast_rule_find(fam->default_rule))
            return plast_model_cfg_fail(err, "rule", "%s uses its fixed %s rule (got \"%s\")", fam->name,
                                        fam->default_rule, name);
        break;
    case PLAST_RULE_USE_REQUIRED:
        if (!rule) return plast_model_cfg_fail(err, "rule", "%s needs a plasticity rule (got \"%s\")", fam->name, name);
        break;
    case PLAST_RULE_USE_OPTIONAL:
    case PLAST_RULE_USE_COUNT:
        break;
    }
    if (rule && rule->needs_internal_loss && !(fam->caps & PLAST_FAMILY_INTERNAL_LOSS))
        return plast_model_cfg_fail(err, "rule", "%s has no internal loss for rule \"%s\" (a local rule, or none)",
                                    fam->name, rule->name);
    if (rule && !rule->needs_internal_loss && !rule->weight)
        return plast_model_cfg_fail(err, "rule", "rule \"%s\" has no weight update", rule->name);
    *out = rule;
    return PLAST_OK;
}

/* ---- the pixel frontend (model.frontend) --------------------------------------------------------------------- */

/* mnih_conv(_fc): the image geometry from the config and the input, and the family's input: the flattened features,
 * or the dense layer's units */
static plast_status frontend_plan(plast_model *m, plast_err *err) {
    plast_model_frontend *f = &m->frontend;
    memset(f, 0, sizeof *f);
    const int dense = strcmp(m->cfg.frontend, "mnih_conv_fc") == 0;
    if (!dense && strcmp(m->cfg.frontend, "mnih_conv") != 0) return PLAST_OK;
    if (m->family->caps & PLAST_FAMILY_DUAN_PATHS)
        return plast_model_cfg_fail(err, "frontend", "duan has its own image encoders (model.encoder = conv4)");
    const int64_t C = m->cfg.image_channels > 0 ? m->cfg.image_channels : 1;
    int64_t side = m->cfg.image_size;
    if (side <= 0) side = (int64_t)(sqrt((double)m->input / (double)C) + 0.5);
    if (m->input < 1 || side * side * C != m->input)
        return plast_model_cfg_fail(err, "frontend", "an input of %lld is not %lld x %lld images of %lld channels "
                                    "(model.image_size, model.image_channels)", (long long)m->input,
                                    (long long)side, (long long)side, (long long)C);
    const int k[2] = {8, 4}, st[2] = {4, 2};
    const int64_t maps[2] = {16, 32};
    int64_t in = side;
    for (int l = 0; l < 2; l++) {
        if (in < k[l])
            return plast_model_cfg_fail(err, "frontend", "images of side %lld are too small for mnih_conv (at least "
                                        "36)", (long long)side);
        f->k[l] = k[l], f->stride[l] = st[l], f->maps[l] = maps[l];
        f->out[l] = in = (in - k[l]) / st[l] + 1;
    }
    f->layers = 2, f->side = side, f->channels = C;
    f->flat = in * in * maps[1];
    f->fc = dense ? m->cfg.frontend_units : 0; /* Mnih et al. 2016's A3C: 256 units */
    m->I = dense ? f->fc : f->flat;
    return PLAST_OK;
}

static plast_status frontend_layout(plast_model *m, plast_err *err) {
    (void)err;
    plast_model_frontend *f = &m->frontend;
    int64_t c_in = f->channels;
    for (int l = 0; l < f->layers; l++) {
        f->w[l] = plast_layout_param(&m->layout, PLAST_SHAPE2(f->k[l] * f->k[l] * c_in, f->maps[l]), "frontend.conv%d.weight", l);
        f->b[l] = plast_layout_param(&m->layout, PLAST_SHAPE1(f->maps[l]), "frontend.conv%d.bias", l);
        c_in = f->maps[l];
    }
    if (f->fc) {
        f->fc_w = plast_layout_param(&m->layout, PLAST_SHAPE2(f->flat, f->fc), "frontend.fc.weight");
        f->fc_b = plast_layout_param(&m->layout, PLAST_SHAPE1(f->fc), "frontend.fc.bias");
    }
    return PLAST_OK;
}

/* model.policy_log_std: a free parameter after all others, zero at the start (params_reset clears every value) */
static plast_status policy_layout(plast_model *m) {
    if (m->cfg.policy_log_std > 0)
        plast_layout_param(&m->layout, PLAST_SHAPE1(m->cfg.policy_log_std), "policy.log_std");
    return PLAST_OK;
}

/* PyTorch's Conv2d and Linear initialisation: weight and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = k*k*C_in
 * (the dense layer's: flat) */
static void frontend_init(const plast_model *m, plast_params *p, plast_rng *rng) {
    const plast_model_frontend *f = &m->frontend;
    int64_t c_in = f->channels;
    for (int l = 0; l < f->layers; l++) {
        const double bound = 1.0 / sqrt((double)(f->k[l] * f->k[l] * c_in));
        plast_init_uniform(p, f->w[l], rng, -bound, bound);
        plast_init_uniform(p, f->b[l], rng, -bound, bound);
        c_in = f->maps[l];
    }
    if (f->fc) {
        const double bound = 1.0 / sqrt((double)f->flat);
        plast_init_uniform(p, f->fc_w, rng, -bound, bound);
        plast_init_uniform(p, f->fc_b, rng, -bound, bound);
    }
}

/* the features the family sees: relu(conv(...relu(conv(x))...)) flattened, (B, flat); with the dense layer
 * relu(features fc_w + fc_b), (B, fc) */
plast_node *plast_model_frontend_features(const plast_model *m, plast_tape *t, plast_node *const *param, plast_node *x,
                                          int64_t B) {
    const plast_model_frontend *f = &m->frontend;
    plast_node *img = plast_reshape(t, x, PLAST_SHAPE4(B, f->side, f->side, f->channels));
    for (int l = 0; l < f->layers; l++)
        img = plast_relu(t, plast_add(t, plast_conv2d(t, img, param[f->w[l]], f->k[l], 0, f->stride[l]), param[f->b[l]]));
    plast_node *flat = plast_reshape(t, img, PLAST_SHAPE2(B, f->flat));
    return f->fc ? plast_relu(t, plast_add(t, plast_matmul(t, flat, param[f->fc_w], 0, 0), param[f->fc_b])) : flat;
}

plast_model *plast_model_init(const plast_model_cfg *cfg, plast_err *err) {
    if (!cfg) {
        plast_err_set(err, PLAST_ERR_INVALID_ARG, "model: no configuration");
        return NULL;
    }
    const plast_family_def *fam = family_find(cfg->family);
    if (!fam) {
        char names[256] = "";
        for (int i = 0; i < plast_family_count; i++) {
            strncat(names, i ? "|" : "", sizeof names - strlen(names) - 1);
            strncat(names, plast_family_table[i]->name, sizeof names - strlen(names) - 1);
        }
        plast_model_cfg_fail(err, "family", "unknown family \"%s\" (one of %s)", cfg->family, names);
        return NULL;
    }
    const plast_rule_def *rule = NULL;
    if (model_cfg_check_scope(cfg, err) != PLAST_OK || rule_resolve(fam, cfg->rule, &rule, err) != PLAST_OK)
        return NULL;
    plast_model *m = calloc(1, sizeof *m);
    if (!m) {
        plast_err_set(err, PLAST_ERR_NOMEM, "model: out of memory");
        return NULL;
    }
    m->cfg = *cfg;
    m->family = fam;
    m->rule = rule;
    m->I = m->input = cfg->input;
    m->O = cfg->output;
    m->H = cfg->hidden;
    if (frontend_plan(m, err) != PLAST_OK || fam->layout(m, err) != PLAST_OK || frontend_layout(m, err) != PLAST_OK ||
        policy_layout(m) != PLAST_OK) {
        free(m);
        return NULL;
    }
    if (m->I < 1 || m->O < 1) {
        plast_model_cfg_fail(err, m->I < 1 ? "input" : "output", "is %lld: set it, or let a task set it",
                             (long long)(m->I < 1 ? m->I : m->O));
        free(m);
        return NULL;
    }
    int64_t n = 0;
    for (int i = 0; i < m->layout.n_params; i++) n += plast_shape_numel(m->layout.params[i].shape);
    const char *variant = fam->variant ? fam->variant(m) : NULL;
    snprintf(m->description, sizeof m->description, "%s%s%s, rule %s, H=%lld I=%lld O=%lld, %lld parameters",
             fam->name, variant ? " " : "", variant ? variant : "", m->rule ? m->rule->name : "none",
             (long long)m->H, (long long)m->input, (long long)m->O, (long long)n);
    if (m->frontend.layers) {
        const size_t len = strlen(m->description);
        snprintf(m->description + len, sizeof m->description - len, ", %s frontend %lldx%lldx%lld -> %lld",
                 m->cfg.frontend, (long long)m->frontend.side, (long long)m->frontend.side,
                 (long long)m->frontend.channels, (long long)m->I);
    }
    return m;
}

void plast_model_free(plast_model *m) { free(m); }

const plast_model_cfg *plast_model_get_cfg(const plast_model *m) { return &m->cfg; }
const char *plast_model_describe(const plast_model *m) { return m->description; }
int64_t plast_model_hidden(const plast_model *m) { return m->H; }
int64_t plast_model_input(const plast_model *m) { return m->input; }
int64_t plast_model_output(const plast_model *m) { return m->O; }
int plast_model_is_modulated(const plast_model *m) { return m->modulated; }
int plast_model_param_count(const plast_model *m) { return m->layout.n_params; }
const plast_param_spec *plast_model_param_specs(const plast_model *m) { return m->layout.params; }

plast_params *plast_model_params_init(const plast_model *m, plast_err *err) {
    if (!m) {
        plast_err_set(err, PLAST_ERR_INVALID_ARG, "model parameters: no model");
        return NULL;
    }
    return plast_params_init(m->layout.n_params, m->layout.params, err);
}

void plast_model_params_reset(const plast_model *m, plast_params *p, plast_rng *rng) {
    memset(plast_params_values(p), 0, (size_t)plast_params_numel(p) * sizeof(plast_real));
    m->family->init(m, p, rng);
    frontend_init(m, p, rng);
}

void plast_model_params_constrain(const plast_model *m, plast_params *p) {
    if (m->family->constrain) m->family->constrain(m, p);
}

const char *plast_model_param_alias(const plast_model *m, const char *name, char *buf, size_t cap) {
    return m->family->alias ? m->family->alias(m, name, buf, cap) : NULL;
}

plast_status plast_model_params_read(const plast_model *m, plast_params *p, const plast_st_reader *r,
                                     const char *prefix, plast_err *err) {
    int64_t n = plast_params_numel(p);
    plast_real *tmp = malloc((size_t)(n ? n : 1) * sizeof *tmp);
    if (!tmp) return plast_err_set(err, PLAST_ERR_NOMEM, "%s: out of memory", plast_st_reader_path(r));
    plast_status s = PLAST_OK;
    for (int i = 0; i < plast_params_count(p) && s == PLAST_OK; i++) {
        char name[256], alias[PLAST_PARAM_NAME_MAX], full_alias[256];
        snprintf(name, sizeof name, "%s%s", prefix, plast_params_name(p, i));
        if (plast_st_reader_find(r, name) < 0 && plast_model_param_alias(m, plast_params_name(p, i), alias, sizeof alias)) {
            snprintf(full_alias, sizeof full_alias, "%s%s", prefix, alias);
            if (plast_st_reader_find(r, full_alias) >= 0) snprintf(name, sizeof name, "%s", full_alias);
        }
        s = plast_st_reader_read(r, name, plast_params_shape(p, i), tmp + plast_params_offset(p, i), err);
    }
    if (s == PLAST_OK) memcpy(plast_params_values(p), tmp, (size_t)n * sizeof *tmp);
    free(tmp);
    return s;
}

int plast_model_state_count(const plast_model *m) { return m->layout.n_state; }
const char *plast_model_state_name(const plast_model *m, int k) { return m->layout.state_names[k]; }
plast_shape plast_model_state_shape(const plast_model *m, int k) { return m->layout.state_shape[k]; }
int plast_model_state_is_plastic(const plast_model *m, int k) { return m->layout.state_plastic[k]; }

int64_t plast_model_state_numel(const plast_model *m) {
    int64_t n = 0;
    for (int k = 0; k < m->layout.n_state; k++) n += plast_shape_numel(m->layout.state_shape[k]);
    return n;
}

int64_t plast_model_plastic_numel(const plast_model *m) {
    int64_t n = 0;
    for (int k = 0; k < m->layout.n_state; k++)
        if (m->layout.state_plastic[k]) n += plast_shape_numel(m->layout.state_shape[k]);
    return n;
}

int64_t plast_model_state_bytes(const plast_model *m, int64_t batch) {
    return batch * plast_model_state_numel(m) * (int64_t)sizeof(plast_real);
}

/* (batch, per-sample shape) */
static plast_shape batched(plast_shape s, int64_t batch) {
    plast_shape r = PLAST_SHAPE0();
    r.ndim = s.ndim + 1;
    r.d[0] = batch;
    for (int i = 0; i < s.ndim; i++) r.d[i + 1] = s.d[i];
    return r;
}

/* ---- state ------------------------------------------------------------------------------------------------- */

struct plast_state {
    const plast_model *model;
    int64_t batch;
    int64_t offset[PLAST_MODEL_MAX_STATE]; /* elements into data */
    int64_t numel;
    plast_real *data; /* inside this allocation */
};

plast_state *plast_state_init(const plast_model *m, int64_t batch, plast_err *err) {
    if (batch < 1) {
        plast_err_set(err, PLAST_ERR_INVALID_ARG, "state: batch %lld must be at least 1", (long long)batch);
        return NULL;
    }
    int64_t per = plast_model_state_numel(m);
    if (per > 0 && batch > INT64_MAX / 16 / per) {
        plast_err_set(err, PLAST_ERR_NOMEM, "state: %lld x %lld elements overflow", (long long)batch, (long long)per);
        return NULL;
    }
    size_t head = (sizeof(plast_state) + 63) / 64 * 64;
    plast_state *s = aligned_alloc(64, head + ((size_t)(batch * per) * sizeof(plast_real) + 63) / 64 * 64);
    if (!s) {
        plast_err_set(err, PLAST_ERR_NOMEM, "state: out of memory for %lld samples of %lld values", (long long)batch,
                      (long long)per);
        return NULL;
    }
    s->model = m;
    s->batch = batch;
    s->data = (plast_real *)((char *)s + head);
    int64_t off = 0;
    for (int k = 0; k < m->layout.n_state; k++) {
        s->offset[k] = off;
        off += batch * plast_shape_numel(m->layout.state_shape[k]);
    }
    s->numel = off;
    plast_state_reset(s);
    return s;
}

void plast_state_free(plast_state *s) { free(s); }
void plast_state_reset(plast_state *s) { memset(s->data, 0, (size_t)s->numel * sizeof(plast_real)); }
int64_t plast_state_batch(const plast_state *s) { return s->batch; }
plast_real *plast_state_data(plast_state *s, int k) { return s->data + s->offset[k]; }
const plast_real *plast_state_view(const plast_state *s, int k) { return s->data + s->offset[k]; }

/* ---- trials on a tape -------------------------------------------------------------------------------------- */

plast_status plast_trial_begin(plast_trial *tr, const plast_model *m, plast_tape *t, plast_params *p,
                               int64_t batch) {
    memset(tr, 0, sizeof *tr);
    tr->model = m;
    tr->tape = t;
    tr->batch = batch;
    if (batch < 1) {
        plast_tape_fail(t, PLAST_ERR_INVALID_ARG, "trial: batch %lld must be at least 1", (long long)batch);
        return plast_tape_status(t);
    }
    if (plast_params_count(p) != m->layout.n_params) {
        plast_tape_fail(t, PLAST_ERR_MISMATCH, "trial: the parameters do not have this model's layout");
        return plast_tape_status(t);
    }
    for (int i = 0; i < m->layout.n_params; i++) {
        if (!plast_shape_equal(plast_params_shape(p, i), m->layout.params[i].shape)) {
            plast_tape_fail(t, PLAST_ERR_MISMATCH, "trial: parameter '%s' does not have this model's shape",
                            plast_params_name(p, i));
            return plast_tape_status(t);
        }
        tr->param[i] = plast_tape_param(t, p, i);
    }
    for (int k = 0; k < m->layout.n_state; k++)
        tr->state[k] = plast_tape_const(t, batched(m->layout.state_shape[k], batch), NULL);
    return plast_tape_status(t);
}

plast_status plast_trial_set_state(plast_trial *tr, const plast_state *s) {
    if (s->model->layout.n_state != tr->model->layout.n_state || s->batch != tr->batch) {
        plast_tape_fail(tr->tape, PLAST_ERR_MISMATCH, "trial: state of batch %lld does not fit a trial of batch %lld",
                        (long long)s->batch, (long long)tr->batch);
        return plast_tape_status(tr->tape);
    }
    for (int k = 0; k < tr->model->layout.n_state; k++)
        tr->state[k] = plast_tape_const(tr->tape, batched(tr->model->layout.state_shape[k], tr->batch),
                                        s->data + s->offset[k]);
    return plast_tape_status(tr->tape);
}

plast_status plast_trial_step(plast_trial *tr, plast_node *x, plast_step_out *out) {
    plast_tape *t = tr->tape;
    const plast_model *m = tr->model;
    memset(out, 0, sizeof *out);
    if (plast_tape_status(t) != PLAST_OK) return plast_tape_status(t);
    plast_shape xs = plast_node_shape(x);
    if (!x || xs.ndim != 2 || xs.d[0] != tr->batch || xs.d[1] != m->input) {
        char b[96];
        plast_tape_fail(t, PLAST_ERR_SHAPE, "%s: input of shape %s, expected (%lld, %lld)", m->family->name,
                        plast_shape_format(xs, b, sizeof b), (long long)tr->batch, (long long)m->input);
        return plast_tape_status(t);
    }
    if (m->frontend.layers) x = plast_model_frontend_features(m, t, tr->param, x, tr->batch);
    plast_node *next[PLAST_MODEL_MAX_STATE] = {0};
    plast_step_ctx c = {m, t, tr->batch, tr->param, tr->state, next, x, tr->want_energy};
    m->family->step(&c, out);
    if (plast_tape_status(t) != PLAST_OK) return plast_tape_status(t);
    for (int k = 0; k < m->layout.n_state; k++) {
        if (!next[k]) {
            plast_tape_fail(t, PLAST_ERR_STATE, "%s: step left state '%s' unset", m->family->name,
                            m->layout.state_names[k]);
            return plast_tape_status(t);
        }
        tr->state[k] = next[k];
    }
    return PLAST_OK;
}

plast_status plast_trial_get_state(const plast_trial *tr, plast_state *s) {
    if (s->model->layout.n_state != tr->model->layout.n_state || s->batch != tr->batch) return PLAST_ERR_MISMATCH;
    for (int k = 0; k < tr->model->layout.n_state; k++)
        memcpy(s->data + s->offset[k], plast_node_data(tr->state[k]),
               (size_t)plast_node_numel(tr->state[k]) * sizeof(plast_real));
    return PLAST_OK;
}

/* ---- stepping without gradients ---------------------------------------------------------------------------- */

plast_status plast_model_step(const plast_model *m, plast_params *p, plast_state *s, const plast_real *x,
                              plast_real *y, plast_real *modulation, plast_real *energy, plast_tape *scratch,
                              plast_err *err) {
    plast_tape_reset(scratch);
    plast_tape_set_grad_enabled(scratch, 0);
    plast_trial tr;
    plast_trial_begin(&tr, m, scratch, p, s->batch);
    tr.want_energy = energy != NULL;
    plast_trial_set_state(&tr, s);
    plast_step_out out;
    plast_trial_step(&tr, plast_tape_const(scratch, PLAST_SHAPE2(s->batch, m->input), x), &out);
    if (plast_tape_status(scratch) != PLAST_OK) return plast_tape_take_error(scratch, err);
    memcpy(y, plast_node_data(out.y), (size_t)plast_node_numel(out.y) * sizeof(plast_real));
    if (modulation) {
        for (int64_t b = 0; b < s->batch; b++) modulation[b] = out.modulation ? plast_node_data(out.modulation)[b] : 0;
    }
    for (int64_t b = 0; energy && b < s->batch; b++) energy[b] = out.energy ? plast_node_data(out.energy)[b] : 0;
    plast_trial_get_state(&tr, s);
    return PLAST_OK;
}
