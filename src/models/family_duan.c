/* src/models/family_duan.c: Duan et al. 2023, "Hebbian and gradient-based plasticity enables robust memory and
 * rapid learning in RNNs" (paper 000), as its reference code computes it (docs/models/DUAN.md).
 *
 *   e_t = relu(x_t (W_in + P_in) + (b_in + p_in))                                     encoder, I -> H
 *   z_t = h_{t-1} (W_hh + P_hh) + (b_hh + p_hh) + e_t (W_ih + P_ih) + (b_ih + p_ih)     cell, H -> H (RNN) or 4H
 *   RNN: h_t = relu(z_t);  LSTM: [i f g o] = [s(z_i) s(z_f) tanh(z_g) s(z_o)], c_t = f c + i g, h_t = o tanh(c_t)
 *   o_t = h_t (W_out + P_out) + (b_out + p_out) = [y_t (O) | extra (E) | m_t (1)]    output, H -> D
 *   eta_t = 2 p_lr s(m_t), lambda_t = 2 p_wd s(m_t)     (p_lr, p_wd without modulation)
 *   s_t = min(1, c / |G_t|), the joint norm of the raw updates of all eight plastic tensors of a sample
 *   P <- (1 - lambda_t) P + eta_t s_t (alpha * G)        for every plastic tensor (biases included)
 * G comes from the rule: Hebbian pre (x) post (biases 0), or the gradient of the internal loss
 * L_int = (1/(B D)) sum_b sum_k (w_k o_k)^2 with respect to each sample's plastic tensors (second order).
 * Parameter names and layouts are the reference's (in x out weights, "<layer>.w.param", "<layer>.w.lr", ...).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "models/family_duan.h"
#include "models/model_internal.h"

_Static_assert(sizeof(duan_priv) <= PLAST_MODEL_PRIV_BYTES, "duan_priv does not fit");

/* Lays out one linear map. Plastic: "<name>.w.param" (in, out), "<name>.w.lr", "<name>.b.param", "<name>.b.lr"
 * and state "P.<name>.w", "P.<name>.b". Non-plastic: "<name>.weight" (out, in) and "<name>.bias", as torch. */
static duan_layer layer_layout(plast_model_layout *L, const char *name, const char *state_name, int64_t in,
                               int64_t out, int plastic, int learn_alpha) {
    duan_layer l = {-1, -1, -1, -1, -1, -1, in, out};
    if (!plastic) {
        l.w = plast_layout_param(L, PLAST_SHAPE2(out, in), "%s.weight", name);
        l.b = plast_layout_param(L, PLAST_SHAPE1(out), "%s.bias", name);
        return l;
    }
    l.w = plast_layout_param(L, PLAST_SHAPE2(in, out), "%s.w.param", name);
    if (learn_alpha) l.aw = plast_layout_param(L, PLAST_SHAPE2(in, out), "%s.w.lr", name);
    l.b = plast_layout_param(L, PLAST_SHAPE1(out), "%s.b.param", name);
    if (learn_alpha) l.ab = plast_layout_param(L, PLAST_SHAPE1(out), "%s.b.lr", name);
    char s[PLAST_MODEL_NAME_MAX];
    snprintf(s, sizeof s, "P.%s.w", state_name);
    l.pw = plast_layout_state(L, s, PLAST_SHAPE2(in, out), 1);
    snprintf(s, sizeof s, "P.%s.b", state_name);
    l.pb = plast_layout_state(L, s, PLAST_SHAPE1(out), 1);
    return l;
}

/* The conv4 encoder's parameters; the task's image geometry is checked against the input size. */
static plast_status conv_layout(plast_model *m, duan_priv *d, plast_err *err) {
    const plast_model_cfg *c = &m->cfg;
    duan_conv *k = &d->cnn;
    k->channels = c->image_channels, k->size = c->image_size;
    if (k->channels < 1 || k->size < 16)
        return plast_model_cfg_fail(err, "image_size", "conv4 needs images of at least 16 x 16 (model.image_size and "
                                    "model.image_channels, or a task with images), got %lld x %lld x %lld",
                                    (long long)k->size, (long long)k->size, (long long)k->channels);
    k->label = m->I - k->channels * k->size * k->size;
    if (k->label < 0 || k->label >= m->H)
        return plast_model_cfg_fail(err, "input", "%lld inputs do not hold a %lld x %lld x %lld image and fewer than "
                                    "H = %lld label inputs", (long long)m->I, (long long)k->size, (long long)k->size,
                                    (long long)k->channels, (long long)m->H);
    const int64_t F = c->conv_channels;
    int64_t side = k->size, in = k->channels;
    plast_model_layout *L = &m->layout;
    for (int l = 0; l < 4; l++) {
        k->w[l] = plast_layout_param(L, PLAST_SHAPE2(9 * in, F), "cnn.%d.conv.weight", l);
        k->gamma[l] = plast_layout_param(L, PLAST_SHAPE1(F), "cnn.%d.bn.weight", l);
        k->beta[l] = plast_layout_param(L, PLAST_SHAPE1(F), "cnn.%d.bn.bias", l);
        side /= 2, in = F;
    }
    k->features = side * side * F;
    k->proj_w = plast_layout_param(L, PLAST_SHAPE2(m->H - k->label, k->features), "proj.weight");
    k->proj_b = plast_layout_param(L, PLAST_SHAPE1(m->H - k->label), "proj.bias");
    return PLAST_OK;
}

