/*
 * tests/test_switch.c - control wavelets, switches, control tasks, range
 * filters and color swap, with hand-computed cycles.
 *
 * A small program sends a list of single wavelets (data or control) from
 * one PE and logs what every other PE's data or control task receives.
 * Probe topology: task switch 1 cycle, fabric startup 0, hop latency 1,
 * queue depth 2.  A sender's start task runs at cycle 0, so its sends
 * start at cycle 1 and leave one per cycle; a wavelet forwarded by a
 * router at cycle t is visible to the next router (or the CE) at t + 1.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <CUnit/CUnit.h>
#include "harness.h"
#include "probe.h"
#include "test_list.h"
#include "wse/pe.h"
#include "wse/shard.h"

#define SW_MAX 16

typedef struct sw_state {
    uint32_t n;                         /* entries logged */
    uint64_t cycle[SW_MAX];
    uint32_t value[SW_MAX];
    uint32_t task[SW_MAX];
    uint32_t expect;                    /* entries to log before finishing */
    uint32_t nsend;                     /* words to send at the start */
    uint32_t word[SW_MAX];
    uint32_t ctrl[SW_MAX];              /* word i is a control wavelet */
    int32_t color;                      /* sent on */
} sw_state;

typedef struct sw_params {
    void (*scenario)(wse_pe *pe, sw_state *s);
} sw_params;

enum { T_START = WSE_LOCAL_TASK(0), T_CTRL = WSE_LOCAL_TASK(8), T_TEARDOWN = WSE_LOCAL_TASK(9) };

static int sw_setup(wse_pe *pe, void *state)
{
    sw_state *s = state;
    const sw_params *p = pe_params(pe);
    p->scenario(pe, s);
    if (s->nsend) {
        pe_bind_local_task(pe, T_START);
        pe_activate(pe, T_START);
    }
    if (!s->nsend && !s->expect)
        pe_finish(pe);
    return 0;
}

static void sw_task(wse_pe *pe, void *state, int task, uint32_t payload)
{
    sw_state *s = state;
    if (task == T_TEARDOWN) {          /* logged as payload 0xffff */
        if (s->n < SW_MAX) {
            s->cycle[s->n] = pe_cycle(pe) - 1;
            s->value[s->n] = 0xffff;
            s->task[s->n++] = (uint32_t)task;
        }
        pe_route_set_position(pe, 0, 1);
        pe_route_resume(pe, 0);
        return;
    }
    if (task == T_START) {
        for (uint32_t i = 0; i < s->nsend; i++)
            pe_send(pe, s->color, s->word[i], WSE_NO_TASK, WSE_ASYNC | (s->ctrl[i] ? WSE_CONTROL : 0));
        if (!s->expect)
            pe_finish(pe);
        return;
    }
    if (s->n < SW_MAX) {
        s->cycle[s->n] = pe_cycle(pe) - 1;      /* the task's start: minus its switch */
        s->value[s->n] = payload;
        s->task[s->n] = (uint32_t)task;
        s->n++;
    }
    if (s->n == s->expect)
        pe_finish(pe);
}

static const wse_array_spec sw_arrays[] = {
    { "n", WSE_U32, 0, 1, "entries logged per PE", harness_pe_shape, harness_pe_state_block },
};

static const wse_program sw_program = {
    .api_version = WSE_API_VERSION,
    .name = "switch_probe",
    .summary = "test: single wavelets through switches",
    .params_size = sizeof(sw_params),
    .arrays = sw_arrays,
    .n_arrays = 1,
    .device = { .state_size = sizeof(sw_state), .setup = sw_setup, .task = sw_task },
};

static sw_state *sw_at(wse_engine *e, int x, int y)
{
    wse_array_block b;
    return wse_engine_block(e, 0, x, y, &b) == 0 ? b.ptr : NULL;
}

static wse_engine *sw_run(int w, int h, void (*scenario)(wse_pe *, sw_state *), int *rc,
                          wse_error *err)
{
    wse_topology t = probe_topology(w, h, 2, 1);
    sw_params p = { scenario };
    wse_engine *e = NULL;
    wse_rect r = { 0, 0, w, h };
    wse_error_clear(err);
    *rc = wse_engine_create(&t, &sw_program, &p, r, NULL, &e, err);
    if (*rc == 0)
        *rc = wse_engine_run(e, 100000, err);
    return e;
}

