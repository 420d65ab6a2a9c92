/*
 * tests/test_thermal.c - power and heat (wse/thermal.h): per-PE energy
 * sums to the run's, the cells' counters to the report's exactly; the
 * solve against the analytic uniform rise and the symmetry of a single
 * hot cell; the shipped hot-spot job end to end, its maps the same bytes
 * for 1 and 3 threads (mpi_matrix.sh checks ranks); the transient against
 * the vertical path's analytic time constant and the steady state; power
 * windows and throttling end to end (jobs/hotspot_throttle.yaml).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <CUnit/CUnit.h>
#include "probe.h"
#include "test_list.h"
#include "wse/hostio.h"
#include "wse/io.h"
#include "wse/programs.h"
#include "wse/run.h"
#include "wse/thermal.h"

typedef struct heat_params { int64_t tile_w, tile_h, steps; double alpha; } heat_params;

/* A topology with energy figures and wse2.yaml's thermal path. */
static wse_topology thermal_topology(int w, int h, int cw, int ch)
{
    wse_topology t = probe_topology(w, h, 4, 1);
    t.pj_per_flop = 2.0;
    t.pj_per_hop = 1.0;
    t.pj_per_sram_byte = 0.2;
    t.pj_per_idle_pe_cycle = 0.02;
    t.thermal_cell_width = cw;
    t.thermal_cell_height = ch;
    t.pe_width_mm = 0.2675;
    t.pe_height_mm = 0.2033;
    t.si_conductivity = 130;
    t.die_thickness_mm = 0.775;
    t.tim_conductance = 1e5;
    t.heat_transfer = 1e4;
    t.coolant_c = 25;
    t.si_density = 2330;
    t.si_specific_heat = 705;
    return t;
}

static int close_rel(double a, double b, double rel)
{
    return fabs(a - b) <= rel * fmax(fabs(a), fabs(b));
}

/* Every PE's counters sum exactly to the engine's, and its joules (the
 * same formula) to the run's within rounding; cells sum exactly. */