static plast_status duan_layout(plast_model *m, plast_err *err) {
    const plast_model_cfg *c = &m->cfg;
    duan_priv *d = (duan_priv *)m->priv;
    d->plastic = m->rule != NULL;
    d->lstm = strcmp(c->cell, "lstm") == 0;
    d->modulated = d->plastic && c->modulation;
    m->modulated = d->modulated;
    int learn_alpha = d->plastic && strcmp(c->alpha, "none") != 0;
    if (strcmp(c->hidden_scaling, "paper") == 0) { /* the reference's parameter matching */
        if (!learn_alpha) m->H = m->H * 3 / 2;
        if (!d->lstm) m->H *= 2;
    }
    const int64_t H = m->H, G = d->lstm ? 4 * H : H;
    d->D = m->O + c->extra + 1; /* the modulation output exists even when unused (dead in the baselines) */
    if (d->plastic && !c->modulation) d->D = m->O + c->extra;
    d->relu_cell = plast_act_from_cfg(c, PLAST_ACT_RELU) == PLAST_ACT_RELU;
    if (d->lstm && strcmp(c->activation, "default") != 0)
        return plast_model_cfg_fail(err, "activation", "the duan LSTM uses its own gate nonlinearities");

    plast_model_layout *L = &m->layout;
    d->h = plast_layout_state(L, "h", PLAST_SHAPE1(H), 0);
    d->c = d->lstm ? plast_layout_state(L, "c", PLAST_SHAPE1(H), 0) : -1;
    /* the reference names the encoder and output modules in_fc / out_fc under the Hebbian rule and
     * in_fc.0 / out_fc.0 (inside a Sequential) otherwise */
    int seq = !d->plastic || m->rule->needs_internal_loss;
    d->conv = strcmp(c->encoder, "conv4") == 0;
    d->enc = (duan_layer){-1, -1, -1, -1, -1, -1, m->I, H};
    if (d->conv) {
        plast_status s = conv_layout(m, d, err);
        if (s != PLAST_OK) return s;
    } else {
        d->enc = layer_layout(L, seq ? "in_fc.0" : "in_fc", "in_fc", m->I, H, d->plastic, learn_alpha);
    }
    if (d->plastic) {
        d->hh = layer_layout(L, "rnn.h_fc", "rnn.h_fc", H, G, 1, learn_alpha);
        d->ih = layer_layout(L, "rnn.i_fc", "rnn.i_fc", H, G, 1, learn_alpha);
    } else { /* torch's RNNCell / LSTMCell: rnn.weight_ih, rnn.weight_hh, rnn.bias_ih, rnn.bias_hh */
        d->ih = (duan_layer){-1, -1, -1, -1, -1, -1, H, G};
        d->hh = (duan_layer){-1, -1, -1, -1, -1, -1, H, G};
        d->ih.w = plast_layout_param(L, PLAST_SHAPE2(G, H), "rnn.weight_ih");
        d->hh.w = plast_layout_param(L, PLAST_SHAPE2(G, H), "rnn.weight_hh");
        d->ih.b = plast_layout_param(L, PLAST_SHAPE1(G), "rnn.bias_ih");
        d->hh.b = plast_layout_param(L, PLAST_SHAPE1(G), "rnn.bias_hh");
    }
    d->out = layer_layout(L, seq ? "out_fc.0" : "out_fc", "out_fc", H, d->D, d->plastic, learn_alpha);
    d->out_weight = plast_layout_param(L, PLAST_SHAPE1(d->D), "out_weight");
    if (d->out_weight < 0 || d->out.pb >= PLAST_MODEL_MAX_STATE) return plast_model_cfg_fail(err, "family", "layout overflow");
    return PLAST_OK;
}

