/*
 * tests/test_fabric.c - routers, links, credits: hand-computed timings.
 *
 * Probe topology: task switch 1 cycle, fabric and vector startup 0, hop
 * latency L.  A source PE's start task runs at cycle 0, so its fabout op
 * pushes word i into its own router at cycle 1 + i (at full rate).  A push
 * at s is visible downstream at s + L; each router forwards the head of a
 * queue in the cycle it becomes visible if the output link is free and the
 * target holds a credit.  With L = 1 the source's router forwards word i
 * at 2 + i, so the k-th PE down a line (k >= 1) sees it at 2 + i + k, and
 * the CE's data task runs in that cycle.
 */
#include <string.h>
#include <CUnit/CUnit.h>
#include "probe.h"
#include "test_list.h"
#include "wse/pe.h"

/* ---------------------------------------------------------------- a line */

/* PE 0 streams n words east; middle PEs forward; the last PE consumes.
 * arg = extra cycles each data task costs at the consumer. */
static void line_scenario(wse_pe *pe, probe_state *s, const probe_params *p)
{
    int x = pe_x(pe), last = pe_width(pe) - 1;
    if (x == 0) {
        probe_source(pe, s, 0, WSE_E, p->n, 100);
    } else if (x < last) {
        pe_route(pe, 0, WSE_W, WSE_E);
    } else {
        probe_sink(pe, s, 0, WSE_W, p->n, p->arg);
    }
}

static probe_state *state_at(wse_engine *e, int x, int y)
{
    return probe_at(e, x, y);
}

