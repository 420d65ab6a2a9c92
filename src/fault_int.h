/*
 * src/fault_int.h - errors that name a PE, and deadlock reports.
 */
#ifndef WSE_FAULT_INT_H
#define WSE_FAULT_INT_H

#include <stdint.h>
#include "engine_int.h"

/* Record the run's first error, "PE (x,y) at cycle N: ...", and stop the
 * run.  A halo PE's errors are left to the shard that owns it.  Returns
 * code. */
int wse__fault_pe(wse_engine *e, uint32_t pe, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* An unfinished PE: its global index (y * region width + x) and what it
 * waits for. */
typedef struct wse_stuck { uint64_t index; char what[200]; } wse_stuck;

/* The deadlock error naming up to n stuck PEs. */
void wse__fault_deadlock(wse_error *err, uint64_t cycle, uint64_t unfinished,
                         uint64_t pes, const wse_stuck *s, int n);

#endif
