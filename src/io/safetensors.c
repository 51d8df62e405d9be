/* src/io/safetensors.c: a validating safetensors reader and an atomic writer. */
#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/strbuf.h"
#include "core/fileio.h"
#include "plast/safetensors.h"

#define MAX_HEADER ((uint64_t)100 << 20) /* the format's own limit on the JSON header */
#define MAX_RANK 8

static const struct {
    const char *name;
    size_t size;
} DTYPES[] = {
    [PLAST_DTYPE_F64] = {"F64", 8}, [PLAST_DTYPE_F32] = {"F32", 4}, [PLAST_DTYPE_F16] = {"F16", 2},
    [PLAST_DTYPE_BF16] = {"BF16", 2}, [PLAST_DTYPE_I64] = {"I64", 8}, [PLAST_DTYPE_I32] = {"I32", 4},
    [PLAST_DTYPE_I16] = {"I16", 2}, [PLAST_DTYPE_I8] = {"I8", 1}, [PLAST_DTYPE_U8] = {"U8", 1},
    [PLAST_DTYPE_BOOL] = {"BOOL", 1},
};
_Static_assert(sizeof DTYPES / sizeof DTYPES[0] == PLAST_DTYPE_COUNT, "a dtype lacks a name");

const char *plast_dtype_name(plast_dtype d) { return ((int)d >= 0 && d < PLAST_DTYPE_COUNT) ? DTYPES[d].name : "?"; }
size_t plast_dtype_size(plast_dtype d) { return ((int)d >= 0 && d < PLAST_DTYPE_COUNT) ? DTYPES[d].size : 0; }
plast_dtype plast_dtype_real(void) { return sizeof(plast_real) == 8 ? PLAST_DTYPE_F64 : PLAST_DTYPE_F32; }

static int dtype_parse(const char *s, plast_dtype *d) {
    for (int k = 0; k < PLAST_DTYPE_COUNT; k++)
        if (strcmp(s, DTYPES[k].name) == 0) {
            *d = (plast_dtype)k;
            return 1;
        }
    return 0;
}

/* ---- reader ------------------------------------------------------------------------------------------------ */

typedef struct st_entry {
    const char *name;
    plast_dtype dtype;
    int ndim;
    int64_t dims[MAX_RANK];
    int64_t numel;
    uint64_t begin, end; /* byte offsets into the data section */
} st_entry;

struct plast_st_reader {
    char *path;
    unsigned char *file; /* the whole file */
    size_t file_size;
    const unsigned char *data; /* the data section */
    uint64_t data_size;
    int n;
    st_entry *entries;
    int n_meta;
    const char **meta_keys, **meta_values;
    plast_arena arena; /* path, entries, names, metadata */
};

static char *arena_strdup(plast_arena *a, const char *s) {
    size_t n = strlen(s) + 1;
    char *d = plast_arena_alloc(a, n);
    if (d) memcpy(d, s, n);
    return d;
}

/* A JSON number that is a non-negative integer within limit. */
static int json_uint(const cJSON *j, uint64_t limit, uint64_t *out) {
    if (!cJSON_IsNumber(j)) return 0;
    double v = j->valuedouble;
    if (!(v >= 0) || v > (double)limit || v != (double)(uint64_t)v) return 0;
    *out = (uint64_t)v;
    return 1;
}

static int cmp_begin(const void *a, const void *b) {
    const st_entry *x = *(const st_entry *const *)a, *y = *(const st_entry *const *)b;
    return x->begin < y->begin ? -1 : x->begin > y->begin ? 1 : (x->end < y->end ? -1 : x->end > y->end);
}

