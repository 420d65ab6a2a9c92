/*
 * tests/test_dsd.c - descriptors: strided and 4D memory operands, binary16
 * conversion against a reference computed another way, mixed precision,
 * 16-bit integers, and operations with a fabric operand, with
 * hand-computed cycles.
 *
 * Topology: the probe's (task switch 1 cycle, hop latency 1, queue depth
 * 2) with vector startup V = 3, simd_fp32 = 2, simd_fp16 = 4 and fabric
 * startup F = 2, so every cost term shows.  A PE's start task runs at
 * cycle 0; an op it issues after its switch cycle starts at 1 + F = 3.  A
 * wavelet pushed into a router at cycle p is visible one hop on at p + 2
 * (one cycle to the router's output, one over the link).
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <CUnit/CUnit.h>
#include "harness.h"
#include "probe.h"
#include "test_list.h"
#include "wse/pe.h"

#define V 3     /* vector startup */
#define F 2     /* fabric startup */
#define SIMD32 2
#define SIMD16 4
#define LOGN 16

typedef struct dsd_state {
    uint32_t remaining;         /* tasks and wavelets before finishing */
    float f[64], g[64], h[64];
    uint16_t p[64], q[64], r[64];
    uint32_t words[16];
    uint64_t t0, t1;            /* pe_cycle around the ops under test */
    uint64_t done_cycle;        /* start of the on_done task */
    uint64_t done2_cycle;       /* of the second one */
    uint32_t fifo[2 + 4];       /* counters, then 4 elements */
    uint32_t log_n;             /* data wavelets received */
    uint64_t log_cycle[LOGN];
    uint32_t log_value[LOGN];
} dsd_state;

typedef struct dsd_params {
    void (*setup)(wse_pe *pe, dsd_state *s);    /* routes, data, remaining */
    void (*start)(wse_pe *pe, dsd_state *s);    /* the start task's body */
} dsd_params;

enum { T_START = WSE_LOCAL_TASK(0), T_DONE = WSE_LOCAL_TASK(1), T_DONE2 = WSE_LOCAL_TASK(2) };

static uint32_t off(const dsd_state *s, const void *p) { return pe_offset(s, p); }

static void tick(wse_pe *pe, dsd_state *s)
{
    if (--s->remaining == 0)
        pe_finish(pe);
}

static int dsd_setup(wse_pe *pe, void *state)
{
    dsd_state *s = state;
    const dsd_params *p = pe_params(pe);
    pe_bind_local_task(pe, T_START);
    pe_bind_local_task(pe, T_DONE);
    pe_bind_local_task(pe, T_DONE2);
    p->setup(pe, s);
    if (s->remaining == 0)
        pe_finish(pe);
    return 0;
}

static void dsd_task(wse_pe *pe, void *state, int task, uint32_t payload)
{
    dsd_state *s = state;
    const dsd_params *p = pe_params(pe);
    if (task == T_START) {
        s->t0 = pe_cycle(pe);
        p->start(pe, s);
        s->t1 = pe_cycle(pe);
    } else if (task == T_DONE) {
        s->done_cycle = pe_cycle(pe) - 1;       /* minus its switch */
    } else if (task == T_DONE2) {
        s->done2_cycle = pe_cycle(pe) - 1;
    } else if (s->log_n < LOGN) {
        s->log_cycle[s->log_n] = pe_cycle(pe) - 1;
        s->log_value[s->log_n++] = payload;
    }
    tick(pe, s);
}

static int dsd_shape3(const void *params, int width, int height, int64_t shape[3], int n)
{
    (void)params;
    shape[0] = height;
    shape[1] = width;
    shape[2] = n;
    return 3;
}

static int h_shape(const void *params, int width, int height, int64_t shape[3])
{
    return dsd_shape3(params, width, height, shape, 64);
}

static int log_shape(const void *params, int width, int height, int64_t shape[3])
{
    return dsd_shape3(params, width, height, shape, LOGN);
}

static void vec_block(const wse_pe *pe, wse_array_block *b, void *ptr, int n)
{
    b->ptr = ptr;
    b->origin[0] = pe_y(pe);
    b->origin[1] = pe_x(pe);
    b->origin[2] = 0;
    b->extent[0] = b->extent[1] = 1;
    b->extent[2] = n;
    b->stride[0] = b->stride[1] = n;
    b->stride[2] = 1;
}

static void h_block(const wse_pe *pe, const void *state, wse_array_block *b)
{
    vec_block(pe, b, (void *)(uintptr_t)((const dsd_state *)state)->h, 64);
}

static void log_block(const wse_pe *pe, const void *state, wse_array_block *b)
{
    vec_block(pe, b, (void *)(uintptr_t)((const dsd_state *)state)->log_value, LOGN);
}

/* Outputs, so that runs cut into shards can be compared by digest. */
static const wse_array_spec dsd_arrays[] = {
    { "remaining", WSE_U32, 0, 1, "tasks left per PE", harness_pe_shape, harness_pe_state_block },
    { "h", WSE_F32, 0, 1, "the h vector per PE", h_shape, h_block },
    { "log", WSE_U32, 0, 1, "data wavelets received per PE", log_shape, log_block },
};

static const wse_program dsd_program = {
    .api_version = WSE_API_VERSION,
    .name = "dsd_probe",
    .summary = "test: descriptor operations",
    .params_size = sizeof(dsd_params),
    .arrays = dsd_arrays,
    .n_arrays = 3,
    .device = { .state_size = sizeof(dsd_state), .setup = dsd_setup, .task = dsd_task },
};

/* The shared-datapath and SRAM-port costs, off (0) unless a test sets
 * them. */
static int datapath_cycles, sram_rd, sram_wr;

static wse_topology dsd_topology(int w)
{
    wse_topology t = probe_topology(w, 1, 2, 1);
    t.vector_startup_cycles = V;
    t.fabric_startup_cycles = F;
    t.simd_fp32 = SIMD32;
    t.simd_fp16 = SIMD16;
    t.fabric_datapath_cycles = datapath_cycles;
    t.sram_read_bytes_per_cycle = sram_rd;
    t.sram_write_bytes_per_cycle = sram_wr;
    return t;
}

