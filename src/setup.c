/*
 * src/setup.c - running the program's setup on every PE of a shard, and
 * on the neighbour shards' edge PEs to learn their routes.
 *
 * Each owned PE gets its SRAM block, its state at the start of it, and a
 * setup call; the SRAM budget is checked after it, so the error can give
 * the program's whole need.  Halo PEs run setup in one scratch block and
 * keep only their routes.
 *
 * Drawback: setup runs twice for edge PEs (here and in the neighbour
 * shard), so setup must be a pure function of coordinates and params, and
 * its cost grows with the shard's perimeter.
 */
#include <stdlib.h>
#include <string.h>
#include "fault_int.h"
#include "setup_int.h"
#include "sram_int.h"

static int setup_pe(wse_engine *e, uint32_t idx)
{
    if (wse__sram_place(e, idx) != 0)
        return wse__fault_pe(e, idx, WSE_ENOMEM, "out of memory for SRAM");
    struct wse_pe h = { .e = e, .idx = idx, .now = 0, .charged = 0, .in_setup = 1 };
    pe_coords(e, idx, &h.x, &h.y);
    void *state = wse__sram_alloc(e, idx, e->prog->device.state_size);
    int rc = e->failed ? WSE_EPROGRAM : e->prog->device.setup(&h, state);
    if (rc != 0 && !e->failed)
        wse__fault_pe(e, idx, rc, "setup of program '%s' failed: %s", e->prog->name, wse_strerror(rc));
    uint64_t total = (uint64_t)e->pe[idx].sram_used + e->topo.reserved_bytes;
    if (!e->failed && total > e->topo.sram_bytes) {
        int y, x = pe_xy(e, idx, &y);
        wse_error_set(e->err, WSE_ESRAM, NULL, 0, 0,
                      "PE (%d,%d): program '%s' needs %llu bytes of SRAM (%llu allocated + %u reserved) but a PE has %u",
                      x, y, e->prog->name, (unsigned long long)total,
                      (unsigned long long)e->pe[idx].sram_used, e->topo.reserved_bytes,
                      e->topo.sram_bytes);
        e->failed = 1;
    }
    wse__sram_close(e, idx);
    return e->failed ? e->err->code : 0;
}

/* Run setup on the neighbour shards' PEs along each side, keeping only
 * their routes: that is how this shard learns which of their queues its
 * edge PEs feed. */
static int setup_halo(wse_engine *e)
{
    e->hsram = calloc(1, e->topo.sram_bytes);
    if (!e->hsram)
        return wse__fault_pe(e, 0, WSE_ENOMEM, "out of memory");
    for (int s = 0; s < 4; s++) {
        uint32_t len = side_len(e, s);
        for (uint32_t o = 0; o < len && !e->failed; o++) {
            int x, y;
            pe_coords(e, side_pe(e, s, o), &x, &y);
            x += pe_port_dx(s);
            y += pe_port_dy(s);
            if (where(e, x, y) != NB_REMOTE)
                continue;
            struct wse_pe h = { .e = e, .idx = halo_id(s, o), .x = x, .y = y, .halo = 1,
                                .in_setup = 1 };
            memset(e->hsram, 0, e->topo.sram_bytes);
            void *state = wse__sram_halo_alloc(e, &h.halo_used, e->prog->device.state_size);
            if (state)
                e->prog->device.setup(&h, state);
        }
    }
    free(e->hsram);
    e->hsram = NULL;
    return e->failed ? e->err->code : 0;
}

int wse__setup_shard(wse_engine *e)
{
    for (uint32_t i = 0; i < e->npe; i++) {
        int rc = setup_pe(e, i);
        if (rc)
            return rc;
    }
    return setup_halo(e);
}
