/*
 * tests/test_rowscale.c - the rowscale workload (range filters, a
 * control task, teardown): bitwise against its host reference on many
 * region shapes (one PE wide, one row, odd sizes, rows shorter than the
 * region is wide), the cycle formula of src/programs/rowscale.c on the
 * laptop costs, a tiny case computed by hand, the same bytes and
 * statistics on any grid of shards, the hardware resources of wse2 and
 * strict wse3, the SRAM budget and the shipped jobs.
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

typedef struct rs_params { int64_t n; } rs_params;

static const wse_program *rs = &wse_program_rowscale;

static wse_topology laptop(void)
{
    wse_topology t;
    wse_error err;
    wse_error_clear(&err);
    CU_ASSERT_EQUAL_FATAL(wse_topology_load(WSE_SOURCE_DIR "/topologies/laptop.yaml", &t, &err), 0);
    return t;
}

/* The formula of src/programs/rowscale.c (laptop costs; n >= W >= 2, or
 * W = 1). */
static uint64_t rs_formula(int w, int64_t n)
{
    if (w == 1)
        return 4 + (uint64_t)(n + 3) / 4;
    int64_t m0 = n / w, k = n - m0, m1 = 2 * n / w - m0;
    return (uint64_t)(3 * k + (k > 2 ? k : 2) + (k + 3) / 4 + (m1 + 3) / 4 + 20);
}

/* Run on one engine of topology t, compare y with the reference bit for
 * bit; returns the cycles (0 on failure). */
static uint64_t rs_vs_reference(const wse_topology *t, int w, int h, int64_t n)
{
    rs_params p = { n };
    wse_rect r = { 0, 0, w, h };
    wse_engine *e = NULL;
    wse_error err;
    wse_error_clear(&err);
    CU_ASSERT_EQUAL_FATAL(wse_engine_create(t, rs, &p, r, NULL, &e, &err), 0);
    wse_host_array x, d, y, ref;
    wse_input inx = { .name = "x", .kind = WSE_INPUT_GENERATE, .generator = WSE_GEN_RANDOM,
                      .seed = 3, .lo = -4.0, .hi = 4.0 };
    wse_input ind = { .name = "d", .kind = WSE_INPUT_GENERATE, .generator = WSE_GEN_RANDOM,
                      .seed = 4, .lo = -2.0, .hi = 2.0 };
    CU_ASSERT_EQUAL_FATAL(wse_hostio_input(rs, &p, w, h, &inx, &x, &err), 0);
    CU_ASSERT_EQUAL_FATAL(wse_hostio_input(rs, &p, w, h, &ind, &d, &err), 0);
    CU_ASSERT_EQUAL_FATAL(wse_hostio_scatter(e, 0, &x, &err), 0);
    CU_ASSERT_EQUAL_FATAL(wse_hostio_scatter(e, 1, &d, &err), 0);
    int rc = wse_engine_run(e, 10000000, &err);
    CU_ASSERT_EQUAL(rc, 0);
    if (rc)
        fprintf(stderr, "\nrowscale %dx%d n %lld: %s\n", w, h, (long long)n, err.msg);
    CU_ASSERT_EQUAL_FATAL(wse_hostio_alloc(rs, &p, w, h, 2, &y, &err), 0);
    CU_ASSERT_EQUAL_FATAL(wse_hostio_gather(e, 2, &y, &err), 0);
    CU_ASSERT_EQUAL_FATAL(wse_hostio_alloc(rs, &p, w, h, 2, &ref, &err), 0);
    void *arrays[3] = { x.data, d.data, ref.data };
    CU_ASSERT_EQUAL_FATAL(rs->host.reference(&p, w, h, arrays), 0);
    uint64_t cnt = wse_host_array_count(&y);
    CU_ASSERT_EQUAL(y.ndim, 2);
    CU_ASSERT_EQUAL(y.dtype, WSE_F16);
    CU_ASSERT_EQUAL(cnt, (uint64_t)h * (uint64_t)n);
    CU_ASSERT_EQUAL(memcmp(y.data, ref.data, cnt * 2), 0);
    /* a program that does nothing cannot pass: y is neither x nor 0 */
    CU_ASSERT_NOT_EQUAL(memcmp(y.data, x.data, cnt * 2), 0);
    const uint16_t *yy = y.data;
    int nonzero = 0;
    for (uint64_t i = 0; i < cnt; i++)
        nonzero |= (yy[i] & 0x7fffu) != 0;
    CU_ASSERT(nonzero);
    wse_engine_stats st;
    wse_engine_stats_get(e, &st);
    CU_ASSERT_EQUAL(st.flops, (uint64_t)rs->host.useful_flops(&p, w, h));
    if (w > 1) {
        /* per row: k data wavelets + 2 control ones out of the edge, k
         * results back; every wavelet crosses the whole row east (the
         * filters only pick what a CE sees), a result from PE x x hops */
        uint64_t k = (uint64_t)(n - n / w), back = 0;
        for (int px = 1; px < w; px++)
            back += (uint64_t)px * (uint64_t)((int64_t)(px + 1) * n / w - (int64_t)px * n / w);
        CU_ASSERT_EQUAL(st.wavelets_sent, (uint64_t)h * (2 * k + 2));
        CU_ASSERT_EQUAL(st.hops, (uint64_t)h * ((k + 2) * (uint64_t)(w - 1) + back));
        /* received: each slice once, EOS by every PE but the edge, the results */
        CU_ASSERT_EQUAL(st.wavelets_received, (uint64_t)h * (2 * k + (uint64_t)(w - 1)));
    } else {
        CU_ASSERT_EQUAL(st.wavelets_sent, 0u);
    }
    uint64_t cycles = rc ? 0 : st.cycles;
    wse_host_array_free(&x);
    wse_host_array_free(&d);
    wse_host_array_free(&y);
    wse_host_array_free(&ref);
    wse_engine_destroy(e);
    return cycles;
}

