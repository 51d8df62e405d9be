/* src/io/config.c: schema-driven configuration from JSON and key=value overrides, strictly checked. */
#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/strbuf.h"
#include "core/fileio.h"
#include "plast/config.h"

#define KEY_MAX 256

static const char *const TYPE_NAMES[] = {"an integer", "a number", "true or false", "a string", "one of"};
_Static_assert(sizeof TYPE_NAMES / sizeof TYPE_NAMES[0] == PLAST_CFG_TYPE_COUNT, "a config type lacks a name");

static const plast_cfg_field *find_field(plast_cfg_schema s, const char *key) {
    for (int i = 0; i < s.n; i++)
        if (strcmp(s.fields[i].key, key) == 0) return &s.fields[i];
    return NULL;
}

/* 1 if some field lives under "prefix." */
static int is_section(plast_cfg_schema s, const char *prefix) {
    size_t n = strlen(prefix);
    for (int i = 0; i < s.n; i++)
        if (strncmp(s.fields[i].key, prefix, n) == 0 && s.fields[i].key[n] == '.') return 1;
    return 0;
}

static int edit_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64) return 99;
    int d[65][65];
    for (size_t i = 0; i <= la; i++) d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++) d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            int c = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < c) c = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < c) c = d[i][j - 1] + 1;
            d[i][j] = c;
        }
    return d[la][lb];
}

static plast_status unknown_key(plast_cfg_schema s, const char *origin, const char *key, plast_err *err) {
    const char *best = NULL;
    int best_d = 4;
    for (int i = 0; i < s.n; i++) {
        int d = edit_distance(key, s.fields[i].key);
        if (d < best_d) best_d = d, best = s.fields[i].key;
    }
    if (best)
        return plast_err_set(err, PLAST_ERR_CONFIG, "%s: unknown key '%s' (did you mean '%s'?)", origin, key, best);
    return plast_err_set(err, PLAST_ERR_CONFIG, "%s: unknown key '%s'", origin, key);
}

static int choice_ok(const char *choices, const char *v) {
    size_t n = strlen(v);
    for (const char *c = choices; c && *c;) {
        const char *bar = strchr(c, '|');
        size_t len = bar ? (size_t)(bar - c) : strlen(c);
        if (len == n && strncmp(c, v, n) == 0) return 1;
        c = bar ? bar + 1 : NULL;
    }
    return 0;
}

static plast_status check_range(const plast_cfg_field *f, double v, const char *origin, const char *text,
                                plast_err *err) {
    if (f->min <= f->max && (v < f->min || v > f->max))
        return plast_err_set(err, PLAST_ERR_CONFIG, "%s: key '%s' = %s is out of range [%g, %g]", origin, f->key, text,
                             f->min, f->max);
    return PLAST_OK;
}

static plast_status set_text_value(const plast_cfg_field *f, void *obj, const char *v, const char *origin,
                                   plast_err *err) {
    char *dst = (char *)obj + f->offset;
    if (f->type == PLAST_CFG_CHOICE && !choice_ok(f->choices, v))
        return plast_err_set(err, PLAST_ERR_CONFIG, "%s: key '%s' = \"%s\" is not one of %s", origin, f->key, v,
                             f->choices);
    if (strlen(v) >= f->size)
        return plast_err_set(err, PLAST_ERR_CONFIG, "%s: key '%s': value \"%.40s...\" is longer than %zu characters",
                             origin, f->key, v, f->size - 1);
    memcpy(dst, v, strlen(v) + 1);
    return PLAST_OK;
}

