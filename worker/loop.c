/* loop.c: the worker's blocking loop over libgearman (loop.h).
 *
 * Exactly one answer per job: every grabbed job gets WORK_COMPLETE or
 * WORK_FAIL before the next grab. A worker that dies with a job in hand
 * drops its gearmand connection, and gearmand hands the job to another
 * worker, so a kill loses nothing either. */
#include "worker/loop.h"

#include <libgearman-1.0/gearman.h>
#include <malloc.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/parse.h"
#include "common/text.h"
#include "worker/endpoint.h"
#include "worker/report.h"
#include "worker/signals.h"

#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 5000


struct loop {
	const struct ds_worker_opts *o;
	gearman_worker_st *gw;
	struct ds_endpoint ep;
	int64_t jobs_done;
	int64_t outage_since;	/* 0: connected (or not yet tried) */
	int64_t backoff_ms;
	int64_t stop_seen_ms;	/* when the job in hand first saw a stop */
	int in_job;		/* the last gearman_worker_work() ran a job */
	int answer_pending;	/* its answer is still to be sent */
	int answer_retries;
	struct {		/* the last job, counted once its answer left */
		int unreported;
		int outcome, http_status;
		int64_t started_ms;
	} last;
	char servers[512];	/* for log lines */
};

static int
should_abort(void *ctx)
{
	struct loop *l = ctx;
	int64_t now;

	if (ds_stop_requested() == DS_STOP_NOW)
		return 1;
	if (ds_stop_requested() == DS_STOP_NONE)
		return 0;
	now = ds_now_ms();
	if (l->stop_seen_ms == 0)
		l->stop_seen_ms = now;
	return now - l->stop_seen_ms >= 2 * l->o->loop_timeout_ms;
}

static gearman_worker_fn run_job;

static int
gearman_setup(struct loop *l, char *err, size_t errlen)
{
	const struct ds_worker_opts *o = l->o;
	char id[GEARMAN_MAX_IDENTIFIER];
	size_t off = 0;

	if ((l->gw = gearman_worker_create(NULL)) == NULL) {
		snprintf(err, errlen, "cannot create a gearman worker");
		return -1;
	}
	gearman_worker_add_options(l->gw, GEARMAN_WORKER_GRAB_UNIQ);
	gearman_worker_set_timeout(l->gw, (int)o->loop_timeout_ms);
	for (size_t i = 0; i < o->nservers; i++) {
		if (gearman_worker_add_server(l->gw, o->servers[i].host,
		    (in_port_t)o->servers[i].port) != GEARMAN_SUCCESS) {
			snprintf(err, errlen, "server %s:%d: %s",
			    o->servers[i].host, o->servers[i].port,
			    gearman_worker_error(l->gw));
			return -1;
		}
		off += (size_t)snprintf(l->servers + off, sizeof(l->servers) - off,
		    "%s%s:%d", i ? "," : "", o->servers[i].host,
		    o->servers[i].port);
		if (off >= sizeof(l->servers))
			off = sizeof(l->servers) - 1;
	}
	snprintf(id, sizeof(id), "%s:%d:%d", o->pool, o->slot, (int)getpid());
	gearman_worker_set_identifier(l->gw, id, strlen(id));
	for (size_t i = 0; i < o->nfunctions; i++) {
		if (gearman_worker_add_function(l->gw, o->functions[i], 0,
		    run_job, l) != GEARMAN_SUCCESS) {
			snprintf(err, errlen, "function %s: %s", o->functions[i],
			    gearman_worker_error(l->gw));
			return -1;
		}
	}
	return 0;
}

static void outage_ends(struct loop *l);

static __attribute__((noinline)) void
log_job_failure(const struct loop *l, const char *function,
    const char *handle, const struct ds_call *call)
{
	struct ds_lv f, h, r;

	ds_log(LOG_WARNING, "event=job_failed pool=%s function=%s handle=%s "
	    "outcome=%s http_status=%d reason=%s", l->o->pool,
	    DS_LV(f, function), DS_LV(h, handle),
	    ds_outcome_name(call->outcome), call->http_status,
	    DS_LV(r, call->reason));
}

