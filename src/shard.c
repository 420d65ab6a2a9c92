/*
 * src/shard.c - the region as a grid of shards on ranks and threads; the
 * window loop that keeps them exact (see wse/shard.h).
 *
 * Per window: advance every local engine to the window's end; swap edge
 * events (memory for shards on this rank, MPI_Isend/Irecv for the others,
 * one message per neighbouring shard pair and direction, empty ones
 * included so the receiver never guesses); apply; one MPI_Allreduce of
 * (next cycle, error code, failing rank).
 *
 * Drawbacks: a message per neighbour per window even when nothing crosses,
 * and an allreduce per window: with hop latency 1 a busy run pays both
 * every cycle.  Relaxed mode (longer windows) is the remedy users can pick.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pthread.h>
#include "clock_int.h"
#include "window_int.h"
#include "wse/shard.h"
#include "wse/threads.h"

/* What every thread does next, between two barriers. */
enum { PH_CREATE, PH_ADVANCE, PH_APPLY, PH_STOP };

typedef struct worker {
    struct wse_sim *s;
    int k;                      /* local shard it owns */
    pthread_t th;
    int started;
    int rc;
    wse_error err;
} worker;

struct wse_sim {
    MPI_Comm comm;
    int rank, size;
    wse_grid g;
    wse_rect region;
    int latency;
    uint64_t window;            /* cycles per window (>= latency) */
    int nlocal;
    wse_engine **eng;           /* local shards, in shard-id order */
    int *sid;                   /* their shard ids (j * gx + i) */
    wse_event *rbuf[4];         /* receive buffers per local shard and side */
    uint32_t *rcap;             /* [k * 4 + side] capacity of the buffer */
    wse_event **rb;             /* [k * 4 + side] */
    uint32_t *rn;               /* [k * 4 + side] events received */
    double *busy_s;             /* host seconds advancing, per local shard */
    uint64_t halo_bytes, halo_msgs;
    double progress_s;
    void (*progress)(uint64_t, void *);
    void *progress_arg;
    /* threads: one per local shard, the caller's thread is shard 0 */
    worker *w;
    pthread_barrier_t bar;
    int bar_ok;
    int phase;
    uint64_t end;               /* PH_ADVANCE: the window's end */
    const wse_topology *topo;   /* PH_CREATE */
    const wse_program *prog;
    const void *params;
    wse_pin_plan *pin;
};

static const int sdx[4] = { 0, 1, 0, -1 }, sdy[4] = { -1, 0, 1, 0 };

/* ------------------------------------------------------------ the grid */

static void cuts(int *c, int parts, int len)
{
    for (int i = 0; i <= parts; i++)
        c[i] = (int)((int64_t)i * len / parts);
}

int wse_grid_make(int width, int height, int ranks, int px, int py, int threads,
                  wse_grid *g, wse_error *err)
{
    memset(g, 0, sizeof *g);
    if (px == 0 && py == 0) {
        int64_t best = INT64_MAX;
        for (int a = 1; a <= ranks; a++) {
            if (ranks % a || a > width || ranks / a > height)
                continue;
            int64_t cost = (int64_t)(a - 1) * height + (int64_t)(ranks / a - 1) * width;
            if (cost < best) {
                best = cost;
                px = a;
                py = ranks / a;
            }
        }
        if (px == 0)
            return wse_error_set(err, WSE_ECONFIG, NULL, 0, 0,
                                 "cannot cut a %dx%d region for %d ranks", width, height, ranks);
    }
    if (px <= 0 || py <= 0 || px * py != ranks)
        return wse_error_set(err, WSE_ECONFIG, NULL, 0, 0,
                             "--grid %dx%d needs %d ranks, but %d are running", px, py,
                             px * py, ranks);
    if (px > width || py > height)
        return wse_error_set(err, WSE_ECONFIG, NULL, 0, 0,
                             "--grid %dx%d has more shards than the %dx%d region has PEs along an axis",
                             px, py, width, height);
    if (threads < 1)
        threads = 1;
    int minband = height;
    for (int j = 0; j < py; j++) {
        int band = (int)((int64_t)(j + 1) * height / py - (int64_t)j * height / py);
        if (band < minband)
            minband = band;
    }
    if (threads > minband)
        threads = minband;
    g->px = px;
    g->py = py;
    g->threads = threads;
    g->xsub = 1;
    g->gx = px;
    g->gy = py * threads;
    g->xcut = calloc((size_t)g->gx + 1, sizeof *g->xcut);
    g->ycut = calloc((size_t)g->gy + 1, sizeof *g->ycut);
    int *band = calloc((size_t)py + 1, sizeof *band);
    if (!g->xcut || !g->ycut || !band) {
        free(band);
        wse_grid_free(g);
        return wse_error_set(err, WSE_ENOMEM, NULL, 0, 0, "out of memory");
    }
    cuts(g->xcut, px, width);
    cuts(band, py, height);
    for (int j = 0; j < py; j++)          /* each rank band cut into thread rows */
        for (int t = 0; t <= threads; t++)
            g->ycut[j * threads + t] = band[j] + (int)((int64_t)t * (band[j + 1] - band[j]) / threads);
    free(band);
    return 0;
}

