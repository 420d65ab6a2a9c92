/*
 * benchmarks/bench_yield.c - the yield study: for each defect density D0,
 * clustering alpha and repair scheme, Monte-Carlo samples of wafers (no
 * program runs: only the defect map and its repair) give the fraction
 * that form the full logical fabric and the spares they use, set against
 * the analytic yield of the same scheme and the classic no-spare models
 * (Poisson, Murphy, negative binomial) for the same area; then a workload
 * runs on a few sampled wafers and the slowdown against a perfect wafer
 * is reported.
 *
 *   bench_yield [--topology T.yaml] [--samples N] [--csv F] [--png F]
 *               [--job JOB.yaml --wafers K --d0 D]
 *
 * JOB is a job without a defects section (its run is the perfect wafer);
 * the sampled wafers add --set defects.d0_per_mm2=D defects.seed=1..K.
 *
 * CSV columns: scheme, spares, d0_per_mm2, alpha (0: Poisson), samples,
 * full_fraction, analytic, poisson_nospare, murphy_nospare, nb_nospare,
 * mean_spares_used, mean_stretched_links.  The PNG plots full_fraction
 * (dots) and analytic (lines) against D0 on a log axis, Poisson defects:
 * column_shift blue, row_retire orange, row_shift green; tick labels are
 * D0 (defects per mm^2) and the fraction 0, 0.5, 1.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "wse/io.h"
#include "wse/yield.h"

#define NSCHEMES 3
static const int schemes[NSCHEMES] = { WSE_REPAIR_COLUMN_SHIFT, WSE_REPAIR_ROW_RETIRE, WSE_REPAIR_ROW_SHIFT };
static const double d0s[] = { 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02 };
#define ND0 (int)(sizeof d0s / sizeof d0s[0])
static const double alphas[] = { 0, 2, 0.5 };
#define NALPHA 3

/* P(Binomial(n, q) <= s) */
static double binom_le(int n, double q, int s)
{
    double sum = 0, term = pow(1 - q, n);
    for (int k = 0; k <= s && k <= n; k++) {
        sum += term;
        term *= (double)(n - k) / (k + 1) * q / (1 - q);
    }
    return sum > 1 ? 1 : sum;
}

/* One die's chance to give its full extent, with PEs defective with
 * probability q each: shift schemes per line (w lines of h PEs), retire
 * per row (h rows of w PEs). */
static double die_ok(int scheme, int w, int h, int s, double q)
{
    if (scheme == WSE_REPAIR_ROW_RETIRE)
        return binom_le(h, 1 - pow(1 - q, w), s);
    return pow(binom_le(h, q, s), w);
}

/* The analytic fraction of full wafers: dies independent; with
 * clustering, each die's density is Gamma(alpha)-distributed about D0
 * (the generator's model), integrated numerically. */
static double analytic(const wse_topology *t, int scheme, int s, double d0, double alpha)
{
    int rows = scheme != WSE_REPAIR_ROW_SHIFT;
    double logy = 0;
    int nx = (t->width + t->die_width - 1) / t->die_width, ny = (t->height + t->die_height - 1) / t->die_height;
    for (int j = 0; j < ny; j++)
        for (int i = 0; i < nx; i++) {
            int w = i < nx - 1 ? t->die_width : t->width - i * t->die_width;
            int h = j < ny - 1 ? t->die_height : t->height - j * t->die_height;
            /* (u, v): lines run along the spares' axis */
            int lu = rows ? w : h, lv = (rows ? h : w) + s;
            double p;
            if (alpha <= 0) {
                p = die_ok(scheme == WSE_REPAIR_ROW_SHIFT ? WSE_REPAIR_COLUMN_SHIFT : scheme, lu, lv, s,
                           1 - exp(-d0 * t->pe_area_mm2));
            } else {
                /* E over m ~ Gamma(alpha, 1/alpha) by the midpoint rule */
                int n = 4000;
                double top = 1 + 30 / sqrt(alpha), dm = top / n, acc = 0, norm = 0;
                for (int k = 0; k < n; k++) {
                    double m = (k + 0.5) * dm;
                    double g = exp((alpha - 1) * log(m) - alpha * m) * dm;
                    acc += g * die_ok(scheme == WSE_REPAIR_ROW_SHIFT ? WSE_REPAIR_COLUMN_SHIFT : scheme, lu,
                                      lv, s, 1 - exp(-m * d0 * t->pe_area_mm2));
                    norm += g;
                }
                p = acc / norm;
            }
            logy += log(p > 0 ? p : 1e-300);
        }
    return exp(logy);
}

