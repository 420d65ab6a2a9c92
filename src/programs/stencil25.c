/*
 * src/programs/stencil25.c - 3D acoustic wave equation, 8th order in space
 * (25-point stencil, radius 4 in x, y and z), 2nd order in time, after
 * Jacquelin, Araya-Polo and Meng, "Massively scalable stencil algorithm"
 * (SC22, arXiv:2204.03775).
 *
 * Layout.  x and y are spread over the PEs, one point column per PE; z is
 * a column of nz values in SRAM.  Each PE holds the pressure at two time
 * levels (each padded with 4 zeros above and below: the Dirichlet boundary
 * in z), the coefficient column v^2 dt^2 / h^2, an accumulator, a scratch
 * column and 8 receive columns X1..X4, Y1..Y4.
 *
 * Communication: localised broadcasts.  Every step each PE streams its
 * column (nz words, one fabout per direction) toward E, W, N and S; the
 * stream travels up to 4 hops and every PE on the way forwards it and
 * keeps a copy (multicast route tx = onward port | RAMP; the 4th PE only
 * RAMP).  So each PE receives 4 columns from each side.  A route is per
 * color per PE, and a PE sees its own stream plus 4 passing streams per
 * direction, so the color of a stream is
 *     5 d + (sender's coordinate along the axis mod 5)
 * for flow direction d (0 toward N, 1 E, 2 S, 3 W): 20 colors, 0-19, and
 * at any PE the 5 streams of one direction have distinct colors.  Routes
 * at PE x for the eastward flow (the others are mirror images):
 *     color 5 + x%5:      RAMP -> E                       (own stream)
 *     color 5 + (x-k)%5:  W -> RAMP | E for k = 1..3,  W -> RAMP for k = 4
 * with nothing routed toward a missing neighbour, so regions narrower
 * than the radius just see fewer streams.
 *
 * Receiving goes in four phases, one flow direction at a time (eastward,
 * westward, southward, northward): a PE posts the 4 receives of the next
 * phase when the previous 4 are complete.  A multicast stream moves only
 * as fast as its slowest receiver, so all PEs work through the same
 * direction together; the phases cannot deadlock, because a PE in the
 * earliest (step, phase) of all has every stream it waits for already sent
 * and every other receiver of those streams waiting for them or past them.
 * The column at distance k from W lands in X_k (plain fabin) and the one
 * from E is added to it in the next phase (WSE_FABIN_ADD), so
 * X_k = W_k + E_k in a fixed order; Y_k = N_k + S_k alike.  A PE with
 * only one of the two streams receives it plainly; a buffer with none
 * keeps -0.0, which is what the reference adds for a missing neighbour
 * (x + -0.0 == x exactly).
 *
 * Communication with switches (param broadcast = 1; the SC22 scheme, as
 * in Cerebras' public 25-point example): along a line the PEs take turns
 * on shared colors.  Let r be a PE's distance from the upstream end of
 * its line (x for the eastward flow, width - 1 - x for the westward one,
 * y and height - 1 - y alike).  In slot t = 0..4 of a step the PEs with
 * r mod 5 == t send, each to a segment of the next 4 PEs, and the
 * segments of one slot tile the line.  In a segment the sender routes
 * RAMP -> onward, the PEs 1..3 hops on upstream -> RAMP | onward, the 4th
 * upstream -> RAMP (it ends the segment: the next PE is that slot's next
 * sender).  Each column is followed by one control wavelet
 * (WSE_SWITCH_ADVANCE, CE filter on), and every router of the segment
 * advances after forwarding it, to its role in the next segment it takes
 * part in on that color, so the next slot's sender is let out of its
 * ramp only once the previous stream has passed its router.  The switch
 * positions are rings whose last position comes back to the first, so a
 * step leaves every switch as it found it: nothing is reset.  A PE near
 * the line's start takes part in fewer segments (no sender upstream), the
 * line's last PE sends nothing; their rings are shorter, down to a static
 * route for one segment, so regions narrower than the radius need nothing
 * special.
 *
 * Colors with switches: 8, two per flow direction (color 2 d + g; slots
 * 0-2 are group g = 0, slots 3-4 g = 1), where the vendor example needs
 * one.  Its control wavelets carry a command per hop (advance the sender,
 * the next PE and the segment's last one, nothing in between); wsemu's
 * carry one command that every router they pass applies, so each PE of a
 * segment advances once per slot, 5 times a step, through the roles send,
 * end, keep, keep, keep: no ring or saturating switch of at most 4
 * positions follows that (an exhaustive search, one control wavelet per
 * stream, advance or reset chosen per sender with period up to 10, any
 * ring or saturating switch and start position per PE, finds no
 * schedule), while a group of 2 or 3 slots is a ring of at most 3
 * positions.
 *
 * Receiving with switches: a color's streams reach a PE one after
 * another in slot order, so a PE keeps one receive per color in flight,
 * chained by their completions.  It works one axis at a time, as the
 * hardware limits force (6 input queues, 4 output queues on wse2, 6
 * microthreads; all 8 colors at once would need 8 of each): first the x
 * axis, its sends toward E and W and the receive chains of the eastward
 * and westward flows (4 colors), then, once those chains are complete,
 * the y axis's chains; the y axis's sends start once the x axis's are
 * complete.  So a PE holds at most 2 output queues, 4 input queues and 6
 * microthreads (reached: tests/test_stencil25.c), and the two axes share
 * 4 receive task ids (T_RECV0 + 2 (second flow) + g), the sends their
 * phase's T_SEND0 + i: 10 local ids, 8..17, as in the multicast mode.
 * The two streams into one buffer (X_k from W and from E) come on
 * different colors in no fixed order, so the eastward and southward
 * flows' streams are received plainly, and a westward or northward
 * stream's receive (WSE_FABIN_ADD) is posted only once the other one
 * into its buffer is complete (plainly if there is none): X_k = W_k + E_k
 * bit for bit as before, since a + b == b + a in IEEE arithmetic.  This
 * cannot deadlock: take a PE in the earliest (step, axis) of all.  Every
 * sender of that axis's streams has issued them or will without waiting
 * for anyone earlier (the x axis's go at the step's start; the y axis's
 * once its x sends are complete, which needs only x receivers, all at
 * that step's x axis or past it), every other
 * receiver of them is receiving that axis or has them already, the
 * eastward and southward chains wait for nothing but their streams, the
 * others only for those, and a step's streams on a color never queue
 * behind the next step's (each router serves its segments in ring order,
 * links are FIFO).
 * Control wavelets per step: one per sending PE and direction,
 * 2 ((W - 1) H + W (H - 1)) on W x H PEs; they cross the links their
 * columns cross and reach no CE.
 *
 * A step (fp32 vector ops over the column; c0..c4 are the standard
 * 8th-order coefficients -205/72, 8/5, -1/5, 8/315, -1/560):
 *   1. issue the sends (one after another, in phase order; with switches
 *      an axis's two at a time) and the first phase's receives (async);
 *      meanwhile the z part:  a = 3 c0 p;  for k = 1..4:
 *      t = p[z-k] + p[z+k];  a = c_k t + a
 *   2. when X is complete (after the westward phase), while N and S
 *      stream in:  for k = 1..4:  a = c_k X_k + a
 *   3. when Y and the sends are complete:  for k = 1..4:  a = c_k Y_k + a;
 *      then  a = coef a;  a = a - p_prev;  p_next = 2 p + a  (into the
 *      p_prev column), and at the source PE  p_next[zs] += w(step).
 * On the first step the PE turns vel into coef = (dt^2/h^2) (vel vel),
 * copies p0 into p_prev (zero initial velocity) and fills X and Y with
 * -0.0.  The vector work runs as the lowest-priority task, one unit (one
 * or two ops) per activation, so completions get in between and post the
 * next phase's receives without waiting for the CE (otherwise the fabric
 * idles while the z part runs).
 *
 * Source: a Ricker wavelet w(t) = amp (1 - 2 b tau^2) exp(-b tau^2),
 * b = (pi f0)^2, tau = t - 1/f0, t = step dt.  A PE has no exp, so the
 * Gaussian is advanced by a recurrence of multiplications
 * (g <- g r, r <- r q, q = exp(-2 b dt^2)), seeded from constants of the
 * params, with length-1 vector ops that charge their modeled cycles.
 *
 * Queues (pe_init_queue).  A PE binds output queue first_queue + i to the
 * i-th color it sends on (at most 4: one stream per direction, in both
 * modes) and input queue first_queue + i to the i-th it receives on, when
 * all of a way's colors fit the topology's queues or it has wse3's rule.
 * A queue holds one color for the whole run, and the CE of a PE receives
 * on many more colors over a step than it has in flight: the multicast
 * mode on up to 16 (4 streams per direction, each on its own color), the
 * switch mode on up to 8 (2 per direction).  wse2 leaves a program 6
 * input queues, so there the receive colors stay implicit queues (4 in
 * flight at a time, as above), and the 4 sends get named ones.  wse3's
 * rule allows no implicit queue, so a PE that receives on more than its
 * 6 input queues fails at load with a message saying so.  That bounds
 * the regions that run with the rule: with m(n) = 0, 1, 2, 2, 2, 3, 3, 3,
 * 4 colors for a line of n = 1 .. 9 or more PEs, the switch mode needs
 * m(width) + m(height) <= 6 (up to 8 x 8; 16 x 4 and 4 x 16), and with
 * m'(n) = 0, 1, 2, 3, 4, 5, 6, 7, 8 streams, the multicast mode needs
 * m'(width) + m'(height) <= 6 (up to 4 x 4, lines up to 7).  Larger
 * regions need the topology's wsemu convenience implicit_queues (the
 * shipped topologies/wse3.yaml has it, wse3_strict.yaml not).  Not a
 * limit of the engine but of the design: the multicast mode cannot be
 * had in 6 queues at all, and the switch mode only by sharing one color
 * between an x and a y flow (each group-1 ring holds at most 2 segments
 * per flow, so the E and S flows' fit one ring of 4 positions), which
 * would couple the axes' streams at every router and so change the
 * schedule: left for a wse3-specific variant.
 *
 * SRAM: 2 (nz + 8) + 11 nz floats = 52 nz + 64 bytes plus the state, so
 * nz <= 901 fits the 46 KiB a WSE-2 PE leaves to programs.
 *
 * Cost (laptop/wse2 model, 16 x 16 PEs, 10 steps): about 29 nz + 170
 * cycles per step: nz 8: 400, nz 32: 1098, nz 128: 3892, nz 901: 26601.
 * With switches: nz 8: 416, nz 32: 1172, nz 128: 4400 (about 33 nz).
 * The shipped jobs (64 x 64, nz 8, 40 steps): jobs/stencil25.yaml 15698
 * cycles (392 per step), jobs/stencil25_switch.yaml 16342 (409 per step).
 * The WSE_FABIN_ADD receives take the datapath from the vector work
 * (docs/MODEL.md, "The datapath is shared"); with the datapath free it
 * was 328 and 354 per step on the shipped jobs, 28.2 cycles per cell at
 * nz 901, and the design measurements below date from then.
 *
 * Drawbacks.  The CE ramp takes one word per cycle, so receiving costs at
 * least 16 nz cycles per step; the vector work (20 ops of nz) overlaps it
 * only in part, since the x and y parts need whole columns (the paper
 * instead multiplies fabric operands as they arrive, which this API has
 * no operation for).  Edge PEs wait for phases they have no streams in.
 * Emulating it costs more host time per wavelet than unicast programs
 * (about 1.5 KB of queues per PE, 20 routes, multicast credit checks).
 * Switches save colors, not cycles, here: a slot's sender waits until the
 * previous stream and its control wavelet have passed its router, and a
 * stream moves only as fast as the busiest of its receivers.  Before the
 * resource limits this mode received on all 8 colors at once and sent all
 * four directions at once (7 and more microthreads): 345 cycles per step
 * on the shipped job, 4553 at nz 128 on 16 x 16 (10 steps).  One axis at
 * a time costs 354 on the shipped job and saves at nz 128 (4224): fewer
 * streams share a PE's ramp at once.  Sending all four directions one
 * after another instead of an axis's two at once measured 352 on the
 * shipped job but 4196 against 4134 at nz 128 (40 steps).  (The vendor
 * example multiplies each stream by its coefficient as it arrives and
 * sums 20 buffers afterwards, which is not the reference's order.)
 *
 * The host reference performs the same fp32 operations in the same order,
 * so the emulated result is bitwise equal to it.
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "wse/pe.h"

typedef struct s25_params {
    int64_t nz, steps;
    double dt, h, f0, amp;
    int64_t src_x, src_y, src_z;
    int64_t broadcast;            /* 0: multicast routes on 20 colors; 1: switches on 8 */
} s25_params;

