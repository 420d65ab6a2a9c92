/*
 * src/setup_int.h - running the program's setup on every PE of a shard.
 */
#ifndef WSE_SETUP_INT_H
#define WSE_SETUP_INT_H

#include "engine_int.h"

/* Run setup on every owned PE (checking SRAM budgets), then on the
 * neighbour shards' PEs along each side to learn their routes.  Returns 0
 * or the first error (e->err set). */
int wse__setup_shard(wse_engine *e);

#endif
