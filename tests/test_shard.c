/*
 * tests/test_shard.c - shards: the grid, and the central property that a
 * region cut into any grid of shards gives bit-identical results, cycle
 * counts and statistics, including backpressure, contention, routing
 * errors and deadlocks across shard edges.  All shards live in this
 * process (MPI_COMM_SELF); the MPI transport is tested by the mpi_* tests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <CUnit/CUnit.h>
#include "harness.h"
#include "probe.h"
#include "test_list.h"
#include "wse/hostio.h"
#include "wse/io.h"
#include "wse/programs.h"
#include "wse/shard.h"

typedef struct heat_params { int64_t tile_w, tile_h, steps; double alpha; } heat_params;
typedef harness_outcome outcome;

static uint64_t relaxed_window;    /* 0: exact */

static outcome run_grid(const wse_program *prog, const void *params, const wse_topology *t,
                        int w, int h, int gx, int gy, int with_input)
{
    return harness_run(prog, params, t, w, h, gx, gy, relaxed_window, with_input);
}

static void same(const outcome *a, const outcome *b)
{
    harness_same(a, b);
}

static void test_grid_cuts(void)
{
    wse_grid *g = NULL;
    wse_error err;
    wse_error_clear(&err);
    int px, py, gx, gy;
    CU_ASSERT_EQUAL_FATAL(wse_grid_create(10, 7, 6, 0, 0, 1, &g, &err), 0);
    wse_grid_ranks(g, &px, &py);
    wse_grid_shards(g, &gx, &gy);
    CU_ASSERT_EQUAL(px * py, 6);
    CU_ASSERT_EQUAL(wse_grid_rect(g, 0, 0).x, 0);
    CU_ASSERT_EQUAL(wse_grid_rect(g, gx - 1, 0).x + wse_grid_rect(g, gx - 1, 0).width, 10);
    CU_ASSERT_EQUAL(wse_grid_rect(g, 0, gy - 1).y + wse_grid_rect(g, 0, gy - 1).height, 7);
    wse_grid_destroy(g);
    CU_ASSERT_EQUAL(wse_grid_create(10, 7, 4, 3, 1, 1, &g, &err), WSE_ECONFIG);
    CU_ASSERT_PTR_NULL(g);
    CU_ASSERT_STRING_EQUAL(err.msg, "--grid 3x1 needs 3 ranks, but 4 are running");
    wse_error_clear(&err);
    CU_ASSERT_EQUAL(wse_grid_create(4, 7, 5, 5, 1, 1, &g, &err), WSE_ECONFIG);
    /* threads are capped so every shard keeps a row */
    CU_ASSERT_EQUAL_FATAL(wse_grid_create(4, 3, 1, 1, 1, 8, &g, &err), 0);
    wse_grid_shards(g, &gx, &gy);
    CU_ASSERT_EQUAL(wse_grid_threads(g), 3);
    CU_ASSERT_EQUAL(gy, 3);
    /* uneven columns for in-process tests; cuts must increase */
    static const int good[4] = { 0, 1, 3, 4 }, bad[3] = { 0, 2, 2 };
    CU_ASSERT_EQUAL(wse_grid_split_columns(g, 3, good, &err), 0);
    wse_grid_shards(g, &gx, &gy);
    CU_ASSERT_EQUAL(gx, 3);
    CU_ASSERT_EQUAL(wse_grid_rect(g, 1, 2).width, 2);
    CU_ASSERT_EQUAL(wse_grid_owner(g, 2, 2), 0);
    CU_ASSERT_EQUAL(wse_grid_split_columns(g, 2, bad, &err), WSE_EINVAL);
    wse_grid_destroy(g);
}

static void test_heat_any_grid(void)
{
    const wse_program *prog = wse_program_find("heat2d");
    heat_params p = { 3, 2, 6, 0.2 };
    const int w = 7, h = 5;
    static const int grids[][2] = { { 2, 1 }, { 1, 2 }, { 2, 2 }, { 3, 2 }, { 7, 1 }, { 1, 5 }, { 7, 5 } };
    for (int lat = 1; lat <= 2; lat++) {
        wse_topology t = probe_topology(w, h, lat == 1 ? 2 : 1, lat);
        outcome ref = run_grid(prog, &p, &t, w, h, 1, 1, 1);
        CU_ASSERT_EQUAL_FATAL(ref.rc, 0);
        CU_ASSERT(ref.st.hops > 0);
        for (size_t i = 0; i < sizeof grids / sizeof grids[0]; i++) {
            outcome o = run_grid(prog, &p, &t, w, h, grids[i][0], grids[i][1], 1);
            same(&ref, &o);
        }
    }
}