void wse_grid_free(wse_grid *g)
{
    free(g->xcut);
    free(g->ycut);
    g->xcut = g->ycut = NULL;
}

int wse_grid_owner(const wse_grid *g, int i, int j)
{
    return (j / g->threads) * g->px + i / g->xsub;
}

wse_rect wse_grid_rect(const wse_grid *g, int i, int j)
{
    wse_rect r = { g->xcut[i], g->ycut[j], g->xcut[i + 1] - g->xcut[i], g->ycut[j + 1] - g->ycut[j] };
    return r;
}

/* ------------------------------------------------------------ errors */

/* Make every rank return the same code and message: the first failing
 * rank's.  Collective. */
int wse_agree(MPI_Comm comm, int rc, wse_error *err)
{
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    long long v[2] = { rc, rc ? rank : INT32_MAX }, r[2];
    MPI_Allreduce(v, r, 2, MPI_LONG_LONG, MPI_MIN, comm);
    if (r[0] == 0)
        return 0;
    wse_error e;
    if (rank == r[1])
        e = *err;
    MPI_Bcast(&e, (int)sizeof e, MPI_BYTE, (int)r[1], comm);
    *err = e;
    return err->code ? err->code : (int)r[0];
}

/* ------------------------------------------------------------ create */

static int alloc_local(wse_sim *s)
{
    const wse_grid *g = &s->g;
    for (int j = 0; j < g->gy; j++)
        for (int i = 0; i < g->gx; i++)
            if (wse_grid_owner(g, i, j) == s->rank)
                s->nlocal++;
    int n = s->nlocal;
    s->eng = calloc((size_t)n, sizeof *s->eng);
    s->sid = calloc((size_t)n, sizeof *s->sid);
    s->rcap = calloc((size_t)n * 4, sizeof *s->rcap);
    s->rb = calloc((size_t)n * 4, sizeof *s->rb);
    s->rn = calloc((size_t)n * 4, sizeof *s->rn);
    s->busy_s = calloc((size_t)n, sizeof *s->busy_s);
    if (!s->eng || !s->sid || !s->rcap || !s->rb || !s->rn || !s->busy_s)
        return WSE_ENOMEM;
    int k = 0;
    for (int j = 0; j < g->gy; j++)
        for (int i = 0; i < g->gx; i++)
            if (wse_grid_owner(g, i, j) == s->rank)
                s->sid[k++] = j * g->gx + i;
    return 0;
}

/* Shard id of the neighbour of shard id across side d, or -1. */
static int neighbour_shard(const wse_grid *g, int id, int d)
{
    int i = id % g->gx + sdx[d], j = id / g->gx + sdy[d];
    if (i < 0 || j < 0 || i >= g->gx || j >= g->gy)
        return -1;
    return j * g->gx + i;
}

static int local_of(const wse_sim *s, int id)
{
    for (int k = 0; k < s->nlocal; k++)
        if (s->sid[k] == id)
            return k;
    return -1;
}

static int alloc_buffers(wse_sim *s)
{
    for (int k = 0; k < s->nlocal; k++)
        for (int d = 0; d < 4; d++) {
            int nb = neighbour_shard(&s->g, s->sid[k], d);
            if (nb < 0 || local_of(s, nb) >= 0)
                continue;
            uint32_t cap = wse__halo_outbox_max(s->eng[k], d, s->window);
            s->rcap[k * 4 + d] = cap;
            s->rb[k * 4 + d] = malloc((cap ? cap : 1) * sizeof(wse_event));
            if (!s->rb[k * 4 + d])
                return WSE_ENOMEM;
        }
    return 0;
}

static int advance_one(wse_sim *s, int k, wse_error *err)
{
    double t0 = clock_seconds();
    int rc = wse__engine_advance(s->eng[k], s->end, err);
    s->busy_s[k] += clock_seconds() - t0;
    return rc;
}

