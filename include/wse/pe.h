/*
 * wse/pe.h - the PE programming interface: the only header a PE program
 * needs, and it includes nothing else of wsemu's.
 *
 * A program (wse_program, at the end) has two halves:
 *
 *   device  what runs on the wafer, on every PE: setup(pe, state) once at
 *           load time, then task(pe, state, id, payload) each time a task
 *           runs.  The engine allocates `state_size` bytes of state at the
 *           start of the PE's SRAM and passes it to every callback.
 *           Callbacks run as native C, but what they cost is the
 *           topology's modeled cycles, never host time.
 *   host    what runs on the host: the program's parameters, the global
 *           arrays it reads and writes (with, per PE, where its block of
 *           each lives in SRAM), the reference that `verify` compares
 *           with, its tolerance, and the useful-FLOP formula.
 *
 * setup() configures routes, allocates SRAM, binds tasks and activates
 * the first one.  It must depend only on the PE's coordinates and the
 * params: the engine may run it more than once for a PE (a neighbour
 * shard runs it for its edge PEs to learn their routes).
 *
 * Tasks.  Ids 0..WSE_MAX_TASKS-1.  A data task runs once per wavelet
 * arriving on its color at this PE's CE, with the wavelet as payload.  Its
 * id is pe_data_task_id(pe, color): the color on wse2; on wse3 k, the
 * number of the color's input queue WSE_IQ(k) (see "Queues" below; that
 * is why wse3's local task ids start at 8).  A local task runs when
 * activated; its id must be one of the topology's local task ids
 * (resources.local_task_min up to below host_io_first_task) and not the
 * id of one of the PE's data tasks.  WSE_LOCAL_TASK(0) ..
 * WSE_LOCAL_TASK(WSE_MAX_LOCAL_TASKS - 1) are ids every shipped
 * architecture accepts.  A task runs only when it is ready (activated, or
 * has a wavelet) and not blocked; among ready tasks the CE runs the
 * lowest id first, one at a time, to completion.  pe_activate, pe_block
 * and pe_unblock take the same ids the task callback receives.
 *
 * Hardware resources (topology section `resources`): a color reaches the
 * CE through one input queue and leaves it through one output queue, and
 * a queue runs its operations one at a time, in issue order.  So a data
 * task, and fabins (or descriptor ops with a fabin operand) in progress,
 * hold their color's input queue; fabouts and sends in progress their
 * color's output queue; a queue initialised with pe_init_queue is held
 * for the whole run; and each queue with a WSE_ASYNC operation in it
 * holds a microthread (on wse3 an operation may name its own, WSE_UT).
 * Host I/O keeps some of each, and some colors and task ids; a program
 * that asks for more than is left fails at the offending call, naming the
 * PE, the resource and the limit.
 *
 * Queues.  pe_init_queue(pe, WSE_IQ(k), color) binds input queue k to a
 * color, pe_init_queue(pe, WSE_OQ(k), color) output queue k: one queue,
 * one color, and a color has at most one input and one output queue at a
 * PE.  k runs over the queues host I/O does not keep: pe_machine()'s
 * first_queue up to first_queue + input_queues - 1 (output_queues for
 * WSE_OQ).  On wse3 (pe_machine()->strict_queues) every color a PE takes
 * from the fabric (data task, fabin, descriptor fabin) needs an input
 * queue initialised in setup, and every color it gives to (fabout, send,
 * descriptor fabout) an output queue; otherwise the call fails, naming the
 * color.  On wse2 pe_init_queue is optional (a color without one gets a
 * queue implicitly while it needs one) and checked the same way.  A wse3
 * topology may allow implicit queues (resources.implicit_queues: a wsemu
 * convenience the hardware lacks, for programs that receive on more
 * colors over a run than they have queues; a data task of a color
 * without a queue then has the color as its id).  Every queue has the
 * topology's one queue_depth.
 *
 * Fabric operations stream 32-bit words between SRAM and a color.  They
 * proceed in the background one wavelet per cycle under backpressure, and
 * activate task on_done (unless WSE_NO_TASK) when the last word has moved.
 * Without WSE_ASYNC an operation runs on the CE's main thread: a PE's
 * synchronous operations run one after another, and the CE runs no other
 * task until the last is complete (the task's remaining native code has
 * already run).  Activation is a bit: completions that land while the
 * task is still pending activate it once.  Data in a
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

/* The version of this interface.  A program built against another version
 * is refused at load time (--program-lib) with a clear message. */
