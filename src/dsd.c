/*
 * src/dsd.c - descriptor operations of the PE API (wse/pe.h, section
 * "descriptors").
 *
 * Each operation is checked whole before anything happens: the phase, the
 * operands' kinds, types and lengths, every memory element against the
 * PE's allocations, colors and routes.  A misuse fails the run naming the
 * operation and the call does nothing, so a program's native code never
 * touches memory it does not own.  Then an operation with no fabric
 * operand runs at once through the element kernel (elem.c) and charges
 * vector costs; one with a fabric operand becomes a fabric operation in
 * flight (ce.c), which keeps its operands in a side record so that the
 * per-op struct every PE carries stays as small as before.
 */
#include <string.h>
#include "ce_int.h"
#include "elem_int.h"
#include "fault_int.h"
#include "router_int.h"
#include "sched_int.h"
#include "sram_int.h"

/* More elements than any SRAM holds even with stride 0 makes no sense, and
 * bounding it keeps every count below overflow. */
#define DSD_MAX_LENGTH (1u << 24)

static const char *const role[4] = { "d", "a", "b", "c" };

uint16_t pe_f32_to_f16(float f) { return wse__f32_to_f16(pe_f32_bits(f)); }
float pe_f16_to_f32(uint16_t h) { return pe_bits_f32(wse__f16_to_f32(h)); }

static int fail(wse_pe *pe, const char *what, const char *why)
{
    wse__fault_pe(pe->e, pe->idx, WSE_EPROGRAM, "%s: %s", what, why);
    return 1;
}

/* ------------------------------------------------------------ checks */

/* The phase, the flags and on_done. */
static int bad_call(wse_pe *pe, const char *what, int on_done, unsigned flags)
{
    wse_engine *e = pe->e;
    if (pe->in_setup || pe->halo) {
        wse__fault_pe(e, pe->idx, WSE_EPROGRAM,
                      "%s is not allowed in setup: activate a task that issues it", what);
        return 1;
    }
    if (flags & ~(WSE_ASYNC | WSE_UT_MASK)) {
        wse__fault_pe(e, pe->idx, WSE_EPROGRAM, "%s: flags 0x%x: only WSE_ASYNC and WSE_UT apply", what, flags);
        return 1;
    }
    int ut;
    if (wse__ce_bad_ut(e, pe->idx, flags, &ut, what))
        return 1;
    if (on_done == WSE_NO_TASK)
        return 0;
    const wse_pestate *p = &e->pe[pe->idx];
    if (on_done < 0 || on_done >= WSE_MAX_TASKS ||
        !(((p->local_tasks | p->data_tasks) >> on_done) & 1)) {
        wse__fault_pe(e, pe->idx, WSE_EPROGRAM, "%s: on_done %d is not a bound data or local task",
                      what, on_done);
        return 1;
    }
    return 0;
}

/* Operand k's shape: a known type, 1..4 dimensions, extents >= 1, at most
 * DSD_MAX_LENGTH elements; unused dimensions are made neutral.  *n gets
 * the length. */
static int bad_shape(wse_pe *pe, const char *what, int k, wse_dsd *o, uint32_t *n)
{
    if (!wse__elem_size(o->dtype)) {
        wse__fault_pe(pe->e, pe->idx, WSE_EPROGRAM, "%s: operand %s: dtype %d is not an element type",
                      what, role[k], o->dtype);
        return 1;
    }
    if (o->kind != WSE_DSD_MEM)
        o->ndim = 1;
    if (o->kind == WSE_DSD_FIFO) {      /* extent[0] is the capacity */
        if (o->extent[0] < 1 || o->extent[0] > WSE_MAX_OP_LENGTH) {
            wse__fault_pe(pe->e, pe->idx, WSE_EPROGRAM, "%s: operand %s: FIFO capacity %d is not in 1..%d",
                          what, role[k], o->extent[0], WSE_MAX_OP_LENGTH);
            return 1;
        }
        for (int j = 1; j < WSE_DSD_DIMS; j++)
            o->extent[j] = 1;
        *n = 0;                         /* it takes the others' length */
        return 0;
    }
    if (o->ndim < 1 || o->ndim > WSE_DSD_DIMS) {
        wse__fault_pe(pe->e, pe->idx, WSE_EPROGRAM, "%s: operand %s: %d dimensions (1..%d)",
                      what, role[k], o->ndim, WSE_DSD_DIMS);
        return 1;
    }
    uint64_t len = 1;
    for (int j = 0; j < WSE_DSD_DIMS; j++) {
        if (j >= o->ndim) {
            o->extent[j] = 1;
            o->stride[j] = 0;
            continue;
        }
        if (o->extent[j] < 1 || (len *= (uint64_t)o->extent[j]) > DSD_MAX_LENGTH) {
            wse__fault_pe(pe->e, pe->idx, WSE_EPROGRAM,
                          "%s: operand %s: extent %d of dimension %d must be at least 1 (and the length at most %u)",
                          what, role[k], o->extent[j], j, DSD_MAX_LENGTH);
            return 1;
        }
    }
    *n = (uint32_t)len;
    return 0;
}

