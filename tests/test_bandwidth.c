/*
 * tests/test_bandwidth.c - the bandwidth calibration workload: exact word
 * counts against the host reference; the ideal rate (span = n, so
 * n / (last - first + 1) = 1 wavelet per cycle per link) whenever
 * queue_depth >= 2 * hop latency, and exactly 1/(2L) with depth 1;
 * first-arrival latency growing by exactly hop_latency_cycles per extra
 * hop; identical outputs, cycles and statistics on every shard grid;
 * parameter and SRAM errors; the full WSE-2 program rectangle loads; and
 * the shipped jobs, run from their YAML files as wse_run does.
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
#include "wse/shard.h"

extern const wse_program wse_program_bandwidth;
int test_bandwidth_suite(void);   /* until tests/test_list.h lists it */

typedef struct bw_params { int64_t n, hops, dirs; } bw_params;

enum { A_ARRIVAL = 0, A_SENT = 1, A_RECEIVED = 2, A_SPAN = 3, N_ARRAYS = 4 };

/* A run's gathered outputs and its reference. */
typedef struct bw_run {
    int rc;
    char msg[1024];
    wse_engine_stats st;
    uint64_t digest;
    wse_host_array out[N_ARRAYS], ref[N_ARRAYS];
} bw_run;

static void bw_run_free(bw_run *r)
{
    for (int i = 0; i < N_ARRAYS; i++) {
        wse_host_array_free(&r->out[i]);
        wse_host_array_free(&r->ref[i]);
    }
}

/* Run on a gx x gy grid of shards, gather every output, compute the
 * reference. */
static bw_run bw_go(const wse_topology *t, const bw_params *p, int w, int h, int gx, int gy)
{
    const wse_program *prog = &wse_program_bandwidth;
    bw_run r;
    memset(&r, 0, sizeof r);
    wse_grid *g = harness_local_grid(w, h, gx, gy);
    wse_rect region = { 0, 0, w, h };
    wse_sim *s = NULL;
    wse_error err;
    wse_error_clear(&err);
    r.rc = wse_sim_create(t, prog, p, region, g, MPI_COMM_SELF, &s, &err);
    if (!r.rc)
        r.rc = wse_sim_run(s, 100000000, &err);
    snprintf(r.msg, sizeof r.msg, "%s", err.msg);
    if (!r.rc) {
        wse_sim_stats(s, &r.st);
        void *refs[N_ARRAYS];
        r.digest = WSE_DIGEST_INIT;
        for (int a = 0; a < N_ARRAYS; a++) {
            CU_ASSERT_EQUAL_FATAL(wse_hostio_alloc(prog, p, w, h, a, &r.out[a], &err), 0);
            CU_ASSERT_EQUAL_FATAL(wse_hostio_alloc(prog, p, w, h, a, &r.ref[a], &err), 0);
            for (int k = 0; k < wse_sim_nlocal(s); k++)
                CU_ASSERT_EQUAL(wse_hostio_gather(wse_sim_local(s, k), a, &r.out[a], &err), 0);
            r.digest = wse_digest(r.digest, r.out[a].data,
                                  wse_host_array_count(&r.out[a]) * wse_dtype_size(r.out[a].dtype));
            refs[a] = r.ref[a].data;
        }
        CU_ASSERT_EQUAL(prog->host.reference(p, w, h, refs), 0);
    }
    wse_sim_destroy(s);
    wse_grid_destroy(g);
    return r;
}

static const uint32_t *u32(const bw_run *r, int a) { return r->out[a].data; }
static const float *f32(const bw_run *r, int a) { return r->out[a].data; }

/* Streams and the READY tokens that start them, for dirs 1. */
static uint64_t east_streams(int w, int h, int hops)
{
    return (uint64_t)h * (uint64_t)((w - 1) / hops);
}

/* dirs 1: counts exact, stats exact, span = n when depth >= 2 latency
 * (and 2L(n-1)+1 with depth 1), latency (hops+1)L + task switch. */
