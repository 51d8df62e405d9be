/* tests/test_err_null.c: the error contract of every public function that takes a `plast_err *err`.
 *
 * The headers promise that err may be NULL. Each case below calls one such function on input that must fail, once
 * with err == NULL and once with a real plast_err: both calls must fail with the same status (a constructor returns
 * NULL), and the second must fill a message. A function that can fail only when memory runs out is called with
 * err == NULL on good input instead (NO_FAILING_INPUT). The test reads include/plast/ *.h and fails for any
 * function taking a plast_err that has no case here, so a new public function cannot skip the contract. */
#include <dirent.h>
#include <unistd.h>

#include "core/err.h"
#include "plast.h"
#include "test.h"

static char dir[256];           /* scratch directory */
static char other_path[300];    /* a valid safetensors file that is not a checkpoint: one tensor "x" (2) */
static plast_model *model;      /* a small STPN model */
static plast_params *params;    /* its parameters */

static plast_model *make_model(const char *family, int64_t hidden) {
    plast_model_cfg c;
    plast_model_cfg_default(&c, NULL);
    snprintf(c.family, sizeof c.family, "%s", family);
    c.input = 3;
    c.output = 2;
    c.hidden = hidden;
    return plast_model_init(&c, NULL);
}

/* ---- the cases: each returns the status of one failing call made with `err` ------------------------------------ */

/* A constructor's result as a status: OK (freed) on success; on failure err's status, or PLAST_ERR_STATE when err is
 * NULL (the caller cannot know more than "failed") */
#define PTR_STATUS(p, free_fn) ((p) ? (free_fn(p), PLAST_OK) : plast_err_status(err, PLAST_ERR_STATE))

static plast_status c_ckpt_add_params(plast_err *err) {
    plast_st_writer *w = plast_st_writer_init(NULL);
    plast_ckpt_add_params(w, "p/", params, NULL);
    plast_status s = plast_ckpt_add_params(w, "p/", params, err); /* every name a second time */
    plast_st_writer_free(w);
    return s;
}
static plast_status c_ckpt_add_optim(plast_err *err) {
    plast_optim_config oc = plast_optim_config_default(PLAST_OPTIM_ADAM);
    plast_optim *o = plast_optim_init(&oc, params, NULL);
    plast_st_writer *w = plast_st_writer_init(NULL);
    plast_ckpt_add_optim(w, o, params, NULL);
    plast_status s = plast_ckpt_add_optim(w, o, params, err);
    plast_st_writer_free(w);
    plast_optim_free(o);
    return s;
}
static plast_status with_other(plast_status (*fn)(const plast_st_reader *, plast_err *), plast_err *err) {
    plast_st_reader *r = plast_st_reader_open(other_path, NULL);
    plast_status s = fn(r, err);
    plast_st_reader_close(r);
    return s;
}
static plast_status read_params(const plast_st_reader *r, plast_err *err) {
    return plast_ckpt_read_params(r, "param/", params, 1, err);
}
static plast_status c_ckpt_read_params(plast_err *err) { return with_other(read_params, err); }
static plast_status read_optim(const plast_st_reader *r, plast_err *err) {
    plast_optim_config oc = plast_optim_config_default(PLAST_OPTIM_ADAM);
    plast_optim *o = plast_optim_init(&oc, params, NULL);
    plast_status s = plast_ckpt_read_optim(r, o, params, err);
    plast_optim_free(o);
    return s;
}
static plast_status c_ckpt_read_optim(plast_err *err) { return with_other(read_optim, err); }
static plast_status read_ckpt(const plast_st_reader *r, plast_err *err) { return plast_ckpt_read(r, params, NULL, err); }
static plast_status c_ckpt_read(plast_err *err) { return with_other(read_ckpt, err); }
static plast_status c_ckpt_save(plast_err *err) {
    return plast_ckpt_save("/nonexistent-dir/x.safetensors", params, NULL, 0, NULL, NULL, err);
}
static plast_status c_ckpt_load(plast_err *err) { return plast_ckpt_load(other_path, params, NULL, err); }

typedef struct small_cfg {
    int64_t n;
} small_cfg;
static const plast_cfg_field SMALL_FIELDS[] = {
    {"n", PLAST_CFG_INT, offsetof(small_cfg, n), sizeof(int64_t), "1", 0, 10, NULL, "a number"}};
static const plast_cfg_field BROKEN_FIELDS[] = {
    {"n", PLAST_CFG_INT, offsetof(small_cfg, n), sizeof(int64_t), "eleven", 0, 10, NULL, "a broken default"}};