/* Every element of memory operand k lies inside the PE's allocations, at
 * an offset aligned to its size. */
static int bad_memory(wse_pe *pe, const char *what, int k, const wse_dsd *o)
{
    int64_t sz = wse__elem_size(o->dtype), lo = 0, hi = 0;
    if (o->kind == WSE_DSD_FIFO) {      /* counters, then the elements */
        sz = 4;
        hi = (8 + (int64_t)o->extent[0] * wse__elem_size(o->dtype) + 3) / 4 - 1;
    } else
    for (int j = 0; j < o->ndim; j++) {
        int64_t span = (int64_t)(o->extent[j] - 1) * o->stride[j];
        *(span > 0 ? &hi : &lo) += span;
    }
    int64_t first = (int64_t)o->off + lo * sz, end = (int64_t)o->off + hi * sz + sz;
    uint32_t used = pe->e->pe[pe->idx].sram_used;
    if (o->off % sz) {
        wse__fault_pe(pe->e, pe->idx, WSE_EPROGRAM,
                      "%s: operand %s: offset %u is not a multiple of its %d-byte elements",
                      what, role[k], o->off, (int)sz);
        return 1;
    }
    if (first < 0 || end > (int64_t)used) {
        wse__fault_pe(pe->e, pe->idx, WSE_EPROGRAM,
                      "%s: operand %s: elements span bytes %lld..%lld, outside this PE's %u bytes of allocations",
                      what, role[k], (long long)first, (long long)end - 1, used);
        return 1;
    }
    return 0;
}

/* Operand kinds: the destination in memory or fabout, sources in memory or
 * one fabin; the operands code needs are there. */
static int bad_kinds(wse_pe *pe, const char *what, const wse_elem_op *op, int nsrc)
{
    int fabin = 0;
    int d = op->opd[0].kind;
    if (d != WSE_DSD_MEM && d != WSE_DSD_FABOUT && d != WSE_DSD_FIFO)
        return fail(pe, what, "the destination d must be a memory, fabout or FIFO descriptor");
    for (int k = 1; k <= nsrc; k++) {
        int kind = op->opd[k].kind;
        if (kind != WSE_DSD_MEM && kind != WSE_DSD_FABIN && kind != WSE_DSD_FIFO) {
            wse__fault_pe(pe->e, pe->idx, WSE_EPROGRAM,
                          "%s: source %s must be a memory, fabin or FIFO descriptor", what, role[k]);
            return 1;
        }
        fabin += kind == WSE_DSD_FABIN;
    }
    if (fabin > 1)
        return fail(pe, what, "at most one source may be a fabin descriptor");
    return 0;
}

static int is_float(int dtype) { return dtype == WSE_F32 || dtype == WSE_F16; }
static int is_int16(int dtype) { return dtype == WSE_I16 || dtype == WSE_U16; }

/* Element types fit the operation. */
static int bad_types(wse_pe *pe, const char *what, const wse_elem_op *op, int nopd)
{
    const wse_dsd *d = &op->opd[0], *a = &op->opd[1];
    if (op->code == EL_SET)
        return 0;
    if (op->code == EL_MOV) {
        int convert = is_float(d->dtype) && is_float(a->dtype);
        if (!convert && wse__elem_size(d->dtype) != wse__elem_size(a->dtype))
            return fail(pe, what, "d and a must have elements of the same size (or be F32 and F16)");
        return 0;
    }
    int int16 = op->code >= EL_ADD16;
    for (int k = 0; k < nopd; k++)
        if (int16 ? !is_int16(op->opd[k].dtype) : !is_float(op->opd[k].dtype)) {
            wse__fault_pe(pe->e, pe->idx, WSE_EPROGRAM, "%s: operand %s must be %s", what, role[k],
                          int16 ? "I16 or U16" : "F32 or F16");
            return 1;
        }
    return 0;
}

