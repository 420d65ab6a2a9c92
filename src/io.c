/*
 * src/io.c - NumPy .npy arrays, the FNV-1a digest, the JSON writer and
 * atomic replacement of output files.
 *
 * Design.  An .npy file is a 6-byte magic "\x93NUMPY", a version byte
 * pair, a little-endian header length (2 bytes in version 1.0, 4 in 2.0
 * and 3.0), then a Python dict literal such as
 *     {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
 * padded with spaces and ended by '\n', then the raw elements.  The reader
 * parses that dict with a small recursive-descent parser that accepts the
 * three keys in any order, either quote character and any whitespace, and
 * rejects everything else (other keys, structured dtypes, Fortran order):
 * an array the emulator misreads is worse than one it refuses.  The dtype
 * and shape read must equal the caller's exactly; the message then shows
 * both, so the user sees what to change.
 *
 * Every output file is written to "<path>.tmp.<pid>" and renamed into
 * place only once it is complete and closed without error; any failure
 * removes the temporary file.  A crashed or failed run therefore never
 * leaves a valid-looking but partial result behind.  A failed
 * wse_npy_write poisons the writer (its byte count or the stream's error
 * flag), so a later commit fails instead of publishing a damaged array.
 *
 * The JSON writer streams to a FILE and keeps only a per-depth item count
 * and a bit per depth saying "array", which is enough for commas, indents
 * and dropping keys inside arrays.  Stream errors are sticky in the FILE
 * and surface when wse_file_write_atomic closes it.
 *
 * Drawbacks.  Element bytes are copied as they are, so the host must be
 * little-endian (checked at compile time).  The temporary-then-rename
 * scheme protects against a dying process, not against power loss: there
 * is no fsync.  Two writers of the same path in one process would share a
 * temporary name.  %.17g follows LC_NUMERIC, which the library never sets
 * (the "C" locale prints '.').  JSON nested deeper than 31 containers is
 * dropped (begin/end stay balanced, the output stays valid).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "wse/io.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "src/io.c copies .npy element bytes unchanged and needs a little-endian host"
#endif

/* Version 2.0/3.0 headers may claim up to 4 GiB; numpy itself refuses
 * headers over 10000 bytes, so anything past this is garbage. */
#define NPY_MAX_HEADER (1u << 20)
/* Dimensions the header parser keeps; numpy allows at most 64. */
#define NPY_PARSE_DIMS 64
/* Longest descr string we keep ('<f4' and the like; longer ones are
 * structured or exotic dtypes and rejected anyway). */
#define NPY_DESCR_MAX 32
/* Deepest JSON container whose items are still written: count[] has 32
 * entries, indexed by the depth of the items. */
#define JSON_MAX_DEPTH 31

static const char npy_magic[6] = { '\x93', 'N', 'U', 'M', 'P', 'Y' };

/* ------------------------------------------------------------ helpers */

