/*
 * tests/test_gemv.c - the gemv workload against its host reference, bit
 * for bit, in fp32 and in fp16 data with fp32 accumulation: small, uneven,
 * one-row, one-column and one-PE regions, 1-row and 1-column blocks, queue
 * depth 1 and hop latencies 2 and 3; the same bytes, cycles and
 * statistics for every grid of shards; wse2's and wse3's resource limits;
 * bounds that follow from the mechanism (one FMA per block, one fabric op
 * per PE for the row chain); the SRAM budget; the shipped jobs on the
 * laptop topology; and the full WSE-2 program rectangle loading.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <CUnit/CUnit.h>
#include "harness.h"
#include "probe.h"
#include "test_list.h"
#include "wse/hostio.h"
#include "wse/io.h"
#include "wse/shard.h"

extern const wse_program wse_program_gemv;
int test_gemv_suite(void);

typedef struct gemv_params { int64_t mb, nb, dtype; } gemv_params;

enum { GV_A = 0, GV_X = 1, GV_B = 2, GV_Y = 3 };

typedef struct gv_outcome {
    int rc;
    char msg[1024];
    wse_engine_stats st;
    wse_host_array in[3], y;    /* A, x, b and the gathered y */
} gv_outcome;

static void gv_outcome_free(gv_outcome *o)
{
    for (int i = 0; i < 3; i++)
        wse_host_array_free(&o->in[i]);
    wse_host_array_free(&o->y);
}

/* The probe topology with the wse2/laptop costs the header's formula is
 * stated for: task switch, vector and fabric startup 2 cycles. */
static wse_topology gv_laptop_costs(int w, int h)
{
    wse_topology t = probe_topology(w, h, 4, 1);
    t.task_switch_cycles = t.vector_startup_cycles = t.fabric_startup_cycles = 2;
    return t;
}

/* Run on a gx x gy grid of shards with random A, x and b. */
static gv_outcome gv_run(const gemv_params *p, const wse_topology *t, int w, int h, int gx,
                         int gy, uint64_t seed)
{
    const wse_program *prog = &wse_program_gemv;
    gv_outcome o;
    memset(&o, 0, sizeof o);
    wse_grid *g = harness_local_grid(w, h, gx, gy);
    wse_rect region = { 0, 0, w, h };
    wse_sim *s = NULL;
    wse_error err;
    wse_error_clear(&err);
    o.rc = wse_sim_create(t, prog, p, region, g, MPI_COMM_SELF, &s, &err);
    if (!o.rc) {
        static const char *const names[3] = { "A", "x", "b" };
        for (int a = 0; a < 3; a++) {
            wse_input in = { .kind = WSE_INPUT_GENERATE, .generator = WSE_GEN_RANDOM,
                             .seed = seed + (uint64_t)a, .lo = -1.0, .hi = 1.0 };
            strcpy(in.name, names[a]);
            CU_ASSERT_EQUAL_FATAL(wse_hostio_input(prog, p, w, h, &in, &o.in[a], &err), 0);
            for (int k = 0; k < wse_sim_nlocal(s); k++)
                CU_ASSERT_EQUAL(wse_hostio_scatter(wse_sim_local(s, k), a, &o.in[a], &err), 0);
        }
        o.rc = wse_sim_run(s, 100000000, &err);
        wse_sim_stats(s, &o.st);
        CU_ASSERT_EQUAL(wse_hostio_alloc(prog, p, w, h, GV_Y, &o.y, &err), 0);
        for (int k = 0; k < wse_sim_nlocal(s); k++)
            CU_ASSERT_EQUAL(wse_hostio_gather(wse_sim_local(s, k), GV_Y, &o.y, &err), 0);
    }
    snprintf(o.msg, sizeof o.msg, "%s", err.msg);
    wse_sim_destroy(s);
    wse_grid_destroy(g);
    return o;
}

/* The reference's y for o's inputs under params p (caller frees). */
static wse_host_array gv_reference(const gemv_params *p, int w, int h, const gv_outcome *o)
{
    const wse_program *prog = &wse_program_gemv;
    wse_host_array ref;
    wse_error err;
    CU_ASSERT_EQUAL_FATAL(wse_hostio_alloc(prog, p, w, h, GV_Y, &ref, &err), 0);
    void *arrays[4] = { o->in[0].data, o->in[1].data, o->in[2].data, ref.data };
    CU_ASSERT_EQUAL_FATAL(prog->host.reference(p, w, h, arrays), 0);
    return ref;
}

