/*
 * wse/yield.h - defective wafers: the physical fabric behind the logical
 * one, defect maps, the repair that maps every logical PE to a working
 * physical one, and what the repair costs (docs/MODEL.md, "Defects and
 * spare PEs").
 *
 * The physical fabric is a grid of dies; each die has the topology's
 * logical die size plus its spare rows (or columns).  A repair scheme maps
 * the logical PEs of a die onto its working physical PEs in order, so a
 * program sees only the logical fabric.  A logical link whose two PEs the
 * repair moves apart (across a defect, or one shifted and its neighbour
 * not) is wired over a longer path: the engine charges its extra PE
 * pitches as extra hop latency (bypass_cycles_per_pe each).
 *
 * A wafer depends only on the topology and the defect map (a file, or a
 * generator and its seed), never on how the run is decomposed.
 */
#ifndef WSE_YIELD_H
#define WSE_YIELD_H

#include <stdint.h>
#include "wse/config.h"

typedef struct wse_wafer wse_wafer;

/* What a repair did. */
typedef struct wse_wafer_summary {
    int scheme;                 /* enum wse_repair_scheme */
    int phys_width, phys_height;    /* the physical fabric, PEs */
    int dies_x, dies_y;
    uint64_t defect_pes;        /* defective PEs (distinct) */
    uint64_t defect_links;      /* defective links (each retires a PE) */
    uint64_t retired_pes;       /* working PEs left unused by the scheme
                                 * (row_retire: the rest of a retired row) */
    uint64_t spares_used;       /* spare positions taken by logical PEs */
    uint64_t dies_defective, dies_repaired;
    int formed;                 /* 1: the full logical fabric was formed */
    int width, height;          /* the logical fabric formed (shrink: smaller) */
    uint64_t stretched_links;   /* logical links longer than nominal */
    int max_extra_pitches;      /* the longest stretch */
} wse_wafer_summary;

/*
 * Build the wafer for topology t and defect map d (kind NONE: a perfect
 * wafer).  Too many defects for the spares is WSE_ECONFIG with the count
 * and the first die that cannot be repaired, or with d->shrink, a smaller
 * logical fabric (fewer logical rows, or columns, in the dies that lack
 * spares).  A bad defect file is WSE_ECONFIG naming file:line:column.
 */
int wse_wafer_create(const wse_topology *t, const wse_defect_spec *d, wse_wafer **out,
                     wse_error *err);
void wse_wafer_destroy(wse_wafer *w);

void wse_wafer_summary_get(const wse_wafer *w, wse_wafer_summary *s);

/* The name a topology gives a repair scheme ("column_shift", ...). */
const char *wse_repair_scheme_name(int scheme);

/* The physical PE of logical PE (x, y) (fabric coordinates). */
void wse_wafer_physical(const wse_wafer *w, int x, int y, int *px, int *py);

/* PE pitches by which the logical link into (x, y) from its neighbour
 * through port (WSE_PORT_N..W) is longer than on a perfect wafer (0: not
 * stretched, or no such neighbour). */
int wse_wafer_link_extra(const wse_wafer *w, int x, int y, int port);

/* Whether physical PE (px, py) is defective. */
int wse_wafer_defective(const wse_wafer *w, int px, int py);

/* A PNG of the physical wafer: working PEs in use grey, defects red,
 * spares in use orange, unused spares and retired PEs dark, PEs at either
 * end of a stretched link blue.  Downsampled to at most 1024 pixels a side
 * (a pixel shows the worst of its PEs); small wafers are scaled up to
 * about 512 pixels. */
int wse_wafer_png(const wse_wafer *w, const char *path, wse_error *err);

#define WSE_WAFER_PNG_FILE "wafer.png"

#endif
