/*
 * tests/test_io.c - .npy reading and writing, the digest, the JSON writer
 * and atomic file replacement.
 *
 * Every test works in its own mkdtemp directory under /tmp, which it
 * empties and removes at the end, so "no file and no temporary file was
 * left" is simply "the directory is empty".  Hand-made .npy files cover
 * header variants and corruptions numpy itself never writes.  The numpy
 * cross-check runs only when /usr/bin/python3 can import numpy, and says
 * so when it is skipped.
 */
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <CUnit/CUnit.h>
#include "wse/hostio.h"
#include "wse/io.h"
#include "wse/pe.h"
#include "test_list.h"

#define NDTYPES 7
#define MAXBYTES 4096

/* ------------------------------------------------------------ helpers */

static int make_dir(char *dir, size_t n)
{
    snprintf(dir, n, "/tmp/wse_io_XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

/* Entries may include one level of directories (the rename test). */
static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char p[1200];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (unlink(p) != 0)
            remove_dir(p);
    }
    closedir(d);
    rmdir(dir);
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static void path_in(char *buf, size_t n, const char *dir, const char *name)
{
    snprintf(buf, n, "%s/%s", dir, name);
}

static void write_raw(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(fwrite(data, 1, n, f), n);
    fclose(f);
}

static size_t read_raw(const char *path, void *data, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    size_t got = fread(data, 1, n, f);
    fclose(f);
    return got;
}

/* A hand-made .npy: preamble for version major.0, the header text as
 * given (no padding added), then data. */
static void write_npy(const char *path, int major, const char *header,
                      const void *data, size_t n)
{
    unsigned char buf[MAXBYTES];
    size_t hl = strlen(header), pre = major == 1 ? 10 : 12;
    CU_ASSERT_FATAL(pre + hl + n <= sizeof buf);
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)major;
    buf[7] = 0;
    for (size_t i = 0; i < pre - 8; i++)
        buf[8 + i] = (unsigned char)(hl >> (8 * i));
    memcpy(buf + pre, header, hl);
    if (n)
        memcpy(buf + pre + hl, data, n);
    write_raw(path, buf, pre + hl + n);
}

/* The error must carry code and path (in the formatted message too) and,
 * if given, needle in its text. */
static void check_error(const wse_error *e, int code, const char *path,
                        const char *needle)
{
    char buf[2048];
    wse_error_format(e, buf, sizeof buf);
    CU_ASSERT_EQUAL(e->code, code);
    CU_ASSERT_STRING_EQUAL(e->file, path);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, path));
    if (needle) {
        CU_ASSERT_PTR_NOT_NULL(strstr(e->msg, needle));
        if (!strstr(e->msg, needle))
            printf("\n    expected '%s' in: %s\n", needle, buf);
    }
}

static void expect_read_error(const char *path, int dtype, int ndim,
                              const int64_t *shape, int code,
                              const char *needle)
{
    unsigned char data[MAXBYTES];
    wse_error e;
    wse_error_clear(&e);
    CU_ASSERT_EQUAL(wse_npy_read(path, dtype, ndim, shape, data, &e), code);
    check_error(&e, code, path, needle);
}

/* Half-precision bits of a small non-negative integer (exact below 2048),
 * so float16 data can be checked without a float16 type. */
static uint16_t half_of_int(unsigned v)
{
    if (v == 0)
        return 0;
    unsigned e = 0;
    while ((v >> (e + 1)) != 0)
        e++;
    return (uint16_t)(((e + 15) << 10) | ((v << (10 - e)) & 0x3ff));
}

/* Element i of the test arrays is the value i % 200 in the given dtype. */
static void fill_values(int dtype, void *data, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        unsigned v = (unsigned)(i % 200);
        float fv = (float)v;
        int32_t iv = (int32_t)v;
        uint16_t hv = half_of_int(v), sv = (uint16_t)v;
        unsigned char uv = (unsigned char)v;
        switch (dtype) {
        case WSE_F32: memcpy((char *)data + 4 * i, &fv, 4); break;
        case WSE_I32:
        case WSE_U32: memcpy((char *)data + 4 * i, &iv, 4); break;
        case WSE_F16: memcpy((char *)data + 2 * i, &hv, 2); break;
        case WSE_I16: case WSE_U16: memcpy((char *)data + 2 * i, &sv, 2); break;
        default: memcpy((char *)data + i, &uv, 1); break;
        }
    }
}

