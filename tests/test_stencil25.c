/*
 * tests/test_stencil25.c - the stencil25 workload (8th-order acoustic wave
 * equation, radius-4 localised broadcasts) against its host reference:
 * on the engine with regions wider and narrower than the radius, queue
 * depth 1 and longer hops (bitwise equality and exact traffic and FLOP
 * counts), the same bytes and statistics on any grid of shards, the SRAM
 * budget, bad parameters, the full WSE-2 program rectangle, and the
 * shipped job; and the same with broadcast = 1 (router switches advanced
 * by control wavelets, 8 colors).
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

extern const wse_program wse_program_stencil25;
int test_stencil25_suite(void);

typedef struct s25_params {
    int64_t nz, steps;
    double dt, h, f0, amp;
    int64_t src_x, src_y, src_z;
    int64_t broadcast;
} s25_params;

static const wse_program *s25 = &wse_program_stencil25;

static s25_params s25_default(int nz, int steps)
{
    s25_params p = { nz, steps, 1e-3, 10.0, 200.0, 5.0, -1, -1, -1, 0 };
    return p;
}

/* vel in [1500, 3000) m/s (Courant number <= 0.3), p0 in [-1, 1). */
static const wse_input s25_vel = { .name = "vel", .kind = WSE_INPUT_GENERATE,
                                   .generator = WSE_GEN_RANDOM, .seed = 21, .lo = 1500, .hi = 3000 };
static const wse_input s25_p0 = { .name = "p0", .kind = WSE_INPUT_GENERATE,
                                  .generator = WSE_GEN_RANDOM, .seed = 22, .lo = -1, .hi = 1 };

/* Sum over PEs of the PEs each one's streams reach (up to 4 per side). */
static uint64_t s25_reach(int w, int h)
{
    uint64_t n = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int d[4] = { y, w - 1 - x, h - 1 - y, x };
            for (int k = 0; k < 4; k++)
                n += (uint64_t)(d[k] < 4 ? d[k] : 4);
        }
    return n;
}

/* Directions in which PEs have a neighbour, summed over PEs. */
static uint64_t s25_sends(int w, int h)
{
    return (uint64_t)2 * ((uint64_t)(w - 1) * h + (uint64_t)w * (h - 1));
}

/* Pairs of opposite streams (W and E, or N and S, at one distance) both
 * present at a PE, summed over PEs: the words the fabric adds. */
static uint64_t s25_pairs(int w, int h)
{
    uint64_t n = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 1; k <= 4; k++)
                n += (uint64_t)(x - k >= 0 && x + k < w) + (uint64_t)(y - k >= 0 && y + k < h);
    return n;
}

/* Run on one engine (with or without p0) and compare with the reference
 * bit for bit; check traffic and FLOP counts exactly. */
