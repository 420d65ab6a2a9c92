/*
 * src/sched.c - the ring of wake bitmaps and the heap of later wakes (see
 * sched_int.h).
 *
 * Drawback: a PE woken many cycles ahead is one heap entry per wake, not
 * deduplicated; wakes that far ahead are rare (long tasks, long charges).
 */
#include <stdlib.h>
#include "sched_int.h"

static int bitset_init(wse_bitset *b, uint32_t n)
{
    b->nw = (n + 63) / 64;
    b->nsum = (b->nw + 63) / 64;
    b->w = calloc(b->nw ? b->nw : 1, sizeof *b->w);
    b->sum = calloc(b->nsum ? b->nsum : 1, sizeof *b->sum);
    b->count = 0;
    return (b->w && b->sum) ? 0 : WSE_ENOMEM;
}

int wse__sched_init(wse_engine *e)
{
    int fail = 0;
    for (int k = 0; k < WSE_RING; k++)
        fail |= bitset_init(&e->ring[k], e->npe);
    return fail ? WSE_ENOMEM : 0;
}

void wse__sched_free(wse_engine *e)
{
    for (int k = 0; k < WSE_RING; k++) {
        free(e->ring[k].w);
        free(e->ring[k].sum);
    }
    free(e->heap);
}

void wse__sched_heap_push(wse_engine *e, uint64_t cycle, uint32_t pe)
{
    if (e->nheap == e->heap_cap) {
        uint64_t cap = e->heap_cap ? e->heap_cap * 2 : 1024;
        wse_timer *h = realloc(e->heap, cap * sizeof *h);
        if (!h) {
            e->sched_oom = 1;
            return;
        }
        e->heap = h;
        e->heap_cap = cap;
    }
    uint64_t i = e->nheap++;
    while (i > 0) {
        uint64_t p = (i - 1) / 2;
        if (e->heap[p].cycle <= cycle)
            break;
        e->heap[i] = e->heap[p];
        i = p;
    }
    e->heap[i].cycle = cycle;
    e->heap[i].pe = pe;
}

static wse_timer heap_pop(wse_engine *e)
{
    wse_timer top = e->heap[0];
    wse_timer last = e->heap[--e->nheap];
    uint64_t i = 0, n = e->nheap;
    for (;;) {
        uint64_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && e->heap[c + 1].cycle < e->heap[c].cycle)
            c++;
        if (e->heap[c].cycle >= last.cycle)
            break;
        e->heap[i] = e->heap[c];
        i = c;
    }
    if (n)
        e->heap[i] = last;
    return top;
}

void wse__sched_due(wse_engine *e, wse_bitset *cur, uint64_t t)
{
    while (e->nheap && e->heap[0].cycle <= t)
        sched_bitset_set(cur, heap_pop(e).pe);
}

uint64_t wse__sched_next(const wse_engine *e, uint64_t t)
{
    uint64_t next = UINT64_MAX;
    for (uint64_t k = 1; k < WSE_RING; k++)
        if (e->ring[(t + k) % WSE_RING].count) {
            next = t + k;
            break;
        }
    if (e->nheap && e->heap[0].cycle < next)
        next = e->heap[0].cycle;
    return next;
}

uint64_t wse__sched_bytes(const wse_engine *e)
{
    return WSE_RING * ((uint64_t)e->ring[0].nw + e->ring[0].nsum) * 8 +
           e->heap_cap * sizeof *e->heap;
}
