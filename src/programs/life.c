/*
 * src/programs/life.c - Conway's game of life (B3/S23), every cell
 * operation a 16-bit integer descriptor op that the engine runs and
 * charges.
 *
 * The global grid of (height*tile_h) x (width*tile_w) cells (0 dead,
 * 1 alive) is cut into tiles, one per PE; cells beyond the region edge are
 * dead.  The CE has no 8-bit arithmetic, so cells are U16, and so are the
 * host arrays (uint16).  Each PE keeps two tiles with a one-cell halo,
 * tile_h+2 rows of `row` cells (tile_w+2, rounded up to even so that every
 * row starts on a 32-bit word), and alternates between them.  A
 * generation:
 *   1. east/west: send the tile's east and west edge columns (rows 1..th)
 *      to the neighbours, receive theirs into the halo columns;
 *   2. north/south: send the top and bottom rows *including* the halo
 *      corners just received (tw+2 cells), receive theirs into the halo
 *      rows.  The corners carry the diagonal neighbours' cells, so four
 *      links give all eight neighbours;
 *   3. update the tile with seven ops on whole-tile 2D descriptors, swap.
 * Each transfer is one pe_dmov between the tile and a fabout or fabin
 * descriptor (WSE_ASYNC), so nothing is packed by hand.  A column's cells
 * are `row` apart: one U16 per wavelet, th wavelets.  A row is contiguous:
 * U32 elements over its cell pairs, two cells per wavelet, (tw+3)/2
 * wavelets, at no cost in ops.  Pairing a column too would need two ops
 * to pack it and two to unpack it, 4 (s + ceil(th/8)) CE cycles on the
 * critical path to save th/2 wavelet cycles: always a loss.  Rows as
 * pairs make life.yaml 8809 cycles instead of 9259 (one cell a wavelet).
 *
 * The update (p, v: th x row scratch; the first two ops cover columns
 * 0..tw+1, the rest the tw x th cells, written into the other tile):
 *   p = u[i-1][j] + u[i+1][j]
 *   v = p + u[i][j]
 *   t = v[j-1] + v[j+1]
 *   t = t + p[j]            n: the eight neighbours
 *   t = t ^ 0x8003          0x8000 + (n ^ 3)
 *   t = u - t
 *   u' = t >> 15            logical shift: 0 or 1
 * n ^ 3 is 0 for n = 3, 1 for n = 2 and at least 2 for any other n, so
 * B3/S23 (n == 3, or n == 2 and alive) is n ^ 3 <= u; u - (n ^ 3) is in
 * -15..1, so u - (n ^ 3) - 0x8000 mod 2^16 has its top bit set exactly
 * when it is >= 0.  (n | u == 3 tested with xor, sub and shift takes one
 * op more.)  The constant 0x8003, and a 0, are two U16 in SRAM that
 * stride-0 descriptors broadcast.  Once, before the first generation, a
 * fill sets 0x8003 and any nonzero input cell becomes alive:
 * t = 0 - u; t = t | u; u = t >> 15.
 *
 * Costs, from pe.h's rules (s = vector_startup_cycles, q = simd_fp16, as
 * every operand is 16-bit, a = fabric_startup_cycles, k =
 * task_switch_cycles; n1 = th (tw+2), n2 = tw th):
 *   update, per generation  2 (s + ceil(n1/q)) + 5 (s + ceil(n2/q))
 *   once                    (s + 1) + 3 (s + ceil(n2/q))
 *   exchange                a to issue each send and receive (2 per
 *                           neighbour a generation), then one wavelet a
 *                           cycle in the background; k for each of their
 *                           completion tasks and for the 2 other tasks
 * so an interior PE is busy update + 8 a + 10 k a generation.  On WSE-2
 * (s = a = k = 2, q = 4), 8 x 8 tiles: update 2 * 22 + 5 * 18 = 134
 * cycles (2.1 a cell), busy 170; life.yaml measures 8809 cycles for 50
 * generations: 57 + 2 once, 170 busy and 5 waiting for the last wavelet
 * a generation.  4 x 4 tiles (life_glider.yaml): update 46, busy 82, and
 * 96 * 82 + 21 + 2 = 7895 is exactly the run: the CE never waits.  No
 * floating point: useful FLOPs are 0 (cell updates =
 * width*height*tile_w*tile_h*steps).
 *
 * SRAM: 2 (th+2) row + 2 th row cells of 2 bytes, 45,600 bytes for the
 * largest tile, 74 x 74, which fits 48 KiB less 2 KiB reserved (75 x 75
 * would not).
 *
 * Colors: data flowing toward direction d uses base[d] + parity of the
 * sending PE along that axis (heat2d's checkerboard): 8 colors.  A phase
 * holds 2 output queues, 2 input queues and 4 microthreads.  Queues
 * (pe_init_queue, which wse3 requires): the send toward d uses output
 * queue first_queue + d, the flow toward d arrives in input queue
 * first_queue + d, so an inner PE binds 4 of each for the run (wse2 leaves
 * a program exactly 4 output queues).  There are no data tasks.
 *
 * The host reference applies the same rule to the global grid, so the
 * result must match it exactly (tolerance 0).
 */
