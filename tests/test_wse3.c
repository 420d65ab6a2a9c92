/*
 * tests/test_wse3.c - the WSE-3 semantics `arch: wse3` selects: named
 * queues (pe_init_queue, required for every fabric color on a strict
 * topology), data task ids that are input queue numbers (and their
 * priority), and explicit microthread ids (WSE_UT) that serialise the
 * operations naming one and count against the limit.
 *
 * The topologies are probe_topology's (depth 4, latency 1, task switch 1,
 * fabric startup 0) with an arch's resources; a topology built in code
 * does not set implicit_queues, so on wse3 the hardware's rule applies.
 * Cycles below are a task's start.  A word a PE sends at cycle t is in
 * its router's queue at t, forwarded at t + 1 and visible to the next
 * PE's CE from t + 2 (tests/test_resources.c, synchronous operations).
 */
#include <string.h>
#include <CUnit/CUnit.h>
#include "harness.h"
#include "probe.h"
#include "test_list.h"
#include "wse/config.h"
#include "wse/pe.h"
#include "wse/programs.h"

enum { M_CHAIN = 0, M_ORDER = 1, M_NOQUEUE = 2, M_BIND = 3, M_UT = 4, M_UTLIMIT = 5 };

typedef struct w3_params {
    int64_t mode;      /* M_* */
    int64_t arg;       /* M_NOQUEUE, M_BIND: the case; M_UT: name WSE_UT(2) */
    int64_t named;     /* M_UTLIMIT: sends naming a microthread of their own */
    int64_t extra;     /* M_UTLIMIT: 1 a fabin naming none, 2 naming WSE_UT(2) */
    int64_t use_ut;    /* M_CHAIN: both sends on WSE_UT(2) */
} w3_params;

#define W3_LOG 4
typedef struct w3_state {
    /* the output array "log": n, then per data task run (color, or for
     * M_ORDER the task id; start cycle; payload) */
    uint32_t res[1 + 3 * W3_LOG];
    uint32_t words[8];
    int32_t expect;     /* data task runs or completions before finishing */
    uint8_t cw, ce;     /* M_CHAIN: colors arriving from the west, the east */
} w3_state;

enum { T_GO = WSE_LOCAL_TASK(0), T_DONE = WSE_LOCAL_TASK(1) };

static uint32_t w3_start(const wse_pe *pe)
{
    return (uint32_t)(pe_cycle(pe) - (uint64_t)pe_machine(pe)->task_switch_cycles);
}

static void w3_log(wse_pe *pe, w3_state *s, uint32_t what, uint32_t payload)
{
    uint32_t n = s->res[0];
    if (n < W3_LOG) {
        s->res[1 + 3 * n] = what;
        s->res[2 + 3 * n] = w3_start(pe);
        s->res[3 + 3 * n] = payload;
        s->res[0] = n + 1;
    }
}

static void w3_done(wse_pe *pe, w3_state *s)
{
    if (--s->expect == 0)
        pe_finish(pe);
}

/*
 * M_CHAIN, a row: every PE sends x * 10 + 1 east and x * 10 + 2 west and
 * takes its neighbours' words with data tasks.  Eastward words use color
 * 2 + parity of the sender, westward ones 4 + parity; input queue 3 takes
 * the words from the west, 2 those from the east (so on wse3 the ids do
 * not follow the colors), output queues 2 and 3 send.  A PE with both
 * neighbours blocks its west task in setup and unblocks it from its east
 * task: only pe_data_task_id names the ids.
 */
static void chain_setup(wse_pe *pe, w3_state *s, const w3_params *p)
{
    int x = pe_x(pe), w = pe_has_neighbour(pe, WSE_PORT_W), e = pe_has_neighbour(pe, WSE_PORT_E);
    s->cw = (uint8_t)(2 + ((x - 1) & 1));
    s->ce = (uint8_t)(4 + ((x + 1) & 1));
    if (e) {
        pe_route(pe, 2 + (x & 1), WSE_RAMP, WSE_E);
        pe_init_queue(pe, WSE_OQ(2), 2 + (x & 1));
        pe_route(pe, s->ce, WSE_E, WSE_RAMP);
        pe_init_queue(pe, WSE_IQ(2), s->ce);
        pe_bind_data_task(pe, s->ce);
    }
    if (w) {
        pe_route(pe, 4 + (x & 1), WSE_RAMP, WSE_W);
        pe_init_queue(pe, WSE_OQ(3), 4 + (x & 1));
        pe_route(pe, s->cw, WSE_W, WSE_RAMP);
        pe_init_queue(pe, WSE_IQ(3), s->cw);
        pe_bind_data_task(pe, s->cw);
    }
    if (w && e)
        pe_block(pe, pe_data_task_id(pe, s->cw));
    s->expect = 1 + w + e;
    (void)p;
}