static wse_engine *dsd_run(int w, void (*setup)(wse_pe *, dsd_state *),
                           void (*start)(wse_pe *, dsd_state *), int *rc, wse_error *err)
{
    wse_topology t = dsd_topology(w);
    dsd_params p = { setup, start };
    wse_engine *e = NULL;
    wse_rect r = { 0, 0, w, 1 };
    wse_error_clear(err);
    *rc = wse_engine_create(&t, &dsd_program, &p, r, NULL, &e, err);
    if (*rc == 0)
        *rc = wse_engine_run(e, 100000, err);
    return e;
}

static dsd_state *dsd_at(wse_engine *e, int x)
{
    wse_array_block b;
    return wse_engine_block(e, 0, x, 0, &b) == 0 ? b.ptr : NULL;
}

/* The start task only. */
static void start_only(wse_pe *pe, dsd_state *s)
{
    for (int i = 0; i < 64; i++) {
        s->f[i] = (float)i;
        s->g[i] = -1.0f;
        s->h[i] = -1.0f;
    }
    s->remaining = 1;
    pe_activate(pe, T_START);
}

/* ------------------------------------------------------------ memory */

static const int ext2[2] = { 3, 4 }, str2[2] = { 2, 16 };       /* g[1 + 2 i0 + 16 i1] */
static const int ext4[4] = { 2, 3, 2, 2 }, str4[4] = { 1, 4, 12, 24 };

static void strided_ops(wse_pe *pe, dsd_state *s)
{
    wse_dsd g2 = pe_mem4d(WSE_F32, off(s, &s->g[1]), 2, ext2, str2);
    wse_dsd f12 = pe_mem1d(WSE_F32, off(s, s->f), 12, 1);
    pe_dmov(pe, g2, f12, WSE_NO_TASK, 0);                   /* V + 12/2 = 9 */
    /* h[i] = f[11 - i] + g2[i] * 0.5, g2 as a 4 x 3 walk of the same
     * elements (dimension 0 across rows of g) */
    static const int ext[2] = { 4, 3 }, str[2] = { 16, 2 };
    wse_dsd rev = pe_dsd_offset(pe_mem1d(WSE_F32, off(s, s->f), 12, -1), 11);
    pe_dfmac(pe, pe_mem1d(WSE_F32, off(s, s->h), 12, 1), rev,
             pe_mem4d(WSE_F32, off(s, &s->g[1]), 2, ext, str), 0.5f, WSE_NO_TASK, 0);  /* 9 */
    /* 24 elements of h from h[16] */
    pe_dfill(pe, pe_mem4d(WSE_F32, off(s, &s->h[16]), 4, ext4, str4), 7.0f, WSE_NO_TASK, 0);  /* V + 12 */
}

/* A 2D strided mov writes exactly its 12 elements; a reversed 1D and a
 * transposed 2D walk feed an FMAC; a 4D fill covers exactly its 24. */
static void test_strided(void)
{
    wse_error err;
    int rc;
    wse_engine *e = dsd_run(1, start_only, strided_ops, &rc, &err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    dsd_state *s = dsd_at(e, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    float want[64];
    for (int i = 0; i < 64; i++)
        want[i] = -1.0f;
    for (int i1 = 0; i1 < 4; i1++)
        for (int i0 = 0; i0 < 3; i0++)
            want[1 + 2 * i0 + 16 * i1] = (float)(i0 + 3 * i1);
    for (int i = 0; i < 64; i++)
        CU_ASSERT_EQUAL(s->g[i], want[i]);
    for (int i = 0; i < 12; i++) {
        int row = i % 4, col = i / 4;           /* the transposed walk */
        CU_ASSERT_EQUAL(s->h[i], (float)(11 - i) + want[1 + 2 * col + 16 * row] * 0.5f);
    }
    float hw[64];
    for (int i = 0; i < 64; i++)
        hw[i] = i < 12 ? s->h[i] : -1.0f;
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++)
            for (int c = 0; c < 3; c++)
                for (int d = 0; d < 2; d++)
                    hw[16 + d + 4 * c + 12 * b + 24 * a] = 7.0f;
    for (int i = 12; i < 64; i++)
        CU_ASSERT_EQUAL(s->h[i], hw[i]);
    CU_ASSERT_EQUAL(s->t1 - s->t0, (uint64_t)(V + 6) + (V + 6) + (V + 12));
    wse_engine_stats st;
    wse_engine_stats_get(e, &st);
    CU_ASSERT_EQUAL(st.flops, 12u * 2);                           /* FMAC: 2 each */
    CU_ASSERT_EQUAL(st.sram_bytes_moved, 12u * 8 + 12u * 12 + 24u * 4);
    wse_engine_destroy(e);
}

/* ------------------------------------------------------------ binary16 */

/* The reference: round in double by scaling to the binade's unit and
 * rounding to an integer (nearbyint rounds ties to even), then encode. */
static uint16_t ref_f16(float x)
{
    if (isnan(x))
        return 0x7e00;
    uint16_t sign = signbit(x) ? 0x8000 : 0;
    double a = fabs((double)x);
    if (a >= 65520.0)                   /* half-way to 2^16 and beyond */
        return sign | 0x7c00;
    int e;
    frexp(a, &e);
    int ex = e - 1 < -14 ? -14 : e - 1; /* subnormals share 2^-14's unit */
    double unit = ldexp(1.0, ex - 10);
    double r = nearbyint(a / unit) * unit;
    if (r < ldexp(1.0, -14))
        return sign | (uint16_t)(r / ldexp(1.0, -24));
    frexp(r, &e);
    return sign | (uint16_t)((e - 1 + 15) << 10) | (uint16_t)(r / ldexp(1.0, e - 11) - 1024.0);
}

static float bits_f(uint32_t u) { return pe_bits_f32(u); }

static void test_f16_conversion(void)
{
    static const struct { float x; uint16_t h; } cases[] = {
        { 1.0f, 0x3c00 },
        { 1.0f + 0x1p-11f, 0x3c00 },            /* tie: to the even 1.0 */
        { 1.0f + 3 * 0x1p-11f, 0x3c02 },        /* tie: up to the even one */
        { 1.0f + 0x1p-11f + 0x1p-20f, 0x3c01 }, /* just over the tie */
        { 65504.0f, 0x7bff },                   /* largest finite */
        { 65519.0f, 0x7bff },
        { 65520.0f, 0x7c00 },                   /* tie to even overflows */
        { 1e9f, 0x7c00 },
        { -1e9f, 0xfc00 },
        { 0x1p-14f, 0x0400 },                   /* least normal */
        { 0x1p-14f - 0x1p-25f, 0x0400 },        /* tie: to the even normal */
        { 1023 * 0x1p-24f, 0x03ff },            /* largest subnormal */
        { 0x1p-24f, 0x0001 },                   /* least subnormal */
        { 0x1p-25f, 0x0000 },                   /* tie: to even zero */
        { 0x1p-25f + 0x1p-40f, 0x0001 },
        { 3 * 0x1p-25f, 0x0002 },               /* tie: up to even 2 */
        { 0x1p-30f, 0x0000 },
        { -0.0f, 0x8000 },
        { -2.5f, 0xc100 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CU_ASSERT_EQUAL(pe_f32_to_f16(cases[i].x), cases[i].h);
        CU_ASSERT_EQUAL(ref_f16(cases[i].x), cases[i].h);       /* the reference agrees */
    }
    CU_ASSERT_EQUAL(pe_f32_to_f16(INFINITY), 0x7c00);
    CU_ASSERT_EQUAL(pe_f32_to_f16(-INFINITY), 0xfc00);
    CU_ASSERT_EQUAL(pe_f32_to_f16(bits_f(0x7fc00000u)), 0x7e00);    /* quiet NaN */
    CU_ASSERT_EQUAL(pe_f32_to_f16(bits_f(0xff800001u)), 0xfe00);    /* signalling: made quiet */
    CU_ASSERT_EQUAL(pe_f16_to_f32(0x0001), 0x1p-24f);
    CU_ASSERT_EQUAL(pe_f16_to_f32(0x03ff), 1023 * 0x1p-24f);
    CU_ASSERT_EQUAL(pe_f16_to_f32(0x7bff), 65504.0f);
    CU_ASSERT(isinf(pe_f16_to_f32(0xfc00)) && pe_f16_to_f32(0xfc00) < 0);
    CU_ASSERT(isnan(pe_f16_to_f32(0x7e01)));
    /* every binary16 number survives the round trip, and widening is
     * exact: the reference maps the widened value back to it too */
    unsigned bad = 0;
    for (uint32_t h = 0; h < 0x10000; h++) {
        if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff))
            continue;
        float f = pe_f16_to_f32((uint16_t)h);
        bad += pe_f32_to_f16(f) != h || ref_f16(f) != h;
    }
    CU_ASSERT_EQUAL(bad, 0u);
    /* about a million fp32 patterns spread over all of them */
    bad = 0;
    for (uint64_t u = 0; u < (1ull << 32); u += 4093) {
        float f = bits_f((uint32_t)u);
        uint16_t h = pe_f32_to_f16(f);
        if (isnan(f))
            bad += (h & 0x7e00) != 0x7e00;
        else
            bad += h != ref_f16(f);
    }
    CU_ASSERT_EQUAL(bad, 0u);
}

