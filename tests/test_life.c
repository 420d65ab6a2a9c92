/*
 * tests/test_life.c - the life workload: bit-exact against its host
 * reference on uneven regions and tiles, queue depth 1 and long hops;
 * identical bytes, cycles and statistics on every shard grid; SRAM budget
 * failures; the full WSE-2 program rectangle loads; and the shipped jobs
 * (a random soup on laptop, a glider that crosses tiles and shards), run
 * from their YAML files through the same steps as wse_run.
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

extern const wse_program wse_program_life;
int test_life_suite(void);   /* until tests/test_list.h lists it */

typedef struct life_params { int64_t tile_w, tile_h, steps; } life_params;

/* Wavelets one generation moves: E/W columns of th cells and N/S rows of
 * tw+2 cells, 4 cells per wavelet, one hop each. */
static uint64_t life_wavelets(int w, int h, int tw, int th)
{
    return (uint64_t)2 * ((uint64_t)(w - 1) * h * (uint64_t)((th + 3) / 4) +
                          (uint64_t)w * (h - 1) * (uint64_t)((tw + 2 + 3) / 4));
}

static void life_vs_reference(int w, int h, int tw, int th, int steps, int depth, int lat)
{
    const wse_program *prog = &wse_program_life;
    life_params p = { tw, th, steps };
    wse_topology t = probe_topology(w, h, depth, lat);
    wse_rect r = { 0, 0, w, h };
    wse_engine *e = NULL;
    wse_error err;
    wse_error_clear(&err);
    CU_ASSERT_EQUAL_FATAL(wse_engine_create(&t, prog, &p, r, NULL, &e, &err), 0);
    wse_host_array c0, c, ref;
    wse_input in = { .name = "cells0", .kind = WSE_INPUT_GENERATE, .generator = WSE_GEN_RANDOM,
                     .seed = 3, .lo = 0.0, .hi = 2.0 };
    CU_ASSERT_EQUAL_FATAL(wse_hostio_input(prog, &p, w, h, &in, &c0, &err), 0);
    CU_ASSERT_EQUAL_FATAL(wse_hostio_scatter(e, 0, &c0, &err), 0);
    CU_ASSERT_EQUAL_FATAL(wse_engine_run(e, 100000000, &err), 0);
    CU_ASSERT_EQUAL_FATAL(wse_hostio_alloc(prog, &p, w, h, 1, &c, &err), 0);
    CU_ASSERT_EQUAL_FATAL(wse_hostio_gather(e, 1, &c, &err), 0);
    CU_ASSERT_EQUAL_FATAL(wse_hostio_alloc(prog, &p, w, h, 1, &ref, &err), 0);
    void *arrays[2] = { c0.data, ref.data };
    CU_ASSERT_EQUAL_FATAL(prog->host.reference(&p, w, h, arrays), 0);
    uint64_t n = wse_host_array_count(&c);
    CU_ASSERT_EQUAL(n, (uint64_t)w * tw * h * th);
    CU_ASSERT_EQUAL(memcmp(c.data, ref.data, n), 0);
    /* a soup changes: a program that does nothing cannot pass */
    if (steps > 0 && n >= 16)
        CU_ASSERT_NOT_EQUAL(memcmp(c.data, c0.data, n), 0);
    const uint8_t *cells = c.data;
    for (uint64_t i = 0; i < n; i++)
        if (cells[i] > 1) {
            CU_FAIL("a cell is neither 0 nor 1");
            break;
        }
    wse_engine_stats st;
    wse_engine_stats_get(e, &st);
    uint64_t wv = life_wavelets(w, h, tw, th) * (uint64_t)steps;
    CU_ASSERT_EQUAL(st.hops, wv);
    CU_ASSERT_EQUAL(st.wavelets_sent, wv);
    CU_ASSERT_EQUAL(st.wavelets_received, wv);
    CU_ASSERT_EQUAL(st.flops, 0);
    /* each generation charges at least the cell update: 7 cycles a cell */
    CU_ASSERT(st.busy_cycles >= (uint64_t)7 * n * (uint64_t)steps);
    wse_host_array_free(&c0);
    wse_host_array_free(&c);
    wse_host_array_free(&ref);
    wse_engine_destroy(e);
}

