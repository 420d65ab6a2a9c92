/*
 * tests/test_resources.c - the hardware resources of a PE (topology
 * section `resources`): input and output queues, microthreads, local task
 * ids, and what host I/O keeps.  Each limit is reached exactly (the run
 * succeeds) and then exceeded by one (the run fails naming the PE, the
 * resource and the limit).
 *
 * A 2x1 region: PE (0,0) issues `n` operations of one kind at the start,
 * one per color, toward PE (1,0), which receives them; on the probe
 * topology (wse2 resources) a program has 6 input queues, 4 output queues,
 * 6 microthreads and local task ids 0..26.
 */
#include <stddef.h>
#include <string.h>
#include <CUnit/CUnit.h>
#include "harness.h"
#include "probe.h"
#include "test_list.h"
#include "wse/config.h"
#include "wse/pe.h"

enum { K_FABOUT = 0, K_FABIN = 1, K_SEND_SYNC = 2, K_PAIR = 3 };

typedef struct rs_params {
    int kind;          /* what PE (0,0) issues: K_* */
    int n;             /* how many, each on its own color */
    int same_color;    /* all on color 0 instead */
    int dsd;           /* K_FABIN: receive with descriptor ops (pe_dmov from a fabin) */
    int data_tasks;    /* data tasks PE (1,0) binds (colors 10..) */
    int local_task;    /* 1 + a local task id to bind on PE (0,0), or 0 */
    int color;         /* 1 + a color PE (0,0) routes, or 0 */
} rs_params;

typedef struct rs_state {
    uint32_t word[8];
    int32_t done;
    int32_t next;      /* K_FABIN: the sender's next color */
    uint64_t when;     /* K_PAIR: the cycle PE (1,0)'s fabin completed */
} rs_state;

enum { T_GO = WSE_LOCAL_TASK(0), T_DONE = WSE_LOCAL_TASK(1) };

static int rs_color(const rs_params *p, int i) { return p->same_color ? 0 : i; }

/* K_PAIR: PE (0,0) issues a synchronous fabin on color 0 and then a
 * synchronous send on color 1; PE (1,0) sends on color 0 only at cycle 11
 * and receives on color 1. */
static void pair_setup(wse_pe *pe)
{
    int me = pe_x(pe);
    pe_route(pe, 0, me ? WSE_RAMP : WSE_E, me ? WSE_W : WSE_RAMP);
    pe_route(pe, 1, me ? WSE_W : WSE_RAMP, me ? WSE_RAMP : WSE_E);
}

static void pair_task(wse_pe *pe, rs_state *s, int task)
{
    if (task == T_DONE) {
        if (pe_x(pe) == 1 && s->done == 1)
            s->when = pe_cycle(pe) - 1;       /* the task's start, less its switch */
        if (++s->done == 2 - (pe_x(pe) == 0))
            pe_finish(pe);
    } else if (pe_x(pe) == 0) {            /* the CE waits for both */
        pe_fabin(pe, 0, &s->word[0], 1, 1, WSE_NO_TASK, 0);
        pe_send(pe, 1, 7, T_DONE, 0);
    } else {
        pe_charge(pe, 10, 0);
        pe_send(pe, 0, 5, T_DONE, WSE_ASYNC);
        pe_fabin(pe, 1, &s->word[0], 1, 1, T_DONE, WSE_ASYNC);
    }
}

static int rs_setup(wse_pe *pe, void *state)
{
    const rs_params *p = pe_params(pe);
    (void)state;
    int me = pe_x(pe);
    if (p->kind == K_PAIR)
        pair_setup(pe);
    for (int i = 0; i < (p->same_color ? 1 : p->n); i++) {
        int c = rs_color(p, i);
        if (p->kind == K_FABIN)   /* PE (1,0) sends, PE (0,0) receives */
            pe_route(pe, c, me == 1 ? WSE_RAMP : WSE_E, me == 1 ? WSE_W : WSE_RAMP);
        else
            pe_route(pe, c, me == 0 ? WSE_RAMP : WSE_W, me == 0 ? WSE_E : WSE_RAMP);
    }
    for (int i = 0; i < p->data_tasks && me == 1; i++)
        pe_bind_data_task(pe, 10 + i);
    if (me == 0 && p->local_task)
        pe_bind_local_task(pe, p->local_task - 1);
    if (me == 0 && p->color)
        pe_route(pe, p->color - 1, WSE_RAMP, WSE_E);
    pe_bind_local_task(pe, T_GO);
    pe_bind_local_task(pe, T_DONE);
    pe_activate(pe, T_GO);
    return 0;
}

