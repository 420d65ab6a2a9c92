/*
 * src/programs/rowscale.c - y = d * x row by row in fp16, with x
 * distributed from the west edge and y collected back to it: range
 * filters scatter the row, a control wavelet ends the stream, and a
 * teardown turns the same color around for the gather.
 *
 * What it is.  A resident elementwise operator: row r of d (fp16, n
 * values) lives spread over the W PEs of row r, a balanced slice each
 * (PE x holds elements lo(x) = floor(x n / W) up to lo(x + 1) - 1; a
 * slice is empty when n < W).  The input row x and the result y live at
 * the west-edge PE of the row, the PE that on a wafer talks to the host
 * (host I/O streams through the edge columns).  Applying a diagonal
 * (Jacobi) preconditioner z = D^-1 r, or a per-feature gain, is this
 * operation; the pattern - distribute from the edge, compute where the
 * data lives, collect at the edge - is the one every edge-fed wafer
 * program repeats.
 *
 * Algorithm (every row at once, independently):
 *   1. scatter: the edge PE packs the other PEs' elements into wavelets
 *      i << 16 | bits(x[i]) with one fp16 move into the low halves of a
 *      table of tags (built in setup), streams them east on one color
 *      (one fabout), then sends two control wavelets: EOS (no switch
 *      command, no CE filter, control task T_EOS, data = the number of
 *      data wavelets streamed) and TEARDOWN (CE filter on: it only
 *      steers).  Every other PE forwards the whole stream east (tx E +
 *      RAMP; the east edge RAMP only) and its range filter hands its CE
 *      only the indices of its own slice, which one fabin of m words,
 *      issued at the start, stores as they come.  The edge computes its
 *      own slice meanwhile.
 *   2. EOS reaches every CE behind the last data wavelet (a range filter
 *      only filters data wavelets; a fabin does not take control ones),
 *      so when its control task runs the slice is complete: it computes
 *      y = d * x on it with ONE fp16 descriptor multiply written over the
 *      low halves of the stored wavelets (stride 2), which thereby become
 *      i << 16 | bits(y[i]).
 *   3. TEARDOWN passes every router of the row, west to east; each stops
 *      the color and runs its teardown task, which moves the route to its
 *      second declared position - the way back: edge rx E, tx RAMP; inner
 *      PEs rx E + RAMP, tx W; east edge rx RAMP, tx W - and resumes it.
 *   4. gather: once a PE has both computed and turned its router, it
 *      fabouts its slice west; routers merge their own CE's words with
 *      those from the east.  The edge's data task stores each arriving
 *      y[i] at the index in its tag, whatever the arrival order, and the
 *      edge finishes when all of them are in.
 *
 * Why these three features.
 *   Range filter: the scatter is one stream that every PE sees, and the
 *   filter is what makes it a scatter and not a broadcast, in the router,
 *   at wire speed: no CE takes, or forwards, anyone else's elements, and
 *   no per-PE color is needed (the tag in the upper 16 bits is the
 *   filter's key here and the store address at the gather).
 *   Control task: the end of the stream must reach every PE, including
 *   those whose filter passes nothing (n < W), after the last data
 *   wavelet: a control wavelet on the same color does both (one color
 *   keeps order), and its task is the completion signal, so the fabins
 *   need no completion task and no PE counts wavelets.
 *   Teardown: the gather needs the opposite direction on every router.
 *   Another color would do it too, but the row has nothing more to send
 *   east, and a teardown wavelet behind the data turns each router
 *   exactly when its last eastward wavelet has passed - no handshake and
 *   no second color - among positions declared at setup.
 *
 * Colors: one, R_COLOR (0), both ways.  Queues (pe_init_queue, so it runs
 * on wse3_strict): input queue first_queue and output queue first_queue
 * for R_COLOR (edge: gather in, scatter out; others: scatter in, gather
 * out).  Microthreads: at most 2 (the edge's fabout and two sends share
 * its output queue and go in issue order; another PE's fabin, then its
 * fabout).  Tasks: the edge's data task (pe_data_task_id: 0 on wse2, 2
 * on wse3), local tasks T_START, T_TEAR (teardown), T_SENT, control task
 * T_EOS.  A region one PE wide uses no fabric at all.
 *
 * SRAM: the edge holds x, y (2n bytes each), the stream (4 (n - m0)
 * bytes) and its d slice (2 m0): 8 n - 2 m0 bytes, so n <= 5880 fits the
 * 46 KiB a WSE-2 PE leaves to programs at any width (up to 7840 one PE
 * wide); another PE holds 6 m bytes.
 *
 * Cycles (laptop/wse2 costs: task switch 2, vector and fabric startup 2,
 * fp16 SIMD 4, hop 1; k = n - m0 wavelets streamed, m0 = floor(n / W),
 * m1 = floor(2n / W) - m0 PE 1's slice).  For n >= W >= 2:
 *     cycles = 3 k + max(k, 2) + ceil(k / 4) + ceil(m1 / 4) + 20
 * independent of W, because only PE 1 is on the critical path:
 *     edge start task: switch 2, pack 2 + ceil(k/4), fabout issue 2: the
 *         stream leaves at t_f = 6 + ceil(k/4), a word a cycle; EOS, issued
 *         2 cycles later, right behind it at t_e = t_f + max(k, 2)
 *     EOS: edge router, PE 1's router, PE 1's CE: its task at t_e + 3,
 *         switch 2 + multiply 2 + ceil(m1/4)
 *     then PE 1's teardown task (TEARDOWN passed its router meanwhile):
 *         switch 2, fabout issue 2: PE 1's first result leaves at
 *         t_e + 11 + ceil(m1/4), the edge's data task takes it 3 later
 *     the edge's CE: k data tasks of switch 2 + 1 (a charged store) back
 *         to back - the results of PEs further east queue up behind PE
 *         1's, which last 3 m1 cycles there, so with every slice
 *         non-empty (n >= W) the CE never waits.
 * The edge's own multiply and teardown task hide in that.  Measured equal
 * for every W and n tested (tests/test_rowscale.c); a one-PE-wide region
 * takes 4 + ceil(n / 4) (one multiply in the start task).
 * Drawback: the gather is 3 of the 4 cycles per element: the edge's CE
 * takes every result through a data task, because results arrive in no
 * fixed order and are placed by their tags.
 *
 * The reference rounds x[i] * d[i] (exact in fp32: two 11-bit
 * significands) to fp16 once, as the descriptor multiply does, so the
 * result is bitwise equal.  The packing uses the low half of each 32-bit
 * word as the fp16 element: a little-endian host (as .npy '<f2').
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "wse/pe.h"

typedef struct rs_params {
    int64_t n;
} rs_params;

static const wse_param_spec rs_param_spec[] = {
    { "n", WSE_PARAM_INT, 256, 1, 16384, offsetof(rs_params, n),
      "elements per row (fp16; the edge PE holds up to 8 n bytes: n <= 5880 fits at any width)" },
};

/* ---------------------------------------------------------- device: runs on every PE */

