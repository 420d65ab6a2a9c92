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
#include "wse/report.h"

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

/*
 * Run (or with check_only, validate) a job.  Returns 0; WSE_ECONFIG for
 * bad input (job, topology, params, region, arrays); WSE_ESRAM; the
 * engine's run errors; WSE_EVERIFY when verify was requested and failed
 * (the report and outputs are still written).  rep is filled as far as the
 * run got.
 */
int wse_run(const wse_run_options *opt, wse_report *rep, wse_error *err);

#endif