static void chain_task(wse_pe *pe, w3_state *s, const w3_params *p, int task, uint32_t payload)
{
    int x = pe_x(pe);
    unsigned f = WSE_ASYNC | (p->use_ut ? WSE_UT(2) : 0u);
    if (task == T_GO) {
        if (pe_has_neighbour(pe, WSE_PORT_E))
            pe_send(pe, 2 + (x & 1), (uint32_t)(x * 10 + 1), WSE_NO_TASK, f);
        if (pe_has_neighbour(pe, WSE_PORT_W))
            pe_send(pe, 4 + (x & 1), (uint32_t)(x * 10 + 2), WSE_NO_TASK, f);
    } else if (task == pe_data_task_id(pe, s->ce)) {
        w3_log(pe, s, s->ce, payload);
        if (pe_has_neighbour(pe, WSE_PORT_W))
            pe_unblock(pe, pe_data_task_id(pe, s->cw));
    } else if (task == pe_data_task_id(pe, s->cw)) {
        w3_log(pe, s, s->cw, payload);
    } else {
        pe_fail(pe, "task %d is none of this PE's", task);
    }
    w3_done(pe, s);
}

/*
 * M_ORDER, 2 x 1: PE (0,0) sends 100 on color 1 and 500 on color 5 (at
 * cycles 1 and 2, one ramp); PE (1,0) binds input queue 3 to color 1 and
 * 2 to color 5, and its first task keeps the CE busy until 11, by when
 * both words wait (visible from 3 and 4).  The lowest id runs first: on
 * wse3 color 5's task (id 2) at 11, then color 1's (id 3) at 12; on wse2
 * the ids are the colors, so color 1 runs first.
 */
static void order_setup(wse_pe *pe, w3_state *s)
{
    int me = pe_x(pe);
    static const int color[2] = { 1, 5 }, queue[2] = { 3, 2 };
    for (int i = 0; i < 2; i++) {
        pe_route(pe, color[i], me ? WSE_W : WSE_RAMP, me ? WSE_RAMP : WSE_E);
        if (me) {
            pe_init_queue(pe, WSE_IQ(queue[i]), color[i]);
            pe_bind_data_task(pe, color[i]);
        } else {
            pe_init_queue(pe, WSE_OQ(2 + i), color[i]);
        }
    }
    s->expect = me ? 3 : 1;
}

static void order_task(wse_pe *pe, w3_state *s, int task, uint32_t payload)
{
    if (task != T_GO)
        w3_log(pe, s, (uint32_t)task, payload);
    else if (pe_x(pe) == 1)
        pe_charge(pe, 10, 0);
    else {
        pe_send(pe, 1, 100, WSE_NO_TASK, WSE_ASYNC);
        pe_send(pe, 5, 500, WSE_NO_TASK, WSE_ASYNC);
    }
    w3_done(pe, s);
}

/* M_NOQUEUE, 2 x 1: PE (0,0) uses color 1 (to the east) or 2 (from the
 * east) with no queue initialised for it. */
static void noqueue_setup(wse_pe *pe, w3_state *s, const w3_params *p)
{
    int me = pe_x(pe);
    pe_route(pe, 1, me ? WSE_W : WSE_RAMP, me ? WSE_RAMP : WSE_E);
    pe_route(pe, 2, me ? WSE_RAMP : WSE_E, me ? WSE_W : WSE_RAMP);
    if (me == 0 && p->arg == 5)
        pe_bind_data_task(pe, 2);
    s->expect = 1;
}

static void noqueue_task(wse_pe *pe, w3_state *s, const w3_params *p)
{
    if (pe_x(pe) == 0) {
        uint32_t off = pe_offset(s, s->words);
        switch (p->arg) {
        case 0: pe_fabout(pe, 1, s->words, 2, 1, WSE_NO_TASK, WSE_ASYNC); break;
        case 1: pe_send(pe, 1, 7, WSE_NO_TASK, WSE_ASYNC); break;
        case 2: pe_fabin(pe, 2, s->words, 2, 1, WSE_NO_TASK, WSE_ASYNC); break;
        case 3: pe_dmov(pe, pe_mem1d(WSE_U32, off, 2, 1), pe_fabin_dsd(WSE_U32, 2, 2), WSE_NO_TASK, WSE_ASYNC); break;
        case 4: pe_dmov(pe, pe_fabout_dsd(WSE_U32, 1, 2), pe_mem1d(WSE_U32, off, 2, 1), WSE_NO_TASK, WSE_ASYNC); break;
        default: break;
        }
    }
    w3_done(pe, s);
}

