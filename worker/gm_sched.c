/* gm_sched.c: every gearmand of a worker served on its own (gm_sched.h).
 *
 * A connection goes DOWN -> CONNECTING -> PROBING (CAN_DO, SET_CLIENT_ID
 * and an ECHO_REQ sent) -> READY once the echo is back, then READY ->
 * GRABBING -> SLEEPING (NO_JOB, PRE_SLEEP sent) -> READY on a NOOP, or
 * GRABBING -> a job. Only a server that has answered gets a GRAB, and only
 * one GRAB is in flight, so a worker never holds two jobs and a server
 * that hangs when we connect never holds up the others. */
#include "worker/gm_sched.h"

#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/parse.h"
#include "common/text.h"
#include "worker/report.h"
#include "worker/signals.h"

int64_t
ds_gm_unresponsive_ms(int64_t loop_timeout_ms)
{
	return loop_timeout_ms > DS_GM_UNRESPONSIVE_MIN_MS ? loop_timeout_ms :
	    DS_GM_UNRESPONSIVE_MIN_MS;
}

/* Queues a packet that needs no answer; -1 only when out of memory. */
static int
put(struct ds_gm_conn *c, enum ds_gm_type t, const char *arg, size_t len)
{
	const char *args[1] = {arg};
	size_t lens[1] = {len};

	return ds_gm_put(&c->out, t, arg ? 1 : 0, args, lens);
}

/* Starts the clock on an answer we now wait for. */
static void
await(struct ds_gm_conn *c, int64_t now)
{
	if (c->wait_since == 0)
		c->wait_since = now;
}

static int
send_now(struct ds_gm_sched *s, struct ds_gm_conn *c, int64_t now)
{
	char err[200];
	int rc = ds_gm_flush(c, err, sizeof(err));

	if (rc < 0) {
		ds_gm_drop(s, c, err);
		return -1;
	}
	if (rc > 0)
		await(c, now);
	return 0;
}

static void
registered(struct ds_gm_sched *s, struct ds_gm_conn *c, int64_t now)
{
	int bad = put(c, DS_GM_SET_CLIENT_ID, s->id, strlen(s->id));

	for (size_t i = 0; i < s->o->nfunctions; i++)
		bad |= put(c, DS_GM_CAN_DO, s->o->functions[i],
		    strlen(s->o->functions[i]));
	bad |= put(c, DS_GM_ECHO_REQ, "", 0);
	if (bad) {
		ds_gm_drop(s, c, "out of memory");
		return;
	}
	c->state = DS_GM_PROBING;
	c->echo_out = 1;
	c->heard_ms = now;
	c->wait_since = now;	/* the echo must come back */
	send_now(s, c, now);
}

static void
connect_to(struct ds_gm_sched *s, struct ds_gm_conn *c, int64_t now)
{
	char err[200];

	if (ds_gm_connect(c, err, sizeof(err)) < 0) {
		ds_gm_drop(s, c, err);
		return;
	}
	c->wait_since = now;
}

static void
grab(struct ds_gm_sched *s, struct ds_gm_conn *c, int64_t now)
{
	if (put(c, DS_GM_GRAB_JOB_UNIQ, NULL, 0) < 0) {
		ds_gm_drop(s, c, "out of memory");
		return;
	}
	c->state = DS_GM_GRABBING;
	await(c, now);
	send_now(s, c, now);
}

/* At most one GRAB in flight: a second would risk a second job. */
static void
grab_next(struct ds_gm_sched *s, int64_t now)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->conns[i].state == DS_GM_GRABBING)
			return;
	for (size_t k = 0; k < s->n; k++) {
		size_t i = (s->rr + k) % s->n;

		if (s->conns[i].state == DS_GM_READY) {
			s->rr = (i + 1) % s->n;
			grab(s, &s->conns[i], now);
			return;
		}
	}
}

/* Timers: reconnects due, overdue answers, idle connections to check. */
static void
tick(struct ds_gm_sched *s, int64_t now)
{
	for (size_t i = 0; i < s->n; i++) {
		struct ds_gm_conn *c = &s->conns[i];

		if (c->state == DS_GM_DOWN) {
			if (now >= c->retry_ms)
				connect_to(s, c, now);
			continue;
		}
		if (c->wait_since && s->polled_ms - c->wait_since >=
		    s->bound_ms) {
			ds_gm_unresponsive(s, c, now);
			continue;
		}
		if (c->state == DS_GM_SLEEPING && !c->echo_out &&
		    now - c->heard_ms >= s->o->loop_timeout_ms) {
			if (put(c, DS_GM_ECHO_REQ, "", 0) < 0) {
				ds_gm_drop(s, c, "out of memory");
				continue;
			}
			c->echo_out = 1;
			await(c, now);
			send_now(s, c, now);
		}
	}
}

