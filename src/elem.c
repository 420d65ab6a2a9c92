/*
 * src/elem.c - the element kernel of descriptor operations (elem_int.h).
 *
 * binary16 is converted in plain integer C rather than with the
 * compiler's _Float16: GCC accepts that type on x86-64 only as an
 * extension (-pedantic rejects it) and other compilers differ, while the
 * bit manipulation below gives the same result everywhere.
 *
 * Every float operation computes in fp32 and rounds to the destination's
 * type once.  Elements go through memcpy, so no access depends on the
 * host's alignment rules.
 */
#include <math.h>
#include <string.h>
#include "elem_int.h"

unsigned wse__elem_size(int dtype)
{
    switch (dtype) {
    case WSE_F32: case WSE_I32: case WSE_U32: return 4;
    case WSE_F16: case WSE_I16: case WSE_U16: return 2;
    case WSE_U8: return 1;
    default: return 0;
    }
}

/* ------------------------------------------------------------ binary16 */

uint32_t wse__f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
    if (exp == 0x1f)                    /* inf, NaN (payload kept) */
        return sign | 0x7f800000u | (man << 13);
    if (exp == 0) {
        if (man == 0)
            return sign;
        /* subnormal: value man * 2^-24, normal in fp32 */
        int e = -14;
        while (!(man & 0x400u)) {
            man <<= 1;
            e--;
        }
        return sign | ((uint32_t)(e + 127) << 23) | ((man & 0x3ffu) << 13);
    }
    return sign | ((exp - 15 + 127) << 23) | (man << 13);
}

/* q plus one if the `bits` low bits dropped from it (rem) are more than
 * half a unit, or exactly half and q is odd: round to nearest even. */
static uint32_t round_even(uint32_t q, uint32_t rem, unsigned bits)
{
    uint32_t half = 1u << (bits - 1);
    return q + (rem > half || (rem == half && (q & 1u)));
}

uint16_t wse__f32_to_f16(uint32_t f)
{
    uint32_t sign = (f >> 16) & 0x8000u;
    uint32_t exp = (f >> 23) & 0xffu, man = f & 0x7fffffu;
    if (exp == 0xff)                    /* inf; NaN made quiet, top payload kept */
        return (uint16_t)(sign | 0x7c00u | (man ? 0x200u | (man >> 13) : 0u));
    int e = (int)exp - 127 + 15;        /* binary16 biased exponent */
    if (e >= 31)
        return (uint16_t)(sign | 0x7c00u);
    if (e <= 0) {
        /* subnormal result: units of 2^-24 are m * 2^(exp - 126) */
        uint32_t m = exp ? man | 0x800000u : man;
        unsigned shift = (unsigned)(126 - (int)exp);
        if (shift >= 25)                /* below half the least subnormal */
            return (uint16_t)sign;
        uint32_t q = round_even(m >> shift, m & ((1u << shift) - 1u), shift);
        return (uint16_t)(sign | q);    /* q == 0x400 is the least normal */
    }
    /* a carry out of the mantissa bumps the exponent, up to infinity */
    uint32_t h = ((uint32_t)e << 10) | (man >> 13);
    return (uint16_t)(sign | round_even(h, man & 0x1fffu, 13));
}

/* ------------------------------------------------------------ elements */

int64_t wse__elem_pos(const wse_dsd *d, uint32_t i)
{
    if (d->ndim <= 1)
        return (int64_t)i * d->stride[0];
    int64_t p = 0;
    for (int k = 0; k < d->ndim; k++) {
        uint32_t ext = (uint32_t)d->extent[k];
        p += (int64_t)(i % ext) * d->stride[k];
        i /= ext;
    }
    return p;
}

/* A FIFO's counters (pushed, popped) sit at o->off, its elements after
 * them.  A program may scribble on the counters: indices are taken modulo
 * the capacity, so that can garble the data but never leave the buffer. */
static void fifo_counts(const wse_dsd *o, const uint8_t *base, uint32_t c[2])
{
    memcpy(c, base + o->off, 8);
}

static uint8_t *fifo_slot(const wse_dsd *o, uint8_t *base, int pop)
{
    uint32_t c[2];
    fifo_counts(o, base, c);
    uint32_t k = c[pop]++;
    memcpy(base + o->off, c, 8);
    return base + o->off + 8 + (int64_t)(k % (uint32_t)o->extent[0]) * wse__elem_size(o->dtype);
}

