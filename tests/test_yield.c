/*
 * tests/test_yield.c - defective wafers (wse/yield.h): the mapping of
 * every logical PE and the stretched links of a hand-checked 2-die map,
 * the other schemes, refusal and shrink, the defect file's errors, the
 * engine's timing over a stretched link, a workload's outputs on a
 * defective wafer for several decompositions, and the Monte-Carlo yield
 * against the analytic formula.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <CUnit/CUnit.h>
#include "harness.h"
#include "probe.h"
#include "test_list.h"
#include "wse/pe.h"
#include "wse/programs.h"
#include "wse/yield.h"

/* A fabric of dies_x x dies_y dies of dw x dh logical PEs. */
static wse_topology yield_topology(int w, int h, int dw, int dh, int scheme, int rows, int cols)
{
    wse_topology t = probe_topology(w, h, 4, 1);
    t.yield_scheme = scheme;
    t.die_width = dw;
    t.die_height = dh;
    t.spare_rows = rows;
    t.spare_cols = cols;
    t.bypass_cycles_per_pe = 1;
    t.pe_area_mm2 = 0.05;
    return t;
}

/* A defect map file with these lines; its path in path. */
static void write_map(char *path, size_t n, const char *text)
{
    snprintf(path, n, "/tmp/wse_test_yield_%d.txt", (int)getpid());
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

static wse_defect_spec file_spec(const char *path)
{
    wse_defect_spec d;
    memset(&d, 0, sizeof d);
    d.kind = WSE_DEFECTS_FILE;
    snprintf(d.path, sizeof d.path, "%s", path);
    snprintf(d.file, sizeof d.file, "job.yaml");
    d.line = 3;
    d.column = 1;
    return d;
}

static wse_wafer *wafer_from(const wse_topology *t, const char *text, int shrink, int *rc,
                             wse_error *err)
{
    char path[128];
    write_map(path, sizeof path, text);
    wse_defect_spec d = file_spec(path);
    d.shrink = shrink;
    wse_wafer *w = NULL;
    wse_error_clear(err);
    *rc = wse_wafer_create(t, &d, &w, err);
    unlink(path);
    return w;
}

/*
 * Two dies side by side, each 4 x 4 logical PEs with 2 spare rows
 * (physical 8 x 6).  Die 0 has two defects in column 1 (rows 1 and 3);
 * die 1 one on its west edge and top row, (4, 0).  By hand:
 *   column 1: logical rows 0..3 -> physical 0, 2, 4, 5 (shifts 0 1 2 2)
 *   column 4: logical rows 0..3 -> physical 1, 2, 3, 4 (shift 1)
 *   every other PE: physical = logical.
 * Stretched links (extra pitches): (1,0)-(1,1) 1 and (1,1)-(1,2) 1
 * (over a defect; (1,2)-(1,3) is 4 -> 5, nominal); (0,y)-(1,y) and
 * (1,y)-(2,y) by the shift difference 0, 1, 2, 2; (3,y)-(4,y) and
 * (4,y)-(5,y) 1 each.  That is 2 + 6 + 8 = 16 links, the longest 2
 * pitches over; spares used: 2 in column 1, 1 in column 4.
 */
static void test_two_die_map(void)
{
    wse_topology t = yield_topology(8, 4, 4, 4, WSE_REPAIR_COLUMN_SHIFT, 2, 0);
    wse_error err;
    int rc;
    wse_wafer *w = wafer_from(&t, "# two in one column, one on a die edge\npe 1 1\npe 1 3\npe 4 0\n", 0, &rc, &err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    static const int col1[4] = { 0, 2, 4, 5 }, col4[4] = { 1, 2, 3, 4 };
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 8; x++) {
            int px, py;
            wse_wafer_physical(w, x, y, &px, &py);
            CU_ASSERT_EQUAL(px, x);
            CU_ASSERT_EQUAL(py, x == 1 ? col1[y] : x == 4 ? col4[y] : y);
        }
    CU_ASSERT_EQUAL(wse_wafer_link_extra(w, 1, 1, WSE_PORT_N), 1);
    CU_ASSERT_EQUAL(wse_wafer_link_extra(w, 1, 0, WSE_PORT_S), 1);  /* the same link */
    CU_ASSERT_EQUAL(wse_wafer_link_extra(w, 1, 2, WSE_PORT_N), 1);
    CU_ASSERT_EQUAL(wse_wafer_link_extra(w, 1, 3, WSE_PORT_N), 0);
    static const int shift[4] = { 0, 1, 2, 2 };
    for (int y = 0; y < 4; y++) {
        CU_ASSERT_EQUAL(wse_wafer_link_extra(w, 1, y, WSE_PORT_W), shift[y]);
        CU_ASSERT_EQUAL(wse_wafer_link_extra(w, 2, y, WSE_PORT_W), shift[y]);
        CU_ASSERT_EQUAL(wse_wafer_link_extra(w, 4, y, WSE_PORT_W), 1);
        CU_ASSERT_EQUAL(wse_wafer_link_extra(w, 4, y, WSE_PORT_E), 1);
        CU_ASSERT_EQUAL(wse_wafer_link_extra(w, 6, y, WSE_PORT_W), 0);
        CU_ASSERT_EQUAL(wse_wafer_link_extra(w, 0, y, WSE_PORT_W), 0);   /* off the fabric */
    }
    CU_ASSERT(wse_wafer_defective(w, 1, 3));
    CU_ASSERT(!wse_wafer_defective(w, 1, 2));
    wse_wafer_summary s;
    wse_wafer_summary_get(w, &s);
    CU_ASSERT_EQUAL(s.phys_width, 8);
    CU_ASSERT_EQUAL(s.phys_height, 6);
    CU_ASSERT_EQUAL(s.dies_x, 2);
    CU_ASSERT_EQUAL(s.dies_y, 1);
    CU_ASSERT_EQUAL(s.defect_pes, 3);
    CU_ASSERT_EQUAL(s.dies_defective, 2);
    CU_ASSERT_EQUAL(s.dies_repaired, 2);
    CU_ASSERT_EQUAL(s.spares_used, 3);
    CU_ASSERT(s.formed);
    CU_ASSERT_EQUAL(s.stretched_links, 16);
    CU_ASSERT_EQUAL(s.max_extra_pitches, 2);
    wse_wafer_destroy(w);
}

/* The same defects under the other schemes.  row_retire (2 spare rows):
 * die 0 retires rows 1 and 3 (logical 0..3 -> 0, 2, 4, 5 in every
 * column), die 1 row 0 (-> 1..4).  Every link between the dies is one
 * pitch longer except at y = 1 (2 -> 2) and y = 0 (0 -> 1); vertical ones
 * over a retired row likewise.  row_shift (spare columns) moves the
 * defective rows' PEs east instead. */
static void test_other_schemes(void)
{
    wse_error err;
    int rc;
    wse_topology t = yield_topology(8, 4, 4, 4, WSE_REPAIR_ROW_RETIRE, 2, 0);
    wse_wafer *w = wafer_from(&t, "pe 1 1\npe 1 3\npe 4 0\n", 0, &rc, &err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    int px, py;
    wse_wafer_physical(w, 3, 2, &px, &py);
    CU_ASSERT_EQUAL(px, 3);
    CU_ASSERT_EQUAL(py, 4);
    wse_wafer_physical(w, 7, 0, &px, &py);
    CU_ASSERT_EQUAL(py, 1);
    /* (3,y) at 0 2 4 5 against (4,y) at 1 2 3 4: differences 1 0 1 1 */
    CU_ASSERT_EQUAL(wse_wafer_link_extra(w, 4, 0, WSE_PORT_W), 1);
    CU_ASSERT_EQUAL(wse_wafer_link_extra(w, 4, 1, WSE_PORT_W), 0);
    CU_ASSERT_EQUAL(wse_wafer_link_extra(w, 4, 2, WSE_PORT_W), 1);
    CU_ASSERT_EQUAL(wse_wafer_link_extra(w, 4, 3, WSE_PORT_W), 1);
    CU_ASSERT_EQUAL(wse_wafer_link_extra(w, 0, 1, WSE_PORT_N), 1);   /* over retired row 1 */
    CU_ASSERT_EQUAL(wse_wafer_link_extra(w, 2, 1, WSE_PORT_W), 0);   /* in one die: no */
    wse_wafer_summary s;
    wse_wafer_summary_get(w, &s);
    CU_ASSERT_EQUAL(s.spares_used, 2 * 4 + 1 * 4);   /* whole spare rows */
    CU_ASSERT_EQUAL(s.retired_pes, 3 * 4);           /* the rows' 12 PEs, defects included */
    wse_wafer_destroy(w);

    /* row_shift: 2 dies stacked, 4 x 4 each with 1 spare column (5 x 8
     * physical); a defect at (2, 5) shifts row 5's PEs x >= 2 east */
    t = yield_topology(4, 8, 4, 4, WSE_REPAIR_ROW_SHIFT, 0, 1);
    w = wafer_from(&t, "pe 2 5\n", 0, &rc, &err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    wse_wafer_physical(w, 3, 5, &px, &py);
    CU_ASSERT_EQUAL(px, 4);
    CU_ASSERT_EQUAL(py, 5);
    wse_wafer_physical(w, 1, 5, &px, &py);
    CU_ASSERT_EQUAL(px, 1);
    CU_ASSERT_EQUAL(wse_wafer_link_extra(w, 2, 5, WSE_PORT_W), 1);
    CU_ASSERT_EQUAL(wse_wafer_link_extra(w, 2, 5, WSE_PORT_N), 1);
    CU_ASSERT_EQUAL(wse_wafer_link_extra(w, 2, 5, WSE_PORT_S), 1);
    CU_ASSERT_EQUAL(wse_wafer_link_extra(w, 0, 5, WSE_PORT_N), 0);
    wse_wafer_summary_get(w, &s);
    CU_ASSERT_EQUAL(s.phys_width, 5);
    CU_ASSERT_EQUAL(s.phys_height, 8);
    CU_ASSERT_EQUAL(s.stretched_links, 1 + 2 + 2);   /* W, and N and S of x = 2, 3 */
    wse_wafer_destroy(w);
}

/* More defects in a column than spares: refused with the count and the
 * die; with shrink, that die row gives fewer rows. */
static void test_refuse_and_shrink(void)
{
    wse_topology t = yield_topology(8, 8, 4, 4, WSE_REPAIR_COLUMN_SHIFT, 1, 0);
    wse_error err;
    int rc;
    wse_wafer *w = wafer_from(&t, "pe 6 5\npe 6 7\npe 0 0\n", 0, &rc, &err);
    CU_ASSERT_EQUAL(rc, WSE_ECONFIG);
    CU_ASSERT_PTR_NULL(w);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "3 defective PEs"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "die (1,1) column 6 has 2 defects for 1 spare row"));
    CU_ASSERT_STRING_EQUAL(err.file, "job.yaml");
    w = wafer_from(&t, "pe 6 5\npe 6 7\npe 0 0\n", 1, &rc, &err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    wse_wafer_summary s;
    wse_wafer_summary_get(w, &s);
    CU_ASSERT(!s.formed);
    CU_ASSERT_EQUAL(s.width, 8);
    CU_ASSERT_EQUAL(s.height, 7);          /* die row 1 gives 3 rows */
    CU_ASSERT_EQUAL(s.dies_defective, 2);
    CU_ASSERT_EQUAL(s.dies_repaired, 1);
    int px, py;
    /* die row 1 starts at physical 5; rows 5 and 7 are unusable, so its
     * logical rows 4, 5, 6 are physical 6, 8, 9 */
    wse_wafer_physical(w, 6, 6, &px, &py);
    CU_ASSERT_EQUAL(py, 9);
    wse_wafer_physical(w, 6, 4, &px, &py);
    CU_ASSERT_EQUAL(py, 6);
    wse_wafer_destroy(w);
}

static void expect_map_error(const char *text, int line, const char *what)
{
    wse_topology t = yield_topology(8, 8, 4, 4, WSE_REPAIR_COLUMN_SHIFT, 1, 0);
    wse_error err;
    int rc;
    wse_wafer *w = wafer_from(&t, text, 0, &rc, &err);
    CU_ASSERT_EQUAL(rc, WSE_ECONFIG);
    CU_ASSERT_PTR_NULL(w);
    CU_ASSERT_EQUAL(err.line, line);
    if (!strstr(err.msg, what))
        fprintf(stderr, "\n  got '%s', expected '%s'\n", err.msg, what);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, what));
}