/* ------------------------------------------------------------ the plot */

static const char *const glyphs[11][5] = {
    { "###", "#.#", "#.#", "#.#", "###" }, { ".#.", "##.", ".#.", ".#.", "###" },
    { "###", "..#", "###", "#..", "###" }, { "###", "..#", "###", "..#", "###" },
    { "#.#", "#.#", "###", "..#", "..#" }, { "###", "#..", "###", "..#", "###" },
    { "###", "#..", "###", "#.#", "###" }, { "###", "..#", "..#", "..#", "..#" },
    { "###", "#.#", "###", "#.#", "###" }, { "###", "#.#", "###", "..#", "###" },
    { "...", "...", "...", "...", ".#." },
};

typedef struct canvas { int w, h; uint8_t *p; } canvas;

static void dot(canvas *c, int x, int y, const uint8_t *rgb)
{
    if (x >= 0 && y >= 0 && x < c->w && y < c->h)
        memcpy(c->p + ((size_t)y * (size_t)c->w + (size_t)x) * 3, rgb, 3);
}

static void text(canvas *c, int x, int y, const char *s, const uint8_t *rgb)
{
    for (; *s; s++, x += 8) {
        int g = *s == '.' ? 10 : *s - '0';
        if (g < 0 || g > 10)
            continue;
        for (int r = 0; r < 5; r++)
            for (int k = 0; k < 3; k++)
                if (glyphs[g][r][k] == '#')
                    for (int a = 0; a < 2; a++)
                        for (int b = 0; b < 2; b++)
                            dot(c, x + 2 * k + a, y + 2 * r + b, rgb);
    }
}

static void line(canvas *c, int x0, int y0, int x1, int y1, const uint8_t *rgb)
{
    int n = abs(x1 - x0) > abs(y1 - y0) ? abs(x1 - x0) : abs(y1 - y0);
    for (int i = 0; i <= n; i++)
        for (int t = -1; t <= 1; t++)
            dot(c, x0 + (n ? (x1 - x0) * i / n : 0), y0 + (n ? (y1 - y0) * i / n : 0) + t, rgb);
}

static int plot(const char *path, double frac[NSCHEMES][ND0], double ana[NSCHEMES][ND0])
{
    static const uint8_t colour[NSCHEMES][3] = { { 40, 110, 230 }, { 240, 150, 30 }, { 40, 170, 70 } };
    static const uint8_t ink[3] = { 0, 0, 0 }, grid[3] = { 210, 210, 210 };
    canvas c = { 640, 400, NULL };
    c.p = malloc((size_t)c.w * (size_t)c.h * 3);
    if (!c.p)
        return -1;
    memset(c.p, 255, (size_t)c.w * (size_t)c.h * 3);
    int x0 = 60, x1 = 610, y0 = 20, y1 = 350;
    double l0 = log(d0s[0]), l1 = log(d0s[ND0 - 1]);
#define PX(d) (x0 + (int)lround((log(d) - l0) / (l1 - l0) * (x1 - x0)))
#define PY(f) (y1 - (int)lround((f) * (y1 - y0)))
    for (int k = 0; k < ND0; k++) {
        line(&c, PX(d0s[k]), y0, PX(d0s[k]), y1, grid);
        char b[32];
        snprintf(b, sizeof b, "%g", d0s[k]);
        text(&c, PX(d0s[k]) - 4 * (int)strlen(b), y1 + 12, b, ink);
    }
    static const char *const ylab[3] = { "0", "0.5", "1" };
    for (int k = 0; k < 3; k++) {
        line(&c, x0, PY(k / 2.0), x1, PY(k / 2.0), grid);
        text(&c, x0 - 8 - 8 * (int)strlen(ylab[k]), PY(k / 2.0) - 5, ylab[k], ink);
    }
    line(&c, x0, y1, x1, y1, ink);
    line(&c, x0, y0, x0, y1, ink);
    for (int s = 0; s < NSCHEMES; s++)
        for (int k = 0; k < ND0; k++) {
            if (k > 0)
                line(&c, PX(d0s[k - 1]), PY(ana[s][k - 1]), PX(d0s[k]), PY(ana[s][k]), colour[s]);
            for (int a = -4; a <= 4; a++)
                for (int b = -4; b <= 4; b++)
                    dot(&c, PX(d0s[k]) + a, PY(frac[s][k]) + b, colour[s]);
        }
    wse_error err;
    int rc = wse_png_save(path, c.w, c.h, c.p, &err);
    free(c.p);
    return rc;
}

