/*
 * src/hostio.c - inputs into PE memory, outputs out of it.
 *
 * Every transfer walks the engine's PEs' blocks (the program's block()
 * description of where each PE keeps its piece) as runs that are
 * contiguous in the global array: scatter/gather against a whole array in
 * host memory (tests, the single-engine path), load (generated values or
 * file reads, per rank) and pack (runs gathered band by band by run.c).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hostio_int.h"
#include "wse/io.h"

void wse_host_array_free(wse_host_array *a)
{
    if (a) {
        free(a->data);
        a->data = NULL;
    }
}

uint64_t wse_host_array_count(const wse_host_array *a)
{
    uint64_t n = 1;
    for (int d = 0; d < a->ndim; d++)
        n *= (uint64_t)a->shape[d];
    return n;
}

int wse_hostio_find(const wse_program *prog, const char *name)
{
    for (int i = 0; i < prog->n_arrays; i++)
        if (strcmp(prog->arrays[i].name, name) == 0)
            return i;
    return -1;
}

int wse_hostio_alloc(const wse_program *prog, const void *params, int width,
                     int height, int array, wse_host_array *out, wse_error *err)
{
    const wse_array_spec *s = &prog->arrays[array];
    memset(out, 0, sizeof *out);
    out->dtype = s->dtype;
    out->shape[0] = out->shape[1] = out->shape[2] = 1;
    out->ndim = s->shape(params, width, height, out->shape);
    uint64_t bytes = wse_host_array_count(out) * wse_dtype_size(s->dtype);
    out->data = calloc(bytes ? bytes : 1, 1);
    if (!out->data)
        return wse_error_set(err, WSE_ENOMEM, NULL, 0, 0,
                             "out of memory for array '%s' (%llu bytes)", s->name,
                             (unsigned long long)bytes);
    return 0;
}

/* splitmix64: a strong 64-bit mix, so neighbouring indices are unrelated. */
static uint64_t mix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double wse_generate(int g, uint64_t seed, double lo, double hi, uint64_t index,
                    uint64_t count)
{
    switch (g) {
    case WSE_GEN_RANDOM: {
        uint64_t r = mix64(mix64(seed) ^ index);
        return lo + (hi - lo) * ((double)(r >> 11) * 0x1.0p-53);
    }
    case WSE_GEN_ONES:
        return 1.0;
    case WSE_GEN_INDEX:
        return (double)index;
    case WSE_GEN_SPIKE:
        return index == count / 2 ? hi : 0.0;
    default:
        return 0.0;
    }
}

/* v in [lo, hi] (NaN as 0), so that the cast to an integer type is
 * defined: a generated value outside the type saturates. */
static double clamp(double v, double lo, double hi)
{
    return v >= lo ? (v <= hi ? v : hi) : (v < lo ? lo : 0.0);
}

static void store(void *data, int dtype, uint64_t i, double v)
{
    switch (dtype) {
    case WSE_F32: ((float *)data)[i] = (float)v; break;
    case WSE_F16: ((uint16_t *)data)[i] = pe_f32_to_f16((float)v); break;
    case WSE_I32: ((int32_t *)data)[i] = (int32_t)clamp(v, INT32_MIN, INT32_MAX); break;
    case WSE_U32: ((uint32_t *)data)[i] = (uint32_t)clamp(v, 0, UINT32_MAX); break;
    case WSE_U8: ((uint8_t *)data)[i] = (uint8_t)clamp(v, 0, UINT8_MAX); break;
    case WSE_I16: ((int16_t *)data)[i] = (int16_t)clamp(v, INT16_MIN, INT16_MAX); break;
    case WSE_U16: ((uint16_t *)data)[i] = (uint16_t)clamp(v, 0, UINT16_MAX); break;
    default: break;
    }
}

int wse_hostio_input(const wse_program *prog, const void *params, int width,
                     int height, const wse_input *in, wse_host_array *out,
                     wse_error *err)
{
    int ai = wse_hostio_find(prog, in->name);
    if (ai < 0 || !prog->arrays[ai].is_input)
        return wse_error_set(err, WSE_ECONFIG, in->file, in->line, in->column,
                             "program '%s' has no input array '%s'", prog->name, in->name);
    int rc = wse_hostio_alloc(prog, params, width, height, ai, out, err);
    if (rc)
        return rc;
    if (in->kind == WSE_INPUT_FILE) {
        rc = wse_npy_read(in->path, out->dtype, out->ndim, out->shape, out->data, err);
        if (rc)
            wse_host_array_free(out);
        return rc;
    }
    uint64_t n = wse_host_array_count(out);
    for (uint64_t i = 0; i < n; i++)
        store(out->data, out->dtype, i, wse_generate(in->generator, in->seed, in->lo, in->hi, i, n));
    return 0;
}

