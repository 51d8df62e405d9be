/* src/autodiff/tape.c: the tape (recording ops) and the reverse sweep that builds gradients out of ops. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autodiff/tape_internal.h"
#include "core/err.h"
#include "params/params_internal.h"

#define TAPE_FIRST_CHUNK ((size_t)1 << 20)

/* ---- lifetime ---------------------------------------------------------------------------------------------- */

plast_tape *plast_tape_init(plast_err *err) {
    plast_tape *t = calloc(1, sizeof *t);
    if (!t) {
        plast_err_set(err, PLAST_ERR_NOMEM, "tape: out of memory");
        return NULL;
    }
    plast_arena_init(&t->arena, TAPE_FIRST_CHUNK);
    t->grad_enabled = 1;
    plast_err_clear(&t->err);
    return t;
}

void plast_tape_free(plast_tape *t) {
    if (!t) return;
    plast_arena_release(&t->arena);
    free(t->nodes);
    free(t->adj);
    free(t->reach);
    free(t);
}

void plast_tape_reset(plast_tape *t) {
    plast_arena_reset(&t->arena);
    t->n_nodes = 0;
    t->grad_enabled = 1;
    plast_err_clear(&t->err);
}

plast_status plast_tape_status(const plast_tape *t) { return t->err.status; }

const char *plast_tape_error(const plast_tape *t) { return t->err.msg; }

plast_status plast_tape_take_error(const plast_tape *t, plast_err *err) {
    if (err) *err = t->err;
    return t->err.status;
}

int plast_tape_set_grad_enabled(plast_tape *t, int enabled) {
    int old = t->grad_enabled;
    t->grad_enabled = enabled != 0;
    return old;
}

int64_t plast_tape_node_count(const plast_tape *t) { return t->n_nodes; }

size_t plast_tape_bytes_used(const plast_tape *t) { return t->arena.used; }

size_t plast_tape_bytes_reserved(const plast_tape *t) { return t->arena.reserved; }

plast_node *plast_tape_fail(plast_tape *t, plast_status s, const char *fmt, ...) {
    if (t->err.status != PLAST_OK) return NULL; /* keep the first error: later ones are usually its echoes */
    t->err.status = s;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->err.msg, sizeof t->err.msg, fmt, ap);
    va_end(ap);
    return NULL;
}

/* ---- node allocation --------------------------------------------------------------------------------------- */

static int push_node(plast_tape *t, plast_node *n) {
    if (t->n_nodes == t->cap_nodes) {
        int64_t cap = t->cap_nodes ? t->cap_nodes * 2 : 1024;
        plast_node **nodes = realloc(t->nodes, (size_t)cap * sizeof *nodes);
        if (!nodes) return 0;
        t->nodes = nodes;
        t->cap_nodes = cap;
    }
    n->id = t->n_nodes;
    t->nodes[t->n_nodes++] = n;
    return 1;
}

/* A node with shape s and, unless alias, its own uninitialised data. */
static plast_node *node_new(plast_tape *t, plast_shape s, int n_in, int alias) {
    if (t->err.status != PLAST_OK) return NULL;
    int64_t numel = plast_shape_numel(s);
    if (numel < 0) {
        char buf[96];
        return plast_tape_fail(t, PLAST_ERR_SHAPE, "invalid shape %s", plast_shape_format(s, buf, sizeof buf));
    }
    if ((uint64_t)numel > SIZE_MAX / sizeof(plast_real) / 2)
        return plast_tape_fail(t, PLAST_ERR_NOMEM, "tensor of %lld elements is too large", (long long)numel);
    plast_node *n = plast_arena_alloc(&t->arena, sizeof *n);
    plast_node **in = n_in ? plast_arena_alloc(&t->arena, (size_t)n_in * sizeof *in) : NULL;
    plast_real *data = alias ? NULL : plast_arena_alloc(&t->arena, (size_t)numel * sizeof(plast_real));
    if (n) memset(n, 0, sizeof *n);
    if (!n || (n_in && !in) || (!alias && !data) || !push_node(t, n))
        return plast_tape_fail(t, PLAST_ERR_NOMEM, "out of memory recording a tensor of %lld elements",
                               (long long)numel);
    n->shape = s;
    n->numel = numel;
    n->data = data;
    n->n_in = n_in;
    n->in = in;
    return n;
}

