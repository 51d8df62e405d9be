/* src/cli/cmd_config.c: `plast config [CONFIG] [--set k=v]...`: every configuration key with its value and
 * meaning, or the resolved configuration as JSON (--json). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

int cmd_config(int argc, char **argv) {
    cli_args a;
    cli_parse_args(argc, argv, 1, "config", "json", &a);
    const int json = a.json;
    plast_experiment_cfg cfg;
    cli_load_experiment(&cfg, &a);
    plast_cfg_schema s = plast_experiment_cfg_schema();
    if (json) {
        static char text[65536];
        if (plast_cfg_to_json(s, &cfg, text, sizeof text) < 0) cli_die("cannot format the configuration");
        printf("%s\n", text);
        return 0;
    }
    for (int i = 0; i < s.n; i++) {
        char v[128];
        plast_cfg_format_value(s, &cfg, s.fields[i].key, v, sizeof v);
        printf("%-24s %-12s %s\n", s.fields[i].key, v, s.fields[i].help);
    }
    return 0;
}
