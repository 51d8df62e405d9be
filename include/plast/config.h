/* plast/config.h: typed configuration from JSON files and `key=value` overrides.
 *
 * A configuration is a plain C struct described by a table of fields (a schema): dotted key, type, offset into the
 * struct, default, allowed range or choices, and a one-line help text. JSON files nest the dotted keys
 * ({"optim": {"lr": 1e-3}} sets "optim.lr"); keys starting with '_' ("_comment") are notes for readers and are
 * skipped. Loading is strict: an unknown key (with a "did you mean" hint), a value of the wrong type, a value out
 * of range or a duplicate key is an error naming the file (or the --set argument), the key and the value.
 */
#ifndef PLAST_CONFIG_H
#define PLAST_CONFIG_H

#include "plast/base.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum plast_cfg_type {
    PLAST_CFG_INT,    /* int64_t; JSON integer */
    PLAST_CFG_REAL,   /* double; JSON number */
    PLAST_CFG_BOOL,   /* int (0/1); JSON true/false */
    PLAST_CFG_STRING, /* char[size]; JSON string */
    PLAST_CFG_CHOICE, /* char[size]; JSON string, one of `choices` */
    PLAST_CFG_TYPE_COUNT
} plast_cfg_type;

typedef struct plast_cfg_field {
    const char *key;     /* dotted path, e.g. "optim.lr" */
    plast_cfg_type type;
    size_t offset;       /* offsetof(struct, member) */
    size_t size;         /* STRING/CHOICE: capacity of the char array, terminator included */
    const char *def;     /* default, written as on the command line ("1e-3", "true", "lstm") */
    double min, max;     /* INT/REAL: inclusive range, not checked when min > max */
    const char *choices; /* CHOICE: allowed values separated by '|', e.g. "rnn|lstm" */
    const char *help;
} plast_cfg_field;

typedef struct plast_cfg_schema {
    const plast_cfg_field *fields;
    int n;
    /* NULL, or called by plast_cfg_apply_set after an override changed field f's value, so that the schema can
     * restate what depends on it (a change of model.family returns other families' keys to their defaults) */
    void (*on_change)(void *obj, const plast_cfg_field *f);
} plast_cfg_schema;

/* Fills every field of obj with its default. Fails only on a broken schema. */
PLAST_API plast_status plast_cfg_defaults(plast_cfg_schema s, void *obj, plast_err *err);
/* Applies the keys present in JSON text (others keep their values); `origin` names the source in messages. */
PLAST_API plast_status plast_cfg_apply_json(plast_cfg_schema s, void *obj, const char *text, const char *origin,
                                            plast_err *err);
/* Reads a JSON file and applies it. */
PLAST_API plast_status plast_cfg_apply_file(plast_cfg_schema s, void *obj, const char *path, plast_err *err);
/* Applies one "key=value" override; the value is parsed according to the key's type. A changed value is passed to
 * the schema's on_change. */
PLAST_API plast_status plast_cfg_apply_set(plast_cfg_schema s, void *obj, const char *assignment, plast_err *err);
/* Defaults, then the file (if path != NULL), then each override in order. */
PLAST_API plast_status plast_cfg_load(plast_cfg_schema s, void *obj, const char *path, int n_set,
                                      const char *const *sets, plast_err *err);

/* Whether field f belongs to some of a set of names: its help text begins with them and a colon ("stpn: ...",
 * "diffplast, modplast retroactive: ..."), the first word of each comma-separated part one of `names` (separated by
 * '|' or spaces). Returns 1 when that scope includes `name`, 0 when it does not, -1 when the help names no scope. */
PLAST_API int plast_cfg_field_scope(const plast_cfg_field *f, const char *names, const char *name);
/* A field of another scope than `name` (plast_cfg_field_scope 0) whose value in obj differs from its value in
 * `defaults` would be silently ignored: the first such field is a PLAST_ERR_CONFIG error naming the key, its value,
 * the names it applies to and `chosen` (the setting that picks `name`, e.g. "model.family is \"lstm\""). */
PLAST_API plast_status plast_cfg_check_scope(plast_cfg_schema s, const void *obj, const void *defaults,
                                             const char *names, const char *name, const char *chosen, plast_err *err);
/* Copies each field of another scope than `name` from `defaults` into obj. */
PLAST_API void plast_cfg_reset_scope(plast_cfg_schema s, void *obj, const void *defaults, const char *names,
                                     const char *name);

/* The resolved configuration as nested, pretty-printed JSON into buf (capacity cap). Returns the length the full
 * text needs (excluding the terminator), as snprintf does, or -1 on failure. */
PLAST_API long plast_cfg_to_json(plast_cfg_schema s, const void *obj, char *buf, size_t cap);
/* The value of one field as text ("0.001", "true", "lstm") into buf; returns buf, or NULL for an unknown key. */
PLAST_API char *plast_cfg_format_value(plast_cfg_schema s, const void *obj, const char *key, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
