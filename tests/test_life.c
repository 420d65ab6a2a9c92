/*
 * tests/test_life.c - the life workload: bit-exact against its host
 * reference on uneven regions and tiles (1 x 1 up to the 74 x 74
 * maximum), queue depth 1 and long hops; every cycle comes from the
 * engine's 16-bit ops (busy cycles, tasks and SRAM bytes equal what the
 * op sequence costs); identical bytes, cycles and statistics on every
 * shard grid; wse2's and wse3's resource limits; SRAM budget failures;
 * the full WSE-2 program rectangle loads; and the shipped jobs (a random
 * soup on laptop, a glider that crosses tiles and shards), run from their
 * YAML files through the same steps as wse_run.
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

#define LIFE_TILE_MAX 74    /* life.c's bound on tile_w and tile_h */

/* The probe topology with WSE-2's costs and reserved SRAM, so startups,
 * issues and task switches all count. */
static wse_topology life_topology(int w, int h, int depth, int lat)
{
    wse_topology t = probe_topology(w, h, depth, lat);
    t.task_switch_cycles = 2;
    t.vector_startup_cycles = 2;
    t.fabric_startup_cycles = 2;
    t.reserved_bytes = 2048;
    return t;
}

/* Directed links of a w x h region: along x, along y. */
static uint64_t links_x(int w, int h) { return (uint64_t)2 * (uint64_t)(w - 1) * (uint64_t)h; }
static uint64_t links_y(int w, int h) { return (uint64_t)2 * (uint64_t)w * (uint64_t)(h - 1); }

/* Wavelets one generation moves: E/W columns of th cells, one per
 * wavelet, and N/S rows of tw+2 cells (with corners), two per wavelet. */
static uint64_t life_wavelets(int w, int h, int tw, int th)
{
    return links_x(w, h) * (uint64_t)th + links_y(w, h) * (uint64_t)((tw + 3) / 2);
}

/* What the op sequence of life.c costs, from pe.h's rules (s vector
 * startup, q simd_fp16, a fabric startup, k task switch), summed over the
 * PEs of a w x h region.  n1 = th (tw+2) cells (the vertical sums), n2 =
 * tw th (the tile).  Once: a fill of the rule constant (s + 1) and three
 * ops over the tile.  A generation: 2 ops over n1 and 5 over n2; per
 * neighbour a send and a receive, each issued (a) and ending in a task
 * (k); and 2 tasks more (the exchange's second phase, the update). */
typedef struct life_cost { uint64_t busy, tasks, bytes; } life_cost;

static uint64_t op_cycles(const wse_topology *t, uint64_t n)
{
    uint64_t q = (uint64_t)t->simd_fp16;
    return (uint64_t)t->vector_startup_cycles + (n + q - 1) / q;
}

static life_cost life_expected(const wse_topology *t, int w, int h, int tw, int th, int steps)
{
    uint64_t pes = (uint64_t)w * h, g = (uint64_t)steps, links = links_x(w, h) + links_y(w, h);
    uint64_t n1 = (uint64_t)th * (uint64_t)(tw + 2), n2 = (uint64_t)tw * th;
    uint64_t init = op_cycles(t, 1) + 3 * op_cycles(t, n2);
    uint64_t gen = 2 * op_cycles(t, n1) + 5 * op_cycles(t, n2);
    life_cost c;
    /* each link is one send and one receive per generation */
    c.tasks = pes * (1 + 2 * g) + 2 * links * g;
    c.busy = (uint64_t)t->task_switch_cycles * c.tasks + pes * (init + g * gen) +
             (uint64_t)t->fabric_startup_cycles * 2 * links * g;
    /* 2 bytes an element of every memory operand (broadcast constants
     * too).  Once: the fill (1 element), then ops of 3, 3 and 2 operands
     * over n2: 2 + 2 * 8 n2.  A generation: 2 ops of 3 operands over n1,
     * 4 of 3 and one of 2 over n2: 2 * 6 n1 + 2 * 14 n2.  Per link, a
     * column's th U16 read by the send and written by the receive (4 th),
     * a row's (tw+3)/2 U32 alike (8 (tw+3)/2). */
    c.bytes = pes * (2 + 16 * n2 + g * (12 * n1 + 28 * n2)) +
              g * (links_x(w, h) * 4 * (uint64_t)th + links_y(w, h) * 8 * (uint64_t)((tw + 3) / 2));
    return c;
}

