/*
 * src/programs/cg.c - conjugate gradient on the 3D 7-point Laplacian.
 *
 * Solves A x = b on a height x width x nz grid, zero Dirichlet boundary,
 * (A p)_i = 6 p_i - (sum of its 6 neighbours), for a fixed number of
 * iterations.  x and y run across PEs; each PE keeps a z column of nz fp32
 * values of x, r, p and q, plus halo columns of p from its 4 neighbours.
 *
 * One iteration:
 *   q = A p      exchange p columns with the 4 neighbours (fabout/fabin on
 *                checkerboard colors 0-7, as heat2d), then vector ops;
 *   pq = p.q     a global allreduce of one fp32 (below);
 *   x += a p, r -= a q with a = rr / pq;
 *   rr' = r.r    the second allreduce;  p = r + (rr'/rr) p.
 * Allreduce of one scalar: each PE's partial flows west along its row (a
 * PE adds its own partial to what arrives from the east; colors 8/9 by x
 * parity), column 0 sums north (colors 10/11 by y parity), PE (0,0) then
 * broadcasts down column 0 (color 12, every PE forwards and keeps a copy)
 * and column 0 broadcasts along each row (color 13).  Every PE receives
 * the same bits, so all PEs take the same alpha and beta.
 *
 * A PE's reduction colors stay blocked until it has its own partial, so a
 * faster neighbour's contribution waits in the queue instead of mixing with
 * the previous reduction.  Sums are taken in a fixed order: along a row
 * acc(x) = partial(x) + acc(x+1), along column 0 tot(y) = row(y) + tot(y+1).
 *
 * Queues (pe_init_queue, which wse3 requires).  Input: the halo flows in
 * direction order, then the reduction's data tasks in color order (row
 * partial, column partial, column broadcast, row broadcast), each on the
 * next input queue from first_queue on; an inner PE binds 4 + 2 = 6, a
 * column-0 PE 3 + 3 = 6, all a program has.  On wse3 a data task's id is
 * its queue's number, so the data tasks rank among themselves as their
 * colors do on wse2 (and below every local task, as there): the same
 * schedule, task for task.  Output: the halo sends toward d on output
 * queue first_queue + d, then the reduction's sends (row or column
 * partial, and the broadcasts) on the next ones: 5 at an inner PE and on
 * column 0.  wse2 leaves a program 4 output queues, so there (and on any
 * topology without 5 and without the wse3 rule) the output queues stay
 * implicit: the halo sends go one after another, so a PE gives to at most
 * 2 colors at once.
 *
 * The host reference reproduces every fp32 operation in the same order, so
 * x and the residual history verify bitwise.
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "wse/pe.h"

typedef struct cg_params {
    int64_t nz, iters;
} cg_params;

static const wse_param_spec cg_param_spec[] = {
    { "nz", WSE_PARAM_INT, 16, 1, 2000, offsetof(cg_params, nz), "z column length per PE" },
    { "iters", WSE_PARAM_INT, 10, 0, 10000, offsetof(cg_params, iters), "CG iterations" },
};

/* ---------------------------------------------------------- device: runs on every PE */

enum {
    C_HALO = 0,                 /* 0..7: halo colors, base 2d + parity */
    C_ROW = 8, C_COL = 10, C_BCOL = 12, C_BROW = 13,
    /* local tasks above every color a data task uses, so data tasks run
     * first: + direction */
    T_SEND0 = WSE_LOCAL_TASK(6), T_RECV0 = WSE_LOCAL_TASK(10),
    T_ITER = WSE_LOCAL_TASK(14), T_APPLY = WSE_LOCAL_TASK(15), T_REDUCED = WSE_LOCAL_TASK(16)
};
/* wse2: data task ids are the colors; wse3: input queue numbers, < 8 */
_Static_assert(T_SEND0 > C_BROW, "local tasks rank below the data tasks");
#define CG_OUT_QUEUES 5         /* output queues an inner PE binds */

/* Per-PE state; arrays are refs (offsets from the state). */
typedef struct cg_state {
    wse_f32_ref x, r, p, q, halo[4], res;
    int32_t iter, pending, phase, started;
    float rr, acc, rowsum;
    uint8_t send_mask, recv_mask, send_color[4], recv_color[4];
} cg_state;

