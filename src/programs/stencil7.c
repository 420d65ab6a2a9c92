/*
 * src/programs/stencil7.c - 3D 7-point Jacobi (explicit heat equation).
 *
 * The global fp32 grid has height x width x nz points.  x and y are
 * spread over the PEs, one point column per PE; z is a column of nz
 * values in the PE's SRAM, padded with one zero above and below (the
 * Dirichlet boundary in z).  A step:
 *   1. send the whole column to each of the 4 neighbours (fabout of nz
 *      words) and receive theirs into 4 buffers (fabin), all asynchronous;
 *   2. meanwhile, the z part, from shifted slices of the own column:
 *         t = u[z-1] + u[z+1];  t = -6 u + t
 *   3. when all 8 operations are done, the x/y part and the update:
 *         t = t + N;  t = t + S;  t = t + W;  t = t + E;  u = alpha t + u
 *      (in place: t is complete before u changes, and the sends of u
 *      have finished by then).
 * Neighbour buffers of PEs at the region edge are never written and stay
 * +0 (the Dirichlet boundary in x and y).
 *
 * Colors: as heat2d, data flowing toward direction d (N, E, S, W) uses
 * color 2d + parity of the sending PE along that axis, so a PE's send and
 * receive on one axis never share a color: colors 0-7.  Routes: the sender
 * RAMP -> d, the receiver opposite(d) -> RAMP; no route toward a missing
 * neighbour.  Queues (pe_init_queue, which wse3 requires): the send toward
 * d uses output queue first_queue + d, the flow toward d arrives in input
 * queue first_queue + d (4 of each; wse2 leaves a program exactly 4 output
 * queues).  There are no data tasks, so no task id depends on the arch.
 *
 * SRAM: (nz + 2) + 4 nz + nz floats = 24 nz + 8 bytes plus the state, so
 * nz <= 1960 fits the 46 KiB a WSE-2 PE leaves to programs.
 *
 * Cost (laptop/wse2 model): about 9 nz + 30 cycles per step (nz 8: 106,
 * nz 64: 595, nz 1024: 9235).  Drawback: the CE receives 4 nz words per
 * step through its one ramp, so a step costs about 4 nz cycles of
 * communication plus 5 vector ops of nz elements that cannot start before
 * the last word arrived.
 *
 * The host reference performs the same fp32 operations in the same order,
 * so the emulated result is bitwise equal to it.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "wse/pe.h"

typedef struct s7_params {
    int64_t nz, steps;
    double alpha;
} s7_params;

static const wse_param_spec s7_param_spec[] = {
    { "nz", WSE_PARAM_INT, 64, 1, 4000, offsetof(s7_params, nz), "points per PE along z (the column in SRAM; <= 1960 fits 46 KiB)" },
    { "steps", WSE_PARAM_INT, 10, 0, 1e6, offsetof(s7_params, steps), "time steps" },
    { "alpha", WSE_PARAM_FLOAT, 0.1, 0.0, 1.0 / 6.0, offsetof(s7_params, alpha), "diffusion number dt*k/h^2 (stable <= 1/6)" },
};

/* ---------------------------------------------------------- device: runs on every PE */

/* Local tasks: a send and a receive per direction (base + d), then the step. */
enum { T_SEND0 = WSE_LOCAL_TASK(0), T_RECV0 = WSE_LOCAL_TASK(4),
       T_STEP = WSE_LOCAL_TASK(8), T_COMPUTE = WSE_LOCAL_TASK(9) };
enum { S7_COLORS = 8 };

/* Per-PE state, at the start of the PE's SRAM.  Offsets, not pointers. */
typedef struct s7_state {
    wse_f32_ref u;            /* nz + 2 floats: zero pad, column, zero pad */
    wse_f32_ref nb[4];        /* columns of the neighbours on side N, E, S, W */
    wse_f32_ref t;            /* nz floats of scratch */
    int32_t step;
    int32_t pending;          /* fabric operations still in flight */
    uint8_t send_mask;        /* directions with a neighbour to send to */
    uint8_t recv_mask;        /* flows arriving (direction of flow) */
    uint8_t send_color[4], recv_color[4];
} s7_state;

/* Parity of PE (x, y) along the axis of direction d. */
static int parity(int x, int y, int d) { return pe_port_is_x(d) ? (x & 1) : (y & 1); }

