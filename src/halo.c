/*
 * src/halo.c - events across shard edges, and the queues that stand for
 * the other side (see halo_int.h).
 *
 * Drawback: every edge queue costs a slot in each window's bound on events
 * (wse__halo_outbox_max), which sizes the receive buffers even when little
 * crosses.
 */
#include <stdlib.h>
#include <string.h>
#include "fault_int.h"
#include "halo_int.h"
#include "queue_int.h"
#include "sched_int.h"

/* ------------------------------------------------------------ building */

uint64_t wse__halo_count_ghosts(const wse_engine *e)
{
    uint64_t ng = 0;
    for (uint64_t i = 0; i < e->hroutes.n; i++) {
        int s = halo_side(e->hroutes.v[i].pe);
        if (e->hroutes.v[i].rx_all & pe_port_mask(pe_port_opposite(s)))
            ng++;
    }
    return ng;
}

/* Ghost queues: for each halo PE, in side then offset order, one per route
 * that accepts wavelets from the port facing this shard.  They hold the
 * producer's view (credits) of a neighbour shard's queue. */
static int make_ghosts(wse_engine *e, uint32_t *qi)
{
    uint64_t i = 0;
    e->ghost_pe = calloc(e->nq - e->nq_own ? e->nq - e->nq_own : 1, sizeof *e->ghost_pe);
    if (!e->ghost_pe)
        return wse__fault_pe(e, 0, WSE_ENOMEM, "out of memory for ghosts");
    for (int s = 0; s < 4; s++) {
        uint32_t len = side_len(e, s);
        e->ghost_at[s] = calloc(len + 1, sizeof *e->ghost_at[s]);
        if (!e->ghost_at[s])
            return wse__fault_pe(e, 0, WSE_ENOMEM, "out of memory for ghosts");
        e->ghost_first[s] = *qi;
        int facing = pe_port_opposite(s);
        for (uint32_t o = 0; o < len; o++) {
            e->ghost_at[s][o] = *qi;
            for (; i < e->hroutes.n && e->hroutes.v[i].pe == halo_id(s, o); i++) {
                const wse_route *r = &e->hroutes.v[i];
                if (!(r->rx_all & pe_port_mask(facing)))
                    continue;
                wse_queue *q = &e->q[*qi];
                memset(q, 0, sizeof *q);
                q->color = r->color;
                q->port = (uint8_t)facing;
                q->kind = Q_GHOST;
                /* the link into the halo PE, beside the owned one */
                int x, y;
                pe_coords(e, side_pe(e, s, o), &x, &y);
                q->lat = link_latency(e, x + pe_port_dx(s), y + pe_port_dy(s), facing) & 31u;
                /* as the queue it stands for: fed straight to the CE? */
                q->txports = r->tx == WSE_RAMP && r->xi == WSE_NONE ? WSE_RAMP : 0;
                q->tx = WSE_NONE;
                e->ghost_pe[*qi - e->nq_own] = side_pe(e, s, o);
                (*qi)++;
            }
        }
        e->ghost_at[s][len] = *qi;
        e->ghost_n[s] = *qi - e->ghost_first[s];
    }
    return 0;
}

/* Owned queues fed from a neighbour shard, per side, in queue order. */
static int make_edge_lists(wse_engine *e)
{
    for (int pass = 0; pass < 2; pass++) {
        uint32_t n[4] = { 0, 0, 0, 0 };
        for (uint32_t pe = 0; pe < e->npe; pe++)
            for (uint32_t k = e->pe[pe].q_first; k < e->pe[pe].q_first + e->pe[pe].nq; k++) {
                int port = e->q[k].port;
                if (port >= 4 || !is_remote(e, pe, port))
                    continue;
                if (pass == 1) {
                    e->q[k].up_remote = 1;
                    e->bq[port][n[port]].q = k;
                    e->bq[port][n[port]].pe = pe;
                }
                n[port]++;
            }
        for (int s = 0; s < 4 && pass == 0; s++) {
            e->bq_n[s] = n[s];
            e->bq[s] = calloc(n[s] ? n[s] : 1, sizeof *e->bq[s]);
            if (!e->bq[s])
                return wse__fault_pe(e, 0, WSE_ENOMEM, "out of memory for edge queues");
        }
    }
    return 0;
}

int wse__halo_build(wse_engine *e, uint32_t *qi)
{
    if (make_ghosts(e, qi) || make_edge_lists(e))
        return e->err->code;
    return 0;
}