static void east_vs_reference(int w, int h, int n, int hops, int depth, int lat)
{
    bw_params p = { n, hops, 1 };
    wse_topology t = probe_topology(w, h, depth, lat);
    bw_run r = bw_go(&t, &p, w, h, 1, 1);
    CU_ASSERT_EQUAL_FATAL(r.rc, 0);
    uint64_t cells = (uint64_t)w * h;
    CU_ASSERT_EQUAL(memcmp(r.out[A_RECEIVED].data, r.ref[A_RECEIVED].data, cells * 4), 0);
    const uint32_t *arr = u32(&r, A_ARRIVAL), *sent = u32(&r, A_SENT), *rec = u32(&r, A_RECEIVED);
    const float *span = f32(&r, A_SPAN), *rspan = r.ref[A_SPAN].data;
    uint64_t streams = east_streams(w, h, hops), receivers = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint64_t i = (uint64_t)y * w + x;
            if (rec[i] == 0) {
                CU_ASSERT_EQUAL(rspan[i], 0.0f);
                continue;
            }
            receivers++;
            CU_ASSERT_EQUAL(rec[i], (uint32_t)n);
            uint32_t first = arr[2 * i], last = arr[2 * i + 1], s = sent[i - (uint64_t)hops];
            CU_ASSERT(s > 0);
            /* task_switch_cycles of probe_topology is 1 */
            CU_ASSERT_EQUAL(first - s, (uint32_t)((hops + 1) * lat + 1));
            if (depth >= 2 * lat) {
                CU_ASSERT_EQUAL(last - first, (uint32_t)(n - 1));
                CU_ASSERT_EQUAL(span[i], rspan[i]);
            } else if (depth == 1) {
                CU_ASSERT_EQUAL(last - first, (uint32_t)(2 * lat * (n - 1)));
            }
        }
    CU_ASSERT_EQUAL(receivers, streams);
    /* every stream: n wavelets and a READY token, each over `hops` links */
    CU_ASSERT_EQUAL(r.st.hops, streams * (uint64_t)(n + 1) * (uint64_t)hops);
    CU_ASSERT_EQUAL(r.st.wavelets_sent, streams * (uint64_t)(n + 1));
    CU_ASSERT_EQUAL(r.st.wavelets_received, streams * (uint64_t)(n + 1));
    CU_ASSERT_EQUAL(r.st.flops, 0);
    bw_run_free(&r);
}

static void test_bw_small(void) { east_vs_reference(4, 3, 16, 1, 4, 1); }
static void test_bw_uneven(void) { east_vs_reference(7, 5, 40, 1, 4, 2); }
static void test_bw_one_row(void) { east_vs_reference(9, 1, 100, 1, 2, 1); }
static void test_bw_one_pe(void) { east_vs_reference(1, 1, 8, 1, 4, 1); }
static void test_bw_hops3(void) { east_vs_reference(11, 2, 33, 3, 6, 3); }
static void test_bw_depth1_latency3(void) { east_vs_reference(5, 2, 20, 1, 1, 3); }
static void test_bw_depth1_hops2(void) { east_vs_reference(7, 3, 12, 2, 1, 1); }

/* Latency against hop count: (hops + 1) L + task switch, so exactly L per
 * extra hop, the constant taken from a 1-hop run. */
static void test_bw_latency_vs_hops(void)
{
    const int w = 9, h = 2, n = 24;
    for (int lat = 1; lat <= 3; lat++) {
        wse_topology t = probe_topology(w, h, 2 * lat, lat);
        uint32_t base = 0;
        for (int hops = 1; hops < w; hops++) {
            bw_params p = { n, hops, 1 };
            bw_run r = bw_go(&t, &p, w, h, 1, 1);
            CU_ASSERT_EQUAL_FATAL(r.rc, 0);
            /* the stream from x = 0 ends at x = hops, row 1 */
            uint64_t rx = (uint64_t)w + (uint64_t)hops, tx = (uint64_t)w;
            uint32_t first = u32(&r, A_ARRIVAL)[2 * rx], last = u32(&r, A_ARRIVAL)[2 * rx + 1];
            uint32_t latency = first - u32(&r, A_SENT)[tx];
            if (hops == 1)
                base = latency;
            CU_ASSERT_EQUAL(latency, base + (uint32_t)((hops - 1) * lat));
            CU_ASSERT_EQUAL(last - first, (uint32_t)(n - 1));
            CU_ASSERT_EQUAL(u32(&r, A_RECEIVED)[rx], (uint32_t)n);
            CU_ASSERT_EQUAL(f32(&r, A_SPAN)[rx], (float)n);
            bw_run_free(&r);
        }
        CU_ASSERT_EQUAL(base, (uint32_t)(2 * lat + 1));
    }
}

