/*
 * src/programs/gemv.c - y = A x + b, A cut into blocks over the region, in
 * fp32 (dtype 0) or with A and x in fp16 and fp32 accumulation (dtype 1).
 *
 * A is M x N with M = height * mb and N = width * nb.  PE (px, py) holds
 * the block of rows [py*mb, (py+1)*mb) and columns [px*nb, (px+1)*nb),
 * column-major in its SRAM, and an accumulator l of mb fp32 (zeroed by
 * pe_alloc; on the east edge the host writes b into it, and y is read
 * back from it).
 *
 *   1. x: the top PE of column px holds x[px*nb .. (px+1)*nb) and streams
 *      it south with one fabout descriptor op on a color whose routes form
 *      a multicast chain down the column (rx N, tx RAMP | S): every PE of
 *      the column receives its copy with one fabin descriptor op.
 *   2. local product: l = l + A_block x_piece as ONE pe_dfma over 2D
 *      descriptors of mb x nb elements (dimension 0 the rows, 1 the
 *      columns): d = a = l with strides (1, 0), b = A with (1, mb), c = x
 *      with (0, 1).  Elements go in order, so row i takes column j after
 *      j - 1.
 *   3. the row chain, one fabric descriptor op per PE issued right after
 *      the product: the west-edge PE streams l east (pe_dmov mem ->
 *      fabout), every inner PE adds its l to each partial as it passes
 *      (pe_dadd fabout <- l + fabin, element by element under
 *      backpressure, no buffer and no task per element or chunk), and the
 *      east-edge PE adds the stream into l (pe_dadd l <- l + fabin), which
 *      is then y.  Its completion task ends the PE.
 *
 * Order of operations (repeated by the host reference): for row r, with
 * A and x as held (rounded to fp16 for dtype 1),
 *   l(px) = l0 + sum over j in order of A[r][j] x[j]  (fp32; l0 = 0, or
 *           b[r] on the east edge, px = W-1)
 *   s(0) = l(0), s(px) = l(px) + s(px-1),  y[r] = s(W-1)
 * so the result is bitwise the reference's.  (b starts the east edge's
 * accumulator instead of being added after the chain: that saves an mb-
 * element op at the end of the critical path.)
 *
 * Colors: x 0 (south); the chain sends on 2 and receives on 3 at every
 * PE: the route of 2 (rx RAMP, tx E) swaps the color on E
 * (pe_route_swap), so a partial leaving on 2 arrives next door as 3,
 * whose route is rx W, tx RAMP.  A PE's send and receive never share a
 * color, as with the parity checkerboard, but with one pair for all.
 * Queues (pe_init_queue, which wse3 requires): x goes out of output queue
 * first_queue and comes in on input queue first_queue, the chain leaves
 * by output queue first_queue + 1 and arrives in input queue
 * first_queue + 1: at most 2 of each at a PE.  No data tasks.
 *
 * dtype 1.  Host arrays cannot be float16 here: an array's type is fixed
 * in the program's array table, not chosen by a parameter (and hostio's
 * generated inputs store nothing for float16 elements).  So A and the top
 * row's x arrive as fp32 and the PE rounds them to fp16 in place with
 * pe_dmov F32 -> F16 in its first task (element i's fp16 lands on bytes of
 * fp32 element i / 2, already read); x travels as fp16 wavelets.  Cost:
 * the conversion of A is a mixed op, vector_startup + mb nb cycles at the
 * fp32 rate, once more the product's time; on the rows below the top it
 * runs while x is on its way.  SRAM stays 4 bytes per element of A.  The
 * product with fp16 b, c and an fp32 d runs at simd_fp32 too (mixed runs
 * at the fp32 rate, pe.h costs): fp16 data makes this program no faster,
 * only an all-fp16 FMA (fp16 accumulator, rounded twice per step) would
 * get simd_fp16 = 4 elements per cycle.
 *
 * Cycles (ts task switch, vs vector startup, fs fabric startup, h hop
 * latency; simd_fp32 = 1): x's last element reaches the bottom row at
 * X = ts + fs + nb + (H - 1) h; the product ends ts + vs + mb nb later;
 * the chain's last element reaches the east edge fs + mb + (W - 1)(h + 1)
 * later (a hop is the link plus the CE's pass from fabin to fabout), and
 * the east edge's completion task adds 2 (measured: it is dispatched in
 * the cycle of the last addition, which has the datapath).  On the wse2/laptop
 * costs (ts = vs = fs = 2, h = 1), for W, H > 1:
 *   dtype 0: cycles = mb nb + mb + nb + H + 2 W + 9
 *   dtype 1: cycles = max(10 + nb + 2 mb nb, 10 + mb nb + max(mb nb,
 *            2 nb + H - 1)) + mb + 2 W + 2  (the top row's conversions
 *            of x and A come before its x leaves; the other rows convert
 *            A while x arrives)
 * exact (measured) for 1x1 to 100x100 blocks on 1x1 to 64x64 PEs, and
 * 4x4 blocks on the 750x994 WSE-2 rectangle (2527 and 2533).  W = 1
 * drops the chain term (mb + 2 W + 2); H = 1 drops x's: nb + H + 3 in
 * dtype 0, and in dtype 1 the max becomes 8 + nb + 2 mb nb.  Before
 * (a fabin with WSE_FABIN_ADD and a fabout per chunk of c rows, a task
 * per chunk, nb + 1 vector ops per product) it was about H + nb +
 * (nb + 1)(mb + 2) + (5 + c)(W - 1) + (mb - c) max(1, 6 / c): 1870
 * cycles for the shipped job, now 1289.
 *
 * Drawback: the chain starts when the product is complete, so its mb
 * cycles add to the product's mb nb; products done in row strips, each
 * strip's chain op issued behind it, would hide all but the last strip's.
 */
