/* spawner.h: the master's spawner thread (spawner.c). */
#ifndef DS_SPAWNER_H
#define DS_SPAWNER_H

#include "master/spawn.h"

/* Starts the thread now rather than at the first post: an upgraded image
 * holds the same descriptors as the image before it. 0, or -1 errno. */
int ds_spawner_start(void);

/* Hands r to the spawner thread, started at the first call. 0, or -1
 * with errno set (r untouched). */
int ds_spawner_post(struct ds_spawn_req *r);

/* Readable when a request is done; -1 before the first post. */
int ds_spawner_fd(void);

/* The request done, waiting for it up to timeout_ms (-1: as long as it
 * takes, 0: not at all); NULL when none is done yet. */
struct ds_spawn_req *ds_spawner_take(int timeout_ms);

#endif
