/*
 * src/programs/bandwidth.c - fabric calibration: link bandwidth, and
 * latency against hop count.
 *
 * dirs = 1: every PE at x = k*hops (k = 0, 1, ...) with x + hops inside
 * the region streams `n` wavelets east to the PE `hops` columns away; the
 * PEs in between only forward (router W -> E; their CEs are idle).  With
 * hops = 1 that is every PE streaming to its east neighbour.  Each link
 * carries exactly one stream.  Colors: stream k uses data color
 * 8 + 2*E + (k & 1) eastward and READY color 2*E + (k & 1) westward, so a
 * PE that ends stream k-1 and starts stream k uses four distinct colors.
 * dirs = 4 (hops 1): every PE streams n wavelets to each of its (up to)
 * four neighbours: flow toward d on data color 8 + 2d + parity of the
 * sender along that axis (heat2d's checkerboard); 8 colors.  There is no
 * READY token (4 READY fabins, 4 data fabins, 4 READY sends and 4 streams
 * would need 8 input queues and 12 microthreads, more than a program
 * has): the receives are posted at the start, and the four streams go out
 * one after another through one output queue (each one's completion
 * starts the next), so a PE holds 4 + 1 microthreads.  A PE then receives
 * on up to four links, and its CE ramp (one wavelet per cycle each way)
 * is shared among them.  The model's ramp serves fabric operations in issue
 * order, so a CE takes its flows largely one after another, each at about
 * one wavelet per cycle while it is taken: per flow n / (last - first + 1)
 * stays near 1, while averaged over the exchange a PE with k flows gives
 * each link 1/k (measured on laptop, n = 1024: an interior PE takes its
 * 4096 words with the ramp never idle - span 4094, its first completion
 * task ran 2 cycles late behind another; flows into edge PEs, whose
 * senders are busy with interior PEs, get down to 0.34 wavelet per cycle).
 *
 * One stream (dirs 1) is a rendezvous:
 *   1. in its start task the receiver posts two asynchronous fabins - 1
 *      word, then n-1 words - and sends a one-word READY token back to the
 *      sender;
 *   2. the sender takes READY with a 1-word fabin posted before any data
 *      fabin (the CE ramp serves fabric operations in issue order, so READY
 *      is never stuck behind a stream), and its completion task issues one
 *      fabout of n words from the send buffer, recording the cycle the
 *      first wavelet may leave (`sent`);
 *   3. the completion task of the receiver's 1-word fabin records the cycle
 *      it runs (`first`), that of the (n-1)-word fabin `last`; when every
 *      flow is in, a last task checks the words against the sender's
 *      pattern (`received`) and takes the ramp span (below).
 * With dirs = 1 the rendezvous makes the receiver's CE idle when its
 * stream arrives (its own send was issued one round trip earlier), so
 * `first` and `last` are the cycles the CE took the first and last
 * wavelet plus the same task_switch_cycles; n >= 8 keeps the completion of
 * the 1-word fabin from delaying that of the rest (n - 1 > task switch).
 *
 * What can be proved (dirs = 1).  A link and a ramp move one wavelet per
 * cycle; a credit returns hop_latency_cycles (L) after its slot is freed,
 * so each wavelet holds a slot for 2L cycles and a queue of depth D
 * sustains min(1, D / 2L) wavelets per cycle.  With D >= 2L the stream
 * arrives at one wavelet per cycle: last - first == n - 1, and delivered
 * wavelets per cycle per link, n / (last - first + 1), is 1.0 (with
 * D = 1 it is 1/(2L) exactly: tests/test_bandwidth.c).  The first wavelet
 * reaches the receiver (hops + 1) * L cycles after it leaves (one L per
 * router queue: the sender's, each forwarding router's, the receiver's CE
 * queue), so first - sent = (hops + 1) * L + task_switch_cycles grows by
 * exactly L per extra hop.
 *
 * Verify.  The reference gives received = n per incoming flow (exact)
 * and span = k * n for a PE with k incoming flows, where span =
 * max last - min first + 1 over its flows: the cycles its CE ramp would
 * need at one wavelet per cycle without a gap.  With dirs = 1 (k <= 1)
 * the max error is the largest slip of a stream from the ideal rate, in
 * cycles; it is 0 when D >= 2L, and the tolerance is 0.  With dirs = 4
 * nothing tighter is provable: the ramp serves streams in issue order,
 * senders serve their four streams the same way, and PEs on the region
 * edge wait for senders busy with interior PEs (measured: interior PEs
 * reach k * n within 2 cycles, edge PEs need up to 2n more), so the
 * tolerance is infinite: the max error is reported, not judged, and
 * only `received` must match.  `arrival` and `sent` depend on the
 * topology's latencies; the reference leaves them 0.
 *
 * Costs: filling the send buffer and checking a received one are modelled
 * as one vector pass each, BW_VSTART + n cycles: one word per cycle plus
 * the vector_startup_cycles of topologies/wse2.yaml, on every topology
 * (pe_machine()'s figure would change the cycles of topologies that differ).
 * No floating point: useful FLOPs are 0.
 *
 * Queues (pe_init_queue, which wse3 requires): a color flowing toward d
 * uses queue first_queue + d, output at its sender and input at its
 * receiver (data toward d, READY toward the opposite side).  dirs 1: a PE
 * binds at most 2 of each (data in and out on E's queue, READY on W's);
 * dirs 4: 4 of each at an inner PE (wse2 leaves a program exactly 4
 * output queues).  No data tasks.
 *
 * SRAM: n words to send (if the PE sends) plus n-1 words per incoming
 * flow: about 8n bytes for dirs 1, 20n for dirs 4, plus the state.
 */