static void test_life_small(void) { life_vs_reference(4, 3, 5, 3, 9, 4, 1); }
static void test_life_uneven(void) { life_vs_reference(7, 5, 3, 6, 12, 2, 2); }
static void test_life_one_row(void) { life_vs_reference(7, 1, 2, 5, 8, 4, 1); }
static void test_life_one_column(void) { life_vs_reference(1, 6, 9, 1, 8, 4, 1); }
static void test_life_one_pe(void) { life_vs_reference(1, 1, 13, 11, 10, 4, 1); }
static void test_life_tiny_tiles(void) { life_vs_reference(6, 5, 1, 1, 7, 4, 1); }
static void test_life_depth1_latency3(void) { life_vs_reference(5, 4, 6, 9, 6, 1, 3); }
static void test_life_zero_steps(void) { life_vs_reference(3, 3, 4, 4, 0, 4, 1); }

typedef struct life_outcome {
    int rc;
    wse_engine_stats st;
    uint64_t digest;
    wse_host_array in, out;     /* input and gathered output */
} life_outcome;

/* Run on a grid of shards; inputs from `in` (generated or a file). */
static life_outcome life_grid_run(const wse_topology *t, const life_params *p, int w, int h,
                                  int gx, int gy, const wse_input *in)
{
    const wse_program *prog = &wse_program_life;
    life_outcome o;
    memset(&o, 0, sizeof o);
    wse_grid *g = harness_local_grid(w, h, gx, gy);
    wse_rect region = { 0, 0, w, h };
    wse_sim *s = NULL;
    wse_error err;
    wse_error_clear(&err);
    o.rc = wse_sim_create(t, prog, p, region, g, MPI_COMM_SELF, &s, &err);
    if (!o.rc)
        o.rc = wse_hostio_input(prog, p, w, h, in, &o.in, &err);
    for (int k = 0; !o.rc && k < wse_sim_nlocal(s); k++)
        o.rc = wse_hostio_load(wse_sim_local(s, k), in, &err);
    if (!o.rc)
        o.rc = wse_sim_run(s, 100000000, &err);
    if (!o.rc) {
        wse_sim_stats(s, &o.st);
        CU_ASSERT_EQUAL(wse_hostio_alloc(prog, p, w, h, 1, &o.out, &err), 0);
        for (int k = 0; k < wse_sim_nlocal(s); k++)
            CU_ASSERT_EQUAL(wse_hostio_gather(wse_sim_local(s, k), 1, &o.out, &err), 0);
        o.digest = wse_digest(WSE_DIGEST_INIT, o.out.data, wse_host_array_count(&o.out));
    }
    if (o.rc)
        fprintf(stderr, "\n  life grid %dx%d: %s\n", gx, gy, err.msg);
    wse_sim_destroy(s);
    wse_grid_destroy(g);
    return o;
}

static void life_outcome_free(life_outcome *o)
{
    wse_host_array_free(&o->in);
    wse_host_array_free(&o->out);
}

static void life_same(const life_outcome *a, const life_outcome *b)
{
    CU_ASSERT_EQUAL(a->rc, b->rc);
    CU_ASSERT_EQUAL(a->digest, b->digest);
    harness_same_stats(&a->st, &b->st);
}

static void test_life_any_grid(void)
{
    life_params p = { 3, 5, 9 };
    const int w = 7, h = 5;
    static const int grids[][2] = { { 2, 1 }, { 1, 2 }, { 2, 2 }, { 3, 2 }, { 7, 1 }, { 1, 5 }, { 7, 5 } };
    wse_input in = { .name = "cells0", .kind = WSE_INPUT_GENERATE, .generator = WSE_GEN_RANDOM,
                     .seed = 9, .lo = 0.0, .hi = 2.0 };
    for (int lat = 1; lat <= 2; lat++) {
        wse_topology t = probe_topology(w, h, lat == 1 ? 2 : 1, lat);
        life_outcome ref = life_grid_run(&t, &p, w, h, 1, 1, &in);
        CU_ASSERT_EQUAL_FATAL(ref.rc, 0);
        CU_ASSERT(ref.st.hops > 0);
        for (size_t i = 0; i < sizeof grids / sizeof grids[0]; i++) {
            life_outcome o = life_grid_run(&t, &p, w, h, grids[i][0], grids[i][1], &in);
            life_same(&ref, &o);
            life_outcome_free(&o);
        }
        life_outcome_free(&ref);
    }
}