/* dirs 4: every flow complete and correct; no PE's CE takes its flows
 * faster than one wavelet per cycle; interior PEs keep the ramp busy. */
static void four_vs_reference(int w, int h, int n, int depth, int lat)
{
    bw_params p = { n, 1, 4 };
    wse_topology t = probe_topology(w, h, depth, lat);
    bw_run r = bw_go(&t, &p, w, h, 1, 1);
    CU_ASSERT_EQUAL_FATAL(r.rc, 0);
    uint64_t cells = (uint64_t)w * h;
    CU_ASSERT_EQUAL(memcmp(r.out[A_RECEIVED].data, r.ref[A_RECEIVED].data, cells * 16), 0);
    const uint32_t *arr = u32(&r, A_ARRIVAL), *rec = u32(&r, A_RECEIVED);
    const float *span = f32(&r, A_SPAN), *rspan = r.ref[A_SPAN].data;
    uint64_t flows = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint64_t i = (uint64_t)y * w + x;
            int k = 0;
            for (int f = 0; f < 4; f++)
                if (rec[4 * i + f]) {
                    k++;
                    CU_ASSERT(arr[8 * i + 2 * f + 1] > arr[8 * i + 2 * f]);
                }
            flows += (uint64_t)k;
            CU_ASSERT_EQUAL(rspan[i], (float)(k * n));
            /* one wavelet per cycle at most; `first` may be taken a few
             * task switches late when completions coincide */
            if (k)
                CU_ASSERT(span[i] >= (float)(k * n - 16));
            if (x > 0 && y > 0 && x < w - 1 && y < h - 1 && depth >= 2 * lat)
                CU_ASSERT(span[i] <= (float)(4 * n + 16));
        }
    CU_ASSERT_EQUAL(flows, (uint64_t)2 * ((uint64_t)(w - 1) * h + (uint64_t)w * (h - 1)));
    /* dirs 4 has no READY tokens: n wavelets per flow, over one link */
    CU_ASSERT_EQUAL(r.st.wavelets_received, flows * (uint64_t)n);
    CU_ASSERT_EQUAL(r.st.hops, flows * (uint64_t)n);
    bw_run_free(&r);
}

static void test_bw_four(void) { four_vs_reference(6, 5, 64, 4, 1); }
static void test_bw_four_one_row(void) { four_vs_reference(7, 1, 32, 2, 1); }
static void test_bw_four_one_pe(void) { four_vs_reference(1, 1, 8, 4, 1); }
static void test_bw_four_depth1_latency2(void) { four_vs_reference(4, 4, 16, 1, 2); }

static void bw_same(const bw_run *a, const bw_run *b)
{
    CU_ASSERT_EQUAL(a->rc, b->rc);
    CU_ASSERT_STRING_EQUAL(a->msg, b->msg);
    CU_ASSERT_EQUAL(a->digest, b->digest);
    harness_same_stats(&a->st, &b->st);
}

static void test_bw_any_grid(void)
{
    const int w = 7, h = 5;
    static const int grids[][2] = { { 2, 1 }, { 1, 2 }, { 2, 2 }, { 3, 2 }, { 7, 1 }, { 1, 5 }, { 7, 5 } };
    static const bw_params ps[] = { { 20, 1, 1 }, { 12, 3, 1 }, { 16, 1, 4 } };
    for (size_t k = 0; k < sizeof ps / sizeof ps[0]; k++)
        for (int lat = 1; lat <= 2; lat++) {
            wse_topology t = probe_topology(w, h, lat == 1 ? 2 : 1, lat);
            bw_run ref = bw_go(&t, &ps[k], w, h, 1, 1);
            CU_ASSERT_EQUAL_FATAL(ref.rc, 0);
            CU_ASSERT(ref.st.hops > 0);
            for (size_t i = 0; i < sizeof grids / sizeof grids[0]; i++) {
                bw_run o = bw_go(&t, &ps[k], w, h, grids[i][0], grids[i][1]);
                bw_same(&ref, &o);
                bw_run_free(&o);
            }
            bw_run_free(&ref);
        }
}