/* ------------------------------------------------------------ tests */

static void test_dtype_helpers(void)
{
    static const size_t sizes[NDTYPES] = { 4, 4, 4, 1, 2, 2, 2 };
    static const char *const names[NDTYPES] = { "float32", "int32", "uint32", "uint8", "float16", "int16", "uint16" };
    for (int t = 0; t < NDTYPES; t++) {
        CU_ASSERT_EQUAL(wse_dtype_size(t), sizes[t]);
        CU_ASSERT_STRING_EQUAL(wse_dtype_name(t), names[t]);
    }
    CU_ASSERT_EQUAL(wse_dtype_size(-1), 0);
    CU_ASSERT_EQUAL(wse_dtype_size(NDTYPES), 0);
    CU_ASSERT_PTR_NOT_NULL(wse_dtype_name(99));
}

/* Save and read back one array; check the on-disk layout numpy expects. */
static void roundtrip_one(const char *dir, int dtype, int ndim,
                          const int64_t *shape)
{
    unsigned char in[MAXBYTES], out[MAXBYTES], file[MAXBYTES + 512];
    char path[256];
    size_t bytes = wse_dtype_size(dtype);
    for (int i = 0; i < ndim; i++)
        bytes *= (size_t)shape[i];
    for (size_t i = 0; i < bytes; i++)
        in[i] = (unsigned char)(i * 37 + (size_t)dtype * 11 + 1);
    memset(out, 0, sizeof out);
    path_in(path, sizeof path, dir, "a.npy");
    wse_error e;
    wse_error_clear(&e);
    CU_ASSERT_EQUAL(wse_npy_save(path, dtype, ndim, shape, in, &e), 0);
    CU_ASSERT_EQUAL(count_entries(dir), 1);
    CU_ASSERT_EQUAL(wse_npy_read(path, dtype, ndim, shape, out, &e), 0);
    CU_ASSERT_EQUAL(e.code, 0);
    CU_ASSERT_EQUAL(memcmp(in, out, bytes), 0);

    size_t n = read_raw(path, file, sizeof file);
    size_t data_at = 10 + (size_t)(file[8] | file[9] << 8);
    CU_ASSERT_EQUAL(memcmp(file, "\x93NUMPY\x01\x00", 8), 0);
    CU_ASSERT_EQUAL(data_at % 64, 0);
    CU_ASSERT_EQUAL(file[data_at - 1], '\n');
    CU_ASSERT_EQUAL(n, data_at + bytes);
    CU_ASSERT_EQUAL(memcmp(file + data_at, in, bytes), 0);
    remove(path);
}

static void test_roundtrip_all_dtypes(void)
{
    static const int64_t shapes[4][3] = { { 7, 0, 0 }, { 3, 5, 0 },
                                          { 2, 3, 4 }, { 0, 3, 0 } };
    static const int ndims[4] = { 1, 2, 3, 2 };
    char dir[64];
    CU_ASSERT_EQUAL_FATAL(make_dir(dir, sizeof dir), 0);
    for (int t = 0; t < NDTYPES; t++)
        for (int s = 0; s < 4; s++)
            roundtrip_one(dir, t, ndims[s], shapes[s]);
    CU_ASSERT_EQUAL(count_entries(dir), 0);
    remove_dir(dir);
}

/* Headers numpy would not write but that are valid: other key order,
 * double quotes, odd whitespace, no trailing comma, versions 2.0/3.0. */
static void test_header_variants(void)
{
    static const char *const headers[] = {
        "{'shape': (2, 3), 'fortran_order': False, 'descr': '<i4'}\n",
        "{ \"descr\" : \"<i4\" ,\n\t'fortran_order':False,'shape':( 2 , 3 , ) }    \n",
        "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }          \n",
    };
    static const int majors[] = { 1, 2, 3 };
    static const int64_t shape[2] = { 2, 3 };
    int32_t in[6] = { 1, -2, 3, -4, 5, 2147483647 }, out[6];
    char dir[64], path[256];
    wse_error e;
    CU_ASSERT_EQUAL_FATAL(make_dir(dir, sizeof dir), 0);
    path_in(path, sizeof path, dir, "v.npy");
    for (int i = 0; i < 3; i++) {
        write_npy(path, majors[i], headers[i], in, sizeof in);
        memset(out, 0, sizeof out);
        wse_error_clear(&e);
        CU_ASSERT_EQUAL(wse_npy_read(path, WSE_I32, 2, shape, out, &e), 0);
        CU_ASSERT_EQUAL(memcmp(in, out, sizeof in), 0);
    }
    /* uint8 with a '<' byte order, meaningless for one byte. */
    unsigned char b[3] = { 1, 2, 255 }, bo[3] = { 0 };
    const int64_t n3 = 3;
    write_npy(path, 1, "{'descr': '<u1', 'fortran_order': False, 'shape': (3,)}\n", b, 3);
    CU_ASSERT_EQUAL(wse_npy_read(path, WSE_U8, 1, &n3, bo, &e), 0);
    CU_ASSERT_EQUAL(memcmp(b, bo, 3), 0);
    remove_dir(dir);
}

