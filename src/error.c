/*
 * src/error.c - error codes, messages and the error record.
 *
 * The first error recorded wins: later failures while unwinding are
 * usually consequences of the first, and the user needs the cause.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "wse/error.h"

const char *wse_strerror(int code)
{
    switch (code) {
#define WSE_ERR_CASE_(name, value, text) case value: return text;
        WSE_ERRORS(WSE_ERR_CASE_)
#undef WSE_ERR_CASE_
    default:
        return "unknown error";
    }
}

void wse_error_clear(wse_error *e)
{
    if (e)
        memset(e, 0, sizeof *e);
}

int wse_error_set(wse_error *e, int code, const char *file, int line,
                  int column, const char *fmt, ...)
{
    if (!e || e->code != 0)
        return code;
    e->code = code;
    snprintf(e->file, sizeof e->file, "%s", file ? file : "");
    e->line = line;
    e->column = column;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    for (char *p = e->msg; *p; p++)      /* one line, whatever was passed */
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    return code;
}

char *wse_error_format(const wse_error *e, char *buf, size_t n)
{
    if (!buf || n == 0)
        return buf;
    if (!e || e->code == 0) {
        snprintf(buf, n, "no error");
        return buf;
    }
    const char *msg = e->msg[0] ? e->msg : wse_strerror(e->code);
    if (e->file[0] && e->line > 0 && e->column > 0)
        snprintf(buf, n, "%s:%d:%d: error: %s", e->file, e->line, e->column, msg);
    else if (e->file[0] && e->line > 0)
        snprintf(buf, n, "%s:%d: error: %s", e->file, e->line, msg);
    else if (e->file[0])
        snprintf(buf, n, "%s: error: %s", e->file, msg);
    else
        snprintf(buf, n, "error: %s", msg);
    return buf;
}
