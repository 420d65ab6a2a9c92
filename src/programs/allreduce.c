/*
 * src/programs/allreduce.c - allreduce (sum or max) of one fp32 vector per PE.
 *
 * Every PE holds a vector of n floats; at the end every PE holds the
 * elementwise sum (op 0) or maximum (op 1) over all PEs of the region.
 * Two patterns (param `pattern`): 1, the default, is the centre-rooted
 * reduce of the published wafer-scale collectives; 0 is the corner-rooted
 * chain it replaced, kept as the contrast.  W, H are the region's size.
 *
 * ---- Pattern 1: centre-rooted, adding in flight
 *
 * With cx = (W-1)/2, cy = (H-1)/2 the root (cx, cy):
 *
 *   1. rows reduce toward column cx from both sides: the west half flows
 *      east, the east half west.  A PE adds its vector to the partial
 *      streaming through it with ONE fabric descriptor op,
 *      pe_dadd(fabout, fabin, mem(own vector)) (pe_dmax for max): element
 *      by element as the partial arrives, backpressured, with no task and
 *      no re-issue per element or chunk.  The two end PEs only send.
 *   2. column cx reduces toward the root the same way, the north half
 *      flowing south, the south half north.  A PE of column cx combines,
 *      in this fixed order, its vector with the west partial, then the
 *      east one, then the column partial: one descriptor op per input,
 *      chained through FIFOs of FIFO_CAP elements (fabin + mem -> FIFO,
 *      fabin + FIFO -> FIFO, fabin + FIFO -> fabout), so the combines
 *      pipeline element by element instead of waiting for each other.
 *   3. broadcast: the root's last combine writes its vector, which is the
 *      storage of a FIFO of n elements (its counters sit just before it)
 *      that the root's one fabout op reads as each element becomes final.
 *      Color C_TREE is a multicast tree of routes: the root copies to all
 *      four sides; column cx copies onward along itself, into both halves
 *      of its row and to its CE; a row PE copies onward and to its CE.
 *      Every other PE takes the result with one fabin op over its vector
 *      (an element arrives only after this PE's own element went out).
 *
 * Order of operations (what the reference repeats), a (+) b being a + b
 * or fmaxf(a, b) with a the partial from the fabric: along a half row
 * from its end, p = v(end), p = p (+) v(next) ..., the row result at cx
 * r = (east (+) (west (+) v(cx))); along column cx the same with r; at the
 * root t = south (+) (north (+) r(cy)).  Bitwise the reference's.
 *
 * Colors: a chain receives on an even color and sends on the next odd
 * one, which color swap (pe_route_swap on the sending port) turns back
 * into the even one at the next router, so every PE of a chain uses the
 * same two colors: 0/1 rows flowing east, 2/3 west, 4/5 column cx flowing
 * south, 6/7 north, 8 the broadcast tree.  Reduce and broadcast use a link
 * in opposite directions.
 *
 * Switches, teardown and control wavelets are not used, on purpose: the
 * phases overlap (element i is broadcast while later elements are still
 * being reduced, on the same links the other way), so a color shared by
 * reduce and broadcast through switch positions could only turn round
 * once the whole reduce stream had passed each router, serialising the
 * phases (about n more cycles).  Time-sharing colors that way suits
 * successive collectives, as in the vendor's 2-D collectives library;
 * one allreduce here needs 9 of the 21 colors.
 *
 * Resources: the root holds 4 input queues, 1 output queue and 5
 * microthreads, a column-cx PE 4, 1 and 5 (3 inputs and the broadcast),
 * within what wse2 and wse3 leave a program (6, 4 and 6).  Queues
 * (pe_init_queue, which wse3 requires): input j in combining order on
 * input queue first_queue + j, the tree after them, the color sent on
 * output queue first_queue.  SRAM: n + 2
 * words and up to 3 FIFOs of FIFO_CAP words.  The broadcast fabin is
 * issued first: a PE's operations move in issue order, so it takes the
 * ramp before the reduce when both could (issued last, a busy column cx
 * starved the tree: 4750 instead of 4271 cycles for n = 1024 on 64x64).
 *
 * Costs, in the terms of Luczynski et al., "Near-Optimal Wafer-Scale
 * Reduce" (HPDC 2024), T = max(C, E/N) + L + (2 T_R + 1) D.  Pattern 1 is
 * their 2-D chain reduce (row chains, then a column chain) followed by a
 * broadcast over the same tree, with every chain split in two halves
 * meeting at the centre.  With hw = floor(W/2), hh = floor(H/2) the
 * longest half row and half column, and P = W H:
 *   C   the most words one PE must take in: the ramp moves one word per
 *       cycle each way, and the root takes 4 n (four inputs), a column-cx
 *       PE 4 n (three inputs and the broadcast): C = 4 n for W, H >= 3;
 *   E/N E = 2 n (P - 1) wavelet hops over N = 2 (P - 1) links used (each
 *       reduce and tree link once, one way each): n, below C;
 *   L   2 (hw + hh) hops at hop_latency_cycles = 1: the farthest PE to the
 *       root and back;
 *   D   hw + hh combines in series, each an element through a PE's CE,
 *       which pe.h makes one cycle later than the router forwarding it:
 *       2 T_R + 1 = 1 (wsemu charges the ramp itself no latency, T_R = 0).
 * So T = 4 n + 3 (hw + hh) + c, c ~ 5 (the start task and the fabric
 * issues).  Measured on laptop costs (cycles, pattern 1 / pattern 0):
 *
 *          n = 1      16        64         256          1024
 *   8x8     33/107    89/241   281/533   1049/1595   4121/5315
 *   16x16   57/219   110/401   302/692   1070/1789   4142/5864
 *   32x32  105/443   155/721   346/1031  1114/2125   4186/6297
 *   64x64  201/891   251/1361  431/1671  1199/2801   4271/7043
 *   750x994 (wse2, n = 1): 2625 / 12203
 *
 * n = 1 is the formula exactly (8x8: 4 + 24 + 5); for larger n the
 * measurements are up to 6 % below it, as contention and latency overlap
 * in part (the busy centre column starts after the rows' first elements
 * arrive).  cycles / (W + H) for n = 1: 2.06 (8x8), 1.78, 1.64, 1.57
 * (64x64), 1.51 on the WSE-2 rectangle, tending to 1.5: the latency is
 * half the diameter each way, at 2 cycles per reduce hop (link and CE
 * step) and 1 per broadcast hop (the SC20 paper reports about 1.1 x the
 * diameter in total; pattern 0 is 7.0 on 64x64).  With the datapath
 * free for fabric arithmetic pattern 0 was faster for long vectors on
 * small regions (n >~ 8.5 (W + H): its busiest PEs take 3 n words, not
 * 4 n; 3248 against 4121 at n = 1024 on 8x8); now its WSE_FABIN_ADD
 * receives take datapath cycles from its per-chunk tasks and pattern 1,
 * whose PEs run no task while their adds stream, is faster everywhere.
 *
 * ---- Pattern 0: corner-rooted chains, in chunks
 *
 * Three phases, pipelined in chunks of `chunk` elements so that a long
 * vector streams through the fabric instead of being stored and forwarded
 * whole at every hop:
 *
 *   1. row reduce, flowing west: PE (x, y) receives the partial result of
 *      PEs x+1 .. width-1 of its row from the east, combines it into its
 *      own vector and sends the new partial west.  The east-edge PE just
 *      sends its vector.  For sum the combination is a fabin with
 *      WSE_FABIN_ADD straight into the vector; for max the chunk lands in
 *      a ring buffer and is combined by an elementwise max.
 *   2. column reduce, flowing north along the west column: PE (0, y)
 *      combines, chunk by chunk and only after its row's chunk is complete,
 *      the partial of rows y+1 .. height-1 arriving from the south, and
 *      sends the result north.  Chunk k of PE (0, 0) is then final.
 *   3. broadcast: PE (0, 0) sends each final chunk on one color whose
 *      routes form a multicast tree: down the west column (rx N, tx S | E
 *      | RAMP) and along every row (rx W, tx E | RAMP), so each PE's router
 *      forwards and keeps a copy without involving its CE; every PE but
 *      the root receives the whole vector with one fabin over its own.
 *
 * Order of operations (what the host reference repeats): with v(x, y) the
 * input of PE (x, y),
 *   p(W-1, y) = v(W-1, y),  p(x, y) = v(x, y) (+) p(x+1, y)
 *   q(H-1)    = p(0, H-1),  q(y)    = p(0, y) (+) q(y+1),   result = q(0)
 * so the result is bitwise the reference's (fp32 addition is commutative,
 * and the association is the chain's; max is exact).
 *
 * Colors: row reduce 0/1 by the parity of the sending PE's x (a PE's send
 * and receive never share a color), column reduce 2/3 by the parity of the
 * sender's y, broadcast 4 (one color so the tree needs no CE to turn the
 * corner at the west column).  No two phases share a link in the same
 * direction.  Queues (pe_init_queue): the one color a PE sends on output
 * queue first_queue; the row, column and broadcast colors in on input
 * queues first_queue + 0, 1, 2: a west-column PE binds 3 in, 1 out.
 *
 * Pipelining: each input stream keeps up to WINDOW chunk fabins in
 * flight, each completing on its own task id (activation is a bit, so two
 * in-flight fabins never share an id); a chunk's task consumes the oldest
 * completed chunk, and a fabin is issued only once the previous user of its
 * id has run and its ring slot has been combined.  One fabout is in flight
 * at a time; when it completes, everything that became ready meanwhile
 * goes out as one fabout.
 *
 * Costs: fabric ops move one wavelet per cycle in the background; the
 * elementwise max of a chunk is charged as one vector op of its length
 * (pe_vmov_f32 over the result charges startup + ceil(k / simd), what
 * pe_vmax2_f32 would cost; that is not used, as its fmaxf treats NaN
 * otherwise) plus k flops for the comparisons.  A hop of the reduction
 * costs about 6 cycles plus the chunk (the chunk arrives, a task switch,
 * a fabout issue, the hop itself); the broadcast costs one cycle per hop;
 * the west-column PEs ingest 3n words (row, column, broadcast) through a
 * CE ramp of one word per cycle.  With c = min(chunk, n), on the
 * wse2/laptop costs: cycles ~ (6 + c) (W + H) + 3 (n - c), within 8 %
 * (measured) for 8x8 .. 750x994 PEs and n = 1 .. 4096.  In the paper's
 * terms: C = 3 n, L = 2 (W + H - 2), and D = W + H - 2 combines of about
 * 6 cycles of tasks and issues each.
 *
 * Drawbacks: pattern 0's max does not propagate NaN symmetrically (it
 * keeps the current value unless the incoming one compares greater),
 * exactly as its reference does; pattern 1's is fmaxf (a NaN loses to a
 * number).  A descriptor max counts no flops (pe.h), so pattern 1's max
 * reports none; useful FLOPs are the formula's either way.
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include "wse/pe.h"

typedef struct ar_params {
    int64_t n, op, chunk, pattern;
} ar_params;

static const wse_param_spec ar_param_spec[] = {
    { "n", WSE_PARAM_INT, 64, 1, 4096, offsetof(ar_params, n), "vector length per PE (fp32 elements)" },
    { "op", WSE_PARAM_INT, 0, 0, 1, offsetof(ar_params, op), "reduction: 0 sum, 1 max" },
    { "chunk", WSE_PARAM_INT, 4, 1, 4096, offsetof(ar_params, chunk), "pattern 0: elements per pipelined chunk (clamped to n)" },
    { "pattern", WSE_PARAM_INT, 1, 0, 1, offsetof(ar_params, pattern), "0 corner-rooted chains in chunks, 1 centre-rooted in-flight chains" },
};

enum { OP_SUM = 0, OP_MAX = 1 };
enum { PATTERN_CHAIN = 0, PATTERN_CENTRE = 1 };

/* ---------------------------------------------------------- device, pattern 0: corner-rooted chains */

