/*
 * src/report.c - the run report: a summary for people, JSON for tools.
 *
 * Both come from the same wse_report, so they cannot disagree.  Fields
 * about the machine are exact and decomposition-independent; fields about
 * the emulator (wall time, rates) are host measurements.
 */
#include <inttypes.h>
#include <stdio.h>
#include "wse/io.h"
#include "wse/report.h"

static const char *const port_names[4] = { "N", "E", "S", "W" };

static void si(char *buf, size_t n, double v, const char *unit)
{
    static const char *const pre[] = { "", "k", "M", "G", "T", "P", "E" };
    int i = 0;
    while (v >= 1000.0 && i < 6) {
        v /= 1000.0;
        i++;
    }
    snprintf(buf, n, "%.3g %s%s", v, pre[i], unit);
}

void wse_report_derive(wse_report *rep, const wse_topology *t)
{
    const wse_engine_stats *s = &rep->st;
    wse_rect r = rep->region;
    double cyc = (double)s->cycles, pes = (double)s->pes;
    rep->clock_hz = t->clock_hz;
    rep->sram_bytes = t->sram_bytes;
    rep->wafer_time_s = cyc / t->clock_hz;
    rep->useful_flops_per_s = rep->wafer_time_s > 0 ? rep->useful_flops / rep->wafer_time_s : 0;
    double links = 2.0 * ((double)(r.width - 1) * r.height + (double)r.width * (r.height - 1));
    rep->link_util_mean = links > 0 && cyc > 0 ? (double)s->hops / (links * cyc) : 0;
    rep->link_util_max = cyc > 0 ? (double)s->link.value / cyc : 0;
    rep->busy_fraction = pes > 0 && cyc > 0 ? (double)s->busy_cycles / (pes * cyc) : 0;
    rep->energy_calibrated = t->energy_calibrated;
    /* the formula per PE and per thermal cell too (wse/thermal.h) */
    wse_energy en = wse_energy_of(t, s->flops, s->hops, s->sram_bytes_moved, pes * cyc);
    rep->energy_compute_j = en.compute_j;
    rep->energy_fabric_j = en.fabric_j;
    rep->energy_sram_j = en.sram_j;
    rep->energy_static_j = en.static_j;
    rep->energy_j = en.total_j;
    double cores = (double)rep->ranks * rep->threads;
    rep->pe_cycles_per_core_s = rep->run_s > 0 ? pes * cyc / (rep->run_s * cores) : 0;
    rep->hops_per_s = rep->run_s > 0 ? (double)s->hops / rep->run_s : 0;
    rep->overhead_per_pe = pes > 0 ? (double)rep->overhead_bytes / pes : 0;
}

/* Parts of a run on the wafer that the machine figures leave out: host I/O
 * (loading the inputs into SRAM and reading the outputs back) costs no
 * cycles and uses no fabric. */
#define NOT_MODELED_TEXT "not counted: host I/O (inputs loaded, outputs read at no cost)"
#define NOT_MODELED_KEYS "host_io"

