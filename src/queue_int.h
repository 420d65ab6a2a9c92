/*
 * src/queue_int.h - a router queue's latency and credits, without double
 * buffering.
 *
 * Every decision at cycle t uses the state at the start of t.  A queue
 * remembers the cycles of its last pushes and pops (32-cycle bit
 * histories).  A push at cycle s becomes visible to the consumer at s + L
 * (L = the queue's link latency: the hop latency, more on a link a defect
 * repair stretched); a pop at s returns its credit to the producer at
 * s + L.  So a consumer never sees a same-cycle push, and a producer counts
 * a same-cycle pop as a credit still in flight: the result does not depend
 * on the order PEs are visited in, which is what lets shards and threads
 * run independently within a lookahead window of L cycles.
 *
 * Inline: these run several times per wavelet hop.
 */
#ifndef WSE_QUEUE_INT_H
#define WSE_QUEUE_INT_H

#include "engine_int.h"

/* Events of a history in the last L cycles (bit 0 = this cycle).  L = 1,
 * the common case, needs no popcount. */
static inline unsigned queue_in_window(unsigned lat, uint32_t hist)
{
    if (lat == 1)
        return hist & 1u;
    return popc32(hist & (uint32_t)((1ull << lat) - 1));
}

/* Bring a queue's histories to cycle t (bit 0 = cycle t).  The stamp
 * keeps 32 bits of the cycle: the run loop brings every history up to
 * date at least once per WSE_SWEEP_CYCLES (engine.c), so the 32-bit
 * difference is always the true one for a non-empty history. */
static inline void queue_sync(wse_queue *q, uint64_t t)
{
    uint32_t d = (uint32_t)t - q->stamp;
    if (d == 0)
        return;
    if (d >= 32) {
        q->push_hist = 0;
        q->pop_hist = 0;
    } else {
        q->push_hist <<= d;
        q->pop_hist <<= d;
    }
    q->stamp = (uint32_t)t;
}

static inline unsigned queue_count(const wse_queue *q)
{
    return (uint8_t)(q->tail - q->head);
}

/* Wavelets the consumer may take at cycle t (pushed at t - L or earlier). */
static inline unsigned queue_visible(const wse_queue *q)
{
    return queue_count(q) - queue_in_window(q->lat, q->push_hist);
}

/* Whether the producer holds a credit at cycle t. */
static inline int queue_credit(const wse_engine *e, const wse_queue *q)
{
    return queue_count(q) + queue_in_window(q->lat, q->pop_hist) < (unsigned)e->depth;
}

/* Store word at the tail of queue qi, with its control flag; `bit` marks
 * when in its push history (1u: this cycle). */
static inline void queue_store(wse_engine *e, uint32_t qi, uint32_t word, uint32_t bit,
                               unsigned ctrl)
{
    wse_queue *q = &e->q[qi];
    unsigned s = q->tail % (unsigned)e->depth;
    e->slots[(uint64_t)qi * e->depth + s] = word;
    q->ctrl = (uint8_t)((q->ctrl & ~(1u << s)) | (ctrl << s));
    q->tail++;
    q->push_hist |= bit;
}

static inline void queue_push(wse_engine *e, uint32_t qi, uint32_t word, unsigned ctrl)
{
    queue_store(e, qi, word, 1u, ctrl);
}

/* The head of queue qi (which must hold a wavelet); *ctrl gets its
 * control flag. */
static inline uint32_t queue_peek(const wse_engine *e, uint32_t qi, unsigned *ctrl)
{
    const wse_queue *q = &e->q[qi];
    unsigned s = q->head % (unsigned)e->depth;
    *ctrl = (q->ctrl >> s) & 1u;
    return e->slots[(uint64_t)qi * e->depth + s];
}

/* Remove the head of queue qi (after queue_peek). */
static inline void queue_drop_head(wse_engine *e, uint32_t qi)
{
    wse_queue *q = &e->q[qi];
    q->head++;
    q->pop_hist |= 1u;
}

/* Whether a filtered control wavelet pushed into q is dropped there: q is
 * a CE queue fed straight from a link (or the ghost of one), so the
 * router in front of it would hand the wavelet to its CE, which the CE
 * filter forbids. */
static inline int queue_drops_filtered(const wse_queue *q)
{
    return (q->kind == Q_CE || q->kind == Q_GHOST) && q->txports == WSE_RAMP;
}

#endif