enum { C_ROW = 0, C_COL = 2, C_BCAST = 4 };   /* row 0/1, column 2/3 */
#define WINDOW 8                               /* chunk fabins in flight per stream */
enum { T_START = WSE_LOCAL_TASK(0), T_SENT, T_BCAST, T_ROW0, T_COL0 = T_ROW0 + WINDOW };

typedef struct ar_state {
    wse_f32_ref acc;           /* the vector: input, partial, result */
    wse_f32_ref rbuf;          /* max: ring of WINDOW chunks from the east */
    wse_f32_ref cbuf;          /* max: ring of WINDOW chunks from the south */
    int32_t c, m;              /* chunk length, number of chunks */
    int32_t row_issued, row_done;
    int32_t col_issued, col_done;
    int32_t sent;              /* chunks handed to a fabout */
    uint8_t row_ids, col_ids;  /* task ids with a fabin in flight */
    uint8_t has_east, has_south, send_busy, bcast_done, done;
    int8_t out_color;          /* -1: nothing to send (a lone PE) */
    uint8_t row_color, col_color;
} ar_state;

static int chunk_len(const ar_state *s, int n, int k)
{
    int first = k * s->c;
    return n - first < s->c ? n - first : s->c;
}

static int chain_setup(wse_pe *pe, ar_state *s, const ar_params *p)
{
    int x = pe_x(pe), y = pe_y(pe), n = (int)p->n;
    s->c = p->chunk < p->n ? (int)p->chunk : n;
    s->m = (n + s->c - 1) / s->c;
    s->has_east = pe_has_neighbour(pe, WSE_PORT_E);
    s->has_south = x == 0 && pe_has_neighbour(pe, WSE_PORT_S);
    int ring = (s->m < WINDOW ? s->m : WINDOW) * s->c;
    float *acc = pe_alloc_f32(pe, (size_t)n);
    float *rb = p->op == OP_MAX && s->has_east ? pe_alloc_f32(pe, (size_t)ring) : acc;
    float *cb = p->op == OP_MAX && s->has_south ? pe_alloc_f32(pe, (size_t)ring) : acc;
    if (!acc || !rb || !cb)
        return WSE_ESRAM;
    s->acc = pe_ref_f32(s, acc);
    s->rbuf = pe_ref_f32(s, rb);
    s->cbuf = pe_ref_f32(s, cb);
    s->row_done = s->row_issued = s->has_east ? 0 : s->m;
    s->col_done = s->col_issued = s->has_south ? 0 : s->m;
    s->bcast_done = x == 0 && y == 0;
    s->out_color = -1;

    /* 1. row reduce toward the west */
    if (x > 0) {
        s->out_color = (int8_t)(C_ROW + (x & 1));
        pe_route(pe, s->out_color, WSE_RAMP, WSE_W);
    }
    if (s->has_east) {
        s->row_color = (uint8_t)(C_ROW + ((x + 1) & 1));
        pe_route(pe, s->row_color, WSE_E, WSE_RAMP);
        for (int i = 0; i < WINDOW; i++)
            pe_bind_local_task(pe, T_ROW0 + i);
    }
    /* 2. column reduce toward the north, west column only */
    if (x == 0 && y > 0) {
        s->out_color = (int8_t)(C_COL + (y & 1));
        pe_route(pe, s->out_color, WSE_RAMP, WSE_N);
    }
    if (s->has_south) {
        s->col_color = (uint8_t)(C_COL + ((y + 1) & 1));
        pe_route(pe, s->col_color, WSE_S, WSE_RAMP);
        for (int i = 0; i < WINDOW; i++)
            pe_bind_local_task(pe, T_COL0 + i);
    }
    /* 3. broadcast tree from (0, 0) */
    unsigned east = s->has_east ? WSE_E : 0u, south = s->has_south ? WSE_S : 0u;
    if (x == 0 && y == 0) {
        if (east | south) {
            s->out_color = C_BCAST;
            pe_route(pe, C_BCAST, WSE_RAMP, east | south);
        }
    } else {
        pe_route(pe, C_BCAST, x == 0 ? WSE_N : WSE_W, WSE_RAMP | east | south);
        pe_bind_local_task(pe, T_BCAST);
    }
    /* queues: the one color sent, and row, column, broadcast in */
    int q = pe_machine(pe)->first_queue;
    if (s->out_color >= 0)
        pe_init_queue(pe, WSE_OQ(q), s->out_color);
    if (s->has_east)
        pe_init_queue(pe, WSE_IQ(q), s->row_color);
    if (s->has_south)
        pe_init_queue(pe, WSE_IQ(q + 1), s->col_color);
    if (x != 0 || y != 0)
        pe_init_queue(pe, WSE_IQ(q + 2), C_BCAST);
    if (s->out_color < 0)
        s->sent = s->m;
    else
        pe_bind_local_task(pe, T_SENT);
    pe_bind_local_task(pe, T_START);
    pe_activate(pe, T_START);
    return 0;
}

