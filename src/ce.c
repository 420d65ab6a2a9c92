/*
 * src/ce.c - the compute engine at run time: fabric operations in flight
 * and the task scheduler.
 *
 * Fabric operations move at most one wavelet per cycle each way over the
 * ramp, in issue order; a synchronous one keeps the CE from starting
 * another task until it completes.  Among ready tasks the lowest id runs,
 * one at a time, to completion, and costs task_switch_cycles plus what it
 * charged (at least one cycle).  The datapath is shared: in a cycle in
 * which fabric operations move elements with arithmetic it serves them,
 * and a task running then ends fabric_datapath_cycles later.
 *
 * A PE's operations live, in issue order, in a chain of blocks that the PE
 * keeps once it has them: a PE's ops are contiguous in memory and blocks
 * are handed out in the order PEs first need them, which follows the sweep
 * order.  (A shared free list scattered them: a cache miss per op.)
 * Drawback: removing a completed op shifts the later ones of its PE.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ce_int.h"
#include "fault_int.h"
#include "queue_int.h"
#include "router_int.h"
#include "sched_int.h"
#include "sram_int.h"

/* ------------------------------------------------------------ op pool */

static uint32_t opblock_new(wse_engine *e)
{
    if (e->nopb == e->opb_cap) {
        uint32_t cap = e->opb_cap ? e->opb_cap + e->opb_cap / 2 : 1024;
        wse_opblock *b = realloc(e->opb, (uint64_t)cap * sizeof *b);
        if (!b)
            return WSE_NONE;
        e->opb = b;
        e->opb_cap = cap;
    }
    e->opb[e->nopb].next = WSE_NONE;
    return e->nopb++;
}

/* Slot i of PE p's ops (i < nops, or i == nops when its block exists). */
static inline wse_op *op_at(const wse_engine *e, const wse_pestate *p, unsigned i)
{
    uint32_t b = p->op_block;
    for (; i >= WSE_OPS_PER_BLOCK; i -= WSE_OPS_PER_BLOCK)
        b = e->opb[b].next;
    return &e->opb[b].op[i];
}

wse_op *wse__ce_op_push(wse_engine *e, uint32_t pe)
{
    wse_pestate *p = &e->pe[pe];
    if (p->nops == WSE_MAX_OPS_PER_PE)
        return NULL;
    if (p->op_block == WSE_NONE && (p->op_block = opblock_new(e)) == WSE_NONE)
        return NULL;
    uint32_t b = p->op_block;
    for (unsigned i = p->nops; i >= WSE_OPS_PER_BLOCK; i -= WSE_OPS_PER_BLOCK) {
        if (e->opb[b].next == WSE_NONE) {
            uint32_t nb = opblock_new(e);      /* may move e->opb */
            if (nb == WSE_NONE)
                return NULL;
            e->opb[b].next = nb;
        }
        b = e->opb[b].next;
    }
    return &e->opb[b].op[p->nops++ % WSE_OPS_PER_BLOCK];
}

/* Whether an op of kind takes wavelets from the CE's queues (uses the
 * ramp inward), and whether it sends them (the ramp outward). */
static inline int op_takes(unsigned kind)
{
    return kind == OP_FABIN || kind == OP_DSD_IN || kind == OP_DSD_THRU;
}
static inline int op_gives(unsigned kind)
{
    return kind != OP_FABIN && kind != OP_DSD_IN;
}

/* Colors of PE pe's fabric ops in progress: with an op that takes from
 * (in) or gives to (out) the color, and of those the ones with an async op
 * that names no microthread; and the microthreads async ops name (bit
 * 1 + id). */
typedef struct inflight {
    uint32_t in, out, async_in, async_out, uts;
} inflight;

