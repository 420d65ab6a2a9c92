/*
 * src/pe.c - the PE API programs call (include/wse/pe.h).
 *
 * Vector operations run as one native loop over SRAM and charge the
 * topology's modeled cycles (startup + ceil(n / simd)); fabric operations
 * are queued for the engine, which moves one wavelet per cycle.  A misuse
 * (bad color, call in the wrong phase) fails the run with the PE and cycle,
 * and the call becomes a no-op so the program's native code never crashes.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "ce_int.h"
#include "fault_int.h"
#include "router_int.h"
#include "sched_int.h"
#include "sram_int.h"

int pe_x(const wse_pe *pe) { return pe->x; }
int pe_y(const wse_pe *pe) { return pe->y; }
int pe_width(const wse_pe *pe) { return pe->e->region.width; }
int pe_height(const wse_pe *pe) { return pe->e->region.height; }
const void *pe_params(const wse_pe *pe) { return pe->e->params; }
uint64_t pe_cycle(const wse_pe *pe) { return pe->now + pe->charged; }
int pe_colors(const wse_pe *pe) { return pe->e->machine.colors; }
const wse_pe_machine *pe_machine(const wse_pe *pe) { return &pe->e->machine; }

/* The PE's pe_init_queue maps (a halo PE keeps them in its handle). */
static const uint8_t *iq_map(const wse_pe *pe)
{
    return pe->halo ? pe->halo_iq : pe->e->pe[pe->idx].iq;
}

int pe_data_task_id(const wse_pe *pe, int color)
{
    return data_task_id(pe->e, iq_map(pe), color);
}

int pe_in_region(const wse_pe *pe, int x, int y)
{
    return x >= 0 && y >= 0 && x < pe->e->region.width && y < pe->e->region.height;
}

int pe_has_neighbour(const wse_pe *pe, int d)
{
    return pe_in_region(pe, pe->x + pe_port_dx(d), pe->y + pe_port_dy(d));
}

/* A color the program may not name: beyond the topology's, or host I/O's. */
static int bad_color(wse_pe *pe, int color, const char *what)
{
    const wse_topology *t = &pe->e->topo;
    if (color >= 0 && color < t->host_io_first_color)
        return 0;
    if (color >= t->host_io_first_color && color < t->colors)
        wse__fault_pe(pe->e, pe->idx, WSE_EPROGRAM,
                      "%s: color %d is kept by host I/O on topology '%s' (colors %d..%d); a program has colors 0..%d",
                      what, color, t->name, t->host_io_first_color, t->colors - 1,
                      t->host_io_first_color - 1);
    else
        wse__fault_pe(pe->e, pe->idx, WSE_EPROGRAM, "%s: color %d is not in 0..%d",
                      what, color, t->host_io_first_color - 1);
    return 1;
}

/* A local task id the topology does not leave to programs. */
static int bad_local_task(wse_pe *pe, int task, const char *what)
{
    const wse_pe_machine *m = &pe->e->machine;
    const wse_topology *t = &pe->e->topo;
    if (task >= m->local_task_min && task <= m->local_task_max)
        return 0;
    char io[64] = "";
    if (t->host_io_first_task <= t->local_task_max)
        snprintf(io, sizeof io, "; %d..%d are host I/O's", t->host_io_first_task, t->local_task_max);
    wse__fault_pe(pe->e, pe->idx, WSE_EPROGRAM,
                  "%s: task id %d is not a local task id on topology '%s' (a program has %d..%d%s)",
                  what, task, t->name, m->local_task_min, m->local_task_max, io);
    return 1;
}

static int bad_task(wse_pe *pe, int task, const char *what)
{
    if (task >= 0 && task < WSE_MAX_TASKS)
        return 0;
    wse__fault_pe(pe->e, pe->idx, WSE_EPROGRAM, "%s: task id %d is not in 0..%d",
                  what, task, WSE_MAX_TASKS - 1);
    return 1;
}

static int not_in_setup(wse_pe *pe, const char *what)
{
    if (pe->in_setup)
        return 0;
    wse__fault_pe(pe->e, pe->idx, WSE_EPROGRAM, "%s is only allowed in setup", what);
    return 1;
}