/* Power and the steady-state heat map (wse/thermal.h). */
static void print_thermal(const wse_report *r, FILE *f)
{
    const wse_thermal_summary *h = &r->thermal;
    if (!h->valid)
        return;
    char a[32];
    si(a, sizeof a, h->power_w, "W");
    fprintf(f, "  power            %s mean (compute %.3g, fabric %.3g, SRAM %.3g, static %.3g W)%s\n", a,
            h->power_compute_w, h->power_fabric_w, h->power_sram_w, h->power_static_w,
            r->energy_calibrated ? "" : ", illustrative");
    fprintf(f, "                   peak density %.4g W/mm^2 (cell (%d,%d))\n", h->peak_density_w_mm2,
            h->peak_i, h->peak_j);
    fprintf(f, "  heat             hottest %.2f C (rise %.3g K) at cell (%d,%d), centre PE (%.1f,%.1f); mean %.2f C\n",
            h->hottest_c, h->peak_rise_k, h->hot_i, h->hot_j, h->hot_x, h->hot_y, h->mean_c);
    fprintf(f, "                   largest gradient %.3g K/mm (cells (%d,%d)-(%d,%d)); coolant %.1f C\n",
            h->gradient_k_mm, h->grad_i, h->grad_j, h->grad_i2, h->grad_j2, h->coolant_c);
    fprintf(f, "                   steady state, %dx%d cells of %dx%d PEs, within %.1g K (%d iterations)\n",
            h->cols, h->rows, h->cell_w, h->cell_h, h->bound_k, h->iters);
    if (h->picture)
        fprintf(f, "                   " WSE_THERMAL_PICTURE_FILE ": %.2f C (dark) to %.2f C (pale yellow), bar on the right\n",
                h->scale_min_c, h->scale_max_c);
    const wse_power_time *p = &h->over_time;
    if (!p->valid || !p->windows)
        return;
    si(a, sizeof a, p->peak_power_w, "W");
    fprintf(f, "  power windows    %" PRIu64 " of %" PRIu64 " cycles; peak %s in window %" PRIu64 "\n",
            p->windows, p->window_cycles, a, p->peak_window);
    fprintf(f, "  transient        from %s; vertical time constant %.3g s, step at most %.3g s\n",
            p->start_steady ? "the steady state of window 0's power" : "the coolant", p->tau_s, p->step_s);
    fprintf(f, "                   hottest window %" PRIu64 " (cycles %" PRIu64 "+%" PRIu64 ", %.3g W): %.3f C at cell (%d,%d), centre PE (%.1f,%.1f)\n",
            p->hot_window, p->hot_start, p->hot_cycles, p->hot_power_w, p->hottest_c, p->hot_i, p->hot_j,
            p->hot_x, p->hot_y);
    fprintf(f, "                   mean %.3f C, largest gradient %.3g K/mm (cells (%d,%d)-(%d,%d)); at the end %.3f C\n",
            p->mean_c, p->gradient_k_mm, p->grad_i, p->grad_j, p->grad_i2, p->grad_j2, p->final_max_c);
    if (p->files)
        fprintf(f, "                   " WSE_THERMAL_HOT_PICTURE_FILE ": %.2f C (dark) to %.2f C (pale yellow); " WSE_THERMAL_WINDOWS_FILE "\n",
                p->scale_min_c, p->scale_max_c);
    if (p->throttle) {
        double pec = (double)r->st.pes * (double)r->st.cycles;
        fprintf(f, "  throttling       above %.2f C until below %.2f C, tasks at %d %% rate: %" PRIu64 " cell onsets\n",
                p->throttle_above_c, p->throttle_resume_c, p->throttle_rate_percent, p->throttle_onsets);
        fprintf(f, "                   %" PRIu64 " PE-cycles throttled (%.3g of PE-cycles); tasks took %" PRIu64 " more cycles (%.3g of busy PE-cycles)\n",
                p->throttled_pe_cycles, pec > 0 ? (double)p->throttled_pe_cycles / pec : 0.0,
                p->throttle_cycles, p->busy_cycles ? (double)p->throttle_cycles / (double)p->busy_cycles : 0.0);
    }
}

void wse_report_print_wafer(const wse_report *r, FILE *f)
{
    const wse_wafer_summary *w = &r->wafer;
    if (!r->has_wafer)
        return;
    fprintf(f, "  wafer            %dx%d physical PEs in %dx%d dies, repair %s\n", w->phys_width,
            w->phys_height, w->dies_x, w->dies_y, wse_repair_scheme_name(w->scheme));
    fprintf(f, "                   %llu defective PEs (%llu from broken links) in %llu dies, %llu of them repaired in full; %llu spares used",
            (unsigned long long)w->defect_pes, (unsigned long long)w->defect_links,
            (unsigned long long)w->dies_defective, (unsigned long long)w->dies_repaired,
            (unsigned long long)w->spares_used);
    if (w->retired_pes)
        fprintf(f, ", %llu PEs retired", (unsigned long long)w->retired_pes);
    fprintf(f, "\n                   logical fabric %dx%d %s; %llu links stretched (at most %d PE pitches)\n",
            w->width, w->height, w->formed ? "formed in full" : "formed SHRUNK",
            (unsigned long long)w->stretched_links, w->max_extra_pitches);
    if (r->st.cycles)
        fprintf(f, "                   %llu wavelet hops over stretched links, %llu extra link cycles\n",
                (unsigned long long)r->st.stretched_hops, (unsigned long long)r->st.stretch_cycles);
    if (r->wafer_picture)
        fprintf(f, "                   " WSE_WAFER_PNG_FILE ": defects red, spares in use orange, stretched links blue, unused spares dark\n");
}