static void test_read_errors_shape_dtype(void)
{
    static const int64_t s34[2] = { 3, 4 }, s43[2] = { 4, 3 }, s12 = 12;
    int32_t data[12] = { 0 };
    char dir[64], path[256];
    wse_error e;
    CU_ASSERT_EQUAL_FATAL(make_dir(dir, sizeof dir), 0);
    path_in(path, sizeof path, dir, "i32.npy");
    wse_error_clear(&e);
    CU_ASSERT_EQUAL_FATAL(wse_npy_save(path, WSE_I32, 2, s34, data, &e), 0);

    expect_read_error(path, WSE_F32, 2, s34, WSE_ECONFIG, "expected float32 ('<f4') of shape (3, 4), found int32 ('<i4') of shape (3, 4)");
    expect_read_error(path, WSE_I32, 2, s43, WSE_ECONFIG, "expected int32 ('<i4') of shape (4, 3), found int32 ('<i4') of shape (3, 4)");
    expect_read_error(path, WSE_I32, 1, &s12, WSE_ECONFIG, "of shape (12,), found");
    write_npy(path, 1, "{'descr': '>f8', 'fortran_order': False, 'shape': (3, 4), }\n", data, 48);
    expect_read_error(path, WSE_F32, 2, s34, WSE_ECONFIG, "unsupported dtype ('>f8')");
    write_npy(path, 1, "{'descr': '<i4', 'fortran_order': True, 'shape': (3, 4), }\n", data, 48);
    expect_read_error(path, WSE_I32, 2, s34, WSE_ECONFIG, "Fortran");
    remove_dir(dir);
}

static void test_read_errors_corrupt(void)
{
    static const int64_t s34[2] = { 3, 4 };
    static const char ok_header[] = "{'descr': '<i4', 'fortran_order': False, 'shape': (3, 4), }\n";
    unsigned char data[64] = { 0 };
    char dir[64], path[256], missing[256];
    CU_ASSERT_EQUAL_FATAL(make_dir(dir, sizeof dir), 0);
    path_in(path, sizeof path, dir, "bad.npy");
    path_in(missing, sizeof missing, dir, "missing.npy");

    expect_read_error(missing, WSE_I32, 2, s34, WSE_EIO, "cannot open");
    write_npy(path, 1, ok_header, data, 47);
    expect_read_error(path, WSE_I32, 2, s34, WSE_EIO, "ends inside the data (47 of 48 bytes)");
    write_npy(path, 1, ok_header, data, 49);
    expect_read_error(path, WSE_I32, 2, s34, WSE_ECONFIG, "bytes follow");
    write_raw(path, "this is not numpy at all", 24);
    expect_read_error(path, WSE_I32, 2, s34, WSE_ECONFIG, "not a .npy file");
    write_raw(path, "", 0);
    expect_read_error(path, WSE_I32, 2, s34, WSE_EIO, "truncated");
    write_raw(path, "\x93NUMPY\x01\x00\x40\x00{'descr'", 17);
    expect_read_error(path, WSE_I32, 2, s34, WSE_EIO, "ends inside the header");
    write_raw(path, "\x93NUMPY\x04\x00\x10\x00", 10);
    expect_read_error(path, WSE_I32, 2, s34, WSE_ECONFIG, "version 4.0");
    write_raw(path, "\x93NUMPY\x02\x00\xff\xff\xff\x7f", 12);
    expect_read_error(path, WSE_I32, 2, s34, WSE_ECONFIG, "claims");
    write_npy(path, 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (3, 4), 'x': 1}\n", data, 48);
    expect_read_error(path, WSE_I32, 2, s34, WSE_ECONFIG, "unknown key 'x'");
    write_npy(path, 1, "{'descr': '<i4', 'shape': (3, 4)}\n", data, 48);
    expect_read_error(path, WSE_I32, 2, s34, WSE_ECONFIG, "no 'fortran_order' key");
    write_npy(path, 1, "{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (3, 4)}\n", data, 48);
    expect_read_error(path, WSE_I32, 2, s34, WSE_ECONFIG, "structured");
    write_npy(path, 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (3, -4)}\n", data, 48);
    expect_read_error(path, WSE_I32, 2, s34, WSE_ECONFIG, "'shape'");
    write_npy(path, 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (3, 4)} junk\n", data, 48);
    expect_read_error(path, WSE_I32, 2, s34, WSE_ECONFIG, "after the header");
    remove_dir(dir);
}