static void s25_check_on(const wse_topology *t, int w, int h, const s25_params *p, int with_p0)
{
    wse_rect r = { 0, 0, w, h };
    wse_engine *e = NULL;
    wse_error err;
    wse_error_clear(&err);
    CU_ASSERT_EQUAL_FATAL(wse_engine_create(t, s25, p, r, NULL, &e, &err), 0);
    wse_host_array vel, p0, out, ref;
    CU_ASSERT_EQUAL_FATAL(wse_hostio_input(s25, p, w, h, &s25_vel, &vel, &err), 0);
    CU_ASSERT_EQUAL_FATAL(wse_hostio_scatter(e, 0, &vel, &err), 0);
    if (with_p0) {
        CU_ASSERT_EQUAL_FATAL(wse_hostio_input(s25, p, w, h, &s25_p0, &p0, &err), 0);
        CU_ASSERT_EQUAL_FATAL(wse_hostio_scatter(e, 1, &p0, &err), 0);
    } else {
        CU_ASSERT_EQUAL_FATAL(wse_hostio_alloc(s25, p, w, h, 1, &p0, &err), 0);
    }
    CU_ASSERT_EQUAL_FATAL(wse_engine_run(e, 100000000, &err), 0);
    CU_ASSERT_EQUAL_FATAL(wse_hostio_alloc(s25, p, w, h, 2, &out, &err), 0);
    CU_ASSERT_EQUAL_FATAL(wse_hostio_gather(e, 2, &out, &err), 0);
    CU_ASSERT_EQUAL_FATAL(wse_hostio_alloc(s25, p, w, h, 2, &ref, &err), 0);
    void *arrays[3] = { vel.data, p0.data, ref.data };
    CU_ASSERT_EQUAL_FATAL(s25->host.reference(p, w, h, arrays), 0);
    uint64_t n = wse_host_array_count(&out);
    CU_ASSERT_EQUAL(out.ndim, 3);
    CU_ASSERT_EQUAL(n, (uint64_t)w * h * (uint64_t)p->nz);
    CU_ASSERT_EQUAL(memcmp(out.data, ref.data, n * sizeof(float)), 0);
    if (p->steps > 0) {     /* something happened, and it is finite */
        CU_ASSERT_NOT_EQUAL(memcmp(out.data, p0.data, n * sizeof(float)), 0);
        const float *o = out.data;
        for (uint64_t i = 0; i < n; i++)
            if (!(o[i] > -1e30f && o[i] < 1e30f)) {
                CU_FAIL("non-finite pressure");
                break;
            }
    }
    wse_engine_stats st;
    wse_engine_stats_get(e, &st);
    uint64_t steps = (uint64_t)p->steps, nz = (uint64_t)p->nz;
    uint64_t reach = s25_reach(w, h) * nz * steps;
    /* with switches every stream is followed by one control wavelet over
     * the same links, which no CE takes (CE filter): one per send and
     * step, s25_sends(w, h) per step */
    uint64_t ctrl = p->broadcast ? s25_sends(w, h) * steps : 0;
    uint64_t ctrl_hops = p->broadcast ? s25_reach(w, h) * steps : 0;
    CU_ASSERT_EQUAL(st.hops, reach + ctrl_hops);
    CU_ASSERT_EQUAL(st.wavelets_received, reach);
    CU_ASSERT_EQUAL(st.wavelets_sent, s25_sends(w, h) * nz * steps + ctrl);
    /* 33 flops per point and step in vector ops, one per word added by
     * the fabric (the second of two opposite streams, in both modes), 2
     * per point to turn vel into coef, and 9 per step for the source (7
     * length-1 ops of the recurrence, the injection) */
    uint64_t flops = 33 * n * steps + s25_pairs(w, h) * nz * steps + (steps ? 2 * n : 0) +
                     (p->amp != 0.0 ? 9 * steps : 0);
    CU_ASSERT_EQUAL(st.flops, flops);
    wse_host_array_free(&vel);
    wse_host_array_free(&p0);
    wse_host_array_free(&out);
    wse_host_array_free(&ref);
    wse_engine_destroy(e);
}

static void s25_check(int w, int h, const s25_params *p, int with_p0, int depth, int lat)
{
    wse_topology t = probe_topology(w, h, depth, lat);
    s25_check_on(&t, w, h, p, with_p0);
}

static void test_s25_9x9(void)
{
    s25_params p = s25_default(12, 8);
    s25_check(9, 9, &p, 1, 4, 1);
}

static void test_s25_uneven(void)
{
    s25_params p = s25_default(7, 6);
    p.src_x = 1;
    p.src_y = 4;
    p.src_z = 0;
    s25_check(11, 6, &p, 1, 2, 1);
}

/* Narrower than the radius: 3 x 2, 2 x 9, one row, one column, one PE. */
static void test_s25_narrow(void)
{
    s25_params p = s25_default(9, 5);
    s25_check(3, 2, &p, 1, 4, 1);
    s25_check(2, 9, &p, 1, 3, 2);
    s25_check(10, 1, &p, 1, 4, 1);
    s25_check(1, 6, &p, 1, 4, 1);
    s25_check(1, 1, &p, 1, 4, 1);
}

