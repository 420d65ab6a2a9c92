/*
 * src/engine_int.h - engine internals shared by engine.c and pe.c.
 *
 * All emulator state is plain arrays indexed by integers (no pointers
 * between records), so a shard can be serialised and redistributed.
 */
#ifndef WSE_ENGINE_INT_H
#define WSE_ENGINE_INT_H

#include <stdint.h>
#include "wse/engine.h"
#include "wse/pe.h"

#define WSE_NONE 0xffffffffu
/* Wakes less than WSE_RING cycles ahead go into a ring of bitmaps (deduplicated
 * for free); later ones into the heap. */
#define WSE_RING 32
/* Route records of halo PEs carry this flag, the side in bits 24-25 and the
 * offset along the side below. */
#define WSE_HALO_PE 0x80000000u

/* Queue kinds: a router input the router forwards from, or a CE input the
 * compute engine consumes (data tasks, fabin). */
enum { Q_ROUTER = 0, Q_CE = 1, Q_GHOST = 2 };
/* Port of a CE input fed by its own router (multicast that includes RAMP). */
#define WSE_PORT_ROUTER 5

/*
 * One configured (PE, color, input port) queue.  24 bytes plus queue_depth
 * payload words kept in wse_engine.slots.  push_hist/pop_hist record the
 * last 32 cycles (bit k = cycle stamp - k), which is all the engine needs
 * for hop latency (visibility of pushes) and credit return (of pops).
 */
typedef struct wse_queue {
    uint32_t stamp;             /* low 32 bits of the cycle; see q_sync() */
    uint32_t push_hist, pop_hist;
    uint8_t head, tail;         /* cumulative counts, mod 256 (depth <= 64) */
    uint8_t color, port, kind;
    uint8_t txports;            /* Q_ROUTER: output port mask */
    uint8_t up_remote;          /* its producer is in a neighbour shard */
    uint32_t tx;                /* one output: target queue; several: index
                                 * into wse_engine.mcast; WSE_NONE: none */
} wse_queue;

enum { OP_FABOUT = 0, OP_FABIN = 1, OP_SEND = 2 };

/* A fabric operation in progress; the SRAM address is an offset from the
 * PE's SRAM base. */
typedef struct wse_op {
    uint32_t start;             /* low 32 bits of the first cycle it may move */
    uint32_t addr;              /* SRAM offset (bytes), or the SEND word */
    uint32_t queue;             /* FABOUT/SEND: RAMP-fed router queue */
    int16_t stride;             /* in 32-bit words */
    uint16_t n, done;
    int8_t on_done;
    uint8_t kind, flags, color;
} wse_op;

/* A PE's operations live, in issue order, in a chain of blocks that the PE
 * keeps once it has them: a PE's ops are contiguous in memory and blocks
 * are handed out in the order PEs first need them, which follows the sweep
 * order.  (A shared free list scattered them: a cache miss per op.) */
#define WSE_OPS_PER_BLOCK 4
typedef struct wse_opblock {
    wse_op op[WSE_OPS_PER_BLOCK];
    uint32_t next;              /* next block of the same PE, or WSE_NONE */
    uint32_t pad;
} wse_opblock;

#define PE_FINISHED 1u
#define PE_SYNC_WAIT 2u

/* Per-PE engine state. */
typedef struct wse_pestate {
    uint64_t busy_until;        /* CE runs no new task before this cycle */
    uint64_t active, blocked;   /* task bit sets */
    uint64_t data_tasks, local_tasks;
    uint32_t sram_off;          /* arena offset of this PE's SRAM block */
    uint32_t sram_used;         /* bytes allocated (excl. reserved) */
    uint32_t sram_chunk;        /* arena chunk holding the block */
    uint32_t q_first;           /* queues [q_first, q_first + nq) */
    uint32_t op_block;          /* first block of fabric ops, or WSE_NONE */
    uint16_t nq;
    uint8_t nops;               /* fabric ops in progress */
    uint8_t flags;
} wse_pestate;

