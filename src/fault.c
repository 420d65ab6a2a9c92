/*
 * src/fault.c - errors that name a PE and the cycle, and deadlock
 * reports.  Coordinates in messages are region-relative.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "fault_int.h"

const char *const wse__port_name[6] = { "N", "E", "S", "W", "RAMP", "router" };

int wse__fault_pe(wse_engine *e, uint32_t pe, int code, const char *fmt, ...)
{
    char msg[768];
    if (pe != WSE_NONE && (pe & WSE_HALO_PE))
        return code;        /* the shard owning that PE reports it */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!e->failed) {
        int y, x = pe_xy(e, pe, &y);
        wse_error_set(e->err, code, NULL, 0, 0, "PE (%d,%d) at cycle %llu: %s",
                      x, y, (unsigned long long)e->now, msg);
    }
    e->failed = 1;
    return code;
}

void wse__fault_deadlock(wse_error *err, uint64_t cycle, uint64_t unfinished,
                         uint64_t pes, const wse_stuck *s, int n)
{
    char msg[900] = "";
    for (int i = 0; i < n; i++) {
        size_t len = strlen(msg);
        snprintf(msg + len, sizeof msg - len, "%s%s", i ? "; " : "", s[i].what);
    }
    wse_error_set(err, WSE_EDEADLOCK, NULL, 0, 0,
                  "deadlock at cycle %llu: %llu of %llu PEs unfinished and nothing can move: %s",
                  (unsigned long long)cycle, (unsigned long long)unfinished,
                  (unsigned long long)pes, msg);
}