static void test_s25_depth1_latency3(void)
{
    s25_params p = s25_default(10, 5);
    s25_check(8, 7, &p, 1, 1, 3);
}

/* Source only (p0 = 0): the wavelet starts the field, nz shorter than
 * the radius. */
static void test_s25_source_only(void)
{
    s25_params p = s25_default(3, 12);
    p.f0 = 100.0;
    s25_check(6, 5, &p, 0, 4, 1);
    p.amp = 0.0;
    p.steps = 0;
    s25_check(4, 4, &p, 1, 4, 1);
}

/* The source propagates: zero field, source at one corner; after a few
 * steps PEs 4 columns away have moved, further ones not yet. */
static void test_s25_wavefront(void)
{
    const int w = 12, h = 1;
    s25_params p = s25_default(1, 3);
    p.src_x = 0;
    p.src_y = 0;
    p.src_z = 0;
    p.f0 = 300.0;
    wse_topology t = probe_topology(w, h, 4, 1);
    wse_rect r = { 0, 0, w, h };
    wse_engine *e = NULL;
    wse_error err;
    wse_error_clear(&err);
    CU_ASSERT_EQUAL_FATAL(wse_engine_create(&t, s25, &p, r, NULL, &e, &err), 0);
    wse_host_array vel, out;
    wse_input ones = { .name = "vel", .kind = WSE_INPUT_GENERATE, .generator = WSE_GEN_ONES };
    CU_ASSERT_EQUAL_FATAL(wse_hostio_input(s25, &p, w, h, &ones, &vel, &err), 0);
    float *v = vel.data;
    for (int i = 0; i < w; i++)
        v[i] = 2000.0f;
    CU_ASSERT_EQUAL_FATAL(wse_hostio_scatter(e, 0, &vel, &err), 0);
    CU_ASSERT_EQUAL_FATAL(wse_engine_run(e, 1000000, &err), 0);
    CU_ASSERT_EQUAL_FATAL(wse_hostio_alloc(s25, &p, w, h, 2, &out, &err), 0);
    CU_ASSERT_EQUAL_FATAL(wse_hostio_gather(e, 2, &out, &err), 0);
    const float *o = out.data;
    /* step 0 injects at x = 0, step 1 spreads it 4 columns, step 2 four more */
    CU_ASSERT(o[0] != 0.0f);
    CU_ASSERT(o[8] != 0.0f);
    CU_ASSERT(o[9] == 0.0f && o[11] == 0.0f);
    wse_host_array_free(&vel);
    wse_host_array_free(&out);
    wse_engine_destroy(e);
}

/* ------------------------------------------------------------ switches */

/* broadcast = 1, bitwise and with exact traffic (one control wavelet per
 * stream) on regions wider and narrower than the radius: lines of 1..4
 * PEs (some PEs take part in fewer segments, the last PE of a line sends
 * nothing), lengths that are and are not multiples of the 5 turns, queue
 * depths 1 and 2, a hop latency of 3. */
static void test_s25_switch_sizes(void)
{
    static const int sizes[][2] = { { 9, 9 }, { 3, 2 }, { 2, 9 }, { 10, 1 }, { 1, 6 },
                                    { 1, 1 }, { 5, 5 }, { 4, 4 }, { 13, 7 }, { 16, 3 } };
    s25_params p = s25_default(7, 5);
    p.broadcast = 1;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        s25_check(sizes[i][0], sizes[i][1], &p, 1, 4, 1);
    p.src_x = 1;
    p.src_y = 4;
    p.src_z = 0;
    s25_check(11, 6, &p, 1, 2, 1);
    s25_check(8, 7, &p, 1, 1, 3);
    p = s25_default(3, 12);                 /* source only, nz below the radius */
    p.broadcast = 1;
    p.f0 = 100.0;
    s25_check(6, 5, &p, 0, 4, 1);
}

/* With switches only colors 0..7 are routed, sent or received on (the
 * engine stops a run that uses a color the topology lacks), so a line
 * time-shares 2 colors per direction among the 5 senders of each segment
 * window, where static multicast routes need 5; 7 colors are refused at
 * load, and multicast still asks for 20. */