static void test_writer_abort_and_underfill(void)
{
    static const int64_t shape[2] = { 4, 8 };
    float data[32];
    char dir[64], path[256];
    wse_npy_writer w;
    wse_error e;
    for (int i = 0; i < 32; i++)
        data[i] = (float)i * 0.25f;
    CU_ASSERT_EQUAL_FATAL(make_dir(dir, sizeof dir), 0);
    path_in(path, sizeof path, dir, "w.npy");

    wse_error_clear(&e);
    CU_ASSERT_EQUAL(wse_npy_open(&w, path, WSE_F32, 2, shape, &e), 0);
    CU_ASSERT_EQUAL(count_entries(dir), 1);          /* the temporary */
    CU_ASSERT_EQUAL(wse_npy_write(&w, data, 64, &e), 0);
    wse_npy_abort(&w);
    wse_npy_abort(&w);                               /* idempotent */
    CU_ASSERT_EQUAL(count_entries(dir), 0);

    CU_ASSERT_EQUAL(wse_npy_open(&w, path, WSE_F32, 2, shape, &e), 0);
    CU_ASSERT_EQUAL(wse_npy_write(&w, data, 64, &e), 0);
    CU_ASSERT_EQUAL(wse_npy_commit(&w, &e), WSE_EIO);
    check_error(&e, WSE_EIO, path, "64 bytes of data given, 128 expected");
    CU_ASSERT_EQUAL(count_entries(dir), 0);
    CU_ASSERT_EQUAL(wse_npy_write(&w, data, 4, NULL), WSE_EINVAL);

    wse_error_clear(&e);
    CU_ASSERT_EQUAL(wse_npy_open(&w, path, WSE_F32, 2, shape, &e), 0);
    CU_ASSERT_EQUAL(wse_npy_write(&w, data, 96, &e), 0);
    CU_ASSERT_EQUAL(wse_npy_write(&w, data, 64, &e), WSE_EIO);
    check_error(&e, WSE_EIO, path, "too much data");
    CU_ASSERT_EQUAL(wse_npy_commit(&w, NULL), WSE_EIO);
    CU_ASSERT_EQUAL(count_entries(dir), 0);
    remove_dir(dir);
}

