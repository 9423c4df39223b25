/* monitor.c: the queue monitor's loop (monitor.h). Each round: read every
 * server (monitor_io.c), check both replies whole with the pure parsers
 * (common/admin.c), then report per server Q_SERVER, the Q_FUNC rows of
 * our functions and the Q_WORKER rows of our workers, and one Q_ROUND at
 * the end, which is when the master acts. A reply that does not parse
 * counts as a server that did not answer. A round's messages go out in
 * batches, one sendmmsg(2) each, so that the master wakes once a round
 * rather than once a row. */
#include "worker/monitor.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/admin.h"
#include "common/msg.h"
#include "common/parse.h"
#include "common/proctitle.h"
#include "common/text.h"
#include "common/worker_args.h"
#include "worker/signals.h"

#define TIMEOUT_MIN_MS 1000
#define TIMEOUT_MAX_MS 5000

/* Messages a round holds back: the rows of a small setup in one batch,
 * a 2,000-worker one in a few dozen. */
#define BATCH 64

struct batch {
	size_t n;
	struct mmsghdr mm[BATCH];
	struct iovec iov[BATCH];
	unsigned char buf[BATCH][DS_MSG_MAX_SIZE];
};

struct report {
	const struct ds_monitor_opts *o;
	uint16_t server;
	int master_gone;
	struct batch *b;
};

static void
flush(struct report *rp)
{
	struct batch *b = rp->b;
	size_t done = 0;
	int r;

	while (done < b->n && !rp->master_gone) {
		r = sendmmsg(rp->o->master_fd, b->mm + done,
		    (unsigned)(b->n - done), MSG_NOSIGNAL);
		if (r > 0)
			done += (size_t)r;
		else if (r < 0 && errno != EINTR)
			rp->master_gone = 1;
	}
	b->n = 0;
}

/* 100 KiB, the monitor's alone: allocated when it starts, not a static
 * in every worker's image. Each slot's header points at its buffer once. */
static struct batch *
batch_new(void)
{
	struct batch *b = calloc(1, sizeof(*b));

	for (size_t i = 0; b != NULL && i < BATCH; i++) {
		b->iov[i].iov_base = b->buf[i];
		b->mm[i].msg_hdr.msg_iov = &b->iov[i];
		b->mm[i].msg_hdr.msg_iovlen = 1;
	}
	return b;
}

static void
send_msg(struct report *rp, const struct ds_msg *m)
{
	struct batch *b = rp->b;

	if (rp->o->master_fd < 0) {	/* by hand: say it */
		printf("%s server=%u a=%u b=%u c=%u text=%s\n",
		    ds_msg_type_name(m->type), m->server, m->a, m->b, m->c,
		    m->text);
		fflush(stdout);
		return;
	}
	b->iov[b->n].iov_len = ds_msg_encode(m, b->buf[b->n]);
	if (++b->n == BATCH)
		flush(rp);
}

static void
send_q(struct report *rp, int type, uint32_t a, uint32_t b, uint32_t c,
    const char *text, size_t len)
{
	struct ds_msg m;

	memset(&m, 0, sizeof(m));
	m.type = (uint8_t)type;
	m.server = rp->server;
	m.a = a;
	m.b = b;
	m.c = c;
	if (len > DS_MSG_STR_MAX)
		len = DS_MSG_STR_MAX;
	memcpy(m.text, text, len);
	m.text[len] = '\0';
	send_msg(rp, &m);
}

static int
cmp_key(const void *key, const void *elem)
{
	return strcmp(key, *(const char *const *)elem);
}

static int
ours(const struct ds_monitor_opts *o, const char *name, size_t len)
{
	char key[DS_MAX_FUNCTION_LEN + 1];

	if (len > DS_MAX_FUNCTION_LEN || memchr(name, '\0', len))
		return 0;
	memcpy(key, name, len);
	key[len] = '\0';
	return bsearch(key, o->functions, o->nfunctions,
	    sizeof(o->functions[0]), cmp_key) != NULL;
}

static void
on_func(void *ctx, const struct ds_admin_func *f)
{
	struct report *rp = ctx;

	if (rp != NULL && ours(rp->o, f->name, f->name_len))
		send_q(rp, DS_MSG_Q_FUNC, f->total, f->running, f->available,
		    f->name, f->name_len);
}

/* One of ours: its client id is POOL:SLOT:PID and it can do one of our
 * functions (a connection that has registered nothing takes no job). */
