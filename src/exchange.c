/*
 * src/exchange.c - edge events between shards on different ranks.
 *
 * One message per neighbouring shard pair and direction per window, empty
 * ones included so the receiver never guesses; receive buffers are sized
 * once for the most events a window can produce, so a message never needs
 * a probe.  Tags name the receiving shard and side.
 *
 * Drawback: a message per neighbour per window even when nothing crosses.
 */
#include <limits.h>
#include <stdlib.h>
#include "sim_int.h"

static int remote_side(const wse_sim *s, int k, int d)
{
    int nb = sim_neighbour(s, s->sid[k], d);
    return nb >= 0 && sim_local_of(s, nb) < 0 ? nb : -1;
}

int wse__exchange_alloc(wse_sim *s, wse_error *err)
{
    int n = s->nlocal;
    s->rcap = calloc((size_t)n * 4, sizeof *s->rcap);
    s->rb = calloc((size_t)n * 4, sizeof *s->rb);
    s->rn = calloc((size_t)n * 4, sizeof *s->rn);
    s->req = calloc((size_t)n * 8 + 1, sizeof *s->req);
    s->st = calloc((size_t)n * 8 + 1, sizeof *s->st);
    if (!s->rcap || !s->rb || !s->rn || !s->req || !s->st)
        return wse_error_set(err, WSE_ENOMEM, NULL, 0, 0, "out of memory for halo buffers");
    for (int k = 0; k < n; k++)
        for (int d = 0; d < 4; d++) {
            if (remote_side(s, k, d) < 0)
                continue;
            uint32_t cap = wse__halo_outbox_max(s->eng[k], d, s->window);
            /* a message's byte count is an int for MPI */
            if ((uint64_t)cap * sizeof(wse_event) > INT_MAX)
                return wse_error_set(err, WSE_ECONFIG, NULL, 0, 0,
                                     "a window of %llu cycles needs halo messages of up to %llu bytes, over MPI's limit of %d: use a smaller window_cycles",
                                     (unsigned long long)s->window,
                                     (unsigned long long)cap * sizeof(wse_event), INT_MAX);
            s->rcap[k * 4 + d] = cap;
            s->rb[k * 4 + d] = malloc((cap ? cap : 1) * sizeof(wse_event));
            if (!s->rb[k * 4 + d])
                return wse_error_set(err, WSE_ENOMEM, NULL, 0, 0,
                                     "out of memory for halo buffers (%llu bytes)",
                                     (unsigned long long)cap * sizeof(wse_event));
        }
    return 0;
}

int wse__exchange_run(wse_sim *s, wse_error *err)
{
    int nr = 0;
    MPI_Request *req = s->req;
    for (int k = 0; k < s->nlocal; k++)
        for (int d = 0; d < 4; d++) {
            int nb = remote_side(s, k, d);
            if (nb < 0)
                continue;
            int owner = wse_grid_owner(s->g, nb % s->gx, nb / s->gx);
            MPI_Irecv(s->rb[k * 4 + d], (int)(s->rcap[k * 4 + d] * sizeof(wse_event)), MPI_BYTE,
                      owner, s->sid[k] * 4 + d, s->comm, &req[nr++]);
            uint32_t cnt;
            const wse_event *ev = wse__halo_outbox(s->eng[k], d, &cnt);
            MPI_Isend(ev, (int)(cnt * sizeof(wse_event)), MPI_BYTE, owner,
                      nb * 4 + pe_port_opposite(d), s->comm, &req[nr++]);
            s->halo_bytes += cnt * sizeof(wse_event);
            s->halo_msgs++;
        }
    MPI_Status *st = s->st;
    int rc = MPI_Waitall(nr, req, st);
    for (int k = 0, r = 0; rc == MPI_SUCCESS && k < s->nlocal; k++)
        for (int d = 0; d < 4; d++) {
            if (remote_side(s, k, d) < 0)
                continue;
            int bytes = 0;
            MPI_Get_count(&st[r], MPI_BYTE, &bytes);
            s->rn[k * 4 + d] = (uint32_t)bytes / sizeof(wse_event);
            r += 2;
        }
    if (rc != MPI_SUCCESS)
        return wse_error_set(err, WSE_EMPI, NULL, 0, 0, "halo exchange failed (MPI error %d)", rc);
    return 0;
}

void wse__exchange_free(wse_sim *s)
{
    for (int i = 0; s->rb && i < s->nlocal * 4; i++)
        free(s->rb[i]);
    free(s->rb);
    free(s->rcap);
    free(s->rn);
    free(s->req);
    free(s->st);
}