/* probe scenarios from the fabric tests, across shard edges */
static void line(wse_pe *pe, probe_state *s, const probe_params *p)
{
    int x = pe_x(pe), last = pe_width(pe) - 1;
    if (pe_y(pe) != 1)
        return;
    if (x == 0) {
        probe_source(pe, s, 0, WSE_E, p->n, 100);
    } else if (x < last) {
        pe_route(pe, 0, WSE_W, x == 2 ? (WSE_E | WSE_S) : WSE_E);
    } else {
        probe_sink(pe, s, 0, WSE_W, p->n, p->arg);
    }
}

/* PE (2,1) also sends down to (2,2), which consumes slowly or (arg 2) has
 * no route at all (a routing error at a shard edge) */
static void line_branch(wse_pe *pe, probe_state *s, const probe_params *p)
{
    if (pe_x(pe) == 2 && pe_y(pe) == 2) {
        if (p->arg == 2)
            return;
        pe_route(pe, 0, WSE_N, WSE_RAMP);
        probe_bind_data(pe, s, 0);
        s->expect = (uint32_t)p->n;
        s->charge = 7;
        return;
    }
    line(pe, s, p);
}

static void test_probe_any_grid(void)
{
    const int w = 6, h = 3;
    static const int grids[][2] = { { 2, 1 }, { 3, 3 }, { 6, 1 }, { 6, 3 }, { 1, 3 } };
    for (int arg = 0; arg <= 2; arg++)
        for (int lat = 1; lat <= 3; lat += 2) {
            wse_topology t = probe_topology(w, h, 2, lat);
            probe_params p = { line_branch, 9, arg == 1 ? 5 : 0 };
            if (arg == 2)
                p.arg = 2;
            outcome ref = run_grid(&probe_program, &p, &t, w, h, 1, 1, 0);
            CU_ASSERT_EQUAL(ref.rc, arg == 2 ? WSE_EROUTE : 0);
            for (size_t i = 0; i < sizeof grids / sizeof grids[0]; i++) {
                outcome o = run_grid(&probe_program, &p, &t, w, h, grids[i][0], grids[i][1], 0);
                same(&ref, &o);
            }
        }
}

static void starve(wse_pe *pe, probe_state *s, const probe_params *p)
{
    (void)p;
    pe_route(pe, 3, WSE_W, WSE_RAMP);
    if (pe_x(pe) == 2) {
        probe_bind_data(pe, s, 3);
        s->expect = 1;
    }
}

static void test_deadlock_any_grid(void)
{
    wse_topology t = probe_topology(4, 3, 2, 1);
    probe_params p = { starve, 0, 0 };
    outcome ref = run_grid(&probe_program, &p, &t, 4, 3, 1, 1, 0);
    CU_ASSERT_EQUAL(ref.rc, WSE_EDEADLOCK);
    CU_ASSERT_PTR_NOT_NULL(strstr(ref.msg, "3 of 12 PEs unfinished"));
    CU_ASSERT_PTR_NOT_NULL(strstr(ref.msg, "PE (2,0) waits for data on color 3"));
    outcome o = run_grid(&probe_program, &p, &t, 4, 3, 2, 3, 0);
    same(&ref, &o);
}

/* Relaxed mode: one shard is still exact; several shards deliver
 * crossings late (counted) but heat2d's values do not depend on timing. */
static void test_relaxed(void)
{
    const wse_program *prog = wse_program_find("heat2d");
    heat_params p = { 3, 2, 6, 0.2 };
    wse_topology t = probe_topology(7, 5, 2, 1);
    outcome exact = run_grid(prog, &p, &t, 7, 5, 2, 2, 1);
    relaxed_window = 16;
    outcome one = run_grid(prog, &p, &t, 7, 5, 1, 1, 1);
    outcome four = run_grid(prog, &p, &t, 7, 5, 2, 2, 1);
    relaxed_window = 0;
    CU_ASSERT_EQUAL(one.rc, 0);
    CU_ASSERT_EQUAL(four.rc, 0);
    same(&exact, &one);                         /* nothing crosses an edge */
    CU_ASSERT_EQUAL(one.st.late_wavelets, 0u);
    CU_ASSERT_EQUAL(exact.st.late_wavelets, 0u);
    CU_ASSERT(four.st.late_wavelets > 0);
    CU_ASSERT(four.st.late_cycles >= four.st.late_wavelets);
    CU_ASSERT_EQUAL(four.digest, exact.digest); /* same values ... */
    CU_ASSERT(four.st.cycles > exact.st.cycles); /* ... later */
    CU_ASSERT_EQUAL(four.st.hops, exact.st.hops);
}

int test_shard_suite(void)
{
    CU_pSuite s = CU_add_suite("shard", NULL, NULL);
    if (!s || !CU_add_test(s, "grid cuts and errors", test_grid_cuts) ||
        !CU_add_test(s, "heat2d: same bits on any shard grid", test_heat_any_grid) ||
        !CU_add_test(s, "probe: same timing across shard edges", test_probe_any_grid) ||
        !CU_add_test(s, "deadlock across shards", test_deadlock_any_grid) ||
        !CU_add_test(s, "relaxed mode: late but counted", test_relaxed))
        return CU_get_error();
    return 0;
}
