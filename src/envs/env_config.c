/* src/envs/env_config.c: the env.* configuration schema (keys listed in env_cfg_fields.h). */
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include "envs/env_internal.h"

#define EF(key, type, member, def, lo, hi, choices, help)                                                          \
    {"env." key, PLAST_CFG_##type, offsetof(plast_env_cfg, member), sizeof(((plast_env_cfg *)0)->member), def, lo, \
     hi, choices, help},
static const plast_cfg_field FIELDS[] = {
#include "envs/env_cfg_fields.h"
};
#undef EF

plast_cfg_schema plast_env_cfg_schema(void) {
    plast_cfg_schema s = {FIELDS, (int)(sizeof FIELDS / sizeof FIELDS[0])};
    return s;
}

plast_status plast_env_cfg_default(plast_env_cfg *cfg, plast_err *err) {
    if (!cfg) return plast_err_set(err, PLAST_ERR_INVALID_ARG, "env: no configuration to fill");
    return plast_cfg_defaults(plast_env_cfg_schema(), cfg, err);
}

plast_status plast_env_cfg_fail(plast_err *err, const char *key, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    plast_status s = plast_err_config_key(err, "env", key, fmt, ap);
    va_end(ap);
    return s;
}

/* A key whose help starts with an environment's name and a colon ("ponglike: ...") belongs to that environment.
 * Set to anything but its default for another environment it would be silently ignored: that is an error naming the
 * key, its value and the environment it belongs to. */
plast_status plast_env_cfg_check_scope(const plast_env_cfg *cfg, plast_err *err) {
    const plast_cfg_schema sc = plast_env_cfg_schema();
    plast_env_cfg def;
    plast_status s = plast_env_cfg_default(&def, err);
    if (s != PLAST_OK) return s;
    const char *names = PLAST_ENV_NAMES;
    for (int k = 0; k < sc.n; k++) {
        const plast_cfg_field *f = &sc.fields[k];
        const char *colon = f->help ? strchr(f->help, ':') : NULL;
        const size_t n = colon ? (size_t)(colon - f->help) : 0;
        int known = 0; /* the prefix is one of the environments' names */
        for (const char *p = names; n > 0 && *p; p += strcspn(p, "|"), p += *p == '|')
            known |= strncmp(p, f->help, n) == 0 && (p[n] == '|' || p[n] == '\0');
        if (!known || (strlen(cfg->name) == n && strncmp(cfg->name, f->help, n) == 0)) continue;
        const char *a = (const char *)cfg + f->offset, *b = (const char *)&def + f->offset;
        const int text = f->type == PLAST_CFG_STRING || f->type == PLAST_CFG_CHOICE;
        if (text ? strcmp(a, b) == 0 : memcmp(a, b, f->size) == 0) continue;
        char v[128];
        plast_cfg_format_value(sc, cfg, f->key, v, sizeof v);
        return plast_env_cfg_fail(err, f->key + 4,
                                  "is %s, but it applies to the %.*s environment only and env.name is \"%s\" "
                                  "(remove it, or leave it at its default %s)",
                                  v, (int)n, f->help, cfg->name, f->def);
    }
    return PLAST_OK;
}
