/*
 * src/halo_int.h - what crosses a shard's edges.
 *
 * A wavelet pushed into a neighbour shard's queue, or a slot freed in one
 * of this shard's queues that a neighbour shard feeds (a credit), becomes
 * an event in the outbox of that side.  Between windows the shard layer
 * hands each outbox to the neighbour, which applies it.  Nothing crossing
 * an edge can take effect sooner than one hop later, so windows of one hop
 * latency are exact.  Sides are WSE_PORT_N..W.
 *
 * Positions name queues without pointers: a push names the receiver's
 * queue by its index in the receiver's list of queues fed across that side
 * (bq, in queue order); a pop names the sender's ghost of it by its index
 * in the sender's ghosts of that side.  Both lists are built in the same
 * order (PE order along the side, then color), so they match.
 */
#ifndef WSE_HALO_INT_H
#define WSE_HALO_INT_H

#include "engine_int.h"

/* ---- building (once, after setup) */

/* Ghosts the halo routes need (one per halo route accepting wavelets from
 * the port facing this shard). */
uint64_t wse__halo_count_ghosts(const wse_engine *e);
/* Create the ghost queues from index *qi on, and the lists of owned
 * queues fed across each side.  Returns 0 or WSE_ENOMEM (e->err set). */
int wse__halo_build(wse_engine *e, uint32_t *qi);
/* The ghost of color in the neighbour shard's PE next to owned PE pe
 * across side d, or WSE_NONE if that PE does not accept it from us. */
uint32_t wse__halo_target(const wse_engine *e, uint32_t pe, int color, int d);

/* ---- run time */

/* A credit for owned queue qi (fed from a neighbour shard) freed at t. */
void wse__halo_credit(wse_engine *e, uint32_t qi, uint64_t t);
/* A wavelet (control flag ctrl) pushed at t into ghost queue tg across
 * side port. */
void wse__halo_wavelet(wse_engine *e, int port, uint32_t tg, uint32_t word, unsigned ctrl,
                       uint64_t t);

/* Events produced for side s since the last clear. */
const wse_event *wse__halo_outbox(const wse_engine *e, int side, uint32_t *n);
void wse__halo_outbox_clear(wse_engine *e);
/* The largest number of events a window of `window` cycles can produce
 * for side s. */
uint32_t wse__halo_outbox_max(const wse_engine *e, int side, uint64_t window);
/* Apply events a neighbour produced for this engine's side s, at the
 * start of the coming window.  An event older than one hop (possible only
 * with windows longer than the hop latency: relaxed mode) takes effect now
 * and is counted as late.  Returns 0 or WSE_EINVAL for an event that names
 * no queue. */
int wse__halo_apply(wse_engine *e, int side, const wse_event *ev, uint32_t n,
                    wse_error *err);

void wse__halo_free(wse_engine *e);

#endif
