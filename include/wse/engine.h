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
    uint64_t late_wavelets;     /* relaxed mode: wavelets delivered late */
    uint64_t late_cycles;       /*   and by how many cycles in total */
    uint64_t cycles_stepped;    /* cycles with work (the rest skipped) */
} wse_engine_stats;

/*
 * Create the engine for region r of the fabric (fabric coordinates) running
 * program prog with its bound params (copied).  The engine owns the PEs of
 * shard (region-relative; NULL = the whole region) and runs setup on each;
 * it also runs setup on the neighbouring shards' edge PEs to learn their
 * routes (setup must be a pure function of coordinates and params).
 * Returns 0; WSE_ESRAM naming the PE and byte counts when a PE's program
 * exceeds its SRAM; WSE_EPROGRAM / WSE_EROUTE for bad routes or calls;
 * WSE_ENOMEM.  On failure *out is NULL and nothing leaks.
 */
int wse_engine_create(const wse_topology *topo, const wse_program *prog,
                      const void *params, wse_rect r, const wse_rect *shard,
                      wse_engine **out, wse_error *err);

/*
 * Run until every PE has called pe_finish() and nothing is left to move,
 * or nothing can happen any more.  Returns 0; WSE_EDEADLOCK (PEs still
 * unfinished, named with what they wait for); WSE_EROUTE (a wavelet hit a
 * port with no route, with PE, color and cycle); WSE_EPROGRAM; WSE_ELIMIT
 * when max_cycles is reached.
 */
int wse_engine_run(wse_engine *e, uint64_t max_cycles, wse_error *err);

void wse_engine_stats_get(const wse_engine *e, wse_engine_stats *s);

/* Region the engine emulates (fabric coordinates), and the shard it owns
 * (region-relative). */
wse_rect wse_engine_region(const wse_engine *e);
wse_rect wse_engine_shard(const wse_engine *e);

/* The program and its bound params. */
const wse_program *wse_engine_program(const wse_engine *e);
const void *wse_engine_params(const wse_engine *e);

/* ------------------------------------------------------------ shards
 *
 * Several engines, each owning one shard of a region, run one program
 * together in windows of hop_latency_cycles: every engine advances to the
 * window's end, then each hands its neighbours the events that cross its
 * edges (wavelets pushed into their queues, slots freed in its own), and
 * each applies what it received.  Nothing crossing an edge can take effect
 * sooner than one hop later, so this is exact.  Sides are WSE_PORT_N..W.
 */
typedef struct wse_event {
    uint64_t cycle;             /* when it happened */
    uint32_t pos;               /* queue position in the side's list; the
                                 * top bit set marks a pop (credit) */
    uint32_t word;              /* the wavelet of a push */
} wse_event;
#define WSE_EVENT_POP 0x80000000u

/* First cycle >= the current one at which something happens here, or
 * UINT64_MAX. */
uint64_t wse_engine_next(const wse_engine *e);

/* Process every cycle before end.  Returns 0 or the run's error. */
int wse_engine_advance(wse_engine *e, uint64_t end, wse_error *err);

/* Events produced for side s since the last clear. */
const wse_event *wse_engine_outbox(const wse_engine *e, int side, uint32_t *n);
void wse_engine_outbox_clear(wse_engine *e);

/* Apply events a neighbour produced for this engine's side s, at the
 * start of the coming window.  An event older than one hop (possible only
 * with windows longer than the hop latency: relaxed mode) takes effect now
 * and is counted as late.  Returns 0 or WSE_EINVAL for an event that names
 * no queue. */
int wse_engine_apply(wse_engine *e, int side, const wse_event *ev, uint32_t n,
                     wse_error *err);

/* The largest number of events a window of `window` cycles can produce
 * for side s. */
uint32_t wse_engine_outbox_max(const wse_engine *e, int side, uint64_t window);

/* Last cycle in which anything happened, PEs not yet finished. */
uint64_t wse_engine_last_active(const wse_engine *e);
uint32_t wse_engine_unfinished(const wse_engine *e);

/* An unfinished PE: its global index (y * region width + x) and what it
 * waits for. */
typedef struct wse_stuck { uint64_t index; char what[200]; } wse_stuck;

/* The first max unfinished PEs in row-major order; returns how many. */
int wse_engine_stuck(const wse_engine *e, int max, wse_stuck *out);

/* The deadlock error naming up to n stuck PEs. */
void wse_deadlock_message(wse_error *err, uint64_t cycle, uint64_t unfinished, uint64_t pes,
                          const wse_stuck *s, int n);

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
