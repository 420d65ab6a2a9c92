/*
 * src/router.c - routes: declared in setup, resolved into queues once,
 * then the router's cycle (see router_int.h).
 *
 * Fixed tie-breaking: within a PE, queues in (color, port) order claim
 * output ports first, so a lower color wins a contended link; a multicast
 * moves only when every output is free and every target has a credit.
 *
 * Drawback: a PE whose queue is stalled by a port conflict (not by
 * credits) is revisited every cycle; with L > 1 a PE holding in-flight
 * wavelets is also revisited before they arrive.  Both only cost time.
 */
#include <stdlib.h>
#include <string.h>
#include "fault_int.h"
#include "halo_int.h"
#include "queue_int.h"
#include "router_int.h"
#include "sram_int.h"
#include "sched_int.h"

/* ------------------------------------------------------------ setup */

static wse_route *route_push(wse_engine *e, wse_routes *l)
{
    if (l->n == l->cap) {
        uint64_t c = l->cap ? l->cap * 2 : 4096;
        wse_route *r = realloc(l->v, c * sizeof *r);
        if (!r) {
            e->failed = 1;
            wse_error_set(e->err, WSE_ENOMEM, NULL, 0, 0, "out of memory for routes");
            return NULL;
        }
        l->v = r;
        l->cap = c;
    }
    return &l->v[l->n++];
}

void wse__router_declare(wse_engine *e, uint32_t pe, int color, unsigned rx, unsigned tx)
{
    const unsigned all = WSE_N | WSE_E | WSE_S | WSE_W | WSE_RAMP;
    if (!rx || !tx || (rx & ~all) || (tx & ~all)) {
        wse__fault_pe(e, pe, WSE_EPROGRAM,
                      "pe_route color %d: rx 0x%x / tx 0x%x must be non-empty sets of N, E, S, W, RAMP",
                      color, rx, tx);
        return;
    }
    if ((rx & WSE_RAMP) && (tx & WSE_RAMP)) {
        wse__fault_pe(e, pe, WSE_EPROGRAM, "pe_route color %d: RAMP cannot be in both rx and tx", color);
        return;
    }
    wse_route *r = route_push(e, (pe & WSE_HALO_PE) ? &e->hroutes : &e->routes);
    if (!r)
        return;
    r->pe = pe;
    r->color = (uint8_t)color;
    r->rx = (uint8_t)rx;
    r->tx = (uint8_t)tx;
    r->rx_all = (uint8_t)rx;
    r->xi = WSE_NONE;
}

/* The route of (pe, color) declared so far: setup declares a PE's routes
 * together, so it is among the last few. */
static wse_route *declared(wse_engine *e, uint32_t pe, int color, const char *what)
{
    wse_routes *l = (pe & WSE_HALO_PE) ? &e->hroutes : &e->routes;
    for (uint64_t i = l->n; i-- > 0 && l->v[i].pe == pe;)
        if (l->v[i].color == color)
            return &l->v[i];
    wse__fault_pe(e, pe, WSE_EPROGRAM, "%s: color %d has no route yet (call pe_route first)",
                  what, color);
    return NULL;
}

/* The extras record of route r, created on first use.  NULL for a halo
 * PE (only its rx_all matters) or when out of memory. */
static wse_routex *extras(wse_engine *e, wse_route *r)
{
    if (r->pe & WSE_HALO_PE) {
        r->xi = 0;
        return NULL;
    }
    if (r->xi != WSE_NONE)
        return &e->rtx[r->xi];
    if (e->nrtx == e->rtx_cap) {
        uint32_t cap = e->rtx_cap ? e->rtx_cap * 2 : 256;
        wse_routex *v = realloc(e->rtx, (uint64_t)cap * sizeof *v);
        if (!v) {
            wse__fault_pe(e, r->pe, WSE_ENOMEM, "out of memory for routes");
            return NULL;
        }
        e->rtx = v;
        e->rtx_cap = cap;
    }
    wse_routex *x = &e->rtx[e->nrtx];
    memset(x, 0, sizeof *x);
    for (int k = 0; k < WSE_SWITCH_POSITIONS; k++) {
        x->rx[k] = r->rx;
        x->tx[k] = r->tx;
        x->tg[k] = WSE_NONE;
    }
    x->valid = 1;
    x->teardown_task = -1;
    r->xi = e->nrtx++;
    return x;
}