static const wse_param_spec s25_param_spec[] = {
    { "nz", WSE_PARAM_INT, 32, 1, 4000, offsetof(s25_params, nz), "points per PE along z (the column in SRAM; <= 901 fits 46 KiB)" },
    { "steps", WSE_PARAM_INT, 10, 0, 1e6, offsetof(s25_params, steps), "time steps" },
    { "dt", WSE_PARAM_FLOAT, 1e-3, 1e-9, 1.0, offsetof(s25_params, dt), "time step (s)" },
    { "h", WSE_PARAM_FLOAT, 10.0, 1e-3, 1e4, offsetof(s25_params, h), "grid spacing in x, y and z (m)" },
    { "f0", WSE_PARAM_FLOAT, 25.0, 1e-3, 1e6, offsetof(s25_params, f0), "Ricker peak frequency (Hz); the peak comes at t = 1/f0" },
    { "amp", WSE_PARAM_FLOAT, 1.0, -1e6, 1e6, offsetof(s25_params, amp), "source amplitude (0 = no source)" },
    { "src_x", WSE_PARAM_INT, -1, -1, 1e6, offsetof(s25_params, src_x), "source PE column (-1 = width/2)" },
    { "src_y", WSE_PARAM_INT, -1, -1, 1e6, offsetof(s25_params, src_y), "source PE row (-1 = height/2)" },
    { "src_z", WSE_PARAM_INT, -1, -1, 3999, offsetof(s25_params, src_z), "source z index (-1 = nz/2)" },
    { "broadcast", WSE_PARAM_INT, 0, 0, 1, offsetof(s25_params, broadcast), "0: static multicast routes, 20 colors; 1: router switches advanced by control wavelets, 8 colors (SC22)" },
};

