/*
 * wse/thermal.h - where a run's energy went and how hot that makes the
 * wafer: energy per PE and per thermal cell from the per-PE counters, and
 * the steady-state temperature of a 2D grid of cells for the run's mean
 * power (docs/MODEL.md, "Power and heat").
 *
 * Energy is a linear function of integer counters (flops, wavelet hops,
 * SRAM bytes, PE-cycles) and the topology's pj_per_* figures.  Cells
 * accumulate their PEs' counters as integers, so the cells' counters sum
 * exactly to the run's, for every decomposition, and wse_energy_of() of
 * those sums is the report's energy bit for bit.  Joules of single cells
 * summed in floating point agree with it to rounding.
 *
 * Thermal cells tile the topology's whole fabric from its origin, `cell
 * width x height` PEs each (the last column and row of cells may be
 * narrower).  PEs outside the job's region draw nothing, but their silicon
 * conducts.  The solve runs on one rank, in a fixed order, so the maps are
 * the same bytes for every decomposition.
 */
#ifndef WSE_THERMAL_H
#define WSE_THERMAL_H

#include <stdint.h>
#include "wse/config.h"
#include "wse/engine.h"
#include "wse/error.h"
#include "wse/shard.h"

/* Energy by category, joules. */
typedef struct wse_energy {
    double compute_j, fabric_j, sram_j, static_j, total_j;
} wse_energy;

/*
 * The energy of the given counts: flops x pj_per_flop, wavelet hops (one
 * wavelet over one link, charged to the sending PE) x pj_per_hop, SRAM
 * bytes x pj_per_sram_byte, PE-cycles x pj_per_idle_pe_cycle (static, for
 * every cycle of the run, busy or idle).  The report's energy is this of
 * the run's totals.
 */
wse_energy wse_energy_of(const wse_topology *t, uint64_t flops, uint64_t hops,
                         uint64_t sram_bytes, double pe_cycles);

/* One PE's counters at the end of a run. */
typedef struct wse_pe_counts {
    uint64_t flops, sram_bytes, busy_cycles;
    uint64_t hops;              /* wavelets it sent over its four links */
    uint64_t tasks;
} wse_pe_counts;

/* The counters of PE (x, y) (region-relative) owned by engine e.  Returns
 * 0, or WSE_EINVAL when e does not own that PE. */
int wse_engine_pe_counts(const wse_engine *e, int x, int y, wse_pe_counts *out);

/* The energy of PE (x, y) of engine e over a run of `cycles` cycles. */
int wse_engine_pe_energy(const wse_engine *e, const wse_topology *t, int x, int y,
                         uint64_t cycles, wse_energy *out);

/* ------------------------------------------------------------ cells */

/* What a cell accumulates from its PEs, as integers. */
enum { WSE_CELL_FLOPS = 0, WSE_CELL_HOPS = 1, WSE_CELL_SRAM = 2, WSE_CELL_PES = 3,
       WSE_CELL_COUNTERS = 4 };

/* The grid of thermal cells over a topology's fabric, and a region of it. */
typedef struct wse_cells {
    int fabric_w, fabric_h;     /* PEs */
    int cell_w, cell_h;         /* PEs per cell */
    int cols, rows;             /* cells */
    wse_rect region;            /* the job's region, fabric coordinates */
} wse_cells;

/* The cells of topology t with the job's region r (fabric coordinates).
 * Returns 0 or WSE_EINVAL (no cell size or pitch, or r off the fabric). */
int wse_cells_make(const wse_topology *t, wse_rect r, wse_cells *g);

/* Width and height in PEs of cell (i, j). */
int wse_cells_width(const wse_cells *g, int i);
int wse_cells_height(const wse_cells *g, int j);

/* Add the counters of every PE engine e owns into acc, an array of
 * WSE_CELL_COUNTERS per cell of the block of nc x nr cells starting at
 * cell (c0, r0), row-major. */
void wse_engine_cell_counts(const wse_engine *e, const wse_cells *g, int c0, int r0,
                            int nc, int nr, uint64_t *acc);

/* The same at cycle `at` of a run (every PE's state is that of the start
 * of cycle at): a task running across at has counted only the share of its
 * flops and SRAM bytes for its cycles before at (rounded down), so power
 * windows spread a task's energy over the cycles it is charged. */
void wse_engine_cell_counts_at(const wse_engine *e, const wse_cells *g, int c0, int r0,
                               int nc, int nr, uint64_t at, uint64_t *acc);

/* ------------------------------------------------------------ the solve */

