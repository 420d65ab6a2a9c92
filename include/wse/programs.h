/*
 * wse/programs.h - the built-in workloads.
 *
 * Each workload is one file in src/programs/ written against wse/pe.h alone,
 * exporting one const wse_program.  To add one, write the file, declare it
 * here, list it in registry.c and in CMakeLists.txt.
 */
#ifndef WSE_PROGRAMS_H
#define WSE_PROGRAMS_H

#include "wse/pe.h"

extern const wse_program wse_program_heat2d;
extern const wse_program wse_program_cg;
extern const wse_program wse_program_stencil25;
extern const wse_program wse_program_stencil7;
extern const wse_program wse_program_bandwidth;
extern const wse_program wse_program_life;
extern const wse_program wse_program_gemv;
extern const wse_program wse_program_allreduce;
extern const wse_program wse_program_rowscale;

/* The program named `name`, or NULL. */
const wse_program *wse_program_find(const char *name);

/* The i-th built-in program, or NULL past the end (for listings). */
const wse_program *wse_program_at(int i);

/* Programs built outside wsemu: see WSE_USER_PROGRAM_SYMBOL in wse/pe.h. */
typedef const wse_program *(*wse_user_program_fn)(int i);

#endif