/* ------------------------------------------------------------ per engine */

typedef struct run_ctx {
    size_t es;
    int dtype;
    const wse_input *in;
    uint64_t count;             /* elements in the global array */
    FILE *f;
    long data_off;
    uint8_t *buf;
    uint64_t buf_cap;
    wse_runs *runs;
    uint8_t *host;              /* scatter/gather: the global array */
    int rc;
    wse_error *err;
} run_ctx;

typedef void (*run_fn)(run_ctx *c, uint64_t g, uint8_t *sram, int64_t step, int64_t n);

/* Call fn for each run of the block that is contiguous in the global
 * array (along its last dimension). */
static void for_runs(const wse_array_block *b, int ndim, const int64_t *shape, run_fn fn, run_ctx *c)
{
    int last = ndim - 1;
    int64_t gs[3] = { 1, 1, 1 };
    for (int d = last - 1; d >= 0; d--)
        gs[d] = gs[d + 1] * shape[d + 1];
    int64_t n0 = last > 0 ? b->extent[0] : 1, n1 = last > 1 ? b->extent[1] : 1;
    for (int64_t i = 0; i < n0 && !c->rc; i++)
        for (int64_t j = 0; j < n1 && !c->rc; j++) {
            int64_t idx[3] = { 0, 0, 0 };
            if (last > 0)
                idx[0] = i;
            if (last > 1)
                idx[1] = j;
            int64_t g = 0, sofs = 0;
            for (int d = 0; d < ndim; d++) {
                g += (b->origin[d] + idx[d]) * gs[d];
                sofs += idx[d] * b->stride[d];
            }
            fn(c, (uint64_t)g, (uint8_t *)b->ptr + sofs * (int64_t)c->es,
               b->stride[last] * (int64_t)c->es, b->extent[last]);
        }
}

/* Call fn for every run of every block of array `ai` this engine's PEs
 * hold, after checking each block lies inside the global array.  Fills
 * c->es, c->dtype and c->count from the array's spec.  Returns c->rc. */
static int walk_blocks(wse_engine *e, int ai, run_fn fn, run_ctx *c)
{
    const wse_array_spec *spec = &wse_engine_program(e)->arrays[ai];
    wse_rect reg = wse_engine_region(e), sh = wse_engine_shard(e);
    int64_t shape[3] = { 1, 1, 1 };
    int ndim = spec->shape(wse_engine_params(e), reg.width, reg.height, shape);
    c->es = wse_dtype_size(spec->dtype);
    c->dtype = spec->dtype;
    c->count = (uint64_t)shape[0] * (uint64_t)shape[1] * (uint64_t)shape[2];
    for (int y = sh.y; y < sh.y + sh.height && !c->rc; y++)
        for (int x = sh.x; x < sh.x + sh.width && !c->rc; x++) {
            wse_array_block b;
            wse_engine_block(e, ai, x, y, &b);
            if (b.extent[0] == 0 || b.extent[1] == 0 || b.extent[2] == 0)
                continue;
            int inside = 1;
            for (int d = 0; d < 3; d++)
                inside &= b.extent[d] >= 0 && b.origin[d] >= 0 && b.origin[d] + b.extent[d] <= shape[d];
            if (!inside)
                return c->rc = wse_error_set(c->err, WSE_EPROGRAM, NULL, 0, 0,
                                             "PE (%d,%d): its block of array '%s' lies outside the array",
                                             x, y, spec->name);
            for_runs(&b, ndim, shape, fn, c);
        }
    return c->rc;
}

static void scatter_run(run_ctx *c, uint64_t g, uint8_t *sram, int64_t step, int64_t n)
{
    if (step == (int64_t)c->es) {           /* contiguous in SRAM too */
        memcpy(sram, c->host + g * c->es, (size_t)n * c->es);
        return;
    }
    for (int64_t k = 0; k < n; k++)
        memcpy(sram + k * step, c->host + (g + (uint64_t)k) * c->es, c->es);
}

static void gather_run(run_ctx *c, uint64_t g, uint8_t *sram, int64_t step, int64_t n)
{
    if (step == (int64_t)c->es) {
        memcpy(c->host + g * c->es, sram, (size_t)n * c->es);
        return;
    }
    for (int64_t k = 0; k < n; k++)
        memcpy(c->host + (g + (uint64_t)k) * c->es, sram + k * step, c->es);
}

int wse_hostio_scatter(wse_engine *e, int array, const wse_host_array *a, wse_error *err)
{
    run_ctx c = { .host = a->data, .err = err };
    return walk_blocks(e, array, scatter_run, &c);
}

int wse_hostio_gather(wse_engine *e, int array, wse_host_array *a, wse_error *err)
{
    run_ctx c = { .host = a->data, .err = err };
    return walk_blocks(e, array, gather_run, &c);
}