static void test_writer_bands_and_failures(void)
{
    static const int64_t shape[2] = { 4, 8 };
    float data[32], back[32], old[32];
    char dir[64], path[256], bad[256];
    wse_npy_writer w;
    wse_error e;
    for (int i = 0; i < 32; i++) {
        data[i] = (float)i * 0.25f;
        old[i] = -1.0f;
    }
    CU_ASSERT_EQUAL_FATAL(make_dir(dir, sizeof dir), 0);
    path_in(path, sizeof path, dir, "w.npy");

    /* An under-filled commit leaves an existing file untouched. */
    wse_error_clear(&e);
    CU_ASSERT_EQUAL(wse_npy_save(path, WSE_F32, 2, shape, old, &e), 0);
    CU_ASSERT_EQUAL(wse_npy_open(&w, path, WSE_F32, 2, shape, &e), 0);
    CU_ASSERT_EQUAL(wse_npy_commit(&w, NULL), WSE_EIO);
    CU_ASSERT_EQUAL(wse_npy_read(path, WSE_F32, 2, shape, back, &e), 0);
    CU_ASSERT_EQUAL(memcmp(back, old, sizeof old), 0);

    /* Band by band, replacing the old file. */
    CU_ASSERT_EQUAL(wse_npy_open(&w, path, WSE_F32, 2, shape, &e), 0);
    for (int band = 0; band < 4; band++)
        CU_ASSERT_EQUAL(wse_npy_write(&w, data + 8 * band, 32, &e), 0);
    CU_ASSERT_EQUAL(wse_npy_commit(&w, &e), 0);
    wse_npy_abort(&w);                               /* no-op after commit */
    CU_ASSERT_EQUAL(wse_npy_read(path, WSE_F32, 2, shape, back, &e), 0);
    CU_ASSERT_EQUAL(memcmp(back, data, sizeof data), 0);
    CU_ASSERT_EQUAL(count_entries(dir), 1);

    /* Open fails (no such directory): commit and abort do nothing. */
    path_in(bad, sizeof bad, dir, "nodir/x.npy");
    CU_ASSERT_EQUAL(wse_npy_open(&w, bad, WSE_F32, 2, shape, &e), WSE_EIO);
    check_error(&e, WSE_EIO, bad, "cannot create");
    CU_ASSERT_EQUAL(wse_npy_commit(&w, NULL), WSE_EINVAL);
    wse_npy_abort(&w);
    wse_error_clear(&e);
    CU_ASSERT_EQUAL(wse_npy_open(&w, path, 9, 2, shape, &e), WSE_EINVAL);
    CU_ASSERT_EQUAL(wse_npy_open(&w, path, WSE_F32, WSE_NPY_MAX_DIMS + 1, shape, NULL), WSE_EINVAL);

    /* rename() fails when the target is a non-empty directory. */
    path_in(bad, sizeof bad, dir, "sub");
    CU_ASSERT_EQUAL_FATAL(mkdtemp(strcat(bad, "XXXXXX")) != NULL, 1);
    char inner[300];
    path_in(inner, sizeof inner, bad, "f");
    write_raw(inner, "x", 1);
    wse_error_clear(&e);
    CU_ASSERT_EQUAL(wse_npy_save(bad, WSE_F32, 2, shape, data, &e), WSE_EIO);
    check_error(&e, WSE_EIO, bad, "cannot rename");
    CU_ASSERT_EQUAL(count_entries(dir), 2);          /* w.npy and sub */
    remove_dir(dir);
}

static void test_digest(void)
{
    CU_ASSERT_EQUAL(wse_digest(WSE_DIGEST_INIT, "", 0), 0xcbf29ce484222325ULL);
    CU_ASSERT_EQUAL(wse_digest(WSE_DIGEST_INIT, NULL, 0), 0xcbf29ce484222325ULL);
    CU_ASSERT_EQUAL(wse_digest(WSE_DIGEST_INIT, "a", 1), 0xaf63dc4c8601ec8cULL);
    CU_ASSERT_EQUAL(wse_digest(WSE_DIGEST_INIT, "foobar", 6), 0x85944171f73967e8ULL);
    uint64_t h = wse_digest(WSE_DIGEST_INIT, "foo", 3);
    CU_ASSERT_EQUAL(wse_digest(h, "bar", 3), 0x85944171f73967e8ULL);
    const unsigned char le[8] = { 8, 7, 6, 5, 4, 3, 2, 1 };
    CU_ASSERT_EQUAL(wse_digest_u64(WSE_DIGEST_INIT, 0x0102030405060708ULL), 0x0c6d4496e17859d5ULL);
    CU_ASSERT_EQUAL(wse_digest_u64(WSE_DIGEST_INIT, 0x0102030405060708ULL), wse_digest(WSE_DIGEST_INIT, le, 8));
}

static void write_sample_json(wse_json *j)
{
    wse_json_object_begin(j, NULL);
    wse_json_str(j, "name", "say \"hi\"\\ \n\t\x01");
    wse_json_int(j, "neg", -5);
    wse_json_uint(j, "big", UINT64_MAX);
    wse_json_num(j, "pi", 0.1);
    wse_json_num(j, "nan", NAN);
    wse_json_num(j, "inf", -INFINITY);
    wse_json_bool(j, "ok", 1);
    wse_json_str(j, "none", NULL);
    wse_json_array_begin(j, "list");
    wse_json_int(j, NULL, 1);
    wse_json_num(j, NULL, 2.5);
    wse_json_object_begin(j, NULL);
    wse_json_bool(j, "f", 0);
    wse_json_object_end(j);
    wse_json_array_begin(j, NULL);
    wse_json_array_end(j);
    wse_json_str(j, "ignored", "x");
    wse_json_array_end(j);
    wse_json_object_begin(j, "empty");
    wse_json_object_end(j);
    wse_json_object_end(j);
}

