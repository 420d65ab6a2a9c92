/*
 * src/sim_int.h - one rank's part of a run over a shard grid, shared by
 * sim.c (the window loop) and exchange.c (events between ranks).
 */
#ifndef WSE_SIM_INT_H
#define WSE_SIM_INT_H

#include "pool_int.h"
#include "window_int.h"
#include "wse/shard.h"
#include "wse/threads.h"

struct wse_sim {
    MPI_Comm comm;
    int rank, size;
    const wse_grid *g;
    int gx, gy;                 /* shards along x and y */
    wse_rect region;
    uint64_t window;            /* cycles per window (>= latency) */
    int nlocal;
    wse_engine **eng;           /* local shards, in shard-id order */
    int *sid;                   /* their shard ids (j * gx + i) */
    /* events received from other ranks (exchange.c), per [k * 4 + side] */
    uint32_t *rcap;             /* capacity of the buffer */
    wse_event **rb;
    uint32_t *rn;               /* events received in the last exchange */
    MPI_Request *req;           /* 2 per remote side: the exchange never allocates */
    MPI_Status *st;
    uint64_t halo_bytes, halo_msgs;
    double *busy_s;             /* host seconds advancing, per local shard */
    double progress_s;
    void (*progress)(uint64_t, void *);
    void *progress_arg;
    wse_pool *pool;             /* one worker per local shard */
    wse_pin_plan *pin;
    uint64_t end;               /* the current window's end */
    const wse_topology *topo;   /* for creating the engines */
    const wse_program *prog;
    const void *params;
    /* power windows (wse_sim_set_power_windows): 0 or their length */
    uint64_t pw_cycles, pw_next;
    int (*pw_close)(void *arg, uint64_t boundary, wse_error *err);
    void *pw_arg;
};

/* Shard id of the neighbour of shard id across side d, or -1. */
static inline int sim_neighbour(const wse_sim *s, int id, int d)
{
    int i = id % s->gx + pe_port_dx(d), j = id / s->gx + pe_port_dy(d);
    if (i < 0 || j < 0 || i >= s->gx || j >= s->gy)
        return -1;
    return j * s->gx + i;
}

/* The local index of shard id, or -1 when another rank owns it. */
static inline int sim_local_of(const wse_sim *s, int id)
{
    for (int k = 0; k < s->nlocal; k++)
        if (s->sid[k] == id)
            return k;
    return -1;
}

/* Receive buffers (and requests) for every local shard side that faces
 * another rank.  Returns 0, WSE_ENOMEM, or WSE_ECONFIG when a window's
 * messages would pass MPI's int byte count (err set). */
int wse__exchange_alloc(wse_sim *s, wse_error *err);
/* Swap this window's edge events with the neighbour shards on other
 * ranks; allocates nothing.  Returns 0 or WSE_EMPI (err set). */
int wse__exchange_run(wse_sim *s, wse_error *err);
void wse__exchange_free(wse_sim *s);

#endif