static int s7_setup(wse_pe *pe, void *state)
{
    const s7_params *p = pe_params(pe);
    s7_state *s = state;
    size_t nz = (size_t)p->nz;
    if (pe_colors(pe) < S7_COLORS) {
        pe_fail(pe, "needs %d colors, the topology has %d", S7_COLORS, pe_colors(pe));
        return WSE_EPROGRAM;
    }
    float *u = pe_alloc_f32(pe, nz + 2), *nb[4];
    for (int k = 0; k < 4; k++)
        nb[k] = pe_alloc_f32(pe, nz);
    float *t = pe_alloc_f32(pe, nz);
    if (!u || !nb[0] || !nb[1] || !nb[2] || !nb[3] || !t)
        return WSE_ESRAM;
    s->u = pe_ref_f32(s, u);
    for (int k = 0; k < 4; k++)
        s->nb[k] = pe_ref_f32(s, nb[k]);
    s->t = pe_ref_f32(s, t);
    int x = pe_x(pe), y = pe_y(pe), q = pe_machine(pe)->first_queue;
    for (int d = 0; d < 4; d++) {
        int o = pe_port_opposite(d);
        if (pe_has_neighbour(pe, d)) {           /* we send toward d */
            s->send_mask |= (uint8_t)(1u << d);
            s->send_color[d] = (uint8_t)(2 * d + parity(x, y, d));
            pe_route(pe, s->send_color[d], WSE_RAMP, pe_port_mask(d));
            pe_init_queue(pe, WSE_OQ(q + d), s->send_color[d]);
            pe_bind_local_task(pe, T_SEND0 + d);
        }
        if (pe_has_neighbour(pe, o)) {           /* flow d arrives from side o */
            int nx = x + pe_port_dx(o), ny = y + pe_port_dy(o);
            s->recv_mask |= (uint8_t)(1u << d);
            s->recv_color[d] = (uint8_t)(2 * d + parity(nx, ny, d));
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

/* Send the column toward the first direction from d on with a neighbour.
 * The sends go one after another (T_SEND0 + d starts the next), through
 * one output queue and one microthread: with the 4 receives that makes 5
 * microthreads, of the 6 a program has. */
static void s7_send_from(wse_pe *pe, s7_state *s, const s7_params *p, int d)
{
    while (d < 4 && !(s->send_mask & (1u << d)))
        d++;
    if (d < 4)
        pe_fabout(pe, s->send_color[d], pe_f32(s, s->u) + 1, (int)p->nz, 1, T_SEND0 + d, WSE_ASYNC);
}

/* Issue the column exchange of one step, then do the z part while it runs. */
static void s7_exchange(wse_pe *pe, s7_state *s, const s7_params *p)
{
    int nz = (int)p->nz;
    float *u = pe_f32(s, s->u), *t = pe_f32(s, s->t);
    s->pending = __builtin_popcount(s->send_mask);
    s7_send_from(pe, s, p, 0);
    for (int d = 0; d < 4; d++) {
        if (s->recv_mask & (1u << d)) {  /* flow toward d comes from the opposite side */
            pe_fabin(pe, s->recv_color[d], pe_f32(s, s->nb[pe_port_opposite(d)]), nz, 1,
                     T_RECV0 + d, WSE_ASYNC);
            s->pending++;
        }
    }
    pe_vadd_f32(pe, t, u, u + 2, nz);
    pe_vaxpy_f32(pe, t, -6.0f, u + 1, t, nz);
    if (s->pending == 0)
        pe_activate(pe, T_COMPUTE);
}

static void s7_compute(wse_pe *pe, s7_state *s, const s7_params *p)
{
    int nz = (int)p->nz;
    float *u = pe_f32(s, s->u) + 1, *t = pe_f32(s, s->t);
    static const int order[4] = { 0, 2, 3, 1 };     /* sides N, S, W, E */
    for (int k = 0; k < 4; k++)
        pe_vadd_f32(pe, t, t, pe_f32(s, s->nb[order[k]]), nz);
    pe_vaxpy_f32(pe, u, (float)p->alpha, t, u, nz);
    s->step++;
    pe_activate(pe, T_STEP);
}

static void s7_task(wse_pe *pe, void *state, int task, uint32_t payload)
{
    (void)payload;
    s7_state *s = state;
    const s7_params *p = pe_params(pe);
    if (task == T_STEP) {
        if (s->step >= p->steps)
            pe_finish(pe);
        else
            s7_exchange(pe, s, p);
    } else if (task == T_COMPUTE) {
        s7_compute(pe, s, p);
    } else {                              /* a send or receive completed */
        if (task >= T_SEND0 && task < T_SEND0 + 4)
            s7_send_from(pe, s, p, task - T_SEND0 + 1);
        if (--s->pending == 0)
            pe_activate(pe, T_COMPUTE);
    }
}

/* ---------------------------------------------------------- host */

static int s7_shape(const void *params, int width, int height, int64_t shape[3])
{
    const s7_params *p = params;
    shape[0] = height;
    shape[1] = width;
    shape[2] = p->nz;
    return 3;
}

static void s7_block(const wse_pe *pe, const void *state, wse_array_block *b)
{
    const s7_params *p = pe_params(pe);
    const s7_state *s = state;
    b->ptr = pe_f32(s, s->u) + 1;
    b->origin[0] = pe_y(pe);
    b->origin[1] = pe_x(pe);
    b->origin[2] = 0;
    b->extent[0] = 1;
    b->extent[1] = 1;
    b->extent[2] = p->nz;
    b->stride[0] = p->nz;
    b->stride[1] = p->nz;
    b->stride[2] = 1;
}

static const wse_array_spec s7_arrays[] = {
    { "u0", WSE_F32, 1, 0, "initial grid, float32 [height, width, nz]", s7_shape, s7_block },
    { "u", WSE_F32, 0, 1, "grid after `steps` steps, float32 [height, width, nz]", s7_shape, s7_block },
};

/* Host reference: the same operations, in the same order, on the global
 * grid padded with a zero layer on every side. */
static int s7_reference(const void *params, int width, int height,
                        void *const *arrays)
{
    const s7_params *p = params;
    int64_t H = height, W = width, Z = p->nz;
    int64_t sz = Z + 2, sx = (W + 2) * sz;      /* strides of x and y, padded */
    size_t n = (size_t)((H + 2) * sx);
    float *a = calloc(n, sizeof *a), *b = calloc(n, sizeof *b);
    if (!a || !b) {
        free(a);
        free(b);
        return WSE_ENOMEM;
    }
    const float *u0 = arrays[0];
    for (int64_t y = 0; y < H; y++)
        for (int64_t x = 0; x < W; x++)
            memcpy(&a[(y + 1) * sx + (x + 1) * sz + 1], &u0[(y * W + x) * Z], (size_t)Z * sizeof *a);
    float alpha = (float)p->alpha;
    for (int64_t s = 0; s < p->steps; s++) {
        for (int64_t y = 1; y <= H; y++)
            for (int64_t x = 1; x <= W; x++)
                for (int64_t z = 1; z <= Z; z++) {
                    const float *c = &a[y * sx + x * sz + z];
                    float t = c[-1] + c[1];
                    t = -6.0f * c[0] + t;
                    t = t + c[-sx];             /* N */
                    t = t + c[sx];              /* S */
                    t = t + c[-sz];             /* W */
                    t = t + c[sz];              /* E */
                    b[y * sx + x * sz + z] = alpha * t + c[0];
                }
        float *tmp = a;
        a = b;
        b = tmp;
    }
    float *u = arrays[1];
    for (int64_t y = 0; y < H; y++)
        for (int64_t x = 0; x < W; x++)
            memcpy(&u[(y * W + x) * Z], &a[(y + 1) * sx + (x + 1) * sz + 1], (size_t)Z * sizeof *u);
    free(a);
    free(b);
    return 0;
}

static double s7_tolerance(const void *params, int width, int height)
{
    (void)params; (void)width; (void)height;
    return 0.0;   /* the reference does identical fp32 operations in the same order */
}

/* 9 flops per point and step: 5 additions and 2 multiply-adds. */
static double s7_flops(const void *params, int width, int height)
{
    const s7_params *p = params;
    return 9.0 * (double)width * (double)height * (double)p->nz * (double)p->steps;
}

const wse_program wse_program_stencil7 = {
    .api_version = WSE_API_VERSION,
    .name = "stencil7",
    .summary = "3D 7-point Jacobi, one z column per PE, columns exchanged on 8 checkerboard colors",
    .params_size = sizeof(s7_params),
    .params = s7_param_spec,
    .n_params = (int)(sizeof s7_param_spec / sizeof s7_param_spec[0]),
    .arrays = s7_arrays,
    .n_arrays = 2,
    .device = { .state_size = sizeof(s7_state), .setup = s7_setup, .task = s7_task },
    .host = { .reference = s7_reference, .tolerance = s7_tolerance, .useful_flops = s7_flops },
};