static int bw_create(const wse_topology *t, const bw_params *p, int w, int h, wse_error *err)
{
    wse_rect r = { 0, 0, w, h };
    wse_engine *e = NULL;
    wse_error_clear(err);
    int rc = wse_engine_create(t, &wse_program_bandwidth, p, r, NULL, &e, err);
    wse_engine_destroy(e);
    return rc;
}

/* 48 KiB with 2 KiB reserved, as wse2.yaml. */
static void test_bw_sram_budget(void)
{
    wse_error err;
    wse_topology t = probe_topology(4, 3, 4, 1);
    t.reserved_bytes = 2048;
    bw_params ok1 = { 4096, 1, 1 }, big1 = { 8192, 1, 1 };
    bw_params ok4 = { 2048, 1, 4 }, big4 = { 4096, 1, 4 };
    CU_ASSERT_EQUAL(bw_create(&t, &ok1, 4, 3, &err), 0);
    CU_ASSERT_EQUAL(bw_create(&t, &big1, 4, 3, &err), WSE_ESRAM);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "program 'bandwidth' needs"));
    CU_ASSERT_EQUAL(bw_create(&t, &ok4, 4, 3, &err), 0);
    CU_ASSERT_EQUAL(bw_create(&t, &big4, 4, 3, &err), WSE_ESRAM);
}

static void test_bw_bad_params(void)
{
    wse_error err;
    wse_topology t = probe_topology(5, 2, 4, 1);
    bw_params dirs2 = { 16, 1, 2 }, hops4 = { 16, 2, 4 }, far = { 16, 5, 1 }, edge = { 16, 4, 1 };
    CU_ASSERT_EQUAL(bw_create(&t, &dirs2, 5, 2, &err), WSE_EPROGRAM);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "dirs must be 1 or 4, not 2"));
    CU_ASSERT_EQUAL(bw_create(&t, &hops4, 5, 2, &err), WSE_EPROGRAM);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "hops must be 1"));
    CU_ASSERT_EQUAL(bw_create(&t, &far, 5, 2, &err), WSE_EPROGRAM);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "hops 5 needs a region at least 6 PEs wide, not 5"));
    CU_ASSERT_EQUAL(bw_create(&t, &edge, 5, 2, &err), 0);
}

/* The full WSE-2 program rectangle loads, in both modes.  n is kept small
 * because the emulator holds every PE's SRAM in host memory (dirs 4 with
 * n = 1024 also fits a PE, 22.7 KB, but needs 17 GB of host memory). */
static void test_bw_wse2_loads(void)
{
    if (harness_quick())      /* sanitizer build: too slow, the normal build runs it */
        return;
    wse_topology t = probe_topology(750, 994, 4, 1);
    t.reserved_bytes = 2048;
    static const bw_params ps[] = { { 256, 1, 1 }, { 64, 1, 4 } };
    for (int k = 0; k < 2; k++) {
        wse_rect r = { 0, 0, 750, 994 };
        wse_engine *e = NULL;
        wse_error err;
        wse_error_clear(&err);
        CU_ASSERT_EQUAL_FATAL(wse_engine_create(&t, &wse_program_bandwidth, &ps[k], r, NULL, &e, &err), 0);
        wse_engine_stats st;
        wse_engine_stats_get(e, &st);
        CU_ASSERT_EQUAL(st.pes, (uint64_t)750 * 994);
        CU_ASSERT(st.sram.value > 2048 && st.sram.value <= 48 * 1024);
        wse_engine_destroy(e);
    }
}

/* A shipped job, loaded as wse_run loads it (the program need not be
 * registered yet), run on a grid of shards. */
static bw_run bw_job(const char *name, bw_params *p, int *w, int *h, int gx, int gy)
{
    wse_job job;
    wse_topology topo;
    harness_load_job(name, &wse_program_bandwidth, &job, &topo, p);
    CU_ASSERT_EQUAL(job.n_outputs, 4);
    *w = job.region_width;
    *h = job.region_height;
    return bw_go(&topo, p, *w, *h, gx, gy);
}

