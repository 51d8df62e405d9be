/* src/cli/cmd_info.c: `plast info`: what this build is. */
#include <stdio.h>

#include "cli/cli.h"

int cmd_info(int argc, char **argv) {
    cli_args a;
    cli_parse_args(argc, argv, 1, "info", "threads", &a);
    if (a.config) cli_usage_fail("info", "takes no configuration yet");
    char buf[512];
    printf("%s\n", plast_runtime_describe(buf, sizeof buf));
    return 0;
}