static void appendf(char *buf, size_t n, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Append to a NUL-terminated buffer, truncating silently: only used for
 * message fragments whose size is bounded by the caller. */
static void appendf(char *buf, size_t n, size_t *len, const char *fmt, ...)
{
    if (*len >= n)
        return;
    va_list ap;
    va_start(ap, fmt);
    int r = vsnprintf(buf + *len, n - *len, fmt, ap);
    va_end(ap);
    if (r > 0)
        *len = (*len + (size_t)r < n) ? *len + (size_t)r : n - 1;
}

/* strerror() is not thread-safe and the run layer has worker threads. */
static const char *errno_text(int e, char *buf, size_t n)
{
    if (strerror_r(e, buf, n) != 0)
        snprintf(buf, n, "error %d", e);
    return buf;
}

/* Python's repr of a shape tuple: (), (7,), (3, 4). */
static void format_shape(char *buf, size_t n, int ndim, const int64_t *shape)
{
    size_t len = 0;
    buf[0] = '\0';
    appendf(buf, n, &len, "(");
    for (int i = 0; i < ndim; i++)
        appendf(buf, n, &len, "%s%" PRId64, i ? ", " : "", shape[i]);
    appendf(buf, n, &len, "%s)", ndim == 1 ? "," : "");
}

static int tmp_name(char *buf, size_t n, const char *path, wse_error *err)
{
    int len = snprintf(buf, n, "%s.tmp.%ld", path, (long)getpid());
    if (len < 0 || (size_t)len >= n)
        return wse_error_set(err, WSE_EINVAL, path, 0, 0, "output path is too long (its temporary name needs %d bytes, the limit is %zu)", len, n - 1);
    return 0;
}

/* Close and delete a temporary file after a failure; errors here cannot
 * be reported usefully, the first one already was. */
static void discard_tmp(FILE *f, const char *tmp)
{
    fclose(f);
    remove(tmp);
}

/* Publish a finished temporary file: check the stream, close, rename.
 * On any failure the temporary file is removed. */
static int close_and_rename(FILE *f, const char *tmp, const char *path,
                            wse_error *err)
{
    char why[256];
    int rc = 0;
    if (ferror(f))
        rc = wse_error_set(err, WSE_EIO, path, 0, 0, "cannot write '%s': an earlier write failed", tmp);
    if (fclose(f) != 0 && rc == 0)
        rc = wse_error_set(err, WSE_EIO, path, 0, 0, "cannot write '%s': %s", tmp, errno_text(errno, why, sizeof why));
    if (rc == 0 && rename(tmp, path) != 0)
        rc = wse_error_set(err, WSE_EIO, path, 0, 0, "cannot rename '%s' into place: %s", tmp, errno_text(errno, why, sizeof why));
    if (rc != 0)
        remove(tmp);
    return rc;
}

/* ------------------------------------------------------------ dtypes */

typedef struct dtype_info {
    int dtype;
    size_t size;
    const char *name;
    const char *descr;     /* as numpy writes it in .npy headers */
} dtype_info;

static const dtype_info dtype_table[] = {
    { WSE_F32, 4, "float32", "<f4" },
    { WSE_I32, 4, "int32", "<i4" },
    { WSE_U32, 4, "uint32", "<u4" },
    { WSE_U8, 1, "uint8", "|u1" },
    { WSE_F16, 2, "float16", "<f2" },
    { WSE_I16, 2, "int16", "<i2" },
    { WSE_U16, 2, "uint16", "<u2" },
};
#define DTYPE_COUNT (sizeof dtype_table / sizeof dtype_table[0])

static const dtype_info *dtype_find(int dtype)
{
    for (size_t i = 0; i < DTYPE_COUNT; i++)
        if (dtype_table[i].dtype == dtype)
            return &dtype_table[i];
    return NULL;
}

/* The byte-order character of a one-byte type means nothing, so '<u1'
 * (written by some tools) is as good as numpy's '|u1'. */
static const dtype_info *dtype_from_descr(const char *descr)
{
    for (size_t i = 0; i < DTYPE_COUNT; i++) {
        const dtype_info *d = &dtype_table[i];
        if (strcmp(descr, d->descr) == 0)
            return d;
        if (d->size == 1 && strlen(descr) == 3 && strchr("|<>=", descr[0]) &&
            strcmp(descr + 1, d->descr + 1) == 0)
            return d;
    }
    return NULL;
}

size_t wse_dtype_size(int dtype)
{
    const dtype_info *d = dtype_find(dtype);
    return d ? d->size : 0;
}

const char *wse_dtype_name(int dtype)
{
    const dtype_info *d = dtype_find(dtype);
    return d ? d->name : "invalid";
}

/* Validate a caller's array description and compute its data size. */
static int array_bytes(const char *path, int dtype, int ndim,
                       const int64_t *shape, uint64_t *out, wse_error *err)
{
    uint64_t bytes = wse_dtype_size(dtype);
    if (!path)
        return wse_error_set(err, WSE_EINVAL, NULL, 0, 0, "no .npy path given");
    if (bytes == 0)
        return wse_error_set(err, WSE_EINVAL, path, 0, 0, "invalid dtype %d", dtype);
    if (ndim < 0 || ndim > WSE_NPY_MAX_DIMS || (ndim > 0 && !shape))
        return wse_error_set(err, WSE_EINVAL, path, 0, 0, "invalid number of dimensions %d (0 to %d)", ndim, WSE_NPY_MAX_DIMS);
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0)
            return wse_error_set(err, WSE_EINVAL, path, 0, 0, "negative extent %" PRId64 " in dimension %d", shape[i], i);
        if (shape[i] > 0 && bytes > UINT64_MAX / (uint64_t)shape[i])
            return wse_error_set(err, WSE_EINVAL, path, 0, 0, "array is too large");
        bytes *= (uint64_t)shape[i];
    }
    if (bytes > SIZE_MAX)
        return wse_error_set(err, WSE_EINVAL, path, 0, 0, "array is too large");
    *out = bytes;
    return 0;
}