/* An input as the PE holds it: rounded to fp16 for dtype 1. */
static double gv_held(float v, int dtype)
{
    return dtype ? (double)pe_f16_to_f32(pe_f32_to_f16(v)) : (double)v;
}

/* Run on one shard and compare with the reference bit for bit, with a
 * double-precision product of the held inputs, and the counters with what
 * the layout implies. */
static void gv_on(const wse_topology *t, int w, int h, int mb, int nb, int dtype)
{
    const wse_program *prog = &wse_program_gemv;
    gemv_params p = { mb, nb, dtype };
    gv_outcome o = gv_run(&p, t, w, h, 1, 1, 23);
    if (o.rc)
        printf("\n  gemv %dx%d dtype %d: %s\n", w, h, dtype, o.msg);
    CU_ASSERT_EQUAL_FATAL(o.rc, 0);
    wse_host_array ref = gv_reference(&p, w, h, &o);
    int64_t M = (int64_t)h * mb, N = (int64_t)w * nb;
    CU_ASSERT_EQUAL(wse_host_array_count(&o.y), (uint64_t)M);
    CU_ASSERT_EQUAL(memcmp(o.y.data, ref.data, (size_t)M * sizeof(float)), 0);
    /* the arithmetic itself, in double */
    const float *a = o.in[0].data, *x = o.in[1].data, *b = o.in[2].data, *y = o.y.data;
    for (int64_t r = 0; r < M; r++) {
        double s = b[r], mag = fabs(b[r]);
        for (int64_t j = 0; j < N; j++) {
            double v = gv_held(a[r * N + j], dtype) * gv_held(x[j], dtype);
            s += v;
            mag += fabs(v);
        }
        CU_ASSERT(fabs(y[r] - s) <= (double)(nb + w + 1) * 0x1p-24 * mag);
    }
    /* fp16: the rounding of the inputs shows in y (the fp32 result differs) */
    if (dtype) {
        gemv_params p32 = { mb, nb, 0 };
        wse_host_array r32 = gv_reference(&p32, w, h, &o);
        CU_ASSERT_NOT_EQUAL(memcmp(r32.data, o.y.data, (size_t)M * sizeof(float)), 0);
        wse_host_array_free(&r32);
    }
    /* x down every column, partial sums along every row */
    uint64_t xw = (uint64_t)w * (uint64_t)(h - 1) * (uint64_t)nb;
    uint64_t pw = (uint64_t)(w - 1) * (uint64_t)h * (uint64_t)mb;
    CU_ASSERT_EQUAL(o.st.hops, xw + pw);
    CU_ASSERT_EQUAL(o.st.wavelets_sent, (h > 1 ? (uint64_t)w * nb : 0) + pw);
    CU_ASSERT_EQUAL(o.st.wavelets_received, xw + pw);
    /* 2 M N in the FMAs (b starts the east edge's), (W - 1) M in the
     * chain; the fp16 conversions count none */
    CU_ASSERT_EQUAL((double)o.st.flops, prog->host.useful_flops(&p, w, h) + (double)(w - 1) * (double)M);
    wse_host_array_free(&ref);
    gv_outcome_free(&o);
}

/* Both element types on the probe topology with depth and latency. */
static void gv_vs_reference(int w, int h, int mb, int nb, int depth, int lat)
{
    wse_topology t = probe_topology(w, h, depth, lat);
    for (int dtype = 0; dtype <= 1; dtype++)
        gv_on(&t, w, h, mb, nb, dtype);
}

static void test_gv_small(void) { gv_vs_reference(4, 3, 6, 5, 4, 1); }
static void test_gv_uneven(void) { gv_vs_reference(7, 5, 13, 3, 4, 1); gv_vs_reference(5, 7, 3, 11, 2, 1); }
static void test_gv_one_row(void) { gv_vs_reference(7, 1, 9, 4, 4, 1); }
static void test_gv_one_column(void) { gv_vs_reference(1, 6, 5, 9, 4, 1); }
static void test_gv_one_pe(void) { gv_vs_reference(1, 1, 10, 12, 4, 1); }
static void test_gv_tiny_blocks(void) { gv_vs_reference(6, 4, 1, 1, 4, 1); }
/* mb 1: a one-element chain; nb 1: the FMA is one column */
static void test_gv_thin_blocks(void) { gv_vs_reference(5, 3, 1, 7, 4, 1); gv_vs_reference(5, 3, 37, 1, 4, 1); }
static void test_gv_depth1_latency3(void) { gv_vs_reference(5, 4, 11, 7, 1, 3); }
static void test_gv_latency2(void) { gv_vs_reference(3, 6, 8, 8, 2, 2); }