/* Per-PE counters: the raw material of every statistic and, later, of
 * power and thermal maps. */
typedef struct wse_pecount {
    uint64_t busy_cycles;
    uint64_t flops;
    uint64_t sram_bytes;
    uint32_t tasks;
    uint32_t sent, received;
    uint32_t link_out[4];       /* wavelets sent on N, E, S, W */
} wse_pecount;

/* A route as declared in setup, before resolution into queues. */
typedef struct wse_route {
    uint32_t pe;
    uint8_t color, rx, tx, pad;
} wse_route;

/* Two-level bitmap of PEs to visit in one cycle. */
typedef struct wse_bitset {
    uint64_t *w;                /* one bit per PE */
    uint64_t *sum;              /* one bit per word of w */
    uint32_t nw, nsum;
    uint64_t count;
} wse_bitset;

typedef struct wse_timer { uint64_t cycle; uint32_t pe; } wse_timer;

/* An owned queue whose producer is in a neighbour shard. */
typedef struct wse_bq { uint32_t q, pe; } wse_bq;

typedef struct wse_evbuf {
    wse_event *ev;
    uint32_t n, cap;
} wse_evbuf;

/* The handle passed to program callbacks: a PE plus the engine. */
struct wse_pe {
    struct wse_engine *e;
    uint32_t idx;               /* local index (unused for halo PEs) */
    int x, y;                   /* region-relative coordinates */
    int halo;                   /* a neighbour shard's PE, set up only to
                                 * learn its routes */
    uint32_t halo_used;         /* its scratch SRAM in use */
    uint64_t now;               /* cycle the current task started */
    uint64_t charged;           /* cycles charged so far in this task */
    int in_setup;
};

struct wse_engine {
    wse_topology topo;
    const wse_program *prog;
    void *params;
    wse_rect region;            /* fabric coordinates */
    wse_rect shard;             /* the PEs this engine owns, region-relative */
    uint32_t npe;               /* PEs owned */
    int depth, latency;
    int32_t step[6];            /* local index offset to the PE through a port */
    wse_pestate *pe;
    wse_pecount *cnt;
    /* SRAM arena: chunks of memory carved into per-PE blocks */
    uint8_t **chunks;
    uint32_t nchunks, chunk_cap;
    uint64_t chunk_bytes, chunk_used;
    /* host memory handed out for over-budget pe_alloc calls during one
     * PE's setup, so the program runs on and the error can give totals */
    void **scratch;
    uint32_t nscratch, scratch_cap;
    /* routes collected during setup */
    wse_route *routes;
    uint64_t nroutes, routes_cap;
    /* routes of the halo (neighbour shards' edge PEs), during setup */
    wse_route *hroutes;
    uint64_t nhroutes, hroutes_cap;
    uint8_t *hsram;             /* scratch SRAM for halo setup */
    /* resolved queues: owned ones [0, nq_own), then ghosts per side */
    wse_queue *q;
    uint32_t nq, nq_own;
    uint32_t ghost_first[4], ghost_n[4];
    uint32_t *ghost_pe;         /* per ghost: the owned PE that feeds it */
    uint32_t *ghost_at[4];      /* per halo PE along a side: its first ghost */
    wse_bq *bq[4];              /* owned queues fed from a neighbour shard */
    uint32_t bq_n[4];
    wse_evbuf out[4];           /* events for the neighbour shard per side */
    uint32_t *slots;            /* nq * depth payload words */
    uint32_t *mcast;            /* multicast target lists */
    uint32_t nmcast;
    /* fabric op pool */
    wse_opblock *opb;
    uint32_t nopb, opb_cap;
    /* scheduling */
    wse_bitset ring[WSE_RING]; /* PEs to visit at cycles now .. now+RING-1 */
    wse_timer *heap;
    uint64_t nheap, heap_cap;
    uint64_t now;
    uint64_t next_sweep;        /* cycle of the next history sweep */
    uint64_t last_active;       /* last cycle with a visit */
    uint32_t unfinished;
    wse_engine_stats st;
    wse_error *err;             /* the error of the current run/setup */
    int failed;
    int running;                /* setup done, time is advancing */
    double progress_s;
    void (*progress)(uint64_t, void *);
    void *progress_arg;
};