static const char sample_json[] =
    "{\n"
    "  \"name\": \"say \\\"hi\\\"\\\\ \\n\\t\\u0001\",\n"
    "  \"neg\": -5,\n"
    "  \"big\": 18446744073709551615,\n"
    "  \"pi\": 0.10000000000000001,\n"
    "  \"nan\": null,\n"
    "  \"inf\": null,\n"
    "  \"ok\": true,\n"
    "  \"none\": null,\n"
    "  \"list\": [\n"
    "    1,\n"
    "    2.5,\n"
    "    {\n"
    "      \"f\": false\n"
    "    },\n"
    "    [],\n"
    "    \"x\"\n"
    "  ],\n"
    "  \"empty\": {}\n"
    "}\n";

static void test_json_exact(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    wse_json j;
    wse_json_init(&j, f);
    write_sample_json(&j);
    fclose(f);
    CU_ASSERT_STRING_EQUAL(buf, sample_json);
    if (strcmp(buf, sample_json) != 0)
        printf("\n    got:\n%s", buf);
    free(buf);
}

/* Nesting past the 31 levels the writer tracks is dropped, but the output
 * stays balanced and the writer usable afterwards. */
static void test_json_too_deep(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    wse_json j;
    wse_json_init(&j, f);
    for (int i = 0; i < 40; i++)
        wse_json_array_begin(&j, NULL);
    wse_json_int(&j, NULL, 7);
    for (int i = 0; i < 40; i++)
        wse_json_array_end(&j);
    wse_json_array_end(&j);                          /* one too many */
    CU_ASSERT_EQUAL(j.depth, 0);
    fclose(f);
    int open = 0, close = 0;
    for (const char *p = buf; *p; p++) {
        open += *p == '[';
        close += *p == ']';
    }
    CU_ASSERT_EQUAL(open, 31);
    CU_ASSERT_EQUAL(close, 31);
    CU_ASSERT_PTR_NULL(strchr(buf, '7'));
    free(buf);
}

static int fill_json(FILE *f, void *arg)
{
    (void)arg;
    wse_json j;
    wse_json_init(&j, f);
    write_sample_json(&j);
    return 0;
}

static int fill_fails(FILE *f, void *arg)
{
    fputs("partial", f);
    return *(const int *)arg;
}

static void test_file_write_atomic(void)
{
    char dir[64], path[256], got[1024];
    wse_error e;
    CU_ASSERT_EQUAL_FATAL(make_dir(dir, sizeof dir), 0);
    path_in(path, sizeof path, dir, "r.json");
    wse_error_clear(&e);
    CU_ASSERT_EQUAL(wse_file_write_atomic(path, fill_json, NULL, &e), 0);
    size_t n = read_raw(path, got, sizeof got - 1);
    got[n] = '\0';
    CU_ASSERT_STRING_EQUAL(got, sample_json);
    CU_ASSERT_EQUAL(count_entries(dir), 1);

    int code = WSE_EVERIFY;
    CU_ASSERT_EQUAL(wse_file_write_atomic(path, fill_fails, &code, &e), WSE_EVERIFY);
    check_error(&e, WSE_EVERIFY, path, NULL);
    n = read_raw(path, got, sizeof got - 1);        /* old file intact */
    got[n] = '\0';
    CU_ASSERT_STRING_EQUAL(got, sample_json);
    CU_ASSERT_EQUAL(count_entries(dir), 1);
    remove(path);
    CU_ASSERT_EQUAL(wse_file_write_atomic(path, fill_fails, &code, NULL), WSE_EVERIFY);
    CU_ASSERT_EQUAL(count_entries(dir), 0);
    remove_dir(dir);
}

/* ------------------------------------------------------------ numpy */

/* Run a command and capture its standard output (at most n-1 bytes). */
static int run_capture(const char *cmd, char *out, size_t n)
{
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t got = fread(out, 1, n - 1, p);
    out[got] = '\0';
    return pclose(p);
}

