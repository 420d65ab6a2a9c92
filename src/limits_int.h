/*
 * src/limits_int.h - every compile-time limit of the emulator, with the field
 * widths it depends on.  Change a limit here and the static assertions
 * below say which field must grow with it.
 *
 * Limits a PE program sees (colors, task ids) are defined in wse/pe.h,
 * which must stand alone; they are restated and checked here.
 */
#ifndef WSE_LIMITS_INT_H
#define WSE_LIMITS_INT_H

#include <stdint.h>
#include "wse/pe.h"

/* ---------------------------------------------------------- topology
 * Bounds the topology schema (config.c) enforces. */

/* Routable colors, ids 0..colors-1 (WSE_MAX_COLORS, pe.h).  Color sets are
 * uint32_t masks (fabin colors in the CE) and queue colors are uint8_t. */
#define WSE_LIMIT_COLORS WSE_MAX_COLORS

/* Wavelets per router input queue.  The hardware's queues hold at most 8
 * words (WSE-2: 2-6, WSE-3: 4-8), and each queue keeps the control flags
 * of its slots in one uint8_t (wse_queue.ctrl), one bit per slot. */
#define WSE_MAX_QUEUE_DEPTH 8

/* Hop latency in cycles.  A queue remembers its pushes and pops of the
 * last 32 cycles in uint32_t histories, and wakes less than WSE_RING
 * cycles ahead go into the ring: both must exceed the latency. */
#define WSE_MAX_HOP_LATENCY 16
/* One link's latency: the hop latency plus what a defect repair adds to a
 * stretched link (yield.c), held in wse_queue.lat. */
#define WSE_MAX_LINK_LATENCY 31

/* ---------------------------------------------------------- tasks */

/* Task ids 0..WSE_MAX_TASKS-1 (pe.h): activated, blocked, data and local
 * task sets are uint64_t bit sets; an op's on_done is an int8_t. */
_Static_assert(WSE_MAX_TASKS == 64, "task sets are uint64_t");
_Static_assert(WSE_MAX_COLORS <= 32, "color sets are uint32_t");
_Static_assert(WSE_LOCAL_TASK(WSE_MAX_LOCAL_TASKS - 1) < WSE_MAX_TASKS, "local task ids fit");

/* Switch positions per route (pe.h), and routes with switches, filters or
 * color swap per shard: wse_queue.tx indexes them (uint32_t). */
_Static_assert(WSE_SWITCH_POSITIONS == 4, "a route record keeps 4 positions");

/* ---------------------------------------------------------- fabric ops */

/* Words one fabric operation moves: wse_op.n and .done are uint16_t. */
#define WSE_MAX_OP_LENGTH 65535
/* Stride in words of a fabric operation: wse_op.stride is int16_t. */
#define WSE_MIN_OP_STRIDE (-32768)
#define WSE_MAX_OP_STRIDE 32767
/* Fabric operations in progress per PE: wse_pestate.nops is uint8_t. */
#define WSE_MAX_OPS_PER_PE 255
/* A PE's operations live in chained blocks of this many (see ce.c). */
#define WSE_OPS_PER_BLOCK 4

/* ---------------------------------------------------------- time */

/* Wakes less than WSE_RING cycles ahead go into a ring of bitmaps
 * (deduplicated for free), later ones into a heap.  Queue histories are
 * 32 bits wide, matching. */
#define WSE_RING 32
_Static_assert(WSE_MAX_HOP_LATENCY < WSE_RING, "a hop must fit in the ring");
_Static_assert(WSE_MAX_HOP_LATENCY < 32, "a hop must fit in a queue history");
_Static_assert(WSE_MAX_LINK_LATENCY < 32 && WSE_MAX_LINK_LATENCY < WSE_RING,
               "a stretched link must fit in a queue history and the ring");
/* Queue stamps keep 32 bits of the cycle; every history is brought up to
 * date at least once per WSE_SWEEP_CYCLES, so 32-bit differences stay
 * exact (they must stay below 2^31). */
#define WSE_SWEEP_CYCLES (1ull << 30)

/* ---------------------------------------------------------- shards */

/* PEs per shard: local PE indices are uint32_t, and bit 31 (WSE_HALO_PE)
 * marks a neighbour shard's PE during setup, with its side in bits 24-25
 * and its offset along the side below. */
#define WSE_MAX_SHARD_PES (1u << 30)
#define WSE_HALO_PE 0x80000000u
#define WSE_HALO_SIDE_SHIFT 24
/* Queues per PE: wse_pestate.nq is uint16_t. */
#define WSE_MAX_QUEUES_PER_PE 65535

/* ---------------------------------------------------------- SRAM arena */

/* PEs' SRAM blocks are carved from chunks of at most this size. */
#define WSE_SRAM_CHUNK_BYTES (64u << 20)
/* Guard bytes after each PE's block, checked after every task. */
#define WSE_SRAM_GUARD_BYTES 16
/* Alignment of every pe_alloc. */
#define WSE_SRAM_ALIGN 16
/* Big arrays are aligned to, and madvised as, transparent huge pages. */
#define WSE_HUGE_PAGE (2u << 20)

#endif
