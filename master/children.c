/* children.c: the master's process table: make room for a worker (started
 * by spawn_turn.c, called from the loop), follow its state in its slot page (slot_page.c), reap
 * it, restart it with backoff, and kill one that stays busy past its
 * max_running_time plus a grace period. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/parse.h"
#include "common/text.h"
#include "master/limits.h"
#include "master/children.h"
#include "master/slot_page.h"

/* Every signal to a child goes through here, so that the supervision rules
 * can be tested without processes (ds_master.kill_fn). */
static void
signal_child(struct ds_master *m, pid_t pid, int sig)
{
	(void)(m->kill_fn ? m->kill_fn : kill)(pid, sig);
}

/* The earliest moment c is to be killed, 0 for never. */
static int64_t
kill_deadline(const struct ds_child *c)
{
	int64_t due = c->kill_at;

	if (c->killed)
		return 0;
	if (c->state == DS_SLOT_BUSY && c->slot >= 0 &&
	    (due == 0 || ds_child_overdue_at(c) < due))
		due = ds_child_overdue_at(c);
	return due;
}

struct ds_child *
ds_child_room(struct ds_master *m)
{
	if (m->nchildren == m->cap_children) {
		size_t cap = m->cap_children ? m->cap_children * 2 : 16;
		struct ds_child *p = realloc(m->children, cap * sizeof(*p));

		if (p == NULL)
			return NULL;
		m->children = p;
		m->cap_children = cap;
	}
	/* not counted until the caller commits it */
	memset(&m->children[m->nchildren], 0, sizeof(struct ds_child));
	return &m->children[m->nchildren];
}

/* Takes c out of its slot: it takes no new job and leaves after the one
 * in hand (SIGUSR1), or within 2 x loop_timeout (SIGTERM). */
void
ds_retire(struct ds_master *m, struct ds_child *c, int sig)
{
	struct ds_pool_rt *p = ds_pool_rt_find(m, c->pool);
	int64_t now = ds_now_ms();
	int64_t deadline;

	ds_child_sync(m, c);	/* busy or not decides its deadline */
	if (p != NULL && c->slot >= 0 && c->slot < p->nslots &&
	    p->slots[c->slot].pid == c->pid)
		p->slots[c->slot].pid = 0;
	c->slot = -1;
	if (sig == SIGTERM)
		deadline = now + 2 * m->opts->loop_timeout_ms + DS_KILL_GRACE_MS;
	else if (c->state == DS_SLOT_BUSY)
		deadline = ds_child_overdue_at(c);
	else
		deadline = now + m->opts->loop_timeout_ms + DS_KILL_GRACE_MS;
	if (c->kill_at == 0 || deadline < c->kill_at)
		c->kill_at = deadline;
	signal_child(m, c->pid, sig);
}

void
ds_signal_all(struct ds_master *m, int sig, int64_t kill_at)
{
	for (size_t i = 0; i < m->nchildren; i++) {
		struct ds_child *c = &m->children[i];

		if (c->slot >= 0)
			ds_retire(m, c, sig);
		else
			signal_child(m, c->pid, sig);
		if (kill_at && (c->kill_at == 0 || kill_at < c->kill_at))
			c->kill_at = kill_at;
	}
}

/* A quick death backs the slot off: at once, then 1 s, 2 s, 4 s ... 30 s. */
void
ds_schedule_restart(struct ds_pool_rt *p, int slot, int64_t lived_ms,
    int clean, int64_t now)
{
	struct ds_slot *s = &p->slots[slot];
	int64_t delay = 0;

	s->pid = 0;
	if (clean || lived_ms >= DS_BACKOFF_WINDOW_MS)
		s->quick_deaths = 0;
	else
		s->quick_deaths++;
	if (s->quick_deaths >= 2) {
		delay = ds_backoff_ms(s->quick_deaths - 1);
		ds_log(LOG_WARNING, "event=slot_backoff pool=%s slot=%d "
		    "quick_deaths=%d delay_ms=%lld", p->name, slot,
		    s->quick_deaths, (long long)delay);
	}
	s->restart_at = now + delay;
}