/* Both halves use the source position, the coefficients and the Ricker
 * recurrence below.  Source position: -1 means the middle. */
static int src_pos(int64_t v, int64_t n) { return v < 0 ? (int)(n / 2) : (int)v; }

#define R 4                       /* stencil radius */

/* 8th-order second-derivative coefficients, and the centre of 3 axes. */
static const float s25_c[R + 1] = { -205.0f / 72.0f, 8.0f / 5.0f, -1.0f / 5.0f,
                                    8.0f / 315.0f, -1.0f / 560.0f };
#define C0X3 ((float)(3.0 * -205.0 / 72.0))

/* Ricker recurrence: constants and the state it starts from. */
typedef struct s25_ricker {
    float tau, g, r;              /* state at step 0 */
    float q, m2b, dt, amp, one;   /* constants */
} s25_ricker;

/* The Ricker constants from the params (host math: they are compile-time
 * constants of the PE program). */
static s25_ricker ricker_init(const s25_params *p)
{
    const double pi = 3.14159265358979323846;
    double b = pi * pi * p->f0 * p->f0, t0 = 1.0 / p->f0, dt = p->dt;
    s25_ricker r;
    r.tau = (float)-t0;
    r.g = (float)exp(-b * t0 * t0);
    r.r = (float)exp(-b * (dt * dt - 2.0 * t0 * dt));
    r.q = (float)exp(-2.0 * b * dt * dt);
    r.m2b = (float)(-2.0 * b);
    r.dt = (float)dt;
    r.amp = (float)p->amp;
    r.one = 1.0f;
    return r;
}

/* ---------------------------------------------------------- device: runs on every PE */

#define NCOLORS 20
/* Task ids: completions of sends (one per direction) and receives (one
 * per distance: a phase's receives all complete before the next phase's
 * are posted, so the phases share them), the step, and the vector work.
 * Lower ids run first, so a completion always gets in between two units
 * of work and the next phase's receives are posted without waiting for
 * the CE. */
enum { T_SEND0 = WSE_LOCAL_TASK(0), T_RECV0 = WSE_LOCAL_TASK(4),
       T_STEP = WSE_LOCAL_TASK(4 + R), T_WORK = WSE_LOCAL_TASK(5 + R) };

/* Flow direction received in each phase: eastward (from W), westward,
 * southward (from N), northward. */
static const int phase_dir[4] = { WSE_PORT_E, WSE_PORT_W, WSE_PORT_S, WSE_PORT_N };

/* The phase in which flow d is received. */
static int phase_of(int d)
{
    int i = 0;
    while (phase_dir[i] != d)
        i++;
    return i;
}

/* Per-PE state, at the start of the PE's SRAM. */
typedef struct s25_state {
    wse_f32_ref lv[2];        /* two time levels, nz + 8 floats each */
    wse_f32_ref coef;         /* vel, then v^2 dt^2 / h^2 */
    wse_f32_ref acc, tmp;
    wse_f32_ref xy;           /* X1..X4 then Y1..Y4, nz floats each */
    int32_t cur;              /* time level holding p at the current step */
    int32_t step;
    int32_t phase;            /* receive phase in flight (0..3), 4 = all done;
                               * switches: 0 x axis in flight, 2 y axis
                               * (X complete), 4 */
    int32_t recv_pending;     /* receives of that phase still in flight */
    int32_t send_pending;     /* sends of this step still in flight */
    int32_t z_done;           /* units of the z part done (centre, k = 1..4) */
    int32_t x_done;           /* units of the x part done (k = 1..4) */
    int32_t src_z;            /* z index of the source, or -1 here */
    uint16_t recv_mask;       /* bit 4 d + (k - 1): stream of distance k, flow d */
    uint16_t add_mask;        /* the same bits: received with WSE_FABIN_ADD */
    uint8_t send_mask;        /* flow directions this PE sends toward */
    uint8_t send_color[4];
    union {                   /* (the state must not grow: nz 901 fills the SRAM) */
        uint8_t recv_color[16];   /* multicast: the color of each stream, bits as recv_mask */
        struct {                  /* switches: */
            uint8_t done[8];      /* receives completed on color 2 d + g this step */
            uint8_t stage[4];     /* send toward d: 1 column in flight, 2 control wavelet */
            uint8_t left[2];      /* receive chains of the x (0) and y (1) axis not complete */
            uint8_t ready;        /* buffers (X1..Y4) the first flow has filled */
            uint8_t busy;         /* chains 2 d + g with a receive in flight */
        } sw;
    };
    s25_ricker src;           /* the recurrence, advanced every step */
    float w, tt;              /* source value and scratch */
} s25_state;

