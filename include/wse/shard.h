/*
 * wse/shard.h - a region cut into a grid of shards, each emulated by its
 * own engine, on one or more MPI ranks and threads.
 *
 * The shard grid is rectilinear: gx columns (cut at the same x on every
 * row) by gy rows, so every shard has at most one neighbour per side.  Each
 * rank of a px x py rank grid owns a block of shards; with T threads per
 * rank its rectangle is cut into T rows of shards (gx = px, gy = py * T).
 *
 * Time advances in windows of hop_latency_cycles (the lookahead): every
 * engine advances to the window's end, engines swap the events that cross
 * their edges (in memory within a rank, by MPI between ranks), and one
 * MPI_Allreduce agrees on the next cycle at which anything happens anywhere
 * and on whether any rank failed.  Idle time is skipped globally; an
 * allreduce per window was chosen over neighbour-only agreement because it
 * also detects termination and errors, and costs microseconds.
 */
#ifndef WSE_SHARD_H
#define WSE_SHARD_H

#include <mpi.h>
#include "wse/engine.h"

/* ------------------------------------------------------------ the grid */

typedef struct wse_grid wse_grid;

/*
 * Cut a width x height region for `ranks` ranks (px x py; px = py = 0 to
 * choose the grid with the shortest cuts) and `threads` threads per rank
 * (reduced so every shard has at least one row).  Returns 0, or
 * WSE_ECONFIG when px * py != ranks or the grid has more columns or rows
 * than the region, or WSE_ENOMEM; on failure *out is NULL.
 */
int wse_grid_create(int width, int height, int ranks, int px, int py, int threads,
                    wse_grid **out, wse_error *err);

/*
 * Cut each rank's columns into xsub shard columns at the region-relative
 * positions xcut[0..xsub] (0 = xcut[0] < xcut[1] < ... < xcut[xsub] =
 * width), all owned by the same rank: for tests of uneven decompositions
 * within one process.  Only for a grid with one rank column (px == 1).
 * Returns 0 or WSE_EINVAL.
 */
int wse_grid_split_columns(wse_grid *g, int xsub, const int *xcut, wse_error *err);

/* Relaxed mode: shards synchronise every `window` cycles (0: exact, one
 * hop latency). */
void wse_grid_set_window(wse_grid *g, uint64_t window);
uint64_t wse_grid_window(const wse_grid *g);

/* Ranks along x and y, threads (shard rows) per rank, shards along x and
 * y. */
void wse_grid_ranks(const wse_grid *g, int *px, int *py);
int wse_grid_threads(const wse_grid *g);
void wse_grid_shards(const wse_grid *g, int *gx, int *gy);

/* Rank owning shard (i, j), and the shard's rectangle (region-relative). */
int wse_grid_owner(const wse_grid *g, int i, int j);
wse_rect wse_grid_rect(const wse_grid *g, int i, int j);

/* NULL-safe. */
void wse_grid_destroy(wse_grid *g);

/* ------------------------------------------------------------ the run */

typedef struct wse_sim wse_sim;

/*
 * Create the engines of this rank's shards of grid g (which must outlive
 * the sim).  Collective over comm: if any rank fails, all return the same
 * code and err holds the first failing rank's message; *out is then NULL.
 */
int wse_sim_create(const wse_topology *topo, const wse_program *prog,
                   const void *params, wse_rect region, const wse_grid *g,
                   MPI_Comm comm, wse_sim **out, wse_error *err);

/* Run to completion (collective).  Errors as wse_engine_run. */
int wse_sim_run(wse_sim *s, uint64_t max_cycles, wse_error *err);

/* The communicator of the run. */
MPI_Comm wse_sim_comm(const wse_sim *s);

/* This rank's engines, and their shard ids (row * gx + column). */
int wse_sim_nlocal(const wse_sim *s);
wse_engine *wse_sim_local(wse_sim *s, int k);
int wse_sim_local_id(const wse_sim *s, int k);

/* Statistics summed (and maxima chosen with fixed tie-breaks) over all
 * shards of all ranks: identical on every rank and, for the counters
 * wse/stats.h marks exact, for every grid.  Collective. */
void wse_sim_stats(wse_sim *s, wse_engine_stats *st);
/* Halo traffic between ranks since creation, summed over ranks. */
void wse_sim_halo(wse_sim *s, uint64_t *bytes, uint64_t *messages);
/* Max over threads and ranks of host seconds spent advancing engines,
 * divided by the mean: 1.0 is perfect balance.  Collective. */
double wse_sim_imbalance(wse_sim *s);
/* Host memory of every engine of every rank, excluding program SRAM.
 * Collective. */
uint64_t wse_sim_overhead_bytes(wse_sim *s);
/* How this rank's threads are bound (see wse/threads.h). */
const char *wse_sim_pinning(const wse_sim *s);
void wse_sim_set_progress(wse_sim *s, double seconds,
                          void (*fn)(uint64_t cycle, void *arg), void *arg);
/* Power windows of `cycles` cycles (docs/MODEL.md, "Power and heat"):
 * no engine window crosses a multiple of cycles, and once every engine
 * has reached the next cycle with an event, close(arg, boundary, err)
 * runs on every rank (collective) for each multiple of cycles passed, in
 * order, while every PE's state is that of the boundary (no event lies
 * between).  close returns 0 or an error agreed by every rank, which
 * ends the run. */
void wse_sim_set_power_windows(wse_sim *s, uint64_t cycles,
                               int (*close)(void *arg, uint64_t boundary, wse_error *err),
                               void *arg);
/* NULL-safe. */
void wse_sim_destroy(wse_sim *s);

/* Make every rank of comm return the same code and error message: the
 * first failing rank's.  Collective; returns the agreed code. */
int wse_agree(MPI_Comm comm, int rc, wse_error *err);

#endif