#include <stddef.h>
#include "wse/pe.h"

typedef struct gemv_params {
    int64_t mb, nb, dtype;
} gemv_params;

static const wse_param_spec gemv_param_spec[] = {
    { "mb", WSE_PARAM_INT, 16, 1, 8192, offsetof(gemv_params, mb), "rows of A per PE (M = height * mb)" },
    { "nb", WSE_PARAM_INT, 16, 1, 8192, offsetof(gemv_params, nb), "columns of A per PE (N = width * nb)" },
    { "dtype", WSE_PARAM_INT, 0, 0, 1, offsetof(gemv_params, dtype), "0: fp32; 1: A and x rounded to fp16 on the PE, products accumulated in fp32" },
};

/* ---------------------------------------------------------- device: runs on every PE */

/* x down the columns on 0; the row chain sends on C_OUT and, through the
 * color swap on E, receives on C_IN = C_OUT ^ 1 at every PE. */
enum { C_X = 0, C_OUT = 2, C_IN = C_OUT ^ 1 };
enum { T_START = WSE_LOCAL_TASK(0), T_XIN = WSE_LOCAL_TASK(1), T_CHAINED = WSE_LOCAL_TASK(2) };

typedef struct gemv_state {
    wse_f32_ref a, x, l;          /* l: partials; on the east edge b, then y */
    uint8_t t;                    /* element type of A and x in SRAM once converted */
    uint8_t top, south, has_west, has_east;
} gemv_state;

static int gemv_setup(wse_pe *pe, void *state)
{
    const gemv_params *p = pe_params(pe);
    gemv_state *s = state;
    size_t mb = (size_t)p->mb, nb = (size_t)p->nb;
    s->t = p->dtype ? WSE_F16 : WSE_F32;
    s->top = pe_y(pe) == 0;
    s->south = (uint8_t)pe_has_neighbour(pe, WSE_PORT_S);
    s->has_west = (uint8_t)pe_has_neighbour(pe, WSE_PORT_W);
    s->has_east = (uint8_t)pe_has_neighbour(pe, WSE_PORT_E);
    /* A and the top row's x arrive from the host as fp32 (see the header) */
    float *a = pe_alloc_f32(pe, mb * nb);
    void *xv = pe_alloc(pe, nb * (s->top || !p->dtype ? 4u : 2u));
    float *l = pe_alloc_f32(pe, mb);    /* zeroed: the accumulator's start */
    if (!a || !xv || !l)
        return WSE_ESRAM;
    s->a = pe_ref_f32(s, a);
    s->x = pe_ref_f32(s, xv);
    s->l = pe_ref_f32(s, l);

    /* x down the column: a multicast chain */
    int q = pe_machine(pe)->first_queue;
    if (s->top) {
        if (s->south) {
            pe_route(pe, C_X, WSE_RAMP, WSE_S);
            pe_init_queue(pe, WSE_OQ(q), C_X);
        }
    } else {
        pe_route(pe, C_X, WSE_N, WSE_RAMP | (s->south ? WSE_S : 0u));
        pe_init_queue(pe, WSE_IQ(q), C_X);
    }
    /* partial sums east: out on C_OUT, arriving next door as C_IN */
    if (s->has_east) {
        pe_route(pe, C_OUT, WSE_RAMP, WSE_E);
        pe_route_swap(pe, C_OUT, WSE_E);
        pe_init_queue(pe, WSE_OQ(q + 1), C_OUT);
    }
    if (s->has_west) {
        pe_route(pe, C_IN, WSE_W, WSE_RAMP);
        pe_init_queue(pe, WSE_IQ(q + 1), C_IN);
    }
    pe_bind_local_task(pe, T_START);
    pe_bind_local_task(pe, T_XIN);
    pe_bind_local_task(pe, T_CHAINED);
    pe_activate(pe, T_START);
    return 0;
}

/* fp32 at off rewritten as fp16 from off on, in place: element i's fp16
 * lands on bytes of fp32 element i / 2, already read. */
static void to_f16(wse_pe *pe, uint32_t off, int n)
{
    pe_dmov(pe, pe_mem1d(WSE_F16, off, n, 1), pe_mem1d(WSE_F32, off, n, 1), WSE_NO_TASK, 0);
}

/* l = l + A_block x_piece in one FMA over the block (dimension 0 the rows,
 * 1 the columns: l and x broadcast along the other), then this PE's link
 * of the row chain. */