static void numpy_reads_ours(const char *dir)
{
    static const int64_t shape[3] = { 2, 3, 4 };
    static const char *const want[NDTYPES] = {
        "276 (2, 3, 4) float32\n", "276 (2, 3, 4) int32\n",
        "276 (2, 3, 4) uint32\n", "276 (2, 3, 4) uint8\n",
        "276 (2, 3, 4) float16\n", "276 (2, 3, 4) int16\n", "276 (2, 3, 4) uint16\n" };
    unsigned char data[96];
    char path[256], cmd[1024], out[256];
    for (int t = 0; t < NDTYPES; t++) {
        wse_error e;
        wse_error_clear(&e);
        fill_values(t, data, 24);
        path_in(path, sizeof path, dir, "ours.npy");
        CU_ASSERT_EQUAL(wse_npy_save(path, t, 3, shape, data, &e), 0);
        snprintf(cmd, sizeof cmd, "/usr/bin/python3 -c 'import sys, numpy as np; a = np.load(sys.argv[1]); print(int(a.astype(np.int64).sum()), a.shape, a.dtype)' %s", path);
        CU_ASSERT_EQUAL(run_capture(cmd, out, sizeof out), 0);
        CU_ASSERT_STRING_EQUAL(out, want[t]);
    }
}

static void we_read_numpys(const char *dir)
{
    static const int64_t shape[3] = { 2, 3, 4 }, s2[2] = { 2, 3 };
    static const char *const names[NDTYPES] = { "float32", "int32", "uint32", "uint8", "float16", "int16", "uint16" };
    char cmd[1024], path[256], out[256];
    snprintf(cmd, sizeof cmd, "cd %s && /usr/bin/python3 -c 'import numpy as np\n"
             "for t in [\"float32\", \"int32\", \"uint32\", \"uint8\", \"float16\", \"int16\", \"uint16\"]:\n"
             "    a = (np.arange(24) %% 200).astype(t).reshape(2, 3, 4)\n"
             "    np.save(t + \".npy\", a)\n"
             "    with open(t + \".v2.npy\", \"wb\") as f: np.lib.format.write_array(f, a, version=(2, 0))\n"
             "    with open(t + \".v3.npy\", \"wb\") as f: np.lib.format.write_array(f, a, version=(3, 0))\n"
             "np.save(\"fortran.npy\", np.asfortranarray(np.ones((2, 3), np.float32)))\n"
             "print(\"ok\")'", dir);
    int rc = run_capture(cmd, out, sizeof out);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_STRING_EQUAL(out, "ok\n");
    if (rc != 0)
        return;
    static const char *const suffixes[3] = { ".npy", ".v2.npy", ".v3.npy" };
    for (int t = 0; t < NDTYPES; t++) {
        for (int v = 0; v < 3; v++) {
            unsigned char want[96], got[96];
            size_t bytes = 24 * wse_dtype_size(t);
            wse_error e;
            wse_error_clear(&e);
            fill_values(t, want, 24);
            memset(got, 0xee, sizeof got);
            snprintf(path, sizeof path, "%s/%s%s", dir, names[t], suffixes[v]);
            CU_ASSERT_EQUAL(wse_npy_read(path, t, 3, shape, got, &e), 0);
            CU_ASSERT_EQUAL(memcmp(want, got, bytes), 0);
        }
    }
    path_in(path, sizeof path, dir, "fortran.npy");
    expect_read_error(path, WSE_F32, 2, s2, WSE_ECONFIG, "Fortran");
}

/* Python's json module must accept our output and see the same values. */
static void python_parses_json(const char *dir)
{
    char path[256], cmd[1024], out[256];
    wse_error e;
    wse_error_clear(&e);
    path_in(path, sizeof path, dir, "r.json");
    CU_ASSERT_EQUAL(wse_file_write_atomic(path, fill_json, NULL, &e), 0);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 -c 'import sys, json; d = json.load(open(sys.argv[1])); print(repr(d[\"name\"]), d[\"pi\"] == 0.1, d[\"nan\"], d[\"list\"][2], d[\"big\"])' %s", path);
    CU_ASSERT_EQUAL(run_capture(cmd, out, sizeof out), 0);
    CU_ASSERT_STRING_EQUAL(out, "'say \"hi\"\\\\ \\n\\t\\x01' True None {'f': False} 18446744073709551615\n");
}

static int gen_shape(const void *params, int width, int height, int64_t shape[3])
{
    (void)params;
    shape[0] = height;
    shape[1] = width;
    return 2;
}

