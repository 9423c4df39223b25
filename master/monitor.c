/* monitor.c: the queue monitor as one of the master's children
 * (monitor.h). It is not in the process table: it has no pool and no
 * slot, takes no job, and `threads` does not list it. Like a worker it
 * backs off when it keeps dying, and like every timer here its restart and
 * its watchdog are deadlines, not ticks. */
#include "master/monitor.h"
#include "master/priority.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/parse.h"
#include "common/text.h"
#include "common/worker_args.h"
#include "master/children.h"
#include "master/limits.h"
#include "master/scale.h"
#include "master/slot_page.h"
#include "master/stuck.h"

extern char **environ;

/* A round takes at most the monitor's read timeout (5 s) past its
 * interval; a monitor silent for this long past that is hung. */
#define WATCHDOG_SLACK_MS 15000

/* How long one turn of the loop reads the monitor's socket before it
 * serves the status port, signals and reaps again: a monitor that sends
 * far more than a round should (it does not, but the master trusts it no
 * more than it trusts gearmand) costs latency, never deafness. */
#define SERVE_BUDGET_MS 10
#define SERVE_CHECK_EVERY 64	/* messages between looks at the clock */

/* A round arrives as packets that the kernel may hand over a few at a
 * time: the loop, woken by one, runs above the monitor and would wake
 * again for each that follows. A part of a round read, the socket waits
 * this long out of the poll set, so that a round costs two wake-ups at
 * most, not one a row. */
#define GATHER_MS 5

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Every pool's functions, each once, sorted; NULL when none or no memory. */
static const char **
functions(const struct ds_config *cfg, size_t *n)
{
	size_t cap = 0, k = 0;
	const char **f;

	for (size_t i = 0; i < cfg->npools; i++)
		cap += cfg->pools[i].njobs;
	if (cap == 0 || (f = calloc(cap, sizeof(*f))) == NULL)
		return NULL;
	for (size_t i = 0; i < cfg->npools; i++)
		for (size_t j = 0; j < cfg->pools[i].njobs; j++)
			f[k++] = cfg->pools[i].jobs[j];
	qsort(f, k, sizeof(*f), cmp_str);
	*n = 0;
	for (size_t i = 0; i < k; i++)
		if (*n == 0 || strcmp(f[*n - 1], f[i]) != 0)
			f[(*n)++] = f[i];
	return f;
}

/* How many of our workers one server may list: every pool at its most,
 * twice over for the workers a reload retires while they finish a job
 * (still registered), and some room. Rows past it are a server lying. */
static size_t
worker_cap(const struct ds_config *cfg)
{
	size_t n = 0;

	for (size_t i = 0; i < cfg->npools; i++)
		n += cfg->pools[i].max_workers > 0 ?
		    (size_t)cfg->pools[i].max_workers : 0;
	return 2 * n + 64;
}

/* What the monitor is told, as one string to compare across reloads. */
static char *
spec_of(const struct ds_config *cfg, const char **f, size_t nf)
{
	struct ds_buf b = {0};
	size_t len;

	ds_buf_printf(&b, "%lld", (long long)cfg->queue_poll_ms);
	for (size_t i = 0; i < cfg->nservers; i++)
		ds_buf_printf(&b, "\n%s", cfg->server_strs[i]);
	ds_buf_add(&b, "\n", 1);
	for (size_t i = 0; i < nf; i++)
		ds_buf_printf(&b, "\n%s", f[i]);
	/* after the servers' part: a new cap keeps what the view knows */
	ds_buf_printf(&b, "\n\nmax_workers %zu", worker_cap(cfg));
	return ds_buf_take(&b, &len);
}

/* Tells the view which rows it may keep: our functions, and as many
 * worker rows as worker_cap(). */
static int
view_ours(struct ds_master *m, struct ds_queue_view *v)
{
	size_t nf = 0;
	const char **f = functions(&m->cfg, &nf);
	int rc = ds_qview_set_ours(v, f, f ? nf : 0, worker_cap(&m->cfg));

	free(f);
	return rc;
}

static struct ds_queue *
queue_of(struct ds_master *m)
{
	if (m->queue == NULL && (m->queue = calloc(1, sizeof(*m->queue)))) {
		m->queue->fd = -1;
		if (ds_qview_init(&m->queue->view, m->cfg.nservers) < 0 ||
		    view_ours(m, &m->queue->view) < 0) {
			ds_qview_free(&m->queue->view);
			free(m->queue);
			m->queue = NULL;
		}
	}
	return m->queue;
}