/* ProtoNet's Conv-4: weights N(0, 2 / (9 F)), batch-norm gain 1 and shift 0; the projection torch's default. */
static void conv_init(const plast_model *m, const duan_conv *k, plast_params *p, plast_rng *rng) {
    const double F = (double)m->cfg.conv_channels;
    for (int l = 0; l < 4; l++) {
        plast_init_normal(p, k->w[l], rng, 0, sqrt(2.0 / (9 * F)));
        plast_init_const(p, k->gamma[l], 1);
        plast_init_const(p, k->beta[l], 0);
    }
    const double b = 1 / sqrt((double)k->features);
    plast_init_uniform(p, k->proj_w, rng, -b, b);
    plast_init_uniform(p, k->proj_b, rng, -b, b);
}

static void duan_init(const plast_model *m, plast_params *p, plast_rng *rng) {
    const duan_priv *d = PLAST_PRIV(m, duan_priv);
    const double H = (double)m->H;
    if (d->conv) conv_init(m, &d->cnn, p, rng);
    if (d->plastic) {
        /* U[-scale/sqrt(fan_out), +] for weights and biases: scale 1 (fan_out H or D), LSTM cell scale 2 (4H) */
        const duan_layer *layers[4] = {&d->enc, &d->hh, &d->ih, &d->out};
        double alpha = strcmp(m->cfg.alpha, "neg_uniform") == 0 ? -1.0 : 1.0;
        for (int k = 0; k < 4; k++) {
            const duan_layer *l = layers[k];
            if (l->w < 0) continue; /* no linear encoder */
            double scale = (d->lstm && (k == 1 || k == 2)) ? 2.0 : 1.0;
            double bound = scale / sqrt((double)l->out);
            plast_init_uniform(p, l->w, rng, -bound, bound);
            plast_init_uniform(p, l->b, rng, -bound, bound);
            if (l->aw >= 0) {
                if (strcmp(m->cfg.alpha, "random") == 0) {
                    plast_init_uniform(p, l->aw, rng, -1, 1);
                    plast_init_uniform(p, l->ab, rng, -1, 1);
                } else {
                    plast_init_const(p, l->aw, alpha);
                    plast_init_const(p, l->ab, alpha);
                }
            }
        }
    } else {
        if (!d->conv) {
            plast_init_uniform(p, d->enc.w, rng, -1 / sqrt(H), 1 / sqrt(H)); /* fan-out, as the plastic layers */
            plast_init_uniform(p, d->enc.b, rng, -1 / sqrt(H), 1 / sqrt(H));
        }
        int cell[4] = {d->ih.w, d->hh.w, d->ih.b, d->hh.b}; /* torch's RNNCell/LSTMCell default */
        for (int k = 0; k < 4; k++) plast_init_uniform(p, cell[k], rng, -1 / sqrt(H), 1 / sqrt(H));
        double bo = 1 / sqrt((double)d->D);
        plast_init_uniform(p, d->out.w, rng, -bo, bo);
        plast_init_uniform(p, d->out.b, rng, -bo, bo);
    }
    plast_init_const(p, d->out_weight, 1.0);
}

/* x (B, in) through layer l: x (W + P) + (b + p), or x W^T + b without plasticity */
static plast_node *layer_apply(const plast_step_ctx *c, const duan_layer *l, plast_node *x) {
    plast_tape *t = c->t;
    if (l->pw < 0) return plast_add(t, plast_mm_shared(t, x, c->param[l->w], 1), c->param[l->b]);
    plast_node *y = plast_add(t, plast_mm_shared(t, x, c->param[l->w], 0), plast_mm_sample(t, x, c->state[l->pw]));
    return plast_add(t, plast_add(t, y, c->param[l->b]), c->state[l->pb]);
}

/* The effective weight of a layer for the energy measure: shared (in, out) or per sample (B, in, out). */
static plast_node *layer_weight(const plast_step_ctx *c, const duan_layer *l) {
    if (l->pw < 0) return plast_transpose(c->t, c->param[l->w]);
    return plast_add(c->t, c->param[l->w], c->state[l->pw]);
}

/* per-sample sum of squares of G (B, ...): (B) */
static plast_node *sumsq(plast_tape *t, plast_node *G) {
    int64_t B = plast_node_shape(G).d[0];
    return plast_sum(t, plast_reshape(t, plast_square(t, G), PLAST_SHAPE2(B, plast_node_numel(G) / B)), 1, 0);
}

