/* loop.c: the worker's job loop (loop.h): a job from whichever gearmand
 * has one (gm_sched.c serves each on its own), POSTed to the endpoint,
 * its answer sent back to the server that gave it.
 *
 * Exactly one answer per job: every job gets WORK_COMPLETE or WORK_FAIL
 * before the next GRAB goes anywhere. A worker that dies with a job in
 * hand drops its gearmand connection, and gearmand hands the job to
 * another worker, so a kill loses nothing either. */
#include "worker/loop.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "common/log.h"
#include "common/parse.h"
#include "common/text.h"
#include "worker/endpoint.h"
#include "worker/gm_sched.h"
#include "worker/memtune.h"
#include "worker/report.h"
#include "worker/signals.h"

struct loop {
	const struct ds_worker_opts *o;
	struct ds_gm_sched gm;
	struct ds_endpoint ep;
	int64_t jobs_done;
	int64_t stop_seen_ms;	/* when the job in hand first saw a stop */
	int in_job;		/* the last turn ran a job */
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

static DS_OWN_FRAME void
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

static DS_OWN_FRAME void
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

static DS_OWN_FRAME void
log_answer_lost(const struct loop *l, const char *server)
{
	/* gearmand gives the job to another worker when it sees this
	 * connection close */
	ds_log(LOG_WARNING, "event=job_answer_lost pool=%s slot=%d server=%s",
	    l->o->pool, l->o->slot, server);
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
	/* a poll per job would cost a system call each: look when idle; a
	 * busy worker finishes its job first, as a drain would */
	if (!l->in_job && ds_report_master_gone())
		return "master_gone";
	return NULL;
}

/* One job: to the endpoint, its answer to the server that gave it, then
 * counted as what that server was told. */
static void
run_job(struct loop *l, const struct ds_gm_job *j)
{
	struct ds_job_view v = {
		.function = j->function,
		.handle = j->handle,
		.unique = j->unique,
		.workload = j->workload,
		.workload_len = j->workload_len,
	};
	struct ds_call call;
	int64_t started = ds_now_ms();
	int complete, sent;

	l->in_job = 1;
	l->stop_seen_ms = 0;
	ds_report_busy(v.handle, v.unique, v.function);
	ds_endpoint_call(&l->ep, &v, &call);
	if (call.outcome != DS_OUT_COMPLETE)
		log_job_failure(l, v.function, v.handle, &call);
	else
		log_job_done(l, v.function, v.handle, ds_now_ms() - started);
	l->jobs_done++;
	complete = call.outcome == DS_OUT_COMPLETE;
	/* no GRAB with the answer when we are about to leave: a job it
	 * brought would only go back to gearmand */
	sent = ds_gm_answer(&l->gm, j, complete, call.data, call.len,
	    why_stop(l) == NULL);
	if (!sent)
		log_answer_lost(l, l->gm.conns[j->server].name);
	ds_call_done(&l->ep, &call);
	ds_report_done(sent ? (int)call.outcome : DS_OUT_ANSWER_LOST,
	    call.http_status, ds_now_ms() - started);
	if (l->gm.outage_since)
		ds_report_state(DS_SLOT_DISCONNECTED);
}

static void
loop_once(struct loop *l)
{
	struct ds_gm_job job;

	if (ds_gm_wait(&l->gm, l->o->loop_timeout_ms, &job)) {
		run_job(l, &job);
		return;
	}
	/* a loop timeout's worth (or a signal) without work */
	if (l->in_job)
		ds_endpoint_idle(&l->ep);
	l->in_job = 0;
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

	ds_report_state(DS_SLOT_STARTING);
	if (b == NULL) {
		ds_log(LOG_ERR, "event=worker_failed pool=%s slot=%d "
		    "error=\"out of memory\"", o->pool, o->slot);
		return -1;
	}
	if (ds_endpoint_init(&l->ep, o, b->err, sizeof(b->err)) < 0 ||
	    ds_gm_sched_init(&l->gm, o, b->err, sizeof(b->err)) < 0) {
		ds_log(LOG_ERR, "event=worker_failed pool=%s slot=%d error=%s",
		    o->pool, o->slot, DS_LV(b->v, b->err));
		goto out;
	}
	l->ep.should_abort = should_abort;
	l->ep.abort_ctx = l;
	ds_log(LOG_INFO, "event=worker_start pool=%s slot=%d servers=%s "
	    "functions=%zu uri=%s", o->pool, o->slot, l->gm.servers,
	    o->nfunctions, DS_LV(b->v, ds_uri_redact(b->u, sizeof(b->u),
	    o->uri)));
	ds_report_state(DS_SLOT_IDLE);
	rc = 0;
out:
	free(b);
	/* the libraries' start-up leaves free chunks inside the heap: their
	 * pages go back now rather than stay resident all the worker's life */
	ds_memtune_trim();
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
		ds_gm_sched_free(&l->gm);
		ds_endpoint_cleanup(&l->ep);
		free(l);
		return 2;
	}
	while ((why = why_stop(l)) == NULL)
		loop_once(l);
	ds_report_state(DS_SLOT_STOPPING);
	ds_log(LOG_INFO, "event=worker_exit pool=%s slot=%d reason=%s jobs=%lld",
	    o->pool, o->slot, why, (long long)l->jobs_done);
	ds_gm_sched_free(&l->gm);
	ds_endpoint_cleanup(&l->ep);
	curl_global_cleanup();
	free(l);
	return 0;
}