static int
spawn(struct ds_master *m, struct ds_queue *q, const char **f, size_t nf)
{
	struct ds_monitor_spec spec = {
		.servers = m->cfg.server_strs, .nservers = m->cfg.nservers,
		.functions = f, .nfunctions = nf,
		.interval_ms = m->cfg.queue_poll_ms,
		.max_workers = worker_cap(&m->cfg),
		.master_pid = (int)getpid(), .log = &m->log,
	};
	struct ds_worker_argv a;
	pid_t pid;

	if (ds_monitor_argv_build(&spec, &a) < 0)
		return -1;
	pid = ds_spawn_child(m->opts->worker_path, a.v, environ, -1, &q->fd);
	ds_worker_argv_free(&a);
	if (pid < 0)
		return -1;
	ds_priority_unboost(pid);	/* it runs at the workers' nice */
	q->pid = pid;
	q->bad = 0;
	q->gather_until = 0;
	q->started_ms = ds_now_ms();
	q->kill_at = q->started_ms + m->cfg.queue_poll_ms + WATCHDOG_SLACK_MS;
	ds_log(LOG_INFO, "event=monitor_start pid=%d servers=%zu functions=%zu "
	    "interval_ms=%lld", (int)pid, m->cfg.nservers, nf,
	    (long long)m->cfg.queue_poll_ms);
	return 0;
}

static void
start(struct ds_master *m, struct ds_queue *q, int64_t now)
{
	size_t nf = 0;
	const char **f = functions(&m->cfg, &nf);

	free(q->spec);
	q->spec = f ? spec_of(&m->cfg, f, nf) : NULL;
	q->replace = 0;
	if (f == NULL || q->spec == NULL || spawn(m, q, f, nf) < 0) {
		q->restart_at = now + ds_backoff_ms(++q->quick_deaths);
		ds_log(LOG_ERR, "event=monitor_spawn_failed error=\"%s\" "
		    "retry_ms=%lld", f ? strerror(errno) : "out of memory",
		    (long long)(q->restart_at - now));
	}
	free(f);
}

static int
wanted(const struct ds_master *m)
{
	return !m->stopping && m->cfg.queue_poll_ms > 0 && m->cfg.npools > 0;
}

void
ds_monitor_tick(struct ds_master *m, int64_t now)
{
	struct ds_queue *q = m->queue;

	if (q == NULL && !wanted(m))
		return;
	if (q == NULL && (q = queue_of(m)) == NULL)
		return;
	if (q->pid != 0 && q->kill_at && q->kill_at <= now) {
		ds_log(LOG_WARNING, "event=monitor_kill pid=%d reason=no_round "
		    "silent_ms=%lld", (int)q->pid,
		    (long long)(now - q->kill_at + WATCHDOG_SLACK_MS));
		kill(q->pid, SIGKILL);
		q->kill_at = 0;
	}
	if (q->pid != 0 && (q->replace || !wanted(m)) && q->fd >= 0) {
		kill(q->pid, SIGTERM);	/* it holds no job: at once */
		close(q->fd);
		q->fd = -1;
	}
	if (q->pid == 0 && wanted(m) && q->restart_at <= now)
		start(m, q, now);
}

int64_t
ds_monitor_next_deadline(const struct ds_master *m)
{
	const struct ds_queue *q = m->queue;

	if (q == NULL)
		return 0;
	if (q->pid != 0)
		return q->gather_until && (q->kill_at == 0 ||
		    q->gather_until < q->kill_at) ? q->gather_until : q->kill_at;
	return wanted(m) ? q->restart_at : 0;
}

size_t
ds_monitor_pollfd(const struct ds_master *m, struct pollfd *pfd)
{
	if (m->queue == NULL || m->queue->fd < 0)
		return 0;
	if (m->queue->gather_until > ds_now_ms())
		return 0;
	*pfd = (struct pollfd){m->queue->fd, POLLIN, 0};
	return 1;
}

static void
log_servers(const struct ds_master *m, const struct ds_queue_view *v)
{
	struct ds_lv e;

	for (size_t i = 0; i < v->ns && i < m->cfg.nservers; i++) {
		const struct ds_qserver *s = &v->s[i];

		if (s->changed && s->state == DS_Q_DOWN)
			ds_log(LOG_ERR, "event=gearman_server_down server=%s "
			    "error=%s", m->cfg.server_strs[i],
			    DS_LV(e, s->why));
		else if (s->changed && s->prev_state == DS_Q_DOWN)
			ds_log(LOG_NOTICE, "event=gearman_server_up server=%s",
			    m->cfg.server_strs[i]);
	}
}

/* A message that makes no sense: the first of a round is logged, the
 * rest counted, so a monitor gone wrong costs a line a round, not a line
 * a message. */
static void
bad_message(struct ds_queue *q, int type, const char *why)
{
	if (q->bad++ == 0)
		ds_log(LOG_WARNING, "event=bad_monitor_message pid=%d type=%s "
		    "error=\"%s\"", (int)q->pid, ds_qmsg_type_name(type), why);
}

/* Once a round, never once a row: what the view dropped of what the
 * monitor sent and the bad messages past the first. The monitor keeps
 * one row per function and caps its worker rows, so any of this is a
 * monitor gone wrong. */
static void
log_dropped(struct ds_queue *q)
{
	const struct ds_qdrops *d = &q->view.dropped;

	if (d->duplicates || d->unknown || d->over_cap || q->bad > 1)
		ds_log(LOG_WARNING, "event=monitor_rows_dropped pid=%d "
		    "duplicates=%llu unknown=%llu over_cap=%llu bad=%llu",
		    (int)q->pid, (unsigned long long)d->duplicates,
		    (unsigned long long)d->unknown,
		    (unsigned long long)d->over_cap,
		    (unsigned long long)q->bad);
	q->bad = 0;
}