void wse__router_switch(wse_engine *e, uint32_t pe, int color, const wse_switch *sw)
{
    const unsigned all = WSE_N | WSE_E | WSE_S | WSE_W | WSE_RAMP;
    wse_route *r = declared(e, pe, color, "pe_route_switch");
    if (!r)
        return;
    unsigned valid = 1, rx_all = r->rx, rx[WSE_SWITCH_POSITIONS], tx[WSE_SWITCH_POSITIONS];
    rx[0] = r->rx;
    tx[0] = r->tx;
    for (int k = 1; k < WSE_SWITCH_POSITIONS; k++) {
        unsigned a = sw->rx[k - 1], b = sw->tx[k - 1];
        if ((a | b) & ~all) {
            wse__fault_pe(e, pe, WSE_EPROGRAM,
                          "pe_route_switch color %d: position %d: rx 0x%x / tx 0x%x must be sets of N, E, S, W, RAMP",
                          color, k, a, b);
            return;
        }
        if (!(a | b) || valid != (1u << k) - 1)
            continue;           /* no such position, nor any after it */
        rx[k] = a ? a : r->rx;
        tx[k] = b ? b : r->tx;
        if ((rx[k] & WSE_RAMP) && (tx[k] & WSE_RAMP)) {
            wse__fault_pe(e, pe, WSE_EPROGRAM,
                          "pe_route_switch color %d: position %d has RAMP in both rx and tx", color, k);
            return;
        }
        valid |= 1u << k;
        rx_all |= rx[k];
    }
    if (sw->position < 0 || sw->position >= WSE_SWITCH_POSITIONS || !((valid >> sw->position) & 1)) {
        wse__fault_pe(e, pe, WSE_EPROGRAM, "pe_route_switch color %d: position %d does not exist",
                      color, sw->position);
        return;
    }
    r->rx_all = (uint8_t)rx_all;
    wse_routex *x = extras(e, r);
    if (!x)
        return;
    for (int k = 0; k < WSE_SWITCH_POSITIONS; k++) {
        x->rx[k] = (uint8_t)((valid >> k) & 1 ? rx[k] : 0);
        x->tx[k] = (uint8_t)((valid >> k) & 1 ? tx[k] : 0);
    }
    x->valid = (uint8_t)valid;
    x->pos = (uint8_t)sw->position;
    x->ring = sw->ring != 0;
}

void wse__router_filter(wse_engine *e, uint32_t pe, int color, unsigned lo, unsigned hi)
{
    wse_route *r = declared(e, pe, color, "pe_route_filter");
    if (!r)
        return;
    if (lo > hi || hi > 0xffff) {
        wse__fault_pe(e, pe, WSE_EPROGRAM, "pe_route_filter color %d: range %u..%u is not within 0..65535",
                      color, lo, hi);
        return;
    }
    wse_routex *x = extras(e, r);
    if (!x)
        return;
    x->filter = 1;
    x->lo = (uint16_t)lo;
    x->hi = (uint16_t)hi;
}

void wse__router_swap(wse_engine *e, uint32_t pe, int color, unsigned ports)
{
    wse_route *r = declared(e, pe, color, "pe_route_swap");
    if (!r)
        return;
    if (!ports || (ports & ~(unsigned)(WSE_N | WSE_E | WSE_S | WSE_W))) {
        wse__fault_pe(e, pe, WSE_EPROGRAM, "pe_route_swap color %d: ports 0x%x must be a set of N, E, S, W",
                      color, ports);
        return;
    }
    if ((color ^ 1) >= e->topo.host_io_first_color) {
        wse__fault_pe(e, pe, WSE_EPROGRAM, "pe_route_swap color %d: its pair %d is not a color a program may use",
                      color, color ^ 1);
        return;
    }
    wse_routex *x = extras(e, r);
    if (x)
        x->swap = (uint8_t)ports;
}

void wse__router_teardown(wse_engine *e, uint32_t pe, int color, int task)
{
    wse_route *r = declared(e, pe, color, "pe_route_teardown");
    if (!r)
        return;
    wse_routex *x = extras(e, r);
    if (x)
        x->teardown_task = (int8_t)task;
}