static void gv_same(const gv_outcome *a, const gv_outcome *b)
{
    CU_ASSERT_EQUAL(a->rc, b->rc);
    CU_ASSERT_STRING_EQUAL(a->msg, b->msg);
    CU_ASSERT_EQUAL(memcmp(a->y.data, b->y.data, wse_host_array_count(&a->y) * sizeof(float)), 0);
    harness_same_stats(&a->st, &b->st);
}

/* The determinism matrix entry: any grid of shards, same everything (the
 * chain's color swap and x's multicast cross every kind of shard edge). */
static void test_gv_any_grid(void)
{
    const int w = 7, h = 5;
    static const int grids[][2] = { { 2, 1 }, { 1, 2 }, { 2, 2 }, { 3, 2 }, { 7, 1 }, { 1, 5 }, { 7, 5 } };
    for (int run = 0; run < 4; run++) {
        int lat = 1 + (run & 1), dtype = run >> 1;
        gemv_params p = { 9, 5, dtype };
        wse_topology t = probe_topology(w, h, lat == 1 ? 2 : 1, lat);
        gv_outcome ref = gv_run(&p, &t, w, h, 1, 1, 3);
        CU_ASSERT_EQUAL_FATAL(ref.rc, 0);
        CU_ASSERT(ref.st.hops > 0);
        for (size_t i = 0; i < sizeof grids / sizeof grids[0]; i++) {
            gv_outcome o = gv_run(&p, &t, w, h, grids[i][0], grids[i][1], 3);
            gv_same(&ref, &o);
            gv_outcome_free(&o);
        }
        gv_outcome_free(&ref);
    }
}

/* wse2's and wse3's queues, microthreads and task ids: a top-row PE has
 * the most in flight (x out, the chain in and out), and both element
 * types run, bitwise. */
static void test_gv_resources(void)
{
    for (int arch = WSE_ARCH_WSE2; arch <= WSE_ARCH_WSE3; arch++) {
        wse_topology t = probe_topology(6, 4, 4, 1);
        wse_topology_set_arch(&t, arch);
        for (int dtype = 0; dtype <= 1; dtype++)
            gv_on(&t, 6, 4, 7, 6, dtype);
    }
}

static uint64_t gv_cycles(const wse_topology *t, int w, int h, int mb, int nb, int dtype)
{
    gemv_params p = { mb, nb, dtype };
    gv_outcome o = gv_run(&p, t, w, h, 1, 1, 11);
    CU_ASSERT_EQUAL(o.rc, 0);
    uint64_t c = o.st.cycles;
    gv_outcome_free(&o);
    return c;
}

/* One PE: the product is one FMA over the block, so it costs one task
 * switch, one vector startup and mb nb elements at the fp32 rate (the
 * mixed fp16 op too), less than an op per column would; fp16 adds the
 * conversions of x and A, each one op at the fp32 rate. */
static void test_gv_one_op_product(void)
{
    wse_topology t = gv_laptop_costs(1, 1);
    const int mb = 8, nb = 16;
    uint64_t ts = (uint64_t)t.task_switch_cycles, vs = (uint64_t)t.vector_startup_cycles;
    uint64_t c32 = gv_cycles(&t, 1, 1, mb, nb, 0), c16 = gv_cycles(&t, 1, 1, mb, nb, 1);
    CU_ASSERT(c32 >= (uint64_t)(mb * nb));
    CU_ASSERT(c32 <= ts + vs + (uint64_t)(mb * nb));
    CU_ASSERT(c32 < ts + (uint64_t)nb * (vs + (uint64_t)mb));     /* an op per column */
    CU_ASSERT(c16 >= c32 + (uint64_t)(mb * nb + nb));
    CU_ASSERT(c16 <= c32 + 2 * vs + (uint64_t)(mb * nb + nb));
}

/* The old chain's cost on top of the product, with chunks of c rows (a
 * fabin and a fabout per chunk, a task per chunk): (5 + c) per hop and
 * max(1, 6 / c) per row behind the first chunk, at best over c. */
static double gv_old_chain(int w, int mb)
{
    double best = INFINITY;
    for (int c = 1; c <= mb; c++) {
        double v = (5.0 + c) * (w - 1) + (mb - c) * fmax(1.0, 6.0 / c);
        best = fmin(best, v);
    }
    return best;
}

