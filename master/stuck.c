/* stuck.c: finds and replaces stuck workers (stuck.h). gearmand sends a
 * sleeping worker a NOOP when a job comes; a worker whose connection no
 * longer carries it (a NAT or firewall that dropped the flow, a gearmand
 * restart it did not see) sits idle while jobs wait. A healthy idle
 * worker takes a waiting job within a round trip, so a worker that was
 * idle and registered at every round for stuck_after, while jobs of its
 * function waited on that server all that time, is stuck. Sampling at
 * rounds needs nothing from the process table but the state now. */
#include "master/stuck.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/text.h"
#include "master/children.h"
#include "master/queue.h"
#include "master/stuck_rule.h"
#include "master/table.h"

static struct ds_stuck_rec *
rec_find(struct ds_master *m, pid_t pid, size_t server)
{
	for (size_t i = 0; i < m->nstuck; i++)
		if (m->stuck[i].pid == pid && m->stuck[i].server == server)
			return &m->stuck[i];
	return NULL;
}

static void
rec_see(struct ds_master *m, pid_t pid, size_t server, int64_t now)
{
	struct ds_stuck_rec *r = rec_find(m, pid, server), *p;

	if (r == NULL) {
		if (m->nstuck == m->capstuck) {
			size_t cap = m->capstuck ? 2 * m->capstuck : 16;

			if ((p = realloc(m->stuck, cap * sizeof(*p))) == NULL)
				return;
			m->stuck = p;
			m->capstuck = cap;
		}
		r = &m->stuck[m->nstuck++];
		r->pid = pid;
		r->server = server;
		r->since = now;
	}
	r->seen = 1;
}

/* The child a server lists as ours, when it is idle in a slot. */
static struct ds_child *
idle_child(struct ds_master *m, const struct ds_qworker *w)
{
	struct ds_child *c = ds_child_by_pid(m, (pid_t)w->pid);

	/* by pid and pool, not by the slot in its client id: a roll's spare
	 * takes over a slot other than the one it was started for */
	if (c == NULL || c->slot < 0 || c->slot == DS_SLOT_SPARE ||
	    strcmp(c->pool, w->pool) != 0 || c->state != DS_SLOT_IDLE)
		return NULL;
	return c;
}

/* Keeps the records of workers idle and listed in this round, only. */
static void
sample(struct ds_master *m, struct ds_queue *q, int64_t now)
{
	size_t k = 0;

	for (size_t i = 0; i < m->nstuck; i++)
		m->stuck[i].seen = 0;
	for (size_t i = 0; i < q->view.ns; i++) {
		const struct ds_qserver *s = &q->view.s[i];

		for (size_t j = 0; s->state == DS_Q_UP && j < s->now.nw; j++)
			if (idle_child(m, &s->now.w[j]) != NULL)
				rec_see(m, (pid_t)s->now.w[j].pid, i, now);
	}
	for (size_t i = 0; i < m->nstuck; i++)
		if (m->stuck[i].seen)
			m->stuck[k++] = m->stuck[i];
	m->nstuck = k;
}

static int
pool_has(const struct ds_master *m, const char *pool, const char *function)
{
	const struct ds_pool *p = ds_config_pool(&m->cfg, pool);

	for (size_t i = 0; p != NULL && i < p->njobs; i++)
		if (strcmp(p->jobs[i], function) == 0)
			return 1;
	return 0;
}

/* Replaces the workers stuck for f on server i; returns how many. */
static int
replace(struct ds_master *m, size_t i,
    const struct ds_qfunc *f, int64_t now, struct ds_buf *pids)
{
	struct ds_stuck_in in = {now, m->cfg.stuck_after_ms, f->waiting_since,
		f->acted_ms, 0};
	int n = 0;

	for (size_t k = 0; k < m->nstuck; k++) {
		struct ds_stuck_rec *r = &m->stuck[k];
		struct ds_child *c = ds_child_by_pid(m, r->pid);

		in.idle_since = r->since;
		if (r->server != i || !ds_stuck_due(&in) || c == NULL ||
		    c->slot < 0 || !pool_has(m, c->pool, f->name))
			continue;
		ds_buf_printf(pids, "%s%d", n ? "," : "", (int)c->pid);
		ds_retire(m, c, SIGTERM);
		n++;
	}
	return n;
}

static void
check(struct ds_master *m, size_t i, struct ds_qfunc *f,
    int64_t now)
{
	struct ds_buf pids = {0};
	struct ds_lv fn;
	size_t len;
	char *list;
	int n;

	if ((n = replace(m, i, f, now, &pids)) > 0) {
		f->acted_ms = now;
		list = ds_buf_take(&pids, &len);
		ds_log(LOG_WARNING, "event=stuck_workers server=%s function=%s "
		    "queued=%u running=%u available=%u waiting_ms=%lld "
		    "replaced=%d pids=%s", m->cfg.server_strs[i],
		    DS_LV(fn, f->name), f->total - f->running, f->running,
		    f->available, (long long)(now - f->waiting_since), n,
		    list ? list : "");
		free(list);
	}
	free(pids.data);
}

void
ds_stuck_round(struct ds_master *m, int64_t now)
{
	struct ds_queue *q = m->queue;

	if (q == NULL || m->stopping || m->cfg.stuck_after_ms <= 0)
		return;
	sample(m, q, now);
	for (size_t i = 0; i < q->view.ns && i < m->cfg.nservers; i++) {
		struct ds_qserver *s = &q->view.s[i];

		for (size_t j = 0; s->state == DS_Q_UP && j < s->now.nf; j++)
			check(m, i, &s->now.f[j], now);
	}
}

void
ds_stuck_forget(struct ds_master *m)
{
	free(m->stuck);
	m->stuck = NULL;
	m->nstuck = m->capstuck = 0;
}