static void gemv_compute(wse_pe *pe, gemv_state *s, int mb, int nb)
{
    const int ext[2] = { mb, nb }, lstr[2] = { 1, 0 }, xstr[2] = { 0, 1 };
    wse_dsd L2 = pe_mem4d(WSE_F32, s->l.off, 2, ext, lstr);
    wse_dsd X2 = pe_mem4d(s->t, s->x.off, 2, ext, xstr);
    pe_dfma(pe, L2, L2, pe_mem1d(s->t, s->a.off, mb * nb, 1), X2, WSE_NO_TASK, 0);

    wse_dsd L = pe_mem1d(WSE_F32, s->l.off, mb, 1);
    wse_dsd in = pe_fabin_dsd(WSE_F32, C_IN, mb), out = pe_fabout_dsd(WSE_F32, C_OUT, mb);
    if (s->has_west && s->has_east)
        pe_dadd(pe, out, L, in, T_CHAINED, WSE_ASYNC);     /* l + s, on the fly */
    else if (s->has_east)
        pe_dmov(pe, out, L, T_CHAINED, WSE_ASYNC);         /* the chain's start */
    else if (s->has_west)
        pe_dadd(pe, L, L, in, T_CHAINED, WSE_ASYNC);       /* y = l + s */
    else
        pe_finish(pe);
}

static void gemv_task(wse_pe *pe, void *state, int task, uint32_t payload)
{
    (void)payload;
    gemv_state *s = state;
    const gemv_params *p = pe_params(pe);
    int mb = (int)p->mb, nb = (int)p->nb;
    if (task == T_START) {
        wse_dsd X = pe_mem1d(s->t, s->x.off, nb, 1);
        if (!s->top) {
            pe_dmov(pe, X, pe_fabin_dsd(s->t, C_X, nb), T_XIN, WSE_ASYNC);
        } else {
            if (s->t == WSE_F16)
                to_f16(pe, s->x.off, nb);
            if (s->south)
                pe_dmov(pe, pe_fabout_dsd(s->t, C_X, nb), X, WSE_NO_TASK, WSE_ASYNC);
        }
        if (s->t == WSE_F16)       /* while x is on its way */
            to_f16(pe, s->a.off, mb * nb);
        if (s->top)
            gemv_compute(pe, s, mb, nb);
    } else if (task == T_XIN) {
        gemv_compute(pe, s, mb, nb);
    } else if (task == T_CHAINED) {
        pe_finish(pe);
    }
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

/* b and y: the east edge's accumulator, before and after */
static void block_l(const wse_pe *pe, const void *state, wse_array_block *b)
{
    const gemv_params *p = pe_params(pe);
    const gemv_state *s = state;
    int east = !pe_has_neighbour(pe, WSE_PORT_E);
    block_1d(b, pe_f32(s, s->l), (int64_t)pe_y(pe) * p->mb, east ? p->mb : 0);
}

static const wse_array_spec gemv_arrays[] = {
    { "A", WSE_F32, 1, 0, "the matrix, float32 [height*mb, width*nb] (dtype 1: rounded to fp16 on the PE); PE (px,py) holds the block at [py*mb, px*nb]", shape_a, block_a },
    { "x", WSE_F32, 1, 0, "the vector, float32 [width*nb] (dtype 1: rounded to fp16 on the PE); the top PE of column px holds piece px", shape_x, block_x },
    { "b", WSE_F32, 1, 0, "the addend, float32 [height*mb]; held by the east-edge PEs", shape_m, block_l },
    { "y", WSE_F32, 0, 1, "A x + b, float32 [height*mb]; held by the east-edge PEs", shape_m, block_l },
};

/* An input element as the PE holds it: fp32, or rounded to fp16. */
static float held(float v, int64_t dtype)
{
    return dtype ? pe_f16_to_f32(pe_f32_to_f16(v)) : v;
}

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
            float l = px == width - 1 ? bv[r] : 0.0f;
            for (int64_t j = px * nb; j < (px + 1) * nb; j++)
                l = l + held(a[r * N + j], p->dtype) * held(xv[j], p->dtype);
            s = px == 0 ? l : l + s;
        }
        yv[r] = s;
    }
    return 0;
}

/*
 * 0: the reference repeats the emulated operations in order, so y is
 * bitwise equal.  (In another order the usual bound would apply:
 * |dy_r| <= (nb + width + 1) * eps * (sum_j |A_rj x_j| + |b_r|), with A
 * and x as held: rounded to fp16 for dtype 1.)
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
    .summary = "y = A x + b, fp32 or fp16 data with fp32 accumulation, A in blocks per PE: x down the columns, partial sums east",
    .params_size = sizeof(gemv_params),
    .params = gemv_param_spec,
    .n_params = (int)(sizeof gemv_param_spec / sizeof gemv_param_spec[0]),
    .arrays = gemv_arrays,
    .n_arrays = 4,
    .device = { .state_size = sizeof(gemv_state), .setup = gemv_setup, .task = gemv_task },
    .host = { .reference = gemv_reference, .tolerance = gemv_tolerance, .useful_flops = gemv_flops },
};
