/*
 * tests/test_ce.c - the compute engine: task priority, blocking, the cost
 * of vector operations, synchronous vs asynchronous fabric operations,
 * the SRAM budget and program errors.  Probe topology: task switch 1,
 * vector startup 0, simd_fp32 1, fabric startup 0.
 */
#include <string.h>
#include <CUnit/CUnit.h>
#include "probe.h"
#include "test_list.h"
#include "wse/pe.h"

static wse_engine *run1(int width, int height, void (*sc)(wse_pe *, probe_state *, const probe_params *),
                        int n, int arg, int *rc, wse_error *err)
{
    wse_topology t = probe_topology(width, height, 2, 1);
    probe_params p = { sc, n, arg };
    return probe_run(&t, width, height, &p, rc, err);
}

/* Tasks 7, 3, 5 activated together run lowest id first, one per task
 * switch; task 3 also runs a 10-element vector op (10 cycles). */
static void prio_scenario(wse_pe *pe, probe_state *s, const probe_params *p)
{
    static const int ids[3] = { 7, 3, 5 };
    for (int i = 0; i < 3; i++) {
        pe_bind_local_task(pe, ids[i]);
        pe_activate(pe, ids[i]);
    }
    s->expect = 3;
    if (p->arg == 1) {          /* block 3 until 5 has run */
        pe_block(pe, 3);
        s->unblock_by = 5 + 1;
        s->unblock_target = 3 + 1;
    } else {
        s->vec_task = 3 + 1;
        s->vec_n = 10;
    }
}

