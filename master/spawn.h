/* spawn.h: starting a child process of the master (spawn.c). */
#ifndef DS_SPAWN_H
#define DS_SPAWN_H

#include <sys/types.h>

#include "common/worker_args.h"
#include "master/master.h"
#include "master/table.h"

/* One worker to start: what posix_spawn needs, and what came of it. */
struct ds_spawn_req {
	const char *path;
	struct ds_worker_argv argv;
	char **env;
	int sock;		/* the child's end of its socketpair */
	int page;		/* its slot page */
	pid_t pid;		/* the child; -1: not started */
	int err;		/* errno when not started */
};

/* fork/exec of path, the child holding a socketpair as DS_WORKER_FD. */
pid_t ds_spawn_child(const char *path, char **argv, char **env, int page,
    int *fd);
/* Readies the start of the worker of p's slot: its slot page mapped into
 * c, a socketpair (our end in *fd), argv and environment in r. 0, or -1
 * with errno set and nothing left open. */
int ds_spawn_prepare(struct ds_master *m, struct ds_pool_rt *p, int slot,
    struct ds_child *c, struct ds_spawn_req *r, int *fd);
/* posix_spawn of r (any thread): sets r->pid, or r->err. */
void ds_spawn_run(struct ds_spawn_req *r);
/* Closes what the child took over and frees argv and environment. */
void ds_spawn_release(struct ds_spawn_req *r);

#endif
