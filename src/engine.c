/*
 * src/engine.c - the engine facade: create and destroy a shard's engine,
 * the time loop, queries and statistics (see wse/engine.h).
 *
 * A cycle visits only the PEs woken for it (sched_int.h), in row-major
 * order; a visit runs the PE's router (router.c), then its compute engine
 * (ce.c).  Every decision at cycle t uses the state at the start of t
 * (queue_int.h), so the order of visits does not matter, and nothing done
 * at t reaches a neighbour before t + hop latency: windows of that length
 * can run shard by shard (window_int.h).
 *
 * Drawback: every 2^30 cycles (or after a long idle jump) all queue
 * histories are swept, O(queues).
 */
#include <stdlib.h>
#include <string.h>
#include "ce_int.h"
#include "clock_int.h"
#include "router_int.h"
#include "sched_int.h"
#include "setup_int.h"
#include "sram_int.h"
#include "queue_int.h"
#include "window_int.h"

/* ------------------------------------------------------------ lifecycle */

static void machine_of(const wse_topology *t, wse_pe_machine *m)
{
    m->colors = t->host_io_first_color;
    m->queue_depth = t->queue_depth;
    m->hop_latency_cycles = t->hop_latency_cycles;
    m->sram_bytes = t->sram_bytes;
    m->reserved_bytes = t->reserved_bytes;
    m->task_switch_cycles = t->task_switch_cycles;
    m->vector_startup_cycles = t->vector_startup_cycles;
    m->simd_fp32 = t->simd_fp32;
    m->simd_fp16 = t->simd_fp16;
    m->fabric_startup_cycles = t->fabric_startup_cycles;
    m->input_queues = t->input_queues - t->host_io_queues;
    m->output_queues = t->output_queues - t->host_io_queues;
    m->microthreads = t->microthreads - t->host_io_microthreads;
    m->local_task_min = t->local_task_min;
    m->local_task_max = t->host_io_first_task - 1;
    m->first_queue = t->host_io_queues;
    m->first_microthread = t->host_io_microthreads;
    m->strict_queues = t->arch == WSE_ARCH_WSE3 && !t->implicit_queues;
}

int wse_engine_create(const wse_topology *topo, const wse_program *prog,
                      const void *params, wse_rect r, const wse_rect *shard,
                      wse_engine **out, wse_error *err)
{
    *out = NULL;
    wse_rect sh = shard ? *shard : (wse_rect){ 0, 0, r.width, r.height };
    if (r.width <= 0 || r.height <= 0 || sh.width <= 0 || sh.height <= 0 || sh.x < 0 ||
        sh.y < 0 || sh.x + sh.width > r.width || sh.y + sh.height > r.height ||
        (uint64_t)sh.width * (uint64_t)sh.height >= WSE_MAX_SHARD_PES)
        return wse_error_set(err, WSE_EINVAL, NULL, 0, 0, "bad region %dx%d or shard %dx%d at (%d,%d)",
                             r.width, r.height, sh.width, sh.height, sh.x, sh.y);
    if (topo->wafer) {          /* a stretched link's latency must fit wse_queue.lat */
        wse_wafer_summary ws;
        wse_wafer_summary_get(topo->wafer, &ws);
        if (topo->hop_latency_cycles + ws.max_extra_pitches * topo->bypass_cycles_per_pe > WSE_MAX_LINK_LATENCY)
            return wse_error_set(err, WSE_EINVAL, NULL, 0, 0, "a link of the wafer takes more than %d cycles",
                                 WSE_MAX_LINK_LATENCY);
    }
    wse_engine *e = calloc(1, sizeof *e);
    if (!e)
        return wse_error_set(err, WSE_ENOMEM, NULL, 0, 0, "out of memory");
    wse_error local;
    wse_error_clear(&local);
    e->err = err ? err : &local;
    e->topo = *topo;
    if (e->topo.host_io_first_color > e->topo.colors)   /* colors cut after loading */
        e->topo.host_io_first_color = e->topo.colors;
    machine_of(&e->topo, &e->machine);
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
    wse__sram_init(e);
    e->next_sweep = WSE_SWEEP_CYCLES;
    e->unfinished = e->npe;
    e->params = calloc(1, prog->params_size ? prog->params_size : 1);
    e->pe = wse__sram_alloc_big((uint64_t)e->npe * sizeof *e->pe);
    e->cnt = wse__sram_alloc_big((uint64_t)e->npe * sizeof *e->cnt);
    int rc = WSE_ENOMEM;
    int sched_fail = wse__sched_init(e);
    if (!e->params || !e->pe || !e->cnt || sched_fail) {
        wse_error_set(e->err, WSE_ENOMEM, NULL, 0, 0, "out of memory for %u PEs", e->npe);
        goto fail;
    }
    if (prog->params_size)
        memcpy(e->params, params, prog->params_size);
    for (uint32_t i = 0; i < e->npe; i++)
        e->pe[i].op_block = WSE_NONE;
    if ((rc = wse__setup_shard(e)) != 0 || (rc = wse__router_resolve(e)) != 0)
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
    wse__sram_free(e);
    wse__router_free(e);
    wse__halo_free(e);
    wse__ce_free(e);
    wse__sched_free(e);
    free(e->pe);
    free(e->cnt);
    free(e->params);
    free(e);
}