static void test_bw_job_east(void)
{
    bw_params p;
    int w, h;
    bw_run r = bw_job("bandwidth.yaml", &p, &w, &h, 2, 2);
    CU_ASSERT_EQUAL_FATAL(r.rc, 0);
    CU_ASSERT_EQUAL(w, 64);
    CU_ASSERT_EQUAL(p.dirs, 1);
    uint64_t cells = (uint64_t)w * h;
    CU_ASSERT_EQUAL(memcmp(r.out[A_RECEIVED].data, r.ref[A_RECEIVED].data, cells * 4), 0);
    /* verify's max error: 0, one wavelet per cycle on every link */
    CU_ASSERT_EQUAL(memcmp(r.out[A_SPAN].data, r.ref[A_SPAN].data, cells * 4), 0);
    const uint32_t *arr = u32(&r, A_ARRIVAL);
    CU_ASSERT_EQUAL(arr[2 * 1 + 1] - arr[2 * 1], (uint32_t)(p.n - 1));
    bw_run_free(&r);
}

static void test_bw_job_four(void)
{
    bw_params p;
    int w, h;
    bw_run r = bw_job("bandwidth4.yaml", &p, &w, &h, 1, 1);
    CU_ASSERT_EQUAL_FATAL(r.rc, 0);
    CU_ASSERT_EQUAL(p.dirs, 4);
    uint64_t cells = (uint64_t)w * h;
    CU_ASSERT_EQUAL(memcmp(r.out[A_RECEIVED].data, r.ref[A_RECEIVED].data, cells * 16), 0);
    const float *span = f32(&r, A_SPAN);
    /* an interior PE: four links into one ramp, about 1/4 wavelet per
     * cycle each, the ramp busy throughout */
    uint64_t mid = (uint64_t)(h / 2) * w + (uint64_t)(w / 2);
    CU_ASSERT(span[mid] >= (float)(4 * p.n - 16) && span[mid] <= (float)(4 * p.n + 16));
    bw_run_free(&r);
}

int test_bandwidth_suite(void)
{
    CU_pSuite s = CU_add_suite("bandwidth", NULL, NULL);
    if (!s || !CU_add_test(s, "4x3 PEs east, exact counts and ideal rate", test_bw_small) ||
        !CU_add_test(s, "7x5 PEs, hop latency 2", test_bw_uneven) ||
        !CU_add_test(s, "one row of PEs", test_bw_one_row) ||
        !CU_add_test(s, "one PE streams nothing", test_bw_one_pe) ||
        !CU_add_test(s, "3 hops, latency 3", test_bw_hops3) ||
        !CU_add_test(s, "queue depth 1, hop latency 3: rate 1/6", test_bw_depth1_latency3) ||
        !CU_add_test(s, "queue depth 1, 2 hops: rate 1/2", test_bw_depth1_hops2) ||
        !CU_add_test(s, "latency grows by hop_latency_cycles per hop", test_bw_latency_vs_hops) ||
        !CU_add_test(s, "dirs 4: counts exact, ramp bound", test_bw_four) ||
        !CU_add_test(s, "dirs 4: one row", test_bw_four_one_row) ||
        !CU_add_test(s, "dirs 4: one PE", test_bw_four_one_pe) ||
        !CU_add_test(s, "dirs 4: depth 1, hop latency 2", test_bw_four_depth1_latency2) ||
        !CU_add_test(s, "same bits and stats on any shard grid", test_bw_any_grid) ||
        !CU_add_test(s, "SRAM budget", test_bw_sram_budget) ||
        !CU_add_test(s, "bad params fail at setup", test_bw_bad_params) ||
        !CU_add_test(s, "750x994 WSE-2 region loads", test_bw_wse2_loads) ||
        !CU_add_test(s, "job bandwidth.yaml on laptop", test_bw_job_east) ||
        !CU_add_test(s, "job bandwidth4.yaml on laptop", test_bw_job_four))
        return CU_get_error();
    return 0;
}