/* Fabric operand o's color and route; *queue gets its queue (a fabin's
 * only CE queue, or WSE_NONE if it has several). */
static int bad_fabric(wse_pe *pe, const char *what, const wse_dsd *o, uint32_t *queue, int *one)
{
    wse_engine *e = pe->e;
    if (o->color < 0 || o->color >= e->topo.host_io_first_color) {   /* a program's colors */
        wse__fault_pe(e, pe->idx, WSE_EPROGRAM, "%s: color %d is not in 0..%d", what, o->color,
                      e->topo.host_io_first_color - 1);
        return 1;
    }
    if (o->kind == WSE_DSD_FABIN) {
        unsigned nq = wse__router_ce_queues(e, pe->idx, o->color, queue);
        if (nq == 0) {
            wse__fault_pe(e, pe->idx, WSE_EPROGRAM, "%s: no route delivers color %d to the CE (tx RAMP)",
                          what, o->color);
            return 1;
        }
        *one = nq == 1;
        if (!*one)
            *queue = WSE_NONE;
        return 0;
    }
    *queue = wse__router_ramp_queue(e, pe->idx, o->color);
    if (*queue == WSE_NONE) {
        wse__fault_pe(e, pe->idx, WSE_EPROGRAM, "%s: color %d has no route with RAMP in rx", what,
                      o->color);
        return 1;
    }
    return 0;
}

/* ------------------------------------------------------------ issue */

/* An operation with no fabric operand: do it now, charge it like a
 * vector op. */
static void run_now(wse_pe *pe, const wse_elem_op *op, uint32_t n, int narrow, unsigned rd,
                    int on_done)
{
    wse__elem_run(op, sram_base(pe->e, pe->idx), n);
    const wse_topology *t = &pe->e->topo;
    pe->charged += wse__vector_cycles(t, n, narrow ? t->simd_fp16 : t->simd_fp32, rd,
                                      op->sram_bytes - rd);
    wse_pecount *c = &pe->e->cnt[pe->idx];
    c->flops += (uint64_t)n * op->flops;
    c->sram_bytes += (uint64_t)n * op->sram_bytes;
    if (on_done != WSE_NO_TASK)
        pe_activate(pe, on_done);
}

/* Whether op's elements need the datapath: everything but bit copies and
 * fills (a mov between F32 and F16 converts). */
static int computes(const wse_elem_op *op)
{
    if (op->code == EL_SET)
        return 0;
    return op->code != EL_MOV || wse__elem_size(op->opd[0].dtype) != wse__elem_size(op->opd[1].dtype);
}

/* An operation with a fabric operand: a fabric op in flight, issued the
 * way pe_fabin and pe_fabout issue theirs. */
static void issue_fabric(wse_pe *pe, const char *what, const wse_elem_op *op, uint32_t n,
                         int on_done, unsigned flags)
{
    wse_engine *e = pe->e;
    int in = -1;
    for (int k = 1; k < 4; k++)
        if (op->opd[k].kind == WSE_DSD_FABIN)
            in = k;
    int out = op->opd[0].kind == WSE_DSD_FABOUT;
    if (n > WSE_MAX_OP_LENGTH) {
        wse__fault_pe(e, pe->idx, WSE_EPROGRAM, "%s: a fabric operand's length %u is over %d", what,
                      n, WSE_MAX_OP_LENGTH);
        return;
    }
    uint32_t in_queue = WSE_NONE, out_queue = WSE_NONE;
    int one = 0, dummy;
    if ((in >= 0 && bad_fabric(pe, what, &op->opd[in], &in_queue, &one)) ||
        (out && bad_fabric(pe, what, &op->opd[0], &out_queue, &dummy)))
        return;
    int ut = (int)((flags & WSE_UT_MASK) >> 8) - 1;     /* checked by bad_call */
    if (wse__ce_over_resources(e, pe->idx, in >= 0 ? op->opd[in].color : -1,
                               out ? op->opd[0].color : -1, flags, ut, what))
        return;
    uint32_t xi = wse__ce_opx_new(e);
    wse_op *o = xi == WSE_NONE ? NULL : wse__ce_op_push(e, pe->idx);
    if (!o) {
        if (xi != WSE_NONE)
            wse__ce_opx_release(e, xi);
        wse__fault_pe(e, pe->idx, WSE_ENOMEM, "%s: too many fabric operations in progress", what);
        return;
    }
    e->opx[xi].el = *op;
    e->opx[xi].out_queue = out_queue;
    pe->charged += (uint64_t)e->topo.fabric_startup_cycles;
    uint64_t start = pe->now + pe->charged;
    start = start > pe->now ? start : pe->now + 1;
    o->start = (uint32_t)start;
    o->addr = xi;
    o->queue = in_queue;
    o->stride = 0;
    o->n = (uint16_t)n;
    o->done = 0;
    o->on_done = (int8_t)on_done;
    o->kind = (uint8_t)(in >= 0 && out ? OP_DSD_THRU : in >= 0 ? OP_DSD_IN : OP_DSD_OUT) & 15u;
    o->ut = (uint8_t)(ut + 1) & 15u;
    o->flags = (uint8_t)((flags & (WSE_ASYNC | WSE_CONTROL)) | (one ? OPF_ONE_QUEUE : 0u) |
                         (computes(op) ? OPF_COMPUTES : 0u));
    o->color = (uint8_t)op->opd[in >= 0 ? in : 0].color;
    if (!(flags & WSE_ASYNC))
        e->pe[pe->idx].flags |= PE_SYNC_WAIT;
    sched_wake(e, pe->idx, start);
}

