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

/* ------------------------------------------------------------ the transient */

double wse_thermal_capacity(const wse_topology *t)
{
    return t->si_density * t->si_specific_heat * t->die_thickness_mm * 1e-3;
}

double wse_thermal_tau(const wse_topology *t) { return wse_thermal_capacity(t) * r_vertical(t); }

/* The grid's conductances, each cell's heat capacity and the step bound,
 * made once for a run of windows. */
typedef struct transient {
    conductances c;
    double *cap;                /* J/K per cell */
    double *q;                  /* scratch: A T */
    double dt_max;              /* s: min C_k / A_kk */
} transient;

static void transient_free(transient *m)
{
    conductances_free(&m->c);
    free(m->cap);
    free(m->q);
}

static int transient_make(const wse_topology *t, const wse_cells *g, transient *m)
{
    memset(m, 0, sizeof *m);
    if (!model_ok(t) || !(t->si_density > 0) || !(t->si_specific_heat > 0) || g->cols < 1 ||
        g->rows < 1)
        return WSE_EINVAL;
    size_t n = (size_t)g->cols * (size_t)g->rows;
    int rc = conductances_make(t, g, &m->c);
    m->cap = malloc(n * sizeof *m->cap);
    m->q = malloc(n * sizeof *m->q);
    if (!rc && (!m->cap || !m->q))
        rc = WSE_ENOMEM;
    if (rc) {
        transient_free(m);
        return rc;
    }
    double cpa = wse_thermal_capacity(t), rv = r_vertical(t);
    m->dt_max = INFINITY;
    for (size_t k = 0; k < n; k++) {
        m->cap[k] = cpa * m->c.gv[k] * rv;      /* capacity per area x area */
        double b = m->cap[k] / diag_at(g, &m->c, k);
        if (b < m->dt_max)
            m->dt_max = b;
    }
    return 0;
}

/* Forward Euler in the fewest equal steps within dt_max. */
static int64_t transient_advance(const wse_cells *g, transient *m, const double *power,
                                 double seconds, double *rise)
{
    if (!(seconds > 0))
        return 0;
    size_t n = (size_t)g->cols * (size_t)g->rows;
    double steps = ceil(seconds / m->dt_max);
    int64_t ns = steps < 1 ? 1 : (int64_t)steps;
    double dt = seconds / (double)ns;
    for (int64_t s = 0; s < ns; s++) {
        apply(g, &m->c, rise, m->q);
        for (size_t k = 0; k < n; k++)
            rise[k] += dt / m->cap[k] * (power[k] - m->q[k]);
    }
    return ns;
}

