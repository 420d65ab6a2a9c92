/*
 * src/programs/life.c - Conway's game of life (B3/S23) on uint8 cells.
 *
 * The global grid of (height*tile_h) x (width*tile_w) cells (0 dead,
 * 1 alive) is cut into tiles, one per PE; cells beyond the region edge are
 * dead.  Each PE keeps two tiles with a one-cell halo, (tile_h+2) x
 * (tile_w+2) bytes, and alternates between them.  A generation:
 *   1. east/west: pack the tile's east and west edge columns (rows 1..th)
 *      and send them to the neighbours; receive theirs into the halo
 *      columns;
 *   2. north/south: pack the top and bottom rows *including* the halo
 *      corners just received (tile_w+2 cells) and send them north and
 *      south; receive theirs into the halo rows.  The corners carry the
 *      diagonal neighbours' cells, so four links give all eight neighbours;
 *   3. update every cell with row-wide vector passes (below), swap tiles.
 * Cells travel packed 4 per 32-bit wavelet, cell k of a run in bits
 * 8*(k%4) of word k/4 (little-endian bytes), so an edge of m cells costs
 * ceil(m/4) wavelets instead of m.
 *
 * The update of row i, as the CE would run it (v, n: scratch rows):
 *   v[j] = u[i-1][j] + u[i][j] + u[i+1][j]         j = 0..tw+1   (2 ops)
 *   n[j] = v[j-1] + v[j] + v[j+1] - u[i][j]        j = 1..tw     (3 ops)
 *   u'[i][j] = ((n[j] | u[i][j]) == 3)             j = 1..tw     (2 ops)
 * The last line is B3/S23: n|u == 3 exactly when n == 3, or n == 2 and
 * the cell is alive.
 *
 * Costs.  The PE API exposes no integer SIMD width, so byte operations
 * are modelled like fp32 element ops on WSE-2: one element per cycle
 * (simd_fp32 = 1) plus LIFE_VSTART cycles to start each vector pass (the
 * vector_startup_cycles of topologies/wse2.yaml).  A row costs
 * 7 * LIFE_VSTART + 2 * (tw+2) + 5 * tw cycles, about 7 cycles per cell;
 * packing or unpacking an edge of m cells costs LIFE_VSTART + m.  Input
 * normalisation (u = u != 0, once, so any nonzero input byte is alive)
 * costs LIFE_VSTART + tw per row.  No floating point: useful FLOPs are 0
 * (cell updates = width*height*tile_w*tile_h*steps).
 *
 * Colors: data flowing toward direction d uses base[d] + parity of the
 * sending PE along that axis (heat2d's checkerboard): 8 colors.
 *
 * The host reference applies the same rule to the global grid, so the
 * result must match it exactly (tolerance 0).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "wse/pe.h"

typedef struct life_params {
    int64_t tile_w, tile_h, steps;
} life_params;

static const wse_param_spec life_param_spec[] = {
    { "tile_w", WSE_PARAM_INT, 8, 1, 128, offsetof(life_params, tile_w), "tile width per PE (cells)" },
    { "tile_h", WSE_PARAM_INT, 8, 1, 128, offsetof(life_params, tile_h), "tile height per PE (cells)" },
    { "steps", WSE_PARAM_INT, 10, 0, 1e6, offsetof(life_params, steps), "generations" },
};

/* ---------------------------------------------------------- device: runs on every PE */

#define LIFE_VSTART 2   /* cycles to start a vector pass (wse2.yaml) */

/* Local tasks (T_SEND0 + d and T_RECV0 + d end the fabric operations of
 * direction d); the CE ranks them in this order. */
enum { T_SEND0 = WSE_LOCAL_TASK(0), T_RECV0 = WSE_LOCAL_TASK(4), T_NEXT = WSE_LOCAL_TASK(8) };
static const int base_color[4] = { 0, 2, 4, 6 };   /* flow toward N, E, S, W */

/* Per-PE state, at the start of the PE's SRAM. */
typedef struct life_state {
    wse_u8_ref buf[2];        /* the two tiles with halo */
    wse_u8_ref v, n;          /* scratch rows: tw+2 and tw bytes */
    wse_u32_ref send[4];      /* packed edges, per direction of flow */
    wse_u32_ref recv[4];
    int32_t cur;              /* tile holding the current generation */
    int32_t gen;
    int32_t phase;            /* 0 start, 1 east/west, 2 north/south */
    int32_t pending;          /* fabric operations in flight */
    uint8_t send_mask, recv_mask;
    uint8_t send_color[4], recv_color[4];
} life_state;

/* Parity of PE (x, y) along the axis of direction d. */
static int parity(int x, int y, int d) { return pe_port_is_x(d) ? (x & 1) : (y & 1); }

/* Cells in the edge that flows toward d: a column of th cells for E/W, a
 * row of tw+2 cells (with the halo corners) for N/S. */