/* Sets field f from command-line text. */
static plast_status set_from_text(const plast_cfg_field *f, void *obj, const char *text, const char *origin,
                                  plast_err *err) {
    void *dst = (char *)obj + f->offset;
    char *end = NULL;
    errno = 0;
    switch (f->type) {
    case PLAST_CFG_INT: {
        long long v = strtoll(text, &end, 10);
        if (!*text || *end || errno)
            return plast_err_set(err, PLAST_ERR_CONFIG, "%s: key '%s' expects an integer, got \"%s\"", origin, f->key,
                                 text);
        plast_status s = check_range(f, (double)v, origin, text, err);
        if (s == PLAST_OK) *(int64_t *)dst = v;
        return s;
    }
    case PLAST_CFG_REAL: {
        double v = strtod(text, &end);
        if (!*text || *end || errno || !isfinite(v))
            return plast_err_set(err, PLAST_ERR_CONFIG, "%s: key '%s' expects a finite number, got \"%s\"", origin,
                                 f->key, text);
        plast_status s = check_range(f, v, origin, text, err);
        if (s == PLAST_OK) *(double *)dst = v;
        return s;
    }
    case PLAST_CFG_BOOL:
        if (strcmp(text, "true") == 0 || strcmp(text, "1") == 0) *(int *)dst = 1;
        else if (strcmp(text, "false") == 0 || strcmp(text, "0") == 0) *(int *)dst = 0;
        else
            return plast_err_set(err, PLAST_ERR_CONFIG, "%s: key '%s' expects true or false, got \"%s\"", origin,
                                 f->key, text);
        return PLAST_OK;
    default:
        return set_text_value(f, obj, text, origin, err);
    }
}

static const char *json_kind(const cJSON *v) {
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsBool(v)) return "a boolean";
    if (cJSON_IsNull(v)) return "null";
    if (cJSON_IsArray(v)) return "an array";
    if (cJSON_IsObject(v)) return "an object";
    return "an invalid value";
}

static plast_status wrong_type(const plast_cfg_field *f, const cJSON *v, const char *origin, plast_err *err) {
    if (cJSON_IsNumber(v) && !isfinite(v->valuedouble)) /* JSON has no infinity: a literal beyond a double's range */
        return plast_err_set(err, PLAST_ERR_CONFIG, "%s: key '%s' holds a number too large to represent (it reads as "
                             "%sinfinity); the largest is about 1.8e308", origin, f->key, v->valuedouble < 0 ? "-" : "");
    char shown[64] = "";
    if (cJSON_IsString(v)) snprintf(shown, sizeof shown, " \"%.40s\"", v->valuestring);
    if (cJSON_IsNumber(v)) snprintf(shown, sizeof shown, " %.17g", v->valuedouble);
    return plast_err_set(err, PLAST_ERR_CONFIG, "%s: key '%s' expects %s%s%s, got %s%s", origin, f->key,
                         TYPE_NAMES[f->type], f->type == PLAST_CFG_CHOICE ? " " : "",
                         f->type == PLAST_CFG_CHOICE ? f->choices : "", json_kind(v), shown);
}

/* Sets field f from a JSON value. */
static plast_status set_from_json(const plast_cfg_field *f, void *obj, const cJSON *v, const char *origin,
                                  plast_err *err) {
    void *dst = (char *)obj + f->offset;
    char text[64];
    switch (f->type) {
    case PLAST_CFG_INT: {
        double d = v->valuedouble;
        if (!cJSON_IsNumber(v) || d != floor(d) || fabs(d) > 9007199254740992.0) return wrong_type(f, v, origin, err);
        snprintf(text, sizeof text, "%.0f", d);
        plast_status s = check_range(f, d, origin, text, err);
        if (s == PLAST_OK) *(int64_t *)dst = (int64_t)d;
        return s;
    }
    case PLAST_CFG_REAL: {
        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) return wrong_type(f, v, origin, err);
        plast_format_double(v->valuedouble, text, sizeof text);
        plast_status s = check_range(f, v->valuedouble, origin, text, err);
        if (s == PLAST_OK) *(double *)dst = v->valuedouble;
        return s;
    }
    case PLAST_CFG_BOOL:
        if (!cJSON_IsBool(v)) return wrong_type(f, v, origin, err);
        *(int *)dst = cJSON_IsTrue(v);
        return PLAST_OK;
    default:
        if (!cJSON_IsString(v)) return wrong_type(f, v, origin, err);
        return set_text_value(f, obj, v->valuestring, origin, err);
    }
}