/* fp16 adds that round (ties to even, overflow, subnormals), then the
 * mixed mode: fp16 products accumulated in fp32. */
static void f16_ops(wse_pe *pe, dsd_state *s)
{
    static const float a[5] = { 2048.0f, 2050.0f, 65504.0f, 0x1p-24f, -3.0f };
    static const float b[5] = { 1.0f, 1.0f, 32.0f, 0x1p-24f, 0.25f };
    for (int i = 0; i < 5; i++) {
        s->p[i] = pe_f32_to_f16(a[i]);
        s->q[i] = pe_f32_to_f16(b[i]);
    }
    pe_dadd(pe, pe_mem1d(WSE_F16, off(s, s->r), 5, 1), pe_mem1d(WSE_F16, off(s, s->p), 5, 1),
            pe_mem1d(WSE_F16, off(s, s->q), 5, 1), WSE_NO_TASK, 0);     /* V + ceil(5/4) */
    /* f[i] = g[i] + p[10+i] * q[10+i], g F32, p and q F16 */
    for (int i = 0; i < 4; i++) {
        s->p[10 + i] = 0x3c01;                          /* 1 + 2^-10 */
        s->q[10 + i] = (uint16_t)(0x3c01 + i);
        s->g[i] = i < 2 ? 0.0f : 1024.0f;
    }
    pe_dfma(pe, pe_mem1d(WSE_F32, off(s, s->f), 4, 1), pe_mem1d(WSE_F32, off(s, s->g), 4, 1),
            pe_mem1d(WSE_F16, off(s, &s->p[10]), 4, 1), pe_mem1d(WSE_F16, off(s, &s->q[10]), 4, 1),
            WSE_NO_TASK, 0);                                            /* V + 4/2 */
    /* F32 -> F16 mov rounds; F16 -> F32 widens */
    s->h[0] = 1.0f + 0x1p-11f;
    s->h[1] = 1.0f + 3 * 0x1p-11f;
    pe_dmov(pe, pe_mem1d(WSE_F16, off(s, &s->r[20]), 2, 1), pe_mem1d(WSE_F32, off(s, s->h), 2, 1),
            WSE_NO_TASK, 0);                                            /* V + 2/2 */
}