void wse_report_print(const wse_report *r, FILE *f)
{
    const wse_engine_stats *s = &r->st;
    char a[32], b[32], c[32];
    fprintf(f, "wsemu: %s on %s, region %dx%d at (%d,%d), %s mode\n", r->program, r->topology,
            r->region.width, r->region.height, r->region.x, r->region.y, r->mode);
    si(a, sizeof a, r->wafer_time_s, "s");
    si(b, sizeof b, r->clock_hz, "Hz");
    fprintf(f, "  cycles           %" PRIu64 " (%s at %s)\n", s->cycles, a, b);
    fprintf(f, "                   %s\n", NOT_MODELED_TEXT);
    si(a, sizeof a, r->useful_flops, "FLOP");
    si(b, sizeof b, r->useful_flops_per_s, "FLOP/s");
    fprintf(f, "  useful work      %s, %s at the modeled clock\n", a, b);
    fprintf(f, "  wavelets         %" PRIu64 " sent, %" PRIu64 " received, %" PRIu64 " hops\n",
            s->wavelets_sent, s->wavelets_received, s->hops);
    fprintf(f, "  link utilisation mean %.4f, max %.4f (PE (%d,%d) port %s)\n", r->link_util_mean,
            r->link_util_max, s->link.x, s->link.y, port_names[s->link.port & 3]);
    fprintf(f, "  PE busy          %.4f of PE-cycles, %" PRIu64 " tasks\n", r->busy_fraction, s->tasks_run);
    fprintf(f, "  SRAM high-water  %u of %u bytes (PE (%d,%d))\n", (unsigned)s->sram.value, r->sram_bytes,
            s->sram.x, s->sram.y);
    si(a, sizeof a, r->energy_j, "J");
    fprintf(f, "  energy           %s (compute %.3g, fabric %.3g, SRAM %.3g, static %.3g J)%s\n", a,
            r->energy_compute_j, r->energy_fabric_j, r->energy_sram_j, r->energy_static_j,
            r->energy_calibrated ? "" : "\n                   illustrative: the topology's energy figures are not calibrated");
    print_thermal(r, f);
    wse_report_print_wafer(r, f);
    si(a, sizeof a, r->pe_cycles_per_core_s, "PE-cycles/core-s");
    si(b, sizeof b, r->hops_per_s, "hops/s");
    si(c, sizeof c, r->overhead_per_pe, "B/PE");
    fprintf(f, "  emulator         %.3f s wall (%.3f setup, %.3f run), %d rank(s) (grid %dx%d) x %d thread(s)\n",
            r->wall_s, r->setup_s, r->run_s, r->ranks, r->grid_px, r->grid_py, r->threads);
    fprintf(f, "                   halo %llu bytes in %llu messages, load imbalance %.2f\n",
            (unsigned long long)r->halo_bytes, (unsigned long long)r->halo_messages, r->load_imbalance);
    fprintf(f, "                   threads %s\n", r->pinning[0] ? r->pinning : "not bound");
    if (r->mode && r->mode[0] == 'r')
        fprintf(f, "  relaxed          %llu wavelets arrived late, by %llu cycles in total\n",
                (unsigned long long)s->late_wavelets, (unsigned long long)s->late_cycles);
    fprintf(f, "                   %s, %s, overhead %s, %" PRIu64 " of %" PRIu64 " cycles stepped\n",
            a, b, c, s->cycles_stepped, s->cycles);
    if (r->verify >= 0)
        fprintf(f, "  verify           %s (max abs error %.3g, tolerance %.3g)\n",
                r->verify ? "PASSED" : "FAILED", r->max_abs_err, r->tolerance);
    fprintf(f, "  digest           %016" PRIx64 "\n", r->digest);
}

/* The counters of group g (MACHINE or EMULATOR) under their table keys. */
enum { MACHINE, EMULATOR };