static void in_flight(const wse_engine *e, const wse_pestate *p, inflight *f)
{
    *f = (inflight){ 0 };
    for (unsigned i = 0; i < p->nops; i++) {
        const wse_op *op = op_at(e, p, i);
        uint32_t async = (op->flags & WSE_ASYNC) && !op->ut ? ~0u : 0u;
        f->uts |= (1u << op->ut) & ~1u;
        if (op_takes(op->kind)) {
            f->in |= 1u << op->color;
            f->async_in |= async & (1u << op->color);
        }
        if (op_gives(op->kind)) {
            int c = op->kind == OP_DSD_THRU ? e->opx[op->addr].el.opd[0].color : op->color;
            f->out |= 1u << c;
            f->async_out |= async & (1u << c);
        }
    }
}

/* Fail if `need` of a resource is over the program's `limit` (the
 * topology's `total`, less what host I/O keeps). */
int wse__ce_over_limit(wse_engine *e, uint32_t pe, const char *what, const char *resource,
                       unsigned need, int limit, int total)
{
    if ((int)need <= limit)
        return 0;
    wse__fault_pe(e, pe, WSE_EPROGRAM,
                  "%s: needs %u %s at once; topology '%s' leaves a program %d (it has %d, host I/O keeps %d)",
                  what, need, resource, e->topo.name, limit, total, total - limit);
    return 1;
}

int wse__ce_no_queue(wse_engine *e, uint32_t pe, int color, int out, const char *what)
{
    if (!strict_queues(e) || queue_of(out ? e->pe[pe].oq : e->pe[pe].iq, color) >= 0)
        return 0;
    wse__fault_pe(e, pe, WSE_EPROGRAM,
                  "%s: color %d has no initialised %s queue (topology '%s' is wse3: pe_init_queue(pe, %s(k), %d) in setup binds one)",
                  what, color, out ? "output" : "input", e->topo.name, out ? "WSE_OQ" : "WSE_IQ", color);
    return 1;
}

int wse__ce_bad_ut(wse_engine *e, uint32_t pe, unsigned flags, int *ut, const char *what)
{
    *ut = -1;
    if (!(flags & WSE_UT_MASK))
        return 0;
    int k = (int)((flags & WSE_UT_MASK) >> 8) - 1;
    const wse_topology *t = &e->topo;
    int n = t->microthreads < WSE_MAX_UT_IDS ? t->microthreads : WSE_MAX_UT_IDS;
    if (t->arch != WSE_ARCH_WSE3)
        wse__fault_pe(e, pe, WSE_EPROGRAM,
                      "%s: WSE_UT(%d): explicit microthread ids are wse3's; on topology '%s' (wse2) an asynchronous operation's microthread is its queue's",
                      what, k, t->name);
    else if (!(flags & WSE_ASYNC))
        wse__fault_pe(e, pe, WSE_EPROGRAM,
                      "%s: WSE_UT(%d) names the microthread of an asynchronous operation: add WSE_ASYNC",
                      what, k);
    else if (k >= n)
        wse__fault_pe(e, pe, WSE_EPROGRAM,
                      "%s: WSE_UT(%d) is not a microthread id on topology '%s' (a program has WSE_UT(%d..%d))",
                      what, k, t->name, t->host_io_microthreads, n - 1);
    else if (k < t->host_io_microthreads)
        wse__fault_pe(e, pe, WSE_EPROGRAM,
                      "%s: WSE_UT(%d) is kept by host I/O on topology '%s' (microthreads 0..%d); a program has WSE_UT(%d..%d)",
                      what, k, t->name, t->host_io_microthreads - 1, t->host_io_microthreads, n - 1);
    else
        *ut = k;
    return *ut < 0;
}

/*
 * A color reaches the CE through one input queue and leaves it through one
 * output queue; a queue runs its operations one at a time, in issue order
 * (ops_step moves only the oldest of a color's ops that can move).  So
 * data tasks, initialised input queues and ops taking from the fabric hold
 * an input queue per color, initialised output queues and ops giving to
 * it an output queue per color.  A WSE_UT microthread is held while an op
 * names it; an async op naming none holds one per queue (on wse2 a
 * microthread is a queue's), counted beside the named ones.
 */
