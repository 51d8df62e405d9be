/* src/models/model_config.c: the model.* configuration schema (keys listed in model_cfg_fields.h). */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "models/model_internal.h"

#define MF(key, type, member, def, lo, hi, choices, help)                                                         \
    {"model." key, PLAST_CFG_##type, offsetof(plast_model_cfg, member), sizeof(((plast_model_cfg *)0)->member), \
     def, lo, hi, choices, help},
static const plast_cfg_field FIELDS[] = {
#include "models/model_cfg_fields.h"
};
#undef MF

static void on_change(void *obj, const plast_cfg_field *f) {
    if (strcmp(f->key, "model.family") == 0) plast_model_cfg_keep_family(obj);
}

plast_cfg_schema plast_model_cfg_schema(void) {
    plast_cfg_schema s = {FIELDS, (int)(sizeof FIELDS / sizeof FIELDS[0]), on_change};
    return s;
}

plast_status plast_model_cfg_default(plast_model_cfg *cfg, plast_err *err) {
    return plast_cfg_defaults(plast_model_cfg_schema(), cfg, err);
}

void plast_model_cfg_keep_family(plast_model_cfg *cfg) {
    plast_model_cfg def;
    if (!cfg || plast_model_cfg_default(&def, NULL) != PLAST_OK) return;
    plast_cfg_reset_scope(plast_model_cfg_schema(), cfg, &def, PLAST_FAMILY_NAMES, cfg->family);
}

plast_status model_cfg_check_scope(const plast_model_cfg *cfg, plast_err *err) {
    plast_model_cfg def;
    plast_status s = plast_model_cfg_default(&def, err);
    if (s != PLAST_OK) return s;
    char chosen[96];
    snprintf(chosen, sizeof chosen, "model.family is \"%.64s\"", cfg->family);
    return plast_cfg_check_scope(plast_model_cfg_schema(), cfg, &def, PLAST_FAMILY_NAMES, cfg->family, chosen, err);
}
