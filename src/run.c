/*
 * src/run.c - one job end to end (see wse/run.h).
 *
 * Order matters for users: everything that can be checked without running
 * (job, topology, program, params, region, SRAM, input files) is checked
 * before the first cycle, so a typo never costs a long run.  Files are
 * written only after the run, atomically.
 *
 * Outputs are gathered to rank 0 one row of shards at a time and streamed
 * into the .npy writer and the digest, so no rank holds more than its share
 * plus one band.  Drawback: verify needs whole arrays, so with verify on,
 * rank 0 holds every output array and the reference's inputs.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "clock_int.h"
#include "limits_int.h"
#include "transfer_int.h"
#include "wse/hostio.h"
#include "wse/io.h"
#include "wse/programs.h"
#include "wse/run.h"
#include "wse/shard.h"
#include "wse/thermal.h"
#include "wse/threads.h"

typedef struct run_ctx {
    const wse_run_options *opt;
    wse_report *rep;
    wse_job job;
    wse_topology topo;
    const wse_program *prog;
    void *params;
    wse_grid *grid;
    wse_sim *sim;
    wse_wafer *wafer;           /* the job's defect map repaired, or NULL */
    int rank, size;
    wse_rect region;
    wse_host_array full[WSE_MAX_ARRAYS];   /* rank 0, for verify */
    int out_idx[WSE_MAX_ARRAYS];
    int n_out;
    wse_npy_writer w[WSE_MAX_ARRAYS];
    /* progress: when the run started, the last report, whether a line
     * is open on a terminal (redrawn in place) */
    double t_run, t_last;
    uint64_t cyc_last;
    int tty, open_line;
    wse_power_windows *pw;      /* power over time, or NULL */
} run_ctx;

#define REPORT_FILE "report.json"     /* in --out, written last */

/* A file the user named that cannot be read is bad input, like a typo. */
static int as_input_error(int rc, wse_error *err)
{
    if (rc == WSE_EIO && err) {
        err->code = WSE_ECONFIG;
        return WSE_ECONFIG;
    }
    return rc;
}

/* The job's defect map: repair the wafer, and give the engines its
 * logical fabric (smaller if it shrank) and its stretched links. */
static int make_wafer(run_ctx *c, wse_error *err)
{
    if (c->job.defects.kind == WSE_DEFECTS_NONE)
        return 0;
    int rc = wse_wafer_create(&c->topo, &c->job.defects, &c->wafer, err);
    if (rc)
        return rc;
    wse_wafer_summary s;
    wse_wafer_summary_get(c->wafer, &s);
    wse_topology *t = &c->topo;
    if (s.width < 1 || s.height < 1 || t->prog_x >= s.width || t->prog_y >= s.height)
        return wse_error_set(err, WSE_ECONFIG, c->job.defects.file, c->job.defects.line,
                             c->job.defects.column, "defects: the repaired wafer forms only a %dx%d logical fabric", s.width, s.height);
    t->width = s.width;
    t->height = s.height;
    if (t->prog_x + t->prog_width > t->width)
        t->prog_width = t->width - t->prog_x;
    if (t->prog_y + t->prog_height > t->height)
        t->prog_height = t->height - t->prog_y;
    int longest = t->hop_latency_cycles + s.max_extra_pitches * t->bypass_cycles_per_pe;
    if (longest > WSE_MAX_LINK_LATENCY)
        return wse_error_set(err, WSE_ECONFIG, c->job.defects.file, c->job.defects.line, c->job.defects.column,
                             "defects: a repaired link is %d PE pitches longer than nominal, %d cycles in all, beyond the emulator's %d-cycle limit for one link",
                             s.max_extra_pitches, longest, WSE_MAX_LINK_LATENCY);
    t->wafer = c->wafer;
    c->rep->has_wafer = 1;
    c->rep->wafer = s;
    return 0;
}

