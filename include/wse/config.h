/*
 * wse/config.h - topology and job files (YAML), validated against schema
 * tables.  This module is the only caller of libyaml.
 *
 * Every error names the user's input: "path:line:col: what is wrong" for a
 * file, "--set key.path: what is wrong" for a command-line override.
 * Unknown keys, wrong types, out-of-range or overflowing numbers, missing
 * required keys, empty or binary files, nesting deeper than
 * WSE_CONFIG_MAX_DEPTH and any YAML alias or anchor are errors (aliases
 * are refused outright, which also defeats alias bombs).
 */
#ifndef WSE_CONFIG_H
#define WSE_CONFIG_H

#include <stdint.h>
#include "wse/error.h"
#include "wse/pe.h"

#define WSE_CONFIG_MAX_DEPTH 16       /* nesting levels in any file */
#define WSE_CONFIG_MAX_BYTES (1 << 20) /* larger files are refused */
#define WSE_NAME_MAX 64
#define WSE_PATH_MAX 512
#define WSE_MAX_PARAMS 32
#define WSE_MAX_ARRAYS 16
#define WSE_MAX_SETS 64

/* ---------------------------------------------------------------- topology */

/* Architectures: `arch` in a topology selects the defaults of its
 * resources section and the semantic differences between generations. */
enum wse_arch { WSE_ARCH_WSE2 = 0, WSE_ARCH_WSE3 = 1 };

/* The validated, immutable machine description.  Every cost and latency
 * the engine uses comes from here. */
typedef struct wse_topology {
    char name[WSE_NAME_MAX];
    int arch;                    /* enum wse_arch, default wse2 */
    char path[WSE_PATH_MAX];     /* file it was loaded from */
    int width, height;           /* fabric dims in PEs */
    int prog_x, prog_y;          /* largest program rectangle: origin */
    int prog_width, prog_height; /*   and size (the default job region) */
    uint32_t sram_bytes;         /* per PE */
    uint32_t reserved_bytes;     /* per PE, taken from SRAM for stack/runtime */
    int sram_read_bytes_per_cycle;  /* bound vector ops (0: no bound) */
    int sram_write_bytes_per_cycle; /*   likewise for writes */
    int colors;                  /* routable colors, ids 0..colors-1 (<= 32) */
    int queue_depth;             /* router input queue depth, wavelets (1..64) */
    int hop_latency_cycles;      /* 1..16 */
    int link_wavelets_per_cycle; /* must be 1 */
    double clock_hz;
    int task_switch_cycles;      /* charged for every task run */
    int vector_startup_cycles;   /* fixed cost of every vector op */
    int simd_fp32;               /* fp32 elements per cycle */
    int simd_fp16;               /* fp16 elements per cycle */
    int fabric_startup_cycles;   /* fixed cost to issue a fabric op */
    int fabric_datapath_cycles;  /* a running task loses these per cycle
                                  * in which fabric elements move (0: none) */
    int energy_calibrated;       /* 0: the energy figures are illustrative */
    double pj_per_flop;          /* energy model, picojoules */
    double pj_per_hop;           /* one wavelet over one link */
    double pj_per_sram_byte;     /* SRAM bytes read or written by vector ops */
    double pj_per_idle_pe_cycle; /* static/leakage, per PE per cycle */
    /* Hardware resources of one PE (section `resources`; defaults from
     * arch).  What host I/O keeps is not the program's. */
    int input_queues;            /* router-to-CE queues */
    int output_queues;           /* CE-to-router queues */
    int microthreads;            /* asynchronous fabric operations at once */
    int host_io_queues;          /* input and output queues host I/O keeps */
    int host_io_microthreads;    /* microthreads host I/O keeps */
    int host_io_first_color;     /* colors from here up are host I/O's */
    int local_task_min;          /* local task ids a program may use: */
    int local_task_max;          /*   local_task_min..local_task_max, */
    int host_io_first_task;      /*   minus host_io_first_task and up */
    int implicit_queues;         /* wse3: a color without pe_init_queue gets
                                  * a queue implicitly, as on wse2 (a wsemu
                                  * convenience; 0, the default: the
                                  * hardware's rule) */
    /* Thermal model (section `thermal`, every key optional; docs/MODEL.md,
     * "Power and heat"): cells of PEs, their geometry and the path to the
     * coolant. */
    int thermal_cell_width;      /* PEs per thermal cell along x */
    int thermal_cell_height;     /*   and along y */
    double pe_width_mm;          /* PE pitch along x, mm */
    double pe_height_mm;         /*   and along y */
    double si_conductivity;      /* W/(m K), lateral and through the die */
    double die_thickness_mm;
    double tim_conductance;      /* thermal interface, W/(m^2 K) */
    double heat_transfer;        /* cold plate to coolant, W/(m^2 K) */
    double coolant_c;            /* coolant temperature, deg C */
    /* Yield (section `yield`; docs/MODEL.md, "Defects and spare PEs"): the
     * physical fabric behind the logical one and how it is repaired.
     * yield_scheme WSE_REPAIR_NONE (no section): a perfect wafer only. */
    int yield_scheme;            /* enum wse_repair_scheme */
    int die_width, die_height;   /* logical PEs per die (the last die of a
                                  * row or column may be narrower) */
    int spare_rows, spare_cols;  /* physical spares per die */
    int bypass_cycles_per_pe;    /* a repaired link's extra cycles per PE
                                  * pitch its wire is longer than the
                                  * nominal one */
    double pe_area_mm2;          /* for defect densities */
    /* A particular wafer's repair (wse/yield.h), set by whoever built it
     * from a defect map; NULL: a perfect wafer. */
    const struct wse_wafer *wafer;
    double si_density;           /* kg/m^3, the die's heat capacity: */
    double si_specific_heat;     /*   J/(kg K) (the transient) */
    /* thermal.throttle (optional; acts only in jobs with power windows):
     * a PE whose cell is above throttle_above_c runs its tasks at
     * throttle_rate_percent of the rate until the cell is below
     * throttle_resume_c */
    int throttle;                /* 1: the rule is given */
    double throttle_above_c, throttle_resume_c;
    int throttle_rate_percent;   /* 1..99 */
} wse_topology;