/* M_BIND, 1 x 1: pe_init_queue misused. */
static void bind_setup(wse_pe *pe, w3_state *s, const w3_params *p)
{
    switch (p->arg) {
    case 0: pe_init_queue(pe, WSE_IQ(2), 1); pe_init_queue(pe, WSE_IQ(2), 3); break;
    case 1: pe_init_queue(pe, WSE_IQ(2), 1); pe_init_queue(pe, WSE_IQ(3), 1); break;
    case 2: pe_init_queue(pe, WSE_IQ(1), 1); break;
    case 3: pe_init_queue(pe, WSE_OQ(pe_machine(pe)->first_queue + pe_machine(pe)->output_queues), 1); break;
    case 4: pe_init_queue(pe, WSE_OQ(4), 1); pe_init_queue(pe, WSE_OQ(4), 2); break;
    case 5: pe_init_queue(pe, WSE_OQ(4), 1); pe_init_queue(pe, WSE_OQ(5), 1); break;
    default: pe_init_queue(pe, WSE_IQ(2), 1); pe_init_queue(pe, WSE_OQ(2), 1); break;  /* fine */
    }
    s->expect = 1;
}

/*
 * M_UT, 2 x 1: PE (1,0) streams 4 words west on color 2 from cycle 1
 * (visible at PE (0,0) 3..6) and receives 4 on color 1.  PE (0,0) issues
 * at cycle 0 an async fabin of those 4 words and then an async fabout of
 * 4 words east on color 1, both naming WSE_UT(2) with arg.  Named: the
 * fabin completes at 6, the fabout moves 7..10 (its T_DONE runs at 10)
 * and PE (1,0)'s fabin takes them 9..12 (T_DONE at 12).  Unnamed, the two
 * run at once on their own microthreads: the fabout moves 1..4 (T_DONE
 * at 4) and PE (1,0) takes the words 3..6 (T_DONE at 6).
 */
static void ut_setup(wse_pe *pe, w3_state *s)
{
    int me = pe_x(pe);
    pe_route(pe, 1, me ? WSE_W : WSE_RAMP, me ? WSE_RAMP : WSE_E);
    pe_route(pe, 2, me ? WSE_RAMP : WSE_E, me ? WSE_W : WSE_RAMP);
    pe_init_queue(pe, WSE_IQ(2), me ? 1 : 2);
    pe_init_queue(pe, WSE_OQ(2), me ? 2 : 1);
    for (int i = 0; i < 4; i++)
        s->words[i] = (uint32_t)(me * 100 + i);
    s->expect = 2;
}

static void ut_task(wse_pe *pe, w3_state *s, const w3_params *p, int task)
{
    unsigned f = WSE_ASYNC | (p->arg ? WSE_UT(2) : 0u);
    if (task == T_DONE) {
        w3_log(pe, s, (uint32_t)task, 0);
    } else if (pe_x(pe) == 0) {
        pe_fabin(pe, 2, s->words + 4, 4, 1, WSE_NO_TASK, f);
        pe_fabout(pe, 1, s->words, 4, 1, T_DONE, f);
    } else {
        pe_fabout(pe, 2, s->words, 4, 1, WSE_NO_TASK, WSE_ASYNC);
        pe_fabin(pe, 1, s->words + 4, 4, 1, T_DONE, WSE_ASYNC);
    }
    w3_done(pe, s);
}

/*
 * M_UTLIMIT, 2 x 1: PE (0,0) sends one word each on colors 10..15
 * (output queues 2..7), the first `named` of them on WSE_UT(2 + i) and the
 * others on none; then (extra) an async fabin on color 20 naming none or
 * WSE_UT(2), which PE (1,0) feeds.  A program has 6 microthreads: the
 * named ids in use count once each, every queue with an unnamed async op
 * once.  arg 1..3 name a bad microthread on the first send instead.
 */
static void utlimit_setup(wse_pe *pe, w3_state *s, const w3_params *p)
{
    int me = pe_x(pe);
    for (int i = 0; i < 6; i++) {
        pe_route(pe, 10 + i, me ? WSE_W : WSE_RAMP, me ? WSE_RAMP : WSE_E);
        pe_init_queue(pe, me ? WSE_IQ(2 + i) : WSE_OQ(2 + i), 10 + i);
        if (me)
            pe_bind_data_task(pe, 10 + i);
    }
    pe_route(pe, 20, me ? WSE_RAMP : WSE_E, me ? WSE_W : WSE_RAMP);
    pe_init_queue(pe, me ? WSE_OQ(2) : WSE_IQ(2), 20);
    s->expect = me ? 7 : 1 + (p->extra != 0);
}

