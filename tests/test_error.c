/* tests/test_error.c - error codes and message formatting. */
#include <string.h>
#include <CUnit/CUnit.h>
#include "wse/error.h"
#include "test_list.h"

static void test_strerror_table(void)
{
    CU_ASSERT_STRING_EQUAL(wse_strerror(WSE_ECONFIG), "invalid configuration");
    CU_ASSERT_STRING_EQUAL(wse_strerror(WSE_EDEADLOCK), "deadlock");
    CU_ASSERT_STRING_EQUAL(wse_strerror(12345), "unknown error");
}

static void test_format_and_first_wins(void)
{
    wse_error e;
    char buf[2048];
    wse_error_clear(&e);
    CU_ASSERT_EQUAL(wse_error_set(&e, WSE_ECONFIG, "t.yaml", 3, 7, "bad key '%s'\nx", "colour"), WSE_ECONFIG);
    CU_ASSERT_EQUAL(wse_error_set(&e, WSE_EIO, "other", 1, 1, "later"), WSE_EIO);
    CU_ASSERT_STRING_EQUAL(wse_error_format(&e, buf, sizeof buf), "t.yaml:3:7: error: bad key 'colour' x");
    wse_error_clear(&e);
    wse_error_set(&e, WSE_EDEADLOCK, NULL, 0, 0, "stuck at cycle %d", 9);
    CU_ASSERT_STRING_EQUAL(wse_error_format(&e, buf, sizeof buf), "error: stuck at cycle 9");
    CU_ASSERT_EQUAL(wse_error_set(NULL, WSE_EINVAL, NULL, 0, 0, "x"), WSE_EINVAL);
}

int test_error_suite(void)
{
    CU_pSuite s = CU_add_suite("error", NULL, NULL);
    if (!s || !CU_add_test(s, "strerror table", test_strerror_table) ||
        !CU_add_test(s, "format, first error wins", test_format_and_first_wins))
        return CU_get_error();
    return 0;
}
