/*
 * src/programs/gemv.c - y = A x + b in fp32, A cut into blocks over the region.
 *
 * A is M x N with M = height * mb and N = width * nb.  PE (px, py) holds
 * the block of rows [py*mb, (py+1)*mb) and columns [px*nb, (px+1)*nb),
 * column-major in its SRAM so a column of the block is one contiguous
 * vector for the axpy of step 2.
 *
 *   1. x: the top PE of column px holds x[px*nb .. (px+1)*nb) and streams
 *      it south on one color whose routes form a multicast chain down the
 *      column (rx N, tx RAMP | S): every PE of the column receives its copy
 *      with one fabin, without its CE forwarding anything.
 *   2. local product: l = A_block x_piece, one vector op per column of the
 *      block: l = 0, then l = x[j] * A[:, j] + l for j = 0 .. nb-1.
 *   3. partial sums flow east along each row: PE px adds the partial of
 *      PEs 0 .. px-1 arriving from the west to its own (a fabin with
 *      WSE_FABIN_ADD into l) and sends the sum east; the east-edge PE adds
 *      b and holds y for its rows.  This chain is pipelined in chunks of
 *      `chunk` rows: up to WINDOW chunk fabins are in flight, each on its
 *      own completion task id, and a finished chunk is sent east (one
 *      fabout in flight, batching whatever is ready) before the window is
 *      refilled.  Incoming chunks are accepted only after the local product
 *      is complete, so the order of additions is fixed.
 *
 * Order of operations (repeated by the host reference): for row r,
 *   l(px) = sum over j in order of x[j] * A[r][j]  (fp32, starting at 0)
 *   s(0) = l(0), s(px) = l(px) + s(px-1),  y[r] = s(W-1) + b[r]
 * so the result is bitwise the reference's.
 *
 * Colors: x 0 (south), partial sums 1/2 by the parity of the sending PE's
 * px, so a PE's send and receive never share a color (checkerboard).
 *
 * Cycles: x reaches the bottom row after about H + nb; the local product
 * costs (nb + 1) (vector_startup + mb); a hop of the row chain costs about
 * 5 + c (c = min(chunk, mb)), and the rest of the vector drains behind the
 * first chunk at max(1, 6 / c) cycles per row (a chunk costs its PE about
 * 6 CE cycles of task switch and fabric issues).  On the wse2/laptop
 * costs: cycles ~ H + nb + (nb + 1)(mb + 2) + (5 + c)(W - 1) +
 * (mb - c) max(1, 6 / c), within 4 % (measured) from 8x8 to 750x994 PEs
 * and blocks from 1x1 to 100x100.
 *
 * Drawback: the row chain starts only when the west-most PE has finished
 * its local product, and all PEs of a row finish at about the same time,
 * so the chain's latency is not hidden behind computation.
 */
#include <stddef.h>
#include "wse/pe.h"

typedef struct gemv_params {
    int64_t mb, nb, chunk;
} gemv_params;

static const wse_param_spec gemv_param_spec[] = {
    { "mb", WSE_PARAM_INT, 16, 1, 8192, offsetof(gemv_params, mb), "rows of A per PE (M = height * mb)" },
    { "nb", WSE_PARAM_INT, 16, 1, 8192, offsetof(gemv_params, nb), "columns of A per PE (N = width * nb)" },
    { "chunk", WSE_PARAM_INT, 4, 1, 8192, offsetof(gemv_params, chunk), "rows per pipelined chunk of the partial-sum chain (clamped to mb)" },
};

/* ---------------------------------------------------------- device: runs on every PE */

enum { C_X = 0, C_P = 1 };                 /* partial sums on 1/2 */
#define WINDOW 8                           /* chunk fabins in flight */
enum { T_START = WSE_LOCAL_TASK(0), T_XIN, T_XSENT, T_COMPUTE, T_SENT, T_IN0 };  /* + WINDOW */

