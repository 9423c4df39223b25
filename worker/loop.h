/* loop.h: the worker's job loop: grab a job from gearmand, POST it to the
 * endpoint, send the answer back, repeat until told to stop. */
#ifndef DS_LOOP_H
#define DS_LOOP_H

#include <signal.h>

#include "worker/options.h"

/* Flags set by the signal handlers in main.c. */
extern volatile sig_atomic_t ds_stop_requested;	/* 1 stop, 2 stop now */
extern volatile sig_atomic_t ds_drain_requested;
extern volatile sig_atomic_t ds_no_job_in_hand;	/* a stop may _exit(0) */

/* Runs until a stop, a drain, max_jobs_per_worker or the master's exit.
 * Returns the process exit status. */
int ds_worker_run(const struct ds_worker_opts *o);

#endif