/* Elementwise max of a chunk into acc, charged as one vector op. */
static void max_into(wse_pe *pe, float *acc, const float *in, int k)
{
    for (int i = 0; i < k; i++)
        if (in[i] > acc[i])
            acc[i] = in[i];
    pe_vmov_f32(pe, acc, acc, k);
    pe_charge(pe, 0, (uint64_t)k);
}

/* Issue what the counters allow, send what is ready, finish when done. */
static void ar_pump(wse_pe *pe, ar_state *s, const ar_params *p)
{
    int n = (int)p->n;
    float *acc = pe_f32(s, s->acc);
    unsigned add = p->op == OP_SUM ? WSE_FABIN_ADD : 0u;
    /* send first: it is on the critical path, refilling the windows is not */
    int ready = s->col_done < s->row_done ? s->col_done : s->row_done;
    if (s->out_color >= 0 && !s->send_busy && s->sent < ready) {
        int first = s->sent * s->c, end = ready * s->c < n ? ready * s->c : n;
        pe_fabout(pe, s->out_color, acc + first, end - first, 1, T_SENT, WSE_ASYNC);
        s->send_busy = 1;
        s->sent = ready;
    }
    while (s->row_issued < s->m && s->row_issued < s->row_done + WINDOW &&
           !(s->row_ids & (1u << (s->row_issued % WINDOW)))) {
        int k = s->row_issued, slot = k % WINDOW;
        float *dst = add ? acc + k * s->c : pe_f32(s, s->rbuf) + slot * s->c;
        pe_fabin(pe, s->row_color, dst, chunk_len(s, n, k), 1, T_ROW0 + slot, WSE_ASYNC | add);
        s->row_ids |= (uint8_t)(1u << slot);
        s->row_issued++;
    }
    /* a column chunk is combined only after the row's chunk: fixed order */
    while (s->col_issued < s->row_done && s->col_issued < s->col_done + WINDOW &&
           !(s->col_ids & (1u << (s->col_issued % WINDOW)))) {
        int k = s->col_issued, slot = k % WINDOW;
        float *dst = add ? acc + k * s->c : pe_f32(s, s->cbuf) + slot * s->c;
        pe_fabin(pe, s->col_color, dst, chunk_len(s, n, k), 1, T_COL0 + slot, WSE_ASYNC | add);
        s->col_ids |= (uint8_t)(1u << slot);
        s->col_issued++;
    }
    if (!s->done && s->sent == s->m && !s->send_busy && s->bcast_done &&
        s->row_done == s->m && s->col_done == s->m) {
        s->done = 1;
        pe_finish(pe);
    }
}