static const plast_cfg_field SCOPED_FIELDS[] = {
    {"n", PLAST_CFG_INT, offsetof(small_cfg, n), sizeof(int64_t), "1", 0, 10, NULL, "b: a number of b's only"}};
static const plast_cfg_schema SMALL = {SMALL_FIELDS, 1, NULL}, BROKEN = {BROKEN_FIELDS, 1, NULL},
                              SCOPED = {SCOPED_FIELDS, 1, NULL};

static plast_status c_cfg_defaults(plast_err *err) {
    small_cfg c;
    return plast_cfg_defaults(BROKEN, &c, err);
}
static plast_status c_cfg_apply_json(plast_err *err) {
    small_cfg c = {1};
    return plast_cfg_apply_json(SMALL, &c, "{\"n\": ", "test", err);
}
static plast_status c_cfg_apply_file(plast_err *err) {
    small_cfg c = {1};
    return plast_cfg_apply_file(SMALL, &c, "/nonexistent.json", err);
}
static plast_status c_cfg_apply_set(plast_err *err) {
    small_cfg c = {1};
    return plast_cfg_apply_set(SMALL, &c, "m=1", err);
}
static plast_status c_cfg_check_scope(plast_err *err) { /* a key of b set for a */
    small_cfg c = {2}, def = {1};
    return plast_cfg_check_scope(SCOPED, &c, &def, "a|b", "a", "kind is a", err);
}
static plast_status c_cfg_load(plast_err *err) {
    small_cfg c;
    const char *sets[1] = {"n=99"};
    return plast_cfg_load(SMALL, &c, NULL, 1, sets, err);
}
static plast_status c_engine_init(plast_err *err) { /* the low-rank path exists only for Duan's models */
    plast_engine *e = plast_engine_init(model, 4, 5, PLAST_ENGINE_LOWRANK, 0, err);
    return PTR_STATUS(e, plast_engine_free);
}
static plast_status c_engine_forward(plast_err *err) {
    plast_engine *e = plast_engine_init(model, 2, 3, PLAST_ENGINE_TAPE, 0, NULL);
    plast_real x[3 * 2 * 3] = {0}, y[3 * 2 * 2], energy[3 * 2];
    plast_status s = plast_engine_forward(e, params, x, y, NULL, energy, 0, err); /* energy not requested */
    plast_engine_free(e);
    return s;
}
static plast_status c_engine_backward(plast_err *err) {
    plast_engine *e = plast_engine_init(model, 2, 3, PLAST_ENGINE_TAPE, 0, NULL);
    plast_real dy[3 * 2 * 2] = {0};
    plast_status s = plast_engine_backward(e, params, dy, err); /* no forward before */
    plast_engine_free(e);
    return s;
}
static plast_status c_experiment_cfg_load(plast_err *err) {
    plast_experiment_cfg c;
    return plast_experiment_cfg_load(&c, "/nonexistent.json", 0, NULL, err);
}
static plast_status c_experiment_task(plast_err *err) {
    plast_experiment_cfg c;
    plast_experiment_cfg_load(&c, NULL, 0, NULL, NULL);
    snprintf(c.task.name, sizeof c.task.name, "no-such-task");
    plast_task *t = plast_experiment_task(&c, err);
    return PTR_STATUS(t, plast_task_free);
}
static plast_status c_model_init(plast_err *err) {
    plast_model_cfg c;
    plast_model_cfg_default(&c, NULL);
    snprintf(c.family, sizeof c.family, "no-such-family");
    plast_model *m = plast_model_init(&c, err);
    return PTR_STATUS(m, plast_model_free);
}
static plast_status c_model_params_init(plast_err *err) {
    plast_params *p = plast_model_params_init(NULL, err);
    return PTR_STATUS(p, plast_params_free);
}
static plast_status c_model_params_read(plast_err *err) {
    plast_st_reader *r = plast_st_reader_open(other_path, NULL);
    plast_status s = plast_model_params_read(model, params, r, "param/", err);
    plast_st_reader_close(r);
    return s;
}
static plast_status c_state_init(plast_err *err) {
    plast_state *st = plast_state_init(model, 0, err);
    return PTR_STATUS(st, plast_state_free);
}
static plast_status c_model_step(plast_err *err) { /* parameters of another model */
    plast_model *m2 = make_model("rnn", 4);
    plast_params *p2 = plast_model_params_init(m2, NULL);
    plast_state *st = plast_state_init(model, 2, NULL);
    plast_tape *t = plast_tape_init(NULL);
    plast_real x[2 * 3] = {0}, y[2 * 2];
    plast_status s = plast_model_step(model, p2, st, x, y, NULL, NULL, t, err);
    plast_tape_free(t);
    plast_state_free(st);
    plast_params_free(p2);
    plast_model_free(m2);
    return s;
}
static plast_status c_optim_init(plast_err *err) {
    plast_optim *o = plast_optim_init(NULL, params, err);
    return PTR_STATUS(o, plast_optim_free);
}
static plast_status c_optim_step(plast_err *err) {
    plast_optim_config oc = plast_optim_config_default(PLAST_OPTIM_SGD);
    plast_optim *o = plast_optim_init(&oc, params, NULL);
    plast_status s = plast_optim_step(o, params, -1.0, err);
    plast_optim_free(o);
    return s;
}
static plast_status c_params_init(plast_err *err) {
    plast_param_spec specs[2] = {{"w", PLAST_SHAPE1(2)}, {"w", PLAST_SHAPE1(3)}};
    plast_params *p = plast_params_init(2, specs, err);
    return PTR_STATUS(p, plast_params_free);
}
static plast_status c_params_copy_values(plast_err *err) {
    plast_param_spec spec = {"w", PLAST_SHAPE1(2)};
    plast_params *p = plast_params_init(1, &spec, NULL);
    plast_status s = plast_params_copy_values(p, params, err);
    plast_params_free(p);
    return s;
}
static plast_status c_st_reader_open(plast_err *err) {
    plast_st_reader *r = plast_st_reader_open("/nonexistent.safetensors", err);
    return PTR_STATUS(r, plast_st_reader_close);
}
static plast_status c_st_reader_read(plast_err *err) {
    plast_st_reader *r = plast_st_reader_open(other_path, NULL);
    plast_real v[2];
    plast_status s = plast_st_reader_read(r, "y", PLAST_SHAPE1(2), v, err);
    plast_st_reader_close(r);
    return s;
}
static plast_status c_st_reader_read_any(plast_err *err) {
    plast_st_reader *r = plast_st_reader_open(other_path, NULL);
    plast_real v[2];
    plast_shape sh;
    plast_status s = plast_st_reader_read_any(r, "x", &sh, v, 1, err); /* room for 1, the tensor has 2 */
    plast_st_reader_close(r);
    return s;
}
static plast_status c_st_writer_add(plast_err *err) {
    plast_st_writer *w = plast_st_writer_init(NULL);
    int64_t dims[1] = {-2};
    float v[1] = {0};
    plast_status s = plast_st_writer_add(w, "x", PLAST_DTYPE_F32, 1, dims, v, err);
    plast_st_writer_free(w);
    return s;
}
static plast_status c_st_writer_add_real(plast_err *err) {
    plast_st_writer *w = plast_st_writer_init(NULL);
    plast_real v[1] = {0};
    plast_status s = plast_st_writer_add_real(w, "", PLAST_SHAPE1(1), v, err);
    plast_st_writer_free(w);
    return s;
}
static plast_status c_st_writer_set_meta(plast_err *err) {
    plast_st_writer *w = plast_st_writer_init(NULL);
    plast_status s = plast_st_writer_set_meta(w, "k", NULL, err);
    plast_st_writer_free(w);
    return s;
}
static plast_status c_st_writer_save(plast_err *err) {
    plast_st_writer *w = plast_st_writer_init(NULL);
    plast_status s = plast_st_writer_save(w, "/nonexistent-dir/x.safetensors", err);
    plast_st_writer_free(w);
    return s;
}
static plast_status c_tape_take_error(plast_err *err) {
    plast_tape *t = plast_tape_init(NULL);
    plast_tape_fail(t, PLAST_ERR_SHAPE, "planted");
    plast_status s = plast_tape_take_error(t, err);
    plast_tape_free(t);
    return s;
}
static plast_status c_task_init(plast_err *err) {
    plast_task_cfg c;
    plast_cfg_defaults(plast_task_cfg_schema(), &c, NULL);
    snprintf(c.name, sizeof c.name, "no-such-task");
    plast_task *t = plast_task_init(&c, err);
    return PTR_STATUS(t, plast_task_free);
}
static plast_task *default_task(void) {
    plast_task_cfg c;
    plast_cfg_defaults(plast_task_cfg_schema(), &c, NULL);
    return plast_task_init(&c, NULL);
}
static plast_status c_batch_init(plast_err *err) {
    plast_task *t = default_task();
    plast_batch *b = plast_batch_init(t, 0, err);
    plast_status s = PTR_STATUS(b, plast_batch_free);
    plast_task_free(t);
    return s;
}
static plast_status c_task_sample(plast_err *err) { /* a batch made for another task */
    plast_task_cfg c;
    plast_cfg_defaults(plast_task_cfg_schema(), &c, NULL);
    snprintf(c.name, sizeof c.name, "copy");
    plast_task *t = default_task(), *t2 = plast_task_init(&c, NULL);
    plast_batch *b = plast_batch_init(t2, 2, NULL);
    plast_rng rng;
    plast_rng_init(&rng, 1, 1);
    plast_status s = plast_task_sample(t, &rng, 0, b, err);
    plast_batch_free(b);
    plast_task_free(t2);
    plast_task_free(t);
    return s;
}
static plast_status c_evaluate(plast_err *err) { /* an engine whose steps do not fit the task */
    plast_task *t = default_task();
    plast_engine *e = plast_engine_init(model, 2, 1000003, PLAST_ENGINE_TAPE, 0, NULL);
    plast_rng rng;
    plast_rng_init(&rng, 1, 1);
    double loss, metric;
    plast_status s = plast_evaluate(e, model, params, t, 1, &rng, 0, &loss, &metric, NULL, err);
    plast_engine_free(e);
    plast_task_free(t);
    return s;
}
static void small_run_cfg(plast_experiment_cfg *c) {
    const char *sets[] = {"model.family=rnn", "model.hidden=4", "task.name=copy", "train.batch=2", "train.steps=1"};
    plast_experiment_cfg_load(c, NULL, 5, sets, NULL);
}
static plast_status comm_sum_stub(double *buf, int64_t n, void *user) {
    (void)buf, (void)n, (void)user;
    return PLAST_OK;
}
static plast_status c_params_allreduce_grads(plast_err *err) { /* no scratch buffer */
    const plast_comm comm = {0, 2, NULL, comm_sum_stub, NULL, NULL};
    return plast_params_allreduce_grads(params, &comm, 1, 1.0, NULL, 0, NULL, err);
}
static plast_status c_run_open_comm(plast_err *err) { /* a communicator without its operations */
    plast_experiment_cfg c;
    small_run_cfg(&c);
    char d[300];
    snprintf(d, sizeof d, "%s/run_open_comm", dir);
    const plast_comm comm = {0, 2, NULL, NULL, NULL, NULL};
    plast_run *r = plast_run_open_comm(&c, d, 1, &comm, err);
    return PTR_STATUS(r, plast_run_free);
}
static plast_status c_run_open(plast_err *err) { /* the case: an engine the model cannot use */
    plast_experiment_cfg c;
    small_run_cfg(&c);
    snprintf(c.train.engine, sizeof c.train.engine, "lowrank");
    char d[300];
    snprintf(d, sizeof d, "%s/run_open", dir);
    plast_run *r = plast_run_open(&c, d, 1, err);
    return PTR_STATUS(r, plast_run_free);
}
static plast_status c_run_load(plast_err *err) {
    plast_run *r = plast_run_load("/nonexistent-run", 0, NULL, err);
    return PTR_STATUS(r, plast_run_free);
}
static plast_run *loaded_run(void) { /* a run directory that was opened but never trained */
    plast_experiment_cfg c;
    small_run_cfg(&c);
    char d[300];
    snprintf(d, sizeof d, "%s/run_new", dir);
    plast_run_free(plast_run_open(&c, d, 1, NULL));
    return plast_run_load(d, 0, NULL, NULL);
}
static plast_status c_run_train(plast_err *err) { /* opened for evaluation only */
    plast_run *r = loaded_run();
    plast_status s = plast_run_train(r, NULL, NULL, err);
    plast_run_free(r);
    return s;
}
static plast_status c_run_test(plast_err *err) { /* the best checkpoint does not exist yet */
    plast_run *r = loaded_run();
    plast_test_result res;
    plast_status s = plast_run_test(r, 0, &res, err);
    plast_run_free(r);
    return s;
}