static uint64_t live_count(const wse_host_array *a)
{
    uint64_t n = 0;
    const uint16_t *c = a->data;
    for (uint64_t i = 0; i < wse_host_array_count(a); i++)
        n += c[i] != 0;
    return n;
}

/* Run on one engine from a random soup of values 0..hi-1 (nonzero is
 * alive) and compare with the reference; returns the engine's stats. */
static wse_engine_stats life_vs_reference_on(const wse_topology *t, int w, int h, int tw, int th,
                                             int steps, double hi)
{
    const wse_program *prog = &wse_program_life;
    life_params p = { tw, th, steps };
    wse_rect r = { 0, 0, w, h };
    wse_engine *e = NULL;
    wse_engine_stats st;
    memset(&st, 0, sizeof st);
    wse_error err;
    wse_error_clear(&err);
    CU_ASSERT_EQUAL_FATAL(wse_engine_create(t, prog, &p, r, NULL, &e, &err), 0);
    wse_host_array c0, c, ref;
    wse_input in = { .name = "cells0", .kind = WSE_INPUT_GENERATE, .generator = WSE_GEN_RANDOM,
                     .seed = 3, .lo = 0.0, .hi = hi };
    CU_ASSERT_EQUAL_FATAL(wse_hostio_input(prog, &p, w, h, &in, &c0, &err), 0);
    CU_ASSERT_EQUAL_FATAL(wse_hostio_scatter(e, 0, &c0, &err), 0);
    int rc = wse_engine_run(e, 100000000, &err);
    if (rc)
        fprintf(stderr, "\n  life %dx%d tiles %dx%d: %s\n", w, h, tw, th, err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_EQUAL_FATAL(wse_hostio_alloc(prog, &p, w, h, 1, &c, &err), 0);
    CU_ASSERT_EQUAL_FATAL(wse_hostio_gather(e, 1, &c, &err), 0);
    CU_ASSERT_EQUAL_FATAL(wse_hostio_alloc(prog, &p, w, h, 1, &ref, &err), 0);
    void *arrays[2] = { c0.data, ref.data };
    CU_ASSERT_EQUAL_FATAL(prog->host.reference(&p, w, h, arrays), 0);
    uint64_t n = wse_host_array_count(&c);
    CU_ASSERT_EQUAL(n, (uint64_t)w * tw * h * th);
    CU_ASSERT_EQUAL(memcmp(c.data, ref.data, n * sizeof(uint16_t)), 0);
    /* a soup changes: a program that does nothing cannot pass */
    if (steps > 0 && n >= 16)
        CU_ASSERT_NOT_EQUAL(memcmp(c.data, c0.data, n * sizeof(uint16_t)), 0);
    const uint16_t *cells = c.data;
    for (uint64_t i = 0; i < n; i++)
        if (cells[i] > 1) {
            CU_FAIL("a cell is neither 0 nor 1");
            break;
        }
    wse_engine_stats_get(e, &st);
    uint64_t wv = life_wavelets(w, h, tw, th) * (uint64_t)steps;
    CU_ASSERT_EQUAL(st.hops, wv);
    CU_ASSERT_EQUAL(st.wavelets_sent, wv);
    CU_ASSERT_EQUAL(st.wavelets_received, wv);
    CU_ASSERT_EQUAL(st.flops, 0);
    /* every element an op touches is counted: nothing is done by hand */
    life_cost want = life_expected(t, w, h, tw, th, steps);
    CU_ASSERT_EQUAL(st.tasks_run, want.tasks);
    CU_ASSERT_EQUAL(st.sram_bytes_moved, want.bytes);
    wse_host_array_free(&c0);
    wse_host_array_free(&c);
    wse_host_array_free(&ref);
    wse_engine_destroy(e);
    return st;
}

static void life_vs_reference(int w, int h, int tw, int th, int steps, int depth, int lat)
{
    wse_topology t = life_topology(w, h, depth, lat);
    life_vs_reference_on(&t, w, h, tw, th, steps, 2.0);
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
        o.digest = wse_digest(WSE_DIGEST_INIT, o.out.data,
                              wse_host_array_count(&o.out) * sizeof(uint16_t));
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
        wse_topology t = life_topology(w, h, lat == 1 ? 2 : 1, lat);
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

/* A tile of tw x th cells takes, in 16-byte-aligned allocations, two
 * copies of (th+2) x row U16 cells (row = tw+2 rounded up to even) and
 * two th x row scratch arrays, besides the state and the constants: at
 * the 74 x 74 maximum 2 * 11,552 + 2 * 11,248 = 45,600 bytes, which fits
 * 48 KiB less 2 KiB reserved (47,104); 75 x 75 (beyond the bounds: the
 * engine API does not check them) needs 2 * 12,016 + 2 * 11,712 = 47,456
 * and does not.  On a 24 KiB PE 32 x 74 fits (2 * 5,168 + 2 * 5,040). */
static void test_life_sram_budget(void)
{
    wse_error err;
    wse_topology t = life_topology(3, 2, 4, 1);
    life_params fits = { LIFE_TILE_MAX, LIFE_TILE_MAX, 1 };
    CU_ASSERT_EQUAL(life_create(&t, &fits, 3, 2, &err), 0);
    life_params big = { LIFE_TILE_MAX + 1, LIFE_TILE_MAX + 1, 1 };
    CU_ASSERT_EQUAL(life_create(&t, &big, 3, 2, &err), WSE_ESRAM);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "PE (0,0): program 'life' needs"));
    t.sram_bytes = 24 * 1024;
    CU_ASSERT_EQUAL(life_create(&t, &fits, 3, 2, &err), WSE_ESRAM);
    life_params part = { 32, LIFE_TILE_MAX, 1 };
    CU_ASSERT_EQUAL(life_create(&t, &part, 3, 2, &err), 0);
    /* and the program's own bounds are the ones the budget sets */
    for (int i = 0; i < wse_program_life.n_params; i++)
        if (strncmp(wse_program_life.params[i].name, "tile_", 5) == 0)
            CU_ASSERT_EQUAL(wse_program_life.params[i].max, LIFE_TILE_MAX);
}