/* ------------------------------------------------------------ .npy header parser */

typedef struct npy_header {
    char descr[NPY_DESCR_MAX];
    int fortran;
    int ndim;
    int64_t shape[NPY_PARSE_DIMS];
} npy_header;

enum { KEY_DESCR = 1, KEY_FORTRAN = 2, KEY_SHAPE = 4, KEY_ALL = 7 };

static void skip_ws(const char **p)
{
    while (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r')
        (*p)++;
}

/* A Python string literal without escapes, in ' or " quotes. */
static int parse_str(const char **p, char *out, size_t n)
{
    char q = **p;
    if (q != '\'' && q != '"')
        return -1;
    const char *s = ++*p;
    while (**p && **p != q && **p != '\\')
        (*p)++;
    if (**p != q || (size_t)(*p - s) >= n)
        return -1;
    memcpy(out, s, (size_t)(*p - s));
    out[*p - s] = '\0';
    (*p)++;
    return 0;
}

static int parse_bool(const char **p, int *out)
{
    if (strncmp(*p, "True", 4) == 0) {
        *p += 4;
        *out = 1;
        return 0;
    }
    if (strncmp(*p, "False", 5) == 0) {
        *p += 5;
        *out = 0;
        return 0;
    }
    return -1;
}

static int parse_extent(const char **p, int64_t *out)
{
    if (**p < '0' || **p > '9')
        return -1;
    int64_t v = 0;
    for (; **p >= '0' && **p <= '9'; (*p)++) {
        int digit = **p - '0';
        if (v > (INT64_MAX - digit) / 10)
            return -1;
        v = v * 10 + digit;
    }
    *out = v;
    return 0;
}

/* A tuple of non-negative integers; "(3,)", "(3, 4)", "()" and, to be
 * lenient with hand-written files, "(3)" and a trailing comma. */
static int parse_shape(const char **p, npy_header *h)
{
    if (**p != '(')
        return -1;
    (*p)++;
    h->ndim = 0;
    skip_ws(p);
    while (**p != ')') {
        if (h->ndim == NPY_PARSE_DIMS || parse_extent(p, &h->shape[h->ndim]))
            return -1;
        h->ndim++;
        skip_ws(p);
        if (**p == ',') {
            (*p)++;
            skip_ws(p);
        } else if (**p != ')') {
            return -1;
        }
    }
    (*p)++;
    return 0;
}

static int header_fail(char *why, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int header_fail(char *why, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, n, fmt, ap);
    va_end(ap);
    return -1;
}

/* Parse the value of one key; *seen collects the keys already parsed. */
static int parse_entry(const char **p, const char *key, npy_header *h,
                       unsigned *seen, char *why, size_t n)
{
    unsigned bit = strcmp(key, "descr") == 0 ? KEY_DESCR
                 : strcmp(key, "fortran_order") == 0 ? KEY_FORTRAN
                 : strcmp(key, "shape") == 0 ? KEY_SHAPE : 0;
    if (bit == 0)
        return header_fail(why, n, "unknown key '%s'", key);
    if (*seen & bit)
        return header_fail(why, n, "duplicate key '%s'", key);
    *seen |= bit;
    if (bit == KEY_DESCR && parse_str(p, h->descr, sizeof h->descr))
        return header_fail(why, n, "'descr' is not a simple dtype string (structured dtypes are not supported)");
    if (bit == KEY_FORTRAN && parse_bool(p, &h->fortran))
        return header_fail(why, n, "'fortran_order' is not True or False");
    if (bit == KEY_SHAPE && parse_shape(p, h))
        return header_fail(why, n, "'shape' is not a tuple of at most %d non-negative integers", NPY_PARSE_DIMS);
    return 0;
}

static const char *missing_key(unsigned seen)
{
    if (!(seen & KEY_DESCR))
        return "descr";
    return (seen & KEY_FORTRAN) ? "shape" : "fortran_order";
}

/* The header dict: '{' (key ':' value ',')* '}' then only whitespace. */
static int parse_header(const char *p, npy_header *h, char *why, size_t n)
{
    unsigned seen = 0;
    skip_ws(&p);
    if (*p != '{')
        return header_fail(why, n, "the header is not a dict");
    p++;
    for (;;) {
        char key[32];
        skip_ws(&p);
        if (*p == '}')
            break;
        if (parse_str(&p, key, sizeof key))
            return header_fail(why, n, "expected a quoted key in the header");
        skip_ws(&p);
        if (*p != ':')
            return header_fail(why, n, "expected ':' after key '%s'", key);
        p++;
        skip_ws(&p);
        if (parse_entry(&p, key, h, &seen, why, n))
            return -1;
        skip_ws(&p);
        if (*p == ',')
            p++;
        else if (*p != '}')
            return header_fail(why, n, "expected ',' or '}' after the value of '%s'", key);
    }
    p++;
    skip_ws(&p);
    if (*p != '\0')
        return header_fail(why, n, "unexpected text after the header dict");
    if (seen != KEY_ALL)
        return header_fail(why, n, "the header has no '%s' key", missing_key(seen));
    return 0;
}

/* ------------------------------------------------------------ .npy reader */

/* A short read is EIO whether the file ended or the read failed. */
static int short_read(FILE *f, const char *path, const char *what, size_t got,
                      size_t want, wse_error *err)
{
    char why[256];
    if (ferror(f))
        return wse_error_set(err, WSE_EIO, path, 0, 0, "cannot read: %s", errno_text(errno, why, sizeof why));
    return wse_error_set(err, WSE_EIO, path, 0, 0, "truncated .npy file: it ends inside the %s (%zu of %zu bytes)", what, got, want);
}

/* Magic, version and header length. */
static int read_preamble(FILE *f, const char *path, uint32_t *hlen,
                         wse_error *err)
{
    unsigned char b[12];
    size_t got = fread(b, 1, 8, f);
    if (memcmp(b, npy_magic, got < 6 ? got : 6) != 0)
        return wse_error_set(err, WSE_ECONFIG, path, 0, 0, "not a .npy file (no \\x93NUMPY magic)");
    if (got < 8)
        return short_read(f, path, "preamble", got, 8, err);
    if (b[6] < 1 || b[6] > 3 || b[7] != 0)
        return wse_error_set(err, WSE_ECONFIG, path, 0, 0, "unsupported .npy format version %u.%u (expected 1.0, 2.0 or 3.0)", b[6], b[7]);
    size_t nlen = b[6] == 1 ? 2 : 4;
    got = fread(b + 8, 1, nlen, f);
    if (got < nlen)
        return short_read(f, path, "preamble", 8 + got, 8 + nlen, err);
    *hlen = (uint32_t)b[8] | (uint32_t)b[9] << 8;
    if (nlen == 4)
        *hlen |= (uint32_t)b[10] << 16 | (uint32_t)b[11] << 24;
    return 0;
}

static int read_header(FILE *f, const char *path, npy_header *h,
                       wse_error *err)
{
    uint32_t hlen = 0;
    int rc = read_preamble(f, path, &hlen, err);
    if (rc)
        return rc;
    if (hlen > NPY_MAX_HEADER)
        return wse_error_set(err, WSE_ECONFIG, path, 0, 0, "malformed .npy header: it claims %" PRIu32 " bytes (at most %u accepted)", hlen, NPY_MAX_HEADER);
    char *text = malloc((size_t)hlen + 1);
    if (!text)
        return wse_error_set(err, WSE_ENOMEM, path, 0, 0, "out of memory reading the .npy header");
    size_t got = fread(text, 1, hlen, f);
    if (got < hlen) {
        rc = short_read(f, path, "header", got, hlen, err);
    } else {
        char why[256];
        text[hlen] = '\0';
        memset(h, 0, sizeof *h);
        if (parse_header(text, h, why, sizeof why))
            rc = wse_error_set(err, WSE_ECONFIG, path, 0, 0, "malformed .npy header: %s", why);
    }
    free(text);
    return rc;
}

static int shape_equal(const npy_header *h, int ndim, const int64_t *shape)
{
    if (h->ndim != ndim)
        return 0;
    for (int i = 0; i < ndim; i++)
        if (h->shape[i] != shape[i])
            return 0;
    return 1;
}

static int check_header(const char *path, const npy_header *h, int dtype,
                        int ndim, const int64_t *shape, wse_error *err)
{
    const dtype_info *want = dtype_find(dtype);
    const dtype_info *got = dtype_from_descr(h->descr);
    if (got != want || !shape_equal(h, ndim, shape)) {
        char ws[256], gs[1024];
        format_shape(ws, sizeof ws, ndim, shape);
        format_shape(gs, sizeof gs, h->ndim, h->shape);
        return wse_error_set(err, WSE_ECONFIG, path, 0, 0, "wrong array: expected %s ('%s') of shape %s, found %s ('%s') of shape %s", want->name, want->descr, ws, got ? got->name : "an unsupported dtype", h->descr, gs);
    }
    if (h->fortran)
        return wse_error_set(err, WSE_ECONFIG, path, 0, 0, "Fortran-order arrays are not supported (save numpy.ascontiguousarray(a) instead)");
    return 0;
}

static int read_data(FILE *f, const char *path, void *data, size_t bytes,
                     wse_error *err)
{
    size_t got = bytes ? fread(data, 1, bytes, f) : 0;
    if (got < bytes)
        return short_read(f, path, "data", got, bytes, err);
    /* numpy writes nothing after the data; extra bytes mean the header
     * does not describe the file. */
    if (fgetc(f) != EOF)
        return wse_error_set(err, WSE_ECONFIG, path, 0, 0, "malformed .npy file: bytes follow the %zu bytes of data its header describes", bytes);
    return 0;
}

int wse_npy_read(const char *path, int dtype, int ndim, const int64_t *shape,
                 void *data, wse_error *err)
{
    uint64_t bytes;
    int rc = array_bytes(path, dtype, ndim, shape, &bytes, err);
    if (rc)
        return rc;
    if (bytes > 0 && !data)
        return wse_error_set(err, WSE_EINVAL, path, 0, 0, "no buffer for the array data");
    FILE *f = fopen(path, "rb");
    if (!f) {
        char why[256];
        return wse_error_set(err, WSE_EIO, path, 0, 0, "cannot open: %s", errno_text(errno, why, sizeof why));
    }
    npy_header h;
    rc = read_header(f, path, &h, err);
    if (rc == 0)
        rc = check_header(path, &h, dtype, ndim, shape, err);
    if (rc == 0)
        rc = read_data(f, path, data, (size_t)bytes, err);
    fclose(f);
    return rc;
}

int wse_npy_open_read(const char *path, int dtype, int ndim, const int64_t *shape,
                      FILE **out, wse_error *err)
{
    *out = NULL;
    uint64_t bytes;
    int rc = array_bytes(path, dtype, ndim, shape, &bytes, err);
    if (rc)
        return rc;
    FILE *f = fopen(path, "rb");
    if (!f) {
        char why[256];
        return wse_error_set(err, WSE_EIO, path, 0, 0, "cannot open: %s", errno_text(errno, why, sizeof why));
    }
    npy_header h;
    rc = read_header(f, path, &h, err);
    if (rc == 0)
        rc = check_header(path, &h, dtype, ndim, shape, err);
    long start = rc ? 0 : ftell(f);
    uint64_t have = 0;
    if (rc == 0 && fseek(f, 0, SEEK_END) != 0)
        rc = wse_error_set(err, WSE_EIO, path, 0, 0, "cannot seek");
    if (rc == 0)
        have = (uint64_t)ftell(f) - (uint64_t)start;
    if (rc == 0 && have < bytes)
        rc = wse_error_set(err, WSE_EIO, path, 0, 0,
                           "truncated .npy file: %" PRIu64 " bytes of data expected", bytes);
    /* as wse_npy_read: found before the run, not when verify reads it */
    if (rc == 0 && have > bytes)
        rc = wse_error_set(err, WSE_ECONFIG, path, 0, 0,
                           "malformed .npy file: bytes follow the %" PRIu64 " bytes of data its header describes",
                           bytes);
    if (rc == 0 && fseek(f, start, SEEK_SET) != 0)
        rc = wse_error_set(err, WSE_EIO, path, 0, 0, "cannot seek");
    if (rc) {
        fclose(f);
        return rc;
    }
    *out = f;
    return 0;
}

/* ------------------------------------------------------------ .npy writer */

/* Version 1.0 header, space-padded so the data starts at a multiple of 64
 * bytes (numpy's own alignment, which lets readers mmap the data).  The
 * buffer must hold 512 bytes; four int64 extents need far less. */
static size_t build_header(char *buf, int dtype, int ndim,
                           const int64_t *shape)
{
    char shp[160];
    format_shape(shp, sizeof shp, ndim, shape);
    memcpy(buf, npy_magic, 6);
    buf[6] = 1;
    buf[7] = 0;
    int len = snprintf(buf + 10, 512 - 10, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", dtype_find(dtype)->descr, shp);
    size_t end = 10 + (size_t)len + 1;             /* + the final '\n' */
    size_t total = (end + 63) / 64 * 64;
    memset(buf + 10 + len, ' ', total - end);
    buf[total - 1] = '\n';
    buf[8] = (char)((total - 10) & 0xff);
    buf[9] = (char)((total - 10) >> 8);
    return total;
}

int wse_npy_open(wse_npy_writer *w, const char *path, int dtype, int ndim,
                 const int64_t *shape, wse_error *err)
{
    if (!w)
        return wse_error_set(err, WSE_EINVAL, path, 0, 0, "no .npy writer given");
    memset(w, 0, sizeof *w);
    uint64_t bytes;
    int rc = array_bytes(path, dtype, ndim, shape, &bytes, err);
    if (rc)
        return rc;
    if (strlen(path) >= sizeof w->path)
        return wse_error_set(err, WSE_EINVAL, path, 0, 0, "output path is too long (limit %zu bytes)", sizeof w->path - 1);
    rc = tmp_name(w->tmp, sizeof w->tmp, path, err);
    if (rc)
        return rc;
    char header[512], why[256];
    size_t hlen = build_header(header, dtype, ndim, shape);
    FILE *f = fopen(w->tmp, "wb");
    if (!f)
        return wse_error_set(err, WSE_EIO, path, 0, 0, "cannot create '%s': %s", w->tmp, errno_text(errno, why, sizeof why));
    if (fwrite(header, 1, hlen, f) != hlen) {
        rc = wse_error_set(err, WSE_EIO, path, 0, 0, "cannot write '%s': %s", w->tmp, errno_text(errno, why, sizeof why));
        discard_tmp(f, w->tmp);
        return rc;
    }
    memcpy(w->path, path, strlen(path) + 1);
    w->expect_bytes = bytes;
    w->f = f;
    return 0;
}

int wse_npy_write(wse_npy_writer *w, const void *data, size_t bytes,
                  wse_error *err)
{
    if (!w || !w->f)
        return wse_error_set(err, WSE_EINVAL, w ? w->path : NULL, 0, 0, "write to a .npy writer that is not open");
    if (bytes == 0)
        return 0;
    if (!data)
        return wse_error_set(err, WSE_EINVAL, w->path, 0, 0, "no data to write");
    uint64_t room = w->written_bytes <= w->expect_bytes ? w->expect_bytes - w->written_bytes : 0;
    if (bytes > room) {
        /* Count the rejected bytes so that commit fails too. */
        uint64_t before = w->written_bytes;
        w->written_bytes = UINT64_MAX - before < bytes ? UINT64_MAX : before + bytes;
        return wse_error_set(err, WSE_EIO, w->path, 0, 0, "too much data: %zu more bytes after %" PRIu64 " of %" PRIu64, bytes, before, w->expect_bytes);
    }
    size_t put = fwrite(data, 1, bytes, w->f);
    w->written_bytes += put;
    if (put != bytes) {
        char why[256];
        return wse_error_set(err, WSE_EIO, w->path, 0, 0, "cannot write '%s': %s", w->tmp, errno_text(errno, why, sizeof why));
    }
    return 0;
}

int wse_npy_commit(wse_npy_writer *w, wse_error *err)
{
    if (!w || !w->f)
        return wse_error_set(err, WSE_EINVAL, w ? w->path : NULL, 0, 0, "commit of a .npy writer that is not open");
    FILE *f = w->f;
    w->f = NULL;
    if (w->written_bytes != w->expect_bytes) {
        discard_tmp(f, w->tmp);
        return wse_error_set(err, WSE_EIO, w->path, 0, 0, "incomplete array not written: %" PRIu64 " bytes of data given, %" PRIu64 " expected", w->written_bytes, w->expect_bytes);
    }
    return close_and_rename(f, w->tmp, w->path, err);
}

void wse_npy_abort(wse_npy_writer *w)
{
    if (!w || !w->f)
        return;
    discard_tmp(w->f, w->tmp);
    w->f = NULL;
}

int wse_npy_save(const char *path, int dtype, int ndim, const int64_t *shape,
                 const void *data, wse_error *err)
{
    wse_npy_writer w;
    int rc = wse_npy_open(&w, path, dtype, ndim, shape, err);
    if (rc)
        return rc;
    rc = wse_npy_write(&w, data, (size_t)w.expect_bytes, err);
    if (rc) {
        wse_npy_abort(&w);
        return rc;
    }
    return wse_npy_commit(&w, err);
}

/* ------------------------------------------------------------ digest */

uint64_t wse_digest(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;           /* the 64-bit FNV prime */
    }
    return h;
}

uint64_t wse_digest_u64(uint64_t h, uint64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    return wse_digest(h, b, sizeof b);
}

/* ------------------------------------------------------------ JSON */

void wse_json_init(wse_json *j, FILE *f)
{
    if (!j)
        return;
    memset(j, 0, sizeof *j);
    j->f = f;
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        case '\b': fputs("\\b", f); break;
        case '\f': fputs("\\f", f); break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", (unsigned)*p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

static int json_in_array(const wse_json *j)
{
    return (j->arrays >> j->depth) & 1u;
}

/* Separator, newline, indent and key before an item.  Returns 0 when the
 * item is to be written, -1 when it is dropped (no stream, too deep).
 * A NULL key inside an object becomes "" so the output stays JSON. */
static int json_item(wse_json *j, const char *key)
{
    if (!j || !j->f || j->depth > JSON_MAX_DEPTH)
        return -1;
    if (j->depth == 0)
        return 0;
    if (j->count[j->depth]++ > 0)
        fputc(',', j->f);
    fprintf(j->f, "\n%*s", 2 * j->depth, "");
    if (!json_in_array(j)) {
        json_string(j->f, key ? key : "");
        fputs(": ", j->f);
    }
    return 0;
}

/* A complete top-level value ends its line. */
static void json_done(wse_json *j)
{
    if (j->depth == 0)
        fputc('\n', j->f);
}

static void json_begin(wse_json *j, const char *key, int is_array)
{
    if (!j || !j->f)
        return;
    if (j->depth >= JSON_MAX_DEPTH) {
        j->depth++;                      /* dropped, but kept balanced */
        return;
    }
    json_item(j, key);
    fputc(is_array ? '[' : '{', j->f);
    j->depth++;
    j->count[j->depth] = 0;
    if (is_array)
        j->arrays |= 1u << j->depth;
    else
        j->arrays &= ~(1u << j->depth);
}

/* Closes whatever is open, so a mismatched end still gives valid JSON. */
static void json_end(wse_json *j)
{
    if (!j || !j->f || j->depth == 0)
        return;
    if (j->depth > JSON_MAX_DEPTH) {
        j->depth--;
        return;
    }
    int is_array = json_in_array(j);
    int items = j->count[j->depth];
    j->depth--;
    if (items > 0)
        fprintf(j->f, "\n%*s", 2 * j->depth, "");
    fputc(is_array ? ']' : '}', j->f);
    json_done(j);
}

void wse_json_object_begin(wse_json *j, const char *key)
{
    json_begin(j, key, 0);
}

void wse_json_object_end(wse_json *j)
{
    json_end(j);
}

void wse_json_array_begin(wse_json *j, const char *key)
{
    json_begin(j, key, 1);
}

void wse_json_array_end(wse_json *j)
{
    json_end(j);
}

void wse_json_str(wse_json *j, const char *key, const char *v)
{
    if (json_item(j, key))
        return;
    if (v)
        json_string(j->f, v);
    else
        fputs("null", j->f);
    json_done(j);
}

void wse_json_int(wse_json *j, const char *key, int64_t v)
{
    if (json_item(j, key))
        return;
    fprintf(j->f, "%" PRId64, v);
    json_done(j);
}

void wse_json_uint(wse_json *j, const char *key, uint64_t v)
{
    if (json_item(j, key))
        return;
    fprintf(j->f, "%" PRIu64, v);
    json_done(j);
}

void wse_json_num(wse_json *j, const char *key, double v)
{
    if (json_item(j, key))
        return;
    if (isfinite(v))
        fprintf(j->f, "%.17g", v);
    else
        fputs("null", j->f);             /* JSON has no NaN or Infinity */
    json_done(j);
}

void wse_json_bool(wse_json *j, const char *key, int v)
{
    if (json_item(j, key))
        return;
    fputs(v ? "true" : "false", j->f);
    json_done(j);
}

/* ------------------------------------------------------------ atomic files */

int wse_file_write_atomic(const char *path, int (*fill)(FILE *f, void *arg),
                          void *arg, wse_error *err)
{
    char tmp[1100], why[256];
    if (!path || !fill)
        return wse_error_set(err, WSE_EINVAL, path, 0, 0, "no path or no fill function given");
    int rc = tmp_name(tmp, sizeof tmp, path, err);
    if (rc)
        return rc;
    FILE *f = fopen(tmp, "w");
    if (!f)
        return wse_error_set(err, WSE_EIO, path, 0, 0, "cannot create '%s': %s", tmp, errno_text(errno, why, sizeof why));
    rc = fill(f, arg);
    if (rc != 0) {
        discard_tmp(f, tmp);
        /* fill may have recorded a better message in err; first wins. */
        rc = rc < 0 ? rc : WSE_EIO;
        return wse_error_set(err, rc, path, 0, 0, "not written: %s", wse_strerror(rc));
    }
    return close_and_rename(f, tmp, path, err);
}

/* ------------------------------------------------------------ PNG
 * An 8-bit RGB PNG without compression: the zlib stream is made of stored
 * deflate blocks, so no zlib is needed; the files are larger than they
 * could be, which is no matter for maps of a few hundred pixels a side. */

static uint32_t png_crc(uint32_t c, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return c;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static int png_chunk(FILE *f, const char *type, const uint8_t *data, uint32_t n)
{
    uint8_t b[8];
    put_be32(b, n);
    memcpy(b + 4, type, 4);
    uint32_t c = png_crc(0xffffffffu, b + 4, 4);
    c = png_crc(c, data, n) ^ 0xffffffffu;
    fwrite(b, 1, 8, f);
    if (n)
        fwrite(data, 1, n, f);
    put_be32(b, c);
    fwrite(b, 1, 4, f);
    return ferror(f) ? WSE_EIO : 0;
}

typedef struct png_image { int w, h; const uint8_t *rgb; } png_image;

static int png_fill(FILE *f, void *arg)
{
    const png_image *im = arg;
    static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
    uint64_t row = 1 + 3 * (uint64_t)im->w, raw = row * (uint64_t)im->h;
    uint64_t blocks = raw / 65535 + 1;
    uint64_t n = 2 + blocks * 5 + raw + 4;
    if (n > 0x7fffffffu)
        return WSE_EINVAL;
    uint8_t *z = malloc((size_t)n);
    if (!z)
        return WSE_ENOMEM;
    uint8_t *p = z;
    *p++ = 0x78;                 /* deflate, 32 KiB window, no dictionary */
    *p++ = 0x01;                 /* check bits: 0x7801 is a multiple of 31 */
    uint32_t a = 1, b = 0;       /* Adler-32 of the raw bytes */
    uint64_t left = raw, at = 0;
    for (uint64_t k = 0; k < blocks; k++) {
        uint32_t len = left > 65535 ? 65535 : (uint32_t)left;
        *p++ = k + 1 == blocks;  /* BFINAL, BTYPE 00: stored */
        *p++ = (uint8_t)len;
        *p++ = (uint8_t)(len >> 8);
        *p++ = (uint8_t)~len;
        *p++ = (uint8_t)(~len >> 8);
        for (uint32_t i = 0; i < len; i++, at++) {
            uint64_t y = at / row, x = at % row;
            uint8_t v = x == 0 ? 0 : im->rgb[y * 3 * (uint64_t)im->w + x - 1];   /* filter 0 */
            *p++ = v;
            a = (a + v) % 65521u;
            b = (b + a) % 65521u;
        }
        left -= len;
    }
    put_be32(p, (b << 16) | a);
    uint8_t ihdr[13];
    put_be32(ihdr, (uint32_t)im->w);
    put_be32(ihdr + 4, (uint32_t)im->h);
    ihdr[8] = 8;                 /* bits per channel */
    ihdr[9] = 2;                 /* RGB */
    ihdr[10] = ihdr[11] = ihdr[12] = 0;
    fwrite(sig, 1, sizeof sig, f);
    int rc = png_chunk(f, "IHDR", ihdr, sizeof ihdr);
    if (!rc)
        rc = png_chunk(f, "IDAT", z, (uint32_t)n);
    if (!rc)
        rc = png_chunk(f, "IEND", NULL, 0);
    free(z);
    return rc;
}

int wse_png_save(const char *path, int w, int h, const uint8_t *rgb, wse_error *err)
{
    if (w < 1 || h < 1 || !rgb)
        return wse_error_set(err, WSE_EINVAL, path, 0, 0, "empty image");
    png_image im = { w, h, rgb };
    return wse_file_write_atomic(path, png_fill, &im, err);
}