/* One step of the wavelet: *w = amp (1 - 2 b tau^2) g; then advance. */
static void ricker_step(wse_pe *pe, s25_ricker *k, float *w, float *tt)
{
    pe_vmul_f32(pe, tt, &k->tau, &k->tau, 1);
    pe_vaxpy_f32(pe, w, k->m2b, tt, &k->one, 1);
    pe_vmul_f32(pe, w, w, &k->g, 1);
    pe_vscale_f32(pe, w, w, k->amp, 1);
    pe_vmul_f32(pe, &k->g, &k->g, &k->r, 1);
    pe_vscale_f32(pe, &k->r, &k->r, k->q, 1);
    pe_vadd_f32(pe, &k->tau, &k->tau, &k->dt, 1);
}

/* Routes of flow direction d at this PE (see the file comment). */
static void s25_routes(wse_pe *pe, s25_state *s, int d)
{
    int x = pe_x(pe), y = pe_y(pe), dx = pe_port_dx(d), dy = pe_port_dy(d);
    int along = pe_port_is_x(d) ? x : y;
    int sign = dx + dy;                         /* 1: the coordinate grows with the flow */
    int onward = pe_has_neighbour(pe, d);
    if (onward) {
        s->send_mask |= (uint8_t)(1u << d);
        s->send_color[d] = (uint8_t)(5 * d + along % 5);
        pe_route(pe, s->send_color[d], WSE_RAMP, pe_port_mask(d));
        pe_bind_local_task(pe, T_SEND0 + phase_of(d));
    }
    for (int k = 1; k <= R; k++) {
        if (!pe_in_region(pe, x - k * dx, y - k * dy))     /* no sender k hops upstream */
            break;
        int bit = 4 * d + (k - 1);
        unsigned tx = WSE_RAMP | (k < R && onward ? pe_port_mask(d) : 0u);
        s->recv_mask |= (uint16_t)(1u << bit);
        s->recv_color[bit] = (uint8_t)(5 * d + (along - sign * k) % 5);
        pe_route(pe, s->recv_color[bit], pe_port_mask(pe_port_opposite(d)), tx);
        pe_bind_local_task(pe, T_RECV0 + k - 1);
    }
}

/* ---------------------------------------------------------- switches (broadcast = 1) */

/* Slot t (0..4) is the turn of the senders whose distance from the line's
 * upstream end is t mod 5; slots 0-2 share one color, slots 3-4 another
 * (at most 3 per group: sw_segments fills 3, the switch has 4 positions). */
#define SW_COLORS 8
static int sw_group(int t) { return t >= 3; }
static int sw_color(int d, int g) { return 2 * d + g; }

/* Every stream ends with this: advance the switch of every router it
 * passes, and reach no CE. */
#define SW_ADVANCE pe_control_word(WSE_SWITCH_ADVANCE, 1, 0, 0)

/* This PE's distance from the upstream end of its line for flow
 * direction d, and the line's length *n. */
static int sw_rel(const wse_pe *pe, int d, int *n)
{
    int along_x = pe_port_is_x(d);
    int c = along_x ? pe_x(pe) : pe_y(pe);
    *n = along_x ? pe_width(pe) : pe_height(pe);
    return pe_port_dx(d) + pe_port_dy(d) > 0 ? c : *n - 1 - c;
}

/* The segments this PE takes part in on group g's color, in the order
 * they pass it: j[i] is the distance of their sender (0: this PE sends).
 * Slot t's sender is rel - j with j = (rel - t) mod 5; there is none
 * upstream of the line, and the line's last PE has no one to send to.
 * Returns how many (0..3). */
static int sw_segments(int rel, int n, int g, int j[3])
{
    int q = 0;
    for (int t = 0; t < 5; t++) {
        int k = ((rel - t) % 5 + 5) % 5;
        if (sw_group(t) == g && k <= rel && !(k == 0 && rel == n - 1))
            j[q++] = k;
    }
    return q;
}

/* The flows received first into X and Y: from W (eastward) and from N
 * (southward), as in the multicast phases. */
static int sw_first(int d) { return d == WSE_PORT_E || d == WSE_PORT_S; }

/* Buffer index (X1..X4 Y1..Y4) of the stream of distance k of flow d. */
static int sw_buffer(int d, int k) { return (pe_port_is_x(d) ? 0 : R) + k - 1; }

/* Completion task of the receive chain on group g's color of flow d.
 * The chains of one axis are in flight together (the eastward and
 * westward ones, then the southward and northward ones), so the two axes
 * share 4 ids: the first flow's chains T_RECV0 + g, the second's
 * T_RECV0 + 2 + g. */
static int sw_recv_task(int d, int g) { return T_RECV0 + 2 * !sw_first(d) + g; }

/* Routes of flow direction d with switches: on each of its two colors
 * position i of the route serves segment i of sw_segments (the sender:
 * RAMP -> onward; a PE 1..3 hops downstream: upstream -> RAMP | onward;
 * the 4th: upstream -> RAMP), in a ring, so each stream's control
 * wavelet moves every router of its segment on to the next segment and
 * the last one back to the first for the next step. */
static void sw_routes(wse_pe *pe, s25_state *s, int d)
{
    int n, rel = sw_rel(pe, d, &n), onward = rel < n - 1;
    unsigned up = pe_port_mask(pe_port_opposite(d)), down = pe_port_mask(d);
    for (int g = 0; g < 2; g++) {
        int j[3], q = sw_segments(rel, n, g, j), receives = 0;
        unsigned rx[3], tx[3];
        for (int i = 0; i < q; i++) {
            rx[i] = j[i] == 0 ? WSE_RAMP : up;
            tx[i] = j[i] == 0 ? down : WSE_RAMP | (j[i] < R && onward ? down : 0u);
            receives += j[i] != 0;
            if (j[i] == 0) {
                s->send_mask |= (uint8_t)(1u << d);
                s->send_color[d] = (uint8_t)sw_color(d, g);
                pe_bind_local_task(pe, T_SEND0 + phase_of(d));
            }
        }
        if (q == 0)
            continue;
        pe_route(pe, sw_color(d, g), rx[0], tx[0]);
        if (q > 1) {
            wse_switch sw = { .position = 0, .ring = 1 };
            for (int i = 1; i < q; i++) {
                sw.rx[i - 1] = rx[i];
                sw.tx[i - 1] = tx[i];
            }
            pe_route_switch(pe, sw_color(d, g), &sw);
        }
        if (receives)
            pe_bind_local_task(pe, sw_recv_task(d, g));
    }
}

