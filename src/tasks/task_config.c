/* src/tasks/task_config.c: the task.* configuration schema (keys listed in task_cfg_fields.h). */
#include <stddef.h>

#include "tasks/task_internal.h"

#define TF(key, type, member, def, lo, hi, choices, help)                                                          \
    {"task." key, PLAST_CFG_##type, offsetof(plast_task_cfg, member), sizeof(((plast_task_cfg *)0)->member), def, \
     lo, hi, choices, help},
static const plast_cfg_field FIELDS[] = {
#include "tasks/task_cfg_fields.h"
};
#undef TF

plast_cfg_schema plast_task_cfg_schema(void) {
    plast_cfg_schema s = {FIELDS, (int)(sizeof FIELDS / sizeof FIELDS[0]), NULL};
    return s;
}