typedef struct gemv_state {
    wse_f32_ref a, x, y, b;                /* b only on the east edge */
    int32_t c, m;                          /* chunk length, number of chunks */
    int32_t in_issued, in_done;            /* chunks of the westward partial */
    int32_t sent;                          /* chunks handed to a fabout */
    int32_t added;                         /* east edge: chunks with b added */
    uint8_t in_ids;                        /* task ids with a fabin in flight */
    uint8_t has_west, has_east, computed, send_busy, x_busy, done;
    uint8_t in_color, out_color;
} gemv_state;

static int gemv_setup(wse_pe *pe, void *state)
{
    const gemv_params *p = pe_params(pe);
    gemv_state *s = state;
    int x = pe_x(pe), y = pe_y(pe);
    int mb = (int)p->mb, nb = (int)p->nb;
    s->c = p->chunk < p->mb ? (int)p->chunk : mb;
    s->m = (mb + s->c - 1) / s->c;
    s->has_west = (uint8_t)pe_has_neighbour(pe, WSE_PORT_W);
    s->has_east = (uint8_t)pe_has_neighbour(pe, WSE_PORT_E);
    float *a = pe_alloc_f32(pe, (size_t)mb * (size_t)nb);
    float *xv = pe_alloc_f32(pe, (size_t)nb);
    float *yv = pe_alloc_f32(pe, (size_t)mb);
    float *bv = s->has_east ? yv : pe_alloc_f32(pe, (size_t)mb);
    if (!a || !xv || !yv || !bv)
        return WSE_ESRAM;
    s->a = pe_ref_f32(s, a);
    s->x = pe_ref_f32(s, xv);
    s->y = pe_ref_f32(s, yv);
    s->b = pe_ref_f32(s, bv);
    s->in_done = s->in_issued = s->has_west ? 0 : s->m;
    s->sent = s->has_east ? 0 : s->m;
    s->added = s->has_east ? s->m : 0;

    /* x down the column: a multicast chain */
    unsigned south = pe_has_neighbour(pe, WSE_PORT_S) ? WSE_S : 0u;
    if (y == 0) {
        if (south)
            pe_route(pe, C_X, WSE_RAMP, WSE_S);
    } else {
        pe_route(pe, C_X, WSE_N, WSE_RAMP | south);
    }
    /* partial sums east, checkerboard by the sender's parity */
    if (s->has_east) {
        s->out_color = (uint8_t)(C_P + (x & 1));
        pe_route(pe, s->out_color, WSE_RAMP, WSE_E);
        pe_bind_local_task(pe, T_SENT);
    }
    if (s->has_west) {
        s->in_color = (uint8_t)(C_P + ((x - 1) & 1));
        pe_route(pe, s->in_color, WSE_W, WSE_RAMP);
        for (int i = 0; i < WINDOW; i++)
            pe_bind_local_task(pe, T_IN0 + i);
    }
    for (int t = T_START; t <= T_COMPUTE; t++)
        pe_bind_local_task(pe, t);
    pe_activate(pe, T_START);
    return 0;
}

/* l = A_block x_piece, column by column. */
static void gemv_compute(wse_pe *pe, gemv_state *s, const gemv_params *p)
{
    int mb = (int)p->mb, nb = (int)p->nb;
    const float *a = pe_f32(s, s->a), *xv = pe_f32(s, s->x);
    float *yv = pe_f32(s, s->y);
    pe_vfill_f32(pe, yv, 0.0f, mb);
    for (int j = 0; j < nb; j++)
        pe_vaxpy_f32(pe, yv, xv[j], a + (size_t)j * (size_t)mb, yv, mb);
    s->computed = 1;
}

