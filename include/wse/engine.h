/*
 * wse/engine.h - the exact cycle engine over one rectangle of PEs.
 *
 * Lifecycle: wse_engine_create() allocates the shard, runs every PE's
 * setup, resolves routes into queue ids and checks SRAM budgets;
 * wse_engine_run() advances time until every PE has finished or nothing
 * can happen any more; wse_engine_destroy() frees everything.
 *
 * An engine alone emulates a whole region.  Several engines, one per
 * shard of a region, run together through wse/shard.h.  The engine owns
 * no files and never prints; host I/O goes through wse_engine_block(),
 * statistics through wse_engine_stats_get().
 */
#ifndef WSE_ENGINE_H
#define WSE_ENGINE_H

#include <stdint.h>
#include "wse/config.h"
#include "wse/pe.h"
#include "wse/stats.h"

typedef struct wse_engine wse_engine;

typedef struct wse_rect { int x, y, width, height; } wse_rect;

/*
 * Create the engine for region r of the fabric (fabric coordinates) running
 * program prog with its bound params (copied).  The engine owns the PEs of
 * shard (region-relative; NULL = the whole region) and runs setup on each;
 * it also runs setup on the neighbouring shards' edge PEs to learn their
 * routes (setup must be a pure function of coordinates and params).
 * Returns 0; WSE_ESRAM naming the PE and byte counts when a PE's program
 * exceeds its SRAM; WSE_EPROGRAM / WSE_EROUTE for bad routes or calls;
 * WSE_EINVAL for a bad region or shard; WSE_ENOMEM.  On failure *out is
 * NULL and nothing leaks.
 */
int wse_engine_create(const wse_topology *topo, const wse_program *prog,
                      const void *params, wse_rect r, const wse_rect *shard,
                      wse_engine **out, wse_error *err);

/*
 * Run until every PE has called pe_finish() and nothing is left to move,
 * or nothing can happen any more.  Returns 0; WSE_EDEADLOCK (PEs still
 * unfinished, named with what they wait for); WSE_EROUTE (a wavelet hit a
 * port with no route, with PE, color and cycle); WSE_EPROGRAM; WSE_ELIMIT
 * when max_cycles is reached.  Only for an engine that owns its whole
 * region.
 */
int wse_engine_run(wse_engine *e, uint64_t max_cycles, wse_error *err);

/* This engine's statistics so far (its own PEs only). */
void wse_engine_stats_get(const wse_engine *e, wse_engine_stats *s);

/* Region the engine emulates (fabric coordinates), and the shard it owns
 * (region-relative). */
wse_rect wse_engine_region(const wse_engine *e);
wse_rect wse_engine_shard(const wse_engine *e);

/* The program and its bound params. */
const wse_program *wse_engine_program(const wse_engine *e);
const void *wse_engine_params(const wse_engine *e);

/* The block of array spec index `array` held by PE (x, y) of the region
 * (region-relative coordinates).  Returns 0, or WSE_EINVAL when the array
 * does not exist or the PE is not owned by this engine. */
int wse_engine_block(wse_engine *e, int array, int x, int y,
                     wse_array_block *b);

/* Host memory the engine holds, in bytes, excluding program SRAM. */
uint64_t wse_engine_overhead_bytes(const wse_engine *e);

/* Optional progress callback, called from wse_engine_run about every
 * `seconds` of host time with the current cycle. */
void wse_engine_set_progress(wse_engine *e, double seconds,
                             void (*fn)(uint64_t cycle, void *arg), void *arg);

/* NULL-safe. */
void wse_engine_destroy(wse_engine *e);

#endif
