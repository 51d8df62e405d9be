/* src/models/rules.c: the plasticity rules. A rule turns the activity of one step into the raw update G of a
 * plastic weight; the family decides how G is accumulated (decay, modulation, clipping, normalisation).
 *
 * Adding a rule: write its update function(s) below and add one row to rule_list.h. Every family whose row takes
 * a rule (rule_use REQUIRED or OPTIONAL in its plast_family_def) can then use it, and tests/test_models_grad.c
 * checks its BPTT gradients. docs/models/RULES.md walks through an example. */
#include <string.h>

#include "models/model_internal.h"
#include "models/rule_list.h"

/* G = pre (x) post:  G[b,i,j] = pre[b,i] post[b,j] */
static plast_node *hebbian_weight(plast_tape *t, plast_node *pre, plast_node *post, plast_node *F) {
    (void)F;
    return plast_outer(t, pre, post);
}

static plast_real hebbian_kernel(plast_real pre, plast_real post, plast_real F, plast_real d[3]) {
    (void)F;
    d[0] = post, d[1] = pre, d[2] = 0;
    return pre * post;
}

/* Oja's rule: G[b,i,j] = post[b,j] (pre[b,i] - F[b,i,j] post[b,j]), Hebbian growth with a decay that keeps each
 * postsynaptic neuron's incoming weights bounded (Miconi et al. 2018's "oja" option). */
static plast_node *oja_weight(plast_tape *t, plast_node *pre, plast_node *post, plast_node *F) {
    int64_t B = plast_node_shape(post).d[0], out = plast_node_shape(post).d[1];
    plast_node *post3 = plast_reshape(t, post, PLAST_SHAPE3(B, 1, out));
    return plast_sub(t, plast_outer(t, pre, post), plast_mul(t, F, plast_square(t, post3)));
}

static plast_real oja_kernel(plast_real pre, plast_real post, plast_real F, plast_real d[3]) {
    d[0] = post, d[1] = pre - 2 * F * post, d[2] = -post * post;
    return pre * post - F * (post * post);
}

/* Grossberg's instar rule: G[b,i,j] = post[b,j] (pre[b,i] - F[b,i,j]): each active postsynaptic neuron moves
 * its incoming plastic weights towards the presynaptic pattern (the worked example of docs/models/RULES.md). */
static plast_node *instar_weight(plast_tape *t, plast_node *pre, plast_node *post, plast_node *F) {
    int64_t B = plast_node_shape(post).d[0], in = plast_node_shape(pre).d[1], out = plast_node_shape(post).d[1];
    plast_node *post3 = plast_reshape(t, post, PLAST_SHAPE3(B, 1, out));
    plast_node *pre3 = plast_reshape(t, pre, PLAST_SHAPE3(B, in, 1));
    return plast_mul(t, post3, plast_sub(t, pre3, F));
}

static plast_real instar_kernel(plast_real pre, plast_real post, plast_real F, plast_real d[3]) {
    d[0] = post, d[1] = pre - F, d[2] = -post;
    return post * (pre - F);
}

#define RULE_ROW(name, formula, internal, rank_one, weight, bias, kernel)                                         \
    {#name, formula, internal, rank_one, weight, bias, kernel},
static const plast_rule_def RULES[] = {PLAST_RULE_LIST(RULE_ROW)};
#undef RULE_ROW

const plast_rule_def *plast_rule_find(const char *name) {
    for (size_t i = 0; i < sizeof RULES / sizeof RULES[0]; i++)
        if (strcmp(RULES[i].name, name) == 0) return &RULES[i];
    return NULL;
}

const char *plast_rule_names(char *buf, size_t cap) {
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof RULES / sizeof RULES[0] && used < cap; i++) {
        size_t n = strlen(RULES[i].name);
        if (used + n + 2 > cap) break;
        if (i) buf[used++] = '|';
        memcpy(buf + used, RULES[i].name, n + 1);
        used += n;
    }
    return buf;
}
