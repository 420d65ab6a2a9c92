/*
 * tests/user_program.c - a PE program built outside wsemu, loaded with
 * `wsemu --program-lib`: every PE doubles its one fp32 value and adds its
 * x coordinate.  For the failure tests, the PEs of column fail_x fail on
 * purpose, in setup (fail_setup) or in their task.  Written against
 * wse/pe.h only; build it with
 *
 *     cc -shared -fPIC -Iinclude -o user_program.so tests/user_program.c
 */
#include <stddef.h>
#include "wse/pe.h"

typedef struct dbl_params { double factor; int64_t fail_x, fail_setup; } dbl_params;
typedef struct dbl_state { float v; } dbl_state;

static const wse_param_spec dbl_param_spec[] = {
    { "factor", WSE_PARAM_FLOAT, 2.0, -100.0, 100.0, offsetof(dbl_params, factor), "multiplier" },
    { "fail_x", WSE_PARAM_INT, -1, -1, 4095, offsetof(dbl_params, fail_x), "PEs of this column fail (-1: none)" },
    { "fail_setup", WSE_PARAM_BOOL, 0, 0, 1, offsetof(dbl_params, fail_setup), "they fail in setup, not in their task" },
};

/* ---------------------------------------------------------- device: runs on every PE */

enum { T_RUN = WSE_LOCAL_TASK(0) };

static int dbl_setup(wse_pe *pe, void *state)
{
    (void)state;
    const dbl_params *p = pe_params(pe);
    if (p->fail_setup && pe_x(pe) == p->fail_x) {
        pe_fail(pe, "failing in setup on purpose (fail_x = %d)", (int)p->fail_x);
        return 0;
    }
    pe_bind_local_task(pe, T_RUN);
    pe_activate(pe, T_RUN);
    return 0;
}

static void dbl_task(wse_pe *pe, void *state, int task, uint32_t payload)
{
    (void)task; (void)payload;
    dbl_state *s = state;
    const dbl_params *p = pe_params(pe);
    if (pe_x(pe) == p->fail_x) {
        pe_fail(pe, "failing on purpose (fail_x = %d)", (int)p->fail_x);
        return;
    }
    float one = (float)pe_x(pe);
    pe_vaxpy_f32(pe, &s->v, (float)p->factor, &s->v, &one, 1);
    pe_finish(pe);
}

/* ---------------------------------------------------------- host */

static int dbl_shape(const void *params, int width, int height, int64_t shape[3])
{
    (void)params;
    shape[0] = height;
    shape[1] = width;
    return 2;
}

static void dbl_block(const wse_pe *pe, const void *state, wse_array_block *b)
{
    b->ptr = &((dbl_state *)state)->v;
    b->origin[0] = pe_y(pe);
    b->origin[1] = pe_x(pe);
    b->extent[0] = b->extent[1] = b->extent[2] = 1;
    b->stride[0] = b->stride[1] = b->stride[2] = 1;
}

static const wse_array_spec dbl_arrays[] = {
    { "v0", WSE_F32, 1, 0, "input, float32 [height, width]", dbl_shape, dbl_block },
    { "v", WSE_F32, 0, 1, "factor * v0 + x, float32 [height, width]", dbl_shape, dbl_block },
};

static int dbl_reference(const void *params, int width, int height, void *const *arrays)
{
    const dbl_params *p = params;
    const float *in = arrays[0];
    float *out = arrays[1];
    for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
            out[y * width + x] = (float)p->factor * in[y * width + x] + (float)x;
    return 0;
}

static double dbl_tolerance(const void *params, int width, int height)
{
    (void)params; (void)width; (void)height;
    return 0.0;
}

static double dbl_flops(const void *params, int width, int height)
{
    (void)params;
    return 2.0 * width * height;
}

/* Built with -DUSER_API_VERSION=N, it claims another version of the PE API
 * (the cli test checks that wsemu refuses it). */
#ifndef USER_API_VERSION
#define USER_API_VERSION WSE_API_VERSION
#endif

static const wse_program dbl_program = {
    .api_version = USER_API_VERSION,
    .name = "user_double",
    .summary = "an out-of-tree test program: v = factor * v0 + x",
    .params_size = sizeof(dbl_params),
    .params = dbl_param_spec,
    .n_params = 3,
    .arrays = dbl_arrays,
    .n_arrays = 2,
    .device = { .state_size = sizeof(dbl_state), .setup = dbl_setup, .task = dbl_task },
    .host = { .reference = dbl_reference, .tolerance = dbl_tolerance, .useful_flops = dbl_flops },
};

const wse_program *wse_user_program(int i)
{
    return i == 0 ? &dbl_program : NULL;
}
