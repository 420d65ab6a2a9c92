/* tests/test_list.h - the registry of CUnit suites, one per source module.
 * Each suite file defines int test_<name>_suite(void), which adds its
 * suite to the CUnit registry and returns 0 (or a CUnit error code). */
#ifndef WSE_TEST_LIST_H
#define WSE_TEST_LIST_H

#define WSE_TEST_SUITES(X) X(error) X(config) X(io) X(fabric) X(ce) X(switch) X(resources) X(dsd) X(heat2d) X(shard) X(threads) X(cg) X(stencil25) X(stencil7) X(bandwidth) X(life) X(gemv) X(allreduce) X(wse3) X(thermal) X(rowscale) X(yield)

#define WSE_TEST_DECL_(name) int test_##name##_suite(void);
WSE_TEST_SUITES(WSE_TEST_DECL_)
#undef WSE_TEST_DECL_

#endif
