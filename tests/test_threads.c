/* tests/test_threads.c - the pinning plan: who gets which PU, and the
 * fallback when the node's threads do not fit. */
#include <string.h>
#include <CUnit/CUnit.h>
#include <mpi.h>
#include "test_list.h"
#include "wse/threads.h"

static void test_choose(void)
{
    /* 2 ranks x 2 threads on 4 PUs: rank 1's threads get PUs 2 and 3 */
    CU_ASSERT_EQUAL(wse_pin_choose(4, 0, 2, 2, 0), 0);
    CU_ASSERT_EQUAL(wse_pin_choose(4, 0, 2, 2, 1), 1);
    CU_ASSERT_EQUAL(wse_pin_choose(4, 1, 2, 2, 0), 2);
    CU_ASSERT_EQUAL(wse_pin_choose(4, 1, 2, 2, 1), 3);
    /* oversubscribed: nothing is bound */
    CU_ASSERT_EQUAL(wse_pin_choose(2, 0, 4, 1, 0), -1);
    CU_ASSERT_EQUAL(wse_pin_choose(2, 0, 1, 3, 2), -1);
    CU_ASSERT_EQUAL(wse_pin_choose(0, 0, 1, 1, 0), -1);
    CU_ASSERT_EQUAL(wse_pin_choose(8, 0, 1, 2, 2), -1);   /* no thread 2 of 2 */
}

static void test_plan_on_this_machine(void)
{
    wse_pin_plan *p = wse_pin_plan_make(MPI_COMM_SELF, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    /* one thread always fits on a machine with a PU */
    CU_ASSERT_PTR_NOT_NULL(strstr(wse_pin_describe(p), "bound: 1 thread(s) per rank"));
    CU_ASSERT_EQUAL(wse_pin_thread(p, 0), 1);
    wse_pin_plan_free(p);
    p = wse_pin_plan_make(MPI_COMM_SELF, 4096);
    CU_ASSERT_PTR_NOT_NULL(strstr(wse_pin_describe(p), "not bound: 4096 thread(s)"));
    CU_ASSERT_EQUAL(wse_pin_thread(p, 0), 0);
    wse_pin_plan_free(p);
}

int test_threads_suite(void)
{
    CU_pSuite s = CU_add_suite("threads", NULL, NULL);
    if (!s || !CU_add_test(s, "PU choice and fallback", test_choose) ||
        !CU_add_test(s, "plan on this machine", test_plan_on_this_machine))
        return CU_get_error();
    return 0;
}