int wse__elem_ready(const wse_elem_op *op, const uint8_t *base)
{
    for (int k = 0; k < 4; k++) {
        const wse_dsd *o = &op->opd[k];
        if (o->kind != WSE_DSD_FIFO)
            continue;
        uint32_t c[2];
        fifo_counts(o, base, c);
        uint32_t held = c[0] - c[1];
        if (k == 0 ? held >= (uint32_t)o->extent[0] : held == 0)
            return 0;
    }
    return 1;
}

/* The element at position pos (in elements from o->off) of memory operand
 * o, or the next slot of FIFO o (pop: as a source). */
static uint8_t *elem_addr(const wse_dsd *o, uint8_t *base, int64_t pos, int pop)
{
    if (o->kind == WSE_DSD_FIFO)
        return fifo_slot(o, base, pop);
    return base + o->off + pos * (int64_t)wse__elem_size(o->dtype);
}

/* Source o's element at pos as bits (zero-extended); w is the fabin
 * wavelet. */
static uint32_t load(const wse_dsd *o, uint8_t *base, int64_t pos, uint32_t w)
{
    unsigned sz = wse__elem_size(o->dtype);
    uint32_t v = w;
    if (o->kind == WSE_DSD_MEM || o->kind == WSE_DSD_FIFO) {
        uint8_t *p = elem_addr(o, base, pos, 1);
        uint16_t v16;
        switch (sz) {
        case 1: v = *p; break;
        case 2: memcpy(&v16, p, 2); v = v16; break;
        default: memcpy(&v, p, 4); break;
        }
    }
    return sz == 4 ? v : v & ((1u << (8 * sz)) - 1u);
}

static void store(const wse_dsd *o, uint8_t *base, int64_t pos, uint32_t v)
{
    if (o->kind != WSE_DSD_MEM && o->kind != WSE_DSD_FIFO)
        return;
    uint8_t *p = elem_addr(o, base, pos, 0);
    uint16_t v16 = (uint16_t)v;
    uint8_t v8 = (uint8_t)v;
    switch (wse__elem_size(o->dtype)) {
    case 1: memcpy(p, &v8, 1); break;
    case 2: memcpy(p, &v16, 2); break;
    default: memcpy(p, &v, 4); break;
    }
}

static float to_float(int dtype, uint32_t bits)
{
    return pe_bits_f32(dtype == WSE_F16 ? wse__f16_to_f32((uint16_t)bits) : bits);
}

static uint32_t from_float(int dtype, float f)
{
    uint32_t bits = pe_f32_bits(f);
    return dtype == WSE_F16 ? wse__f32_to_f16(bits) : bits;
}

float wse__elem_fcompute(int code, float a, float b, float c)
{
    switch (code) {
    case EL_ADD: return a + b;
    case EL_SUB: return a - b;
    case EL_MUL: case EL_SCALE: return a * b;
    case EL_MAX: return fmaxf(a, b);
    case EL_NEG: return -a;
    default: return a + b * c;          /* EL_FMAC, EL_FMA */
    }
}

/* An arithmetic right shift of a 16-bit pattern, without relying on how
 * C shifts negative numbers. */
static uint32_t sra16(uint32_t a, unsigned s)
{
    return (a & 0x8000u) ? (~(~a & 0xffffu) >> s) & 0xffffu : a >> s;
}

static uint32_t int16_op(int code, uint32_t a, uint32_t b, uint32_t s)
{
    switch (code) {
    case EL_ADD16: return (a + b) & 0xffffu;
    case EL_SUB16: return (a - b) & 0xffffu;
    case EL_AND16: return a & b;
    case EL_OR16: return a | b;
    case EL_XOR16: return a ^ b;
    case EL_SLL16: return (a << s) & 0xffffu;
    case EL_SRL16: return a >> s;
    default: return sra16(a, s);        /* EL_SRA16 */
    }
}