/* ------------------------------------------------------------ slowdown */

static long long run_cycles(const char *wsemu, const char *job, const char *extra)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s run %s --json --quiet %s", wsemu, job, extra);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, p);
    buf[n] = '\0';
    int rc = pclose(p);
    const char *c = strstr(buf, "\"cycles\":");
    return rc == 0 && c ? atoll(c + 9) : -1;
}

int main(int argc, char **argv)
{
    const char *topo = "topologies/wse3.yaml", *csv = "yield.csv", *png = "yield.png", *job = NULL;
    int samples = 200, wafers = 3;
    double run_d0 = 0.001;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help")) {
            printf("usage: bench_yield [--topology T.yaml] [--samples N] [--csv F] [--png F]\n"
                   "                   [--job JOB.yaml [--wafers K] [--d0 D]]\n");
            return 0;
        }
        if (!v) {
            fprintf(stderr, "bench_yield: %s needs a value\n", a);
            return 2;
        }
        if (!strcmp(a, "--topology")) topo = v;
        else if (!strcmp(a, "--samples")) samples = atoi(v);
        else if (!strcmp(a, "--csv")) csv = v;
        else if (!strcmp(a, "--png")) png = v;
        else if (!strcmp(a, "--job")) job = v;
        else if (!strcmp(a, "--wafers")) wafers = atoi(v);
        else if (!strcmp(a, "--d0")) run_d0 = atof(v);
        else {
            fprintf(stderr, "bench_yield: unknown option '%s'\n", a);
            return 2;
        }
        i++;
    }
    if (samples < 1 || wafers < 1 || run_d0 <= 0) {
        fprintf(stderr, "bench_yield: --samples and --wafers must be positive, --d0 above 0\n");
        return 2;
    }
    wse_topology t;
    wse_error err;
    if (wse_topology_load(topo, &t, &err)) {
        char b[1024];
        wse_error_format(&err, b, sizeof b);
        fprintf(stderr, "%s\n", b);
        return 2;
    }
    if (t.die_width <= 0) {
        fprintf(stderr, "bench_yield: topology %s has no yield section\n", topo);
        return 2;
    }
    FILE *f = fopen(csv, "w");
    if (!f) {
        perror(csv);
        return 1;
    }
    fprintf(f, "scheme,spares,d0_per_mm2,alpha,samples,full_fraction,analytic,poisson_nospare,murphy_nospare,nb_nospare,mean_spares_used,mean_stretched_links\n");
    int spares = t.spare_rows > 0 ? t.spare_rows : t.spare_cols;
    double area = (double)t.width * t.height * t.pe_area_mm2;
    printf("yield of %s (%dx%d logical PEs, %.0f mm^2, dies of %dx%d, %d spares per die), %d wafers a point\n",
           t.name, t.width, t.height, area, t.die_width, t.die_height, spares, samples);
    printf("%-13s %-9s %-7s %8s %8s %8s %10s %10s\n", "scheme", "D0/mm^2", "alpha", "full", "analytic",
           "no-spare", "spares", "stretched");
    double frac[NSCHEMES][ND0], ana[NSCHEMES][ND0];
    for (int si = 0; si < NSCHEMES; si++)
        for (int ai = 0; ai < NALPHA; ai++)
            for (int di = 0; di < ND0; di++) {
                wse_topology u = t;
                u.yield_scheme = schemes[si];
                u.spare_rows = schemes[si] == WSE_REPAIR_ROW_SHIFT ? 0 : spares;
                u.spare_cols = schemes[si] == WSE_REPAIR_ROW_SHIFT ? spares : 0;
                wse_defect_spec d;
                memset(&d, 0, sizeof d);
                d.kind = WSE_DEFECTS_GENERATE;
                d.d0_per_mm2 = d0s[di];
                d.alpha = alphas[ai];
                d.shrink = 1;
                int full = 0;
                double used = 0, stretched = 0;
                for (int k = 0; k < samples; k++) {
                    d.seed = (uint64_t)k + 1;
                    wse_wafer *w = NULL;
                    if (wse_wafer_create(&u, &d, &w, &err)) {
                        char b[1024];
                        wse_error_format(&err, b, sizeof b);
                        fprintf(stderr, "bench_yield: %s\n", b);
                        return 1;
                    }
                    wse_wafer_summary s;
                    wse_wafer_summary_get(w, &s);
                    full += s.formed;
                    used += (double)s.spares_used;
                    stretched += (double)s.stretched_links;
                    wse_wafer_destroy(w);
                }
                double fr = (double)full / samples, an = analytic(&u, schemes[si], spares, d0s[di], alphas[ai]);
                double ad = area * d0s[di];
                double pois = exp(-ad), murphy = pow((1 - exp(-ad)) / ad, 2);
                double nb = alphas[ai] > 0 ? pow(1 + ad / alphas[ai], -alphas[ai]) : pois;
                fprintf(f, "%s,%d,%g,%g,%d,%.4f,%.4f,%.4g,%.4g,%.4g,%.2f,%.1f\n", wse_repair_scheme_name(schemes[si]), spares,
                        d0s[di], alphas[ai], samples, fr, an, pois, murphy, nb, used / samples, stretched / samples);
                char al[16];
                if (alphas[ai] > 0)
                    snprintf(al, sizeof al, "%g", alphas[ai]);
                else
                    snprintf(al, sizeof al, "Poisson");
                printf("%-13s %-9g %-7s %8.3f %8.3f %8.2g %10.1f %10.1f\n", wse_repair_scheme_name(schemes[si]), d0s[di], al,
                       fr, an, nb, used / samples, stretched / samples);
                if (ai == 0) {
                    frac[si][di] = fr;
                    ana[si][di] = an;
                }
            }
    fclose(f);
    if (plot(png, frac, ana)) {
        fprintf(stderr, "bench_yield: cannot write %s\n", png);
        return 1;
    }
    printf("wrote %s and %s\n", csv, png);
    if (!job)
        return 0;
    /* the workload on a few sampled wafers, next to a perfect one */
    char wsemu[1100], self[1024];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return 1;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    *slash = '\0';
    snprintf(wsemu, sizeof wsemu, "%s/../wsemu", self);
    long long base = run_cycles(wsemu, job, "");
    if (base <= 0) {
        fprintf(stderr, "bench_yield: %s did not run\n", job);
        return 1;
    }
    printf("%s on a perfect wafer: %lld cycles\n", job, base);
    printf("%-6s %10s %9s\n", "seed", "cycles", "slowdown");
    for (int k = 1; k <= wafers; k++) {
        char extra[256];
        snprintf(extra, sizeof extra, "--set defects.d0_per_mm2=%g --set defects.seed=%d", run_d0, k);
        long long c = run_cycles(wsemu, job, extra);
        if (c <= 0)
            printf("%-6d %10s\n", k, "failed (not repairable?)");
        else
            printf("%-6d %10lld %9.4f\n", k, c, (double)c / (double)base);
    }
    return 0;
}
