/*
 * src/grid.c - cutting a region into a rectilinear grid of shards over
 * ranks and threads (see wse/shard.h).
 *
 * Cuts are integer divisions of the region's width and height, so shards
 * differ by at most one row or column; ranks get the factorisation of
 * their count with the shortest total cut length unless --grid says
 * otherwise.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "wse/shard.h"

struct wse_grid {
    int width, height;        /* the region */
    int px, py;               /* ranks along x and y */
    int threads;              /* shard rows per rank */
    int xsub;                 /* shard columns per rank */
    int gx, gy;               /* shards along x and y */
    int *xcut, *ycut;         /* gx+1 and gy+1 cut positions, region-relative */
    uint64_t window;          /* relaxed mode: cycles per window; 0 = exact */
};

static void cuts(int *c, int parts, int len)
{
    for (int i = 0; i <= parts; i++)
        c[i] = (int)((int64_t)i * len / parts);
}

/* The rank grid with the shortest cuts, or 0 if none fits. */
static int best_px(int width, int height, int ranks)
{
    int64_t best = INT64_MAX;
    int px = 0;
    for (int a = 1; a <= ranks; a++) {
        if (ranks % a || a > width || ranks / a > height)
            continue;
        int64_t cost = (int64_t)(a - 1) * height + (int64_t)(ranks / a - 1) * width;
        if (cost < best) {
            best = cost;
            px = a;
        }
    }
    return px;
}

/* Threads per rank, reduced so every shard of the thinnest band keeps a
 * row. */
static int fit_threads(int height, int py, int threads)
{
    if (threads < 1)
        threads = 1;
    int minband = height;
    for (int j = 0; j < py; j++) {
        int band = (int)((int64_t)(j + 1) * height / py - (int64_t)j * height / py);
        if (band < minband)
            minband = band;
    }
    return threads > minband ? minband : threads;
}

int wse_grid_create(int width, int height, int ranks, int px, int py, int threads,
                    wse_grid **out, wse_error *err)
{
    *out = NULL;
    if (px == 0 && py == 0) {
        if ((px = best_px(width, height, ranks)) == 0)
            return wse_error_set(err, WSE_ECONFIG, NULL, 0, 0,
                                 "cannot cut a %dx%d region for %d ranks", width, height, ranks);
        py = ranks / px;
    }
    if (px <= 0 || py <= 0 || px * py != ranks)
        return wse_error_set(err, WSE_ECONFIG, NULL, 0, 0,
                             "--grid %dx%d needs %d ranks, but %d are running", px, py,
                             px * py, ranks);
    if (px > width || py > height)
        return wse_error_set(err, WSE_ECONFIG, NULL, 0, 0,
                             "--grid %dx%d has more shards than the %dx%d region has PEs along an axis",
                             px, py, width, height);
    threads = fit_threads(height, py, threads);
    wse_grid *g = calloc(1, sizeof *g);
    int *band = calloc((size_t)py + 1, sizeof *band);
    if (g) {
        g->xcut = calloc((size_t)px + 1, sizeof *g->xcut);
        g->ycut = calloc((size_t)py * (size_t)threads + 1, sizeof *g->ycut);
    }
    if (!g || !band || !g->xcut || !g->ycut) {
        free(band);
        wse_grid_destroy(g);
        return wse_error_set(err, WSE_ENOMEM, NULL, 0, 0, "out of memory");
    }
    *g = (wse_grid){ width, height, px, py, threads, 1, px, py * threads, g->xcut, g->ycut, 0 };
    cuts(g->xcut, px, width);
    cuts(band, py, height);
    for (int j = 0; j < py; j++)          /* each rank band cut into thread rows */
        for (int t = 0; t <= threads; t++)
            g->ycut[j * threads + t] = band[j] + (int)((int64_t)t * (band[j + 1] - band[j]) / threads);
    free(band);
    *out = g;
    return 0;
}

int wse_grid_split_columns(wse_grid *g, int xsub, const int *xcut, wse_error *err)
{
    if (g->px != 1 || xsub < 1 || xsub > g->width || xcut[0] != 0 || xcut[xsub] != g->width)
        return wse_error_set(err, WSE_EINVAL, NULL, 0, 0, "cannot split a %d-rank-column grid into %d columns",
                             g->px, xsub);
    for (int i = 1; i <= xsub; i++)
        if (xcut[i] <= xcut[i - 1])
            return wse_error_set(err, WSE_EINVAL, NULL, 0, 0, "column cuts must increase");
    int *c = calloc((size_t)xsub + 1, sizeof *c);
    if (!c)
        return wse_error_set(err, WSE_ENOMEM, NULL, 0, 0, "out of memory");
    memcpy(c, xcut, ((size_t)xsub + 1) * sizeof *c);
    free(g->xcut);
    g->xcut = c;
    g->gx = g->xsub = xsub;
    return 0;
}

void wse_grid_set_window(wse_grid *g, uint64_t window) { g->window = window; }
uint64_t wse_grid_window(const wse_grid *g) { return g->window; }

void wse_grid_ranks(const wse_grid *g, int *px, int *py)
{
    *px = g->px;
    *py = g->py;
}

int wse_grid_threads(const wse_grid *g) { return g->threads; }

void wse_grid_shards(const wse_grid *g, int *gx, int *gy)
{
    *gx = g->gx;
    *gy = g->gy;
}

int wse_grid_owner(const wse_grid *g, int i, int j)
{
    return (j / g->threads) * g->px + i / g->xsub;
}

wse_rect wse_grid_rect(const wse_grid *g, int i, int j)
{
    wse_rect r = { g->xcut[i], g->ycut[j], g->xcut[i + 1] - g->xcut[i], g->ycut[j + 1] - g->ycut[j] };
    return r;
}

void wse_grid_destroy(wse_grid *g)
{
    if (!g)
        return;
    free(g->xcut);
    free(g->ycut);
    free(g);
}
