/*
 * src/programs/heat2d.c - explicit 2D heat equation (5-point Jacobi).
 *
 * The global fp32 grid of (height*tile_h) x (width*tile_w) cells is cut
 * into tiles, one per PE.  Each PE keeps two tiles with a one-cell halo,
 * (tile_h+2) x (tile_w+2), and alternates between them.  A step:
 *   1. send the four edges of the current tile to the neighbours (fabout,
 *      one after another) and receive their edges into the halo (fabin,
 *      four at once), all asynchronous;
 *   2. when all eight operations are done, compute the new tile with five
 *      vector operations on 2D descriptors (the tile's cells, rows tile_w
 *      + 2 apart, and their four shifted copies):
 *         t = (u[N] + u[S]) + u[W] + u[E];  t = t + u (-4);  u' = u + t alpha
 *      (the same fp32 operations, in the same order, as -4 u + t and
 *      alpha t + u: products and sums commute exactly)
 *   3. swap tiles and start the next step.
 * Halo cells beyond the region edge stay zero (Dirichlet boundary).
 *
 * Colors: data flowing toward direction d uses base[d] + parity of the
 * sending PE along that axis, so a PE's send and receive on one axis never
 * share a color (the checkerboard of the vendor's examples): 8 colors.
 * Queues (pe_init_queue, which wse3 requires): the send toward d uses
 * output queue first_queue + d, the flow toward d arrives in input queue
 * first_queue + d (at most 4 of each, at an inner PE; wse2 leaves a
 * program exactly 4 output queues).  There are no data tasks, so no task
 * id depends on the arch.
 *
 * The host reference performs the same fp32 operations in the same order,
 * so the emulated result is bitwise equal to it.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "wse/pe.h"

typedef struct heat_params {
    int64_t tile_w, tile_h, steps;
    double alpha;
} heat_params;

static const wse_param_spec heat_param_spec[] = {
    { "tile_w", WSE_PARAM_INT, 8, 1, 256, offsetof(heat_params, tile_w), "tile width per PE (cells)" },
    { "tile_h", WSE_PARAM_INT, 8, 1, 256, offsetof(heat_params, tile_h), "tile height per PE (cells)" },
    { "steps", WSE_PARAM_INT, 10, 0, 1e9, offsetof(heat_params, steps), "time steps" },
    { "alpha", WSE_PARAM_FLOAT, 0.1, 0.0, 0.25, offsetof(heat_params, alpha), "diffusion number dt*k/dx^2 (stable <= 0.25)" },
};

/* ---------------------------------------------------------- device: runs on every PE */

/* Local tasks (T_SEND0 + d and T_RECV0 + d end the fabric operations of
 * direction d); the CE ranks them in this order. */
enum { T_SEND0 = WSE_LOCAL_TASK(0), T_RECV0 = WSE_LOCAL_TASK(4), T_STEP = WSE_LOCAL_TASK(8),
       T_COMPUTE = WSE_LOCAL_TASK(9) };
static const int base_color[4] = { 0, 2, 4, 6 };   /* flow toward N, E, S, W */

/* Per-PE state, at the start of the PE's SRAM. */
typedef struct heat_state {
    wse_f32_ref buf[2];       /* the two tiles with halo */
    wse_f32_ref tmp;          /* one tile of scratch (no halo) */
    int32_t cur;              /* tile holding the current step */
    int32_t step;
    int32_t pending;          /* fabric operations still in flight */
    uint8_t send_mask;        /* directions with a neighbour to send to */
    uint8_t recv_mask;        /* flows arriving (direction of flow) */
    uint8_t send_color[4], recv_color[4];
} heat_state;

/* Parity of PE (x, y) along the axis of direction d. */
static int parity(int x, int y, int d) { return pe_port_is_x(d) ? (x & 1) : (y & 1); }

static int heat_setup(wse_pe *pe, void *state)
{
    const heat_params *p = pe_params(pe);
    heat_state *s = state;
    size_t cells = (size_t)(p->tile_w + 2) * (size_t)(p->tile_h + 2);
    float *a = pe_alloc_f32(pe, cells);
    float *b = pe_alloc_f32(pe, cells);
    float *t = pe_alloc_f32(pe, (size_t)(p->tile_w * p->tile_h));
    if (!a || !b || !t)
        return WSE_ESRAM;
    s->buf[0] = pe_ref_f32(s, a);
    s->buf[1] = pe_ref_f32(s, b);
    s->tmp = pe_ref_f32(s, t);
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
    pe_bind_local_task(pe, T_STEP);
    pe_bind_local_task(pe, T_COMPUTE);
    pe_activate(pe, T_STEP);
    return 0;
}