static int life_create(const wse_topology *t, const life_params *p, int w, int h, wse_error *err)
{
    wse_rect r = { 0, 0, w, h };
    wse_engine *e = NULL;
    wse_error_clear(err);
    int rc = wse_engine_create(t, &wse_program_life, p, r, NULL, &e, err);
    CU_ASSERT(rc != 0 || e != NULL);
    wse_engine_destroy(e);
    return rc;
}

/* Every tile the job bounds allow (<= 128 x 128: 2 x 16,900 bytes plus
 * edges) fits 48 KiB, so the budget is exercised with a tile beyond the
 * bounds (the engine API does not check them) and with a smaller PE. */
static void test_life_sram_budget(void)
{
    wse_error err;
    wse_topology t = probe_topology(3, 2, 4, 1);
    life_params fits = { 128, 128, 1 };
    CU_ASSERT_EQUAL(life_create(&t, &fits, 3, 2, &err), 0);
    life_params big = { 160, 160, 1 };
    CU_ASSERT_EQUAL(life_create(&t, &big, 3, 2, &err), WSE_ESRAM);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "PE (0,0): program 'life' needs"));
    t.sram_bytes = 24 * 1024;
    CU_ASSERT_EQUAL(life_create(&t, &fits, 3, 2, &err), WSE_ESRAM);
    life_params half = { 64, 128, 1 };
    CU_ASSERT_EQUAL(life_create(&t, &half, 3, 2, &err), 0);
}

/* The full WSE-2 program rectangle loads with 16 x 16 tiles (the host
 * holds every PE's SRAM: 128 x 128 tiles fit a PE but need 26 GB). */
static void test_life_wse2_loads(void)
{
    if (harness_quick())      /* sanitizer build: too slow, the normal build runs it */
        return;
    wse_topology t = probe_topology(750, 994, 4, 1);
    t.reserved_bytes = 2048;
    life_params p = { 16, 16, 10 };
    wse_rect r = { 0, 0, 750, 994 };
    wse_engine *e = NULL;
    wse_error err;
    wse_error_clear(&err);
    CU_ASSERT_EQUAL_FATAL(wse_engine_create(&t, &wse_program_life, &p, r, NULL, &e, &err), 0);
    wse_engine_stats st;
    wse_engine_stats_get(e, &st);
    CU_ASSERT_EQUAL(st.pes, (uint64_t)750 * 994);
    CU_ASSERT(st.sram.value > 2 * 18 * 18 + 2048 && st.sram.value <= 48 * 1024);
    wse_engine_destroy(e);
}

/* Load a shipped job the way wse_run does (the program need not be
 * registered yet): job file, topology, params, region, input. */
typedef struct life_job {
    wse_job job;
    wse_topology topo;
    life_params p;
} life_job;

static void life_job_load(const char *name, life_job *j)
{
    harness_load_job(name, &wse_program_life, &j->job, &j->topo, &j->p);
    CU_ASSERT_EQUAL_FATAL(j->job.n_inputs, 1);
    CU_ASSERT_EQUAL(j->job.n_outputs, 1);
    CU_ASSERT_STRING_EQUAL(j->job.outputs[0], "cells");
}

/* Run a loaded job on a grid of shards and check it against the reference. */
static life_outcome life_job_run(life_job *j, int gx, int gy)
{
    int w = j->job.region_width, h = j->job.region_height;
    life_outcome o = life_grid_run(&j->topo, &j->p, w, h, gx, gy, &j->job.inputs[0]);
    CU_ASSERT_EQUAL_FATAL(o.rc, 0);
    wse_host_array ref;
    wse_error err;
    CU_ASSERT_EQUAL_FATAL(wse_hostio_alloc(&wse_program_life, &j->p, w, h, 1, &ref, &err), 0);
    void *arrays[2] = { o.in.data, ref.data };
    CU_ASSERT_EQUAL_FATAL(wse_program_life.host.reference(&j->p, w, h, arrays), 0);
    CU_ASSERT_EQUAL(memcmp(o.out.data, ref.data, wse_host_array_count(&ref)), 0);
    wse_host_array_free(&ref);
    return o;
}