/* ------------------------------------------------------------ time */

static void visit(wse_engine *e, uint32_t pe, uint64_t t)
{
    int more = wse__router_step(e, pe, t);
    more |= wse__ce_step(e, pe, t);
    if (more)
        sched_wake(e, pe, t + 1);
    e->st.pe_visits++;
}

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
 * queue_sync).  Runs once per WSE_SWEEP_CYCLES of emulated time. */
static void sweep_histories(wse_engine *e, uint64_t t, uint64_t last_active)
{
    int all_old = t - last_active >= 32;    /* no event in the last 32 cycles */
    for (uint32_t i = 0; i < e->nq; i++) {
        wse_queue *q = &e->q[i];
        if (all_old) {
            q->push_hist = q->pop_hist = 0;
            q->stamp = (uint32_t)t;
        } else {
            queue_sync(q, t);
        }
    }
    e->next_sweep = t + WSE_SWEEP_CYCLES;
}

uint64_t wse__engine_next(const wse_engine *e)
{
    if (e->ring[e->now % WSE_RING].count)
        return e->now;
    return wse__sched_next(e, e->now);
}

int wse__engine_advance(wse_engine *e, uint64_t end, wse_error *err)
{
    wse_error local;
    wse_error_clear(&local);
    e->err = err ? err : &local;
    e->running = 1;
    uint64_t t = e->now;
    while (t < end && !e->failed) {
        wse_bitset *cur = &e->ring[t % WSE_RING];
        wse__sched_due(e, cur, t);
        if (cur->count == 0) {
            t = wse__sched_next(e, t);
            continue;
        }
        if (t >= e->next_sweep)
            sweep_histories(e, t, e->last_active);
        e->now = t;
        visit_all(e, cur, t);
        if (e->sched_oom && !e->failed)
            wse__fault_pe(e, 0, WSE_ENOMEM, "out of memory for timers");
        e->last_active = t;
        e->st.cycles_stepped++;
        t++;
    }
    e->now = end;
    int rc = e->failed ? e->err->code : 0;
    e->err = NULL;
    return rc;
}

uint64_t wse__engine_last_active(const wse_engine *e) { return e->last_active; }
uint32_t wse__engine_unfinished(const wse_engine *e) { return e->unfinished; }

int wse__engine_stuck(const wse_engine *e, int max, wse_stuck *out)
{
    int shown = 0;
    for (uint32_t i = 0; i < e->npe && shown < max; i++) {
        if (e->pe[i].flags & PE_FINISHED)
            continue;
        int x, y;
        pe_coords(e, i, &x, &y);
        out[shown].index = (uint64_t)y * (uint64_t)e->region.width + (uint64_t)x;
        wse__ce_describe(e, i, out[shown].what, sizeof out[shown].what);
        shown++;
    }
    return shown;
}