static __attribute__((noinline)) void
log_job_done(const struct loop *l, const char *function, const char *handle,
    int64_t ms)
{
	struct ds_lv f, h;

	if (ds_log_current()->level < LOG_DEBUG)
		return;
	ds_log(LOG_DEBUG, "event=job_done pool=%s function=%s handle=%s "
	    "duration_ms=%lld", l->o->pool, DS_LV(f, function),
	    DS_LV(h, handle), (long long)ms);
}

/* Tells the master how the last job ended, now that we know whether its
 * answer reached gearmand: a job is counted once, and only as what
 * gearmand was told. */
static void
report_sent(struct loop *l, int sent)
{
	if (!l->last.unreported)
		return;
	l->last.unreported = 0;
	ds_report_done(sent ? l->last.outcome : DS_OUT_ANSWER_LOST,
	    l->last.http_status, ds_now_ms() - l->last.started_ms);
}

static __attribute__((noinline)) void
log_answer_lost(const struct loop *l, gearman_return_t rc)
{
	struct ds_lv e;

	/* gearmand gives the job to another worker when it sees this
	 * connection close */
	ds_log(LOG_WARNING, "event=job_answer_lost pool=%s slot=%d error=%s",
	    l->o->pool, l->o->slot, DS_LV(e, gearman_strerror(rc)));
}

/* Sends the job's answer ourselves: gearman_worker_work() reports success
 * even when the connection was lost under the answer, and a job must be
 * counted as what gearmand was told. An answer that is only part-sent when
 * the loop timeout strikes is left to libgearman, which finishes sending it
 * on the next gearman_worker_work(); loop_once() counts it then. */
static void *
answer(struct loop *l, gearman_job_st *job, struct ds_call *call,
    size_t *result_size, gearman_return_t *ret_ptr)
{
	int complete = call->outcome == DS_OUT_COMPLETE;
	gearman_return_t rc = complete ? gearman_job_send_complete(job,
	    call->data, call->len) : gearman_job_send_fail(job);

	*result_size = 0;
	*ret_ptr = complete ? GEARMAN_SUCCESS : GEARMAN_WORK_FAIL;
	if (rc == GEARMAN_IO_WAIT || rc == GEARMAN_TIMEOUT) {
		/* the answer is in libgearman's packet already; what we
		 * return is only freed, so it must be malloc'd */
		if (!complete || ds_call_own(call) < 0) {
			ds_call_done(&l->ep, call);
			return NULL;
		}
		*result_size = call->len;
		return call->data;	/* libgearman frees it */
	}
	ds_call_done(&l->ep, call);
	if (rc != GEARMAN_SUCCESS) {
		log_answer_lost(l, rc);
		/* never a WORK_COMPLETE with no data on a new connection */
		*ret_ptr = GEARMAN_WORK_FAIL;
	} else
		/* the job is finished: a WORK_FAIL return would make
		 * gearman_worker_work() end in GEARMAN_UNKNOWN_STATE, which
		 * looks like an outage */
		*ret_ptr = GEARMAN_SUCCESS;
	report_sent(l, rc == GEARMAN_SUCCESS);
	return NULL;
}

/* Called by gearman_worker_work() with a job in hand; libgearman sends
 * WORK_COMPLETE with what this returns, or WORK_FAIL, and frees the result. */