/* The row chain is one fabric op per PE streaming fabin + l -> fabout: on
 * top of the one-PE run it costs at least a cycle per row and a hop per
 * PE, at most a cycle per row, the link and the CE's pass per hop, and
 * the op's issue and completion; and from 3 PEs on below the old
 * per-chunk chain at its best chunk length (on 2 PEs one chunk of mb rows,
 * a fabin then a fabout, is as fast), for both element types. */
static void test_gv_chain_bound(void)
{
    const int mb = 200, nb = 1;
    static const int widths[] = { 2, 6, 11 };
    for (int dtype = 0; dtype <= 1; dtype++) {
        wse_topology t1 = gv_laptop_costs(1, 1);
        uint64_t one = gv_cycles(&t1, 1, 1, mb, nb, dtype);
        for (size_t i = 0; i < sizeof widths / sizeof widths[0]; i++) {
            int w = widths[i];
            wse_topology t = gv_laptop_costs(w, 1);
            uint64_t h = (uint64_t)t.hop_latency_cycles;
            uint64_t chain = gv_cycles(&t, w, 1, mb, nb, dtype) - one;
            uint64_t lo = (uint64_t)mb + (uint64_t)(w - 1) * h;
            uint64_t hi = (uint64_t)mb + (uint64_t)(w - 1) * (h + 1) +
                          (uint64_t)(t.fabric_startup_cycles + t.task_switch_cycles);
            int faster = w < 3 || (double)chain < gv_old_chain(w, mb);
            if (chain < lo || chain > hi || !faster)
                printf("\n  gemv chain W=%d dtype %d: %llu cycles, want %llu..%llu, below %.0f\n", w,
                       dtype, (unsigned long long)chain, (unsigned long long)lo,
                       (unsigned long long)hi, gv_old_chain(w, mb));
            CU_ASSERT(chain >= lo && chain <= hi);
            CU_ASSERT(faster);
        }
    }
}

/* A 128 x 128 block is 64 KiB: over the 46 KiB a PE leaves a program. */
static void test_gv_sram_budget(void)
{
    wse_topology t = probe_topology(3, 2, 4, 1);
    t.reserved_bytes = 2048;
    wse_rect r = { 0, 0, 3, 2 };
    wse_engine *e = NULL;
    wse_error err;
    for (int dtype = 0; dtype <= 1; dtype++) {
        wse_error_clear(&err);
        gemv_params p = { 128, 128, dtype };
        CU_ASSERT_EQUAL(wse_engine_create(&t, &wse_program_gemv, &p, r, NULL, &e, &err), WSE_ESRAM);
        CU_ASSERT_PTR_NULL(e);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "PE (0,0): program 'gemv' needs "));
        /* 100 x 100 (40 KB of A) fits */
        gemv_params ok = { 100, 100, dtype };
        wse_error_clear(&err);
        CU_ASSERT_EQUAL(wse_engine_create(&t, &wse_program_gemv, &ok, r, NULL, &e, &err), 0);
        wse_engine_destroy(e);
        e = NULL;
    }
}

/* The full WSE-2 program rectangle loads (setup within SRAM). */
static void test_gv_wse2_loads(void)
{
    if (harness_quick())      /* sanitizer build: too slow, the normal build runs it */
        return;
    wse_topology t = probe_topology(750, 994, 4, 1);
    t.reserved_bytes = 2048;
    wse_rect r = { 0, 0, 750, 994 };
    wse_engine *e = NULL;
    wse_error err;
    wse_error_clear(&err);
    gemv_params p = { 8, 8, 0 };
    CU_ASSERT_EQUAL(wse_engine_create(&t, &wse_program_gemv, &p, r, NULL, &e, &err), 0);
    CU_ASSERT_PTR_NOT_NULL(e);
    wse_engine_destroy(e);
}