static void
on_worker(void *ctx, const struct ds_admin_worker *w)
{
	struct report *rp = ctx;
	const char *p, *end, *sp;
	char pool[DS_MSG_STR_MAX + 1];
	int slot, pid, any = 0;

	if (rp == NULL || ds_admin_our_id(w->id, w->id_len, pool, sizeof(pool),
	    &slot, &pid) < 0)
		return;
	end = w->functions + w->functions_len;
	for (p = w->functions; p < end && !any; p = sp + 1) {
		sp = memchr(p, ' ', (size_t)(end - p));
		if (sp == NULL)
			sp = end;
		any = ours(rp->o, p, (size_t)(sp - p));
	}
	if (any)
		send_q(rp, DS_MSG_Q_WORKER, (uint32_t)slot, (uint32_t)pid, 0,
		    pool, strlen(pool));
}

/* Both replies parse whole: half a server's rows are worse than none. */
static int
replies_whole(const struct ds_admin_read *r, const char **why)
{
	return ds_admin_parse_status(r->buf, r->status_len, on_func, NULL,
	    why) == 0 && ds_admin_parse_workers(r->buf + r->status_len,
	    r->workers_len, on_worker, NULL, why) == 0;
}

static void
report_server(struct report *rp, const struct ds_admin_read *r)
{
	const char *why = r->why;

	if (!r->up || !replies_whole(r, &why)) {
		send_q(rp, DS_MSG_Q_SERVER, 0, 0, 0, why, strlen(why));
		return;
	}
	send_q(rp, DS_MSG_Q_SERVER, 1, 0, 0, "", 0);
	ds_admin_parse_status(r->buf, r->status_len, on_func, rp, &why);
	ds_admin_parse_workers(r->buf + r->status_len, r->workers_len,
	    on_worker, rp, &why);
}

static void
round_once(const struct ds_monitor_opts *o, struct batch *b,
    int64_t timeout, int *gone)
{
	struct ds_admin_read r[DS_MAX_SERVERS];
	struct report rp = {o, 0, 0, b};

	ds_admin_read_all(o->servers, o->nservers, timeout, r);
	for (size_t i = 0; i < o->nservers; i++) {
		rp.server = (uint16_t)i;
		report_server(&rp, &r[i]);
	}
	rp.server = 0;		/* a round is of every server */
	send_q(&rp, DS_MSG_Q_ROUND, (uint32_t)o->nservers, 0, 0, "", 0);
	flush(&rp);
	ds_admin_reads_free(r, o->nservers);
	*gone = rp.master_gone;
}

/* Sleeps until due, waking for the master's exit (our socket readable:
 * the master never writes to us) or a stop signal. */
static const char *
wait_until(const struct ds_monitor_opts *o, int64_t due)
{
	struct pollfd pfd = {o->master_fd, POLLIN, 0};
	int64_t left;

	while ((left = due - ds_now_ms()) > 0) {
		if (ds_stop_requested() || ds_drain_requested())
			return "stop";
		if (poll(&pfd, o->master_fd >= 0, (int)left) > 0)
			return "master_gone";
	}
	return NULL;
}

static const char *
run(const struct ds_monitor_opts *o)
{
	int64_t timeout = o->interval_ms, start;
	const char *why = NULL;
	int gone = 0;
	struct batch *b = batch_new();

	if (b == NULL)
		return "out_of_memory";

	if (timeout < TIMEOUT_MIN_MS)
		timeout = TIMEOUT_MIN_MS;
	if (timeout > TIMEOUT_MAX_MS)
		timeout = TIMEOUT_MAX_MS;
	while (why == NULL) {
		start = ds_now_ms();
		round_once(o, b, timeout, &gone);
		why = gone ? "master_gone" :
		    wait_until(o, start + o->interval_ms);
	}
	free(b);
	return why;
}

int
ds_monitor_main(int argc, char **argv)
{
	struct ds_monitor_opts o;
	char err[512];
	const char *why;
	int rc = ds_monitor_parse_args(argc, argv, &o, err, sizeof(err));

	if (rc != 0) {
		if (rc < 0)
			fprintf(stderr, "driveshaft-worker --monitor: %s\n", err);
		return rc < 0 ? 1 : 0;
	}
	ds_worker_signals_init();
	ds_set_no_job_in_hand(1);	/* it holds none: a stop ends it now */
	if (o.master_fd >= 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (o.master_pid && getppid() != o.master_pid)
			return 0;
	}
	ds_log_open(&o.log);
	ds_setproctitle("driveshaft-worker: queue monitor servers=%zu",
	    o.nservers);
	ds_log(LOG_INFO, "event=monitor_start servers=%zu functions=%zu "
	    "interval_ms=%lld", o.nservers, o.nfunctions,
	    (long long)o.interval_ms);
	why = run(&o);
	ds_log(LOG_INFO, "event=monitor_exit reason=%s", why);
	return 0;
}
