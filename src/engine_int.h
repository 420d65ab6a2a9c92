/*
 * src/engine_int.h - the data of one shard's engine, shared by the files
 * that make it up (never installed):
 *
 *   sched.c   when each PE is visited next (ring of bitmaps + heap)
 *   sram.c    the SRAM arena: per-PE blocks, guard bytes
 *   halo.c    events crossing the shard's edges, ghost and edge queues
 *   router.c  routes: declared in setup, resolved into queues, and the
 *             router's cycle (forwarding under credits)
 *   ce.c      the compute engine: fabric operations and task dispatch
 *   fault.c   errors naming a PE, deadlock reports
 *   setup.c   running every PE's setup (and the halo PEs')
 *   engine.c  the facade: create, the time loop, queries, destroy
 *   pe.c      the PE API programs call (wse/pe.h)
 *   dsd.c     the PE API's descriptor operations
 *   elem.c    one element of a descriptor operation (engine-free; ce.c
 *             and dsd.c both use it)
 *
 * All emulator state is plain arrays indexed by integers (no pointers
 * between records), so a shard can be serialised and redistributed.
 * Limits and the field widths they depend on are in limits_int.h.
 */
#ifndef WSE_ENGINE_INT_H
#define WSE_ENGINE_INT_H

#include <stdint.h>
#include "elem_int.h"
#include "limits_int.h"
#include "wse/engine.h"
#include "wse/pe.h"
#include "wse/yield.h"

#define WSE_NONE 0xffffffffu

/* Queue kinds: a router input the router forwards from, a CE input the
 * compute engine consumes (data tasks, fabin), a ghost: this shard's view
 * (credits) of a neighbour shard's queue that one of its PEs feeds, or a
 * router input of a route with switches, a filter or color swap, whose
 * outputs are in a route record (wse_routex). */
enum { Q_ROUTER = 0, Q_ROUTER_X = 1, Q_CE = 2, Q_GHOST = 3 };   /* router kinds first */
/* Port of a CE input fed by its own router (multicast that includes RAMP). */
#define WSE_PORT_ROUTER 5

/*
 * One configured (PE, color, input port) queue.  24 bytes plus queue_depth
 * payload words kept in wse_engine.slots.  push_hist/pop_hist record the
 * last 32 cycles (bit k = cycle stamp - k), which is all the engine needs
 * for hop latency (visibility of pushes) and credit return (of pops).
 */
typedef struct wse_queue {
    uint32_t stamp;             /* low 32 bits of the cycle; see queue_sync() */
    uint32_t push_hist, pop_hist;
    uint8_t head, tail;         /* cumulative counts, mod 256 */
    uint8_t color, port;
    uint8_t kind : 3;           /* Q_* */
    uint8_t lat : 5;            /* cycles a push takes to become visible and a
                                 * pop to return its credit: the hop latency,
                                 * plus a stretched link's extra (yield.c) */
    uint8_t txports;            /* Q_ROUTER: output port mask; a CE queue fed
                                 * straight from a link (or its ghost): RAMP */
    uint8_t up_remote;          /* its producer is in a neighbour shard */
    uint8_t ctrl;               /* bit s: slot s holds a control wavelet */
    uint32_t tx;                /* Q_ROUTER, one output: target queue; several:
                                 * index into wse_engine.mcast; Q_ROUTER_X:
                                 * index into wse_engine.rtx; WSE_NONE: none */
} wse_queue;

/* Teardown states of an extended route. */
enum { TORN_NO = 0, TORN_DOWN = 1, TORN_RESUMING = 2 };

/* A route with switches, a range filter or color swap, per (PE, color).
 * Position k routes from rx[k] to tx[k]; its targets are
 * mcast[tg[k] ...], one per port of tx[k] in port order. */