/* Parses one tensor entry of the header into e; on failure writes the reason into err. */
static plast_status parse_entry(plast_st_reader *r, const cJSON *item, st_entry *e, plast_err *err) {
    const char *path = r->path, *name = item->string;
    if (!cJSON_IsObject(item))
        return plast_err_set(err, PLAST_ERR_FORMAT, "%s: tensor '%s': header entry is not an object", path, name);
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(item, "dtype");
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(item, "shape");
    const cJSON *of = cJSON_GetObjectItemCaseSensitive(item, "data_offsets");
    if (!cJSON_IsString(dt) || !dtype_parse(dt->valuestring, &e->dtype))
        return plast_err_set(err, PLAST_ERR_FORMAT, "%s: tensor '%s': missing or unknown dtype %s", path, name,
                             cJSON_IsString(dt) ? dt->valuestring : "(not a string)");
    if (!cJSON_IsArray(sh) || cJSON_GetArraySize(sh) > MAX_RANK)
        return plast_err_set(err, PLAST_ERR_FORMAT, "%s: tensor '%s': shape is not an array of at most %d sizes",
                             path, name, MAX_RANK);
    e->ndim = cJSON_GetArraySize(sh);
    e->numel = 1;
    for (int k = 0; k < e->ndim; k++) {
        uint64_t d;
        if (!json_uint(cJSON_GetArrayItem(sh, k), (uint64_t)1 << 40, &d))
            return plast_err_set(err, PLAST_ERR_FORMAT, "%s: tensor '%s': shape entry %d is not a valid size", path,
                                 name, k);
        e->dims[k] = (int64_t)d;
        if (d != 0 && (uint64_t)e->numel > r->data_size / d)
            e->numel = (int64_t)r->data_size + 1; /* cannot fit; the size check below reports it */
        else
            e->numel *= (int64_t)d;
    }
    uint64_t b, en;
    if (!cJSON_IsArray(of) || cJSON_GetArraySize(of) != 2 || !json_uint(cJSON_GetArrayItem(of, 0), UINT64_MAX / 2, &b) ||
        !json_uint(cJSON_GetArrayItem(of, 1), UINT64_MAX / 2, &en) || b > en)
        return plast_err_set(err, PLAST_ERR_FORMAT, "%s: tensor '%s': data_offsets is not a pair [begin, end]", path,
                             name);
    if (en > r->data_size)
        return plast_err_set(err, PLAST_ERR_FORMAT,
                             "%s: tensor '%s': data_offsets [%llu, %llu] run past the %llu bytes of data (truncated "
                             "file?)",
                             path, name, (unsigned long long)b, (unsigned long long)en,
                             (unsigned long long)r->data_size);
    if ((uint64_t)e->numel * DTYPES[e->dtype].size != en - b)
        return plast_err_set(err, PLAST_ERR_FORMAT,
                             "%s: tensor '%s': %lld elements of %s need %llu bytes but data_offsets span %llu", path,
                             name, (long long)e->numel, DTYPES[e->dtype].name,
                             (unsigned long long)((uint64_t)e->numel * DTYPES[e->dtype].size),
                             (unsigned long long)(en - b));
    e->begin = b;
    e->end = en;
    e->name = arena_strdup(&r->arena, name);
    return e->name ? PLAST_OK : plast_err_set(err, PLAST_ERR_NOMEM, "%s: out of memory", path);
}

static plast_status parse_metadata(plast_st_reader *r, const cJSON *meta, plast_err *err) {
    if (!cJSON_IsObject(meta))
        return plast_err_set(err, PLAST_ERR_FORMAT, "%s: __metadata__ is not an object", r->path);
    int n = cJSON_GetArraySize(meta);
    r->meta_keys = plast_arena_alloc(&r->arena, (size_t)(n ? n : 1) * sizeof(char *));
    r->meta_values = plast_arena_alloc(&r->arena, (size_t)(n ? n : 1) * sizeof(char *));
    if (!r->meta_keys || !r->meta_values) return plast_err_set(err, PLAST_ERR_NOMEM, "%s: out of memory", r->path);
    const cJSON *m;
    cJSON_ArrayForEach(m, meta) {
        if (!cJSON_IsString(m))
            return plast_err_set(err, PLAST_ERR_FORMAT, "%s: metadata '%s' is not a string", r->path, m->string);
        r->meta_keys[r->n_meta] = arena_strdup(&r->arena, m->string);
        r->meta_values[r->n_meta] = arena_strdup(&r->arena, m->valuestring);
        if (!r->meta_keys[r->n_meta] || !r->meta_values[r->n_meta])
            return plast_err_set(err, PLAST_ERR_NOMEM, "%s: out of memory", r->path);
        r->n_meta++;
    }
    return PLAST_OK;
}

