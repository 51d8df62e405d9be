/* plast/comm.h: collectives for training one run over several processes (data parallelism), supplied by the
 * caller: plast calls no communication library itself (the command-line tool implements these with MPI,
 * src/cli/mpi.c). Each operation must be a collective over every process, return PLAST_OK or an error, and leave
 * identical results everywhere. docs/SCALING.md. */
#ifndef PLAST_COMM_H
#define PLAST_COMM_H

#include "plast/base.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct plast_comm {
    int rank, size;
    void *user;
    plast_status (*allreduce_sum)(double *buf, int64_t n, void *user);       /* in place */
    plast_status (*broadcast)(void *buf, int64_t bytes, int root, void *user); /* from root to all */
    plast_status (*barrier)(void *user);
} plast_comm;

#ifdef __cplusplus
}
#endif
#endif