#include <math.h>
#include <stddef.h>
#include <string.h>
#include "wse/pe.h"

typedef struct bw_params {
    int64_t n, hops, dirs;
} bw_params;

static const wse_param_spec bw_param_spec[] = {
    { "n", WSE_PARAM_INT, 1024, 8, 65535, offsetof(bw_params, n), "wavelets per stream (SRAM: 8n bytes per PE for dirs 1, 20n for dirs 4)" },
    { "hops", WSE_PARAM_INT, 1, 1, 4095, offsetof(bw_params, hops), "columns a stream travels east (dirs 1; < region width)" },
    { "dirs", WSE_PARAM_INT, 1, 1, 4, offsetof(bw_params, dirs), "1: stream east; 4: stream to all four neighbours at once (hops 1)" },
};

/* ---------------------------------------------------------- device: runs on every PE */

#define BW_VSTART 2   /* cycles to start a vector pass (wse2.yaml) */
/* Local tasks, four per kind: one per flow direction. */
enum { T_FIRST0 = WSE_LOCAL_TASK(0), T_LAST0 = WSE_LOCAL_TASK(4), T_GO0 = WSE_LOCAL_TASK(8),
       T_START = WSE_LOCAL_TASK(12), T_CHECK };
#define DATA_COLOR(d, par) (8 + 2 * (d) + (par))     /* 8..15 */
#define READY_COLOR(d, par) (2 * (d) + (par))        /* 0..7 */

/* Per-PE state.  The out_* fields are the PE's blocks of the output
 * arrays, indexed by flow (dirs 1: flow 0 = east; dirs 4: direction). */
typedef struct bw_state {
    uint32_t out_arrival[8];     /* first, last per incoming flow */
    uint32_t out_sent[4];        /* cycle each outgoing stream may leave */
    uint32_t out_received[4];    /* words that arrived with the right content */
    float out_span;              /* max last - min first + 1 over incoming flows */
    uint32_t head[4];            /* first word of each incoming stream */
    uint32_t ready[4];           /* READY token of each outgoing stream */
    wse_u32_ref send;            /* n words to send */
    wse_u32_ref recv[4];         /* n-1 words per incoming flow */
    uint32_t src_id[4];          /* sender of each incoming flow: y*W + x */
    int32_t pending;             /* sends to issue, plus the check */
    int32_t recv_pending;        /* receives not yet complete */
    uint8_t send_mask, recv_mask;
    uint8_t data_color_out[4], data_color_in[4];
    uint8_t ready_color_out[4], ready_color_in[4];
} bw_state;