int wse__ce_over_resources(wse_engine *e, uint32_t pe, int in_color, int out_color,
                           unsigned flags, int ut, const char *what)
{
    const wse_pe_machine *m = &e->machine;
    const wse_pestate *p = &e->pe[pe];
    if ((in_color >= 0 && wse__ce_no_queue(e, pe, in_color, 0, what)) ||
        (out_color >= 0 && wse__ce_no_queue(e, pe, out_color, 1, what)))
        return 1;
    inflight f;
    in_flight(e, p, &f);
    uint32_t async = (flags & WSE_ASYNC) && ut < 0 ? ~0u : 0u;
    if (ut >= 0)
        f.uts |= 1u << (ut + 1);
    if (in_color >= 0) {
        uint32_t iq = queue_colors(p->iq);
        uint32_t held = data_task_colors(e, p->iq, p->data_tasks) | iq | f.in | 1u << in_color;
        if (wse__ce_over_limit(e, pe, what,
                               iq ? "input queues (colors of initialised queues, data tasks and fabins in progress)"
                                  : "input queues (colors of data tasks and fabins in progress)",
                               (unsigned)__builtin_popcount(held), m->input_queues, e->topo.input_queues))
            return 1;
        f.async_in |= async & (1u << in_color);
    }
    if (out_color >= 0) {
        uint32_t oq = queue_colors(p->oq);
        if (wse__ce_over_limit(e, pe, what,
                               oq ? "output queues (colors of initialised queues, fabouts and sends in progress)"
                                  : "output queues (colors of fabouts and sends in progress)",
                               (unsigned)__builtin_popcount(oq | f.out | 1u << out_color), m->output_queues,
                               e->topo.output_queues))
            return 1;
        f.async_out |= async & (1u << out_color);
    }
    unsigned threads = (unsigned)(__builtin_popcount(f.async_in) + __builtin_popcount(f.async_out) +
                                  __builtin_popcount(f.uts));
    return wse__ce_over_limit(e, pe, what,
                              f.uts ? "microthreads (WSE_UT ids, and queues with other WSE_ASYNC operations, in progress)"
                                    : "microthreads (queues with WSE_ASYNC operations in progress)",
                              threads, m->microthreads, e->topo.microthreads);
}

/* Remove op i, keeping the others in issue order. */
static void op_remove(wse_engine *e, wse_pestate *p, unsigned i)
{
    for (unsigned j = i; j + 1 < p->nops; j++)
        *op_at(e, p, j) = *op_at(e, p, j + 1);
    p->nops--;
}

void wse__ce_free(wse_engine *e)
{
    free(e->opb);
    free(e->opx);
}

uint64_t wse__ce_bytes(const wse_engine *e)
{
    return (uint64_t)e->opb_cap * sizeof *e->opb + (uint64_t)e->opx_cap * sizeof *e->opx;
}

/* ------------------------------------------------------------ operand records */

uint32_t wse__ce_opx_new(wse_engine *e)
{
    if (e->opx_free) {
        uint32_t xi = e->opx_free - 1;
        e->opx_free = e->opx[xi].next_free;
        return xi;
    }
    if (e->nopx == e->opx_cap) {
        uint32_t cap = e->opx_cap ? e->opx_cap + e->opx_cap / 2 : 64;
        wse_opx *x = realloc(e->opx, (uint64_t)cap * sizeof *x);
        if (!x)
            return WSE_NONE;
        e->opx = x;
        e->opx_cap = cap;
    }
    return e->nopx++;
}

void wse__ce_opx_release(wse_engine *e, uint32_t xi)
{
    e->opx[xi].next_free = e->opx_free;
    e->opx_free = xi + 1;
}


/* ------------------------------------------------------------ fabric ops */