/*
 * Steady state of the cell grid: each cell's power (W, power[j * cols +
 * i]) leaves through the die, the thermal interface and the cold plate to
 * the coolant (a conductance per area 1 / (t / k + 1 / tim + 1 / h)) and
 * spreads laterally through the die's silicon to its four neighbours
 * (k t x shared edge / distance between centres); the fabric's edges are
 * adiabatic.  Writes each cell's rise over the coolant (K) to rise.
 * Jacobi-preconditioned conjugate gradients in a fixed order, until the
 * residual guarantees every cell within tol_k of the exact solution of the
 * discrete system (||r|| / min vertical conductance, since the lateral part
 * is positive semi-definite); *bound_k gets that guarantee, *iters the
 * iterations.  Returns 0, WSE_EINVAL, WSE_ENOMEM.
 */
int wse_thermal_solve(const wse_topology *t, const wse_cells *g, const double *power,
                      double tol_k, double *rise, double *bound_k, int *iters);

/* ------------------------------------------------------------ the transient */

/*
 * The die's heat capacity per area, J/(m^2 K): si_density x
 * si_specific_heat x die_thickness (the TIM and the cold plate are taken
 * as massless), and the time constant of the vertical path, s: that
 * capacity x the vertical resistance per area.  A uniform step of power
 * approaches its steady state as 1 - exp(-t / tau).
 */
double wse_thermal_capacity(const wse_topology *t);
double wse_thermal_tau(const wse_topology *t);

/*
 * Advance each cell's rise over the coolant (K, rise[j * cols + i]) by
 * `seconds` under constant power (W per cell): C dT/dt = P - A T, with C
 * the cells' heat capacities and A the conductances of the steady solve.
 * Forward Euler in n equal steps, n the fewest that keep every step
 * within the positivity bound min over cells of C_k / A_kk (each new
 * temperature is then a weighted mean of the old ones and the power's
 * rise, so the scheme is stable and never overshoots).  *steps gets n.
 * Returns 0, WSE_EINVAL, WSE_ENOMEM.
 */
int wse_thermal_advance(const wse_topology *t, const wse_cells *g, const double *power,
                        double seconds, double *rise, int64_t *steps);

/* ------------------------------------------------------------ summary */

/* Power over time (jobs with power_window_cycles), the same on every rank. */
typedef struct wse_power_time {
    int valid;                  /* 0: the job has no power windows */
    uint64_t window_cycles, windows;
    int start_steady;           /* thermal_start: steady */
    double tau_s;               /* the vertical path's time constant */
    double step_s;              /* the transient's step bound (C_k / A_kk) */
    double peak_power_w;        /* the highest window's total */
    uint64_t peak_window;
    double final_max_c;         /* the hottest cell at the run's end */
    /* the hottest window: the one ending with the hottest cell */
    uint64_t hot_window, hot_start, hot_cycles;
    double hot_power_w;
    double hottest_c;
    int hot_i, hot_j;
    double hot_x, hot_y;        /* region-relative PE coordinates */
    double mean_c, gradient_k_mm;
    int grad_i, grad_j, grad_i2, grad_j2;
    double scale_min_c, scale_max_c;
    int files;                  /* 1: the CSV, maps and picture written */
    /* throttling */
    int throttle;               /* 1: the topology's rule acted in this run */
    double throttle_above_c, throttle_resume_c;
    int throttle_rate_percent;
    uint64_t throttled_pe_cycles;   /* PE-cycles in throttled cells */
    uint64_t throttle_cycles;   /* cycles throttling added to tasks */
    uint64_t throttle_onsets;   /* cells that entered throttling */
    uint64_t busy_cycles;       /* the run's busy PE-cycles, for the share */
} wse_power_time;

typedef struct wse_thermal_summary {
    int valid;                  /* 0: not computed (no run, or no cycles) */
    int cols, rows, cell_w, cell_h;
    uint64_t counts[WSE_CELL_COUNTERS];  /* summed over cells */
    double power_w;             /* the report's energy / wafer time */
    double power_compute_w, power_fabric_w, power_sram_w, power_static_w;
    double cell_power_sum_w;    /* the cells' powers summed */
    double peak_density_w_mm2;  /* highest cell power / cell area */
    int peak_i, peak_j;
    double coolant_c;
    double hottest_c, peak_rise_k;
    int hot_i, hot_j;
    double hot_x, hot_y;        /* its centre, region-relative PE coordinates */
    double mean_c;              /* area-weighted over the fabric */
    double gradient_k_mm;       /* largest between neighbouring cells */
    int grad_i, grad_j, grad_i2, grad_j2;
    double r_vertical_m2k_w;    /* vertical resistance per area */
    double spreading_mm;        /* sqrt(k t r_vertical): lateral reach */
    double bound_k;             /* solver guarantee */
    int iters;
    double scale_min_c, scale_max_c;   /* the picture's colour scale */
    int picture;                /* 1: temperature.png written */
    wse_power_time over_time;   /* power windows, the transient, throttling */
} wse_thermal_summary;