static void utlimit_task(wse_pe *pe, w3_state *s, const w3_params *p, int task)
{
    static const unsigned bad[4] = { 0, WSE_ASYNC | WSE_UT(1), WSE_ASYNC | WSE_UT(8), WSE_UT(2) };
    if (task == T_GO && pe_x(pe) == 0) {
        for (int i = 0; i < 6; i++) {
            unsigned f = WSE_ASYNC | (i < p->named ? WSE_UT(2 + i) : 0u);
            pe_send(pe, 10 + i, (uint32_t)i, WSE_NO_TASK, i == 0 && p->arg ? bad[p->arg] : f);
        }
        if (p->extra)
            pe_fabin(pe, 20, s->words, 1, 1, T_DONE, WSE_ASYNC | (p->extra == 2 ? WSE_UT(2) : 0u));
    } else if (task == T_GO) {
        pe_send(pe, 20, 9, WSE_NO_TASK, WSE_ASYNC);
    }
    w3_done(pe, s);
}

static int w3_setup(wse_pe *pe, void *state)
{
    const w3_params *p = pe_params(pe);
    w3_state *s = state;
    switch (p->mode) {
    case M_CHAIN: chain_setup(pe, s, p); break;
    case M_ORDER: order_setup(pe, s); break;
    case M_NOQUEUE: noqueue_setup(pe, s, p); break;
    case M_BIND: bind_setup(pe, s, p); break;
    case M_UT: ut_setup(pe, s); break;
    default: utlimit_setup(pe, s, p); break;
    }
    pe_bind_local_task(pe, T_GO);
    pe_bind_local_task(pe, T_DONE);
    pe_activate(pe, T_GO);
    return 0;
}

static void w3_task(wse_pe *pe, void *state, int task, uint32_t payload)
{
    const w3_params *p = pe_params(pe);
    w3_state *s = state;
    switch (p->mode) {
    case M_CHAIN: chain_task(pe, s, p, task, payload); break;
    case M_ORDER: order_task(pe, s, task, payload); break;
    case M_NOQUEUE: noqueue_task(pe, s, p); break;
    case M_BIND: w3_done(pe, s); break;
    case M_UT: ut_task(pe, s, p, task); break;
    default: utlimit_task(pe, s, p, task); break;
    }
}

static int w3_shape(const void *params, int width, int height, int64_t shape[3])
{
    (void)params;
    shape[0] = height;
    shape[1] = width;
    shape[2] = 1 + 3 * W3_LOG;
    return 3;
}

static void w3_block(const wse_pe *pe, const void *state, wse_array_block *b)
{
    const w3_state *s = state;
    b->ptr = (void *)(uintptr_t)s->res;
    b->origin[0] = pe_y(pe);
    b->origin[1] = pe_x(pe);
    b->origin[2] = 0;
    b->extent[0] = b->extent[1] = 1;
    b->extent[2] = 1 + 3 * W3_LOG;
    b->stride[0] = b->stride[1] = 1 + 3 * W3_LOG;
    b->stride[2] = 1;
}

static const wse_array_spec w3_arrays[] = {
    { "log", WSE_U32, 0, 1, "per PE: runs logged, then (color or id, cycle, payload) each", w3_shape, w3_block },
};

static const wse_program w3_program = {
    .api_version = WSE_API_VERSION,
    .name = "wse3",
    .summary = "test: named queues, queue task ids, microthread ids",
    .params_size = sizeof(w3_params),
    .arrays = w3_arrays,
    .n_arrays = 1,
    .device = { .state_size = sizeof(w3_state), .setup = w3_setup, .task = w3_task },
};

/* ------------------------------------------------------------ running */

static wse_topology w3_topology(int arch, int w, int h)
{
    wse_topology t = probe_topology(w, h, 4, 1);
    wse_topology_set_arch(&t, arch);
    return t;
}

/* Run p on a w x h region of arch; *rc the code, err the message. */
static wse_engine *w3_engine(int arch, int w, int h, const w3_params *p, int *rc, wse_error *err)
{
    wse_topology t = w3_topology(arch, w, h);
    wse_engine *e = NULL;
    wse_rect r = { 0, 0, w, h };
    wse_error_clear(err);
    *rc = wse_engine_create(&t, &w3_program, p, r, NULL, &e, err);
    if (*rc == 0)
        *rc = wse_engine_run(e, 100000, err);
    return e;
}

static const w3_state *w3_at(wse_engine *e, int x, int y)
{
    wse_array_block b;
    if (wse_engine_block(e, 0, x, y, &b) != 0)
        return NULL;
    return b.ptr;
}