enum { PH_INIT, PH_PQ, PH_RR };

/* Parity of PE (x, y) along the axis of direction d. */
static int parity(int x, int y, int d) { return pe_port_is_x(d) ? (x & 1) : (y & 1); }

/* The queues setup binds: the next input queue, and the next output
 * queue (-1: output queues stay implicit, see the header). */
typedef struct cg_queues { int in, out; } cg_queues;

static void queue_in(wse_pe *pe, cg_queues *q, int color) { pe_init_queue(pe, WSE_IQ(q->in++), color); }
static void queue_out(wse_pe *pe, cg_queues *q, int color)
{
    if (q->out >= 0)
        pe_init_queue(pe, WSE_OQ(q->out++), color);
}

static void route_halo(wse_pe *pe, cg_state *s, cg_queues *q)
{
    int x = pe_x(pe), y = pe_y(pe);
    for (int d = 0; d < 4; d++) {
        int o = pe_port_opposite(d);
        if (pe_has_neighbour(pe, d)) {
            s->send_mask |= (uint8_t)(1u << d);
            s->send_color[d] = (uint8_t)(C_HALO + 2 * d + parity(x, y, d));
            pe_route(pe, s->send_color[d], WSE_RAMP, pe_port_mask(d));
            queue_out(pe, q, s->send_color[d]);
            pe_bind_local_task(pe, T_SEND0 + d);
        }
        if (pe_has_neighbour(pe, o)) {
            int nx = x + pe_port_dx(o), ny = y + pe_port_dy(o);
            s->recv_mask |= (uint8_t)(1u << d);
            s->recv_color[d] = (uint8_t)(C_HALO + 2 * d + parity(nx, ny, d));
            pe_route(pe, s->recv_color[d], pe_port_mask(o), WSE_RAMP);
            queue_in(pe, q, s->recv_color[d]);
            pe_bind_local_task(pe, T_RECV0 + d);
        }
    }
}

/* Colors a PE receives reduction partials on (-1: none). */
static int row_in(const wse_pe *pe) { return pe_x(pe) < pe_width(pe) - 1 ? C_ROW + ((pe_x(pe) + 1) & 1) : -1; }
static int col_in(const wse_pe *pe)
{
    return pe_x(pe) == 0 && pe_y(pe) < pe_height(pe) - 1 ? C_COL + ((pe_y(pe) + 1) & 1) : -1;
}

/* The data task of color: its input queue, then the task (whose id is
 * pe_data_task_id: the color on wse2, the queue's number on wse3). */
static void data_task(wse_pe *pe, cg_queues *q, int color)
{
    queue_in(pe, q, color);
    pe_bind_data_task(pe, color);
}

/* The color of data task `task` (-1: none). */
static int task_color(const wse_pe *pe, int task)
{
    const int colors[4] = { row_in(pe), col_in(pe), C_BCOL, C_BROW };
    for (int i = 0; i < 4; i++)
        if (colors[i] >= 0 && pe_data_task_id(pe, colors[i]) == task)
            return colors[i];
    return -1;
}

/* Routes of the scalar allreduce; data tasks bound in color order. */
static void route_reduce(wse_pe *pe, cg_queues *q)
{
    int x = pe_x(pe), y = pe_y(pe), w = pe_width(pe), h = pe_height(pe);
    if (x > 0) {                                 /* row chain, west */
        pe_route(pe, C_ROW + (x & 1), WSE_RAMP, WSE_W);
        queue_out(pe, q, C_ROW + (x & 1));
    }
    if (row_in(pe) >= 0) {
        pe_route(pe, row_in(pe), WSE_E, WSE_RAMP);
        data_task(pe, q, row_in(pe));
        pe_block(pe, pe_data_task_id(pe, row_in(pe)));
    }
    if (x == 0 && y > 0) {                       /* column chain, north */
        pe_route(pe, C_COL + (y & 1), WSE_RAMP, WSE_N);
        queue_out(pe, q, C_COL + (y & 1));
    }
    if (col_in(pe) >= 0) {
        pe_route(pe, col_in(pe), WSE_S, WSE_RAMP);
        data_task(pe, q, col_in(pe));
        pe_block(pe, pe_data_task_id(pe, col_in(pe)));
    }
    if (x == 0 && h > 1) {                       /* broadcast down column 0 */
        if (y == 0) {
            pe_route(pe, C_BCOL, WSE_RAMP, WSE_S);
            queue_out(pe, q, C_BCOL);
        } else {
            pe_route(pe, C_BCOL, WSE_N, y < h - 1 ? (WSE_S | WSE_RAMP) : WSE_RAMP);
            data_task(pe, q, C_BCOL);
        }
    }
    if (w > 1) {                                 /* broadcast along rows */
        if (x == 0) {
            pe_route(pe, C_BROW, WSE_RAMP, WSE_E);
            queue_out(pe, q, C_BROW);
        } else {
            pe_route(pe, C_BROW, WSE_W, x < w - 1 ? (WSE_E | WSE_RAMP) : WSE_RAMP);
            data_task(pe, q, C_BROW);
        }
    }
}

