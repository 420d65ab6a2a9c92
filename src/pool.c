/*
 * src/pool.c - worker threads for the shards of one rank.
 *
 * A round is two barrier waits: the first releases the workers with the
 * round's function, the second waits for all of them.  Worker threads
 * never call MPI.  A pool of one runs on the caller's thread alone, with
 * no barrier.
 *
 * Drawback: every round costs two barriers even when some workers have
 * nothing to do; rounds are per window, so small shards do not repay
 * threads (see the default in run.c).
 */
#include <pthread.h>
#include <stdlib.h>
#include "pool_int.h"

typedef struct worker {
    struct wse_pool *p;
    int k;
    pthread_t th;
    int started;
    int rc;
    wse_error err;
} worker;

struct wse_pool {
    int n;
    worker *w;
    pthread_barrier_t bar;
    int bar_ok;
    int stop;
    wse_pool_fn fn;             /* this round's function */
    void *arg;
};

static void *worker_main(void *arg)
{
    worker *w = arg;
    wse_pool *p = w->p;
    for (;;) {
        pthread_barrier_wait(&p->bar);
        if (p->stop)
            break;
        wse_error_clear(&w->err);
        w->rc = p->fn(p->arg, w->k, &w->err);
        pthread_barrier_wait(&p->bar);
    }
    return NULL;
}

int wse__pool_create(int n, wse_pool **out)
{
    *out = NULL;
    wse_pool *p = calloc(1, sizeof *p);
    if (!p)
        return WSE_ENOMEM;
    p->n = n;
    p->w = calloc((size_t)n, sizeof *p->w);
    if (!p->w) {
        free(p);
        return WSE_ENOMEM;
    }
    for (int k = 0; k < n; k++) {
        p->w[k].p = p;
        p->w[k].k = k;
    }
    if (n > 1) {
        if (pthread_barrier_init(&p->bar, NULL, (unsigned)n) != 0) {
            wse__pool_destroy(p);
            return WSE_ENOMEM;
        }
        p->bar_ok = 1;
        for (int k = 1; k < n; k++) {
            if (pthread_create(&p->w[k].th, NULL, worker_main, &p->w[k]) != 0) {
                wse__pool_destroy(p);
                return WSE_ENOMEM;
            }
            p->w[k].started = 1;
        }
    }
    *out = p;
    return 0;
}

int wse__pool_run(wse_pool *p, wse_pool_fn fn, void *arg, wse_error *err)
{
    p->fn = fn;
    p->arg = arg;
    if (p->n > 1)
        pthread_barrier_wait(&p->bar);
    wse_error_clear(&p->w[0].err);
    p->w[0].rc = fn(arg, 0, &p->w[0].err);
    if (p->n > 1)
        pthread_barrier_wait(&p->bar);
    for (int k = 0; k < p->n; k++)
        if (p->w[k].rc) {
            if (err && !err->code)
                *err = p->w[k].err;
            return p->w[k].rc;
        }
    return 0;
}

void wse__pool_destroy(wse_pool *p)
{
    if (!p)
        return;
    if (p->bar_ok) {
        int all = 1;
        for (int k = 1; k < p->n; k++)
            all &= p->w[k].started;
        if (!all) {
            /* pthread_create failed part way: the started threads wait on a
             * barrier that can never fill.  Leave them (and p) to the
             * process's imminent exit rather than hang here. */
            for (int k = 1; k < p->n; k++)
                if (p->w[k].started)
                    pthread_detach(p->w[k].th);
            return;
        }
        p->stop = 1;
        pthread_barrier_wait(&p->bar);
        for (int k = 1; k < p->n; k++)
            pthread_join(p->w[k].th, NULL);
        pthread_barrier_destroy(&p->bar);
    }
    free(p->w);
    free(p);
}