static void gen_run(run_ctx *c, uint64_t g, uint8_t *sram, int64_t step, int64_t n)
{
    for (int64_t k = 0; k < n; k++) {
        double v = wse_generate(c->in->generator, c->in->seed, c->in->lo, c->in->hi,
                                g + (uint64_t)k, c->count);
        uint8_t tmp[8];
        store(tmp, c->dtype, 0, v);
        memcpy(sram + k * step, tmp, c->es);
    }
}

static void file_run(run_ctx *c, uint64_t g, uint8_t *sram, int64_t step, int64_t n)
{
    uint64_t bytes = (uint64_t)n * c->es;
    if (bytes > c->buf_cap) {
        uint8_t *b = realloc(c->buf, bytes);
        if (!b) {
            c->rc = wse_error_set(c->err, WSE_ENOMEM, NULL, 0, 0, "out of memory reading %s", c->in->path);
            return;
        }
        c->buf = b;
        c->buf_cap = bytes;
    }
    if (fseek(c->f, c->data_off + (long)(g * c->es), SEEK_SET) != 0 ||
        fread(c->buf, 1, bytes, c->f) != bytes) {
        c->rc = wse_error_set(c->err, WSE_EIO, c->in->path, 0, 0, "cannot read the array data");
        return;
    }
    for (int64_t k = 0; k < n; k++)
        memcpy(sram + k * step, c->buf + (uint64_t)k * c->es, c->es);
}

int wse_hostio_load(wse_engine *e, const wse_input *in, wse_error *err)
{
    const wse_program *prog = wse_engine_program(e);
    wse_rect reg = wse_engine_region(e);
    int ai = wse_hostio_find(prog, in->name);
    if (ai < 0 || !prog->arrays[ai].is_input)
        return wse_error_set(err, WSE_ECONFIG, in->file, in->line, in->column,
                             "program '%s' has no input array '%s'", prog->name, in->name);
    run_ctx c = { .in = in, .err = err };
    if (in->kind == WSE_INPUT_FILE) {
        const wse_array_spec *spec = &prog->arrays[ai];
        int64_t shape[3] = { 1, 1, 1 };
        int ndim = spec->shape(wse_engine_params(e), reg.width, reg.height, shape);
        if ((c.rc = wse_npy_open_read(in->path, spec->dtype, ndim, shape, &c.f, err)) != 0)
            return c.rc;
        c.data_off = ftell(c.f);
    }
    walk_blocks(e, ai, c.f ? file_run : gen_run, &c);
    if (c.f)
        fclose(c.f);
    free(c.buf);
    return c.rc;
}

static int runs_reserve(wse_runs *r, uint64_t bytes)
{
    if (r->n == r->cap) {
        uint64_t cap = r->cap ? r->cap * 2 : 1024;
        uint64_t *o = realloc(r->off, cap * sizeof *o);
        if (o)
            r->off = o;
        uint64_t *l = o ? realloc(r->len, cap * sizeof *l) : NULL;
        if (!o || !l)
            return WSE_ENOMEM;
        r->len = l;
        r->cap = cap;
    }
    if (r->bytes + bytes > r->bcap) {
        uint64_t cap = r->bcap ? r->bcap * 2 : 65536;
        while (cap < r->bytes + bytes)
            cap *= 2;
        uint8_t *d = realloc(r->data, cap);
        if (!d)
            return WSE_ENOMEM;
        r->data = d;
        r->bcap = cap;
    }
    return 0;
}

static void pack_run(run_ctx *c, uint64_t g, uint8_t *sram, int64_t step, int64_t n)
{
    wse_runs *r = c->runs;
    if (runs_reserve(r, (uint64_t)n * c->es) != 0) {
        c->rc = wse_error_set(c->err, WSE_ENOMEM, NULL, 0, 0, "out of memory gathering outputs");
        return;
    }
    r->off[r->n] = g;
    r->len[r->n] = (uint64_t)n;
    r->n++;
    for (int64_t k = 0; k < n; k++)
        memcpy(r->data + r->bytes + (uint64_t)k * c->es, sram + k * step, c->es);
    r->bytes += (uint64_t)n * c->es;
}

int wse__hostio_pack(wse_engine *e, int array, wse_runs *r, wse_error *err)
{
    run_ctx c = { .runs = r, .err = err };
    return walk_blocks(e, array, pack_run, &c);
}

void wse__hostio_runs_clear(wse_runs *r)
{
    r->n = 0;
    r->bytes = 0;
}

void wse__hostio_runs_free(wse_runs *r)
{
    free(r->off);
    free(r->len);
    free(r->data);
    memset(r, 0, sizeof *r);
}