static int cg_setup(wse_pe *pe, void *state)
{
    const cg_params *p = pe_params(pe);
    cg_state *s = state;
    wse_f32_ref *refs[9] = { &s->x, &s->r, &s->p, &s->q, &s->halo[0], &s->halo[1],
                             &s->halo[2], &s->halo[3], &s->res };
    int corner = pe_x(pe) == 0 && pe_y(pe) == 0;     /* keeps the residuals */
    for (int i = 0; i < 9; i++) {
        float *m = pe_alloc_f32(pe, i < 8 ? (size_t)p->nz : corner ? (size_t)(p->iters + 1) : 1);
        if (!m)
            return WSE_ESRAM;
        *refs[i] = pe_ref_f32(s, m);
    }
    const wse_pe_machine *m = pe_machine(pe);
    cg_queues q = { m->first_queue,
                    m->strict_queues || m->output_queues >= CG_OUT_QUEUES ? m->first_queue : -1 };
    route_halo(pe, s, &q);
    route_reduce(pe, &q);
    for (int t = T_ITER; t <= T_REDUCED; t++)
        pe_bind_local_task(pe, t);
    pe_activate(pe, T_ITER);
    return 0;
}

/* The scalar allreduce (see the header comment). */

static void use_value(wse_pe *pe, cg_state *s, float v);

/* Send v on color, as a one-word asynchronous fabric operation. */
static void send(wse_pe *pe, int color, float v)
{
    pe_send(pe, color, pe_f32_bits(v), WSE_NO_TASK, WSE_ASYNC);
}

/* PE (0,0) has the total: broadcast it, then use it. */
static void total(wse_pe *pe, cg_state *s, float v)
{
    if (pe_height(pe) > 1)
        send(pe, C_BCOL, v);
    if (pe_width(pe) > 1)
        send(pe, C_BROW, v);
    use_value(pe, s, v);
}

/* Column 0: combine this row's sum with what came from the south. */
static void column_up(wse_pe *pe, cg_state *s, float v)
{
    if (pe_y(pe) > 0)
        send(pe, C_COL + (pe_y(pe) & 1), v);
    else
        total(pe, s, v);
}

/* Column 0 finished its row's sum. */
static void row_done(wse_pe *pe, cg_state *s)
{
    s->rowsum = s->acc;
    if (col_in(pe) >= 0)
        pe_unblock(pe, pe_data_task_id(pe, col_in(pe)));   /* now the south's partial may come */
    else
        column_up(pe, s, s->rowsum);
}

/* Start a reduction of this PE's partial. */
static void reduce_start(wse_pe *pe, cg_state *s, float partial)
{
    s->acc = partial;
    if (row_in(pe) >= 0) {
        pe_unblock(pe, pe_data_task_id(pe, row_in(pe)));
        return;
    }
    if (pe_x(pe) > 0)                     /* the east end starts the chain */
        send(pe, C_ROW + (pe_x(pe) & 1), s->acc);
    else
        row_done(pe, s);                  /* a one-column region */
}

static void on_data(wse_pe *pe, cg_state *s, int color, float v)
{
    pe_charge(pe, 1, 1);                  /* one scalar add or move */
    if (color == row_in(pe)) {
        pe_block(pe, pe_data_task_id(pe, color));
        s->acc = s->acc + v;
        if (pe_x(pe) > 0)
            send(pe, C_ROW + (pe_x(pe) & 1), s->acc);
        else
            row_done(pe, s);
    } else if (color == col_in(pe)) {
        pe_block(pe, pe_data_task_id(pe, color));
        column_up(pe, s, s->rowsum + v);
    } else {                              /* the broadcast total */
        if (color == C_BCOL && pe_width(pe) > 1)
            send(pe, C_BROW, v);
        use_value(pe, s, v);
    }
}

