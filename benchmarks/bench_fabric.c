/*
 * benchmarks/bench_fabric.c - router throughput of the exact engine.
 *
 * Measures wavelet-hops per host second for two traffic patterns
 * on a W x H mesh (all ranks of MPI_COMM_WORLD, 1 thread each unless
 * --threads):
 *   rows   PE 0 of every row streams n wavelets east; the rest forward them
 *          and the last PE of the row takes them in (long pipelines);
 *   east   every PE sends n wavelets to its east neighbour (one hop each).
 * Baseline, measured in the same run: a bare native loop that moves the
 * same number of words one position per step through plain arrays (no
 * queues, credits or tasks).  Validation: the hop count equals the pattern's
 * analytic count and the receivers hold exactly the words sent; a failure
 * exits non-zero.  The engine is timed from the first cycle to the last,
 * setup excluded, after one warm-up run; time is the maximum over ranks.
 *
 * It also shows an out-of-tree PE program: the program below is written
 * against wse/pe.h alone and never registered with the engine.
 *
 * Usage: bench_fabric [rows|east] [W] [H] [n] [threads]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <mpi.h>
#include "wse/pe.h"
#include "wse/shard.h"

typedef struct bp { int64_t n, east; } bp;
typedef struct bs { wse_u32_ref in, out; uint32_t got; } bs;

enum { T_START = WSE_LOCAL_TASK(8), T_DONE = WSE_LOCAL_TASK(9) };

static int b_setup(wse_pe *pe, void *state)
{
    const bp *p = pe_params(pe);
    bs *s = state;
    int x = pe_x(pe), last = pe_width(pe) - 1, n = (int)p->n;
    uint32_t *in = pe_alloc_u32(pe, (size_t)n), *out = pe_alloc_u32(pe, (size_t)n);
    if (!in || !out)
        return WSE_ESRAM;
    s->in = pe_ref_u32(s, in);
    s->out = pe_ref_u32(s, out);
    for (int i = 0; i < n; i++)
        out[i] = (uint32_t)(x * 1000003 + i);
    int send = p->east ? x < last : x == 0;
    int recv = p->east ? x > 0 : x == last && last > 0;
    int c_out = p->east ? x & 1 : 0, c_in = p->east ? (x + 1) & 1 : 0;  /* east: alternate */
    if (send)
        pe_route(pe, c_out, WSE_RAMP, WSE_E);
    if (recv)
        pe_route(pe, c_in, WSE_W, WSE_RAMP);
    if (!p->east && x > 0 && x < last)
        pe_route(pe, c_in, WSE_W, WSE_E);       /* a forwarder: router only */
    if (!send && !recv) {
        pe_finish(pe);
        return 0;
    }
    pe_bind_local_task(pe, T_START);
    pe_bind_local_task(pe, T_DONE);
    pe_activate(pe, T_START);
    return 0;
}

static void b_task(wse_pe *pe, void *state, int task, uint32_t payload)
{
    (void)payload;
    const bp *p = pe_params(pe);
    bs *s = state;
    int x = pe_x(pe), last = pe_width(pe) - 1, n = (int)p->n;
    int send = p->east ? x < last : x == 0;
    int recv = p->east ? x > 0 : x == last && last > 0;
    if (task == T_START) {
        int c_out = p->east ? x & 1 : 0, c_in = p->east ? (x + 1) & 1 : 0;
        if (send)
            pe_fabout(pe, c_out, pe_u32(s, s->out), n, 1, T_DONE, WSE_ASYNC);
        if (recv)
            pe_fabin(pe, c_in, pe_u32(s, s->in), n, 1, T_DONE, WSE_ASYNC);
        return;
    }
    if ((int)++s->got == send + recv)
        pe_finish(pe);
}

static int b_shape(const void *params, int w, int h, int64_t shape[3])
{
    shape[0] = h;
    shape[1] = w;
    shape[2] = ((const bp *)params)->n;
    return 3;
}