static void expect_fail(int arch, int w, w3_params p, const char *msg)
{
    wse_error err;
    int rc;
    wse_engine_destroy(w3_engine(arch, w, 1, &p, &rc, &err));
    CU_ASSERT_EQUAL(rc, WSE_EPROGRAM);
    if (!strstr(err.msg, msg))
        fprintf(stderr, "\n  got:  %s\n  want: %s\n", err.msg, msg);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, msg));
}

static void expect_ok(int arch, int w, w3_params p)
{
    wse_error err;
    int rc;
    wse_engine_destroy(w3_engine(arch, w, 1, &p, &rc, &err));
    if (rc)
        fprintf(stderr, "\n  unexpected: %s\n", err.msg);
    CU_ASSERT_EQUAL(rc, 0);
}

#define W3(...) ((w3_params){ __VA_ARGS__ })

/* Log entry i of a PE: (color or id, cycle, payload). */
static void expect_entry(const w3_state *s, int i, uint32_t what, uint32_t cycle, uint32_t payload)
{
    CU_ASSERT_EQUAL(s->res[1 + 3 * i], what);
    CU_ASSERT_EQUAL(s->res[2 + 3 * i], cycle);
    CU_ASSERT_EQUAL(s->res[3 + 3 * i], payload);
}

/* ------------------------------------------------------------ tests */

static void test_queue_task_ids(void)
{
    for (int arch = WSE_ARCH_WSE2; arch <= WSE_ARCH_WSE3; arch++) {
        w3_params p = W3(.mode = M_ORDER);
        wse_error err;
        int rc;
        wse_engine *e = w3_engine(arch, 2, 1, &p, &rc, &err);
        if (rc)
            fprintf(stderr, "\n  unexpected: %s\n", err.msg);
        CU_ASSERT_EQUAL_FATAL(rc, 0);
        const w3_state *s = w3_at(e, 1, 0);
        CU_ASSERT_PTR_NOT_NULL_FATAL(s);
        CU_ASSERT_EQUAL(s->res[0], 2u);
        if (arch == WSE_ARCH_WSE3) {        /* id 2 (color 5) before id 3 (color 1) */
            expect_entry(s, 0, 2, 11, 500);
            expect_entry(s, 1, 3, 12, 100);
        } else {                            /* ids are colors: 1 before 5 */
            expect_entry(s, 0, 1, 11, 100);
            expect_entry(s, 1, 5, 12, 500);
        }
        wse_engine_destroy(e);
    }
}

/* On a strict wse3 topology every fabric color needs its queue; on wse2
 * (and with implicit_queues) a color gets one implicitly. */
static void test_strict_queues(void)
{
    static const char *const msg[6] = {
        "PE (0,0) at cycle 0: pe_fabout: color 1 has no initialised output queue (topology 'probe' is wse3: pe_init_queue(pe, WSE_OQ(k), 1) in setup binds one)",
        "PE (0,0) at cycle 0: pe_send: color 1 has no initialised output queue (topology 'probe' is wse3: pe_init_queue(pe, WSE_OQ(k), 1) in setup binds one)",
        "PE (0,0) at cycle 0: pe_fabin: color 2 has no initialised input queue (topology 'probe' is wse3: pe_init_queue(pe, WSE_IQ(k), 2) in setup binds one)",
        "PE (0,0) at cycle 0: pe_dmov: color 2 has no initialised input queue (topology 'probe' is wse3: pe_init_queue(pe, WSE_IQ(k), 2) in setup binds one)",
        "PE (0,0) at cycle 0: pe_dmov: color 1 has no initialised output queue (topology 'probe' is wse3: pe_init_queue(pe, WSE_OQ(k), 1) in setup binds one)",
        "PE (0,0) at cycle 0: pe_bind_data_task: color 2 has no initialised input queue (topology 'probe' is wse3: pe_init_queue(pe, WSE_IQ(k), 2) in setup binds one)",
    };
    for (int k = 0; k < 6; k++)
        expect_fail(WSE_ARCH_WSE3, 2, W3(.mode = M_NOQUEUE, .arg = k), msg[k]);
    /* implicit queues: the fabout moves, the fabin is fed by nobody
     * (deadlock), so only the sending cases */
    expect_ok(WSE_ARCH_WSE2, 2, W3(.mode = M_NOQUEUE, .arg = 0));
    expect_ok(WSE_ARCH_WSE2, 2, W3(.mode = M_NOQUEUE, .arg = 1));
    wse_topology t = w3_topology(WSE_ARCH_WSE3, 2, 1);
    t.implicit_queues = 1;
    w3_params p = W3(.mode = M_NOQUEUE, .arg = 1);
    wse_engine *e = NULL;
    wse_error err;
    wse_rect r = { 0, 0, 2, 1 };
    CU_ASSERT_EQUAL_FATAL(wse_engine_create(&t, &w3_program, &p, r, NULL, &e, &err), 0);
    CU_ASSERT_EQUAL(wse_engine_run(e, 100000, &err), 0);
    wse_engine_destroy(e);
}