typedef struct wse_routex {
    uint8_t pos;                /* current switch position */
    uint8_t valid;              /* bit k: position k exists (bit 0 always) */
    uint8_t ring;               /* advancing past the last goes back to 0 */
    uint8_t filter;             /* range filter on the CE output */
    uint8_t rx[WSE_SWITCH_POSITIONS], tx[WSE_SWITCH_POSITIONS];
    uint8_t swap;               /* ports through which the color flips bit 0 */
    uint8_t torn;               /* TORN_*: teardown state */
    int8_t teardown_task;       /* local task a teardown activates, or -1 */
    uint8_t pad;
    uint16_t lo, hi;            /* range filter bounds (upper 16 bits) */
    uint32_t changed;           /* 1 + low 32 bits of the cycle of the last
                                 * switch change; 0: never */
    uint32_t tg[WSE_SWITCH_POSITIONS];
} wse_routex;

/* Fabric op kinds.  The OP_DSD ones are descriptor operations with a
 * fabric operand (dsd.c): a fabin source into memory (IN), memory sources
 * out to a fabout (OUT), or fabin to fabout (THRU). */
enum { OP_FABOUT = 0, OP_FABIN = 1, OP_SEND = 2, OP_DSD_IN = 3, OP_DSD_OUT = 4, OP_DSD_THRU = 5 };
/* Internal op flag (beside WSE_ASYNC, WSE_FABIN_ADD): the op's color has
 * exactly one CE queue, op->queue. */
#define OPF_ONE_QUEUE 0x80u
/* Internal op flag: each element is arithmetic (beyond a bit copy), done
 * in the CE's datapath (WSE_FABIN_ADD fabins and descriptor ops other
 * than plain moves and fills). */
#define OPF_COMPUTES 0x40u

/* A fabric operation in progress; the SRAM address is an offset from the
 * PE's SRAM base.  24 bytes: every PE that ever issues one keeps a block
 * of them, so descriptor operations keep their operands in a side record
 * (wse_opx) instead of growing this. */
typedef struct wse_op {
    uint32_t start;             /* low 32 bits of the first cycle it may move */
    uint32_t addr;              /* SRAM offset (bytes), the SEND word, or
                                 * OP_DSD_*: its wse_opx */
    uint32_t queue;             /* FABOUT/SEND: RAMP-fed router queue;
                                 * FABIN, OP_DSD_IN/THRU with OPF_ONE_QUEUE:
                                 * its CE queue */
    int16_t stride;             /* in 32-bit words */
    uint16_t n, done;
    int8_t on_done;
    uint8_t kind : 4;           /* OP_* */
    uint8_t ut : 4;             /* 1 + its WSE_UT microthread id, 0: none */
    uint8_t flags, color;
} wse_op;
/* Microthread ids an op can name: wse_op.ut keeps 1 + id in 4 bits. */
#define WSE_MAX_UT_IDS 15
_Static_assert(WSE_MAX_COLORS < 255, "a queue map keeps 1 + the color in a uint8_t");
_Static_assert(sizeof(wse_op) == 24, "wse_op is per-PE state: keep it at 24 bytes");

/* The operands of a descriptor operation in flight, for as long as it is
 * (a pool in ce.c; free records chain through next_free). */
typedef struct wse_opx {
    wse_elem_op el;
    uint32_t out_queue;         /* fabout destination: RAMP-fed router queue */
    uint32_t next_free;
} wse_opx;

/* A PE's operations live, in issue order, in a chain of blocks that the PE
 * keeps once it has them (see ce.c). */
typedef struct wse_opblock {
    wse_op op[WSE_OPS_PER_BLOCK];
    uint32_t next;              /* next block of the same PE, or WSE_NONE */
    uint32_t pad;
} wse_opblock;

#define PE_FINISHED 1u
#define PE_SYNC_WAIT 2u
#define PE_THROTTLED 4u         /* its thermal cell is throttled (power.c) */