static void test_s25_switch_colors(void)
{
    s25_params p = s25_default(6, 4);
    p.broadcast = 1;
    wse_topology t = probe_topology(12, 11, 4, 1);
    t.colors = 8;
    s25_check_on(&t, 12, 11, &p, 1);
    wse_rect r = { 0, 0, 12, 11 };
    wse_engine *e = NULL;
    wse_error err;
    t.colors = 7;
    wse_error_clear(&err);
    CU_ASSERT_EQUAL(wse_engine_create(&t, s25, &p, r, NULL, &e, &err), WSE_EPROGRAM);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "needs 8 colors, the topology has 7"));
    p.broadcast = 0;
    t.colors = 8;
    wse_error_clear(&err);
    CU_ASSERT_EQUAL(wse_engine_create(&t, s25, &p, r, NULL, &e, &err), WSE_EPROGRAM);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "needs 20 colors, the topology has 8"));
}

/* Run with switches on t; returns the code, err gets the message. */
static int s25_switch_run(const wse_topology *t, int w, int h, const s25_params *p, wse_error *err)
{
    wse_rect r = { 0, 0, w, h };
    wse_engine *e = NULL;
    wse_error_clear(err);
    int rc = wse_engine_create(t, s25, p, r, NULL, &e, err);
    if (rc == 0)
        rc = wse_engine_run(e, 100000000, err);
    wse_engine_destroy(e);
    return rc;
}

static void s25_switch_fails(const wse_topology *t, const s25_params *p, const char *msg)
{
    wse_error err;
    CU_ASSERT_EQUAL(s25_switch_run(t, 11, 6, p, &err), WSE_EPROGRAM);
    if (!strstr(err.msg, msg))
        fprintf(stderr, "\n  got:  %s\n  want: %s\n", err.msg, msg);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, msg));
}

/* With switches a PE has one axis in flight at a time: its 2 sends (2
 * output queues) and 4 receive chains (4 input queues), at most 6
 * microthreads, local task ids 8..17.  So it runs, bitwise, on wse2's
 * limits (which leave its 7 receive colors of the run implicit queues),
 * and on 11 x 6 PEs (nz 8) each limit is reached: one queue, microthread
 * or task id fewer fails at the call that needs it.  With wse3's rule a
 * queue holds one color for the whole run, so it runs where no PE
 * receives on more than 6 colors (8 x 8) and fails at load on 11 x 6. */
static void test_s25_switch_resources(void)
{
    s25_params p = s25_default(8, 4);
    p.broadcast = 1;
    for (int arch = WSE_ARCH_WSE2; arch <= WSE_ARCH_WSE3; arch++) {
        int w = arch == WSE_ARCH_WSE2 ? 11 : 8, h = arch == WSE_ARCH_WSE2 ? 6 : 8;
        wse_topology t = probe_topology(w, h, 4, 1);
        wse_topology_set_arch(&t, arch);
        s25_check_on(&t, w, h, &p, 1);
    }
    wse_topology t3 = probe_topology(11, 6, 4, 1);
    wse_topology_set_arch(&t3, WSE_ARCH_WSE3);
    wse_error err3;
    CU_ASSERT_EQUAL(s25_switch_run(&t3, 11, 6, &p, &err3), WSE_EPROGRAM);
    CU_ASSERT_PTR_NOT_NULL(strstr(err3.msg, "PE (4,1) at cycle 0: program 'stencil25': broadcast 1 receives on 7 colors at this PE, "
                                            "and with the wse3 queue rule each needs an input queue of its own for the whole "
                                            "run: the topology leaves 6"));
    wse_topology t = probe_topology(11, 6, 4, 1);      /* wse2: 6 IQ, 4 OQ, 6 threads */
    t.microthreads--;
    s25_switch_fails(&t, &p, "needs 6 microthreads (queues with WSE_ASYNC operations in progress) at once; topology 'probe' leaves a program 5");
    t = probe_topology(11, 6, 4, 1);
    t.input_queues = t.host_io_queues + 3;
    s25_switch_fails(&t, &p, "pe_fabin: needs 4 input queues (colors of data tasks and fabins in progress) at once; topology 'probe' leaves a program 3");
    t = probe_topology(11, 6, 4, 1);
    t.output_queues = t.host_io_queues + 1;
    s25_switch_fails(&t, &p, "pe_fabout: needs 2 output queues (colors of fabouts and sends in progress) at once; topology 'probe' leaves a program 1");
    t = probe_topology(11, 6, 4, 1);
    t.local_task_max = t.host_io_first_task = WSE_LOCAL_TASK(9);    /* ids 8..16 */
    s25_switch_fails(&t, &p, "pe_bind_local_task: task id 17 is not a local task id");
}

