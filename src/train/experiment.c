/* src/train/experiment.c: the configuration of a whole run: the model's keys (model_cfg_fields.h) and the run's
 * own, in one constant table. */
#include <stddef.h>
#include <string.h>

#include "core/err.h"
#include "plast/experiment.h"

#define E(key, type, member, size, def, lo, hi, choices, help)                                                    \
    {key, PLAST_CFG_##type, offsetof(plast_experiment_cfg, member), size, def, lo, hi, choices, help},
#define MF(key, type, member, def, lo, hi, choices, help)                                                         \
    E("model." key, type, model.member, sizeof(((plast_model_cfg *)0)->member), def, lo, hi, choices, help)

static const plast_cfg_field FIELDS[] = {
#include "models/model_cfg_fields.h"
    E("task.name", STRING, task.name, sizeof(((plast_task_cfg *)0)->name), "random", 0, -1, NULL,
      "the task: random (inputs and targets U[-1,1], mse over every step)")
    E("task.steps", INT, task.steps, 0, "5", 1, 1 << 24, NULL, "time steps per trial T")
    E("train.batch", INT, train.batch, 0, "64", 1, 1 << 20, NULL, "trials per training step")
    E("train.seed", INT, train.seed, 0, "0", 0, 4e18, NULL, "seed of every random stream of the run")
};
#undef MF
#undef E

plast_cfg_schema plast_experiment_cfg_schema(void) {
    plast_cfg_schema s = {FIELDS, (int)(sizeof FIELDS / sizeof FIELDS[0])};
    return s;
}

plast_status plast_experiment_cfg_load(plast_experiment_cfg *cfg, const char *path, int n_set,
                                       const char *const *sets, plast_err *err) {
    plast_status s = plast_cfg_load(plast_experiment_cfg_schema(), cfg, path, n_set, sets, err);
    if (s != PLAST_OK) return s;
    if (strcmp(cfg->task.name, "random") != 0)
        return plast_err_set(err, PLAST_ERR_CONFIG, "%s: key 'task.name': unknown task \"%s\" (random)",
                             path ? path : "configuration", cfg->task.name);
    return PLAST_OK;
}