/* The extended route of color at PE pe (at run time, from its queues). */
static wse_routex *route_x(wse_engine *e, uint32_t pe, int color, const char *what)
{
    const wse_pestate *p = &e->pe[pe];
    for (uint32_t i = p->q_first; i < p->q_first + p->nq; i++)
        if (e->q[i].kind == Q_ROUTER_X && e->q[i].color == color) {
            wse_routex *x = &e->rtx[e->q[i].tx];
            if (x->torn == TORN_DOWN)
                return x;
            break;
        }
    wse__fault_pe(e, pe, WSE_EPROGRAM, "%s: color %d is not in teardown here", what, color);
    return NULL;
}

void wse__router_set_position(wse_engine *e, uint32_t pe, int color, int position, const char *what)
{
    wse_routex *x = route_x(e, pe, color, what);
    if (!x)
        return;
    if (position < 0 || position >= WSE_SWITCH_POSITIONS || !((x->valid >> position) & 1)) {
        wse__fault_pe(e, pe, WSE_EPROGRAM, "%s: color %d has no switch position %d", what, color,
                      position);
        return;
    }
    x->pos = (uint8_t)position;
}

void wse__router_resume(wse_engine *e, uint32_t pe, int color, uint64_t when)
{
    wse_routex *x = route_x(e, pe, color, "pe_route_resume");
    if (!x)
        return;
    x->torn = TORN_RESUMING;
    x->changed = (uint32_t)when;          /* wavelets move again from `when` */
    sched_wake(e, pe, when);
}

/* Setup visits PEs in order, so routes arrive grouped by PE: sorting each
 * PE's few routes by color is all that is left. */
static void sort_routes(wse_routes *l)
{
    wse_route *r = l->v;
    for (uint64_t i = 1; i < l->n; i++) {
        wse_route v = r[i];
        uint64_t j = i;
        while (j > 0 && r[j - 1].pe == v.pe && r[j - 1].color > v.color) {
            r[j] = r[j - 1];
            j--;
        }
        r[j] = v;
    }
}

/* The tx of every position of route r together. */
static unsigned route_tx_all(const wse_engine *e, const wse_route *r)
{
    if (r->xi == WSE_NONE)
        return r->tx;
    const wse_routex *x = &e->rtx[r->xi];
    unsigned tx = 0;
    for (int k = 0; k < WSE_SWITCH_POSITIONS; k++)
        tx |= x->tx[k];
    return tx;
}

/* Whether route r has its CE fed by its own router (a CE queue on port
 * WSE_PORT_ROUTER) rather than straight from its rx queue: RAMP among
 * other outputs, or any extras. */
static int route_ce_via_router(const wse_engine *e, const wse_route *r)
{
    unsigned tx = route_tx_all(e, r);
    return (tx & WSE_RAMP) && (tx != WSE_RAMP || r->xi != WSE_NONE);
}

/* Queues a route creates: one per rx port of any position, plus a CE
 * queue fed by the router when it has one. */
static uint32_t route_nqueues(const wse_engine *e, const wse_route *r)
{
    return popc32(r->rx_all) + (route_ce_via_router(e, r) ? 1u : 0u);
}

static uint32_t find_queue(const wse_engine *e, uint32_t pe, int color, int port)
{
    const wse_pestate *p = &e->pe[pe];
    for (uint32_t i = p->q_first; i < p->q_first + p->nq; i++)
        if (e->q[i].color == color && e->q[i].port == port)
            return i;
    return WSE_NONE;
}

unsigned wse__router_ce_queues(const wse_engine *e, uint32_t pe, int color, uint32_t *first)
{
    const wse_pestate *p = &e->pe[pe];
    unsigned n = 0;
    *first = WSE_NONE;
    for (uint32_t i = p->q_first; i < p->q_first + p->nq; i++)
        if (e->q[i].kind == Q_CE && e->q[i].color == color && n++ == 0)
            *first = i;
    return n;
}

uint32_t wse__router_ramp_queue(const wse_engine *e, uint32_t pe, int color)
{
    return find_queue(e, pe, color, WSE_PORT_RAMP);
}