/* Whether the head of CE queue qi (visible; *w gets it) is a control
 * wavelet, which a fabin leaves to dispatch(); one naming no control task
 * fails the run. */
static int control_head(wse_engine *e, uint32_t pe, uint32_t qi, uint32_t *w)
{
    unsigned ctrl;
    *w = queue_peek(e, qi, &ctrl);
    if (!ctrl)
        return 0;
    int id = pe_control_task(*w);
    if (!((e->pe[pe].control_tasks >> id) & 1))
        wse__fault_pe(e, pe, WSE_EPROGRAM,
                      "control wavelet 0x%08x on color %d names task %d, which is not bound as a control task",
                      *w, e->q[qi].color, id);
    return 1;
}

/* First CE queue of color at pe with a visible data wavelet at its head
 * (*w gets it), or WSE_NONE. */
static uint32_t ready_queue(wse_engine *e, uint32_t pe, int color, uint64_t t, uint32_t *w)
{
    const wse_pestate *p = &e->pe[pe];
    for (uint32_t i = p->q_first; i < p->q_first + p->nq; i++) {
        wse_queue *q = &e->q[i];
        if (q->kind != Q_CE || q->color != color)
            continue;
        queue_sync(q, t);
        if (queue_visible(q) > 0 && !control_head(e, pe, i, w))
            return i;
    }
    return WSE_NONE;
}

/* The CE takes the head of CE queue qi, already peeked at. */
static void take_peeked(wse_engine *e, uint32_t pe, uint32_t qi, uint64_t t)
{
    queue_drop_head(e, qi);
    wse__router_popped(e, pe, qi, t);
    e->cnt[pe].received++;
    e->st.wavelets_received++;
}

/* The CE takes the head of CE queue qi. */
static uint32_t take(wse_engine *e, uint32_t pe, uint32_t qi, uint64_t t)
{
    unsigned ctrl;
    uint32_t w = queue_peek(e, qi, &ctrl);
    take_peeked(e, pe, qi, t);
    return w;
}

/* The CE queue from which op (taking from color op->color) can take a
 * data wavelet now (*w gets it), or WSE_NONE. */
static uint32_t fabin_ready(wse_engine *e, uint32_t pe, const wse_op *op, uint64_t t, uint32_t *w)
{
    if (op->flags & OPF_ONE_QUEUE) {        /* the common case: no scan */
        wse_queue *q = &e->q[op->queue];
        queue_sync(q, t);
        if (queue_visible(q) == 0 || control_head(e, pe, op->queue, w))
            return WSE_NONE;
        return op->queue;
    }
    return ready_queue(e, pe, op->color, t, w);
}

/* Move one wavelet of a fabin if it can.  Returns 1 if it moved. */
static int fabin_step(wse_engine *e, uint32_t pe, wse_op *op, uint64_t t)
{
    uint32_t w, qi = fabin_ready(e, pe, op, t, &w);
    if (qi == WSE_NONE)
        return 0;
    take_peeked(e, pe, qi, t);
    uint8_t *dst = sram_base(e, pe) + op->addr + (int64_t)op->done * op->stride * 4;
    if (op->flags & WSE_FABIN_ADD) {
        /* the descriptor add d = d + fabin on fp32, kept in the compact
         * op: the same element arithmetic as every descriptor op */
        float f;
        memcpy(&f, dst, 4);
        f = wse__elem_fcompute(EL_ADD, f, pe_bits_f32(w), 0.0f);
        memcpy(dst, &f, 4);
        e->cnt[pe].flops++;
    } else {
        memcpy(dst, &w, 4);
    }
    return 1;
}