/* Validates the header and fills r's entries and metadata. */
static plast_status parse_header(plast_st_reader *r, plast_err *err) {
    const char *path = r->path;
    if (r->file_size < 8)
        return plast_err_set(err, PLAST_ERR_FORMAT, "%s: %zu bytes is too short for a safetensors file", path,
                             r->file_size);
    uint64_t hlen = 0;
    for (int k = 7; k >= 0; k--) hlen = (hlen << 8) | r->file[k];
    if (hlen > MAX_HEADER || hlen > r->file_size - 8)
        return plast_err_set(err, PLAST_ERR_FORMAT,
                             "%s: header length %llu does not fit the %zu-byte file (truncated or not safetensors)",
                             path, (unsigned long long)hlen, r->file_size);
    r->data = r->file + 8 + hlen;
    r->data_size = r->file_size - 8 - hlen;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts((const char *)r->file + 8, (size_t)hlen, &end, 0);
    if (!root || !cJSON_IsObject(root)) {
        size_t at = end ? (size_t)(end - (const char *)r->file - 8) : 0;
        cJSON_Delete(root);
        return plast_err_set(err, PLAST_ERR_FORMAT, "%s: header is not a JSON object (error near byte %zu)", path,
                             at + 8);
    }
    /* header padding may only be whitespace */
    for (const char *c = end; c && c < (const char *)r->file + 8 + hlen; c++)
        if (*c != ' ' && *c != '\n' && *c != '\t' && *c != '\r') {
            cJSON_Delete(root);
            return plast_err_set(err, PLAST_ERR_FORMAT, "%s: stray bytes after the JSON header", path);
        }
    int total = cJSON_GetArraySize(root);
    r->entries = plast_arena_alloc(&r->arena, (size_t)(total ? total : 1) * sizeof(st_entry));
    const st_entry **order = malloc((size_t)(total ? total : 1) * sizeof *order);
    plast_status s = (r->entries && order) ? PLAST_OK : plast_err_set(err, PLAST_ERR_NOMEM, "%s: out of memory", path);
    const cJSON *item;
    int seen_meta = 0;
    cJSON_ArrayForEach(item, root) {
        if (s != PLAST_OK) break;
        if (strcmp(item->string, "__metadata__") == 0) {
            if (seen_meta++) s = plast_err_set(err, PLAST_ERR_FORMAT, "%s: two __metadata__ entries", path);
            else s = parse_metadata(r, item, err);
            continue;
        }
        for (int k = 0; k < r->n && s == PLAST_OK; k++)
            if (strcmp(r->entries[k].name, item->string) == 0)
                s = plast_err_set(err, PLAST_ERR_FORMAT, "%s: tensor '%s' appears twice", path, item->string);
        if (s == PLAST_OK) s = parse_entry(r, item, &r->entries[r->n], err);
        if (s == PLAST_OK) {
            order[r->n] = &r->entries[r->n];
            r->n++;
        }
    }
    cJSON_Delete(root);
    if (s == PLAST_OK) { /* the tensors must tile the data section exactly: no overlap, no gap, no tail */
        qsort(order, (size_t)r->n, sizeof *order, cmp_begin);
        uint64_t at = 0;
        for (int k = 0; k < r->n && s == PLAST_OK; k++) {
            if (order[k]->begin != at)
                s = plast_err_set(err, PLAST_ERR_FORMAT, "%s: tensor '%s' starts at byte %llu, expected %llu (%s)",
                                  path, order[k]->name, (unsigned long long)order[k]->begin, (unsigned long long)at,
                                  order[k]->begin < at ? "overlap" : "gap");
            at = order[k]->end;
        }
        if (s == PLAST_OK && at != r->data_size)
            s = plast_err_set(err, PLAST_ERR_FORMAT, "%s: %llu bytes of data follow the last tensor", path,
                              (unsigned long long)(r->data_size - at));
    }
    free(order);
    return s;
}