/* Send or finish what is ready, refill the window, finish when done. */
static void gemv_pump(wse_pe *pe, gemv_state *s, const gemv_params *p)
{
    if (!s->computed)
        return;
    int mb = (int)p->mb;
    float *yv = pe_f32(s, s->y);
    int ready = s->in_done, end = ready * s->c < mb ? ready * s->c : mb;
    if (s->has_east && !s->send_busy && s->sent < ready) {
        int first = s->sent * s->c;
        pe_fabout(pe, s->out_color, yv + first, end - first, 1, T_SENT, WSE_ASYNC);
        s->send_busy = 1;
        s->sent = ready;
    }
    if (!s->has_east && s->added < ready) {
        int first = s->added * s->c;
        pe_vadd_f32(pe, yv + first, yv + first, pe_f32(s, s->b) + first, end - first);
        s->added = ready;
    }
    while (s->in_issued < s->m && s->in_issued < s->in_done + WINDOW &&
           !(s->in_ids & (1u << (s->in_issued % WINDOW)))) {
        int k = s->in_issued, slot = k % WINDOW, first = k * s->c;
        int len = mb - first < s->c ? mb - first : s->c;
        pe_fabin(pe, s->in_color, yv + first, len, 1, T_IN0 + slot, WSE_ASYNC | WSE_FABIN_ADD);
        s->in_ids |= (uint8_t)(1u << slot);
        s->in_issued++;
    }
    if (!s->done && s->in_done == s->m && s->sent == s->m && !s->send_busy &&
        s->added == s->m && !s->x_busy) {
        s->done = 1;
        pe_finish(pe);
    }
}

static void gemv_task(wse_pe *pe, void *state, int task, uint32_t payload)
{
    (void)payload;
    gemv_state *s = state;
    const gemv_params *p = pe_params(pe);
    if (task == T_START) {
        int nb = (int)p->nb;
        if (pe_y(pe) > 0) {
            pe_fabin(pe, C_X, pe_f32(s, s->x), nb, 1, T_XIN, WSE_ASYNC);
        } else {
            if (pe_has_neighbour(pe, WSE_PORT_S)) {
                pe_fabout(pe, C_X, pe_f32(s, s->x), nb, 1, T_XSENT, WSE_ASYNC);
                s->x_busy = 1;
            }
            pe_activate(pe, T_COMPUTE);
        }
    } else if (task == T_XIN) {
        pe_activate(pe, T_COMPUTE);
    } else if (task == T_XSENT) {
        s->x_busy = 0;
    } else if (task == T_COMPUTE) {
        gemv_compute(pe, s, p);
    } else if (task == T_SENT) {
        s->send_busy = 0;
    } else if (task >= T_IN0 && task < T_IN0 + WINDOW) {
        s->in_done++;
        s->in_ids &= (uint8_t)~(1u << (task - T_IN0));
    }
    gemv_pump(pe, s, p);
}

/* ---------------------------------------------------------- host */

static int shape_a(const void *params, int width, int height, int64_t shape[3])
{
    const gemv_params *p = params;
    shape[0] = (int64_t)height * p->mb;
    shape[1] = (int64_t)width * p->nb;
    return 2;
}

static int shape_x(const void *params, int width, int height, int64_t shape[3])
{
    (void)height;
    shape[0] = (int64_t)width * ((const gemv_params *)params)->nb;
    return 1;
}

static int shape_m(const void *params, int width, int height, int64_t shape[3])
{
    (void)width;
    shape[0] = (int64_t)height * ((const gemv_params *)params)->mb;
    return 1;
}

static void block_1d(wse_array_block *b, float *ptr, int64_t origin, int64_t extent)
{
    b->ptr = ptr;
    b->origin[0] = origin;
    b->origin[1] = b->origin[2] = 0;
    b->extent[0] = extent;
    b->extent[1] = b->extent[2] = 1;
    b->stride[0] = b->stride[1] = b->stride[2] = 1;
}

static void block_a(const wse_pe *pe, const void *state, wse_array_block *b)
{
    const gemv_params *p = pe_params(pe);
    const gemv_state *s = state;
    b->ptr = pe_f32(s, s->a);
    b->origin[0] = (int64_t)pe_y(pe) * p->mb;
    b->origin[1] = (int64_t)pe_x(pe) * p->nb;
    b->origin[2] = 0;
    b->extent[0] = p->mb;
    b->extent[1] = p->nb;
    b->extent[2] = 1;
    b->stride[0] = 1;               /* column-major in SRAM */
    b->stride[1] = p->mb;
    b->stride[2] = 1;
}