enum { R_COLOR = 0 };
enum { T_START = WSE_LOCAL_TASK(0), T_EOS = WSE_LOCAL_TASK(1), T_TEAR = WSE_LOCAL_TASK(2),
       T_SENT = WSE_LOCAL_TASK(3) };
#define R_EMPTY 0xffffu             /* filter key of an empty slice: no index is 65535 */

typedef struct rs_state {
    uint32_t words;           /* tagged wavelets i << 16 | fp16 bits: the edge's
                               * stream, another PE's slice (received, then y) */
    uint32_t d;               /* fp16 slice of d, m elements */
    uint32_t x, y;            /* the edge: fp16 rows x and y, n elements */
    int32_t lo, m;            /* this PE's slice: elements lo .. lo + m - 1 */
    int32_t k;                /* the edge: wavelets it streams (n - m) */
    int32_t got;              /* the edge: results gathered */
    uint8_t eos, routed;      /* slice computed; router turned for the gather */
} rs_state;

static int32_t slice_lo(int64_t n, int w, int x) { return (int32_t)((int64_t)x * n / w); }

static uint16_t *at16(void *s, uint32_t off) { return (uint16_t *)(void *)((uint8_t *)s + off); }
static uint32_t *at32(void *s, uint32_t off) { return (uint32_t *)(void *)((uint8_t *)s + off); }