static void rs_task(wse_pe *pe, void *state, int task, uint32_t payload)
{
    (void)payload;
    const rs_params *p = pe_params(pe);
    rs_state *s = state;
    int me = pe_x(pe), sender = p->kind == K_FABIN ? 1 : 0;
    if (p->kind == K_PAIR) {
        pair_task(pe, s, task);
        return;
    }
    if (p->kind == K_FABIN && me == sender) {   /* one color after another */
        if (task == T_DONE)
            s->done++;
        if (s->next < p->n)
            pe_send(pe, rs_color(p, s->next++), 0, T_DONE, WSE_ASYNC);
        if (s->done == p->n)
            pe_finish(pe);
        return;
    }
    if (task == T_DONE) {
        if (++s->done == p->n || (p->kind == K_SEND_SYNC && me == sender))
            pe_finish(pe);
        return;
    }
    if (p->n == 0) {
        pe_finish(pe);
        return;
    }
    for (int i = 0; i < p->n; i++) {
        int c = rs_color(p, i);
        if (me == sender && p->kind == K_SEND_SYNC)   /* the CE waits for the last */
            pe_send(pe, c, (uint32_t)i, i == p->n - 1 ? T_DONE : WSE_NO_TASK, 0);
        else if (me == sender)
            pe_send(pe, c, (uint32_t)i, T_DONE, WSE_ASYNC);
        else if (p->dsd)
            pe_dmov(pe, pe_mem1d(WSE_U32, pe_offset(s, &s->word[i]), 1, 1),
                    pe_fabin_dsd(WSE_U32, c, 1), T_DONE, WSE_ASYNC);
        else
            pe_fabin(pe, c, &s->word[i], 1, 1, T_DONE, WSE_ASYNC);
    }
}

static const wse_array_spec rs_arrays[] = {
    { "state", WSE_U32, 0, 1, "the PE's state", harness_pe_shape, harness_pe_state_block },
};

static const wse_program rs_program = {
    .api_version = WSE_API_VERSION,
    .name = "resources",
    .summary = "test: queues, microthreads, task ids",
    .params_size = sizeof(rs_params),
    .arrays = rs_arrays,
    .n_arrays = 1,
    .device = { .state_size = sizeof(rs_state), .setup = rs_setup, .task = rs_task },
};

/* The 2x1 probe topology with arch's resources. */
static wse_topology rs_topology(int arch)
{
    wse_topology t = probe_topology(2, 1, 2, 1);
    wse_topology_set_arch(&t, arch);
    t.implicit_queues = 1;      /* counts implicit queues; tests/test_wse3.c the rest */
    return t;
}

/* Run p on t's 2x1 region: the engine (NULL if it could not be created),
 * *rc the code, err the message. */
static wse_engine *rs_engine(const wse_topology *t, const rs_params *p, int *rc, wse_error *err)
{
    wse_engine *e = NULL;
    wse_rect r = { 0, 0, 2, 1 };
    wse_error_clear(err);
    *rc = wse_engine_create(t, &rs_program, p, r, NULL, &e, err);
    if (*rc == 0)
        *rc = wse_engine_run(e, 100000, err);
    return e;
}

/* Run p on a 2x1 probe region; returns the code, err gets the message. */
static int rs_run(const rs_params *p, int arch, wse_error *err)
{
    wse_topology t = rs_topology(arch);
    int rc;
    wse_engine_destroy(rs_engine(&t, p, &rc, err));
    return rc;
}

#define RS(...) ((rs_params){ __VA_ARGS__ })

static void expect_fail(rs_params p, int arch, const char *msg)
{
    wse_error err;
    CU_ASSERT_EQUAL(rs_run(&p, arch, &err), WSE_EPROGRAM);
    if (!strstr(err.msg, msg))
        fprintf(stderr, "\n  got:  %s\n  want: %s\n", err.msg, msg);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, msg));
}

static void expect_ok(rs_params p, int arch)
{
    wse_error err;
    int rc = rs_run(&p, arch, &err);
    if (rc)
        fprintf(stderr, "\n  unexpected: %s\n", err.msg);
    CU_ASSERT_EQUAL(rc, 0);
}