static void test_priority_and_vector_cost(void)
{
    wse_error err;
    int rc;
    wse_engine *e = run1(1, 1, prio_scenario, 0, 0, &rc, &err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    probe_state *s = probe_at(e, 0, 0);
    CU_ASSERT_EQUAL_FATAL(s->log_n, 3u);
    CU_ASSERT_EQUAL(s->log_value[0], 3u);
    CU_ASSERT_EQUAL(s->log_value[1], 5u);
    CU_ASSERT_EQUAL(s->log_value[2], 7u);
    CU_ASSERT_EQUAL(s->log_cycle[0], 0u);
    CU_ASSERT_EQUAL(s->log_cycle[1], 11u);     /* 1 switch + 10 elements */
    CU_ASSERT_EQUAL(s->log_cycle[2], 12u);
    wse_engine_stats st;
    wse_engine_stats_get(e, &st);
    CU_ASSERT_EQUAL(st.flops, 10u);
    CU_ASSERT_EQUAL(st.tasks_run, 3u);
    CU_ASSERT_EQUAL(st.busy_cycles, 13u);
    CU_ASSERT_EQUAL(st.cycles, 13u);
    wse_engine_destroy(e);
}

static void test_blocked_task_waits(void)
{
    wse_error err;
    int rc;
    wse_engine *e = run1(1, 1, prio_scenario, 0, 1, &rc, &err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    probe_state *s = probe_at(e, 0, 0);
    CU_ASSERT_EQUAL_FATAL(s->log_n, 3u);
    CU_ASSERT_EQUAL(s->log_value[0], 5u);      /* 3 is blocked */
    CU_ASSERT_EQUAL(s->log_value[1], 3u);      /* unblocked by 5, beats 7 */
    CU_ASSERT_EQUAL(s->log_value[2], 7u);
    CU_ASSERT_EQUAL(s->log_cycle[1], 1u);
    CU_ASSERT_EQUAL(s->log_cycle[2], 2u);
    wse_engine_destroy(e);
}

/* PE 0 streams n words east with a (a)synchronous fabout and activates a
 * second task; PE 1 consumes.  arg = flags. */
static void sync_scenario(wse_pe *pe, probe_state *s, const probe_params *p)
{
    if (pe_x(pe) == 0) {
        pe_route(pe, 0, WSE_RAMP, WSE_E);
        s->send_color = 0;
        s->send_n = p->n;
        s->flags = (uint32_t)p->arg;
        s->second_task = 1;
        pe_bind_local_task(pe, PROBE_T_START);
        pe_bind_local_task(pe, PROBE_T_SECOND);
        pe_bind_local_task(pe, PROBE_T_DONE);
        pe_activate(pe, PROBE_T_START);
    } else {
        pe_route(pe, 0, WSE_W, WSE_RAMP);
        probe_bind_data(pe, s, 0);
        s->expect = (uint32_t)p->n;
    }
}

static void check_source_log(int flags, uint64_t second, uint64_t done)
{
    const int n = 8;
    wse_error err;
    int rc;
    wse_engine *e = run1(2, 1, sync_scenario, n, flags, &rc, &err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    probe_state *s = probe_at(e, 0, 0);
    CU_ASSERT_EQUAL_FATAL(s->log_n, 3u);
    CU_ASSERT_EQUAL(s->log_value[0], (uint32_t)PROBE_T_START);
    CU_ASSERT_EQUAL(s->log_cycle[0], 0u);
    CU_ASSERT_EQUAL(s->log_value[1], (uint32_t)PROBE_T_SECOND);
    CU_ASSERT_EQUAL(s->log_cycle[1], second);
    CU_ASSERT_EQUAL(s->log_value[2], (uint32_t)PROBE_T_DONE);
    CU_ASSERT_EQUAL(s->log_cycle[2], done);
    wse_engine_destroy(e);
}

static void test_sync_fabout_holds_the_ce(void)
{
    /* words pushed at 1..8: the op completes at 8; only then may the CE
     * run the second task (8), then the completion task (9) */
    check_source_log(0, 8, 9);
}

static void test_async_fabout_frees_the_ce(void)
{
    /* the second task runs as soon as the start task's cycle is over */
    check_source_log(WSE_ASYNC, 1, 8);
}

static void hog_scenario(wse_pe *pe, probe_state *s, const probe_params *p)
{
    (void)s;
    if (pe_x(pe) == 1 && pe_y(pe) == 2)
        pe_alloc(pe, (size_t)p->arg);
}

static void test_sram_budget(void)
{
    wse_error err;
    int rc;
    wse_engine *e = run1(2, 3, hog_scenario, 0, 60000, &rc, &err);
    CU_ASSERT_PTR_NULL(e);
    CU_ASSERT_EQUAL(rc, WSE_ESRAM);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "PE (1,2): program 'probe' needs "));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "but a PE has 49152"));
    /* exactly the budget is fine */
    size_t state = (probe_program.device.state_size + 15) & ~(size_t)15;
    e = run1(2, 3, hog_scenario, 0, (int)(48 * 1024 - state), &rc, &err);
    CU_ASSERT_EQUAL(rc, 0);
    wse_engine_stats st;
    wse_engine_stats_get(e, &st);
    CU_ASSERT_EQUAL(st.sram.value, 48u * 1024u);
    CU_ASSERT_EQUAL(st.sram.x, 1);
    CU_ASSERT_EQUAL(st.sram.y, 2);
    wse_engine_destroy(e);
}

static void badcolor_scenario(wse_pe *pe, probe_state *s, const probe_params *p)
{
    (void)s; (void)p;
    pe_route(pe, 30, WSE_W, WSE_E);
}

/* Colors 21..23 of probe_topology (wse2 resources) are host I/O's. */
static void hostcolor_scenario(wse_pe *pe, probe_state *s, const probe_params *p)
{
    (void)s; (void)p;
    pe_route(pe, 22, WSE_W, WSE_E);
}

static void test_bad_color_is_program_error(void)
{
    wse_error err;
    int rc;
    wse_engine *e = run1(1, 1, badcolor_scenario, 0, 0, &rc, &err);
    CU_ASSERT_PTR_NULL(e);
    CU_ASSERT_EQUAL(rc, WSE_EPROGRAM);
    CU_ASSERT_STRING_EQUAL(err.msg, "PE (0,0) at cycle 0: pe_route: color 30 is not in 0..20");
    e = run1(1, 1, hostcolor_scenario, 0, 0, &rc, &err);
    CU_ASSERT_PTR_NULL(e);
    CU_ASSERT_EQUAL(rc, WSE_EPROGRAM);
    CU_ASSERT_STRING_EQUAL(err.msg, "PE (0,0) at cycle 0: pe_route: color 22 is kept by host I/O on topology 'probe' (colors 21..23); a program has colors 0..20");
}