/* Multicast with wse3's queue rule: a PE receives each of its up to 16
 * streams on a color of its own, and each needs an input queue for the
 * whole run, so it runs where no PE takes more than 6 (4 x 4) and fails
 * at load beyond (5 x 5: 8 at the corner). */
static void test_s25_multicast_strict(void)
{
    s25_params p = s25_default(8, 3);
    wse_topology t = probe_topology(4, 4, 4, 1);
    wse_topology_set_arch(&t, WSE_ARCH_WSE3);
    s25_check_on(&t, 4, 4, &p, 1);
    t = probe_topology(5, 5, 4, 1);
    wse_topology_set_arch(&t, WSE_ARCH_WSE3);
    wse_error err;
    CU_ASSERT_EQUAL(s25_switch_run(&t, 5, 5, &p, &err), WSE_EPROGRAM);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "PE (0,0) at cycle 0: program 'stencil25': broadcast 0 receives on 8 colors at this PE"));
    t.implicit_queues = 1;          /* wsemu's convenience: queues while in use */
    s25_check_on(&t, 5, 5, &p, 1);
}

/* ------------------------------------------------------------ shard grids */

typedef struct s25_outcome {
    int rc;
    wse_engine_stats st;
    uint64_t digest;
} s25_outcome;

static s25_outcome s25_run_grid(const s25_params *p, const wse_topology *t, int w, int h,
                                int gx, int gy)
{
    s25_outcome o;
    memset(&o, 0, sizeof o);
    wse_grid *g = harness_local_grid(w, h, gx, gy);
    wse_rect region = { 0, 0, w, h };
    wse_sim *s = NULL;
    wse_error err;
    wse_error_clear(&err);
    o.rc = wse_sim_create(t, s25, p, region, g, MPI_COMM_SELF, &s, &err);
    wse_host_array out;
    memset(&out, 0, sizeof out);
    for (int k = 0; !o.rc && k < wse_sim_nlocal(s); k++) {
        CU_ASSERT_EQUAL(wse_hostio_load(wse_sim_local(s, k), &s25_vel, &err), 0);
        CU_ASSERT_EQUAL(wse_hostio_load(wse_sim_local(s, k), &s25_p0, &err), 0);
    }
    if (!o.rc)
        o.rc = wse_sim_run(s, 100000000, &err);
    if (!o.rc) {
        wse_sim_stats(s, &o.st);
        CU_ASSERT_EQUAL(wse_hostio_alloc(s25, p, w, h, 2, &out, &err), 0);
        for (int k = 0; k < wse_sim_nlocal(s); k++)
            CU_ASSERT_EQUAL(wse_hostio_gather(wse_sim_local(s, k), 2, &out, &err), 0);
        o.digest = wse_digest(WSE_DIGEST_INIT, out.data, wse_host_array_count(&out) * sizeof(float));
    }
    wse_host_array_free(&out);
    wse_sim_destroy(s);
    wse_grid_destroy(g);
    return o;
}

static void s25_same(const s25_outcome *a, const s25_outcome *b)
{
    CU_ASSERT_EQUAL(a->rc, b->rc);
    CU_ASSERT_EQUAL(a->digest, b->digest);
    harness_same_stats(&a->st, &b->st);
}