#include <stddef.h>
#include <stdlib.h>
#include "wse/pe.h"

typedef struct life_params {
    int64_t tile_w, tile_h, steps;
} life_params;

/* The largest square tile whose two copies and two scratch arrays fit
 * 48 KiB less 2 KiB reserved (SRAM, above). */
#define LIFE_TILE_MAX 74

static const wse_param_spec life_param_spec[] = {
    { "tile_w", WSE_PARAM_INT, 8, 1, LIFE_TILE_MAX, offsetof(life_params, tile_w), "tile width per PE (cells)" },
    { "tile_h", WSE_PARAM_INT, 8, 1, LIFE_TILE_MAX, offsetof(life_params, tile_h), "tile height per PE (cells)" },
    { "steps", WSE_PARAM_INT, 10, 0, 1e6, offsetof(life_params, steps), "generations" },
};

/* ---------------------------------------------------------- device: runs on every PE */

/* Local tasks (T_SEND0 + d and T_RECV0 + d end the fabric operations of
 * direction d); the CE ranks them in this order. */
enum { T_SEND0 = WSE_LOCAL_TASK(0), T_RECV0 = WSE_LOCAL_TASK(4), T_NEXT = WSE_LOCAL_TASK(8) };
static const int base_color[4] = { 0, 2, 4, 6 };   /* flow toward N, E, S, W */

/* The rule's constant: n ^ LIFE_RULE_XOR is 0x8000 + (n ^ 3). */
#define LIFE_RULE_XOR 0x8003u

/* Per-PE state, at the start of the PE's SRAM.  Arrays are byte offsets
 * from the state, all of U16 elements. */
typedef struct life_state {
    uint32_t buf[2];          /* the two tiles with halo, (th+2) x row */
    uint32_t pair, triple;    /* scratch, th x row: u[i-1] + u[i+1], and + u[i] */
    uint32_t konst;           /* [0] = 0, [1] = LIFE_RULE_XOR */
    int32_t cur;              /* tile holding the current generation */
    int32_t gen;
    int32_t phase;            /* 0 start, 1 east/west, 2 north/south */
    int32_t pending;          /* fabric operations in flight */
    uint8_t send_mask, recv_mask;
    uint8_t send_color[4], recv_color[4];
} life_state;

/* Parity of PE (x, y) along the axis of direction d. */
static int parity(int x, int y, int d) { return pe_port_is_x(d) ? (x & 1) : (y & 1); }

/* Cells from one row of a tile to the next: tw + 2 (halo columns), made
 * even so that every row starts on a 32-bit word (the N/S edges go as
 * U32 pairs). */
static int row_len(const life_params *p) { return ((int)p->tile_w + 3) & ~1; }

