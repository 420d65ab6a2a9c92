/* tests/harness.c - see harness.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <CUnit/CUnit.h>
#include "harness.h"
#include "wse/hostio.h"
#include "wse/io.h"

wse_grid *harness_local_grid(int w, int h, int gx, int gy)
{
    wse_error err;
    wse_error_clear(&err);
    wse_grid *g = NULL;
    CU_ASSERT_EQUAL_FATAL(wse_grid_create(w, h, 1, 1, 1, gy, &g, &err), 0);
    int sx, sy;
    wse_grid_shards(g, &sx, &sy);
    CU_ASSERT_EQUAL_FATAL(sy, gy);
    int xcut[gx + 1];
    for (int i = 0; i <= gx; i++)   /* deliberately uneven: squares of i */
        xcut[i] = (int)((int64_t)w * i * i / (gx * gx));
    for (int i = 1; i <= gx; i++)
        if (xcut[i] <= xcut[i - 1])
            xcut[i] = xcut[i - 1] + 1;
    xcut[gx] = w;
    CU_ASSERT_EQUAL_FATAL(wse_grid_split_columns(g, gx, xcut, &err), 0);
    return g;
}

static int load_inputs(wse_sim *s, const wse_program *prog, wse_error *err)
{
    for (int a = 0; a < prog->n_arrays; a++) {
        if (!prog->arrays[a].is_input)
            continue;
        int u8 = prog->arrays[a].dtype == WSE_U8;
        wse_input in = { .kind = WSE_INPUT_GENERATE, .generator = WSE_GEN_RANDOM,
                         .seed = 5 + (uint64_t)a, .lo = u8 ? 0 : -1, .hi = u8 ? 2 : 1 };
        snprintf(in.name, sizeof in.name, "%s", prog->arrays[a].name);
        for (int k = 0; k < wse_sim_nlocal(s); k++) {
            int rc = wse_hostio_load(wse_sim_local(s, k), &in, err);
            if (rc)
                return rc;
        }
    }
    return 0;
}

static uint64_t digest_outputs(wse_sim *s, const wse_program *prog, const void *params, int w, int h)
{
    uint64_t d = WSE_DIGEST_INIT;
    wse_error err;
    wse_error_clear(&err);
    for (int a = 0; a < prog->n_arrays; a++) {
        if (!prog->arrays[a].is_output)
            continue;
        wse_host_array out;
        CU_ASSERT_EQUAL(wse_hostio_alloc(prog, params, w, h, a, &out, &err), 0);
        for (int k = 0; k < wse_sim_nlocal(s); k++)
            wse_hostio_gather(wse_sim_local(s, k), a, &out, &err);
        d = wse_digest(d, out.data, wse_host_array_count(&out) * wse_dtype_size(out.dtype));
        wse_host_array_free(&out);
    }
    return d;
}

harness_outcome harness_run(const wse_program *prog, const void *params, const wse_topology *t,
                            int w, int h, int gx, int gy, uint64_t window, int random_inputs)
{
    harness_outcome o;
    memset(&o, 0, sizeof o);
    wse_grid *g = harness_local_grid(w, h, gx, gy);
    wse_grid_set_window(g, window);
    wse_rect region = { 0, 0, w, h };
    wse_sim *s = NULL;
    wse_error err;
    wse_error_clear(&err);
    o.rc = wse_sim_create(t, prog, params, region, g, MPI_COMM_SELF, &s, &err);
    if (!o.rc && random_inputs)
        o.rc = load_inputs(s, prog, &err);
    if (!o.rc)
        o.rc = wse_sim_run(s, 100000000, &err);
    if (s) {
        wse_sim_stats(s, &o.st);
        o.digest = digest_outputs(s, prog, params, w, h);
    }
    snprintf(o.msg, sizeof o.msg, "%s", err.msg);
    wse_sim_destroy(s);
    wse_grid_destroy(g);
    return o;
}

void harness_load_job(const char *name, const wse_program *prog, wse_job *job,
                      wse_topology *topo, void *params)
{
    char path[WSE_PATH_MAX], tpath[WSE_PATH_MAX];
    snprintf(path, sizeof path, "%s/jobs/%s", WSE_SOURCE_DIR, name);
    wse_error err;
    wse_error_clear(&err);
    CU_ASSERT_EQUAL_FATAL(wse_job_load(path, NULL, 0, job, &err), 0);
    CU_ASSERT_STRING_EQUAL(job->program, prog->name);
    CU_ASSERT_EQUAL(job->verify, 1);
    CU_ASSERT_EQUAL_FATAL(wse_topology_resolve(job->topology, job->dir, WSE_SOURCE_DIR "/topologies",
                                               tpath, sizeof tpath, &err), 0);
    CU_ASSERT_EQUAL_FATAL(wse_topology_load(tpath, topo, &err), 0);
    CU_ASSERT_EQUAL_FATAL(wse_job_check_region(job, topo, &err), 0);
    CU_ASSERT_EQUAL_FATAL(wse_params_bind(job, prog->params, prog->n_params, params, &err), 0);
}

int harness_quick(void)
{
#ifdef WSE_TEST_QUICK
    return 1;
#else
    return 0;
#endif
}

void harness_same_stats(const wse_engine_stats *a, const wse_engine_stats *b)
{
    /* every counter the table marks exact, and every peak with its place */
#define SAME_STAT_(f, reduce, group, exact, key, doc) \
    if (exact)                                        \
        CU_ASSERT_EQUAL(a->f, b->f);
    WSE_STATS(SAME_STAT_)
#undef SAME_STAT_
#define SAME_PEAK_(f, doc)                  \
    CU_ASSERT_EQUAL(a->f.value, b->f.value); \
    CU_ASSERT_EQUAL(a->f.x, b->f.x);         \
    CU_ASSERT_EQUAL(a->f.y, b->f.y);         \
    CU_ASSERT_EQUAL(a->f.port, b->f.port);
    WSE_STATS_PEAKS(SAME_PEAK_)
#undef SAME_PEAK_
}

void harness_same(const harness_outcome *a, const harness_outcome *b)
{
    CU_ASSERT_EQUAL(a->rc, b->rc);
    CU_ASSERT_STRING_EQUAL(a->msg, b->msg);
    if (a->rc != 0 && a->rc != WSE_EDEADLOCK)
        return;     /* a run stopped by an error ends mid-window: compare the error only */
    CU_ASSERT_EQUAL(a->digest, b->digest);
    harness_same_stats(&a->st, &b->st);
}

int harness_pe_shape(const void *params, int width, int height, int64_t shape[3])
{
    (void)params;
    shape[0] = height;
    shape[1] = width;
    return 2;
}

void harness_pe_state_block(const wse_pe *pe, const void *state, wse_array_block *b)
{
    b->ptr = (void *)(uintptr_t)state;
    b->origin[0] = pe_y(pe);
    b->origin[1] = pe_x(pe);
    b->extent[0] = b->extent[1] = b->extent[2] = 1;
    b->stride[0] = b->stride[1] = b->stride[2] = 1;
}