/* The full WSE-2 program rectangle loads with 16 x 16 tiles (the host
 * holds every PE's SRAM: 74 x 74 tiles fit a PE but need 34 GB). */
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
    /* two 18 x 18 tiles and two 16 x 18 scratch arrays of 2-byte cells */
    CU_ASSERT(st.sram.value > 2 * 2 * (18 * 18 + 16 * 18) + 2048 && st.sram.value <= 48 * 1024);
    wse_engine_destroy(e);
}

/* No cycle is charged by hand: on the WSE-2 costs (s = 2, q = 4, a = 2,
 * k = 2) a 3 x 2 tile (n1 = 2 * 5 = 10, n2 = 6; its rows padded to 6
 * cells) costs once a fill (2 + 1) and three ops (2 + 2 each): 15; and a
 * generation two ops of 2 + 3 and five of 2 + 2: 30.  One PE, 2
 * generations: 5 tasks (the first, then 2 a generation), so
 * 5 * 2 + 15 + 2 * 30 = 85 busy cycles.  Two PEs side by side: each also
 * sends and receives a column a generation, 2 issues (2 cycles each) and
 * 2 tasks more, so 9 tasks each and 2 * (9 * 2 + 15 + 60 + 4 * 2) = 202. */
static void test_life_cycles_from_ops(void)
{
    static const int cases[2][3] = { { 1, 1, 85 }, { 2, 1, 202 } };
    for (int c = 0; c < 2; c++) {
        int w = cases[c][0], h = cases[c][1];
        wse_topology t = life_topology(w, h, 4, 1);
        wse_engine_stats st = life_vs_reference_on(&t, w, h, 3, 2, 2, 2.0);
        CU_ASSERT_EQUAL(life_expected(&t, w, h, 3, 2, 2).busy, (uint64_t)cases[c][2]);
        CU_ASSERT_EQUAL(st.busy_cycles, (uint64_t)cases[c][2]);
    }
    /* and the formula holds on a region with every kind of PE */
    wse_topology t = life_topology(4, 3, 4, 1);
    wse_engine_stats st = life_vs_reference_on(&t, 4, 3, 5, 3, 4, 2.0);
    CU_ASSERT_EQUAL(st.busy_cycles, life_expected(&t, 4, 3, 5, 3, 4).busy);
}