#define WSE_API_VERSION 3

/* ------------------------------------------------------------ results */

/* Codes every fallible call returns (0 or negative).  One X-macro gives
 * the enum here and wse_strerror() in the library, so they cannot drift.
 * A program's setup and reference return 0 or one of them. */
#define WSE_ERRORS(X)                                              \
    X(OK, 0, "success")                                            \
    X(EINVAL, -1, "invalid argument")                              \
    X(ENOMEM, -2, "out of memory")                                 \
    X(ECONFIG, -3, "invalid configuration")                        \
    X(EIO, -4, "input/output error")                               \
    X(EMPI, -5, "MPI failure")                                     \
    X(EROUTE, -6, "routing error")                                 \
    X(EDEADLOCK, -7, "deadlock")                                   \
    X(ESRAM, -8, "SRAM budget exceeded")                           \
    X(EVERIFY, -9, "verification failed")                          \
    X(EPROGRAM, -10, "PE program error")                           \
    X(ELIMIT, -11, "cycle limit reached")

enum {
#define WSE_ERR_ENUM_(name, value, text) WSE_##name = value,
    WSE_ERRORS(WSE_ERR_ENUM_)
#undef WSE_ERR_ENUM_
};

/* Element types of host arrays (.npy '<f4', '<i4', '<u4', '|u1', '<f2',
 * '<i2', '<u2') and of descriptors (see "descriptors" below). */
enum wse_dtype { WSE_F32 = 0, WSE_I32 = 1, WSE_U32 = 2, WSE_U8 = 3,
                 WSE_F16 = 4, WSE_I16 = 5, WSE_U16 = 6 };

/* ------------------------------------------------------------ ports */

/* Router ports.  Bit masks combine into rx/tx sets.  Directions N, E, S, W
 * are ports 0..3; x grows east, y grows south. */
enum { WSE_PORT_N = 0, WSE_PORT_E = 1, WSE_PORT_S = 2, WSE_PORT_W = 3,
       WSE_PORT_RAMP = 4, WSE_NPORTS = 5 };
#define WSE_N    (1u << WSE_PORT_N)
#define WSE_E    (1u << WSE_PORT_E)
#define WSE_S    (1u << WSE_PORT_S)
#define WSE_W    (1u << WSE_PORT_W)
#define WSE_RAMP (1u << WSE_PORT_RAMP)

/* The direction opposite d (0..3): where a wavelet sent toward d arrives
 * from, at the receiver. */
static inline int pe_port_opposite(int d) { return (d + 2) & 3; }
/* The rx/tx mask of port d. */
static inline unsigned pe_port_mask(int d) { return 1u << d; }
/* The step in x and y one hop toward direction d (0..3). */
static inline int pe_port_dx(int d) { return (d == WSE_PORT_E) - (d == WSE_PORT_W); }
static inline int pe_port_dy(int d) { return (d == WSE_PORT_S) - (d == WSE_PORT_N); }
/* Whether direction d runs along x (E or W). */
static inline int pe_port_is_x(int d) { return d == WSE_PORT_E || d == WSE_PORT_W; }

/* ------------------------------------------------------------ tasks */

#define WSE_MAX_COLORS 32           /* color ids a topology may have */
#define WSE_MAX_TASKS 64            /* task ids 0..63 */
/* Local task ids that both wse2 (0..26) and wse3 (8..26) leave to a
 * program: WSE_LOCAL_TASK(k) for k = 0..WSE_MAX_LOCAL_TASKS-1.  They rank
 * among themselves by k, and with data tasks by id (so a data task on a
 * color below 8 runs before every one of them). */
#define WSE_MAX_LOCAL_TASKS 19
#define WSE_LOCAL_TASK(k) (8 + (k))
#define WSE_NO_TASK (-1)

/* Flags of fabric operations. */
#define WSE_ASYNC     1u  /* the CE may run other tasks meanwhile */
#define WSE_FABIN_ADD 2u  /* fabin accumulates: dst[i] += (float)word */
#define WSE_CONTROL   4u  /* fabout/send: every word goes out as a control wavelet */
/* wse3: WSE_ASYNC | WSE_UT(k) runs the operation on microthread k (k from
 * pe_machine()->first_microthread, below first_microthread +
 * microthreads).  Operations on one microthread run one at a time, in
 * issue order: one starts moving the cycle after the one before it on the
 * same microthread completed.  An asynchronous operation that names none
 * gets one of its own per queue, as on wse2 (where a microthread is its
 * queue's, and WSE_UT is refused). */