/*
 * After a run (collective over the sim's ranks): every rank adds its PEs'
 * counters into the cells its shards cover, rank 0 adds the ranks' blocks
 * (integers), computes each cell's mean power over the run (its energy /
 * wafer time), solves the grid to THERMAL_TOL_K (1e-6 K) and, with
 * out_dir, writes out_dir/power.npy (W per cell) and temperature.npy (deg
 * C), float32 [rows, cols], and temperature.png, each atomically.  sum is
 * the same on every rank.  Returns 0 or an error agreed by every rank.
 */
/* The files wse_thermal_run writes into out_dir. */
#define WSE_THERMAL_POWER_FILE "power.npy"
#define WSE_THERMAL_TEMPERATURE_FILE "temperature.npy"
#define WSE_THERMAL_PICTURE_FILE "temperature.png"

int wse_thermal_run(wse_sim *s, const wse_topology *t, wse_rect region,
                    const wse_engine_stats *st, const char *out_dir,
                    wse_thermal_summary *sum, wse_error *err);

/* ------------------------------------------------------------ power windows */

/* The files wse_power_windows_finish writes into out_dir. */
#define WSE_THERMAL_WINDOWS_FILE "power_windows.csv"
#define WSE_THERMAL_HOT_POWER_FILE "power_hottest.npy"
#define WSE_THERMAL_HOT_TEMPERATURE_FILE "temperature_hottest.npy"
#define WSE_THERMAL_HOT_PICTURE_FILE "temperature_hottest.png"

/*
 * Power over time (docs/MODEL.md, "Power and heat").  Window i covers
 * cycles [i P, (i + 1) P) of the modeled clock, P = the job's
 * power_window_cycles.  At each boundary (wse_sim_set_power_windows) every
 * rank adds its PEs' counters into its block of cells, rank 0 adds the
 * blocks and takes the difference from the last boundary (integers), so a
 * window's energy per cell is exact and the same for every decomposition;
 * rank 0 turns it into watts, advances the transient (the wafer starts at
 * the coolant, or with thermal_start: steady at the steady state of the
 * first window's power) and, when the topology has a throttle rule and
 * the job does not turn it off, decides which cells are throttled in the
 * next window and broadcasts one byte per cell.  Memory: one block of
 * cells per rank, a few maps of cells on rank 0; nothing per PE beyond a
 * flag bit.  Per window: one gather of the blocks, one broadcast, one
 * agreement.
 */
typedef struct wse_power_windows wse_power_windows;

/* Collective; *out is NULL when the job has no power windows. */
int wse_power_windows_create(wse_sim *s, const wse_topology *t, wse_rect region,
                             const wse_job *job, int want_files, wse_power_windows **out,
                             wse_error *err);
/* The sim's callback (wse_sim_set_power_windows): closes the window
 * ending at boundary.  Collective. */
int wse_power_windows_close(void *w, uint64_t boundary, wse_error *err);
/* After the run (collective): the last window, up to the run's cycles;
 * with out_dir the per-window CSV and the hottest window's maps and
 * picture (atomically); fills sum->over_time, the same on every rank. */
int wse_power_windows_finish(wse_power_windows *w, const wse_engine_stats *st,
                             const char *out_dir, wse_thermal_summary *sum, wse_error *err);
void wse_power_windows_destroy(wse_power_windows *w);

/* Set the throttle flag of every PE engine e owns from hot (a byte per
 * cell of the whole grid g, row-major; nonzero: throttled).  Returns how
 * many are throttled. */
uint64_t wse_engine_throttle_set(wse_engine *e, const wse_cells *g, const uint8_t *hot);
/* Cycles throttling added to engine e's tasks so far. */
uint64_t wse_engine_throttle_cycles(const wse_engine *e);

/* Colour of a value in [0, 1] on the pictures' scale (dark violet ->
 * orange -> pale yellow), as 3 bytes. */
void wse_thermal_colour(double v, uint8_t rgb[3]);

#endif