/* pe_init_queue is checked the same way on both: one queue, one color. */
static void test_init_queue_errors(void)
{
    for (int arch = WSE_ARCH_WSE2; arch <= WSE_ARCH_WSE3; arch++) {
        expect_fail(arch, 1, W3(.mode = M_BIND, .arg = 0),
                    "PE (0,0) at cycle 0: pe_init_queue: WSE_IQ(2) is already bound to color 1 (one queue, one color)");
        expect_fail(arch, 1, W3(.mode = M_BIND, .arg = 1),
                    "pe_init_queue: color 1 already has input queue WSE_IQ(2) (a color has at most one input and one output queue at a PE)");
        expect_fail(arch, 1, W3(.mode = M_BIND, .arg = 2),
                    "pe_init_queue: WSE_IQ(1) is kept by host I/O on topology 'probe' (queues 0..1); a program has WSE_IQ(2..7)");
        expect_fail(arch, 1, W3(.mode = M_BIND, .arg = 4),
                    "pe_init_queue: WSE_OQ(4) is already bound to color 1 (one queue, one color)");
        expect_fail(arch, 1, W3(.mode = M_BIND, .arg = 5),
                    "pe_init_queue: color 1 already has output queue WSE_OQ(4)");
        expect_ok(arch, 1, W3(.mode = M_BIND, .arg = 6));   /* one each way */
    }
    /* wse2 has output queues 0..5, wse3 0..7 */
    expect_fail(WSE_ARCH_WSE2, 1, W3(.mode = M_BIND, .arg = 3),
                "pe_init_queue: WSE_OQ(6) is not a queue of topology 'probe' (it has WSE_OQ(0..5))");
    expect_fail(WSE_ARCH_WSE3, 1, W3(.mode = M_BIND, .arg = 3),
                "pe_init_queue: WSE_OQ(8) is not a queue of topology 'probe' (it has WSE_OQ(0..7))");
}

