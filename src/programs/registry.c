/* src/programs/registry.c - the table of built-in workloads. */
#include <string.h>
#include "wse/programs.h"

static const wse_program *const programs[] = {
    &wse_program_heat2d,
    &wse_program_cg,
    &wse_program_stencil25,
    &wse_program_stencil7,
    &wse_program_bandwidth,
    &wse_program_life,
    &wse_program_gemv,
    &wse_program_allreduce,
    &wse_program_rowscale,
};

const wse_program *wse_program_at(int i)
{
    if (i < 0 || i >= (int)(sizeof programs / sizeof programs[0]))
        return NULL;
    return programs[i];
}

const wse_program *wse_program_find(const char *name)
{
    for (int i = 0; wse_program_at(i); i++)
        if (strcmp(wse_program_at(i)->name, name) == 0)
            return wse_program_at(i);
    return NULL;
}