plast_status plast_cfg_defaults(plast_cfg_schema s, void *obj, plast_err *err) {
    for (int i = 0; i < s.n; i++) {
        const plast_cfg_field *f = &s.fields[i];
        if (!f->def || (int)f->type < 0 || f->type >= PLAST_CFG_TYPE_COUNT)
            return plast_err_set(err, PLAST_ERR_INVALID_ARG, "config schema: key '%s' has no default or a bad type",
                                 f->key);
        plast_status st = set_from_text(f, obj, f->def, "config schema default", err);
        if (st != PLAST_OK) return st;
    }
    return PLAST_OK;
}

/* Applies one JSON object whose keys extend `prefix`. */
static plast_status apply_object(plast_cfg_schema s, void *obj, const cJSON *o, const char *prefix,
                                 const char *origin, plast_err *err) {
    for (const cJSON *a = o->child; a; a = a->next)
        for (const cJSON *b = a->next; b; b = b->next)
            if (strcmp(a->string, b->string) == 0)
                return plast_err_set(err, PLAST_ERR_CONFIG, "%s: duplicate key '%s%s%s'", origin, prefix,
                                     *prefix ? "." : "", a->string);
    for (const cJSON *item = o->child; item; item = item->next) {
        char key[KEY_MAX];
        if (item->string[0] == '_') continue; /* "_comment" and the like: notes for readers */
        if (snprintf(key, sizeof key, "%s%s%s", prefix, *prefix ? "." : "", item->string) >= (int)sizeof key)
            return plast_err_set(err, PLAST_ERR_CONFIG, "%s: key '%.60s...' is too long", origin, key);
        const plast_cfg_field *f = find_field(s, key);
        plast_status st;
        if (f)
            st = set_from_json(f, obj, item, origin, err);
        else if (cJSON_IsObject(item) && is_section(s, key))
            st = apply_object(s, obj, item, key, origin, err);
        else
            st = unknown_key(s, origin, key, err);
        if (st != PLAST_OK) return st;
    }
    return PLAST_OK;
}