int wse_thermal_advance(const wse_topology *t, const wse_cells *g, const double *power,
                        double seconds, double *rise, int64_t *steps)
{
    transient m;
    int rc = transient_make(t, g, &m);
    if (rc)
        return rc;
    int64_t ns = !(seconds >= 0) || seconds / m.dt_max >= 1e9 ? -1
                 : transient_advance(g, &m, power, seconds, rise);
    transient_free(&m);
    if (steps)
        *steps = ns;
    return ns < 0 ? WSE_EINVAL : 0;
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

/* ------------------------------------------------------------ power windows */

#define TAG_WHDR 7303
#define TAG_WDATA 7304

struct wse_power_windows {
    wse_sim *sim;
    const wse_topology *t;
    wse_cells g;
    int rank, size;
    uint64_t P;                 /* cycles per window */
    uint64_t closed;            /* cycles closed so far (a multiple of P) */
    int throttle;               /* the rule acts */
    int b[4];                   /* this rank's block of cells */
    uint64_t *blk;              /* its counters, cumulative */
    uint8_t *hot;               /* throttled cells (every rank: the grid) */
    /* rank 0 */
    uint64_t *full, *prev;      /* cumulative counters: now, the last boundary */
    uint64_t *rbuf;
    double *power, *rise;       /* this window's watts, the transient */
    double *hot_power, *hot_rise;   /* the hottest window's */
    transient m;
    FILE *csv;                  /* rows so far (with --out) */
    wse_power_time pt;
    double best_c;
};

void wse_power_windows_destroy(wse_power_windows *w)
{
    if (!w)
        return;
    free(w->blk);
    free(w->hot);
    free(w->full);
    free(w->prev);
    free(w->rbuf);
    free(w->power);
    free(w->rise);
    free(w->hot_power);
    free(w->hot_rise);
    transient_free(&w->m);
    if (w->csv)
        fclose(w->csv);
    free(w);
}

int wse_power_windows_create(wse_sim *s, const wse_topology *t, wse_rect region,
                             const wse_job *job, int want_files, wse_power_windows **out,
                             wse_error *err)
{
    *out = NULL;
    if (job->power_window_cycles <= 0)
        return 0;
    MPI_Comm comm = wse_sim_comm(s);
    wse_power_windows *w = calloc(1, sizeof *w);
    int rc = w ? 0 : wse_error_set(err, WSE_ENOMEM, NULL, 0, 0, "out of memory for power windows");
    size_t n = 0;
    unsigned long long mine = 0, most = 0;
    if (!rc) {
        w->sim = s;
        w->t = t;
        w->P = (uint64_t)job->power_window_cycles;
        w->throttle = t->throttle && job->throttle;
        MPI_Comm_rank(comm, &w->rank);
        MPI_Comm_size(comm, &w->size);
        if (wse_cells_make(t, region, &w->g) || transient_make(t, &w->g, &w->m))
            rc = wse_error_set(err, WSE_ECONFIG, t->path, 0, 0,
                               "the thermal section does not describe cells, a path to the coolant and a heat capacity");
    }
    if (!rc) {
        n = (size_t)w->g.cols * (size_t)w->g.rows;
        local_block(s, &w->g, w->b);
        mine = (unsigned long long)w->b[2] * (unsigned long long)w->b[3];
        w->blk = calloc(mine ? mine * WSE_CELL_COUNTERS : 1, sizeof *w->blk);
        w->hot = calloc(n, 1);
        if (!w->blk || !w->hot)
            rc = wse_error_set(err, WSE_ENOMEM, NULL, 0, 0, "out of memory for power windows");
    }
    MPI_Allreduce(&mine, &most, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, comm);
    if (!rc && most * WSE_CELL_COUNTERS > 0x7fffffffULL)
        rc = wse_error_set(err, WSE_ECONFIG, t->path, 0, 0, "thermal cells of %dx%d PEs are too many for one message; use larger cells", t->thermal_cell_width, t->thermal_cell_height);
    if (!rc && w->rank == 0) {
        size_t nc = n * WSE_CELL_COUNTERS;
        w->full = calloc(nc, sizeof *w->full);
        w->prev = calloc(nc, sizeof *w->prev);
        w->rbuf = calloc(most ? most * WSE_CELL_COUNTERS : 1, sizeof *w->rbuf);
        w->power = calloc(n, sizeof *w->power);
        w->rise = calloc(n, sizeof *w->rise);
        w->hot_power = calloc(n, sizeof *w->hot_power);
        w->hot_rise = calloc(n, sizeof *w->hot_rise);
        if (!w->full || !w->prev || !w->rbuf || !w->power || !w->rise || !w->hot_power || !w->hot_rise)
            rc = wse_error_set(err, WSE_ENOMEM, NULL, 0, 0, "out of memory for %d x %d thermal cells", w->g.cols, w->g.rows);
        if (!rc && want_files && !(w->csv = tmpfile()))
            rc = wse_error_set(err, WSE_EIO, NULL, 0, 0, "cannot make a temporary file for the power windows");
        if (!rc && w->csv)
            fprintf(w->csv, "window,start_cycle,cycles,power_w,compute_w,fabric_w,sram_w,static_w,"
                            "peak_cell_w,hottest_c,mean_c,throttled_pes\n");
        wse_power_time *p = &w->pt;
        p->valid = 1;
        p->window_cycles = w->P;
        p->start_steady = job->thermal_start == WSE_START_STEADY;
        p->tau_s = wse_thermal_tau(t);
        p->step_s = w->m.dt_max;
        p->throttle = w->throttle;
        p->throttle_above_c = t->throttle_above_c;
        p->throttle_resume_c = t->throttle_resume_c;
        p->throttle_rate_percent = t->throttle_rate_percent;
        w->best_c = -INFINITY;
    }
    rc = wse_agree(comm, rc, err);
    if (rc) {
        wse_power_windows_destroy(w);
        return rc;
    }
    *out = w;
    return 0;
}

/* Every rank's cumulative counters at cycle `at` into w->full on rank 0. */
static void gather(wse_power_windows *w, uint64_t at)
{
    MPI_Comm comm = wse_sim_comm(w->sim);
    size_t mine = (size_t)w->b[2] * (size_t)w->b[3] * WSE_CELL_COUNTERS;
    memset(w->blk, 0, (mine ? mine : 1) * sizeof *w->blk);
    for (int k = 0; k < wse_sim_nlocal(w->sim); k++)
        wse_engine_cell_counts_at(wse_sim_local(w->sim, k), &w->g, w->b[0], w->b[1], w->b[2],
                                  w->b[3], at, w->blk);
    if (w->rank != 0) {
        MPI_Send(w->b, 4, MPI_INT, 0, TAG_WHDR, comm);
        if (mine)
            MPI_Send(w->blk, (int)mine, MPI_UNSIGNED_LONG_LONG, 0, TAG_WDATA, comm);
        return;
    }
    memset(w->full, 0, (size_t)w->g.cols * (size_t)w->g.rows * WSE_CELL_COUNTERS * sizeof *w->full);
    add_block(w->full, &w->g, w->b, w->blk);
    for (int r = 1; r < w->size; r++) {
        int rb[4];
        MPI_Recv(rb, 4, MPI_INT, r, TAG_WHDR, comm, MPI_STATUS_IGNORE);
        int cnt = rb[2] * rb[3] * WSE_CELL_COUNTERS;
        if (cnt > 0) {
            MPI_Recv(w->rbuf, cnt, MPI_UNSIGNED_LONG_LONG, r, TAG_WDATA, comm, MPI_STATUS_IGNORE);
            add_block(w->full, &w->g, rb, w->rbuf);
        }
    }
}

/* Rank 0: one window of len cycles from start; with counts, its energy is
 * full - prev (and prev moves up), without, static power only. */
static int window_step(wse_power_windows *w, uint64_t start, uint64_t len, int counts,
                       wse_error *err)
{
    const wse_topology *t = w->t;
    const wse_cells *g = &w->g;
    size_t n = (size_t)g->cols * (size_t)g->rows;
    double secs = (double)len / t->clock_hz;
    uint64_t tot[WSE_CELL_COUNTERS] = { 0 }, hot_pes = 0;
    double peak = 0;
    for (size_t k = 0; k < n; k++) {
        uint64_t *a = w->full + k * WSE_CELL_COUNTERS, *b = w->prev + k * WSE_CELL_COUNTERS;
        uint64_t d[WSE_CELL_COUNTERS];
        for (int c = 0; c < WSE_CELL_COUNTERS; c++) {
            d[c] = counts && c != WSE_CELL_PES ? a[c] - b[c] : 0;
            tot[c] += d[c];
        }
        uint64_t pes = a[WSE_CELL_PES];
        tot[WSE_CELL_PES] += pes;
        wse_energy e = wse_energy_of(t, d[WSE_CELL_FLOPS], d[WSE_CELL_HOPS], d[WSE_CELL_SRAM],
                                     (double)pes * (double)len);
        w->power[k] = e.total_j / secs;
        if (w->power[k] > peak)
            peak = w->power[k];
        if (w->hot[k])
            hot_pes += pes;
    }
    if (counts)
        memcpy(w->prev, w->full, n * WSE_CELL_COUNTERS * sizeof *w->prev);
    wse_power_time *p = &w->pt;
    if (p->windows == 0 && p->start_steady) {
        int rc = wse_thermal_solve(t, g, w->power, THERMAL_TOL_K, w->rise, NULL, NULL);
        if (rc)
            return wse_error_set(err, rc, t->path, 0, 0, "thermal solve: %s", wse_strerror(rc));
    }
    transient_advance(g, &w->m, w->power, secs, w->rise);
    wse_energy e = wse_energy_of(t, tot[WSE_CELL_FLOPS], tot[WSE_CELL_HOPS], tot[WSE_CELL_SRAM],
                                 (double)tot[WSE_CELL_PES] * (double)len);
    double mx = -INFINITY, area = 0, tsum = 0;
    for (int j = 0; j < g->rows; j++)
        for (int i = 0; i < g->cols; i++) {
            size_t k = (size_t)j * (size_t)g->cols + (size_t)i;
            double a = wse_cells_width(g, i) * wse_cells_height(g, j);
            area += a;
            tsum += w->rise[k] * a;
            if (w->rise[k] > mx)
                mx = w->rise[k];
        }
    double hottest = t->coolant_c + mx, mean = t->coolant_c + tsum / area;
    if (e.total_j / secs > p->peak_power_w || p->windows == 0) {
        p->peak_power_w = e.total_j / secs;
        p->peak_window = p->windows;
    }
    if (hottest > w->best_c) {
        w->best_c = hottest;
        memcpy(w->hot_power, w->power, n * sizeof *w->power);
        memcpy(w->hot_rise, w->rise, n * sizeof *w->rise);
        p->hot_window = p->windows;
        p->hot_start = start;
        p->hot_cycles = len;
        p->hot_power_w = e.total_j / secs;
    }
    p->final_max_c = hottest;
    p->throttled_pe_cycles += hot_pes * len;
    if (w->csv)
        fprintf(w->csv, "%llu,%llu,%llu,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%llu\n",
                (unsigned long long)p->windows, (unsigned long long)start, (unsigned long long)len,
                e.total_j / secs, e.compute_j / secs, e.fabric_j / secs, e.sram_j / secs,
                e.static_j / secs, peak, hottest, mean, (unsigned long long)hot_pes);
    /* the rule, with hysteresis: on above above_c, off below resume_below_c */
    if (w->throttle)
        for (size_t k = 0; k < n; k++) {
            double c = t->coolant_c + w->rise[k];
            if (!w->hot[k] && c > t->throttle_above_c) {
                w->hot[k] = 1;
                p->throttle_onsets++;
            } else if (w->hot[k] && c < t->throttle_resume_c) {
                w->hot[k] = 0;
            }
        }
    p->windows++;
    return 0;
}

/* The throttle flags from rank 0 to every rank's PEs. */
static void spread_throttle(wse_power_windows *w)
{
    if (!w->throttle)
        return;
    size_t n = (size_t)w->g.cols * (size_t)w->g.rows;
    MPI_Bcast(w->hot, (int)n, MPI_BYTE, 0, wse_sim_comm(w->sim));
    for (int k = 0; k < wse_sim_nlocal(w->sim); k++)
        wse_engine_throttle_set(wse_sim_local(w->sim, k), &w->g, w->hot);
}

int wse_power_windows_close(void *arg, uint64_t boundary, wse_error *err)
{
    wse_power_windows *w = arg;
    int rc = 0;
    if (boundary <= w->closed)
        return 0;
    gather(w, boundary);
    if (w->rank == 0)
        rc = window_step(w, w->closed, boundary - w->closed, 1, err);
    w->closed = boundary;
    rc = wse_agree(wse_sim_comm(w->sim), rc, err);
    if (!rc)
        spread_throttle(w);
    return rc;
}

static int csv_copy(FILE *f, void *arg)
{
    FILE *src = arg;
    char buf[8192];
    size_t k;
    rewind(src);
    while ((k = fread(buf, 1, sizeof buf, src)) > 0)
        if (fwrite(buf, 1, k, f) != k)
            return WSE_EIO;
    return ferror(src) ? WSE_EIO : 0;
}

/* Rank 0: the hottest window's figures and files. */
static int windows_files(wse_power_windows *w, const char *out_dir, wse_error *err)
{
    const wse_topology *t = w->t;
    const wse_cells *g = &w->g;
    size_t n = (size_t)g->cols * (size_t)g->rows;
    wse_power_time *p = &w->pt;
    for (size_t k = 0; k < n; k++)
        w->hot_rise[k] += t->coolant_c;       /* now deg C */
    wse_thermal_summary s;
    memset(&s, 0, sizeof s);
    summarise(t, g, w->hot_power, w->hot_rise, &s);
    p->hottest_c = s.hottest_c;
    p->hot_i = s.hot_i;
    p->hot_j = s.hot_j;
    p->hot_x = s.hot_x;
    p->hot_y = s.hot_y;
    p->mean_c = s.mean_c;
    p->gradient_k_mm = s.gradient_k_mm;
    p->grad_i = s.grad_i;
    p->grad_j = s.grad_j;
    p->grad_i2 = s.grad_i2;
    p->grad_j2 = s.grad_j2;
    p->scale_min_c = t->coolant_c;
    p->scale_max_c = s.hottest_c > t->coolant_c ? s.hottest_c : t->coolant_c + 1.0;
    if (!out_dir || !w->csv)
        return 0;
    char path[WSE_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/" WSE_THERMAL_WINDOWS_FILE, out_dir);
    fflush(w->csv);
    int rc = wse_file_write_atomic(path, csv_copy, w->csv, err);
    if (!rc)
        rc = save_map(out_dir, WSE_THERMAL_HOT_POWER_FILE, g, w->hot_power, err);
    if (!rc)
        rc = save_map(out_dir, WSE_THERMAL_HOT_TEMPERATURE_FILE, g, w->hot_rise, err);
    snprintf(path, sizeof path, "%s/" WSE_THERMAL_HOT_PICTURE_FILE, out_dir);
    if (!rc)
        rc = write_picture(path, t, g, w->hot_rise, p->scale_min_c, p->scale_max_c, err);
    p->files = rc == 0;
    return rc;
}

int wse_power_windows_finish(wse_power_windows *w, const wse_engine_stats *st,
                             const char *out_dir, wse_thermal_summary *sum, wse_error *err)
{
    MPI_Comm comm = wse_sim_comm(w->sim);
    int rc = 0;
    /* the last window: from the last boundary to the run's end */
    gather(w, UINT64_MAX);     /* every task has ended */
    unsigned long long added = 0, all = 0;
    for (int k = 0; k < wse_sim_nlocal(w->sim); k++)
        added += wse_engine_throttle_cycles(wse_sim_local(w->sim, k));
    MPI_Reduce(&added, &all, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, 0, comm);
    if (w->rank == 0) {
        uint64_t len = st->cycles > w->closed ? st->cycles - w->closed : 0;
        int more = len > 0;
        for (size_t k = 0; !more && k < (size_t)w->g.cols * (size_t)w->g.rows * WSE_CELL_COUNTERS; k++)
            more = k % WSE_CELL_COUNTERS != WSE_CELL_PES && w->full[k] != w->prev[k];
        if (more)     /* activity at the boundary cycle itself: one cycle */
            rc = window_step(w, w->closed, len ? len : 1, 1, err);
        w->pt.throttle_cycles = all;
        w->pt.busy_cycles = st->busy_cycles;
        if (!rc && w->pt.windows)
            rc = windows_files(w, out_dir, err);
        sum->over_time = w->pt;
    }
    rc = wse_agree(comm, rc, err);
    MPI_Bcast(&sum->over_time, (int)sizeof sum->over_time, MPI_BYTE, 0, comm);
    return rc;
}