/* Allocate and keep the offset; *ptr (if not NULL) gets the memory to
 * initialise in setup (over the SRAM budget it is not inside the PE's
 * block, so write through it, not through the offset). */
static uint32_t alloc_off(wse_pe *pe, rs_state *s, size_t bytes, int *bad, void **ptr)
{
    void *p = pe_alloc(pe, bytes ? bytes : 4);
    if (!p)
        *bad = 1;
    if (ptr)
        *ptr = p;
    return p ? pe_offset(s, p) : 0;
}

static int rs_setup(wse_pe *pe, void *state)
{
    const rs_params *p = pe_params(pe);
    rs_state *s = state;
    int w = pe_width(pe), x = pe_x(pe), bad = 0, q = pe_machine(pe)->first_queue;
    const uint16_t one = 1;
    if (*(const uint8_t *)&one != 1) {
        pe_fail(pe, "rowscale packs fp16 into the low half of a word: a little-endian host only");
        return WSE_EPROGRAM;
    }
    s->lo = slice_lo(p->n, w, x);
    s->m = slice_lo(p->n, w, x + 1) - s->lo;
    uint32_t *wd = NULL;
    s->d = alloc_off(pe, s, 2u * (size_t)s->m, &bad, NULL);
    if (x == 0) {
        s->k = (int32_t)p->n - s->m;
        s->x = alloc_off(pe, s, 2u * (size_t)p->n, &bad, NULL);
        s->y = alloc_off(pe, s, 2u * (size_t)p->n, &bad, NULL);
        s->words = alloc_off(pe, s, 4u * (size_t)s->k, &bad, (void **)&wd);
    } else {
        s->words = alloc_off(pe, s, 4u * (size_t)s->m, &bad, NULL);
    }
    if (bad)
        return WSE_ESRAM;
    if (w == 1) {                       /* the whole row is the edge's slice */
        pe_bind_local_task(pe, T_START);
        pe_activate(pe, T_START);
        return 0;
    }
    pe_init_queue(pe, WSE_IQ(q), R_COLOR);
    pe_init_queue(pe, WSE_OQ(q), R_COLOR);
    pe_bind_local_task(pe, T_TEAR);
    if (x == 0) {
        /* scatter: RAMP -> E; gather: E -> RAMP */
        wse_switch sw = { .rx = { WSE_E, 0, 0 }, .tx = { WSE_RAMP, 0, 0 }, .position = 0 };
        pe_route(pe, R_COLOR, WSE_RAMP, WSE_E);
        pe_route_switch(pe, R_COLOR, &sw);
        for (int32_t j = 0; j < s->k; j++)      /* the tags: a constant table */
            wd[j] = (uint32_t)(s->m + j) << 16;
        pe_bind_data_task(pe, R_COLOR);
    } else {
        /* scatter: W -> E + RAMP (east edge: RAMP), CE sees its slice only;
         * gather: E + RAMP -> W (east edge: RAMP -> W) */
        int east = !pe_has_neighbour(pe, WSE_PORT_E);
        wse_switch sw = { .rx = { east ? WSE_RAMP : WSE_E | WSE_RAMP, 0, 0 },
                          .tx = { WSE_W, 0, 0 }, .position = 0 };
        pe_route(pe, R_COLOR, WSE_W, east ? WSE_RAMP : WSE_E | WSE_RAMP);
        pe_route_switch(pe, R_COLOR, &sw);
        if (s->m > 0)
            pe_route_filter(pe, R_COLOR, (unsigned)s->lo, (unsigned)(s->lo + s->m - 1));
        else
            pe_route_filter(pe, R_COLOR, R_EMPTY, R_EMPTY);
        pe_bind_control_task(pe, T_EOS);
        pe_bind_local_task(pe, T_SENT);
    }
    pe_route_teardown(pe, R_COLOR, T_TEAR);
    pe_bind_local_task(pe, T_START);
    pe_activate(pe, T_START);
    return 0;
}

