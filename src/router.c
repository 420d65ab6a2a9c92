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
    r->pad = 0;
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

/* Queues a route creates: one per rx port, plus a CE queue when tx has
 * RAMP among other ports. */
static uint32_t route_nqueues(const wse_route *r)
{
    uint32_t n = popc32(r->rx);
    if ((r->tx & WSE_RAMP) && r->tx != WSE_RAMP)
        n++;
    return n;
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
    int ce_only = r->tx == WSE_RAMP;
    for (int port = 0; port < WSE_NPORTS; port++) {
        if (!(r->rx & pe_port_mask(port)))
            continue;
        wse_queue *q = &e->q[(*qi)++];
        memset(q, 0, sizeof *q);
        q->color = r->color;
        q->port = (uint8_t)port;
        q->kind = ce_only ? Q_CE : Q_ROUTER;
        q->txports = ce_only ? 0 : r->tx;
        q->tx = WSE_NONE;
    }
    if (!ce_only && (r->tx & WSE_RAMP)) {
        wse_queue *q = &e->q[(*qi)++];
        memset(q, 0, sizeof *q);
        q->color = r->color;
        q->port = WSE_PORT_ROUTER;
        q->kind = Q_CE;
        q->tx = WSE_NONE;
    }
}

static void free_routes(wse_routes *l)
{
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

/* Every router queue's targets: the queue itself for one output, a list in
 * e->mcast for several. */
static void resolve_targets(wse_engine *e)
{
    for (uint32_t pe = 0; pe < e->npe; pe++)
        for (uint32_t k = e->pe[pe].q_first; k < e->pe[pe].q_first + e->pe[pe].nq; k++) {
            wse_queue *q = &e->q[k];
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
        nq += route_nqueues(r);
        if (popc32(r->tx) > 1 && r->tx != WSE_RAMP)
            nm += popc32(r->tx);
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
    sched_wake(e, (uint32_t)((int32_t)pe + e->step[q->port]), t + (uint64_t)e->latency);
}

/* After pushing word into queue tg from PE pe's output port at t. */
static void pushed(wse_engine *e, uint32_t pe, int port, uint32_t tg, uint32_t word, uint64_t t)
{
    if (tg < e->nq_own) {       /* resolved, so the neighbour exists here */
        sched_wake(e, (uint32_t)((int32_t)pe + e->step[port]), t + (uint64_t)e->latency);
        return;
    }
    wse__halo_wavelet(e, port, tg, word, t);
}

/* Move word from queue qi to target tq through port. */
static void hop(wse_engine *e, uint32_t pe, int port, uint32_t tq, uint32_t word, uint64_t t)
{
    queue_push(e, tq, word);
    pushed(e, pe, port, tq, word, t);
    if (port < 4) {
        e->cnt[pe].link_out[port]++;
        e->st.hops++;
    }
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
    unsigned vis = queue_visible(e, q);
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
        queue_sync(r, t);
        if (!queue_credit(e, r))
            return 0;                   /* the credit's return wakes us */
        uint32_t word = queue_pop(e, qi);
        wse__router_popped(e, pe, qi, t);
        hop(e, pe, port, tq, word, t);
        *used |= q->txports;
        return vis > 1;
    }
    const uint32_t *tg = &e->mcast[q->tx];
    int ntg = (int)popc32(q->txports);
    for (int k = 0, port = 0; k < ntg; port++) {
        if (!(q->txports & pe_port_mask(port)))
            continue;
        if (tg[k] == WSE_NONE) {
            routing_error(e, pe, q, port);
            return 0;
        }
        wse_queue *r = &e->q[tg[k]];
        queue_sync(r, t);
        if (!queue_credit(e, r))
            return 0;                   /* the credit's return wakes us */
        k++;
    }
    uint32_t word = queue_pop(e, qi);
    wse__router_popped(e, pe, qi, t);
    for (int k = 0, port = 0; k < ntg; port++) {
        if (!(q->txports & pe_port_mask(port)))
            continue;
        hop(e, pe, port, tg[k], word, t);
        k++;
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
        if (e->q[i].kind == Q_ROUTER)
            more |= route_one(e, pe, i, &used, t);
    return more;
}