/* The opposite: calls that only tasks may make. */
static int in_setup(wse_pe *pe, const char *what)
{
    if (!pe->in_setup)
        return 0;
    wse__fault_pe(pe->e, pe->idx, WSE_EPROGRAM,
                  "%s is not allowed in setup: activate a task that issues it", what);
    return 1;
}

/* ------------------------------------------------------------ setup */

void *pe_alloc(wse_pe *pe, size_t bytes)
{
    if (not_in_setup(pe, "pe_alloc"))
        return NULL;
    if (pe->halo)               /* routes are all we want from it */
        return wse__sram_halo_alloc(pe->e, &pe->halo_used, bytes);
    return wse__sram_alloc(pe->e, pe->idx, bytes);
}

void pe_route(wse_pe *pe, int color, unsigned rx, unsigned tx)
{
    if (not_in_setup(pe, "pe_route") || bad_color(pe, color, "pe_route"))
        return;
    wse__router_declare(pe->e, pe->idx, color, rx, tx);
}

void pe_route_switch(wse_pe *pe, int color, const wse_switch *sw)
{
    if (not_in_setup(pe, "pe_route_switch") || bad_color(pe, color, "pe_route_switch"))
        return;
    wse__router_switch(pe->e, pe->idx, color, sw);
}

void pe_route_filter(wse_pe *pe, int color, unsigned lo, unsigned hi)
{
    if (not_in_setup(pe, "pe_route_filter") || bad_color(pe, color, "pe_route_filter"))
        return;
    wse__router_filter(pe->e, pe->idx, color, lo, hi);
}

void pe_route_swap(wse_pe *pe, int color, unsigned ports)
{
    if (not_in_setup(pe, "pe_route_swap") || bad_color(pe, color, "pe_route_swap"))
        return;
    wse__router_swap(pe->e, pe->idx, color, ports);
}

void pe_route_teardown(wse_pe *pe, int color, int task)
{
    if (not_in_setup(pe, "pe_route_teardown") || bad_color(pe, color, "pe_route_teardown") ||
        bad_task(pe, task, "pe_route_teardown") || bad_local_task(pe, task, "pe_route_teardown"))
        return;
    wse__router_teardown(pe->e, pe->idx, color, task);
}

void pe_route_set_position(wse_pe *pe, int color, int position)
{
    if (pe->halo || in_setup(pe, "pe_route_set_position") || bad_color(pe, color, "pe_route_set_position"))
        return;
    wse__router_set_position(pe->e, pe->idx, color, position, "pe_route_set_position");
}

void pe_route_resume(wse_pe *pe, int color)
{
    if (pe->halo || in_setup(pe, "pe_route_resume") || bad_color(pe, color, "pe_route_resume"))
        return;
    uint64_t when = pe->now + pe->charged;
    wse__router_resume(pe->e, pe->idx, color, when > pe->now ? when : pe->now + 1);
}

/* Bind task as kind (one of the PE's three task sets), once. */
static void bind(wse_pe *pe, int task, uint64_t *set)
{
    static const char *const kinds[3] = { "a data task", "a local task", "a control task" };
    wse_pestate *p = &pe->e->pe[pe->idx];
    uint64_t *sets[3] = { &p->data_tasks, &p->local_tasks, &p->control_tasks };
    for (int k = 0; k < 3; k++)
        if (sets[k] != set && ((*sets[k] >> task) & 1)) {
            wse__fault_pe(pe->e, pe->idx, WSE_EPROGRAM, "task %d is already bound as %s", task,
                          kinds[k]);
            return;
        }
    *set |= 1ull << task;
}

/* Input queues a PE holds for the whole run, with color's: those of its
 * initialised queues and data tasks.  Fails the run (1) if that is more
 * than the program has. */