static void test_pe_energy_sums(void)
{
    const wse_program *prog = wse_program_find("heat2d");
    CU_ASSERT_PTR_NOT_NULL_FATAL(prog);
    int w = 7, h = 5;
    heat_params p = { 3, 4, 6, 0.2 };
    wse_topology t = thermal_topology(w + 3, h + 2, 3, 2);
    wse_rect r = { 2, 1, w, h };   /* off the fabric's origin: cells straddle the region */
    wse_engine *e = NULL;
    wse_error err;
    wse_error_clear(&err);
    CU_ASSERT_EQUAL_FATAL(wse_engine_create(&t, prog, &p, r, NULL, &e, &err), 0);
    wse_host_array u0;
    wse_input in = { .name = "u0", .kind = WSE_INPUT_GENERATE, .generator = WSE_GEN_RANDOM,
                     .seed = 3, .lo = -1.0, .hi = 1.0 };
    CU_ASSERT_EQUAL_FATAL(wse_hostio_input(prog, &p, w, h, &in, &u0, &err), 0);
    CU_ASSERT_EQUAL_FATAL(wse_hostio_scatter(e, 0, &u0, &err), 0);
    CU_ASSERT_EQUAL_FATAL(wse_engine_run(e, 100000000, &err), 0);
    wse_engine_stats st;
    wse_engine_stats_get(e, &st);
    CU_ASSERT(st.flops > 0 && st.hops > 0 && st.sram_bytes_moved > 0);
    wse_pe_counts sum = { 0 }, c;
    wse_energy es = { 0 }, pe;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            CU_ASSERT_EQUAL_FATAL(wse_engine_pe_counts(e, x, y, &c), 0);
            sum.flops += c.flops;
            sum.hops += c.hops;
            sum.sram_bytes += c.sram_bytes;
            sum.busy_cycles += c.busy_cycles;
            sum.tasks += c.tasks;
            CU_ASSERT_EQUAL_FATAL(wse_engine_pe_energy(e, &t, x, y, st.cycles, &pe), 0);
            CU_ASSERT(pe.total_j == pe.compute_j + pe.fabric_j + pe.sram_j + pe.static_j);
            es.compute_j += pe.compute_j;
            es.fabric_j += pe.fabric_j;
            es.sram_j += pe.sram_j;
            es.static_j += pe.static_j;
            es.total_j += pe.total_j;
        }
    CU_ASSERT_EQUAL(wse_engine_pe_counts(e, w, 0, &c), WSE_EINVAL);
    CU_ASSERT_EQUAL(sum.flops, st.flops);
    CU_ASSERT_EQUAL(sum.hops, st.hops);
    CU_ASSERT_EQUAL(sum.sram_bytes, st.sram_bytes_moved);
    CU_ASSERT_EQUAL(sum.busy_cycles, st.busy_cycles);
    CU_ASSERT_EQUAL(sum.tasks, st.tasks_run);
    /* the report's formula on the run's totals */
    wse_energy run = wse_energy_of(&t, st.flops, st.hops, st.sram_bytes_moved,
                                   (double)st.pes * (double)st.cycles);
    CU_ASSERT(close_rel(es.compute_j, run.compute_j, 1e-12));
    CU_ASSERT(close_rel(es.fabric_j, run.fabric_j, 1e-12));
    CU_ASSERT(close_rel(es.sram_j, run.sram_j, 1e-12));
    CU_ASSERT(close_rel(es.static_j, run.static_j, 1e-12));
    CU_ASSERT(close_rel(es.total_j, run.total_j, 1e-12));
    /* by hand: heat2d does 7 flops per grid point per step */
    CU_ASSERT_EQUAL(st.flops, (uint64_t)7 * w * h * 3 * 4 * 6);
    CU_ASSERT(run.compute_j == (double)st.flops * 2.0 * 1e-12);
    /* cells: a 10 x 7 fabric of 3 x 2 cells is 4 x 4 cells, the last
     * column 1 PE wide, the last row 1 PE high */
    wse_cells g;
    CU_ASSERT_EQUAL_FATAL(wse_cells_make(&t, r, &g), 0);
    CU_ASSERT_EQUAL(g.cols, 4);
    CU_ASSERT_EQUAL(g.rows, 4);
    CU_ASSERT_EQUAL(wse_cells_width(&g, 3), 1);
    CU_ASSERT_EQUAL(wse_cells_height(&g, 3), 1);
    uint64_t acc[16 * WSE_CELL_COUNTERS];
    memset(acc, 0, sizeof acc);
    wse_engine_cell_counts(e, &g, 0, 0, 4, 4, acc);
    uint64_t cs[WSE_CELL_COUNTERS] = { 0 };
    for (int k = 0; k < 16; k++)
        for (int q = 0; q < WSE_CELL_COUNTERS; q++)
            cs[q] += acc[k * WSE_CELL_COUNTERS + q];
    CU_ASSERT_EQUAL(cs[WSE_CELL_FLOPS], st.flops);
    CU_ASSERT_EQUAL(cs[WSE_CELL_HOPS], st.hops);
    CU_ASSERT_EQUAL(cs[WSE_CELL_SRAM], st.sram_bytes_moved);
    CU_ASSERT_EQUAL(cs[WSE_CELL_PES], (uint64_t)w * h);
    /* cell (0,0) holds fabric PEs x 0..2, y 0..1: region PEs (0,0) only */
    CU_ASSERT_EQUAL(acc[WSE_CELL_PES], 1);
    /* cell (1,1): fabric x 3..5, y 2..3, all in the region */
    CU_ASSERT_EQUAL(acc[(1 * 4 + 1) * WSE_CELL_COUNTERS + WSE_CELL_PES], 6);
    wse_host_array_free(&u0);
    wse_engine_destroy(e);
}

/* Uniform power density q: every cell rises by q x (t / k + 1 / tim + 1 /
 * h), partial cells included, and no heat flows sideways. */