/* The CG steps. */

/* Send p toward the first direction from d on with a neighbour.  The
 * sends go one after another (T_SEND0 + d starts the next), through one
 * output queue and one microthread: with the 4 receives that makes 5
 * microthreads, of the 6 a program has. */
static void send_from(wse_pe *pe, cg_state *s, int nz, int d)
{
    while (d < 4 && !(s->send_mask & (1u << d)))
        d++;
    if (d < 4)
        pe_fabout(pe, s->send_color[d], pe_f32(s, s->p), nz, 1, T_SEND0 + d, WSE_ASYNC);
}

static void exchange(wse_pe *pe, cg_state *s, int nz)
{
    s->pending = __builtin_popcount(s->send_mask);
    send_from(pe, s, nz, 0);
    for (int d = 0; d < 4; d++) {
        if (s->recv_mask & (1u << d)) {
            pe_fabin(pe, s->recv_color[d], pe_f32(s, s->halo[d]), nz, 1, T_RECV0 + d, WSE_ASYNC);
            s->pending++;
        }
    }
    if (!s->pending)
        pe_activate(pe, T_APPLY);
}

/* q = A p = 6 p - p[z-1] - p[z+1] - the four halo columns; then p.q. */
static void apply_a(wse_pe *pe, cg_state *s, int nz)
{
    float *p = pe_f32(s, s->p), *q = pe_f32(s, s->q);
    pe_vscale_f32(pe, q, p, 6.0f, nz);
    if (nz > 1) {
        pe_vsub_f32(pe, q + 1, q + 1, p, nz - 1);
        pe_vsub_f32(pe, q, q, p + 1, nz - 1);
    }
    for (int d = 0; d < 4; d++)
        if (s->recv_mask & (1u << d))
            pe_vsub_f32(pe, q, q, pe_f32(s, s->halo[d]), nz);
    s->phase = PH_PQ;
    reduce_start(pe, s, pe_vdot_f32(pe, p, q, nz));
}

static void next_iteration(wse_pe *pe, cg_state *s)
{
    const cg_params *prm = pe_params(pe);
    if (s->iter >= prm->iters)
        pe_finish(pe);
    else
        exchange(pe, s, (int)prm->nz);
}

/* The reduced value of the current phase, the same at every PE. */
static void use_value(wse_pe *pe, cg_state *s, float v)
{
    int nz = (int)((const cg_params *)pe_params(pe))->nz;
    float *x = pe_f32(s, s->x), *r = pe_f32(s, s->r), *p = pe_f32(s, s->p);
    float *q = pe_f32(s, s->q), *res = pe_f32(s, s->res);
    int corner = pe_x(pe) == 0 && pe_y(pe) == 0;      /* only it has res[] */
    if (s->phase == PH_INIT) {
        s->rr = v;
        if (corner)
            res[0] = sqrtf(v);
        pe_charge(pe, 8, 1);
        next_iteration(pe, s);
    } else if (s->phase == PH_PQ) {
        float alpha = s->rr / v;
        pe_charge(pe, 8, 1);
        pe_vaxpy_f32(pe, x, alpha, p, x, nz);
        pe_vaxpy_f32(pe, r, -alpha, q, r, nz);
        s->phase = PH_RR;
        reduce_start(pe, s, pe_vdot_f32(pe, r, r, nz));
    } else {
        float beta = v / s->rr;
        pe_charge(pe, 8, 2);
        s->rr = v;
        pe_vaxpy_f32(pe, p, beta, p, r, nz);
        s->iter++;
        if (corner)
            res[s->iter] = sqrtf(v);
        next_iteration(pe, s);
    }
}