/* Send the edge toward the first direction from d on that has a
 * neighbour.  The sends go one after another through one output queue and
 * one microthread (T_SEND0 + d starts the next), so a step holds at most
 * 4 + 1 microthreads: with 4 sends at once it would need 8, and a program
 * gets 6 of them. */
static void heat_send_from(wse_pe *pe, heat_state *s, const heat_params *p, int d)
{
    int tw = (int)p->tile_w, th = (int)p->tile_h, row = tw + 2;
    const float *u = pe_f32(s, s->buf[s->cur]);
    while (d < 4 && !(s->send_mask & (1u << d)))
        d++;
    if (d == 4)
        return;
    /* an edge is a column of th cells for E/W, a row of tw cells for N/S;
     * the cells next to neighbour d: N row 1, S row th, E col tw, W col 1 */
    int n = pe_port_is_x(d) ? th : tw, stride = pe_port_is_x(d) ? row : 1;
    const float *src = d == WSE_PORT_N ? &u[row + 1] : d == WSE_PORT_S ? &u[th * row + 1]
                     : d == WSE_PORT_E ? &u[row + tw] : &u[row + 1];
    pe_fabout(pe, s->send_color[d], src, n, stride, T_SEND0 + d, WSE_ASYNC);
}

/* Issue the halo exchange of one step. */
static void heat_exchange(wse_pe *pe, heat_state *s, const heat_params *p)
{
    int tw = (int)p->tile_w, th = (int)p->tile_h, row = tw + 2;
    float *u = pe_f32(s, s->buf[s->cur]);
    s->pending = __builtin_popcount(s->send_mask);
    heat_send_from(pe, s, p, 0);
    for (int d = 0; d < 4; d++) {
        int n = pe_port_is_x(d) ? th : tw, stride = pe_port_is_x(d) ? row : 1;
        if (s->recv_mask & (1u << d)) {
            /* flow toward d lands in the halo on the opposite side */
            float *dst = d == WSE_PORT_S ? &u[1] : d == WSE_PORT_N ? &u[(th + 1) * row + 1]
                       : d == WSE_PORT_E ? &u[row] : &u[row + tw + 1];
            pe_fabin(pe, s->recv_color[d], dst, n, stride, T_RECV0 + d, WSE_ASYNC);
            s->pending++;
        }
    }
    if (s->pending == 0)
        pe_activate(pe, T_COMPUTE);
}

/* The tile_w x tile_h cells of a tile (with halo) starting at offset off,
 * as a 2D descriptor: rows of tw cells, tw + 2 apart. */
static wse_dsd cells(uint32_t off, int tw, int th)
{
    const int extent[2] = { tw, th }, stride[2] = { 1, tw + 2 };
    return pe_mem4d(WSE_F32, off, 2, extent, stride);
}

/* The update as five vector operations over the whole tile (2D
 * descriptors: one startup each, not one per row). */
static void heat_compute(wse_pe *pe, heat_state *s, const heat_params *p)
{
    int tw = (int)p->tile_w, th = (int)p->tile_h, row = tw + 2;
    uint32_t u = s->buf[s->cur].off, v = s->buf[1 - s->cur].off, f = (uint32_t)sizeof(float);
    uint32_t c = u + (uint32_t)(row + 1) * f;          /* the first cell */
    wse_dsd C = cells(c, tw, th), N = cells(c - (uint32_t)row * f, tw, th);
    wse_dsd S = cells(c + (uint32_t)row * f, tw, th), W = cells(c - f, tw, th);
    wse_dsd E = cells(c + f, tw, th), V = cells(v + (uint32_t)(row + 1) * f, tw, th);
    const int one[2] = { tw, th }, dense[2] = { 1, tw };
    wse_dsd T = pe_mem4d(WSE_F32, s->tmp.off, 2, one, dense);
    pe_dadd(pe, T, N, S, WSE_NO_TASK, 0);               /* t = (u[N] + u[S]) */
    pe_dadd(pe, T, T, W, WSE_NO_TASK, 0);               /*     + u[W] */
    pe_dadd(pe, T, T, E, WSE_NO_TASK, 0);               /*     + u[E] */
    pe_dfmac(pe, T, T, C, -4.0f, WSE_NO_TASK, 0);       /* t = t + u (-4) */
    pe_dfmac(pe, V, C, T, (float)p->alpha, WSE_NO_TASK, 0);   /* u' = u + t alpha */
    s->cur = 1 - s->cur;
    s->step++;
    pe_activate(pe, T_STEP);
}

