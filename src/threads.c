/*
 * src/threads.c - the hwloc pinning plan (see wse/threads.h).
 *
 * Binding is advice the OS follows, not a correctness matter: results never
 * depend on where threads run.  Drawback: PUs are handed out in logical
 * order, which packs a rank's threads onto neighbouring cores; a NUMA-aware
 * spread would suit very large nodes better.
 */
#include <stdio.h>
#include <stdlib.h>
#include <hwloc.h>
#include "wse/threads.h"

struct wse_pin_plan {
    hwloc_topology_t topo;
    hwloc_bitmap_t allowed;
    int n_pu;
    int local_rank, local_size, threads;
    int enabled;
    char why[160];
};

int wse_pin_choose(int n_pu, int local_rank, int local_size, int threads, int t)
{
    if (n_pu <= 0 || threads <= 0 || local_size <= 0 || t < 0 || t >= threads ||
        (long)local_size * threads > n_pu)
        return -1;
    return local_rank * threads + t;
}

wse_pin_plan *wse_pin_plan_make(MPI_Comm comm, int threads)
{
    wse_pin_plan *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    MPI_Comm node;
    MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
    MPI_Comm_rank(node, &p->local_rank);
    MPI_Comm_size(node, &p->local_size);
    MPI_Comm_free(&node);
    p->threads = threads;
    if (hwloc_topology_init(&p->topo) != 0) {
        snprintf(p->why, sizeof p->why, "not bound: hwloc unavailable");
        return p;
    }
    p->allowed = hwloc_bitmap_alloc();
    if (hwloc_topology_load(p->topo) != 0 || !p->allowed ||
        hwloc_get_cpubind(p->topo, p->allowed, HWLOC_CPUBIND_PROCESS) != 0) {
        snprintf(p->why, sizeof p->why, "not bound: cannot read the allowed cpuset");
        return p;
    }
    p->n_pu = hwloc_get_nbobjs_inside_cpuset_by_type(p->topo, p->allowed, HWLOC_OBJ_PU);
    p->enabled = wse_pin_choose(p->n_pu, p->local_rank, p->local_size, threads, 0) >= 0;
    if (p->enabled)
        snprintf(p->why, sizeof p->why, "bound: %d thread(s) per rank, %d rank(s) on %d PU(s)",
                 threads, p->local_size, p->n_pu);
    else
        snprintf(p->why, sizeof p->why, "not bound: %d thread(s) x %d rank(s) on %d PU(s)",
                 threads, p->local_size, p->n_pu);
    return p;
}

int wse_pin_thread(wse_pin_plan *p, int t)
{
    if (!p || !p->enabled)
        return 0;
    int i = wse_pin_choose(p->n_pu, p->local_rank, p->local_size, p->threads, t);
    if (i < 0)
        return 0;
    hwloc_obj_t pu = hwloc_get_obj_inside_cpuset_by_type(p->topo, p->allowed, HWLOC_OBJ_PU, (unsigned)i);
    if (!pu)
        return 0;
    return hwloc_set_cpubind(p->topo, pu->cpuset, HWLOC_CPUBIND_THREAD) == 0;
}

const char *wse_pin_describe(const wse_pin_plan *p)
{
    return p ? p->why : "not bound";
}

void wse_pin_plan_free(wse_pin_plan *p)
{
    if (!p)
        return;
    if (p->allowed)
        hwloc_bitmap_free(p->allowed);
    if (p->topo)
        hwloc_topology_destroy(p->topo);
    free(p);
}

int wse_pin_default_threads(MPI_Comm comm)
{
    int mine = 1, all = 1, local_size = 1;
    MPI_Comm node;
    MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
    MPI_Comm_size(node, &local_size);
    MPI_Comm_free(&node);
    hwloc_topology_t topo;
    hwloc_bitmap_t set = hwloc_bitmap_alloc();
    if (set && hwloc_topology_init(&topo) == 0) {
        if (hwloc_topology_load(topo) == 0 &&
            hwloc_get_cpubind(topo, set, HWLOC_CPUBIND_PROCESS) == 0) {
            int cores = hwloc_get_nbobjs_inside_cpuset_by_type(topo, set, HWLOC_OBJ_CORE);
            int pus = hwloc_get_nbobjs_inside_cpuset_by_type(topo, set, HWLOC_OBJ_PU);
            int n = cores > 0 ? cores : pus;
            /* ranks left unbound all see the whole node: share it */
            hwloc_const_bitmap_t whole = hwloc_topology_get_complete_cpuset(topo);
            if (whole && hwloc_bitmap_isequal(set, whole))
                n /= local_size;
            mine = n > 0 ? n : 1;
        }
        hwloc_topology_destroy(topo);
    }
    if (set)
        hwloc_bitmap_free(set);
    MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, comm);
    return all;
}