static void
on_message(struct ds_master *m, struct ds_queue *q, const struct ds_qmsg *msg,
    int64_t now)
{
	const char *why = NULL;
	int rc = ds_qview_apply(&q->view, msg, now, &why);

	if (rc < 0) {
		bad_message(q, msg->type, why);
		return;
	}
	if (rc == 0)
		return;
	q->kill_at = now + m->cfg.queue_poll_ms + WATCHDOG_SLACK_MS;
	log_servers(m, &q->view);
	log_dropped(q);
	/* the workers' states live in their slot pages: read them now,
	 * once a round, for the sizing and the stuck check */
	ds_children_sync(m);
	ds_scale_round(m, now);
	ds_stuck_round(m, now);
}

void
ds_monitor_serve(struct ds_master *m, const struct pollfd *pfd, size_t n)
{
	struct ds_queue *q = m->queue;
	unsigned char buf[DS_QMSG_MAX_SIZE + 1];
	struct ds_qmsg msg;
	const char *why;
	ssize_t r;
	int64_t until = ds_now_ms() + SERVE_BUDGET_MS;
	unsigned k = 0;
	int in_round = 0;

	if (n == 0 || q == NULL || q->fd < 0 || pfd->fd != q->fd ||
	    !pfd->revents)
		return;
	q->gather_until = 0;
	while ((r = recv(q->fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		if (ds_qmsg_decode(buf, (size_t)r, &msg, &why) < 0)
			bad_message(q, 0, why);
		else
			on_message(m, q, &msg, ds_now_ms());
		in_round = msg.type != DS_QMSG_ROUND;
		/* the rest is read at the next turn: poll says so at once */
		if (++k % SERVE_CHECK_EVERY == 0 && ds_now_ms() >= until)
			return;
	}
	if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
		close(q->fd);
		q->fd = -1;
	} else if (in_round) {
		q->gather_until = ds_now_ms() + GATHER_MS;
	}
}

int
ds_monitor_reaped(struct ds_master *m, pid_t pid, int status)
{
	struct ds_queue *q = m->queue;
	int64_t now = ds_now_ms(), lived;

	if (q == NULL || q->pid == 0 || pid != q->pid)
		return 0;
	lived = now - q->started_ms;
	ds_log(q->replace || m->stopping ? LOG_INFO : LOG_WARNING,
	    "event=monitor_exit pid=%d status=%d signal=%d lived_ms=%lld",
	    (int)pid, WIFEXITED(status) ? WEXITSTATUS(status) : -1,
	    WIFSIGNALED(status) ? WTERMSIG(status) : 0, (long long)lived);
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
	q->pid = 0;
	q->kill_at = 0;
	if (q->replace || lived >= DS_BACKOFF_WINDOW_MS)
		q->quick_deaths = 0;
	else
		q->quick_deaths++;
	q->restart_at = now + (q->quick_deaths >= 2 ?
	    ds_backoff_ms(q->quick_deaths - 1) : 0);
	return 1;
}

/* The server part of two specs (up to the blank line) is the same. */
static int
same_servers(const char *a, const char *b)
{
	const char *ea = strstr(a, "\n\n"), *eb = b ? strstr(b, "\n\n") : NULL;

	return ea && eb && ea - a == eb - b && memcmp(a, b, (size_t)(ea - a)) == 0;
}

void
ds_monitor_reload(struct ds_master *m)
{
	struct ds_queue *q = m->queue;
	size_t nf = 0;
	const char **f;
	char *spec;

	if (q == NULL)
		return;
	f = functions(&m->cfg, &nf);
	spec = f ? spec_of(&m->cfg, f, nf) : NULL;
	if (spec == NULL || q->spec == NULL || strcmp(spec, q->spec) != 0) {
		q->replace = 1;
		q->restart_at = 0;
		if (spec == NULL || !same_servers(spec, q->spec)) {
			/* another server list: what we knew is of no use */
			ds_qview_free(&q->view);
			ds_stuck_forget(m);
			(void)ds_qview_init(&q->view, m->cfg.nservers);
		}
		/* out of memory: the view keeps no row until the next */
		(void)view_ours(m, &q->view);
	}
	free(spec);
	free(f);
}

void
ds_monitor_stop(struct ds_master *m)
{
	if (m->queue != NULL && m->queue->pid != 0)
		kill(m->queue->pid, SIGTERM);
}

int
ds_monitor_alive(const struct ds_master *m)
{
	return m->queue != NULL && m->queue->pid != 0;
}

void
ds_monitor_free(struct ds_master *m)
{
	if (m->queue == NULL)
		return;
	if (m->queue->fd >= 0)
		close(m->queue->fd);
	ds_qview_free(&m->queue->view);
	ds_stuck_forget(m);
	free(m->queue->spec);
	free(m->queue);
	m->queue = NULL;
}