/* A shipped job, as the CLI would run it, on the laptop topology. */
static void gv_job_laptop(const char *name, int dtype)
{
    const wse_program *prog = &wse_program_gemv;
    wse_job job;
    wse_topology t;
    wse_error err;
    wse_error_clear(&err);
    gemv_params p;
    harness_load_job(name, prog, &job, &t, &p);
    int w = job.region_width, h = job.region_height;
    CU_ASSERT_EQUAL(w, 64);
    CU_ASSERT_EQUAL(h, 64);
    CU_ASSERT_EQUAL(p.dtype, dtype);
    wse_grid *g = harness_local_grid(w, h, 2, 2);
    wse_rect region = { job.region_x, job.region_y, w, h };
    wse_sim *s = NULL;
    CU_ASSERT_EQUAL_FATAL(wse_sim_create(&t, prog, &p, region, g, MPI_COMM_SELF, &s, &err), 0);
    CU_ASSERT_EQUAL_FATAL(job.n_inputs, 3);
    wse_host_array arr[4];
    memset(arr, 0, sizeof arr);
    for (int i = 0; i < job.n_inputs; i++) {
        int a = wse_hostio_find(prog, job.inputs[i].name);
        CU_ASSERT_FATAL(a >= 0 && a < GV_Y);
        for (int k = 0; k < wse_sim_nlocal(s); k++)
            CU_ASSERT_EQUAL(wse_hostio_load(wse_sim_local(s, k), &job.inputs[i], &err), 0);
        CU_ASSERT_EQUAL_FATAL(wse_hostio_input(prog, &p, w, h, &job.inputs[i], &arr[a], &err), 0);
    }
    CU_ASSERT_EQUAL_FATAL(wse_sim_run(s, (uint64_t)job.max_cycles, &err), 0);
    wse_host_array y;
    CU_ASSERT_EQUAL_FATAL(wse_hostio_alloc(prog, &p, w, h, GV_Y, &y, &err), 0);
    for (int k = 0; k < wse_sim_nlocal(s); k++)
        CU_ASSERT_EQUAL(wse_hostio_gather(wse_sim_local(s, k), GV_Y, &y, &err), 0);
    CU_ASSERT_EQUAL_FATAL(wse_hostio_alloc(prog, &p, w, h, GV_Y, &arr[GV_Y], &err), 0);
    void *arrays[4] = { arr[0].data, arr[1].data, arr[2].data, arr[3].data };
    CU_ASSERT_EQUAL_FATAL(prog->host.reference(&p, w, h, arrays), 0);
    CU_ASSERT_EQUAL(memcmp(y.data, arr[GV_Y].data, wse_host_array_count(&y) * sizeof(float)), 0);
    wse_engine_stats st;
    wse_sim_stats(s, &st);
    /* at least the local product (twice with the conversion of A) */
    CU_ASSERT(st.cycles > (uint64_t)((1 + dtype) * p.nb * p.mb));
    for (int a = 0; a < 4; a++)
        wse_host_array_free(&arr[a]);
    wse_host_array_free(&y);
    wse_sim_destroy(s);
    wse_grid_destroy(g);
}

static void test_gv_job_laptop(void) { gv_job_laptop("gemv.yaml", 0); }
static void test_gv_job_fp16_laptop(void) { gv_job_laptop("gemv_fp16.yaml", 1); }

int test_gemv_suite(void)
{
    CU_pSuite s = CU_add_suite("gemv", NULL, NULL);
    if (!s || !CU_add_test(s, "4x3 PEs, bitwise", test_gv_small) ||
        !CU_add_test(s, "7x5 and 5x7 PEs", test_gv_uneven) ||
        !CU_add_test(s, "one row of PEs", test_gv_one_row) ||
        !CU_add_test(s, "one column of PEs", test_gv_one_column) ||
        !CU_add_test(s, "one PE", test_gv_one_pe) ||
        !CU_add_test(s, "1 x 1 blocks", test_gv_tiny_blocks) ||
        !CU_add_test(s, "1-row and 1-column blocks", test_gv_thin_blocks) ||
        !CU_add_test(s, "queue depth 1, hop latency 3", test_gv_depth1_latency3) ||
        !CU_add_test(s, "hop latency 2", test_gv_latency2) ||
        !CU_add_test(s, "same results and counters for any shard grid", test_gv_any_grid) ||
        !CU_add_test(s, "wse2 and wse3 resource limits", test_gv_resources) ||
        !CU_add_test(s, "the product is one FMA per block", test_gv_one_op_product) ||
        !CU_add_test(s, "the row chain is one fabric op per PE", test_gv_chain_bound) ||
        !CU_add_test(s, "SRAM budget", test_gv_sram_budget) ||
        !CU_add_test(s, "full WSE-2 program rectangle loads", test_gv_wse2_loads) ||
        !CU_add_test(s, "job on laptop", test_gv_job_laptop) ||
        !CU_add_test(s, "fp16 job on laptop", test_gv_job_fp16_laptop))
        return CU_get_error();
    return 0;
}
