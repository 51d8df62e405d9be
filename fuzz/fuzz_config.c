/* fuzz/fuzz_config.c: the configuration loader (src/io/config.c with the experiment schema): the first byte picks a
 * config file (even) or a --set assignment (odd, the rest as the "key=value" string), read as `plast config` reads
 * them, and the result written back as JSON. */
#include "fuzz_util.h"
#include "plast/config.h"
#include "plast/experiment.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
    if (n < 1) return 0;
    plast_experiment_cfg *cfg = calloc(1, plast_experiment_cfg_bytes());
    if (!cfg) return 0;
    plast_err err;
    plast_cfg_schema s = plast_experiment_cfg_schema();
    if (plast_cfg_defaults(s, cfg, &err) == PLAST_OK) {
        if (data[0] % 2 == 0) {
            if (plast_experiment_cfg_load(cfg, fuzz_file("in.json", data + 1, n - 1), 0, NULL, &err) == PLAST_OK) {
                char buf[4096];
                (void)plast_cfg_to_json(s, cfg, buf, sizeof buf);
            }
        } else {
            char *set = malloc(n);
            if (set) {
                memcpy(set, data + 1, n - 1);
                set[n - 1] = 0;
                (void)plast_cfg_apply_set(s, cfg, set, &err);
                char buf[4096];
                (void)plast_cfg_to_json(s, cfg, buf, sizeof buf);
            }
            free(set);
        }
    }
    free(cfg);
    return 0;
}