static void send(sw_state *s, int color, uint32_t word, int ctrl)
{
    s->color = color;
    s->word[s->nsend] = word;
    s->ctrl[s->nsend] = (uint32_t)ctrl;
    s->nsend++;
}

/* Check PE (x, y) logged exactly one entry: value at cycle by task. */
static void logged(wse_engine *e, int x, int y, uint32_t value, uint64_t cycle, int task)
{
    sw_state *s = sw_at(e, x, y);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(s->n, 1u);
    CU_ASSERT_EQUAL(s->value[0], value);
    CU_ASSERT_EQUAL(s->cycle[0], cycle);
    CU_ASSERT_EQUAL(s->task[0], (uint32_t)task);
}

/* ------------------------------------------------------------ switches */

/* The centre of 3 x 3 sends on one color to its four neighbours in turn:
 * its route goes north, positions 1-3 go west, east and south, it starts
 * at position 1 in ring mode.  Each control wavelet (CE filter on) is
 * routed by the current position and then advances the switch, so the
 * data after it goes where the next position points. */
static void rotate_scenario(wse_pe *pe, sw_state *s)
{
    int x = pe_x(pe), y = pe_y(pe);
    if (x == 1 && y == 1) {
        pe_route(pe, 0, WSE_RAMP, WSE_N);
        wse_switch sw = { .rx = { 0, 0, 0 }, .tx = { WSE_W, WSE_E, WSE_S }, .position = 1, .ring = 1 };
        pe_route_switch(pe, 0, &sw);
        uint32_t adv = pe_control_word(WSE_SWITCH_ADVANCE, 1, 0, 0);
        for (uint32_t k = 0; k < 4; k++) {
            send(s, 0, adv, 1);
            send(s, 0, 2 * k, 0);
        }
        return;
    }
    if (x != 1 && y != 1)
        return;                         /* corners take no part */
    unsigned from = y == 0 ? WSE_S : y == 2 ? WSE_N : x == 0 ? WSE_E : WSE_W;
    pe_route(pe, 0, from, WSE_RAMP);
    pe_bind_data_task(pe, 0);
    s->expect = 1;
}

/* Sends leave at cycles 1..8 (adv, 0, adv, 2, adv, 4, adv, 6); the centre
 * routes each one cycle later.  adv at 2 goes west (filtered away there)
 * and moves the switch east: 0 is routed east at 3, seen at 4; then south
 * at 5 (seen 6), north at 7 (seen 8), and west again at 9 (seen 10). */