static void ut_cycles(int arch, int named, uint32_t done0, uint32_t done1)
{
    w3_params p = W3(.mode = M_UT, .arg = named);
    wse_error err;
    int rc;
    wse_engine *e = w3_engine(arch, 2, 1, &p, &rc, &err);
    if (rc)
        fprintf(stderr, "\n  unexpected: %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    const w3_state *s0 = w3_at(e, 0, 0), *s1 = w3_at(e, 1, 0);
    CU_ASSERT_EQUAL(s0->res[0], 1u);
    CU_ASSERT_EQUAL(s1->res[0], 1u);
    CU_ASSERT_EQUAL(s0->res[2], done0);
    CU_ASSERT_EQUAL(s1->res[2], done1);
    for (int i = 0; i < 4; i++) {           /* the words crossed */
        CU_ASSERT_EQUAL(s0->words[4 + i], (uint32_t)(100 + i));
        CU_ASSERT_EQUAL(s1->words[4 + i], (uint32_t)i);
    }
    wse_engine_destroy(e);
}

/* Operations naming one microthread run one after another. */
static void test_ut_serialises(void)
{
    ut_cycles(WSE_ARCH_WSE3, 1, 10, 12);
    ut_cycles(WSE_ARCH_WSE3, 0, 4, 6);
    ut_cycles(WSE_ARCH_WSE2, 0, 4, 6);
}

/* Named microthreads count once per id, unnamed async ops once per queue:
 * 6 of each is the limit, a 7th fails at the call. */
static void test_ut_limit(void)
{
    const char *seven_named = "PE (0,0) at cycle 0: pe_fabin: needs 7 microthreads (WSE_UT ids, and queues with other WSE_ASYNC operations, in progress) at once; topology 'probe' leaves a program 6 (it has 8, host I/O keeps 2)";
    expect_ok(WSE_ARCH_WSE3, 2, W3(.mode = M_UTLIMIT, .named = 6));
    expect_ok(WSE_ARCH_WSE3, 2, W3(.mode = M_UTLIMIT, .named = 6, .extra = 2));   /* WSE_UT(2) again */
    expect_fail(WSE_ARCH_WSE3, 2, W3(.mode = M_UTLIMIT, .named = 6, .extra = 1), seven_named);
    expect_ok(WSE_ARCH_WSE3, 2, W3(.mode = M_UTLIMIT, .named = 5));
    expect_fail(WSE_ARCH_WSE3, 2, W3(.mode = M_UTLIMIT, .named = 5, .extra = 1), seven_named);
    expect_ok(WSE_ARCH_WSE3, 2, W3(.mode = M_UTLIMIT, .named = 5, .extra = 2));
    expect_fail(WSE_ARCH_WSE3, 2, W3(.mode = M_UTLIMIT, .named = 0, .extra = 1),
                "pe_fabin: needs 7 microthreads (queues with WSE_ASYNC operations in progress) at once");
    /* the ids a program may name */
    expect_fail(WSE_ARCH_WSE3, 2, W3(.mode = M_UTLIMIT, .arg = 1),
                "PE (0,0) at cycle 0: pe_send: WSE_UT(1) is kept by host I/O on topology 'probe' (microthreads 0..1); a program has WSE_UT(2..7)");
    expect_fail(WSE_ARCH_WSE3, 2, W3(.mode = M_UTLIMIT, .arg = 2),
                "pe_send: WSE_UT(8) is not a microthread id on topology 'probe' (a program has WSE_UT(2..7))");
    expect_fail(WSE_ARCH_WSE3, 2, W3(.mode = M_UTLIMIT, .arg = 3),
                "pe_send: WSE_UT(2) names the microthread of an asynchronous operation: add WSE_ASYNC");
    expect_fail(WSE_ARCH_WSE2, 2, W3(.mode = M_UT, .arg = 1),
                "PE (0,0) at cycle 0: pe_fabin: WSE_UT(2): explicit microthread ids are wse3's; on topology 'probe' (wse2) an asynchronous operation's microthread is its queue's");
}

/*
 * One source on both: the chain's data tasks are named only through
 * pe_data_task_id, so wse2 (ids = colors) and wse3 (ids = queues) give
 * the same log, cycles and digest.  PE 1 of 3: the east word (22 from
 * PE 2, whose only send leaves at 1) runs at 3 and unblocks the west one
 * (1 from PE 0, sent at 1, visible since 3 too), which runs at 4; PE 1's
 * own west word leaves after its east one, at 2, and runs at PE 0 at 4.
 */
static void test_one_source(void)
{
    w3_params p = W3(.mode = M_CHAIN);
    harness_outcome o[2];
    for (int arch = WSE_ARCH_WSE2; arch <= WSE_ARCH_WSE3; arch++) {
        wse_topology t = w3_topology(arch, 3, 1);
        o[arch] = harness_run(&w3_program, &p, &t, 3, 1, 1, 1, 0, 0);
        if (o[arch].rc)
            fprintf(stderr, "\n  unexpected: %s\n", o[arch].msg);
        CU_ASSERT_EQUAL(o[arch].rc, 0);
    }
    harness_same(&o[0], &o[1]);
    wse_error err;
    int rc;
    wse_engine *e = w3_engine(WSE_ARCH_WSE3, 3, 1, &p, &rc, &err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    const w3_state *s = w3_at(e, 1, 0);
    CU_ASSERT_EQUAL(s->res[0], 2u);
    expect_entry(s, 0, 4, 3, 22);           /* color 4 + parity of PE 2 */
    expect_entry(s, 1, 2, 4, 1);            /* color 2 + parity of PE 0 */
    s = w3_at(e, 0, 0);
    CU_ASSERT_EQUAL(s->res[0], 1u);
    expect_entry(s, 0, 5, 4, 12);           /* PE 1's west word, sent at 2 */
    wse_engine_destroy(e);
}

/* A wse3 program (queue ids, blocked data tasks, named microthreads) cut
 * into 1, 2 and 3 shards gives the same outcome. */
static void test_wse3_shards(void)
{
    w3_params p = W3(.mode = M_CHAIN, .use_ut = 1);
    const int w = 7, h = 1;
    wse_topology t = w3_topology(WSE_ARCH_WSE3, w, h);
    harness_outcome ref = harness_run(&w3_program, &p, &t, w, h, 1, 1, 0, 0);
    CU_ASSERT_EQUAL_FATAL(ref.rc, 0);
    CU_ASSERT(ref.st.tasks_run > 0);
    for (int gx = 2; gx <= 3; gx++) {
        harness_outcome o = harness_run(&w3_program, &p, &t, w, h, gx, 1, 0, 0);
        CU_ASSERT_EQUAL(o.rc, 0);
        harness_same(&ref, &o);
    }
}

/* stencil7 and heat2d name every queue they use, so they run on a strict
 * wse3 topology, bitwise as on wse2 (same costs; they have no data
 * tasks), cut into shards or not. */
static void test_stencil7_strict(void)
{
    typedef struct { int64_t nz, steps; double alpha; } s7p;
    s7p p = { 5, 3, 0.1 };
    const wse_program *s7 = wse_program_find("stencil7");
    CU_ASSERT_PTR_NOT_NULL_FATAL(s7);
    wse_topology t2 = w3_topology(WSE_ARCH_WSE2, 5, 4), t3 = w3_topology(WSE_ARCH_WSE3, 5, 4);
    harness_outcome a = harness_run(s7, &p, &t2, 5, 4, 1, 1, 0, 1);
    harness_outcome b = harness_run(s7, &p, &t3, 5, 4, 1, 1, 0, 1);
    harness_outcome c = harness_run(s7, &p, &t3, 5, 4, 2, 2, 0, 1);
    CU_ASSERT_EQUAL(a.rc, 0);
    harness_same(&a, &b);
    harness_same(&a, &c);
    typedef struct { int64_t tile_w, tile_h, steps; double alpha; } heatp;
    heatp hp = { 2, 2, 1, 0.1 };
    const wse_program *heat = wse_program_find("heat2d");
    CU_ASSERT_PTR_NOT_NULL_FATAL(heat);
    harness_outcome h2 = harness_run(heat, &hp, &t2, 5, 4, 1, 1, 0, 1);
    harness_outcome h3 = harness_run(heat, &hp, &t3, 5, 4, 2, 2, 0, 1);
    CU_ASSERT_EQUAL(h2.rc, 0);
    CU_ASSERT(h2.st.cycles > 0);
    harness_same(&h2, &h3);
}

/* cg binds its halo and reduction colors to queues (its data tasks then
 * have queue ids on wse3, ranked as their colors on wse2), bandwidth its
 * streams' and READY tokens': both run on strict wse3 exactly as on wse2,
 * on regions with and without a column 0 of their own, in shards or not. */
static void test_cg_bandwidth_strict(void)
{
    typedef struct { int64_t nz, iters; } cgp;
    typedef struct { int64_t n, hops, dirs; } bwp;
    const wse_program *cg = wse_program_find("cg"), *bw = wse_program_find("bandwidth");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(bw);
    const int sizes[4][2] = { { 5, 4 }, { 1, 3 }, { 4, 1 }, { 2, 2 } };
    for (int i = 0; i < 4; i++) {
        int w = sizes[i][0], h = sizes[i][1];
        wse_topology t2 = w3_topology(WSE_ARCH_WSE2, w, h), t3 = w3_topology(WSE_ARCH_WSE3, w, h);
        CU_ASSERT_FALSE(t3.implicit_queues);
        cgp p = { 3, 4 };
        harness_outcome a = harness_run(cg, &p, &t2, w, h, 1, 1, 0, 1);
        harness_outcome b = harness_run(cg, &p, &t3, w, h, 1, 1, 0, 1);
        harness_outcome c = harness_run(cg, &p, &t3, w, h, w > 1 ? 2 : 1, h > 1 ? 2 : 1, 0, 1);
        CU_ASSERT_EQUAL(a.rc, 0);
        CU_ASSERT(a.st.tasks_run > 0);
        harness_same(&a, &b);
        harness_same(&a, &c);
    }
    const bwp bp[3] = { { 16, 1, 1 }, { 16, 2, 1 }, { 16, 1, 4 } };
    for (int i = 0; i < 3; i++) {
        wse_topology t2 = w3_topology(WSE_ARCH_WSE2, 5, 4), t3 = w3_topology(WSE_ARCH_WSE3, 5, 4);
        harness_outcome a = harness_run(bw, &bp[i], &t2, 5, 4, 1, 1, 0, 1);
        harness_outcome b = harness_run(bw, &bp[i], &t3, 5, 4, 2, 2, 0, 1);
        CU_ASSERT_EQUAL(a.rc, 0);
        harness_same(&a, &b);
    }
}

int test_wse3_suite(void)
{
    CU_pSuite s = CU_add_suite("wse3", NULL, NULL);
    if (!s ||
        !CU_add_test(s, "data tasks have queue ids and rank by them", test_queue_task_ids) ||
        !CU_add_test(s, "strict queues: every fabric color needs one", test_strict_queues) ||
        !CU_add_test(s, "pe_init_queue misuse", test_init_queue_errors) ||
        !CU_add_test(s, "a named microthread serialises its ops", test_ut_serialises) ||
        !CU_add_test(s, "named microthreads count against the limit", test_ut_limit) ||
        !CU_add_test(s, "one source on wse2 and wse3", test_one_source) ||
        !CU_add_test(s, "shard edges", test_wse3_shards) ||
        !CU_add_test(s, "stencil7 and heat2d on strict wse3", test_stencil7_strict) ||
        !CU_add_test(s, "cg and bandwidth on strict wse3", test_cg_bandwidth_strict))
        return -1;
    return 0;
}
