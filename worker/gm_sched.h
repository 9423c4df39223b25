/* gm_sched.h: a worker's gearmand servers, each served on its own. The
 * worker polls every connection itself and keeps one GRAB_JOB in flight
 * at most, so it holds one job at a time; a server that leaves something
 * unanswered for longer than the bound is dropped and tried again after a
 * capped backoff, while the others go on giving work.
 *
 * The bound (unresponsive_ms) is loop_timeout, at least 1 s: a connect, a
 * GRAB_JOB, the echo that proves a new connection or checks an idle one
 * (sent after loop_timeout of silence), or an answer still unsent, each
 * that long overdue drops the server with one log line,
 * event=gearman_server_unresponsive. */
#ifndef DS_GM_SCHED_H
#define DS_GM_SCHED_H

#include <stddef.h>
#include <stdint.h>

#include "worker/gm_conn.h"
#include "worker/options.h"

#define DS_GM_BACKOFF_FIRST_MS 100
#define DS_GM_BACKOFF_MAX_MS 5000
#define DS_GM_UNRESPONSIVE_MIN_MS 1000

struct ds_gm_sched {
	const struct ds_worker_opts *o;
	struct ds_gm_conn *conns;
	size_t n;
	size_t rr;			/* where the next GRAB looks first */
	int64_t bound_ms;		/* unresponsive after this */
	/* when a poll last looked at every connection: a server is overdue
	 * only if a poll after its deadline found nothing from it (not
	 * because a long job kept us from reading its answer) */
	int64_t polled_ms;
	int64_t outage_since;		/* 0: some server answers */
	uint64_t up_mask;		/* bit i: server i answers */
	char last_error[600];
	char servers[512];		/* all of them, for log lines */
	char id[128];			/* our SET_CLIENT_ID */
};

/* A job as gearmand gave it: the strings point into the connection's
 * buffer, valid until the answer is sent. */
struct ds_gm_job {
	size_t server;
	const char *handle, *function, *unique, *workload;
	size_t workload_len;
};

/* The bound on a server's answers for a loop_timeout. */
int64_t ds_gm_unresponsive_ms(int64_t loop_timeout_ms);

int ds_gm_sched_init(struct ds_gm_sched *s, const struct ds_worker_opts *o,
    char *err, size_t errlen);
void ds_gm_sched_free(struct ds_gm_sched *s);

/* Moves every connection along for up to max_ms: 1 with a job in *job,
 * 0 when the time is up or a signal or the master's socket woke us. */
int ds_gm_wait(struct ds_gm_sched *s, int64_t max_ms, struct ds_gm_job *job);

/* Sends the answer to the job from job->server (WORK_COMPLETE with data,
 * or WORK_FAIL), with the next GRAB when more is set: 1 once it has left,
 * 0 when it could not be sent (the server is dropped, and gives the job
 * to another worker). */
int ds_gm_answer(struct ds_gm_sched *s, const struct ds_gm_job *job,
    int complete, const char *data, size_t len, int more);

/* gm_health.c, for gm_sched.c: a connection that failed (logged once an
 * outage of that server), one that left us waiting past the bound (one
 * line each time), and one whose first echo came back. */
void ds_gm_drop(struct ds_gm_sched *s, struct ds_gm_conn *c,
    const char *why);
void ds_gm_unresponsive(struct ds_gm_sched *s, struct ds_gm_conn *c,
    int64_t now);
void ds_gm_came_up(struct ds_gm_sched *s, struct ds_gm_conn *c, int64_t now);

#endif
