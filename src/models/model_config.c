/* src/models/model_config.c: the model.* configuration schema (keys listed in model_cfg_fields.h). */
#include <stddef.h>

#include "models/model_internal.h"

#define MF(key, type, member, def, lo, hi, choices, help)                                                         \
    {"model." key, PLAST_CFG_##type, offsetof(plast_model_cfg, member), sizeof(((plast_model_cfg *)0)->member), \
     def, lo, hi, choices, help},
static const plast_cfg_field FIELDS[] = {
#include "models/model_cfg_fields.h"
};
#undef MF

plast_cfg_schema plast_model_cfg_schema(void) {
    plast_cfg_schema s = {FIELDS, (int)(sizeof FIELDS / sizeof FIELDS[0])};
    return s;
}

plast_status plast_model_cfg_default(plast_model_cfg *cfg, plast_err *err) {
    return plast_cfg_defaults(plast_model_cfg_schema(), cfg, err);
}
