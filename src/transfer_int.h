/*
 * src/transfer_int.h - host arrays to and from the PEs of a whole run:
 * every rank loads its own shards' part of each input; outputs are
 * gathered to rank 0 one row of shards at a time.
 */
#ifndef WSE_TRANSFER_INT_H
#define WSE_TRANSFER_INT_H

#include <stdint.h>
#include "wse/config.h"
#include "wse/shard.h"

/* Write job input `in` into this rank's shards' PEs: generated values
 * element by element, file data read per contiguous run, so no rank
 * holds more than its share.  Errors name the input's place in the job. */
int wse__transfer_load(wse_sim *s, const wse_input *in, wse_error *err);

/* Rank 0's consumer of a gathered array: called with consecutive bytes
 * of the global array in C order. */
typedef int (*wse_emit_fn)(void *arg, const void *data, uint64_t bytes, wse_error *err);

/* Stream array spec index `array` from every PE to rank 0, which gets it
 * whole, in order, through emit (elements no PE holds are zeros).  No
 * rank holds more than its share plus one row of shards.  Collective;
 * returns 0 or the first error (rank 0's emit errors included). */
int wse__transfer_stream(wse_sim *s, const wse_grid *g, int array, wse_emit_fn emit,
                         void *arg, wse_error *err);

#endif
