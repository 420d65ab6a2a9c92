/*
 * src/engine.c - the exact cycle engine at run time: routers, queues,
 * credits, the compute engine's task scheduler and fabric operations, time,
 * and the events that cross shard edges.  Building a shard is layout.c.
 *
 * Design.
 *  - Only configured (PE, color, input port) queues exist (wse_queue, 32 B
 *    plus queue_depth words).  Routes are resolved to target queue ids once,
 *    after setup; the hot path never looks a route up.
 *  - Two-phase semantics without double buffering: every decision at cycle
 *    t uses the state at the start of t.  A queue remembers the cycles of
 *    its last pushes and pops (32-cycle bit histories).  A push at cycle s
 *    becomes visible to the consumer at s + L (L = hop latency); a pop at s
 *    returns its credit to the producer at s + L.  So a consumer never sees
 *    a same-cycle push, and a producer counts a same-cycle pop as a credit
 *    still in flight: the result does not depend on the order PEs are
 *    visited in, which is what lets shards and threads run independently
 *    within a lookahead window of L cycles.
 *  - Idle PEs cost nothing: a PE is visited at cycle t only if something
 *    woke it for t (a wavelet arriving, a credit returning, its CE becoming
 *    free, an operation starting).  Wakes less than 32 cycles ahead go into
 *    a ring of two-level bitmaps, later ones into a binary heap; time jumps
 *    over cycles with no wake.
 *  - Fixed tie-breaking: within a PE, queues in (color, port) order claim
 *    output ports first; fabric operations move in issue order; the lowest
 *    ready task id runs.  Nothing depends on host timing or thread ids.
 *
 * Drawbacks.  A PE whose queue is stalled by a port conflict (not by
 * credits) is revisited every cycle; with L > 1 a PE holding in-flight
 * wavelets is also revisited before they arrive.  Both only cost time.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "engine_int.h"

static const char *const port_name[6] = { "N", "E", "S", "W", "RAMP", "router" };

/* Events of a history in the last L cycles (bit 0 = this cycle).  L = 1,
 * the common case, needs no popcount. */
static inline unsigned in_window(const wse_engine *e, uint32_t hist)
{
    if (e->latency == 1)
        return hist & 1u;
    return popc32(hist & (uint32_t)((1ull << e->latency) - 1));
}

/* Bring a queue's histories to cycle t (bit 0 = cycle t).  The stamp
 * keeps 32 bits of the cycle: the run loop clears every history before
 * time can advance 2^31 cycles past a stamp (see sweep_histories), so the
 * 32-bit difference is always the true one for a non-empty history. */
static inline void q_sync(wse_queue *q, uint64_t t)
{
    uint32_t d = (uint32_t)t - q->stamp;
    if (d == 0)
        return;
    if (d >= 32) {
        q->push_hist = 0;
        q->pop_hist = 0;
    } else {
        q->push_hist <<= d;
        q->pop_hist <<= d;
    }
    q->stamp = (uint32_t)t;
}

static inline unsigned q_count(const wse_queue *q)
{
    return (uint8_t)(q->tail - q->head);
}

/* Wavelets the consumer may take at cycle t (pushed at t - L or earlier). */
static inline unsigned q_visible(const wse_engine *e, const wse_queue *q)
{
    return q_count(q) - in_window(e, q->push_hist);
}

/* Whether the producer holds a credit at cycle t. */
static inline int q_credit(const wse_engine *e, const wse_queue *q)
{
    return q_count(q) + in_window(e, q->pop_hist) < (unsigned)e->depth;
}

static inline void q_push(wse_engine *e, uint32_t qi, uint32_t word)
{
    wse_queue *q = &e->q[qi];
    e->slots[(uint64_t)qi * e->depth + q->tail % e->depth] = word;
    q->tail++;
    q->push_hist |= 1u;
}

static inline uint32_t q_pop(wse_engine *e, uint32_t qi)
{
    wse_queue *q = &e->q[qi];
    uint32_t w = e->slots[(uint64_t)qi * e->depth + q->head % e->depth];
    q->head++;
    q->pop_hist |= 1u;
    return w;
}