/* Move one wavelet of a fabout or send if it can.  Returns 1 if it moved. */
static int fabout_step(wse_engine *e, uint32_t pe, wse_op *op, uint64_t t)
{
    wse_queue *r = &e->q[op->queue];
    queue_sync(r, t);
    if (!queue_credit(e, r))
        return 0;
    uint32_t w = op->addr;
    if (op->kind == OP_FABOUT)
        memcpy(&w, sram_base(e, pe) + op->addr + (int64_t)op->done * op->stride * 4, 4);
    queue_push(e, op->queue, w, (op->flags & WSE_CONTROL) != 0);
    sched_wake(e, pe, t + r->lat);
    e->cnt[pe].sent++;
    e->st.wavelets_sent++;
    return 1;
}

/* Move one element of a descriptor operation if it can: it needs a
 * wavelet if it takes one, a credit if it sends one, both in the same
 * cycle for fabin to fabout.  Returns 1 if it moved. */
static int dsd_step(wse_engine *e, uint32_t pe, wse_op *op, uint64_t t)
{
    const wse_opx *x = &e->opx[op->addr];
    uint32_t w = 0, qi = WSE_NONE;
    /* a FIFO empty or full: only this PE's ops change it, and any op
     * that moves makes the PE come back next cycle */
    if (!wse__elem_ready(&x->el, sram_base(e, pe)))
        return 0;
    if (op_takes(op->kind) && (qi = fabin_ready(e, pe, op, t, &w)) == WSE_NONE)
        return 0;
    if (op_gives(op->kind)) {
        wse_queue *r = &e->q[x->out_queue];
        queue_sync(r, t);
        if (!queue_credit(e, r))
            return 0;
    }
    if (qi != WSE_NONE)
        take_peeked(e, pe, qi, t);
    uint32_t v = wse__elem_step(&x->el, sram_base(e, pe), op->done, w);
    e->cnt[pe].flops += x->el.flops;
    e->cnt[pe].sram_bytes += x->el.sram_bytes;
    if (op_gives(op->kind)) {
        queue_push(e, x->out_queue, v, 0);
        sched_wake(e, pe, t + e->q[x->out_queue].lat);
        e->cnt[pe].sent++;
        e->st.wavelets_sent++;
    }
    return 1;
}

/* Move one wavelet of op if it can and the ramp is free the ways it
 * needs.  Returns 1 if it moved. */
static int op_step(wse_engine *e, uint32_t pe, wse_op *op, int *ramp_out,
                   int *ramp_in, uint64_t t)
{
    int in = op_takes(op->kind), out = op_gives(op->kind);
    if ((in && *ramp_in) || (out && *ramp_out))
        return 0;
    int moved = op->kind == OP_FABIN ? fabin_step(e, pe, op, t)
              : op->kind <= OP_SEND ? fabout_step(e, pe, op, t)
              : dsd_step(e, pe, op, t);
    if (!moved)
        return 0;
    *ramp_in |= in;
    *ramp_out |= out;
    return 1;
}

/* Whether one of PE p's ops from i on is synchronous. */
static int more_sync(const wse_engine *e, const wse_pestate *p, unsigned i)
{
    for (; i < p->nops; i++)
        if (!(op_at(e, p, i)->flags & WSE_ASYNC))
            return 1;
    return 0;
}

/* Advance the PE's fabric operations.  Returns 1 if it must be revisited
 * next cycle; *fabin_colors gets the colors with a pending fabin,
 * *computed whether an element that needs the datapath moved. */