static void test_f16_and_mixed(void)
{
    wse_error err;
    int rc;
    wse_engine *e = dsd_run(1, start_only, f16_ops, &rc, &err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    dsd_state *s = dsd_at(e, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(s->r[0], 0x6800);       /* 2049: tie, to even 2048 */
    CU_ASSERT_EQUAL(s->r[1], 0x6802);       /* 2051: tie, to even 2052 */
    CU_ASSERT_EQUAL(s->r[2], 0x7c00);       /* 65536 overflows */
    CU_ASSERT_EQUAL(s->r[3], 0x0002);       /* subnormals add exactly */
    CU_ASSERT_EQUAL(s->r[4], 0xc180);       /* -2.75 */
    for (int i = 0; i < 4; i++) {
        /* the product is exact in fp32 (22 significant bits); fp16
         * would have dropped its low bits */
        float prod = (1.0f + 0x1p-10f) * (1.0f + (float)(i + 1) * 0x1p-10f);
        float acc = i < 2 ? 0.0f : 1024.0f;
        CU_ASSERT_EQUAL(s->f[i], acc + prod);
    }
    CU_ASSERT_EQUAL(s->f[0], 1.0f + 0x1p-9f + 0x1p-20f);
    CU_ASSERT_EQUAL(s->r[20], 0x3c00);
    CU_ASSERT_EQUAL(s->r[21], 0x3c02);
    CU_ASSERT_EQUAL(s->t1 - s->t0, (uint64_t)(V + 2) + (V + 2) + (V + 1));
    wse_engine_stats st;
    wse_engine_stats_get(e, &st);
    CU_ASSERT_EQUAL(st.flops, 5u + 4u * 2);
    CU_ASSERT_EQUAL(st.sram_bytes_moved, 5u * 6 + 4u * 12 + 2u * 6);
    wse_engine_destroy(e);
}

/* ------------------------------------------------------------ integers */

static void int16_ops(wse_pe *pe, dsd_state *s)
{
    static const uint16_t a[6] = { 0x7fff, 0xffff, 0x0000, 0x8001, 0x4000, 0xf0f0 };
    memcpy(s->p, a, sizeof a);
    s->q[0] = 1;
    wse_dsd pa = pe_mem1d(WSE_I16, off(s, s->p), 6, 1);
    wse_dsd one = pe_mem1d(WSE_I16, off(s, s->q), 6, 0);        /* a broadcast */
    wse_dsd r = pe_mem1d(WSE_U16, off(s, s->r), 6, 1);
    pe_dadd16(pe, r, pa, one, WSE_NO_TASK, 0);
    pe_dsub16(pe, pe_dsd_offset(r, 8), pa, one, WSE_NO_TASK, 0);
    pe_dsll16(pe, pe_dsd_offset(r, 16), pa, 1, WSE_NO_TASK, 0);
    pe_dsrl16(pe, pe_dsd_offset(r, 24), pa, 3, WSE_NO_TASK, 0);
    pe_dsra16(pe, pe_dsd_offset(r, 32), pa, 3, WSE_NO_TASK, 0);
    pe_dfill_bits(pe, pe_mem1d(WSE_U16, off(s, &s->q[8]), 6, 1), 0x12ff0ff0u, WSE_NO_TASK, 0);
    pe_dxor16(pe, pe_dsd_offset(r, 40), pa, pe_mem1d(WSE_U16, off(s, &s->q[8]), 6, 1), WSE_NO_TASK, 0);
    pe_dand16(pe, pe_dsd_offset(r, 48), pa, pe_mem1d(WSE_U16, off(s, &s->q[8]), 6, 1), WSE_NO_TASK, 0);
    pe_dor16(pe, pe_dsd_resize(pe_dsd_offset(r, 56), 0, 4), pe_dsd_resize(pa, 0, 4), pe_dsd_resize(one, 0, 4),
             WSE_NO_TASK, 0);
    /* byte and 32-bit moves are bit copies */
    s->words[0] = 0xdeadbeefu;
    s->words[1] = 0x7fc00001u;          /* a NaN pattern, kept as is */
    pe_dmov(pe, pe_mem1d(WSE_U32, off(s, &s->words[4]), 2, 1), pe_mem1d(WSE_F32, off(s, s->words), 2, 1),
            WSE_NO_TASK, 0);
    pe_dmov(pe, pe_mem1d(WSE_U8, off(s, &s->words[8]), 4, 1),
            pe_dsd_offset(pe_mem1d(WSE_U8, off(s, s->words), 4, -1), 3), WSE_NO_TASK, 0);
}

static void test_int16(void)
{
    wse_error err;
    int rc;
    wse_engine *e = dsd_run(1, start_only, int16_ops, &rc, &err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    dsd_state *s = dsd_at(e, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    static const uint16_t want[8][6] = {
        { 0x8000, 0x0000, 0x0001, 0x8002, 0x4001, 0xf0f1 },     /* + 1 wraps */
        { 0x7ffe, 0xfffe, 0xffff, 0x8000, 0x3fff, 0xf0ef },     /* - 1 */
        { 0xfffe, 0xfffe, 0x0000, 0x0002, 0x8000, 0xe1e0 },     /* << 1 */
        { 0x0fff, 0x1fff, 0x0000, 0x1000, 0x0800, 0x1e1e },     /* >> 3 logical */
        { 0x0fff, 0xffff, 0x0000, 0xf000, 0x0800, 0xfe1e },     /* >> 3 arithmetic */
        { 0x700f, 0xf00f, 0x0ff0, 0x8ff1, 0x4ff0, 0xff00 },     /* ^ 0x0ff0 */
        { 0x0ff0, 0x0ff0, 0x0000, 0x0000, 0x0000, 0x00f0 },     /* & 0x0ff0 */
        { 0x7fff, 0xffff, 0x0001, 0x8001, 0, 0 },               /* | 1, 4 of them */
    };
    for (int k = 0; k < 8; k++)
        for (int i = 0; i < 6; i++)
            CU_ASSERT_EQUAL(s->r[8 * k + i], want[k][i]);
    CU_ASSERT_EQUAL(s->q[8], 0x0ff0);       /* fill keeps the low 16 bits */
    CU_ASSERT_EQUAL(s->words[4], 0xdeadbeefu);
    CU_ASSERT_EQUAL(s->words[5], 0x7fc00001u);
    CU_ASSERT_EQUAL(s->words[8], 0xefbeaddeu);    /* its bytes reversed */
    /* eight 16-bit ops on 6 elements, one on 4; a 32-bit mov of 2 and a
     * byte mov of 4 (bytes go at the fp16 rate) */
    CU_ASSERT_EQUAL(s->t1 - s->t0, 8u * (V + 2) + (V + 1) + (V + 1) + (V + 1));
    wse_engine_destroy(e);
}

/* ------------------------------------------------------------ errors */

static int err_case;

static void bad_ops(wse_pe *pe, dsd_state *s)
{
    wse_dsd h = pe_mem1d(WSE_F32, off(s, s->h), 4, 1);
    switch (err_case) {
    case 0:     /* two elements past the end of the state */
        pe_dadd(pe, h, h, pe_mem1d(WSE_F32, (uint32_t)sizeof *s - 8, 4, 1), WSE_NO_TASK, 0);
        break;
    case 1:     /* a negative stride walking below the state */
        pe_dadd(pe, h, h, pe_mem1d(WSE_F32, 4, 3, -1), WSE_NO_TASK, 0);
        break;
    case 2:
        pe_dadd16(pe, h, h, h, WSE_NO_TASK, 0);
        break;
    case 3:
        pe_dadd(pe, h, h, pe_mem1d(WSE_F32, off(s, s->f), 5, 1), WSE_NO_TASK, 0);
        break;
    default:
        pe_dmov(pe, h, pe_mem1d(WSE_F32, off(s, s->p) + 2, 4, 1), WSE_NO_TASK, 0);
        break;
    }
}

static void test_errors(void)
{
    char msg[5][256];
    snprintf(msg[0], sizeof msg[0],
             "PE (0,0) at cycle 0: pe_dadd: operand b: elements span bytes %zu..%zu, outside this PE's %zu bytes of allocations",
             sizeof(dsd_state) - 8, sizeof(dsd_state) + 7, sizeof(dsd_state));
    snprintf(msg[1], sizeof msg[1],
             "PE (0,0) at cycle 0: pe_dadd: operand b: elements span bytes -4..7, outside this PE's %zu bytes of allocations",
             sizeof(dsd_state));
    snprintf(msg[2], sizeof msg[2], "PE (0,0) at cycle 0: pe_dadd16: operand d must be I16 or U16");
    snprintf(msg[3], sizeof msg[3], "PE (0,0) at cycle 0: pe_dadd: operand b has 5 elements, d has 4");
    snprintf(msg[4], sizeof msg[4], "PE (0,0) at cycle 0: pe_dmov: operand a: offset %zu is not a multiple of its 4-byte elements",
             offsetof(dsd_state, p) + 2);
    for (err_case = 0; err_case < 5; err_case++) {
        wse_error err;
        int rc;
        wse_engine *e = dsd_run(1, start_only, bad_ops, &rc, &err);
        CU_ASSERT_EQUAL(rc, WSE_EPROGRAM);
        CU_ASSERT_STRING_EQUAL(err.msg, msg[err_case]);
        dsd_state *s = dsd_at(e, 0);
        CU_ASSERT_PTR_NOT_NULL_FATAL(s);
        CU_ASSERT_EQUAL(s->h[0], -1.0f);            /* the op did nothing */
        CU_ASSERT_EQUAL(s->t1 - s->t0, 0u);         /* and cost nothing */
        wse_engine_destroy(e);
    }
}

/* ------------------------------------------------------------ fabric operands */

#define NW 6

/* PE 0 sends NW fp32 words east on color 0 with a plain fabout; PE 1
 * computes h = g + fabin * 2 as they arrive. */
static void fmac_setup(wse_pe *pe, dsd_state *s)
{
    if (pe_x(pe) == 0) {
        pe_route(pe, 0, WSE_RAMP, WSE_E);
        for (int i = 0; i < NW; i++)
            s->words[i] = pe_f32_bits(0.25f * (float)(i + 1));
        s->remaining = 1;
    } else {
        pe_route(pe, 0, WSE_W, WSE_RAMP);
        for (int i = 0; i < NW; i++)
            s->g[i] = 100.0f * (float)i;
        s->remaining = 2;
    }
    pe_activate(pe, T_START);
}

static void fmac_start(wse_pe *pe, dsd_state *s)
{
    if (pe_x(pe) == 0)
        pe_fabout(pe, 0, s->words, NW, 1, WSE_NO_TASK, WSE_ASYNC);
    else
        pe_dfmac(pe, pe_mem1d(WSE_F32, off(s, s->h), NW, 1), pe_mem1d(WSE_F32, off(s, s->g), NW, 1),
                 pe_fabin_dsd(WSE_F32, 0, NW), 2.0f, T_DONE, WSE_ASYNC);
}

/* Word i is pushed at 1 + F + i, seen and taken by PE 1's FMAC at
 * 3 + F + i; the last at 2 + F + NW, when on_done runs. */
static void test_fabin_fmac(void)
{
    wse_error err;
    int rc;
    wse_engine *e = dsd_run(2, fmac_setup, fmac_start, &rc, &err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    dsd_state *s = dsd_at(e, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    for (int i = 0; i < NW; i++)
        CU_ASSERT_EQUAL(s->h[i], 100.0f * (float)i + 0.25f * (float)(i + 1) * 2.0f);
    CU_ASSERT_EQUAL(s->done_cycle, (uint64_t)(2 + F + NW));
    CU_ASSERT_EQUAL(s->t1 - s->t0, (uint64_t)F);        /* issuing costs the startup */
    wse_engine_stats st;
    wse_engine_stats_get(e, &st);
    CU_ASSERT_EQUAL(st.flops, 2u * NW);
    CU_ASSERT_EQUAL(st.sram_bytes_moved, 8u * NW);      /* g read, h written */
    CU_ASSERT_EQUAL(st.wavelets_received, (uint64_t)NW);
    wse_engine_destroy(e);
}

/* PE 1 adds the stream into h synchronously, with a descriptor add or
 * with the old flag, and activates a second task right after issuing. */
static int use_flag;

static void add_start(wse_pe *pe, dsd_state *s)
{
    if (pe_x(pe) == 0) {
        fmac_start(pe, s);
        return;
    }
    memcpy(s->h, s->g, sizeof s->h);
    if (use_flag)
        pe_fabin(pe, 0, s->h, NW, 1, T_DONE, WSE_FABIN_ADD);
    else
        pe_dadd(pe, pe_mem1d(WSE_F32, off(s, s->h), NW, 1), pe_mem1d(WSE_F32, off(s, s->h), NW, 1),
                pe_fabin_dsd(WSE_F32, 0, NW), T_DONE, 0);
    pe_activate(pe, T_DONE2);
}

static void add_setup(wse_pe *pe, dsd_state *s)
{
    fmac_setup(pe, s);
    if (pe_x(pe) == 1)
        s->remaining = 3;
}

/* Without WSE_ASYNC the CE runs nothing else until the op is done: the
 * second task, ready since cycle 1 + F, runs right after on_done (at
 * 2 + F + NW), at 3 + F + NW.  WSE_FABIN_ADD is the same operation. */
static void test_sync_and_fabin_add(void)
{
    uint64_t flops[2];
    float h[2][NW];
    for (use_flag = 0; use_flag < 2; use_flag++) {
        wse_error err;
        int rc;
        wse_engine *e = dsd_run(2, add_setup, add_start, &rc, &err);
        CU_ASSERT_EQUAL_FATAL(rc, 0);
        dsd_state *s = dsd_at(e, 1);
        CU_ASSERT_PTR_NOT_NULL_FATAL(s);
        for (int i = 0; i < NW; i++)
            CU_ASSERT_EQUAL(s->h[i], 100.0f * (float)i + 0.25f * (float)(i + 1));
        memcpy(h[use_flag], s->h, sizeof h[0]);
        CU_ASSERT_EQUAL(s->done_cycle, (uint64_t)(2 + F + NW));
        CU_ASSERT_EQUAL(s->done2_cycle, (uint64_t)(3 + F + NW));
        wse_engine_stats st;
        wse_engine_stats_get(e, &st);
        flops[use_flag] = st.flops;
        wse_engine_destroy(e);
    }
    CU_ASSERT_EQUAL(memcmp(h[0], h[1], sizeof h[0]), 0);
    CU_ASSERT_EQUAL(flops[0], (uint64_t)NW);
    CU_ASSERT_EQUAL(flops[1], (uint64_t)NW);
}

/* PE 1 issues the stream's receive (mode 0: an FMAC from fabin, 1: a
 * plain fabin, 2: a WSE_FABIN_ADD fabin), then its start task works on
 * for C more cycles. */
#define C 20
static int lend_mode;

static void lend_start(wse_pe *pe, dsd_state *s)
{
    if (pe_x(pe) == 0 || lend_mode == 0) {
        fmac_start(pe, s);
    } else {
        memcpy(s->h, s->g, sizeof s->h);
        pe_fabin(pe, 0, s->h, NW, 1, T_DONE, WSE_ASYNC | (lend_mode == 2 ? WSE_FABIN_ADD : 0u));
    }
    if (pe_x(pe) == 1)
        pe_charge(pe, C, 0);
}

/* The start task would end at 1 + F + C = 23; the stream's elements are
 * taken at 3 + F + i = 5..10, inside it.  Arithmetic on them takes the
 * datapath: with fabric_datapath_cycles = 1 the task ends NW = 6 cycles
 * later, and on_done (ready at 10) runs at 29.  A plain fabin, or a
 * datapath given for free (0), leaves it at 23. */
static void test_datapath_shared(void)
{
    static const struct { int mode, cycles; uint64_t done; } cases[] = {
        { 0, 1, 1 + F + C + NW }, { 2, 1, 1 + F + C + NW }, { 1, 1, 1 + F + C }, { 0, 0, 1 + F + C },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        lend_mode = cases[k].mode;
        datapath_cycles = cases[k].cycles;
        wse_error err;
        int rc;
        wse_engine *e = dsd_run(2, fmac_setup, lend_start, &rc, &err);
        datapath_cycles = 0;
        CU_ASSERT_EQUAL_FATAL(rc, 0);
        dsd_state *s = dsd_at(e, 1);
        CU_ASSERT_PTR_NOT_NULL_FATAL(s);
        CU_ASSERT_EQUAL(s->done_cycle, cases[k].done);
        wse_engine_stats st;
        wse_engine_stats_get(e, &st);
        /* PE 0's task (1 + F) and PE 1's two, each lent cycle counted */
        CU_ASSERT_EQUAL(st.busy_cycles, (uint64_t)(1 + F) + cases[k].done + 1);
        wse_engine_destroy(e);
    }
}

/* Operations whose SRAM traffic, not the datapath, bounds them. */
static void sram_ops(wse_pe *pe, dsd_state *s)
{
    wse_dsd p = pe_mem1d(WSE_F16, off(s, s->p), 64, 1), q = pe_mem1d(WSE_F16, off(s, s->q), 64, 1);
    wse_dsd r = pe_mem1d(WSE_F16, off(s, s->r), 64, 1);
    wse_dsd f = pe_mem1d(WSE_F32, off(s, s->f), 64, 1), g = pe_mem1d(WSE_F32, off(s, s->g), 64, 1);
    wse_dsd h = pe_mem1d(WSE_F32, off(s, s->h), 64, 1);
    uint64_t t[5];
    t[0] = pe_cycle(pe);
    pe_dfma(pe, p, q, r, p, WSE_NO_TASK, 0);
    t[1] = pe_cycle(pe);
    pe_dmov(pe, h, f, WSE_NO_TASK, 0);
    t[2] = pe_cycle(pe);
    pe_dmov(pe, q, r, WSE_NO_TASK, 0);
    t[3] = pe_cycle(pe);
    pe_dfma(pe, h, f, g, h, WSE_NO_TASK, 0);
    t[4] = pe_cycle(pe);
    for (int i = 0; i < 4; i++)
        s->log_cycle[i] = t[i + 1] - t[i];
}

/* 64 elements; V = 3, simd 4 (fp16) and 2 (fp32), 16 B read and 8 B
 * written per cycle:
 *   fp16 FMA, 3 sources:  reads 64 * 6 / 16 = 24 > 64 / 4      -> V + 24
 *   fp32 mov:             writes 64 * 4 / 8 = 32 = 64 / 2      -> V + 32
 *   fp16 mov:             writes 64 * 2 / 8 = 16 = 64 / 4      -> V + 16
 *   fp32 FMA, 3 sources:  reads 64 * 12 / 16 = 48 > 64 / 2     -> V + 48
 * and without the bounds the datapath's 16, 32, 16 and 32. */
static void test_sram_bandwidth(void)
{
    static const uint64_t bound[4] = { V + 24, V + 32, V + 16, V + 48 };
    static const uint64_t free_[4] = { V + 16, V + 32, V + 16, V + 32 };
    for (int on = 0; on < 2; on++) {
        sram_rd = on ? 16 : 0;
        sram_wr = on ? 8 : 0;
        wse_error err;
        int rc;
        wse_engine *e = dsd_run(1, start_only, sram_ops, &rc, &err);
        sram_rd = sram_wr = 0;
        CU_ASSERT_EQUAL_FATAL(rc, 0);
        dsd_state *s = dsd_at(e, 0);
        CU_ASSERT_PTR_NOT_NULL_FATAL(s);
        for (int i = 0; i < 4; i++)
            CU_ASSERT_EQUAL(s->log_cycle[i], on ? bound[i] : free_[i]);
        wse_engine_destroy(e);
    }
}

/* PE 0 sends a * 3 (fabout destination); PE 1's data task logs it. */
static void scale_setup(wse_pe *pe, dsd_state *s)
{
    if (pe_x(pe) == 0) {
        pe_route(pe, 0, WSE_RAMP, WSE_E);
        for (int i = 0; i < 4; i++)
            s->f[i] = (float)i - 1.5f;
        s->remaining = 2;
        pe_activate(pe, T_START);
    } else {
        pe_route(pe, 0, WSE_W, WSE_RAMP);
        pe_bind_data_task(pe, 0);
        s->remaining = 4;
    }
}

static void scale_start(wse_pe *pe, dsd_state *s)
{
    pe_dscale(pe, pe_fabout_dsd(WSE_F32, 0, 4), pe_mem1d(WSE_F32, off(s, s->f), 4, 1), 3.0f, T_DONE,
              WSE_ASYNC);
}

/* Element i leaves at 1 + F + i and PE 1 runs its data task at 3 + F + i;
 * PE 0's on_done runs when the last has left, at 1 + F + 3. */
static void test_fabout_scale(void)
{
    wse_error err;
    int rc;
    wse_engine *e = dsd_run(2, scale_setup, scale_start, &rc, &err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    dsd_state *s = dsd_at(e, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL_FATAL(s->log_n, 4u);
    for (uint32_t i = 0; i < 4; i++) {
        CU_ASSERT_EQUAL(s->log_value[i], pe_f32_bits(((float)i - 1.5f) * 3.0f));
        CU_ASSERT_EQUAL(s->log_cycle[i], 3u + F + i);
    }
    CU_ASSERT_EQUAL(dsd_at(e, 0)->done_cycle, 1u + F + 3);
    wse_engine_destroy(e);
}

/* Three PEs: 0 sends 16-bit values in 32-bit words on color 0; 1 adds one
 * to each as it passes (fabin + broadcast -> fabout on color 1); 2 logs. */
static void thru_setup(wse_pe *pe, dsd_state *s)
{
    int x = pe_x(pe);
    if (x == 0) {
        pe_route(pe, 0, WSE_RAMP, WSE_E);
        for (int i = 0; i < 4; i++)
            s->words[i] = 0xabcd0000u | ((0xfffeu + (uint32_t)i) & 0xffffu);
        s->remaining = 1;
        pe_activate(pe, T_START);
    } else if (x == 1) {
        pe_route(pe, 0, WSE_W, WSE_RAMP);
        pe_route(pe, 1, WSE_RAMP, WSE_E);
        s->q[0] = 1;
        s->remaining = 2;
        pe_activate(pe, T_START);
    } else {
        pe_route(pe, 1, WSE_W, WSE_RAMP);
        pe_bind_data_task(pe, 1);
        s->remaining = 4;
    }
}

static void thru_start(wse_pe *pe, dsd_state *s)
{
    if (pe_x(pe) == 0)
        pe_fabout(pe, 0, s->words, 4, 1, WSE_NO_TASK, WSE_ASYNC);
    else
        pe_dadd16(pe, pe_fabout_dsd(WSE_U16, 1, 4), pe_fabin_dsd(WSE_U16, 0, 4),
                  pe_mem1d(WSE_U16, off(s, s->q), 4, 0), T_DONE, WSE_ASYNC);
}

/* Word i reaches PE 1's CE at 3 + F + i, and the add pushes its result
 * into PE 1's router in that same cycle: PE 2 sees it at 5 + F + i, one
 * cycle later than a plain route through PE 1 would deliver it.  The
 * upper 16 bits of each input are dropped, the output's are zero. */
static void test_fabin_to_fabout(void)
{
    wse_error err;
    int rc;
    wse_engine *e = dsd_run(3, thru_setup, thru_start, &rc, &err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    dsd_state *s = dsd_at(e, 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    static const uint32_t want[4] = { 0xffff, 0x0000, 0x0001, 0x0002 };
    CU_ASSERT_EQUAL_FATAL(s->log_n, 4u);
    for (uint32_t i = 0; i < 4; i++) {
        CU_ASSERT_EQUAL(s->log_value[i], want[i]);
        CU_ASSERT_EQUAL(s->log_cycle[i], 5u + F + i);
    }
    CU_ASSERT_EQUAL(dsd_at(e, 1)->done_cycle, 3u + F + 3);
    wse_engine_stats st;
    wse_engine_stats_get(e, &st);
    CU_ASSERT_EQUAL(st.wavelets_sent, 8u);
    CU_ASSERT_EQUAL(st.wavelets_received, 8u);
    wse_engine_destroy(e);
}

/* ------------------------------------------------------------ FIFOs */

/* 0 sends NW words on color 0; 1 receives them into a 4-element FIFO and,
 * 20 cycles later, starts sending them from it on color 1; 2 logs. */
static void fifo_setup(wse_pe *pe, dsd_state *s)
{
    int x = pe_x(pe);
    if (x == 0) {
        pe_route(pe, 0, WSE_RAMP, WSE_E);
        for (int i = 0; i < NW; i++)
            s->words[i] = 0x1000u + (uint32_t)i;
        s->remaining = 1;
        pe_activate(pe, T_START);
    } else if (x == 1) {
        pe_route(pe, 0, WSE_W, WSE_RAMP);
        pe_route(pe, 1, WSE_RAMP, WSE_E);
        s->remaining = 3;
        pe_activate(pe, T_START);
    } else {
        pe_route(pe, 1, WSE_W, WSE_RAMP);
        pe_bind_data_task(pe, 1);
        s->remaining = NW;
    }
}

static void fifo_start(wse_pe *pe, dsd_state *s)
{
    if (pe_x(pe) == 0) {
        pe_fabout(pe, 0, s->words, NW, 1, WSE_NO_TASK, WSE_ASYNC);
        return;
    }
    wse_dsd fifo = pe_fifo_dsd(WSE_U32, off(s, s->fifo), 4);
    pe_dmov(pe, fifo, pe_fabin_dsd(WSE_U32, 0, NW), T_DONE, WSE_ASYNC);
    pe_charge(pe, 20, 0);
    pe_dmov(pe, pe_fabout_dsd(WSE_U32, 1, NW), fifo, T_DONE2, WSE_ASYNC);
}

/* The fill op starts at 1 + F = 3 and pushes words 0..3 as they arrive,
 * at 5..8; then the FIFO is full and words 4 and 5 wait in the CE queue.
 * The drain op starts at 1 + F + 20 + F = 25 and pops one per cycle,
 * 25..30, PE 2 seeing each 2 cycles later; each pop makes room for the
 * fill op (issued first, so served first) the next cycle: words 4 and 5
 * go in at 26 and 27, when the fill op completes (not at 10, as it would
 * with room for all 6). */
static void test_fifo(void)
{
    wse_error err;
    int rc;
    wse_engine *e = dsd_run(3, fifo_setup, fifo_start, &rc, &err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    dsd_state *s = dsd_at(e, 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL_FATAL(s->log_n, (uint32_t)NW);
    for (uint32_t i = 0; i < NW; i++) {
        CU_ASSERT_EQUAL(s->log_value[i], 0x1000u + i);
        CU_ASSERT_EQUAL(s->log_cycle[i], 27u + i);
    }
    dsd_state *m = dsd_at(e, 1);
    CU_ASSERT_EQUAL(m->t1 - m->t0, 2u * F + 20);
    CU_ASSERT_EQUAL(m->done_cycle, 27u);
    CU_ASSERT_EQUAL(m->done2_cycle, 25u + NW - 1);
    CU_ASSERT_EQUAL(m->fifo[0], (uint32_t)NW);      /* pushed */
    CU_ASSERT_EQUAL(m->fifo[1], (uint32_t)NW);      /* popped */
    CU_ASSERT_EQUAL(pe_fifo_bytes(WSE_U32, 4), 24u);
    CU_ASSERT_EQUAL(pe_fifo_bytes(WSE_U16, 3), 16u);
    wse_engine_destroy(e);
}

/* A FIFO without a fabric operand would have to block the task: refused. */
static void fifo_alone(wse_pe *pe, dsd_state *s)
{
    pe_dmov(pe, pe_mem1d(WSE_U32, off(s, s->words), 4, 1), pe_fifo_dsd(WSE_U32, off(s, s->fifo), 4),
            WSE_NO_TASK, 0);
}

static void test_fifo_needs_fabric(void)
{
    wse_error err;
    int rc;
    wse_engine *e = dsd_run(1, start_only, fifo_alone, &rc, &err);
    CU_ASSERT_EQUAL(rc, WSE_EPROGRAM);
    CU_ASSERT_STRING_EQUAL(err.msg, "PE (0,0) at cycle 0: pe_dmov: a FIFO operand needs a fabin or fabout operand beside it (the operation waits on the FIFO in flight)");
    wse_engine_destroy(e);
}

/* ------------------------------------------------------------ shards */

/* The fabric-operand scenarios give the same outputs, cycles and counters
 * with every link a shard edge as in one shard. */
static void test_shards(void)
{
    static const struct {
        void (*setup)(wse_pe *, dsd_state *);
        void (*start)(wse_pe *, dsd_state *);
        int w;
    } sc[] = { { fmac_setup, fmac_start, 2 }, { scale_setup, scale_start, 2 },
               { thru_setup, thru_start, 3 }, { fifo_setup, fifo_start, 3 } };
    for (size_t i = 0; i < sizeof sc / sizeof sc[0]; i++) {
        wse_topology t = dsd_topology(sc[i].w);
        dsd_params p = { sc[i].setup, sc[i].start };
        harness_outcome one = harness_run(&dsd_program, &p, &t, sc[i].w, 1, 1, 1, 0, 0);
        harness_outcome cut = harness_run(&dsd_program, &p, &t, sc[i].w, 1, sc[i].w, 1, 0, 0);
        CU_ASSERT_EQUAL(one.rc, 0);
        CU_ASSERT(one.st.cycles > 0);
        harness_same(&one, &cut);
    }
}

int test_dsd_suite(void)
{
    CU_pSuite s = CU_add_suite("dsd", NULL, NULL);
    if (!s ||
        !CU_add_test(s, "2D, reversed, transposed and 4D descriptors", test_strided) ||
        !CU_add_test(s, "binary16 rounding against a double reference", test_f16_conversion) ||
        !CU_add_test(s, "fp16 ops and fp16 x fp16 + fp32", test_f16_and_mixed) ||
        !CU_add_test(s, "16-bit integer ops wrap; 32-bit and byte moves", test_int16) ||
        !CU_add_test(s, "bad descriptors fail and do nothing", test_errors) ||
        !CU_add_test(s, "FMAC with a fabin operand", test_fabin_fmac) ||
        !CU_add_test(s, "scale into a fabout", test_fabout_scale) ||
        !CU_add_test(s, "synchronous, and WSE_FABIN_ADD is a descriptor add", test_sync_and_fabin_add) ||
        !CU_add_test(s, "fabin + memory -> fabout", test_fabin_to_fabout) ||
        !CU_add_test(s, "a FIFO between a fabin and a fabout", test_fifo) ||
        !CU_add_test(s, "fabric arithmetic takes the datapath from a running task", test_datapath_shared) ||
        !CU_add_test(s, "SRAM ports bound vector operations", test_sram_bandwidth) ||
        !CU_add_test(s, "a FIFO needs a fabric operand", test_fifo_needs_fabric) ||
        !CU_add_test(s, "fabric operands across shard edges", test_shards))
        return CU_get_error();
    return 0;
}
