/*
 * src/sim.c - one rank's shards of a grid, run together in windows (see
 * wse/shard.h).
 *
 * Per window: every local engine advances to the window's end, each on
 * its own worker thread; edge events are swapped (in memory between
 * shards on this rank, by MPI with the others: exchange.c); every engine
 * applies what crossed into it; one MPI_Allreduce of (next cycle, error
 * code, failing rank) decides the next window or the end.
 *
 * Drawback: an allreduce per window: with hop latency 1 a busy run pays
 * it every cycle.  Relaxed mode (longer windows) is the remedy users can
 * pick.
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "clock_int.h"
#include "sim_int.h"

/* ------------------------------------------------------------ shards */

static int alloc_local(wse_sim *s)
{
    for (int j = 0; j < s->gy; j++)
        for (int i = 0; i < s->gx; i++)
            if (wse_grid_owner(s->g, i, j) == s->rank)
                s->nlocal++;
    int n = s->nlocal;
    s->eng = calloc((size_t)n, sizeof *s->eng);
    s->sid = calloc((size_t)n, sizeof *s->sid);
    s->busy_s = calloc((size_t)n, sizeof *s->busy_s);
    if (!s->eng || !s->sid || !s->busy_s)
        return WSE_ENOMEM;
    int k = 0;
    for (int j = 0; j < s->gy; j++)
        for (int i = 0; i < s->gx; i++)
            if (wse_grid_owner(s->g, i, j) == s->rank)
                s->sid[k++] = j * s->gx + i;
    return 0;
}

/* ------------------------------------------------------------ phases
 * Each runs on worker k for local shard k. */

/* Each engine is created (and so first touched) by the thread that runs
 * it, pinned where the plan says. */
static int phase_create(void *arg, int k, wse_error *err)
{
    wse_sim *s = arg;
    wse_pin_thread(s->pin, k);
    wse_rect r = wse_grid_rect(s->g, s->sid[k] % s->gx, s->sid[k] / s->gx);
    return wse_engine_create(s->topo, s->prog, s->params, s->region, &r, &s->eng[k], err);
}

static int phase_advance(void *arg, int k, wse_error *err)
{
    wse_sim *s = arg;
    /* every shard applied the last window's events (the round that ended
     * the apply phase): this shard's outbox can be reused */
    wse__halo_outbox_clear(s->eng[k]);
    double t0 = clock_seconds();
    int rc = wse__engine_advance(s->eng[k], s->end, err);
    s->busy_s[k] += clock_seconds() - t0;
    return rc;
}

/* Apply the events crossing into local shard k; its neighbours' outboxes
 * are read, not changed, so all shards apply at once. */
static int phase_apply(void *arg, int k, wse_error *err)
{
    wse_sim *s = arg;
    int rc = 0;
    for (int d = 0; d < 4 && !rc; d++) {
        int nb = sim_neighbour(s, s->sid[k], d);
        if (nb < 0)
            continue;
        int lk = sim_local_of(s, nb);
        uint32_t cnt;
        const wse_event *ev;
        if (lk >= 0) {
            ev = wse__halo_outbox(s->eng[lk], pe_port_opposite(d), &cnt);
        } else {
            ev = s->rb[k * 4 + d];
            cnt = s->rn[k * 4 + d];
        }
        rc = wse__halo_apply(s->eng[k], d, ev, cnt, err);
    }
    return rc;
}

/* ------------------------------------------------------------ create */

int wse_sim_create(const wse_topology *topo, const wse_program *prog,
                   const void *params, wse_rect region, const wse_grid *g,
                   MPI_Comm comm, wse_sim **out, wse_error *err)
{
    *out = NULL;
    wse_sim *s = calloc(1, sizeof *s);
    int rc = s ? 0 : WSE_ENOMEM;
    if (s) {
        s->comm = comm;
        MPI_Comm_rank(comm, &s->rank);
        MPI_Comm_size(comm, &s->size);
        s->g = g;
        wse_grid_shards(g, &s->gx, &s->gy);
        s->region = region;
        uint64_t latency = (uint64_t)topo->hop_latency_cycles;
        s->window = wse_grid_window(g) > latency ? wse_grid_window(g) : latency;
        s->topo = topo;
        s->prog = prog;
        s->params = params;
        rc = alloc_local(s);
    }
    int level = MPI_THREAD_SINGLE;
    MPI_Query_thread(&level);
    if (!rc && s->nlocal > 1 && s->size > 1 && level < MPI_THREAD_FUNNELED) {
        /* worker threads never call MPI, but with other ranks to talk to
         * the MPI library must be told that threads exist */
        rc = wse_error_set(err, WSE_EMPI, NULL, 0, 0,
                           "%d threads per rank need MPI_THREAD_FUNNELED; MPI was initialised with less",
                           s->nlocal);
    } else if (rc) {
        wse_error_set(err, rc, NULL, 0, 0, "out of memory for shards");
    }
    if (!rc) {
        s->pin = wse_pin_plan_make(comm, s->nlocal);
        if ((rc = wse__pool_create(s->nlocal, &s->pool)) != 0)
            wse_error_set(err, rc, NULL, 0, 0, "cannot start %d threads", s->nlocal);
    }
    if (!rc)
        rc = wse__pool_run(s->pool, phase_create, s, err);
    if (!rc)
        rc = wse__exchange_alloc(s, err);
    rc = wse_agree(comm, rc, err);
    if (rc) {
        wse_sim_destroy(s);
        return rc;
    }
    *out = s;
    return 0;
}