/* Shapes: (w, h, n).  The formula holds for n >= w. */
static const int shapes[][3] = {
    { 1, 1, 1 }, { 1, 3, 5 }, { 1, 2, 64 }, { 2, 1, 2 }, { 2, 1, 3 }, { 2, 3, 16 },
    { 3, 1, 3 }, { 3, 2, 7 }, { 5, 3, 13 }, { 7, 2, 29 }, { 4, 4, 64 }, { 13, 1, 100 },
    { 6, 5, 37 }, { 16, 2, 256 },
    /* rows shorter than the region is wide: empty slices */
    { 3, 2, 1 }, { 5, 1, 3 }, { 13, 2, 7 }, { 7, 3, 6 },
};

static void test_rs_shapes(void)
{
    wse_topology t = laptop();
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        int w = shapes[i][0], h = shapes[i][1], n = shapes[i][2];
        uint64_t c = rs_vs_reference(&t, w, h, n);
        if (n >= w) {
            CU_ASSERT_EQUAL(c, rs_formula(w, n));
            if (c != rs_formula(w, n))
                fprintf(stderr, "\nrowscale %dx%d n %d: %llu cycles, formula %llu\n", w, h, n,
                        (unsigned long long)c, (unsigned long long)rs_formula(w, n));
        }
    }
}

/* Slow links, shallow queues, other costs: still bitwise (no cycles). */
static void test_rs_probe_costs(void)
{
    static const int cfg[][2] = { { 1, 1 }, { 1, 3 }, { 2, 2 }, { 4, 1 } };  /* depth, latency */
    for (size_t i = 0; i < sizeof cfg / sizeof cfg[0]; i++) {
        wse_topology t = probe_topology(9, 3, cfg[i][0], cfg[i][1]);
        rs_vs_reference(&t, 9, 3, 41);
        rs_vs_reference(&t, 9, 3, 5);
    }
}

/*
 * 2 x 1, n = 2 on the laptop costs (task switch 2, vector and fabric
 * startup 2, fp16 SIMD 4, hop 1): the edge keeps element 0, PE 1 gets
 * element 1 (k = 1, m0 = m1 = 1).
 *   0  both start tasks.  PE 1: switch 2 + fabin issue 2.  The edge:
 *      switch 2, pack (2 + 1), fabout issue 2 -> the stream word leaves
 *      at 7; the EOS send, issued at 9, leaves at 9; the teardown, issued
 *      at 11, at 11; its own multiply 2 + 1: the task ends at 14.
 *  7/8/9  the word: edge router 8, PE 1's router 9 (filter: index 1 is
 *      PE 1's), PE 1's fabin takes it at 10.
 *  9..12  EOS: edge router 10, PE 1's router 11, PE 1's control task at
 *      12: switch 2 + multiply 2 + 1, ends 17.
 *  11..13  TEARDOWN: the edge router 12 (torn down; its teardown task runs
 *      when the start task ends, 14..16), PE 1's router 13 (torn down; its
 *      CE is busy until 17).
 *  17  PE 1's teardown task: switch 2, position 1, resume, fabout issue
 *      2: the result leaves at 21 (T_SENT runs at 21 and finishes PE 1).
 *  21..24  PE 1's router 22, the edge's router 23, the edge's data task at
 *      24: switch 2 + 1, ends 27: the last PE finishes, nothing moves.
 * 27 = 3 k + max(k, 2) + ceil(k/4) + ceil(m1/4) + 20.
 */