enum wse_repair_scheme {
    WSE_REPAIR_NONE = 0,
    WSE_REPAIR_COLUMN_SHIFT = 1, /* spare rows; a column shifts past its defects */
    WSE_REPAIR_ROW_SHIFT = 2,    /* spare columns; a row shifts past its defects */
    WSE_REPAIR_ROW_RETIRE = 3    /* spare rows; a row with a defect is retired */
};

/*
 * Load a topology from a YAML file.  Returns 0, or WSE_ECONFIG / WSE_EIO
 * with err naming path:line:col.  *out is fully written only on success.
 */
int wse_topology_load(const char *path, wse_topology *out, wse_error *err);

/* Set arch and every resources field to that architecture's figures (for
 * topologies built in code; call after setting colors). */
void wse_topology_set_arch(wse_topology *t, int arch);

/*
 * Resolve a --topology / job "topology:" value: a path (contains '/' or ends
 * in .yaml) is used as given (relative to base_dir when base_dir is not
 * NULL and the path is relative), a bare NAME means
 * <topo_dir>/NAME.yaml.  topo_dir NULL means the default directory:
 * $WSEMU_TOPOLOGY_DIR when set, else PREFIX/share/wsemu/topologies beside
 * an installed program (PREFIX/bin/...), else the source tree's.  Writes
 * the path to buf.  Returns 0 or WSE_EINVAL if it does not fit.
 */
int wse_topology_resolve(const char *name_or_path, const char *base_dir,
                         const char *topo_dir, char *buf, size_t n,
                         wse_error *err);

/* ---------------------------------------------------------------- job */

enum wse_mode { WSE_MODE_EXACT = 0, WSE_MODE_RELAXED = 1 };

/* A scalar value with the place it came from, kept raw until the program
 * that interprets it is known (params are validated against its table). */
typedef struct wse_raw_value {
    char key[WSE_NAME_MAX];
    char text[128];              /* the scalar as written */
    char file[WSE_PATH_MAX];     /* job file or "--set" */
    int line, column;            /* 1-based, 0 for --set */
} wse_raw_value;

enum wse_input_kind { WSE_INPUT_FILE = 0, WSE_INPUT_GENERATE = 1 };
enum wse_generator {
    WSE_GEN_RANDOM = 0,  /* uniform in [lo, hi), from seed and element index */
    WSE_GEN_ZEROS = 1,
    WSE_GEN_ONES = 2,
    WSE_GEN_INDEX = 3,   /* value = global element index (as the dtype) */
    WSE_GEN_SPIKE = 4    /* zero except value hi at the centre element */
};

