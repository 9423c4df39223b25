/* children.h: the master's process table (children.c): spawn a worker
 * into a slot, follow its state in its slot page, reap it, restart it
 * with backoff, kill one that stays busy too long. */
#ifndef DS_CHILDREN_H
#define DS_CHILDREN_H

#include "master/master.h"
#include "master/spawn.h"
#include "master/table.h"

/* Room for one more child in the table, not counted until the caller
 * fills it in and raises nchildren; NULL when out of memory. */
struct ds_child *ds_child_room(struct ds_master *m);
/* Takes c out of its slot: it takes no new job and leaves after the one
 * in hand (SIGUSR1), or within 2 x loop_timeout (SIGTERM). */
void ds_retire(struct ds_master *m, struct ds_child *c, int sig);
void ds_signal_all(struct ds_master *m, int sig, int64_t kill_at);
/* What ds_reap does with a pid not in the table (the queue monitor, a
 * spawn in flight): returns the child it turns out to be, or NULL. */
typedef struct ds_child *ds_reaped_fn(struct ds_master *m, pid_t pid,
    int status);
void ds_reap(struct ds_master *m, ds_reaped_fn *other);
void ds_children_tick(struct ds_master *m, int64_t now);
int64_t ds_children_next_deadline(const struct ds_master *m);

/* The slot's child died after lived_ms: a quick death backs the slot off
 * (at once, then 1 s, 2 s, 4 s ... 30 s); a clean exit or a long life
 * clears it. */
void ds_schedule_restart(struct ds_pool_rt *p, int slot, int64_t lived_ms,
    int clean, int64_t now);
/* A worker of p could not be started: back the pool off, one log line a
 * step. */
void ds_pool_spawn_failed(struct ds_pool_rt *p, const char *why, int64_t now);

#endif