static void test_rs_tiny_by_hand(void)
{
    wse_topology t = laptop();
    CU_ASSERT_EQUAL(rs_vs_reference(&t, 2, 1, 2), 27u);
    CU_ASSERT_EQUAL(rs_formula(2, 2), 27u);
}

/* ------------------------------------------------------------ shard grids */

static void test_rs_any_grid(void)
{
    static const int grids[][2] = { { 2, 1 }, { 1, 2 }, { 2, 2 }, { 3, 2 }, { 7, 1 }, { 1, 5 }, { 7, 5 } };
    const int w = 7, h = 5;
    static const int64_t ns[] = { 29, 4 };   /* and a row shorter than the region is wide */
    for (size_t j = 0; j < sizeof ns / sizeof ns[0]; j++) {
        rs_params p = { ns[j] };
        for (int lat = 1; lat <= 2; lat++) {
            wse_topology t = lat == 1 ? laptop() : probe_topology(w, h, 1, 2);
            harness_outcome ref = harness_run(rs, &p, &t, w, h, 1, 1, 0, 1);
            CU_ASSERT_EQUAL_FATAL(ref.rc, 0);
            if (lat == 1 && ns[j] >= w)
                CU_ASSERT_EQUAL(ref.st.cycles, rs_formula(w, ns[j]));
            for (size_t i = 0; i < sizeof grids / sizeof grids[0]; i++) {
                harness_outcome o = harness_run(rs, &p, &t, w, h, grids[i][0], grids[i][1], 0, 1);
                harness_same(&ref, &o);
            }
        }
    }
}

/* ------------------------------------------------------------ resources */

/* wse2's and strict wse3's resources (queues bound with pe_init_queue,
 * data task id 2 on wse3): the same bytes and cycles, 1 or 2 x 2 shards. */
static void test_rs_wse2_wse3(void)
{
    rs_params p = { 37 };
    wse_topology t2 = probe_topology(6, 4, 4, 1), t3 = probe_topology(6, 4, 4, 1);
    wse_topology_set_arch(&t2, WSE_ARCH_WSE2);
    wse_topology_set_arch(&t3, WSE_ARCH_WSE3);
    CU_ASSERT_EQUAL(t3.implicit_queues, 0);
    harness_outcome a = harness_run(rs, &p, &t2, 6, 4, 1, 1, 0, 1);
    harness_outcome b = harness_run(rs, &p, &t3, 6, 4, 1, 1, 0, 1);
    harness_outcome c = harness_run(rs, &p, &t3, 6, 4, 2, 2, 0, 1);
    CU_ASSERT_EQUAL(a.rc, 0);
    CU_ASSERT_EQUAL(b.rc, 0);
    harness_same(&a, &b);
    harness_same(&a, &c);
    /* the shipped topology files, strict wse3 included */
    static const char *const files[] = { "wse2", "wse3", "wse3_strict" };
    for (int i = 0; i < 3; i++) {
        char path[WSE_PATH_MAX];
        snprintf(path, sizeof path, "%s/topologies/%s.yaml", WSE_SOURCE_DIR, files[i]);
        wse_topology t;
        wse_error err;
        wse_error_clear(&err);
        CU_ASSERT_EQUAL_FATAL(wse_topology_load(path, &t, &err), 0);
        CU_ASSERT_EQUAL(rs_vs_reference(&t, 16, 3, 100), rs_formula(16, 100));
    }
}

/* ------------------------------------------------------------ SRAM */

/* The edge holds 8 n - 2 m0 bytes: with an empty slice (width > n) n =
 * 5880 fills the 46 KiB WSE-2 leaves a program, one more fails at load
 * naming the PE and the byte counts. */
static void test_rs_sram_budget(void)
{
    wse_topology t = probe_topology(5882, 1, 4, 1);
    t.reserved_bytes = 2048;
    wse_rect r = { 0, 0, 5882, 1 };
    wse_engine *e = NULL;
    wse_error err;
    rs_params p = { 5880 };
    wse_error_clear(&err);
    CU_ASSERT_EQUAL_FATAL(wse_engine_create(&t, rs, &p, r, NULL, &e, &err), 0);
    wse_engine_stats st;
    wse_engine_stats_get(e, &st);
    CU_ASSERT_EQUAL(st.sram.value, 49152);
    wse_engine_destroy(e);
    e = NULL;
    p.n = 5881;
    wse_error_clear(&err);
    CU_ASSERT_EQUAL(wse_engine_create(&t, rs, &p, r, NULL, &e, &err), WSE_ESRAM);
    CU_ASSERT_PTR_NULL(e);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "PE (0,0): program 'rowscale' needs"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "but a PE has 49152"));
}