static int load_config(run_ctx *c, wse_error *err)
{
    int rc = wse_job_load(c->opt->job_path, c->opt->sets, c->opt->n_sets, &c->job, err);
    if (rc)
        return as_input_error(rc, err);
    const char *tname = c->opt->topology ? c->opt->topology : c->job.topology;
    const char *base = c->opt->topology ? NULL : c->job.dir;
    char tpath[WSE_PATH_MAX];
    rc = wse_topology_resolve(tname, base, NULL, tpath, sizeof tpath, err);
    if (!rc)
        rc = wse_topology_load(tpath, &c->topo, err);
    if (!rc)
        rc = make_wafer(c, err);
    if (!rc)
        rc = wse_job_check_region(&c->job, &c->topo, err);
    if (rc)
        return as_input_error(rc, err);
    for (int i = 0; i < c->opt->n_programs && !c->prog; i++)
        if (strcmp(c->opt->programs[i]->name, c->job.program) == 0)
            c->prog = c->opt->programs[i];
    if (!c->prog)
        c->prog = wse_program_find(c->job.program);
    if (!c->prog) {
        char names[256] = "";
        for (int i = 0; wse_program_at(i); i++) {
            size_t len = strlen(names);
            snprintf(names + len, sizeof names - len, "%s%s", i ? ", " : "", wse_program_at(i)->name);
        }
        return wse_error_set(err, WSE_ECONFIG, c->job.path, 0, 0,
                             "unknown program '%s' (built-in programs: %s)", c->job.program, names);
    }
    c->params = calloc(1, c->prog->params_size ? c->prog->params_size : 1);
    if (!c->params)
        return wse_error_set(err, WSE_ENOMEM, NULL, 0, 0, "out of memory");
    return wse_params_bind(&c->job, c->prog->params, c->prog->n_params, c->params, err);
}

/* Outputs must be arrays the program can give back. */
static int check_outputs(run_ctx *c, wse_error *err)
{
    for (int i = 0; i < c->job.n_outputs; i++) {
        int ai = wse_hostio_find(c->prog, c->job.outputs[i]);
        if (ai < 0 || !c->prog->arrays[ai].is_output)
            return wse_error_set(err, WSE_ECONFIG, c->job.path, 0, 0,
                                 "program '%s' has no output array '%s'", c->prog->name,
                                 c->job.outputs[i]);
        c->out_idx[c->n_out++] = ai;
    }
    return 0;
}

static int ensure_dir(const char *dir, wse_error *err)
{
    if (mkdir(dir, 0777) == 0 || errno == EEXIST) {
        struct stat st;
        if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
            return 0;
    }
    return wse_error_set(err, WSE_EIO, dir, 0, 0, "cannot create output directory: %s", strerror(errno));
}


/* Before the run (rank 0): --out must be a directory we can write to,
 * and the files a run writes there are removed, so that a run that fails
 * leaves none of an earlier run's results looking like its own. */
static int prepare_out_dir(run_ctx *c, wse_error *err)
{
    const char *dir = c->opt->out_dir;
    int rc = ensure_dir(dir, err);
    if (!rc && access(dir, W_OK | X_OK) != 0)
        rc = wse_error_set(err, WSE_EIO, dir, 0, 0, "cannot write to the output directory: %s",
                           strerror(errno));
    static const char *const run_files[] = { REPORT_FILE, WSE_THERMAL_POWER_FILE,
                                             WSE_THERMAL_TEMPERATURE_FILE, WSE_THERMAL_PICTURE_FILE,
                                             WSE_WAFER_PNG_FILE,
                                             WSE_THERMAL_WINDOWS_FILE, WSE_THERMAL_HOT_POWER_FILE,
                                             WSE_THERMAL_HOT_TEMPERATURE_FILE,
                                             WSE_THERMAL_HOT_PICTURE_FILE };
    char path[WSE_PATH_MAX + WSE_NAME_MAX + 8];
    for (size_t i = 0; !rc && i < sizeof run_files / sizeof run_files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, run_files[i]);
        unlink(path);
    }
    for (int i = 0; !rc && i < c->n_out; i++) {
        snprintf(path, sizeof path, "%s/%s.npy", dir, c->job.outputs[i]);
        unlink(path);
    }
    return as_input_error(rc, err);
}

