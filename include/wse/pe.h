/*
 * wse/pe.h - the public PE API: the only header a PE program includes.
 *
 * A program is a const table (wse_program) of callbacks plus the size of
 * its per-PE state.  The engine allocates that state in the PE's SRAM and
 * passes it back to every callback.  Callbacks run as native C, but what
 * they cost is the topology's modeled cycles, never host time:
 *
 *   setup(pe, state)      once per PE at load time: configure routes,
 *                         allocate SRAM arrays, bind tasks, activate the
 *                         first task.  Must depend only on the PE's
 *                         coordinates and the params (it may be re-run).
 *   task(pe, state, id, payload)
 *                         runs one task to completion.  For a data task,
 *                         id is the color and payload the wavelet.
 *
 * Tasks.  Ids 0..WSE_MAX_TASKS-1.  A data task has the id of its color
 * and runs once per wavelet arriving on that color at this PE's CE.  A
 * local task runs when activated.  A task runs only when it is ready
 * (activated, or has a wavelet) and not blocked; among ready tasks the CE
 * runs the lowest id first, one at a time, to completion.
 *
 * Fabric operations stream 32-bit words between SRAM and a color.  They
 * proceed in the background one wavelet per cycle under backpressure, and
 * activate task on_done (unless WSE_NO_TASK) when the last word has moved.
 * Without WSE_ASYNC the CE runs no other task until the operation is
 * complete (the task's remaining native code has already run).  Data in a
 * fabin destination is valid only once the operation completes; a fabout
 * source is read as each wavelet leaves, so keep it unchanged until then.
 *
 * Errors inside a program (bad color, allocation over budget, a call in
 * the wrong phase) stop the run with a message naming the PE and cycle.
 */
#ifndef WSE_PE_H
#define WSE_PE_H

#include <stddef.h>
#include <stdint.h>
#include "wse/config.h"
#include "wse/io.h"

typedef struct wse_pe wse_pe;   /* opaque: a handle on one PE */

/* Router ports.  Bit masks combine into rx/tx sets. */
enum { WSE_PORT_N = 0, WSE_PORT_E = 1, WSE_PORT_S = 2, WSE_PORT_W = 3,
       WSE_PORT_RAMP = 4, WSE_NPORTS = 5 };
#define WSE_N    (1u << WSE_PORT_N)
#define WSE_E    (1u << WSE_PORT_E)
#define WSE_S    (1u << WSE_PORT_S)
#define WSE_W    (1u << WSE_PORT_W)
#define WSE_RAMP (1u << WSE_PORT_RAMP)

#define WSE_MAX_TASKS 64
#define WSE_NO_TASK (-1)

/* Flags of fabric operations. */
#define WSE_ASYNC     1u  /* the CE may run other tasks meanwhile */
#define WSE_FABIN_ADD 2u  /* fabin accumulates: dst[i] += (float)word */

/* Where one PE's piece of a named global array lives in its SRAM.
 * Unused trailing dimensions have extent 1. */
typedef struct wse_array_block {
    void *ptr;              /* element at the block's origin */
    int64_t origin[3];      /* position in the global array */
    int64_t extent[3];      /* size of the block in each dimension */
    int64_t stride[3];      /* element strides in SRAM, per dimension */
} wse_array_block;

/* A named array the host can write before a run and read after it. */
typedef struct wse_array_spec {
    const char *name;
    int dtype;              /* enum wse_dtype */
    int is_input;           /* the host may write it (job "inputs") */
    int is_output;          /* the host may read it (job "outputs") */
    const char *doc;        /* shape and meaning, for docs */
    /* Global shape from params and region size; returns ndim (1..3). */
    int (*shape)(const void *params, int width, int height, int64_t shape[3]);
    /* This PE's block.  May return extent 0 if the PE holds none. */
    void (*block)(const wse_pe *pe, const void *state, wse_array_block *b);
} wse_array_spec;

typedef struct wse_program {
    const char *name;
    const char *summary;
    size_t params_size;               /* the program's params struct */
    const wse_param_spec *params;
    int n_params;
    const wse_array_spec *arrays;
    int n_arrays;
    size_t state_size;                /* per-PE state, allocated in SRAM */
    int (*setup)(wse_pe *pe, void *state);
    void (*task)(wse_pe *pe, void *state, int task, uint32_t payload);
    /* Host reference: arrays[i] is the global array of spec i; inputs are
     * filled, outputs are to be computed.  Returns 0 or a WSE_E* code. */
    int (*reference)(const void *params, int width, int height,
                     void *const *arrays, wse_error *err);
    /* Largest acceptable |emulated - reference| for verify. */
    double (*tolerance)(const void *params, int width, int height);
    /* Useful floating-point operations of the whole run (documented
     * formula), for FLOP/s in the report. */
    double (*useful_flops)(const void *params, int width, int height);
    /* Bit i set: output array i is not computed by the reference (timings
     * that depend on the topology, say), so verify skips it. */
    unsigned unverified;
} wse_program;