static void test_uniform_rise(void)
{
    wse_topology t = thermal_topology(21, 13, 4, 4);
    wse_cells g;
    CU_ASSERT_EQUAL_FATAL(wse_cells_make(&t, (wse_rect){ 0, 0, 21, 13 }, &g), 0);
    CU_ASSERT_EQUAL(g.cols, 6);
    CU_ASSERT_EQUAL(g.rows, 4);
    int n = g.cols * g.rows;
    double power[24], rise[24], bound = -1;
    int iters = -1;
    double q = 5e5;                          /* W/m^2: ~23 kW over a wafer */
    double pa = t.pe_width_mm * 1e-3 * t.pe_height_mm * 1e-3;
    for (int j = 0; j < g.rows; j++)
        for (int i = 0; i < g.cols; i++)
            power[j * g.cols + i] = q * pa * wse_cells_width(&g, i) * wse_cells_height(&g, j);
    CU_ASSERT_EQUAL_FATAL(wse_thermal_solve(&t, &g, power, 1e-6, rise, &bound, &iters), 0);
    double rv = 0.775e-3 / 130 + 1 / 1e5 + 1 / 1e4;
    double want = q * rv;                    /* ~58 K */
    CU_ASSERT(want > 50 && want < 60);
    for (int k = 0; k < n; k++)
        CU_ASSERT(fabs(rise[k] - want) <= 1e-3 * want);   /* the 0.1 % of the issue */
    for (int k = 0; k < n; k++)
        CU_ASSERT(fabs(rise[k] - want) <= 1e-6);           /* and the solver's bound */
    CU_ASSERT(bound >= 0 && bound <= 1e-6);
    /* no power, no rise */
    for (int k = 0; k < n; k++)
        power[k] = 0;
    CU_ASSERT_EQUAL(wse_thermal_solve(&t, &g, power, 1e-6, rise, &bound, &iters), 0);
    for (int k = 0; k < n; k++)
        CU_ASSERT_EQUAL(rise[k], 0.0);
    t.heat_transfer = 0;
    CU_ASSERT_EQUAL(wse_thermal_solve(&t, &g, power, 1e-6, rise, &bound, &iters), WSE_EINVAL);
}

/* The modified Bessel function K0(x) = integral over t >= 0 of
 * exp(-x cosh t), by the trapezoid rule (x > 0.1: the tail past t = 12 is
 * below 1e-30). */
static double bessel_k0(double x)
{
    double h = 1e-3, s = 0.5 * exp(-x);
    for (int i = 1; i * h < 12.0; i++)
        s += exp(-x * cosh(i * h));
    return s * h;
}

/* One hot cell in the middle of square cells: the field has the square's
 * symmetries, falls with distance, and all the heat reaches the coolant. */
static void test_hot_cell(void)
{
    enum { N = 15 };
    wse_topology t = thermal_topology(N * 4, N * 4, 4, 4);
    t.pe_height_mm = t.pe_width_mm;
    wse_cells g;
    CU_ASSERT_EQUAL_FATAL(wse_cells_make(&t, (wse_rect){ 0, 0, N * 4, N * 4 }, &g), 0);
    static double power[N * N], rise[N * N];
    memset(power, 0, sizeof power);
    int c = N / 2;
    power[c * N + c] = 1.0;
    double bound;
    int iters;
    CU_ASSERT_EQUAL_FATAL(wse_thermal_solve(&t, &g, power, 1e-9, rise, &bound, &iters), 0);
    CU_ASSERT(bound <= 1e-9);
#define T(i, j) rise[(j) * N + (i)]
    double peak = T(c, c);
    CU_ASSERT(peak > 0);
    for (int j = 0; j < N; j++)
        for (int i = 0; i < N; i++) {
            double v = T(i, j), tol = 1e-8 * peak;
            CU_ASSERT(v > 0);
            CU_ASSERT(fabs(v - T(N - 1 - i, j)) <= tol);   /* mirror x */
            CU_ASSERT(fabs(v - T(i, N - 1 - j)) <= tol);   /* mirror y */
            CU_ASSERT(fabs(v - T(j, i)) <= tol);           /* diagonal */
        }
    for (int d = 1; d <= c; d++) {
        CU_ASSERT(T(c + d, c) < T(c + d - 1, c));          /* falls along an axis */
        CU_ASSERT(T(c + d, c + d) < T(c + d - 1, c + d - 1)); /* and a diagonal */
        CU_ASSERT(T(c + d, c + d) < T(c + d, c));          /* farther off-axis, cooler */
    }
    /* away from the source the field is the continuum's, a point source
     * in a plate cooled from below: T(r) ~ K0(r / L), L = sqrt(k t R) the
     * spreading length; within 3 % one to three cells out (the coarse
     * grid near the source and the adiabatic edge farther out bound it) */
    double cell_m = 4 * t.pe_width_mm * 1e-3;
    double L = sqrt(130 * 0.775e-3 * (0.775e-3 / 130 + 1e-5 + 1e-4));
    for (int d = 1; d <= 2; d++) {
        double got = T(c + d + 1, c) / T(c + d, c);
        double want = bessel_k0((d + 1) * cell_m / L) / bessel_k0(d * cell_m / L);
        CU_ASSERT(fabs(got - want) <= 0.03 * want);
    }
    /* conservation: what leaves through the bottom is the 1 W put in */
    double rv = 0.775e-3 / 130 + 1e-5 + 1e-4, out = 0;
    for (int k = 0; k < N * N; k++)
        out += rise[k] * cell_m * cell_m / rv;
    CU_ASSERT(fabs(out - 1.0) < 1e-6);
#undef T
}