/* Whether this PE takes streams from the chain on group g's color of
 * flow d (switches). */
static int sw_receives(const wse_pe *pe, int d, int g)
{
    int n, rel = sw_rel(pe, d, &n), j[3], q = sw_segments(rel, n, g, j);
    for (int i = 0; i < q; i++)
        if (j[i] != 0)
            return 1;
    return 0;
}

/* Queues (see the header): output queue first_queue + i for the i-th
 * color this PE sends on, input queue first_queue + i for the i-th it
 * receives on, when they all fit the topology's queues or when it has
 * wse3's rule (a queue is bound to one color for the whole run); without
 * the rule (wse2) a way that does not fit stays implicit. */
static int s25_queues(wse_pe *pe, const s25_state *s, const s25_params *p)
{
    const wse_pe_machine *m = pe_machine(pe);
    int in[4 * R], nin = 0, out[4], nout = 0;
    for (int d = 0; d < 4; d++)
        if (s->send_mask & (1u << d))
            out[nout++] = s->send_color[d];
    for (int d = 0; d < 4; d++) {
        for (int g = 0; p->broadcast && g < 2; g++)
            if (sw_receives(pe, d, g))
                in[nin++] = sw_color(d, g);
        for (int k = 0; !p->broadcast && k < R; k++)
            if ((s->recv_mask >> (4 * d + k)) & 1)
                in[nin++] = s->recv_color[4 * d + k];
    }
    if (m->strict_queues && nin > m->input_queues) {
        pe_fail(pe, "broadcast %d receives on %d colors at this PE, and with the wse3 queue rule each needs "
                    "an input queue of its own for the whole run: the topology leaves %d (broadcast 0 needs "
                    "up to 16, broadcast 1 up to 8; regions that fit: see src/programs/stencil25.c)",
                (int)p->broadcast, nin, m->input_queues);
        return WSE_EPROGRAM;
    }
    if (m->strict_queues || nout <= m->output_queues)
        for (int i = 0; i < nout; i++)
            pe_init_queue(pe, WSE_OQ(m->first_queue + i), out[i]);
    if (m->strict_queues || nin <= m->input_queues)
        for (int i = 0; i < nin; i++)
            pe_init_queue(pe, WSE_IQ(m->first_queue + i), in[i]);
    return 0;
}

static int s25_setup(wse_pe *pe, void *state)
{
    const s25_params *p = pe_params(pe);
    s25_state *s = state;
    size_t nz = (size_t)p->nz;
    int sx = src_pos(p->src_x, pe_width(pe)), sy = src_pos(p->src_y, pe_height(pe));
    int sz = src_pos(p->src_z, p->nz);
    int ncolors = p->broadcast ? SW_COLORS : NCOLORS;
    if (pe_colors(pe) < ncolors) {
        pe_fail(pe, "needs %d colors, the topology has %d", ncolors, pe_colors(pe));
        return WSE_EPROGRAM;
    }
    if (pe_x(pe) == 0 && pe_y(pe) == 0 &&
        (sx >= pe_width(pe) || sy >= pe_height(pe) || sz >= p->nz)) {
        pe_fail(pe, "source (%d, %d, %d) is outside the %d x %d x %d grid", sx, sy, sz,
                pe_width(pe), pe_height(pe), (int)p->nz);
        return WSE_EPROGRAM;
    }
    /* p, p_prev, coef, acc, tmp, X1..X4 Y1..Y4 (allocated in this order) */
    const size_t n[6] = { nz + 2 * R, nz + 2 * R, nz, nz, nz, 2 * R * nz };
    wse_f32_ref *ref[6] = { &s->lv[0], &s->lv[1], &s->coef, &s->acc, &s->tmp, &s->xy };
    for (int i = 0; i < 6; i++) {
        float *b = pe_alloc_f32(pe, n[i]);
        if (!b)
            return WSE_ESRAM;
        *ref[i] = pe_ref_f32(s, b);
    }
    s->src_z = (pe_x(pe) == sx && pe_y(pe) == sy && p->amp != 0.0) ? sz : -1;
    s->src = ricker_init(p);
    for (int d = 0; d < 4; d++) {
        if (p->broadcast)
            sw_routes(pe, s, d);
        else
            s25_routes(pe, s, d);
    }
    int rc = s25_queues(pe, s, p);
    if (rc)
        return rc;
    /* the second stream into a buffer adds to the first */
    for (int k = 0; k < R; k++) {
        if ((s->recv_mask >> (4 * WSE_PORT_E + k)) & 1)     /* from W, into X */
            s->add_mask |= (uint16_t)(1u << (4 * WSE_PORT_W + k));
        if ((s->recv_mask >> (4 * WSE_PORT_S + k)) & 1)     /* from N, into Y */
            s->add_mask |= (uint16_t)(1u << (4 * WSE_PORT_N + k));
    }
    pe_bind_local_task(pe, T_STEP);
    pe_bind_local_task(pe, T_WORK);
    pe_activate(pe, T_STEP);
    return 0;
}

/* First step only: vel -> coef, p_prev = p0, X = Y = -0.0. */
static void s25_init(wse_pe *pe, s25_state *s, const s25_params *p)
{
    int nz = (int)p->nz;
    float *c = pe_f32(s, s->coef);
    float r = (float)(p->dt * p->dt / (p->h * p->h));
    pe_vmul_f32(pe, c, c, c, nz);
    pe_vscale_f32(pe, c, c, r, nz);
    pe_vmov_f32(pe, pe_f32(s, s->lv[1 - s->cur]) + R, pe_f32(s, s->lv[s->cur]) + R, nz);
    pe_vfill_f32(pe, pe_f32(s, s->xy), -0.0f, 2 * R * nz);
}

/* Post the receives of the current phase; phases without a stream here
 * are skipped. */
static void s25_post(wse_pe *pe, s25_state *s, const s25_params *p)
{
    int nz = (int)p->nz;
    float *xy = pe_f32(s, s->xy);
    while (s->phase < 4 && s->recv_pending == 0) {
        int d = phase_dir[s->phase];
        for (int k = 1; k <= R; k++) {
            int bit = 4 * d + (k - 1);
            if (!((s->recv_mask >> bit) & 1))
                continue;
            float *dst = xy + (pe_port_is_x(d) ? k - 1 : R + k - 1) * nz;
            unsigned add = ((s->add_mask >> bit) & 1) ? WSE_FABIN_ADD : 0u;
            pe_fabin(pe, s->recv_color[bit], dst, nz, 1, T_RECV0 + k - 1, WSE_ASYNC | add);
            s->recv_pending++;
        }
        if (s->recv_pending == 0)
            s->phase++;
    }
}

