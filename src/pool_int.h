/*
 * src/pool_int.h - a fixed pool of worker threads that run one function
 * for every worker index at once, between two barriers.
 */
#ifndef WSE_POOL_INT_H
#define WSE_POOL_INT_H

#include "wse/error.h"

typedef struct wse_pool wse_pool;

/* What worker k does in one round; fills err on failure. */
typedef int (*wse_pool_fn)(void *arg, int k, wse_error *err);

/* A pool of n workers: the caller's thread is worker 0, n - 1 threads are
 * started.  Returns 0 or WSE_ENOMEM (threads or barrier); on failure *out
 * is NULL. */
int wse__pool_create(int n, wse_pool **out);
/* Every worker k runs fn(arg, k) at once; returns when all are done.
 * Returns 0, or the lowest failing k's code with its message in err. */
int wse__pool_run(wse_pool *p, wse_pool_fn fn, void *arg, wse_error *err);
/* Stop and join the threads.  NULL-safe. */
void wse__pool_destroy(wse_pool *p);

#endif
