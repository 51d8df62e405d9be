/* src/envs/env_config.c: the env.* configuration schema (keys listed in env_cfg_fields.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "envs/env_internal.h"

#define EF(key, type, member, def, lo, hi, choices, help)                                                          \
    {"env." key, PLAST_CFG_##type, offsetof(plast_env_cfg, member), sizeof(((plast_env_cfg *)0)->member), def, lo, \
     hi, choices, help},
static const plast_cfg_field FIELDS[] = {
#include "envs/env_cfg_fields.h"
};
#undef EF

static void on_change(void *obj, const plast_cfg_field *f) {
    if (strcmp(f->key, "env.name") == 0) plast_env_cfg_keep_name(obj);
}

plast_cfg_schema plast_env_cfg_schema(void) {
    plast_cfg_schema s = {FIELDS, (int)(sizeof FIELDS / sizeof FIELDS[0]), on_change};
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

void plast_env_cfg_keep_name(plast_env_cfg *cfg) {
    plast_env_cfg def;
    if (!cfg || plast_env_cfg_default(&def, NULL) != PLAST_OK) return;
    plast_cfg_reset_scope(plast_env_cfg_schema(), cfg, &def, PLAST_ENV_NAMES, cfg->name);
}

/* A key whose help starts with an environment's name and a colon ("ponglike: ...") belongs to that environment.
 * Set to anything but its default for another environment it would be silently ignored: that is an error naming the
 * key, its value and the environment it belongs to. */
plast_status plast_env_cfg_check_scope(const plast_env_cfg *cfg, plast_err *err) {
    plast_env_cfg def;
    plast_status s = plast_env_cfg_default(&def, err);
    if (s != PLAST_OK) return s;
    char chosen[96];
    snprintf(chosen, sizeof chosen, "env.name is \"%.64s\"", cfg->name);
    return plast_cfg_check_scope(plast_env_cfg_schema(), cfg, &def, PLAST_ENV_NAMES, cfg->name, chosen, err);
}