/* The last part of a step: y part, time update, source. */
static void s25_finish_step(wse_pe *pe, s25_state *s, const s25_params *p)
{
    int nz = (int)p->nz;
    float *u = pe_f32(s, s->lv[s->cur]) + R, *prev = pe_f32(s, s->lv[1 - s->cur]) + R;
    float *a = pe_f32(s, s->acc), *y = pe_f32(s, s->xy) + R * nz;
    for (int k = 1; k <= R; k++)
        pe_vaxpy_f32(pe, a, s25_c[k], y + (k - 1) * nz, a, nz);
    pe_vmul_f32(pe, a, pe_f32(s, s->coef), a, nz);
    pe_vsub_f32(pe, a, a, prev, nz);
    pe_vaxpy_f32(pe, prev, 2.0f, u, a, nz);          /* p_next, in p_prev's place */
    if (s->src_z >= 0) {
        ricker_step(pe, &s->src, &s->w, &s->tt);
        pe_vadd_f32(pe, prev + s->src_z, prev + s->src_z, &s->w, 1);
    }
    s->cur = 1 - s->cur;
    s->step++;
    pe_activate(pe, T_STEP);
}

/* One unit of the vector work that is due, in this order: the z part
 * (centre, then one pair per unit), the x part once X is complete (one
 * distance per unit), the end of the step once everything has arrived and
 * left.  Reactivates itself while more is due; completions activate it
 * when they make more due. */
static void s25_work(wse_pe *pe, s25_state *s, const s25_params *p)
{
    int nz = (int)p->nz;
    float *u = pe_f32(s, s->lv[s->cur]) + R;
    float *a = pe_f32(s, s->acc), *t = pe_f32(s, s->tmp);
    if (s->z_done == 0) {
        pe_vscale_f32(pe, a, u, C0X3, nz);
        s->z_done++;
    } else if (s->z_done <= R) {
        int k = s->z_done++;
        pe_vadd_f32(pe, t, u - k, u + k, nz);
        pe_vaxpy_f32(pe, a, s25_c[k], t, a, nz);
    } else if (s->phase >= 2 && s->x_done < R) {
        int k = ++s->x_done;
        pe_vaxpy_f32(pe, a, s25_c[k], pe_f32(s, s->xy) + (k - 1) * nz, a, nz);
    } else if (s->x_done == R && s->phase == 4 && s->send_pending == 0) {
        s25_finish_step(pe, s, p);
        return;
    } else {
        return;                           /* waiting for the fabric */
    }
    pe_activate(pe, T_WORK);
}

/* Send the column of the first phase from i on toward which this PE has
 * a neighbour.  The sends go one after another (T_SEND0 + i starts the
 * next), through one output queue and one microthread: with a phase's 4
 * receives that makes 5 microthreads, of the 6 a program has.  They go in
 * the order the receivers take them (phase_dir): a stream moves only as
 * fast as its slowest receiver, so a stream sent ahead of its phase would
 * hold up the ones the receivers wait for. */
static void s25_send_from(wse_pe *pe, s25_state *s, const s25_params *p, int i)
{
    while (i < 4 && !(s->send_mask & (1u << phase_dir[i])))
        i++;
    if (i < 4)
        pe_fabout(pe, s->send_color[phase_dir[i]], pe_f32(s, s->lv[s->cur]) + R, (int)p->nz, 1,
                  T_SEND0 + i, WSE_ASYNC);
}

/* ---------------------------------------------------------- switches: a step's traffic */

/* Post the next receive of the chain on color 2 d + g: its streams come
 * one after another, in the order of sw_segments.  A first flow's stream
 * is received plainly; a second flow's is added to the first flow's
 * stream of its distance, so it waits until that one is complete (the
 * two come on different colors, in no fixed order), or is received
 * plainly if there is none.  Returns 0 if the chain is complete, 1 if a
 * receive is in flight, 2 if it waits for the first flow. */
static int sw_post(wse_pe *pe, s25_state *s, int nz, int d, int g)
{
    int n, rel = sw_rel(pe, d, &n), j[3], q = sw_segments(rel, n, g, j);
    int c = 2 * d + g;
    for (int i = 0, r = 0; i < q; i++) {
        if (j[i] == 0 || r++ != s->sw.done[c])
            continue;
        int b = sw_buffer(d, j[i]);
        unsigned flags = WSE_ASYNC;
        if (!sw_first(d) && pe_in_region(pe, pe_x(pe) + j[i] * pe_port_dx(d),
                                         pe_y(pe) + j[i] * pe_port_dy(d))) {
            if (!((s->sw.ready >> b) & 1))
                return 2;                 /* the first flow's stream is still coming */
            flags |= WSE_FABIN_ADD;
        }
        pe_fabin(pe, sw_color(d, g), pe_f32(s, s->xy) + b * nz, nz, 1, sw_recv_task(d, g), flags);
        s->sw.busy |= (uint8_t)(1u << c);
        return 1;
    }
    return 0;
}

/* Post the receive chains of the axis s->phase / 2 (0: x, the eastward
 * and westward flows; 1: y), at most 4 chains, 4 input queues and 4
 * microthreads; an axis without streams here is skipped.  The next axis
 * is posted once every chain of this one is complete (sw_received). */
static void sw_post_axis(wse_pe *pe, s25_state *s, int nz)
{
    while (s->phase < 4) {
        int axis = s->phase / 2, left = 0;
        for (int i = 0; i < 2; i++)       /* the first flow first: the second may wait for it */
            for (int g = 0; g < 2; g++)
                left += sw_post(pe, s, nz, phase_dir[2 * axis + i], g) != 0;
        s->sw.left[axis] = (uint8_t)left;
        if (left)
            return;
        s->phase += 2;
    }
}

/* Send the column toward d (its control wavelet follows from the
 * completion task, sw_sent). */
static void sw_send(wse_pe *pe, s25_state *s, int nz, int d)
{
    pe_fabout(pe, s->send_color[d], pe_f32(s, s->lv[s->cur]) + R, nz, 1, T_SEND0 + phase_of(d),
              WSE_ASYNC);
    s->sw.stage[d] = 1;
}

