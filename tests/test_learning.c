/* tests/test_learning.c: learning is shown, not assumed. A short training run of every task with a model the
 * papers use for it, through the whole workflow (plast_run: validation, best checkpoint, fixed test set); each
 * must end well beyond the task's chance level on its test set: a loss below `loss_frac` x chance, and for
 * tasks scored by accuracy a metric above chance + `acc_margin` x (1 - chance). The configurations are small so
 * the suite stays within CI's budget; configs/ holds the papers' full-size experiments.
 *
 * Usage: test_learning [NAME...] runs the named cases only. */
#include <time.h>
#include <unistd.h>

#include "plast.h"
#include "test.h"

#define MAX_SETS 24

typedef struct learn_case {
    const char *name;
    const char *sets[MAX_SETS];
    double loss_frac;  /* test loss must fall below loss_frac x chance loss */
    double acc_margin; /* accuracy tasks: metric above chance + margin (1 - chance); 0 to skip */
} learn_case;

#define TRAIN(steps, lr) "train.steps=" #steps, "train.lr=" #lr, "train.val_every=" #steps, "train.val_batches=4", \
                         "train.test_batches=8", "train.ckpt_every=100000"

static const learn_case CASES[] = {
    {"copy n=5 m=5, duan LSTM hebbian",
     {"task.name=copy", "task.length=5", "task.delay=5", "model.family=duan", "model.hidden=32", TRAIN(800, 1e-2)},
     0.3, 0},
    {"cue-reward, duan LSTM gradient rule",
     {"task.name=cuereward", "model.family=duan", "model.rule=gradient", "model.hidden=32", "train.batch=32",
      TRAIN(700, 1e-2)},
     0.4, 0},
    {"regression linear K=10, duan LSTM hebbian",
     {"task.name=regression", "model.family=duan", "model.hidden=32", "train.batch=32", TRAIN(1000, 1e-2)}, 0.5, 0},
    {"one-shot fashion-mnist 3-way, duan LSTM hebbian conv4",
     {"task.name=oneshot", "task.items=3", "model.family=duan", "model.hidden=32", "model.encoder=conv4",
      "model.conv_channels=16", "train.batch=16", "train.weight_decay=5e-4", TRAIN(800, 3e-3),
      "train.test_batches=32"},
     0.85, 0.3},
    {"associative retrieval 2 pairs, STPNr",
     {"task.name=art", "task.items=2", "model.family=stpn", "model.hidden=32", "train.batch=64",
      "train.optimizer=adam", "train.clip=0", TRAIN(1500, 1e-2)},
     0.6, 0.4},
    {"familiarity detection R=3, HebbFF",
     {"task.name=cfd", "task.dim=25", "task.length=200", "model.family=hebbff", "model.hidden=25", "train.batch=8",
      "train.optimizer=adam", "train.clip=0", TRAIN(300, 1e-2)},
     0.6, 0.4},
    {"pattern completion, BOHP",
     {"task.name=completion", "model.family=bohp", "model.hidden=8", "model.trace_decay=0.5", "train.batch=32",
      TRAIN(400, 1e-2)},
     0.5, 0.4},
    {"one-shot binary patterns, BOHP",
     {"task.name=oneshot_binary", "model.family=bohp", "model.hidden=2", "model.trace_decay=0.98", "train.batch=32",
      TRAIN(400, 1e-2)},
     0.5, 0.6},
    {"reversal, BOHP",
     {"task.name=reversal", "model.family=bohp", "model.hidden=2", "model.trace_decay=0.98", "train.batch=32",
      TRAIN(600, 1e-2)},
     0.7, 0.4},
    {"pattern memorisation 20 bits, differentiable plasticity",
     {"task.name=pattern", "task.dim=20", "model.family=diffplast", "model.hidden=21", "model.direct_input=true",
      "model.readout=none", "train.batch=16", "train.optimizer=adam", TRAIN(400, 3e-3)},
     0.5, 0.5},
};
#define N_CASES ((int)(sizeof CASES / sizeof CASES[0]))

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void run_case(const learn_case *c, const char *dir) {
    const double t0 = now();
    int n = 0;
    while (n < MAX_SETS && c->sets[n]) n++;
    plast_experiment_cfg cfg;
    plast_err err;
    CHECK(plast_experiment_cfg_load(&cfg, NULL, n, c->sets, &err) == PLAST_OK, "%s: %s", c->name, err.msg);
    plast_run *r = plast_run_open(&cfg, dir, 1, &err);
    CHECK(r != NULL, "%s: %s", c->name, err.msg);
    if (!r) return;
    plast_test_result res;
    CHECK(plast_run_train(r, NULL, NULL, &err) == PLAST_OK, "%s: training: %s", c->name, err.msg);
    CHECK(plast_run_test(r, 0, &res, &err) == PLAST_OK, "%s: test: %s", c->name, err.msg);
    const int acc = plast_metric_kind_higher_better(plast_task_metric_kind(plast_run_task(r)));
    printf("%-56s test loss %.4f (chance %.4f), %s %.4f (chance %.4f), %.0f s\n", c->name, res.loss, res.chance_loss,
           res.metric_name, res.metric, res.chance_metric, now() - t0);
    CHECK(res.loss < c->loss_frac * res.chance_loss, "%s: test loss %.4f is not below %.2f x chance %.4f", c->name,
          res.loss, c->loss_frac, res.chance_loss);
    if (acc && c->acc_margin > 0) {
        double need = res.chance_metric + c->acc_margin * (1 - res.chance_metric);
        CHECK(res.metric > need, "%s: test %s %.4f is not above %.4f (chance %.4f)", c->name, res.metric_name,
              res.metric, need, res.chance_metric);
    }
    plast_run_free(r);
}

int main(int argc, char **argv) {
    char dir[128];
    snprintf(dir, sizeof dir, "/tmp/plast_test_learning_%d", (int)getpid());
    for (int i = 0; i < N_CASES; i++) {
        int wanted = argc < 2;
        for (int a = 1; a < argc; a++) wanted |= strstr(CASES[i].name, argv[a]) != NULL;
        if (wanted) run_case(&CASES[i], dir);
    }
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return test_finish("test_learning");
}