static int life_setup(wse_pe *pe, void *state)
{
    const life_params *p = pe_params(pe);
    life_state *s = state;
    size_t row = (size_t)row_len(p), tile = 2 * row * (size_t)(p->tile_h + 2);
    size_t scratch = 2 * row * (size_t)p->tile_h;
    void *a = pe_alloc(pe, tile), *b = pe_alloc(pe, tile);
    void *pr = pe_alloc(pe, scratch), *tr = pe_alloc(pe, scratch), *k = pe_alloc(pe, 4);
    if (!a || !b || !pr || !tr || !k)
        return WSE_ESRAM;
    s->buf[0] = pe_offset(s, a);
    s->buf[1] = pe_offset(s, b);
    s->pair = pe_offset(s, pr);
    s->triple = pe_offset(s, tr);
    s->konst = pe_offset(s, k);
    int x = pe_x(pe), y = pe_y(pe), q = pe_machine(pe)->first_queue;
    for (int d = 0; d < 4; d++) {
        int o = pe_port_opposite(d);
        if (pe_has_neighbour(pe, d)) {           /* we send toward d */
            s->send_mask |= (uint8_t)(1u << d);
            s->send_color[d] = (uint8_t)(base_color[d] + parity(x, y, d));
            pe_route(pe, s->send_color[d], WSE_RAMP, pe_port_mask(d));
            pe_init_queue(pe, WSE_OQ(q + d), s->send_color[d]);
            pe_bind_local_task(pe, T_SEND0 + d);
        }
        if (pe_has_neighbour(pe, o)) {           /* flow d arrives from o */
            int nx = x + pe_port_dx(o), ny = y + pe_port_dy(o);
            s->recv_mask |= (uint8_t)(1u << d);
            s->recv_color[d] = (uint8_t)(base_color[d] + parity(nx, ny, d));
            pe_route(pe, s->recv_color[d], pe_port_mask(o), WSE_RAMP);
            pe_init_queue(pe, WSE_IQ(q + d), s->recv_color[d]);
            pe_bind_local_task(pe, T_RECV0 + d);
        }
    }
    pe_bind_local_task(pe, T_NEXT);
    pe_activate(pe, T_NEXT);
    return 0;
}

/* The edge that flows toward d, in tile u, as a memory descriptor: sent
 * from the tile's own edge, received into the opposite halo.  E/W: a
 * column of th cells, one per wavelet; N/S: a whole row with the halo
 * corners, two cells per wavelet (U32 over the row's cell pairs). */
static wse_dsd edge(const life_params *p, uint32_t u, int d, int recv)
{
    int tw = (int)p->tile_w, th = (int)p->tile_h, row = row_len(p);
    int at;                                      /* first cell */
    switch (d) {
    case WSE_PORT_E: at = row + (recv ? 0 : tw); break;          /* column tw -> 0 */
    case WSE_PORT_W: at = row + (recv ? tw + 1 : 1); break;      /* column 1 -> tw+1 */
    case WSE_PORT_S: at = recv ? 0 : th * row; break;            /* row th -> 0 */
    default: at = recv ? (th + 1) * row : row; break;            /* row 1 -> th+1 */
    }
    uint32_t off = u + 2u * (uint32_t)at;
    return pe_port_is_x(d) ? pe_mem1d(WSE_U16, off, th, row) : pe_mem1d(WSE_U32, off, row / 2, 1);
}

/* Phase 1 exchanges flows E and W, phase 2 flows N and S (their rows
 * carry the corners phase 1 brought). */
static void start_phase(wse_pe *pe, life_state *s, const life_params *p)
{
    static const int dirs[3][2] = { { 0, 0 }, { WSE_PORT_E, WSE_PORT_W },
                                    { WSE_PORT_N, WSE_PORT_S } };
    uint32_t u = s->buf[s->cur];
    s->pending = 0;
    for (int k = 0; k < 2; k++) {
        int d = dirs[s->phase][k];
        if (s->send_mask & (1u << d)) {
            wse_dsd src = edge(p, u, d, 0);
            wse_dsd out = pe_fabout_dsd(src.dtype, s->send_color[d], src.extent[0]);
            pe_dmov(pe, out, src, T_SEND0 + d, WSE_ASYNC);
            s->pending++;
        }
        if (s->recv_mask & (1u << d)) {
            wse_dsd dst = edge(p, u, d, 1);
            wse_dsd in = pe_fabin_dsd(dst.dtype, s->recv_color[d], dst.extent[0]);
            pe_dmov(pe, dst, in, T_RECV0 + d, WSE_ASYNC);
            s->pending++;
        }
    }
    if (s->pending == 0)
        pe_activate(pe, T_NEXT);
}

