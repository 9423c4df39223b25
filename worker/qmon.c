/* qmon.c: the queue monitor's loop (qmon.h). Each round: read every
 * server (qmon_io.c), check both replies whole with the pure parsers
 * (common/admin.c), then report per server Q_SERVER, the Q_FUNC rows of
 * our functions and the Q_WORKER rows of our workers, and one Q_ROUND at
 * the end, which is when the master acts. A reply that does not parse
 * counts as a server that did not answer. A round's messages go out in
 * batches, one sendmmsg(2) each, so that the master wakes once a round
 * rather than once a row.
 *
 * A server may list a function many times (a hostile or broken one did,
 * 60,000 times a round): each of ours is reported once per server, with
 * its last row, and the duplicates make one log line a round. Our workers
 * are reported up to max_workers a server. So what the master receives is
 * bounded by the config, not by what the servers send. */
#include "worker/qmon.h"

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
#include "common/buf.h"
#include "common/qmon_msg.h"
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
	unsigned char buf[BATCH][DS_QMSG_MAX_SIZE];
};

/* The last status row of one of our functions on the server being read. */
struct frow {
	int seen;
	uint32_t total, running, available;
};

struct report {
	const struct ds_qmon_opts *o;
	uint16_t server;
	int master_gone;
	struct batch *b;
	struct frow *rows;	/* by function index: o->nfunctions */
	uint64_t dups;		/* of the server being read */
	size_t workers;		/* rows sent for it */
	uint64_t over_cap;	/* rows not sent for it */
};

/* What a round dropped, over every server, for its log lines. */
struct dropped {
	uint64_t dups, over_cap;
	struct ds_buf dup_servers, cap_servers;
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
send_msg(struct report *rp, const struct ds_qmsg *m)
{
	struct batch *b = rp->b;

	if (rp->o->master_fd < 0) {	/* by hand: say it */
		printf("%s server=%u a=%u b=%u c=%u text=%s\n",
		    ds_qmsg_type_name(m->type), m->server, m->a, m->b, m->c,
		    m->text);
		fflush(stdout);
		return;
	}
	b->iov[b->n].iov_len = ds_qmsg_encode(m, b->buf[b->n]);
	if (++b->n == BATCH)
		flush(rp);
}

static void
send_q(struct report *rp, int type, uint32_t a, uint32_t b, uint32_t c,
    const char *text, size_t len)
{
	struct ds_qmsg m;

	memset(&m, 0, sizeof(m));
	m.type = (uint8_t)type;
	m.server = rp->server;
	m.a = a;
	m.b = b;
	m.c = c;
	if (len > DS_QMSG_STR_MAX)
		len = DS_QMSG_STR_MAX;
	memcpy(m.text, text, len);
	m.text[len] = '\0';
	send_msg(rp, &m);
}

static int
cmp_key(const void *key, const void *elem)
{
	return strcmp(key, *(const char *const *)elem);
}

/* The index of name among our functions, or -1. */
static long
ours(const struct ds_qmon_opts *o, const char *name, size_t len)
{
	char key[DS_MAX_FUNCTION_LEN + 1];
	const char **p;

	if (len > DS_MAX_FUNCTION_LEN || memchr(name, '\0', len))
		return -1;
	memcpy(key, name, len);
	key[len] = '\0';
	p = bsearch(key, o->functions, o->nfunctions, sizeof(o->functions[0]),
	    cmp_key);
	return p ? (long)(p - o->functions) : -1;
}

/* Keeps the row; report_funcs() sends one per function. */
static void
on_func(void *ctx, const struct ds_admin_func *f)
{
	struct report *rp = ctx;
	long k = rp ? ours(rp->o, f->name, f->name_len) : -1;

	if (k < 0)
		return;
	rp->dups += rp->rows[k].seen;
	rp->rows[k] = (struct frow){1, f->total, f->running, f->available};
}

static void
report_funcs(struct report *rp)
{
	const struct ds_qmon_opts *o = rp->o;

	for (size_t k = 0; k < o->nfunctions; k++)
		if (rp->rows[k].seen)
			send_q(rp, DS_QMSG_FUNC, rp->rows[k].total,
			    rp->rows[k].running, rp->rows[k].available,
			    o->functions[k], strlen(o->functions[k]));
}

/* One of ours: its client id is POOL:SLOT:PID and it can do one of our
 * functions (a connection that has registered nothing takes no job). */
static void
on_worker(void *ctx, const struct ds_admin_worker *w)
{
	struct report *rp = ctx;
	const char *p, *end, *sp;
	char pool[DS_QMSG_STR_MAX + 1];
	int slot, pid, any = 0;

	if (rp == NULL || ds_admin_our_id(w->id, w->id_len, pool, sizeof(pool),
	    &slot, &pid) < 0)
		return;
	end = w->functions + w->functions_len;
	for (p = w->functions; p < end && !any; p = sp + 1) {
		sp = memchr(p, ' ', (size_t)(end - p));
		if (sp == NULL)
			sp = end;
		any = ours(rp->o, p, (size_t)(sp - p)) >= 0;
	}
	if (!any)
		return;
	if (rp->workers >= rp->o->max_workers) {
		rp->over_cap++;
		return;
	}
	rp->workers++;
	send_q(rp, DS_QMSG_WORKER, (uint32_t)slot, (uint32_t)pid, 0, pool,
	    strlen(pool));
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
		send_q(rp, DS_QMSG_SERVER, 0, 0, 0, why, strlen(why));
		return;
	}
	send_q(rp, DS_QMSG_SERVER, 1, 0, 0, "", 0);
	memset(rp->rows, 0, rp->o->nfunctions * sizeof(*rp->rows));
	ds_admin_parse_status(r->buf, r->status_len, on_func, rp, &why);
	report_funcs(rp);
	ds_admin_parse_workers(r->buf + r->status_len, r->workers_len,
	    on_worker, rp, &why);
}

