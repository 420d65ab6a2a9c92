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

/* ------------------------------------------------------------ summary */

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

/* Colour of a value in [0, 1] on the pictures' scale (dark violet ->
 * orange -> pale yellow), as 3 bytes. */
void wse_thermal_colour(double v, uint8_t rgb[3]);

#endif
