/*
 * src/layout.c - building a shard: SRAM arena, running every PE's setup
 * (and the neighbour shards' edge PEs', to learn their routes), resolving
 * routes into queue ids, ghost queues and edge lists; and tearing it down.
 *
 * Everything here runs once per engine, before the first cycle; the run
 * time (routers, compute engines, time) is engine.c.
 *
 * Memory: per PE, a contiguous SRAM block (what the program allocated,
 * rounded to 16 bytes, then 16 guard bytes) carved from chunks of at most
 * 64 MiB, sized to the shard so a one-PE shard touches one block.  Big
 * arrays are 2 MiB aligned and marked for transparent huge pages.
 *
 * Drawback: setup runs the program's setup twice for edge PEs (here and in
 * the neighbour shard), so setup must be a pure function of coordinates
 * and params, and its cost grows with the shard's perimeter.
 */
#define _DEFAULT_SOURCE 1   /* madvise, MADV_HUGEPAGE */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "engine_int.h"

#define CHUNK_BYTES (64u << 20)
/* After each PE's SRAM block: a pattern that a task writing past the end
 * of its allocations destroys, checked after every task. */
#define GUARD_BYTES 16
static const uint8_t guard[GUARD_BYTES] = { 0xde, 0xad, 0xbe, 0xef, 0x57, 0x5e, 0x3c, 0x0d,
                                            0xfe, 0xed, 0xfa, 0xce, 0x5a, 0xfe, 0x67, 0x1d };
#define HUGE_PAGE (2u << 20)

/* Zeroed memory for the big per-shard arrays: 2 MiB aligned and marked
 * for transparent huge pages, which cuts page faults 512-fold when a full
 * wafer is set up (first touch dominated setup on VMs).  Free with free(). */
void *wse__alloc_big(uint64_t bytes)
{
    if (bytes < HUGE_PAGE)
        return calloc(1, bytes ? bytes : 1);
    uint64_t len = (bytes + HUGE_PAGE - 1) & ~(uint64_t)(HUGE_PAGE - 1);
    void *p = NULL;
    if (posix_memalign(&p, HUGE_PAGE, len) != 0)
        return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, len, MADV_HUGEPAGE);
#endif
    memset(p, 0, len);
    return p;
}

/* ------------------------------------------------------------ bitsets */

static int bitset_init(wse_bitset *b, uint32_t n)
{
    b->nw = (n + 63) / 64;
    b->nsum = (b->nw + 63) / 64;
    b->w = calloc(b->nw ? b->nw : 1, sizeof *b->w);
    b->sum = calloc(b->nsum ? b->nsum : 1, sizeof *b->sum);
    b->count = 0;
    return (b->w && b->sum) ? 0 : WSE_ENOMEM;
}

static void bitset_free(wse_bitset *b)
{
    free(b->w);
    free(b->sum);
}

/* Give PE pe a contiguous block of up to sram_bytes in the arena. */
static int arena_place(wse_engine *e, uint32_t pe)
{
    uint64_t need = (uint64_t)e->topo.sram_bytes + GUARD_BYTES;
    if (e->nchunks == 0 || e->chunk_used + need > e->chunk_bytes) {
        if (e->nchunks == e->chunk_cap) {
            uint32_t cap = e->chunk_cap ? e->chunk_cap * 2 : 16;
            uint8_t **c = realloc(e->chunks, cap * sizeof *c);
            if (!c)
                return WSE_ENOMEM;
            e->chunks = c;
            e->chunk_cap = cap;
        }
        uint8_t *m = wse__alloc_big(e->chunk_bytes);
        if (!m)
            return WSE_ENOMEM;
        e->chunks[e->nchunks++] = m;
        e->chunk_used = 0;
    }
    e->pe[pe].sram_chunk = e->nchunks - 1;
    e->pe[pe].sram_off = (uint32_t)e->chunk_used;
    e->pe[pe].sram_used = 0;
    return 0;
}