static int apply_one(wse_sim *s, int k, wse_error *err);

static int create_one(wse_sim *s, int k, wse_error *err)
{
    wse_pin_thread(s->pin, k);
    wse_rect r = wse_grid_rect(&s->g, s->sid[k] % s->g.gx, s->sid[k] / s->g.gx);
    return wse_engine_create(s->topo, s->prog, s->params, s->region, &r, &s->eng[k], err);
}

static int run_phase(wse_sim *s, int k, wse_error *err)
{
    switch (s->phase) {
    case PH_CREATE: return create_one(s, k, err);
    case PH_ADVANCE:
        /* every shard applied the last window's events (the barrier that
         * ended PH_APPLY): this shard's outbox can be reused */
        wse__halo_outbox_clear(s->eng[k]);
        return advance_one(s, k, err);
    case PH_APPLY: return apply_one(s, k, err);
    default: return 0;
    }
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    wse_sim *s = w->s;
    for (;;) {
        pthread_barrier_wait(&s->bar);
        if (s->phase == PH_STOP)
            break;
        wse_error_clear(&w->err);
        w->rc = run_phase(s, w->k, &w->err);
        pthread_barrier_wait(&s->bar);
    }
    return NULL;
}

/* Every local shard does phase, each on its own thread.  Returns the first
 * failing shard's code, its message in err. */
static int par(wse_sim *s, int phase, wse_error *err)
{
    s->phase = phase;
    if (s->nlocal > 1)
        pthread_barrier_wait(&s->bar);
    wse_error_clear(&s->w[0].err);
    s->w[0].rc = run_phase(s, 0, &s->w[0].err);
    if (s->nlocal > 1)
        pthread_barrier_wait(&s->bar);
    for (int k = 0; k < s->nlocal; k++)
        if (s->w[k].rc) {
            if (err && !err->code)
                *err = s->w[k].err;
            return s->w[k].rc;
        }
    return 0;
}

static int start_threads(wse_sim *s, MPI_Comm comm)
{
    s->w = calloc((size_t)s->nlocal, sizeof *s->w);
    if (!s->w)
        return WSE_ENOMEM;
    s->pin = wse_pin_plan_make(comm, s->nlocal);
    for (int k = 0; k < s->nlocal; k++) {
        s->w[k].s = s;
        s->w[k].k = k;
    }
    if (s->nlocal == 1)
        return 0;
    if (pthread_barrier_init(&s->bar, NULL, (unsigned)s->nlocal) != 0)
        return WSE_ENOMEM;
    s->bar_ok = 1;
    for (int k = 1; k < s->nlocal; k++) {
        if (pthread_create(&s->w[k].th, NULL, worker_main, &s->w[k]) != 0)
            return WSE_ENOMEM;
        s->w[k].started = 1;
    }
    return 0;
}

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
        s->g = *g;
        s->region = region;
        s->latency = topo->hop_latency_cycles;
        s->window = g->window > (uint64_t)s->latency ? g->window : (uint64_t)s->latency;
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
    if (!rc && (rc = start_threads(s, comm)) != 0) {
        wse_error_set(err, rc, NULL, 0, 0, "cannot start %d threads", s->nlocal);
        if (s->nlocal > 1) {
            wse_sim_destroy(s);
            s = NULL;
        }
    }
    if (!rc)
        rc = par(s, PH_CREATE, err);        /* each engine first touched by its thread */
    if (!rc && (rc = alloc_buffers(s)) != 0)
        wse_error_set(err, rc, NULL, 0, 0, "out of memory for halo buffers");
    rc = wse_agree(comm, rc, err);
    if (rc) {
        wse_sim_destroy(s);
        return rc;
    }
    *out = s;
    return 0;
}

const char *wse_sim_pinning(const wse_sim *s)
{
    return wse_pin_describe(s->pin);
}

void wse_sim_destroy(wse_sim *s)
{
    if (!s)
        return;
    if (s->bar_ok) {
        int all = 1;
        for (int k = 1; k < s->nlocal; k++)
            all &= s->w[k].started;
        if (!all) {
            /* pthread_create failed part way: the started threads wait on a
             * barrier that can never fill.  Leave them (and s) to the
             * process's imminent exit rather than hang here. */
            for (int k = 1; k < s->nlocal; k++)
                if (s->w[k].started)
                    pthread_detach(s->w[k].th);
            return;
        }
        s->phase = PH_STOP;
        pthread_barrier_wait(&s->bar);
        for (int k = 1; k < s->nlocal; k++)
            pthread_join(s->w[k].th, NULL);
        pthread_barrier_destroy(&s->bar);
    }
    free(s->w);
    wse_pin_plan_free(s->pin);
    for (int k = 0; k < s->nlocal; k++) {
        if (s->eng)
            wse_engine_destroy(s->eng[k]);
        for (int d = 0; d < 4 && s->rb; d++)
            free(s->rb[k * 4 + d]);
    }
    free(s->eng);
    free(s->sid);
    free(s->rcap);
    free(s->rb);
    free(s->rn);
    free(s->busy_s);
    free(s);
}