static int load_inputs(run_ctx *c, wse_error *err)
{
    int rc = 0;
    for (int i = 0; i < c->job.n_inputs && !rc; i++)
        rc = as_input_error(wse__transfer_load(c->sim, &c->job.inputs[i], err), err);
    return rc;
}

/* Rank 0's progress on stderr: cycles done, modeled wafer time, the
 * emulation rate since the last line and the time elapsed; redrawn in
 * place on a terminal, one plain line per report otherwise.  (No ETA: a
 * program's end is not known in cycles.) */
static void progress_cb(uint64_t cycle, void *arg)
{
    run_ctx *c = arg;
    FILE *f = c->opt->progress;
    double t = clock_seconds(), dt = t - c->t_last;
    double rate = dt > 0 ? (double)(cycle - c->cyc_last) / dt : 0;
    fprintf(f, "%swsemu: cycle %llu (%.4g s of wafer time), %.3g cycles/s, %.0f s elapsed%s",
            c->tty ? "\r" : "", (unsigned long long)cycle, (double)cycle / c->topo.clock_hz, rate,
            t - c->t_run, c->tty ? "\033[K" : "\n");
    fflush(f);
    c->open_line = c->tty;
    c->t_last = t;
    c->cyc_last = cycle;
}

/* What a long setup is doing, on large regions only. */
static void say(run_ctx *c, const char *what)
{
    FILE *f = c->opt->progress;
    if (!f || (uint64_t)c->region.width * (uint64_t)c->region.height < 65536)
        return;
    fprintf(f, "wsemu: %s (%llu PEs)\n", what,
            (unsigned long long)c->region.width * (unsigned long long)c->region.height);
    fflush(f);
}

/* ------------------------------------------------------------ outputs */

/* Where rank 0 sends a gathered output array: its .npy file, the digest,
 * a whole copy for verify (each optional). */
typedef struct sink {
    wse_npy_writer *w;
    uint64_t *digest;
    uint8_t *full;
    uint64_t at;                /* bytes received so far */
} sink;

static int to_sink(void *arg, const void *data, uint64_t bytes, wse_error *err)
{
    sink *k = arg;
    int rc = 0;
    if (k->w)
        rc = wse_npy_write(k->w, data, bytes, err);
    if (k->digest)
        *k->digest = wse_digest(*k->digest, data, bytes);
    if (k->full)
        memcpy(k->full + k->at, data, bytes);
    k->at += bytes;
    return rc;
}

static int open_writer(run_ctx *c, int i, wse_error *err)
{
    const wse_array_spec *spec = &c->prog->arrays[c->out_idx[i]];
    int64_t shape[3] = { 1, 1, 1 };
    int ndim = spec->shape(c->params, c->region.width, c->region.height, shape);
    char path[WSE_PATH_MAX + WSE_NAME_MAX + 8];
    snprintf(path, sizeof path, "%s/%s.npy", c->opt->out_dir, c->job.outputs[i]);
    return wse_npy_open(&c->w[i], path, spec->dtype, ndim, shape, err);
}

/* The job's outputs (into files and the digest) and, for verify, every
 * output array (into memory on rank 0). */
static int collect_outputs(run_ctx *c, wse_error *err)
{
    uint64_t h = WSE_DIGEST_INIT;
    int rc = 0;
    if (c->rank == 0 && c->opt->out_dir)
        rc = ensure_dir(c->opt->out_dir, err);
    /* Every rank takes part in every transfer, even once rank 0 has failed
     * (its directory, a file): the others are already in the collective.
     * After a failure rank 0 just drops the data. */
    for (int a = 0; a < c->prog->n_arrays; a++) {
        int oi = -1;
        for (int i = 0; i < c->n_out; i++)
            if (c->out_idx[i] == a)
                oi = i;
        int keep = c->job.verify && c->prog->arrays[a].is_output;
        if (oi < 0 && !keep)
            continue;
        sink b = { 0 };
        if (c->rank == 0 && !rc && oi >= 0 && c->opt->out_dir)
            rc = open_writer(c, oi, err);
        if (c->rank == 0 && !rc) {
            b.w = oi >= 0 && c->opt->out_dir ? &c->w[oi] : NULL;
            if (keep) {
                rc = wse_hostio_alloc(c->prog, c->params, c->region.width, c->region.height, a,
                                      &c->full[a], err);
                b.full = rc ? NULL : c->full[a].data;
            }
            if (oi >= 0) {
                int64_t shape[3] = { 1, 1, 1 };
                int nd = c->prog->arrays[a].shape(c->params, c->region.width, c->region.height, shape);
                h = wse_digest(h, c->prog->arrays[a].name, strlen(c->prog->arrays[a].name) + 1);
                for (int d = 0; d < nd; d++)
                    h = wse_digest_u64(h, (uint64_t)shape[d]);
                b.digest = &h;
            }
        }
        int src = wse__transfer_stream(c->sim, c->grid, a, to_sink, &b, err);
        rc = rc ? rc : src;
    }
    c->rep->digest = wse_digest_u64(h, c->rep->st.cycles);
    for (int i = 0; i < c->n_out && c->rank == 0; i++)
        if (c->w[i].f && !rc)
            rc = wse_npy_commit(&c->w[i], err);
    return rc;
}