plast_node *duan_conv_features(plast_tape *t, const plast_model *m, plast_node *const *param, plast_node *img,
                               int64_t groups) {
    const duan_conv *k = &PLAST_PRIV(m, duan_priv)->cnn;
    const int64_t N = plast_node_shape(img).d[0];
    for (int l = 0; l < 4; l++) {
        img = plast_conv2d(t, img, param[k->w[l]], 3, 1, 1);
        img = plast_batch_norm_groups(t, img, groups, param[k->gamma[l]], param[k->beta[l]], 1e-5);
        img = plast_maxpool2(t, plast_relu(t, img));
    }
    plast_node *f = plast_reshape(t, img, PLAST_SHAPE2(N, k->features));
    return plast_relu(t, plast_add(t, plast_mm_shared(t, f, param[k->proj_w], 1), param[k->proj_b]));
}

/* the conv4 encoder at one step: features of the step's images with the label inputs appended. Batch
 * normalisation uses the statistics of this step's batch, as the reference (train mode at every step). */
static plast_node *conv_apply(const plast_step_ctx *c, const duan_conv *k) {
    plast_tape *t = c->t;
    const int64_t B = c->batch, pixels = k->channels * k->size * k->size;
    plast_node *img = plast_reshape(t, plast_slice(t, c->x, 1, 0, pixels), PLAST_SHAPE4(B, k->size, k->size, k->channels));
    plast_node *e = duan_conv_features(t, c->m, c->param, img, 1);
    if (k->label == 0) return e;
    plast_node *parts[2] = {e, plast_slice(t, c->x, 1, pixels, k->label)};
    return plast_concat(t, 2, parts, 1);
}

