/*
 * wse/io.h - files the emulator reads and writes: NumPy .npy arrays, the
 * JSON report, and the 64-bit digest of results.
 *
 * Output files are written to "<path>.tmp.<pid>" and renamed into place
 * only when complete, so a failed run never leaves a valid-looking file.
 */
#ifndef WSE_IO_H
#define WSE_IO_H

#include <stdint.h>
#include <stdio.h>
#include "wse/error.h"
#include "wse/pe.h"

#define WSE_NPY_MAX_DIMS 4

/* Element types: enum wse_dtype (wse/pe.h). */

size_t wse_dtype_size(int dtype);          /* bytes per element, 0 if bad */
const char *wse_dtype_name(int dtype);     /* "float32", "int32", ... */

/*
 * Read a little-endian C-order .npy file (format 1.0, 2.0 or 3.0) whose
 * dtype and shape must equal the expected ones exactly; data receives
 * prod(shape) elements.  Returns 0, WSE_EIO (cannot open/read, short
 * file) or WSE_ECONFIG (not an .npy, wrong dtype, wrong shape, Fortran
 * order), err naming the path and both shapes.
 */
int wse_npy_read(const char *path, int dtype, int ndim, const int64_t *shape,
                 void *data, wse_error *err);

/*
 * Check an .npy file as wse_npy_read does and leave it open, positioned at
 * the first data byte, so a rank can read just its part (fseek + fread).
 * Returns 0 with *f open, or an error with *f NULL.
 */
int wse_npy_open_read(const char *path, int dtype, int ndim, const int64_t *shape,
                      FILE **f, wse_error *err);

/*
 * Streaming .npy writer, so a gathered array can be written a band at a
 * time.  open writes the header to a temporary file; write appends raw
 * element bytes; commit checks that exactly prod(shape) elements were
 * written, closes and renames to path; abort removes the temporary file.
 * After a failed open nothing exists on disk.  commit and abort are safe
 * to call on a writer whose open failed (they do nothing).
 */
typedef struct wse_npy_writer {
    FILE *f;
    char path[1024];
    char tmp[1100];
    uint64_t expect_bytes, written_bytes;
} wse_npy_writer;

int wse_npy_open(wse_npy_writer *w, const char *path, int dtype, int ndim,
                 const int64_t *shape, wse_error *err);
int wse_npy_write(wse_npy_writer *w, const void *data, size_t bytes,
                  wse_error *err);
int wse_npy_commit(wse_npy_writer *w, wse_error *err);
void wse_npy_abort(wse_npy_writer *w);

/* Convenience: whole array in one call (open, write, commit). */
int wse_npy_save(const char *path, int dtype, int ndim, const int64_t *shape,
                 const void *data, wse_error *err);

/* ------------------------------------------------------------ digest */

/* 64-bit FNV-1a over bytes; start from WSE_DIGEST_INIT and chain. */
#define WSE_DIGEST_INIT 0xcbf29ce484222325ULL
uint64_t wse_digest(uint64_t h, const void *data, size_t n);
uint64_t wse_digest_u64(uint64_t h, uint64_t v); /* v as 8 LE bytes */

/* ------------------------------------------------------------ JSON */

/*
 * A minimal streaming JSON writer with pretty printing.  Keys are ignored
 * (pass NULL) inside arrays.  Strings are escaped.  Doubles are printed
 * with %.17g (non-finite values as null) so they round-trip exactly.
 */
typedef struct wse_json {
    FILE *f;
    int depth;
    int count[32];   /* items written at each depth */
    uint32_t arrays; /* bit d set: the container at depth d is an array */
} wse_json;

void wse_json_init(wse_json *j, FILE *f);
void wse_json_object_begin(wse_json *j, const char *key);
void wse_json_object_end(wse_json *j);
void wse_json_array_begin(wse_json *j, const char *key);
void wse_json_array_end(wse_json *j);
void wse_json_str(wse_json *j, const char *key, const char *v);
void wse_json_int(wse_json *j, const char *key, int64_t v);
void wse_json_uint(wse_json *j, const char *key, uint64_t v);
void wse_json_num(wse_json *j, const char *key, double v);
void wse_json_bool(wse_json *j, const char *key, int v);

/*
 * Write a text file atomically: fill is called with a FILE* on a temporary
 * file, which is renamed to path if fill returns 0 and writing succeeded,
 * removed otherwise.  Returns 0, fill's error, or WSE_EIO.
 */
int wse_file_write_atomic(const char *path, int (*fill)(FILE *f, void *arg),
                          void *arg, wse_error *err);

/*
 * Write an 8-bit RGB image (w x h pixels, rows top to bottom, 3 bytes a
 * pixel) as a PNG file, atomically (as above).  Uncompressed: stored
 * deflate blocks, no zlib.  Returns 0, WSE_EINVAL, WSE_ENOMEM or WSE_EIO.
 */
int wse_png_save(const char *path, int w, int h, const uint8_t *rgb, wse_error *err);

#endif