int wse__engine_fail(wse_engine *e, uint32_t pe, int code, const char *fmt, ...)
{
    char msg[768];
    if (pe != WSE_NONE && (pe & WSE_HALO_PE))
        return code;        /* the shard owning that PE reports it */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!e->failed) {
        int y, x = pe_xy(e, pe, &y);
        wse_error_set(e->err, code, NULL, 0, 0, "PE (%d,%d) at cycle %llu: %s",
                      x, y, (unsigned long long)e->now, msg);
    }
    e->failed = 1;
    return code;
}

/* ------------------------------------------------------------ bitset & heap */

static inline void bitset_set(wse_bitset *b, uint32_t i)
{
    uint64_t m = 1ull << (i & 63);
    uint64_t *w = &b->w[i >> 6];
    if (!(*w & m)) {
        *w |= m;
        b->sum[i >> 12] |= 1ull << ((i >> 6) & 63);
        b->count++;
    }
}

static int heap_push(wse_engine *e, uint64_t cycle, uint32_t pe)
{
    if (e->nheap == e->heap_cap) {
        uint64_t cap = e->heap_cap ? e->heap_cap * 2 : 1024;
        wse_timer *h = realloc(e->heap, cap * sizeof *h);
        if (!h)
            return wse__engine_fail(e, pe, WSE_ENOMEM, "out of memory for timers");
        e->heap = h;
        e->heap_cap = cap;
    }
    uint64_t i = e->nheap++;
    while (i > 0) {
        uint64_t p = (i - 1) / 2;
        if (e->heap[p].cycle <= cycle)
            break;
        e->heap[i] = e->heap[p];
        i = p;
    }
    e->heap[i].cycle = cycle;
    e->heap[i].pe = pe;
    return 0;
}

static wse_timer heap_pop(wse_engine *e)
{
    wse_timer top = e->heap[0];
    wse_timer last = e->heap[--e->nheap];
    uint64_t i = 0, n = e->nheap;
    for (;;) {
        uint64_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && e->heap[c + 1].cycle < e->heap[c].cycle)
            c++;
        if (e->heap[c].cycle >= last.cycle)
            break;
        e->heap[i] = e->heap[c];
        i = c;
    }
    if (n)
        e->heap[i] = last;
    return top;
}

/* Visit pe at `cycle` (> now while running; any cycle during setup). */
static inline void wake(wse_engine *e, uint32_t pe, uint64_t cycle)
{
    if (pe == WSE_NONE)
        return;
    if (!e->running) {                  /* setup: everything starts at 0 */
        bitset_set(&e->ring[0], pe);
        return;
    }
    if (cycle <= e->now)
        cycle = e->now + 1;
    if (cycle - e->now < WSE_RING)
        bitset_set(&e->ring[cycle % WSE_RING], pe);
    else
        heap_push(e, cycle, pe);
}

void wse__engine_wake(wse_engine *e, uint32_t pe, uint64_t cycle)
{
    wake(e, pe, cycle);
}

/* Wake between windows, when cycle may be the coming one itself. */
static void wake_between(wse_engine *e, uint32_t pe, uint64_t cycle)
{
    if (cycle < e->now)
        cycle = e->now;
    if (cycle - e->now < WSE_RING)
        bitset_set(&e->ring[cycle % WSE_RING], pe);
    else
        heap_push(e, cycle, pe);
}

/* ------------------------------------------------------------ events */

static int ev_append(wse_engine *e, int side, uint64_t cycle, uint32_t pos, uint32_t word)
{
    wse_evbuf *b = &e->out[side];
    if (b->n == b->cap) {
        uint32_t cap = b->cap ? b->cap * 2 : 256;
        wse_event *v = realloc(b->ev, (uint64_t)cap * sizeof *v);
        if (!v) {
            e->failed = 1;
            return wse_error_set(e->err, WSE_ENOMEM, NULL, 0, 0, "out of memory for halo events");
        }
        b->ev = v;
        b->cap = cap;
    }
    b->ev[b->n].cycle = cycle;
    b->ev[b->n].pos = pos;
    b->ev[b->n].word = word;
    b->n++;
    return 0;
}