/* The first of the deadlines tick() keeps, at most limit. */
static int64_t
next_deadline(const struct ds_gm_sched *s, int64_t limit)
{
	int64_t t = limit, d;

	for (size_t i = 0; i < s->n; i++) {
		const struct ds_gm_conn *c = &s->conns[i];

		if (c->state == DS_GM_DOWN)
			d = c->retry_ms;
		else if (c->wait_since)
			d = c->wait_since + s->bound_ms;
		else if (c->state == DS_GM_SLEEPING)
			d = c->heard_ms + s->o->loop_timeout_ms;
		else
			continue;
		if (d < t)
			t = d;
	}
	return t;
}

/* One packet from a server. Returns 1 when it is a job (in *job). */
static int
on_packet(struct ds_gm_sched *s, size_t i, const struct ds_gm_packet *pk,
    struct ds_gm_job *job, int64_t now)
{
	struct ds_gm_conn *c = &s->conns[i];
	char why[160];

	switch (pk->type) {
	case DS_GM_ECHO_RES:
		c->echo_out = 0;
		if (c->state == DS_GM_PROBING)
			ds_gm_came_up(s, c, now);
		break;
	case DS_GM_NOOP:
		if (c->state == DS_GM_SLEEPING)
			c->state = DS_GM_READY;
		break;
	case DS_GM_NO_JOB:
		if (c->state != DS_GM_GRABBING)
			break;
		c->state = DS_GM_SLEEPING;
		if (put(c, DS_GM_PRE_SLEEP, NULL, 0) < 0)
			ds_gm_drop(s, c, "out of memory");
		break;
	case DS_GM_JOB_ASSIGN_UNIQ:
		if (c->state != DS_GM_GRABBING) {
			ds_gm_drop(s, c, "a job we did not ask for");
			return 0;
		}
		c->state = DS_GM_READY;	/* until the answer: no GRAB anywhere */
		job->server = i;
		job->handle = pk->arg[0];
		job->function = pk->arg[1];
		job->unique = pk->arg[2];
		job->workload = pk->arg[3];
		job->workload_len = pk->arglen[3];
		return 1;
	case DS_GM_ERROR:
		snprintf(why, sizeof(why), "server error %.*s: %.*s",
		    (int)(pk->arglen[0] > 40 ? 40 : pk->arglen[0]), pk->arg[0],
		    (int)(pk->arglen[1] > 100 ? 100 : pk->arglen[1]), pk->arg[1]);
		ds_gm_drop(s, c, why);
		break;
	default:
		break;
	}
	return 0;
}

/* Whether c still waits on an answer from its server. */
static int
awaiting(const struct ds_gm_conn *c)
{
	return c->echo_out || c->state == DS_GM_GRABBING ||
	    c->out.off < c->out.len;
}

/* The packets read from server i; 1 when one was a job. */
static int
packets(struct ds_gm_sched *s, size_t i, struct ds_gm_job *job, int64_t now)
{
	struct ds_gm_conn *c = &s->conns[i];
	struct ds_gm_packet pk;
	char err[200];
	int rc, got = 0;

	while (!got && c->fd >= 0 &&
	    (rc = ds_gm_next(c, &pk, err, sizeof(err))) != 0) {
		if (rc < 0) {
			ds_gm_drop(s, c, err);
			return 0;
		}
		c->heard_ms = now;
		got = on_packet(s, i, &pk, job, now);
	}
	if (c->fd >= 0 && c->out.off < c->out.len &&
	    send_now(s, c, now) < 0)
		return 0;
	/* heard from: what is still awaited is timed from now */
	if (c->fd >= 0 && c->heard_ms == now)
		c->wait_since = awaiting(c) ? now : 0;
	return got;
}

static int
on_event(struct ds_gm_sched *s, size_t i, short rev, struct ds_gm_job *job,
    int64_t now)
{
	struct ds_gm_conn *c = &s->conns[i];
	char err[200];
	int rc;

	if (c->state == DS_GM_CONNECTING) {
		if (ds_gm_connect_done(c, err, sizeof(err)) < 0)
			ds_gm_drop(s, c, err);
		else
			registered(s, c, now);
		return 0;
	}
	if (rev & POLLOUT) {
		if (send_now(s, c, now) < 0)
			return 0;
		if (!awaiting(c))
			c->wait_since = 0;
	}
	if (!(rev & (POLLIN | POLLHUP | POLLERR)))
		return 0;
	if ((rc = ds_gm_read(c, err, sizeof(err))) <= 0) {
		ds_gm_drop(s, c, err);
		return 0;
	}
	return packets(s, i, job, now);
}

static short
events_of(const struct ds_gm_conn *c)
{
	if (c->state == DS_GM_CONNECTING)
		return POLLOUT;
	return (short)(POLLIN | (c->out.off < c->out.len ? POLLOUT : 0));
}

