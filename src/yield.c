/*
 * src/yield.c - defect maps, the repair of a wafer, and what it costs
 * (see wse/yield.h and docs/MODEL.md, "Defects and spare PEs").
 *
 * Everything is computed in (u, v) coordinates, v being the axis the
 * scheme repairs along: (x, y) for column_shift and row_retire (spare
 * rows), (y, x) for row_shift (spare columns).  Along u there are no
 * spares, so a PE's u is the same logically and physically.
 *
 * A scheme works on lines: the v-extent of one die at one physical u
 * (the shift schemes) or a whole die (row_retire).  A line keeps the
 * sorted die-local v positions it cannot use, and its k-th logical
 * position is its k-th usable one.  Only lines with defects are stored,
 * so a wafer costs memory in proportion to its defects.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "wse/io.h"
#include "wse/pe.h"
#include "wse/yield.h"

struct wse_wafer {
    int scheme;
    int swap;                   /* row_shift: u = y, v = x */
    int du, dv;                 /* dies along u and v */
    int die_u, die_v;           /* nominal logical die size */
    int spares;                 /* per die along v */
    int pu, pv;                 /* physical fabric */
    int lu, lv;                 /* logical fabric formed */
    int *lv0, *pv0;             /* per die along v (dv + 1): logical and
                                 * physical first v */
    int *nv;                    /* per die along v: logical positions */
    uint64_t *bad;              /* defective physical PEs, y * pw + x, sorted */
    size_t nbad;
    uint64_t *line;             /* (line key << 32) | unusable position, sorted */
    size_t nline;
    wse_wafer_summary sum;
};

/* ------------------------------------------------------------ geometry */

/* Nominal logical v extent of die j (the last may be short). */
static int die_v_nominal(const wse_wafer *w, int j, int total_v)
{
    return j < w->dv - 1 ? w->die_v : total_v - j * w->die_v;
}

