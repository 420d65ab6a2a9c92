/*
 * tests/probe.c - the probe program: every task logs (cycle, value) and
 * counts down `remaining`; at zero the PE finishes.  Scenarios configure
 * routes and roles per PE, so engine tests read like timing diagrams.
 */
#include <stddef.h>
#include <string.h>
#include "wse/pe.h"
#include "probe.h"
#include "wse/config.h"

#define PROBE_SWITCH 1   /* task_switch_cycles of probe_topology */

typedef struct probe_pe {
    probe_state s;
    int32_t remaining;
} probe_pe;

void probe_log(wse_pe *pe, probe_state *s, uint32_t value)
{
    if (s->log_n < PROBE_MAX_LOG) {
        s->log_cycle[s->log_n] = pe_cycle(pe) - PROBE_SWITCH;
        s->log_value[s->log_n] = value;
        s->log_n++;
    }
}

void probe_bind_data(wse_pe *pe, probe_state *s, int color)
{
    pe_bind_data_task(pe, color);
    s->data_colors |= 1u << color;
}

void probe_source(wse_pe *pe, probe_state *s, int color, unsigned tx, int n, uint32_t base)
{
    pe_route(pe, color, WSE_RAMP, tx);
    s->send_color = color;
    s->send_n = n;
    for (int i = 0; i < n && i < PROBE_MAX_LOG; i++)
        s->out_words[i] = base + (uint32_t)i;
    pe_bind_local_task(pe, PROBE_T_START);
    pe_bind_local_task(pe, PROBE_T_DONE);
    s->flags = WSE_ASYNC;
    pe_activate(pe, PROBE_T_START);
}

void probe_sink(wse_pe *pe, probe_state *s, int color, unsigned rx, int n, int charge)
{
    pe_route(pe, color, rx, WSE_RAMP);
    probe_bind_data(pe, s, color);
    s->expect += (uint32_t)n;
    s->charge = (uint32_t)charge;
}

static int probe_setup(wse_pe *pe, void *state)
{
    probe_pe *st = state;
    const probe_params *p = pe_params(pe);
    st->s.second_task = 0;
    p->scenario(pe, &st->s, p);
    /* remaining: every expected wavelet, the send's completion, the start
     * task and the second task, each counted once */
    st->remaining = (int32_t)st->s.expect + (st->s.send_n > 0 ? 2 : 0) +
                    (st->s.second_task ? 1 : 0);
    if (st->remaining == 0)
        pe_finish(pe);
    return 0;
}

static void probe_task(wse_pe *pe, void *state, int task, uint32_t payload)
{
    probe_pe *st = state;
    probe_state *s = &st->s;
    s->task_x = pe_x(pe);
    s->task_y = pe_y(pe);
    if (task < 32 && ((s->data_colors >> task) & 1)) {
        probe_log(pe, s, payload);
        if (s->charge)
            pe_charge(pe, s->charge, 0);
    } else if (task == PROBE_T_START) {
        probe_log(pe, s, (uint32_t)task);
        if (s->send_n > 0)
            pe_fabout(pe, s->send_color, s->out_words, s->send_n, 1, PROBE_T_DONE, s->flags);
        if (s->second_task)
            pe_activate(pe, PROBE_T_SECOND);
        if (s->fabin_color)
            pe_fabin(pe, s->fabin_color - 1, s->in_words, 4, 1, WSE_NO_TASK, WSE_ASYNC);
    } else {
        probe_log(pe, s, (uint32_t)task);
    }
    if (s->scribble)    /* a bug on purpose: one byte past the PE's allocations */
        ((uint8_t *)st)[(sizeof *st + 15) & ~(size_t)15] ^= 1;
    if (s->unblock_by == task + 1)
        pe_unblock(pe, s->unblock_target - 1);
    if (s->vec_task == task + 1)
        pe_vadd_f32(pe, s->vec, s->vec, s->vec, s->vec_n);
    if (--st->remaining == 0)
        pe_finish(pe);
}

static int probe_shape(const void *params, int width, int height, int64_t shape[3])
{
    (void)params;
    shape[0] = height;
    shape[1] = width;
    return 2;
}

static void probe_block(const wse_pe *pe, const void *state, wse_array_block *b)
{
    const probe_pe *st = state;
    b->ptr = (void *)&st->s.log_n;
    b->origin[0] = pe_y(pe);
    b->origin[1] = pe_x(pe);
    b->extent[0] = b->extent[1] = b->extent[2] = 1;
    b->stride[0] = b->stride[1] = b->stride[2] = 1;
}

static const wse_array_spec probe_arrays[] = {
    { "log_n", WSE_U32, 0, 1, "events logged per PE", probe_shape, probe_block },
};

const wse_program probe_program = {
    .api_version = WSE_API_VERSION,
    .name = "probe",
    .summary = "test probe",
    .params_size = sizeof(probe_params),
    .arrays = probe_arrays,
    .n_arrays = 1,
    .device = { .state_size = sizeof(probe_pe), .setup = probe_setup, .task = probe_task },
};

wse_topology probe_topology(int width, int height, int depth, int latency)
{
    wse_topology t;
    memset(&t, 0, sizeof t);
    strcpy(t.name, "probe");
    t.width = width;
    t.height = height;
    t.prog_width = width;
    t.prog_height = height;
    t.sram_bytes = 48 * 1024;
    t.colors = 24;
    t.queue_depth = depth;
    t.hop_latency_cycles = latency;
    t.link_wavelets_per_cycle = 1;
    t.clock_hz = 1e9;
    t.task_switch_cycles = PROBE_SWITCH;
    t.vector_startup_cycles = 0;
    t.simd_fp32 = 1;
    t.simd_fp16 = 4;
    t.fabric_startup_cycles = 0;
    wse_topology_set_arch(&t, WSE_ARCH_WSE2);
    return t;
}

wse_engine *probe_run(const wse_topology *t, int width, int height,
                      const probe_params *p, int *rc, wse_error *err)
{
    wse_engine *e = NULL;
    wse_rect r = { 0, 0, width, height };
    wse_error_clear(err);
    *rc = wse_engine_create(t, &probe_program, p, r, NULL, &e, err);
    if (*rc == 0)
        *rc = wse_engine_run(e, 1000000, err);
    return e;
}

probe_state *probe_at(wse_engine *e, int x, int y)
{
    wse_array_block b;
    if (wse_engine_block(e, 0, x, y, &b) != 0)
        return NULL;
    return (probe_state *)(void *)((uint8_t *)b.ptr - offsetof(probe_state, log_n));
}