static int flops_of(int code)
{
    switch (code) {
    case EL_ADD: case EL_SUB: case EL_MUL: case EL_SCALE: return 1;
    case EL_FMAC: case EL_FMA: return 2;
    default: return 0;
    }
}

/* Check operation code on d and its sources, then run or issue it. */
static void issue(wse_pe *pe, const char *what, int code, wse_dsd d, const wse_dsd *src,
                  int nsrc, uint32_t s, int on_done, unsigned flags)
{
    if (bad_call(pe, what, on_done, flags))
        return;
    wse_elem_op op;
    memset(&op, 0, sizeof op);
    op.code = (uint8_t)code;
    op.s = s;
    op.opd[0] = d;
    for (int k = 0; k < nsrc; k++)
        op.opd[1 + k] = src[k];
    if (bad_kinds(pe, what, &op, nsrc))
        return;
    uint32_t n = 0;
    int fabric = 0, fifo = 0, narrow = 1, first = -1;
    unsigned rd = 0;                    /* SRAM bytes read per element */
    for (int k = 0; k <= nsrc; k++) {
        wse_dsd *o = &op.opd[k];
        uint32_t len;
        int in_sram = o->kind == WSE_DSD_MEM || o->kind == WSE_DSD_FIFO;
        if (bad_shape(pe, what, k, o, &len) || (in_sram && bad_memory(pe, what, k, o)))
            return;
        if (o->kind == WSE_DSD_FIFO) {
            fifo = 1;
        } else if (first < 0) {
            first = k;
            n = len;
        } else if (len != n) {
            wse__fault_pe(pe->e, pe->idx, WSE_EPROGRAM, "%s: operand %s has %u elements, %s has %u",
                          what, role[k], len, role[first], n);
            return;
        }
        unsigned sz = wse__elem_size(o->dtype);
        narrow &= sz <= 2;
        fabric |= !in_sram;
        if (in_sram)
            op.sram_bytes = (uint16_t)(op.sram_bytes + sz);
        if (in_sram && k > 0)
            rd += sz;
    }
    if (fifo && !fabric) {
        fail(pe, what, "a FIFO operand needs a fabin or fabout operand beside it (the operation waits on the FIFO in flight)");
        return;
    }
    if (bad_types(pe, what, &op, nsrc + 1))
        return;
    /* an all-fp16 operation takes its scalar as fp16 too */
    if (narrow && code >= EL_SCALE && code <= EL_FMAC)
        op.s = wse__f16_to_f32(wse__f32_to_f16(op.s));
    op.flops = (uint8_t)flops_of(code);
    if (fabric)
        issue_fabric(pe, what, &op, n, on_done, flags);
    else
        run_now(pe, &op, n, narrow, rd, on_done);
}

/* ------------------------------------------------------------ the API */

void pe_dmov(wse_pe *pe, wse_dsd d, wse_dsd a, int on_done, unsigned flags)
{
    issue(pe, "pe_dmov", EL_MOV, d, &a, 1, 0, on_done, flags);
}