/* Element i of an array of dtype, as a double (exact for 32-bit ints). */
static double element(const void *data, int dtype, uint64_t i)
{
    switch (dtype) {
    case WSE_F32: return (double)((const float *)data)[i];
    case WSE_F16: return (double)pe_f16_to_f32(((const uint16_t *)data)[i]);
    case WSE_I32: return (double)((const int32_t *)data)[i];
    case WSE_U32: return (double)((const uint32_t *)data)[i];
    case WSE_U8: return (double)((const uint8_t *)data)[i];
    case WSE_I16: return (double)((const int16_t *)data)[i];
    case WSE_U16: return (double)((const uint16_t *)data)[i];
    default: return 0.0;
    }
}

/* Compare the outputs with the program's host reference (rank 0).  Every
 * output counts, integers too, unless its spec says the reference does not
 * compute it. */
static int verify(run_ctx *c, wse_error *err)
{
    wse_report *rep = c->rep;
    int w = c->region.width, h = c->region.height;
    void *arrays[WSE_MAX_ARRAYS] = { 0 };
    wse_host_array ref[WSE_MAX_ARRAYS];
    memset(ref, 0, sizeof ref);
    int rc = 0;
    for (int a = 0; a < c->prog->n_arrays && !rc; a++) {
        const wse_input *in = NULL;
        for (int i = 0; i < c->job.n_inputs; i++)
            if (strcmp(c->job.inputs[i].name, c->prog->arrays[a].name) == 0)
                in = &c->job.inputs[i];
        rc = in ? wse_hostio_input(c->prog, c->params, w, h, in, &ref[a], err)
                : wse_hostio_alloc(c->prog, c->params, w, h, a, &ref[a], err);
        arrays[a] = ref[a].data;
    }
    if (!rc && (rc = c->prog->host.reference(c->params, w, h, arrays)) != 0)
        wse_error_set(err, rc, NULL, 0, 0, "%s reference: %s", c->prog->name, wse_strerror(rc));
    rep->max_abs_err = 0.0;
    for (int a = 0; a < c->prog->n_arrays && !rc; a++) {
        const wse_array_spec *spec = &c->prog->arrays[a];
        if (!spec->is_output || ((c->prog->unverified >> a) & 1))
            continue;
        uint64_t n = wse_host_array_count(&ref[a]);
        for (uint64_t i = 0; i < n; i++) {
            double d = fabs(element(c->full[a].data, spec->dtype, i) - element(ref[a].data, spec->dtype, i));
            if (!(d <= rep->max_abs_err))      /* NaN counts as infinite */
                rep->max_abs_err = isnan(d) ? INFINITY : d;
        }
    }
    for (int a = 0; a < WSE_MAX_ARRAYS; a++)
        wse_host_array_free(&ref[a]);
    if (rc)
        return rc;
    rep->tolerance = c->prog->host.tolerance(c->params, w, h);
    rep->verify = rep->max_abs_err <= rep->tolerance;
    return 0;
}

static int fill_report(FILE *f, void *arg) { return wse_report_json(arg, f); }