/* ---- leaves ------------------------------------------------------------------------------------------------ */

static plast_node *leaf_new(plast_tape *t, plast_shape s, const plast_real *data, plast_node_kind kind) {
    plast_node *n = node_new(t, s, 0, 0);
    if (!n) return NULL;
    n->kind = (uint8_t)kind;
    n->requires_grad = kind != PLAST_NODE_CONST;
    if (data)
        memcpy(n->data, data, (size_t)n->numel * sizeof(plast_real));
    else
        memset(n->data, 0, (size_t)n->numel * sizeof(plast_real));
    return n;
}

plast_node *plast_tape_const(plast_tape *t, plast_shape s, const plast_real *data) {
    return leaf_new(t, s, data, PLAST_NODE_CONST);
}

plast_node *plast_tape_full(plast_tape *t, plast_shape s, double value) {
    plast_node *n = leaf_new(t, s, NULL, PLAST_NODE_CONST);
    if (n)
        for (int64_t i = 0; i < n->numel; i++) n->data[i] = (plast_real)value;
    return n;
}

plast_node *plast_tape_var(plast_tape *t, plast_shape s, const plast_real *data) {
    return leaf_new(t, s, data, PLAST_NODE_VAR);
}

plast_node *plast_tape_param(plast_tape *t, plast_params *p, int index) {
    if (t->err.status != PLAST_OK) return NULL;
    if (!p || index < 0 || index >= p->n)
        return plast_tape_fail(t, PLAST_ERR_INVALID_ARG, "plast_tape_param: no parameter %d", index);
    plast_node *n = node_new(t, p->views[index].shape, 0, 1);
    if (!n) return NULL;
    n->kind = PLAST_NODE_PARAM;
    n->requires_grad = 1;
    n->data = p->values + p->views[index].offset;
    n->grad_dst = p->grads + p->views[index].offset;
    return n;
}

plast_node *plast_detach(plast_tape *t, plast_node *x) {
    if (t->err.status != PLAST_OK) return NULL;
    if (!x) return plast_tape_fail(t, PLAST_ERR_INVALID_ARG, "detach: input is NULL");
    plast_node *n = node_new(t, x->shape, 0, 1);
    if (!n) return NULL;
    n->kind = PLAST_NODE_CONST;
    n->data = x->data;
    return n;
}

/* ---- node access ------------------------------------------------------------------------------------------- */

plast_shape plast_node_shape(const plast_node *n) { return n ? n->shape : PLAST_SHAPE0(); }
int64_t plast_node_numel(const plast_node *n) { return n ? n->numel : 0; }
const plast_real *plast_node_data(const plast_node *n) { return n ? n->data : NULL; }
plast_real plast_node_item(const plast_node *n) { return n && n->numel > 0 ? n->data[0] : 0; }
int plast_node_requires_grad(const plast_node *n) { return n ? n->requires_grad : 0; }

const char *plast_node_op_name(const plast_node *n) {
    if (!n) return "null";
    return n->kind == PLAST_NODE_OP ? plast_op_table[n->op]->name : "leaf";
}

/* ---- recording ops ----------------------------------------------------------------------------------------- */

plast_node *plast_tape_op(plast_tape *t, plast_op op, int n_in, plast_node *const *in, const plast_op_params *p) {
    if (t->err.status != PLAST_OK) return NULL;
    const plast_op_def *def = plast_op_table[op];
    if ((def->arity >= 0 && n_in != def->arity) || n_in < 1)
        return plast_tape_fail(t, PLAST_ERR_INVALID_ARG, "%s: takes %d inputs, got %d", def->name, def->arity, n_in);
    for (int i = 0; i < n_in; i++)
        if (!in[i]) return plast_tape_fail(t, PLAST_ERR_INVALID_ARG, "%s: input %d is NULL", def->name, i);
    plast_op_params params;
    memset(&params, 0, sizeof params);
    if (p) params = *p;
    plast_shape out;
    char why[256] = "";
    if (def->shape(in, n_in, &params, &out, why, sizeof why) != PLAST_OK)
        return plast_tape_fail(t, PLAST_ERR_SHAPE, "%s: %s", def->name, why);
    plast_node *y = node_new(t, out, n_in, def->aliases_input);
    if (!y) return NULL;
    y->kind = PLAST_NODE_OP;
    y->op = (int16_t)op;
    y->p = params;
    int rg = 0;
    for (int i = 0; i < n_in; i++) {
        y->in[i] = in[i];
        rg |= in[i]->requires_grad;
    }
    y->recorded = (uint8_t)t->grad_enabled;
    y->requires_grad = (uint8_t)(rg && t->grad_enabled);
    if (def->aliases_input) y->data = in[0]->data;
    def->forward(y);
    return y;
}

