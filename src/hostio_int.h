/*
 * src/hostio_int.h - runs of an array packed from an engine's PEs, the
 * transport buffer of output gathering (transfer.c).
 */
#ifndef WSE_HOSTIO_INT_H
#define WSE_HOSTIO_INT_H

#include <stdint.h>
#include "wse/hostio.h"

/* Runs of one array gathered from PEs: element offsets in the global array
 * (C order), lengths, and the data back to back. */
typedef struct wse_runs {
    uint64_t *off, *len;
    uint8_t *data;
    uint64_t n, cap, bytes, bcap;
} wse_runs;

/* Append this engine's blocks of spec index `array` to r. */
int wse__hostio_pack(wse_engine *e, int array, wse_runs *r, wse_error *err);
void wse__hostio_runs_clear(wse_runs *r);
void wse__hostio_runs_free(wse_runs *r);

#endif