/* ------------------------------------------------------------ the jobs */

/* The job run the way the CLI would (job file, topology, params bound from
 * the program's table, inputs generated per shard), in 2 thread shards. */

static void rs_job(const char *name, const char *topo_name, uint64_t want_cycles)
{
    wse_error err;
    wse_error_clear(&err);
    wse_job job;
    wse_topology topo;
    rs_params p;
    harness_load_job(name, rs, &job, &topo, &p);
    CU_ASSERT_STRING_EQUAL(topo.name, topo_name);
    int w = job.region_width, h = job.region_height;
    wse_rect region = { job.region_x, job.region_y, w, h };
    wse_grid *g = NULL;
    CU_ASSERT_EQUAL_FATAL(wse_grid_create(w, h, 1, 1, 1, 2, &g, &err), 0);
    wse_sim *s = NULL;
    CU_ASSERT_EQUAL_FATAL(wse_sim_create(&topo, rs, &p, region, g, MPI_COMM_SELF, &s, &err), 0);
    CU_ASSERT_EQUAL_FATAL(job.n_inputs, 2);
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < wse_sim_nlocal(s); k++)
            CU_ASSERT_EQUAL(wse_hostio_load(wse_sim_local(s, k), &job.inputs[i], &err), 0);
    CU_ASSERT_EQUAL_FATAL(wse_sim_run(s, (uint64_t)job.max_cycles, &err), 0);
    wse_host_array y, in[2], ref;
    CU_ASSERT_EQUAL_FATAL(wse_hostio_alloc(rs, &p, w, h, 2, &y, &err), 0);
    for (int k = 0; k < wse_sim_nlocal(s); k++)
        CU_ASSERT_EQUAL(wse_hostio_gather(wse_sim_local(s, k), 2, &y, &err), 0);
    for (int i = 0; i < 2; i++) {
        int a = wse_hostio_find(rs, job.inputs[i].name);
        CU_ASSERT_FATAL(a == 0 || a == 1);
        CU_ASSERT_EQUAL_FATAL(wse_hostio_input(rs, &p, w, h, &job.inputs[i], &in[a], &err), 0);
    }
    CU_ASSERT_EQUAL_FATAL(wse_hostio_alloc(rs, &p, w, h, 2, &ref, &err), 0);
    void *arrays[3] = { in[0].data, in[1].data, ref.data };
    CU_ASSERT_EQUAL_FATAL(rs->host.reference(&p, w, h, arrays), 0);
    CU_ASSERT_EQUAL(memcmp(y.data, ref.data, wse_host_array_count(&y) * 2), 0);
    CU_ASSERT(rs->host.tolerance(&p, w, h) == 0.0);
    wse_engine_stats st;
    wse_sim_stats(s, &st);
    CU_ASSERT_EQUAL(st.flops, (uint64_t)rs->host.useful_flops(&p, w, h));
    CU_ASSERT_EQUAL(st.cycles, rs_formula(w, p.n));
    CU_ASSERT_EQUAL(st.cycles, want_cycles);
    wse_host_array_free(&y);
    wse_host_array_free(&in[0]);
    wse_host_array_free(&in[1]);
    wse_host_array_free(&ref);
    wse_sim_destroy(s);
    wse_grid_destroy(g);
}

static void test_rs_job(void) { rs_job("rowscale.yaml", "laptop", 4308); }
static void test_rs_job_wse3(void) { rs_job("rowscale_wse3.yaml", "wse3_strict", 4116); }

int test_rowscale_suite(void)
{
    CU_pSuite s = CU_add_suite("rowscale", NULL, NULL);
    if (!s || !CU_add_test(s, "bitwise and the cycle formula on many shapes", test_rs_shapes) ||
        !CU_add_test(s, "other depths, latencies and costs", test_rs_probe_costs) ||
        !CU_add_test(s, "2x1, n 2: cycles by hand", test_rs_tiny_by_hand) ||
        !CU_add_test(s, "the same on any grid of shards", test_rs_any_grid) ||
        !CU_add_test(s, "wse2 and strict wse3 resources", test_rs_wse2_wse3) ||
        !CU_add_test(s, "SRAM budget", test_rs_sram_budget) ||
        !CU_add_test(s, "the shipped job", test_rs_job) ||
        !CU_add_test(s, "the shipped wse3_strict job", test_rs_job_wse3))
        return CU_get_error();
    return 0;
}