/* Word i must reach the last PE at first + period * (i / burst) + i % burst. */
static void run_line(int width, int depth, int latency, int n, int charge,
                     uint64_t first, uint64_t period, int burst)
{
    wse_topology t = probe_topology(width, 1, depth, latency);
    probe_params p = { line_scenario, n, charge };
    wse_error err;
    int rc;
    wse_engine *e = probe_run(&t, width, 1, &p, &rc, &err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    probe_state *s = state_at(e, width - 1, 0);
    CU_ASSERT_EQUAL(s->log_n, (uint32_t)n);
    CU_ASSERT_EQUAL(s->task_x, width - 1);      /* coordinates inside tasks */
    CU_ASSERT_EQUAL(s->task_y, 0);
    for (int i = 0; i < n && i < (int)s->log_n; i++) {
        CU_ASSERT_EQUAL(s->log_value[i], 100u + (uint32_t)i);   /* in order */
        CU_ASSERT_EQUAL(s->log_cycle[i], first + period * (uint64_t)(i / burst) + (uint64_t)(i % burst));
    }
    wse_engine_stats st;
    wse_engine_stats_get(e, &st);
    CU_ASSERT_EQUAL(st.hops, (uint64_t)n * (uint64_t)(width - 1));
    CU_ASSERT_EQUAL(st.wavelets_sent, (uint64_t)n);
    CU_ASSERT_EQUAL(st.wavelets_received, (uint64_t)n);
    CU_ASSERT_EQUAL(st.link.value, (uint64_t)n);
    wse_engine_destroy(e);
}

static void test_line_full_rate(void)
{
    /* word i pushed at 1+i, seen by PE k at 2+i+k: last PE (k=5) at 7+i */
    run_line(6, 2, 1, 10, 0, 7, 1, 1);
}

static void test_line_depth1_half_rate(void)
{
    /* depth 1: a credit comes back one cycle after the pop, so every link
     * carries one wavelet per two cycles: pushes at 1, 3, 5, ... */
    run_line(6, 1, 1, 10, 0, 7, 2, 1);
}

static void test_line_latency2(void)
{
    /* L = 2: push at 1+i; the ramp and each of the 5 hops take 2 cycles:
     * visible at the last PE at 1 + i + 12.  Depth 4 covers the credit
     * loop (a slot is reused 2L = 4 cycles later), so full rate. */
    run_line(6, 4, 2, 10, 0, 13, 1, 1);
}

static void test_backpressure_slow_consumer(void)
{
    /* consumer tasks cost 1 + 9 cycles: one word per 10 cycles, and the
     * stalled line upstream must deliver each word in time: 7 + 10 i */
    run_line(6, 2, 1, 12, 9, 7, 10, 1);
}

static void test_latency_and_depth_stall(void)
{
    /* L = 2 with depth 2: a credit returns 2 cycles after its pop, so a
     * sender pushes twice, then waits for the two credits: pushes at
     * 1, 2, 5, 6, 9, ...  Visible at the last PE 12 cycles after the push. */
    run_line(6, 2, 2, 8, 0, 13, 4, 2);
}

/* ---------------------------------------------------------------- multicast */

static void mcast_scenario(wse_pe *pe, probe_state *s, const probe_params *p)
{
    int x = pe_x(pe);
    if (x == 0) {
        line_scenario(pe, s, p);
    } else if (x == 1) {
        pe_route(pe, 0, WSE_W, WSE_E | WSE_RAMP);
        probe_bind_data(pe, s, 0);
        s->expect = (uint32_t)p->n;
    } else {
        pe_route(pe, 0, WSE_W, WSE_RAMP);
        probe_bind_data(pe, s, 0);
        s->expect = (uint32_t)p->n;
    }
}

static void test_multicast(void)
{
    wse_topology t = probe_topology(3, 1, 2, 1);
    probe_params p = { mcast_scenario, 5, 0 };
    wse_error err;
    int rc;
    wse_engine *e = probe_run(&t, 3, 1, &p, &rc, &err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    /* PE1's router copies word i at 1+i+2 to PE2 and to its own CE queue;
     * both see it one cycle later: 4 + i */
    for (int x = 1; x <= 2; x++) {
        probe_state *s = state_at(e, x, 0);
        CU_ASSERT_EQUAL(s->log_n, 5u);
        for (uint32_t i = 0; i < 5 && i < s->log_n; i++) {
            CU_ASSERT_EQUAL(s->log_value[i], 100u + i);
            CU_ASSERT_EQUAL(s->log_cycle[i], 4u + i);
        }
    }
    wse_engine_stats st;
    wse_engine_stats_get(e, &st);
    CU_ASSERT_EQUAL(st.hops, 10u);
    CU_ASSERT_EQUAL(st.wavelets_received, 10u);
    wse_engine_destroy(e);
}

/* ---------------------------------------------------------------- contention */

/* Two flows share the link (1,0) -> (2,0): color 0 from (0,0) going east,
 * color 1 from (1,1) going north then east.  Lower color wins the link. */
static void merge_scenario(wse_pe *pe, probe_state *s, const probe_params *p)
{
    int x = pe_x(pe), y = pe_y(pe);
    if (x == 0 && y == 0) {
        line_scenario(pe, s, p);
    } else if (x == 1 && y == 1) {
        probe_source(pe, s, 1, WSE_N, p->n, 200);
    } else if (x == 1 && y == 0) {
        pe_route(pe, 0, WSE_W, WSE_E);
        pe_route(pe, 1, WSE_S, WSE_E);
    } else if (x == 2 && y == 0) {
        pe_route(pe, 0, WSE_W, WSE_RAMP);
        pe_route(pe, 1, WSE_W, WSE_RAMP);
        probe_bind_data(pe, s, 0);
        probe_bind_data(pe, s, 1);
        s->expect = 2u * (uint32_t)p->n;
    }
}

static void test_link_contention(void)
{
    const int n = 6;
    wse_topology t = probe_topology(3, 2, 2, 1);
    probe_params p = { merge_scenario, n, 0 };
    wse_error err;
    int rc;
    wse_engine *e = probe_run(&t, 3, 2, &p, &rc, &err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    probe_state *s = state_at(e, 2, 0);
    CU_ASSERT_EQUAL_FATAL(s->log_n, 2u * n);
    /* color 0 owns the shared link from cycle 3 to 3+n-1: its words arrive
     * at 4+i; color 1 follows at 4+n+i, one per cycle, in order */
    for (uint32_t i = 0; i < (uint32_t)n; i++) {
        CU_ASSERT_EQUAL(s->log_value[i], 100u + i);
        CU_ASSERT_EQUAL(s->log_cycle[i], 4u + i);
        CU_ASSERT_EQUAL(s->log_value[n + i], 200u + i);
        CU_ASSERT_EQUAL(s->log_cycle[n + i], 4u + (uint64_t)n + i);
    }
    wse_engine_stats st;
    wse_engine_stats_get(e, &st);
    CU_ASSERT_EQUAL(st.hops, 4u * n);
    CU_ASSERT_EQUAL(st.link.value, 2u * n);
    CU_ASSERT_EQUAL(st.link.x, 1);
    CU_ASSERT_EQUAL(st.link.y, 0);
    CU_ASSERT_EQUAL(st.link.port, WSE_PORT_E);
    wse_engine_destroy(e);
}

/* ---------------------------------------------------------------- errors */

static void noroute_scenario(wse_pe *pe, probe_state *s, const probe_params *p)
{
    if (pe_x(pe) == 0)
        line_scenario(pe, s, p);
    /* the other PE has no route for color 0 */
}

static void test_routing_error_no_rx(void)
{
    wse_topology t = probe_topology(2, 1, 2, 1);
    probe_params p = { noroute_scenario, 3, 0 };
    wse_error err;
    int rc;
    wse_engine *e = probe_run(&t, 2, 1, &p, &rc, &err);
    CU_ASSERT_EQUAL(rc, WSE_EROUTE);
    /* pushed at 1, forwarded (and refused) at 2 */
    CU_ASSERT_STRING_EQUAL(err.msg, "PE (0,0) at cycle 2: color 0: wavelet sent E to PE (1,0), which has no route for color 0 from W");
    wse_engine_destroy(e);
}

static void test_routing_error_off_edge(void)
{
    wse_topology t = probe_topology(1, 1, 2, 1);
    probe_params p = { line_scenario, 3, 0 };
    wse_error err;
    int rc;
    /* a 1-wide region: PE 0 is both first and last; make it a source only */
    wse_engine *e = probe_run(&t, 1, 1, &p, &rc, &err);
    CU_ASSERT_EQUAL(rc, WSE_EROUTE);
    CU_ASSERT_STRING_EQUAL(err.msg, "PE (0,0) at cycle 2: color 0: tx E leads off the edge of the region");
    wse_engine_destroy(e);
}

static void starve_scenario(wse_pe *pe, probe_state *s, const probe_params *p)
{
    (void)p;
    pe_route(pe, 3, WSE_W, WSE_RAMP);
    if (pe_x(pe) == 1) {
        probe_bind_data(pe, s, 3);
        s->expect = 1;      /* nobody ever sends */
    }
}

static void test_deadlock_reported(void)
{
    wse_topology t = probe_topology(3, 2, 2, 1);
    probe_params p = { starve_scenario, 0, 0 };
    wse_error err;
    int rc;
    wse_engine *e = probe_run(&t, 3, 2, &p, &rc, &err);
    CU_ASSERT_EQUAL(rc, WSE_EDEADLOCK);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "2 of 6 PEs unfinished"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "PE (1,0) waits for data on color 3"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "PE (1,1) waits for data on color 3"));
    wse_engine_destroy(e);
}

static void twice_scenario(wse_pe *pe, probe_state *s, const probe_params *p)
{
    (void)s; (void)p;
    pe_route(pe, 2, WSE_W, WSE_E);
    if (pe_x(pe) == 1 && pe_y(pe) == 0)
        pe_route(pe, 2, WSE_N, WSE_S);
}

static void test_route_twice_is_error(void)
{
    wse_topology t = probe_topology(2, 1, 2, 1);
    probe_params p = { twice_scenario, 0, 0 };
    wse_error err;
    int rc;
    wse_engine *e = probe_run(&t, 2, 1, &p, &rc, &err);
    CU_ASSERT_PTR_NULL(e);
    CU_ASSERT_EQUAL(rc, WSE_EPROGRAM);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "PE (1,0)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "color 2 is routed twice"));
}

int test_fabric_suite(void)
{
    CU_pSuite s = CU_add_suite("fabric", NULL, NULL);
    if (!s || !CU_add_test(s, "line at full rate", test_line_full_rate) ||
        !CU_add_test(s, "queue depth 1 halves the rate", test_line_depth1_half_rate) ||
        !CU_add_test(s, "hop latency 2", test_line_latency2) ||
        !CU_add_test(s, "latency 2 with depth 2 stalls", test_latency_and_depth_stall) ||
        !CU_add_test(s, "backpressure from a slow consumer", test_backpressure_slow_consumer) ||
        !CU_add_test(s, "multicast to a neighbour and the ramp", test_multicast) ||
        !CU_add_test(s, "two colors contend for one link", test_link_contention) ||
        !CU_add_test(s, "routing error: no rx route", test_routing_error_no_rx) ||
        !CU_add_test(s, "routing error: off the edge", test_routing_error_off_edge) ||
        !CU_add_test(s, "deadlock names the stuck PEs", test_deadlock_reported) ||
        !CU_add_test(s, "a color routed twice", test_route_twice_is_error))
        return CU_get_error();
    return 0;
}