static uint32_t pattern(uint32_t id, int64_t i)
{
    return id * 2654435761u + (uint32_t)i * 40503u + 1u;
}

static int flow_index(const bw_params *p, int d) { return p->dirs == 1 ? 0 : d; }

/* This PE sends flow d (toward d); par is the stream's color parity.
 * Only dirs 1 has READY tokens. */
static int add_send(wse_pe *pe, bw_state *s, const bw_params *p, int d, int par)
{
    s->send_mask |= (uint8_t)(1u << d);
    int q = pe_machine(pe)->first_queue;
    s->data_color_out[d] = (uint8_t)DATA_COLOR(d, par);
    pe_route(pe, s->data_color_out[d], WSE_RAMP, pe_port_mask(d));
    pe_init_queue(pe, WSE_OQ(q + d), s->data_color_out[d]);
    if (p->dirs == 1) {                 /* READY flows toward the opposite side */
        s->ready_color_in[d] = (uint8_t)READY_COLOR(d, par);
        pe_route(pe, s->ready_color_in[d], pe_port_mask(d), WSE_RAMP);
        pe_init_queue(pe, WSE_IQ(q + pe_port_opposite(d)), s->ready_color_in[d]);
    }
    pe_bind_local_task(pe, T_GO0 + d);
    return 0;
}

/* This PE receives flow d from the sender at (sx, sy); par as above. */
static int add_recv(wse_pe *pe, bw_state *s, const bw_params *p, int d, int par, int sx, int sy)
{
    int o = pe_port_opposite(d);
    uint32_t *buf = pe_alloc_u32(pe, (size_t)(p->n - 1));
    if (!buf)
        return WSE_ESRAM;
    s->recv[d] = pe_ref_u32(s, buf);
    s->recv_mask |= (uint8_t)(1u << d);
    s->src_id[d] = (uint32_t)sy * (uint32_t)pe_width(pe) + (uint32_t)sx;
    int q = pe_machine(pe)->first_queue;
    s->data_color_in[d] = (uint8_t)DATA_COLOR(d, par);
    pe_route(pe, s->data_color_in[d], pe_port_mask(o), WSE_RAMP);
    pe_init_queue(pe, WSE_IQ(q + d), s->data_color_in[d]);
    if (p->dirs == 1) {
        s->ready_color_out[d] = (uint8_t)READY_COLOR(d, par);
        pe_route(pe, s->ready_color_out[d], WSE_RAMP, pe_port_mask(o));
        pe_init_queue(pe, WSE_OQ(q + o), s->ready_color_out[d]);
    }
    pe_bind_local_task(pe, T_FIRST0 + d);
    pe_bind_local_task(pe, T_LAST0 + d);
    return 0;
}

static int setup_east(wse_pe *pe, bw_state *s, const bw_params *p)
{
    int x = pe_x(pe), y = pe_y(pe), h = (int)p->hops, k = x / h;
    int rc = 0;
    if (x % h == 0 && x + h < pe_width(pe))
        rc = add_send(pe, s, p, WSE_PORT_E, k & 1);
    if (!rc && x % h == 0 && k > 0)
        rc = add_recv(pe, s, p, WSE_PORT_E, (k - 1) & 1, x - h, y);
    if (!rc && x % h != 0 && (k + 1) * h < pe_width(pe)) {    /* forward */
        pe_route(pe, DATA_COLOR(WSE_PORT_E, k & 1), WSE_W, WSE_E);
        pe_route(pe, READY_COLOR(WSE_PORT_E, k & 1), WSE_E, WSE_W);
    }
    return rc;
}

static int setup_four(wse_pe *pe, bw_state *s, const bw_params *p)
{
    int x = pe_x(pe), y = pe_y(pe), rc = 0;
    for (int d = 0; d < 4 && !rc; d++) {
        int o = pe_port_opposite(d), me = pe_port_is_x(d) ? x & 1 : y & 1;
        if (pe_has_neighbour(pe, d))
            rc = add_send(pe, s, p, d, me);
        if (!rc && pe_has_neighbour(pe, o))
            rc = add_recv(pe, s, p, d, 1 - me, x + pe_port_dx(o), y + pe_port_dy(o));
    }
    return rc;
}