void wse_sim_destroy(wse_sim *s)
{
    if (!s)
        return;
    wse__pool_destroy(s->pool);
    wse_pin_plan_free(s->pin);
    for (int k = 0; s->eng && k < s->nlocal; k++)
        wse_engine_destroy(s->eng[k]);
    wse__exchange_free(s);
    free(s->eng);
    free(s->sid);
    free(s->busy_s);
    free(s);
}

MPI_Comm wse_sim_comm(const wse_sim *s) { return s->comm; }
int wse_sim_nlocal(const wse_sim *s) { return s->nlocal; }
wse_engine *wse_sim_local(wse_sim *s, int k) { return s->eng[k]; }
int wse_sim_local_id(const wse_sim *s, int k) { return s->sid[k]; }
const char *wse_sim_pinning(const wse_sim *s) { return wse_pin_describe(s->pin); }

void wse_sim_set_progress(wse_sim *s, double seconds,
                          void (*fn)(uint64_t, void *), void *arg)
{
    s->progress_s = seconds;
    s->progress = fn;
    s->progress_arg = arg;
}

void wse_sim_set_power_windows(wse_sim *s, uint64_t cycles,
                               int (*close)(void *arg, uint64_t boundary, wse_error *err),
                               void *arg)
{
    s->pw_cycles = cycles;
    s->pw_next = cycles;
    s->pw_close = close;
    s->pw_arg = arg;
}

/* ------------------------------------------------------------ the run */

static uint64_t local_next(const wse_sim *s)
{
    uint64_t t = UINT64_MAX;
    for (int k = 0; k < s->nlocal; k++) {
        uint64_t n = wse__engine_next(s->eng[k]);
        if (n < t)
            t = n;
    }
    return t;
}

/* Agree on the next cycle and on failure.  Returns the agreed code. */
static int agree_next(wse_sim *s, int rc, uint64_t *next, wse_error *err)
{
    unsigned long long v[3] = { *next, 0, 0 }, r[3];
    /* codes are small negatives: map to positives so MIN picks any failure */
    v[1] = rc ? (unsigned long long)(1000 + rc) : ULLONG_MAX;
    v[2] = rc ? (unsigned long long)s->rank : ULLONG_MAX;
    MPI_Allreduce(v, r, 3, MPI_UNSIGNED_LONG_LONG, MPI_MIN, s->comm);
    *next = r[0];
    if (r[1] == ULLONG_MAX)
        return 0;
    wse_error e;
    if ((unsigned long long)s->rank == r[2])
        e = *err;
    MPI_Bcast(&e, (int)sizeof e, MPI_BYTE, (int)r[2], s->comm);
    *err = e;
    return e.code ? e.code : WSE_EMPI;
}

static uint64_t global_unfinished(wse_sim *s)
{
    unsigned long long mine = 0, all = 0;
    for (int k = 0; k < s->nlocal; k++)
        mine += wse__engine_unfinished(s->eng[k]);
    MPI_Allreduce(&mine, &all, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, s->comm);
    return all;
}

static uint64_t global_last_active(wse_sim *s)
{
    unsigned long long mine = 0, all = 0;
    for (int k = 0; k < s->nlocal; k++)
        if (wse__engine_last_active(s->eng[k]) > mine)
            mine = wse__engine_last_active(s->eng[k]);
    MPI_Allreduce(&mine, &all, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, s->comm);
    return all;
}