static plast_env *small_maze(void) {
    plast_env_cfg c;
    plast_env_cfg_default(&c, NULL);
    c.size = 7, c.episode_length = 3;
    return plast_env_init(&c, 2, 1, NULL);
}
/* an agent for small_maze: 17 inputs, 4 actions and a value */
static plast_model *small_maze_agent(void) {
    plast_model_cfg mc;
    plast_model_cfg_default(&mc, NULL);
    mc.input = 17, mc.output = 5, mc.hidden = 3;
    return plast_model_init(&mc, NULL);
}
static plast_status c_env_cfg_default(plast_err *err) { return plast_env_cfg_default(NULL, err); }
static plast_status c_env_init(plast_err *err) { /* an even side */
    plast_env_cfg c;
    plast_env_cfg_default(&c, NULL);
    c.size = 8;
    plast_env *e = plast_env_init(&c, 2, 1, err);
    return PTR_STATUS(e, plast_env_free);
}
static plast_status c_env_reset(plast_err *err) { /* no observation buffer */
    plast_env *e = small_maze();
    plast_status s = plast_env_reset(e, NULL, err);
    plast_env_free(e);
    return s;
}
static plast_status c_env_step(plast_err *err) { /* an action out of range */
    plast_env *e = small_maze();
    plast_real obs[34], r[2];
    const int32_t a[2] = {0, 9};
    plast_env_reset(e, obs, NULL);
    plast_status s = plast_env_step(e, (plast_env_actions){a, NULL}, obs, r, NULL, NULL, err);
    plast_env_free(e);
    return s;
}
static plast_status c_env_state_save(plast_err *err) { /* a buffer too small */
    plast_env *e = small_maze();
    char buf[8];
    plast_status s = plast_env_state_save(e, buf, sizeof buf, err);
    plast_env_free(e);
    return s;
}
static plast_status c_env_state_load(plast_err *err) { /* bytes that are not a state */
    plast_env *e = small_maze();
    const size_t n = plast_env_state_bytes(e);
    char *buf = calloc(1, n);
    plast_status s = plast_env_state_load(e, buf, n, err);
    free(buf);
    plast_env_free(e);
    return s;
}
static plast_status c_a2c_loss(plast_err *err) { /* an output too small for the logits and the value */
    plast_a2c_cfg c = plast_a2c_cfg_default();
    plast_real y[4] = {0}, dy[4], r[1] = {0};
    int32_t a[1] = {0};
    return plast_a2c_loss(&c, 1, 1, 4, 4, y, a, r, dy, NULL, err);
}
static plast_status c_a2c_init(plast_err *err) { /* the small model (input 3) does not fit the maze (17) */
    plast_a2c_cfg c = plast_a2c_cfg_default();
    plast_env *e = small_maze();
    plast_a2c *a = plast_a2c_init(&c, model, e, PLAST_ENGINE_AUTO, 0, err);
    plast_status s = PTR_STATUS(a, plast_a2c_free);
    plast_env_free(e);
    return s;
}
static plast_status c_a2c_iterate(plast_err *err) { /* no learner */
    plast_a2c_stats st;
    return plast_a2c_iterate(NULL, params, NULL, 1e-3, 0, 0, 0, 0, &st, err);
}