/* Start the sends of the first axis from a on (0: x, toward E and W; 1:
 * y) that this PE sends on: at most 2 output queues and 2 microthreads.
 * The y axis's start once the x axis's are complete (sw_sent). */
static void sw_send_axis(wse_pe *pe, s25_state *s, int nz, int a)
{
    for (; a < 2; a++) {
        int any = 0;
        for (int i = 0; i < 2; i++)
            if (s->send_mask & (1u << phase_dir[2 * a + i])) {
                sw_send(pe, s, nz, phase_dir[2 * a + i]);
                any = 1;
            }
        if (any)
            return;
    }
}

/* Start a step: the x axis's sends and receive chains. */
static void sw_start_step(wse_pe *pe, s25_state *s, const s25_params *p)
{
    int nz = (int)p->nz;
    memset(s->sw.done, 0, sizeof s->sw.done);
    s->sw.left[0] = s->sw.left[1] = 0;
    s->sw.ready = 0;
    s->sw.busy = 0;
    sw_send_axis(pe, s, nz, 0);
    sw_post_axis(pe, s, nz);
}

/* A receive on chain g of flow d completed: post the chain's next one,
 * or count the chain complete, and once the axis is, post the next. */
static void sw_received(wse_pe *pe, s25_state *s, const s25_params *p, int d, int g)
{
    int nz = (int)p->nz, c = 2 * d + g, done = s->sw.done[c]++;
    s->sw.busy &= (uint8_t)~(1u << c);
    if (sw_first(d)) {        /* its buffer is ready for the second flow */
        int n, j[3], q = sw_segments(sw_rel(pe, d, &n), n, g, j);
        for (int i = 0, r = 0; i < q; i++)
            if (j[i] != 0 && r++ == done)
                s->sw.ready |= (uint8_t)(1u << sw_buffer(d, j[i]));
        int o = pe_port_opposite(d);
        for (int h = 0; h < 2; h++)
            if (!((s->sw.busy >> (2 * o + h)) & 1))
                sw_post(pe, s, nz, o, h);   /* resume a chain waiting for it */
    }
    if (sw_post(pe, s, nz, d, g))
        return;
    if (--s->sw.left[s->phase / 2] == 0) {
        s->phase += 2;
        sw_post_axis(pe, s, nz);
        pe_activate(pe, T_WORK);
    }
}

/* Send completion task T_SEND0 + i: the column toward phase_dir[i] has
 * left, and the control wavelet follows it (from this task, so nothing
 * depends on the order of two operations on one color); or that has left
 * too, and once the axis's other send has, the next axis's sends start.
 * Returns 1 when the send toward phase_dir[i] is complete. */
static int sw_sent(wse_pe *pe, s25_state *s, const s25_params *p, int i)
{
    int d = phase_dir[i];
    if (s->sw.stage[d] == 1) {
        s->sw.stage[d] = 2;
        pe_send(pe, s->send_color[d], SW_ADVANCE, T_SEND0 + i, WSE_ASYNC | WSE_CONTROL);
        return 0;
    }
    s->sw.stage[d] = 0;
    if (i < 2 && s->sw.stage[phase_dir[i ^ 1]] == 0)     /* the x axis's are complete */
        sw_send_axis(pe, s, (int)p->nz, 1);
    return 1;
}

/* Start a step: the sends and the first receives; the work follows. */
static void s25_start_step(wse_pe *pe, s25_state *s, const s25_params *p)
{
    s->phase = 0;
    s->recv_pending = 0;
    s->send_pending = __builtin_popcount(s->send_mask);
    s->z_done = 0;
    s->x_done = 0;
    if (p->broadcast) {
        sw_start_step(pe, s, p);
        pe_activate(pe, T_WORK);
        return;
    }
    s25_send_from(pe, s, p, 0);
    s25_post(pe, s, p);
    pe_activate(pe, T_WORK);
}

static void s25_task(wse_pe *pe, void *state, int task, uint32_t payload)
{
    (void)payload;
    s25_state *s = state;
    const s25_params *p = pe_params(pe);
    if (task == T_STEP) {
        if (s->step >= p->steps) {
            pe_finish(pe);
            return;
        }
        if (s->step == 0)
            s25_init(pe, s, p);
        s25_start_step(pe, s, p);
    } else if (task == T_WORK) {
        s25_work(pe, s, p);
    } else if (task >= T_RECV0 && p->broadcast) {   /* a receive of the axis in flight */
        int i = task - T_RECV0;
        sw_received(pe, s, p, phase_dir[s->phase + i / 2], i % 2);
    } else if (task >= T_RECV0) {         /* a receive of this phase completed */
        if (--s->recv_pending == 0) {
            s->phase++;
            s25_post(pe, s, p);
            pe_activate(pe, T_WORK);
        }
    } else if (p->broadcast) {            /* a switch-mode send: column, then control wavelet */
        if (sw_sent(pe, s, p, task - T_SEND0) && --s->send_pending == 0)
            pe_activate(pe, T_WORK);
    } else {                              /* a send completed: the next one */
        s25_send_from(pe, s, p, task - T_SEND0 + 1);
        if (--s->send_pending == 0)
            pe_activate(pe, T_WORK);
    }
}

/* ---------------------------------------------------------- host */

static int s25_shape(const void *params, int width, int height, int64_t shape[3])
{
    const s25_params *p = params;
    shape[0] = height;
    shape[1] = width;
    shape[2] = p->nz;
    return 3;
}

