/*
 * wse/engine.h - the exact cycle engine over one rectangle of PEs.
 *
 * Lifecycle: wse_engine_create() allocates the shard, runs every PE's
 * setup, resolves routes into queue ids and checks SRAM budgets;
 * wse_engine_run() advances time until every PE has finished or nothing
 * can happen any more; wse_engine_destroy() frees everything.
 *
 * The engine owns no files and never prints; host I/O goes through
 * wse_engine_block(), statistics through wse_engine_stats().
 */
#ifndef WSE_ENGINE_H
#define WSE_ENGINE_H

#include <stdint.h>
#include "wse/config.h"
#include "wse/pe.h"

typedef struct wse_engine wse_engine;

typedef struct wse_rect { int x, y, width, height; } wse_rect;

/* Statistics of a run.  All integers, so they are exact and identical for
 * every decomposition; derived figures (fractions, energy) are computed
 * from them by the report. */
typedef struct wse_engine_stats {
    uint64_t cycles;            /* cycle at which the run ended */
    uint64_t pes;               /* PEs emulated */
    uint64_t tasks_run;
    uint64_t wavelets_sent;     /* injected by CEs into their routers */
    uint64_t wavelets_received; /* consumed by CEs */
    uint64_t hops;              /* wavelet moves over router-router links */
    uint64_t busy_cycles;       /* sum over PEs of cycles the CE was busy */
    uint64_t flops;             /* counted by vector ops and charges */
    uint64_t sram_bytes_moved;  /* SRAM bytes read+written by vector ops */
    uint64_t link_max;          /* wavelets over the busiest link */
    int link_max_x, link_max_y, link_max_port; /* its PE and out port */
    uint32_t sram_max;          /* highest per-PE SRAM use incl. reserved */
    int sram_max_x, sram_max_y;
    uint64_t pe_visits;         /* PE-cycles the emulator processed */
    uint64_t cycles_stepped;    /* cycles with work (the rest skipped) */
} wse_engine_stats;

/*
 * Create the engine for region r of the fabric (fabric coordinates) running
 * program prog with its bound params (copied).  Runs setup on every PE.
 * Returns 0; WSE_ESRAM naming the PE and byte counts when a PE's program
 * exceeds its SRAM; WSE_EPROGRAM / WSE_EROUTE for bad routes or calls;
 * WSE_ENOMEM.  On failure *out is NULL and nothing leaks.
 */
int wse_engine_create(const wse_topology *topo, const wse_program *prog,
                      const void *params, wse_rect r, wse_engine **out,
                      wse_error *err);

/*
 * Run until every PE has called pe_finish() and nothing is left to move,
 * or nothing can happen any more.  Returns 0; WSE_EDEADLOCK (PEs still
 * unfinished, named with what they wait for); WSE_EROUTE (a wavelet hit a
 * port with no route, with PE, color and cycle); WSE_EPROGRAM; WSE_ELIMIT
 * when max_cycles is reached.
 */
int wse_engine_run(wse_engine *e, uint64_t max_cycles, wse_error *err);

void wse_engine_stats_get(const wse_engine *e, wse_engine_stats *s);

/* Region the engine emulates, and the number of PEs in it. */
wse_rect wse_engine_region(const wse_engine *e);

/* The block of array spec index `array` held by PE (x, y) of the region
 * (region-relative coordinates).  Returns 0 or WSE_EINVAL. */
int wse_engine_block(wse_engine *e, int array, int x, int y,
                     wse_array_block *b);

/* The program state of PE (x, y), region-relative; NULL if out of range.
 * For tests and host I/O. */
void *wse_engine_state(wse_engine *e, int x, int y);

/* Host memory the engine holds, in bytes, excluding program SRAM. */
uint64_t wse_engine_overhead_bytes(const wse_engine *e);

/* Optional progress callback, called from wse_engine_run about every
 * `seconds` of host time with the current cycle. */
void wse_engine_set_progress(wse_engine *e, double seconds,
                             void (*fn)(uint64_t cycle, void *arg), void *arg);

void wse_engine_destroy(wse_engine *e);

#endif
