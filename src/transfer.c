/*
 * src/transfer.c - host arrays to and from a distributed run (see
 * transfer_int.h).
 *
 * Outputs travel as runs (hostio_int.h): each rank packs the runs of its
 * shards in one row of shards, rank 0 gathers them (MPI_Gatherv) and
 * places them into a band covering that row, and emits the band.  Arrays
 * whose blocks do not follow rows of PEs cannot be streamed that way and
 * are refused with a clear error.
 */
#include <stdlib.h>
#include <string.h>
#include "hostio_int.h"
#include "transfer_int.h"
#include "wse/io.h"

int wse__transfer_load(wse_sim *s, const wse_input *in, wse_error *err)
{
    for (int k = 0; k < wse_sim_nlocal(s); k++) {
        int rc = wse_hostio_load(wse_sim_local(s, k), in, err);
        if (rc)
            return rc;
    }
    return 0;
}

typedef struct stream {
    int rank, size;
    MPI_Comm comm;
    wse_emit_fn emit;
    void *arg;
    size_t es;                  /* bytes per element */
    uint64_t written;           /* elements emitted so far */
} stream;

/* Rank 0: emit elements [st->written, upto) from buf (which starts at
 * element st->written). */
static int emit_to(stream *st, const uint8_t *buf, uint64_t upto, wse_error *err)
{
    uint64_t bytes = (upto - st->written) * st->es;
    st->written = upto;
    return bytes ? st->emit(st->arg, buf, bytes, err) : 0;
}

/* Rank 0: place the gathered runs into one band and emit it. */
static int emit_band(stream *st, const wse_runs *all, wse_error *err)
{
    uint64_t lo = UINT64_MAX, hi = 0;
    for (uint64_t i = 0; i < all->n; i++) {
        lo = all->off[i] < lo ? all->off[i] : lo;
        hi = all->off[i] + all->len[i] > hi ? all->off[i] + all->len[i] : hi;
    }
    if (lo < st->written)
        return wse_error_set(err, WSE_EPROGRAM, NULL, 0, 0,
                             "an output array is not laid out by rows of PEs; it cannot be streamed");
    uint8_t *band = calloc(hi - st->written, st->es);
    if (!band)
        return wse_error_set(err, WSE_ENOMEM, NULL, 0, 0, "out of memory for an output band");
    for (uint64_t i = 0, d = 0; i < all->n; d += all->len[i] * st->es, i++)
        memcpy(band + (all->off[i] - st->written) * st->es, all->data + d, all->len[i] * st->es);
    int rc = emit_to(st, band, hi, err);
    free(band);
    return rc;
}

/* Gather one row of shards' runs on rank 0 and emit them. */
static int gather_band(stream *st, const wse_runs *r, wse_error *err)
{
    unsigned long long mine[2] = { r->n, r->bytes }, *cnt = NULL;
    int *rn = NULL, *rb = NULL, *dn = NULL, *db = NULL;
    wse_runs all = { 0 };
    int rc = 0, root = st->rank == 0;
    if (root) {
        cnt = calloc((size_t)st->size * 2, sizeof *cnt);
        rn = calloc((size_t)st->size, sizeof *rn);
        rb = calloc((size_t)st->size, sizeof *rb);
        dn = calloc((size_t)st->size, sizeof *dn);
        db = calloc((size_t)st->size, sizeof *db);
        if (!cnt || !rn || !rb || !dn || !db)
            rc = WSE_ENOMEM;
    }
    MPI_Gather(mine, 2, MPI_UNSIGNED_LONG_LONG, cnt, 2, MPI_UNSIGNED_LONG_LONG, 0, st->comm);
    if (root && !rc) {
        for (int i = 0; i < st->size; i++) {
            rn[i] = (int)cnt[2 * i];
            dn[i] = (int)cnt[2 * i + 1];
            rb[i] = i ? rb[i - 1] + rn[i - 1] : 0;
            db[i] = i ? db[i - 1] + dn[i - 1] : 0;
        }
        all.n = (uint64_t)rb[st->size - 1] + (uint64_t)rn[st->size - 1];
        all.bytes = (uint64_t)db[st->size - 1] + (uint64_t)dn[st->size - 1];
        all.off = malloc((all.n ? all.n : 1) * sizeof *all.off);
        all.len = malloc((all.n ? all.n : 1) * sizeof *all.len);
        all.data = malloc(all.bytes ? all.bytes : 1);
        if (!all.off || !all.len || !all.data)
            rc = WSE_ENOMEM;
    }
    MPI_Gatherv(r->off, (int)r->n, MPI_UNSIGNED_LONG_LONG, all.off, rn, rb, MPI_UNSIGNED_LONG_LONG, 0, st->comm);
    MPI_Gatherv(r->len, (int)r->n, MPI_UNSIGNED_LONG_LONG, all.len, rn, rb, MPI_UNSIGNED_LONG_LONG, 0, st->comm);
    MPI_Gatherv(r->data, (int)r->bytes, MPI_BYTE, all.data, dn, db, MPI_BYTE, 0, st->comm);
    if (rc)
        wse_error_set(err, rc, NULL, 0, 0, "out of memory for an output band");
    else if (root && all.n)
        rc = emit_band(st, &all, err);
    wse__hostio_runs_free(&all);
    free(cnt);
    free(rn);
    free(rb);
    free(dn);
    free(db);
    return rc;
}

int wse__transfer_stream(wse_sim *s, const wse_grid *g, int array, wse_emit_fn emit,
                         void *arg, wse_error *err)
{
    wse_engine *e0 = wse_sim_local(s, 0);
    const wse_array_spec *spec = &wse_engine_program(e0)->arrays[array];
    wse_rect region = wse_engine_region(e0);
    int64_t shape[3] = { 1, 1, 1 };
    int ndim = spec->shape(wse_engine_params(e0), region.width, region.height, shape);
    uint64_t total = 1;
    for (int d = 0; d < ndim; d++)
        total *= (uint64_t)shape[d];
    stream st = { 0, 1, wse_sim_comm(s), emit, arg, wse_dtype_size(spec->dtype), 0 };
    MPI_Comm_rank(st.comm, &st.rank);
    MPI_Comm_size(st.comm, &st.size);
    int gx, gy;
    wse_grid_shards(g, &gx, &gy);
    wse_runs r = { 0 };
    int rc = 0;
    for (int j = 0; j < gy; j++) {
        wse__hostio_runs_clear(&r);
        for (int k = 0; k < wse_sim_nlocal(s) && !rc; k++)
            if (wse_sim_local_id(s, k) / gx == j)
                rc = wse__hostio_pack(wse_sim_local(s, k), array, &r, err);
        int brc = gather_band(&st, &r, err);
        rc = rc ? rc : brc;
    }
    wse__hostio_runs_free(&r);
    if (st.rank == 0 && !rc && st.written < total) {
        uint8_t *zeros = calloc(total - st.written, st.es);
        rc = zeros ? emit_to(&st, zeros, total, err)
                   : wse_error_set(err, WSE_ENOMEM, NULL, 0, 0, "out of memory for an output band");
        free(zeros);
    }
    return rc;
}
