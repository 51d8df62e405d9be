/* src/cli/main.c: the plast command-line tool; dispatches to one function per subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
    const char *args;
    const char *summary;
} command;

static int cmd_version(int argc, char **argv) {
    (void)argc, (void)argv;
#ifdef PLAST_HAVE_MPI
    printf("plast %s, built with MPI (plast sweep spreads over the ranks of mpirun or srun)\n", plast_version());
#else
    printf("plast %s, built without MPI\n", plast_version());
#endif
    return 0;
}

static int cmd_help(int argc, char **argv);

static const command COMMANDS[] = {
    {"train", cmd_train, "CONFIG [--set key=value]... [--out DIR] [--restart] [--quiet] [--threads N]",
     "meta-train a model on a task (or an agent in an environment): validation, best checkpoint, test, plots; "
     "resumes an interrupted run; data-parallel under mpirun"},
    {"eval", cmd_eval, "RUN_DIR [--set key=value]... [--threads N] [--curve]",
     "test a trained run on its fixed test set, or with --set on other task settings; --curve: a familiarity "
     "run's generalisation over the repeat distance"},
    {"sweep", cmd_sweep, "CONFIG [--set key=value]... [--out DIR] [--restart] [--quiet] [--threads N] [--jobs N] [--collect]",
     "every combination of sweep.vary times sweep.seeds seeds, then the table of means and 95% intervals; "
     "--jobs N runs N at a time on their own cores; under mpirun the runs are spread over the ranks"},
    {"reproduce", cmd_reproduce, "NAME [--quick] [--set key=value]... [--out DIR] [--restart] [--quiet] [--threads N] [--jobs N] [--collect] | --list",
     "one of the papers' tables from plast's own runs (a sweep per column), the paper's value beside each cell"},
    {"plot", cmd_plot, "[LABEL=]RUN_DIR... --out PNG [--column NAME] [--file CSV]",
     "one chart of several runs' curves (a column of their metrics.csv, or of --file, against the step); runs with "
     "the same label are drawn as their mean with a band"},
    {"demo", cmd_demo, "[CONFIG] [--set key=value]... [--quiet] [--threads N]",
     "meta-train a gradient-plasticity layer on in-context association (a small example of the core)"},
    {"dump", cmd_dump, "CONFIG [--set key=value]... --out FILE [--params FILE] [--inputs FILE]",
     "write one batch's parameters, inputs, outputs, plastic states, loss and gradients (safetensors)"},
    {"info", cmd_info, "[CONFIG] [--set key=value]...",
     "describe the build; with a configuration, the model's parameters, state and memory per trial"},
    {"config", cmd_config, "[CONFIG] [--set key=value]... [--json]",
     "list every configuration key with its value and meaning, or print the resolved JSON"},
    {"bench", cmd_bench, "[--case NAME] [--steps N] [--json] [--list] [--threads N]",
     "time training steps of every model family at paper sizes on this machine"},
    {"version", cmd_version, "", "print the version"},
    {"help", cmd_help, "[COMMAND]", "show this help, or one command's"},
};
#define N_COMMANDS ((int)(sizeof COMMANDS / sizeof COMMANDS[0]))

static int cmd_help(int argc, char **argv) {
    if (argc > 1) {
        for (int i = 0; i < N_COMMANDS; i++)
            if (strcmp(argv[1], COMMANDS[i].name) == 0) {
                printf("usage: plast %s %s\n  %s\n", COMMANDS[i].name, COMMANDS[i].args, COMMANDS[i].summary);
                return 0;
            }
        fprintf(stderr, "plast help: unknown command '%s'\n", argv[1]);
        return 2;
    }
    printf("plast %s: recurrent networks with synaptic plasticity, meta-trained by backpropagation through time\n\n"
           "usage: plast COMMAND [ARGS]\n\ncommands:\n",
           plast_version());
    for (int i = 0; i < N_COMMANDS; i++) printf("  %-9s %s\n", COMMANDS[i].name, COMMANDS[i].summary);
    printf("\nConfigurations are JSON files; any key can be overridden with --set key=value.\n");
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        cmd_help(1, argv);
        return 2;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) return cmd_help(1, argv);
    if (strcmp(name, "--version") == 0) return cmd_version(1, argv);
    for (int i = 0; i < N_COMMANDS; i++)
        if (strcmp(name, COMMANDS[i].name) == 0) {
            cli_mpi_init(&argc, &argv);
            if (cli_mpi_size() > 1 && strcmp(name, "sweep") != 0 && strcmp(name, "train") != 0 && strcmp(name, "reproduce") != 0)
                cli_die("%s under MPI (%d ranks): only plast train (data-parallel) and plast sweep (runs spread "
                        "over ranks) use several ranks; run %s as one process", name, cli_mpi_size(), name);
            const int rc = COMMANDS[i].run(argc - 1, argv + 1);
            cli_mpi_finalize();
            return rc;
        }
    fprintf(stderr, "plast: unknown command '%s' (see 'plast help')\n", name);
    return 2;
}