static plast_status c_experiment_env(plast_err *err) { /* the model's input disagrees with the maze's 17 */
    plast_experiment_cfg c;
    plast_experiment_cfg_load(&c, NULL, 0, NULL, NULL);
    snprintf(c.rl.algorithm, sizeof c.rl.algorithm, "a2c");
    c.model.input = 5;
    c.train.batch = 2;
    plast_env *e = plast_experiment_env(&c, err);
    return PTR_STATUS(e, plast_env_free);
}
static plast_status c_env_init_range(plast_err *err) { /* a negative first copy */
    plast_env_cfg c;
    plast_env_cfg_default(&c, NULL);
    plast_env *e = plast_env_init_range(&c, -1, 2, 1, err);
    return PTR_STATUS(e, plast_env_free);
}
static plast_status c_env_state_save_global(plast_err *err) { /* a global batch smaller than the copies */
    plast_env *e = small_maze();
    char buf[64];
    plast_status s = plast_env_state_save_global(e, 0, buf, sizeof buf, err);
    plast_env_free(e);
    return s;
}
static plast_status c_env_state_load_global(plast_err *err) { /* bytes that are not a state */
    plast_env *e = small_maze();
    const size_t n = plast_env_state_bytes_global(e, 5);
    char *buf = calloc(1, n);
    plast_status s = plast_env_state_load_global(e, 5, buf, n, err);
    free(buf);
    plast_env_free(e);
    return s;
}
static plast_status comm_bcast_stub(void *buf, int64_t bytes, int root, void *user) {
    (void)buf, (void)bytes, (void)root, (void)user;
    return PLAST_OK;
}
static plast_status comm_barrier_stub(void *user) {
    (void)user;
    return PLAST_OK;
}
static plast_status c_ppo_set_comm(plast_err *err) { /* process 1 of 2 holding the global batch's first copies */
    plast_ppo_cfg c = plast_ppo_cfg_default();
    c.steps = 4, c.minibatch = 4;
    plast_env *e = small_maze();
    plast_model *m = small_maze_agent();
    plast_ppo *a = plast_ppo_init(&c, m, e, PLAST_ENGINE_AUTO, NULL);
    const plast_comm comm = {1, 2, NULL, comm_sum_stub, comm_bcast_stub, comm_barrier_stub};
    plast_status s = plast_ppo_set_comm(a, &comm, err);
    plast_ppo_free(a);
    plast_model_free(m);
    plast_env_free(e);
    return s;
}
static plast_status c_run_sync(plast_err *err) { return plast_run_sync(NULL, err); } /* no run */
/* sums over two processes that hold the same as this one (*user = 1), or that never see the other (*user = 0) */
static plast_status comm_sum_twin(double *buf, int64_t n, void *user) {
    for (int64_t i = 0; *(int *)user && i < n; i++) buf[i] *= 2;
    return PLAST_OK;
}
static plast_status c_run_check_replicas(plast_err *err) { /* the other process's sums go missing after opening */
    plast_experiment_cfg c;
    small_run_cfg(&c);
    char d[300];
    snprintf(d, sizeof d, "%s/run_check_replicas", dir);
    int twin = 1;
    const plast_comm comm = {0, 2, &twin, comm_sum_twin, comm_bcast_stub, comm_barrier_stub};
    plast_run *r = plast_run_open_comm(&c, d, 1, &comm, NULL);
    twin = 0;
    plast_status s = r ? plast_run_check_replicas(r, err) : PLAST_ERR_STATE;
    plast_run_free(r);
    return s;
}
static plast_status c_a2c_set_comm(plast_err *err) { /* the reference's copy-0 baseline over 2 processes */
    plast_a2c_cfg c = plast_a2c_cfg_default();
    plast_env *e = small_maze();
    plast_model *m = small_maze_agent();
    plast_a2c *a = plast_a2c_init(&c, m, e, PLAST_ENGINE_AUTO, 0, NULL);
    const plast_comm comm = {0, 2, NULL, comm_sum_stub, NULL, NULL};
    plast_status s = plast_a2c_set_comm(a, &comm, err);
    plast_a2c_free(a);
    plast_model_free(m);
    plast_env_free(e);
    return s;
}
static plast_status c_env_reset_ended(plast_err *err) { /* no observation buffer */
    plast_env *e = small_maze();
    plast_status s = plast_env_reset_ended(e, NULL, NULL, err);
    plast_env_free(e);
    return s;
}
static plast_status c_engine_set_initial_state(plast_err *err) { /* a state of another batch */
    plast_engine *e = plast_engine_init(model, 2, 3, PLAST_ENGINE_AUTO, 0, NULL);
    plast_state *st = plast_state_init(model, 3, NULL);
    plast_status s = plast_engine_set_initial_state(e, st, err);
    plast_state_free(st);
    plast_engine_free(e);
    return s;
}
static plast_status c_engine_advance(plast_err *err) { /* an engine of T = 3, not 1 */
    plast_engine *e = plast_engine_init(model, 2, 3, PLAST_ENGINE_AUTO, 0, NULL);
    plast_state *st = plast_state_init(model, 2, NULL);
    plast_params *p = plast_model_params_init(model, NULL);
    plast_real x[64] = {0}, y[64];
    plast_status s = plast_engine_advance(e, p, st, x, y, NULL, err);
    plast_params_free(p);
    plast_state_free(st);
    plast_engine_free(e);
    return s;
}
static plast_status c_engine_plan(plast_err *err) { /* the lowrank path does not serve STPN */
    size_t bytes;
    return plast_engine_plan(model, 2, 3, PLAST_ENGINE_LOWRANK, 0, NULL, &bytes, err);
}
static plast_status c_ppo_loss(plast_err *err) { /* an output too small for means, deviations and value */
    plast_ppo_cfg c = plast_ppo_cfg_default();
    plast_real y[2] = {0}, dy[2], a[1] = {0};
    double z[1] = {0}, one[1] = {1};
    plast_ppo_batch b = {1, 1, 0, a, z, one, z, z, z, z, NULL, NULL, NULL, 0};
    return plast_ppo_loss(&c, 0.2, &b, 2, y, dy, NULL, err);
}
static plast_status c_ppo_init(plast_err *err) { /* the maze has discrete actions */
    plast_ppo_cfg c = plast_ppo_cfg_default();
    plast_env *e = small_maze();
    plast_ppo *a = plast_ppo_init(&c, model, e, PLAST_ENGINE_AUTO, err);
    plast_status s = PTR_STATUS(a, plast_ppo_free);
    plast_env_free(e);
    return s;
}
static plast_status c_ppo_iterate(plast_err *err) { /* no learner */
    plast_ppo_stats st;
    return plast_ppo_iterate(NULL, params, NULL, 1e-3, 0, 0, 0, &st, err);
}
static plast_status c_ppo_evaluate(plast_err *err) { /* no learner */
    double r;
    return plast_ppo_evaluate(NULL, params, NULL, 0, 0, 1, 0, &r, NULL, err);
}
static plast_status c_ppo_state_save(plast_err *err) { return plast_ppo_state_save(NULL, NULL, 0, err); }
static plast_status c_ppo_state_load(plast_err *err) { return plast_ppo_state_load(NULL, NULL, 0, err); }
static plast_status c_engine_step(plast_err *err) { /* a step past the trial's end */
    plast_engine *e = plast_engine_init(model, 2, 3, PLAST_ENGINE_AUTO, 0, NULL);
    plast_real x[6] = {0}, y[4];
    plast_status s = plast_engine_step(e, params, 3, x, y, NULL, NULL, err);
    plast_engine_free(e);
    return s;
}