static int over_input_queues(wse_pe *pe, int color, const char *what)
{
    wse_engine *e = pe->e;
    const wse_pestate *p = &e->pe[pe->idx];
    uint32_t iq = queue_colors(p->iq);
    uint32_t held = iq | data_task_colors(e, p->iq, p->data_tasks) | 1u << color;
    return wse__ce_over_limit(e, pe->idx, what,
                              iq ? "input queues (initialised queues and data tasks)"
                                 : "input queues (one per data task)",
                              (unsigned)__builtin_popcount(held), e->machine.input_queues,
                              e->topo.input_queues);
}

void pe_init_queue(wse_pe *pe, int queue, int color)
{
    static const char *const way[2] = { "input", "output" };
    static const char *const macro[2] = { "WSE_IQ", "WSE_OQ" };
    if (not_in_setup(pe, "pe_init_queue") || bad_color(pe, color, "pe_init_queue"))
        return;
    wse_engine *e = pe->e;
    const wse_topology *t = &e->topo;
    int out = queue >= WSE_OQ(0);
    int k = out ? queue - WSE_OQ(0) : queue;
    int n = out ? t->output_queues : t->input_queues;
    n = n < WSE_MAX_QUEUE_IDS ? n : WSE_MAX_QUEUE_IDS;
    uint8_t *map = pe->halo ? (out ? pe->halo_oq : pe->halo_iq)
                            : (out ? e->pe[pe->idx].oq : e->pe[pe->idx].iq);
    if (pe->halo) {             /* its own shard checks it; pe_data_task_id needs it */
        if (k >= 0 && k < WSE_MAX_QUEUE_IDS)
            map[k] = (uint8_t)(color + 1);
        return;
    }
    if (k < 0 || k >= n) {
        wse__fault_pe(e, pe->idx, WSE_EPROGRAM,
                      "pe_init_queue: %s(%d) is not a queue of topology '%s' (it has %s(0..%d))",
                      macro[out], k, t->name, macro[out], n - 1);
        return;
    }
    if (k < t->host_io_queues) {
        wse__fault_pe(e, pe->idx, WSE_EPROGRAM,
                      "pe_init_queue: %s(%d) is kept by host I/O on topology '%s' (queues 0..%d); a program has %s(%d..%d)",
                      macro[out], k, t->name, t->host_io_queues - 1, macro[out], t->host_io_queues, n - 1);
        return;
    }
    if (map[k]) {
        wse__fault_pe(e, pe->idx, WSE_EPROGRAM,
                      "pe_init_queue: %s(%d) is already bound to color %d (one queue, one color)",
                      macro[out], k, map[k] - 1);
        return;
    }
    int had = queue_of(map, color);
    if (had >= 0) {
        wse__fault_pe(e, pe->idx, WSE_EPROGRAM,
                      "pe_init_queue: color %d already has %s queue %s(%d) (a color has at most one input and one output queue at a PE)",
                      color, way[out], macro[out], had);
        return;
    }
    wse_pestate *p = &e->pe[pe->idx];
    if (!out && queue_task_ids(e)) {
        /* on wse3 the queue's data task has id k: keep the ids apart from
         * those of data tasks bound without a queue (their colors) */
        int is_queue_id = color < WSE_MAX_QUEUE_IDS && p->iq[color];
        if (((p->data_tasks >> color) & 1) && !is_queue_id) {
            wse__fault_pe(e, pe->idx, WSE_EPROGRAM,
                          "pe_init_queue: color %d's data task is already bound (with id %d, having no queue): initialise the queue before pe_bind_data_task",
                          color, color);
            return;
        }
        if ((p->data_tasks >> k) & 1) {        /* map[k] is free: a color's id */
            wse__fault_pe(e, pe->idx, WSE_EPROGRAM,
                          "pe_init_queue: task id %d, WSE_IQ(%d)'s data task id, is already the data task of color %d, which has no queue",
                          k, k, k);
            return;
        }
    }
    if (!out && over_input_queues(pe, color, "pe_init_queue"))
        return;
    map[k] = (uint8_t)(color + 1);
}