/* Cuts narrower than the radius: streams cross two shard edges, and with
 * switches their control wavelets too (each router's switch lives on the
 * shard that owns it). */
static void test_s25_any_grid(void)
{
    static const int grids[][2] = { { 2, 1 }, { 1, 2 }, { 2, 2 }, { 3, 3 }, { 9, 1 }, { 1, 7 }, { 5, 4 } };
    const int w = 9, h = 7;
    s25_params p = s25_default(5, 4);
    p.src_x = 3;
    p.src_y = 2;
    for (int mode = 0; mode < 4; mode++) {      /* broadcast 0 and 1 (switches), latency 1 and 2 */
        int lat = 1 + (mode & 1);
        p.broadcast = mode >> 1;
        wse_topology t = probe_topology(w, h, lat == 1 ? 2 : 1, lat);
        s25_outcome ref = s25_run_grid(&p, &t, w, h, 1, 1);
        CU_ASSERT_EQUAL_FATAL(ref.rc, 0);
        CU_ASSERT(ref.st.hops > 0);
        for (size_t i = 0; i < sizeof grids / sizeof grids[0]; i++) {
            s25_outcome o = s25_run_grid(&p, &t, w, h, grids[i][0], grids[i][1]);
            s25_same(&ref, &o);
        }
    }
}

/* ------------------------------------------------------------ load errors */

/* 52 nz + 64 bytes of columns plus the state fill the 46 KiB that WSE-2's
 * reserved 2 KiB leave at nz = 901; one more fails at load naming the PE
 * and the byte counts. */
static void test_s25_sram_budget(void)
{
    wse_topology t = probe_topology(5, 5, 4, 1);
    t.reserved_bytes = 2048;
    wse_rect r = { 0, 0, 5, 5 };
    wse_engine *e = NULL;
    wse_error err;
    s25_params p = s25_default(901, 1);
    wse_error_clear(&err);
    CU_ASSERT_EQUAL_FATAL(wse_engine_create(&t, s25, &p, r, NULL, &e, &err), 0);
    wse_engine_stats st;
    wse_engine_stats_get(e, &st);
    CU_ASSERT_EQUAL(st.sram.value, 49152);
    wse_engine_destroy(e);
    e = NULL;
    p.nz = 902;
    wse_error_clear(&err);
    CU_ASSERT_EQUAL(wse_engine_create(&t, s25, &p, r, NULL, &e, &err), WSE_ESRAM);
    CU_ASSERT_PTR_NULL(e);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "PE (0,0): program 'stencil25' needs 49184 bytes of SRAM (47136 allocated + 2048 reserved) but a PE has 49152"));
    p.nz = 4000;
    wse_error_clear(&err);
    CU_ASSERT_EQUAL(wse_engine_create(&t, s25, &p, r, NULL, &e, &err), WSE_ESRAM);
}

/* A source outside the grid and a topology with too few colors fail at
 * load, with the same message on any shard grid. */
static void test_s25_bad_params(void)
{
    wse_topology t = probe_topology(6, 4, 4, 1);
    s25_params p = s25_default(8, 2);
    p.src_x = 6;
    s25_outcome a = s25_run_grid(&p, &t, 6, 4, 1, 1);
    CU_ASSERT_EQUAL(a.rc, WSE_EPROGRAM);
    wse_rect r = { 0, 0, 6, 4 };
    wse_engine *e = NULL;
    wse_error err;
    wse_error_clear(&err);
    CU_ASSERT_EQUAL(wse_engine_create(&t, s25, &p, r, NULL, &e, &err), WSE_EPROGRAM);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "source (6, 2, 4) is outside the 6 x 4 x 8 grid"));
    wse_grid *g = harness_local_grid(6, 4, 3, 2);
    wse_rect region = { 0, 0, 6, 4 };
    wse_sim *s = NULL;
    wse_error err2;
    wse_error_clear(&err2);
    CU_ASSERT_EQUAL(wse_sim_create(&t, s25, &p, region, g, MPI_COMM_SELF, &s, &err2), WSE_EPROGRAM);
    CU_ASSERT_STRING_EQUAL(err.msg, err2.msg);
    wse_grid_destroy(g);
    p = s25_default(8, 2);
    p.src_z = 8;
    CU_ASSERT_EQUAL(wse_engine_create(&t, s25, &p, r, NULL, &e, &err), WSE_EPROGRAM);
    p = s25_default(8, 2);
    t.colors = 16;
    wse_error_clear(&err);
    CU_ASSERT_EQUAL(wse_engine_create(&t, s25, &p, r, NULL, &e, &err), WSE_EPROGRAM);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "needs 20 colors, the topology has 16"));
}

