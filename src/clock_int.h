/*
 * src/clock_int.h - host time, for progress lines and the emulator's own
 * figures (never for anything the emulated machine does).
 */
#ifndef WSE_CLOCK_INT_H
#define WSE_CLOCK_INT_H

#include <time.h>

/* Seconds on the monotonic clock. */
static inline double clock_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#endif