/* Generated inputs land in every element type: float16 rounded to
 * nearest even (it used to stay all zeros), integers saturating at their
 * type's range (the cast of an out-of-range double was undefined). */
static void test_generate_types(void)
{
    static const wse_array_spec arrays[] = {
        { "h", WSE_F16, 1, 0, "", gen_shape, NULL },
        { "b", WSE_U8, 1, 0, "", gen_shape, NULL },
        { "s", WSE_I16, 1, 0, "", gen_shape, NULL },
    };
    wse_program prog = { .api_version = WSE_API_VERSION, .name = "gen", .arrays = arrays, .n_arrays = 3 };
    wse_input in;
    memset(&in, 0, sizeof in);
    in.kind = WSE_INPUT_GENERATE;
    in.generator = WSE_GEN_INDEX;               /* value = element index */
    wse_error err;
    wse_host_array a;
    strcpy(in.name, "h");
    CU_ASSERT_EQUAL_FATAL(wse_hostio_input(&prog, NULL, 300, 10, &in, &a, &err), 0);
    const uint16_t *h = a.data;
    for (int i = 0; i <= 2048; i++)
        CU_ASSERT_EQUAL(pe_f16_to_f32(h[i]), (float)i);     /* integers to 2048 exact */
    CU_ASSERT_EQUAL(pe_f16_to_f32(h[2049]), 2048.0f);       /* ties to even */
    CU_ASSERT_EQUAL(pe_f16_to_f32(h[2051]), 2052.0f);
    wse_host_array_free(&a);
    strcpy(in.name, "b");
    CU_ASSERT_EQUAL_FATAL(wse_hostio_input(&prog, NULL, 300, 10, &in, &a, &err), 0);
    const uint8_t *b = a.data;
    CU_ASSERT(b[200] == 200 && b[255] == 255 && b[256] == 255 && b[2999] == 255);
    wse_host_array_free(&a);
    strcpy(in.name, "s");
    in.generator = WSE_GEN_RANDOM;
    in.lo = -1e6;
    in.hi = 1e6;
    CU_ASSERT_EQUAL_FATAL(wse_hostio_input(&prog, NULL, 300, 10, &in, &a, &err), 0);
    const int16_t *sv = a.data;
    int lo = 0, hi = 0;
    for (int i = 0; i < 3000; i++) {
        lo += sv[i] == INT16_MIN;
        hi += sv[i] == INT16_MAX;
    }
    CU_ASSERT(lo > 1000 && hi > 1000);      /* 97 % of [-1e6, 1e6) is out of range */
    wse_host_array_free(&a);
}

static void test_numpy_crosscheck(void)
{
    if (system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") != 0) {
        printf("\n    note: /usr/bin/python3 with numpy not found, numpy cross-check skipped\n");
        return;
    }
    char dir[64];
    CU_ASSERT_EQUAL_FATAL(make_dir(dir, sizeof dir), 0);
    numpy_reads_ours(dir);
    we_read_numpys(dir);
    python_parses_json(dir);
    remove_dir(dir);
}

int test_io_suite(void)
{
    CU_pSuite s = CU_add_suite("io", NULL, NULL);
    if (!s || !CU_add_test(s, "dtype sizes and names", test_dtype_helpers) ||
        !CU_add_test(s, "npy round trip, every dtype, 1-3 dims", test_roundtrip_all_dtypes) ||
        !CU_add_test(s, "npy header variants and versions", test_header_variants) ||
        !CU_add_test(s, "npy wrong dtype/shape, Fortran order", test_read_errors_shape_dtype) ||
        !CU_add_test(s, "npy truncated, garbage, bad headers", test_read_errors_corrupt) ||
        !CU_add_test(s, "npy writer abort, under- and over-fill", test_writer_abort_and_underfill) ||
        !CU_add_test(s, "npy writer bands, failed open, rename", test_writer_bands_and_failures) ||
        !CU_add_test(s, "FNV-1a 64 digest values", test_digest) ||
        !CU_add_test(s, "JSON exact output", test_json_exact) ||
        !CU_add_test(s, "JSON nesting limit", test_json_too_deep) ||
        !CU_add_test(s, "atomic text file", test_file_write_atomic) ||
        !CU_add_test(s, "numpy cross-check", test_numpy_crosscheck) ||
        !CU_add_test(s, "generated inputs of every type", test_generate_types))
        return CU_get_error();
    return 0;
}