static void cg_task(wse_pe *pe, void *state, int task, uint32_t payload)
{
    cg_state *s = state;
    int nz = (int)((const cg_params *)pe_params(pe))->nz;
    if (task < T_SEND0) {                 /* a data task */
        on_data(pe, s, task_color(pe, task), pe_bits_f32(payload));
    } else if (task == T_ITER) {          /* start: x = 0, p = r = b, rr = r.r */
        float *r = pe_f32(s, s->r);
        pe_vmov_f32(pe, pe_f32(s, s->p), r, nz);
        s->phase = PH_INIT;
        reduce_start(pe, s, pe_vdot_f32(pe, r, r, nz));
    } else if (task == T_APPLY) {
        apply_a(pe, s, nz);
    } else {                              /* a halo send or receive finished */
        if (task >= T_SEND0 && task < T_SEND0 + 4)
            send_from(pe, s, nz, task - T_SEND0 + 1);
        if (--s->pending == 0)
            pe_activate(pe, T_APPLY);
    }
}

/* ---------------------------------------------------------- host */

static int cg_shape(const void *params, int width, int height, int64_t shape[3])
{
    shape[0] = height;
    shape[1] = width;
    shape[2] = ((const cg_params *)params)->nz;
    return 3;
}

static int res_shape(const void *params, int width, int height, int64_t shape[3])
{
    (void)width; (void)height;
    shape[0] = ((const cg_params *)params)->iters + 1;
    return 1;
}

static void column_block(const wse_pe *pe, const void *state, wse_f32_ref col, wse_array_block *b)
{
    const cg_params *p = pe_params(pe);
    b->ptr = pe_f32(state, col);
    b->origin[0] = pe_y(pe);
    b->origin[1] = pe_x(pe);
    b->extent[0] = b->extent[1] = 1;
    b->extent[2] = p->nz;
    b->stride[0] = b->stride[1] = b->stride[2] = 1;
}

static void b_block(const wse_pe *pe, const void *state, wse_array_block *b)
{
    column_block(pe, state, ((const cg_state *)state)->r, b);
}

static void x_block(const wse_pe *pe, const void *state, wse_array_block *b)
{
    column_block(pe, state, ((const cg_state *)state)->x, b);
}

static void res_block(const wse_pe *pe, const void *state, wse_array_block *b)
{
    const cg_params *p = pe_params(pe);
    int mine = pe_x(pe) == 0 && pe_y(pe) == 0;
    b->ptr = pe_f32(state, ((const cg_state *)state)->res);
    b->extent[0] = mine ? p->iters + 1 : 0;
    b->extent[1] = b->extent[2] = 1;
    b->stride[0] = b->stride[1] = b->stride[2] = 1;
}

static const wse_array_spec cg_arrays[] = {
    { "b", WSE_F32, 1, 0, "right-hand side, float32 [height, width, nz]", cg_shape, b_block },
    { "x", WSE_F32, 0, 1, "solution after `iters` iterations, float32 [height, width, nz]", cg_shape, x_block },
    { "residual", WSE_F32, 0, 1, "|r| before each iteration and after the last, float32 [iters+1]", res_shape, res_block },
};

/* The host reference: the same fp32 operations in the same order. */
typedef struct ref_ctx {
    int64_t w, h, nz;
    float *x, *r, *p, *q, *part;
} ref_ctx;

static float dot(const float *a, const float *b, int64_t n)
{
    float acc = 0.0f;
    for (int64_t i = 0; i < n; i++)
        acc += a[i] * b[i];
    return acc;
}

/* Sum the per-PE partials in the fabric's order. */
static float reduce(const ref_ctx *c)
{
    float tot = 0.0f;
    for (int64_t y = c->h - 1; y >= 0; y--) {
        float acc = c->part[y * c->w + c->w - 1];
        for (int64_t x = c->w - 2; x >= 0; x--)
            acc = c->part[y * c->w + x] + acc;
        tot = y == c->h - 1 ? acc : acc + tot;
    }
    return tot;
}

static void ref_apply(const ref_ctx *c, int64_t y, int64_t x, float *q)
{
    int64_t nz = c->nz;
    const float *p = &c->p[(y * c->w + x) * nz];
    for (int64_t k = 0; k < nz; k++)
        q[k] = 6.0f * p[k];
    for (int64_t k = 1; k < nz; k++)
        q[k] = q[k] - p[k - 1];
    for (int64_t k = 0; k + 1 < nz; k++)
        q[k] = q[k] - p[k + 1];
    for (int d = 0; d < 4; d++) {       /* halo d holds the column from the opposite side */
        int o = pe_port_opposite(d);
        int64_t nx = x + pe_port_dx(o), ny = y + pe_port_dy(o);
        if (nx < 0 || ny < 0 || nx >= c->w || ny >= c->h)
            continue;
        const float *n = &c->p[(ny * c->w + nx) * nz];
        for (int64_t k = 0; k < nz; k++)
            q[k] = q[k] - n[k];
    }
}

