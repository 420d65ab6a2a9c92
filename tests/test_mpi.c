/*
 * tests/test_mpi.c - the MPI transport, run under mpirun with 4 ranks:
 * shards on different ranks give the same bits as one engine, exact
 * backpressure timing across rank edges, deadlocks spanning ranks, and a
 * split communicator running two independent emulations side by side
 * (the library never touches MPI_COMM_WORLD).  Failures are summed over
 * ranks so every rank exits alike.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mpi.h>
#include <CUnit/Basic.h>
#include "harness.h"
#include "probe.h"
#include "wse/hostio.h"
#include "wse/io.h"
#include "wse/programs.h"
#include "wse/shard.h"

typedef struct heat_params { int64_t tile_w, tile_h, steps; double alpha; } heat_params;

typedef struct outcome {
    int rc;
    char msg[1024];
    wse_engine_stats st;
    uint64_t digest;            /* of the gathered output, on every rank */
} outcome;

/* Run prog on comm with a px x py rank grid; the output array (the last
 * one) is gathered to every rank for the digest. */
static outcome run_on(MPI_Comm comm, const wse_program *prog, const void *params,
                      const wse_topology *t, int w, int h, int px, int py, int input)
{
    outcome o;
    memset(&o, 0, sizeof o);
    int size;
    MPI_Comm_size(comm, &size);
    wse_grid *g = NULL;
    wse_error err;
    wse_error_clear(&err);
    wse_sim *s = NULL;
    wse_rect region = { 0, 0, w, h };
    o.rc = wse_grid_create(w, h, size, px, py, 1, &g, &err);
    if (!o.rc)
        o.rc = wse_sim_create(t, prog, params, region, g, comm, &s, &err);
    if (!o.rc && input) {
        wse_input in = { .name = "u0", .kind = WSE_INPUT_GENERATE, .generator = WSE_GEN_RANDOM,
                         .seed = 3, .lo = -1, .hi = 1 };
        for (int k = 0; k < wse_sim_nlocal(s); k++)
            CU_ASSERT_EQUAL(wse_hostio_load(wse_sim_local(s, k), &in, &err), 0);
    }
    if (!o.rc)
        o.rc = wse_sim_run(s, 10000000, &err);
    if (s) {
        wse_sim_stats(s, &o.st);
        int a = prog->n_arrays - 1;
        wse_host_array out, all;
        wse_hostio_alloc(prog, params, w, h, a, &out, &err);
        wse_hostio_alloc(prog, params, w, h, a, &all, &err);
        for (int k = 0; k < wse_sim_nlocal(s); k++)
            wse_hostio_gather(wse_sim_local(s, k), a, &out, &err);
        /* blocks are disjoint and the rest is zero: a bitwise OR merges them */
        size_t bytes = wse_host_array_count(&out) * wse_dtype_size(out.dtype);
        MPI_Allreduce(out.data, all.data, (int)bytes, MPI_BYTE, MPI_BOR, comm);
        o.digest = wse_digest(WSE_DIGEST_INIT, all.data, bytes);
        wse_host_array_free(&out);
        wse_host_array_free(&all);
        wse_sim_destroy(s);
    }
    wse_grid_destroy(g);
    snprintf(o.msg, sizeof o.msg, "%s", err.msg);
    return o;
}

static void same(const outcome *a, const outcome *b)
{
    CU_ASSERT_EQUAL(a->rc, b->rc);
    CU_ASSERT_STRING_EQUAL(a->msg, b->msg);
    CU_ASSERT_EQUAL(a->digest, b->digest);
    harness_same_stats(&a->st, &b->st);
}

static void test_heat_across_ranks(void)
{
    const wse_program *prog = wse_program_find("heat2d");
    heat_params p = { 3, 2, 5, 0.2 };
    wse_topology t = probe_topology(9, 5, 2, 1);
    outcome ref = run_on(MPI_COMM_SELF, prog, &p, &t, 9, 5, 1, 1, 1);
    CU_ASSERT_EQUAL_FATAL(ref.rc, 0);
    static const int grids[][2] = { { 4, 1 }, { 1, 4 }, { 2, 2 } };
    for (size_t i = 0; i < sizeof grids / sizeof grids[0]; i++) {
        outcome o = run_on(MPI_COMM_WORLD, prog, &p, &t, 9, 5, grids[i][0], grids[i][1], 1);
        same(&ref, &o);
    }
}

/* A line along row 0 across every rank column; the consumer at the east
 * end takes one wavelet per 10 cycles, so the stall reaches back across
 * three rank edges.  Word i must arrive at 7 + 10 i (see test_fabric). */