/* ------------------------------------------------------------ geometry,
 * shared by engine.c (run time) and layout.c (setup) */

static inline unsigned popc32(uint32_t v) { return (unsigned)__builtin_popcount(v); }

static const int dx[4] = { 0, 1, 0, -1 };   /* N E S W */
static const int dy[4] = { -1, 0, 1, 0 };

/* Region-relative coordinates of owned PE pe. */
static inline void pe_coords(const wse_engine *e, uint32_t pe, int *x, int *y)
{
    *x = e->shard.x + (int)(pe % (uint32_t)e->shard.width);
    *y = e->shard.y + (int)(pe / (uint32_t)e->shard.width);
}

enum { NB_LOCAL = 0, NB_OFF = 1, NB_REMOTE = 2 };

/* Where region-relative (x, y) is: owned here, off the region, or owned
 * by a neighbour shard. */
static inline int where(const wse_engine *e, int x, int y)
{
    if (x < 0 || y < 0 || x >= e->region.width || y >= e->region.height)
        return NB_OFF;
    x -= e->shard.x;
    y -= e->shard.y;
    if (x < 0 || y < 0 || x >= e->shard.width || y >= e->shard.height)
        return NB_REMOTE;
    return NB_LOCAL;
}

/* Local index of the neighbour of pe through port d, or WSE_NONE if it is
 * not owned here. */
static inline uint32_t neighbour(const wse_engine *e, uint32_t pe, int d)
{
    int x, y;
    pe_coords(e, pe, &x, &y);
    x += dx[d];
    y += dy[d];
    if (where(e, x, y) != NB_LOCAL)
        return WSE_NONE;
    return (uint32_t)(y - e->shard.y) * (uint32_t)e->shard.width + (uint32_t)(x - e->shard.x);
}

static inline int is_remote(const wse_engine *e, uint32_t pe, int d)
{
    int x, y;
    pe_coords(e, pe, &x, &y);
    return where(e, x + dx[d], y + dy[d]) == NB_REMOTE;
}

static inline int pe_xy(const wse_engine *e, uint32_t pe, int *y)
{
    int x;
    pe_coords(e, pe, &x, y);
    return x;
}

/* ------------------------------------------------------------ layout.c */

/* Zeroed, huge-page backed when large; release with free(). */
void *wse__alloc_big(uint64_t bytes);

/* Whether PE pe's program wrote past the end of its allocations (the
 * guard bytes layout.c puts after each PE's SRAM block). */
int wse__engine_guard_broken(const struct wse_engine *e, uint32_t pe);

/* Used by pe.c. */
void wse__engine_wake(struct wse_engine *e, uint32_t pe, uint64_t cycle);
/* A new op slot after the PE's last op, or NULL (out of memory, or the PE
 * already has 255 ops in progress). */
wse_op *wse__engine_op_push(struct wse_engine *e, uint32_t pe);
uint8_t *wse__engine_sram(const struct wse_engine *e, uint32_t pe);
void *wse__engine_scratch(struct wse_engine *e, size_t bytes);
int wse__engine_fail(struct wse_engine *e, uint32_t pe, int code,
                     const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int wse__engine_route_add(struct wse_engine *e, uint32_t pe, int color,
                          unsigned rx, unsigned tx);
uint32_t wse__engine_ramp_queue(const struct wse_engine *e, uint32_t pe,
                                int color);
/* How many CE queues PE pe has for color; *first gets the first one. */
unsigned wse__engine_ce_queues(const struct wse_engine *e, uint32_t pe, int color,
                               uint32_t *first);
/* Internal op flag: the op's color has exactly one CE queue, op->queue. */
#define OPF_ONE_QUEUE 0x80u

#endif