static void json_counters(wse_json *j, const wse_engine_stats *s, int g)
{
#define JSON_STAT_(f, reduce, group, exact, key, doc) \
    if (group == g)                                   \
        wse_json_uint(j, key, s->f);
    WSE_STATS(JSON_STAT_)
#undef JSON_STAT_
}

static void json_machine(wse_json *j, const wse_report *r)
{
    const wse_engine_stats *s = &r->st;
    json_counters(j, s, MACHINE);
    /* what the cycles leave out, so no one takes them for the whole run */
    wse_json_str(j, "not_modeled", NOT_MODELED_KEYS);
    wse_json_num(j, "clock_hz", r->clock_hz);
    wse_json_num(j, "wafer_time_s", r->wafer_time_s);
    wse_json_num(j, "useful_flops", r->useful_flops);
    wse_json_num(j, "useful_flops_per_s", r->useful_flops_per_s);
    wse_json_object_begin(j, "link_utilisation");
    wse_json_num(j, "mean", r->link_util_mean);
    wse_json_num(j, "max", r->link_util_max);
    wse_json_int(j, "max_x", s->link.x);
    wse_json_int(j, "max_y", s->link.y);
    wse_json_str(j, "max_port", port_names[s->link.port & 3]);
    wse_json_object_end(j);
    wse_json_num(j, "pe_busy_fraction", r->busy_fraction);
    wse_json_object_begin(j, "sram");
    wse_json_uint(j, "high_water_bytes", s->sram.value);
    wse_json_uint(j, "budget_bytes", r->sram_bytes);
    wse_json_int(j, "x", s->sram.x);
    wse_json_int(j, "y", s->sram.y);
    wse_json_object_end(j);
    wse_json_object_begin(j, "energy_j");
    wse_json_num(j, "total", r->energy_j);
    wse_json_num(j, "compute", r->energy_compute_j);
    wse_json_num(j, "fabric", r->energy_fabric_j);
    wse_json_num(j, "sram", r->energy_sram_j);
    wse_json_num(j, "static", r->energy_static_j);
    wse_json_bool(j, "calibrated", r->energy_calibrated);
    wse_json_object_end(j);
}

static void json_cell(wse_json *j, const char *key, int i, int k)
{
    wse_json_array_begin(j, key);
    wse_json_int(j, NULL, i);
    wse_json_int(j, NULL, k);
    wse_json_array_end(j);
}

static void json_wafer(wse_json *j, const wse_report *r)
{
    const wse_wafer_summary *w = &r->wafer;
    if (!r->has_wafer)
        return;
    wse_json_object_begin(j, "wafer");
    wse_json_str(j, "scheme", wse_repair_scheme_name(w->scheme));
    wse_json_int(j, "physical_width", w->phys_width);
    wse_json_int(j, "physical_height", w->phys_height);
    wse_json_int(j, "dies_x", w->dies_x);
    wse_json_int(j, "dies_y", w->dies_y);
    wse_json_uint(j, "defective_pes", w->defect_pes);
    wse_json_uint(j, "defective_links", w->defect_links);
    wse_json_uint(j, "retired_pes", w->retired_pes);
    wse_json_uint(j, "spares_used", w->spares_used);
    wse_json_uint(j, "dies_defective", w->dies_defective);
    wse_json_uint(j, "dies_repaired", w->dies_repaired);
    wse_json_bool(j, "formed", w->formed);
    wse_json_int(j, "width", w->width);
    wse_json_int(j, "height", w->height);
    wse_json_uint(j, "stretched_links", w->stretched_links);
    wse_json_int(j, "max_extra_pitches", w->max_extra_pitches);
    wse_json_object_end(j);
}