/* ---- differentiation --------------------------------------------------------------------------------------- */

static int scratch_reserve(plast_tape *t, int64_t n) {
    if (n <= t->scratch_cap) return 1;
    int64_t cap = t->scratch_cap ? t->scratch_cap : 1024;
    while (cap < n) cap *= 2;
    plast_node **adj = realloc(t->adj, (size_t)cap * sizeof *adj);
    if (!adj) return 0;
    t->adj = adj;
    uint8_t *reach = realloc(t->reach, (size_t)cap);
    if (!reach) return 0;
    t->reach = reach;
    t->scratch_cap = cap;
    return 1;
}

static void accumulate(plast_tape *t, plast_node *x, plast_node *g) {
    if (!g) return;
    plast_node **slot = &t->adj[x->id];
    *slot = *slot ? plast_add(t, *slot, g) : g;
}

/* The reverse sweep from y with adjoint seed. reach[] must mark the nodes to differentiate; on return adj[id]
 * holds the adjoint of every reached node with id <= y->id (NULL where it is zero). */
static plast_status sweep(plast_tape *t, plast_node *y, plast_node *seed, int64_t first) {
    const int64_t last = y->id;
    memset(t->adj + first, 0, (size_t)(last - first + 1) * sizeof *t->adj);
    t->adj[last] = seed;
    uint8_t need_small[16];
    plast_node *gin_small[16];
    for (int64_t i = last; i >= first && t->err.status == PLAST_OK; i--) {
        plast_node *n = t->nodes[i];
        plast_node *gy = t->adj[i];
        if (!gy || n->kind != PLAST_NODE_OP || !t->reach[i]) continue;
        uint8_t *need = need_small;
        plast_node **gin = gin_small;
        if (n->n_in > 16) {
            need = plast_arena_alloc(&t->arena, (size_t)n->n_in);
            gin = plast_arena_alloc(&t->arena, (size_t)n->n_in * sizeof *gin);
            if (!need || !gin) {
                plast_tape_fail(t, PLAST_ERR_NOMEM, "out of memory in backward");
                break;
            }
        }
        int any = 0;
        for (int k = 0; k < n->n_in; k++) {
            int64_t id = n->in[k]->id;
            need[k] = (uint8_t)(id >= first && t->reach[id]);
            any |= need[k];
            gin[k] = NULL;
        }
        if (!any) continue;
        plast_op_table[n->op]->backward(t, n, gy, need, gin);
        for (int k = 0; k < n->n_in; k++)
            if (need[k] && gin[k]) accumulate(t, n->in[k], gin[k]);
    }
    return t->err.status;
}

/* Marks reach[] over ids first..last: a node is reached if it is a marked node or a recorded op with a reached
 * input. Ops created with gradients disabled are constants. Any node can be differentiated against, a constant
 * leaf included (as the zero initial plastic state of a trial, whose inner gradient is still needed). */
static void mark_reach(plast_tape *t, int64_t first, int64_t last) {
    for (int64_t i = first; i <= last; i++) {
        plast_node *n = t->nodes[i];
        if (n->kind != PLAST_NODE_OP || t->reach[i] || !n->recorded) continue;
        for (int k = 0; k < n->n_in; k++) {
            int64_t id = n->in[k]->id;
            if (id >= first && t->reach[id]) {
                t->reach[i] = 1;
                break;
            }
        }
    }
}

