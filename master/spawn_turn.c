/* spawn_turn.c: the spawns of one turn of the master's loop (spawn_turn.h).
 * Spawns go to the spawner thread (spawner.c), up to DS_SPAWN_AHEAD at
 * once so that it starts them back to back, never idle while the loop
 * wakes up; the loop waits for them only while the turn's time budget
 * (spawn_budget.h) lasts, so that a spawn stuck behind busy cores holds
 * the status port, the signals and the reaps for at most the budget, not
 * for as long as the child waits for a CPU. Until the spawner hands a
 * request back (in the order they went), its slot stays empty and its
 * child is not in the table: a reap of that child first waits for the
 * spawner (ds_spawn_wait), and a slot the meantime took away (a reload, a
 * stop) gets a retired child, told to leave. */
#include "master/spawn_turn.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/parse.h"
#include "master/children.h"
#include "master/slot_page.h"
#include "master/spawn_budget.h"
#include "master/spawner.h"

/* Requests in the spawner's hands at once: enough that it never waits
 * for the loop between two spawns, few enough that their descriptors (5
 * each) are nothing next to DS_FD_RESERVE. */
#define DS_SPAWN_AHEAD 4

struct ds_pending {
	struct ds_spawn_req req;	/* first: the spawner hands back &req */
	struct ds_child c;		/* staged: joins the table once started */
	char *pool;
	int slot, fd;
	int64_t posted_us;
	struct ds_pending *next;	/* posted after this one */
};

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
pending_free(struct ds_pending *q)
{
	free(q->pool);
	free(q);
}

/* -fanalyzer loses a request once post() links it into m->pending and
 * calls it leaked, there and in post_next(); finished() frees it. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpragmas"
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
/* Hands the start of p's slot to the spawner. 0, or -1 with errno set. */
static int
post(struct ds_master *m, struct ds_pool_rt *p, int slot)
{
	struct ds_pending *q = calloc(1, sizeof(*q)), **tail;
	int saved;

	/* the table's room for it is made now: joining cannot fail */
	if (q == NULL || ds_child_room(m) == NULL ||
	    (q->pool = strdup(p->name)) == NULL) {
		if (q != NULL)
			pending_free(q);
		errno = ENOMEM;
		return -1;
	}
	/* a roll's spare (roll.c) is told the slot past the pool's last */
	if (ds_spawn_prepare(m, p, slot == DS_SLOT_SPARE ? p->nslots : slot,
	    &q->c, &q->req, &q->fd) < 0) {
		saved = errno;
		pending_free(q);
		errno = saved;
		return -1;
	}
	q->slot = slot;
	q->posted_us = now_us();
	if (ds_spawner_post(&q->req) < 0) {
		saved = errno;
		ds_spawn_release(&q->req);
		close(q->fd);
		ds_slot_page_close(&q->c);
		pending_free(q);
		errno = saved;
		return -1;
	}
	for (tail = &m->pending; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = q;
	m->npending++;
	return 0;
}

/* Its slot, if the slot still wants it: a reload or a stop may have come
 * since it was posted. */
static struct ds_pool_rt *
its_slot(struct ds_master *m, const struct ds_pending *q)
{
	struct ds_pool_rt *p = ds_pool_rt_find(m, q->pool);

	if (p == NULL || m->stopping)
		return NULL;
	if (q->slot == DS_SLOT_SPARE)
		return p;	/* a spare needs no slot: it is handed one */
	if (q->slot >= p->nslots || p->slots[q->slot].pid != 0)
		return NULL;
	return p;
}

/* -fanalyzer loses the pool name once it is stored in the children
 * table and calls it leaked; child_exited() frees it. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpragmas"
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
static void
join_table(struct ds_master *m, struct ds_pending *q)
{
	struct ds_pool_rt *p = its_slot(m, q);
	struct ds_child *c = ds_child_room(m);	/* made by post() */
	pid_t pid = q->req.pid;

	*c = q->c;		/* the caller put pid in the map */
	m->nchildren++;
	c->pid = pid;
	c->fd = q->fd;
	c->pool = q->pool;
	q->pool = NULL;
	c->slot = c->last_slot = q->slot;
	if (q->slot == DS_SLOT_SPARE)
		c->last_slot = p != NULL ? p->nslots : -1;
	c->state = DS_SLOT_STARTING;
	c->started_ms = ds_now_ms();
	c->max_running_ms = p != NULL ? ds_pool_max_running_ms(m, p->cfg) :
	    m->opts->max_running_ms;
	ds_metrics_worker_start(&m->metrics, c->pool);
	ds_log(LOG_INFO, "event=child_start pool=%s slot=%d pid=%d", c->pool,
	    c->last_slot, (int)pid);
	if (p == NULL) {
		c->slot = -1;
		ds_retire(m, c, m->stopping == DS_DRAIN ? SIGUSR1 : SIGTERM);
		return;
	}
	if (q->slot == DS_SLOT_SPARE)
		return;
	p->slots[q->slot].pid = pid;
	p->slots[q->slot].restart_at = 0;
	if (p->spawn_failures) {
		ds_log(LOG_NOTICE, "event=spawn_recovered pool=%s failures=%d",
		    p->name, p->spawn_failures);
		p->spawn_failures = 0;
	}
}
#pragma GCC diagnostic pop