static void heat_task(wse_pe *pe, void *state, int task, uint32_t payload)
{
    (void)payload;
    heat_state *s = state;
    const heat_params *p = pe_params(pe);
    if (task == T_STEP) {
        if (s->step >= p->steps)
            pe_finish(pe);
        else
            heat_exchange(pe, s, p);
    } else if (task == T_COMPUTE) {
        heat_compute(pe, s, p);
    } else {                              /* a send or receive completed */
        if (task >= T_SEND0 && task < T_SEND0 + 4)
            heat_send_from(pe, s, p, task - T_SEND0 + 1);
        if (--s->pending == 0)
            pe_activate(pe, T_COMPUTE);
    }
}

/* ---------------------------------------------------------- host */

static int heat_shape(const void *params, int width, int height, int64_t shape[3])
{
    const heat_params *p = params;
    shape[0] = (int64_t)height * p->tile_h;
    shape[1] = (int64_t)width * p->tile_w;
    return 2;
}

static void heat_block(const wse_pe *pe, const void *state, wse_array_block *b)
{
    const heat_params *p = pe_params(pe);
    const heat_state *s = state;
    int row = (int)p->tile_w + 2;
    b->ptr = pe_f32(s, s->buf[s->cur]) + row + 1;
    b->origin[0] = (int64_t)pe_y(pe) * p->tile_h;
    b->origin[1] = (int64_t)pe_x(pe) * p->tile_w;
    b->extent[0] = p->tile_h;
    b->extent[1] = p->tile_w;
    b->extent[2] = 1;
    b->stride[0] = row;
    b->stride[1] = 1;
    b->stride[2] = 1;
}

static const wse_array_spec heat_arrays[] = {
    { "u0", WSE_F32, 1, 0, "initial grid, float32 [height*tile_h, width*tile_w]", heat_shape, heat_block },
    { "u", WSE_F32, 0, 1, "grid after `steps` steps, float32 [height*tile_h, width*tile_w]", heat_shape, heat_block },
};

/* Host reference: the same operations, in the same order, on the global
 * grid with a zero boundary. */
static int heat_reference(const void *params, int width, int height,
                          void *const *arrays)
{
    const heat_params *p = params;
    int64_t H = (int64_t)height * p->tile_h, W = (int64_t)width * p->tile_w;
    int64_t R = W + 2;
    float *a = calloc((size_t)((H + 2) * R), sizeof *a);
    float *b = calloc((size_t)((H + 2) * R), sizeof *b);
    if (!a || !b) {
        free(a);
        free(b);
        return WSE_ENOMEM;
    }
    const float *u0 = arrays[0];
    for (int64_t i = 0; i < H; i++)
        memcpy(&a[(i + 1) * R + 1], &u0[i * W], (size_t)W * sizeof *a);
    float alpha = (float)p->alpha;
    for (int64_t s = 0; s < p->steps; s++) {
        for (int64_t i = 1; i <= H; i++)
            for (int64_t j = 1; j <= W; j++) {
                const float *c = &a[i * R + j];
                float t = c[-R] + c[R];
                t = t + c[-1];
                t = t + c[1];
                t = -4.0f * c[0] + t;
                b[i * R + j] = alpha * t + c[0];
            }
        float *x = a;
        a = b;
        b = x;
    }
    float *u = arrays[1];
    for (int64_t i = 0; i < H; i++)
        memcpy(&u[i * W], &a[(i + 1) * R + 1], (size_t)W * sizeof *u);
    free(a);
    free(b);
    return 0;
}

static double heat_tolerance(const void *params, int width, int height)
{
    (void)params; (void)width; (void)height;
    return 1e-6;   /* the reference does identical fp32 operations */
}

/* 7 flops per cell and step: 3 additions and 2 multiply-adds. */
static double heat_flops(const void *params, int width, int height)
{
    const heat_params *p = params;
    return 7.0 * (double)width * (double)height * (double)p->tile_w *
           (double)p->tile_h * (double)p->steps;
}

const wse_program wse_program_heat2d = {
    .api_version = WSE_API_VERSION,
    .name = "heat2d",
    .summary = "explicit 2D heat equation, 5-point Jacobi, halos on 8 checkerboard colors",
    .params_size = sizeof(heat_params),
    .params = heat_param_spec,
    .n_params = (int)(sizeof heat_param_spec / sizeof heat_param_spec[0]),
    .arrays = heat_arrays,
    .n_arrays = 2,
    .device = { .state_size = sizeof(heat_state), .setup = heat_setup, .task = heat_task },
    .host = { .reference = heat_reference, .tolerance = heat_tolerance, .useful_flops = heat_flops },
};
