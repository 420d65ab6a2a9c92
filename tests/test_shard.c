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
#include "probe.h"
#include "test_list.h"
#include "wse/hostio.h"
#include "wse/io.h"
#include "wse/programs.h"
#include "wse/shard.h"

/* A grid of gx x gy shards, all on this rank, with uneven cuts. */
static void local_grid(wse_grid *g, int w, int h, int gx, int gy)
{
    wse_error err;
    CU_ASSERT_EQUAL_FATAL(wse_grid_make(w, h, 1, 1, 1, gy, g, &err), 0);
    CU_ASSERT_EQUAL_FATAL(g->gy, gy);
    free(g->xcut);
    g->xcut = calloc((size_t)gx + 1, sizeof *g->xcut);
    g->gx = gx;
    g->xsub = gx;
    for (int i = 0; i <= gx; i++)   /* deliberately uneven: squares of i */
        g->xcut[i] = (int)((int64_t)w * i * i / (gx * gx));
    for (int i = 1; i <= gx; i++)
        if (g->xcut[i] <= g->xcut[i - 1])
            g->xcut[i] = g->xcut[i - 1] + 1;
    g->xcut[gx] = w;
}

typedef struct outcome {
    int rc;
    char msg[1024];
    wse_engine_stats st;
    uint64_t digest;
} outcome;

typedef struct heat_params { int64_t tile_w, tile_h, steps; double alpha; } heat_params;

static uint64_t relaxed_window;    /* 0: exact */

static outcome run_grid(const wse_program *prog, const void *params, const wse_topology *t,
                        int w, int h, int gx, int gy, int with_input)
{
    outcome o;
    memset(&o, 0, sizeof o);
    wse_grid g;
    local_grid(&g, w, h, gx, gy);
    g.window = relaxed_window;
    wse_rect region = { 0, 0, w, h };
    wse_sim *s = NULL;
    wse_error err;
    wse_error_clear(&err);
    o.rc = wse_sim_create(t, prog, params, region, &g, MPI_COMM_SELF, &s, &err);
    wse_host_array in, out;
    memset(&in, 0, sizeof in);
    memset(&out, 0, sizeof out);
    if (!o.rc && with_input) {
        wse_input spec = { .name = "u0", .kind = WSE_INPUT_GENERATE, .generator = WSE_GEN_RANDOM,
                           .seed = 5, .lo = -1, .hi = 1 };
        CU_ASSERT_EQUAL_FATAL(wse_hostio_input(prog, params, w, h, &spec, &in, &err), 0);
        for (int k = 0; k < wse_sim_nlocal(s); k++)
            CU_ASSERT_EQUAL(wse_hostio_scatter(wse_sim_local(s, k), 0, &in, &err), 0);
    }
    if (!o.rc)
        o.rc = wse_sim_run(s, 10000000, &err);
    if (s) {
        wse_sim_stats(s, &o.st);
        int out_idx = prog->n_arrays - 1;
        CU_ASSERT_EQUAL(wse_hostio_alloc(prog, params, w, h, out_idx, &out, &err), 0);
        for (int k = 0; k < wse_sim_nlocal(s); k++)
            wse_hostio_gather(wse_sim_local(s, k), out_idx, &out, &err);
        o.digest = wse_digest(WSE_DIGEST_INIT, out.data,
                              wse_host_array_count(&out) * wse_dtype_size(out.dtype));
    }
    snprintf(o.msg, sizeof o.msg, "%s", err.msg);
    wse_host_array_free(&in);
    wse_host_array_free(&out);
    wse_sim_destroy(s);
    wse_grid_free(&g);
    return o;
}

static void same(const outcome *a, const outcome *b)
{
    if (getenv("WSE_TEST_DEBUG") && (a->st.pe_visits != b->st.pe_visits || strcmp(a->msg, b->msg) || a->st.cycles != b->st.cycles))
        printf("\n  ref: rc %d cycles %llu visits %llu hops %llu '%s'\n  got: rc %d cycles %llu visits %llu hops %llu '%s'\n",
               a->rc, (unsigned long long)a->st.cycles, (unsigned long long)a->st.pe_visits, (unsigned long long)a->st.hops, a->msg,
               b->rc, (unsigned long long)b->st.cycles, (unsigned long long)b->st.pe_visits, (unsigned long long)b->st.hops, b->msg);
    CU_ASSERT_EQUAL(a->rc, b->rc);
    CU_ASSERT_STRING_EQUAL(a->msg, b->msg);
    if (a->rc != 0 && a->rc != WSE_EDEADLOCK)
        return;     /* a run stopped by an error ends mid-window: compare the error only */
    CU_ASSERT_EQUAL(a->digest, b->digest);
    CU_ASSERT_EQUAL(a->st.cycles, b->st.cycles);
    CU_ASSERT_EQUAL(a->st.hops, b->st.hops);
    CU_ASSERT_EQUAL(a->st.tasks_run, b->st.tasks_run);
    CU_ASSERT_EQUAL(a->st.wavelets_sent, b->st.wavelets_sent);
    CU_ASSERT_EQUAL(a->st.wavelets_received, b->st.wavelets_received);
    CU_ASSERT_EQUAL(a->st.busy_cycles, b->st.busy_cycles);
    CU_ASSERT_EQUAL(a->st.flops, b->st.flops);
    CU_ASSERT_EQUAL(a->st.link_max, b->st.link_max);
    CU_ASSERT_EQUAL(a->st.link_max_x, b->st.link_max_x);
    CU_ASSERT_EQUAL(a->st.link_max_y, b->st.link_max_y);
    CU_ASSERT_EQUAL(a->st.link_max_port, b->st.link_max_port);
    CU_ASSERT_EQUAL(a->st.sram_max, b->st.sram_max);
    CU_ASSERT_EQUAL(a->st.pe_visits, b->st.pe_visits);
}

static void test_grid_cuts(void)
{
    wse_grid g;
    wse_error err;
    wse_error_clear(&err);
    CU_ASSERT_EQUAL(wse_grid_make(10, 7, 6, 0, 0, 1, &g, &err), 0);
    CU_ASSERT_EQUAL(g.px * g.py, 6);
    CU_ASSERT_EQUAL(g.xcut[0], 0);
    CU_ASSERT_EQUAL(g.xcut[g.gx], 10);
    CU_ASSERT_EQUAL(g.ycut[g.gy], 7);
    wse_grid_free(&g);
    CU_ASSERT_EQUAL(wse_grid_make(10, 7, 4, 3, 1, 1, &g, &err), WSE_ECONFIG);
    CU_ASSERT_STRING_EQUAL(err.msg, "--grid 3x1 needs 3 ranks, but 4 are running");
    wse_error_clear(&err);
    CU_ASSERT_EQUAL(wse_grid_make(4, 7, 5, 5, 1, 1, &g, &err), WSE_ECONFIG);
    /* threads are capped so every shard keeps a row */
    CU_ASSERT_EQUAL(wse_grid_make(4, 3, 1, 1, 1, 8, &g, &err), 0);
    CU_ASSERT_EQUAL(g.threads, 3);
    CU_ASSERT_EQUAL(g.gy, 3);
    wse_grid_free(&g);
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