typedef struct err_case {
    const char *fn;
    plast_status (*call)(plast_err *err); /* NULL: in NO_FAILING_INPUT */
} err_case;

#define CASE(name) {"plast_" #name, c_##name}
static const err_case CASES[] = {
    CASE(ckpt_add_params), CASE(ckpt_add_optim), CASE(ckpt_read_params), CASE(ckpt_read_optim), CASE(ckpt_save),
    CASE(ckpt_read), CASE(ckpt_load), CASE(cfg_defaults), CASE(cfg_apply_json), CASE(cfg_apply_file),
    CASE(cfg_apply_set), CASE(cfg_check_scope), CASE(cfg_load), CASE(engine_init), CASE(engine_forward), CASE(engine_backward),
    CASE(experiment_cfg_load), CASE(experiment_task), CASE(model_init), CASE(model_params_init),
    CASE(model_params_read), CASE(state_init), CASE(model_step), CASE(optim_init), CASE(optim_step),
    CASE(params_init), CASE(params_copy_values), CASE(st_reader_open), CASE(st_reader_read), CASE(st_reader_read_any),
    CASE(st_writer_add), CASE(st_writer_add_real), CASE(st_writer_set_meta), CASE(st_writer_save),
    CASE(tape_take_error), CASE(task_init), CASE(batch_init), CASE(task_sample), CASE(evaluate), CASE(run_open),
    CASE(run_load), CASE(run_train), CASE(run_test), CASE(env_cfg_default), CASE(env_init), CASE(env_reset),
    CASE(env_step), CASE(env_state_save), CASE(env_state_load), CASE(a2c_loss), CASE(a2c_init), CASE(a2c_iterate),
    CASE(experiment_env), CASE(engine_step), CASE(env_reset_ended), CASE(engine_set_initial_state), CASE(engine_advance), CASE(engine_plan), CASE(ppo_loss),
    CASE(ppo_init), CASE(ppo_iterate), CASE(ppo_evaluate), CASE(ppo_state_save), CASE(ppo_state_load),
    CASE(run_open_comm), CASE(env_init_range), CASE(a2c_set_comm), CASE(params_allreduce_grads),
    CASE(env_state_save_global), CASE(env_state_load_global), CASE(ppo_set_comm), CASE(run_sync), CASE(run_check_replicas),
};
/* Functions that fail only when memory runs out: called with err == NULL on good input. */
static const char *const NO_FAILING_INPUT[] = {"plast_err_clear", "plast_st_writer_init", "plast_tape_init",
                                               "plast_model_cfg_default", "plast_ckpt_writer_init", "plast_runtime_load_blas"};