/* tw x th cells starting at byte offset off, rows `row` cells apart. */
static wse_dsd block2d(uint32_t off, int tw, int th, int row)
{
    const int extent[2] = { tw, th }, stride[2] = { 1, row };
    return pe_mem4d(WSE_U16, off, 2, extent, stride);
}

/* The constant konst[k] repeated over tw x th elements. */
static wse_dsd konst(const life_state *s, int k, int tw, int th)
{
    const int extent[2] = { tw, th }, stride[2] = { 0, 0 };
    return pe_mem4d(WSE_U16, s->konst + 2u * (uint32_t)k, 2, extent, stride);
}

/* Once, before the first generation: set the rule's constant, and make
 * any nonzero input cell alive: u = (u | -u) >> 15, with -u = 0 - u. */
static void life_init(wse_pe *pe, life_state *s, const life_params *p)
{
    int tw = (int)p->tile_w, th = (int)p->tile_h, row = row_len(p);
    pe_dfill_bits(pe, pe_mem1d(WSE_U16, s->konst + 2, 1, 1), LIFE_RULE_XOR, WSE_NO_TASK, 0);
    wse_dsd U = block2d(s->buf[s->cur] + 2u * (uint32_t)(row + 1), tw, th, row);
    wse_dsd T = block2d(s->pair, tw, th, row);
    pe_dsub16(pe, T, konst(s, 0, tw, th), U, WSE_NO_TASK, 0);   /* t = 0 - u */
    pe_dor16(pe, T, T, U, WSE_NO_TASK, 0);                      /* t = t | u */
    pe_dsrl16(pe, U, T, 15, WSE_NO_TASK, 0);                    /* u = t >> 15 */
}

/* One generation: seven 16-bit operations on whole-tile descriptors. */
static void life_compute(wse_pe *pe, life_state *s, const life_params *p)
{
    int tw = (int)p->tile_w, th = (int)p->tile_h, row = row_len(p);
    uint32_t u = s->buf[s->cur], nu = s->buf[1 - s->cur] + 2u * (uint32_t)(row + 1);
    /* rows 1..th, columns 0..tw+1, and the rows above and below */
    wse_dsd N = block2d(u, tw + 2, th, row), M = block2d(u + 2u * (uint32_t)row, tw + 2, th, row);
    wse_dsd S = block2d(u + 4u * (uint32_t)row, tw + 2, th, row);
    wse_dsd P = block2d(s->pair, tw + 2, th, row), V = block2d(s->triple, tw + 2, th, row);
    pe_dadd16(pe, P, N, S, WSE_NO_TASK, 0);           /* p = u[i-1] + u[i+1] */
    pe_dadd16(pe, V, P, M, WSE_NO_TASK, 0);           /* v = p + u[i] */
    /* the tw x th cells: n = v[j-1] + v[j+1] + p[j], into the new tile */
    wse_dsd T = block2d(nu, tw, th, row), U = block2d(u + 2u * (uint32_t)(row + 1), tw, th, row);
    pe_dadd16(pe, T, block2d(s->triple, tw, th, row), block2d(s->triple + 4, tw, th, row),
              WSE_NO_TASK, 0);
    pe_dadd16(pe, T, T, block2d(s->pair + 2, tw, th, row), WSE_NO_TASK, 0);
    pe_dxor16(pe, T, T, konst(s, 1, tw, th), WSE_NO_TASK, 0);   /* t = 0x8000 + (n ^ 3) */
    pe_dsub16(pe, T, U, T, WSE_NO_TASK, 0);                     /* t = u - t */
    pe_dsrl16(pe, T, T, 15, WSE_NO_TASK, 0);                    /* u' = t >> 15 */
    s->cur = 1 - s->cur;
    s->gen++;
}

static void life_task(wse_pe *pe, void *state, int task, uint32_t payload)
{
    (void)payload;
    life_state *s = state;
    const life_params *p = pe_params(pe);
    if (task == T_NEXT) {
        if (s->phase == 1) {
            s->phase = 2;
            start_phase(pe, s, p);
            return;
        }
        if (s->phase == 0)
            life_init(pe, s, p);
        else
            life_compute(pe, s, p);
        if (s->gen >= p->steps) {
            pe_finish(pe);
            return;
        }
        s->phase = 1;
        start_phase(pe, s, p);
        return;
    }
    if (--s->pending == 0)                   /* a send or receive completed */
        pe_activate(pe, T_NEXT);
}

