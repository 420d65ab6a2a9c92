/*
 * tests/test_cg.c - conjugate gradient: bitwise equal to its host
 * reference on small and uneven regions, one row, one column, one PE;
 * identical on any shard grid; the residual falls; SRAM limits.
 */
#include <math.h>
#include <string.h>
#include <CUnit/CUnit.h>
#include "harness.h"
#include "probe.h"
#include "test_list.h"
#include "wse/hostio.h"
#include "wse/programs.h"

typedef struct cg_params { int64_t nz, iters; } cg_params;

/* Run on one engine with b random; compare x and the residuals with the
 * reference bit for bit. */
static void cg_vs_reference(int w, int h, int nz, int iters, int depth, int lat)
{
    const wse_program *prog = &wse_program_cg;
    cg_params p = { nz, iters };
    wse_topology t = probe_topology(w, h, depth, lat);
    wse_rect r = { 0, 0, w, h };
    wse_engine *e = NULL;
    wse_error err;
    wse_error_clear(&err);
    CU_ASSERT_EQUAL_FATAL(wse_engine_create(&t, prog, &p, r, NULL, &e, &err), 0);
    wse_input in = { .name = "b", .kind = WSE_INPUT_GENERATE, .generator = WSE_GEN_RANDOM,
                     .seed = 9, .lo = -1.0, .hi = 1.0 };
    CU_ASSERT_EQUAL_FATAL(wse_hostio_load(e, &in, &err), 0);
    CU_ASSERT_EQUAL_FATAL(wse_engine_run(e, 100000000, &err), 0);
    wse_host_array got[3], ref[3];
    void *arrays[3];
    for (int a = 0; a < 3; a++) {
        CU_ASSERT_EQUAL_FATAL(wse_hostio_alloc(prog, &p, w, h, a, &got[a], &err), 0);
        CU_ASSERT_EQUAL_FATAL(wse_hostio_alloc(prog, &p, w, h, a, &ref[a], &err), 0);
        arrays[a] = ref[a].data;
    }
    wse_host_array_free(&ref[0]);
    CU_ASSERT_EQUAL_FATAL(wse_hostio_input(prog, &p, w, h, &in, &ref[0], &err), 0);
    arrays[0] = ref[0].data;
    CU_ASSERT_EQUAL_FATAL(prog->host.reference(&p, w, h, arrays), 0);
    for (int a = 1; a < 3; a++) {
        CU_ASSERT_EQUAL(wse_hostio_gather(e, a, &got[a], &err), 0);
        CU_ASSERT_EQUAL(memcmp(got[a].data, ref[a].data, wse_host_array_count(&got[a]) * 4), 0);
    }
    const float *res = got[2].data;
    if (iters >= 2)
        CU_ASSERT(res[iters] < res[0]);          /* CG reduces the residual */
    CU_ASSERT(isfinite(res[iters]));
    for (int a = 0; a < 3; a++) {
        wse_host_array_free(&got[a]);
        wse_host_array_free(&ref[a]);
    }
    wse_engine_destroy(e);
}

static void test_small(void) { cg_vs_reference(5, 3, 6, 8, 4, 1); }
static void test_one_row(void) { cg_vs_reference(6, 1, 4, 5, 2, 1); }
static void test_one_column(void) { cg_vs_reference(1, 4, 4, 5, 2, 1); }
static void test_one_pe(void) { cg_vs_reference(1, 1, 9, 6, 4, 1); }
static void test_depth1_latency2(void) { cg_vs_reference(4, 4, 3, 4, 1, 2); }

static void test_any_grid(void)
{
    cg_params p = { 5, 4 };
    wse_topology t = probe_topology(7, 5, 2, 1);
    harness_outcome ref = harness_run(&wse_program_cg, &p, &t, 7, 5, 1, 1, 0, 1);
    CU_ASSERT_EQUAL_FATAL(ref.rc, 0);
    static const int grids[][2] = { { 2, 1 }, { 1, 3 }, { 3, 2 }, { 7, 5 } };
    for (size_t i = 0; i < sizeof grids / sizeof grids[0]; i++) {
        harness_outcome o = harness_run(&wse_program_cg, &p, &t, 7, 5, grids[i][0], grids[i][1], 0, 1);
        harness_same(&ref, &o);
    }
}

static void test_sram_limits(void)
{
    wse_error err;
    wse_engine *e = NULL;
    wse_rect r = { 0, 0, 2, 2 };
    wse_topology t = probe_topology(2, 2, 4, 1);
    cg_params big = { 2000, 10 };           /* 8 columns of 8000 bytes */
    wse_error_clear(&err);
    CU_ASSERT_EQUAL(wse_engine_create(&t, &wse_program_cg, &big, r, NULL, &e, &err), WSE_ESRAM);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "program 'cg' needs"));
    /* the full WSE-2 program rectangle loads with a modest column (not in
     * the sanitizer build: too slow there) */
    if (harness_quick())
        return;
    cg_params ok = { 64, 10 };
    wse_topology w2 = probe_topology(750, 994, 4, 1);
    wse_rect full = { 0, 0, 750, 994 };
    wse_error_clear(&err);
    CU_ASSERT_EQUAL(wse_engine_create(&w2, &wse_program_cg, &ok, full, NULL, &e, &err), 0);
    wse_engine_destroy(e);
}

int test_cg_suite(void)
{
    CU_pSuite s = CU_add_suite("cg", NULL, NULL);
    if (!s || !CU_add_test(s, "5x3 PEs, bitwise", test_small) ||
        !CU_add_test(s, "one row", test_one_row) ||
        !CU_add_test(s, "one column", test_one_column) ||
        !CU_add_test(s, "one PE", test_one_pe) ||
        !CU_add_test(s, "queue depth 1, hop latency 2", test_depth1_latency2) ||
        !CU_add_test(s, "same bits on any shard grid", test_any_grid) ||
        !CU_add_test(s, "SRAM limits and the full WSE-2 region", test_sram_limits))
        return CU_get_error();
    return 0;
}