static int bw_setup(wse_pe *pe, void *state)
{
    const bw_params *p = pe_params(pe);
    bw_state *s = state;
    if (p->dirs != 1 && p->dirs != 4) {
        pe_fail(pe, "dirs must be 1 or 4, not %lld", (long long)p->dirs);
        return WSE_EPROGRAM;
    }
    if (p->dirs == 4 && p->hops != 1) {
        pe_fail(pe, "dirs 4 streams to the neighbours only: hops must be 1, not %lld", (long long)p->hops);
        return WSE_EPROGRAM;
    }
    if (p->hops > 1 && p->hops >= pe_width(pe)) {
        pe_fail(pe, "hops %lld needs a region at least %lld PEs wide, not %d",
                (long long)p->hops, (long long)p->hops + 1, pe_width(pe));
        return WSE_EPROGRAM;
    }
    int rc = p->dirs == 1 ? setup_east(pe, s, p) : setup_four(pe, s, p);
    if (rc)
        return rc;
    if (s->send_mask) {
        uint32_t *buf = pe_alloc_u32(pe, (size_t)p->n);
        if (!buf)
            return WSE_ESRAM;
        s->send = pe_ref_u32(s, buf);
    }
    pe_bind_local_task(pe, T_START);
    pe_bind_local_task(pe, T_CHECK);
    pe_activate(pe, T_START);
    return 0;
}

static void done_one(wse_pe *pe, bw_state *s)
{
    if (--s->pending == 0)
        pe_finish(pe);
}

/* Stream n words toward d, recording the cycle the first may leave.  With
 * dirs 4 its completion (T_GO0 + d) starts the next direction's. */
static void bw_stream(wse_pe *pe, bw_state *s, const bw_params *p, int d)
{
    pe_fabout(pe, s->data_color_out[d], pe_u32(s, s->send), (int)p->n, 1,
              p->dirs == 4 ? T_GO0 + d : WSE_NO_TASK, WSE_ASYNC);
    s->out_sent[flow_index(p, d)] = (uint32_t)pe_cycle(pe);
    done_one(pe, s);
}

/* dirs 4: stream toward the first direction from d on with a neighbour. */
static void bw_send_from(wse_pe *pe, bw_state *s, const bw_params *p, int d)
{
    while (d < 4 && !(s->send_mask & (1u << d)))
        d++;
    if (d < 4)
        bw_stream(pe, s, p, d);
}

/* Fill the send buffer; post the fabins for the READY tokens (first, so
 * they take the CE ramp before any stream does), then the receives; say
 * READY to each sender. */
static void bw_start(wse_pe *pe, bw_state *s, const bw_params *p)
{
    s->recv_pending = __builtin_popcount(s->recv_mask);
    s->pending = __builtin_popcount(s->send_mask) + (s->recv_pending > 0);
    if (s->send_mask) {
        uint32_t *buf = pe_u32(s, s->send), id = (uint32_t)(pe_y(pe) * pe_width(pe) + pe_x(pe));
        for (int64_t i = 0; i < p->n; i++)
            buf[i] = pattern(id, i);
        pe_charge(pe, (uint64_t)(BW_VSTART + p->n), 0);
    }
    for (int d = 0; d < 4; d++)
        if (p->dirs == 1 && (s->send_mask & (1u << d)))
            pe_fabin(pe, s->ready_color_in[d], &s->ready[d], 1, 1, T_GO0 + d, WSE_ASYNC);
    for (int d = 0; d < 4; d++) {
        if (!(s->recv_mask & (1u << d)))
            continue;
        pe_fabin(pe, s->data_color_in[d], &s->head[d], 1, 1, T_FIRST0 + d, WSE_ASYNC);
        pe_fabin(pe, s->data_color_in[d], pe_u32(s, s->recv[d]), (int)p->n - 1, 1,
                 T_LAST0 + d, WSE_ASYNC);
    }
    for (int d = 0; d < 4; d++)
        if (p->dirs == 1 && (s->recv_mask & (1u << d)))
            pe_send(pe, s->ready_color_out[d], 1u, WSE_NO_TASK, WSE_ASYNC);
    if (p->dirs == 4)
        bw_send_from(pe, s, p, 0);
    if (s->pending == 0)
        pe_finish(pe);
}

