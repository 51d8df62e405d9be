/* tests/test_mpi_replicas.c: data-parallel runs through the library, with a plast_comm over MPI as the command-line
 * tool builds it (src/cli/mpi.c), under mpirun with 2 or more processes:
 *   1. processes that resume from different checkpoints (each its own directory, trained alone one step at
 *      another learning rate) all hold rank 0's parameters once plast_run_open_comm has broadcast them;
 *   2. one value changed on one process: plast_run_check_replicas fails on every process; plast_run_sync repairs it;
 *   3. after training (a checkpoint every step, each checked by plast_run_check_replicas) every process holds
 *      rank 0's parameters byte for byte.
 * Identity is checked independently of the hash of plast_run_check_replicas: rank 0's bytes are broadcast and
 * compared on every process, and the mismatches summed.
 * Usage: mpirun -np P test_mpi_replicas CONFIG DIR */
#include <mpi.h>

#include "plast.h"
#include "test.h"

static plast_status allreduce(double *buf, int64_t n, void *user) {
    (void)user;
    return MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD) == MPI_SUCCESS ? PLAST_OK
                                                                                                     : PLAST_ERR_STATE;
}
static plast_status broadcast(void *buf, int64_t bytes, int root, void *user) {
    (void)user;
    return MPI_Bcast(buf, (int)bytes, MPI_BYTE, root, MPI_COMM_WORLD) == MPI_SUCCESS ? PLAST_OK : PLAST_ERR_STATE;
}
static plast_status barrier(void *user) {
    (void)user;
    return MPI_Barrier(MPI_COMM_WORLD) == MPI_SUCCESS ? PLAST_OK : PLAST_ERR_STATE;
}

/* the number of processes whose parameters differ from rank 0's, byte for byte */
static int differing(plast_run *r) {
    plast_params *p = plast_run_params(r);
    const size_t bytes = sizeof(plast_real) * (size_t)plast_params_numel(p);
    char *root = malloc(bytes);
    memcpy(root, plast_params_values(p), bytes);
    MPI_Bcast(root, (int)bytes, MPI_BYTE, 0, MPI_COMM_WORLD);
    int mine = memcmp(root, plast_params_values(p), bytes) != 0, all = 0;
    MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    free(root);
    return all;
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (argc != 3 || size < 2) {
        fprintf(stderr, "usage: mpirun -np P (P >= 2) test_mpi_replicas CONFIG DIR\n");
        MPI_Finalize();
        return 2;
    }
    const plast_comm comm = {rank, size, NULL, allreduce, broadcast, barrier};
    char dir[512], lr[64];
    plast_err err;

    /* 1. every process resumes from its own checkpoint: one step trained alone from another seed */
    plast_experiment_cfg cfg;
    snprintf(lr, sizeof lr, "train.lr=%g", 1e-3 * (1 + rank));
    const char *alone_sets[] = {lr, "train.steps=1"};
    CHECK(plast_experiment_cfg_load(&cfg, argv[1], 2, alone_sets, &err) == PLAST_OK, "%s", err.msg);
    snprintf(dir, sizeof dir, "%s/resume%d", argv[2], rank);
    plast_run *r = plast_run_open(&cfg, dir, 1, &err);
    CHECK(r && plast_run_train(r, NULL, NULL, &err) == PLAST_OK, "training alone: %s", err.msg);
    plast_run_free(r);
    const char *same_sets[] = {"train.lr=1e-3", "train.steps=1"}; /* rank 0's configuration everywhere */
    CHECK(plast_experiment_cfg_load(&cfg, argv[1], 2, same_sets, &err) == PLAST_OK, "%s", err.msg);
    r = plast_run_open_comm(&cfg, dir, 0, &comm, &err);
    CHECK(r != NULL, "open: %s", err.msg);
    if (!r) MPI_Abort(MPI_COMM_WORLD, 1);
    CHECK(differing(r) == 0, "process %d: the parameters differ from rank 0's after the opening broadcast", rank);
    CHECK(plast_run_check_replicas(r, &err) == PLAST_OK, "process %d: %s", rank, err.msg);

    /* 2. one value changed on the last process: every process sees it; a sync repairs it */
    if (rank == size - 1) plast_params_values(plast_run_params(r))[0] += 1e-9;
    CHECK(differing(r) == 1, "process %d: the change did not take", rank);
    err.msg[0] = '\0';
    CHECK(plast_run_check_replicas(r, &err) != PLAST_OK, "process %d: a changed parameter went unnoticed", rank);
    CHECK(strstr(err.msg, "different parameters") != NULL, "process %d: message \"%s\"", rank, err.msg);
    CHECK(plast_run_sync(r, &err) == PLAST_OK, "%s", err.msg);
    CHECK(differing(r) == 0, "process %d: the sync left a difference", rank);
    CHECK(plast_run_check_replicas(r, &err) == PLAST_OK, "process %d after the sync: %s", rank, err.msg);
    plast_run_free(r);

    /* 3. training: a checkpoint (and so a replica check) every step; identical parameters at the end */
    const char *train_sets[] = {"train.ckpt_every=1"};
    CHECK(plast_experiment_cfg_load(&cfg, argv[1], 1, train_sets, &err) == PLAST_OK, "%s", err.msg);
    snprintf(dir, sizeof dir, "%s/train", argv[2]);
    r = plast_run_open_comm(&cfg, dir, 1, &comm, &err);
    CHECK(r != NULL, "open: %s", err.msg);
    if (!r) MPI_Abort(MPI_COMM_WORLD, 1);
    const plast_status s = plast_run_train(r, NULL, NULL, &err);
    CHECK(s == PLAST_OK, "process %d: training: %s", rank, err.msg);
    if (s != PLAST_OK) MPI_Abort(MPI_COMM_WORLD, 1); /* the others wait in a collective */
    CHECK(plast_run_finished(r), "process %d: the run did not finish", rank);
    CHECK(differing(r) == 0, "process %d: the parameters differ from rank 0's after training", rank);
    plast_run_free(r);

    char name[64];
    snprintf(name, sizeof name, "test_mpi_replicas (process %d of %d)", rank, size);
    const int rc = test_finish(name);
    int failed = rc, any = 0;
    MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    MPI_Finalize();
    return any ? 1 : 0;
}
