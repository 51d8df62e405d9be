/* src/cli/cmd_info.c: `plast info [CONFIG] [--set k=v]...`: the build, and a model's parameters, state and memory
 * per trial, stated before anything large is allocated. */
#include <stdio.h>

#include "cli/cli.h"

static void print_bytes(const char *what, double bytes) {
    const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (bytes >= 1024 && u < 4) bytes /= 1024, u++;
    printf("  %-46s %8.2f %s\n", what, bytes, unit[u]);
}

int cmd_info(int argc, char **argv) {
    cli_args a;
    cli_parse_args(argc, argv, 1, "info", "threads", &a);
    char buf[512];
    printf("%s\n", plast_runtime_describe(buf, sizeof buf));
    if (!a.config && a.n_sets == 0) return 0;
    plast_experiment_cfg cfg;
    plast_err err;
    cli_load_experiment(&cfg, &a);
    /* the data fixes the model's sizes and the steps: the task, or an RL run's environment (its episode length) */
    plast_task *task = NULL;
    plast_env *env = NULL;
    if (plast_experiment_is_rl(&cfg) ? !(env = plast_experiment_env(&cfg, &err))
                                     : !(task = plast_experiment_task(&cfg, &err)))
        cli_fail(&err);
    plast_model *m = plast_model_init(&cfg.model, &err);
    if (!m) cli_fail(&err);
    const int64_t B = cfg.train.batch, T = task ? plast_task_steps(task) : plast_env_max_steps(env);
    plast_env_free(env);
    printf("\nmodel: %s\n\nparameters:\n", plast_model_describe(m));
    const plast_param_spec *specs = plast_model_param_specs(m);
    int64_t total = 0;
    for (int i = 0; i < plast_model_param_count(m); i++) {
        char sh[64];
        int64_t n = plast_shape_numel(specs[i].shape);
        total += n;
        printf("  %-28s %-16s %10lld\n", specs[i].name, plast_shape_format(specs[i].shape, sh, sizeof sh), (long long)n);
    }
    printf("  %-45s %10lld\n\nstate per sample:\n", "total", (long long)total);
    for (int k = 0; k < plast_model_state_count(m); k++) {
        char sh[64];
        plast_shape s = plast_model_state_shape(m, k);
        printf("  %-28s %-16s %10lld%s\n", plast_model_state_name(m, k), plast_shape_format(s, sh, sizeof sh),
               (long long)plast_shape_numel(s), plast_model_state_is_plastic(m, k) ? "  plastic" : "");
    }
    printf("  %-45s %10lld (%lld plastic)\n\nmemory per trial (batch %lld, %lld steps, %d-byte reals):\n", "total",
           (long long)plast_model_state_numel(m), (long long)plast_model_plastic_numel(m), (long long)B, (long long)T,
           (int)sizeof(plast_real));
    double state = (double)plast_model_state_bytes(m, B);
    print_bytes("parameters, gradients", 2.0 * (double)total * sizeof(plast_real));
    print_bytes("state of the batch (stepping, evaluation)", state);
    print_bytes("states kept for backpropagation, T + 1 copies", state * (double)(T + 1));
    /* the path train.engine picks, planned from shapes alone */
    plast_engine_kind path = PLAST_ENGINE_AUTO;
    size_t plan = 0;
    char what[96];
    if (plast_engine_plan(m, B, T, plast_engine_kind_parse(cfg.train.engine), 0, &path, &plan, &err) != PLAST_OK)
        printf("  %-45s %s\n", "the engine", err.msg);
    else if (plan > 0) {
        snprintf(what, sizeof what, "the %s path's buffers (what training holds)", plast_engine_kind_name(path));
        print_bytes(what, (double)plan);
    } else {
        printf("  %-45s %s\n", "the engine", "the tape path (below)");
    }

    /* the reference (tape) path: measured on one sample for one step, scaled by the batch and the steps; not when
     * the parameters alone would take a good part of the memory (the table above comes from shapes alone) */
    const double avail = plast_runtime_memory_available();
    if (avail > 0 && 4.0 * (double)total * sizeof(plast_real) > avail) {
        printf("  %-45s %s\n", "op-by-op tape, recording the whole trial", "not measured: the parameters alone need "
               "more than a quarter of the memory available");
        plast_model_free(m);
        plast_task_free(task);
        return 0;
    }
    plast_tape *t = plast_tape_init(&err);
    plast_params *p = plast_model_params_init(m, &err);
    if (!t || !p) cli_fail(&err);
    plast_trial tr;
    plast_trial_begin(&tr, m, t, p, 1);
    size_t before = plast_tape_bytes_used(t);
    plast_step_out o;
    plast_trial_step(&tr, plast_tape_full(t, PLAST_SHAPE2(1, plast_model_input(m)), 0.5), &o);
    if (plast_tape_status(t) != PLAST_OK) {
        plast_tape_take_error(t, &err);
        cli_fail(&err);
    }
    print_bytes("op-by-op tape, recording the whole trial", (double)(plast_tape_bytes_used(t) - before) * (double)B * (double)T);
    plast_tape_free(t);
    plast_params_free(p);
    plast_model_free(m);
    plast_task_free(task);
    return 0;
}