static void chain_task(wse_pe *pe, ar_state *s, const ar_params *p, int task)
{
    int n = (int)p->n;
    float *acc = pe_f32(s, s->acc);
    if (task == T_START) {
        /* non-roots receive the final vector over their own; it arrives
         * chunk by chunk only after the chunk left this PE */
        if (!s->bcast_done)
            pe_fabin(pe, C_BCAST, acc, n, 1, T_BCAST, WSE_ASYNC);
    } else if (task == T_SENT) {
        s->send_busy = 0;
    } else if (task == T_BCAST) {
        s->bcast_done = 1;
    } else if (task >= T_ROW0 && task < T_ROW0 + WINDOW) {
        int k = s->row_done++;
        s->row_ids &= (uint8_t)~(1u << (task - T_ROW0));
        if (p->op == OP_MAX)
            max_into(pe, acc + k * s->c, pe_f32(s, s->rbuf) + (k % WINDOW) * s->c, chunk_len(s, n, k));
    } else if (task >= T_COL0 && task < T_COL0 + WINDOW) {
        int k = s->col_done++;
        s->col_ids &= (uint8_t)~(1u << (task - T_COL0));
        if (p->op == OP_MAX)
            max_into(pe, acc + k * s->c, pe_f32(s, s->cbuf) + (k % WINDOW) * s->c, chunk_len(s, n, k));
    }
    ar_pump(pe, s, p);
}