static void *
run_job(gearman_job_st *job, void *ctx, size_t *result_size,
    gearman_return_t *ret_ptr)
{
	struct loop *l = ctx;
	struct ds_job_view v = {
		.function = gearman_job_function_name(job),
		.handle = gearman_job_handle(job),
		.unique = gearman_job_unique(job),
		.workload = gearman_job_workload(job),
		.workload_len = gearman_job_workload_size(job),
	};
	struct ds_call call;
	int64_t started = ds_now_ms();

	ds_set_no_job_in_hand(0);
	l->in_job = 1;
	outage_ends(l);
	if (v.workload == NULL)
		v.workload = "";
	if (v.unique == NULL)
		v.unique = "";
	l->stop_seen_ms = 0;
	/* libgearman only grabs again once the last answer has left */
	report_sent(l, 1);
	ds_report_busy(v.handle, v.unique, v.function);
	ds_endpoint_call(&l->ep, &v, &call);
	if (call.outcome != DS_OUT_COMPLETE)
		log_job_failure(l, v.function, v.handle, &call);
	else
		log_job_done(l, v.function, v.handle, ds_now_ms() - started);
	l->last.unreported = 1;
	l->last.outcome = call.outcome;
	l->last.http_status = call.http_status;
	l->last.started_ms = started;
	l->jobs_done++;
	return answer(l, job, &call, result_size, ret_ptr);
}

static void
outage_begins(struct loop *l, gearman_return_t rc)
{
	struct ds_lv e;

	if (l->outage_since == 0) {
		l->outage_since = ds_now_ms();
		l->backoff_ms = BACKOFF_FIRST_MS;
		ds_log(LOG_ERR, "event=gearman_down pool=%s slot=%d servers=%s "
		    "error=%s", l->o->pool, l->o->slot, l->servers,
		    DS_LV(e, gearman_worker_error(l->gw) ?
		    gearman_worker_error(l->gw) : gearman_strerror(rc)));
		ds_report_state(DS_MSG_DISCONNECTED);
	} else if ((l->backoff_ms *= 2) > BACKOFF_MAX_MS) {
		l->backoff_ms = BACKOFF_MAX_MS;
	}
}

static void
outage_ends(struct loop *l)
{
	if (l->outage_since == 0)
		return;
	ds_log(LOG_NOTICE, "event=gearman_up pool=%s slot=%d servers=%s "
	    "down_ms=%lld", l->o->pool, l->o->slot, l->servers,
	    (long long)(ds_now_ms() - l->outage_since));
	l->outage_since = 0;
}

/* Waits out a backoff, waking early for a signal or the master's exit. */
static void
backoff_wait(const struct loop *l, int master_fd)
{
	struct pollfd pfd = {master_fd, POLLIN, 0};

	ds_set_no_job_in_hand(1);
	if (!ds_stop_requested() && !ds_drain_requested())
		poll(&pfd, master_fd >= 0 ? 1 : 0, (int)l->backoff_ms);
	ds_set_no_job_in_hand(0);
}

static const char *
why_stop(const struct loop *l)
{
	if (ds_stop_requested())
		return "stop";
	if (ds_drain_requested())
		return "drain";
	if (l->o->max_jobs > 0 && l->jobs_done >= l->o->max_jobs)
		return "max_jobs_per_worker";
	/* a poll per job would cost a system call each: look when idle;
	 * a busy worker hears of its master's death from PR_SET_PDEATHSIG */
	if (!l->in_job && ds_report_master_gone())
		return "master_gone";
	return NULL;
}

/* One gearman_worker_work() call. An answer libgearman could not send at
 * once (IO_WAIT, TIMEOUT) goes out at the start of the next call, so that
 * call must run, and may not be cut short by a stop, before we leave. */
static gearman_return_t
work(struct loop *l)
{
	int pending = l->answer_pending;
	gearman_return_t rc;

	ds_set_no_job_in_hand(!pending);
	/* a signal that came before the flag was set must not be missed */
	if (!pending && (ds_stop_requested() || ds_drain_requested())) {
		ds_set_no_job_in_hand(0);
		return GEARMAN_SHUTDOWN;
	}
	l->in_job = 0;
	rc = gearman_worker_work(l->gw);
	ds_set_no_job_in_hand(0);
	l->answer_pending = (rc == GEARMAN_IO_WAIT || rc == GEARMAN_TIMEOUT) &&
	    (l->in_job || pending) && l->answer_retries++ < 3;
	if (!l->answer_pending)
		l->answer_retries = 0;
	return rc;
}

