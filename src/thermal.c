/*
 * src/thermal.c - the steady-state thermal map of a run (see
 * wse/thermal.h and docs/MODEL.md, "Power and heat").
 *
 * After a run every rank adds its PEs' counters into the block of cells
 * its shards cover (power.c); the blocks go to rank 0, which adds them
 * into the fabric's grid of cells (integers: any order gives the same
 * sums), turns them into watts, solves the grid and writes the maps.
 * Memory: one block of cells per rank, the whole grid on rank 0 (about
 * 12,000 cells of 8 x 8 PEs for WSE-2); nothing per PE.
 *
 * The method is a compact grid model in the spirit of HotSpot's: one
 * silicon layer of cells with lateral conductances between neighbours
 * and a vertical conductance per cell to the coolant; a single layer, no
 * heat capacity (steady state only).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "wse/io.h"
#include "wse/thermal.h"

/* ------------------------------------------------------------ the model */

/* Vertical resistance per area, m^2 K / W: through the die, the TIM and
 * the cold plate's film to the coolant. */
static double r_vertical(const wse_topology *t)
{
    return t->die_thickness_mm * 1e-3 / t->si_conductivity + 1.0 / t->tim_conductance +
           1.0 / t->heat_transfer;
}

static int model_ok(const wse_topology *t)
{
    return t->si_conductivity > 0 && t->die_thickness_mm > 0 && t->tim_conductance > 0 &&
           t->heat_transfer > 0 && t->pe_width_mm > 0 && t->pe_height_mm > 0;
}

/* Conductances of the grid: vertical per cell, to the east and to the
 * south neighbour (0 on the fabric's edge). */
typedef struct conductances { double *gv, *ge, *gs; double gv_min; } conductances;

static int conductances_make(const wse_topology *t, const wse_cells *g, conductances *c)
{
    size_t n = (size_t)g->cols * (size_t)g->rows;
    c->gv = malloc(n * sizeof *c->gv);
    c->ge = malloc(n * sizeof *c->ge);
    c->gs = malloc(n * sizeof *c->gs);
    if (!c->gv || !c->ge || !c->gs)
        return WSE_ENOMEM;
    double px = t->pe_width_mm * 1e-3, py = t->pe_height_mm * 1e-3;   /* m */
    double kt = t->si_conductivity * t->die_thickness_mm * 1e-3;       /* W / K */
    double rv = r_vertical(t);
    c->gv_min = INFINITY;
    for (int j = 0; j < g->rows; j++)
        for (int i = 0; i < g->cols; i++) {
            size_t k = (size_t)j * (size_t)g->cols + (size_t)i;
            double w = wse_cells_width(g, i) * px, h = wse_cells_height(g, j) * py;
            c->gv[k] = w * h / rv;
            if (c->gv[k] < c->gv_min)
                c->gv_min = c->gv[k];
            c->ge[k] = i + 1 < g->cols ? kt * h / (0.5 * (w + wse_cells_width(g, i + 1) * px)) : 0.0;
            c->gs[k] = j + 1 < g->rows ? kt * w / (0.5 * (h + wse_cells_height(g, j + 1) * py)) : 0.0;
        }
    return 0;
}

static void conductances_free(conductances *c)
{
    free(c->gv);
    free(c->ge);
    free(c->gs);
}

/* y = A x, A = diag(gv) + the lateral Laplacian, in row-major order. */
static void apply(const wse_cells *g, const conductances *c, const double *x, double *y)
{
    int W = g->cols, H = g->rows;
    for (int j = 0; j < H; j++)
        for (int i = 0; i < W; i++) {
            size_t k = (size_t)j * (size_t)W + (size_t)i;
            double v = c->gv[k] * x[k];
            if (i > 0)
                v += c->ge[k - 1] * (x[k] - x[k - 1]);
            if (i + 1 < W)
                v += c->ge[k] * (x[k] - x[k + 1]);
            if (j > 0)
                v += c->gs[k - (size_t)W] * (x[k] - x[k - (size_t)W]);
            if (j + 1 < H)
                v += c->gs[k] * (x[k] - x[k + (size_t)W]);
            y[k] = v;
        }
}

