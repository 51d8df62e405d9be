/* src/cli/cmd_dump.c: `plast dump CONFIG --out FILE [--params FILE] [--inputs FILE]`: one batch's complete debug
 * state as a safetensors file, so that anyone can check plast against their own implementation:
 *   param/<name>, grad/<name>   every parameter and d loss / d parameter
 *   x (B, T, I), y (B, T, O)    inputs and targets; outputs (B, T, O) the model's output at each step
 *   loss (1,)                   (1/T) sum_t mean((y_t - target_t)^2)
 *   plastic_states (B, T, S)    every plastic tensor after each step, flattened per sample in state order
 *   modulation (B, T), energy (B, T)
 * --params loads the parameters (param/<name>, or bare names; the Duan reference's spellings are accepted)
 * instead of initialising them; --inputs takes x and y from a file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

/* Reads parameters from a file written by plast, by the Duan reference (param/<name>) or bare names. */
static void load_params(const plast_model *m, plast_params *p, const char *path) {
    plast_err err;
    plast_st_reader *r = plast_st_reader_open(path, &err);
    if (!r) cli_fail(&err);
    int prefixed = 0;
    for (int i = 0; i < plast_st_reader_count(r); i++) prefixed |= strncmp(plast_st_reader_name(r, i), "param/", 6) == 0;
    if (plast_model_params_read(m, p, r, prefixed ? "param/" : "", &err) != PLAST_OK) cli_fail(&err);
    plast_st_reader_close(r);
}

/* x (B, T, I) and y (B, T, O) from a file; sets B and T. */
static void load_inputs(const char *path, int64_t I, int64_t O, int64_t *B, int64_t *T, plast_real **x,
                        plast_real **y) {
    plast_err err;
    plast_st_reader *r = plast_st_reader_open(path, &err);
    if (!r) cli_fail(&err);
    int ix = plast_st_reader_find(r, "x"), iy = plast_st_reader_find(r, "y");
    if (ix < 0 || iy < 0 || plast_st_reader_ndim(r, ix) != 3 || plast_st_reader_ndim(r, iy) != 3) {
        cli_die("%s: needs tensors x (B, T, I) and y (B, T, O)", path);
    }
    *B = plast_st_reader_dim(r, ix, 0);
    *T = plast_st_reader_dim(r, ix, 1);
    plast_shape sx = PLAST_SHAPE3(*B, *T, I), sy = PLAST_SHAPE3(*B, *T, O);
    *x = malloc(sizeof(plast_real) * (size_t)plast_shape_numel(sx));
    *y = malloc(sizeof(plast_real) * (size_t)plast_shape_numel(sy));
    if (!*x || !*y || plast_st_reader_read(r, "x", sx, *x, &err) != PLAST_OK ||
        plast_st_reader_read(r, "y", sy, *y, &err) != PLAST_OK)
        cli_fail(&err);
    plast_st_reader_close(r);
}

/* element (b, s) of a (B, T, n) buffer */
static plast_real *at(plast_real *buf, int64_t b, int64_t s, int64_t T, int64_t n) { return buf + (b * T + s) * n; }

