/*
 * src/router_int.h - routes and the router.
 *
 * Setup declares routes per (PE, color): an rx set of ports and a tx set.
 * After setup they are resolved once into queues: one per (PE, color, rx
 * port), plus a CE queue when tx has RAMP among other ports; each router
 * queue knows its target queue ids (several for a multicast), so the hot
 * path never looks a route up.
 */
#ifndef WSE_ROUTER_INT_H
#define WSE_ROUTER_INT_H

#include "engine_int.h"

/* ---- setup */

/* Declare a route of PE pe (an owned PE, or a halo PE's id): checks the
 * sets and records it.  Errors fail the run naming the PE. */
void wse__router_declare(wse_engine *e, uint32_t pe, int color, unsigned rx, unsigned tx);
/* Extras of the route of (pe, color), declared after it: switch positions,
 * a range filter on the CE output, color swap through some ports.  Errors
 * (no route yet, bad sets) fail the run naming the PE. */
void wse__router_switch(wse_engine *e, uint32_t pe, int color, const wse_switch *sw);
void wse__router_filter(wse_engine *e, uint32_t pe, int color, unsigned lo, unsigned hi);
void wse__router_swap(wse_engine *e, uint32_t pe, int color, unsigned ports);
/* Teardown: the task a teardown control wavelet activates (setup), and,
 * in that task, choosing a switch position and resuming the color. */
void wse__router_teardown(wse_engine *e, uint32_t pe, int color, int task);
void wse__router_set_position(wse_engine *e, uint32_t pe, int color, int position, const char *what);
void wse__router_resume(wse_engine *e, uint32_t pe, int color, uint64_t when);
/* Resolve every declared route into queues and targets (after all setups),
 * then drop the declarations.  Returns 0, WSE_EPROGRAM (a color routed
 * twice) or WSE_ENOMEM, with e->err set. */
int wse__router_resolve(wse_engine *e);
/* The queue of (pe, color) fed by the CE (rx RAMP), or WSE_NONE. */
uint32_t wse__router_ramp_queue(const wse_engine *e, uint32_t pe, int color);
/* How many CE queues PE pe has for color; *first gets the first one. */
unsigned wse__router_ce_queues(const wse_engine *e, uint32_t pe, int color, uint32_t *first);

/* ---- run time */

/* One cycle of PE pe's router at t: each router queue, in (color, port)
 * order, forwards its head if its outputs are free this cycle and every
 * target has a credit.  Returns 1 if the PE must be revisited next cycle
 * (a queue still holds visible wavelets it could not all move). */
int wse__router_step(wse_engine *e, uint32_t pe, uint64_t t);
/* After popping queue qi of PE pe at t: the producer gets its credit back
 * one hop later, here or, across a shard edge, through an event. */
void wse__router_popped(wse_engine *e, uint32_t pe, uint32_t qi, uint64_t t);

void wse__router_free(wse_engine *e);

#endif