/* Per-PE engine state. */
typedef struct wse_pestate {
    uint64_t busy_until;        /* CE runs no new task before this cycle */
    uint64_t active, blocked;   /* task bit sets */
    uint64_t data_tasks, local_tasks, control_tasks;
    uint32_t sram_off;          /* arena offset of this PE's SRAM block */
    uint32_t sram_used;         /* bytes allocated (excl. reserved) */
    uint32_t sram_chunk;        /* arena chunk holding the block */
    uint32_t q_first;           /* queues [q_first, q_first + nq) */
    uint32_t op_block;          /* first block of fabric ops, or WSE_NONE */
    uint16_t nq;
    uint8_t nops;               /* fabric ops in progress */
    uint8_t flags;
    /* pe_init_queue: 1 + the color of input queue k and of output queue
     * k, 0: not initialised */
    uint8_t iq[WSE_MAX_QUEUE_IDS], oq[WSE_MAX_QUEUE_IDS];
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
    /* the last task: when it started, the cycles it was charged, the
     * flops and SRAM bytes it counted, so power windows spread its energy
     * over its cycles (power.c) */
    uint64_t task_start, task_cost, task_flops, task_sram;
} wse_pecount;

/* A route as declared in setup, before resolution into queues. */
typedef struct wse_route {
    uint32_t pe;
    uint8_t color, rx, tx;
    uint8_t rx_all;             /* rx of every switch position together */
    uint32_t xi;                /* its wse_routex in wse_engine.rtx, or
                                 * WSE_NONE (a plain route); a halo PE's
                                 * route keeps no record: any other value
                                 * just says it has extras */
} wse_route;

/* A growing list of declared routes. */
typedef struct wse_routes {
    wse_route *v;
    uint64_t n, cap;
} wse_routes;

/* Two-level bitmap of PEs to visit in one cycle. */
typedef struct wse_bitset {
    uint64_t *w;                /* one bit per PE */
    uint64_t *sum;              /* one bit per word of w */
    uint32_t nw, nsum;
    uint64_t count;
} wse_bitset;

typedef struct wse_timer { uint64_t cycle; uint32_t pe; } wse_timer;

/* An event crossing a shard edge (see halo_int.h). */
typedef struct wse_event {
    uint64_t cycle;             /* when it happened */
    uint32_t pos;               /* queue position in the side's list; the
                                 * top bit set marks a pop (credit) */
    uint32_t word;              /* the wavelet of a push */
} wse_event;
#define WSE_EVENT_POP 0x80000000u
#define WSE_EVENT_CTRL 0x40000000u   /* a push of a control wavelet */

/* An owned queue whose producer is in a neighbour shard. */
typedef struct wse_bq { uint32_t q, pe; } wse_bq;

typedef struct wse_evbuf {
    wse_event *ev;
    uint32_t n, cap;
} wse_evbuf;

/* The handle passed to program callbacks: a PE plus the engine. */
struct wse_pe {
    struct wse_engine *e;
    uint32_t idx;               /* local index (WSE_HALO_PE | ... for halo PEs) */
    int x, y;                   /* region-relative coordinates */
    int halo;                   /* a neighbour shard's PE, set up only to
                                 * learn its routes */
    uint32_t halo_used;         /* its scratch SRAM in use */
    uint64_t now;               /* cycle the current task started */
    uint64_t charged;           /* cycles charged so far in this task */
    int in_setup;
    uint8_t halo_iq[WSE_MAX_QUEUE_IDS], halo_oq[WSE_MAX_QUEUE_IDS];   /* a halo PE's
                                 * pe_init_queue calls (it has no wse_pestate) */
};