static int ops_step(wse_engine *e, uint32_t pe, int *ramp_in,
                    uint32_t *fabin_colors, int *computed, uint64_t t)
{
    wse_pestate *p = &e->pe[pe];
    int ramp_out = 0, more = 0, syncs = 0;
    uint32_t uts = 0;                   /* microthreads named so far (bit 1 + id) */
    for (unsigned i = 0; i < p->nops;) {
        wse_op *op = op_at(e, p, i);
        if (op_takes(op->kind))
            *fabin_colors |= 1u << op->color;
        /* synchronous ops run on the CE's main thread, and ops naming one
         * microthread on it: one after another */
        int sync = !(op->flags & WSE_ASYNC);
        uint32_t ut = (1u << op->ut) & ~1u;
        int started = (int32_t)((uint32_t)t - op->start) >= 0 && !(sync && syncs) && !(uts & ut);
        syncs += sync;
        uts |= ut;
        if (!started || !op_step(e, pe, op, &ramp_out, ramp_in, t)) {
            int blocked_on_port = started &&
                ((op_takes(op->kind) && *ramp_in) || (op_gives(op->kind) && ramp_out));
            more |= blocked_on_port;
            i++;
            continue;
        }
        more = 1;
        *computed |= (op->flags & OPF_COMPUTES) != 0;
        if (++op->done < op->n) {
            i++;
            continue;
        }
        /* complete: signal, then drop it */
        if (op->on_done >= 0)
            p->active |= 1ull << op->on_done;
        /* the next synchronous op starts next cycle (syncs stays up) */
        if (sync && !more_sync(e, p, i + 1))
            p->flags &= (uint8_t)~PE_SYNC_WAIT;    /* the last one is done */
        if (op->kind > OP_SEND)
            wse__ce_opx_release(e, op->addr);
        op_remove(e, p, i);
    }
    return more;
}

/* ------------------------------------------------------------ tasks */

static void run_task(wse_engine *e, uint32_t pe, int id, uint32_t payload, uint64_t t)
{
    wse_pestate *p = &e->pe[pe];
    struct wse_pe h = { .e = e, .idx = pe, .now = t,
                        .charged = (uint64_t)e->topo.task_switch_cycles, .in_setup = 0 };
    pe_coords(e, pe, &h.x, &h.y);
    wse_pecount *k = &e->cnt[pe];
    uint64_t flops0 = k->flops, sram0 = k->sram_bytes;
    e->prog->device.task(&h, sram_base(e, pe), id, payload);
    if (wse__sram_guard_broken(e, pe))
        wse__fault_pe(e, pe, WSE_EPROGRAM,
                      "task %d of program '%s' wrote past the end of the PE's %u bytes of allocations",
                      id, e->prog->name, e->pe[pe].sram_used);
    uint64_t cost = h.charged ? h.charged : 1;
    if (p->flags & PE_THROTTLED) {
        /* a throttled PE (power.c) runs its tasks at rate_percent of
         * the rate: the cycles they cost, scaled and rounded up */
        uint64_t pct = (uint64_t)e->topo.throttle_rate_percent;
        uint64_t slow = (cost * 100 + pct - 1) / pct;
        e->throttle_cycles += slow - cost;
        cost = slow;
    }
    p->busy_until = t + cost;
    k->task_start = t;
    k->task_cost = cost;
    k->task_flops = k->flops - flops0;
    k->task_sram = k->sram_bytes - sram0;
    e->cnt[pe].busy_cycles += cost;
    e->cnt[pe].tasks++;
    e->st.tasks_run++;
    sched_wake(e, pe, p->busy_until);
}

/* Pick and run the highest-priority ready task, if the CE is free.  A
 * data task is ready when a data wavelet of its color is visible and no
 * fabin is waiting for that color (the fabin takes it); a control task
 * when a control wavelet naming it heads one of the PE's CE queues. */