uint32_t wse__halo_target(const wse_engine *e, uint32_t pe, int color, int d)
{
    uint32_t o = side_offset(e, pe, d);
    for (uint32_t g = e->ghost_at[d][o]; g < e->ghost_at[d][o + 1]; g++)
        if (e->q[g].color == color)
            return g;
    return WSE_NONE;
}

/* ------------------------------------------------------------ run time */

static void append(wse_engine *e, int side, uint64_t cycle, uint32_t pos, uint32_t word)
{
    wse_evbuf *b = &e->out[side];
    if (b->n == b->cap) {
        uint32_t cap = b->cap ? b->cap * 2 : 256;
        wse_event *v = realloc(b->ev, (uint64_t)cap * sizeof *v);
        if (!v) {
            e->failed = 1;
            wse_error_set(e->err, WSE_ENOMEM, NULL, 0, 0, "out of memory for halo events");
            return;
        }
        b->ev = v;
        b->cap = cap;
    }
    b->ev[b->n].cycle = cycle;
    b->ev[b->n].pos = pos;
    b->ev[b->n].word = word;
    b->n++;
}

/* Position of owned queue qi in side's list of remotely fed queues. */
static uint32_t edge_pos(const wse_engine *e, int side, uint32_t qi)
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

void wse__halo_credit(wse_engine *e, uint32_t qi, uint64_t t)
{
    int side = e->q[qi].port;
    append(e, side, t, edge_pos(e, side, qi) | WSE_EVENT_POP, 0);
}

void wse__halo_wavelet(wse_engine *e, int port, uint32_t tg, uint32_t word, unsigned ctrl,
                       uint64_t t)
{
    append(e, port, t, (tg - e->ghost_first[port]) | (ctrl ? WSE_EVENT_CTRL : 0), word);
}

const wse_event *wse__halo_outbox(const wse_engine *e, int side, uint32_t *n)
{
    *n = e->out[side].n;
    return e->out[side].ev;
}

void wse__halo_outbox_clear(wse_engine *e)
{
    for (int s = 0; s < 4; s++)
        e->out[s].n = 0;
}

uint32_t wse__halo_outbox_max(const wse_engine *e, int side, uint64_t window)
{
    /* each queue across the edge: at most one push and one pop per cycle */
    uint64_t n = (uint64_t)(e->ghost_n[side] + e->bq_n[side]) * window;
    return n > UINT32_MAX / 2 ? UINT32_MAX / 2 : (uint32_t)n;
}

int wse__halo_apply(wse_engine *e, int side, const wse_event *ev, uint32_t n,
                    wse_error *err)
{
    uint64_t now = e->now;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t pos = ev[i].pos & ~(WSE_EVENT_POP | WSE_EVENT_CTRL);
        int pop = (ev[i].pos & WSE_EVENT_POP) != 0;
        unsigned ctrl = (ev[i].pos & WSE_EVENT_CTRL) != 0;
        uint64_t age = now - ev[i].cycle;
        if (ev[i].cycle >= now ||
            pos >= (pop ? e->ghost_n[side] : e->bq_n[side]))
            return wse_error_set(err, WSE_EINVAL, NULL, 0, 0,
                                 "bad halo event (side %s, position %u, cycle %llu at %llu)",
                                 wse__port_name[side], pos, (unsigned long long)ev[i].cycle,
                                 (unsigned long long)now);
        uint32_t qi = pop ? e->ghost_first[side] + pos : e->bq[side][pos].q;
        uint64_t due = ev[i].cycle + e->q[qi].lat;
        uint32_t bit = age < 32 ? 1u << age : 0;    /* older: long visible */
        if (!pop && due < now) {
            e->st.late_wavelets++;
            e->st.late_cycles += now - due;
        }
        if (pop) {
            wse_queue *q = &e->q[qi];
            queue_sync(q, now);
            q->head++;
            q->pop_hist |= bit;
            sched_wake_between(e, e->ghost_pe[qi - e->nq_own], due);
        } else {
            const wse_bq *b = &e->bq[side][pos];
            queue_sync(&e->q[b->q], now);
            queue_store(e, b->q, ev[i].word, bit, ctrl);
            sched_wake_between(e, b->pe, due);
        }
    }
    return 0;
}

void wse__halo_free(wse_engine *e)
{
    free(e->ghost_pe);
    for (int s = 0; s < 4; s++) {
        free(e->ghost_at[s]);
        free(e->bq[s]);
        free(e->out[s].ev);
    }
}