void pe_bind_data_task(wse_pe *pe, int color)
{
    if (pe->halo || not_in_setup(pe, "pe_bind_data_task") || bad_color(pe, color, "pe_bind_data_task"))
        return;
    wse_engine *e = pe->e;
    wse_pestate *p = &e->pe[pe->idx];
    if (wse__ce_no_queue(e, pe->idx, color, 0, "pe_bind_data_task"))
        return;
    int id = data_task_id(e, p->iq, color);
    if (queue_task_ids(e) && queue_of(p->iq, color) < 0 && id < WSE_MAX_QUEUE_IDS && p->iq[id]) {
        /* implicit queues on wse3: the color's id is a queue's */
        wse__fault_pe(e, pe->idx, WSE_EPROGRAM,
                      "pe_bind_data_task: color %d has no input queue, and its id %d is WSE_IQ(%d)'s (color %d): give color %d a queue with pe_init_queue",
                      color, id, id, p->iq[id] - 1, color);
        return;
    }
    /* each data task's color holds an input queue for the whole run */
    if (over_input_queues(pe, color, "pe_bind_data_task"))
        return;
    bind(pe, id, &p->data_tasks);
}

void pe_bind_local_task(wse_pe *pe, int task)
{
    if (pe->halo || not_in_setup(pe, "pe_bind_local_task") || bad_task(pe, task, "pe_bind_local_task") ||
        bad_local_task(pe, task, "pe_bind_local_task"))
        return;
    bind(pe, task, &pe->e->pe[pe->idx].local_tasks);
}

void pe_bind_control_task(wse_pe *pe, int task)
{
    if (pe->halo || not_in_setup(pe, "pe_bind_control_task") || bad_task(pe, task, "pe_bind_control_task"))
        return;
    bind(pe, task, &pe->e->pe[pe->idx].control_tasks);
}

/* ------------------------------------------------------------ tasks */

static int unbound(wse_pe *pe, int task, const char *what)
{
    if (bad_task(pe, task, what))
        return 1;
    const wse_pestate *p = &pe->e->pe[pe->idx];
    if (((p->local_tasks | p->data_tasks | p->control_tasks) >> task) & 1)
        return 0;
    wse__fault_pe(pe->e, pe->idx, WSE_EPROGRAM, "%s: task %d is not bound", what, task);
    return 1;
}

void pe_activate(wse_pe *pe, int task)
{
    if (pe->halo || unbound(pe, task, "pe_activate"))
        return;
    if ((pe->e->pe[pe->idx].control_tasks >> task) & 1) {
        wse__fault_pe(pe->e, pe->idx, WSE_EPROGRAM,
                      "pe_activate: task %d is a control task: control wavelets activate it", task);
        return;
    }
    pe->e->pe[pe->idx].active |= 1ull << task;
    sched_wake(pe->e, pe->idx, pe->now + pe->charged);
}

void pe_block(wse_pe *pe, int task)
{
    if (pe->halo || unbound(pe, task, "pe_block"))
        return;
    pe->e->pe[pe->idx].blocked |= 1ull << task;
}

void pe_unblock(wse_pe *pe, int task)
{
    if (pe->halo || unbound(pe, task, "pe_unblock"))
        return;
    pe->e->pe[pe->idx].blocked &= ~(1ull << task);
    sched_wake(pe->e, pe->idx, pe->now + pe->charged);
}

void pe_finish(wse_pe *pe)
{
    if (pe->halo)
        return;
    wse_pestate *p = &pe->e->pe[pe->idx];
    if (!(p->flags & PE_FINISHED)) {
        p->flags |= PE_FINISHED;
        pe->e->unfinished--;
    }
}

void pe_fail(wse_pe *pe, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    wse__fault_pe(pe->e, pe->idx, WSE_EPROGRAM, "program '%s': %s", pe->e->prog->name, msg);
}

/* ------------------------------------------------------------ costs */

void pe_charge(wse_pe *pe, uint64_t cycles, uint64_t flops)
{
    if (pe->halo)
        return;
    pe->charged += cycles;
    pe->e->cnt[pe->idx].flops += flops;
}

/* Charge one fp32 vector op of n elements reading `rd` and writing `wr`
 * words per element and doing `fl` flops per element. */