/* q is back from the spawner: out of the list, into the table. */
static void
finished(struct ds_master *m, struct ds_pending *q)
{
	struct ds_pending **at = &m->pending;
	struct ds_pool_rt *p;

	while (*at != NULL && *at != q)
		at = &(*at)->next;
	if (*at == NULL)
		return;		/* not ours: never, one thread posts */
	*at = q->next;
	m->npending--;
	ds_spawn_release(&q->req);
	if (q->req.pid > 0 &&
	    ds_pidmap_put(&m->pids, q->req.pid, m->nchildren) == 0) {
		join_table(m, q);
		pending_free(q);
		return;
	}
	if (q->req.pid > 0) {
		/* a child the table cannot find by its pid is one it cannot
		 * reap or supervise: it goes, and the slot backs off */
		ds_log(LOG_ERR, "event=out_of_memory where=pidmap pid=%d",
		    (int)q->req.pid);
		kill(q->req.pid, SIGKILL);
		q->req.err = ENOMEM;
	}
	close(q->fd);
	ds_slot_page_close(&q->c);
	if ((p = ds_pool_rt_find(m, q->pool)) != NULL)
		ds_pool_spawn_failed(p, strerror(q->req.err), ds_now_ms());
	pending_free(q);
}

int
ds_spawn_wait(struct ds_master *m, int timeout_ms)
{
	struct ds_spawn_req *r;

	if (m->pending == NULL || (r = ds_spawner_take(timeout_ms)) == NULL)
		return 0;
	finished(m, (struct ds_pending *)r);	/* req is its first member */
	return 1;
}

int
ds_spawn_in_flight(const struct ds_master *m, const char *pool, int slot)
{
	for (const struct ds_pending *q = m->pending; q != NULL; q = q->next)
		if (q->slot == slot && strcmp(q->pool, pool) == 0)
			return 1;
	return 0;
}

/* A roll's spare of p, when roll.c asked for one; 1 when it went. */
static int
post_spare(struct ds_master *m, struct ds_pool_rt *p, int64_t now)
{
	if (!p->roll.want_spare || p->spawn_retry_at > now ||
	    ds_spawn_in_flight(m, p->name, DS_SLOT_SPARE))
		return 0;
	p->roll.want_spare = 0;	/* asked once: roll.c sees it lost */
	if (post(m, p, DS_SLOT_SPARE) == 0)
		return 1;
	ds_pool_spawn_failed(p, strerror(errno), now);
	return 0;
}

/* Posts the first slot due, from the turn's first pool on; 1 when one
 * went, 0 when none is due. A pool whose start fails backs off, one log
 * line a step (ds_pool_spawn_failed), and the next pool is tried. */
static int
post_next(struct ds_master *m, int64_t now)
{
	for (size_t k = 0; k < m->npools; k++) {
		struct ds_pool_rt *p =
		    &m->pools[(m->spawn_first_pool + k) % m->npools];

		for (int s = 0; s < p->nslots && p->spawn_retry_at <= now; s++) {
			if (p->slots[s].pid != 0 ||
			    p->slots[s].restart_at > now ||
			    ds_spawn_in_flight(m, p->name, s))
				continue;
			if (post(m, p, s) == 0)
				return 1;
			ds_pool_spawn_failed(p, strerror(errno), now);
		}
		if (post_spare(m, p, now))
			return 1;
	}
	return 0;
}
#pragma GCC diagnostic pop

int
ds_spawn_turn(struct ds_master *m, int64_t now)
{
	struct ds_spawn_turn t = {0, 0, 0};
	int64_t first = now_us(), mark = first, left, begin, end;

	if (m->stopping || m->npools == 0 || m->hold_spawns)
		return 0;
	/* a pool further on each turn, so that a large pool filling does
	 * not hold back the pools after it */
	m->spawn_first_pool = (m->spawn_first_pool + 1) % m->npools;
	for (;;) {
		while (m->npending < DS_SPAWN_AHEAD && post_next(m, now))
			;
		if (m->pending == NULL)
			return 0;	/* none due */
		if (!ds_spawn_more(&t, DS_SPAWN_BUDGET_US))
			return 1;	/* the spawner's pipe wakes us */
		left = DS_SPAWN_BUDGET_US - (now_us() - first);
		/* a spawn began when it went or when the one before it
		 * ended, whichever came last: the thread does one at a time */
		begin = m->pending->posted_us > mark ? m->pending->posted_us :
		    mark;
		if (!ds_spawn_wait(m, left > 0 ? (int)((left + 999) / 1000) :
		    0))
			return 1;
		end = now_us();
		ds_spawn_count(&t, first, begin, end);
		mark = end;
	}
}