/* ---------------------------------------------------------- device, pattern 1: centre-rooted, in flight */

/* Colors by the way a partial flows: a chain receives on the even color
 * and sends on the odd one, swapped back to the even one at the next
 * router, so every PE of a chain uses the same two colors. */
enum { C_TOE = 0, C_TOW = 2, C_TOS = 4, C_TON = 6, C_TREE = 8 };
/* Elements between two combines: 8 or more measured the same, 2 slower
 * (4288 against 4271 cycles, n = 1024 on 64x64). */
#define FIFO_CAP 32
enum { T_GO = WSE_LOCAL_TASK(0), T_DONE };

typedef struct ctr_state {
    wse_f32_ref acc;                /* first, as in ar_state: the vector */
    uint32_t acc_fifo;              /* root: FIFO counters before acc */
    uint32_t fifo[3];               /* between the combines of 2..4 inputs */
    int32_t cap;                    /* their capacity */
    int8_t in[4];                   /* input colors, in combining order */
    int8_t nin, out;                /* out: -1 nothing to send */
    uint8_t root;
} ctr_state;

typedef union ar_any { ar_state chain; ctr_state centre; } ar_any;

/* One link of a chain flowing toward d: receive on base from the other
 * side, send on base + 1 toward d (swapped to base there). */