/* The whole WSE-2 program rectangle loads (setup within SRAM). */
static void test_s25_wse2_loads(void)
{
    if (harness_quick())      /* sanitizer build: too slow, the normal build runs it */
        return;
    wse_topology t = probe_topology(750, 994, 4, 1);
    wse_rect r = { 0, 0, 750, 994 };
    wse_engine *e = NULL;
    wse_error err;
    wse_error_clear(&err);
    s25_params p = s25_default(8, 10);     /* host memory: ~2.2 KB per PE */
    CU_ASSERT_EQUAL_FATAL(wse_engine_create(&t, s25, &p, r, NULL, &e, &err), 0);
    wse_engine_stats st;
    wse_engine_stats_get(e, &st);
    CU_ASSERT_EQUAL(st.pes, 745500);
    CU_ASSERT(st.sram.value > 52 * 8 && st.sram.value < 52 * 8 + 512);
    wse_engine_destroy(e);
}

/* ------------------------------------------------------------ the job */

/* Run a shipped job on 2 shards: bitwise against the reference, and one
 * control wavelet per stream exactly when it uses switches. */
static void s25_job(const char *name, int broadcast)
{
    wse_error err;
    wse_error_clear(&err);
    wse_job job;
    wse_topology topo;
    s25_params p;
    harness_load_job(name, s25, &job, &topo, &p);
    CU_ASSERT_STRING_EQUAL(topo.name, "laptop");
    CU_ASSERT_EQUAL(p.broadcast, broadcast);
    int w = job.region_width, h = job.region_height;
    wse_rect region = { job.region_x, job.region_y, w, h };
    wse_grid *g = NULL;
    CU_ASSERT_EQUAL_FATAL(wse_grid_create(w, h, 1, 1, 1, 2, &g, &err), 0);
    wse_sim *s = NULL;
    CU_ASSERT_EQUAL_FATAL(wse_sim_create(&topo, s25, &p, region, g, MPI_COMM_SELF, &s, &err), 0);
    void *arrays[3] = { NULL, NULL, NULL };
    wse_host_array in[2], out, ref;
    memset(in, 0, sizeof in);
    for (int a = 0; a < 2; a++)
        CU_ASSERT_EQUAL_FATAL(wse_hostio_alloc(s25, &p, w, h, a, &in[a], &err), 0);
    for (int i = 0; i < job.n_inputs; i++) {
        int a = wse_hostio_find(s25, job.inputs[i].name);
        CU_ASSERT_FATAL(a == 0 || a == 1);
        for (int k = 0; k < wse_sim_nlocal(s); k++)
            CU_ASSERT_EQUAL(wse_hostio_load(wse_sim_local(s, k), &job.inputs[i], &err), 0);
        wse_host_array_free(&in[a]);
        CU_ASSERT_EQUAL_FATAL(wse_hostio_input(s25, &p, w, h, &job.inputs[i], &in[a], &err), 0);
    }
    CU_ASSERT_EQUAL_FATAL(wse_sim_run(s, (uint64_t)job.max_cycles, &err), 0);
    CU_ASSERT_EQUAL_FATAL(wse_hostio_alloc(s25, &p, w, h, 2, &out, &err), 0);
    for (int k = 0; k < wse_sim_nlocal(s); k++)
        CU_ASSERT_EQUAL(wse_hostio_gather(wse_sim_local(s, k), 2, &out, &err), 0);
    CU_ASSERT_EQUAL_FATAL(wse_hostio_alloc(s25, &p, w, h, 2, &ref, &err), 0);
    arrays[0] = in[0].data;
    arrays[1] = in[1].data;
    arrays[2] = ref.data;
    CU_ASSERT_EQUAL_FATAL(s25->host.reference(&p, w, h, arrays), 0);
    uint64_t n = wse_host_array_count(&out);
    CU_ASSERT_EQUAL(memcmp(out.data, ref.data, n * sizeof(float)), 0);
    CU_ASSERT(s25->host.tolerance(&p, w, h) == 0.0);
    /* the wave has left the source: most of the grid has moved */
    uint64_t moved = 0;
    for (uint64_t i = 0; i < n; i++)
        moved += ((const float *)out.data)[i] != 0.0f;
    CU_ASSERT(moved > n / 2);
    wse_engine_stats st;
    wse_sim_stats(s, &st);
    uint64_t steps = (uint64_t)p.steps, nz = (uint64_t)p.nz;
    CU_ASSERT_EQUAL(st.wavelets_received, s25_reach(w, h) * nz * steps);
    CU_ASSERT_EQUAL(st.wavelets_sent, s25_sends(w, h) * (nz + (broadcast ? 1 : 0)) * steps);
    for (int a = 0; a < 2; a++)
        wse_host_array_free(&in[a]);
    wse_host_array_free(&out);
    wse_host_array_free(&ref);
    wse_sim_destroy(s);
    wse_grid_destroy(g);
}

