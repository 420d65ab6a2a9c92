/*
 * wse/report.h - the report of a run: what the machine did (exact, the
 * same for every decomposition) and how the emulator did it (host
 * measurements), as a summary for people and as JSON for tools.
 *
 * Both come from the same wse_report, so they cannot disagree; the JSON
 * carries every counter of wse/stats.h under its table key.
 */
#ifndef WSE_REPORT_H
#define WSE_REPORT_H

#include <stdio.h>
#include "wse/config.h"
#include "wse/engine.h"
#include "wse/thermal.h"
#include "wse/yield.h"

#define WSE_REPORT_MAX_OUTPUTS WSE_MAX_ARRAYS

typedef struct wse_report {
    char job[WSE_PATH_MAX];
    char topology[WSE_NAME_MAX];
    char program[WSE_NAME_MAX];
    const char *mode;
    wse_rect region;
    wse_engine_stats st;
    /* the machine */
    double clock_hz;
    double wafer_time_s;
    double useful_flops, useful_flops_per_s;
    double link_util_mean, link_util_max;
    double busy_fraction;
    double energy_j, energy_compute_j, energy_fabric_j, energy_sram_j, energy_static_j;
    int energy_calibrated;      /* 0: the topology's energy figures are illustrative */
    uint32_t sram_bytes;        /* per PE, from the topology */
    wse_thermal_summary thermal; /* power and the steady-state heat map */
    int has_wafer;              /* the job named a defect map: */
    wse_wafer_summary wafer;    /*   its repair */
    int wafer_picture;          /*   and WSE_WAFER_PNG_FILE was written */
    /* the emulator */
    double wall_s, setup_s, run_s;
    int ranks, threads;
    int grid_px, grid_py;
    char pinning[160];          /* how rank 0's threads are bound */
    double pe_cycles_per_core_s, hops_per_s;
    uint64_t halo_bytes, halo_messages;
    double load_imbalance;
    uint64_t overhead_bytes;
    double overhead_per_pe;
    /* results */
    uint64_t digest;
    int verify;                 /* -1 not requested, 0 failed, 1 passed */
    double max_abs_err, tolerance;
    int n_outputs;
    char outputs[WSE_REPORT_MAX_OUTPUTS][WSE_NAME_MAX];
} wse_report;

/*
 * Fill the derived figures (wafer time, FLOP/s, link utilisation, busy
 * fraction, energy, emulator rates) from the counters in rep->st, the
 * topology, and rep's useful_flops, run_s, ranks, threads and
 * overhead_bytes.
 */
void wse_report_derive(wse_report *rep, const wse_topology *topo);

/* Human-readable summary. */
void wse_report_print(const wse_report *rep, FILE *f);
/* Its lines on the wafer's defects and repair (nothing for a perfect
 * wafer): also what `check` prints. */
void wse_report_print_wafer(const wse_report *rep, FILE *f);
/* The same as JSON.  Returns 0 or WSE_EIO. */
int wse_report_json(const wse_report *rep, FILE *f);

#endif