static void chain_link(wse_pe *pe, ctr_state *s, int base, int d, int sends, int receives)
{
    if (receives) {
        pe_route(pe, base, pe_port_mask(pe_port_opposite(d)), WSE_RAMP);
        s->in[s->nin++] = (int8_t)base;
    }
    if (sends) {
        pe_route(pe, base + 1, WSE_RAMP, pe_port_mask(d));
        pe_route_swap(pe, base + 1, pe_port_mask(d));
        s->out = (int8_t)(base + 1);
    }
}

/* The broadcast tree: the root copies to all four sides, the centre
 * column on along itself and into both halves of its row, a row onward. */
static void tree_routes(wse_pe *pe, ctr_state *s, int cx, int cy)
{
    int x = pe_x(pe), y = pe_y(pe);
    unsigned nb = 0;
    for (int d = 0; d < 4; d++)
        nb |= pe_has_neighbour(pe, d) ? pe_port_mask(d) : 0u;
    if (s->root) {
        if (nb) {
            pe_route(pe, C_TREE, WSE_RAMP, nb);
            s->out = C_TREE;
        }
        return;
    }
    int from = x != cx ? (x < cx ? WSE_PORT_E : WSE_PORT_W) : (y < cy ? WSE_PORT_S : WSE_PORT_N);
    unsigned on = x != cx ? nb & pe_port_mask(pe_port_opposite(from)) : nb & ~pe_port_mask(from);
    pe_route(pe, C_TREE, pe_port_mask(from), on | WSE_RAMP);
}

static int centre_setup(wse_pe *pe, ctr_state *s, const ar_params *p)
{
    int x = pe_x(pe), y = pe_y(pe), w = pe_width(pe), h = pe_height(pe), n = (int)p->n;
    int cx = (w - 1) / 2, cy = (h - 1) / 2;
    float *base = pe_alloc_f32(pe, (size_t)n + 2);     /* FIFO counters, then acc */
    if (!base)
        return WSE_ESRAM;
    s->acc = pe_ref_f32(s, base + 2);
    s->acc_fifo = pe_offset(s, base);
    s->out = -1;
    s->root = x == cx && y == cy;
    /* rows toward the centre column, then the centre column toward the
     * root: the order of the calls is the order of combining */
    chain_link(pe, s, C_TOE, WSE_PORT_E, x < cx, x > 0 && x <= cx);
    chain_link(pe, s, C_TOW, WSE_PORT_W, x > cx, x >= cx && x < w - 1);
    if (x == cx) {
        chain_link(pe, s, C_TOS, WSE_PORT_S, y < cy, y > 0 && y <= cy);
        chain_link(pe, s, C_TON, WSE_PORT_N, y > cy, y >= cy && y < h - 1);
    }
    tree_routes(pe, s, cx, cy);
    /* queues: the inputs in combining order, then the tree; the one
     * color sent */
    int q = pe_machine(pe)->first_queue;
    for (int j = 0; j < s->nin; j++)
        pe_init_queue(pe, WSE_IQ(q + j), s->in[j]);
    if (!s->root)
        pe_init_queue(pe, WSE_IQ(q + s->nin), C_TREE);
    if (s->out >= 0)
        pe_init_queue(pe, WSE_OQ(q), s->out);
    s->cap = n < FIFO_CAP ? n : FIFO_CAP;
    for (int j = 0; j + 1 < s->nin; j++) {
        uint8_t *f = pe_alloc_u8(pe, pe_fifo_bytes(WSE_F32, s->cap));
        if (!f)
            return WSE_ESRAM;
        s->fifo[j] = pe_offset(s, f);
    }
    pe_bind_local_task(pe, T_GO);
    pe_bind_local_task(pe, T_DONE);
    pe_activate(pe, T_GO);
    return 0;
}

