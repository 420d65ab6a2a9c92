/*
 * src/elem_int.h - the element kernel of descriptor operations: binary16
 * conversions, where a descriptor's element i lies, and what one element
 * of an operation computes.  It knows nothing of the engine, so both the
 * PE API (dsd.c: operations done at once) and the compute engine (ce.c:
 * operations in flight, one element per wavelet) build on it.
 */
#ifndef WSE_ELEM_INT_H
#define WSE_ELEM_INT_H

#include <stdint.h>
#include "wse/pe.h"

/* What an operation does per element (d = destination). */
enum {
    EL_MOV = 0,     /* d = a: bit copy, or F32 <-> F16 conversion */
    EL_SET,         /* d = s, already in d's element type */
    EL_ADD, EL_SUB, EL_MUL, EL_MAX,
    EL_NEG,         /* d = -a */
    EL_SCALE,       /* d = a * s */
    EL_FMAC,        /* d = a + b * s */
    EL_FMA,         /* d = a + b * c */
    EL_ADD16, EL_SUB16, EL_AND16, EL_OR16, EL_XOR16,
    EL_SLL16, EL_SRL16, EL_SRA16,       /* a shifted by s */
    EL_COUNT
};

/* An operation with its operands d, a, b, c (kind WSE_DSD_NONE when
 * unused), checked by the PE API before it gets here. */
typedef struct wse_elem_op {
    wse_dsd opd[4];
    uint32_t s;             /* scalar: fp32 bits, element bits or shift */
    uint8_t code;           /* EL_* */
    uint8_t flops;          /* counted per element */
    uint16_t sram_bytes;    /* of memory operands, per element */
} wse_elem_op;

/* Bytes per element of dtype, or 0 if it is not one. */
unsigned wse__elem_size(int dtype);
/* IEEE binary16 <-> binary32, on bit patterns (round to nearest even). */
uint16_t wse__f32_to_f16(uint32_t f);
uint32_t wse__f16_to_f32(uint16_t h);
/* The fp32 arithmetic of float code (EL_ADD .. EL_FMA) on one element. */
float wse__elem_fcompute(int code, float a, float b, float c);
/* Element i's position in memory descriptor d, in elements from d->off. */
int64_t wse__elem_pos(const wse_dsd *d, uint32_t i);
/* Do element i of op on the SRAM at base (which d's and the sources'
 * offsets count from); w is the fabin wavelet if a source is one.
 * Writes a memory destination; returns the result as a wavelet (the low
 * bits for 16-bit and 8-bit elements). */
uint32_t wse__elem_step(const wse_elem_op *op, uint8_t *base, uint32_t i, uint32_t w);
/* Whether element i of op can be done now: no FIFO source is empty and no
 * FIFO destination full. */
int wse__elem_ready(const wse_elem_op *op, const uint8_t *base);
/* Elements 0..n-1 of op, in order (no fabric operand). */
void wse__elem_run(const wse_elem_op *op, uint8_t *base, uint32_t n);

#endif
