/*
 * tests/test_heat2d.c - the heat2d workload against its host reference:
 * directly on the engine (uneven tiles and regions, several latencies and
 * queue depths, bitwise equality), and end to end through wse_run on the
 * shipped job with the 8x8 and laptop topologies.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <CUnit/CUnit.h>
#include "probe.h"
#include "test_list.h"
#include "wse/hostio.h"
#include "wse/programs.h"
#include "wse/run.h"

typedef struct heat_params { int64_t tile_w, tile_h, steps; double alpha; } heat_params;

/* Run heat2d on the engine and compare with the reference bit for bit. */
static void heat_vs_reference(int w, int h, int tw, int th, int steps, int depth, int lat)
{
    const wse_program *prog = wse_program_find("heat2d");
    CU_ASSERT_PTR_NOT_NULL_FATAL(prog);
    heat_params p = { tw, th, steps, 0.2 };
    wse_topology t = probe_topology(w, h, depth, lat);
    wse_rect r = { 0, 0, w, h };
    wse_engine *e = NULL;
    wse_error err;
    wse_error_clear(&err);
    CU_ASSERT_EQUAL_FATAL(wse_engine_create(&t, prog, &p, r, NULL, &e, &err), 0);
    wse_host_array u0, u, ref;
    wse_input in = { .name = "u0", .kind = WSE_INPUT_GENERATE, .generator = WSE_GEN_RANDOM,
                     .seed = 11, .lo = -1.0, .hi = 1.0 };
    CU_ASSERT_EQUAL_FATAL(wse_hostio_input(prog, &p, w, h, &in, &u0, &err), 0);
    CU_ASSERT_EQUAL_FATAL(wse_hostio_scatter(e, 0, &u0, &err), 0);
    int rc = wse_engine_run(e, 100000000, &err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_EQUAL_FATAL(wse_hostio_alloc(prog, &p, w, h, 1, &u, &err), 0);
    CU_ASSERT_EQUAL_FATAL(wse_hostio_gather(e, 1, &u, &err), 0);
    CU_ASSERT_EQUAL_FATAL(wse_hostio_alloc(prog, &p, w, h, 1, &ref, &err), 0);
    void *arrays[2] = { u0.data, ref.data };
    CU_ASSERT_EQUAL_FATAL(prog->host.reference(&p, w, h, arrays), 0);
    uint64_t n = wse_host_array_count(&u);
    CU_ASSERT_EQUAL(n, (uint64_t)w * tw * h * th);
    CU_ASSERT_EQUAL(memcmp(u.data, ref.data, n * sizeof(float)), 0);
    /* the solution moved: a wrong program cannot pass by doing nothing */
    if (steps > 0)
        CU_ASSERT_NOT_EQUAL(memcmp(u.data, u0.data, n * sizeof(float)), 0);
    wse_engine_stats st;
    wse_engine_stats_get(e, &st);
    /* each step every PE sends one edge per neighbour: tile_w or tile_h words */
    uint64_t edges = (uint64_t)2 * ((uint64_t)(w - 1) * h * th + (uint64_t)w * (h - 1) * tw);
    CU_ASSERT_EQUAL(st.hops, edges * (uint64_t)steps);
    CU_ASSERT_EQUAL(st.wavelets_sent, edges * (uint64_t)steps);
    CU_ASSERT_EQUAL(st.flops, (uint64_t)7 * n * (uint64_t)steps);
    wse_host_array_free(&u0);
    wse_host_array_free(&u);
    wse_host_array_free(&ref);
    wse_engine_destroy(e);
}

static void test_heat_small(void) { heat_vs_reference(4, 3, 5, 3, 7, 4, 1); }
static void test_heat_one_row(void) { heat_vs_reference(7, 1, 2, 4, 5, 2, 1); }
static void test_heat_one_pe(void) { heat_vs_reference(1, 1, 6, 6, 4, 4, 1); }
static void test_heat_depth1_latency3(void) { heat_vs_reference(5, 4, 3, 2, 6, 1, 3); }
static void test_heat_zero_steps(void) { heat_vs_reference(3, 3, 2, 2, 0, 4, 1); }

/* End to end through the job file, as the CLI runs it. */
static int run_job(const char *topology, const char *const *sets, int n_sets, wse_report *rep,
                   wse_error *err)
{
    wse_run_options o;
    memset(&o, 0, sizeof o);
    o.job_path = WSE_SOURCE_DIR "/jobs/heat2d.yaml";
    o.sets = sets;
    o.n_sets = n_sets;
    o.topology = topology;
    o.comm = MPI_COMM_SELF;
    wse_error_clear(err);
    return wse_run(&o, rep, err);
}

static void test_heat_job_8x8(void)
{
    static const char *const sets[] = { "verify=true", "params.steps=12" };
    wse_report rep;
    wse_error err;
    int rc = run_job("8x8", sets, 2, &rep, &err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_EQUAL(rep.verify, 1);
    CU_ASSERT_EQUAL(rep.max_abs_err, 0.0);
    CU_ASSERT_EQUAL(rep.region.width, 8);
    CU_ASSERT_EQUAL(rep.region.height, 8);
    CU_ASSERT(rep.st.cycles > 12);
    CU_ASSERT_NOT_EQUAL(rep.digest, 0);
    /* same job, same digest; one more step, another digest */
    wse_report rep2;
    CU_ASSERT_EQUAL(run_job("8x8", sets, 2, &rep2, &err), 0);
    CU_ASSERT_EQUAL(rep.digest, rep2.digest);
    static const char *const sets3[] = { "verify=true", "params.steps=13" };
    CU_ASSERT_EQUAL(run_job("8x8", sets3, 2, &rep2, &err), 0);
    CU_ASSERT_NOT_EQUAL(rep.digest, rep2.digest);
}

static void test_heat_job_laptop(void)
{
    static const char *const sets[] = { "verify=true" };
    wse_report rep;
    wse_error err;
    int rc = run_job("laptop", sets, 1, &rep, &err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_EQUAL(rep.verify, 1);
    CU_ASSERT_EQUAL(rep.max_abs_err, 0.0);
    CU_ASSERT(rep.link_util_mean > 0.0 && rep.link_util_mean <= 1.0);
    CU_ASSERT(rep.busy_fraction > 0.0 && rep.busy_fraction <= 1.0);
    /* emulator memory per PE beyond program SRAM: 8 queues, 8 fabric ops in
     * flight, state and counters; a regression guard, see README */
    CU_ASSERT(rep.overhead_per_pe > 0.0 && rep.overhead_per_pe < 1024.0);
}

int test_heat2d_suite(void)
{
    CU_pSuite s = CU_add_suite("heat2d", NULL, NULL);
    if (!s || !CU_add_test(s, "4x3 PEs of 5x3 tiles, bitwise", test_heat_small) ||
        !CU_add_test(s, "one row of PEs", test_heat_one_row) ||
        !CU_add_test(s, "one PE", test_heat_one_pe) ||
        !CU_add_test(s, "queue depth 1, hop latency 3", test_heat_depth1_latency3) ||
        !CU_add_test(s, "zero steps", test_heat_zero_steps) ||
        !CU_add_test(s, "job on 8x8", test_heat_job_8x8) ||
        !CU_add_test(s, "job on laptop", test_heat_job_laptop))
        return CU_get_error();
    return 0;
}
