/*
 * src/sram.c - the SRAM arena.
 *
 * Per PE, a contiguous SRAM block (what the program allocated, rounded to
 * 16 bytes, then 16 guard bytes) carved from chunks of at most 64 MiB,
 * sized to the shard so a one-PE shard touches one block.  A PE's block is
 * placed before its setup with room for the whole budget, and closed after
 * it at what the program used, so blocks are packed in PE order.  Big
 * arrays are 2 MiB aligned and marked for transparent huge pages.
 *
 * Drawback: the guard is checked after every task (a memcmp of 16 bytes);
 * it catches writes just past the end, not wild ones.
 */
#define _DEFAULT_SOURCE 1   /* madvise, MADV_HUGEPAGE */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "sram_int.h"

/* After each PE's SRAM block: a pattern that a task writing past the end
 * of its allocations destroys. */
static const uint8_t guard[WSE_SRAM_GUARD_BYTES] = {
    0xde, 0xad, 0xbe, 0xef, 0x57, 0x5e, 0x3c, 0x0d,
    0xfe, 0xed, 0xfa, 0xce, 0x5a, 0xfe, 0x67, 0x1d };

/* Huge pages cut page faults 512-fold when a full wafer is set up (first
 * touch dominated setup on VMs). */
void *wse__sram_alloc_big(uint64_t bytes)
{
    if (bytes < WSE_HUGE_PAGE)
        return calloc(1, bytes ? bytes : 1);
    uint64_t len = (bytes + WSE_HUGE_PAGE - 1) & ~(uint64_t)(WSE_HUGE_PAGE - 1);
    void *p = NULL;
    if (posix_memalign(&p, WSE_HUGE_PAGE, len) != 0)
        return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, len, MADV_HUGEPAGE);
#endif
    memset(p, 0, len);
    return p;
}

void wse__sram_init(wse_engine *e)
{
    /* chunks of up to 64 MiB, no bigger than the shard needs: a one-PE
     * shard must not touch 64 MiB */
    uint64_t block = (uint64_t)e->topo.sram_bytes + WSE_SRAM_GUARD_BYTES;
    uint64_t need = (uint64_t)e->npe * block;
    e->chunk_bytes = need < WSE_SRAM_CHUNK_BYTES ? need : WSE_SRAM_CHUNK_BYTES;
    if (e->chunk_bytes < block)
        e->chunk_bytes = block;
}

int wse__sram_place(wse_engine *e, uint32_t pe)
{
    uint64_t need = (uint64_t)e->topo.sram_bytes + WSE_SRAM_GUARD_BYTES;
    if (e->nchunks == 0 || e->chunk_used + need > e->chunk_bytes) {
        if (e->nchunks == e->chunk_cap) {
            uint32_t cap = e->chunk_cap ? e->chunk_cap * 2 : 16;
            uint8_t **c = realloc(e->chunks, cap * sizeof *c);
            if (!c)
                return WSE_ENOMEM;
            e->chunks = c;
            e->chunk_cap = cap;
        }
        uint8_t *m = wse__sram_alloc_big(e->chunk_bytes);
        if (!m)
            return WSE_ENOMEM;
        e->chunks[e->nchunks++] = m;
        e->chunk_used = 0;
    }
    e->pe[pe].sram_chunk = e->nchunks - 1;
    e->pe[pe].sram_off = (uint32_t)e->chunk_used;
    e->pe[pe].sram_used = 0;
    return 0;
}

static void *scratch(wse_engine *e, size_t bytes)
{
    if (e->nscratch == e->scratch_cap) {
        uint32_t cap = e->scratch_cap ? e->scratch_cap * 2 : 8;
        void **s = realloc(e->scratch, cap * sizeof *s);
        if (!s)
            return NULL;
        e->scratch = s;
        e->scratch_cap = cap;
    }
    void *m = calloc(1, bytes ? bytes : 1);
    if (m)
        e->scratch[e->nscratch++] = m;
    return m;
}

void *wse__sram_alloc(wse_engine *e, uint32_t pe, size_t bytes)
{
    wse_pestate *p = &e->pe[pe];
    uint64_t off = ((uint64_t)p->sram_used + WSE_SRAM_ALIGN - 1) & ~(uint64_t)(WSE_SRAM_ALIGN - 1);
    uint64_t end = off + bytes;
    if (bytes > e->topo.sram_bytes || end + e->topo.reserved_bytes > e->topo.sram_bytes) {
        /* Keep counting so the error can say how much the program wanted,
         * but hand out nothing past the block. */
        p->sram_used = end > UINT32_MAX ? UINT32_MAX : (uint32_t)end;
        return scratch(e, bytes);
    }
    p->sram_used = (uint32_t)end;
    return sram_base(e, pe) + off;
}

void *wse__sram_halo_alloc(wse_engine *e, uint32_t *used, size_t bytes)
{
    uint64_t off = ((uint64_t)*used + WSE_SRAM_ALIGN - 1) & ~(uint64_t)(WSE_SRAM_ALIGN - 1);
    if (off + bytes > e->topo.sram_bytes)
        return NULL;
    *used = (uint32_t)(off + bytes);
    return e->hsram + off;
}

void wse__sram_close(wse_engine *e, uint32_t pe)
{
    for (uint32_t i = 0; i < e->nscratch; i++)
        free(e->scratch[i]);
    e->nscratch = 0;
    uint64_t used = e->pe[pe].sram_used;
    if (used > e->topo.sram_bytes)
        used = e->topo.sram_bytes;
    used = (used + WSE_SRAM_ALIGN - 1) & ~(uint64_t)(WSE_SRAM_ALIGN - 1);
    memcpy(sram_base(e, pe) + used, guard, WSE_SRAM_GUARD_BYTES);
    e->chunk_used += used + WSE_SRAM_GUARD_BYTES;
}

int wse__sram_guard_broken(const wse_engine *e, uint32_t pe)
{
    uint64_t used = ((uint64_t)e->pe[pe].sram_used + WSE_SRAM_ALIGN - 1) & ~(uint64_t)(WSE_SRAM_ALIGN - 1);
    return memcmp(sram_base(e, pe) + used, guard, WSE_SRAM_GUARD_BYTES) != 0;
}

void wse__sram_free(wse_engine *e)
{
    for (uint32_t i = 0; i < e->nchunks; i++)
        free(e->chunks[i]);
    free(e->chunks);
    for (uint32_t i = 0; i < e->nscratch; i++)
        free(e->scratch[i]);
    free(e->scratch);
    free(e->hsram);
}