static plast_node *make_seed(plast_tape *t, plast_node *y, plast_node *seed, const char *who) {
    if (seed) {
        if (!plast_shape_equal(seed->shape, y->shape)) {
            char a[96], b[96];
            return plast_tape_fail(t, PLAST_ERR_SHAPE, "%s: seed shape %s differs from output shape %s", who,
                                   plast_shape_format(seed->shape, a, sizeof a),
                                   plast_shape_format(y->shape, b, sizeof b));
        }
        return seed;
    }
    if (y->numel != 1) {
        char a[96];
        return plast_tape_fail(t, PLAST_ERR_SHAPE, "%s: output of shape %s is not a scalar; pass a seed", who,
                               plast_shape_format(y->shape, a, sizeof a));
    }
    int old = plast_tape_set_grad_enabled(t, 0);
    plast_node *ones = plast_tape_full(t, y->shape, 1.0);
    plast_tape_set_grad_enabled(t, old);
    return ones;
}

plast_status plast_tape_grad(plast_tape *t, plast_node *y, plast_node *seed, int n, plast_node *const *wrt,
                             plast_node **grads, int create_graph) {
    for (int k = 0; grads && k < n; k++) grads[k] = NULL;
    if (t->err.status != PLAST_OK) return t->err.status;
    if (!y || n < 0 || (n > 0 && (!wrt || !grads))) {
        plast_tape_fail(t, PLAST_ERR_INVALID_ARG, "plast_tape_grad: NULL output or gradient list");
        return t->err.status;
    }
    for (int k = 0; k < n; k++) {
        grads[k] = NULL;
        if (!wrt[k]) {
            plast_tape_fail(t, PLAST_ERR_INVALID_ARG, "plast_tape_grad: wrt[%d] is NULL", k);
            return t->err.status;
        }
    }
    plast_node *s = make_seed(t, y, seed, "plast_tape_grad");
    if (!s) return t->err.status;
    const int64_t last = y->id;
    if (!scratch_reserve(t, last + 1)) {
        plast_tape_fail(t, PLAST_ERR_NOMEM, "out of memory in backward");
        return t->err.status;
    }
    int64_t first = last + 1;
    for (int k = 0; k < n; k++)
        if (wrt[k]->id < first) first = wrt[k]->id;
    if (first <= last) {
        memset(t->reach + first, 0, (size_t)(last - first + 1));
        for (int k = 0; k < n; k++)
            if (wrt[k]->id <= last) t->reach[wrt[k]->id] = 1;
        mark_reach(t, first, last);
        if (t->reach[last]) {
            int old = plast_tape_set_grad_enabled(t, create_graph);
            sweep(t, y, s, first);
            plast_tape_set_grad_enabled(t, old);
        } else {
            first = last + 1; /* y does not depend on any of wrt */
        }
    }
    int old = plast_tape_set_grad_enabled(t, create_graph);
    for (int k = 0; k < n && t->err.status == PLAST_OK; k++) {
        int64_t id = wrt[k]->id;
        plast_node *g = (id >= first && id <= last) ? t->adj[id] : NULL;
        grads[k] = g ? g : plast_tape_const(t, wrt[k]->shape, NULL);
    }
    plast_tape_set_grad_enabled(t, old);
    return t->err.status;
}

plast_status plast_tape_backward(plast_tape *t, plast_node *loss) {
    if (t->err.status != PLAST_OK) return t->err.status;
    if (!loss) {
        plast_tape_fail(t, PLAST_ERR_INVALID_ARG, "plast_tape_backward: loss is NULL");
        return t->err.status;
    }
    plast_node *s = make_seed(t, loss, NULL, "plast_tape_backward");
    if (!s) return t->err.status;
    const int64_t last = loss->id;
    if (!loss->requires_grad) return PLAST_OK;
    if (!scratch_reserve(t, last + 1)) {
        plast_tape_fail(t, PLAST_ERR_NOMEM, "out of memory in backward");
        return t->err.status;
    }
    for (int64_t i = 0; i <= last; i++) t->reach[i] = t->nodes[i]->requires_grad;
    int old = plast_tape_set_grad_enabled(t, 0);
    sweep(t, loss, s, 0);
    plast_tape_set_grad_enabled(t, old);
    if (t->err.status != PLAST_OK) return t->err.status;
    for (int64_t i = 0; i <= last; i++) {
        plast_node *n = t->nodes[i];
        plast_node *g = t->adj[i];
        if (n->kind != PLAST_NODE_PARAM || !g) continue;
        for (int64_t j = 0; j < n->numel; j++) n->grad_dst[j] += g->data[j];
    }
    return PLAST_OK;
}