static int write_report(run_ctx *c, wse_error *err)
{
    char path[WSE_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/" REPORT_FILE, c->opt->out_dir);
    return wse_file_write_atomic(path, fill_report, c->rep, err);
}

static void fill_header(run_ctx *c)
{
    wse_report *rep = c->rep;
    snprintf(rep->job, sizeof rep->job, "%s", c->opt->job_path);
    snprintf(rep->topology, sizeof rep->topology, "%s", c->topo.name);
    snprintf(rep->program, sizeof rep->program, "%s", c->job.program);
    rep->mode = c->job.mode == WSE_MODE_RELAXED ? "relaxed" : "exact";
    rep->region = (wse_rect){ c->job.region_x, c->job.region_y, c->job.region_width,
                              c->job.region_height };
    rep->ranks = c->size;
    if (c->grid) {
        rep->threads = wse_grid_threads(c->grid);
        wse_grid_ranks(c->grid, &rep->grid_px, &rep->grid_py);
    }
    rep->verify = -1;
    for (int i = 0; i < c->n_out; i++)
        snprintf(rep->outputs[i], WSE_NAME_MAX, "%s", c->job.outputs[i]);
    rep->n_outputs = c->n_out;
}

/* Everything before the first cycle.  Collective. */
static int prepare(run_ctx *c, wse_error *err)
{
    int rc = load_config(c, err);
    if (!rc)
        rc = check_outputs(c, err);
    if (!rc && c->rank == 0 && c->opt->out_dir && !c->opt->check_only)
        rc = prepare_out_dir(c, err);
    if (!rc && c->job.mode == WSE_MODE_RELAXED && c->job.window_cycles <= c->topo.hop_latency_cycles)
        rc = wse_error_set(err, WSE_ECONFIG, c->job.path, 0, 0,
                           "mode 'relaxed' needs window_cycles greater than the hop latency (%d), got %lld",
                           c->topo.hop_latency_cycles, (long long)c->job.window_cycles);
    int threads = c->opt->threads;
    if (threads <= 0) {
        /* Collective (ranks per node): every rank asks, even one whose
         * job failed to load, or the others would wait for it. */
        threads = wse_pin_default_threads(c->opt->comm);
        /* Threads synchronise every window; below ~64 Ki PEs each they
         * cost more than they save, so small regions run on one. */
        uint64_t per_rank = (uint64_t)c->job.region_width * (uint64_t)c->job.region_height /
                            (uint64_t)c->size;
        uint64_t useful = per_rank / 65536 > 0 ? per_rank / 65536 : 1;
        if ((uint64_t)threads > useful)
            threads = (int)useful;
    }
    c->region = (wse_rect){ c->job.region_x, c->job.region_y, c->job.region_width, c->job.region_height };
    if (!rc)
        rc = wse_grid_create(c->region.width, c->region.height, c->size, c->opt->grid_px,
                             c->opt->grid_py, threads, &c->grid, err);
    if (!rc && c->job.mode == WSE_MODE_RELAXED)
        wse_grid_set_window(c->grid, (uint64_t)c->job.window_cycles);
    rc = wse_agree(c->opt->comm, rc, err);
    if (!rc)
        say(c, "setting up the PEs");
    if (!rc)
        rc = wse_sim_create(&c->topo, c->prog, c->params, c->region, c->grid, c->opt->comm,
                            &c->sim, err);
    if (!rc && c->job.n_inputs)
        say(c, "loading inputs");
    if (!rc)
        rc = wse_agree(c->opt->comm, load_inputs(c, err), err);
    /* power over time: windows closed by the sim (collective) */
    if (!rc && !c->opt->check_only)
        rc = wse_power_windows_create(c->sim, &c->topo, c->region, &c->job, c->opt->out_dir != NULL,
                                      &c->pw, err);
    if (!rc && c->pw)
        wse_sim_set_power_windows(c->sim, (uint64_t)c->job.power_window_cycles,
                                  wse_power_windows_close, c->pw);
    return rc;
}

static int run_job(run_ctx *c, wse_error *err)
{
    double t0 = clock_seconds();
    int rc = prepare(c, err);
    fill_header(c);
    wse_report *rep = c->rep;
    rep->setup_s = clock_seconds() - t0;
    if (rc || c->opt->check_only)
        return rc;
    double t1 = clock_seconds();
    if (c->opt->progress) {
        c->tty = isatty(fileno(c->opt->progress));
        c->t_run = c->t_last = t1;
        wse_sim_set_progress(c->sim, c->opt->progress_seconds > 0 ? c->opt->progress_seconds : 10.0,
                             progress_cb, c);
    }
    rc = wse_sim_run(c->sim, (uint64_t)c->job.max_cycles, err);
    if (c->open_line)
        fputc('\n', c->opt->progress);
    if (!rc && c->n_out)
        say(c, "collecting outputs");
    rep->run_s = clock_seconds() - t1;
    double mx = rep->run_s;
    MPI_Allreduce(&rep->run_s, &mx, 1, MPI_DOUBLE, MPI_MAX, c->opt->comm);
    rep->run_s = mx;
    wse_sim_stats(c->sim, &rep->st);
    wse_sim_halo(c->sim, &rep->halo_bytes, &rep->halo_messages);
    rep->load_imbalance = wse_sim_imbalance(c->sim);
    snprintf(rep->pinning, sizeof rep->pinning, "%s", wse_sim_pinning(c->sim));
    if (rc)
        return rc;
    rc = wse_agree(c->opt->comm, collect_outputs(c, err), err);
    if (!rc && c->job.verify && c->rank == 0)
        rc = verify(c, err);
    rc = wse_agree(c->opt->comm, rc, err);
    MPI_Bcast(&rep->verify, 1, MPI_INT, 0, c->opt->comm);
    MPI_Bcast(&rep->max_abs_err, 1, MPI_DOUBLE, 0, c->opt->comm);
    MPI_Bcast(&rep->tolerance, 1, MPI_DOUBLE, 0, c->opt->comm);
    rep->wall_s = clock_seconds() - t0;
    rep->useful_flops = c->prog->host.useful_flops(c->params, c->region.width, c->region.height);
    rep->overhead_bytes = wse_sim_overhead_bytes(c->sim);
    wse_report_derive(rep, &c->topo);
    /* power per thermal cell and the steady-state map (collective) */
    if (!rc)
        rc = wse_thermal_run(c->sim, &c->topo, c->region, &rep->st, c->opt->out_dir, &rep->thermal,
                             err);
    if (!rc && c->wafer && c->opt->out_dir && c->rank == 0) {
        char path[WSE_PATH_MAX + 16];
        snprintf(path, sizeof path, "%s/" WSE_WAFER_PNG_FILE, c->opt->out_dir);
        rc = wse_wafer_png(c->wafer, path, err);
        rep->wafer_picture = rc == 0;
    }
    if (!rc && c->pw)
        rc = wse_power_windows_finish(c->pw, &rep->st, c->opt->out_dir, &rep->thermal, err);
    if (!rc && c->opt->out_dir && c->rank == 0)
        rc = write_report(c, err);
    rc = wse_agree(c->opt->comm, rc, err);
    if (!rc && rep->verify == 0)
        rc = wse_error_set(err, WSE_EVERIFY, NULL, 0, 0,
                           "verification failed: max abs error %.3g exceeds tolerance %.3g",
                           rep->max_abs_err, rep->tolerance);
    return rc;
}

int wse_run(const wse_run_options *opt, wse_report *rep, wse_error *err)
{
    run_ctx c;
    memset(&c, 0, sizeof c);
    memset(rep, 0, sizeof *rep);
    c.opt = opt;
    c.rep = rep;
    MPI_Comm_rank(opt->comm, &c.rank);
    MPI_Comm_size(opt->comm, &c.size);
    int rc = run_job(&c, err);
    for (int i = 0; i < WSE_MAX_ARRAYS; i++) {
        wse_host_array_free(&c.full[i]);
        if (c.w[i].f)
            wse_npy_abort(&c.w[i]);
    }
    wse_power_windows_destroy(c.pw);
    wse_sim_destroy(c.sim);
    wse_grid_destroy(c.grid);
    wse_wafer_destroy(c.wafer);
    free(c.params);
    return rc;
}