static void test_switch_rotate(void)
{
    wse_error err;
    int rc;
    wse_engine *e = sw_run(3, 3, rotate_scenario, &rc, &err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    logged(e, 2, 1, 0, 4, 0);           /* east */
    logged(e, 1, 2, 2, 6, 0);           /* south */
    logged(e, 1, 0, 4, 8, 0);           /* north */
    logged(e, 0, 1, 6, 10, 0);          /* west */
    wse_engine_stats st;
    wse_engine_stats_get(e, &st);
    CU_ASSERT_EQUAL(st.hops, 8u);               /* the filtered ones cross too */
    CU_ASSERT_EQUAL(st.wavelets_sent, 8u);
    CU_ASSERT_EQUAL(st.wavelets_received, 4u);  /* no CE takes a filtered one */
    wse_engine_destroy(e);
}

/* The same, but the control wavelets carry data for a control task and no
 * filter: each one's data reaches the PE of the position it was routed by
 * (the switch moves after it). */
static void ctrl_task_scenario(wse_pe *pe, sw_state *s)
{
    int x = pe_x(pe), y = pe_y(pe);
    if (x == 1 && y == 1) {
        pe_route(pe, 0, WSE_RAMP, WSE_N);
        wse_switch sw = { .tx = { WSE_W, WSE_E, WSE_S }, .position = 1, .ring = 1 };
        pe_route_switch(pe, 0, &sw);
        for (uint32_t k = 0; k < 4; k++)
            send(s, 0, pe_control_word(WSE_SWITCH_ADVANCE, 0, T_CTRL, 2 * k), 1);
        return;
    }
    if (x != 1 && y != 1)
        return;
    unsigned from = y == 0 ? WSE_S : y == 2 ? WSE_N : x == 0 ? WSE_E : WSE_W;
    pe_route(pe, 0, from, WSE_RAMP);
    pe_bind_control_task(pe, T_CTRL);
    s->expect = 1;
}

/* Sent at 1..4, routed at 2..5 west, east, south, north; each control
 * task runs the cycle after. */
static void test_control_tasks(void)
{
    wse_error err;
    int rc;
    wse_engine *e = sw_run(3, 3, ctrl_task_scenario, &rc, &err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    logged(e, 0, 1, 0, 3, T_CTRL);
    logged(e, 2, 1, 2, 4, T_CTRL);
    logged(e, 1, 2, 4, 5, T_CTRL);
    logged(e, 1, 0, 6, 6, T_CTRL);
    wse_engine_destroy(e);
}

/* A switch that changes the rx port: PE (1,0) forwards from the west at
 * position 0 and from its own ramp (to the south) at position 1.  Its own
 * word waits in the ramp queue from cycle 2 until the control wavelet
 * from the west (sent at 2, routed by PE 0 at 3, by PE 1 at 4) moves the
 * switch; it moves at 5, not 4: no other wavelet of a color passes a
 * router in the cycle its switch changed. */
static void rx_switch_scenario(wse_pe *pe, sw_state *s)
{
    int x = pe_x(pe), y = pe_y(pe);
    if (y == 1) {
        if (x == 1) {
            pe_route(pe, 0, WSE_N, WSE_RAMP);
            pe_bind_data_task(pe, 0);
            s->expect = 1;
        }
        return;
    }
    if (x == 0) {
        pe_route(pe, 0, WSE_RAMP, WSE_E);
        send(s, 0, 11, 0);
        send(s, 0, pe_control_word(WSE_SWITCH_ADVANCE, 1, 0, 0), 1);
    } else if (x == 1) {
        pe_route(pe, 0, WSE_W, WSE_E);
        wse_switch sw = { .rx = { WSE_RAMP, 0, 0 }, .tx = { WSE_S, 0, 0 } };
        pe_route_switch(pe, 0, &sw);
        send(s, 0, 22, 0);
    } else {
        pe_route(pe, 0, WSE_W, WSE_RAMP);
        pe_bind_data_task(pe, 0);
        s->expect = 1;
    }
}

static void test_switch_rx(void)
{
    wse_error err;
    int rc;
    wse_engine *e = sw_run(3, 2, rx_switch_scenario, &rc, &err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    logged(e, 2, 0, 11, 4, 0);          /* routed by PE 1 at 3 */
    logged(e, 1, 1, 22, 6, 0);          /* routed at 5, seen at 6 */
    wse_engine_destroy(e);
}

/* ------------------------------------------------------------ filters */

/* PE 0 of a row of 4 streams 12 words (index i in the upper 16 bits) east;
 * PE p in 1..3 forwards everything and hands its CE only indices 3p..3p+2.
 * Word i is sent at 1 + i, routed by PE p at 2 + p + i, seen by its CE at
 * 3 + p + i. */
static void filter_scenario(wse_pe *pe, sw_state *s)
{
    int x = pe_x(pe);
    if (x == 0) {
        pe_route(pe, 1, WSE_RAMP, WSE_E);
        for (uint32_t i = 0; i < 12; i++)
            send(s, 1, (i << 16) | (100 + i), 0);
        return;
    }
    pe_route(pe, 1, WSE_W, x < 3 ? (WSE_E | WSE_RAMP) : WSE_RAMP);
    pe_route_filter(pe, 1, 3u * (unsigned)x, 3u * (unsigned)x + 2);
    pe_bind_data_task(pe, 1);
    s->expect = 3;
}

static void test_range_filter(void)
{
    wse_error err;
    int rc;
    wse_engine *e = sw_run(4, 1, filter_scenario, &rc, &err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    for (int p = 1; p <= 3; p++) {
        sw_state *s = sw_at(e, p, 0);
        CU_ASSERT_EQUAL_FATAL(s->n, 3u);
        for (uint32_t k = 0; k < 3; k++) {
            uint32_t i = 3u * (uint32_t)p + k;
            CU_ASSERT_EQUAL(s->value[k], (i << 16) | (100 + i));
            CU_ASSERT_EQUAL(s->cycle[k], 3u + (uint32_t)p + i);
        }
    }
    wse_engine_destroy(e);
}

/* ------------------------------------------------------------ color swap */

/* Colors 0 and 1 swap on the way east: PE 0 sends on 0, so PE 1 sees 1,
 * PE 2 sees 0 and PE 3 sees 1 again. */
static void swap_scenario(wse_pe *pe, sw_state *s)
{
    int x = pe_x(pe);
    if (x == 0) {
        pe_route(pe, 0, WSE_RAMP, WSE_E);
        pe_route_swap(pe, 0, WSE_E | WSE_W);
        for (uint32_t i = 0; i < 3; i++)
            send(s, 0, 7 + i, 0);
        return;
    }
    for (int c = 0; c < 2; c++) {
        pe_route(pe, c, WSE_W, x < 3 ? (WSE_E | WSE_RAMP) : WSE_RAMP);
        pe_route_swap(pe, c, WSE_E | WSE_W);
        pe_bind_data_task(pe, c);
    }
    s->expect = 3;
}

static void test_color_swap(void)
{
    wse_error err;
    int rc;
    wse_engine *e = sw_run(4, 1, swap_scenario, &rc, &err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    for (int p = 1; p <= 3; p++) {
        sw_state *s = sw_at(e, p, 0);
        CU_ASSERT_EQUAL_FATAL(s->n, 3u);
        for (uint32_t k = 0; k < 3; k++) {
            CU_ASSERT_EQUAL(s->task[k], (uint32_t)(p & 1));
            CU_ASSERT_EQUAL(s->value[k], 7 + k);
            CU_ASSERT_EQUAL(s->cycle[k], 3u + (uint32_t)p + k);
        }
    }
    wse_engine_destroy(e);
}

/* ------------------------------------------------------------ across shards */

/* A row of 8: PE 0 sends d0, adv, d1, adv, d2, adv, d3 (adv filtered).
 * PEs 1-6 keep and forward at position 0 and only forward at position 1,
 * so each keeps d0 and d2; PE 7 keeps everything. */
static void toggle_scenario(wse_pe *pe, sw_state *s)
{
    int x = pe_x(pe);
    if (x == 0) {
        pe_route(pe, 2, WSE_RAMP, WSE_E);
        uint32_t adv = pe_control_word(WSE_SWITCH_ADVANCE, 1, 0, 0);
        for (uint32_t k = 0; k < 4; k++) {
            if (k)
                send(s, 2, adv, 1);
            send(s, 2, 10 + k, 0);
        }
        return;
    }
    if (x == pe_width(pe) - 1) {
        pe_route(pe, 2, WSE_W, WSE_RAMP);
        s->expect = 4;
    } else {
        pe_route(pe, 2, WSE_W, WSE_E | WSE_RAMP);
        wse_switch sw = { .tx = { WSE_E, 0, 0 }, .position = 0, .ring = 1 };
        pe_route_switch(pe, 2, &sw);
        s->expect = 2;
    }
    pe_bind_data_task(pe, 2);
}

/* Word j (0..6) leaves PE 0 at 1 + j and reaches PE i's CE at 3 + i + j
 * (PE 7's at 9 + j): d0 is j = 0, d2 is j = 4. */
static void check_toggle(wse_sim *s)
{
    int seen = 0;
    for (int k = 0; k < wse_sim_nlocal(s); k++)
        for (int x = 1; x < 8; x++) {
            sw_state *st = sw_at(wse_sim_local(s, k), x, 0);
            if (!st)
                continue;
            seen++;
            if (x < 7) {
                CU_ASSERT_EQUAL_FATAL(st->n, 2u);
                CU_ASSERT_EQUAL(st->value[0], 10u);
                CU_ASSERT_EQUAL(st->cycle[0], 3u + (uint32_t)x);
                CU_ASSERT_EQUAL(st->value[1], 12u);
                CU_ASSERT_EQUAL(st->cycle[1], 7u + (uint32_t)x);
            } else {
                CU_ASSERT_EQUAL_FATAL(st->n, 4u);
                for (uint32_t d = 0; d < 4; d++) {
                    CU_ASSERT_EQUAL(st->value[d], 10u + d);
                    CU_ASSERT_EQUAL(st->cycle[d], 9u + 2u * d);
                }
            }
        }
    CU_ASSERT_EQUAL(seen, 7);
}

static void test_switch_across_shards(void)
{
    static const int grids[] = { 1, 2, 3, 8 };
    sw_params p = { toggle_scenario };
    wse_topology t = probe_topology(8, 1, 2, 1);
    wse_engine_stats ref;
    memset(&ref, 0, sizeof ref);
    for (size_t g = 0; g < sizeof grids / sizeof grids[0]; g++) {
        wse_grid *grid = harness_local_grid(8, 1, grids[g], 1);
        wse_sim *s = NULL;
        wse_error err;
        wse_error_clear(&err);
        wse_rect region = { 0, 0, 8, 1 };
        CU_ASSERT_EQUAL_FATAL(wse_sim_create(&t, &sw_program, &p, region, grid, MPI_COMM_SELF, &s, &err), 0);
        CU_ASSERT_EQUAL(wse_sim_run(s, 100000, &err), 0);
        check_toggle(s);
        wse_engine_stats st;
        wse_sim_stats(s, &st);
        if (g == 0)
            ref = st;
        else
            harness_same_stats(&ref, &st);
        wse_sim_destroy(s);
        wse_grid_destroy(grid);
    }
}

/* ------------------------------------------------------------ teardown */

/* A row of 3: PE (0,0) sends 10, a teardown (CE filter on), 11 and 12
 * east.  PE (1,0) forwards east at position 0 and keeps for its CE at
 * position 1; its teardown task picks position 1 and resumes.  PE (2,0)
 * takes what reaches it. */
static void teardown_scenario(wse_pe *pe, sw_state *s)
{
    int x = pe_x(pe);
    if (x == 0) {
        pe_route(pe, 0, WSE_RAMP, WSE_E);
        send(s, 0, 10, 0);
        send(s, 0, pe_control_word(WSE_SWITCH_TEARDOWN, 1, 0, 0), 1);
        send(s, 0, 11, 0);
        send(s, 0, 12, 0);
    } else if (x == 1) {
        pe_route(pe, 0, WSE_W, WSE_E);
        wse_switch sw = { .tx = { WSE_RAMP, 0, 0 }, .position = 0 };
        pe_route_switch(pe, 0, &sw);
        pe_route_teardown(pe, 0, T_TEARDOWN);
        pe_bind_local_task(pe, T_TEARDOWN);
        pe_bind_data_task(pe, 0);
        s->expect = 3;                  /* the teardown, 11, 12 */
    } else {
        pe_route(pe, 0, WSE_W, WSE_RAMP);
        pe_bind_data_task(pe, 0);
        s->expect = 1;
    }
}

/* Sent at 1..4 (10, T, 11, 12), routed by PE (0,0) at 2..5, visible at
 * PE (1,0) at 3..6.  PE (1,0) routes 10 east at 3 (PE (2,0)'s task at 4)
 * and the teardown east at 4 (PE (2,0)'s CE queue drops it: CE filter);
 * the color is then torn down and the teardown task runs at 4 (router
 * before CE in a PE's cycle).  It ends at 5 (its switch cycle), so 11,
 * visible since 5, moves to the CE at 5 and its task runs at 6; 12
 * moves at 6 and its task runs at 7. */
static void test_teardown(void)
{
    wse_error err;
    int rc;
    wse_engine *e = sw_run(3, 1, teardown_scenario, &rc, &err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    const sw_state *mid = sw_at(e, 1, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(mid);
    CU_ASSERT_EQUAL_FATAL(mid->n, 3u);
    CU_ASSERT_EQUAL(mid->task[0], (uint32_t)T_TEARDOWN);
    CU_ASSERT_EQUAL(mid->cycle[0], 4u);
    CU_ASSERT_EQUAL(mid->value[1], 11u);
    CU_ASSERT_EQUAL(mid->cycle[1], 6u);
    CU_ASSERT_EQUAL(mid->value[2], 12u);
    CU_ASSERT_EQUAL(mid->cycle[2], 7u);
    logged(e, 2, 0, 10, 4, 0);
    wse_engine_destroy(e);
}

/* The same on 1, 2 and 3 shards (each router's teardown lives in its
 * shard; the wavelets held behind it cross shard edges). */
static void test_teardown_across_shards(void)
{
    sw_params p = { teardown_scenario };
    wse_topology t = probe_topology(3, 1, 2, 1);
    for (int g = 1; g <= 3; g++) {
        wse_grid *grid = harness_local_grid(3, 1, g, 1);
        wse_sim *sim = NULL;
        wse_error err;
        wse_error_clear(&err);
        wse_rect region = { 0, 0, 3, 1 };
        CU_ASSERT_EQUAL_FATAL(wse_sim_create(&t, &sw_program, &p, region, grid, MPI_COMM_SELF, &sim, &err), 0);
        CU_ASSERT_EQUAL(wse_sim_run(sim, 100000, &err), 0);
        int seen = 0;
        for (int k = 0; k < wse_sim_nlocal(sim); k++) {
            const sw_state *mid = sw_at(wse_sim_local(sim, k), 1, 0);
            if (!mid)
                continue;
            seen++;
            CU_ASSERT_EQUAL_FATAL(mid->n, 3u);
            CU_ASSERT(mid->cycle[0] == 4u && mid->cycle[1] == 6u && mid->cycle[2] == 7u);
            CU_ASSERT(mid->value[1] == 11u && mid->value[2] == 12u);
        }
        CU_ASSERT_EQUAL(seen, 1);
        wse_sim_destroy(sim);
        wse_grid_destroy(grid);
    }
}

/* ------------------------------------------------------------ errors */

static int scenario_arg;

static void errors_scenario(wse_pe *pe, sw_state *s)
{
    if (pe_x(pe) != 0) {
        pe_route(pe, 0, WSE_W, WSE_RAMP);
        pe_bind_data_task(pe, 0);
        s->expect = 1;
        return;
    }
    wse_switch sw = { .tx = { WSE_S, 0, 0 }, .position = 2 };
    switch (scenario_arg) {
    case 0:                             /* extras before the route */
        pe_route_switch(pe, 0, &sw);
        break;
    case 1:                             /* a position that does not exist */
        pe_route(pe, 0, WSE_RAMP, WSE_E);
        pe_route_switch(pe, 0, &sw);
        break;
    case 2:                             /* a control wavelet for no control task */
        pe_route(pe, 0, WSE_RAMP, WSE_E);
        send(s, 0, pe_control_word(WSE_SWITCH_NOP, 0, 45, 1), 1);
        break;
    case 3:                             /* teardown with no teardown task */
        pe_route(pe, 0, WSE_RAMP, WSE_E);
        sw.position = 0;
        pe_route_switch(pe, 0, &sw);
        send(s, 0, pe_control_word(WSE_SWITCH_TEARDOWN, 1, 0, 0), 1);
        break;
    default:                            /* a filter range that does not fit */
        pe_route(pe, 0, WSE_RAMP, WSE_E);
        pe_route_filter(pe, 0, 5, 70000);
        break;
    }
}

static void test_errors(void)
{
    static const char *const want[] = {
        "PE (0,0) at cycle 0: pe_route_switch: color 0 has no route yet (call pe_route first)",
        "PE (0,0) at cycle 0: pe_route_switch color 0: position 2 does not exist",
        "PE (1,0) at cycle 3: control wavelet 0x002d0001 on color 0 names task 45, which is not bound as a control task",
        "PE (0,0) at cycle 2: control wavelet 0x03400000: teardown on a color with no teardown task here (pe_route_teardown)",
        "PE (0,0) at cycle 0: pe_route_filter color 0: range 5..70000 is not within 0..65535",
    };
    for (int k = 0; k < 5; k++) {
        scenario_arg = k;
        wse_error err;
        int rc;
        wse_engine *e = sw_run(2, 1, errors_scenario, &rc, &err);
        CU_ASSERT_EQUAL(rc, WSE_EPROGRAM);
        CU_ASSERT_STRING_EQUAL(err.msg, want[k]);
        wse_engine_destroy(e);
    }
}

int test_switch_suite(void)
{
    CU_pSuite s = CU_add_suite("switch", NULL, NULL);
    if (!s || !CU_add_test(s, "switch positions rotate a route (sender-side switch)", test_switch_rotate) ||
        !CU_add_test(s, "control wavelets activate control tasks with data", test_control_tasks) ||
        !CU_add_test(s, "a switch changes the rx port, one cycle later", test_switch_rx) ||
        !CU_add_test(s, "range filters pick what reaches the CE", test_range_filter) ||
        !CU_add_test(s, "color swap flips the color on the way east", test_color_swap) ||
        !CU_add_test(s, "switches across shard edges: same logs on every grid", test_switch_across_shards) ||
        !CU_add_test(s, "teardown stops a color until its task resumes it", test_teardown) ||
        !CU_add_test(s, "teardown across shard edges", test_teardown_across_shards) ||
        !CU_add_test(s, "misuses fail with the PE, cycle and what", test_errors))
        return CU_get_error();
    return 0;
}