static void column_block(const wse_pe *pe, float *ptr, wse_array_block *b)
{
    const s25_params *p = pe_params(pe);
    b->ptr = ptr;
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

static void s25_vel_block(const wse_pe *pe, const void *state, wse_array_block *b)
{
    const s25_state *s = state;
    column_block(pe, pe_f32(s, s->coef), b);
}

/* p0 before the run and p after it: the current time level. */
static void s25_p_block(const wse_pe *pe, const void *state, wse_array_block *b)
{
    const s25_state *s = state;
    column_block(pe, pe_f32(s, s->lv[s->cur]) + R, b);
}

static const wse_array_spec s25_arrays[] = {
    { "vel", WSE_F32, 1, 0, "velocity (m/s), float32 [height, width, nz]; zeros if not given", s25_shape, s25_vel_block },
    { "p0", WSE_F32, 1, 0, "initial pressure at both time levels, float32 [height, width, nz]; zeros if not given", s25_shape, s25_p_block },
    { "p", WSE_F32, 0, 1, "pressure after `steps` steps, float32 [height, width, nz]", s25_shape, s25_p_block },
};

typedef struct ref_grid {
    int64_t H, W, Z, sz;          /* sz = Z + 2R: padded column */
} ref_grid;

/* Column of (x, y) in a padded grid, or NULL outside the region. */
static const float *col(const ref_grid *g, const float *a, int64_t x, int64_t y)
{
    if (x < 0 || y < 0 || x >= g->W || y >= g->H)
        return NULL;
    return a + (y * g->W + x) * g->sz + R;
}

/* x/y neighbour at distance k: its value, or -0.0 outside (what the PE's
 * -0.0-filled receive buffer holds when no stream arrives). */
static float nb(const float *c, int64_t z) { return c ? c[z] : -0.0f; }

/* One step of every column: next = the new level (holding p_prev). */
static void ref_step(const ref_grid *g, const float *cur, float *next, const float *coef,
                     float *a)
{
    for (int64_t y = 0; y < g->H; y++)
        for (int64_t x = 0; x < g->W; x++) {
            const float *u = col(g, cur, x, y);
            const float *cx[2 * R], *cy[2 * R];
            for (int k = 1; k <= R; k++) {
                cx[2 * k - 2] = col(g, cur, x - k, y);
                cx[2 * k - 1] = col(g, cur, x + k, y);
                cy[2 * k - 2] = col(g, cur, x, y - k);
                cy[2 * k - 1] = col(g, cur, x, y + k);
            }
            float *nx = next + (y * g->W + x) * g->sz + R;
            const float *cf = coef + (y * g->W + x) * g->Z;
            for (int64_t z = 0; z < g->Z; z++) {
                float acc = C0X3 * u[z];
                for (int k = 1; k <= R; k++) {
                    float t = u[z - k] + u[z + k];
                    acc = s25_c[k] * t + acc;
                }
                for (int k = 1; k <= R; k++) {
                    float X = nb(cx[2 * k - 2], z) + nb(cx[2 * k - 1], z);
                    acc = s25_c[k] * X + acc;
                }
                for (int k = 1; k <= R; k++) {
                    float Y = nb(cy[2 * k - 2], z) + nb(cy[2 * k - 1], z);
                    acc = s25_c[k] * Y + acc;
                }
                a[z] = acc;
            }
            for (int64_t z = 0; z < g->Z; z++) {
                float v = cf[z] * a[z];
                v = v - nx[z];
                nx[z] = 2.0f * u[z] + v;
            }
        }
}

/* Host reference: the same operations, in the same order, on padded
 * columns; the Ricker recurrence is the PE's, op for op. */
static int s25_reference(const void *params, int width, int height,
                         void *const *arrays)
{
    const s25_params *p = params;
    ref_grid g = { height, width, p->nz, p->nz + 2 * R };
    size_t cols = (size_t)g.H * (size_t)g.W;
    float *lv[2] = { calloc(cols * (size_t)g.sz, sizeof(float)),
                     calloc(cols * (size_t)g.sz, sizeof(float)) };
    float *coef = malloc(cols * (size_t)g.Z * sizeof(float));
    float *a = malloc((size_t)g.Z * sizeof(float));
    if (!lv[0] || !lv[1] || !coef || !a) {
        free(lv[0]);
        free(lv[1]);
        free(coef);
        free(a);
        return WSE_ENOMEM;
    }
    const float *vel = arrays[0], *p0 = arrays[1];
    float r = (float)(p->dt * p->dt / (p->h * p->h));
    for (size_t i = 0; i < cols * (size_t)g.Z; i++) {
        float v = vel[i] * vel[i];
        coef[i] = r * v;
    }
    for (size_t c = 0; c < cols; c++) {
        memcpy(lv[0] + c * (size_t)g.sz + R, p0 + c * (size_t)g.Z, (size_t)g.Z * sizeof(float));
        memcpy(lv[1] + c * (size_t)g.sz + R, p0 + c * (size_t)g.Z, (size_t)g.Z * sizeof(float));
    }
    int sx = src_pos(p->src_x, width), sy = src_pos(p->src_y, height), sz = src_pos(p->src_z, p->nz);
    int has_src = p->amp != 0.0 && sx < width && sy < height && sz < p->nz;
    s25_ricker k = ricker_init(p);
    int cur = 0;
    for (int64_t step = 0; step < p->steps; step++) {
        float *next = lv[1 - cur];
        ref_step(&g, lv[cur], next, coef, a);
        if (has_src) {
            float tt = k.tau * k.tau;
            float w = k.m2b * tt + k.one;
            w = w * k.g;
            w = k.amp * w;
            k.g = k.g * k.r;
            k.r = k.q * k.r;
            k.tau = k.tau + k.dt;
            float *c = next + ((int64_t)sy * g.W + sx) * g.sz + R + sz;
            *c = *c + w;
        }
        cur = 1 - cur;
    }
    float *out = arrays[2];
    for (size_t c = 0; c < cols; c++)
        memcpy(out + c * (size_t)g.Z, lv[cur] + c * (size_t)g.sz + R, (size_t)g.Z * sizeof(float));
    free(lv[0]);
    free(lv[1]);
    free(coef);
    free(a);
    return 0;
}

static double s25_tolerance(const void *params, int width, int height)
{
    (void)params; (void)width; (void)height;
    return 0.0;   /* identical fp32 operations in the same order; see the file comment */
}

/* 41 flops per point and step: the Laplacian 1 (centre) + 3 axes x 4
 * pairs x 3 (an addition and a multiply-add), the time update 4.  Not
 * counted: the source and the first step's setup of coef. */
static double s25_flops(const void *params, int width, int height)
{
    const s25_params *p = params;
    return 41.0 * (double)width * (double)height * (double)p->nz * (double)p->steps;
}

const wse_program wse_program_stencil25 = {
    .api_version = WSE_API_VERSION,
    .name = "stencil25",
    .summary = "3D 8th-order acoustic wave equation (25-point stencil), radius-4 localised broadcasts on 20 colors (broadcast=1: switches, 8 colors)",
    .params_size = sizeof(s25_params),
    .params = s25_param_spec,
    .n_params = (int)(sizeof s25_param_spec / sizeof s25_param_spec[0]),
    .arrays = s25_arrays,
    .n_arrays = 3,
    .device = { .state_size = sizeof(s25_state), .setup = s25_setup, .task = s25_task },
    .host = { .reference = s25_reference, .tolerance = s25_tolerance, .useful_flops = s25_flops },
};