/* T_GO0 + d: with dirs 1 READY for flow d arrived, so stream it; with
 * dirs 4 the stream toward d is out, so send the next one. */
static void bw_go(wse_pe *pe, bw_state *s, const bw_params *p, int d)
{
    if (p->dirs == 1)
        bw_stream(pe, s, p, d);
    else
        bw_send_from(pe, s, p, d + 1);
}

/* Every receive is complete: check the words against the senders'
 * patterns (off the timing path, so no check delays a completion task)
 * and take the span of the CE's receive ramp. */
static void bw_check(wse_pe *pe, bw_state *s, const bw_params *p)
{
    uint32_t lo = UINT32_MAX, hi = 0;
    for (int d = 0; d < 4; d++) {
        if (!(s->recv_mask & (1u << d)))
            continue;
        int f = flow_index(p, d);
        const uint32_t *w = pe_u32(s, s->recv[d]);
        uint32_t ok = s->head[d] == pattern(s->src_id[d], 0);
        for (int64_t i = 1; i < p->n; i++)
            ok += w[i - 1] == pattern(s->src_id[d], i);
        s->out_received[f] = ok;
        pe_charge(pe, (uint64_t)(BW_VSTART + p->n), 0);
        lo = s->out_arrival[2 * f] < lo ? s->out_arrival[2 * f] : lo;
        hi = s->out_arrival[2 * f + 1] > hi ? s->out_arrival[2 * f + 1] : hi;
    }
    s->out_span = (float)(hi - lo + 1);
    done_one(pe, s);
}

static void bw_task(wse_pe *pe, void *state, int task, uint32_t payload)
{
    (void)payload;
    bw_state *s = state;
    const bw_params *p = pe_params(pe);
    if (task == T_START) {
        bw_start(pe, s, p);
    } else if (task >= T_FIRST0 && task < T_FIRST0 + 4) {
        s->out_arrival[2 * flow_index(p, task - T_FIRST0)] = (uint32_t)pe_cycle(pe);
    } else if (task >= T_LAST0 && task < T_LAST0 + 4) {
        s->out_arrival[2 * flow_index(p, task - T_LAST0) + 1] = (uint32_t)pe_cycle(pe);
        if (--s->recv_pending == 0)
            pe_activate(pe, T_CHECK);
    } else if (task == T_CHECK) {
        bw_check(pe, s, p);
    } else if (task >= T_GO0 && task < T_GO0 + 4) {
        bw_go(pe, s, p, task - T_GO0);
    }
}

/* ---------------------------------------------------------- host */

static int shape_k(const void *params, int width, int height, int64_t shape[3], int per_flow)
{
    const bw_params *p = params;
    shape[0] = height;
    shape[1] = width;
    shape[2] = per_flow * p->dirs;
    return 3;
}

static int shape_arrival(const void *params, int width, int height, int64_t shape[3])
{
    return shape_k(params, width, height, shape, 2);
}

static int shape_flow(const void *params, int width, int height, int64_t shape[3])
{
    return shape_k(params, width, height, shape, 1);
}

static void block_k(const wse_pe *pe, void *ptr, int per_flow, wse_array_block *b)
{
    const bw_params *p = pe_params(pe);
    b->ptr = ptr;
    b->origin[0] = pe_y(pe);
    b->origin[1] = pe_x(pe);
    b->origin[2] = 0;
    b->extent[0] = 1;
    b->extent[1] = 1;
    b->extent[2] = per_flow * p->dirs;
    b->stride[0] = b->stride[1] = b->stride[2] = 1;
}

static void block_arrival(const wse_pe *pe, const void *state, wse_array_block *b)
{
    block_k(pe, ((bw_state *)state)->out_arrival, 2, b);
}

static void block_sent(const wse_pe *pe, const void *state, wse_array_block *b)
{
    block_k(pe, ((bw_state *)state)->out_sent, 1, b);
}

