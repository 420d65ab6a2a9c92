/*
 * wse/hostio.h - the host side of a run: writing input arrays into PE
 * memory before it and reading output arrays back after it (the vendor's
 * memcpy), plus the generators jobs can use instead of files.
 */
#ifndef WSE_HOSTIO_H
#define WSE_HOSTIO_H

#include <stdint.h>
#include "wse/config.h"
#include "wse/engine.h"

/* A global array in host memory, C order. */
typedef struct wse_host_array {
    int dtype;
    int ndim;
    int64_t shape[3];
    void *data;               /* owned; free with wse_host_array_free */
} wse_host_array;

void wse_host_array_free(wse_host_array *a);
uint64_t wse_host_array_count(const wse_host_array *a);

/* Index of the program's array called name, or -1. */
int wse_hostio_find(const wse_program *prog, const char *name);

/* Allocate a zeroed global array for spec index `array`. */
int wse_hostio_alloc(const wse_program *prog, const void *params, int width,
                     int height, int array, wse_host_array *out,
                     wse_error *err);

/*
 * Build the global array of job input `in` (read the .npy file, whose
 * dtype and shape must match, or run the generator).  Generated values are
 * a function of (seed, global element index) only, so they do not depend
 * on the decomposition.  Errors name the job file position of the input.
 */
int wse_hostio_input(const wse_program *prog, const void *params, int width,
                     int height, const wse_input *in, wse_host_array *out,
                     wse_error *err);

/* Copy a global array into (scatter) or out of (gather) every PE's block
 * of spec index `array`. */
int wse_hostio_scatter(wse_engine *e, int array, const wse_host_array *a,
                       wse_error *err);
int wse_hostio_gather(wse_engine *e, int array, wse_host_array *a,
                      wse_error *err);

/*
 * Write job input `in` into this engine's PEs only: generated values are
 * computed per element, file data is read per contiguous run, so no rank
 * holds more than its share.  Errors name the input's place in the job.
 */
int wse_hostio_load(wse_engine *e, const wse_input *in, wse_error *err);

/* Value of generator g for element `index` of `count`. */
double wse_generate(int g, uint64_t seed, double lo, double hi,
                    uint64_t index, uint64_t count);

#endif