/* y = x * d over n fp16 elements at the offsets (stride 2 for tagged words). */
static void scale(wse_pe *pe, uint32_t dst, int dstride, uint32_t src, int sstride, uint32_t d, int n)
{
    if (n > 0)
        pe_dmul(pe, pe_mem1d(WSE_F16, dst, n, dstride), pe_mem1d(WSE_F16, src, n, sstride),
                pe_mem1d(WSE_F16, d, n, 1), WSE_NO_TASK, 0);
}

/* Another PE: post the fabin of its slice.  The edge: pack and stream the
 * other PEs' elements, end the stream, turn the routers, then compute its
 * own slice (one PE wide: just that). */
static void rs_start(wse_pe *pe, rs_state *s)
{
    if (pe_x(pe) > 0) {                 /* receive the slice: the filter passes it alone */
        if (s->m > 0)
            pe_fabin(pe, R_COLOR, at32(s, s->words), s->m, 1, WSE_NO_TASK, WSE_ASYNC);
        return;
    }
    if (pe_width(pe) == 1) {
        scale(pe, s->y, 1, s->x, 1, s->d, s->m);
        pe_finish(pe);
        return;
    }
    pe_dmov(pe, pe_mem1d(WSE_F16, s->words, s->k, 2), pe_mem1d(WSE_F16, s->x + 2u * (uint32_t)s->m, s->k, 1),
            WSE_NO_TASK, 0);
    pe_fabout(pe, R_COLOR, at32(s, s->words), s->k, 1, WSE_NO_TASK, WSE_ASYNC);
    pe_send(pe, R_COLOR, pe_control_word(WSE_SWITCH_NOP, 0, T_EOS, (unsigned)s->k), WSE_NO_TASK,
            WSE_ASYNC | WSE_CONTROL);
    pe_send(pe, R_COLOR, pe_control_word(WSE_SWITCH_TEARDOWN, 1, 0, 0), WSE_NO_TASK,
            WSE_ASYNC | WSE_CONTROL);
    scale(pe, s->y, 1, s->x, 1, s->d, s->m);
}

/* A PE east of the edge: gather once computed and turned. */
static void rs_gather(wse_pe *pe, rs_state *s)
{
    if (!s->eos || !s->routed)
        return;
    if (s->m > 0)
        pe_fabout(pe, R_COLOR, at32(s, s->words), s->m, 1, T_SENT, WSE_ASYNC);
    else
        pe_finish(pe);
}

static void rs_data(wse_pe *pe, rs_state *s, uint32_t w)
{
    int32_t i = (int32_t)(w >> 16);
    pe_charge(pe, 1, 0);                /* one scalar store */
    if (i < s->m || i >= s->m + s->k) {
        pe_fail(pe, "gathered index %d is not one the edge streamed (%d..%d)", i, s->m, s->m + s->k - 1);
        return;
    }
    at16(s, s->y)[i] = (uint16_t)w;
    if (++s->got == s->k)
        pe_finish(pe);
}

static void rs_task(wse_pe *pe, void *state, int task, uint32_t payload)
{
    rs_state *s = state;
    switch (task) {
    case T_START:
        rs_start(pe, s);
        break;
    case T_EOS:                         /* the stream ended: the slice is complete */
        if (s->m > 0 && at32(s, s->words)[s->m - 1] >> 16 != (uint32_t)(s->lo + s->m - 1)) {
            pe_fail(pe, "end of stream (%u wavelets) before the last of slice %d..%d", payload, s->lo,
                    s->lo + s->m - 1);
            return;
        }
        scale(pe, s->words, 2, s->words, 2, s->d, s->m);
        s->eos = 1;
        rs_gather(pe, s);
        break;
    case T_TEAR:                        /* the stream has passed this router: turn it */
        pe_route_set_position(pe, R_COLOR, 1);
        pe_route_resume(pe, R_COLOR);
        s->routed = 1;
        if (pe_x(pe) > 0)
            rs_gather(pe, s);
        break;
    case T_SENT:
        pe_finish(pe);
        break;
    default:
        if (task == pe_data_task_id(pe, R_COLOR))
            rs_data(pe, s, payload);
        else
            pe_fail(pe, "task %d is none of rowscale's", task);
        break;
    }
}

