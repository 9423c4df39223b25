/* roll.c: rolls the workers of each pool to the master's version
 * (roll.h; the rule is roll_rule.c's). After an upgrade in place the
 * workers still run the old worker binary. A worker in a slot that says
 * another version (or none: an older binary writes none) is replaced:
 * - a spare, a worker of the pool in no slot (DS_SLOT_SPARE), is started
 *   through the spawner like any worker (spawn_turn.c posts it when
 *   ds_pool_roll.want_spare is set), one per pool at a time, within the
 *   descriptor and process budget;
 * - once it is up, an idle old worker is retired as a drain does
 *   (SIGUSR1: it takes no new job and leaves) and its slot is the
 *   spare's in the same turn, so the workers in slots never fall below
 *   the pool's size;
 * - a spare that says a version other than the master's (the worker
 *   binary on disk is still old) is retired and the pool's roll stalls
 *   until the next HUP or upgrade: one line, no respawn.
 * The spare shows in `threads` as a line of its own, SHUTDOWN 0. */
#include "master/roll.h"

#include <signal.h>
#include <string.h>
#include <sys/resource.h>

#include "master/children.h"
#include "master/limits.h"
#include "master/roll_rule.h"
#include "master/slot_page.h"
#include "master/spawn_turn.h"
#include "master/table.h"

/* What one look found in a pool. */
struct pool_look {
	struct ds_child *spare;		/* NULL: none in the table */
	struct ds_child *idle_old;	/* an idle old worker in a slot */
	const char *from;		/* an old worker's version */
	int old, old_idle, starting;	/* starting: of unknown version */
	int filling;			/* due slots, starting workers */
};

static int
in_its_slot(const struct ds_pool_rt *p, const struct ds_child *c)
{
	return c->slot >= 0 && c->slot < p->nslots &&
	    p->slots[c->slot].pid == c->pid;
}

static void
look_at_pool(struct ds_master *m, struct ds_pool_rt *p, struct pool_look *l,
    int64_t now)
{
	memset(l, 0, sizeof(*l));
	for (int s = 0; s < p->nslots; s++)
		l->filling += p->slots[s].pid == 0 &&
		    p->slots[s].restart_at <= now;
	for (size_t i = 0; i < m->nchildren; i++) {
		struct ds_child *c = &m->children[i];

		if (strcmp(c->pool, p->name) != 0)
			continue;
		if (c->slot == DS_SLOT_SPARE) {
			l->spare = c;
			continue;
		}
		if (!in_its_slot(p, c))
			continue;
		l->filling += c->state == DS_SLOT_STARTING;
		if (strcmp(c->version, DS_VERSION) == 0)
			continue;
		/* its version is not known before it is up */
		if (c->state == DS_SLOT_STARTING) {
			l->starting++;
			continue;
		}
		l->old++;
		l->from = ds_version_name(c->version);
		if (c->state == DS_SLOT_IDLE) {
			l->old_idle++;
			l->idle_old = c;
		}
	}
}

static enum ds_roll_spare
spare_state(struct ds_master *m, struct ds_pool_rt *p, struct ds_child *s)
{
	if (s != NULL) {
		ds_child_sync(m, s);	/* the tick's look may be 100 ms old */
		return s->state == DS_SLOT_IDLE || s->state == DS_SLOT_BUSY ?
		    DS_SPARE_UP : DS_SPARE_STARTING;
	}
	if (p->roll.want_spare || ds_spawn_in_flight(m, p->name,
	    DS_SLOT_SPARE))
		return DS_SPARE_STARTING;
	return p->roll.spare_posted ? DS_SPARE_LOST : DS_SPARE_NONE;
}

static int
room_for_one(const struct ds_master *m)
{
	struct rlimit nofile, nproc;

	if (getrlimit(RLIMIT_NOFILE, &nofile) < 0 ||
	    getrlimit(RLIMIT_NPROC, &nproc) < 0)
		return 0;
	return ds_roll_room(m->nchildren + (uint64_t)m->npending,
	    DS_FD_RESERVE, nofile.rlim_cur == RLIM_INFINITY ? UINT64_MAX :
	    nofile.rlim_cur, nproc.rlim_cur == RLIM_INFINITY ? UINT64_MAX :
	    nproc.rlim_cur);
}

/* The old worker's slot is the spare's: in one turn, so no look sees the
 * pool short of a worker. */
static void
hand_over(struct ds_master *m, struct ds_pool_rt *p, struct ds_child *spare,
    struct ds_child *old)
{
	int slot = old->slot;
	pid_t old_pid = old->pid;

	ds_retire(m, old, SIGUSR1);
	p->slots[slot].pid = spare->pid;
	p->slots[slot].restart_at = 0;
	spare->slot = spare->last_slot = slot;
	p->roll.spare_posted = 0;
	p->roll.fails = 0;
	p->roll.replaced++;
	ds_log(LOG_INFO, "event=roll_replace pool=%s slot=%d old_pid=%d "
	    "pid=%d", p->name, slot, (int)old_pid, (int)spare->pid);
}

static void
drop_spare(struct ds_master *m, struct ds_pool_rt *p, struct ds_child *s)
{
	if (s != NULL)
		ds_retire(m, s, SIGUSR1);
	p->roll.want_spare = p->roll.spare_posted = 0;
}