static void scribble_scenario(wse_pe *pe, probe_state *s, const probe_params *p)
{
    (void)p;
    if (pe_x(pe) == 1) {
        pe_bind_local_task(pe, 20);
        pe_activate(pe, 20);
        s->expect = 1;
        s->scribble = 1;
    }
}

static void test_write_past_allocations(void)
{
    wse_error err;
    int rc;
    wse_engine *e = run1(2, 1, scribble_scenario, 0, 0, &rc, &err);
    CU_ASSERT_EQUAL(rc, WSE_EPROGRAM);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "PE (1,0) at cycle 0: task 20 of program 'probe' wrote past the end"));
    wse_engine_destroy(e);
}

/* Elementwise max and the topology seen from a task. */
static void vmax2_scenario(wse_pe *pe, probe_state *s, const probe_params *p)
{
    (void)p;
    float a[4] = { 1.0f, -2.0f, 3.5f, 0.0f }, b[4] = { 0.5f, 7.0f, 3.5f, -1.0f };
    pe_vmax2_f32(pe, s->vec, a, b, 4);      /* in setup: no cycles to charge */
    s->log_value[0] = (uint32_t)pe_machine(pe)->queue_depth;
}

static void test_vmax2_and_topology(void)
{
    wse_error err;
    int rc;
    wse_engine *e = run1(1, 1, vmax2_scenario, 0, 0, &rc, &err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    probe_state *s = probe_at(e, 0, 0);
    CU_ASSERT_EQUAL(s->vec[0], 1.0f);
    CU_ASSERT_EQUAL(s->vec[1], 7.0f);
    CU_ASSERT_EQUAL(s->vec[2], 3.5f);
    CU_ASSERT_EQUAL(s->vec[3], 0.0f);
    CU_ASSERT_EQUAL(s->log_value[0], 2u);
    wse_engine_destroy(e);
}

/* A fabin on a color no route delivers to the CE fails at once. */
static void orphan_fabin_scenario(wse_pe *pe, probe_state *s, const probe_params *p)
{
    (void)p;
    pe_route(pe, 5, WSE_W, WSE_E);          /* color 5 passes by, never to the CE */
    pe_bind_local_task(pe, PROBE_T_START);
    pe_activate(pe, PROBE_T_START);
    s->fabin_color = 5 + 1;
    s->expect = 1;
}

static void test_fabin_without_route(void)
{
    wse_error err;
    int rc;
    wse_engine *e = run1(1, 1, orphan_fabin_scenario, 0, 0, &rc, &err);
    CU_ASSERT_EQUAL(rc, WSE_EPROGRAM);
    CU_ASSERT_STRING_EQUAL(err.msg, "PE (0,0) at cycle 0: pe_fabin: no route delivers color 5 to the CE (tx RAMP)");
    wse_engine_destroy(e);
}

int test_ce_suite(void)
{
    CU_pSuite s = CU_add_suite("ce", NULL, NULL);
    if (!s || !CU_add_test(s, "priority order and vector op cost", test_priority_and_vector_cost) ||
        !CU_add_test(s, "a blocked task waits for unblock", test_blocked_task_waits) ||
        !CU_add_test(s, "synchronous fabout holds the CE", test_sync_fabout_holds_the_ce) ||
        !CU_add_test(s, "asynchronous fabout frees the CE", test_async_fabout_frees_the_ce) ||
        !CU_add_test(s, "SRAM budget", test_sram_budget) ||
        !CU_add_test(s, "a task writing past its allocations", test_write_past_allocations) ||
        !CU_add_test(s, "elementwise max, topology from a program", test_vmax2_and_topology) ||
        !CU_add_test(s, "fabin on a color that never reaches the CE", test_fabin_without_route) ||
        !CU_add_test(s, "bad color is a program error", test_bad_color_is_program_error))
        return CU_get_error();
    return 0;
}
