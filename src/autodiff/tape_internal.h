/* src/autodiff/tape_internal.h: nodes, the tape and the op table (internal).
 *
 * Adding an op: add one row to op_list.h (which generates the enum and the op table), write its shape rule, forward
 * kernel and backward rule side by side in the family file (ops_<family>.c) as one `const plast_op_def
 * plast_op_<name>`, give it a public constructor in include/plast/tape.h, and a finite-difference case in
 * tests/test_ops_grad.c (the test fails for an op without one). A backward rule may only call op constructors: that keeps every gradient differentiable.
 */
#ifndef PLAST_AUTODIFF_TAPE_INTERNAL_H
#define PLAST_AUTODIFF_TAPE_INTERNAL_H

#include "autodiff/op_list.h"
#include "core/arena.h"
#include "plast/tape.h"

#define PLAST_OP_ENUM(ID, name, family) PLAST_OP_##ID,
typedef enum plast_op { PLAST_OP_LIST(PLAST_OP_ENUM) PLAST_OP_COUNT } plast_op;
#undef PLAST_OP_ENUM

/* Attributes an op keeps besides its inputs. */
typedef union plast_op_params {
    double c;                                    /* SCALE, ADD_SCALAR */
    struct { double lo, hi; int kind; } mask;    /* CLAMP (lo, hi), MASK_MUL */
    struct { int trans_a, trans_b; } mm;         /* MATMUL */
    struct { int axis, keepdim; } red;           /* SUM, NORM2 */
    plast_shape target;                          /* BROADCAST_TO, SUM_TO, RESHAPE */
    struct { int axis; int64_t start, len; } sl; /* CONCAT (axis), SLICE (start, len), PAD (start, len = total) */
    struct { int k, pad, stride; int64_t h, w; } img; /* IM2COL (k, pad, stride), COL2IM (k, pad, stride, output h, w) */
} plast_op_params;

typedef enum plast_node_kind {
    PLAST_NODE_CONST, /* leaf without gradient */
    PLAST_NODE_VAR,   /* differentiable leaf owned by the tape */
    PLAST_NODE_PARAM, /* differentiable leaf aliasing a plast_params view */
    PLAST_NODE_OP     /* output of an op */
} plast_node_kind;

struct plast_node {
    plast_shape shape;
    int64_t numel;
    plast_real *data;     /* numel values, row-major; may alias another node's data (reshape, detach) */
    int64_t id;           /* position on the tape: inputs always have smaller ids */
    uint8_t kind;         /* plast_node_kind */
    uint8_t requires_grad; /* depends on a differentiable leaf through recorded ops */
    uint8_t recorded;     /* op created with gradients enabled; an unrecorded op is a constant to backward */
    int16_t op;           /* plast_op, when kind == PLAST_NODE_OP */
    int32_t n_in;
    plast_node **in;      /* n_in inputs */
    plast_op_params p;
    plast_real *grad_dst; /* PLAST_NODE_PARAM: where plast_tape_backward accumulates */
};

struct plast_tape {
    plast_arena arena;     /* nodes, input lists and values */
    plast_node **nodes;    /* every node in creation order (a topological order) */
    int64_t n_nodes, cap_nodes;
    int grad_enabled;
    plast_err err;         /* sticky: the first error */
    /* backward scratch, grown on demand and reused */
    plast_node **adj;      /* adjoint of each node, indexed by id */
    uint8_t *reach;        /* 1 if the node lies on a path from a differentiated leaf */
    int64_t scratch_cap;
};

typedef struct plast_op_def {
    const char *name;
    const char *formula; /* forward and derivative in one line */
    int arity;           /* number of inputs, or -1 for one or more */
    /* Output shape from the inputs; on a mismatch, writes the reason (without the op name) into why. */
    plast_status (*shape)(plast_node *const *in, int n_in, const plast_op_params *p, plast_shape *out, char *why,
                          size_t why_cap);
    /* Computes y->data from y->in and y->p. */
    void (*forward)(plast_node *y);
    /* For each input i with need[i], sets gin[i] to d<gy, y>/d in[i], built with op constructors on t; NULL means
     * the derivative is zero. */
    void (*backward)(plast_tape *t, plast_node *y, plast_node *gy, const uint8_t *need, plast_node **gin);
    int aliases_input; /* y->data points into in[0]->data instead of owning memory */
} plast_op_def;

/* The op table: plast_op_table[op] for every plast_op (op_table.c). */
extern const plast_op_def *const plast_op_table[PLAST_OP_COUNT];

/* Records op on t: checks inputs and shape, allocates, runs forward. NULL (and the tape in error) on failure. */
plast_node *plast_tape_op(plast_tape *t, plast_op op, int n_in, plast_node *const *in, const plast_op_params *p);

/* Helpers shared by the op families. */
int plast_axis_normalize(int axis, int ndim); /* -1 if out of range */
/* numpy broadcast of a and b into out; 0 if they do not broadcast. */
int plast_shape_broadcast(plast_shape a, plast_shape b, plast_shape *out);
/* 1 if `from` broadcasts to `to`. */
int plast_shape_broadcasts_to(plast_shape from, plast_shape to);
/* Element strides of `in` seen through the broadcast to `out`, padded on the left to PLAST_MAX_DIMS axes (0 on
 * stretched axes); dims receives out's sizes padded with 1. */
void plast_broadcast_strides(plast_shape in, plast_shape out, int64_t strides[PLAST_MAX_DIMS],
                             int64_t dims[PLAST_MAX_DIMS]);

/* Loops worth splitting across threads: at least this many elements. */
#define PLAST_PAR_MIN 32768

#endif