/* Power windows, the transient and throttling (wse/thermal.h). */
static void json_over_time(wse_json *j, const wse_power_time *p)
{
    if (!p->valid)
        return;
    wse_json_object_begin(j, "power_windows");
    wse_json_uint(j, "window_cycles", p->window_cycles);
    wse_json_uint(j, "windows", p->windows);
    wse_json_num(j, "peak_power_w", p->peak_power_w);
    wse_json_uint(j, "peak_window", p->peak_window);
    wse_json_str(j, "start", p->start_steady ? "steady" : "coolant");
    wse_json_num(j, "tau_vertical_s", p->tau_s);
    wse_json_num(j, "step_bound_s", p->step_s);
    wse_json_object_begin(j, "hottest_window");
    wse_json_uint(j, "window", p->hot_window);
    wse_json_uint(j, "start_cycle", p->hot_start);
    wse_json_uint(j, "cycles", p->hot_cycles);
    wse_json_num(j, "power_w", p->hot_power_w);
    wse_json_num(j, "hottest_c", p->hottest_c);
    json_cell(j, "hottest_cell", p->hot_i, p->hot_j);
    wse_json_num(j, "hottest_x", p->hot_x);
    wse_json_num(j, "hottest_y", p->hot_y);
    wse_json_num(j, "mean_c", p->mean_c);
    wse_json_num(j, "gradient_k_mm", p->gradient_k_mm);
    json_cell(j, "gradient_from", p->grad_i, p->grad_j);
    json_cell(j, "gradient_to", p->grad_i2, p->grad_j2);
    if (p->files) {
        wse_json_str(j, "picture", WSE_THERMAL_HOT_PICTURE_FILE);
        wse_json_num(j, "scale_min_c", p->scale_min_c);
        wse_json_num(j, "scale_max_c", p->scale_max_c);
    }
    wse_json_object_end(j);
    wse_json_num(j, "final_hottest_c", p->final_max_c);
    if (p->files)
        wse_json_str(j, "csv", WSE_THERMAL_WINDOWS_FILE);
    if (p->throttle) {
        wse_json_object_begin(j, "throttle");
        wse_json_num(j, "above_c", p->throttle_above_c);
        wse_json_num(j, "resume_below_c", p->throttle_resume_c);
        wse_json_int(j, "rate_percent", p->throttle_rate_percent);
        wse_json_uint(j, "onsets", p->throttle_onsets);
        wse_json_uint(j, "throttled_pe_cycles", p->throttled_pe_cycles);
        wse_json_uint(j, "added_task_cycles", p->throttle_cycles);
        wse_json_uint(j, "busy_pe_cycles", p->busy_cycles);
        wse_json_object_end(j);
    }
    wse_json_object_end(j);
}

static void json_thermal(wse_json *j, const wse_report *r)
{
    const wse_thermal_summary *h = &r->thermal;
    if (!h->valid)
        return;
    wse_json_object_begin(j, "power_w");
    wse_json_num(j, "total", h->power_w);
    wse_json_num(j, "compute", h->power_compute_w);
    wse_json_num(j, "fabric", h->power_fabric_w);
    wse_json_num(j, "sram", h->power_sram_w);
    wse_json_num(j, "static", h->power_static_w);
    wse_json_num(j, "cells_sum", h->cell_power_sum_w);
    wse_json_num(j, "peak_density_w_mm2", h->peak_density_w_mm2);
    json_cell(j, "peak_cell", h->peak_i, h->peak_j);
    wse_json_bool(j, "calibrated", r->energy_calibrated);
    wse_json_object_end(j);
    wse_json_object_begin(j, "thermal");
    wse_json_str(j, "model", "steady state, 2D grid of cells");
    wse_json_int(j, "cols", h->cols);
    wse_json_int(j, "rows", h->rows);
    wse_json_int(j, "cell_width_pes", h->cell_w);
    wse_json_int(j, "cell_height_pes", h->cell_h);
    wse_json_object_begin(j, "cell_counts");
    wse_json_uint(j, "counted_flops", h->counts[WSE_CELL_FLOPS]);
    wse_json_uint(j, "wavelet_hops", h->counts[WSE_CELL_HOPS]);
    wse_json_uint(j, "sram_bytes_moved", h->counts[WSE_CELL_SRAM]);
    wse_json_uint(j, "pes", h->counts[WSE_CELL_PES]);
    wse_json_object_end(j);
    wse_json_num(j, "coolant_c", h->coolant_c);
    wse_json_num(j, "hottest_c", h->hottest_c);
    wse_json_num(j, "peak_rise_k", h->peak_rise_k);
    json_cell(j, "hottest_cell", h->hot_i, h->hot_j);
    wse_json_num(j, "hottest_x", h->hot_x);
    wse_json_num(j, "hottest_y", h->hot_y);
    wse_json_num(j, "mean_c", h->mean_c);
    wse_json_num(j, "gradient_k_mm", h->gradient_k_mm);
    json_cell(j, "gradient_from", h->grad_i, h->grad_j);
    json_cell(j, "gradient_to", h->grad_i2, h->grad_j2);
    wse_json_num(j, "r_vertical_m2k_w", h->r_vertical_m2k_w);
    wse_json_num(j, "spreading_length_mm", h->spreading_mm);
    wse_json_num(j, "error_bound_k", h->bound_k);
    wse_json_int(j, "iterations", h->iters);
    if (h->picture) {
        wse_json_object_begin(j, "picture");
        wse_json_str(j, "file", WSE_THERMAL_PICTURE_FILE);
        wse_json_num(j, "scale_min_c", h->scale_min_c);
        wse_json_num(j, "scale_max_c", h->scale_max_c);
        wse_json_str(j, "colours", "dark violet (min) to pale yellow (max); bar on the right, max at the top");
        wse_json_object_end(j);
    }
    wse_json_object_end(j);
    json_over_time(j, &h->over_time);
}