void *wse__engine_scratch(wse_engine *e, size_t bytes)
{
    if (e->nscratch == e->scratch_cap) {
        uint32_t cap = e->scratch_cap ? e->scratch_cap * 2 : 8;
        void **s = realloc(e->scratch, cap * sizeof *s);
        if (!s)
            return NULL;
        e->scratch = s;
        e->scratch_cap = cap;
    }
    void *m = calloc(1, bytes ? bytes : 1);
    if (m)
        e->scratch[e->nscratch++] = m;
    return m;
}

/* Close PE pe's block: the arena continues after what it used. */
static void arena_close(wse_engine *e, uint32_t pe)
{
    for (uint32_t i = 0; i < e->nscratch; i++)
        free(e->scratch[i]);
    e->nscratch = 0;
    uint64_t used = e->pe[pe].sram_used;
    if (used > e->topo.sram_bytes)
        used = e->topo.sram_bytes;
    used = (used + 15) & ~15ull;
    memcpy(e->chunks[e->pe[pe].sram_chunk] + e->pe[pe].sram_off + used, guard, GUARD_BYTES);
    e->chunk_used += used + GUARD_BYTES;
}

/* Whether PE pe's program wrote past the end of its allocations. */
int wse__engine_guard_broken(const wse_engine *e, uint32_t pe)
{
    uint64_t used = ((uint64_t)e->pe[pe].sram_used + 15) & ~15ull;
    return memcmp(wse__engine_sram(e, pe) + used, guard, GUARD_BYTES) != 0;
}

/* ------------------------------------------------------------ routes */

static int route_push(wse_engine *e, wse_route **v, uint64_t *n, uint64_t *cap)
{
    if (*n == *cap) {
        uint64_t c = *cap ? *cap * 2 : 4096;
        wse_route *r = realloc(*v, c * sizeof *r);
        if (!r) {
            e->failed = 1;
            return wse_error_set(e->err, WSE_ENOMEM, NULL, 0, 0, "out of memory for routes");
        }
        *v = r;
        *cap = c;
    }
    (*n)++;
    return 0;
}

int wse__engine_route_add(wse_engine *e, uint32_t pe, int color, unsigned rx,
                          unsigned tx)
{
    int halo = (pe & WSE_HALO_PE) != 0;
    int rc = halo ? route_push(e, &e->hroutes, &e->nhroutes, &e->hroutes_cap)
                  : route_push(e, &e->routes, &e->nroutes, &e->routes_cap);
    if (rc)
        return rc;
    wse_route *r = halo ? &e->hroutes[e->nhroutes - 1] : &e->routes[e->nroutes - 1];
    r->pe = pe;
    r->color = (uint8_t)color;
    r->rx = (uint8_t)rx;
    r->tx = (uint8_t)tx;
    r->pad = 0;
    return 0;
}

/* Setup visits PEs in order, so routes arrive grouped by PE: sorting each
 * PE's few routes by color is all that is left. */