/* One element, each operand k at element position pos[k]. */
static uint32_t step_at(const wse_elem_op *op, uint8_t *base, const int64_t *pos, uint32_t w)
{
    const wse_dsd *d = &op->opd[0], *a = &op->opd[1], *b = &op->opd[2], *c = &op->opd[3];
    uint32_t va = a->kind ? load(a, base, pos[1], w) : 0;
    uint32_t vb = b->kind ? load(b, base, pos[2], w) : 0;
    uint32_t r;
    if (op->code == EL_MOV) {
        r = va;
        if ((d->dtype == WSE_F16) != (a->dtype == WSE_F16) && (d->dtype == WSE_F32 || a->dtype == WSE_F32))
            r = from_float(d->dtype, to_float(a->dtype, va));
    } else if (op->code == EL_SET) {
        r = op->s;
    } else if (op->code >= EL_ADD16) {
        r = int16_op(op->code, va, vb, op->s);
    } else {
        float fb = b->kind ? to_float(b->dtype, vb) : pe_bits_f32(op->s);
        float fc = c->kind ? to_float(c->dtype, load(c, base, pos[3], w)) : pe_bits_f32(op->s);
        r = from_float(d->dtype, wse__elem_fcompute(op->code, to_float(a->dtype, va), fb, fc));
    }
    store(d, base, pos[0], r);
    return r;
}

uint32_t wse__elem_step(const wse_elem_op *op, uint8_t *base, uint32_t i, uint32_t w)
{
    int64_t pos[4];
    for (int k = 0; k < 4; k++)
        pos[k] = op->opd[k].kind == WSE_DSD_MEM ? wse__elem_pos(&op->opd[k], i) : 0;
    return step_at(op, base, pos, w);
}

/* Memory operand d's walk, element by element in order: its position
 * follows from the previous one (no division per element). */
typedef struct walk {
    int32_t idx[WSE_DSD_DIMS];
} walk;

static void walk_next(const wse_dsd *d, walk *w, int64_t *pos)
{
    *pos += d->stride[0];
    if (++w->idx[0] < d->extent[0])
        return;
    for (int k = 0; k + 1 < d->ndim; k++) {
        /* dimension k wraps: back to its start, one step in k + 1 */
        w->idx[k] = 0;
        *pos += (int64_t)d->stride[k + 1] - (int64_t)d->extent[k] * d->stride[k];
        if (++w->idx[k + 1] < d->extent[k + 1])
            return;
    }
}

/* Every memory operand of op on to its next element. */
static void walk_ops(const wse_elem_op *op, walk *w, int64_t *pos)
{
    for (int k = 0; k < 4; k++)
        if (op->opd[k].kind == WSE_DSD_MEM)
            walk_next(&op->opd[k], &w[k], &pos[k]);
}

/* Whether op is float arithmetic on fp32 memory operands only: the
 * common case, done without step_at's per-element type dispatch. */
static int all_f32(const wse_elem_op *op)
{
    for (int k = 0; k < 4; k++)
        if (op->opd[k].kind != WSE_DSD_NONE &&
            (op->opd[k].kind != WSE_DSD_MEM || op->opd[k].dtype != WSE_F32))
            return 0;
    return op->code >= EL_ADD && op->code <= EL_FMA;
}

static inline float ld_f32(const uint8_t *base, const wse_dsd *o, int64_t pos)
{
    float f;
    memcpy(&f, base + o->off + pos * 4, 4);
    return f;
}

/* step_at's float branch for all_f32 ops, element by element in order
 * (the same arithmetic, so the same bits). */
static void run_f32(const wse_elem_op *op, uint8_t *base, uint32_t n)
{
    const wse_dsd *d = &op->opd[0], *a = &op->opd[1], *b = &op->opd[2], *c = &op->opd[3];
    int64_t pos[4] = { 0, 0, 0, 0 };
    walk w[4];
    memset(w, 0, sizeof w);
    float s = pe_bits_f32(op->s);
    for (uint32_t i = 0; i < n; i++) {
        float fa = ld_f32(base, a, pos[1]);
        float fb = b->kind ? ld_f32(base, b, pos[2]) : s;
        float fc = c->kind ? ld_f32(base, c, pos[3]) : s;
        float r = wse__elem_fcompute(op->code, fa, fb, fc);
        memcpy(base + d->off + pos[0] * 4, &r, 4);
        walk_ops(op, w, pos);
    }
}

void wse__elem_run(const wse_elem_op *op, uint8_t *base, uint32_t n)
{
    if (all_f32(op)) {
        run_f32(op, base, n);
        return;
    }
    int64_t pos[4] = { 0, 0, 0, 0 };
    walk w[4];
    memset(w, 0, sizeof w);
    for (uint32_t i = 0; i < n; i++) {
        step_at(op, base, pos, 0);
        walk_ops(op, w, pos);
    }
}