static void json_emulator(wse_json *j, const wse_report *r)
{
    wse_json_object_begin(j, "emulator");
    wse_json_num(j, "wall_s", r->wall_s);
    wse_json_num(j, "setup_s", r->setup_s);
    wse_json_num(j, "run_s", r->run_s);
    wse_json_int(j, "ranks", r->ranks);
    wse_json_int(j, "threads", r->threads);
    wse_json_str(j, "pinning", r->pinning);
    wse_json_int(j, "grid_px", r->grid_px);
    wse_json_int(j, "grid_py", r->grid_py);
    wse_json_num(j, "pe_cycles_per_core_s", r->pe_cycles_per_core_s);
    wse_json_num(j, "hops_per_s", r->hops_per_s);
    wse_json_uint(j, "halo_bytes", r->halo_bytes);
    wse_json_uint(j, "halo_messages", r->halo_messages);
    wse_json_num(j, "load_imbalance", r->load_imbalance);
    json_counters(j, &r->st, EMULATOR);
    wse_json_uint(j, "overhead_bytes", r->overhead_bytes);
    wse_json_num(j, "overhead_bytes_per_pe", r->overhead_per_pe);
    wse_json_object_end(j);
}

int wse_report_json(const wse_report *r, FILE *f)
{
    wse_json j;
    char digest[32];
    wse_json_init(&j, f);
    wse_json_object_begin(&j, NULL);
    wse_json_str(&j, "job", r->job);
    wse_json_str(&j, "program", r->program);
    wse_json_str(&j, "topology", r->topology);
    wse_json_str(&j, "mode", r->mode ? r->mode : "exact");
    wse_json_object_begin(&j, "region");
    wse_json_int(&j, "x", r->region.x);
    wse_json_int(&j, "y", r->region.y);
    wse_json_int(&j, "width", r->region.width);
    wse_json_int(&j, "height", r->region.height);
    wse_json_uint(&j, "pes", r->st.pes);
    wse_json_object_end(&j);
    json_machine(&j, r);
    json_thermal(&j, r);
    json_wafer(&j, r);
    json_emulator(&j, r);
    if (r->verify >= 0) {
        wse_json_object_begin(&j, "verify");
        wse_json_bool(&j, "passed", r->verify);
        wse_json_num(&j, "max_abs_error", r->max_abs_err);
        wse_json_num(&j, "tolerance", r->tolerance);
        wse_json_object_end(&j);
    }
    wse_json_array_begin(&j, "outputs");
    for (int i = 0; i < r->n_outputs; i++)
        wse_json_str(&j, NULL, r->outputs[i]);
    wse_json_array_end(&j);
    snprintf(digest, sizeof digest, "%016" PRIx64, r->digest);
    wse_json_str(&j, "digest", digest);
    wse_json_object_end(&j);
    fputc('\n', f);
    return ferror(f) ? WSE_EIO : 0;
}