static void axpy(float *d, float a, const float *x, const float *y, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        d[i] = a * x[i] + y[i];
}

static int cg_reference(const void *params, int width, int height, void *const *arrays)
{
    const cg_params *prm = params;
    ref_ctx c = { width, height, prm->nz, NULL, NULL, NULL, NULL, NULL };
    int64_t pes = c.w * c.h, n = pes * c.nz;
    c.x = arrays[1];
    c.r = malloc((size_t)n * sizeof *c.r);
    c.p = malloc((size_t)n * sizeof *c.p);
    c.q = malloc((size_t)n * sizeof *c.q);
    c.part = malloc((size_t)pes * sizeof *c.part);
    float *res = arrays[2];
    if (!c.r || !c.p || !c.q || !c.part) {
        free(c.r); free(c.p); free(c.q); free(c.part);
        return WSE_ENOMEM;
    }
    memcpy(c.r, arrays[0], (size_t)n * sizeof *c.r);
    memcpy(c.p, c.r, (size_t)n * sizeof *c.p);
    memset(c.x, 0, (size_t)n * sizeof *c.x);
    for (int64_t i = 0; i < pes; i++)
        c.part[i] = dot(&c.r[i * c.nz], &c.r[i * c.nz], c.nz);
    float rr = reduce(&c);
    res[0] = sqrtf(rr);
    for (int64_t it = 0; it < prm->iters; it++) {
        for (int64_t y = 0; y < c.h; y++)
            for (int64_t x = 0; x < c.w; x++)
                ref_apply(&c, y, x, &c.q[(y * c.w + x) * c.nz]);
        for (int64_t i = 0; i < pes; i++)
            c.part[i] = dot(&c.p[i * c.nz], &c.q[i * c.nz], c.nz);
        float alpha = rr / reduce(&c);
        for (int64_t i = 0; i < pes; i++) {
            axpy(&c.x[i * c.nz], alpha, &c.p[i * c.nz], &c.x[i * c.nz], c.nz);
            axpy(&c.r[i * c.nz], -alpha, &c.q[i * c.nz], &c.r[i * c.nz], c.nz);
            c.part[i] = dot(&c.r[i * c.nz], &c.r[i * c.nz], c.nz);
        }
        float rr2 = reduce(&c), beta = rr2 / rr;
        rr = rr2;
        for (int64_t i = 0; i < pes; i++)
            axpy(&c.p[i * c.nz], beta, &c.p[i * c.nz], &c.r[i * c.nz], c.nz);
        res[it + 1] = sqrtf(rr);
    }
    free(c.r); free(c.p); free(c.q); free(c.part);
    return 0;
}

static double cg_tolerance(const void *params, int width, int height)
{
    (void)params; (void)width; (void)height;
    return 0.0;    /* the reference does the same fp32 operations in order */
}

/* Per point and iteration: A p (1 multiply, 6 subtractions), two dot
 * products (2 each) and three axpys (2 each): 17; plus 2 for r.r at start. */
static double cg_flops(const void *params, int width, int height)
{
    const cg_params *p = params;
    return (17.0 * (double)p->iters + 2.0) * (double)width * (double)height * (double)p->nz;
}

const wse_program wse_program_cg = {
    .api_version = WSE_API_VERSION,
    .name = "cg",
    .summary = "conjugate gradient on the 3D 7-point Laplacian, z columns per PE, fabric allreduce",
    .params_size = sizeof(cg_params),
    .params = cg_param_spec,
    .n_params = (int)(sizeof cg_param_spec / sizeof cg_param_spec[0]),
    .arrays = cg_arrays,
    .n_arrays = 3,
    .device = { .state_size = sizeof(cg_state), .setup = cg_setup, .task = cg_task },
    .host = { .reference = cg_reference, .tolerance = cg_tolerance, .useful_flops = cg_flops },
};