int wse_sim_nlocal(const wse_sim *s) { return s->nlocal; }
wse_engine *wse_sim_local(wse_sim *s, int k) { return s->eng[k]; }
int wse_sim_local_id(const wse_sim *s, int k) { return s->sid[k]; }

void wse_sim_set_progress(wse_sim *s, double seconds,
                          void (*fn)(uint64_t, void *), void *arg)
{
    s->progress_s = seconds;
    s->progress = fn;
    s->progress_arg = arg;
}

/* ------------------------------------------------------------ a window */

/* Swap edge events with neighbour shards on other ranks. */
static int exchange_remote(wse_sim *s, wse_error *err)
{
    int n = s->nlocal * 4 * 2, nr = 0;
    MPI_Request *req = malloc((size_t)(n ? n : 1) * sizeof *req);
    if (!req)
        return wse_error_set(err, WSE_ENOMEM, NULL, 0, 0, "out of memory");
    for (int k = 0; k < s->nlocal; k++)
        for (int d = 0; d < 4; d++) {
            int nb = neighbour_shard(&s->g, s->sid[k], d);
            if (nb < 0 || local_of(s, nb) >= 0)
                continue;
            int owner = wse_grid_owner(&s->g, nb % s->g.gx, nb / s->g.gx);
            MPI_Irecv(s->rb[k * 4 + d], (int)(s->rcap[k * 4 + d] * sizeof(wse_event)), MPI_BYTE,
                      owner, s->sid[k] * 4 + d, s->comm, &req[nr++]);
            uint32_t cnt;
            const wse_event *ev = wse__halo_outbox(s->eng[k], d, &cnt);
            MPI_Isend(ev, (int)(cnt * sizeof(wse_event)), MPI_BYTE, owner, nb * 4 + (d + 2) % 4,
                      s->comm, &req[nr++]);
            s->halo_bytes += cnt * sizeof(wse_event);
            s->halo_msgs++;
        }
    MPI_Status *st = malloc((size_t)(nr ? nr : 1) * sizeof *st);
    int rc = st ? MPI_Waitall(nr, req, st) : MPI_ERR_NO_MEM;
    for (int k = 0, r = 0; rc == MPI_SUCCESS && k < s->nlocal; k++)
        for (int d = 0; d < 4; d++) {
            int nb = neighbour_shard(&s->g, s->sid[k], d);
            if (nb < 0 || local_of(s, nb) >= 0)
                continue;
            int bytes = 0;
            MPI_Get_count(&st[r], MPI_BYTE, &bytes);
            s->rn[k * 4 + d] = (uint32_t)bytes / sizeof(wse_event);
            r += 2;
        }
    free(st);
    free(req);
    if (rc != MPI_SUCCESS)
        return wse_error_set(err, WSE_EMPI, NULL, 0, 0, "halo exchange failed (MPI error %d)", rc);
    return 0;
}

/* Apply the events crossing into local shard k; its neighbours' outboxes
 * are read, not changed, so all shards apply at once. */
static int apply_one(wse_sim *s, int k, wse_error *err)
{
    int rc = 0;
    for (int d = 0; d < 4 && !rc; d++) {
        int nb = neighbour_shard(&s->g, s->sid[k], d);
        if (nb < 0)
            continue;
        int lk = local_of(s, nb);
        uint32_t cnt;
        const wse_event *ev;
        if (lk >= 0) {
            ev = wse__halo_outbox(s->eng[lk], (d + 2) % 4, &cnt);
        } else {
            ev = s->rb[k * 4 + d];
            cnt = s->rn[k * 4 + d];
        }
        rc = wse__halo_apply(s->eng[k], d, ev, cnt, err);
    }
    return rc;
}

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
        uint64_t end = next + s->window;
        s->end = end;
        rc = par(s, PH_ADVANCE, err);
        if (!rc && s->size > 1)
            rc = exchange_remote(s, err);
        if (!rc)
            rc = par(s, PH_APPLY, err);
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