/* Polls every connection and the master's socket once, for up to ms. */
static int
poll_once(struct ds_gm_sched *s, int64_t ms, struct ds_gm_job *job)
{
	struct pollfd pfd[DS_WORKER_MAX_SERVERS + 1];
	size_t map[DS_WORKER_MAX_SERVERS + 1], np = 0;
	int64_t now;
	int rc, got = 0;

	for (size_t i = 0; i < s->n; i++) {
		if (s->conns[i].fd < 0)
			continue;
		pfd[np] = (struct pollfd){s->conns[i].fd,
		    events_of(&s->conns[i]), 0};
		map[np++] = i;
	}
	if (s->o->master_fd >= 0) {
		pfd[np] = (struct pollfd){s->o->master_fd, POLLIN, 0};
		map[np++] = SIZE_MAX;
	}
	ds_set_no_job_in_hand(1);
	/* a signal that came before the flag was set must not be missed */
	if (ds_stop_requested() || ds_drain_requested()) {
		ds_set_no_job_in_hand(0);
		return -1;
	}
	rc = poll(pfd, np, (int)(ms < 0 ? 0 : ms));
	ds_set_no_job_in_hand(0);
	now = ds_now_ms();
	if (rc >= 0)
		s->polled_ms = now;
	if (rc <= 0)
		return rc;	/* < 0: a signal; the caller looks around */
	for (size_t k = 0; k < np; k++) {
		if (pfd[k].revents == 0)
			continue;
		if (map[k] == SIZE_MAX)
			return got ? 1 : -1;
		got |= on_event(s, map[k], pfd[k].revents, job, now);
	}
	return got;
}

int
ds_gm_wait(struct ds_gm_sched *s, int64_t max_ms, struct ds_gm_job *job)
{
	int64_t now = ds_now_ms(), until = now + max_ms;
	int rc;

	for (;;) {
		/* packets read with the last job and not yet looked at */
		for (size_t i = 0; i < s->n; i++)
			if (s->conns[i].in_len > s->conns[i].in_off &&
			    packets(s, i, job, now))
				return 1;
		tick(s, now);
		grab_next(s, now);
		if ((rc = poll_once(s, next_deadline(s, until) - now, job)) > 0)
			return 1;
		now = ds_now_ms();
		if (rc < 0 || now >= until)
			return 0;
	}
}

/* Waits up to the bound for the answer queued on c to leave. */
static int
answer_out(struct ds_gm_sched *s, struct ds_gm_conn *c, int64_t now)
{
	struct pollfd pfd = {c->fd, POLLOUT, 0};
	char err[200];
	int rc;

	while ((rc = ds_gm_flush(c, err, sizeof(err))) > 0) {
		int64_t left = now + s->bound_ms - ds_now_ms();

		if (left <= 0) {
			c->wait_since = now;
			ds_gm_unresponsive(s, c, ds_now_ms());
			return 0;
		}
		poll(&pfd, 1, (int)left);
	}
	if (rc < 0) {
		ds_gm_drop(s, c, err);
		return 0;
	}
	return 1;
}

/* Whether another server than i has said it has work. */
static int
other_ready(const struct ds_gm_sched *s, size_t i)
{
	for (size_t k = 0; k < s->n; k++)
		if (k != i && s->conns[k].state == DS_GM_READY)
			return 1;
	return 0;
}

int
ds_gm_answer(struct ds_gm_sched *s, const struct ds_gm_job *job,
    int complete, const char *data, size_t len, int more)
{
	struct ds_gm_conn *c = &s->conns[job->server];
	const char *args[2] = {job->handle, data};
	size_t lens[2] = {strlen(job->handle), len};
	int64_t now = ds_now_ms();

	if (c->fd < 0)
		return 0;
	if (ds_gm_put(&c->out, complete ? DS_GM_WORK_COMPLETE :
	    DS_GM_WORK_FAIL, complete ? 2 : 1, args, lens) < 0) {
		ds_gm_drop(s, c, "out of memory for the answer");
		return 0;
	}
	/* the next GRAB rides with the answer, unless another server has
	 * work waiting: then it is that server's turn */
	if (more && !other_ready(s, job->server) &&
	    put(c, DS_GM_GRAB_JOB_UNIQ, NULL, 0) == 0) {
		c->state = DS_GM_GRABBING;
		s->rr = (job->server + 1) % s->n;
	}
	if (!answer_out(s, c, now))
		return 0;
	if (c->state == DS_GM_GRABBING)
		c->wait_since = now;
	return 1;
}

int
ds_gm_sched_init(struct ds_gm_sched *s, const struct ds_worker_opts *o,
    char *err, size_t errlen)
{
	size_t off = 0;

	memset(s, 0, sizeof(*s));
	s->o = o;
	s->bound_ms = ds_gm_unresponsive_ms(o->loop_timeout_ms);
	if ((s->conns = calloc(o->nservers, sizeof(*s->conns))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->n = o->nservers;
	for (size_t i = 0; i < s->n; i++) {
		ds_gm_conn_init(&s->conns[i], &o->servers[i]);
		off += (size_t)snprintf(s->servers + off, sizeof(s->servers) -
		    off, "%s%s", i ? "," : "", s->conns[i].name);
		if (off >= sizeof(s->servers))
			off = sizeof(s->servers) - 1;
	}
	snprintf(s->id, sizeof(s->id), "%.80s:%d:%d", o->pool, o->slot,
	    (int)getpid());
	return 0;
}

void
ds_gm_sched_free(struct ds_gm_sched *s)
{
	for (size_t i = 0; i < s->n; i++)
		ds_gm_conn_free(&s->conns[i]);
	free(s->conns);
	s->conns = NULL;
	s->n = 0;
}
