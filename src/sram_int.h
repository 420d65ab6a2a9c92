/*
 * src/sram_int.h - the SRAM arena: every PE's SRAM as one contiguous block.
 */
#ifndef WSE_SRAM_INT_H
#define WSE_SRAM_INT_H

#include <stddef.h>
#include "engine_int.h"

/* Zeroed, huge-page backed when large; release with free(). */
void *wse__sram_alloc_big(uint64_t bytes);
/* Size the arena's chunks for the shard (before the first place). */
void wse__sram_init(wse_engine *e);
/* Give PE pe a block of up to sram_bytes, starting where the arena is. */
int wse__sram_place(wse_engine *e, uint32_t pe);
/* Allocate bytes for owned PE pe (setup): from its block, or, over the
 * budget, from host scratch memory so the program runs on and the error
 * after setup can give its total.  NULL only when out of host memory. */
void *wse__sram_alloc(wse_engine *e, uint32_t pe, size_t bytes);
/* Allocate bytes for a halo PE (a neighbour shard's PE, set up only to
 * learn its routes) from the scratch block e->hsram; *used is its use so
 * far.  NULL over the budget. */
void *wse__sram_halo_alloc(wse_engine *e, uint32_t *used, size_t bytes);
/* Close PE pe's block (its setup is over): guard bytes after what it
 * used, scratch memory freed, the arena continues after it. */
void wse__sram_close(wse_engine *e, uint32_t pe);
/* Whether PE pe's program wrote past the end of its allocations. */
int wse__sram_guard_broken(const wse_engine *e, uint32_t pe);
/* Free the arena and any scratch memory. */
void wse__sram_free(wse_engine *e);

static inline uint8_t *sram_base(const wse_engine *e, uint32_t pe)
{
    return e->chunks[e->pe[pe].sram_chunk] + e->pe[pe].sram_off;
}

#endif