static void sort_routes(wse_route *r, uint64_t n)
{
    for (uint64_t i = 1; i < n; i++) {
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

unsigned wse__engine_ce_queues(const wse_engine *e, uint32_t pe, int color, uint32_t *first)
{
    const wse_pestate *p = &e->pe[pe];
    unsigned n = 0;
    *first = WSE_NONE;
    for (uint32_t i = p->q_first; i < p->q_first + p->nq; i++)
        if (e->q[i].kind == Q_CE && e->q[i].color == color && n++ == 0)
            *first = i;
    return n;
}

uint32_t wse__engine_ramp_queue(const wse_engine *e, uint32_t pe, int color)
{
    return find_queue(e, pe, color, WSE_PORT_RAMP);
}

/* Offset along side s of the halo PE next to owned PE pe. */
static uint32_t side_offset(const wse_engine *e, uint32_t pe, int s)
{
    return (s == WSE_PORT_N || s == WSE_PORT_S) ? pe % (uint32_t)e->shard.width
                                                : pe / (uint32_t)e->shard.width;
}

static uint32_t resolve_target(const wse_engine *e, uint32_t pe, int color, int port)
{
    if (port == WSE_PORT_RAMP)
        return find_queue(e, pe, color, WSE_PORT_ROUTER);
    if (is_remote(e, pe, port)) {
        uint32_t o = side_offset(e, pe, port);
        for (uint32_t g = e->ghost_at[port][o]; g < e->ghost_at[port][o + 1]; g++)
            if (e->q[g].color == color)
                return g;
        return WSE_NONE;
    }
    uint32_t n = neighbour(e, pe, port);
    if (n == WSE_NONE)
        return WSE_NONE;
    return find_queue(e, n, color, (port + 2) % 4);
}

static uint32_t side_len(const wse_engine *e, int s)
{
    return (uint32_t)((s == WSE_PORT_N || s == WSE_PORT_S) ? e->shard.width : e->shard.height);
}

/* Owned PE next to the halo PE at offset o of side s. */
static uint32_t side_pe(const wse_engine *e, int s, uint32_t o)
{
    uint32_t w = (uint32_t)e->shard.width, h = (uint32_t)e->shard.height;
    switch (s) {
    case WSE_PORT_N: return o;
    case WSE_PORT_S: return (h - 1) * w + o;
    case WSE_PORT_E: return o * w + w - 1;
    default: return o * w;
    }
}

/* Ghost queues: for each halo PE, in side then offset order, one per route
 * that accepts wavelets from the port facing this shard.  They hold the
 * producer's view (credits) of a neighbour shard's queue. */
static int make_ghosts(wse_engine *e, uint32_t *qi)
{
    uint64_t i = 0;
    for (int s = 0; s < 4; s++) {
        uint32_t len = side_len(e, s);
        e->ghost_at[s] = calloc(len + 1, sizeof *e->ghost_at[s]);
        if (!e->ghost_at[s])
            return wse__engine_fail(e, 0, WSE_ENOMEM, "out of memory for ghosts");
        e->ghost_first[s] = *qi;
        int facing = (s + 2) % 4;
        for (uint32_t o = 0; o < len; o++) {
            e->ghost_at[s][o] = *qi;
            for (; i < e->nhroutes && e->hroutes[i].pe == (WSE_HALO_PE | ((uint32_t)s << 24) | o); i++) {
                const wse_route *r = &e->hroutes[i];
                if (!(r->rx & (1u << facing)))
                    continue;
                wse_queue *q = &e->q[*qi];
                memset(q, 0, sizeof *q);
                q->color = r->color;
                q->port = (uint8_t)facing;
                q->kind = Q_GHOST;
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
static int make_bq(wse_engine *e)
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
                return wse__engine_fail(e, 0, WSE_ENOMEM, "out of memory for edge queues");
        }
    }
    return 0;
}

static void make_queues(wse_engine *e, const wse_route *r, uint32_t *qi)
{
    int ce_only = r->tx == WSE_RAMP;
    for (int port = 0; port < WSE_NPORTS; port++) {
        if (!(r->rx & (1u << port)))
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

static int resolve_routes(wse_engine *e)
{
    sort_routes(e->routes, e->nroutes);
    sort_routes(e->hroutes, e->nhroutes);
    uint64_t nq = 0, nm = 0, ng = 0;
    for (uint64_t i = 0; i < e->nhroutes; i++) {
        int s = (int)((e->hroutes[i].pe >> 24) & 3);
        if (e->hroutes[i].rx & (1u << ((s + 2) % 4)))
            ng++;
    }
    for (uint64_t i = 0; i < e->nroutes; i++) {
        const wse_route *r = &e->routes[i];
        if (i > 0 && r->pe == e->routes[i - 1].pe && r->color == e->routes[i - 1].color)
            return wse__engine_fail(e, r->pe, WSE_EPROGRAM,
                                    "color %d is routed twice", r->color);
        nq += route_nqueues(r);
        if (popc32(r->tx) > 1 && r->tx != WSE_RAMP)
            nm += popc32(r->tx);
    }
    if (nq + ng >= WSE_NONE || nm >= WSE_NONE)
        return wse__engine_fail(e, 0, WSE_ENOMEM, "too many queues in one shard");
    e->nq_own = (uint32_t)nq;
    e->nq = (uint32_t)(nq + ng);
    nq += ng;
    e->q = wse__alloc_big((nq ? nq : 1) * sizeof *e->q);
    e->slots = wse__alloc_big((nq ? nq * (uint64_t)e->depth : 1) * sizeof *e->slots);
    e->mcast = wse__alloc_big((nm ? nm : 1) * sizeof *e->mcast);
    e->ghost_pe = calloc(ng ? ng : 1, sizeof *e->ghost_pe);
    if (!e->q || !e->slots || !e->mcast || !e->ghost_pe)
        return wse__engine_fail(e, 0, WSE_ENOMEM, "out of memory for %llu queues",
                                (unsigned long long)nq);
    uint32_t qi = 0;
    uint64_t i = 0;
    for (uint32_t pe = 0; pe < e->npe; pe++) {
        e->pe[pe].q_first = qi;
        for (; i < e->nroutes && e->routes[i].pe == pe; i++)
            make_queues(e, &e->routes[i], &qi);
        e->pe[pe].nq = (uint16_t)(qi - e->pe[pe].q_first);
    }
    if (make_ghosts(e, &qi) || make_bq(e))
        return e->err->code;
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
                if (q->txports & (1u << port))
                    e->mcast[e->nmcast++] = resolve_target(e, pe, q->color, port);
        }
    free(e->routes);
    e->routes = NULL;
    e->nroutes = e->routes_cap = 0;
    free(e->hroutes);
    e->hroutes = NULL;
    e->nhroutes = e->hroutes_cap = 0;
    return 0;
}

/* ------------------------------------------------------------ ops pool */

static int setup_pe(wse_engine *e, uint32_t idx)
{
    if (arena_place(e, idx) != 0)
        return wse__engine_fail(e, idx, WSE_ENOMEM, "out of memory for SRAM");
    struct wse_pe h = { .e = e, .idx = idx, .now = 0, .charged = 0, .in_setup = 1 };
    pe_coords(e, idx, &h.x, &h.y);
    void *state = pe_alloc(&h, e->prog->state_size);
    int rc = e->failed ? WSE_EPROGRAM : e->prog->setup(&h, state);
    if (rc != 0 && !e->failed)
        wse__engine_fail(e, idx, rc, "setup of program '%s' failed: %s",
                         e->prog->name, wse_strerror(rc));
    uint64_t total = (uint64_t)e->pe[idx].sram_used + e->topo.reserved_bytes;
    if (!e->failed && total > e->topo.sram_bytes) {
        int y, x = pe_xy(e, idx, &y);
        wse_error_set(e->err, WSE_ESRAM, NULL, 0, 0,
                      "PE (%d,%d): program '%s' needs %llu bytes of SRAM (%llu allocated + %u reserved) but a PE has %u",
                      x, y, e->prog->name, (unsigned long long)total,
                      (unsigned long long)e->pe[idx].sram_used, e->topo.reserved_bytes,
                      e->topo.sram_bytes);
        e->failed = 1;
    }
    arena_close(e, idx);
    return e->failed ? e->err->code : 0;
}

/* Run setup on the neighbour shards' PEs along each side, keeping only
 * their routes: that is how this shard learns which of their queues its
 * edge PEs feed. */
static int setup_halo(wse_engine *e)
{
    e->hsram = calloc(1, e->topo.sram_bytes);
    if (!e->hsram)
        return wse__engine_fail(e, 0, WSE_ENOMEM, "out of memory");
    for (int s = 0; s < 4; s++) {
        uint32_t len = side_len(e, s);
        for (uint32_t o = 0; o < len && !e->failed; o++) {
            int x, y;
            pe_coords(e, side_pe(e, s, o), &x, &y);
            x += dx[s];
            y += dy[s];
            if (where(e, x, y) != NB_REMOTE)
                continue;
            struct wse_pe h = { .e = e, .idx = WSE_HALO_PE | ((uint32_t)s << 24) | o,
                                .x = x, .y = y, .halo = 1, .in_setup = 1 };
            memset(e->hsram, 0, e->topo.sram_bytes);
            void *state = pe_alloc(&h, e->prog->state_size);
            if (state)
                e->prog->setup(&h, state);
        }
    }
    free(e->hsram);
    e->hsram = NULL;
    return e->failed ? e->err->code : 0;
}

int wse_engine_create(const wse_topology *topo, const wse_program *prog,
                      const void *params, wse_rect r, const wse_rect *shard,
                      wse_engine **out, wse_error *err)
{
    *out = NULL;
    wse_rect sh = shard ? *shard : (wse_rect){ 0, 0, r.width, r.height };
    if (r.width <= 0 || r.height <= 0 || sh.width <= 0 || sh.height <= 0 || sh.x < 0 ||
        sh.y < 0 || sh.x + sh.width > r.width || sh.y + sh.height > r.height ||
        (uint64_t)sh.width * (uint64_t)sh.height >= (1u << 30))
        return wse_error_set(err, WSE_EINVAL, NULL, 0, 0, "bad region %dx%d or shard %dx%d at (%d,%d)",
                             r.width, r.height, sh.width, sh.height, sh.x, sh.y);
    wse_engine *e = calloc(1, sizeof *e);
    if (!e)
        return wse_error_set(err, WSE_ENOMEM, NULL, 0, 0, "out of memory");
    wse_error local;
    wse_error_clear(&local);
    e->err = err ? err : &local;
    e->topo = *topo;
    e->prog = prog;
    e->region = r;
    e->shard = sh;
    e->npe = (uint32_t)sh.width * (uint32_t)sh.height;
    e->depth = topo->queue_depth;
    e->latency = topo->hop_latency_cycles;
    e->step[WSE_PORT_N] = -sh.width;
    e->step[WSE_PORT_E] = 1;
    e->step[WSE_PORT_S] = sh.width;
    e->step[WSE_PORT_W] = -1;
    /* chunks of up to 64 MiB, no bigger than the shard needs: a one-PE
     * shard must not touch 64 MiB */
    uint64_t block = (uint64_t)topo->sram_bytes + GUARD_BYTES;
    uint64_t need = (uint64_t)e->npe * block;
    e->chunk_bytes = need < CHUNK_BYTES ? need : CHUNK_BYTES;
    if (e->chunk_bytes < block)
        e->chunk_bytes = block;
    e->next_sweep = 1ull << 30;
    e->unfinished = e->npe;
    e->params = calloc(1, prog->params_size ? prog->params_size : 1);
    e->pe = wse__alloc_big((uint64_t)e->npe * sizeof *e->pe);
    e->cnt = wse__alloc_big((uint64_t)e->npe * sizeof *e->cnt);
    int rc = WSE_ENOMEM;
    int ring_fail = 0;
    for (int k = 0; k < WSE_RING; k++)
        ring_fail |= bitset_init(&e->ring[k], e->npe);
    if (!e->params || !e->pe || !e->cnt || ring_fail) {
        wse_error_set(e->err, WSE_ENOMEM, NULL, 0, 0, "out of memory for %u PEs", e->npe);
        goto fail;
    }
    if (prog->params_size)
        memcpy(e->params, params, prog->params_size);
    for (uint32_t i = 0; i < e->npe; i++)
        e->pe[i].op_block = WSE_NONE;
    for (uint32_t i = 0; i < e->npe; i++)
        if ((rc = setup_pe(e, i)) != 0)
            goto fail;
    if ((rc = setup_halo(e)) != 0 || (rc = resolve_routes(e)) != 0)
        goto fail;
    e->err = NULL;
    *out = e;
    return 0;
fail:
    rc = e->err->code ? e->err->code : rc;
    e->err = NULL;
    wse_engine_destroy(e);
    return rc;
}

void wse_engine_destroy(wse_engine *e)
{
    if (!e)
        return;
    for (uint32_t i = 0; i < e->nchunks; i++)
        free(e->chunks[i]);
    free(e->chunks);
    free(e->hroutes);
    free(e->hsram);
    free(e->ghost_pe);
    for (int s = 0; s < 4; s++) {
        free(e->ghost_at[s]);
        free(e->bq[s]);
        free(e->out[s].ev);
    }
    for (uint32_t i = 0; i < e->nscratch; i++)
        free(e->scratch[i]);
    free(e->scratch);
    free(e->routes);
    free(e->q);
    free(e->slots);
    free(e->mcast);
    free(e->opb);
    free(e->heap);
    for (int k = 0; k < WSE_RING; k++)
        bitset_free(&e->ring[k]);
    free(e->pe);
    free(e->cnt);
    free(e->params);
    free(e);
}

/* ------------------------------------------------------------ the router */
