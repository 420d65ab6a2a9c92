/*
 * tests/test_main.c - runs one CUnit suite (argv[1]) or all of them.
 *
 * CU_basic_run_tests() reports success even when assertions fail, so the
 * exit status is taken from the failure counters.  MPI is initialised
 * because the run layer takes a communicator; every suite here runs on
 * one rank (MPI_COMM_SELF-sized) and must not depend on MPI_COMM_WORLD.
 */
#include <stdio.h>
#include <string.h>
#include <mpi.h>
#include <CUnit/Basic.h>
#include "test_list.h"

typedef struct { const char *name; int (*add)(void); } suite_entry;

static const suite_entry suites[] = {
#define WSE_TEST_ENTRY_(name) { #name, test_##name##_suite },
    WSE_TEST_SUITES(WSE_TEST_ENTRY_)
#undef WSE_TEST_ENTRY_
};

int main(int argc, char **argv)
{
    int provided;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    if (CU_initialize_registry() != CUE_SUCCESS) {
        fprintf(stderr, "wse_tests: cannot initialise CUnit\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    int found = 0;
    for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++) {
        if (argc > 1 && strcmp(argv[1], suites[i].name) != 0)
            continue;
        found = 1;
        if (suites[i].add() != 0) {
            fprintf(stderr, "wse_tests: cannot add suite %s\n", suites[i].name);
            CU_cleanup_registry();
            MPI_Finalize();
            return 1;
        }
    }
    if (!found) {
        fprintf(stderr, "wse_tests: no suite named '%s'\n", argv[1]);
        CU_cleanup_registry();
        MPI_Finalize();
        return 1;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned f = CU_get_number_of_failures();
    unsigned t = CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    MPI_Finalize();
    return (f || t) ? 1 : 0;
}
