/* src/io/checkpoint.c: parameters and optimizer state to and from safetensors files. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "plast/checkpoint.h"

#define NAME_CAP 256

plast_status plast_ckpt_add_params(plast_st_writer *w, const char *prefix, const plast_params *p, plast_err *err) {
    char name[NAME_CAP];
    const plast_real *values = plast_params_values_const(p);
    for (int i = 0; i < plast_params_count(p); i++) {
        snprintf(name, sizeof name, "%s%s", prefix, plast_params_name(p, i));
        plast_status s =
            plast_st_writer_add_real(w, name, plast_params_shape(p, i), values + plast_params_offset(p, i), err);
        if (s != PLAST_OK) return s;
    }
    return PLAST_OK;
}

plast_status plast_ckpt_add_optim(plast_st_writer *w, plast_optim *o, const plast_params *p, plast_err *err) {
    char name[NAME_CAP], steps[32];
    for (int k = 0; k < plast_optim_state_count(o); k++) {
        const plast_real *buf = plast_optim_state(o, k);
        for (int i = 0; i < plast_params_count(p); i++) {
            snprintf(name, sizeof name, "optim/%s/%s", plast_optim_state_name(o, k), plast_params_name(p, i));
            plast_status s =
                plast_st_writer_add_real(w, name, plast_params_shape(p, i), buf + plast_params_offset(p, i), err);
            if (s != PLAST_OK) return s;
        }
    }
    const plast_optim_config *c = plast_optim_get_config(o);
    snprintf(steps, sizeof steps, "%lld", (long long)plast_optim_steps(o));
    plast_status s = plast_st_writer_set_meta(w, "optim_kind", plast_optim_kind_name(c->kind), err);
    if (s == PLAST_OK) s = plast_st_writer_set_meta(w, "optim_amsgrad", c->amsgrad ? "1" : "0", err);
    if (s == PLAST_OK) s = plast_st_writer_set_meta(w, "optim_steps", steps, err);
    return s;
}

/* Both readers fill a scratch copy first and commit only when every tensor was read, so a bad file leaves the
 * model and optimizer as they were. */
/* a tensor read from a file must hold finite numbers: a poisoned checkpoint is refused, naming it */
static plast_status check_finite(const char *path, const char *name, const plast_real *v, int64_t n, plast_err *err) {
    for (int64_t k = 0; k < n; k++)
        if (!isfinite((double)v[k]))
            return plast_err_set(err, PLAST_ERR_NUMERIC, "%s: tensor '%s' holds a non-finite value (%g) at element "
                                 "%lld", path, name, (double)v[k], (long long)k);
    return PLAST_OK;
}

plast_status plast_ckpt_read_params(const plast_st_reader *r, const char *prefix, plast_params *p, int strict,
                                    plast_err *err) {
    const char *path = plast_st_reader_path(r);
    if (strict) {
        size_t plen = strlen(prefix);
        for (int j = 0; j < plast_st_reader_count(r); j++) {
            const char *n = plast_st_reader_name(r, j);
            if (strncmp(n, prefix, plen) == 0 && plast_params_find(p, n + plen) < 0)
                return plast_err_set(err, PLAST_ERR_MISMATCH, "%s: tensor '%s' is not a parameter of this model",
                                     path, n);
        }
    }
    size_t numel = (size_t)plast_params_numel(p);
    plast_real *tmp = malloc((numel ? numel : 1) * sizeof *tmp);
    if (!tmp) return plast_err_set(err, PLAST_ERR_NOMEM, "%s: out of memory", path);
    char name[NAME_CAP];
    plast_status s = PLAST_OK;
    for (int i = 0; i < plast_params_count(p) && s == PLAST_OK; i++) {
        snprintf(name, sizeof name, "%s%s", prefix, plast_params_name(p, i));
        s = plast_st_reader_read(r, name, plast_params_shape(p, i), tmp + plast_params_offset(p, i), err);
        if (s == PLAST_OK)
            s = check_finite(path, name, tmp + plast_params_offset(p, i), plast_shape_numel(plast_params_shape(p, i)),
                             err);
    }
    if (s == PLAST_OK) memcpy(plast_params_values(p), tmp, numel * sizeof *tmp);
    free(tmp);
    return s;
}

