/* loop.h: the worker's job loop: grab a job from gearmand, POST it to the
 * endpoint, send the answer back, repeat until told to stop. */
#ifndef DS_LOOP_H
#define DS_LOOP_H

#include "worker/options.h"

/* Runs until a stop, a drain, max_jobs_per_worker or the master's exit.
 * Returns the process exit status. */
int ds_worker_run(const struct ds_worker_opts *o);

#endif
