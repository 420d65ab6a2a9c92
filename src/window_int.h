/*
 * src/window_int.h - how the shard layer drives engines in windows.
 *
 * Several engines, each owning one shard of a region, run one program
 * together in windows of at least hop_latency_cycles: every engine
 * advances to the window's end, then each hands its neighbours the events
 * that cross its edges (halo_int.h), and each applies what it received.
 */
#ifndef WSE_WINDOW_INT_H
#define WSE_WINDOW_INT_H

#include "fault_int.h"
#include "halo_int.h"

/* First cycle >= the current one at which something happens here, or
 * UINT64_MAX. */
uint64_t wse__engine_next(const wse_engine *e);
/* Process every cycle before end.  Returns 0 or the run's error. */
int wse__engine_advance(wse_engine *e, uint64_t end, wse_error *err);
/* Last cycle in which anything happened; PEs not yet finished. */
uint64_t wse__engine_last_active(const wse_engine *e);
uint32_t wse__engine_unfinished(const wse_engine *e);
/* The first max unfinished PEs in row-major order; returns how many. */
int wse__engine_stuck(const wse_engine *e, int max, wse_stuck *out);

#endif