static void vcharge(wse_pe *pe, int n, unsigned rd, unsigned wr, int fl)
{
    if (pe->halo)
        return;
    uint64_t un = n > 0 ? (uint64_t)n : 0;
    pe->charged += wse__vector_cycles(&pe->e->topo, un, pe->e->topo.simd_fp32, 4 * rd, 4 * wr);
    wse_pecount *c = &pe->e->cnt[pe->idx];
    c->flops += un * (uint64_t)fl;
    c->sram_bytes += un * (uint64_t)(rd + wr) * 4;
}

void pe_vmov_f32(wse_pe *pe, float *d, const float *a, int n)
{
    memmove(d, a, (size_t)(n > 0 ? n : 0) * sizeof *d);
    vcharge(pe, n, 1, 1, 0);
}

void pe_vfill_f32(wse_pe *pe, float *d, float s, int n)
{
    for (int i = 0; i < n; i++)
        d[i] = s;
    vcharge(pe, n, 0, 1, 0);
}

void pe_vadd_f32(wse_pe *pe, float *d, const float *a, const float *b, int n)
{
    for (int i = 0; i < n; i++)
        d[i] = a[i] + b[i];
    vcharge(pe, n, 2, 1, 1);
}

void pe_vsub_f32(wse_pe *pe, float *d, const float *a, const float *b, int n)
{
    for (int i = 0; i < n; i++)
        d[i] = a[i] - b[i];
    vcharge(pe, n, 2, 1, 1);
}

void pe_vmul_f32(wse_pe *pe, float *d, const float *a, const float *b, int n)
{
    for (int i = 0; i < n; i++)
        d[i] = a[i] * b[i];
    vcharge(pe, n, 2, 1, 1);
}

void pe_vscale_f32(wse_pe *pe, float *d, const float *a, float s, int n)
{
    for (int i = 0; i < n; i++)
        d[i] = s * a[i];
    vcharge(pe, n, 1, 1, 1);
}

void pe_vaxpy_f32(wse_pe *pe, float *d, float s, const float *a, const float *b, int n)
{
    for (int i = 0; i < n; i++)
        d[i] = s * a[i] + b[i];
    vcharge(pe, n, 2, 1, 2);
}

float pe_vdot_f32(wse_pe *pe, const float *a, const float *b, int n)
{
    float acc = 0.0f;
    for (int i = 0; i < n; i++)
        acc += a[i] * b[i];
    vcharge(pe, n, 2, 0, 2);
    return acc;
}

float pe_vsum_f32(wse_pe *pe, const float *a, int n)
{
    float acc = 0.0f;
    for (int i = 0; i < n; i++)
        acc += a[i];
    vcharge(pe, n, 1, 0, 1);
    return acc;
}

float pe_vmax_f32(wse_pe *pe, const float *a, int n)
{
    float m = n > 0 ? a[0] : 0.0f;
    for (int i = 1; i < n; i++)
        if (a[i] > m)
            m = a[i];
    vcharge(pe, n, 1, 0, 0);
    return m;
}

void pe_vmax2_f32(wse_pe *pe, float *d, const float *a, const float *b, int n)
{
    for (int i = 0; i < n; i++)
        d[i] = fmaxf(a[i], b[i]);
    vcharge(pe, n, 2, 1, 0);
}

/* ------------------------------------------------------------ fabric */