/* Adds the server just read to what the round dropped. */
static void
count_dropped(struct dropped *d, const struct report *rp)
{
	const char *sv = rp->o->server_strs[rp->server];

	if (rp->dups > 0)
		ds_buf_printf(&d->dup_servers, "%s%s", d->dups ? "," : "", sv);
	if (rp->over_cap > 0)
		ds_buf_printf(&d->cap_servers, "%s%s", d->over_cap ? "," : "",
		    sv);
	d->dups += rp->dups;
	d->over_cap += rp->over_cap;
}

/* One line a round for each kind, however many rows. */
static void
log_dropped(struct dropped *d, size_t max_workers)
{
	if (d->dups > 0)
		ds_log(LOG_WARNING, "event=gearman_status_duplicates "
		    "duplicates=%llu servers=%s", (unsigned long long)d->dups,
		    d->dup_servers.data ? d->dup_servers.data : "");
	if (d->over_cap > 0)
		ds_log(LOG_WARNING, "event=gearman_workers_over_cap "
		    "dropped=%llu max_workers=%zu servers=%s",
		    (unsigned long long)d->over_cap, max_workers,
		    d->cap_servers.data ? d->cap_servers.data : "");
	free(d->dup_servers.data);
	free(d->cap_servers.data);
}

static void
round_once(const struct ds_qmon_opts *o, struct batch *b,
    struct frow *rows, int64_t timeout, int *gone)
{
	struct ds_admin_read r[DS_MAX_SERVERS];
	struct report rp = {.o = o, .b = b, .rows = rows};
	struct dropped d;

	memset(&d, 0, sizeof(d));
	ds_admin_read_all(o->servers, o->nservers, timeout, r);
	for (size_t i = 0; i < o->nservers; i++) {
		rp.server = (uint16_t)i;
		rp.dups = rp.over_cap = 0;
		rp.workers = 0;
		report_server(&rp, &r[i]);
		count_dropped(&d, &rp);
	}
	rp.server = 0;		/* a round is of every server */
	send_q(&rp, DS_QMSG_ROUND, (uint32_t)o->nservers, 0, 0, "", 0);
	flush(&rp);
	ds_admin_reads_free(r, o->nservers);
	log_dropped(&d, o->max_workers);
	*gone = rp.master_gone;
}

/* Sleeps until due, waking for the master's exit (our socket readable:
 * the master never writes to us) or a stop signal. */
static const char *
wait_until(const struct ds_qmon_opts *o, int64_t due)
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
run(const struct ds_qmon_opts *o)
{
	int64_t timeout = o->interval_ms, start;
	const char *why = NULL;
	int gone = 0;
	struct batch *b = batch_new();
	struct frow *rows = calloc(o->nfunctions, sizeof(*rows));

	if (b == NULL || rows == NULL) {
		free(b);
		free(rows);
		return "out_of_memory";
	}

	if (timeout < TIMEOUT_MIN_MS)
		timeout = TIMEOUT_MIN_MS;
	if (timeout > TIMEOUT_MAX_MS)
		timeout = TIMEOUT_MAX_MS;
	while (why == NULL) {
		start = ds_now_ms();
		round_once(o, b, rows, timeout, &gone);
		why = gone ? "master_gone" :
		    wait_until(o, start + o->interval_ms);
	}
	free(b);
	free(rows);
	return why;
}

int
ds_qmon_main(int argc, char **argv)
{
	struct ds_qmon_opts o;
	char err[512];
	const char *why;
	int rc = ds_qmon_parse_args(argc, argv, &o, err, sizeof(err));

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