static void
loop_once(struct loop *l)
{
	gearman_return_t rc;

	ds_report_state(l->outage_since ? DS_MSG_DISCONNECTED : DS_MSG_IDLE);
	rc = work(l);
	if (l->last.unreported && rc == GEARMAN_WORK_FAIL)
		rc = GEARMAN_SUCCESS;	/* the job was answered with WORK_FAIL */
	if (l->last.unreported && !l->answer_pending) {
		if (rc != GEARMAN_SUCCESS)
			log_answer_lost(l, rc);
		report_sent(l, rc == GEARMAN_SUCCESS);
	}
	switch (rc) {
	case GEARMAN_SUCCESS:
		outage_ends(l);
		return;
	case GEARMAN_TIMEOUT:
	case GEARMAN_NO_JOBS:
	case GEARMAN_IO_WAIT:
	case GEARMAN_SHUTDOWN:
		if (rc != GEARMAN_SHUTDOWN)
			outage_ends(l);
		/* a loop timeout's worth without work */
		if (!l->in_job && !l->answer_pending)
			ds_endpoint_idle(&l->ep);
		return;
	default:
		outage_begins(l, rc);
		backoff_wait(l, l->o->master_fd);
		return;
	}
}

/* Its buffers are on the heap and given back: on the stack they would put
 * libcurl's and gnutls's start-up frames (and the log line's) 5 KB lower,
 * pages the worker would keep resident for good; freed heap chunks are
 * reused by the job loop's buffers. */
static int
start_loop(struct loop *l)
{
	const struct ds_worker_opts *o = l->o;
	struct {
		char err[600], u[2048];
		struct ds_lv v;
	} *b = malloc(sizeof(*b));
	int rc = -1;

	ds_report_state(DS_MSG_STARTING);
	if (b == NULL) {
		ds_log(LOG_ERR, "event=worker_failed pool=%s slot=%d "
		    "error=\"out of memory\"", o->pool, o->slot);
		return -1;
	}
	if (ds_endpoint_init(&l->ep, o, b->err, sizeof(b->err)) < 0 ||
	    gearman_setup(l, b->err, sizeof(b->err)) < 0) {
		ds_log(LOG_ERR, "event=worker_failed pool=%s slot=%d error=%s",
		    o->pool, o->slot, DS_LV(b->v, b->err));
		goto out;
	}
	l->ep.should_abort = should_abort;
	l->ep.abort_ctx = l;
	ds_log(LOG_INFO, "event=worker_start pool=%s slot=%d servers=%s "
	    "functions=%zu uri=%s", o->pool, o->slot, l->servers, o->nfunctions,
	    DS_LV(b->v, ds_uri_redact(b->u, sizeof(b->u), o->uri)));
	rc = 0;
out:
	free(b);
	/* the libraries' start-up leaves free chunks inside the heap: their
	 * pages go back now rather than stay resident all the worker's life */
	malloc_trim(0);
	return rc;
}

int
ds_worker_run(const struct ds_worker_opts *o)
{
	/* on the heap, not in this frame: every frame of the job loop sits
	 * below this one, and 3 KB less of it is a stack page less */
	struct loop *l = calloc(1, sizeof(*l));
	const char *why;

	if (l == NULL) {
		ds_log(LOG_ERR, "event=worker_failed pool=%s slot=%d "
		    "error=\"out of memory\"", o->pool, o->slot);
		return 2;
	}
	l->o = o;
	if (start_loop(l) < 0) {
		if (l->gw != NULL)
			gearman_worker_free(l->gw);
		ds_endpoint_cleanup(&l->ep);
		free(l);
		return 2;
	}
	while ((why = why_stop(l)) == NULL || l->answer_pending)
		loop_once(l);
	ds_report_state(DS_MSG_STOPPING);
	ds_log(LOG_INFO, "event=worker_exit pool=%s slot=%d reason=%s jobs=%lld",
	    o->pool, o->slot, why, (long long)l->jobs_done);
	gearman_worker_free(l->gw);
	ds_endpoint_cleanup(&l->ep);
	curl_global_cleanup();
	free(l);
	return 0;
}