/* d = a (+) b, element by element as the fabric delivers a. */
static void combine(wse_pe *pe, int op, wse_dsd d, wse_dsd a, wse_dsd b)
{
    if (op == OP_SUM)
        pe_dadd(pe, d, a, b, WSE_NO_TASK, WSE_ASYNC);
    else
        pe_dmax(pe, d, a, b, WSE_NO_TASK, WSE_ASYNC);
}

/* Everything at once.  A PE's ops take the ramp in issue order, so the
 * broadcast fabin goes first, then the combines from the last (nearest
 * the output) back to the first; their data order is the chain's: op j
 * reads what op j - 1 pushed into FIFO j - 1.  The root's last combine
 * fills acc, which is also the FIFO its broadcast fabout reads. */
static void centre_go(wse_pe *pe, ctr_state *s, const ar_params *p)
{
    int n = (int)p->n;
    wse_dsd acc = pe_mem1d(WSE_F32, s->acc.off, n, 1);
    wse_dsd acc_fifo = pe_fifo_dsd(WSE_F32, s->acc_fifo, n);
    if (!s->root)
        pe_dmov(pe, acc, pe_fabin_dsd(WSE_F32, C_TREE, n), T_DONE, WSE_ASYNC);
    if (s->nin == 0 && !s->root)        /* the end of a chain only sends */
        pe_dmov(pe, pe_fabout_dsd(WSE_F32, s->out, n), acc, WSE_NO_TASK, WSE_ASYNC);
    for (int j = s->nin - 1; j >= 0; j--) {
        wse_dsd dst = j + 1 < s->nin ? pe_fifo_dsd(WSE_F32, s->fifo[j], s->cap)
                    : s->root ? acc_fifo : pe_fabout_dsd(WSE_F32, s->out, n);
        wse_dsd src = j > 0 ? pe_fifo_dsd(WSE_F32, s->fifo[j - 1], s->cap) : acc;
        combine(pe, (int)p->op, dst, pe_fabin_dsd(WSE_F32, s->in[j], n), src);
    }
    if (s->root && s->out >= 0)
        pe_dmov(pe, pe_fabout_dsd(WSE_F32, C_TREE, n), acc_fifo, T_DONE, WSE_ASYNC);
    else if (s->root)
        pe_finish(pe);                  /* a region of one PE: nothing to do */
}

static void centre_task(wse_pe *pe, ctr_state *s, const ar_params *p, int task)
{
    if (task == T_GO)
        centre_go(pe, s, p);
    else if (task == T_DONE)
        pe_finish(pe);
}

/* ---------------------------------------------------------- device: either pattern */

static int ar_setup(wse_pe *pe, void *state)
{
    const ar_params *p = pe_params(pe);
    if (p->pattern == PATTERN_CHAIN)
        return chain_setup(pe, state, p);
    return centre_setup(pe, state, p);
}

static void ar_task(wse_pe *pe, void *state, int task, uint32_t payload)
{
    (void)payload;
    const ar_params *p = pe_params(pe);
    if (p->pattern == PATTERN_CHAIN)
        chain_task(pe, state, p, task);
    else
        centre_task(pe, state, p, task);
}

/* ---------------------------------------------------------- host */

static int ar_shape(const void *params, int width, int height, int64_t shape[3])
{
    const ar_params *p = params;
    shape[0] = height;
    shape[1] = width;
    shape[2] = p->n;
    return 3;
}

static void ar_block(const wse_pe *pe, const void *state, wse_array_block *b)
{
    const ar_params *p = pe_params(pe);
    const ar_any *s = state;
    b->ptr = pe_f32(s, p->pattern == PATTERN_CHAIN ? s->chain.acc : s->centre.acc);
    b->origin[0] = pe_y(pe);
    b->origin[1] = pe_x(pe);
    b->origin[2] = 0;
    b->extent[0] = 1;
    b->extent[1] = 1;
    b->extent[2] = p->n;
    b->stride[0] = p->n;
    b->stride[1] = p->n;
    b->stride[2] = 1;
}

static const wse_array_spec ar_arrays[] = {
    { "x", WSE_F32, 1, 0, "each PE's vector, float32 [height, width, n]", ar_shape, ar_block },
    { "y", WSE_F32, 0, 1, "the reduction over all PEs, every PE's copy, float32 [height, width, n]", ar_shape, ar_block },
};

