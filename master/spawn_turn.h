/* spawn_turn.h: the spawns of one turn of the master's loop
 * (spawn_turn.c), through the spawner thread and by a time budget. */
#ifndef DS_SPAWN_TURN_H
#define DS_SPAWN_TURN_H

#include "master/master.h"

/* Starts workers into the empty slots that are due, waiting for them for
 * about DS_SPAWN_BUDGET_US; returns 1 when spawns are still in the
 * spawner's hands (its pipe, ds_spawner_fd(), wakes the loop when one is
 * done), 0 when none is. */
int ds_spawn_turn(struct ds_master *m, int64_t now);

/* Takes the spawn in flight back from the spawner if it is done, waiting
 * up to timeout_ms (-1: until it is); 1 when it was. */
int ds_spawn_wait(struct ds_master *m, int timeout_ms);

/* 1 when the worker of pool's slot (DS_SLOT_SPARE: its roll's spare) is
 * in the spawner's hands. */
int ds_spawn_in_flight(const struct ds_master *m, const char *pool,
    int slot);

#endif
