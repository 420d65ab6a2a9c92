/*
 * src/agree.c - every rank ends a collective step with the same code and
 * message: the first failing rank's.
 */
#include <stdint.h>
#include "wse/shard.h"

int wse_agree(MPI_Comm comm, int rc, wse_error *err)
{
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    long long v[2] = { rc, rc ? rank : INT32_MAX }, r[2];
    MPI_Allreduce(v, r, 2, MPI_LONG_LONG, MPI_MIN, comm);
    if (r[0] == 0)
        return 0;
    wse_error e;
    if (rank == r[1])
        e = *err;
    MPI_Bcast(&e, (int)sizeof e, MPI_BYTE, (int)r[1], comm);
    *err = e;
    return err->code ? err->code : (int)r[0];
}