#define WSE_UT(k)     (((unsigned)(k) + 1u) << 8)
#define WSE_UT_MASK   0xff00u

/* Queue names for pe_init_queue: input queue k, output queue k. */
#define WSE_MAX_QUEUE_IDS 8         /* queue numbers 0..7 each way */
#define WSE_IQ(k) (k)
#define WSE_OQ(k) (0x10000 + (k))

/* ------------------------------------------------------------ control */

/*
 * A wavelet is 32 bits plus a control flag.  A control wavelet is routed
 * like any other, and its 32 bits say what it does (wsemu's layout):
 *
 *   bits  0-15  data handed to the control task
 *   bits 16-21  the control task it activates at the CE that takes it
 *   bit  22     CE filter: no router hands it to its CE (it only steers)
 *   bits 24-25  switch command, applied by every router it passes, after
 *               it has been forwarded: WSE_SWITCH_NOP, WSE_SWITCH_ADVANCE
 *               (to the next switch position), WSE_SWITCH_RESET (back to
 *               position 0), WSE_SWITCH_TEARDOWN (see pe_route_teardown)
 *
 * A control wavelet that reaches a CE (no CE filter) activates its control
 * task (pe_bind_control_task) with the data as payload, instead of the
 * color's data task; a fabin does not take it.
 */
enum { WSE_SWITCH_NOP = 0, WSE_SWITCH_ADVANCE = 1, WSE_SWITCH_RESET = 2,
       WSE_SWITCH_TEARDOWN = 3 };
#define WSE_CTRL_CE_FILTER (1u << 22)

static inline uint32_t pe_control_word(int command, int ce_filter, int task, unsigned data)
{
    return ((uint32_t)(command & 3) << 24) | (ce_filter ? WSE_CTRL_CE_FILTER : 0u) |
           ((uint32_t)(task & 63) << 16) | (data & 0xffffu);
}
static inline int pe_control_command(uint32_t w) { return (int)((w >> 24) & 3); }
static inline int pe_control_task(uint32_t w) { return (int)((w >> 16) & 63); }

/*
 * Switch positions 1..3 of a color's route at one PE (position 0 is the
 * route as pe_route set it).  Each position replaces position 0's rx set,
 * its tx set, or both; 0 keeps position 0's.  A position with both 0 does
 * not exist, nor do the ones after it.  Only wavelets arriving from the
 * current position's rx ports move; a control wavelet's switch command
 * takes effect once it has passed (so it is routed by the old position),
 * and no other wavelet of that color moves through this router in that
 * cycle.  Advancing past the last position stays there, or with `ring`
 * goes back to position 0.
 */
#define WSE_SWITCH_POSITIONS 4
typedef struct wse_switch {
    unsigned rx[WSE_SWITCH_POSITIONS - 1];  /* positions 1..3 */
    unsigned tx[WSE_SWITCH_POSITIONS - 1];
    int position;                           /* current position at load time */
    int ring;
} wse_switch;

/* ------------------------------------------------------------ SRAM refs */

/*
 * A PE's state holds no pointers, only offsets from the state (which
 * starts the PE's SRAM), so it stays valid wherever the emulator keeps
 * it.  Typed references make that painless: allocate with pe_alloc_f32()
 * and friends in setup, keep the ref in the state, and get the array back
 * with pe_f32(state, ref).  A ref is 4 bytes.
 */
typedef struct wse_f32_ref { uint32_t off; } wse_f32_ref;
typedef struct wse_u32_ref { uint32_t off; } wse_u32_ref;
typedef struct wse_u8_ref { uint32_t off; } wse_u8_ref;

static inline float *pe_f32(const void *state, wse_f32_ref r)
{ return (float *)(void *)((uint8_t *)(uintptr_t)state + r.off); }
static inline uint32_t *pe_u32(const void *state, wse_u32_ref r)
{ return (uint32_t *)(void *)((uint8_t *)(uintptr_t)state + r.off); }
static inline uint8_t *pe_u8(const void *state, wse_u8_ref r)
{ return (uint8_t *)(uintptr_t)state + r.off; }