static uint64_t live_count(const wse_host_array *a)
{
    uint64_t n = 0;
    const uint8_t *c = a->data;
    for (uint64_t i = 0; i < wse_host_array_count(a); i++)
        n += c[i] != 0;
    return n;
}

static void test_life_job_laptop(void)
{
    life_job j;
    life_job_load("life.yaml", &j);
    CU_ASSERT_EQUAL(j.job.region_width, 64);
    CU_ASSERT_EQUAL(j.job.region_height, 64);
    life_outcome o = life_job_run(&j, 1, 1);
    uint64_t n = wse_host_array_count(&o.out), alive0 = live_count(&o.in), alive = live_count(&o.out);
    /* a random soup is about half alive, and thins out as it evolves */
    CU_ASSERT(alive0 > n * 4 / 10 && alive0 < n * 6 / 10);
    CU_ASSERT(alive > 0 && alive < alive0);
    CU_ASSERT(o.st.cycles > (uint64_t)j.p.steps * 7 * 64);
    life_outcome_free(&o);
}

static void test_life_glider(void)
{
    life_job j;
    life_job_load("life_glider.yaml", &j);
    int w = j.job.region_width, h = j.job.region_height;
    int tw = (int)j.p.tile_w, th = (int)j.p.tile_h, steps = (int)j.p.steps;
    CU_ASSERT_EQUAL_FATAL(steps % 4, 0);
    static const int grids[][2] = { { 1, 1 }, { 2, 2 }, { 3, 4 } };
    life_outcome ref;
    memset(&ref, 0, sizeof ref);
    for (size_t g = 0; g < sizeof grids / sizeof grids[0]; g++) {
        life_outcome o = life_job_run(&j, grids[g][0], grids[g][1]);
        CU_ASSERT_EQUAL(live_count(&o.in), 5);
        CU_ASSERT_EQUAL(live_count(&o.out), 5);
        /* same shape, moved (+steps/4, +steps/4), into another tile */
        int64_t W = (int64_t)w * tw, H = (int64_t)h * th, k = steps / 4;
        const uint8_t *a = o.in.data, *b = o.out.data;
        int moved = 0, crossed = 0;
        for (int64_t r = 0; r < H; r++)
            for (int64_t c = 0; c < W; c++)
                if (a[r * W + c]) {
                    CU_ASSERT_FATAL(r + k < H && c + k < W);
                    moved += b[(r + k) * W + c + k] == 1;
                    crossed += (r + k) / th != r / th && (c + k) / tw != c / tw;
                }
        CU_ASSERT_EQUAL(moved, 5);
        CU_ASSERT_EQUAL(crossed, 5);
        CU_ASSERT(k >= 3 * tw && k >= 3 * th);    /* several tiles diagonally */
        if (g == 0)
            ref = o;
        else {
            life_same(&ref, &o);
            life_outcome_free(&o);
        }
    }
    life_outcome_free(&ref);
}

int test_life_suite(void)
{
    CU_pSuite s = CU_add_suite("life", NULL, NULL);
    if (!s || !CU_add_test(s, "4x3 PEs of 5x3 tiles, exact", test_life_small) ||
        !CU_add_test(s, "7x5 PEs, hop latency 2, depth 2", test_life_uneven) ||
        !CU_add_test(s, "one row of PEs", test_life_one_row) ||
        !CU_add_test(s, "one column of PEs", test_life_one_column) ||
        !CU_add_test(s, "one PE", test_life_one_pe) ||
        !CU_add_test(s, "1x1 tiles", test_life_tiny_tiles) ||
        !CU_add_test(s, "queue depth 1, hop latency 3", test_life_depth1_latency3) ||
        !CU_add_test(s, "zero steps", test_life_zero_steps) ||
        !CU_add_test(s, "same bits and stats on any shard grid", test_life_any_grid) ||
        !CU_add_test(s, "SRAM budget", test_life_sram_budget) ||
        !CU_add_test(s, "750x994 WSE-2 region loads", test_life_wse2_loads) ||
        !CU_add_test(s, "job life.yaml on laptop", test_life_job_laptop) ||
        !CU_add_test(s, "job life_glider.yaml: the glider moves across shards", test_life_glider))
        return CU_get_error();
    return 0;
}
