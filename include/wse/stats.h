/*
 * wse/stats.h - the statistics of a run, defined once.
 *
 * WSE_STATS is the one table of counters: the struct below, the
 * reductions over shards and ranks, the JSON keys of report.json and the
 * tests' comparisons all come from it, so adding a counter is one line.
 * Columns: X(field, reduce, group, exact, key, doc)
 *   reduce  SUM over PEs and shards, or MAX
 *   group   MACHINE: a figure of the emulated machine (report.json top
 *           level); EMULATOR: of how wsemu ran ("emulator" object)
 *   exact   1: identical for every decomposition in exact mode (tests
 *           assert it); 0: a property of the decomposition itself
 *   key     its key in report.json
 * All are integers, so they are exact; derived figures (fractions, energy,
 * rates) are computed from them by the report.
 */
#ifndef WSE_STATS_H
#define WSE_STATS_H

#include <stdint.h>

#define WSE_STATS(X)                                                                    \
    X(cycles, MAX, MACHINE, 1, "cycles", "cycle at which the run ended")               \
    X(pes, SUM, MACHINE, 1, "pes", "PEs emulated")                                      \
    X(tasks_run, SUM, MACHINE, 1, "tasks_run", "tasks the compute engines ran")        \
    X(wavelets_sent, SUM, MACHINE, 1, "wavelets_sent", "wavelets CEs injected into their routers") \
    X(wavelets_received, SUM, MACHINE, 1, "wavelets_received", "wavelets CEs consumed") \
    X(hops, SUM, MACHINE, 1, "wavelet_hops", "wavelet moves over router-router links") \
    X(busy_cycles, SUM, MACHINE, 1, "busy_cycles", "sum over PEs of cycles the CE was busy") \
    X(flops, SUM, MACHINE, 1, "counted_flops", "flops counted by vector ops, fabin adds and charges") \
    X(sram_bytes_moved, SUM, MACHINE, 1, "sram_bytes_moved", "SRAM bytes read and written by vector ops") \
    X(stretched_hops, SUM, MACHINE, 1, "stretched_hops", "wavelet hops over links a defect repair stretched") \
    X(stretch_cycles, SUM, MACHINE, 1, "stretch_cycles", "the extra link cycles those hops took") \
    X(late_wavelets, SUM, MACHINE, 1, "late_wavelets", "relaxed mode: wavelets delivered late") \
    X(late_cycles, SUM, MACHINE, 1, "late_cycles", "relaxed mode: their total delay in cycles") \
    X(pe_visits, SUM, EMULATOR, 1, "pe_visits", "PE-cycles the emulator processed")    \
    X(cycles_stepped, MAX, EMULATOR, 0, "cycles_stepped", "cycles a shard had work in (the rest it skipped)")

/* Peaks: a maximum over PEs with the place it was reached, chosen by
 * value, then lowest global PE index, then port, so the same place wins
 * for every decomposition.  X(field, doc) */
#define WSE_STATS_PEAKS(X)                                                 \
    X(link, "wavelets over the busiest directed link; its PE and out port") \
    X(sram, "highest SRAM use of one PE, reserved bytes included; its PE")

typedef struct wse_peak {
    uint64_t value;
    int x, y;                   /* region-relative PE */
    int port;                   /* link: the out port (N, E, S, W); else 0 */
} wse_peak;

typedef struct wse_engine_stats {
#define WSE_STAT_FIELD_(f, reduce, group, exact, key, doc) uint64_t f;
    WSE_STATS(WSE_STAT_FIELD_)
#undef WSE_STAT_FIELD_
#define WSE_PEAK_FIELD_(f, doc) wse_peak f;
    WSE_STATS_PEAKS(WSE_PEAK_FIELD_)
#undef WSE_PEAK_FIELD_
} wse_engine_stats;

/* Whether peak a beats peak b (a's global index ia, b's ib). */
static inline int wse_peak_better(const wse_peak *a, uint64_t ia, const wse_peak *b, uint64_t ib)
{
    if (a->value != b->value)
        return a->value > b->value;
    if (ia != ib)
        return ia < ib;
    return a->port < b->port;
}

#endif