static void test_s25_job(void)
{
    s25_job("stencil25.yaml", 0);
}

/* The same run with switches: 16128 control wavelets per step on 64 x 64. */
static void test_s25_switch_job(void)
{
    if (harness_quick())      /* sanitizer build: the small switch cases cover its code */
        return;
    s25_job("stencil25_switch.yaml", 1);
}

int test_stencil25_suite(void)
{
    CU_pSuite s = CU_add_suite("stencil25", NULL, NULL);
    if (!s || !CU_add_test(s, "9x9 PEs, bitwise, exact traffic and flops", test_s25_9x9) ||
        !CU_add_test(s, "11x6 PEs, source off centre, queue depth 2", test_s25_uneven) ||
        !CU_add_test(s, "regions narrower than the radius", test_s25_narrow) ||
        !CU_add_test(s, "queue depth 1, hop latency 3", test_s25_depth1_latency3) ||
        !CU_add_test(s, "source only; no source, zero steps", test_s25_source_only) ||
        !CU_add_test(s, "wavefront moves 4 PEs per step", test_s25_wavefront) ||
        !CU_add_test(s, "same bits and stats on any shard grid", test_s25_any_grid) ||
        !CU_add_test(s, "SRAM budget: nz 901 fits, 902 fails", test_s25_sram_budget) ||
        !CU_add_test(s, "bad source, too few colors", test_s25_bad_params) ||
        !CU_add_test(s, "750x994 WSE-2 rectangle loads", test_s25_wse2_loads) ||
        !CU_add_test(s, "shipped job on laptop, 2 shards", test_s25_job) ||
        !CU_add_test(s, "switches: regions wider and narrower than the radius", test_s25_switch_sizes) ||
        !CU_add_test(s, "switches: 8 colors suffice, 7 do not", test_s25_switch_colors) ||
        !CU_add_test(s, "switches: wse2 and wse3 resources suffice, one fewer does not", test_s25_switch_resources) ||
        !CU_add_test(s, "multicast with the wse3 queue rule: 4 x 4 runs, 5 x 5 fails at load", test_s25_multicast_strict) ||
        !CU_add_test(s, "switches: shipped job on laptop, 2 shards", test_s25_switch_job))
        return CU_get_error();
    return 0;
}
