/*
 * wse/threads.h - where worker threads run: a pinning plan from hwloc.
 *
 * Each rank learns the PUs its launcher allowed (hwloc_get_cpubind of the
 * process) and its rank among the ranks on the same node
 * (MPI_Comm_split_type SHARED: right under mpirun and srun alike).  When
 * every thread of every rank on the node can have a PU of its own, thread
 * t of local rank r is bound to allowed PU number (r * threads + t), in
 * hwloc's logical order; otherwise (oversubscribed, or a cpuset smaller
 * than the threads) nothing is bound and the plan says why.
 */
#ifndef WSE_THREADS_H
#define WSE_THREADS_H

#include <mpi.h>

typedef struct wse_pin_plan wse_pin_plan;

/*
 * The PU index (in the allowed set's logical order) for thread t of local
 * rank r, or -1 when the node's threads do not fit in n_pu PUs.  Pure, for
 * tests.
 */
int wse_pin_choose(int n_pu, int local_rank, int local_size, int threads, int t);

/* Make this rank's plan (collective over comm).  Never fails: without
 * hwloc information the plan simply binds nothing. */
wse_pin_plan *wse_pin_plan_make(MPI_Comm comm, int threads);

/* Bind the calling thread as thread t of the plan.  Returns 1 if bound. */
int wse_pin_thread(wse_pin_plan *p, int t);

/* One line describing the plan, e.g. "bound to PUs 2-3" or "not bound:
 * 8 threads on 2 PUs". */
const char *wse_pin_describe(const wse_pin_plan *p);

void wse_pin_plan_free(wse_pin_plan *p);

/* Default threads per rank: the cores in this rank's cpuset divided among
 * the ranks of its node that share them, at least 1, the minimum over all
 * ranks (collective over comm). */
int wse_pin_default_threads(MPI_Comm comm);

#endif