/* The queue a wavelet of color leaving PE pe through port lands in. */
static uint32_t resolve_target(const wse_engine *e, uint32_t pe, int color, int port)
{
    if (port == WSE_PORT_RAMP)
        return find_queue(e, pe, color, WSE_PORT_ROUTER);
    if (is_remote(e, pe, port))
        return wse__halo_target(e, pe, color, port);
    uint32_t n = neighbour(e, pe, port);
    if (n == WSE_NONE)
        return WSE_NONE;
    return find_queue(e, n, color, pe_port_opposite(port));
}

static void make_queues(wse_engine *e, const wse_route *r, uint32_t *qi)
{
    int ce_only = r->tx == WSE_RAMP && r->xi == WSE_NONE;
    int x, y;
    pe_coords(e, r->pe, &x, &y);
    for (int port = 0; port < WSE_NPORTS; port++) {
        if (!(r->rx_all & pe_port_mask(port)))
            continue;
        wse_queue *q = &e->q[(*qi)++];
        memset(q, 0, sizeof *q);
        q->color = r->color;
        q->port = (uint8_t)port;
        q->kind = r->xi != WSE_NONE ? Q_ROUTER_X : ce_only ? Q_CE : Q_ROUTER;
        q->lat = link_latency(e, x, y, port) & 31u;
        q->txports = r->tx;
        q->tx = r->xi != WSE_NONE ? r->xi : WSE_NONE;
    }
    if (route_ce_via_router(e, r)) {
        wse_queue *q = &e->q[(*qi)++];
        memset(q, 0, sizeof *q);
        q->color = r->color;
        q->port = WSE_PORT_ROUTER;
        q->kind = Q_CE;
        q->lat = (unsigned)e->latency & 31u;
        q->tx = WSE_NONE;
    }
}

