/*
 * src/run.c - one job end to end (see wse/run.h).
 *
 * Order matters for users: everything that can be checked without running
 * (job, topology, program, params, region, SRAM, input files) is checked
 * before the first cycle, so a typo never costs a long run.  Files are
 * written only after the run, atomically.
 *
 * Drawback: this version emulates the whole region on one rank; on more
 * ranks it refuses to start (the distributed engine shards the region).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "wse/hostio.h"
#include "wse/io.h"
#include "wse/programs.h"
#include "wse/run.h"

#ifndef WSE_TOPOLOGY_DIR
#define WSE_TOPOLOGY_DIR "topologies"
#endif

typedef struct run_ctx {
    const wse_run_options *opt;
    wse_report *rep;
    wse_job job;
    wse_topology topo;
    const wse_program *prog;
    void *params;
    wse_engine *eng;
    wse_host_array out[WSE_MAX_ARRAYS];
    int out_idx[WSE_MAX_ARRAYS];
    int n_out;
} run_ctx;

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A file the user named that cannot be read is bad input, like a typo. */
static int as_input_error(int rc, wse_error *err)
{
    if (rc == WSE_EIO && err) {
        err->code = WSE_ECONFIG;
        return WSE_ECONFIG;
    }
    return rc;
}

static int load_config(run_ctx *c, wse_error *err)
{
    int rc = wse_job_load(c->opt->job_path, c->opt->sets, c->opt->n_sets, &c->job, err);
    if (rc)
        return as_input_error(rc, err);
    const char *tname = c->opt->topology ? c->opt->topology : c->job.topology;
    const char *base = c->opt->topology ? NULL : c->job.dir;
    char tpath[WSE_PATH_MAX];
    const char *tdir = getenv("WSEMU_TOPOLOGY_DIR");
    rc = wse_topology_resolve(tname, base, tdir ? tdir : WSE_TOPOLOGY_DIR, tpath, sizeof tpath, err);
    if (!rc)
        rc = wse_topology_load(tpath, &c->topo, err);
    if (!rc)
        rc = wse_job_check_region(&c->job, &c->topo, err);
    if (rc)
        return as_input_error(rc, err);
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

static int load_inputs(run_ctx *c, wse_host_array *in, wse_error *err)
{
    wse_rect r = wse_engine_region(c->eng);
    for (int i = 0; i < c->job.n_inputs; i++) {
        int rc = wse_hostio_input(c->prog, c->params, r.width, r.height, &c->job.inputs[i], &in[i], err);
        if (!rc)
            rc = wse_hostio_scatter(c->eng, wse_hostio_find(c->prog, c->job.inputs[i].name), &in[i], err);
        if (rc)
            return as_input_error(rc, err);
    }
    return 0;
}

static void progress_cb(uint64_t cycle, void *arg)
{
    FILE *f = arg;
    fprintf(f, "wsemu: cycle %llu\n", (unsigned long long)cycle);
    fflush(f);
}

/* Compare the outputs with the program's host reference. */
static int verify(run_ctx *c, wse_host_array *in, wse_error *err)
{
    wse_report *rep = c->rep;
    wse_rect r = wse_engine_region(c->eng);
    void *arrays[WSE_MAX_ARRAYS] = { 0 };
    wse_host_array ref[WSE_MAX_ARRAYS];
    memset(ref, 0, sizeof ref);
    int rc = 0;
    for (int a = 0; a < c->prog->n_arrays && !rc; a++) {
        for (int i = 0; i < c->job.n_inputs; i++)
            if (strcmp(c->job.inputs[i].name, c->prog->arrays[a].name) == 0)
                arrays[a] = in[i].data;
        if (!arrays[a]) {
            rc = wse_hostio_alloc(c->prog, c->params, r.width, r.height, a, &ref[a], err);
            arrays[a] = ref[a].data;
        }
    }
    if (!rc)
        rc = c->prog->reference(c->params, r.width, r.height, arrays, err);
    rep->max_abs_err = 0.0;
    for (int a = 0; a < c->prog->n_arrays && !rc; a++) {
        if (!c->prog->arrays[a].is_output || c->prog->arrays[a].dtype != WSE_F32)
            continue;
        wse_host_array got;
        rc = wse_hostio_alloc(c->prog, c->params, r.width, r.height, a, &got, err);
        if (!rc)
            rc = wse_hostio_gather(c->eng, a, &got, err);
        uint64_t n = rc ? 0 : wse_host_array_count(&got);
        const float *x = got.data, *y = arrays[a];
        for (uint64_t i = 0; i < n; i++) {
            double d = fabs((double)x[i] - (double)y[i]);
            if (!(d <= rep->max_abs_err))      /* NaN counts as infinite */
                rep->max_abs_err = isnan(d) ? INFINITY : d;
        }
        wse_host_array_free(&got);
    }
    for (int a = 0; a < WSE_MAX_ARRAYS; a++)
        wse_host_array_free(&ref[a]);
    if (rc)
        return rc;
    rep->tolerance = c->prog->tolerance(c->params, r.width, r.height);
    rep->verify = rep->max_abs_err <= rep->tolerance;
    return 0;
}

static int gather_outputs(run_ctx *c, wse_error *err)
{
    wse_rect r = wse_engine_region(c->eng);
    uint64_t h = WSE_DIGEST_INIT;
    for (int i = 0; i < c->n_out; i++) {
        int rc = wse_hostio_alloc(c->prog, c->params, r.width, r.height, c->out_idx[i], &c->out[i], err);
        if (!rc)
            rc = wse_hostio_gather(c->eng, c->out_idx[i], &c->out[i], err);
        if (rc)
            return rc;
        const wse_host_array *a = &c->out[i];
        h = wse_digest(h, c->job.outputs[i], strlen(c->job.outputs[i]) + 1);
        for (int d = 0; d < a->ndim; d++)
            h = wse_digest_u64(h, (uint64_t)a->shape[d]);
        h = wse_digest(h, a->data, wse_host_array_count(a) * wse_dtype_size(a->dtype));
        snprintf(c->rep->outputs[i], WSE_NAME_MAX, "%s", c->job.outputs[i]);
    }
    c->rep->n_outputs = c->n_out;
    c->rep->digest = wse_digest_u64(h, c->rep->st.cycles);
    return 0;
}

static void derive(run_ctx *c)
{
    wse_report *rep = c->rep;
    const wse_topology *t = &c->topo;
    const wse_engine_stats *s = &rep->st;
    wse_rect r = rep->region;
    double cyc = (double)s->cycles, pes = (double)s->pes;
    rep->clock_hz = t->clock_hz;
    rep->sram_bytes = t->sram_bytes;
    rep->wafer_time_s = cyc / t->clock_hz;
    rep->useful_flops = c->prog->useful_flops(c->params, r.width, r.height);
    rep->useful_flops_per_s = rep->wafer_time_s > 0 ? rep->useful_flops / rep->wafer_time_s : 0;
    double links = 2.0 * ((double)(r.width - 1) * r.height + (double)r.width * (r.height - 1));
    rep->link_util_mean = links > 0 && cyc > 0 ? (double)s->hops / (links * cyc) : 0;
    rep->link_util_max = cyc > 0 ? (double)s->link_max / cyc : 0;
    rep->busy_fraction = pes > 0 && cyc > 0 ? (double)s->busy_cycles / (pes * cyc) : 0;
    rep->energy_compute_j = (double)s->flops * t->pj_per_flop * 1e-12;
    rep->energy_fabric_j = (double)s->hops * t->pj_per_hop * 1e-12;
    rep->energy_sram_j = (double)s->sram_bytes_moved * t->pj_per_sram_byte * 1e-12;
    rep->energy_static_j = pes * cyc * t->pj_per_idle_pe_cycle * 1e-12;
    rep->energy_j = rep->energy_compute_j + rep->energy_fabric_j + rep->energy_sram_j +
                    rep->energy_static_j;
    double cores = (double)rep->ranks * rep->threads;
    rep->pe_cycles_per_core_s = rep->run_s > 0 ? pes * cyc / (rep->run_s * cores) : 0;
    rep->hops_per_s = rep->run_s > 0 ? (double)s->hops / rep->run_s : 0;
    rep->load_imbalance = 1.0;
    rep->overhead_bytes = wse_engine_overhead_bytes(c->eng);
    rep->overhead_per_pe = pes > 0 ? (double)rep->overhead_bytes / pes : 0;
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

static int fill_report(FILE *f, void *arg) { return wse_report_json(arg, f); }

static int write_files(run_ctx *c, wse_error *err)
{
    const char *dir = c->opt->out_dir;
    int rc = ensure_dir(dir, err);
    char path[WSE_PATH_MAX + WSE_NAME_MAX + 8];
    for (int i = 0; i < c->n_out && !rc; i++) {
        const wse_host_array *a = &c->out[i];
        snprintf(path, sizeof path, "%s/%s.npy", dir, c->job.outputs[i]);
        rc = wse_npy_save(path, a->dtype, a->ndim, a->shape, a->data, err);
    }
    snprintf(path, sizeof path, "%s/report.json", dir);
    if (!rc)
        rc = wse_file_write_atomic(path, fill_report, c->rep, err);
    return rc;
}

static int run_job(run_ctx *c, wse_error *err)
{
    double t0 = wall();
    wse_host_array in[WSE_MAX_ARRAYS];
    memset(in, 0, sizeof in);
    int rc = load_config(c, err);
    if (!rc)
        rc = check_outputs(c, err);
    wse_rect region = { c->job.region_x, c->job.region_y, c->job.region_width, c->job.region_height };
    if (!rc)
        rc = wse_engine_create(&c->topo, c->prog, c->params, region, NULL, &c->eng, err);
    if (!rc)
        rc = load_inputs(c, in, err);
    wse_report *rep = c->rep;
    snprintf(rep->job, sizeof rep->job, "%s", c->opt->job_path);
    snprintf(rep->topology, sizeof rep->topology, "%s", c->topo.name);
    snprintf(rep->program, sizeof rep->program, "%s", c->job.program);
    rep->mode = c->job.mode == WSE_MODE_RELAXED ? "relaxed" : "exact";
    rep->region = region;
    rep->ranks = rep->threads = 1;
    rep->verify = -1;
    rep->setup_s = wall() - t0;
    if (!rc && c->job.mode == WSE_MODE_RELAXED)
        rc = wse_error_set(err, WSE_ECONFIG, c->job.path, 0, 0,
                           "mode 'relaxed' needs the distributed engine; this version runs exact mode only");
    if (rc || c->opt->check_only)
        goto done;
    if (c->opt->progress)
        wse_engine_set_progress(c->eng, c->opt->progress_seconds > 0 ? c->opt->progress_seconds : 10.0,
                                progress_cb, c->opt->progress);
    double t1 = wall();
    rc = wse_engine_run(c->eng, (uint64_t)c->job.max_cycles, err);
    rep->run_s = wall() - t1;
    wse_engine_stats_get(c->eng, &rep->st);
    if (rc)
        goto done;
    rc = gather_outputs(c, err);
    if (!rc && c->job.verify)
        rc = verify(c, in, err);
    rep->wall_s = wall() - t0;
    if (!rc)
        derive(c);
    if (!rc && c->opt->out_dir)
        rc = write_files(c, err);
    if (!rc && rep->verify == 0)
        rc = wse_error_set(err, WSE_EVERIFY, NULL, 0, 0,
                           "verification failed: max abs error %.3g exceeds tolerance %.3g",
                           rep->max_abs_err, rep->tolerance);
done:
    for (int i = 0; i < WSE_MAX_ARRAYS; i++)
        wse_host_array_free(&in[i]);
    return rc;
}

int wse_run(const wse_run_options *opt, wse_report *rep, wse_error *err)
{
    run_ctx c;
    memset(&c, 0, sizeof c);
    memset(rep, 0, sizeof *rep);
    c.opt = opt;
    c.rep = rep;
    int size = 1;
    MPI_Comm_size(opt->comm, &size);
    int rc;
    if (size != 1)
        rc = wse_error_set(err, WSE_EMPI, NULL, 0, 0,
                           "this version emulates on one rank; started on %d ranks", size);
    else
        rc = run_job(&c, err);
    for (int i = 0; i < WSE_MAX_ARRAYS; i++)
        wse_host_array_free(&c.out[i]);
    wse_engine_destroy(c.eng);
    free(c.params);
    return rc;
}
