/* signals.h: the worker's signal handling, in one place: the handlers
 * set flags; the loop reads them through these calls. */
#ifndef DS_WORKER_SIGNALS_H
#define DS_WORKER_SIGNALS_H

enum ds_stop_kind {
	DS_STOP_NONE = 0,
	DS_STOP_GRACEFUL,	/* SIGTERM: the job in hand gets 2 x loop_timeout */
	DS_STOP_NOW,		/* SIGINT or a second SIGTERM: fail it now */
};

/* Installs the handlers, then unblocks the stop signals the master kept
 * blocked across exec. */
void ds_worker_signals_init(void);

enum ds_stop_kind ds_stop_requested(void);
int ds_drain_requested(void);

/* While no job is in hand a stop exits at once, even from inside a
 * blocking libgearman call: gearmand hands a job it has just assigned to
 * another worker when our connection drops. */
void ds_set_no_job_in_hand(int none);

#endif
