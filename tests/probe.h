/*
 * tests/probe.h - a toy topology and a configurable probe program for
 * engine tests, so each case states its fabric, routes and timings inline.
 */
#ifndef WSE_TEST_PROBE_H
#define WSE_TEST_PROBE_H

#include <stdint.h>
#include "wse/engine.h"

#define PROBE_MAX_LOG 64

/* What one PE does.  Set per PE by the scenario function. */
typedef struct probe_state {
    uint32_t log_n;                     /* entries in log */
    uint64_t log_cycle[PROBE_MAX_LOG];  /* cycle each event happened */
    uint32_t log_value[PROBE_MAX_LOG];  /* payload or task id */
    uint32_t expect;                    /* tasks to run (data or local) before finishing */
    uint32_t charge;                    /* extra cycles each data task costs */
    uint32_t out_words[PROBE_MAX_LOG];  /* source data for fabout */
    uint32_t in_words[PROBE_MAX_LOG];   /* fabin destination */
    int32_t send_color, send_n, second_task;
    uint32_t flags;
    int32_t unblock_by, unblock_target;  /* 0 = none, else task id + 1 */
    int32_t vec_task, vec_n;             /* task id + 1 running a vector op */
    uint32_t data_colors;                /* colors bound as data tasks */
    int32_t task_x, task_y;              /* pe_x/pe_y seen inside the last task */
    int32_t scribble;                    /* a task writes just past the state */
    int32_t fabin_color;                 /* + 1: the start task receives 4 words on it */
    float vec[256];
} probe_state;

typedef struct probe_params {
    /* Called from setup for every PE: configure routes, tasks and state. */
    void (*scenario)(wse_pe *pe, probe_state *s, const struct probe_params *p);
    int n;               /* words to send */
    int arg;             /* scenario-specific */
} probe_params;

extern const wse_program probe_program;

/* A small topology with round numbers: queue_depth and latency given. */
wse_topology probe_topology(int width, int height, int depth, int latency);

/* Run a scenario on a width x height region; returns the engine (caller
 * destroys) and the run's return code in *rc. */
wse_engine *probe_run(const wse_topology *t, int width, int height,
                      const probe_params *p, int *rc, wse_error *err);

/* The probe state of PE (x, y) of e (through the "log_n" array's block),
 * or NULL if e does not own that PE. */
probe_state *probe_at(wse_engine *e, int x, int y);

/* Record an event in the PE's log, with the cycle the current task
 * started. */
void probe_log(wse_pe *pe, probe_state *s, uint32_t value);

/* Make pe stream n words (base, base+1, ...) out on color through tx with
 * an asynchronous fabout started at cycle 0. */
void probe_source(wse_pe *pe, probe_state *s, int color, unsigned tx, int n, uint32_t base);

/* Make pe take n wavelets of color arriving from rx, each data task
 * costing `charge` extra cycles. */
void probe_sink(wse_pe *pe, probe_state *s, int color, unsigned rx, int n, int charge);

/* Bind a data task for color and remember it is one. */
void probe_bind_data(wse_pe *pe, probe_state *s, int color);

/* Task ids the probe uses. */
enum { PROBE_T_START = 23, PROBE_T_SECOND = 24, PROBE_T_DONE = 25,
       PROBE_T_LOGGER = 26 };   /* local task ids above every program color */

#endif