/* The ref of p, an array inside this PE's SRAM. */
static inline wse_f32_ref pe_ref_f32(const void *state, const float *p)
{ wse_f32_ref r = { (uint32_t)((const uint8_t *)p - (const uint8_t *)state) }; return r; }
static inline wse_u32_ref pe_ref_u32(const void *state, const uint32_t *p)
{ wse_u32_ref r = { (uint32_t)((const uint8_t *)p - (const uint8_t *)state) }; return r; }
static inline wse_u8_ref pe_ref_u8(const void *state, const uint8_t *p)
{ wse_u8_ref r = { (uint32_t)((const uint8_t *)p - (const uint8_t *)state) }; return r; }

/* ------------------------------------------------------------ the PE */

typedef struct wse_pe wse_pe;   /* opaque: a handle on one PE */

/* What a program may know of the machine (all from the topology). */
typedef struct wse_pe_machine {
    int colors;                 /* colors a program may use, 0..colors-1
                                 * (the topology's less host I/O's) */
    int queue_depth;            /* router input queue depth, wavelets */
    int hop_latency_cycles;
    uint32_t sram_bytes;        /* per PE */
    uint32_t reserved_bytes;    /* of which the runtime keeps */
    int task_switch_cycles;     /* charged for every task run */
    int vector_startup_cycles;  /* fixed cost of every vector op */
    int simd_fp32;              /* fp32 elements per cycle */
    int simd_fp16;              /* fp16 elements per cycle */
    int fabric_startup_cycles;  /* fixed cost to issue a fabric op */
    /* What the program may use of the PE's resources (host I/O's share
     * already taken off). */
    int input_queues;           /* data tasks + fabins in progress */
    int output_queues;          /* fabouts and sends in progress */
    int microthreads;           /* WSE_ASYNC operations in progress */
    int local_task_min;         /* local task ids local_task_min.. */
    int local_task_max;         /*   ..local_task_max */
    int first_queue;            /* the program's queue numbers k (WSE_IQ(k),
                                 * WSE_OQ(k)) start here: host I/O keeps
                                 * the ones below */
    int first_microthread;      /* likewise for WSE_UT(k) */
    int strict_queues;          /* every fabric color needs pe_init_queue
                                 * (wse3, unless resources.implicit_queues) */
} wse_pe_machine;

/* Queries (any phase). */
int pe_x(const wse_pe *pe);              /* 0..width-1 within the region */
int pe_y(const wse_pe *pe);
int pe_width(const wse_pe *pe);          /* region size */
int pe_height(const wse_pe *pe);
/* Whether region-relative (x, y) is a PE of the region. */
int pe_in_region(const wse_pe *pe, int x, int y);
/* Whether this PE has a neighbour one hop toward direction d (0..3). */
int pe_has_neighbour(const wse_pe *pe, int d);
const void *pe_params(const wse_pe *pe); /* the program's params struct */
uint64_t pe_cycle(const wse_pe *pe);     /* current cycle, incl. charges */
int pe_colors(const wse_pe *pe);         /* colors a program may use */
/* The machine: costs and latencies, for charging work no op describes. */
const wse_pe_machine *pe_machine(const wse_pe *pe);
/* The task id of color's data task: the color on wse2; on wse3 k, where
 * WSE_IQ(k) is the color's initialised input queue (the color itself if
 * it has none).  One program source runs on both with it. */
int pe_data_task_id(const wse_pe *pe, int color);

/* ------------------------------------------------------------ setup only */
/* Allocate from this PE's SRAM (zeroed, aligned to 16 bytes).  Over the
 * budget, the run fails after setup with the PE and the byte counts; so
 * that setup can go on and the count be whole, pe_alloc then returns
 * scratch memory outside the PE's SRAM: write through the pointer it
 * returns, never through a ref or offset made from it (those point
 * nowhere until the run has failed). */