static void duan_step(const plast_step_ctx *c, plast_step_out *out) {
    const plast_model *m = c->m;
    const duan_priv *d = PLAST_PRIV(m, duan_priv);
    plast_tape *t = c->t;
    const int64_t B = c->batch, H = m->H;
    const int grad_rule = d->plastic && m->rule->needs_internal_loss;
    /* The gradient rule needs the forward recorded to take its inner gradient, also when the caller disabled
     * gradients (evaluation): then the inner gradient is taken without create_graph, as the reference does. */
    const int outer = grad_rule ? plast_tape_set_grad_enabled(t, 1) : -1;

    plast_node *x = c->x, *h = c->state[d->h];
    plast_node *e = d->conv ? conv_apply(c, &d->cnn) : plast_relu(t, layer_apply(c, &d->enc, x));
    plast_node *z = plast_add(t, layer_apply(c, &d->hh, h), layer_apply(c, &d->ih, e));
    plast_node *h_new, *c_new = NULL, *post_cell;
    if (d->lstm) {
        plast_node *gi = plast_sigmoid(t, plast_slice(t, z, 1, 0, H));
        plast_node *gf = plast_sigmoid(t, plast_slice(t, z, 1, H, H));
        plast_node *gg = plast_tanh(t, plast_slice(t, z, 1, 2 * H, H));
        plast_node *go = plast_sigmoid(t, plast_slice(t, z, 1, 3 * H, H));
        c_new = plast_add(t, plast_mul(t, gf, c->state[d->c]), plast_mul(t, gi, gg));
        h_new = plast_mul(t, go, plast_tanh(t, c_new));
        plast_node *gates[4] = {gi, gf, gg, go};
        post_cell = plast_concat(t, 4, gates, 1);
    } else {
        h_new = plast_act_apply(t, d->relu_cell ? PLAST_ACT_RELU : PLAST_ACT_TANH, z);
        post_cell = h_new;
    }
    plast_node *o = layer_apply(c, &d->out, h_new);
    out->y = plast_slice(t, o, 1, 0, m->O);
    if (c->want_energy) { /* synaptic weighting before the readout: linear encoder and both cell matrices */
        plast_node *en = plast_energy(t, h, layer_weight(c, &d->hh));
        if (!d->conv) en = plast_add(t, en, plast_energy(t, x, layer_weight(c, &d->enc)));
        out->energy = plast_add(t, en, plast_energy(t, e, layer_weight(c, &d->ih)));
    }
    c->state_out[d->h] = h_new;
    if (d->lstm) c->state_out[d->c] = c_new;
    if (!d->plastic) return;

    /* raw updates G of the eight plastic tensors (six with the conv4 encoder, whose layer 0 is absent) */
    const duan_layer *layers[4] = {&d->enc, &d->hh, &d->ih, &d->out};
    plast_node *pre[4] = {x, h, e, h_new}, *post[4] = {e, post_cell, post_cell, o};
    plast_node *P[8] = {0}, *G[8] = {0};
    const int k0 = d->conv ? 1 : 0, n_plastic = 8 - 2 * k0;
    for (int k = k0; k < 4; k++) P[2 * k] = c->state[layers[k]->pw], P[2 * k + 1] = c->state[layers[k]->pb];
    if (grad_rule) {
        const double nb = (double)(m->cfg.inner_batch > 0 ? m->cfg.inner_batch : B);
        plast_node *l_int = plast_sum_all(t, plast_square(t, plast_mul(t, o, c->param[d->out_weight])));
        l_int = plast_scale(t, l_int, 1.0 / (nb * (double)d->D));
        plast_tape_grad(t, l_int, NULL, n_plastic, P + 2 * k0, G + 2 * k0, outer);
        plast_tape_set_grad_enabled(t, outer);
    } else {
        for (int k = k0; k < 4; k++) {
            G[2 * k] = m->rule->weight(t, pre[k], post[k], P[2 * k]);
            G[2 * k + 1] = m->rule->bias ? m->rule->bias(t, post[k], P[2 * k + 1]) : NULL;
        }
    }

    /* eta_t, lambda_t and the joint max-norm factor s_t, per sample */
    plast_node *eta, *lambda;
    if (d->modulated) {
        plast_node *sm = plast_sigmoid(t, plast_reshape(t, plast_slice(t, o, 1, d->D - 1, 1), PLAST_SHAPE1(B)));
        eta = plast_scale(t, sm, 2 * m->cfg.plastic_lr);
        lambda = plast_scale(t, sm, 2 * m->cfg.plastic_decay);
    } else {
        eta = plast_tape_full(t, PLAST_SHAPE1(B), m->cfg.plastic_lr);
        lambda = plast_tape_full(t, PLAST_SHAPE1(B), m->cfg.plastic_decay);
    }
    plast_node *n2 = NULL;
    for (int k = 0; k < 8; k++)
        if (G[k]) n2 = n2 ? plast_add(t, n2, sumsq(t, G[k])) : sumsq(t, G[k]);
    /* s = c / max(n, c), written on n^2 so the square root never sees 0 */
    const double cn = m->cfg.max_norm;
    plast_node *s = plast_div(t, plast_tape_full(t, PLAST_SHAPE1(B), cn),
                              plast_sqrt(t, plast_clamp(t, n2, cn * cn, INFINITY)));
    plast_node *rate = plast_mul(t, eta, s), *keep = plast_add_scalar(t, plast_neg(t, lambda), 1.0);
    for (int k = 2 * k0; k < 8; k++) {
        const duan_layer *l = layers[k / 2];
        int nd = plast_node_shape(P[k]).ndim;
        plast_node *np = plast_mul(t, plast_per_sample(t, keep, nd), P[k]);
        if (G[k]) {
            int a = (k % 2) ? l->ab : l->aw;
            plast_node *upd = a >= 0 ? plast_mul(t, c->param[a], G[k]) : G[k];
            np = plast_add(t, np, plast_mul(t, plast_per_sample(t, rate, nd), upd));
        }
        c->state_out[(k % 2) ? l->pb : l->pw] = np;
    }
    out->modulation = eta;
}

/* The reference's two spellings of the encoder and output names: "in_fc.X" and "in_fc.0.X". */
static const char *duan_alias(const plast_model *m, const char *name, char *buf, size_t cap) {
    (void)m;
    static const char *const mods[2] = {"in_fc.", "out_fc."};
    for (int k = 0; k < 2; k++) {
        size_t n = strlen(mods[k]);
        if (strncmp(name, mods[k], n) != 0) continue;
        if (strncmp(name + n, "0.", 2) == 0)
            snprintf(buf, cap, "%s%s", mods[k], name + n + 2);
        else
            snprintf(buf, cap, "%s0.%s", mods[k], name + n);
        return buf;
    }
    return NULL;
}

/* the recurrent cell, "lstm" or "rnn", in descriptions */
static const char *duan_variant(const plast_model *m) { return m->cfg.cell; }

const plast_family_def plast_family_duan = {
    .name = "duan", .rule_use = PLAST_RULE_USE_OPTIONAL, .default_rule = "hebbian",
    .summary = "Duan et al. 2023: plastic RNN/LSTM, Hebbian or gradient-based, neuromodulated",
    .caps = PLAST_FAMILY_INTERNAL_LOSS | PLAST_FAMILY_DUAN_PATHS, .variant = duan_variant, .fused = NULL,
    .cell = NULL,
    .layout = duan_layout, .init = duan_init, .step = duan_step, .constrain = NULL, .alias = duan_alias};