static void dispatch(wse_engine *e, uint32_t pe, int ramp_in,
                     uint32_t fabin_colors, uint64_t t)
{
    wse_pestate *p = &e->pe[pe];
    if (!(p->active | p->data_tasks | p->control_tasks) || p->busy_until > t ||
        (p->flags & PE_SYNC_WAIT))
        return;
    uint64_t ready = p->active & p->local_tasks & ~p->blocked;
    /* data tasks that may run, as colors (the queues'); their ids are the
     * colors but on wse3 (data_task_id) */
    int qids = queue_task_ids(e);
    uint32_t data = data_task_colors(e, p->iq, p->data_tasks & ~p->blocked) & ~fabin_colors;
    uint64_t control = p->control_tasks & ~p->blocked;
    uint32_t dq[WSE_MAX_TASKS];
    if ((data || control) && !ramp_in) {
        for (uint32_t i = p->q_first; i < p->q_first + p->nq; i++) {
            wse_queue *q = &e->q[i];
            if (q->kind != Q_CE)
                continue;
            int is_data = (data >> q->color) & 1;
            uint64_t bit = !is_data ? 0 : 1ull << (qids ? data_task_id(e, p->iq, q->color) : q->color);
            if (!control && (!is_data || (ready & bit)))
                continue;
            queue_sync(q, t);
            if (queue_visible(q) == 0)
                continue;
            uint32_t w;
            if (control_head(e, pe, i, &w)) {
                if (e->failed)
                    return;
                bit = 1ull << pe_control_task(w);
                if (!(control & bit))
                    continue;
            } else if (!is_data) {
                continue;
            }
            if (!(ready & bit)) {
                ready |= bit;
                dq[__builtin_ctzll(bit)] = i;
            }
        }
    }
    if (!ready)
        return;
    int id = __builtin_ctzll(ready);
    uint32_t payload = 0;
    if ((p->data_tasks >> id) & 1)
        payload = take(e, pe, dq[id], t);
    else if ((p->control_tasks >> id) & 1)
        payload = take(e, pe, dq[id], t) & 0xffffu;
    else
        p->active &= ~(1ull << id);
    run_task(e, pe, id, payload, t);
}

/* Fabric elements whose arithmetic needs the datapath moved at t, so it
 * served them that cycle (both ramp directions' at once): a task running
 * on the main thread, even one that starts at t, ends
 * fabric_datapath_cycles later.  Plain moves between SRAM and the ramp
 * leave the datapath to the main thread. */
static void datapath_lent(wse_engine *e, uint32_t pe, uint64_t t)
{
    wse_pestate *p = &e->pe[pe];
    uint64_t c = (uint64_t)e->topo.fabric_datapath_cycles;
    if (!c || p->busy_until <= t)
        return;
    p->busy_until += c;
    e->cnt[pe].busy_cycles += c;
    sched_wake(e, pe, p->busy_until);
}

int wse__ce_step(wse_engine *e, uint32_t pe, uint64_t t)
{
    int ramp_in = 0, more = 0, computed = 0;
    uint32_t fabin_colors = 0;
    if (e->pe[pe].nops)
        more = ops_step(e, pe, &ramp_in, &fabin_colors, &computed, t);
    if (!e->failed)
        dispatch(e, pe, ramp_in, fabin_colors, t);
    if (computed)
        datapath_lent(e, pe, t);
    return more;
}

void wse__ce_describe(const wse_engine *e, uint32_t pe, char *buf, size_t n)
{
    const wse_pestate *p = &e->pe[pe];
    int y, x = pe_xy(e, pe, &y);
    if (p->nops) {
        const wse_op *op = op_at(e, p, 0);
        static const char *const kind[] = { "fabout", "fabin", "fabout", "a descriptor op from fabin",
                                            "a descriptor op to fabout",
                                            "a descriptor op from fabin to fabout" };
        snprintf(buf, n, "PE (%d,%d) waits in %s on color %d (%u of %u wavelets moved)",
                 x, y, kind[op->kind], op->color, op->done, op->n);
        return;
    }
    uint64_t data = p->data_tasks & ~p->blocked;
    if (data) {
        snprintf(buf, n, "PE (%d,%d) waits for data on color %d (data task, no wavelet)",
                 x, y, data_task_color(e, p->iq, __builtin_ctzll(data)));
        return;
    }
    if (p->active & p->blocked)
        snprintf(buf, n, "PE (%d,%d) has task %d activated but blocked", x, y,
                 __builtin_ctzll(p->active & p->blocked));
    else
        snprintf(buf, n, "PE (%d,%d) has no task that can run", x, y);
}