plast_status plast_ckpt_read_optim(const plast_st_reader *r, plast_optim *o, const plast_params *p, plast_err *err) {
    const char *path = plast_st_reader_path(r);
    const plast_optim_config *c = plast_optim_get_config(o);
    const char *kind = plast_st_reader_meta(r, "optim_kind");
    const char *ams = plast_st_reader_meta(r, "optim_amsgrad");
    const char *steps = plast_st_reader_meta(r, "optim_steps");
    if (!kind || !steps || !ams)
        return plast_err_set(err, PLAST_ERR_MISMATCH, "%s: no optimizer state (metadata optim_kind/optim_steps)", path);
    if (strcmp(kind, plast_optim_kind_name(c->kind)) != 0 || atoi(ams) != (c->amsgrad != 0))
        return plast_err_set(err, PLAST_ERR_MISMATCH, "%s: optimizer is %s%s, but the run uses %s%s", path, kind,
                             atoi(ams) ? " (amsgrad)" : "", plast_optim_kind_name(c->kind),
                             c->amsgrad ? " (amsgrad)" : "");
    char *end = NULL;
    long long n = strtoll(steps, &end, 10);
    if (!end || *end || n < 0)
        return plast_err_set(err, PLAST_ERR_FORMAT, "%s: metadata optim_steps '%s' is not a step count", path, steps);
    int ns = plast_optim_state_count(o);
    size_t numel = (size_t)plast_params_numel(p);
    plast_real *tmp = malloc((ns ? (size_t)ns : 1) * (numel ? numel : 1) * sizeof *tmp);
    if (!tmp) return plast_err_set(err, PLAST_ERR_NOMEM, "%s: out of memory", path);
    char name[NAME_CAP];
    plast_status s = PLAST_OK;
    for (int k = 0; k < ns && s == PLAST_OK; k++)
        for (int i = 0; i < plast_params_count(p) && s == PLAST_OK; i++) {
            snprintf(name, sizeof name, "optim/%s/%s", plast_optim_state_name(o, k), plast_params_name(p, i));
            s = plast_st_reader_read(r, name, plast_params_shape(p, i),
                                     tmp + (size_t)k * numel + (size_t)plast_params_offset(p, i), err);
            if (s == PLAST_OK)
                s = check_finite(path, name, tmp + (size_t)k * numel + (size_t)plast_params_offset(p, i),
                                 plast_shape_numel(plast_params_shape(p, i)), err);
        }
    if (s == PLAST_OK) {
        for (int k = 0; k < ns; k++) memcpy(plast_optim_state(o, k), tmp + (size_t)k * numel, numel * sizeof *tmp);
        plast_optim_set_steps(o, n);
    }
    free(tmp);
    return s;
}

plast_st_writer *plast_ckpt_writer_init(plast_err *err) {
    plast_st_writer *w = plast_st_writer_init(err);
    if (!w) return NULL;
    char version[16];
    snprintf(version, sizeof version, "%d", PLAST_CKPT_FORMAT_VERSION);
    plast_status s = plast_st_writer_set_meta(w, "format", PLAST_CKPT_FORMAT, err);
    if (s == PLAST_OK) s = plast_st_writer_set_meta(w, "format_version", version, err);
    if (s == PLAST_OK) s = plast_st_writer_set_meta(w, "plast_version", PLAST_VERSION_STRING, err);
    if (s != PLAST_OK) {
        plast_st_writer_free(w);
        return NULL;
    }
    return w;
}

plast_status plast_ckpt_save(const char *path, const plast_params *p, plast_optim *o, int n_meta,
                             const char *const *meta_keys, const char *const *meta_values, plast_err *err) {
    plast_st_writer *w = plast_ckpt_writer_init(err);
    if (!w) return plast_err_status(err, PLAST_ERR_NOMEM);
    plast_status s = PLAST_OK;
    for (int i = 0; i < n_meta && s == PLAST_OK; i++) s = plast_st_writer_set_meta(w, meta_keys[i], meta_values[i], err);
    if (s == PLAST_OK) s = plast_ckpt_add_params(w, "param/", p, err);
    if (s == PLAST_OK && o) s = plast_ckpt_add_optim(w, o, p, err);
    if (s == PLAST_OK) s = plast_st_writer_save(w, path, err);
    plast_st_writer_free(w);
    return s;
}

plast_status plast_ckpt_read(const plast_st_reader *r, plast_params *p, plast_optim *o, plast_err *err) {
    const char *path = plast_st_reader_path(r);
    const char *fmt = plast_st_reader_meta(r, "format");
    const char *ver = plast_st_reader_meta(r, "format_version");
    if (!fmt || strcmp(fmt, PLAST_CKPT_FORMAT) != 0)
        return plast_err_set(err, PLAST_ERR_FORMAT, "%s: not a plast checkpoint (metadata format is '%s')", path,
                             fmt ? fmt : "absent");
    if (!ver || atoi(ver) != PLAST_CKPT_FORMAT_VERSION)
        return plast_err_set(err, PLAST_ERR_FORMAT, "%s: checkpoint format version %s, this plast reads %d", path,
                             ver ? ver : "absent", PLAST_CKPT_FORMAT_VERSION);
    /* the optimizer is read last and commits only on success; keep the old values to undo the parameters then */
    size_t numel = (size_t)plast_params_numel(p);
    plast_real *backup = NULL;
    if (o) {
        if (!(backup = malloc((numel ? numel : 1) * sizeof *backup)))
            return plast_err_set(err, PLAST_ERR_NOMEM, "%s: out of memory", path);
        memcpy(backup, plast_params_values(p), numel * sizeof *backup);
    }
    plast_status s = plast_ckpt_read_params(r, "param/", p, 1, err);
    if (s == PLAST_OK && o) {
        s = plast_ckpt_read_optim(r, o, p, err);
        if (s != PLAST_OK) memcpy(plast_params_values(p), backup, numel * sizeof *backup);
    }
    free(backup);
    return s;
}

plast_status plast_ckpt_load(const char *path, plast_params *p, plast_optim *o, plast_err *err) {
    plast_st_reader *r = plast_st_reader_open(path, err);
    if (!r) return plast_err_status(err, PLAST_ERR_IO);
    plast_status s = plast_ckpt_read(r, p, o, err);
    plast_st_reader_close(r);
    return s;
}