/* ---------------------------------------------------------- host */

static int life_shape(const void *params, int width, int height, int64_t shape[3])
{
    const life_params *p = params;
    shape[0] = (int64_t)height * p->tile_h;
    shape[1] = (int64_t)width * p->tile_w;
    return 2;
}

static void life_block(const wse_pe *pe, const void *state, wse_array_block *b)
{
    const life_params *p = pe_params(pe);
    const life_state *s = state;
    int row = row_len(p);
    b->ptr = (uint8_t *)(uintptr_t)s + s->buf[s->cur] + 2 * (row + 1);
    b->origin[0] = (int64_t)pe_y(pe) * p->tile_h;
    b->origin[1] = (int64_t)pe_x(pe) * p->tile_w;
    b->origin[2] = 0;
    b->extent[0] = p->tile_h;
    b->extent[1] = p->tile_w;
    b->extent[2] = 1;
    b->stride[0] = row;
    b->stride[1] = 1;
    b->stride[2] = 1;
}

static const wse_array_spec life_arrays[] = {
    { "cells0", WSE_U16, 1, 0, "initial cells, uint16 [height*tile_h, width*tile_w], nonzero = alive", life_shape, life_block },
    { "cells", WSE_U16, 0, 1, "cells after `steps` generations, uint16 [height*tile_h, width*tile_w], 0 or 1", life_shape, life_block },
};

/* Host reference: the same rule on the global grid with a dead border. */
static int life_reference(const void *params, int width, int height,
                          void *const *arrays)
{
    const life_params *p = params;
    int64_t H = (int64_t)height * p->tile_h, W = (int64_t)width * p->tile_w, R = W + 2;
    uint8_t *a = calloc((size_t)((H + 2) * R), 1), *b = calloc((size_t)((H + 2) * R), 1);
    if (!a || !b) {
        free(a);
        free(b);
        return WSE_ENOMEM;
    }
    const uint16_t *c0 = arrays[0];
    for (int64_t i = 0; i < H; i++)
        for (int64_t j = 0; j < W; j++)
            a[(i + 1) * R + j + 1] = c0[i * W + j] != 0;
    for (int64_t s = 0; s < p->steps; s++) {
        for (int64_t i = 1; i <= H; i++)
            for (int64_t j = 1; j <= W; j++) {
                const uint8_t *c = &a[i * R + j];
                int n = c[-R - 1] + c[-R] + c[-R + 1] + c[-1] + c[1] + c[R - 1] + c[R] + c[R + 1];
                b[i * R + j] = (uint8_t)(n == 3 || (n == 2 && c[0]));
            }
        uint8_t *x = a;
        a = b;
        b = x;
    }
    uint16_t *out = arrays[1];
    for (int64_t i = 0; i < H; i++)
        for (int64_t j = 0; j < W; j++)
            out[i * W + j] = a[(i + 1) * R + j + 1];
    free(a);
    free(b);
    return 0;
}

static double life_tolerance(const void *params, int width, int height)
{
    (void)params; (void)width; (void)height;
    return 0.0;   /* integer rule: the cells must match exactly */
}

/* No floating point at all; the work is width*height*tile_w*tile_h*steps
 * cell updates. */
static double life_flops(const void *params, int width, int height)
{
    (void)params; (void)width; (void)height;
    return 0.0;
}

const wse_program wse_program_life = {
    .api_version = WSE_API_VERSION,
    .name = "life",
    .summary = "Conway's game of life on uint16 tiles, seven 16-bit tile ops a generation, E/W then N/S halos (with corners) on 8 checkerboard colors",
    .params_size = sizeof(life_params),
    .params = life_param_spec,
    .n_params = (int)(sizeof life_param_spec / sizeof life_param_spec[0]),
    .arrays = life_arrays,
    .n_arrays = 2,
    .device = { .state_size = sizeof(life_state), .setup = life_setup, .task = life_task },
    .host = { .reference = life_reference, .tolerance = life_tolerance, .useful_flops = life_flops },
};