static int edge_cells(const life_params *p, int d)
{
    return pe_port_is_x(d) ? (int)p->tile_h : (int)p->tile_w + 2;
}

static int edge_words(const life_params *p, int d) { return (edge_cells(p, d) + 3) / 4; }

static int life_setup(wse_pe *pe, void *state)
{
    const life_params *p = pe_params(pe);
    life_state *s = state;
    size_t row = (size_t)p->tile_w + 2, cells = row * (size_t)(p->tile_h + 2);
    for (int b = 0; b < 2; b++) {
        uint8_t *t = pe_alloc_u8(pe, cells);
        if (!t)
            return WSE_ESRAM;
        s->buf[b] = pe_ref_u8(s, t);
    }
    uint8_t *v = pe_alloc_u8(pe, row), *n = pe_alloc_u8(pe, (size_t)p->tile_w);
    if (!v || !n)
        return WSE_ESRAM;
    s->v = pe_ref_u8(s, v);
    s->n = pe_ref_u8(s, n);
    int x = pe_x(pe), y = pe_y(pe);
    for (int d = 0; d < 4; d++) {
        int o = pe_port_opposite(d);
        size_t words = (size_t)edge_words(p, d);
        if (pe_has_neighbour(pe, d)) {           /* we send toward d */
            uint32_t *buf = pe_alloc_u32(pe, words);
            if (!buf)
                return WSE_ESRAM;
            s->send[d] = pe_ref_u32(s, buf);
            s->send_mask |= (uint8_t)(1u << d);
            s->send_color[d] = (uint8_t)(base_color[d] + parity(x, y, d));
            pe_route(pe, s->send_color[d], WSE_RAMP, pe_port_mask(d));
            pe_bind_local_task(pe, T_SEND0 + d);
        }
        if (pe_has_neighbour(pe, o)) {           /* flow d arrives from o */
            uint32_t *buf = pe_alloc_u32(pe, words);
            if (!buf)
                return WSE_ESRAM;
            int nx = x + pe_port_dx(o), ny = y + pe_port_dy(o);
            s->recv[d] = pe_ref_u32(s, buf);
            s->recv_mask |= (uint8_t)(1u << d);
            s->recv_color[d] = (uint8_t)(base_color[d] + parity(nx, ny, d));
            pe_route(pe, s->recv_color[d], pe_port_mask(o), WSE_RAMP);
            pe_bind_local_task(pe, T_RECV0 + d);
        }
    }
    pe_bind_local_task(pe, T_NEXT);
    pe_activate(pe, T_NEXT);
    return 0;
}

/* Where the edge flowing toward d starts in tile u, and its stride in
 * bytes: sent from the tile's own edge, received into the opposite halo. */
static uint8_t *edge_ptr(const life_params *p, uint8_t *u, int d, int recv, int *stride)
{
    int tw = (int)p->tile_w, th = (int)p->tile_h, row = tw + 2;
    *stride = pe_port_is_x(d) ? row : 1;
    if (!recv) {
        switch (d) {
        case WSE_PORT_E: return &u[row + tw];           /* column tw, rows 1..th */
        case WSE_PORT_W: return &u[row + 1];            /* column 1 */
        case WSE_PORT_S: return &u[th * row];           /* row th, columns 0..tw+1 */
        default: return &u[row];                        /* row 1 */
        }
    }
    switch (d) {
    case WSE_PORT_E: return &u[row];                    /* west halo column 0 */
    case WSE_PORT_W: return &u[row + tw + 1];           /* east halo column tw+1 */
    case WSE_PORT_S: return &u[0];                      /* north halo row 0 */
    default: return &u[(th + 1) * row];                 /* south halo row th+1 */
    }
}

/* Pack m cells (stride in bytes) into ceil(m/4) words, 4 per word. */
static void pack(wse_pe *pe, uint32_t *w, const uint8_t *c, int m, int stride)
{
    for (int k = 0; k < (m + 3) / 4; k++)
        w[k] = 0;
    for (int k = 0; k < m; k++)
        w[k / 4] |= (uint32_t)c[(ptrdiff_t)k * stride] << (8 * (k % 4));
    pe_charge(pe, (uint64_t)(LIFE_VSTART + m), 0);
}

static void unpack(wse_pe *pe, uint8_t *c, const uint32_t *w, int m, int stride)
{
    for (int k = 0; k < m; k++)
        c[(ptrdiff_t)k * stride] = (uint8_t)(w[k / 4] >> (8 * (k % 4)));
    pe_charge(pe, (uint64_t)(LIFE_VSTART + m), 0);
}