plast_st_reader *plast_st_reader_open(const char *path, plast_err *err) {
    if (!path) {
        plast_err_set(err, PLAST_ERR_INVALID_ARG, "safetensors: no path given");
        return NULL;
    }
    plast_st_reader *r = calloc(1, sizeof *r);
    if (!r) {
        plast_err_set(err, PLAST_ERR_NOMEM, "%s: out of memory", path);
        return NULL;
    }
    plast_arena_init(&r->arena, 16384);
    r->path = arena_strdup(&r->arena, path);
    if (!r->path) {
        plast_err_set(err, PLAST_ERR_NOMEM, "%s: out of memory", path);
        plast_st_reader_close(r);
        return NULL;
    }
    if (plast_file_read_all(path, &r->file, &r->file_size, err) != PLAST_OK || parse_header(r, err) != PLAST_OK) {
        plast_st_reader_close(r);
        return NULL;
    }
    return r;
}

void plast_st_reader_close(plast_st_reader *r) {
    if (!r) return;
    free(r->file);
    plast_arena_release(&r->arena);
    free(r);
}

const char *plast_st_reader_path(const plast_st_reader *r) { return r->path; }
int plast_st_reader_count(const plast_st_reader *r) { return r->n; }

int plast_st_reader_find(const plast_st_reader *r, const char *name) {
    for (int i = 0; i < r->n; i++)
        if (strcmp(r->entries[i].name, name) == 0) return i;
    return -1;
}

const char *plast_st_reader_name(const plast_st_reader *r, int i) { return r->entries[i].name; }
plast_dtype plast_st_reader_dtype(const plast_st_reader *r, int i) { return r->entries[i].dtype; }
int plast_st_reader_ndim(const plast_st_reader *r, int i) { return r->entries[i].ndim; }
int64_t plast_st_reader_dim(const plast_st_reader *r, int i, int axis) { return r->entries[i].dims[axis]; }
int64_t plast_st_reader_numel(const plast_st_reader *r, int i) { return r->entries[i].numel; }
const void *plast_st_reader_bytes(const plast_st_reader *r, int i) { return r->data + r->entries[i].begin; }

const char *plast_st_reader_meta(const plast_st_reader *r, const char *key) {
    for (int k = 0; k < r->n_meta; k++)
        if (strcmp(r->meta_keys[k], key) == 0) return r->meta_values[k];
    return NULL;
}

static double half_to_double(uint16_t h) {
    int sign = h >> 15, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
    double v;
    if (exp == 0)
        v = mant * 0x1p-24;
    else if (exp == 31)
        v = mant ? NAN : INFINITY;
    else
        v = (1.0 + mant * 0x1p-10) * (double)(1 << exp) * 0x1p-15;
    return sign ? -v : v;
}

/* Element k of a little-endian buffer of dtype d, as a double (memcpy: the data may be unaligned). */
static double element(const unsigned char *p, plast_dtype d, int64_t k) {
    p += (size_t)k * DTYPES[d].size;
    switch (d) {
    case PLAST_DTYPE_F64: { double v; memcpy(&v, p, 8); return v; }
    case PLAST_DTYPE_F32: { float v; memcpy(&v, p, 4); return v; }
    case PLAST_DTYPE_F16: { uint16_t v; memcpy(&v, p, 2); return half_to_double(v); }
    case PLAST_DTYPE_BF16: { uint32_t v = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 24; float f; memcpy(&f, &v, 4); return f; }
    case PLAST_DTYPE_I64: { int64_t v; memcpy(&v, p, 8); return (double)v; }
    case PLAST_DTYPE_I32: { int32_t v; memcpy(&v, p, 4); return v; }
    case PLAST_DTYPE_I16: { int16_t v; memcpy(&v, p, 2); return v; }
    case PLAST_DTYPE_I8: return (int8_t)p[0];
    case PLAST_DTYPE_U8: return p[0];
    case PLAST_DTYPE_BOOL: return p[0] != 0;
    default: return 0;
    }
}

