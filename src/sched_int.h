/*
 * src/sched_int.h - when each PE is visited next.
 *
 * Idle PEs cost nothing: a PE is visited at cycle t only if something woke
 * it for t (a wavelet arriving, a credit returning, its CE becoming free,
 * an operation starting).  Wakes less than WSE_RING cycles ahead go into a
 * ring of two-level bitmaps (deduplicated for free), later ones into a
 * binary heap; time jumps over cycles with no wake.
 */
#ifndef WSE_SCHED_INT_H
#define WSE_SCHED_INT_H

#include "engine_int.h"

int wse__sched_init(wse_engine *e);
void wse__sched_free(wse_engine *e);
/* Record a wake for a cycle WSE_RING or more ahead.  On out of memory it
 * sets e->sched_oom (the time loop reports it). */
void wse__sched_heap_push(wse_engine *e, uint64_t cycle, uint32_t pe);
/* Move timers due at cycle t into its set. */
void wse__sched_due(wse_engine *e, wse_bitset *cur, uint64_t t);
/* The next cycle after t with a wake, or UINT64_MAX. */
uint64_t wse__sched_next(const wse_engine *e, uint64_t t);
/* Bytes the scheduler holds. */
uint64_t wse__sched_bytes(const wse_engine *e);

static inline void sched_bitset_set(wse_bitset *b, uint32_t i)
{
    uint64_t m = 1ull << (i & 63);
    uint64_t *w = &b->w[i >> 6];
    if (!(*w & m)) {
        *w |= m;
        b->sum[i >> 12] |= 1ull << ((i >> 6) & 63);
        b->count++;
    }
}

static inline void sched_at(wse_engine *e, uint32_t pe, uint64_t cycle)
{
    if (cycle - e->now < WSE_RING)
        sched_bitset_set(&e->ring[cycle % WSE_RING], pe);
    else
        wse__sched_heap_push(e, cycle, pe);
}

/* Visit pe at `cycle` (> now while running; any cycle during setup, when
 * everything starts at cycle 0). */
static inline void sched_wake(wse_engine *e, uint32_t pe, uint64_t cycle)
{
    if (pe == WSE_NONE)
        return;
    if (!e->running) {
        sched_bitset_set(&e->ring[0], pe);
        return;
    }
    if (cycle <= e->now)
        cycle = e->now + 1;
    sched_at(e, pe, cycle);
}

/* Wake between windows, when cycle may be the coming one itself. */
static inline void sched_wake_between(wse_engine *e, uint32_t pe, uint64_t cycle)
{
    if (cycle < e->now)
        cycle = e->now;
    sched_at(e, pe, cycle);
}

#endif
