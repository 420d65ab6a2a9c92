/*
 * wse/error.h - error codes and the error record every fallible call fills.
 *
 * Every fallible library call returns 0 on success or a negative WSE_E*
 * code, and fills a caller-provided wse_error with a one-line message that
 * names the user's input (file:line:column, the PE, the --set key), never
 * our own source line.  The library never prints and never exits; main.c
 * does, after the ranks agree.
 */
#ifndef WSE_ERROR_H
#define WSE_ERROR_H

#include <stddef.h>

/* The codes (WSE_OK, WSE_EINVAL, ...) are defined with the PE API, since
 * programs return them too. */
#include "wse/pe.h"

/* Where an error points in the user's input.  line/column are 1-based;
 * 0 means "not applicable" (then only file, or nothing, is printed). */
typedef struct wse_error {
    int code;          /* a WSE_E* code, 0 when no error was recorded */
    char file[512];    /* input file, --set key or empty */
    int line;
    int column;
    char msg[1024];    /* what is wrong, one line, no trailing newline */
} wse_error;

/* Static description of a code; never NULL ("unknown error" for others). */
const char *wse_strerror(int code);

/* Clear e (code 0, empty strings).  NULL-safe. */
void wse_error_clear(wse_error *e);

/*
 * Record an error and return code, so callers can write
 *   return wse_error_set(err, WSE_ECONFIG, path, line, col, "bad %s", key);
 * file may be NULL.  A NULL err is allowed (the code is still returned).
 * If err already holds an error, the first one is kept.
 */
int wse_error_set(wse_error *e, int code, const char *file, int line,
                  int column, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/*
 * Format e as "file:line:col: error: msg" (parts that are absent are left
 * out) into buf of size n.  Returns buf.
 */
char *wse_error_format(const wse_error *e, char *buf, size_t n);

#endif
