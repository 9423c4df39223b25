/* scale.c: sizes the queue-driven pools from the queue view (scale.h).
 * The figures come from the view and the process table; the decision is
 * ds_sizing()'s; the change is ds_pool_resize()'s, which stops empty slots
 * and idle workers first. One log line per change, with its figures. */
#include "master/scale.h"

#include "master/queue.h"
#include "master/pools.h"
#include "master/sizing.h"
#include "master/table.h"

/* Queued minus running of p's functions, over the servers that answered. */
static uint32_t
backlog_of(const struct ds_queue_view *v, const struct ds_pool *p)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < v->ns; i++) {
		if (v->s[i].state != DS_Q_UP)
			continue;
		for (size_t j = 0; j < p->njobs; j++) {
			const struct ds_qfunc *f = ds_qview_func(v, i,
			    p->jobs[j]);

			if (f != NULL && f->total > f->running)
				sum += f->total - f->running;
		}
	}
	return sum > UINT32_MAX ? UINT32_MAX : (uint32_t)sum;
}

static void
size_pool(struct ds_master *m, struct ds_pool_rt *p, int64_t now)
{
	const struct ds_pool *c = p->cfg;
	enum ds_sizing_reason why;
	int n[DS_WG_N], target;
	struct ds_sizing_in in;

	ds_pool_gauges(m, p, n);
	in = (struct ds_sizing_in){
		.current = p->nslots, .min = c->min_workers,
		.max = c->max_workers, .backlog = p->backlog,
		.spare = n[DS_WG_IDLE] + n[DS_WG_STARTING],
		.idle = n[DS_WG_IDLE], .zero_since = p->zero_since,
		.scale_down_after_ms = c->scale_down_after_ms, .now = now,
	};
	target = ds_sizing(&in, &why);
	if (target == p->nslots)
		return;
	ds_log(LOG_NOTICE, "event=pool_scale pool=%s from=%d to=%d reason=%s "
	    "backlog=%u idle=%d starting=%d busy=%d min=%d max=%d "
	    "zero_for_ms=%lld", p->name, p->nslots, target,
	    ds_sizing_reason_name(why), p->backlog, n[DS_WG_IDLE],
	    n[DS_WG_STARTING], n[DS_WG_BUSY], c->min_workers, c->max_workers,
	    (long long)(p->zero_since ? now - p->zero_since : 0));
	ds_pool_resize(m, p, target);
}

void
ds_scale_round(struct ds_master *m, int64_t now)
{
	if (m->queue == NULL)
		return;
	for (size_t i = 0; i < m->npools; i++) {
		struct ds_pool_rt *p = &m->pools[i];

		if (p->cfg == NULL || p->name == NULL)
			continue;
		p->backlog = backlog_of(&m->queue->view, p->cfg);
		p->zero_since = ds_sizing_zero_since(p->zero_since, p->backlog,
		    now);
		if (p->cfg->queue_sized && !m->stopping)
			size_pool(m, p, now);
	}
}

int
ds_scale_reload_count(const struct ds_pool_rt *p, int new_count)
{
	const struct ds_pool *c = p->cfg;

	if (!c->queue_sized)
		return new_count;
	if (p->nslots < c->min_workers)
		return c->min_workers;
	return p->nslots > c->max_workers ? c->max_workers : p->nslots;
}