static void free_routes(wse_routes *l)
{
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

/* Each position's targets of an extended route at pe: a list in e->mcast
 * per position, one per port of its tx, with the color swapped for the
 * ports that swap it. */
static void resolve_extras(wse_engine *e, uint32_t pe, wse_routex *x, int color)
{
    for (int k = 0; k < WSE_SWITCH_POSITIONS; k++) {
        if (!((x->valid >> k) & 1))
            continue;
        x->tg[k] = e->nmcast;
        for (int port = 0; port < WSE_NPORTS; port++)
            if (x->tx[k] & pe_port_mask(port)) {
                int c = (x->swap & pe_port_mask(port)) ? color ^ 1 : color;
                e->mcast[e->nmcast++] = resolve_target(e, pe, c, port);
            }
    }
}

/* Every router queue's targets: the queue itself for one output, a list in
 * e->mcast for several. */
static void resolve_targets(wse_engine *e)
{
    for (uint32_t pe = 0; pe < e->npe; pe++)
        for (uint32_t k = e->pe[pe].q_first; k < e->pe[pe].q_first + e->pe[pe].nq; k++) {
            wse_queue *q = &e->q[k];
            if (q->kind == Q_ROUTER_X && e->rtx[q->tx].tg[0] == WSE_NONE)
                resolve_extras(e, pe, &e->rtx[q->tx], q->color);
            if (q->kind != Q_ROUTER)
                continue;
            if (popc32(q->txports) == 1) {
                q->tx = resolve_target(e, pe, q->color, __builtin_ctz(q->txports));
                continue;
            }
            q->tx = e->nmcast;
            for (int port = 0; port < WSE_NPORTS; port++)
                if (q->txports & pe_port_mask(port))
                    e->mcast[e->nmcast++] = resolve_target(e, pe, q->color, port);
        }
}

int wse__router_resolve(wse_engine *e)
{
    sort_routes(&e->routes);
    sort_routes(&e->hroutes);
    uint64_t nq = 0, nm = 0, ng = wse__halo_count_ghosts(e);
    for (uint64_t i = 0; i < e->routes.n; i++) {
        const wse_route *r = &e->routes.v[i];
        if (i > 0 && r->pe == e->routes.v[i - 1].pe && r->color == e->routes.v[i - 1].color)
            return wse__fault_pe(e, r->pe, WSE_EPROGRAM, "color %d is routed twice", r->color);
        nq += route_nqueues(e, r);
        if (r->xi != WSE_NONE) {
            for (int k = 0; k < WSE_SWITCH_POSITIONS; k++)
                nm += popc32(e->rtx[r->xi].tx[k]);
        } else if (popc32(r->tx) > 1 && r->tx != WSE_RAMP) {
            nm += popc32(r->tx);
        }
    }
    if (nq + ng >= WSE_NONE || nm >= WSE_NONE)
        return wse__fault_pe(e, 0, WSE_ENOMEM, "too many queues in one shard");
    e->nq_own = (uint32_t)nq;
    e->nq = (uint32_t)(nq + ng);
    nq += ng;
    e->q = wse__sram_alloc_big((nq ? nq : 1) * sizeof *e->q);
    e->slots = wse__sram_alloc_big((nq ? nq * (uint64_t)e->depth : 1) * sizeof *e->slots);
    e->mcast = wse__sram_alloc_big((nm ? nm : 1) * sizeof *e->mcast);
    if (!e->q || !e->slots || !e->mcast)
        return wse__fault_pe(e, 0, WSE_ENOMEM, "out of memory for %llu queues", (unsigned long long)nq);
    uint32_t qi = 0;
    uint64_t i = 0;
    for (uint32_t pe = 0; pe < e->npe; pe++) {
        e->pe[pe].q_first = qi;
        for (; i < e->routes.n && e->routes.v[i].pe == pe; i++)
            make_queues(e, &e->routes.v[i], &qi);
        if (qi - e->pe[pe].q_first > WSE_MAX_QUEUES_PER_PE)
            return wse__fault_pe(e, pe, WSE_EPROGRAM, "more than %d queues", WSE_MAX_QUEUES_PER_PE);
        e->pe[pe].nq = (uint16_t)(qi - e->pe[pe].q_first);
    }
    if (wse__halo_build(e, &qi))
        return e->err->code;
    resolve_targets(e);
    free_routes(&e->routes);
    free_routes(&e->hroutes);
    return 0;
}

void wse__router_free(wse_engine *e)
{
    free_routes(&e->routes);
    free_routes(&e->hroutes);
    free(e->q);
    free(e->slots);
    free(e->mcast);
    free(e->rtx);
}

/* ------------------------------------------------------------ run time */

static void routing_error(wse_engine *e, uint32_t pe, const wse_queue *q, int port)
{
    int x = 0, y = 0;
    if (port < 4) {
        pe_coords(e, pe, &x, &y);
        x += pe_port_dx(port);
        y += pe_port_dy(port);
    }
    if (port < 4 && where(e, x, y) == NB_OFF)
        wse__fault_pe(e, pe, WSE_EROUTE, "color %d: tx %s leads off the edge of the region",
                      q->color, wse__port_name[port]);
    else if (port < 4)
        wse__fault_pe(e, pe, WSE_EROUTE,
                      "color %d: wavelet sent %s to PE (%d,%d), which has no route for color %d from %s",
                      q->color, wse__port_name[port], x, y, q->color,
                      wse__port_name[pe_port_opposite(port)]);
    else
        wse__fault_pe(e, pe, WSE_EROUTE, "color %d: no CE queue", q->color);
}

void wse__router_popped(wse_engine *e, uint32_t pe, uint32_t qi, uint64_t t)
{
    const wse_queue *q = &e->q[qi];
    if (q->up_remote) {
        wse__halo_credit(e, qi, t);
        return;
    }
    /* a queue that was popped was pushed: its producer exists here */
    sched_wake(e, (uint32_t)((int32_t)pe + e->step[q->port]), t + q->lat);
}

/* After pushing word into queue tg from PE pe's output port at t. */
static void pushed(wse_engine *e, uint32_t pe, int port, uint32_t tg, uint32_t word,
                   unsigned ctrl, uint64_t t)
{
    if (tg < e->nq_own) {       /* resolved, so the neighbour exists here */
        sched_wake(e, (uint32_t)((int32_t)pe + e->step[port]), t + e->q[tg].lat);
        return;
    }
    wse__halo_wavelet(e, port, tg, word, ctrl, t);
}

/* Whether target queue tq drops this wavelet (a control wavelet with the
 * CE filter, into a CE queue fed straight from the link). */
static inline int dropped_at(const wse_engine *e, uint32_t tq, uint32_t word, unsigned ctrl)
{
    return ctrl && (word & WSE_CTRL_CE_FILTER) && queue_drops_filtered(&e->q[tq]);
}

/* Whether target tq has room for the wavelet: a credit, or it drops it. */
static inline int room(wse_engine *e, uint32_t tq, uint32_t word, unsigned ctrl, uint64_t t)
{
    if (dropped_at(e, tq, word, ctrl))
        return 1;
    wse_queue *r = &e->q[tq];
    queue_sync(r, t);
    return queue_credit(e, r);
}

/* Move word through port into target tq (unless tq drops it). */
static inline void hop(wse_engine *e, uint32_t pe, int port, uint32_t tq, uint32_t word,
                unsigned ctrl, uint64_t t)
{
    if (!dropped_at(e, tq, word, ctrl)) {
        queue_push(e, tq, word, ctrl);
        pushed(e, pe, port, tq, word, ctrl, t);
    }
    if (port < 4) {
        e->cnt[pe].link_out[port]++;
        e->st.hops++;
        unsigned lat = e->q[tq].lat;
        if (lat != (unsigned)e->latency) {
            e->st.stretched_hops++;
            e->st.stretch_cycles += lat - (unsigned)e->latency;
        }
    }
}

/* Check every target of the ports in tx (tg[k] for the k-th port).
 * Returns 1 if all have room, 0 if one lacks a credit (its return wakes
 * us), -1 after a routing error. */
static int targets_ready(wse_engine *e, uint32_t pe, const wse_queue *q, unsigned tx,
                         unsigned all, const uint32_t *tg, uint32_t word, unsigned ctrl,
                         uint64_t t)
{
    for (int k = 0, port = 0; port < WSE_NPORTS; port++) {
        if (!(all & pe_port_mask(port)))
            continue;
        uint32_t tq = tg[k++];
        if (!(tx & pe_port_mask(port)))
            continue;
        if (tq == WSE_NONE) {
            routing_error(e, pe, q, port);
            return -1;
        }
        if (!room(e, tq, word, ctrl, t))
            return 0;
    }
    return 1;
}

/* A control wavelet has passed the extended route x at t: apply its
 * switch command.  Returns 1 if the position changed. */
static int switch_command(wse_engine *e, uint32_t pe, wse_routex *x, uint32_t word, uint64_t t)
{
    int cmd = pe_control_command(word), pos = x->pos;
    if (cmd == WSE_SWITCH_TEARDOWN) {
        if (x->teardown_task < 0) {
            wse__fault_pe(e, pe, WSE_EPROGRAM,
                          "control wavelet 0x%08x: teardown on a color with no teardown task here (pe_route_teardown)",
                          word);
            return 0;
        }
        if (!((e->pe[pe].local_tasks >> x->teardown_task) & 1)) {
            wse__fault_pe(e, pe, WSE_EPROGRAM, "control wavelet 0x%08x: teardown task %d is not bound as a local task",
                          word, x->teardown_task);
            return 0;
        }
        x->torn = TORN_DOWN;              /* nothing of the color moves here now */
        e->pe[pe].active |= 1ull << x->teardown_task;
        sched_wake(e, pe, t + 1);
        return 0;
    }
    if (cmd == WSE_SWITCH_ADVANCE) {
        int next = pos + 1;
        if (next < WSE_SWITCH_POSITIONS && ((x->valid >> next) & 1))
            pos = next;
        else if (x->ring)
            pos = 0;
    } else if (cmd == WSE_SWITCH_RESET) {
        pos = 0;
    } else if (cmd != WSE_SWITCH_NOP) {
        wse__fault_pe(e, pe, WSE_EPROGRAM, "control wavelet 0x%08x: unknown switch command %d",
                      word, cmd);
        return 0;
    }
    if (pos == x->pos)
        return 0;
    x->pos = (uint8_t)pos;
    x->changed = (uint32_t)t + 1u;
    return 1;
}

/* Forward the head of a queue of an extended route: from the current
 * position's rx ports only, to its tx ports, minus the CE output when the
 * range filter or a control wavelet's CE filter keeps it from the CE.
 * Returns 1 if the PE must be revisited next cycle. */
static int route_ext(wse_engine *e, uint32_t pe, uint32_t qi, uint32_t *used, uint64_t t,
                     unsigned vis)
{
    wse_queue *q = &e->q[qi];
    wse_routex *x = &e->rtx[q->tx];
    if (x->torn) {                      /* in teardown: the resume wakes us */
        if (x->torn == TORN_DOWN || (int32_t)((uint32_t)t - x->changed) < 0)
            return 0;
        x->torn = 0;
        x->changed = (uint32_t)t;       /* not "switched this cycle" */
    }
    int k = x->pos;
    if (!(x->rx[k] & pe_port_mask(q->port)))
        return 0;                       /* not selected: a switch change wakes us */
    if (x->changed == (uint32_t)t + 1u)
        return 1;                       /* the color switched this cycle */
    unsigned ctrl, all = x->tx[k], tx = all;
    uint32_t word = queue_peek(e, qi, &ctrl);
    if ((tx & WSE_RAMP) && (ctrl ? (word & WSE_CTRL_CE_FILTER) != 0
                                 : x->filter && ((word >> 16) < x->lo || (word >> 16) > x->hi)))
        tx &= ~WSE_RAMP;
    if (tx & *used)
        return 1;
    const uint32_t *tg = &e->mcast[x->tg[k]];
    if (targets_ready(e, pe, q, tx, all, tg, word, ctrl, t) <= 0)
        return 0;
    queue_drop_head(e, qi);
    wse__router_popped(e, pe, qi, t);
    for (int j = 0, port = 0; port < WSE_NPORTS; port++) {
        if (!(all & pe_port_mask(port)))
            continue;
        uint32_t tq = tg[j++];
        if (tx & pe_port_mask(port))
            hop(e, pe, port, tq, word, ctrl, t);
    }
    *used |= tx;
    int changed = ctrl && switch_command(e, pe, x, word, t);
    return vis > 1 || changed;
}

/* Forward the head of router queue qi if its outputs are free and every
 * target has a credit.  Returns 1 if the PE must be revisited next cycle. */
static int route_one(wse_engine *e, uint32_t pe, uint32_t qi, uint32_t *used, uint64_t t)
{
    wse_queue *q = &e->q[qi];
    queue_sync(q, t);
    /* Wavelets still in flight wake this PE when they arrive, so only the
     * visible ones count: that keeps even the set of visits independent of
     * the order PEs are visited in, hence of the decomposition. */
    unsigned vis = queue_visible(q);
    if (vis == 0)
        return 0;
    if (q->kind == Q_ROUTER_X)
        return route_ext(e, pe, qi, used, t, vis);
    if (q->txports & *used)
        return 1;
    unsigned ctrl;
    uint32_t word = queue_peek(e, qi, &ctrl);
    if (!(q->txports & (q->txports - 1))) {     /* unicast: the hot path */
        int port = __builtin_ctz(q->txports);
        uint32_t tq = q->tx;
        if (tq == WSE_NONE) {
            routing_error(e, pe, q, port);
            return 0;
        }
        if (!room(e, tq, word, ctrl, t))
            return 0;                   /* the credit's return wakes us */
        queue_drop_head(e, qi);
        wse__router_popped(e, pe, qi, t);
        hop(e, pe, port, tq, word, ctrl, t);
        *used |= q->txports;
        return vis > 1;
    }
    const uint32_t *tg = &e->mcast[q->tx];
    /* a control wavelet with the CE filter does not go down the ramp */
    unsigned tx = ctrl && (word & WSE_CTRL_CE_FILTER) ? q->txports & ~WSE_RAMP : q->txports;
    if (targets_ready(e, pe, q, tx, q->txports, tg, word, ctrl, t) <= 0)
        return 0;
    queue_drop_head(e, qi);
    wse__router_popped(e, pe, qi, t);
    for (int k = 0, port = 0; port < WSE_NPORTS; port++) {
        if (!(q->txports & pe_port_mask(port)))
            continue;
        uint32_t tq = tg[k++];
        if (tx & pe_port_mask(port))
            hop(e, pe, port, tq, word, ctrl, t);
    }
    *used |= q->txports;
    return vis > 1;
}

int wse__router_step(wse_engine *e, uint32_t pe, uint64_t t)
{
    const wse_pestate *p = &e->pe[pe];
    uint32_t used = 0;
    int more = 0;
    for (uint32_t i = p->q_first; i < p->q_first + p->nq && !e->failed; i++)
        if (e->q[i].kind <= Q_ROUTER_X)
            more |= route_one(e, pe, i, &used, t);
    return more;
}