static void block_received(const wse_pe *pe, const void *state, wse_array_block *b)
{
    block_k(pe, ((bw_state *)state)->out_received, 1, b);
}

static int shape_pe(const void *params, int width, int height, int64_t shape[3])
{
    (void)params;
    shape[0] = height;
    shape[1] = width;
    return 2;
}

static void block_span(const wse_pe *pe, const void *state, wse_array_block *b)
{
    block_k(pe, &((bw_state *)state)->out_span, 1, b);
    b->extent[2] = 1;
}

static const wse_array_spec bw_arrays[] = {
    { "arrival", WSE_U32, 0, 1, "cycles the first and last wavelet of each incoming flow arrived (+ task switch), uint32 [height, width, 2*dirs]; 0 = no such flow", shape_arrival, block_arrival },
    { "sent", WSE_U32, 0, 1, "cycle each outgoing stream's first wavelet could leave, uint32 [height, width, dirs]; 0 = none", shape_flow, block_sent },
    { "received", WSE_U32, 0, 1, "words of each incoming flow that arrived with the sender's content, uint32 [height, width, dirs]", shape_flow, block_received },
    { "span", WSE_F32, 0, 1, "cycles the CE took in its incoming flows: max last - min first + 1 (flows * n when the ramp never idled), float32 [height, width]; 0 = none", shape_pe, block_span },
};
enum { A_ARRIVAL = 0, A_SENT = 1, A_RECEIVED = 2, A_SPAN = 3 };

/* Whether PE (x, y) receives flow d (for dirs 1, d = east). */
static int receives(const bw_params *p, int width, int height, int x, int y, int d)
{
    if (p->dirs == 1)
        return x % p->hops == 0 && x >= p->hops;
    int sx = x - pe_port_dx(d), sy = y - pe_port_dy(d);
    return sx >= 0 && sy >= 0 && sx < width && sy < height;
}

/* Host reference: every receiving flow gets all n words (received = n),
 * and the CE takes its k incoming flows at one wavelet per cycle without
 * a gap (span = k * n).  arrival and sent depend on the topology's
 * latencies and are not predicted (left 0). */
static int bw_reference(const void *params, int width, int height,
                        void *const *arrays)
{
    const bw_params *p = params;
    int k = (int)p->dirs;
    uint32_t *recv = arrays[A_RECEIVED];
    float *span = arrays[A_SPAN];
    for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++) {
            int flows = 0;
            for (int f = 0; f < k; f++) {
                int r = receives(p, width, height, x, y, k == 1 ? WSE_PORT_E : f);
                recv[((size_t)y * (size_t)width + (size_t)x) * (size_t)k + (size_t)f] = r ? (uint32_t)p->n : 0;
                flows += r;
            }
            span[(size_t)y * (size_t)width + (size_t)x] = (float)((int64_t)flows * p->n);
        }
    return 0;
}

/* dirs 1: the ideal rate is exact.  dirs 4: reported, not judged. */
static double bw_tolerance(const void *params, int width, int height)
{
    (void)width; (void)height;
    const bw_params *p = params;
    return p->dirs == 1 ? 0.0 : INFINITY;
}

static double bw_flops(const void *params, int width, int height)
{
    (void)params; (void)width; (void)height;
    return 0.0;
}

const wse_program wse_program_bandwidth = {
    .api_version = WSE_API_VERSION,
    .name = "bandwidth",
    .summary = "fabric calibration: n-wavelet streams east over `hops` PEs, or to all 4 neighbours, with arrival cycles",
    .params_size = sizeof(bw_params),
    .params = bw_param_spec,
    .n_params = (int)(sizeof bw_param_spec / sizeof bw_param_spec[0]),
    .arrays = bw_arrays,
    .n_arrays = 4,
    .device = { .state_size = sizeof(bw_state), .setup = bw_setup, .task = bw_task },
    .host = { .reference = bw_reference, .tolerance = bw_tolerance, .useful_flops = bw_flops },
    .unverified = (1u << 0) | (1u << 1),   /* arrival and sent: timings, no reference */
};