static void
child_exited(struct ds_master *m, struct ds_child *c, int status)
{
	struct ds_pool_rt *p = ds_pool_rt_find(m, c->pool);
	int64_t lived = ds_now_ms() - c->started_ms;
	char how[48];
	int clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;

	ds_metrics_worker_exit(&m->metrics, c->pool, c->killed ? "killed" :
	    WIFSIGNALED(status) ? "signal" : clean ? "clean" : "error");
	if (WIFSIGNALED(status))
		snprintf(how, sizeof(how), "signal=%s",
		    sigabbrev_np(WTERMSIG(status)) ? sigabbrev_np(WTERMSIG(status))
		    : "?");
	else
		snprintf(how, sizeof(how), "status=%d", WEXITSTATUS(status));
	ds_log(clean ? LOG_INFO : LOG_WARNING, "event=child_exit pool=%s "
	    "slot=%d pid=%d %s lived_ms=%lld retired=%d", c->pool, c->last_slot,
	    (int)c->pid, how, (long long)lived, c->slot < 0);
	if (p != NULL && c->slot >= 0 && c->slot < p->nslots &&
	    p->slots[c->slot].pid == c->pid) {
		if (WIFEXITED(status) && WEXITSTATUS(status) == DS_EXEC_FAILED) {
			/* it never ran: a resource problem of the pool, not
			 * of the slot */
			p->slots[c->slot].pid = 0;
			p->slots[c->slot].restart_at = 0;
			ds_pool_spawn_failed(p, "exec failed", ds_now_ms());
		} else {
			/* a child we killed for an overdue job was not
			 * failing to start: that must not back it off */
			ds_schedule_restart(p, c->slot, lived, clean ||
			    c->killed, ds_now_ms());
		}
	}
	if (c->fd >= 0)
		close(c->fd);
	ds_slot_page_close(c);
	free(c->pool);
	ds_pidmap_del(&m->pids, c->pid);
	*c = m->children[--m->nchildren];
	if (c != &m->children[m->nchildren])	/* the last one moved here */
		(void)ds_pidmap_put(&m->pids, c->pid, (size_t)(c - m->children));
}

void
ds_reap(struct ds_master *m, ds_reaped_fn *other)
{
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct ds_child *c = ds_child_by_pid(m, pid);

		/* not in the table: the caller knows whose it is */
		if (c == NULL)
			c = other(m, pid, status);
		if (c != NULL) {
			/* count what it did before it went */
			ds_child_sync(m, c);
			child_exited(m, c, status);
		}
	}
}

void
ds_pool_spawn_failed(struct ds_pool_rt *p, const char *why, int64_t now)
{
	int64_t delay;
	int missing = 0;
	struct ds_lv v;

	if (p->spawn_retry_at > now)
		return;		/* this step is already said and scheduled */
	delay = ds_backoff_ms(++p->spawn_failures);
	p->spawn_retry_at = now + delay;
	for (int s = 0; s < p->nslots; s++)
		missing += p->slots[s].pid == 0;
	ds_log(LOG_ERR, "event=spawn_failed pool=%s error=%s failures=%d "
	    "retry_ms=%lld missing=%d", p->name, DS_LV(v, why),
	    p->spawn_failures, (long long)delay, missing);
}

/* Kills the children past their deadline. */
static void
kill_overdue(struct ds_master *m, int64_t now)
{
	for (size_t i = 0; i < m->nchildren; i++) {
		struct ds_child *c = &m->children[i];
		int64_t due = kill_deadline(c);

		if (due == 0 || due > now)
			continue;
		ds_child_sync(m, c);	/* the last look may be one turn old */
		if ((due = kill_deadline(c)) == 0 || due > now)
			continue;
		ds_log(LOG_WARNING, "event=child_kill pool=%s slot=%d pid=%d "
		    "state=%s busy_ms=%lld", c->pool, c->last_slot, (int)c->pid,
		    ds_slot_state_name(c->state), c->state == DS_SLOT_BUSY ?
		    (long long)(now - c->busy_since_ms) : 0LL);
		signal_child(m, c->pid, SIGKILL);
		c->killed = 1;
	}
}

void
ds_children_tick(struct ds_master *m, int64_t now)
{
	int starting = m->starting || m->pending != NULL;

	/* the only look at the slot pages when no one asks: a deadline, a
	 * reap or a signal woke us. Not on every turn of a long start,
	 * whose turns come one spawn apart: a look at 2,000 pages is ms */
	if (!starting || now - m->synced_ms >= DS_SYNC_EVERY_MS) {
		ds_children_sync(m);
		m->synced_ms = now;
	}
	kill_overdue(m, now);
}

int64_t
ds_children_next_deadline(const struct ds_master *m)
{
	int64_t next = 0, now = ds_now_ms();

	for (size_t i = 0; i < m->nchildren; i++) {
		const struct ds_child *c = &m->children[i];
		int64_t due = kill_deadline(c);

		/* a job it takes after this look is overdue no sooner than
		 * this: look again then, and not before */
		if (!c->killed && c->state != DS_SLOT_BUSY &&
		    (due == 0 || now + c->max_running_ms + DS_KILL_GRACE_MS < due))
			due = now + c->max_running_ms + DS_KILL_GRACE_MS;
		if (due && (next == 0 || due < next))
			next = due;
	}
	/* a spawn in the spawner's hands: its pipe wakes us, not the slots */
	for (size_t i = 0; i < m->npools && !m->stopping && !m->pending; i++)
		for (int s = 0; s < m->pools[i].nslots; s++) {
			const struct ds_slot *sl = &m->pools[i].slots[s];
			int64_t due = sl->restart_at > m->pools[i].spawn_retry_at ?
			    sl->restart_at : m->pools[i].spawn_retry_at;

			/* due now (0 included, a new slot): 0 would read as
			 * "no deadline" and leave the rest of a start waiting */
			if (due < now)
				due = now;
			if (sl->pid == 0 && (next == 0 || due < next))
				next = due;
		}
	return next;
}

