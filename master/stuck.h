/* stuck.h: workers that no longer get jobs (docs/config.md, stuck_after):
 * a function has had jobs waiting on a server for stuck_after while idle
 * workers of ours, registered for it there (gearmand lists them), took
 * none. They are replaced, at most once per stuck_after for a function on
 * a server, with one log line of the figures. */
#ifndef DS_STUCK_H
#define DS_STUCK_H

#include "master/master.h"

/* One of our workers seen idle and listed on a server, round after round
 * since `since`. */
struct ds_stuck_rec {
	pid_t pid;
	size_t server;
	int64_t since;
	int seen;		/* in this round */
};

void ds_stuck_round(struct ds_master *m, int64_t now);
void ds_stuck_forget(struct ds_master *m);

#endif
