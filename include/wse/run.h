/*
 * wse/run.h - one job, end to end: load and check the job and topology,
 * build the engine, write inputs, run, read outputs, verify, report.
 *
 * This is what `wsemu run` and `wsemu check` call; tests call it too.
 */
#ifndef WSE_RUN_H
#define WSE_RUN_H

#include <stdio.h>
#include <mpi.h>
#include "wse/config.h"
#include "wse/engine.h"

typedef struct wse_run_options {
    const char *job_path;
    const char *const *sets;    /* "key.path=value" overrides */
    int n_sets;
    const char *topology;       /* --topology override, or NULL */
    const char *out_dir;        /* write report.json and outputs, or NULL */
    int check_only;             /* validate everything, do not run */
    const wse_program *const *programs; /* extra (user) programs, searched */
    int n_programs;                     /*   before the built-in ones */
    FILE *progress;             /* progress lines on long runs, or NULL */
    double progress_seconds;    /* interval, default 10 */
    MPI_Comm comm;              /* the ranks of this run */
    int grid_px, grid_py;       /* --grid PxQ, or 0 x 0 to choose */
    int threads;                /* shard rows per rank (0 = 1) */
} wse_run_options;

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
    uint32_t sram_bytes;        /* per PE, from the topology */
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
 * Run (or with check_only, validate) a job.  Returns 0; WSE_ECONFIG for
 * bad input (job, topology, params, region, arrays); WSE_ESRAM; the
 * engine's run errors; WSE_EVERIFY when verify was requested and failed
 * (the report and outputs are still written).  rep is filled as far as the
 * run got.
 */
int wse_run(const wse_run_options *opt, wse_report *rep, wse_error *err);

/* Human-readable summary. */
void wse_report_print(const wse_report *rep, FILE *f);

/* The same as JSON.  Returns 0 or WSE_EIO. */
int wse_report_json(const wse_report *rep, FILE *f);

#endif