/* The shipped hot-spot job, end to end. */
static int run_hotspot(const char *out, int threads, wse_report *rep, wse_error *err)
{
    wse_run_options o;
    memset(&o, 0, sizeof o);
    o.job_path = WSE_SOURCE_DIR "/jobs/hotspot.yaml";
    o.out_dir = out;
    o.comm = MPI_COMM_SELF;
    o.threads = threads;
    wse_error_clear(err);
    return wse_run(&o, rep, err);
}

static int read_map(const char *dir, const char *name, int rows, int cols, float *v)
{
    char path[512];
    wse_error err;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int64_t shape[2] = { rows, cols };
    return wse_npy_read(path, WSE_F32, 2, shape, v, &err);
}

static long file_bytes(const char *dir, const char *name, unsigned char **data)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    *data = malloc((size_t)n);
    if (!*data || fread(*data, 1, (size_t)n, f) != (size_t)n)
        n = -1;
    fclose(f);
    return n;
}

static void test_hotspot_job(void)
{
    char d1[] = "/tmp/wse_thermal_XXXXXX", d3[] = "/tmp/wse_thermal_XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(d1));
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(d3));
    static wse_report rep, rep3;
    wse_error err;
    int rc = run_hotspot(d1, 1, &rep, &err);
    if (rc)
        fprintf(stderr, "%s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    const wse_thermal_summary *h = &rep.thermal;
    CU_ASSERT_FATAL(h->valid);
    /* the cells' counters are the report's, exactly */
    CU_ASSERT_EQUAL(h->counts[WSE_CELL_FLOPS], rep.st.flops);
    CU_ASSERT_EQUAL(h->counts[WSE_CELL_HOPS], rep.st.hops);
    CU_ASSERT_EQUAL(h->counts[WSE_CELL_SRAM], rep.st.sram_bytes_moved);
    CU_ASSERT_EQUAL(h->counts[WSE_CELL_PES], rep.st.pes);
    /* total power is the report's energy over the wafer time, bit for bit;
     * the cells' watts add up to it within rounding */
    CU_ASSERT(h->power_w == rep.energy_j / rep.wafer_time_s);
    CU_ASSERT(h->power_compute_w == rep.energy_compute_j / rep.wafer_time_s);
    CU_ASSERT(close_rel(h->cell_power_sum_w, h->power_w, 1e-12));
    CU_ASSERT(h->power_w > 0.5 && h->power_w < 2.0);
    /* laptop: 64 x 64 PEs in 4 x 4 cells; the 16 x 16 patch at (36, 12)
     * is cells 9..12 x 3..6; the hottest cell is one of its middle four */
    CU_ASSERT_EQUAL(h->cols, 16);
    CU_ASSERT_EQUAL(h->rows, 16);
    CU_ASSERT(h->hot_i >= 10 && h->hot_i <= 11 && h->hot_j >= 4 && h->hot_j <= 5);
    CU_ASSERT(h->peak_i >= 9 && h->peak_i <= 12 && h->peak_j >= 3 && h->peak_j <= 6);
    CU_ASSERT(fabs(h->hot_x - (h->hot_i * 4 + 1.5 - 36)) < 1e-12);
    CU_ASSERT(h->hottest_c > h->mean_c && h->mean_c > h->coolant_c);
    CU_ASSERT(h->peak_rise_k > 1.0);
    CU_ASSERT(h->gradient_k_mm > 0);
    CU_ASSERT(h->bound_k <= 1e-6);
    CU_ASSERT(h->picture);
    /* the files: watts sum to the total (float32), temperatures peak where
     * the report says, the far corner is close to the coolant */
    static float pw[256], tc[256];
    CU_ASSERT_EQUAL_FATAL(read_map(d1, "power.npy", 16, 16, pw), 0);
    CU_ASSERT_EQUAL_FATAL(read_map(d1, "temperature.npy", 16, 16, tc), 0);
    double ps = 0;
    int outside = 0;
    for (int j = 0; j < 16; j++)
        for (int i = 0; i < 16; i++) {
            ps += pw[j * 16 + i];
            int in = i >= 9 && i <= 12 && j >= 3 && j <= 6;
            if (!in && pw[j * 16 + i] != 0.0f)
                outside++;
            CU_ASSERT(tc[j * 16 + i] <= (float)h->hottest_c);
        }
    CU_ASSERT_EQUAL(outside, 0);               /* PEs outside the region draw nothing */
    CU_ASSERT(close_rel(ps, h->power_w, 1e-5));
    CU_ASSERT_EQUAL(tc[h->hot_j * 16 + h->hot_i], (float)h->hottest_c);
    CU_ASSERT(tc[15 * 16 + 0] - h->coolant_c < 0.05 * h->peak_rise_k);
    /* 3 threads: other shards, the same bytes */
    rc = run_hotspot(d3, 3, &rep3, &err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_EQUAL(rep3.threads, 3);
    static const char *const files[] = { "power.npy", "temperature.npy", "temperature.png" };
    for (int f = 0; f < 3; f++) {
        unsigned char *a = NULL, *b = NULL;
        long na = file_bytes(d1, files[f], &a), nb = file_bytes(d3, files[f], &b);
        CU_ASSERT(na > 0 && na == nb);
        if (na > 0 && na == nb)
            CU_ASSERT_EQUAL(memcmp(a, b, (size_t)na), 0);
        free(a);
        free(b);
    }
    CU_ASSERT(memcmp(&rep.thermal, &rep3.thermal, sizeof rep.thermal) == 0);
    /* the PNG is a PNG of the expected size: the map, a gap, the bar */
    unsigned char *png = NULL;
    long np = file_bytes(d1, "temperature.png", &png);
    CU_ASSERT_FATAL(np > 33);
    CU_ASSERT(memcmp(png, "\x89PNG\r\n\x1a\n", 8) == 0);
    CU_ASSERT(memcmp(png + 12, "IHDR", 4) == 0);
    /* 16 cells of 32 pixels, 8 of gap, a 16-pixel bar; rows in the cells'
     * aspect on the wafer: 32 x (4 x 0.2033) / (4 x 0.2675) = 24 pixels */
    uint32_t pw_px = (uint32_t)png[16] << 24 | (uint32_t)png[17] << 16 | (uint32_t)png[18] << 8 | png[19];
    uint32_t ph_px = (uint32_t)png[20] << 24 | (uint32_t)png[21] << 16 | (uint32_t)png[22] << 8 | png[23];
    CU_ASSERT_EQUAL(pw_px, 16 * 32 + 8 + 16);
    CU_ASSERT_EQUAL(ph_px, 16 * 24);
    free(png);
    for (int f = 0; f < 3; f++) {
        char p[600];
        snprintf(p, sizeof p, "%s/%s", d1, files[f]);
        unlink(p);
        snprintf(p, sizeof p, "%s/%s", d3, files[f]);
        unlink(p);
    }
    static const char *const rest[] = { "u.npy", "report.json" };
    for (int f = 0; f < 2; f++) {
        char p[600];
        snprintf(p, sizeof p, "%s/%s", d1, rest[f]);
        unlink(p);
        snprintf(p, sizeof p, "%s/%s", d3, rest[f]);
        unlink(p);
    }
    rmdir(d1);
    rmdir(d3);
}


/* A step of uniform power: the transient approaches the steady state as
 * 1 - exp(-t / tau), tau = rho c t x R_vertical, in windows far shorter
 * than tau as a run's are (lateral flow is nil: cells are all alike). */
static void test_transient_tau(void)
{
    enum { N = 6 };
    wse_topology t = thermal_topology(N * 4, N * 4, 4, 4);
    wse_cells g;
    CU_ASSERT_EQUAL_FATAL(wse_cells_make(&t, (wse_rect){ 0, 0, N * 4, N * 4 }, &g), 0);
    double rv = 0.775e-3 / 130 + 1e-5 + 1e-4, cpa = 2330.0 * 705.0 * 0.775e-3;
    double tau = wse_thermal_tau(&t);
    CU_ASSERT(close_rel(wse_thermal_capacity(&t), cpa, 1e-14));
    CU_ASSERT(close_rel(tau, cpa * rv, 1e-14));
    CU_ASSERT(tau > 0.14 && tau < 0.16);
    double area = 4 * 0.2675e-3 * 4 * 0.2033e-3;   /* m^2 per cell */
    double power[N * N], rise[N * N];
    for (int k = 0; k < N * N; k++) {
        power[k] = 0.5;
        rise[k] = 0.0;
    }
    double ss = 0.5 / area * rv;                    /* K: the analytic steady rise */
    int windows = 4000;
    double dt = tau / 1000.0;
    int64_t steps = 0;
    for (int w = 1; w <= windows; w++) {
        CU_ASSERT_EQUAL_FATAL(wse_thermal_advance(&t, &g, power, dt, rise, &steps), 0);
        if (w % 1000 == 0) {
            double want = ss * (1.0 - exp(-(double)w / 1000.0));
            for (int k = 0; k < N * N; k++)
                CU_ASSERT(close_rel(rise[k], want, 1e-3));
        }
    }
    CU_ASSERT_EQUAL(steps, 1);      /* a window of tau / 1000 is one stable step */
    /* the time to reach 1 - 1/e of the steady rise is tau, within 0.1 % */
    for (int k = 0; k < N * N; k++)
        rise[k] = 0.0;
    int w = 0;
    while (rise[0] < ss * (1.0 - exp(-1.0)) && w < 20000) {
        wse_thermal_advance(&t, &g, power, tau / 10000.0, rise, NULL);
        w++;
    }
    CU_ASSERT(abs(w - 10000) <= 10);
}

/* A single hot cell stepped for many time constants lands on the steady
 * solve's field; one step of a window longer than the stability bound is
 * split into several, and never overshoots. */
static void test_transient_to_steady(void)
{
    enum { N = 9 };
    wse_topology t = thermal_topology(N * 4, N * 4, 4, 4);
    wse_cells g;
    CU_ASSERT_EQUAL_FATAL(wse_cells_make(&t, (wse_rect){ 0, 0, N * 4, N * 4 }, &g), 0);
    static double power[N * N], rise[N * N], ss[N * N];
    memset(power, 0, sizeof power);
    memset(rise, 0, sizeof rise);
    power[4 * N + 4] = 1.0;
    double bound;
    int iters;
    CU_ASSERT_EQUAL_FATAL(wse_thermal_solve(&t, &g, power, 1e-9, ss, &bound, &iters), 0);
    double tau = wse_thermal_tau(&t);
    int64_t steps = 0, most = 0;
    for (int w = 0; w < 300; w++) {
        CU_ASSERT_EQUAL_FATAL(wse_thermal_advance(&t, &g, power, tau / 10.0, rise, &steps), 0);
        most = steps > most ? steps : most;
        for (int k = 0; k < N * N; k++)
            CU_ASSERT(rise[k] >= 0 && rise[k] <= ss[k] * (1 + 1e-12) + 1e-15);
    }
    CU_ASSERT(most > 1);
    for (int k = 0; k < N * N; k++)
        CU_ASSERT(fabs(rise[k] - ss[k]) <= 1e-6 * ss[4 * N + 4]);
    CU_ASSERT_EQUAL(wse_thermal_advance(&t, &g, power, -1.0, rise, NULL), WSE_EINVAL);
}

static int run_job_sets(const char *job, const char *out, int threads, const char *const *sets,
                        int n_sets, wse_report *rep, wse_error *err)
{
    wse_run_options o;
    memset(&o, 0, sizeof o);
    o.job_path = job;
    o.out_dir = out;
    o.comm = MPI_COMM_SELF;
    o.threads = threads;
    o.sets = sets;
    o.n_sets = n_sets;
    wse_error_clear(err);
    return wse_run(&o, rep, err);
}

/* The CSV's rows: window, start, cycles, watts (total, by category). */
static int read_csv(const char *dir, double (*row)[12], int max)
{
    char path[512], line[1024];
    snprintf(path, sizeof path, "%s/power_windows.csv", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int n = 0;
    if (!fgets(line, sizeof line, f) || strncmp(line, "window,start_cycle,cycles,power_w", 33) != 0)
        n = -2;
    while (n >= 0 && n < max && fgets(line, sizeof line, f)) {
        char *p = line;
        for (int c = 0; c < 12; c++) {
            row[n][c] = strtod(p, &p);
            if (*p == ',')
                p++;
        }
        n++;
    }
    fclose(f);
    return n;
}

static void remove_dir(const char *d)
{
    static const char *const files[] = { "power.npy", "temperature.npy", "temperature.png",
                                         "power_windows.csv", "power_hottest.npy",
                                         "temperature_hottest.npy", "temperature_hottest.png",
                                         "u.npy", "report.json" };
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        char p[600];
        snprintf(p, sizeof p, "%s/%s", d, files[f]);
        unlink(p);
    }
    rmdir(d);
}

/* Power windows and throttling, end to end: the windows tile the run and
 * their energy is the run's; throttling slows the run down and acts only
 * from the second window; without the rule the run is the plain
 * hot-spot's, cycle for cycle; 1 and 3 threads give the same bytes. */
static void test_windows_job(void)
{
    char d1[] = "/tmp/wse_thermal_XXXXXX", d3[] = "/tmp/wse_thermal_XXXXXX";
    char d0[] = "/tmp/wse_thermal_XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(d1));
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(d3));
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(d0));
    static wse_report rep, rep3, rep0, plain;
    wse_error err;
    const char *job = WSE_SOURCE_DIR "/jobs/hotspot_throttle.yaml";
    int rc = run_job_sets(job, d1, 1, NULL, 0, &rep, &err);
    if (rc)
        fprintf(stderr, "%s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    const wse_power_time *p = &rep.thermal.over_time;
    CU_ASSERT_FATAL(p->valid);
    CU_ASSERT_EQUAL(p->window_cycles, 1000);
    CU_ASSERT_EQUAL(p->windows, (rep.st.cycles + 999) / 1000);
    CU_ASSERT(p->start_steady && p->throttle && p->files);
    static double row[64][12];
    int n = read_csv(d1, row, 64);
    CU_ASSERT_EQUAL_FATAL(n, (int)p->windows);
    /* the windows tile [0, cycles) and their joules are the run's */
    double e = 0, ec = 0, es = 0, peak = 0;
    uint64_t at = 0;
    for (int i = 0; i < n; i++) {
        CU_ASSERT_EQUAL((uint64_t)row[i][1], at);
        at += (uint64_t)row[i][2];
        double secs = row[i][2] / rep.clock_hz;
        e += row[i][3] * secs;
        ec += row[i][4] * secs;
        es += row[i][7] * secs;
        peak = row[i][3] > peak ? row[i][3] : peak;
        CU_ASSERT(row[i][9] <= p->hottest_c + 1e-6);
    }
    CU_ASSERT_EQUAL(at, rep.st.cycles);
    CU_ASSERT(close_rel(e, rep.energy_j, 1e-7));
    CU_ASSERT(close_rel(ec, rep.energy_compute_j, 1e-7));
    CU_ASSERT(close_rel(es, rep.energy_static_j, 1e-7));
    CU_ASSERT(close_rel(peak, p->peak_power_w, 1e-7));
    /* it starts at the steady state of the first window's power, so the
     * hottest window is the first, as hot as that steady state */
    CU_ASSERT_EQUAL(p->hot_window, 0);
    CU_ASSERT(p->hottest_c > 27.0 && p->hottest_c < 27.5);
    CU_ASSERT(p->hot_i >= 10 && p->hot_i <= 11 && p->hot_j >= 4 && p->hot_j <= 5);
    CU_ASSERT(p->final_max_c < p->hottest_c);         /* throttled: it cools */
    /* nothing throttles in the first window, the hot middle after it */
    CU_ASSERT_EQUAL(row[0][11], 0);
    CU_ASSERT(row[1][11] > 0 && row[1][11] < 256);
    CU_ASSERT(p->throttle_onsets > 0 && p->throttle_onsets < 16);
    CU_ASSERT(p->throttled_pe_cycles > 0 && p->throttle_cycles > 0);
    CU_ASSERT(p->throttle_cycles < rep.st.busy_cycles);
    /* the hottest window's maps: watts sum to its power */
    static float pw[256], tc[256];
    CU_ASSERT_EQUAL_FATAL(read_map(d1, "power_hottest.npy", 16, 16, pw), 0);
    CU_ASSERT_EQUAL_FATAL(read_map(d1, "temperature_hottest.npy", 16, 16, tc), 0);
    double ps = 0;
    for (int k = 0; k < 256; k++)
        ps += pw[k];
    CU_ASSERT(close_rel(ps, p->hot_power_w, 1e-5));
    CU_ASSERT_EQUAL(tc[p->hot_j * 16 + p->hot_i], (float)p->hottest_c);
    /* 3 threads: the same bytes and figures */
    rc = run_job_sets(job, d3, 3, NULL, 0, &rep3, &err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_EQUAL(rep3.digest, rep.digest);
    CU_ASSERT_EQUAL(rep3.st.cycles, rep.st.cycles);
    static const char *const files[] = { "power_windows.csv", "power_hottest.npy",
                                         "temperature_hottest.npy", "temperature_hottest.png",
                                         "temperature.npy" };
    for (int f = 0; f < 5; f++) {
        unsigned char *a = NULL, *b = NULL;
        long na = file_bytes(d1, files[f], &a), nb = file_bytes(d3, files[f], &b);
        CU_ASSERT(na > 0 && na == nb);
        if (na > 0 && na == nb)
            CU_ASSERT_EQUAL(memcmp(a, b, (size_t)na), 0);
        free(a);
        free(b);
    }
    CU_ASSERT(memcmp(&rep.thermal.over_time, &rep3.thermal.over_time, sizeof rep.thermal.over_time) == 0);
    /* without the rule: the plain hot spot's run, cycle for cycle, and
     * slower with it */
    const char *off[] = { "throttle=false" };
    rc = run_job_sets(job, d0, 3, off, 1, &rep0, &err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    rc = run_hotspot(NULL, 1, &plain, &err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_EQUAL(rep0.digest, plain.digest);
    CU_ASSERT_EQUAL(rep0.st.cycles, plain.st.cycles);
    CU_ASSERT(!rep0.thermal.over_time.throttle);
    CU_ASSERT(rep.st.cycles > plain.st.cycles * 3 / 2);
    CU_ASSERT_EQUAL(rep.verify, 1);
    remove_dir(d1);
    remove_dir(d3);
    remove_dir(d0);
}

int test_thermal_suite(void)
{
    CU_pSuite s = CU_add_suite("thermal", NULL, NULL);
    if (!s || !CU_add_test(s, "per-PE energy sums to the run's", test_pe_energy_sums) ||
        !CU_add_test(s, "uniform power: the analytic rise", test_uniform_rise) ||
        !CU_add_test(s, "one hot cell: symmetric, decaying, conserved", test_hot_cell) ||
        !CU_add_test(s, "hotspot job: totals, maps, 1 and 3 threads", test_hotspot_job) ||
        !CU_add_test(s, "transient: the vertical time constant", test_transient_tau) ||
        !CU_add_test(s, "transient: to the steady state, stable", test_transient_to_steady) ||
        !CU_add_test(s, "power windows and throttling end to end", test_windows_job))
        return CU_get_error();
    return 0;
}