static void block_x(const wse_pe *pe, const void *state, wse_array_block *b)
{
    const gemv_params *p = pe_params(pe);
    const gemv_state *s = state;
    block_1d(b, pe_f32(s, s->x), (int64_t)pe_x(pe) * p->nb, pe_y(pe) == 0 ? p->nb : 0);
}

static void block_b(const wse_pe *pe, const void *state, wse_array_block *b)
{
    const gemv_params *p = pe_params(pe);
    const gemv_state *s = state;
    int east = !pe_has_neighbour(pe, WSE_PORT_E);
    block_1d(b, pe_f32(s, s->b), (int64_t)pe_y(pe) * p->mb, east ? p->mb : 0);
}

static void block_y(const wse_pe *pe, const void *state, wse_array_block *b)
{
    const gemv_params *p = pe_params(pe);
    const gemv_state *s = state;
    int east = !pe_has_neighbour(pe, WSE_PORT_E);
    block_1d(b, pe_f32(s, s->y), (int64_t)pe_y(pe) * p->mb, east ? p->mb : 0);
}

static const wse_array_spec gemv_arrays[] = {
    { "A", WSE_F32, 1, 0, "the matrix, float32 [height*mb, width*nb]; PE (px,py) holds the block at [py*mb, px*nb]", shape_a, block_a },
    { "x", WSE_F32, 1, 0, "the vector, float32 [width*nb]; the top PE of column px holds piece px", shape_x, block_x },
    { "b", WSE_F32, 1, 0, "the addend, float32 [height*mb]; held by the east-edge PEs", shape_m, block_b },
    { "y", WSE_F32, 0, 1, "A x + b, float32 [height*mb]; held by the east-edge PEs", shape_m, block_y },
};

/* Host reference: the emulated order of operations, row by row. */
static int gemv_reference(const void *params, int width, int height,
                          void *const *arrays)
{
    const gemv_params *p = params;
    const float *a = arrays[0], *xv = arrays[1], *bv = arrays[2];
    float *yv = arrays[3];
    int64_t mb = p->mb, nb = p->nb, M = height * mb, N = width * nb;
    for (int64_t r = 0; r < M; r++) {
        float s = 0.0f;
        for (int64_t px = 0; px < width; px++) {
            float l = 0.0f;
            for (int64_t j = px * nb; j < (px + 1) * nb; j++)
                l = xv[j] * a[r * N + j] + l;
            s = px == 0 ? l : l + s;
        }
        yv[r] = s + bv[r];
    }
    return 0;
}

/*
 * 0: the reference repeats the emulated operations in order, so y is
 * bitwise equal.  (In another order the usual bound would apply:
 * |dy_r| <= (nb + width + 1) * eps * (sum_j |A_rj x_j| + |b_r|).)
 */
static double gemv_tolerance(const void *params, int width, int height)
{
    (void)params; (void)width; (void)height;
    return 0.0;
}

/* 2 * M * N: a multiply and an add per element of A. */
static double gemv_flops(const void *params, int width, int height)
{
    const gemv_params *p = params;
    return 2.0 * (double)height * (double)p->mb * (double)width * (double)p->nb;
}

const wse_program wse_program_gemv = {
    .api_version = WSE_API_VERSION,
    .name = "gemv",
    .summary = "y = A x + b, fp32, A in blocks per PE: x down the columns, partial sums east",
    .params_size = sizeof(gemv_params),
    .params = gemv_param_spec,
    .n_params = (int)(sizeof gemv_param_spec / sizeof gemv_param_spec[0]),
    .arrays = gemv_arrays,
    .n_arrays = 4,
    .device = { .state_size = sizeof(gemv_state), .setup = gemv_setup, .task = gemv_task },
    .host = { .reference = gemv_reference, .tolerance = gemv_tolerance, .useful_flops = gemv_flops },
};