/* 4 output queues: 4 sends on 4 colors fit, a 5th color does not; 5
 * sends on one color share its queue (they run one after another). */
static void test_output_queues(void)
{
    expect_ok(RS(.kind = K_SEND_SYNC, .n = 4), WSE_ARCH_WSE2);
    expect_fail(RS(.kind = K_SEND_SYNC, .n = 5), WSE_ARCH_WSE2,
                "PE (0,0) at cycle 0: pe_send: needs 5 output queues (colors of fabouts and sends in progress) at once; topology 'probe' leaves a program 4 (it has 6, host I/O keeps 2)");
    expect_ok(RS(.kind = K_SEND_SYNC, .n = 5, .same_color = 1), WSE_ARCH_WSE2);
    /* wse3 has 8 output queues: 6 leave for the program */
    expect_ok(RS(.kind = K_SEND_SYNC, .n = 5), WSE_ARCH_WSE3);
}

/* 6 input queues: 6 fabins on 6 colors fit, 7 do not; a data task holds
 * one for the whole run. */
static void test_input_queues(void)
{
    expect_ok(RS(.kind = K_FABIN, .n = 6), WSE_ARCH_WSE2);
    expect_fail(RS(.kind = K_FABIN, .n = 7), WSE_ARCH_WSE2,
                "PE (0,0) at cycle 0: pe_fabin: needs 7 input queues (colors of data tasks and fabins in progress) at once; topology 'probe' leaves a program 6 (it has 8, host I/O keeps 2)");
    /* descriptor ops with a fabin operand hold input queues alike */
    expect_ok(RS(.kind = K_FABIN, .n = 6, .dsd = 1), WSE_ARCH_WSE2);
    expect_fail(RS(.kind = K_FABIN, .n = 7, .dsd = 1), WSE_ARCH_WSE2,
                "PE (0,0) at cycle 0: pe_dmov: needs 7 input queues (colors of data tasks and fabins in progress) at once");
    expect_ok(RS(.kind = K_FABOUT, .n = 0, .data_tasks = 6), WSE_ARCH_WSE2);
    expect_fail(RS(.kind = K_FABOUT, .n = 0, .data_tasks = 7), WSE_ARCH_WSE2,
                "PE (1,0) at cycle 0: pe_bind_data_task: needs 7 input queues (one per data task) at once; topology 'probe' leaves a program 6");
}

/* 6 microthreads: asynchronous sends on 4 colors use 4; on wse3, with 6
 * output queues for the program, a 6th color still fits and there is no
 * 7th output queue to test the microthreads with, so fabins do it. */
static void test_microthreads(void)
{
    expect_ok(RS(.kind = K_FABOUT, .n = 4), WSE_ARCH_WSE2);
    expect_ok(RS(.kind = K_FABOUT, .n = 6), WSE_ARCH_WSE3);
    /* 6 fabins take 6 microthreads: fine; the 7th input queue fails first */
    expect_ok(RS(.kind = K_FABIN, .n = 6), WSE_ARCH_WSE3);
    rs_params p = RS(.kind = K_FABIN, .n = 7);
    wse_topology t = rs_topology(WSE_ARCH_WSE3);
    t.input_queues = 10;                   /* room for 8 program queues */
    wse_error err;
    int rc;
    wse_engine *e = rs_engine(&t, &p, &rc, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);       /* created: the run fails */
    CU_ASSERT_EQUAL(rc, WSE_EPROGRAM);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "pe_fabin: needs 7 microthreads (queues with WSE_ASYNC operations in progress) at once; topology 'probe' leaves a program 6 (it has 8, host I/O keeps 2)"));
    wse_engine_destroy(e);
}

