/* src/cli/mpi.c: the command-line tool's use of MPI (Open MPI through Debian's libopenmpi-dev, when the build found
 * it): the rank and size, a job counter for sweeps from which every rank takes the next unfinished run (a shared
 * counter on rank 0, MPI_Fetch_and_op), a barrier, and ending every rank when one fails (MPI_Abort), so that no
 * rank waits forever. MPI starts only when a launcher started the process (mpirun, srun); otherwise, and in a
 * build without MPI, the tool is one process of size 1. The library itself never calls MPI. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli/cli.h"

#ifdef PLAST_HAVE_MPI
#include <mpi.h>

static int mpi_on, mpi_rank, mpi_size;
static MPI_Win job_win;
static long *job_counter; /* on rank 0: the next job */

/* the launchers' environment: Open MPI's mpirun, PMIx (Slurm's srun) or PMI */
static int launched(void) {
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_SIZE");
}

void cli_mpi_init(int *argc, char ***argv) {
    if (!launched()) return;
    int provided;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        fprintf(stderr, "plast: MPI_Init_thread failed\n");
        exit(1);
    }
    mpi_on = 1;
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
    MPI_Comm_rank(MPI_COMM_WORLD, &mpi_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &mpi_size);
    MPI_Win_allocate(mpi_rank == 0 ? (MPI_Aint)sizeof(long) : 0, sizeof(long), MPI_INFO_NULL, MPI_COMM_WORLD,
                     &job_counter, &job_win);
    if (mpi_rank == 0) *job_counter = 0;
    MPI_Barrier(MPI_COMM_WORLD);
}

void cli_mpi_finalize(void) {
    if (!mpi_on) return;
    MPI_Win_free(&job_win);
    MPI_Finalize();
    mpi_on = 0;
}

int cli_mpi_rank(void) { return mpi_on ? mpi_rank : 0; }
int cli_mpi_size(void) { return mpi_on ? mpi_size : 1; }

long cli_mpi_next_job(void) {
    static long serial;
    if (!mpi_on) return serial++;
    const long one = 1;
    long got = 0;
    MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, job_win);
    MPI_Fetch_and_op(&one, &got, MPI_LONG, 0, 0, MPI_SUM, job_win);
    MPI_Win_unlock(0, job_win);
    return got;
}

void cli_mpi_barrier(void) {
    if (mpi_on) MPI_Barrier(MPI_COMM_WORLD);
}

void cli_mpi_abort(int code) {
    if (mpi_on && mpi_size > 1) {
        fflush(stdout), fflush(stderr);
        MPI_Abort(MPI_COMM_WORLD, code);
    }
}

/* plast_comm's operations over MPI_COMM_WORLD; MPI's errors are fatal (MPI_ERRORS_ARE_FATAL): no rank waits */
static plast_status comm_allreduce(double *buf, int64_t n, void *user) {
    (void)user;
    for (int64_t off = 0; off < n; off += 1 << 28) { /* MPI counts are ints */
        const int k = (int)(n - off < (1 << 28) ? n - off : (1 << 28));
        if (MPI_Allreduce(MPI_IN_PLACE, buf + off, k, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD) != MPI_SUCCESS)
            return PLAST_ERR_STATE;
    }
    return PLAST_OK;
}
static plast_status comm_broadcast(void *buf, int64_t bytes, int root, void *user) {
    (void)user;
    for (int64_t off = 0; off < bytes; off += 1 << 30) {
        const int k = (int)(bytes - off < (1 << 30) ? bytes - off : (1 << 30));
        if (MPI_Bcast((char *)buf + off, k, MPI_BYTE, root, MPI_COMM_WORLD) != MPI_SUCCESS) return PLAST_ERR_STATE;
    }
    return PLAST_OK;
}
static plast_status comm_barrier(void *user) {
    (void)user;
    return MPI_Barrier(MPI_COMM_WORLD) == MPI_SUCCESS ? PLAST_OK : PLAST_ERR_STATE;
}

const plast_comm *cli_mpi_comm(void) {
    static plast_comm c;
    if (!mpi_on || mpi_size < 2) return NULL;
    c = (plast_comm){mpi_rank, mpi_size, NULL, comm_allreduce, comm_broadcast, comm_barrier};
    return &c;
}

void cli_mpi_share_cores(int threads_given) {
    if (!mpi_on || mpi_size < 2 || threads_given) return;
    const char *s = getenv("OMPI_COMM_WORLD_LOCAL_SIZE"); /* ranks on this node */
    if (!s) s = getenv("SLURM_NTASKS_PER_NODE");
    const int local = s ? atoi(s) : 1, per = plast_runtime_threads() / (local > 0 ? local : 1);
    plast_runtime_set_threads(per > 0 ? per : 1);
}

#else /* built without MPI: one process */

void cli_mpi_init(int *argc, char ***argv) { (void)argc, (void)argv; }
void cli_mpi_finalize(void) {}
int cli_mpi_rank(void) { return 0; }
int cli_mpi_size(void) { return 1; }
long cli_mpi_next_job(void) {
    static long serial;
    return serial++;
}
void cli_mpi_barrier(void) {}
void cli_mpi_abort(int code) { (void)code; }
void cli_mpi_share_cores(int threads_given) { (void)threads_given; }
const plast_comm *cli_mpi_comm(void) { return NULL; }

#endif