/* The die along v holding logical v (lv0 is increasing). */
static int die_of_v(const wse_wafer *w, int v)
{
    int lo = 0, hi = w->dv - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (w->lv0[mid] <= v)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

static uint64_t line_key(const wse_wafer *w, int j, int u)
{
    if (w->scheme == WSE_REPAIR_ROW_RETIRE)
        return (uint64_t)j * (uint64_t)w->du + (uint64_t)(u / w->die_u);
    return (uint64_t)j * (uint64_t)w->pu + (uint64_t)u;
}

/* First entry of line key, or nline. */
static size_t line_first(const wse_wafer *w, uint64_t key)
{
    size_t lo = 0, hi = w->nline;
    uint64_t k = key << 32;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (w->line[mid] < k)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The die-local physical v of the k-th usable position of a line. */
static int usable(const wse_wafer *w, uint64_t key, int k)
{
    int p = k;
    for (size_t i = line_first(w, key); i < w->nline && w->line[i] >> 32 == key; i++) {
        if ((int)(uint32_t)w->line[i] > p)
            break;
        p++;
    }
    return p;
}

static int line_has(const wse_wafer *w, uint64_t key)
{
    size_t i = line_first(w, key);
    return i < w->nline && w->line[i] >> 32 == key;
}

/* Physical (u, v) of logical (u, v); *nominal gets the perfect wafer's. */
static void map_uv(const wse_wafer *w, int u, int v, int *pv, int *nominal)
{
    int j = die_of_v(w, v), k = v - w->lv0[j];
    *nominal = w->pv0[j] + k;
    *pv = w->pv0[j] + usable(w, line_key(w, j, u), k);
}

static void to_uv(const wse_wafer *w, int x, int y, int *u, int *v)
{
    *u = w->swap ? y : x;
    *v = w->swap ? x : y;
}

void wse_wafer_physical(const wse_wafer *w, int x, int y, int *px, int *py)
{
    int u, v, pv, nom;
    to_uv(w, x, y, &u, &v);
    map_uv(w, u, v, &pv, &nom);
    *px = w->swap ? pv : u;
    *py = w->swap ? u : pv;
}

/* Extra pitches of the link between logical (u, v) and (u + du, v + dv). */
static int extra_uv(const wse_wafer *w, int u, int v, int du, int dv)
{
    int u2 = u + du, v2 = v + dv;
    if (u2 < 0 || v2 < 0 || u2 >= w->lu || v2 >= w->lv)
        return 0;
    int a, an, b, bn;
    map_uv(w, u, v, &a, &an);
    map_uv(w, u2, v2, &b, &bn);
    int len = abs(du) + abs(b - a), nominal = abs(du) + abs(bn - an);
    return len > nominal ? len - nominal : 0;
}

int wse_wafer_link_extra(const wse_wafer *w, int x, int y, int port)
{
    if (!w || w->nline == 0 || port < 0 || port > 3)
        return 0;
    int u, v, dx = pe_port_dx(port), dy = pe_port_dy(port);
    to_uv(w, x, y, &u, &v);
    return extra_uv(w, u, v, w->swap ? dy : dx, w->swap ? dx : dy);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int wse_wafer_defective(const wse_wafer *w, int px, int py)
{
    if (!w || px < 0 || py < 0 || px >= (w->swap ? w->pv : w->pu) || py >= (w->swap ? w->pu : w->pv))
        return 0;
    uint64_t k = (uint64_t)py * (uint64_t)(w->swap ? w->pv : w->pu) + (uint64_t)px;
    return bsearch(&k, w->bad, w->nbad, sizeof k, cmp_u64) != NULL;
}

/* ------------------------------------------------------------ defect maps */

/* A growing list of defective physical PEs (y * pw + x). */
typedef struct pelist { uint64_t *v; size_t n, cap; } pelist;

static int pelist_add(pelist *l, uint64_t k)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        uint64_t *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = k;
    return 0;
}

/* Sort and drop repeats; returns how many distinct. */
static size_t pelist_unique(pelist *l)
{
    if (!l->n)
        return 0;
    qsort(l->v, l->n, sizeof *l->v, cmp_u64);
    size_t m = 1;
    for (size_t i = 1; i < l->n; i++)
        if (l->v[i] != l->v[m - 1])
            l->v[m++] = l->v[i];
    l->n = m;
    return m;
}

/*
 * The defect file: one defect per line, '#' starts a comment.
 *   pe X Y            physical PE (X, Y) is defective
 *   link X Y east     the link from physical PE (X, Y) to its east
 *   link X Y south    (or south) neighbour is defective
 * Coordinates are physical (spares included), 0-based.
 */
static int read_map(const char *path, int pw, int ph, pelist *pes, uint64_t *nlinks,
                    wse_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return wse_error_set(err, WSE_ECONFIG, path, 0, 0, "cannot open the defect map: %s", strerror(errno));
    char buf[256];
    int line = 0, rc = 0;
    while (!rc && fgets(buf, sizeof buf, f)) {
        line++;
        size_t len = strlen(buf);
        if (len == sizeof buf - 1 && buf[len - 1] != '\n' && !feof(f)) {
            rc = wse_error_set(err, WSE_ECONFIG, path, line, 1, "line is too long (at most %zu characters)", sizeof buf - 2);
            break;
        }
        char *hash = strchr(buf, '#');
        if (hash)
            *hash = '\0';
        char kind[16], dir[16], extra[2];
        int x, y, n = sscanf(buf, "%15s %d %d %15s %1s", kind, &x, &y, dir, extra);
        int col = 1;
        while (buf[col - 1] == ' ' || buf[col - 1] == '\t')
            col++;
        if (n <= 0)
            continue;
        int is_pe = strcmp(kind, "pe") == 0, is_link = strcmp(kind, "link") == 0;
        if (!is_pe && !is_link) {
            rc = wse_error_set(err, WSE_ECONFIG, path, line, col, "unknown defect '%s' (expected 'pe X Y' or 'link X Y east|south')", kind);
        } else if (n < 3 || (is_pe && n != 3) || (is_link && n != 4)) {
            rc = wse_error_set(err, WSE_ECONFIG, path, line, col, is_pe ? "expected 'pe X Y'" : "expected 'link X Y east' or 'link X Y south'");
        } else if (x < 0 || y < 0 || x >= pw || y >= ph) {
            rc = wse_error_set(err, WSE_ECONFIG, path, line, col, "PE (%d,%d) is outside the %dx%d physical fabric", x, y, pw, ph);
        } else if (is_pe) {
            if (pelist_add(pes, (uint64_t)y * (uint64_t)pw + (uint64_t)x))
                rc = wse_error_set(err, WSE_ENOMEM, NULL, 0, 0, "out of memory for the defect map");
        } else {
            int east = strcmp(dir, "east") == 0, south = strcmp(dir, "south") == 0;
            int tx = x + east, ty = y + south;
            if (!east && !south)
                rc = wse_error_set(err, WSE_ECONFIG, path, line, col, "link direction '%s' must be east or south", dir);
            else if (tx >= pw || ty >= ph)
                rc = wse_error_set(err, WSE_ECONFIG, path, line, col, "the link %s of PE (%d,%d) leaves the %dx%d physical fabric", dir, x, y, pw, ph);
            else {
                /* a broken link retires the PE at its east or south end */
                (*nlinks)++;
                if (pelist_add(pes, (uint64_t)ty * (uint64_t)pw + (uint64_t)tx))
                    rc = wse_error_set(err, WSE_ENOMEM, NULL, 0, 0, "out of memory for the defect map");
            }
        }
    }
    if (!rc && ferror(f))
        rc = wse_error_set(err, WSE_ECONFIG, path, 0, 0, "cannot read the defect map");
    fclose(f);
    return rc;
}

/* splitmix64 steps: one stream per die, from the seed and the die alone. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

typedef struct rng { uint64_t s; } rng;

static uint64_t rng_next(rng *r) { return mix64(r->s += 0x9e3779b97f4a7c15ull); }
static double rng_unit(rng *r) { return ((double)(rng_next(r) >> 11) + 0.5) * 0x1p-53; }

static double rng_normal(rng *r)
{
    return sqrt(-2.0 * log(rng_unit(r))) * cos(6.283185307179586 * rng_unit(r));
}

/* Gamma(shape a, scale 1): Marsaglia and Tsang, with the a < 1 boost. */
static double rng_gamma(rng *r, double a)
{
    if (a < 1.0)
        return rng_gamma(r, a + 1.0) * pow(rng_unit(r), 1.0 / a);
    double d = a - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
    for (;;) {
        double x = rng_normal(r), t = 1.0 + c * x;
        if (t <= 0)
            continue;
        t = t * t * t;
        double u = rng_unit(r);
        if (log(u) < 0.5 * x * x + d - d * t + d * log(t))
            return d * t;
    }
}

/* Poisson(mean): products of uniforms, in pieces of mean <= 30. */
static uint64_t rng_poisson(rng *r, double mean)
{
    uint64_t n = 0;
    while (mean > 0) {
        double m = mean > 30 ? 30 : mean, lim = exp(-m), p = rng_unit(r);
        mean -= m;
        while (p > lim) {
            n++;
            p *= rng_unit(r);
        }
    }
    return n;
}

/* Each physical die draws its defects from its own stream: a count, then
 * uniform positions.  With clustering alpha, the die's mean is itself
 * Gamma-distributed (mean D0 A, shape alpha), which makes the count
 * negative-binomial; without, Poisson. */
static int generate_map(const wse_defect_spec *d, double area, int pw, const int *px0, int nx,
                        const int *py0, int ny, pelist *pes, wse_error *err)
{
    for (int j = 0; j < ny; j++)
        for (int i = 0; i < nx; i++) {
            int w = px0[i + 1] - px0[i], h = py0[j + 1] - py0[j];
            rng r = { mix64(d->seed ^ mix64((uint64_t)j * (uint64_t)nx + (uint64_t)i + 1)) };
            double mean = d->d0_per_mm2 * area * (double)w * (double)h;
            if (d->alpha > 0)
                mean *= rng_gamma(&r, d->alpha) / d->alpha;
            uint64_t n = rng_poisson(&r, mean);
            if (n > (uint64_t)w * (uint64_t)h * 4)
                n = (uint64_t)w * (uint64_t)h * 4;   /* the die is gone anyway */
            for (uint64_t k = 0; k < n; k++) {
                uint64_t at = rng_next(&r) % ((uint64_t)w * (uint64_t)h);
                uint64_t x = (uint64_t)px0[i] + at % (uint64_t)w, y = (uint64_t)py0[j] + at / (uint64_t)w;
                if (pelist_add(pes, y * (uint64_t)pw + x))
                    return wse_error_set(err, WSE_ENOMEM, NULL, 0, 0, "out of memory for the defect map");
            }
        }
    return 0;
}

/* ------------------------------------------------------------ repair */

/* Starts of the dies along one axis: n + 1 entries, spares after each. */
static int *die_starts(int total, int die, int spares, int *n)
{
    *n = (total + die - 1) / die;
    int *s = malloc(((size_t)*n + 1) * sizeof *s);
    if (!s)
        return NULL;
    for (int i = 0; i <= *n; i++)
        s[i] = i * die + i * spares - (i == *n ? *n * die - total : 0);
    return s;
}

static int die_at(const int *starts, int n, int p)
{
    int i = 0;
    while (i < n - 1 && starts[i + 1] <= p)
        i++;
    return i;
}

/* Lines from the defective PEs.  row_retire: a die's retired positions
 * are the rows holding a defect, once each. */
static int build_lines(wse_wafer *w, const int *pu0)
{
    w->line = malloc((w->nbad ? w->nbad : 1) * sizeof *w->line);
    if (!w->line)
        return -1;
    int pwx = w->swap ? w->pv : w->pu;
    for (size_t i = 0; i < w->nbad; i++) {
        int x = (int)(w->bad[i] % (uint64_t)pwx), y = (int)(w->bad[i] / (uint64_t)pwx);
        int u = w->swap ? y : x, v = w->swap ? x : y;
        int j = die_at(w->pv0, w->dv, v);
        uint64_t key = w->scheme == WSE_REPAIR_ROW_RETIRE
                           ? (uint64_t)j * (uint64_t)w->du + (uint64_t)die_at(pu0, w->du, u)
                           : (uint64_t)j * (uint64_t)w->pu + (uint64_t)u;
        w->line[w->nline++] = key << 32 | (uint32_t)(v - w->pv0[j]);
    }
    qsort(w->line, w->nline, sizeof *w->line, cmp_u64);
    size_t m = 0;
    for (size_t i = 0; i < w->nline; i++)
        if (m == 0 || w->line[i] != w->line[m - 1])
            w->line[m++] = w->line[i];
    w->nline = m;
    return 0;
}

const char *wse_repair_scheme_name(int scheme)
{
    static const char *const names[] = { "none", "column_shift", "row_shift", "row_retire" };
    return scheme >= 0 && scheme <= WSE_REPAIR_ROW_RETIRE ? names[scheme] : "unknown";
}

/* How many logical positions each die along v can give: the fewest
 * usable positions of its lines, at most the nominal extent.  Fails
 * (unless shrink) naming the first die that falls short. */
static int plan_dies(wse_wafer *w, const wse_defect_spec *d, int total_v, wse_error *err)
{
    const char *axis = w->swap ? "column" : "row";
    for (int j = 0; j < w->dv; j++) {
        int nominal = die_v_nominal(w, j, total_v), phys = w->pv0[j + 1] - w->pv0[j];
        int best = nominal;
        uint64_t worst_key = 0;     /* the first line that falls short */
        int worst_bad = -1;
        for (size_t i = 0; i < w->nline;) {
            uint64_t key = w->line[i] >> 32;
            size_t e = i;
            while (e < w->nline && w->line[e] >> 32 == key)
                e++;
            uint64_t jj = w->scheme == WSE_REPAIR_ROW_RETIRE ? key / (uint64_t)w->du : key / (uint64_t)w->pu;
            if ((int)jj == j) {
                int nb = (int)(e - i);
                if (phys - nb < best)
                    best = phys - nb;
                if (phys - nb < nominal && worst_bad < 0) {
                    worst_bad = nb;
                    worst_key = key;
                }
            }
            i = e;
        }
        if (best < nominal && !d->shrink) {
            int iu = w->scheme == WSE_REPAIR_ROW_RETIRE ? (int)(worst_key % (uint64_t)w->du)
                                                        : (int)(worst_key % (uint64_t)w->pu) / w->die_u;
            int dx = w->swap ? j : iu, dy = w->swap ? iu : j;
            if (w->scheme == WSE_REPAIR_ROW_RETIRE)
                return wse_error_set(err, WSE_ECONFIG, d->file, d->line, d->column,
                                     "the wafer cannot be repaired: %llu defective PEs; die (%d,%d) has %d defective %ss for %d spare %s%s (row_retire; defects.on_unrepairable: shrink forms a smaller fabric)",
                                     (unsigned long long)w->nbad, dx, dy, worst_bad, axis, w->spares, axis,
                                     w->spares == 1 ? "" : "s");
            int line_u = (int)(worst_key % (uint64_t)w->pu);
            return wse_error_set(err, WSE_ECONFIG, d->file, d->line, d->column,
                                 "the wafer cannot be repaired: %llu defective PEs; die (%d,%d) %s %d has %d defects for %d spare %s%s (%s; defects.on_unrepairable: shrink forms a smaller fabric)",
                                 (unsigned long long)w->nbad, dx, dy, w->swap ? "row" : "column", line_u,
                                 worst_bad, w->spares, axis, w->spares == 1 ? "" : "s",
                                 wse_repair_scheme_name(w->scheme));
        }
        if (best < 0)
            best = 0;
        w->nv[j] = best;
        w->lv0[j + 1] = w->lv0[j] + best;
    }
    w->lv = w->lv0[w->dv];
    return 0;
}

/* The summary's counts: spares used, dies, stretched links. */
static void summarise(wse_wafer *w, const wse_topology *t, const int *pu0, uint64_t nlinks)
{
    wse_wafer_summary *s = &w->sum;
    s->scheme = w->scheme;
    s->phys_width = w->swap ? w->pv : w->pu;
    s->phys_height = w->swap ? w->pu : w->pv;
    s->dies_x = w->swap ? w->dv : w->du;
    s->dies_y = w->swap ? w->du : w->dv;
    s->defect_links = nlinks;
    s->width = w->swap ? w->lv : w->lu;
    s->height = w->swap ? w->lu : w->lv;
    s->formed = s->width == t->width && s->height == t->height;
    /* dies with a defect, and whether they still give their full extent */
    uint8_t *hit = calloc((size_t)w->du * (size_t)w->dv, 1);
    int pwx = w->swap ? w->pv : w->pu;
    for (size_t i = 0; i < w->nbad && hit; i++) {
        int x = (int)(w->bad[i] % (uint64_t)pwx), y = (int)(w->bad[i] / (uint64_t)pwx);
        int u = w->swap ? y : x, v = w->swap ? x : y;
        hit[(size_t)die_at(w->pv0, w->dv, v) * (size_t)w->du + (size_t)die_at(pu0, w->du, u)] = 1;
    }
    for (int j = 0; j < w->dv && hit; j++)
        for (int i = 0; i < w->du; i++)
            if (hit[(size_t)j * (size_t)w->du + (size_t)i]) {
                s->dies_defective++;
                if (w->nv[j] == die_v_nominal(w, j, w->swap ? t->width : t->height))
                    s->dies_repaired++;
            }
    free(hit);
    /* per line: spares taken past the nominal extent; stretched links
     * counted once, from an end in a line with defects (the other end's
     * line is counted too if it has defects: then only eastward or
     * southward links) */
    for (size_t i = 0; i < w->nline;) {
        uint64_t key = w->line[i] >> 32;
        size_t e = i;
        while (e < w->nline && w->line[e] >> 32 == key)
            e++;
        int j, u0, u1;
        if (w->scheme == WSE_REPAIR_ROW_RETIRE) {
            j = (int)(key / (uint64_t)w->du);
            int iu = (int)(key % (uint64_t)w->du);
            u0 = pu0[iu];
            u1 = pu0[iu + 1];
            int k = (int)(e - i);
            s->retired_pes += (uint64_t)k * (uint64_t)(u1 - u0);
        } else {
            j = (int)(key / (uint64_t)w->pu);
            u0 = (int)(key % (uint64_t)w->pu);
            u1 = u0 + 1;
        }
        int n = w->nv[j], nominal = die_v_nominal(w, j, w->swap ? t->width : t->height);
        if (n > 0) {
            int last = usable(w, key, n - 1);
            if (last > nominal - 1)
                s->spares_used += (uint64_t)(last - (nominal - 1)) * (uint64_t)(u1 - u0);
        }
        for (int u = u0; u < u1; u++)
            for (int v = w->lv0[j]; v < w->lv0[j] + n; v++) {
                static const int dirs[4][2] = { { 1, 0 }, { 0, 1 }, { -1, 0 }, { 0, -1 } };
                for (int q = 0; q < 4; q++) {
                    int un = u + dirs[q][0], vn = v + dirs[q][1];
                    if (un < 0 || vn < 0 || un >= w->lu || vn >= w->lv)
                        continue;
                    if (q >= 2 && line_has(w, line_key(w, die_of_v(w, vn), un)))
                        continue;       /* that end counts it */
                    int x = extra_uv(w, u, v, dirs[q][0], dirs[q][1]);
                    if (x > 0) {
                        s->stretched_links++;
                        if (x > s->max_extra_pitches)
                            s->max_extra_pitches = x;
                    }
                }
            }
        i = e;
    }
    s->defect_pes = w->nbad;
}

void wse_wafer_destroy(wse_wafer *w)
{
    if (!w)
        return;
    free(w->lv0);
    free(w->pv0);
    free(w->nv);
    free(w->bad);
    free(w->line);
    free(w);
}

int wse_wafer_create(const wse_topology *t, const wse_defect_spec *d, wse_wafer **out,
                     wse_error *err)
{
    *out = NULL;
    if (d->kind != WSE_DEFECTS_NONE && t->die_width <= 0)
        return wse_error_set(err, WSE_ECONFIG, d->file, d->line, d->column,
                             "defects: topology '%s' describes no physical fabric (it has no yield section)", t->name);
    wse_wafer *w = calloc(1, sizeof *w);
    if (!w)
        return wse_error_set(err, WSE_ENOMEM, NULL, 0, 0, "out of memory for the wafer");
    int rc = 0;
    int die_w = t->die_width > 0 ? t->die_width : t->width;
    int die_h = t->die_height > 0 ? t->die_height : t->height;
    w->scheme = t->yield_scheme;
    w->swap = w->scheme == WSE_REPAIR_ROW_SHIFT;
    w->spares = w->swap ? t->spare_cols : t->spare_rows;
    int *px0 = NULL, *py0 = NULL, nx, ny;
    px0 = die_starts(t->width, die_w, t->spare_cols, &nx);
    py0 = die_starts(t->height, die_h, t->spare_rows, &ny);
    pelist pes = { 0 };
    uint64_t nlinks = 0;
    int total_v = w->swap ? t->width : t->height;
    if (!px0 || !py0) {
        rc = wse_error_set(err, WSE_ENOMEM, NULL, 0, 0, "out of memory for the wafer");
        goto done;
    }
    int pw = px0[nx], ph = py0[ny];
    w->die_u = w->swap ? die_h : die_w;
    w->die_v = w->swap ? die_w : die_h;
    w->du = w->swap ? ny : nx;
    w->dv = w->swap ? nx : ny;
    w->pu = w->swap ? ph : pw;
    w->pv = w->swap ? pw : ph;
    w->lu = w->swap ? t->height : t->width;
    w->pv0 = malloc(((size_t)w->dv + 1) * sizeof *w->pv0);
    w->lv0 = calloc((size_t)w->dv + 1, sizeof *w->lv0);
    w->nv = calloc((size_t)w->dv, sizeof *w->nv);
    if (!w->pv0 || !w->lv0 || !w->nv) {
        rc = wse_error_set(err, WSE_ENOMEM, NULL, 0, 0, "out of memory for the wafer");
        goto done;
    }
    memcpy(w->pv0, w->swap ? px0 : py0, ((size_t)w->dv + 1) * sizeof *w->pv0);
    if (d->kind == WSE_DEFECTS_FILE)
        rc = read_map(d->path, pw, ph, &pes, &nlinks, err);
    else if (d->kind == WSE_DEFECTS_GENERATE)
        rc = generate_map(d, d->pe_area_mm2 > 0 ? d->pe_area_mm2 : t->pe_area_mm2, pw, px0, nx, py0,
                          ny, &pes, err);
    if (rc)
        goto done;
    w->nbad = pelist_unique(&pes);
    w->bad = pes.v;
    pes.v = NULL;
    /* the u starts, for row_retire's dies (no spares along u) */
    const int *pu0 = w->swap ? py0 : px0;
    if (build_lines(w, pu0)) {
        rc = wse_error_set(err, WSE_ENOMEM, NULL, 0, 0, "out of memory for the wafer");
        goto done;
    }
    if ((rc = plan_dies(w, d, total_v, err)) != 0)
        goto done;
    summarise(w, t, pu0, nlinks);
done:
    free(px0);
    free(py0);
    free(pes.v);
    if (rc) {
        wse_wafer_destroy(w);
        return rc;
    }
    *out = w;
    return 0;
}

void wse_wafer_summary_get(const wse_wafer *w, wse_wafer_summary *s)
{
    *s = w->sum;
}

/* ------------------------------------------------------------ picture */

enum { PX_USED, PX_SPARE_FREE, PX_SPARE_USED, PX_STRETCHED, PX_DEFECT };

int wse_wafer_png(const wse_wafer *w, const char *path, wse_error *err)
{
    static const uint8_t colour[5][3] = {
        { 170, 170, 170 }, { 40, 40, 48 }, { 240, 150, 30 }, { 40, 110, 230 }, { 220, 30, 30 }
    };
    int pw = w->sum.phys_width, ph = w->sum.phys_height;
    /* f PEs a pixel on big wafers, z pixels a PE on small ones */
    int big = pw > ph ? pw : ph, f = (big + 1023) / 1024, z = big >= 512 ? 1 : 512 / big;
    int iw = (pw + f - 1) / f * z, ih = (ph + f - 1) / f * z;
    uint8_t *cat = calloc((size_t)pw * (size_t)ph, 1);
    uint8_t *img = malloc((size_t)iw * (size_t)ih * 3);
    if (!cat || !img) {
        free(cat);
        free(img);
        return wse_error_set(err, WSE_ENOMEM, path, 0, 0, "out of memory for the wafer picture");
    }
    memset(cat, PX_SPARE_FREE, (size_t)pw * (size_t)ph);
    for (int v = 0; v < w->lv; v++) {
        int j = die_of_v(w, v);
        int nominal_end = w->pv0[j] + (j < w->dv - 1 ? w->die_v : w->pv - w->pv0[j] - w->spares);
        for (int u = 0; u < w->lu; u++) {
            int pv, nom;
            map_uv(w, u, v, &pv, &nom);
            int px = w->swap ? pv : u, py = w->swap ? u : pv;
            uint8_t c = pv >= nominal_end ? PX_SPARE_USED : PX_USED;
            for (int q = 0; q < 4 && c == PX_USED; q++) {
                static const int dirs[4][2] = { { 1, 0 }, { 0, 1 }, { -1, 0 }, { 0, -1 } };
                if (w->nline && extra_uv(w, u, v, dirs[q][0], dirs[q][1]) > 0)
                    c = PX_STRETCHED;
            }
            cat[(size_t)py * (size_t)pw + (size_t)px] = c;
        }
    }
    for (size_t i = 0; i < w->nbad; i++)
        cat[w->bad[i]] = PX_DEFECT;
    for (int y = 0; y < ih; y++)
        for (int x = 0; x < iw; x++) {
            uint8_t worst = 0;
            int y0 = y / z * f, x0 = x / z * f;
            for (int yy = y0; yy < y0 + f && yy < ph; yy++)
                for (int xx = x0; xx < x0 + f && xx < pw; xx++) {
                    uint8_t c = cat[(size_t)yy * (size_t)pw + (size_t)xx];
                    if (c > worst)
                        worst = c;
                }
            memcpy(img + ((size_t)y * (size_t)iw + (size_t)x) * 3, colour[worst], 3);
        }
    free(cat);
    int rc = wse_png_save(path, iw, ih, img, err);
    free(img);
    return rc;
}