void pe_dfill(wse_pe *pe, wse_dsd d, float s, int on_done, unsigned flags)
{
    if (d.dtype != WSE_F32 && d.dtype != WSE_F16) {
        if (!bad_call(pe, "pe_dfill", on_done, flags))
            fail(pe, "pe_dfill", "operand d must be F32 or F16 (pe_dfill_bits fills any type)");
        return;
    }
    uint32_t bits = pe_f32_bits(s);
    issue(pe, "pe_dfill", EL_SET, d, NULL, 0, d.dtype == WSE_F16 ? wse__f32_to_f16(bits) : bits,
          on_done, flags);
}

void pe_dfill_bits(wse_pe *pe, wse_dsd d, uint32_t v, int on_done, unsigned flags)
{
    unsigned sz = wse__elem_size(d.dtype);
    issue(pe, "pe_dfill_bits", EL_SET, d, NULL, 0, sz == 4 || !sz ? v : v & ((1u << (8 * sz)) - 1u),
          on_done, flags);
}

#define DSD_BINARY(name, code)                                                              \
    void name(wse_pe *pe, wse_dsd d, wse_dsd a, wse_dsd b, int on_done, unsigned flags)   \
    {                                                                                       \
        wse_dsd src[2] = { a, b };                                                          \
        issue(pe, #name, code, d, src, 2, 0, on_done, flags);                               \
    }
DSD_BINARY(pe_dadd, EL_ADD)
DSD_BINARY(pe_dsub, EL_SUB)
DSD_BINARY(pe_dmul, EL_MUL)
DSD_BINARY(pe_dmax, EL_MAX)
DSD_BINARY(pe_dadd16, EL_ADD16)
DSD_BINARY(pe_dsub16, EL_SUB16)
DSD_BINARY(pe_dand16, EL_AND16)
DSD_BINARY(pe_dor16, EL_OR16)
DSD_BINARY(pe_dxor16, EL_XOR16)

void pe_dneg(wse_pe *pe, wse_dsd d, wse_dsd a, int on_done, unsigned flags)
{
    issue(pe, "pe_dneg", EL_NEG, d, &a, 1, 0, on_done, flags);
}

void pe_dscale(wse_pe *pe, wse_dsd d, wse_dsd a, float s, int on_done, unsigned flags)
{
    issue(pe, "pe_dscale", EL_SCALE, d, &a, 1, pe_f32_bits(s), on_done, flags);
}

void pe_dfmac(wse_pe *pe, wse_dsd d, wse_dsd a, wse_dsd b, float s, int on_done, unsigned flags)
{
    wse_dsd src[2] = { a, b };
    issue(pe, "pe_dfmac", EL_FMAC, d, src, 2, pe_f32_bits(s), on_done, flags);
}

void pe_dfma(wse_pe *pe, wse_dsd d, wse_dsd a, wse_dsd b, wse_dsd c, int on_done, unsigned flags)
{
    wse_dsd src[3] = { a, b, c };
    issue(pe, "pe_dfma", EL_FMA, d, src, 3, 0, on_done, flags);
}

/* Shifts: the count must be 0..15. */
static void shift16(wse_pe *pe, const char *what, int code, wse_dsd d, wse_dsd a, int shift,
                    int on_done, unsigned flags)
{
    if (shift < 0 || shift > 15) {
        if (!bad_call(pe, what, on_done, flags))
            wse__fault_pe(pe->e, pe->idx, WSE_EPROGRAM, "%s: shift %d is not in 0..15", what, shift);
        return;
    }
    issue(pe, what, code, d, &a, 1, (uint32_t)shift, on_done, flags);
}

void pe_dsll16(wse_pe *pe, wse_dsd d, wse_dsd a, int shift, int on_done, unsigned flags)
{
    shift16(pe, "pe_dsll16", EL_SLL16, d, a, shift, on_done, flags);
}

void pe_dsrl16(wse_pe *pe, wse_dsd d, wse_dsd a, int shift, int on_done, unsigned flags)
{
    shift16(pe, "pe_dsrl16", EL_SRL16, d, a, shift, on_done, flags);
}

void pe_dsra16(wse_pe *pe, wse_dsd d, wse_dsd a, int shift, int on_done, unsigned flags)
{
    shift16(pe, "pe_dsra16", EL_SRA16, d, a, shift, on_done, flags);
}