/* ------------------------------------------------------------ queries */
int pe_x(const wse_pe *pe);              /* 0..width-1 within the region */
int pe_y(const wse_pe *pe);
int pe_width(const wse_pe *pe);          /* region size */
int pe_height(const wse_pe *pe);
const void *pe_params(const wse_pe *pe); /* the program's params struct */
uint64_t pe_cycle(const wse_pe *pe);     /* current cycle, incl. charges */
int pe_colors(const wse_pe *pe);         /* routable colors of the topology */
/* The machine: costs and latencies, for charging work no op describes. */
const wse_topology *pe_topology(const wse_pe *pe);

/* ------------------------------------------------------------ setup only */
/* Allocate from this PE's SRAM (zeroed, aligned to 16 bytes). */
void *pe_alloc(wse_pe *pe, size_t bytes);
/* Route color: wavelets from ports in rx are copied to every port in tx. */
void pe_route(wse_pe *pe, int color, unsigned rx, unsigned tx);
void pe_bind_data_task(wse_pe *pe, int color);  /* task id = color */
void pe_bind_local_task(wse_pe *pe, int task);

/* ------------------------------------------------------------ any phase */
void pe_activate(wse_pe *pe, int task);
void pe_block(wse_pe *pe, int task);
void pe_unblock(wse_pe *pe, int task);
/* This PE's program is done.  Fabric operations still in flight carry on
 * (and routers keep forwarding); the run ends when nothing can move. */
void pe_finish(wse_pe *pe);
void pe_fail(wse_pe *pe, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ------------------------------------------------------------ costs */
/* Charge modeled cycles and floating-point operations for work done in
 * native C that no vector operation below describes. */
void pe_charge(wse_pe *pe, uint64_t cycles, uint64_t flops);

/* Vector operations on fp32 SRAM arrays of n elements.  Each costs
 * vector_startup_cycles + ceil(n / simd_fp32) cycles.  d may alias a/b. */
void pe_vmov_f32(wse_pe *pe, float *d, const float *a, int n);
void pe_vfill_f32(wse_pe *pe, float *d, float s, int n);
void pe_vadd_f32(wse_pe *pe, float *d, const float *a, const float *b, int n);
void pe_vsub_f32(wse_pe *pe, float *d, const float *a, const float *b, int n);
void pe_vmul_f32(wse_pe *pe, float *d, const float *a, const float *b, int n);
void pe_vscale_f32(wse_pe *pe, float *d, const float *a, float s, int n);
/* d = s * a + b */
void pe_vaxpy_f32(wse_pe *pe, float *d, float s, const float *a,
                  const float *b, int n);
float pe_vdot_f32(wse_pe *pe, const float *a, const float *b, int n);
float pe_vsum_f32(wse_pe *pe, const float *a, int n);
float pe_vmax_f32(wse_pe *pe, const float *a, int n);
/* d = elementwise max(a, b) (as fmaxf: a NaN loses to a number). */
void pe_vmax2_f32(wse_pe *pe, float *d, const float *a, const float *b, int n);

/* ------------------------------------------------------------ fabric */
/* Stream n 32-bit words read from src (stride in words) out on color. */
void pe_fabout(wse_pe *pe, int color, const void *src, int n, int stride,
               int on_done, unsigned flags);
/* Receive n words from color into dst (stride in words). */
void pe_fabin(wse_pe *pe, int color, void *dst, int n, int stride,
              int on_done, unsigned flags);
/* Send one word (an immediate, no SRAM source). */
void pe_send(wse_pe *pe, int color, uint32_t word, int on_done,
             unsigned flags);

/* Bit casts between fp32 and a wavelet payload. */
static inline uint32_t pe_f32_bits(float f)
{ union { float f; uint32_t u; } v; v.f = f; return v.u; }
static inline float pe_bits_f32(uint32_t u)
{ union { float f; uint32_t u; } v; v.u = u; return v.f; }

#endif