static void test_map_errors(void)
{
    expect_map_error("pe 1 1\nchip 2 2\n", 2, "unknown defect 'chip'");
    expect_map_error("pe 1\n", 1, "expected 'pe X Y'");
    expect_map_error("# ok\npe 8 0\n", 2, "PE (8,0) is outside the 8x10 physical fabric");
    expect_map_error("link 1 1 west\n", 1, "link direction 'west' must be east or south");
    expect_map_error("link 7 1 east\n", 1, "leaves the 8x10 physical fabric");
    expect_map_error("pe 1 1 2\n", 1, "expected 'pe X Y'");
    /* a broken link retires its south end */
    wse_topology t = yield_topology(8, 8, 4, 4, WSE_REPAIR_COLUMN_SHIFT, 1, 0);
    wse_error err;
    int rc;
    wse_wafer *w = wafer_from(&t, "link 2 2 south\n", 0, &rc, &err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT(wse_wafer_defective(w, 2, 3));
    wse_wafer_summary s;
    wse_wafer_summary_get(w, &s);
    CU_ASSERT_EQUAL(s.defect_links, 1);
    wse_wafer_destroy(w);
}

/* ---------------------------------------------------------------- timing */

/* Row 1 of an 8 x 4 fabric: PE 0 streams n words east, PE 7 consumes.
 * A defect at physical (3, 0) shifts column 3 down a row, so the links
 * (2,1)-(3,1) and (3,1)-(4,1) are one pitch longer: 2 cycles each. */
static void row_scenario(wse_pe *pe, probe_state *s, const probe_params *p)
{
    int x = pe_x(pe), last = pe_width(pe) - 1;
    if (pe_y(pe) != 1)
        return;
    if (x == 0)
        probe_source(pe, s, 0, WSE_E, p->n, 100);
    else if (x < last)
        pe_route(pe, 0, WSE_W, WSE_E);
    else
        probe_sink(pe, s, 0, WSE_W, p->n, 0);
}

static void run_row(int depth, const char *map, uint64_t first, uint64_t period, int burst,
                    uint64_t stretched)
{
    wse_topology t = yield_topology(8, 4, 4, 4, WSE_REPAIR_COLUMN_SHIFT, 1, 0);
    t.queue_depth = depth;
    wse_error err;
    int rc, n = 8;
    wse_wafer *w = map ? wafer_from(&t, map, 0, &rc, &err) : NULL;
    t.wafer = w;
    probe_params p = { row_scenario, n, 0 };
    wse_engine *e = probe_run(&t, 8, 4, &p, &rc, &err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    probe_state *s = probe_at(e, 7, 1);
    CU_ASSERT_EQUAL(s->log_n, (uint32_t)n);
    for (int i = 0; i < n && i < (int)s->log_n; i++) {
        CU_ASSERT_EQUAL(s->log_value[i], 100u + (uint32_t)i);
        uint64_t want = first + period * (uint64_t)(i / burst) + (uint64_t)(i % burst);
        if (s->log_cycle[i] != want)
            fprintf(stderr, "\n  word %d at %llu, expected %llu\n", i, (unsigned long long)s->log_cycle[i],
                    (unsigned long long)want);
        CU_ASSERT_EQUAL(s->log_cycle[i], want);
    }
    wse_engine_stats st;
    wse_engine_stats_get(e, &st);
    CU_ASSERT_EQUAL(st.stretched_hops, stretched);
    CU_ASSERT_EQUAL(st.stretch_cycles, stretched);
    wse_engine_destroy(e);
    wse_wafer_destroy(w);
}

static void test_stretched_link_timing(void)
{
    /* perfect: word i at the last PE (7 hops) at 2 + i + 7 */
    run_row(4, NULL, 9, 1, 1, 0);
    /* two links of 2 cycles: 2 later; depth 4 covers their credit loop
     * (a slot comes back 2 L = 4 cycles after it was filled): full rate */
    run_row(4, "pe 3 0\n", 11, 1, 1, 16);
    /* depth 2: a stretched link moves 2 words per 4 cycles */
    run_row(2, "pe 3 0\n", 11, 4, 2, 16);
    /* a defect at (3,1) itself: the same two links */
    run_row(4, "pe 3 1\n", 11, 1, 1, 16);
    /* below row 1 (only rows 2-3 of column 3 shift), or in the spare
     * row: row 1 keeps its links */
    run_row(4, "pe 3 2\n", 9, 1, 1, 0);
    run_row(4, "pe 5 4\n", 9, 1, 1, 0);
}

/* ---------------------------------------------------------------- workload */

typedef struct heat_params { int64_t tile_w, tile_h, steps; double alpha; } heat_params;

/* heat2d on a defective laptop-like wafer: the outputs (digest) are the
 * perfect wafer's, the time is longer, and every decomposition agrees. */
static void test_workload_on_defective_wafer(void)
{
    const wse_program *prog = wse_program_find("heat2d");
    CU_ASSERT_PTR_NOT_NULL_FATAL(prog);
    heat_params p = { 2, 2, 3, 0.2 };
    wse_topology t = yield_topology(24, 16, 8, 8, WSE_REPAIR_COLUMN_SHIFT, 1, 0);
    t.task_switch_cycles = 2;
    harness_outcome perfect = harness_run(prog, &p, &t, 24, 16, 1, 1, 0, 1);
    CU_ASSERT_EQUAL_FATAL(perfect.rc, 0);
    wse_error err;
    int rc;
    /* defects near shard cuts, so stretched links cross them */
    wse_wafer *w = wafer_from(&t, "pe 11 3\npe 12 12\npe 5 9\nlink 20 1 south\n", 0, &rc, &err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    t.wafer = w;
    harness_outcome one = harness_run(prog, &p, &t, 24, 16, 1, 1, 0, 1);
    CU_ASSERT_EQUAL_FATAL(one.rc, 0);
    CU_ASSERT_EQUAL(one.digest, perfect.digest);
    CU_ASSERT(one.st.stretched_hops > 0);
    CU_ASSERT(one.st.cycles >= perfect.st.cycles);
    static const int grids[3][2] = { { 2, 2 }, { 3, 1 }, { 1, 4 } };
    for (int g = 0; g < 3; g++) {
        harness_outcome o = harness_run(prog, &p, &t, 24, 16, grids[g][0], grids[g][1], 0, 1);
        harness_same(&one, &o);
    }
    wse_wafer_destroy(w);
}

/* ---------------------------------------------------------------- yield */

static wse_wafer_summary sample(const wse_topology *t, double d0, double alpha, uint64_t seed)
{
    wse_defect_spec d;
    memset(&d, 0, sizeof d);
    d.kind = WSE_DEFECTS_GENERATE;
    d.d0_per_mm2 = d0;
    d.alpha = alpha;
    d.seed = seed;
    d.shrink = 1;
    wse_wafer *w = NULL;
    wse_error err;
    wse_wafer_summary s;
    memset(&s, 0, sizeof s);
    CU_ASSERT_EQUAL(wse_wafer_create(t, &d, &w, &err), 0);
    if (w)
        wse_wafer_summary_get(w, &s);
    wse_wafer_destroy(w);
    return s;
}

/* Poisson defects, 8 x 8 logical in 2 x 2 dies of 4 x 4 with one spare
 * row: 16 lines (a column of a die) of 5 physical PEs, each repairable
 * when at most one is defective, each PE defective with q = 1 - e^(-D0 a).
 * The fraction of full wafers must match P(line)^16 within 4 standard
 * errors; and without spares (scheme none), negative-binomial clustering
 * per die gives ((1 + D0 A / alpha)^-alpha)^4. */
static void test_monte_carlo_yield(void)
{
    int n = 4000;
    double d0 = 1.0, a = 0.05;                     /* a: pe_area_mm2 */
    wse_topology t = yield_topology(8, 8, 4, 4, WSE_REPAIR_COLUMN_SHIFT, 1, 0);
    double q = 1 - exp(-d0 * a), ok = pow(1 - q, 5) + 5 * q * pow(1 - q, 4);
    double want = pow(ok, 16);
    int full = 0;
    for (int i = 0; i < n; i++)
        full += sample(&t, d0, 0, (uint64_t)i + 1).formed;
    double got = (double)full / n, se = sqrt(want * (1 - want) / n);
    if (fabs(got - want) > 4 * se)
        fprintf(stderr, "\n  Poisson with spares: %.4f, analytic %.4f (se %.4f)\n", got, want, se);
    CU_ASSERT(fabs(got - want) <= 4 * se);
    CU_ASSERT(want > 0.3 && want < 0.9);          /* the case tests something */

    t = yield_topology(8, 8, 4, 4, WSE_REPAIR_NONE, 0, 0);
    double alpha = 0.5, die_area = 16 * a, d1 = 0.2;
    want = pow(pow(1 + d1 * die_area / alpha, -alpha), 4);
    full = 0;
    for (int i = 0; i < n; i++)
        full += sample(&t, d1, alpha, (uint64_t)i + 1).formed;
    got = (double)full / n;
    se = sqrt(want * (1 - want) / n);
    if (fabs(got - want) > 4 * se)
        fprintf(stderr, "\n  negative binomial: %.4f, analytic %.4f (se %.4f)\n", got, want, se);
    CU_ASSERT(fabs(got - want) <= 4 * se);
    /* clustering keeps more wafers whole than Poisson at the same density */
    CU_ASSERT(want > pow(exp(-d1 * die_area), 4));
    /* a generated map depends on the seed alone */
    wse_wafer_summary s1 = sample(&t, d1, alpha, 77), s2 = sample(&t, d1, alpha, 77);
    CU_ASSERT_EQUAL(memcmp(&s1, &s2, sizeof s1), 0);
}

int test_yield_suite(void)
{
    CU_pSuite s = CU_add_suite("yield", NULL, NULL);
    if (!s || !CU_add_test(s, "a 2-die map by hand", test_two_die_map) ||
        !CU_add_test(s, "row_retire and row_shift", test_other_schemes) ||
        !CU_add_test(s, "too many defects: refused, or shrunk", test_refuse_and_shrink) ||
        !CU_add_test(s, "defect file errors", test_map_errors) ||
        !CU_add_test(s, "timing over a stretched link", test_stretched_link_timing) ||
        !CU_add_test(s, "heat2d on a defective wafer", test_workload_on_defective_wafer) ||
        !CU_add_test(s, "Monte-Carlo yield against the formula", test_monte_carlo_yield))
        return CU_get_error();
    return 0;
}