/* Host reference of pattern 0: its chains, element by element. */
static void chain_reference(const ar_params *p, int width, int height, const float *v, float *out)
{
    int64_t n = p->n, W = width;
    for (int64_t i = 0; i < n; i++) {
        float q = 0.0f;
        for (int64_t y = height - 1; y >= 0; y--) {
            float r = v[((y * W) + W - 1) * n + i];
            for (int64_t x = W - 2; x >= 0; x--) {
                float a = v[(y * W + x) * n + i];
                r = p->op == OP_SUM ? a + r : (r > a ? r : a);
            }
            if (y == height - 1)
                q = r;
            else
                q = p->op == OP_SUM ? r + q : (q > r ? q : r);
        }
        for (int64_t k = 0; k < (int64_t)height * W; k++)
            out[k * n + i] = q;
    }
}

/* a (+) b as the descriptor op does it, a the partial from the fabric. */
static float op2(int op, float a, float b) { return op == OP_SUM ? a + b : fmaxf(a, b); }

/* One half row or half column of pattern 1, element i: v at position far
 * (an end), then (+) each position toward near, near itself excluded;
 * position j is v[first + j * stride]. */
static float line_partial(int op, const float *v, int64_t first, int64_t stride, int64_t far,
                          int64_t near, int64_t step)
{
    float r = v[first + far * stride];
    for (int64_t j = far + step; j != near; j += step)
        r = op2(op, r, v[first + j * stride]);
    return r;
}

/* Host reference of pattern 1: rows to the centre column from both sides
 * (west half first), then that column to the root (north half first). */
static int centre_reference(const ar_params *p, int width, int height, const float *v, float *out)
{
    int64_t n = p->n, W = width, H = height, cx = (W - 1) / 2, cy = (H - 1) / 2;
    int op = (int)p->op;
    float *row = malloc((size_t)H * sizeof *row);
    if (!row)
        return WSE_ENOMEM;
    for (int64_t i = 0; i < n; i++) {
        for (int64_t y = 0; y < H; y++) {
            int64_t first = y * W * n + i;
            float r = v[first + cx * n];
            if (cx > 0)
                r = op2(op, line_partial(op, v, first, n, 0, cx, 1), r);
            if (cx < W - 1)
                r = op2(op, line_partial(op, v, first, n, W - 1, cx, -1), r);
            row[y] = r;
        }
        float t = row[cy];
        if (cy > 0)
            t = op2(op, line_partial(op, row, 0, 1, 0, cy, 1), t);
        if (cy < H - 1)
            t = op2(op, line_partial(op, row, 0, 1, H - 1, cy, -1), t);
        for (int64_t k = 0; k < H * W; k++)
            out[k * n + i] = t;
    }
    free(row);
    return 0;
}

static int ar_reference(const void *params, int width, int height, void *const *arrays)
{
    const ar_params *p = params;
    if (p->pattern == PATTERN_CHAIN) {
        chain_reference(p, width, height, arrays[0], arrays[1]);
        return 0;
    }
    return centre_reference(p, width, height, arrays[0], arrays[1]);
}

/*
 * 0: the reference adds in the emulated order, so the result is bitwise
 * equal.  (Summed in another order the error bound would be
 * (width + height) * eps * max_i sum_PE |x_i|; max is exact in any order.)
 */
static double ar_tolerance(const void *params, int width, int height)
{
    (void)params; (void)width; (void)height;
    return 0.0;
}

/* (PEs - 1) * n additions or comparisons. */
static double ar_flops(const void *params, int width, int height)
{
    const ar_params *p = params;
    return ((double)width * (double)height - 1.0) * (double)p->n;
}

const wse_program wse_program_allreduce = {
    .api_version = WSE_API_VERSION,
    .name = "allreduce",
    .summary = "allreduce (sum/max) of an fp32 vector per PE: in-flight chains to the centre PE (or, pattern 0, to a corner), multicast tree back",
    .params_size = sizeof(ar_params),
    .params = ar_param_spec,
    .n_params = (int)(sizeof ar_param_spec / sizeof ar_param_spec[0]),
    .arrays = ar_arrays,
    .n_arrays = 2,
    .device = { .state_size = sizeof(ar_any), .setup = ar_setup, .task = ar_task },
    .host = { .reference = ar_reference, .tolerance = ar_tolerance, .useful_flops = ar_flops },
};