static void
stall(struct ds_master *m, struct ds_pool_rt *p, struct ds_child *s)
{
	if (s != NULL)
		ds_log(LOG_WARNING, "event=roll_stalled pool=%s version=%s",
		    p->name, ds_version_name(s->version));
	else
		ds_log(LOG_WARNING, "event=roll_stalled pool=%s version=unknown "
		    "reason=spare_lost failures=%d", p->name, p->roll.fails + 1);
	drop_spare(m, p, s);
	p->roll.stalled = 1;
	p->roll.rolling = 0;
	p->roll.fails = 0;
}

static void
act(struct ds_master *m, struct ds_pool_rt *p, const struct pool_look *l,
    enum ds_roll_act a, int64_t now)
{
	switch (a) {
	case DS_ROLL_WAIT:
		return;
	case DS_ROLL_SPAWN:
		if (!p->roll.rolling) {
			p->roll.rolling = 1;
			p->roll.replaced = 0;
			p->roll.started_ms = now;
			ds_log(LOG_NOTICE, "event=roll_start pool=%s from=%s "
			    "to=%s workers=%d", p->name, l->from, DS_VERSION,
			    l->old);
		}
		p->roll.want_spare = p->roll.spare_posted = 1;
		return;
	case DS_ROLL_HANDOVER:
		hand_over(m, p, l->spare, l->idle_old);
		return;
	case DS_ROLL_STALL:
		stall(m, p, l->spare);
		return;
	case DS_ROLL_DROP_SPARE:
		drop_spare(m, p, l->spare);
		return;
	case DS_ROLL_RETRY:
		p->roll.spare_posted = 0;
		p->roll.retry_at = now + ds_backoff_ms(++p->roll.fails);
		ds_log(LOG_WARNING, "event=roll_spare_lost pool=%s failures=%d "
		    "retry_ms=%lld", p->name, p->roll.fails,
		    (long long)(p->roll.retry_at - now));
		return;
	case DS_ROLL_DONE:
		p->roll.rolling = 0;
		ds_log(LOG_NOTICE, "event=roll_done pool=%s workers=%d ms=%lld",
		    p->name, p->roll.replaced, (long long)(now -
		    p->roll.started_ms));
		return;
	}
}

/* When this pool wants its next look: soon while a roll is under way,
 * slowly while it waits for room or for starting workers to say their
 * version, else never (the loop has no periodic wake-up). */
static int64_t
next_look(const struct ds_pool_rt *p, const struct pool_look *l, int64_t now)
{
	const struct ds_child *s = l->spare;

	/* a spare that cannot reach gearmand for long (it is down): no
	 * need to look 50 times a second until it can */
	if (s != NULL && s->slot == DS_SLOT_SPARE &&
	    s->state != DS_SLOT_IDLE && s->state != DS_SLOT_BUSY &&
	    now - s->started_ms >= DS_ROLL_SLOW_LOOK_MS)
		return now + DS_ROLL_SLOW_LOOK_MS;
	if (p->roll.want_spare || p->roll.spare_posted || (s != NULL &&
	    s->slot == DS_SLOT_SPARE))
		return now + DS_ROLL_LOOK_MS;
	if (p->roll.stalled)
		return 0;
	if (l->old > 0 && p->roll.retry_at > now)
		return p->roll.retry_at;
	if (l->old > 0 && l->filling > 0)
		return now + DS_ROLL_LOOK_MS;	/* the start's end: no wake-up */
	return l->old > 0 || l->starting > 0 ? now + DS_ROLL_SLOW_LOOK_MS : 0;
}

static void
roll_pool(struct ds_master *m, struct ds_pool_rt *p, int64_t now)
{
	struct pool_look l;
	struct ds_roll_in in;

	p->roll.look_at = 0;
	if (m->stopping)
		return;		/* the stop retires the spare with the rest */
	look_at_pool(m, p, &l, now);
	in = (struct ds_roll_in){
		.stalled = p->roll.stalled, .rolling = p->roll.rolling,
		.old = l.old, .old_idle = l.old_idle, .filling = l.filling,
		.spare = spare_state(m, p, l.spare),
		.fails = p->roll.fails, .now = now,
		.retry_at = p->roll.retry_at,
	};
	in.spare_current = l.spare != NULL &&
	    strcmp(l.spare->version, DS_VERSION) == 0;
	/* getrlimit only when a spare may be asked for */
	in.room = in.spare == DS_SPARE_NONE && l.old > 0 && room_for_one(m);
	act(m, p, &l, ds_roll_rule(&in), now);
	p->roll.look_at = next_look(p, &l, now);
}

void
ds_roll_tick(struct ds_master *m, int64_t now)
{
	for (size_t i = 0; i < m->npools; i++) {
		struct ds_pool_rt *p = &m->pools[i];

		if (p->name != NULL && p->cfg != NULL)
			roll_pool(m, p, now);
	}
}

int64_t
ds_roll_next_deadline(const struct ds_master *m)
{
	int64_t next = 0;

	for (size_t i = 0; i < m->npools; i++) {
		int64_t at = m->pools[i].roll.look_at;

		if (at != 0 && (next == 0 || at < next))
			next = at;
	}
	return next;
}

void
ds_roll_drop_spares(struct ds_master *m)
{
	for (size_t i = 0; i < m->nchildren; i++) {
		struct ds_child *c = &m->children[i];
		struct ds_pool_rt *p = ds_pool_rt_find(m, c->pool);

		if (c->slot == DS_SLOT_SPARE && p != NULL)
			drop_spare(m, p, c);
	}
}

void
ds_roll_restart(struct ds_master *m)
{
	for (size_t i = 0; i < m->npools; i++) {
		m->pools[i].roll.stalled = 0;
		m->pools[i].roll.fails = 0;
		m->pools[i].roll.retry_at = 0;
	}
}
