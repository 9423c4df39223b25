/* spawn.h: starting a child process of the master (spawn.c). */
#ifndef DS_SPAWN_H
#define DS_SPAWN_H

#include <sys/types.h>

#include "master/master.h"
#include "master/table.h"

/* fork/exec of path, the child holding a socketpair as DS_WORKER_FD. */
pid_t ds_spawn_child(const char *path, char **argv, char **env, int page,
    int *fd);
/* Starts the worker of p's slot for the table entry c (its slot page
 * opened into c); returns its pid and our end of its socketpair in *fd,
 * or -1 with errno set (c's page then closed). */
pid_t ds_spawn_worker(struct ds_master *m, struct ds_pool_rt *p, int slot,
    struct ds_child *c, int *fd);

#endif