static void format_dims(const st_entry *e, char *buf, size_t cap) {
    size_t used = (size_t)snprintf(buf, cap, "(");
    for (int k = 0; k < e->ndim && used < cap; k++)
        used += (size_t)snprintf(buf + used, cap - used, k ? ", %lld" : "%lld", (long long)e->dims[k]);
    if (used < cap) snprintf(buf + used, cap - used, e->ndim == 1 ? ",)" : ")");
}

static plast_status copy_out(const plast_st_reader *r, const st_entry *e, plast_real *dst) {
    const unsigned char *p = r->data + e->begin;
    if (e->dtype == plast_dtype_real())
        memcpy(dst, p, (size_t)e->numel * sizeof(plast_real));
    else
        for (int64_t k = 0; k < e->numel; k++) dst[k] = (plast_real)element(p, e->dtype, k);
    return PLAST_OK;
}

static const st_entry *lookup(const plast_st_reader *r, const char *name, plast_err *err) {
    int i = plast_st_reader_find(r, name);
    if (i < 0) {
        plast_err_set(err, PLAST_ERR_MISMATCH, "%s: no tensor '%s'", r->path, name);
        return NULL;
    }
    return &r->entries[i];
}

plast_status plast_st_reader_read(const plast_st_reader *r, const char *name, plast_shape expect, plast_real *dst,
                                  plast_err *err) {
    const st_entry *e = lookup(r, name, err);
    if (!e) return plast_err_status(err, PLAST_ERR_MISMATCH);
    int same = e->ndim == expect.ndim;
    for (int k = 0; same && k < e->ndim; k++) same = e->dims[k] == expect.d[k];
    if (!same) {
        char a[128], b[96];
        format_dims(e, a, sizeof a);
        return plast_err_set(err, PLAST_ERR_MISMATCH, "%s: tensor '%s' has shape %s, expected %s", r->path, name, a,
                             plast_shape_format(expect, b, sizeof b));
    }
    return copy_out(r, e, dst);
}

plast_status plast_st_reader_read_any(const plast_st_reader *r, const char *name, plast_shape *shape,
                                      plast_real *dst, int64_t max_numel, plast_err *err) {
    const st_entry *e = lookup(r, name, err);
    if (!e) return plast_err_status(err, PLAST_ERR_MISMATCH);
    if (e->ndim > PLAST_MAX_DIMS || e->numel > max_numel) {
        char a[128];
        format_dims(e, a, sizeof a);
        return plast_err_set(err, PLAST_ERR_MISMATCH, "%s: tensor '%s' of shape %s does not fit (at most %d axes and %lld elements)",
                             r->path, name, a, PLAST_MAX_DIMS, (long long)max_numel);
    }
    *shape = PLAST_SHAPE0();
    shape->ndim = e->ndim;
    for (int k = 0; k < e->ndim; k++) shape->d[k] = e->dims[k];
    return copy_out(r, e, dst);
}

/* ---- writer ------------------------------------------------------------------------------------------------ */

typedef struct wr_entry {
    char *name;
    plast_dtype dtype;
    int ndim;
    int64_t dims[MAX_RANK];
    uint64_t begin, end;
} wr_entry;

struct plast_st_writer {
    wr_entry *entries;
    int n, cap;
    unsigned char *data; /* all tensor bytes, packed in insertion order */
    uint64_t size, data_cap;
    char **meta_keys, **meta_values;
    int n_meta, meta_cap;
};

plast_st_writer *plast_st_writer_init(plast_err *err) {
    plast_st_writer *w = calloc(1, sizeof *w);
    if (!w) plast_err_set(err, PLAST_ERR_NOMEM, "safetensors writer: out of memory");
    return w;
}

void plast_st_writer_free(plast_st_writer *w) {
    if (!w) return;
    for (int i = 0; i < w->n; i++) free(w->entries[i].name);
    for (int i = 0; i < w->n_meta; i++) {
        free(w->meta_keys[i]);
        free(w->meta_values[i]);
    }
    free(w->entries);
    free(w->data);
    free(w->meta_keys);
    free(w->meta_values);
    free(w);
}