static void fabric_op(wse_pe *pe, int kind, int color, const void *mem, uint32_t word,
                      int n, int stride, int on_done, unsigned flags, const char *what)
{
    wse_engine *e = pe->e;
    int ut;
    if (in_setup(pe, what) || wse__ce_bad_ut(e, pe->idx, flags, &ut, what))
        return;
    flags &= WSE_ASYNC | WSE_FABIN_ADD | WSE_CONTROL;    /* the internal bits are ours */
    if (kind == OP_FABIN && (flags & WSE_FABIN_ADD))
        flags |= OPF_COMPUTES;
    if (bad_color(pe, color, what) || (on_done != WSE_NO_TASK && unbound(pe, on_done, what)))
        return;
    if (kind == OP_FABIN && (flags & WSE_CONTROL)) {
        wse__fault_pe(e, pe->idx, WSE_EPROGRAM, "%s: WSE_CONTROL is for sending (control wavelets reach control tasks)",
                      what);
        return;
    }
    if (n <= 0 || n > WSE_MAX_OP_LENGTH || stride < WSE_MIN_OP_STRIDE || stride > WSE_MAX_OP_STRIDE) {
        wse__fault_pe(e, pe->idx, WSE_EPROGRAM,
                      "%s: length %d must be in 1..%d and stride %d in %d..%d",
                      what, n, WSE_MAX_OP_LENGTH, stride, WSE_MIN_OP_STRIDE, WSE_MAX_OP_STRIDE);
        return;
    }
    uint32_t queue = WSE_NONE;
    if (kind == OP_FABIN) {
        unsigned nq = wse__router_ce_queues(e, pe->idx, color, &queue);
        if (nq == 0) {
            wse__fault_pe(e, pe->idx, WSE_EPROGRAM,
                          "%s: no route delivers color %d to the CE (tx RAMP)", what, color);
            return;
        }
        if (nq == 1)
            flags |= OPF_ONE_QUEUE;
    } else {
        queue = wse__router_ramp_queue(e, pe->idx, color);
        if (queue == WSE_NONE) {
            wse__fault_pe(e, pe->idx, WSE_EPROGRAM,
                          "%s: color %d has no route with RAMP in rx", what, color);
            return;
        }
    }
    if (wse__ce_over_resources(e, pe->idx, kind == OP_FABIN ? color : -1,
                               kind == OP_FABIN ? -1 : color, flags, ut, what))
        return;
    uint32_t addr = word;
    if (mem) {
        const uint8_t *base = sram_base(e, pe->idx);
        const uint8_t *m = mem;
        uint64_t used = e->pe[pe->idx].sram_used;
        int64_t first = m - base, last = first + (int64_t)(n - 1) * stride * 4;
        if (first < 0 || last < 0 || (uint64_t)first + 4 > used || (uint64_t)last + 4 > used) {
            wse__fault_pe(e, pe->idx, WSE_EPROGRAM,
                          "%s: %d words with stride %d are not inside this PE's SRAM", what, n, stride);
            return;
        }
        addr = (uint32_t)first;
    }
    wse_op *op = wse__ce_op_push(e, pe->idx);
    if (!op) {
        wse__fault_pe(e, pe->idx, WSE_ENOMEM, "%s: too many fabric operations in progress", what);
        return;
    }
    pe->charged += (uint64_t)e->topo.fabric_startup_cycles;
    uint64_t start = pe->now + pe->charged;
    start = start > pe->now ? start : pe->now + 1;
    op->start = (uint32_t)start;
    op->addr = addr;
    op->stride = (int16_t)stride;
    op->n = (uint16_t)n;
    op->done = 0;
    op->queue = queue;
    op->on_done = (int8_t)on_done;
    op->kind = (uint8_t)kind & 15u;
    op->ut = (uint8_t)(ut + 1) & 15u;
    op->flags = (uint8_t)flags;
    op->color = (uint8_t)color;
    if (!(flags & WSE_ASYNC))
        e->pe[pe->idx].flags |= PE_SYNC_WAIT;
    sched_wake(e, pe->idx, start);
}

void pe_fabout(wse_pe *pe, int color, const void *src, int n, int stride,
               int on_done, unsigned flags)
{
    fabric_op(pe, OP_FABOUT, color, src, 0, n, stride, on_done, flags, "pe_fabout");
}

void pe_fabin(wse_pe *pe, int color, void *dst, int n, int stride,
              int on_done, unsigned flags)
{
    fabric_op(pe, OP_FABIN, color, dst, 0, n, stride, on_done, flags, "pe_fabin");
}

void pe_send(wse_pe *pe, int color, uint32_t word, int on_done, unsigned flags)
{
    fabric_op(pe, OP_SEND, color, NULL, word, 1, 0, on_done, flags, "pe_send");
}