int cmd_dump(int argc, char **argv) {
    cli_args a;
    cli_parse_args(argc, argv, 1, "dump", "out params inputs threads", &a);
    if (!a.out) cli_usage_fail("dump", "--out FILE is required");
    plast_experiment_cfg cfg;
    plast_err err;
    cli_load_experiment(&cfg, &a);
    plast_task *task = plast_experiment_task(&cfg, &err);
    if (!task) cli_fail(&err);
    plast_model *m = plast_model_init(&cfg.model, &err);
    if (!m) cli_fail(&err);
    const int64_t I = plast_model_input(m), O = plast_model_output(m);
    plast_params *p = plast_model_params_init(m, &err);
    if (!p) cli_fail(&err);
    plast_rng init_rng, data_rng;
    plast_rng_init(&init_rng, (uint64_t)cfg.train.seed, 0);
    plast_rng_init(&data_rng, (uint64_t)cfg.train.seed, 1);
    if (a.params)
        load_params(m, p, a.params);
    else
        plast_model_params_reset(m, p, &init_rng);

    int64_t B = cfg.train.batch, T = plast_task_steps(task);
    plast_real *x, *y;
    if (a.inputs) {
        load_inputs(a.inputs, I, O, &B, &T, &x, &y);
    } else {
        x = malloc(sizeof(plast_real) * (size_t)(B * T * I));
        y = malloc(sizeof(plast_real) * (size_t)(B * T * O));
        if (!x || !y) cli_die("out of memory");
        plast_rng_fill_uniform(&data_rng, x, (size_t)(B * T * I), -1, 1);
        plast_rng_fill_uniform(&data_rng, y, (size_t)(B * T * O), -1, 1);
    }

    const int64_t S = plast_model_plastic_numel(m);
    plast_real *outputs = malloc(sizeof(plast_real) * (size_t)(B * T * O));
    plast_real *states = malloc(sizeof(plast_real) * (size_t)(B * T * (S ? S : 1)));
    plast_real *mod = calloc((size_t)(B * T), sizeof(plast_real)), *energy = calloc((size_t)(B * T), sizeof(plast_real));
    plast_real *xt = malloc(sizeof(plast_real) * (size_t)(B * I)), *yt = malloc(sizeof(plast_real) * (size_t)(B * O));
    plast_tape *t = plast_tape_init(&err);
    if (!outputs || !states || !mod || !energy || !xt || !yt || !t) cli_die("out of memory");
    plast_trial tr;
    plast_trial_begin(&tr, m, t, p, B);
    tr.want_energy = 1;
    plast_node *loss = NULL;
    int has_mod = 0;
    for (int64_t s = 0; s < T; s++) {
        for (int64_t b = 0; b < B; b++) {
            memcpy(xt + b * I, at(x, b, s, T, I), sizeof(plast_real) * (size_t)I);
            memcpy(yt + b * O, at(y, b, s, T, O), sizeof(plast_real) * (size_t)O);
        }
        plast_step_out o;
        if (plast_trial_step(&tr, plast_tape_const(t, PLAST_SHAPE2(B, I), xt), &o) != PLAST_OK) break;
        int64_t off = 0;
        for (int k = 0; k < plast_model_state_count(m); k++) {
            if (!plast_model_state_is_plastic(m, k)) continue;
            int64_t n = plast_shape_numel(plast_model_state_shape(m, k));
            for (int64_t b = 0; b < B; b++)
                memcpy(at(states, b, s, T, S) + off, plast_node_data(tr.state[k]) + b * n, sizeof(plast_real) * (size_t)n);
            off += n;
        }
        for (int64_t b = 0; b < B; b++) {
            memcpy(at(outputs, b, s, T, O), plast_node_data(o.y) + b * O, sizeof(plast_real) * (size_t)O);
            if (o.modulation) mod[b * T + s] = plast_node_data(o.modulation)[b];
            if (o.energy) energy[b * T + s] = plast_node_data(o.energy)[b];
        }
        has_mod |= o.modulation != NULL;
        plast_node *l = plast_mse(t, o.y, plast_tape_const(t, PLAST_SHAPE2(B, O), yt));
        loss = loss ? plast_add(t, loss, l) : l;
    }
    loss = plast_scale(t, loss, 1.0 / (double)T);
    plast_params_zero_grad(p);
    if (plast_tape_backward(t, loss) != PLAST_OK) {
        plast_tape_take_error(t, &err);
        cli_fail(&err);
    }

    plast_st_writer *w = plast_st_writer_init(&err);
    plast_real lv = plast_node_item(loss);
    char json[16384];
    plast_cfg_to_json(plast_experiment_cfg_schema(), &cfg, json, sizeof json);
    plast_status st = w ? PLAST_OK : PLAST_ERR_NOMEM;
    if (st == PLAST_OK) st = plast_st_writer_set_meta(w, "model", plast_model_describe(m), &err);
    if (st == PLAST_OK) st = plast_st_writer_set_meta(w, "config", json, &err);
    if (st == PLAST_OK) st = plast_ckpt_add_params(w, "param/", p, &err);
    for (int i = 0; i < plast_params_count(p) && st == PLAST_OK; i++) {
        char name[128];
        snprintf(name, sizeof name, "grad/%s", plast_params_name(p, i));
        st = plast_st_writer_add_real(w, name, plast_params_shape(p, i), plast_params_grad(p, i), &err);
    }
    if (st == PLAST_OK) st = plast_st_writer_add_real(w, "x", PLAST_SHAPE3(B, T, I), x, &err);
    if (st == PLAST_OK) st = plast_st_writer_add_real(w, "y", PLAST_SHAPE3(B, T, O), y, &err);
    if (st == PLAST_OK) st = plast_st_writer_add_real(w, "outputs", PLAST_SHAPE3(B, T, O), outputs, &err);
    if (st == PLAST_OK) st = plast_st_writer_add_real(w, "loss", PLAST_SHAPE1(1), &lv, &err);
    if (st == PLAST_OK && S > 0) st = plast_st_writer_add_real(w, "plastic_states", PLAST_SHAPE3(B, T, S), states, &err);
    if (st == PLAST_OK && has_mod) st = plast_st_writer_add_real(w, "modulation", PLAST_SHAPE2(B, T), mod, &err);
    if (st == PLAST_OK) st = plast_st_writer_add_real(w, "energy", PLAST_SHAPE2(B, T), energy, &err);
    if (st == PLAST_OK) st = plast_st_writer_save(w, a.out, &err);
    if (st != PLAST_OK) cli_fail(&err);
    printf("%s: %s, batch %lld, %lld steps, loss %.9g\n", a.out, plast_model_describe(m), (long long)B, (long long)T,
           (double)lv);
    plast_st_writer_free(w);
    plast_tape_free(t);
    free(x), free(y), free(xt), free(yt), free(outputs), free(states), free(mod), free(energy);
    plast_params_free(p);
    plast_model_free(m);
    plast_task_free(task);
    return 0;
}