/* Local task ids: wse2 leaves 0..26 (27..30 are host I/O's), wse3 8..26. */
static void test_task_ids(void)
{
    expect_ok(RS(.kind = K_FABOUT, .n = 1, .local_task = 1 + 0), WSE_ARCH_WSE2);
    expect_ok(RS(.kind = K_FABOUT, .n = 1, .local_task = 1 + 26), WSE_ARCH_WSE3);
    expect_fail(RS(.kind = K_FABOUT, .n = 1, .local_task = 1 + 27), WSE_ARCH_WSE2,
                "PE (0,0) at cycle 0: pe_bind_local_task: task id 27 is not a local task id on topology 'probe' (a program has 0..26; 27..30 are host I/O's)");
    expect_fail(RS(.kind = K_FABOUT, .n = 1, .local_task = 1 + 3), WSE_ARCH_WSE3,
                "pe_bind_local_task: task id 3 is not a local task id on topology 'probe' (a program has 8..26; 27..30 are host I/O's)");
    /* colors 21..23 are host I/O's */
    expect_ok(RS(.kind = K_FABOUT, .n = 1, .color = 1 + 20), WSE_ARCH_WSE2);
    expect_fail(RS(.kind = K_FABOUT, .n = 1, .color = 1 + 21), WSE_ARCH_WSE2,
                "pe_route: color 21 is kept by host I/O on topology 'probe' (colors 21..23); a program has colors 0..20");
}

/*
 * Synchronous operations run on the CE's main thread, one after another.
 * PE (1,0)'s send starts at 11 (1 switch + 10 charged): in its router
 * queue at 11, routed west at 12, taken by PE (0,0)'s fabin at 13.  Only
 * then may PE (0,0)'s send start: at 14, routed east at 15, taken by PE
 * (1,0)'s fabin at 16, whose completion task runs at 16.  (Were both
 * synchronous ops to run at once, the send would leave at 1 and PE
 * (1,0)'s fabin, started at 11, would take it at 11.)
 */
static void test_sync_ops_in_turn(void)
{
    rs_params p = RS(.kind = K_PAIR);
    wse_topology t = rs_topology(WSE_ARCH_WSE2);
    wse_error err;
    int rc;
    wse_engine *e = rs_engine(&t, &p, &rc, &err);
    if (rc)
        fprintf(stderr, "\n  unexpected: %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    wse_array_block b;
    CU_ASSERT_EQUAL_FATAL(wse_engine_block(e, 0, 1, 0, &b), 0);
    const rs_state *s = b.ptr;
    CU_ASSERT_EQUAL(s->word[0], 7u);
    CU_ASSERT_EQUAL(s->when, 16u);
    wse_engine_destroy(e);
}

/* Topology files: arch defaults, overrides, and rules between keys. */
static void test_resource_topologies(void)
{
    wse_topology t;
    wse_error err;
    CU_ASSERT_EQUAL_FATAL(wse_topology_load(WSE_SOURCE_DIR "/topologies/wse3.yaml", &t, &err), 0);
    CU_ASSERT_EQUAL(t.arch, WSE_ARCH_WSE3);
    CU_ASSERT(t.output_queues == 8 && t.local_task_min == 8 && t.host_io_first_task == 27);
    CU_ASSERT_EQUAL_FATAL(wse_topology_load(WSE_SOURCE_DIR "/topologies/8x8.yaml", &t, &err), 0);
    CU_ASSERT(t.arch == WSE_ARCH_WSE2 && t.input_queues == 8 && t.output_queues == 6 &&
              t.microthreads == 8 && t.host_io_first_color == 21 && t.local_task_max == 30);
    CU_ASSERT_EQUAL(wse_topology_load(WSE_SOURCE_DIR "/topologies/invalid/resources_no_queue.yaml", &t, &err),
                    WSE_ECONFIG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "resources.host_io_queues = 6 leaves the program no input or output queue (8 in, 6 out)"));
    wse_error_clear(&err);
    CU_ASSERT_EQUAL(wse_topology_load(WSE_SOURCE_DIR "/topologies/invalid/bad_arch.yaml", &t, &err), WSE_ECONFIG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "invalid value 'wse4' for arch"));
}

int test_resources_suite(void)
{
    CU_pSuite s = CU_add_suite("resources", NULL, NULL);
    if (!s ||
        !CU_add_test(s, "output queues", test_output_queues) ||
        !CU_add_test(s, "input queues and data tasks", test_input_queues) ||
        !CU_add_test(s, "microthreads", test_microthreads) ||
        !CU_add_test(s, "task ids and host I/O colors", test_task_ids) ||
        !CU_add_test(s, "synchronous operations run in turn", test_sync_ops_in_turn) ||
        !CU_add_test(s, "resources in topology files", test_resource_topologies))
        return -1;
    return 0;
}