static double dot(const double *a, const double *b, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* The diagonal of A, for the preconditioner. */
static double diag_at(const wse_cells *g, const conductances *c, size_t k)
{
    int W = g->cols, i = (int)(k % (size_t)W), j = (int)(k / (size_t)W);
    double d = c->gv[k] + c->ge[k] + c->gs[k];
    if (i > 0)
        d += c->ge[k - 1];
    if (j > 0)
        d += c->gs[k - (size_t)W];
    return d;
}

int wse_thermal_solve(const wse_topology *t, const wse_cells *g, const double *power,
                      double tol_k, double *rise, double *bound_k, int *iters)
{
    if (!model_ok(t) || g->cols < 1 || g->rows < 1 || !(tol_k > 0))
        return WSE_EINVAL;
    size_t n = (size_t)g->cols * (size_t)g->rows;
    conductances c = { 0 };
    double *r = malloc(n * sizeof *r), *z = malloc(n * sizeof *z);
    double *p = malloc(n * sizeof *p), *q = malloc(n * sizeof *q), *dinv = malloc(n * sizeof *dinv);
    int rc = conductances_make(t, g, &c);
    if (!rc && (!r || !z || !p || !q || !dinv))
        rc = WSE_ENOMEM;
    int it = 0;
    double bound = 0.0;
    if (!rc) {
        for (size_t k = 0; k < n; k++) {
            dinv[k] = 1.0 / diag_at(g, &c, k);
            rise[k] = power[k] / c.gv[k];     /* no lateral flow: a good start */
        }
        /* Conjugate gradients, restarted from the true residual until it
         * proves the tolerance: ||x - x*|| <= ||r|| / lambda_min(A), and
         * lambda_min(A) >= min gv since the Laplacian is semi-definite. */
        int cap = 20 * (int)(n < 50000 ? n : 50000) + 1000;
        for (int restart = 0; restart < 8; restart++) {
            apply(g, &c, rise, q);
            for (size_t k = 0; k < n; k++)
                r[k] = power[k] - q[k];
            bound = sqrt(dot(r, r, n)) / c.gv_min;
            if (bound <= tol_k || it >= cap)
                break;
            for (size_t k = 0; k < n; k++)
                p[k] = z[k] = dinv[k] * r[k];
            double rz = dot(r, z, n);
            while (it < cap) {
                apply(g, &c, p, q);
                double pq = dot(p, q, n);
                if (!(pq > 0))
                    break;
                double a = rz / pq;
                for (size_t k = 0; k < n; k++) {
                    rise[k] += a * p[k];
                    r[k] -= a * q[k];
                }
                it++;
                /* aim below the tolerance: the recurrence drifts from
                 * the true residual, which the restart checks */
                if (sqrt(dot(r, r, n)) / c.gv_min <= 0.25 * tol_k)
                    break;
                for (size_t k = 0; k < n; k++)
                    z[k] = dinv[k] * r[k];
                double rz1 = dot(r, z, n);
                double b = rz1 / rz;
                rz = rz1;
                for (size_t k = 0; k < n; k++)
                    p[k] = z[k] + b * p[k];
            }
        }
    }
    if (bound_k)
        *bound_k = bound;
    if (iters)
        *iters = it;
    conductances_free(&c);
    free(r);
    free(z);
    free(p);
    free(q);
    free(dinv);
    return rc;
}

/* ------------------------------------------------------------ pictures */

void wse_thermal_colour(double v, uint8_t rgb[3])
{
    /* five stops from dark violet through red and orange to pale yellow,
     * ordered in lightness so a grey print keeps the order */
    static const double stop[5][3] = {
        { 0, 0, 4 }, { 87, 16, 110 }, { 188, 55, 84 }, { 249, 142, 9 }, { 252, 255, 164 },
    };
    if (!(v > 0))
        v = 0;
    if (v > 1)
        v = 1;
    double s = v * 4.0;
    int k = (int)s;
    if (k > 3)
        k = 3;
    double f = s - k;
    for (int c = 0; c < 3; c++)
        rgb[c] = (uint8_t)lround(stop[k][c] + f * (stop[k + 1][c] - stop[k][c]));
}

/* The temperature map, each cell sx x sy pixels in the cell's aspect on
 * the wafer, and a colour bar on the right (top: the scale's maximum,
 * bottom: its minimum). */
static int write_picture(const char *path, const wse_topology *t, const wse_cells *g,
                         const double *temp_c, double lo, double hi, wse_error *err)
{
    int big = g->cols > g->rows ? g->cols : g->rows;
    int sx = big >= 512 ? 1 : (512 + big - 1) / big;
    if (sx > 32)
        sx = 32;
    double aspect = (g->cell_h * t->pe_height_mm) / (g->cell_w * t->pe_width_mm);
    long sy = lround(sx * aspect);
    if (sy < 1)
        sy = 1;
    if (sy > 64)
        sy = 64;
    int s = sx;
    int mw = g->cols * sx, mh = g->rows * (int)sy, gap = 8, bar = 16;
    int w = mw + gap + bar, h = mh;
    uint8_t *img = malloc((size_t)w * (size_t)h * 3);
    if (!img)
        return wse_error_set(err, WSE_ENOMEM, path, 0, 0, "out of memory for the picture");
    memset(img, 255, (size_t)w * (size_t)h * 3);
    double span = hi > lo ? hi - lo : 1.0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *px = img + ((size_t)y * (size_t)w + (size_t)x) * 3;
            if (x < mw) {
                size_t k = (size_t)(y / sy) * (size_t)g->cols + (size_t)(x / s);
                wse_thermal_colour((temp_c[k] - lo) / span, px);
            } else if (x >= mw + gap) {
                wse_thermal_colour(h > 1 ? 1.0 - (double)y / (h - 1) : 1.0, px);
            }
        }
    int rc = wse_png_save(path, w, h, img, err);
    free(img);
    return rc;
}