static int report_deadlock(const wse_engine *e, uint64_t t, wse_error *err)
{
    wse_stuck s[3];
    int n = wse__engine_stuck(e, 3, s);
    wse__fault_deadlock(err, t, e->unfinished, e->npe, s, n);
    return WSE_EDEADLOCK;
}

/* One engine alone: windows of one hop latency, skipping idle time. */
int wse_engine_run(wse_engine *e, uint64_t max_cycles, wse_error *err)
{
    double last = clock_seconds();
    int rc = 0;
    for (;;) {
        uint64_t t = wse__engine_next(e);
        if (t == UINT64_MAX)
            break;
        if (t >= max_cycles) {
            rc = wse_error_set(err, WSE_ELIMIT, NULL, 0, 0,
                               "cycle limit max_cycles=%llu reached with %u PEs unfinished",
                               (unsigned long long)max_cycles, e->unfinished);
            break;
        }
        e->now = t;
        if ((rc = wse__engine_advance(e, t + (uint64_t)e->latency, err)) != 0)
            break;
        if (e->progress && clock_seconds() - last >= e->progress_s) {
            last = clock_seconds();
            e->progress(e->now, e->progress_arg);
        }
    }
    if (rc == 0 && e->unfinished > 0)
        rc = report_deadlock(e, e->last_active, err);
    return rc;
}

/* ------------------------------------------------------------ queries */

void wse_engine_stats_get(const wse_engine *e, wse_engine_stats *s)
{
    *s = e->st;
    s->cycles = e->last_active;
    s->pes = e->npe;
    s->flops = s->busy_cycles = s->sram_bytes_moved = 0;
    memset(&s->link, 0, sizeof s->link);
    memset(&s->sram, 0, sizeof s->sram);
    for (uint32_t i = 0; i < e->npe; i++) {
        const wse_pecount *c = &e->cnt[i];
        s->flops += c->flops;
        s->busy_cycles += c->busy_cycles;
        s->sram_bytes_moved += c->sram_bytes;
        for (int d = 0; d < 4; d++)
            if (c->link_out[d] > s->link.value) {
                s->link.value = c->link_out[d];
                s->link.x = pe_xy(e, i, &s->link.y);
                s->link.port = d;
            }
        uint32_t used = e->pe[i].sram_used + e->topo.reserved_bytes;
        if (used > s->sram.value) {
            s->sram.value = used;
            s->sram.x = pe_xy(e, i, &s->sram.y);
        }
    }
}

wse_rect wse_engine_region(const wse_engine *e) { return e->region; }
wse_rect wse_engine_shard(const wse_engine *e) { return e->shard; }
const wse_program *wse_engine_program(const wse_engine *e) { return e->prog; }
const void *wse_engine_params(const wse_engine *e) { return e->params; }

int wse_engine_block(wse_engine *e, int array, int x, int y, wse_array_block *b)
{
    uint32_t idx = local_index(e, x, y);
    if (array < 0 || array >= e->prog->n_arrays || idx == WSE_NONE)
        return WSE_EINVAL;
    struct wse_pe h = { .e = e, .idx = idx, .x = x, .y = y, .now = e->now };
    memset(b, 0, sizeof *b);
    e->prog->arrays[array].block(&h, sram_base(e, idx), b);
    return 0;
}

uint64_t wse_engine_overhead_bytes(const wse_engine *e)
{
    uint64_t b = sizeof *e;
    b += (uint64_t)e->npe * (sizeof *e->pe + sizeof *e->cnt);
    b += (uint64_t)e->nq * (sizeof *e->q + (uint64_t)e->depth * sizeof *e->slots);
    b += (uint64_t)e->nmcast * sizeof *e->mcast;
    b += wse__ce_bytes(e);
    b += wse__sched_bytes(e);
    return b;
}

void wse_engine_set_progress(wse_engine *e, double seconds,
                             void (*fn)(uint64_t, void *), void *arg)
{
    e->progress_s = seconds;
    e->progress = fn;
    e->progress_arg = arg;
}