void *pe_alloc(wse_pe *pe, size_t bytes);
static inline float *pe_alloc_f32(wse_pe *pe, size_t n)
{ return (float *)pe_alloc(pe, n * sizeof(float)); }
static inline uint32_t *pe_alloc_u32(wse_pe *pe, size_t n)
{ return (uint32_t *)pe_alloc(pe, n * sizeof(uint32_t)); }
static inline uint8_t *pe_alloc_u8(wse_pe *pe, size_t n)
{ return (uint8_t *)pe_alloc(pe, n); }
/* Route color: wavelets from ports in rx are copied to every port in tx. */
void pe_route(wse_pe *pe, int color, unsigned rx, unsigned tx);
/* Switch positions for color's route (after pe_route of that color). */
void pe_route_switch(wse_pe *pe, int color, const wse_switch *sw);
/* Range filter: of the data wavelets of color this router would hand to
 * its CE, only those whose upper 16 bits are in lo..hi reach it (the
 * others still go to the route's other outputs). */
void pe_route_filter(wse_pe *pe, int color, unsigned lo, unsigned hi);
/* Color swap: wavelets of color leaving through a port in `ports` (a
 * subset of N, E, S, W) have color ^ 1 in the next router. */
void pe_route_swap(wse_pe *pe, int color, unsigned ports);
/* Teardown: once a control wavelet with WSE_SWITCH_TEARDOWN has passed
 * this router on color, nothing more of that color moves through it, and
 * local task `task` is activated.  In a task the program may then pick
 * one of the route's switch positions (pe_route_set_position) and must
 * resume the color (pe_route_resume); wavelets move again from the
 * task's time at that call (its start plus what it has charged so far,
 * at least the next cycle), not from the task's end.  A route changes only
 * among the positions declared at setup (pe_route_switch). */
void pe_route_teardown(wse_pe *pe, int color, int task);
/* Bind queue (WSE_IQ(k) or WSE_OQ(k)) to color for the whole run (see
 * "Queues" at the top). */
void pe_init_queue(wse_pe *pe, int queue, int color);
/* The data task of color: on wse3 that of the color's input queue (bind
 * the queue first); its id is pe_data_task_id(pe, color). */
void pe_bind_data_task(wse_pe *pe, int color);
void pe_bind_local_task(wse_pe *pe, int task);
/* A task control wavelets activate (their bits 16-21 name it). */
void pe_bind_control_task(wse_pe *pe, int task);

/* ------------------------------------------------------------ any phase */
void pe_activate(wse_pe *pe, int task);
void pe_block(wse_pe *pe, int task);
void pe_unblock(wse_pe *pe, int task);
/* This PE's program is done.  Fabric operations still in flight carry on
 * (and routers keep forwarding); the run ends when nothing can move. */