typedef struct wse_input {
    char name[WSE_NAME_MAX];     /* array name the program declares */
    int kind;                    /* enum wse_input_kind */
    char path[WSE_PATH_MAX];     /* resolved relative to the job file */
    int generator;               /* enum wse_generator */
    uint64_t seed;
    double lo, hi;               /* default 0, 1 */
    char file[WSE_PATH_MAX];     /* where it was written, for errors */
    int line, column;
} wse_input;

/* A job's defect map (section `defects`): a file or a generator. */
enum wse_defects_kind { WSE_DEFECTS_NONE = 0, WSE_DEFECTS_FILE = 1, WSE_DEFECTS_GENERATE = 2 };
typedef struct wse_defect_spec {
    int kind;                    /* enum wse_defects_kind */
    char path[WSE_PATH_MAX];     /* FILE: resolved relative to the job file */
    double d0_per_mm2;           /* GENERATE: defects per mm^2 */
    double alpha;                /*   negative-binomial clustering; 0: Poisson */
    uint64_t seed;
    double pe_area_mm2;          /*   0: the topology's */
    int shrink;                  /* too many defects: a smaller logical fabric
                                  * instead of an error */
    char file[WSE_PATH_MAX];     /* where the section was written */
    int line, column;
} wse_defect_spec;

typedef struct wse_job {
    char path[WSE_PATH_MAX];     /* job file as given */
    char dir[WSE_PATH_MAX];      /* its directory, for relative paths */
    char topology[WSE_PATH_MAX]; /* as written: a name or a path */
    char program[WSE_NAME_MAX];
    int region_set;              /* 0: use the topology's program rectangle */
    int region_x, region_y, region_width, region_height;
    wse_raw_value region_mark;   /* where "region" was written, for errors */
    int n_params;
    wse_raw_value params[WSE_MAX_PARAMS];
    int n_inputs;
    wse_input inputs[WSE_MAX_ARRAYS];
    int n_outputs;
    char outputs[WSE_MAX_ARRAYS][WSE_NAME_MAX];
    int mode;                    /* enum wse_mode, default exact */
    int64_t window_cycles;       /* relaxed mode window; 0 = lookahead */
    int verify;                  /* bool, default 0 */
    int64_t max_cycles;          /* safety limit, default 1e12 */
    wse_defect_spec defects;     /* kind NONE: a perfect wafer */
    /* power over time (docs/MODEL.md, "Power and heat"): 0, or the length
     * of a power window in cycles (>= WSE_POWER_WINDOW_MIN) */
    int64_t power_window_cycles;
    int thermal_start;           /* enum wse_thermal_start */
    int throttle;                /* bool, default 1: the topology's rule acts */
} wse_job;

enum wse_thermal_start { WSE_START_COOLANT = 0, WSE_START_STEADY = 1 };
#define WSE_POWER_WINDOW_MIN 100

/*
 * Load a job file and apply n_sets overrides "key.path=value" (in order,
 * after the file; a later one wins).  An override may name any job key,
 * including params.NAME (which may be new) and region.width etc.; an
 * unknown key is an error "--set key: unknown key ...".  Returns 0, or
 * WSE_ECONFIG / WSE_EIO with err filled.
 */
int wse_job_load(const char *path, const char *const *sets, int n_sets,
                 wse_job *out, wse_error *err);

/*
 * Fill the job's region defaults from the topology (no region: the
 * program rectangle; region without x/y: the program rectangle's origin)
 * and check that it fits the fabric.  A region that does not fit is
 * WSE_ECONFIG naming where region was written and both rectangles.
 */
int wse_job_check_region(wse_job *job, const wse_topology *topo,
                         wse_error *err);

/* ---------------------------------------------------------------- params */

/* Parameter tables (wse_param_spec) are part of the PE API (wse/pe.h). */

/*
 * Fill the params struct at out (defaults first, then job values) from
 * the job's raw params, checked against spec[0..n_spec).  An unknown name,
 * a wrong type or an out-of-range value is WSE_ECONFIG naming the place
 * the value was written.
 */
int wse_params_bind(const wse_job *job, const wse_param_spec *spec,
                    int n_spec, void *out, wse_error *err);

#endif