/* Any nonzero input value is alive (the first task turns each cell into
 * (u | -u) >> 15): a soup of 0..65535 matches the reference too. */
static void test_life_nonzero_alive(void)
{
    wse_topology t = life_topology(3, 3, 4, 1);
    life_vs_reference_on(&t, 3, 3, 4, 5, 3, 65536.0);
}

/* The largest tile the bounds allow runs and matches, on 2 x 2 PEs. */
static void test_life_max_tiles(void) { life_vs_reference(2, 2, LIFE_TILE_MAX, LIFE_TILE_MAX, 3, 4, 1); }

/* A generation's exchange runs one axis at a time: 2 sends and 2
 * receives, all WSE_ASYNC (4 microthreads), local task ids 8..16, on the
 * 4 output and 4 input queues the centre PE binds with pe_init_queue.
 * So it runs, bit for bit, on wse2's and wse3's limits (wse3 with the
 * hardware's queue rule); with 3 microthreads left it fails at the op
 * that needs the fourth. */
static void test_life_resources(void)
{
    for (int arch = WSE_ARCH_WSE2; arch <= WSE_ARCH_WSE3; arch++) {
        wse_topology t = life_topology(3, 3, 4, 1);
        wse_topology_set_arch(&t, arch);
        life_vs_reference_on(&t, 3, 3, 4, 4, 5, 2.0);
    }
    wse_topology t = life_topology(3, 3, 4, 1);
    t.microthreads = t.host_io_microthreads + 3;
    life_params p = { 4, 4, 2 };
    wse_rect r = { 0, 0, 3, 3 };
    wse_engine *e = NULL;
    wse_error err;
    wse_error_clear(&err);
    CU_ASSERT_EQUAL_FATAL(wse_engine_create(&t, &wse_program_life, &p, r, NULL, &e, &err), 0);
    CU_ASSERT_EQUAL(wse_engine_run(e, 1000000, &err), WSE_EPROGRAM);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "needs 4 microthreads"));
    if (!strstr(err.msg, "needs 4 microthreads"))
        fprintf(stderr, "\n  got: %s\n", err.msg);
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
    CU_ASSERT_EQUAL(memcmp(o.out.data, ref.data, wse_host_array_count(&ref) * sizeof(uint16_t)), 0);
    wse_host_array_free(&ref);
    return o;
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
    /* every PE runs its seven ops each generation, one after another */
    int tw = (int)j.p.tile_w, th = (int)j.p.tile_h;
    uint64_t gen = 2 * op_cycles(&j.topo, (uint64_t)th * (uint64_t)(tw + 2)) +
                   5 * op_cycles(&j.topo, (uint64_t)tw * (uint64_t)th);
    CU_ASSERT(o.st.cycles > (uint64_t)j.p.steps * gen);
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
        const uint16_t *a = o.in.data, *b = o.out.data;
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
        !CU_add_test(s, "busy cycles, tasks and SRAM bytes are the ops' own", test_life_cycles_from_ops) ||
        !CU_add_test(s, "any nonzero input cell is alive", test_life_nonzero_alive) ||
        !CU_add_test(s, "74 x 74 tiles, the maximum", test_life_max_tiles) ||
        !CU_add_test(s, "wse2 and wse3 resources suffice, 3 microthreads do not", test_life_resources) ||
        !CU_add_test(s, "SRAM budget", test_life_sram_budget) ||
        !CU_add_test(s, "750x994 WSE-2 region loads", test_life_wse2_loads) ||
        !CU_add_test(s, "job life.yaml on laptop", test_life_job_laptop) ||
        !CU_add_test(s, "job life_glider.yaml: the glider moves across shards", test_life_glider))
        return CU_get_error();
    return 0;
}