static int stuck_cmp(const void *a, const void *b)
{
    const wse_stuck *x = a, *y = b;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* A deadlock message naming the three stuck PEs with the lowest global
 * indices (as one engine would), the same on all ranks. */
static int deadlock(wse_sim *s, uint64_t unfinished, uint64_t cycle, wse_error *err)
{
    int cap = 3 * (s->nlocal > s->size ? s->nlocal : s->size);
    wse_stuck *c = calloc((size_t)cap + 3, sizeof *c), mine[3];
    wse_stuck *all = calloc((size_t)s->size * 3, sizeof *all);
    int n = 0;
    for (int k = 0; c && k < s->nlocal; k++)
        n += wse__engine_stuck(s->eng[k], 3, c + n);
    if (c)
        qsort(c, (size_t)n, sizeof *c, stuck_cmp);
    for (int i = 0; i < 3; i++) {
        memset(&mine[i], 0, sizeof mine[i]);
        mine[i].index = UINT64_MAX;
        if (c && i < n)
            mine[i] = c[i];
    }
    MPI_Allgather(mine, (int)sizeof mine, MPI_BYTE, all, (int)sizeof mine, MPI_BYTE, s->comm);
    int m = 0;
    if (all) {
        qsort(all, (size_t)s->size * 3, sizeof *all, stuck_cmp);
        while (m < 3 && all[m].index != UINT64_MAX)
            m++;
    }
    wse_error e;
    wse_error_clear(&e);
    uint64_t npe = (uint64_t)s->region.width * (uint64_t)s->region.height;
    wse__fault_deadlock(&e, cycle, unfinished, npe, all ? all : mine, m);
    *err = e;
    free(c);
    free(all);
    return WSE_EDEADLOCK;
}

int wse_sim_run(wse_sim *s, uint64_t max_cycles, wse_error *err)
{
    double last = clock_seconds();
    uint64_t next = local_next(s);
    int rc = agree_next(s, 0, &next, err);
    while (!rc && next != UINT64_MAX) {
        if (next >= max_cycles) {
            uint64_t left = global_unfinished(s);
            return wse_error_set(err, WSE_ELIMIT, NULL, 0, 0,
                                 "cycle limit max_cycles=%llu reached with %llu PEs unfinished",
                                 (unsigned long long)max_cycles, (unsigned long long)left);
        }
        /* power windows: no event lies between a boundary and next, so
         * every engine's state is each boundary's; rc is agreed by every
         * rank */
        while (!rc && s->pw_cycles && next >= s->pw_next) {
            rc = s->pw_close(s->pw_arg, s->pw_next, err);
            s->pw_next += s->pw_cycles;
        }
        if (rc)
            break;
        uint64_t end = next + s->window;
        if (s->pw_cycles && end > s->pw_next)
            end = s->pw_next;       /* no engine window crosses a boundary */
        s->end = end;
        rc = wse__pool_run(s->pool, phase_advance, s, err);
        if (s->size > 1) {
            /* even after a failure here: the neighbours wait for these
             * messages, and the failure is agreed on below */
            wse_error xe;
            int xrc = wse__exchange_run(s, rc ? &xe : err);
            rc = rc ? rc : xrc;
        }
        if (!rc)
            rc = wse__pool_run(s->pool, phase_apply, s, err);
        next = rc ? UINT64_MAX : local_next(s);
        rc = agree_next(s, rc, &next, err);
        if (s->progress && s->rank == 0 && clock_seconds() - last >= s->progress_s) {
            last = clock_seconds();
            s->progress(end, s->progress_arg);
        }
    }
    if (rc)
        return rc;
    uint64_t left = global_unfinished(s);
    if (left)
        return deadlock(s, left, global_last_active(s), err);
    return 0;
}

/* ------------------------------------------------------------ statistics */

/* A peak as it travels between ranks: value, global PE index, port. */
typedef struct peak_msg { unsigned long long v, idx, port; } peak_msg;

/* The best of every rank's peak, the same on every rank. */
static wse_peak peak_all(wse_sim *s, wse_peak mine)
{
    uint64_t W = (uint64_t)s->region.width;
    peak_msg m = { mine.value, (uint64_t)mine.y * W + (uint64_t)mine.x, (unsigned long long)mine.port };
    peak_msg *all = calloc((size_t)s->size, sizeof *all);
    if (!all)
        return mine;
    MPI_Allgather(&m, 3, MPI_UNSIGNED_LONG_LONG, all, 3, MPI_UNSIGNED_LONG_LONG, s->comm);
    peak_msg r = { 0, ULLONG_MAX, 0 };
    for (int i = 0; i < s->size; i++) {
        wse_peak a = { all[i].v, 0, 0, (int)all[i].port }, b = { r.v, 0, 0, (int)r.port };
        if (wse_peak_better(&a, all[i].idx, &b, r.idx))
            r = all[i];
    }
    free(all);
    wse_peak out = { r.v, (int)(r.idx % W), (int)(r.idx / W), (int)r.port };
    return out;
}

enum {
#define WSE_STAT_INDEX_(f, reduce, group, exact, key, doc) STAT_##f,
    WSE_STATS(WSE_STAT_INDEX_)
#undef WSE_STAT_INDEX_
    STAT_COUNT
};

void wse_sim_stats(wse_sim *s, wse_engine_stats *st)
{
    /* one pass over each engine's PEs; sums and maxima reduced over ranks */
    unsigned long long sum[STAT_COUNT] = { 0 }, mx[STAT_COUNT] = { 0 };
    unsigned long long gsum[STAT_COUNT], gmx[STAT_COUNT];
    uint64_t W = (uint64_t)s->region.width;
    wse_engine_stats best;
    memset(&best, 0, sizeof best);
    uint64_t best_idx[2] = { UINT64_MAX, UINT64_MAX };
    for (int k = 0; k < s->nlocal; k++) {
        wse_engine_stats e;
        wse_engine_stats_get(s->eng[k], &e);
#define WSE_STAT_LOCAL_(f, reduce, group, exact, key, doc) \
        sum[STAT_##f] += e.f;                               \
        mx[STAT_##f] = e.f > mx[STAT_##f] ? e.f : mx[STAT_##f];
        WSE_STATS(WSE_STAT_LOCAL_)
#undef WSE_STAT_LOCAL_
        int p = 0;
#define WSE_PEAK_LOCAL_(f, doc)                                                   \
        {                                                                         \
            uint64_t idx = (uint64_t)e.f.y * W + (uint64_t)e.f.x;                 \
            if (wse_peak_better(&e.f, idx, &best.f, best_idx[p])) {               \
                best.f = e.f;                                                     \
                best_idx[p] = idx;                                                \
            }                                                                     \
            p++;                                                                  \
        }
        WSE_STATS_PEAKS(WSE_PEAK_LOCAL_)
#undef WSE_PEAK_LOCAL_
    }
    MPI_Allreduce(sum, gsum, STAT_COUNT, MPI_UNSIGNED_LONG_LONG, MPI_SUM, s->comm);
    MPI_Allreduce(mx, gmx, STAT_COUNT, MPI_UNSIGNED_LONG_LONG, MPI_MAX, s->comm);
    memset(st, 0, sizeof *st);
#define PICK_SUM(sum, max) (sum)
#define PICK_MAX(sum, max) (max)
#define WSE_STAT_GLOBAL_(f, reduce, group, exact, key, doc) \
    st->f = PICK_##reduce(gsum[STAT_##f], gmx[STAT_##f]);
    WSE_STATS(WSE_STAT_GLOBAL_)
#undef WSE_STAT_GLOBAL_
#define WSE_PEAK_GLOBAL_(f, doc) st->f = peak_all(s, best.f);
    WSE_STATS_PEAKS(WSE_PEAK_GLOBAL_)
#undef WSE_PEAK_GLOBAL_
}

void wse_sim_halo(wse_sim *s, uint64_t *bytes, uint64_t *messages)
{
    unsigned long long v[2] = { s->halo_bytes, s->halo_msgs }, r[2];
    MPI_Allreduce(v, r, 2, MPI_UNSIGNED_LONG_LONG, MPI_SUM, s->comm);
    *bytes = r[0];
    *messages = r[1];
}

double wse_sim_imbalance(wse_sim *s)
{
    double mx = 0, sum = 0, gmx = 0, gsum = 0;
    for (int k = 0; k < s->nlocal; k++) {
        sum += s->busy_s[k];
        if (s->busy_s[k] > mx)
            mx = s->busy_s[k];
    }
    int n = s->nlocal, gn = 0;
    MPI_Allreduce(&mx, &gmx, 1, MPI_DOUBLE, MPI_MAX, s->comm);
    MPI_Allreduce(&sum, &gsum, 1, MPI_DOUBLE, MPI_SUM, s->comm);
    MPI_Allreduce(&n, &gn, 1, MPI_INT, MPI_SUM, s->comm);
    return gsum > 0 ? gmx / (gsum / gn) : 1.0;
}

uint64_t wse_sim_overhead_bytes(wse_sim *s)
{
    unsigned long long mine = 0, all = 0;
    for (int k = 0; k < s->nlocal; k++)
        mine += wse_engine_overhead_bytes(s->eng[k]);
    MPI_Allreduce(&mine, &all, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, s->comm);
    return all;
}
