/* queue.h: the queue monitor's record (ds_master.queue): its process,
 * kept by monitor.c, and the view its rounds fill (queue_view.h), read by
 * the pool sizing (scale.c) and the stuck worker check (stuck.c). Apart
 * from monitor.h so that those read it without reaching the monitor. */
#ifndef DS_QUEUE_H
#define DS_QUEUE_H

#include <stdint.h>
#include <sys/types.h>

#include "master/queue_view.h"

struct ds_queue {
	pid_t pid;		/* 0: none running */
	int fd;
	int64_t started_ms;
	int64_t restart_at;	/* monotonic ms; when pid is 0 */
	int64_t kill_at;	/* no round by then: it is hung */
	int64_t gather_until;	/* the rest of a round, read then; 0 none */
	int quick_deaths;
	int replace;		/* what it reads has changed: restart it */
	uint64_t bad;		/* messages refused this round */
	char *spec;		/* servers, functions, interval it was given */
	struct ds_queue_view view;
};

#endif