static void run_no_failing_input(void) {
    plast_err_clear(NULL);
    CHECK(plast_runtime_load_blas(NULL) == PLAST_OK, "plast_runtime_load_blas(NULL)");
    plast_st_writer *w = plast_st_writer_init(NULL);
    CHECK(w != NULL, "plast_st_writer_init(NULL)");
    plast_st_writer_free(w);
    plast_tape *t = plast_tape_init(NULL);
    CHECK(t != NULL, "plast_tape_init(NULL)");
    plast_tape_free(t);
    plast_model_cfg c;
    CHECK(plast_model_cfg_default(&c, NULL) == PLAST_OK, "plast_model_cfg_default(NULL)");
    w = plast_ckpt_writer_init(NULL);
    CHECK(w != NULL, "plast_ckpt_writer_init(NULL)");
    plast_st_writer_free(w);
}

static int covered(const char *fn) {
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++)
        if (strcmp(CASES[i].fn, fn) == 0) return 1;
    for (size_t i = 0; i < sizeof NO_FAILING_INPUT / sizeof NO_FAILING_INPUT[0]; i++)
        if (strcmp(NO_FAILING_INPUT[i], fn) == 0) return 1;
    return 0;
}

/* Every "PLAST_API ... name(... plast_err *err ...);" of the public headers must have a case. Returns how many
 * such functions were found. */