/* ------------------------------------------------------------ outputs */

static int save_map(const char *dir, const char *name, const wse_cells *g, const double *v,
                    wse_error *err)
{
    size_t n = (size_t)g->cols * (size_t)g->rows;
    float *f = malloc(n * sizeof *f);
    if (!f)
        return wse_error_set(err, WSE_ENOMEM, NULL, 0, 0, "out of memory for %s", name);
    for (size_t k = 0; k < n; k++)
        f[k] = (float)v[k];
    char path[WSE_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int64_t shape[2] = { g->rows, g->cols };
    int rc = wse_npy_save(path, WSE_F32, 2, shape, f, err);
    free(f);
    return rc;
}

/* ------------------------------------------------------------ summary */

static void summarise(const wse_topology *t, const wse_cells *g, const double *power,
                      const double *temp_c, wse_thermal_summary *s)
{
    double px = t->pe_width_mm, py = t->pe_height_mm;
    double area = 0, tsum = 0, psum = 0;
    s->hottest_c = -INFINITY;
    s->peak_density_w_mm2 = -1;
    s->gradient_k_mm = 0;
    s->grad_i = s->grad_j = s->grad_i2 = s->grad_j2 = 0;
    for (int j = 0; j < g->rows; j++)
        for (int i = 0; i < g->cols; i++) {
            size_t k = (size_t)j * (size_t)g->cols + (size_t)i;
            int w = wse_cells_width(g, i), h = wse_cells_height(g, j);
            double a = w * px * h * py;      /* mm^2 */
            area += a;
            tsum += temp_c[k] * a;
            psum += power[k];
            if (power[k] / a > s->peak_density_w_mm2) {
                s->peak_density_w_mm2 = power[k] / a;
                s->peak_i = i;
                s->peak_j = j;
            }
            if (temp_c[k] > s->hottest_c) {
                s->hottest_c = temp_c[k];
                s->hot_i = i;
                s->hot_j = j;
                s->hot_x = i * g->cell_w + 0.5 * (w - 1) - g->region.x;
                s->hot_y = j * g->cell_h + 0.5 * (h - 1) - g->region.y;
            }
            if (i + 1 < g->cols) {
                double d = 0.5 * (w + wse_cells_width(g, i + 1)) * px;
                double gr = fabs(temp_c[k + 1] - temp_c[k]) / d;
                if (gr > s->gradient_k_mm) {
                    s->gradient_k_mm = gr;
                    s->grad_i = i, s->grad_j = j, s->grad_i2 = i + 1, s->grad_j2 = j;
                }
            }
            if (j + 1 < g->rows) {
                double d = 0.5 * (h + wse_cells_height(g, j + 1)) * py;
                double gr = fabs(temp_c[k + (size_t)g->cols] - temp_c[k]) / d;
                if (gr > s->gradient_k_mm) {
                    s->gradient_k_mm = gr;
                    s->grad_i = i, s->grad_j = j, s->grad_i2 = i, s->grad_j2 = j + 1;
                }
            }
        }
    s->cell_power_sum_w = psum;
    s->mean_c = tsum / area;
    s->peak_rise_k = s->hottest_c - t->coolant_c;
    s->r_vertical_m2k_w = r_vertical(t);
    s->spreading_mm = sqrt(t->si_conductivity * t->die_thickness_mm * 1e-3 * s->r_vertical_m2k_w) * 1e3;
}

/* ------------------------------------------------------------ the run */

#define THERMAL_TOL_K 1e-6
#define TAG_HDR 7301
#define TAG_DATA 7302

/* The block of cells this rank's shards cover: c0, r0, nc, nr. */
static void local_block(wse_sim *s, const wse_cells *g, int b[4])
{
    int x0 = g->fabric_w, y0 = g->fabric_h, x1 = -1, y1 = -1;
    for (int k = 0; k < wse_sim_nlocal(s); k++) {
        wse_rect r = wse_engine_shard(wse_sim_local(s, k));
        if (r.width < 1 || r.height < 1)
            continue;
        int ax = g->region.x + r.x, ay = g->region.y + r.y;
        int bx = ax + r.width - 1, by = ay + r.height - 1;
        x0 = ax < x0 ? ax : x0;
        y0 = ay < y0 ? ay : y0;
        x1 = bx > x1 ? bx : x1;
        y1 = by > y1 ? by : y1;
    }
    if (x1 < 0) {
        b[0] = b[1] = b[2] = b[3] = 0;
        return;
    }
    b[0] = x0 / g->cell_w;
    b[1] = y0 / g->cell_h;
    b[2] = x1 / g->cell_w - b[0] + 1;
    b[3] = y1 / g->cell_h - b[1] + 1;
}

static void add_block(uint64_t *full, const wse_cells *g, const int b[4], const uint64_t *blk)
{
    for (int j = 0; j < b[3]; j++)
        for (int i = 0; i < b[2]; i++)
            for (int c = 0; c < WSE_CELL_COUNTERS; c++)
                full[(((size_t)(b[1] + j)) * (size_t)g->cols + (size_t)(b[0] + i)) * WSE_CELL_COUNTERS + (size_t)c] +=
                    blk[((size_t)j * (size_t)b[2] + (size_t)i) * WSE_CELL_COUNTERS + (size_t)c];
}

/* Rank 0: watts per cell, the solve, the summary, the files. */
static int finish(const wse_topology *t, const wse_cells *g, const wse_engine_stats *st,
                  const uint64_t *full, const char *out_dir, wse_thermal_summary *s,
                  wse_error *err)
{
    size_t n = (size_t)g->cols * (size_t)g->rows;
    double secs = (double)st->cycles / t->clock_hz;
    double *power = calloc(n, sizeof *power), *temp = calloc(n, sizeof *temp);
    int rc = power && temp ? 0 : wse_error_set(err, WSE_ENOMEM, NULL, 0, 0, "out of memory for %zu thermal cells", n);
    for (size_t k = 0; !rc && k < n; k++) {
        const uint64_t *a = full + k * WSE_CELL_COUNTERS;
        for (int c = 0; c < WSE_CELL_COUNTERS; c++)
            s->counts[c] += a[c];
        wse_energy e = wse_energy_of(t, a[WSE_CELL_FLOPS], a[WSE_CELL_HOPS], a[WSE_CELL_SRAM],
                                     (double)a[WSE_CELL_PES] * (double)st->cycles);
        power[k] = secs > 0 ? e.total_j / secs : 0.0;
    }
    wse_energy tot = wse_energy_of(t, st->flops, st->hops, st->sram_bytes_moved,
                                   (double)st->pes * (double)st->cycles);
    if (secs > 0) {
        s->power_w = tot.total_j / secs;
        s->power_compute_w = tot.compute_j / secs;
        s->power_fabric_w = tot.fabric_j / secs;
        s->power_sram_w = tot.sram_j / secs;
        s->power_static_w = tot.static_j / secs;
    }
    if (!rc) {
        rc = wse_thermal_solve(t, g, power, THERMAL_TOL_K, temp, &s->bound_k, &s->iters);
        if (rc)
            wse_error_set(err, rc, t->path, 0, 0, "thermal solve: %s", wse_strerror(rc));
    }
    if (!rc) {
        for (size_t k = 0; k < n; k++)
            temp[k] += t->coolant_c;
        summarise(t, g, power, temp, s);
        s->scale_min_c = t->coolant_c;     /* the scale starts at the coolant */
        s->scale_max_c = s->hottest_c > t->coolant_c ? s->hottest_c : t->coolant_c + 1.0;
        s->valid = 1;
    }
    if (!rc && out_dir) {
        char path[WSE_PATH_MAX + 32];
        rc = save_map(out_dir, WSE_THERMAL_POWER_FILE, g, power, err);
        if (!rc)
            rc = save_map(out_dir, WSE_THERMAL_TEMPERATURE_FILE, g, temp, err);
        snprintf(path, sizeof path, "%s/" WSE_THERMAL_PICTURE_FILE, out_dir);
        if (!rc)
            rc = write_picture(path, t, g, temp, s->scale_min_c, s->scale_max_c, err);
        s->picture = rc == 0;
    }
    free(power);
    free(temp);
    return rc;
}

int wse_thermal_run(wse_sim *s, const wse_topology *t, wse_rect region,
                    const wse_engine_stats *st, const char *out_dir,
                    wse_thermal_summary *sum, wse_error *err)
{
    MPI_Comm comm = wse_sim_comm(s);
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    memset(sum, 0, sizeof *sum);
    wse_cells g;
    int rc = wse_cells_make(t, region, &g) || !model_ok(t) ? WSE_EINVAL : 0;
    if (rc)
        wse_error_set(err, rc, t->path, 0, 0, "the thermal section does not describe cells and a path to the coolant");
    int b[4] = { 0, 0, 0, 0 };
    uint64_t *blk = NULL, *full = NULL, *rbuf = NULL;
    unsigned long long mine = 0, most = 0;
    if (!rc) {
        local_block(s, &g, b);
        mine = (unsigned long long)b[2] * (unsigned long long)b[3];
        blk = calloc(mine ? mine * WSE_CELL_COUNTERS : 1, sizeof *blk);
        if (!blk)
            rc = wse_error_set(err, WSE_ENOMEM, NULL, 0, 0, "out of memory for thermal cells");
    }
    MPI_Allreduce(&mine, &most, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, comm);
    if (!rc && most * WSE_CELL_COUNTERS > 0x7fffffffULL)
        rc = wse_error_set(err, WSE_ECONFIG, t->path, 0, 0, "thermal cells of %dx%d PEs are too many for one message; use larger cells", t->thermal_cell_width, t->thermal_cell_height);
    if (!rc && rank == 0) {
        full = calloc((size_t)g.cols * (size_t)g.rows * WSE_CELL_COUNTERS, sizeof *full);
        rbuf = calloc(most ? most * WSE_CELL_COUNTERS : 1, sizeof *rbuf);
        if (!full || !rbuf)
            rc = wse_error_set(err, WSE_ENOMEM, NULL, 0, 0, "out of memory for %d x %d thermal cells", g.cols, g.rows);
    }
    rc = wse_agree(comm, rc, err);
    if (!rc) {
        for (int k = 0; k < wse_sim_nlocal(s); k++)
            wse_engine_cell_counts(wse_sim_local(s, k), &g, b[0], b[1], b[2], b[3], blk);
        if (rank == 0) {
            add_block(full, &g, b, blk);
            /* in rank order; the sums are integers, so the order is only
             * for the reader */
            for (int r = 1; r < size; r++) {
                int rb[4];
                MPI_Recv(rb, 4, MPI_INT, r, TAG_HDR, comm, MPI_STATUS_IGNORE);
                int cnt = rb[2] * rb[3] * WSE_CELL_COUNTERS;
                if (cnt > 0) {
                    MPI_Recv(rbuf, cnt, MPI_UNSIGNED_LONG_LONG, r, TAG_DATA, comm, MPI_STATUS_IGNORE);
                    add_block(full, &g, rb, rbuf);
                }
            }
            rc = finish(t, &g, st, full, out_dir, sum, err);
        } else {
            MPI_Send(b, 4, MPI_INT, 0, TAG_HDR, comm);
            int cnt = b[2] * b[3] * WSE_CELL_COUNTERS;
            if (cnt > 0)
                MPI_Send(blk, cnt, MPI_UNSIGNED_LONG_LONG, 0, TAG_DATA, comm);
        }
        sum->cols = g.cols;
        sum->rows = g.rows;
        sum->cell_w = g.cell_w;
        sum->cell_h = g.cell_h;
        sum->coolant_c = t->coolant_c;
        rc = wse_agree(comm, rc, err);
        MPI_Bcast(sum, (int)sizeof *sum, MPI_BYTE, 0, comm);
    }
    free(blk);
    free(full);
    free(rbuf);
    return rc;
}
