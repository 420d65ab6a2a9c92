/*
 * src/power.c - energy from counters: per PE, per thermal cell, and the
 * formula the report uses for the run (see wse/thermal.h).
 *
 * It reads an engine's per-PE counters (engine_int.h) after a run and
 * keeps nothing per PE: a cell's sums are integers, so adding shards' and
 * ranks' parts in any order gives the same cell.
 */
#include <string.h>
#include "engine_int.h"
#include "wse/thermal.h"

wse_energy wse_energy_of(const wse_topology *t, uint64_t flops, uint64_t hops,
                         uint64_t sram_bytes, double pe_cycles)
{
    wse_energy e;
    /* the report's figures since they were introduced: keep the order of
     * operations, so its numbers do not move by a rounding */
    e.compute_j = (double)flops * t->pj_per_flop * 1e-12;
    e.fabric_j = (double)hops * t->pj_per_hop * 1e-12;
    e.sram_j = (double)sram_bytes * t->pj_per_sram_byte * 1e-12;
    e.static_j = pe_cycles * t->pj_per_idle_pe_cycle * 1e-12;
    e.total_j = e.compute_j + e.fabric_j + e.sram_j + e.static_j;
    return e;
}

static void counts_of(const wse_pecount *c, wse_pe_counts *out)
{
    out->flops = c->flops;
    out->sram_bytes = c->sram_bytes;
    out->busy_cycles = c->busy_cycles;
    out->hops = (uint64_t)c->link_out[0] + c->link_out[1] + c->link_out[2] + c->link_out[3];
    out->tasks = c->tasks;
}

int wse_engine_pe_counts(const wse_engine *e, int x, int y, wse_pe_counts *out)
{
    uint32_t i = local_index(e, x, y);
    if (i == WSE_NONE)
        return WSE_EINVAL;
    counts_of(&e->cnt[i], out);
    return 0;
}

int wse_engine_pe_energy(const wse_engine *e, const wse_topology *t, int x, int y,
                         uint64_t cycles, wse_energy *out)
{
    wse_pe_counts c;
    int rc = wse_engine_pe_counts(e, x, y, &c);
    if (rc)
        return rc;
    *out = wse_energy_of(t, c.flops, c.hops, c.sram_bytes, (double)cycles);
    return 0;
}

/* ------------------------------------------------------------ cells */

int wse_cells_make(const wse_topology *t, wse_rect r, wse_cells *g)
{
    memset(g, 0, sizeof *g);
    if (t->thermal_cell_width < 1 || t->thermal_cell_height < 1 || !(t->pe_width_mm > 0) ||
        !(t->pe_height_mm > 0) || t->width < 1 || t->height < 1 || r.x < 0 || r.y < 0 ||
        r.width < 1 || r.height < 1 || r.x + r.width > t->width || r.y + r.height > t->height)
        return WSE_EINVAL;
    g->fabric_w = t->width;
    g->fabric_h = t->height;
    g->cell_w = t->thermal_cell_width < t->width ? t->thermal_cell_width : t->width;
    g->cell_h = t->thermal_cell_height < t->height ? t->thermal_cell_height : t->height;
    g->cols = (t->width + g->cell_w - 1) / g->cell_w;
    g->rows = (t->height + g->cell_h - 1) / g->cell_h;
    g->region = r;
    return 0;
}

int wse_cells_width(const wse_cells *g, int i)
{
    int w = g->fabric_w - i * g->cell_w;
    return w < g->cell_w ? w : g->cell_w;
}

int wse_cells_height(const wse_cells *g, int j)
{
    int h = g->fabric_h - j * g->cell_h;
    return h < g->cell_h ? h : g->cell_h;
}

/* The part of v that a task of `cost` cycles ending `left` cycles after
 * now has still to spend: v x left / cost, rounded down (so what is
 * counted never decreases as the task goes on). */
static uint64_t still_to_spend(uint64_t v, uint64_t left, uint64_t cost)
{
    return (uint64_t)((unsigned __int128)v * left / cost);
}

void wse_engine_cell_counts_at(const wse_engine *e, const wse_cells *g, int c0, int r0,
                               int nc, int nr, uint64_t at, uint64_t *acc)
{
    for (uint32_t i = 0; i < e->npe; i++) {
        int x, y;
        pe_coords(e, i, &x, &y);
        int ci = (g->region.x + x) / g->cell_w - c0, cj = (g->region.y + y) / g->cell_h - r0;
        if (ci < 0 || cj < 0 || ci >= nc || cj >= nr)
            continue;
        const wse_pecount *k = &e->cnt[i];
        wse_pe_counts c;
        counts_of(k, &c);
        uint64_t end = k->task_start + k->task_cost;
        if (k->task_cost && k->task_start < at && end > at) {
            /* a task running across the boundary: the rest of its cycles
             * carry the rest of its energy */
            c.flops -= still_to_spend(k->task_flops, end - at, k->task_cost);
            c.sram_bytes -= still_to_spend(k->task_sram, end - at, k->task_cost);
        }
        uint64_t *a = acc + ((size_t)cj * (size_t)nc + (size_t)ci) * WSE_CELL_COUNTERS;
        a[WSE_CELL_FLOPS] += c.flops;
        a[WSE_CELL_HOPS] += c.hops;
        a[WSE_CELL_SRAM] += c.sram_bytes;
        a[WSE_CELL_PES] += 1;
    }
}

void wse_engine_cell_counts(const wse_engine *e, const wse_cells *g, int c0, int r0,
                            int nc, int nr, uint64_t *acc)
{
    for (uint32_t i = 0; i < e->npe; i++) {
        int x, y;
        pe_coords(e, i, &x, &y);
        int ci = (g->region.x + x) / g->cell_w - c0, cj = (g->region.y + y) / g->cell_h - r0;
        if (ci < 0 || cj < 0 || ci >= nc || cj >= nr)
            continue;           /* the caller's block misses it: not ours to count */
        wse_pe_counts c;
        counts_of(&e->cnt[i], &c);
        uint64_t *a = acc + ((size_t)cj * (size_t)nc + (size_t)ci) * WSE_CELL_COUNTERS;
        a[WSE_CELL_FLOPS] += c.flops;
        a[WSE_CELL_HOPS] += c.hops;
        a[WSE_CELL_SRAM] += c.sram_bytes;
        a[WSE_CELL_PES] += 1;
    }
}

/* ------------------------------------------------------------ throttling */

uint64_t wse_engine_throttle_set(wse_engine *e, const wse_cells *g, const uint8_t *hot)
{
    uint64_t n = 0;
    for (uint32_t i = 0; i < e->npe; i++) {
        int x, y;
        pe_coords(e, i, &x, &y);
        size_t k = (size_t)((g->region.y + y) / g->cell_h) * (size_t)g->cols +
                   (size_t)((g->region.x + x) / g->cell_w);
        if (hot[k]) {
            e->pe[i].flags |= PE_THROTTLED;
            n++;
        } else {
            e->pe[i].flags &= (uint8_t)~PE_THROTTLED;
        }
    }
    return n;
}

uint64_t wse_engine_throttle_cycles(const wse_engine *e) { return e->throttle_cycles; }