struct wse_engine {
    wse_topology topo;
    wse_pe_machine machine;     /* what programs see of topo */
    const wse_program *prog;
    void *params;
    wse_rect region;            /* fabric coordinates */
    wse_rect shard;             /* the PEs this engine owns, region-relative */
    uint32_t npe;               /* PEs owned */
    int depth, latency;
    int32_t step[6];            /* local index offset to the PE through a port */
    wse_pestate *pe;
    wse_pecount *cnt;
    /* SRAM arena (sram.c): chunks of memory carved into per-PE blocks */
    uint8_t **chunks;
    uint32_t nchunks, chunk_cap;
    uint64_t chunk_bytes, chunk_used;
    /* host memory handed out for over-budget pe_alloc calls during one
     * PE's setup, so the program runs on and the error can give totals */
    void **scratch;
    uint32_t nscratch, scratch_cap;
    uint8_t *hsram;             /* scratch SRAM for halo setup */
    /* routes declared during setup (router.c): own PEs, halo PEs */
    wse_routes routes, hroutes;
    /* resolved queues: owned ones [0, nq_own), then ghosts per side */
    wse_queue *q;
    uint32_t nq, nq_own;
    uint32_t *slots;            /* nq * depth payload words */
    uint32_t *mcast;            /* multicast target lists */
    uint32_t nmcast;
    wse_routex *rtx;            /* routes with switches, filters, swap */
    uint32_t nrtx, rtx_cap;
    /* shard edges (halo.c) */
    uint32_t ghost_first[4], ghost_n[4];
    uint32_t *ghost_pe;         /* per ghost: the owned PE that feeds it */
    uint32_t *ghost_at[4];      /* per halo PE along a side: its first ghost */
    wse_bq *bq[4];              /* owned queues fed from a neighbour shard */
    uint32_t bq_n[4];
    wse_evbuf out[4];           /* events for the neighbour shard per side */
    /* fabric op pool (ce.c) */
    wse_opblock *opb;
    uint32_t nopb, opb_cap;
    wse_opx *opx;               /* descriptor operations' operands */
    uint32_t nopx, opx_cap;
    uint32_t opx_free;          /* first free record + 1; 0: none */
    /* scheduling (sched.c) */
    wse_bitset ring[WSE_RING]; /* PEs to visit at cycles now .. now+RING-1 */
    wse_timer *heap;
    uint64_t nheap, heap_cap;
    int sched_oom;              /* a wake could not be recorded */
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
    uint64_t throttle_cycles;   /* cycles throttling added to tasks (ce.c) */
};

/* ------------------------------------------------------------ queues, task ids */

/* The queue number (0..7) bound to color in a pe_init_queue map (a PE's
 * iq or oq), or -1. */
static inline int queue_of(const uint8_t *map, int color)
{
    for (int k = 0; k < WSE_MAX_QUEUE_IDS; k++)
        if (map[k] == color + 1)
            return k;
    return -1;
}

/* The colors of a map's queues. */
static inline uint32_t queue_colors(const uint8_t *map)
{
    uint32_t c = 0;
    for (int k = 0; k < WSE_MAX_QUEUE_IDS; k++)
        if (map[k])
            c |= 1u << (map[k] - 1);
    return c;
}

/* Whether data tasks have their input queue's number as id (wse3). */
static inline int queue_task_ids(const wse_engine *e) { return e->topo.arch == WSE_ARCH_WSE3; }

/* Whether every color the CE takes from or gives to needs pe_init_queue. */
static inline int strict_queues(const wse_engine *e) { return e->machine.strict_queues; }

/* The task id of color's data task, given the PE's iq map: the number of
 * its initialised input queue on wse3, else the color.  The task sets
 * (active, blocked, data_tasks) are indexed by this id. */
static inline int data_task_id(const wse_engine *e, const uint8_t *iq, int color)
{
    int k;
    if (queue_task_ids(e) && (k = queue_of(iq, color)) >= 0)
        return k;
    return color;
}

/* And back: the color of data task id (pe_bind_data_task keeps the two
 * kinds of id apart on wse3). */
static inline int data_task_color(const wse_engine *e, const uint8_t *iq, int id)
{
    if (queue_task_ids(e) && id < WSE_MAX_QUEUE_IDS && iq[id])
        return iq[id] - 1;
    return id;
}

