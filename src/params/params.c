/* src/params/params.c: one allocation holding named parameter views, their values and their gradients. */
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "params/params_internal.h"

#define ALIGN 64

static size_t round_up(size_t n) { return (n + ALIGN - 1) / ALIGN * ALIGN; }

plast_params *plast_params_init(int n, const plast_param_spec *specs, plast_err *err) {
    if (n < 0 || (n > 0 && !specs)) {
        plast_err_set(err, PLAST_ERR_INVALID_ARG, "params: bad spec list");
        return NULL;
    }
    int64_t total = 0;
    for (int i = 0; i < n; i++) {
        const char *name = specs[i].name;
        if (!name || !*name || strlen(name) >= PLAST_PARAM_NAME_MAX) {
            plast_err_set(err, PLAST_ERR_INVALID_ARG, "params: parameter %d has an empty name or one longer than %d",
                          i, PLAST_PARAM_NAME_MAX - 1);
            return NULL;
        }
        for (int j = 0; j < i; j++)
            if (strcmp(specs[j].name, name) == 0) {
                plast_err_set(err, PLAST_ERR_INVALID_ARG, "params: duplicate parameter name '%s'", name);
                return NULL;
            }
        int64_t numel = plast_shape_numel(specs[i].shape);
        if (numel < 0 || total > INT64_MAX / 2 / (int64_t)sizeof(plast_real) - numel) {
            plast_err_set(err, PLAST_ERR_INVALID_ARG, "params: parameter '%s' has an invalid shape", name);
            return NULL;
        }
        total += numel;
    }
    /* sizes first, then one allocation: [struct | views | values | grads] */
    size_t head = round_up(sizeof(plast_params));
    size_t views = round_up((size_t)n * sizeof(plast_param_view));
    size_t data = round_up((size_t)total * sizeof(plast_real));
    plast_params *p = aligned_alloc(ALIGN, head + views + 2 * data);
    if (!p) {
        plast_err_set(err, PLAST_ERR_NOMEM, "params: out of memory for %lld parameters", (long long)total);
        return NULL;
    }
    memset(p, 0, head + views + 2 * data);
    p->n = n;
    p->numel = total;
    p->views = (plast_param_view *)((char *)p + head);
    p->values = (plast_real *)((char *)p + head + views);
    p->grads = (plast_real *)((char *)p + head + views + data);
    int64_t offset = 0;
    for (int i = 0; i < n; i++) {
        plast_param_view *v = &p->views[i];
        strcpy(v->name, specs[i].name);
        v->shape = specs[i].shape;
        v->numel = plast_shape_numel(v->shape);
        v->offset = offset;
        offset += v->numel;
    }
    return p;
}

void plast_params_free(plast_params *p) { free(p); }

int plast_params_count(const plast_params *p) { return p->n; }
int64_t plast_params_numel(const plast_params *p) { return p->numel; }

int plast_params_find(const plast_params *p, const char *name) {
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->views[i].name, name) == 0) return i;
    return -1;
}

const char *plast_params_name(const plast_params *p, int i) { return p->views[i].name; }
plast_shape plast_params_shape(const plast_params *p, int i) { return p->views[i].shape; }
int64_t plast_params_offset(const plast_params *p, int i) { return p->views[i].offset; }
plast_real *plast_params_values(plast_params *p) { return p->values; }
plast_real *plast_params_grads(plast_params *p) { return p->grads; }
const plast_real *plast_params_values_const(const plast_params *p) { return p->values; }
plast_real *plast_params_value(plast_params *p, int i) { return p->values + p->views[i].offset; }
plast_real *plast_params_grad(plast_params *p, int i) { return p->grads + p->views[i].offset; }

void plast_params_zero_grad(plast_params *p) { memset(p->grads, 0, (size_t)p->numel * sizeof(plast_real)); }

plast_status plast_params_copy_values(plast_params *dst, const plast_params *src, plast_err *err) {
    if (dst->n != src->n) return plast_err_set(err, PLAST_ERR_MISMATCH, "params: %d vs %d parameters", dst->n, src->n);
    for (int i = 0; i < dst->n; i++)
        if (strcmp(dst->views[i].name, src->views[i].name) != 0 ||
            !plast_shape_equal(dst->views[i].shape, src->views[i].shape))
            return plast_err_set(err, PLAST_ERR_MISMATCH, "params: parameter %d is '%s' in one and '%s' in the other",
                                 i, dst->views[i].name, src->views[i].name);
    memcpy(dst->values, src->values, (size_t)dst->numel * sizeof(plast_real));
    return PLAST_OK;
}

plast_status plast_params_allreduce_grads(plast_params *p, const plast_comm *comm, int with_grads, double scale,
                                          double *extra, int n_extra, double *scratch, plast_err *err) {
    if (!p || !comm || !comm->allreduce_sum || !scratch || n_extra < 0 || (n_extra > 0 && !extra))
        return plast_err_set(err, PLAST_ERR_INVALID_ARG, "params: allreduce needs parameters, a communicator and "
                                                         "a scratch buffer");
    const int64_t n = with_grads ? plast_params_numel(p) : 0;
    plast_real *g = plast_params_grads(p);
    for (int64_t i = 0; i < n; i++) scratch[i] = (double)g[i] * scale;
    for (int k = 0; k < n_extra; k++) scratch[n + k] = extra[k] * scale;
    if (comm->allreduce_sum(scratch, n + n_extra, comm->user) != PLAST_OK)
        return plast_err_set(err, PLAST_ERR_STATE, "data-parallel training: the gradient allreduce failed");
    for (int64_t i = 0; i < n; i++) g[i] = (plast_real)scratch[i];
    for (int k = 0; k < n_extra; k++) extra[k] = scratch[n + k];
    return PLAST_OK;
}