/* Phase 1 exchanges flows E and W, phase 2 flows N and S. */
static void start_phase(wse_pe *pe, life_state *s, const life_params *p)
{
    static const int dirs[3][2] = { { 0, 0 }, { WSE_PORT_E, WSE_PORT_W },
                                    { WSE_PORT_N, WSE_PORT_S } };
    uint8_t *u = pe_u8(s, s->buf[s->cur]);
    s->pending = 0;
    for (int k = 0; k < 2; k++) {
        int d = dirs[s->phase][k], m = edge_cells(p, d), nw = edge_words(p, d), stride;
        if (s->send_mask & (1u << d)) {
            uint32_t *w = pe_u32(s, s->send[d]);
            const uint8_t *c = edge_ptr(p, u, d, 0, &stride);
            pack(pe, w, c, m, stride);
            pe_fabout(pe, s->send_color[d], w, nw, 1, T_SEND0 + d, WSE_ASYNC);
            s->pending++;
        }
        if (s->recv_mask & (1u << d)) {
            pe_fabin(pe, s->recv_color[d], pe_u32(s, s->recv[d]), nw, 1, T_RECV0 + d, WSE_ASYNC);
            s->pending++;
        }
    }
    if (s->pending == 0)
        pe_activate(pe, T_NEXT);
}

/* Any nonzero input byte is alive: u = (u != 0), one pass per row. */
static void normalise(wse_pe *pe, life_state *s, const life_params *p)
{
    int tw = (int)p->tile_w, th = (int)p->tile_h, row = tw + 2;
    uint8_t *u = pe_u8(s, s->buf[s->cur]);
    for (int i = 1; i <= th; i++) {
        for (int j = 1; j <= tw; j++)
            u[i * row + j] = u[i * row + j] != 0;
        pe_charge(pe, (uint64_t)(LIFE_VSTART + tw), 0);
    }
}

static void compute(wse_pe *pe, life_state *s, const life_params *p)
{
    int tw = (int)p->tile_w, th = (int)p->tile_h, row = tw + 2;
    const uint8_t *u = pe_u8(s, s->buf[s->cur]);
    uint8_t *nu = pe_u8(s, s->buf[1 - s->cur]), *v = pe_u8(s, s->v), *n = pe_u8(s, s->n);
    uint64_t row_cost = 7 * LIFE_VSTART + 2 * (uint64_t)row + 5 * (uint64_t)tw;
    for (int i = 1; i <= th; i++) {
        const uint8_t *up = &u[(i - 1) * row], *mid = &u[i * row], *dn = &u[(i + 1) * row];
        for (int j = 0; j < row; j++)
            v[j] = (uint8_t)(up[j] + mid[j] + dn[j]);
        for (int j = 1; j <= tw; j++)
            n[j - 1] = (uint8_t)(v[j - 1] + v[j] + v[j + 1] - mid[j]);
        for (int j = 1; j <= tw; j++)
            nu[i * row + j] = (uint8_t)((n[j - 1] | mid[j]) == 3);
        pe_charge(pe, row_cost, 0);
    }
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
            normalise(pe, s, p);
        else
            compute(pe, s, p);
        if (s->gen >= p->steps) {
            pe_finish(pe);
            return;
        }
        s->phase = 1;
        start_phase(pe, s, p);
        return;
    }
    if (task >= T_RECV0 && task < T_RECV0 + 4) {   /* an edge arrived: into the halo */
        int d = task - T_RECV0, stride;
        uint8_t *c = edge_ptr(p, pe_u8(s, s->buf[s->cur]), d, 1, &stride);
        unpack(pe, c, pe_u32(s, s->recv[d]), edge_cells(p, d), stride);
    }
    if (--s->pending == 0)
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
    int row = (int)p->tile_w + 2;
    b->ptr = pe_u8(s, s->buf[s->cur]) + row + 1;
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
    { "cells0", WSE_U8, 1, 0, "initial cells, uint8 [height*tile_h, width*tile_w], nonzero = alive", life_shape, life_block },
    { "cells", WSE_U8, 0, 1, "cells after `steps` generations, uint8 [height*tile_h, width*tile_w], 0 or 1", life_shape, life_block },
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
    const uint8_t *c0 = arrays[0];
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
    uint8_t *out = arrays[1];
    for (int64_t i = 0; i < H; i++)
        memcpy(&out[i * W], &a[(i + 1) * R + 1], (size_t)W);
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
    .summary = "Conway's game of life on uint8 tiles, E/W then N/S halos (with corners) on 8 checkerboard colors, 4 cells per wavelet",
    .params_size = sizeof(life_params),
    .params = life_param_spec,
    .n_params = (int)(sizeof life_param_spec / sizeof life_param_spec[0]),
    .arrays = life_arrays,
    .n_arrays = 2,
    .device = { .state_size = sizeof(life_state), .setup = life_setup, .task = life_task },
    .host = { .reference = life_reference, .tolerance = life_tolerance, .useful_flops = life_flops },
};