/* Position of owned queue qi in side's list of remotely fed queues. */
static uint32_t bq_pos(const wse_engine *e, int side, uint32_t qi)
{
    uint32_t lo = 0, hi = e->bq_n[side];
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (e->bq[side][mid].q < qi)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* After popping queue qi of PE pe at t: the producer gets its credit back
 * L cycles later, here or, across a shard edge, through an event. */
static void popped(wse_engine *e, uint32_t pe, uint32_t qi, uint64_t t)
{
    const wse_queue *q = &e->q[qi];
    if (q->up_remote) {
        ev_append(e, q->port, t, bq_pos(e, q->port, qi) | WSE_EVENT_POP, 0);
        return;
    }
    /* a queue that was popped was pushed: its producer exists here */
    wake(e, (uint32_t)((int32_t)pe + e->step[q->port]), t + (uint64_t)e->latency);
}

/* After pushing word into queue tg from PE pe's output port at t. */
static void pushed(wse_engine *e, uint32_t pe, int port, uint32_t tg, uint32_t word, uint64_t t)
{
    if (tg < e->nq_own) {       /* resolved, so the neighbour exists here */
        wake(e, (uint32_t)((int32_t)pe + e->step[port]), t + (uint64_t)e->latency);
        return;
    }
    ev_append(e, port, t, tg - e->ghost_first[port], word);
}

/* ------------------------------------------------------------ SRAM arena */

uint8_t *wse__engine_sram(const wse_engine *e, uint32_t pe)
{
    return e->chunks[e->pe[pe].sram_chunk] + e->pe[pe].sram_off;
}

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

/* Slot i of PE pe's ops (i < nops, or i == nops when its block exists). */
static inline wse_op *op_at(wse_engine *e, const wse_pestate *p, unsigned i)
{
    uint32_t b = p->op_block;
    for (; i >= WSE_OPS_PER_BLOCK; i -= WSE_OPS_PER_BLOCK)
        b = e->opb[b].next;
    return &e->opb[b].op[i];
}

wse_op *wse__engine_op_push(wse_engine *e, uint32_t pe)
{
    wse_pestate *p = &e->pe[pe];
    if (p->nops == UINT8_MAX)
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

/* Remove op i, keeping the others in issue order. */
static void op_remove(wse_engine *e, wse_pestate *p, unsigned i)
{
    for (unsigned j = i; j + 1 < p->nops; j++)
        *op_at(e, p, j) = *op_at(e, p, j + 1);
    p->nops--;
}

/* ------------------------------------------------------------ create */

static int routing_error(wse_engine *e, uint32_t pe, const wse_queue *q, int port)
{
    int x = 0, y = 0;
    if (port < 4) {
        pe_coords(e, pe, &x, &y);
        x += dx[port];
        y += dy[port];
    }
    if (port < 4 && where(e, x, y) == NB_OFF)
        return wse__engine_fail(e, pe, WSE_EROUTE,
                                "color %d: tx %s leads off the edge of the region",
                                q->color, port_name[port]);
    if (port < 4) {
        return wse__engine_fail(e, pe, WSE_EROUTE,
                                "color %d: wavelet sent %s to PE (%d,%d), which has no route for color %d from %s",
                                q->color, port_name[port], x, y, q->color,
                                port_name[(port + 2) % 4]);
    }
    return wse__engine_fail(e, pe, WSE_EROUTE, "color %d: no CE queue", q->color);
}

/* Forward the head of router queue qi if its outputs are free and every
 * target has a credit.  Returns 1 if the PE must be revisited next cycle. */
static int route_one(wse_engine *e, uint32_t pe, uint32_t qi, uint32_t *used, uint64_t t)
{
    wse_queue *q = &e->q[qi];
    q_sync(q, t);
    /* Wavelets still in flight wake this PE when they arrive, so only the
     * visible ones count: that keeps even the set of visits independent of
     * the order PEs are visited in, hence of the decomposition. */
    unsigned vis = q_visible(e, q);
    if (vis == 0)
        return 0;
    if (q->txports & *used)
        return 1;
    if (!(q->txports & (q->txports - 1))) {     /* unicast: the hot path */
        int port = __builtin_ctz(q->txports);
        uint32_t tq = q->tx;
        if (tq == WSE_NONE) {
            routing_error(e, pe, q, port);
            return 0;
        }
        wse_queue *r = &e->q[tq];
        q_sync(r, t);
        if (!q_credit(e, r))
            return 0;                   /* the credit's return wakes us */
        uint32_t word = q_pop(e, qi);
        popped(e, pe, qi, t);
        q_push(e, tq, word);
        pushed(e, pe, port, tq, word, t);
        if (port < 4) {
            e->cnt[pe].link_out[port]++;
            e->st.hops++;
        }
        *used |= q->txports;
        return vis > 1;
    }
    int multi = 1;
    const uint32_t *tg = multi ? &e->mcast[q->tx] : &q->tx;
    int ntg = (int)popc32(q->txports);
    for (int k = 0, port = 0; k < ntg; port++) {
        if (!(q->txports & (1u << port)))
            continue;
        if (tg[k] == WSE_NONE) {
            routing_error(e, pe, q, port);
            return 0;
        }
        wse_queue *r = &e->q[tg[k]];
        q_sync(r, t);
        if (!q_credit(e, r))
            return 0;                   /* the credit's return wakes us */
        k++;
    }
    uint32_t word = q_pop(e, qi);
    popped(e, pe, qi, t);
    wse_pecount *c = &e->cnt[pe];
    for (int k = 0, port = 0; k < ntg; port++) {
        if (!(q->txports & (1u << port)))
            continue;
        q_push(e, tg[k], word);
        pushed(e, pe, port, tg[k], word, t);
        if (port < 4) {
            c->link_out[port]++;
            e->st.hops++;
        }
        k++;
    }
    *used |= q->txports;
    return vis > 1;
}

/* ------------------------------------------------------------ the CE */

/* First CE queue of color at pe with a visible wavelet, or WSE_NONE. */
static uint32_t ce_ready_queue(wse_engine *e, uint32_t pe, int color, uint64_t t)
{
    const wse_pestate *p = &e->pe[pe];
    for (uint32_t i = p->q_first; i < p->q_first + p->nq; i++) {
        wse_queue *q = &e->q[i];
        if (q->kind != Q_CE || q->color != color)
            continue;
        q_sync(q, t);
        if (q_visible(e, q) > 0)
            return i;
    }
    return WSE_NONE;
}

static uint32_t ce_take(wse_engine *e, uint32_t pe, uint32_t qi, uint64_t t)
{
    uint32_t w = q_pop(e, qi);
    popped(e, pe, qi, t);
    e->cnt[pe].received++;
    e->st.wavelets_received++;
    return w;
}

/* Move one wavelet of op if it can.  Returns 1 if it moved. */
static int op_step(wse_engine *e, uint32_t pe, wse_op *op, int *ramp_out,
                   int *ramp_in, uint64_t t)
{
    uint8_t *sram = wse__engine_sram(e, pe);
    if (op->kind == OP_FABIN) {
        if (*ramp_in)
            return 0;
        uint32_t qi;
        if (op->flags & OPF_ONE_QUEUE) {        /* the common case: no scan */
            wse_queue *q = &e->q[op->queue];
            q_sync(q, t);
            if (q_visible(e, q) == 0)
                return 0;
            qi = op->queue;
        } else if ((qi = ce_ready_queue(e, pe, op->color, t)) == WSE_NONE) {
            return 0;
        }
        uint32_t w = ce_take(e, pe, qi, t);
        uint8_t *dst = sram + op->addr + (int64_t)op->done * op->stride * 4;
        if (op->flags & WSE_FABIN_ADD) {
            float f;
            memcpy(&f, dst, 4);
            f += pe_bits_f32(w);
            memcpy(dst, &f, 4);
            e->cnt[pe].flops++;
        } else {
            memcpy(dst, &w, 4);
        }
        *ramp_in = 1;
        return 1;
    }
    if (*ramp_out)
        return 0;
    wse_queue *r = &e->q[op->queue];
    q_sync(r, t);
    if (!q_credit(e, r))
        return 0;
    uint32_t w = op->addr;
    if (op->kind == OP_FABOUT)
        memcpy(&w, sram + op->addr + (int64_t)op->done * op->stride * 4, 4);
    q_push(e, op->queue, w);
    wake(e, pe, t + (uint64_t)e->latency);
    e->cnt[pe].sent++;
    e->st.wavelets_sent++;
    *ramp_out = 1;
    return 1;
}

/* Advance the PE's fabric operations.  Returns 1 if it must be revisited
 * next cycle; *fabin_colors gets the colors with a pending fabin. */
static int ops_step(wse_engine *e, uint32_t pe, int *ramp_in,
                    uint32_t *fabin_colors, uint64_t t)
{
    wse_pestate *p = &e->pe[pe];
    int ramp_out = 0, more = 0;
    for (unsigned i = 0; i < p->nops;) {
        wse_op *op = op_at(e, p, i);
        if (op->kind == OP_FABIN)
            *fabin_colors |= 1u << op->color;
        int started = (int32_t)((uint32_t)t - op->start) >= 0;
        if (!started || !op_step(e, pe, op, &ramp_out, ramp_in, t)) {
            int blocked_on_port = started &&
                ((op->kind == OP_FABIN && *ramp_in) || (op->kind != OP_FABIN && ramp_out));
            more |= blocked_on_port;
            i++;
            continue;
        }
        more = 1;
        if (++op->done < op->n) {
            i++;
            continue;
        }
        /* complete: signal, then drop it */
        if (op->on_done >= 0)
            p->active |= 1ull << op->on_done;
        if (!(op->flags & WSE_ASYNC))
            p->flags &= (uint8_t)~PE_SYNC_WAIT;
        op_remove(e, p, i);
    }
    return more;
}

static void run_task(wse_engine *e, uint32_t pe, int id, uint32_t payload, uint64_t t)
{
    wse_pestate *p = &e->pe[pe];
    struct wse_pe h = { .e = e, .idx = pe, .now = t,
                        .charged = (uint64_t)e->topo.task_switch_cycles, .in_setup = 0 };
    pe_coords(e, pe, &h.x, &h.y);
    e->prog->task(&h, wse__engine_sram(e, pe), id, payload);
    if (wse__engine_guard_broken(e, pe))
        wse__engine_fail(e, pe, WSE_EPROGRAM,
                         "task %d of program '%s' wrote past the end of the PE's %u bytes of allocations",
                         id, e->prog->name, e->pe[pe].sram_used);
    uint64_t cost = h.charged ? h.charged : 1;
    p->busy_until = t + cost;
    e->cnt[pe].busy_cycles += cost;
    e->cnt[pe].tasks++;
    e->st.tasks_run++;
    wake(e, pe, p->busy_until);
}

/* Pick and run the highest-priority ready task, if the CE is free. */
static void dispatch(wse_engine *e, uint32_t pe, int ramp_in,
                     uint32_t fabin_colors, uint64_t t)
{
    wse_pestate *p = &e->pe[pe];
    if (p->busy_until > t || (p->flags & PE_SYNC_WAIT))
        return;
    uint64_t ready = p->active & p->local_tasks & ~p->blocked;
    uint64_t data = p->data_tasks & ~p->blocked & ~(uint64_t)fabin_colors;
    uint32_t dq[64];
    if (data && !ramp_in) {
        for (uint32_t i = p->q_first; i < p->q_first + p->nq; i++) {
            wse_queue *q = &e->q[i];
            uint64_t bit = 1ull << q->color;
            if (q->kind != Q_CE || !(data & bit) || (ready & bit))
                continue;
            q_sync(q, t);
            if (q_visible(e, q) > 0) {
                ready |= bit;
                dq[q->color] = i;
            }
        }
    }
    if (!ready)
        return;
    int id = __builtin_ctzll(ready);
    uint32_t payload = 0;
    if ((p->data_tasks >> id) & 1)
        payload = ce_take(e, pe, dq[id], t);
    else
        p->active &= ~(1ull << id);
    run_task(e, pe, id, payload, t);
}

static void visit(wse_engine *e, uint32_t pe, uint64_t t)
{
    wse_pestate *p = &e->pe[pe];
    uint32_t used = 0;
    int more = 0;
    for (uint32_t i = p->q_first; i < p->q_first + p->nq && !e->failed; i++)
        if (e->q[i].kind == Q_ROUTER)
            more |= route_one(e, pe, i, &used, t);
    int ramp_in = 0;
    uint32_t fabin_colors = 0;
    if (p->nops)
        more |= ops_step(e, pe, &ramp_in, &fabin_colors, t);
    if (!e->failed)
        dispatch(e, pe, ramp_in, fabin_colors, t);
    if (more)
        wake(e, pe, t + 1);
    e->st.pe_visits++;
}

/* ------------------------------------------------------------ time */

static void visit_all(wse_engine *e, wse_bitset *b, uint64_t t)
{
    for (uint32_t si = 0; si < b->nsum && !e->failed; si++) {
        uint64_t s = b->sum[si];
        b->sum[si] = 0;
        while (s) {
            uint32_t wi = si * 64 + (uint32_t)__builtin_ctzll(s);
            s &= s - 1;
            uint64_t w = b->w[wi];
            b->w[wi] = 0;
            while (w) {
                visit(e, wi * 64 + (uint32_t)__builtin_ctzll(w), t);
                w &= w - 1;
            }
        }
    }
    b->count = 0;
}

/* Keep every queue's 32-bit stamp within 2^31 cycles of the present (see
 * q_sync).  Runs once per 2^30 cycles of emulated time, or on a jump. */
static void sweep_histories(wse_engine *e, uint64_t t, uint64_t last_active)
{
    int all_old = t - last_active >= 32;    /* no event in the last 32 cycles */
    for (uint32_t i = 0; i < e->nq; i++) {
        wse_queue *q = &e->q[i];
        if (all_old) {
            q->push_hist = q->pop_hist = 0;
            q->stamp = (uint32_t)t;
        } else {
            q_sync(q, t);
        }
    }
    e->next_sweep = t + (1ull << 30);
}

/* Move timers due at cycle t into its set. */
static void due_timers(wse_engine *e, wse_bitset *cur, uint64_t t)
{
    while (e->nheap && e->heap[0].cycle <= t)
        bitset_set(cur, heap_pop(e).pe);
}

/* The next cycle after t with a wake, or UINT64_MAX. */
static uint64_t next_wake(const wse_engine *e, uint64_t t)
{
    uint64_t next = UINT64_MAX;
    for (uint64_t k = 1; k < WSE_RING; k++)
        if (e->ring[(t + k) % WSE_RING].count) {
            next = t + k;
            break;
        }
    if (e->nheap && e->heap[0].cycle < next)
        next = e->heap[0].cycle;
    return next;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void describe_stuck(wse_engine *e, uint32_t pe, char *buf, size_t n)
{
    const wse_pestate *p = &e->pe[pe];
    int y, x = pe_xy(e, pe, &y);
    if (p->nops) {
        const wse_op *op = op_at(e, p, 0);
        snprintf(buf, n, "PE (%d,%d) waits in %s on color %d (%u of %u wavelets moved)",
                 x, y, op->kind == OP_FABIN ? "fabin" : "fabout", op->color, op->done, op->n);
        return;
    }
    uint64_t data = p->data_tasks & ~p->blocked;
    if (data) {
        snprintf(buf, n, "PE (%d,%d) waits for data on color %d (data task, no wavelet)",
                 x, y, __builtin_ctzll(data));
        return;
    }
    if (p->active & p->blocked)
        snprintf(buf, n, "PE (%d,%d) has task %d activated but blocked", x, y,
                 __builtin_ctzll(p->active & p->blocked));
    else
        snprintf(buf, n, "PE (%d,%d) has no task that can run", x, y);
}

void wse_deadlock_message(wse_error *err, uint64_t cycle, uint64_t unfinished, uint64_t pes,
                          const wse_stuck *s, int n)
{
    char msg[900] = "";
    for (int i = 0; i < n; i++) {
        size_t len = strlen(msg);
        snprintf(msg + len, sizeof msg - len, "%s%s", i ? "; " : "", s[i].what);
    }
    wse_error_set(err, WSE_EDEADLOCK, NULL, 0, 0,
                  "deadlock at cycle %llu: %llu of %llu PEs unfinished and nothing can move: %s",
                  (unsigned long long)cycle, (unsigned long long)unfinished,
                  (unsigned long long)pes, msg);
}

static int report_deadlock(wse_engine *e, uint64_t t)
{
    wse_stuck s[3];
    int n = wse_engine_stuck(e, 3, s);
    wse_deadlock_message(e->err, t, e->unfinished, e->npe, s, n);
    return WSE_EDEADLOCK;
}

uint64_t wse_engine_next(const wse_engine *e)
{
    if (e->ring[e->now % WSE_RING].count)
        return e->now;
    return next_wake(e, e->now);
}

int wse_engine_advance(wse_engine *e, uint64_t end, wse_error *err)
{
    wse_error local;
    wse_error_clear(&local);
    e->err = err ? err : &local;
    e->running = 1;
    uint64_t t = e->now;
    while (t < end && !e->failed) {
        wse_bitset *cur = &e->ring[t % WSE_RING];
        due_timers(e, cur, t);
        if (cur->count == 0) {
            t = next_wake(e, t);
            continue;
        }
        if (t >= e->next_sweep)
            sweep_histories(e, t, e->last_active);
        e->now = t;
        visit_all(e, cur, t);
        e->last_active = t;
        e->st.cycles_stepped++;
        t++;
    }
    e->now = end;
    int rc = e->failed ? e->err->code : 0;
    e->err = NULL;
    return rc;
}

const wse_event *wse_engine_outbox(const wse_engine *e, int side, uint32_t *n)
{
    *n = e->out[side].n;
    return e->out[side].ev;
}

void wse_engine_outbox_clear(wse_engine *e)
{
    for (int s = 0; s < 4; s++)
        e->out[s].n = 0;
}

uint32_t wse_engine_outbox_max(const wse_engine *e, int side, uint64_t window)
{
    /* each queue across the edge: at most one push and one pop per cycle */
    uint64_t n = (uint64_t)(e->ghost_n[side] + e->bq_n[side]) * window;
    return n > UINT32_MAX / 2 ? UINT32_MAX / 2 : (uint32_t)n;
}

int wse_engine_apply(wse_engine *e, int side, const wse_event *ev, uint32_t n,
                     wse_error *err)
{
    uint64_t now = e->now;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t pos = ev[i].pos & ~WSE_EVENT_POP;
        int pop = (ev[i].pos & WSE_EVENT_POP) != 0;
        uint64_t age = now - ev[i].cycle;
        if (ev[i].cycle >= now ||
            pos >= (pop ? e->ghost_n[side] : e->bq_n[side]))
            return wse_error_set(err, WSE_EINVAL, NULL, 0, 0,
                                 "bad halo event (side %s, position %u, cycle %llu at %llu)",
                                 port_name[side], pos, (unsigned long long)ev[i].cycle,
                                 (unsigned long long)now);
        uint64_t due = ev[i].cycle + (uint64_t)e->latency;
        uint32_t bit = age < 32 ? 1u << age : 0;    /* older: long visible */
        if (!pop && due < now) {
            e->st.late_wavelets++;
            e->st.late_cycles += now - due;
        }
        if (pop) {
            uint32_t qi = e->ghost_first[side] + pos;
            wse_queue *q = &e->q[qi];
            q_sync(q, now);
            q->head++;
            q->pop_hist |= bit;
            wake_between(e, e->ghost_pe[qi - e->nq_own], due);
        } else {
            const wse_bq *b = &e->bq[side][pos];
            wse_queue *q = &e->q[b->q];
            q_sync(q, now);
            e->slots[(uint64_t)b->q * e->depth + q->tail % e->depth] = ev[i].word;
            q->tail++;
            q->push_hist |= bit;
            wake_between(e, b->pe, due);
        }
    }
    return 0;
}

uint64_t wse_engine_last_active(const wse_engine *e) { return e->last_active; }
uint32_t wse_engine_unfinished(const wse_engine *e) { return e->unfinished; }

int wse_engine_stuck(const wse_engine *e, int max, wse_stuck *out)
{
    int shown = 0;
    for (uint32_t i = 0; i < e->npe && shown < max; i++) {
        if (e->pe[i].flags & PE_FINISHED)
            continue;
        int x, y;
        pe_coords(e, i, &x, &y);
        out[shown].index = (uint64_t)y * (uint64_t)e->region.width + (uint64_t)x;
        describe_stuck((wse_engine *)e, i, out[shown].what, sizeof out[shown].what);
        shown++;
    }
    return shown;
}

/* One engine alone: windows of one hop latency, skipping idle time. */
int wse_engine_run(wse_engine *e, uint64_t max_cycles, wse_error *err)
{
    double last = now_s();
    int rc = 0;
    for (;;) {
        uint64_t t = wse_engine_next(e);
        if (t == UINT64_MAX)
            break;
        if (t >= max_cycles) {
            rc = wse_error_set(err, WSE_ELIMIT, NULL, 0, 0,
                               "cycle limit max_cycles=%llu reached with %u PEs unfinished",
                               (unsigned long long)max_cycles, e->unfinished);
            break;
        }
        e->now = t;
        if ((rc = wse_engine_advance(e, t + (uint64_t)e->latency, err)) != 0)
            break;
        if (e->progress && now_s() - last >= e->progress_s) {
            last = now_s();
            e->progress(e->now, e->progress_arg);
        }
    }
    e->st.cycles = e->last_active;
    if (rc == 0 && e->unfinished > 0) {
        e->err = err;
        rc = report_deadlock(e, e->last_active);
        e->err = NULL;
    }
    return rc;
}

/* ------------------------------------------------------------ queries */

void wse_engine_stats_get(const wse_engine *e, wse_engine_stats *s)
{
    *s = e->st;
    s->pes = e->npe;
    s->flops = s->busy_cycles = s->sram_bytes_moved = 0;
    s->link_max = 0;
    s->sram_max = 0;
    for (uint32_t i = 0; i < e->npe; i++) {
        const wse_pecount *c = &e->cnt[i];
        s->flops += c->flops;
        s->busy_cycles += c->busy_cycles;
        s->sram_bytes_moved += c->sram_bytes;
        for (int d = 0; d < 4; d++)
            if (c->link_out[d] > s->link_max) {
                s->link_max = c->link_out[d];
                s->link_max_x = pe_xy(e, i, &s->link_max_y);
                s->link_max_port = d;
            }
        uint32_t used = e->pe[i].sram_used + e->topo.reserved_bytes;
        if (used > s->sram_max) {
            s->sram_max = used;
            s->sram_max_x = pe_xy(e, i, &s->sram_max_y);
        }
    }
}

wse_rect wse_engine_region(const wse_engine *e) { return e->region; }
wse_rect wse_engine_shard(const wse_engine *e) { return e->shard; }
const wse_program *wse_engine_program(const wse_engine *e) { return e->prog; }
const void *wse_engine_params(const wse_engine *e) { return e->params; }

/* Local index of region-relative (x, y), or WSE_NONE if not owned. */
static uint32_t local_index(const wse_engine *e, int x, int y)
{
    if (where(e, x, y) != NB_LOCAL)
        return WSE_NONE;
    return (uint32_t)(y - e->shard.y) * (uint32_t)e->shard.width + (uint32_t)(x - e->shard.x);
}

int wse_engine_block(wse_engine *e, int array, int x, int y, wse_array_block *b)
{
    uint32_t idx = local_index(e, x, y);
    if (array < 0 || array >= e->prog->n_arrays || idx == WSE_NONE)
        return WSE_EINVAL;
    struct wse_pe h = { .e = e, .idx = idx, .x = x, .y = y, .now = e->now };
    memset(b, 0, sizeof *b);
    e->prog->arrays[array].block(&h, wse__engine_sram(e, idx), b);
    return 0;
}

void *wse_engine_state(wse_engine *e, int x, int y)
{
    uint32_t idx = local_index(e, x, y);
    return idx == WSE_NONE ? NULL : wse__engine_sram(e, idx);
}

uint64_t wse_engine_overhead_bytes(const wse_engine *e)
{
    uint64_t b = sizeof *e;
    b += (uint64_t)e->npe * (sizeof *e->pe + sizeof *e->cnt);
    b += (uint64_t)e->nq * (sizeof *e->q + (uint64_t)e->depth * sizeof *e->slots);
    b += (uint64_t)e->nmcast * sizeof *e->mcast;
    b += (uint64_t)e->opb_cap * sizeof *e->opb;
    b += WSE_RING * ((uint64_t)e->ring[0].nw + e->ring[0].nsum) * 8;
    b += e->heap_cap * sizeof *e->heap;
    return b;
}

void wse_engine_set_progress(wse_engine *e, double seconds,
                             void (*fn)(uint64_t, void *), void *arg)
{
    e->progress_s = seconds;
    e->progress = fn;
    e->progress_arg = arg;
}