static char *xstrdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

plast_status plast_st_writer_add(plast_st_writer *w, const char *name, plast_dtype dtype, int ndim,
                                 const int64_t *dims, const void *data, plast_err *err) {
    if (!name || !*name || (int)dtype < 0 || dtype >= PLAST_DTYPE_COUNT || ndim < 0 || ndim > MAX_RANK ||
        (ndim > 0 && !dims) || strcmp(name, "__metadata__") == 0)
        return plast_err_set(err, PLAST_ERR_INVALID_ARG, "safetensors writer: bad tensor '%s'", name ? name : "(null)");
    for (int i = 0; i < w->n; i++)
        if (strcmp(w->entries[i].name, name) == 0)
            return plast_err_set(err, PLAST_ERR_INVALID_ARG, "safetensors writer: tensor '%s' added twice", name);
    uint64_t numel = 1;
    for (int k = 0; k < ndim; k++) {
        if (dims[k] < 0 || (dims[k] > 0 && numel > (UINT64_MAX >> 4) / (uint64_t)dims[k]))
            return plast_err_set(err, PLAST_ERR_INVALID_ARG, "safetensors writer: tensor '%s' has a bad shape", name);
        numel *= (uint64_t)dims[k];
    }
    uint64_t bytes = numel * DTYPES[dtype].size;
    if (bytes > 0 && !data)
        return plast_err_set(err, PLAST_ERR_INVALID_ARG, "safetensors writer: tensor '%s' has no data", name);
    if (w->n == w->cap) {
        int cap = w->cap ? w->cap * 2 : 16;
        wr_entry *e = realloc(w->entries, (size_t)cap * sizeof *e);
        if (!e) return plast_err_set(err, PLAST_ERR_NOMEM, "safetensors writer: out of memory");
        w->entries = e;
        w->cap = cap;
    }
    if (w->size + bytes > w->data_cap) {
        uint64_t cap = w->data_cap ? w->data_cap : 4096;
        while (cap < w->size + bytes) cap *= 2;
        if (cap > SIZE_MAX) return plast_err_set(err, PLAST_ERR_NOMEM, "safetensors writer: out of memory");
        unsigned char *d = realloc(w->data, (size_t)cap);
        if (!d) return plast_err_set(err, PLAST_ERR_NOMEM, "safetensors writer: out of memory");
        w->data = d;
        w->data_cap = cap;
    }
    wr_entry *e = &w->entries[w->n];
    e->name = xstrdup(name);
    if (!e->name) return plast_err_set(err, PLAST_ERR_NOMEM, "safetensors writer: out of memory");
    e->dtype = dtype;
    e->ndim = ndim;
    for (int k = 0; k < ndim; k++) e->dims[k] = dims[k];
    e->begin = w->size;
    e->end = w->size + bytes;
    if (bytes) memcpy(w->data + w->size, data, (size_t)bytes);
    w->size += bytes;
    w->n++;
    return PLAST_OK;
}

plast_status plast_st_writer_add_real(plast_st_writer *w, const char *name, plast_shape shape,
                                      const plast_real *data, plast_err *err) {
    if (plast_shape_numel(shape) < 0)
        return plast_err_set(err, PLAST_ERR_INVALID_ARG, "safetensors writer: tensor '%s' has a bad shape", name);
    return plast_st_writer_add(w, name, plast_dtype_real(), shape.ndim, shape.d, data, err);
}

