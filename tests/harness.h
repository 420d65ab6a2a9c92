/*
 * tests/harness.h - run a program on a grid of shards inside this process
 * and compare outcomes: the determinism check every workload's tests use.
 */
#ifndef WSE_TEST_HARNESS_H
#define WSE_TEST_HARNESS_H

#include <stdint.h>
#include "wse/config.h"
#include "wse/engine.h"
#include "wse/shard.h"

typedef struct harness_outcome {
    int rc;
    char msg[1024];
    wse_engine_stats st;
    uint64_t digest;            /* of every output array, gathered */
} harness_outcome;

/* A grid of gx x gy shards, all on this rank, with uneven column cuts
 * (destroy with wse_grid_destroy). */
wse_grid *harness_local_grid(int w, int h, int gx, int gy);

/*
 * Run prog on a w x h region of topology t cut into gx x gy local shards
 * (window 0: exact; else relaxed).  With random_inputs, every input array
 * is generated (random in [-1, 1), or {0, 1} for uint8 arrays; seed 5 + its
 * index).
 */
harness_outcome harness_run(const wse_program *prog, const void *params, const wse_topology *t,
                            int w, int h, int gx, int gy, uint64_t window, int random_inputs);

/*
 * Load jobs/NAME (under WSE_SOURCE_DIR) the way wse_run does: the job,
 * its topology, the region and prog's params (into params).  Asserts (and
 * ends the test on failure) that each step succeeds, that the job names
 * prog and that it asks for verify.
 */
void harness_load_job(const char *name, const wse_program *prog, wse_job *job,
                      wse_topology *topo, void *params);

/* 1 in the sanitizer build, where tests skip full-wafer loads (ASan
 * makes a 745,500-PE setup take minutes); they run in the normal build. */
int harness_quick(void);

/* CUnit assertions that two runs' statistics are identical: every counter
 * wse/stats.h marks exact, and every peak with its place. */
void harness_same_stats(const wse_engine_stats *a, const wse_engine_stats *b);

/* CUnit assertions that two outcomes are identical (only the error for
 * runs stopped by an error other than a deadlock). */
void harness_same(const harness_outcome *a, const harness_outcome *b);

/* For an array that stands for each PE's whole state (one element per PE,
 * shape [height, width]): wse_engine_block(e, array, x, y, &b) then gives
 * the PE's state in b.ptr. */
int harness_pe_shape(const void *params, int width, int height, int64_t shape[3]);
void harness_pe_state_block(const wse_pe *pe, const void *state, wse_array_block *b);

#endif