static int check_headers_covered(const char *include_dir) {
    char path[1024];
    snprintf(path, sizeof path, "%.512s/plast", include_dir);
    DIR *d = opendir(path);
    CHECK(d != NULL, "cannot open %s", path);
    if (!d) return 0;
    int found = 0;
    struct dirent *ent;
    while ((ent = readdir(d))) {
        size_t n = strlen(ent->d_name);
        if (n < 3 || strcmp(ent->d_name + n - 2, ".h") != 0) continue;
        snprintf(path, sizeof path, "%.512s/plast/%.256s", include_dir, ent->d_name);
        FILE *f = fopen(path, "rb");
        if (!f) continue;
        static char text[1 << 18];
        size_t len = fread(text, 1, sizeof text - 1, f);
        fclose(f);
        text[len] = '\0';
        for (char *p = strstr(text, "PLAST_API"); p; p = strstr(p + 1, "PLAST_API")) {
            char *end = strchr(p, ';');
            if (!end) break;
            char *paren = memchr(p, '(', (size_t)(end - p));
            char *errp = strstr(p, "plast_err *err");
            if (!paren || !errp || errp > end) continue;
            char *q = paren;
            while (q > p && (q[-1] == '_' || (q[-1] >= 'a' && q[-1] <= 'z') || (q[-1] >= '0' && q[-1] <= '9'))) q--;
            char name[128];
            snprintf(name, sizeof name, "%.*s", (int)(paren - q), q);
            found++;
            CHECK(covered(name), "%s (in %s) takes a plast_err but has no case in test_err_null.c", name,
                  ent->d_name);
        }
    }
    closedir(d);
    return found;
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/plast_err_null_XXXXXX");
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(other_path, sizeof other_path, "%s/other.safetensors", dir);
    plast_st_writer *w = plast_st_writer_init(NULL);
    plast_real x[2] = {1, 2};
    plast_st_writer_add_real(w, "x", PLAST_SHAPE1(2), x, NULL);
    CHECK(plast_st_writer_save(w, other_path, NULL) == PLAST_OK, "writing %s", other_path);
    plast_st_writer_free(w);
    model = make_model("stpn", 4);
    params = plast_model_params_init(model, NULL);
    CHECK(model && params, "a small stpn model");
    if (!model || !params) return test_finish("test_err_null");

    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        const err_case *c = &CASES[i];
        plast_status without = c->call(NULL);
        plast_err e;
        plast_err_clear(&e);
        plast_status with = c->call(&e);
        CHECK(with != PLAST_OK && e.msg[0], "%s: with an err, the failing input gave status %s and message \"%s\"",
              c->fn, plast_status_name(with), e.msg);
        CHECK(without != PLAST_OK, "%s(err = NULL) reported success on failing input", c->fn);
        /* constructors cannot say which status they failed with when err is NULL; the others must agree */
        int ctor = without == PLAST_ERR_STATE && with != PLAST_ERR_STATE;
        CHECK(ctor || without == with, "%s: status %s with err == NULL, %s with an err", c->fn,
              plast_status_name(without), plast_status_name(with));
    }
    run_no_failing_input();

    char inc[512];
    const char *fx = getenv("PLAST_FIXTURES");
    snprintf(inc, sizeof inc, "%s/../../include", fx ? fx : "tests/fixtures");
    int n = check_headers_covered(inc);
    CHECK(n >= 40, "found only %d public functions taking a plast_err in %s", n, inc);
    printf("%d public functions take a plast_err; %zu failing cases, %zu without a failing input\n", n,
           sizeof CASES / sizeof CASES[0], sizeof NO_FAILING_INPUT / sizeof NO_FAILING_INPUT[0]);

    plast_params_free(params);
    plast_model_free(model);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return test_finish("test_err_null");
}