/* line and column of byte offset `at` in text */
static void line_col(const char *text, size_t at, int *line, int *col) {
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < at && text[i]; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

/* the deepest nesting of objects and arrays in JSON text, strings skipped */
static int json_depth(const char *t) {
    int depth = 0, deepest = 0, in_string = 0;
    for (; *t; t++) {
        if (in_string) {
            if (*t == '\\' && t[1]) t++;
            else if (*t == '"') in_string = 0;
        } else if (*t == '"') {
            in_string = 1;
        } else if (*t == '{' || *t == '[') {
            deepest = ++depth > deepest ? depth : deepest;
        } else if (*t == '}' || *t == ']') {
            depth--;
        }
    }
    return deepest;
}

/* the offset of an escaped NUL (\u0000) in JSON text, or -1: cJSON would cut the string there silently */
static long escaped_nul(const char *text) {
    for (const char *p = strstr(text, "u0000"); p; p = strstr(p + 1, "u0000")) {
        int slashes = 0;
        for (const char *q = p - 1; q >= text && *q == '\\'; q--) slashes++;
        if (slashes % 2 == 1) return (long)(p - 1 - text); /* \u0000, not \\u0000 */
    }
    return -1;
}

plast_status plast_cfg_apply_json(plast_cfg_schema s, void *obj, const char *text, const char *origin,
                                  plast_err *err) {
    const long nul = escaped_nul(text);
    if (nul >= 0) {
        int line, col;
        line_col(text, (size_t)nul, &line, &col);
        return plast_err_set(err, PLAST_ERR_CONFIG, "%s:%d:%d: a string holds a NUL character (\\u0000), which "
                             "configuration strings cannot", origin, line, col);
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
    if (!root) {
        int line, col;
        line_col(text, end ? (size_t)(end - text) : 0, &line, &col);
        if (json_depth(text) > CJSON_NESTING_LIMIT)
            return plast_err_set(err, PLAST_ERR_CONFIG, "%s:%d:%d: JSON nested deeper than %d levels", origin, line, col,
                                 CJSON_NESTING_LIMIT);
        return plast_err_set(err, PLAST_ERR_CONFIG, "%s:%d:%d: invalid JSON", origin, line, col);
    }
    plast_status st = cJSON_IsObject(root)
                          ? apply_object(s, obj, root, "", origin, err)
                          : plast_err_set(err, PLAST_ERR_CONFIG, "%s: the top level must be a JSON object", origin);
    cJSON_Delete(root);
    return st;
}

plast_status plast_cfg_apply_file(plast_cfg_schema s, void *obj, const char *path, plast_err *err) {
    unsigned char *text;
    size_t size;
    plast_status st = plast_file_read_all(path, &text, &size, err);
    if (st != PLAST_OK) return st;
    if (strlen((const char *)text) != size)
        st = plast_err_set(err, PLAST_ERR_CONFIG, "%s: contains a NUL byte, not a JSON text file", path);
    else
        st = plast_cfg_apply_json(s, obj, (const char *)text, path, err);
    free(text);
    return st;
}

/* the bytes a field's value occupies in the struct */
static size_t field_bytes(const plast_cfg_field *f) {
    switch (f->type) {
    case PLAST_CFG_INT: return sizeof(int64_t);
    case PLAST_CFG_REAL: return sizeof(double);
    case PLAST_CFG_BOOL: return sizeof(int);
    default: return f->size;
    }
}

plast_status plast_cfg_apply_set(plast_cfg_schema s, void *obj, const char *assignment, plast_err *err) {
    char origin[KEY_MAX + 16];
    snprintf(origin, sizeof origin, "--set %.200s", assignment ? assignment : "(null)");
    const char *eq = assignment ? strchr(assignment, '=') : NULL;
    if (!eq || eq == assignment)
        return plast_err_set(err, PLAST_ERR_CONFIG, "%s: expected key=value", origin);
    char key[KEY_MAX];
    size_t klen = (size_t)(eq - assignment);
    if (klen >= sizeof key) return plast_err_set(err, PLAST_ERR_CONFIG, "%s: key too long", origin);
    memcpy(key, assignment, klen);
    key[klen] = '\0';
    const plast_cfg_field *f = find_field(s, key);
    if (!f) return unknown_key(s, origin, key, err);
    unsigned char before[4096]; /* the old value (its first 4 KB), to tell a change */
    const size_t n = field_bytes(f) < sizeof before ? field_bytes(f) : sizeof before;
    memcpy(before, (const char *)obj + f->offset, n);
    plast_status st = set_from_text(f, obj, eq + 1, origin, err);
    if (st == PLAST_OK && s.on_change && memcmp(before, (const char *)obj + f->offset, n) != 0) s.on_change(obj, f);
    return st;
}

/* is the word w[0, n) one of names ("a|b c")? */
static int name_listed(const char *names, const char *w, size_t n) {
    for (const char *p = names; *p;) {
        p += strspn(p, "| ");
        const size_t m = strcspn(p, "| ");
        if (m == n && m > 0 && strncmp(p, w, n) == 0) return 1;
        p += m;
    }
    return 0;
}

int plast_cfg_field_scope(const plast_cfg_field *f, const char *names, const char *name) {
    const char *colon = f && f->help && names && name ? strchr(f->help, ':') : NULL;
    if (!colon) return -1;
    int includes = 0;
    for (const char *p = f->help; p < colon;) { /* each part: "name words" up to ',' or the colon */
        p += strspn(p, " ");
        const char *end = memchr(p, ',', (size_t)(colon - p));
        if (!end) end = colon;
        const size_t w = strcspn(p, " ,:");
        if (!name_listed(names, p, w)) return -1;
        includes |= strlen(name) == w && strncmp(p, name, w) == 0;
        p = end + (end < colon);
    }
    return includes;
}

static int field_differs(const plast_cfg_field *f, const void *a, const void *b) {
    const char *x = (const char *)a + f->offset, *y = (const char *)b + f->offset;
    const int text = f->type == PLAST_CFG_STRING || f->type == PLAST_CFG_CHOICE;
    return text ? strcmp(x, y) != 0 : memcmp(x, y, field_bytes(f)) != 0;
}

plast_status plast_cfg_check_scope(plast_cfg_schema s, const void *obj, const void *defaults, const char *names,
                                   const char *name, const char *chosen, plast_err *err) {
    if (!obj || !defaults || !names || !name || !chosen)
        return plast_err_set(err, PLAST_ERR_INVALID_ARG, "config: check_scope needs obj, defaults, names, name, chosen");
    for (int k = 0; k < s.n; k++) {
        const plast_cfg_field *f = &s.fields[k];
        if (plast_cfg_field_scope(f, names, name) != 0 || !field_differs(f, obj, defaults)) continue;
        char v[128], d[128];
        plast_cfg_format_value(s, obj, f->key, v, sizeof v);
        plast_cfg_format_value(s, defaults, f->key, d, sizeof d);
        return plast_err_set(err, PLAST_ERR_CONFIG,
                             "key '%s' is %s, but it applies to %.*s only and %s (remove it, or leave it at its "
                             "default %s)",
                             f->key, v, (int)(strchr(f->help, ':') - f->help), f->help, chosen, d);
    }
    return PLAST_OK;
}

void plast_cfg_reset_scope(plast_cfg_schema s, void *obj, const void *defaults, const char *names, const char *name) {
    if (!obj || !defaults) return;
    for (int k = 0; k < s.n; k++) {
        const plast_cfg_field *f = &s.fields[k];
        if (plast_cfg_field_scope(f, names, name) == 0)
            memcpy((char *)obj + f->offset, (const char *)defaults + f->offset, field_bytes(f));
    }
}

plast_status plast_cfg_load(plast_cfg_schema s, void *obj, const char *path, int n_set, const char *const *sets,
                            plast_err *err) {
    plast_status st = plast_cfg_defaults(s, obj, err);
    if (st == PLAST_OK && path) st = plast_cfg_apply_file(s, obj, path, err);
    for (int i = 0; i < n_set && st == PLAST_OK; i++) st = plast_cfg_apply_set(s, obj, sets[i], err);
    return st;
}

char *plast_cfg_format_value(plast_cfg_schema s, const void *obj, const char *key, char *buf, size_t cap) {
    const plast_cfg_field *f = find_field(s, key);
    if (!f || !buf || cap == 0) return NULL;
    const void *src = (const char *)obj + f->offset;
    switch (f->type) {
    case PLAST_CFG_INT: snprintf(buf, cap, "%lld", (long long)*(const int64_t *)src); break;
    case PLAST_CFG_REAL: plast_format_double(*(const double *)src, buf, cap); break;
    case PLAST_CFG_BOOL: snprintf(buf, cap, "%s", *(const int *)src ? "true" : "false"); break;
    default: snprintf(buf, cap, "%s", (const char *)src); break;
    }
    return buf;
}

long plast_cfg_to_json(plast_cfg_schema s, const void *obj, char *buf, size_t cap) {
    cJSON *root = cJSON_CreateObject();
    int ok = root != NULL;
    for (int i = 0; i < s.n && ok; i++) {
        const plast_cfg_field *f = &s.fields[i];
        char key[KEY_MAX];
        snprintf(key, sizeof key, "%s", f->key);
        cJSON *parent = root;
        char *part = key, *dot;
        while (ok && (dot = strchr(part, '.'))) { /* walk or create the sections */
            *dot = '\0';
            cJSON *sec = cJSON_GetObjectItemCaseSensitive(parent, part);
            if (!sec) ok = (sec = cJSON_AddObjectToObject(parent, part)) != NULL;
            parent = sec;
            part = dot + 1;
        }
        const void *src = (const char *)obj + f->offset;
        if (!ok) break;
        switch (f->type) {
        case PLAST_CFG_INT: ok = cJSON_AddNumberToObject(parent, part, (double)*(const int64_t *)src) != NULL; break;
        case PLAST_CFG_REAL: ok = cJSON_AddNumberToObject(parent, part, *(const double *)src) != NULL; break;
        case PLAST_CFG_BOOL: ok = cJSON_AddBoolToObject(parent, part, *(const int *)src) != NULL; break;
        default: ok = cJSON_AddStringToObject(parent, part, (const char *)src) != NULL; break;
        }
    }
    char *text = ok ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!text) return -1;
    long n = (long)strlen(text);
    if (buf && cap > 0) snprintf(buf, cap, "%s", text);
    cJSON_free(text);
    return n;
}