plast_status plast_st_writer_set_meta(plast_st_writer *w, const char *key, const char *value, plast_err *err) {
    if (!key || !value) return plast_err_set(err, PLAST_ERR_INVALID_ARG, "safetensors writer: NULL metadata");
    for (int i = 0; i < w->n_meta; i++)
        if (strcmp(w->meta_keys[i], key) == 0) {
            char *v = xstrdup(value);
            if (!v) return plast_err_set(err, PLAST_ERR_NOMEM, "safetensors writer: out of memory");
            free(w->meta_values[i]);
            w->meta_values[i] = v;
            return PLAST_OK;
        }
    if (w->n_meta == w->meta_cap) {
        int cap = w->meta_cap ? w->meta_cap * 2 : 8;
        char **k = realloc(w->meta_keys, (size_t)cap * sizeof *k);
        if (k) w->meta_keys = k;
        char **v = realloc(w->meta_values, (size_t)cap * sizeof *v);
        if (v) w->meta_values = v;
        if (!k || !v) return plast_err_set(err, PLAST_ERR_NOMEM, "safetensors writer: out of memory");
        w->meta_cap = cap;
    }
    w->meta_keys[w->n_meta] = xstrdup(key);
    w->meta_values[w->n_meta] = xstrdup(value);
    if (!w->meta_keys[w->n_meta] || !w->meta_values[w->n_meta]) {
        free(w->meta_keys[w->n_meta]);
        free(w->meta_values[w->n_meta]);
        return plast_err_set(err, PLAST_ERR_NOMEM, "safetensors writer: out of memory");
    }
    w->n_meta++;
    return PLAST_OK;
}

/* Appends s to the growing buffer as a JSON string literal. */
static int put_json_string(plast_strbuf *b, const char *s) {
    if (!plast_strbuf_putc(b, '"')) return 0;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        int ok;
        if (*c == '"' || *c == '\\')
            ok = plast_strbuf_printf(b, "\\%c", *c);
        else if (*c < 0x20)
            ok = plast_strbuf_printf(b, "\\u%04x", *c);
        else
            ok = plast_strbuf_putc(b, (char)*c);
        if (!ok) return 0;
    }
    return plast_strbuf_putc(b, '"');
}

static int build_header(const plast_st_writer *w, plast_strbuf *b) {
    int ok = plast_strbuf_putc(b, '{');
    if (w->n_meta > 0) {
        ok = ok && plast_strbuf_printf(b, "\"__metadata__\":{");
        for (int i = 0; i < w->n_meta; i++) {
            ok = ok && (i == 0 || plast_strbuf_putc(b, ',')) && put_json_string(b, w->meta_keys[i]) &&
                 plast_strbuf_putc(b, ':') && put_json_string(b, w->meta_values[i]);
        }
        ok = ok && plast_strbuf_putc(b, '}');
    }
    for (int i = 0; i < w->n; i++) {
        const wr_entry *e = &w->entries[i];
        ok = ok && ((i == 0 && w->n_meta == 0) || plast_strbuf_putc(b, ',')) && put_json_string(b, e->name) &&
             plast_strbuf_printf(b, ":{\"dtype\":\"%s\",\"shape\":[", DTYPES[e->dtype].name);
        for (int k = 0; k < e->ndim; k++) ok = ok && plast_strbuf_printf(b, k ? ",%lld" : "%lld", (long long)e->dims[k]);
        ok = ok && plast_strbuf_printf(b, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)e->begin,
                                       (unsigned long long)e->end);
    }
    ok = ok && plast_strbuf_putc(b, '}');
    while (ok && b->len % 8 != 0) ok = plast_strbuf_putc(b, ' '); /* pad so the data starts 8-byte aligned */
    return ok;
}

plast_status plast_st_writer_save(const plast_st_writer *w, const char *path, plast_err *err) {
    plast_strbuf header;
    plast_strbuf_init(&header);
    if (!build_header(w, &header)) {
        plast_strbuf_free(&header);
        return plast_err_set(err, PLAST_ERR_NOMEM, "%s: out of memory building the header", path);
    }
    unsigned char len8[8];
    uint64_t hlen = header.len;
    for (int k = 0; k < 8; k++) len8[k] = (unsigned char)(hlen >> (8 * k));
    const void *parts[3] = {len8, header.buf, w->data};
    size_t sizes[3] = {8, header.len, (size_t)w->size};
    plast_status s = plast_file_write_atomic(path, 3, parts, sizes, err);
    plast_strbuf_free(&header);
    return s;
}
