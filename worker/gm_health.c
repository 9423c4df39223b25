/* gm_health.c: a gearmand server's ups and downs, as a worker sees them
 * (gm_sched.h): the log lines, the capped backoff before a new connect,
 * the servers' bits on the slot page and the worker's own outage state. */
#include "worker/gm_sched.h"

#include <stdio.h>

#include "common/log.h"
#include "common/parse.h"
#include "common/text.h"
#include "worker/report.h"

static int
is_up(const struct ds_gm_conn *c)
{
	return c->state >= DS_GM_READY;
}

/* Tells the log, the slot page and the worker's state when the first
 * server comes back or the last one goes. */
static void
update_up(struct ds_gm_sched *s)
{
	uint64_t mask = 0;
	int64_t now;
	int down = 0;
	struct ds_lv e;

	for (size_t i = 0; i < s->n; i++) {
		if (is_up(&s->conns[i]))
			mask |= (uint64_t)1 << i;
		down |= s->conns[i].down_since != 0;
	}
	if (mask != s->up_mask)
		ds_report_servers(mask);
	s->up_mask = mask;
	now = ds_now_ms();
	if (mask == 0 && down && s->outage_since == 0) {
		s->outage_since = now;
		ds_log(LOG_ERR, "event=gearman_down pool=%s slot=%d servers=%s "
		    "error=%s", s->o->pool, s->o->slot, s->servers,
		    DS_LV(e, s->last_error));
		ds_report_state(DS_SLOT_DISCONNECTED);
	} else if (mask != 0 && s->outage_since != 0) {
		ds_log(LOG_NOTICE, "event=gearman_up pool=%s slot=%d servers=%s "
		    "down_ms=%lld", s->o->pool, s->o->slot, s->servers,
		    (long long)(now - s->outage_since));
		s->outage_since = 0;
		ds_report_state(DS_SLOT_IDLE);
	}
}

static void
backoff(struct ds_gm_conn *c, int64_t now)
{
	if (c->backoff_ms == 0)
		c->backoff_ms = DS_GM_BACKOFF_FIRST_MS;
	else if ((c->backoff_ms *= 2) > DS_GM_BACKOFF_MAX_MS)
		c->backoff_ms = DS_GM_BACKOFF_MAX_MS;
	c->retry_ms = now + c->backoff_ms;
	if (c->down_since == 0)
		c->down_since = now;
}

/* logged once an outage of that server: a refused connect is retried
 * every few seconds */
void
ds_gm_drop(struct ds_gm_sched *s, struct ds_gm_conn *c, const char *why)
{
	int64_t now = ds_now_ms();
	struct ds_lv e;

	if (c->down_since == 0)
		ds_log(LOG_WARNING, "event=gearman_conn_down pool=%s slot=%d "
		    "server=%s error=%s", s->o->pool, s->o->slot, c->name,
		    DS_LV(e, why));
	snprintf(s->last_error, sizeof(s->last_error), "%s: %s", c->name, why);
	ds_gm_close(c);
	backoff(c, now);
	update_up(s);
}

/* logged each time: every drop of a hung server is worth a line */
void
ds_gm_unresponsive(struct ds_gm_sched *s, struct ds_gm_conn *c, int64_t now)
{
	ds_log(LOG_WARNING, "event=gearman_server_unresponsive pool=%s "
	    "slot=%d server=%s waited_ms=%lld", s->o->pool, s->o->slot,
	    c->name, (long long)(now - c->wait_since));
	snprintf(s->last_error, sizeof(s->last_error), "%s: unresponsive",
	    c->name);
	ds_gm_close(c);
	backoff(c, now);
	update_up(s);
}

void
ds_gm_came_up(struct ds_gm_sched *s, struct ds_gm_conn *c, int64_t now)
{
	if (c->down_since != 0)
		ds_log(LOG_NOTICE, "event=gearman_conn_up pool=%s slot=%d "
		    "server=%s down_ms=%lld", s->o->pool, s->o->slot, c->name,
		    (long long)(now - c->down_since));
	c->down_since = 0;
	c->backoff_ms = 0;
	c->state = DS_GM_READY;
	update_up(s);
}
