/*
 * src/ce_int.h - the compute engine: fabric operations in flight and task
 * dispatch.
 */
#ifndef WSE_CE_INT_H
#define WSE_CE_INT_H

#include <stddef.h>
#include "engine_int.h"

/* Cycles of a vector operation of n elements done at once, inside a
 * task: vector_startup_cycles, then the slowest of the datapath (simd
 * elements a cycle) and the SRAM ports (rd and wr bytes per element, against
 * the topology's bytes per cycle; a bound of 0, as in topologies built in
 * code, is none). */
static inline uint64_t ceil_div_u64(uint64_t a, uint64_t b) { return b ? (a + b - 1) / b : 0; }
static inline uint64_t wse__vector_cycles(const wse_topology *t, uint64_t n, int simd,
                                          unsigned rd, unsigned wr)
{
    uint64_t c = ceil_div_u64(n, (uint64_t)simd);
    uint64_t r = ceil_div_u64(n * rd, (uint64_t)t->sram_read_bytes_per_cycle);
    uint64_t w = ceil_div_u64(n * wr, (uint64_t)t->sram_write_bytes_per_cycle);
    c = r > c ? r : c;
    return (uint64_t)t->vector_startup_cycles + (w > c ? w : c);
}

/* A new op slot after PE pe's last op, or NULL (out of memory, or the PE
 * already has WSE_MAX_OPS_PER_PE ops in progress). */
wse_op *wse__ce_op_push(wse_engine *e, uint32_t pe);
/* Whether PE pe may issue one more fabric op taking from color in_color
 * and/or giving to out_color (-1: none) with flags, on microthread ut
 * (WSE_UT, -1: none): 0, or 1 after failing
 * the run with what it would take more of than the program has (see
 * docs/MODEL.md, "Hardware resources"). */
int wse__ce_over_limit(wse_engine *e, uint32_t pe, const char *what, const char *resource,
                       unsigned need, int limit, int total);
int wse__ce_over_resources(wse_engine *e, uint32_t pe, int in_color, int out_color,
                           unsigned flags, int ut, const char *what);
/* Whether color lacks the initialised input (out 0) or output (out 1)
 * queue a strict (wse3) topology needs for it: 0, or 1 after failing the
 * run naming the color. */
int wse__ce_no_queue(wse_engine *e, uint32_t pe, int color, int out, const char *what);
/* The WSE_UT id in flags (*ut, -1: none): 0, or 1 after failing the run
 * if it may not be named (not wse3, not WSE_ASYNC, out of range, host
 * I/O's). */
int wse__ce_bad_ut(wse_engine *e, uint32_t pe, unsigned flags, int *ut, const char *what);
/* A new operand record for a descriptor operation in flight (its index
 * goes in the op's addr), or WSE_NONE when out of memory; may move
 * e->opx.  Released when the op completes, or with release. */
uint32_t wse__ce_opx_new(wse_engine *e);
void wse__ce_opx_release(wse_engine *e, uint32_t xi);
/* One cycle of PE pe's compute engine at t: its fabric operations move a
 * wavelet each where they can (in issue order, one per ramp direction),
 * then, if the CE is free, the highest-priority ready task runs.  Returns
 * 1 if the PE must be revisited next cycle. */
int wse__ce_step(wse_engine *e, uint32_t pe, uint64_t t);
/* What unfinished PE pe waits for, for deadlock reports. */
void wse__ce_describe(const wse_engine *e, uint32_t pe, char *buf, size_t n);
void wse__ce_free(wse_engine *e);
uint64_t wse__ce_bytes(const wse_engine *e);

#endif