static void slow_line(wse_pe *pe, probe_state *s, const probe_params *p)
{
    int x = pe_x(pe), last = pe_width(pe) - 1;
    if (pe_y(pe) != 0)
        return;
    if (x == 0) {
        probe_source(pe, s, 0, WSE_E, p->n, 100);
    } else if (x < last) {
        pe_route(pe, 0, WSE_W, WSE_E);
    } else {
        probe_sink(pe, s, 0, WSE_W, p->n, 9);
    }
}

static void test_backpressure_across_ranks(void)
{
    wse_topology t = probe_topology(6, 2, 2, 1);
    probe_params p = { slow_line, 12, 0 };
    int size, rank;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    wse_grid *g = NULL;
    wse_error err;
    wse_error_clear(&err);
    wse_sim *s = NULL;
    wse_rect region = { 0, 0, 6, 2 };
    CU_ASSERT_EQUAL_FATAL(wse_grid_create(6, 2, size, size, 1, 1, &g, &err), 0);
    CU_ASSERT_EQUAL_FATAL(wse_sim_create(&t, &probe_program, &p, region, g, MPI_COMM_WORLD, &s, &err), 0);
    CU_ASSERT_EQUAL(wse_sim_run(s, 100000, &err), 0);
    int checked = 0, all = 0;
    for (int k = 0; k < wse_sim_nlocal(s); k++) {
        probe_state *st = probe_at(wse_sim_local(s, k), 5, 0);
        if (!st)
            continue;
        checked = 1;
        CU_ASSERT_EQUAL(st->log_n, 12u);
        CU_ASSERT_EQUAL(st->task_x, 5);
        for (uint32_t i = 0; i < st->log_n && i < 12; i++) {
            CU_ASSERT_EQUAL(st->log_value[i], 100u + i);
            CU_ASSERT_EQUAL(st->log_cycle[i], 7u + 10u * i);
        }
    }
    MPI_Allreduce(&checked, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    CU_ASSERT_EQUAL(all, 1);
    wse_engine_stats st;
    wse_sim_stats(s, &st);
    CU_ASSERT_EQUAL(st.hops, 12u * 5u);
    wse_sim_destroy(s);
    wse_grid_destroy(g);
}

static void starve(wse_pe *pe, probe_state *s, const probe_params *p)
{
    (void)p;
    pe_route(pe, 3, WSE_W, WSE_RAMP);
    if (pe_x(pe) == 5) {
        probe_bind_data(pe, s, 3);
        s->expect = 1;
    }
}

static void test_deadlock_across_ranks(void)
{
    wse_topology t = probe_topology(6, 4, 2, 1);
    probe_params p = { starve, 0, 0 };
    outcome ref = run_on(MPI_COMM_SELF, &probe_program, &p, &t, 6, 4, 1, 1, 0);
    outcome o = run_on(MPI_COMM_WORLD, &probe_program, &p, &t, 6, 4, 2, 2, 0);
    CU_ASSERT_EQUAL(o.rc, WSE_EDEADLOCK);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.msg, "4 of 24 PEs unfinished"));
    CU_ASSERT_STRING_EQUAL(ref.msg, o.msg);
}

/* Two independent emulations on the two halves of the ranks. */
static void test_split_communicator(void)
{
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm half;
    MPI_Comm_split(MPI_COMM_WORLD, rank % 2, rank, &half);
    const wse_program *prog = wse_program_find("heat2d");
    heat_params p = { 2, 2, 3 + rank % 2, 0.2 };        /* different jobs */
    wse_topology t = probe_topology(5, 4, 2, 1);
    outcome ref = run_on(MPI_COMM_SELF, prog, &p, &t, 5, 4, 1, 1, 1);
    outcome o = run_on(half, prog, &p, &t, 5, 4, 0, 0, 1);
    same(&ref, &o);
    MPI_Comm_free(&half);
}

int main(int argc, char **argv)
{
    int provided;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (size != 4) {
        if (rank == 0)
            fprintf(stderr, "wse_mpi_tests: run with 4 ranks (got %d)\n", size);
        MPI_Finalize();
        return 1;
    }
    CU_initialize_registry();
    CU_pSuite s = CU_add_suite("mpi", NULL, NULL);
    CU_add_test(s, "heat2d across ranks: same bits", test_heat_across_ranks);
    CU_add_test(s, "backpressure across rank edges: exact cycles", test_backpressure_across_ranks);
    CU_add_test(s, "deadlock across ranks", test_deadlock_across_ranks);
    CU_add_test(s, "split communicator", test_split_communicator);
    CU_basic_set_mode(rank == 0 ? CU_BRM_VERBOSE : CU_BRM_SILENT);
    CU_basic_run_tests();
    unsigned f = CU_get_number_of_failures() + CU_get_number_of_tests_failed(), all = 0;
    CU_cleanup_registry();
    MPI_Allreduce(&f, &all, 1, MPI_UNSIGNED, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0)
        printf("mpi tests: %u failures over %d ranks\n", all, size);
    MPI_Finalize();
    return all ? 1 : 0;
}