/* ---------------------------------------------------------- host */

static int rs_shape(const void *params, int width, int height, int64_t shape[3])
{
    (void)width;
    shape[0] = height;
    shape[1] = ((const rs_params *)params)->n;
    return 2;
}

static void row_block(const wse_pe *pe, wse_array_block *b, void *ptr, int64_t origin, int64_t extent)
{
    const rs_params *p = pe_params(pe);
    b->ptr = ptr;
    b->origin[0] = pe_y(pe);
    b->origin[1] = origin;
    b->origin[2] = 0;
    b->extent[0] = 1;
    b->extent[1] = extent;
    b->extent[2] = 1;
    b->stride[0] = p->n;
    b->stride[1] = 1;
    b->stride[2] = 1;
}

static void block_edge(const wse_pe *pe, const void *state, wse_array_block *b, int is_y)
{
    const rs_params *p = pe_params(pe);
    const rs_state *s = state;
    int edge = pe_x(pe) == 0;
    uint32_t off = edge ? (is_y ? s->y : s->x) : s->d;
    row_block(pe, b, (uint8_t *)(uintptr_t)state + off, 0, edge ? p->n : 0);
}

static void block_x(const wse_pe *pe, const void *state, wse_array_block *b) { block_edge(pe, state, b, 0); }
static void block_y(const wse_pe *pe, const void *state, wse_array_block *b) { block_edge(pe, state, b, 1); }

static void block_d(const wse_pe *pe, const void *state, wse_array_block *b)
{
    const rs_state *s = state;
    row_block(pe, b, (uint8_t *)(uintptr_t)state + s->d, s->lo, s->m);
}

static const wse_array_spec rs_arrays[] = {
    { "x", WSE_F16, 1, 0, "input rows, float16 [height, n]; held by the west-edge PEs", rs_shape, block_x },
    { "d", WSE_F16, 1, 0, "resident factors, float16 [height, n]; PE x of a row holds elements floor(x n / width) .. floor((x + 1) n / width) - 1", rs_shape, block_d },
    { "y", WSE_F16, 0, 1, "d * x rounded to fp16, float16 [height, n]; held by the west-edge PEs", rs_shape, block_y },
};

static int rs_reference(const void *params, int width, int height, void *const *arrays)
{
    const rs_params *p = params;
    const uint16_t *x = arrays[0], *d = arrays[1];
    uint16_t *y = arrays[2];
    (void)width;
    for (int64_t i = 0; i < (int64_t)height * p->n; i++)
        y[i] = pe_f32_to_f16(pe_f16_to_f32(x[i]) * pe_f16_to_f32(d[i]));
    return 0;
}

static double rs_tolerance(const void *params, int width, int height)
{
    (void)params; (void)width; (void)height;
    return 0.0;   /* one rounding of an exact product, as on the PE */
}

/* One multiply per element. */
static double rs_flops(const void *params, int width, int height)
{
    (void)width;
    return (double)height * (double)((const rs_params *)params)->n;
}

const wse_program wse_program_rowscale = {
    .api_version = WSE_API_VERSION,
    .name = "rowscale",
    .summary = "y = d * x per row in fp16: x scattered from the west edge by range filters, an end-of-stream control task, a teardown turns the color for the gather",
    .params_size = sizeof(rs_params),
    .params = rs_param_spec,
    .n_params = (int)(sizeof rs_param_spec / sizeof rs_param_spec[0]),
    .arrays = rs_arrays,
    .n_arrays = 3,
    .device = { .state_size = sizeof(rs_state), .setup = rs_setup, .task = rs_task },
    .host = { .reference = rs_reference, .tolerance = rs_tolerance, .useful_flops = rs_flops },
};