/* What each PE received. */
static void b_block(const wse_pe *pe, const void *state, wse_array_block *b)
{
    const bs *s = state;
    b->ptr = pe_u32(s, s->in);
    b->origin[0] = pe_y(pe);
    b->origin[1] = pe_x(pe);
    b->extent[0] = b->extent[1] = 1;
    b->extent[2] = ((const bp *)pe_params(pe))->n;
    b->stride[0] = b->stride[1] = b->stride[2] = 1;
}

static const wse_array_spec b_arrays[] = {
    { "in", WSE_U32, 0, 1, "words received, uint32 [height, width, n]", b_shape, b_block },
};

static const wse_program bench_program = {
    .api_version = WSE_API_VERSION,
    .name = "bench_fabric", .summary = "stream wavelets east",
    .params_size = sizeof(bp), .arrays = b_arrays, .n_arrays = 1,
    .device = { .state_size = sizeof(bs), .setup = b_setup, .task = b_task },
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Receivers must hold the words their west neighbour (east) or the row's
 * first PE (rows) sent. */
static int validate(wse_sim *s, const bp *p, int w)
{
    int bad = 0;
    for (int k = 0; k < wse_sim_nlocal(s); k++) {
        wse_engine *e = wse_sim_local(s, k);
        wse_rect r = wse_engine_shard(e);
        for (int y = r.y; y < r.y + r.height; y++)
            for (int x = r.x; x < r.x + r.width; x++) {
                int recv = p->east ? x > 0 : x == w - 1 && w > 1;
                if (!recv)
                    continue;
                wse_array_block b;
                if (wse_engine_block(e, 0, x, y, &b) != 0)
                    return 1;
                const uint32_t *in = b.ptr;
                int src = p->east ? x - 1 : 0;
                for (int i = 0; i < p->n; i++)
                    bad |= in[i] != (uint32_t)(src * 1000003 + i);
            }
    }
    return bad;
}

/* The bare baseline: every step, each of `lanes` pipelines of length len
 * moves every word one slot on, words entering at slot 0. */
static double baseline(int lanes, int len, int n, uint64_t *moves)
{
    uint32_t *a = calloc((size_t)lanes * (size_t)len, sizeof *a);
    uint32_t *b = calloc((size_t)lanes * (size_t)len, sizeof *b);
    uint64_t m = 0;
    double t0 = now();
    for (int step = 0; step < n + len - 1; step++) {
        for (int l = 0; l < lanes; l++) {
            uint32_t *src = a + (size_t)l * len, *dst = b + (size_t)l * len;
            dst[0] = step < n ? (uint32_t)step + 1 : 0;
            for (int i = 1; i < len; i++)
                dst[i] = src[i - 1];
            for (int i = 1; i < len; i++)
                m += src[i - 1] != 0;
        }
        uint32_t *t = a;
        a = b;
        b = t;
    }
    double dt = now() - t0;
    free(a);
    free(b);
    *moves = m;
    return dt;
}

int main(int argc, char **argv)
{
    int provided, rank, size;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const char *mode = argc > 1 ? argv[1] : "rows";
    if (strcmp(mode, "rows") && strcmp(mode, "east")) {
        int help = !strcmp(mode, "--help") || !strcmp(mode, "-h");
        if (rank == 0)
            fprintf(help ? stdout : stderr,
                    "%susage: bench_fabric [rows|east] [W H n threads]\n"
                    "  rows: every PE streams n wavelets east through forwarding routers;\n"
                    "  east: every PE sends n one-hop wavelets through its CE.  Region W x H\n"
                    "  (default 256 x 256, n 256, 1 thread per rank); prints one wse-bench line\n"
                    "  with wavelet-hops per second and the ratio to a bare array loop.\n",
                    help ? "" : "bench_fabric: unknown mode\n");
        MPI_Finalize();
        return help ? 0 : 2;
    }
    int w = argc > 2 ? atoi(argv[2]) : 256, h = argc > 3 ? atoi(argv[3]) : 256;
    int n = argc > 4 ? atoi(argv[4]) : 256, threads = argc > 5 ? atoi(argv[5]) : 1;
    if (w < 1 || h < 1 || w > 4096 || h > 4096 || n < 1 || threads < 1 || threads > 1024) {
        if (rank == 0)
            fprintf(stderr, "bench_fabric: W and H must be 1..4096, n >= 1, threads 1..1024\n");
        MPI_Finalize();
        return 2;
    }
    bp p = { n, strcmp(mode, "east") == 0 };
    wse_topology t;
    memset(&t, 0, sizeof t);
    snprintf(t.name, sizeof t.name, "bench");
    t.width = w; t.height = h; t.prog_width = w; t.prog_height = h;
    t.sram_bytes = 48 * 1024; t.colors = 24; t.queue_depth = 4; t.hop_latency_cycles = 1;
    t.link_wavelets_per_cycle = 1; t.clock_hz = 850e6; t.task_switch_cycles = 2;
    t.vector_startup_cycles = 2; t.simd_fp32 = 1; t.simd_fp16 = 4; t.fabric_startup_cycles = 2;
    wse_topology_set_arch(&t, WSE_ARCH_WSE2);   /* resources: host I/O's colors, queues */
    wse_rect region = { 0, 0, w, h };
    wse_error err;
    wse_error_clear(&err);
    wse_grid *g = NULL;
    if (wse_grid_create(w, h, size, 0, 0, threads, &g, &err) != 0) {
        if (rank == 0)
            fprintf(stderr, "bench_fabric: %s\n", err.msg);
        MPI_Finalize();
        return 2;
    }
    double best = 0;
    wse_engine_stats st;
    int bad = 0;
    for (int rep = 0; rep < 2; rep++) {           /* rep 0 is the warm-up */
        wse_sim *s = NULL;
        if (wse_sim_create(&t, &bench_program, &p, region, g, MPI_COMM_WORLD, &s, &err) != 0) {
            if (rank == 0)
                fprintf(stderr, "bench_fabric: %s\n", err.msg);
            MPI_Abort(MPI_COMM_WORLD, 2);
        }
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = now();
        int rc = wse_sim_run(s, UINT64_MAX, &err);
        if (rc && rank == 0)
            fprintf(stderr, "bench_fabric: %s\n", err.msg);
        double dt = now() - t0, mx;
        MPI_Allreduce(&dt, &mx, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
        wse_sim_stats(s, &st);
        bad |= rc != 0 || validate(s, &p, w);
        best = mx;
        wse_sim_destroy(s);
    }
    uint64_t want = (uint64_t)h * (uint64_t)n * (uint64_t)(p.east ? 1 : (w - 1));
    if (p.east)
        want *= (uint64_t)(w - 1);
    bad |= st.hops != want;
    int all_bad = 0;
    MPI_Allreduce(&bad, &all_bad, 1, MPI_INT, MPI_LOR, MPI_COMM_WORLD);
    uint64_t moves = 0;
    double base = baseline(p.east ? h * (w - 1) : h, p.east ? 2 : w, n, &moves);
    double hops_s = (double)st.hops / best, base_s = (double)moves / base;
    if (rank == 0)
        printf("wse-bench name=fabric_%s mesh=%dx%d n=%d ranks=%d threads=%d validates=%s avg_s=%.4f "
               "cycles=%llu hops=%llu hops_per_s=%.3g hops_per_core_s=%.3g baseline_moves_per_s=%.3g "
               "vs_baseline=%.3f\n",
               mode, w, h, n, size, wse_grid_threads(g), all_bad ? "no" : "yes", best,
               (unsigned long long)st.cycles, (unsigned long long)st.hops, hops_s,
               hops_s / (size * wse_grid_threads(g)), base_s, hops_s / base_s);
    wse_grid_destroy(g);
    MPI_Finalize();
    return all_bad ? 1 : 0;
}