/* The colors of the data tasks in id set ids. */
static inline uint32_t data_task_colors(const wse_engine *e, const uint8_t *iq, uint64_t ids)
{
    if (!queue_task_ids(e))
        return (uint32_t)ids;
    uint32_t c = 0;
    for (; ids; ids &= ids - 1)
        c |= 1u << data_task_color(e, iq, __builtin_ctzll(ids));
    return c;
}

/* ------------------------------------------------------------ geometry */

static inline unsigned popc32(uint32_t v) { return (unsigned)__builtin_popcount(v); }

/* Region-relative coordinates of owned PE pe. */
static inline void pe_coords(const wse_engine *e, uint32_t pe, int *x, int *y)
{
    *x = e->shard.x + (int)(pe % (uint32_t)e->shard.width);
    *y = e->shard.y + (int)(pe / (uint32_t)e->shard.width);
}

/* Latency of the link into region-relative PE (x, y) through port: the
 * hop latency, plus what a defect repair adds when it stretched the link
 * (wse/yield.h); the ramp's is the hop latency. */
static inline unsigned link_latency(const wse_engine *e, int x, int y, int port)
{
    if (!e->topo.wafer || port >= 4)
        return (unsigned)e->latency;
    return (unsigned)(e->latency + e->topo.bypass_cycles_per_pe *
                                       wse_wafer_link_extra(e->topo.wafer, e->region.x + x,
                                                            e->region.y + y, port));
}

static inline int pe_xy(const wse_engine *e, uint32_t pe, int *y)
{
    int x;
    pe_coords(e, pe, &x, y);
    return x;
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

/* Local index of region-relative (x, y), or WSE_NONE if not owned. */
static inline uint32_t local_index(const wse_engine *e, int x, int y)
{
    if (where(e, x, y) != NB_LOCAL)
        return WSE_NONE;
    return (uint32_t)(y - e->shard.y) * (uint32_t)e->shard.width + (uint32_t)(x - e->shard.x);
}

/* Local index of the neighbour of pe through port d, or WSE_NONE if it is
 * not owned here. */
static inline uint32_t neighbour(const wse_engine *e, uint32_t pe, int d)
{
    int x, y;
    pe_coords(e, pe, &x, &y);
    return local_index(e, x + pe_port_dx(d), y + pe_port_dy(d));
}

static inline int is_remote(const wse_engine *e, uint32_t pe, int d)
{
    int x, y;
    pe_coords(e, pe, &x, &y);
    return where(e, x + pe_port_dx(d), y + pe_port_dy(d)) == NB_REMOTE;
}

/* PEs along side s of the shard, and the owned PE at offset o of side s. */
static inline uint32_t side_len(const wse_engine *e, int s)
{
    return (uint32_t)(pe_port_is_x(s) ? e->shard.height : e->shard.width);
}

static inline uint32_t side_pe(const wse_engine *e, int s, uint32_t o)
{
    uint32_t w = (uint32_t)e->shard.width, h = (uint32_t)e->shard.height;
    switch (s) {
    case WSE_PORT_N: return o;
    case WSE_PORT_S: return (h - 1) * w + o;
    case WSE_PORT_E: return o * w + w - 1;
    default: return o * w;
    }
}

/* Offset along side s of owned PE pe (which lies on that side). */
static inline uint32_t side_offset(const wse_engine *e, uint32_t pe, int s)
{
    return pe_port_is_x(s) ? pe / (uint32_t)e->shard.width : pe % (uint32_t)e->shard.width;
}

/* The handle id of the halo PE at offset o beyond side s. */
static inline uint32_t halo_id(int s, uint32_t o)
{
    return WSE_HALO_PE | ((uint32_t)s << WSE_HALO_SIDE_SHIFT) | o;
}

static inline int halo_side(uint32_t id) { return (int)((id >> WSE_HALO_SIDE_SHIFT) & 3); }

/* Port names for messages: N, E, S, W, RAMP, and a CE queue fed by its
 * own router. */
extern const char *const wse__port_name[6];

#endif