void pe_finish(wse_pe *pe);
/* In teardown only (see pe_route_teardown). */
void pe_route_set_position(wse_pe *pe, int color, int position);
void pe_route_resume(wse_pe *pe, int color);
void pe_fail(wse_pe *pe, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ------------------------------------------------------------ costs */
/* Charge modeled cycles and floating-point operations for work done in
 * native C that no vector operation below describes. */
void pe_charge(wse_pe *pe, uint64_t cycles, uint64_t flops);

/* Vector operations on fp32 SRAM arrays of n elements.  Each costs
 * vector_startup_cycles + ceil(n / simd_fp32) cycles, or more if its SRAM
 * traffic needs more (see the descriptors' costs).  d may alias a/b. */
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

/* ------------------------------------------------------------ descriptors */

/*
 * Descriptors say where a vector operation's operands are, so one
 * operation covers strided and multi-dimensional data, other element
 * types, and data that streams from or to the fabric.
 *
 * A memory descriptor names up to 4 dimensions of elements in this PE's
 * SRAM: element (i0, i1, i2, i3) is at byte offset
 *     off + size(dtype) * (i0 * stride[0] + i1 * stride[1] + ...)
 * from the state (like the refs above, it holds no pointer).  Dimension 0
 * varies fastest; a stride may be 0 (the same element again: a broadcast)
 * or negative.  Its length is the product of its extents.
 *
 * A fabric descriptor names a color and a length: as a source (fabin) it
 * takes one wavelet per element from that color, as a destination
 * (fabout) it sends one per element.  A 32-bit element is the whole
 * wavelet; a 16-bit or 8-bit one is its low bits (the rest is ignored on
 * input and zero on output: a modelling choice).
 *
 * Every operand of an operation has the same length.  Elements are done
 * in order, and element i's sources are read before its destination is
 * written, so an operand may alias another.  Arithmetic:
 *
 *   float ops (every operand F32 or F16): computed in fp32, F16 sources
 *     widened exactly, the result rounded (to nearest, ties to even) to
 *     the destination's type once per operation.  So F16 inputs with an
 *     F32 destination is the mixed mode: fp16 data, fp32 accumulate.  For
 *     one add, sub or mul of fp16 values the fp32 step loses nothing (the
 *     result equals direct fp16 rounding); an all-F16 FMAC rounds twice
 *     (fp32 product, then the sum to fp16).
 *   16-bit integer ops (every operand I16 or U16): wrap modulo 2^16.
 *   pe_dmov: a bit copy between operands of the same element size (any
 *     types: F32 to U32 keeps the bits), or a rounding conversion between
 *     F32 and F16.
 *
 * Costs.  An operation with no fabric operand runs at once, inside the
 * task: vector_startup_cycles + the larger of ceil(n / simd), where simd
 * is simd_fp16 if every operand's elements are 16 or 8 bits wide and
 * simd_fp32 otherwise (mixed fp16/fp32 runs at the fp32 rate: the fp32
 * accumulator stream is what the datapath moves), and the cycles the SRAM
 * ports need: n times the bytes read per element over the topology's
 * sram_read_bytes_per_cycle, likewise for writes.  It counts the SRAM
 * bytes of every memory operand, and flops per element: 1 for add, sub,
 * mul and scale, 2 for FMAC and FMA, none for mov, fill, neg, max and the
 * integer ops.  on_done (unless WSE_NO_TASK) is activated when it ends.
 *
 * An operation with a fabric operand (at most one fabin source and at most
 * one fabout destination; FIFO operands, below, only beside one) is a
 * fabric operation: it costs fabric_startup_cycles to issue and then
 * moves one element per cycle in the background under backpressure,
 * exactly like pe_fabin and pe_fabout
 * (WSE_ASYNC, on_done, issue order, a fabin one claims its color from
 * data tasks), reading memory sources and writing a memory destination as
 * each element moves.  A fabin-to-fabout one needs a wavelet and a credit
 * in the same cycle, and uses both ramp directions.  It counts its flops
 * and the SRAM bytes of its memory operands as elements move.  Elements
 * that need arithmetic (anything but a plain move or fill) use the
 * datapath: a task running in a cycle in which they move ends the
 * topology's fabric_datapath_cycles later (WSE_FABIN_ADD fabins too).
 *
 * Operations are for tasks only (not setup).  A misuse - an element
 * outside this PE's allocations, a misaligned offset, wrong types or
 * lengths, a bad color or route - fails the run naming the operation, and
 * the call does nothing.
 */
#define WSE_DSD_DIMS 4

enum { WSE_DSD_NONE = 0, WSE_DSD_MEM = 1, WSE_DSD_FABIN = 2, WSE_DSD_FABOUT = 3,
       WSE_DSD_FIFO = 4 };

typedef struct wse_dsd {
    uint8_t kind;                   /* WSE_DSD_* */
    uint8_t dtype;                  /* enum wse_dtype */
    uint8_t ndim;                   /* memory: dimensions in use, 1..4 */
    int8_t color;                   /* fabric */
    uint32_t off;                   /* memory: bytes from the state */
    int32_t extent[WSE_DSD_DIMS];   /* memory: extents; fabric: [0] = length */
    int32_t stride[WSE_DSD_DIMS];   /* memory: in elements */
} wse_dsd;

/* The byte offset of p (inside this PE's SRAM) from the state. */
static inline uint32_t pe_offset(const void *state, const void *p)
{ return (uint32_t)((const uint8_t *)p - (const uint8_t *)state); }

/* n elements of dtype at off, stride elements apart. */
static inline wse_dsd pe_mem1d(int dtype, uint32_t off, int n, int stride)
{
    wse_dsd d = { WSE_DSD_MEM, (uint8_t)dtype, 1, 0, off, { n, 1, 1, 1 }, { stride, 0, 0, 0 } };
    return d;
}

/* ndim (1..4) dimensions: extent[k] elements stride[k] apart in
 * dimension k, dimension 0 fastest. */
static inline wse_dsd pe_mem4d(int dtype, uint32_t off, int ndim, const int *extent,
                               const int *stride)
{
    wse_dsd d = { WSE_DSD_MEM, (uint8_t)dtype, (uint8_t)ndim, 0, off, { 1, 1, 1, 1 }, { 0, 0, 0, 0 } };
    for (int k = 0; k < ndim && k < WSE_DSD_DIMS; k++) {
        d.extent[k] = extent[k];
        d.stride[k] = stride[k];
    }
    return d;
}

/* n elements from (fabin) or to (fabout) color. */
static inline wse_dsd pe_fabin_dsd(int dtype, int color, int n)
{
    wse_dsd d = { WSE_DSD_FABIN, (uint8_t)dtype, 1, (int8_t)color, 0, { n, 1, 1, 1 }, { 0, 0, 0, 0 } };
    return d;
}
static inline wse_dsd pe_fabout_dsd(int dtype, int color, int n)
{
    wse_dsd d = { WSE_DSD_FABOUT, (uint8_t)dtype, 1, (int8_t)color, 0, { n, 1, 1, 1 }, { 0, 0, 0, 0 } };
    return d;
}

/*
 * A FIFO is a circular buffer in SRAM: at off (a multiple of 4) two
 * uint32 counters (elements pushed, elements popped, both counting up
 * from 0 and wrapping), then room for `capacity` elements.  Allocate
 * pe_fifo_bytes() for it (whole words); pe_alloc zeroes it, which is an
 * empty FIFO.  It may be the destination or a source of an operation that
 * has a fabric operand: as a destination each element is pushed, and the
 * operation waits while the FIFO is full; as a source each element is
 * popped, and the operation waits while it is empty.  So a fabin into a
 * FIFO and a fabout from it, both WSE_ASYNC, let a PE buffer a stream
 * while its tasks do other work.
 */
static inline wse_dsd pe_fifo_dsd(int dtype, uint32_t off, int capacity)
{
    wse_dsd d = { WSE_DSD_FIFO, (uint8_t)dtype, 1, 0, off, { capacity, 1, 1, 1 }, { 1, 0, 0, 0 } };
    return d;
}
static inline uint32_t pe_fifo_bytes(int dtype, int capacity)
{
    static const uint8_t size[] = { 4, 4, 4, 1, 2, 2, 2 };
    return (8u + (uint32_t)capacity * (dtype >= 0 && dtype < 7 ? size[dtype] : 0u) + 3u) & ~3u;
}

/* Memory descriptor d moved by `elements` elements (may be negative). */
static inline wse_dsd pe_dsd_offset(wse_dsd d, int elements)
{
    static const uint8_t size[] = { 4, 4, 4, 1, 2, 2, 2 };
    d.off += (uint32_t)((int64_t)elements * (d.dtype < 7 ? size[d.dtype] : 0));
    return d;
}

/* d with extent n in dimension dim (a fabric descriptor's length: dim 0). */
static inline wse_dsd pe_dsd_resize(wse_dsd d, int dim, int n)
{
    if (dim >= 0 && dim < WSE_DSD_DIMS)
        d.extent[dim] = n;
    return d;
}

/* Elements d covers. */
static inline int64_t pe_dsd_length(wse_dsd d)
{
    int64_t n = 1;
    for (int k = 0; k < WSE_DSD_DIMS; k++)
        n *= d.extent[k];
    return n;
}

/* IEEE binary16 conversions (round to nearest, ties to even; overflow
 * gives infinity; NaN stays NaN, made quiet). */
uint16_t pe_f32_to_f16(float f);
float pe_f16_to_f32(uint16_t h);

/* Float operations: every operand F32 or F16 (see above). */
void pe_dmov(wse_pe *pe, wse_dsd d, wse_dsd a, int on_done, unsigned flags);
void pe_dfill(wse_pe *pe, wse_dsd d, float s, int on_done, unsigned flags);  /* d = s */
void pe_dadd(wse_pe *pe, wse_dsd d, wse_dsd a, wse_dsd b, int on_done, unsigned flags);
void pe_dsub(wse_pe *pe, wse_dsd d, wse_dsd a, wse_dsd b, int on_done, unsigned flags);
void pe_dmul(wse_pe *pe, wse_dsd d, wse_dsd a, wse_dsd b, int on_done, unsigned flags);
/* d = fmaxf(a, b): a NaN loses to a number */
void pe_dmax(wse_pe *pe, wse_dsd d, wse_dsd a, wse_dsd b, int on_done, unsigned flags);
void pe_dneg(wse_pe *pe, wse_dsd d, wse_dsd a, int on_done, unsigned flags);   /* d = -a */
void pe_dscale(wse_pe *pe, wse_dsd d, wse_dsd a, float s, int on_done, unsigned flags);  /* d = a * s */
/* FMAC: d = a + b * s */
void pe_dfmac(wse_pe *pe, wse_dsd d, wse_dsd a, wse_dsd b, float s, int on_done, unsigned flags);
/* d = a + b * c */
void pe_dfma(wse_pe *pe, wse_dsd d, wse_dsd a, wse_dsd b, wse_dsd c, int on_done, unsigned flags);

/* Any element type: every element of d gets the low bits of v. */
void pe_dfill_bits(wse_pe *pe, wse_dsd d, uint32_t v, int on_done, unsigned flags);

/* 16-bit integer operations: every operand I16 or U16. */
void pe_dadd16(wse_pe *pe, wse_dsd d, wse_dsd a, wse_dsd b, int on_done, unsigned flags);
void pe_dsub16(wse_pe *pe, wse_dsd d, wse_dsd a, wse_dsd b, int on_done, unsigned flags);
void pe_dand16(wse_pe *pe, wse_dsd d, wse_dsd a, wse_dsd b, int on_done, unsigned flags);
void pe_dor16(wse_pe *pe, wse_dsd d, wse_dsd a, wse_dsd b, int on_done, unsigned flags);
void pe_dxor16(wse_pe *pe, wse_dsd d, wse_dsd a, wse_dsd b, int on_done, unsigned flags);
/* Shifts by 0..15 bits: left, right logical, right arithmetic. */
void pe_dsll16(wse_pe *pe, wse_dsd d, wse_dsd a, int shift, int on_done, unsigned flags);
void pe_dsrl16(wse_pe *pe, wse_dsd d, wse_dsd a, int shift, int on_done, unsigned flags);
void pe_dsra16(wse_pe *pe, wse_dsd d, wse_dsd a, int shift, int on_done, unsigned flags);

/* ------------------------------------------------------------ programs */

/* Parameters: a job's `params` are checked against the program's table
 * and bound into its params struct. */
enum wse_param_type { WSE_PARAM_INT = 0, WSE_PARAM_FLOAT = 1,
                      WSE_PARAM_BOOL = 2 };

typedef struct wse_param_spec {
    const char *name;
    int type;                    /* enum wse_param_type */
    double def;                  /* default value */
    double min, max;             /* inclusive bounds */
    size_t offset;               /* field offset in the program's params
                                  * struct: int64_t for INT and BOOL, double
                                  * for FLOAT */
    const char *help;            /* one line for docs and --help */
} wse_param_spec;

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

/* The half of a program that runs on the wafer. */
typedef struct wse_device_code {
    size_t state_size;                /* per-PE state, allocated in SRAM */
    int (*setup)(wse_pe *pe, void *state);
    void (*task)(wse_pe *pe, void *state, int task, uint32_t payload);
} wse_device_code;

/* The half of a program that runs on the host. */
typedef struct wse_host_code {
    /* Reference for verify: arrays[i] is the global array of spec i;
     * inputs are filled, outputs are to be computed.  Returns 0 or a
     * WSE_E* code (WSE_ENOMEM, say). */
    int (*reference)(const void *params, int width, int height,
                     void *const *arrays);
    /* Largest acceptable |emulated - reference| for verify. */
    double (*tolerance)(const void *params, int width, int height);
    /* Useful floating-point operations of the whole run (documented
     * formula), for FLOP/s in the report. */
    double (*useful_flops)(const void *params, int width, int height);
} wse_host_code;

typedef struct wse_program {
    int api_version;                  /* WSE_API_VERSION */
    const char *name;
    const char *summary;
    size_t params_size;               /* the program's params struct */
    const wse_param_spec *params;
    int n_params;
    const wse_array_spec *arrays;
    int n_arrays;
    /* Bit i set: output array i is not computed by the reference (timings
     * that depend on the topology, say), so verify skips it. */
    unsigned unverified;
    wse_device_code device;
    wse_host_code host;
} wse_program;

/*
 * Programs built outside wsemu come as a shared library that defines
 * wse_user_program(): its i-th program, or NULL past the last.  `wsemu
 * --program-lib FILE.so` loads it and refuses programs whose api_version
 * is not WSE_API_VERSION.
 */
#define WSE_USER_PROGRAM_SYMBOL "wse_user_program"
const wse_program *wse_user_program(int i);

#endif
