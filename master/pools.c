/* pools.c: owns the pool records (struct ds_pool_rt, master.h) and their
 * sizes: built at start, resized by the scaler (scale.c) and by a reload
 * (reload.c), freed at exit. A shrink stops the cheapest slots first:
 * empty ones, then idle workers, then busy ones after their job. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "common/text.h"
#include "master/children.h"
#include "master/pools.h"

static void
free_rt(struct ds_pool_rt *rt)
{
	free(rt->name);
	free(rt->slots);
	memset(rt, 0, sizeof(*rt));
}

/* On failure the pool runs no slots rather than dereference NULL.
 * -fanalyzer loses the pointers once they are stored in rt (an element of
 * a heap array the caller keeps) and reports them leaked: they are not. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpragmas"
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
int
ds_pool_rt_init(struct ds_pool_rt *rt, const struct ds_pool *cfg)
{
	memset(rt, 0, sizeof(*rt));
	rt->name = strdup(cfg->name);
	rt->cfg = cfg;
	rt->slots = calloc((size_t)cfg->worker_count + 1, sizeof(*rt->slots));
	if (rt->name == NULL || rt->slots == NULL) {
		free_rt(rt);	/* a pool with no name and no slots runs nothing */
		return -1;
	}
	rt->nslots = cfg->worker_count;
	return 0;
}
#pragma GCC diagnostic pop


void
ds_pools_start(struct ds_master *m)
{
	m->pools = calloc(m->cfg.npools + 1, sizeof(*m->pools));
	m->npools = m->pools ? m->cfg.npools : 0;
	for (size_t i = 0; i < m->npools; i++)
		if (ds_pool_rt_init(&m->pools[i], &m->cfg.pools[i]) < 0)
			ds_log(LOG_ERR, "event=out_of_memory where=pool pool=%s",
			    m->cfg.pools[i].name);
}

void
ds_pools_free(struct ds_master *m)
{
	for (size_t i = 0; i < m->npools; i++)
		free_rt(&m->pools[i]);
	free(m->pools);
	m->pools = NULL;
	m->npools = 0;
}

static int
drop_rank(const struct ds_master *m, const struct ds_slot *s)
{
	const struct ds_child *c;

	if (s->pid == 0)
		return 0;
	c = ds_child_by_pid((struct ds_master *)m, s->pid);
	return c == NULL || c->state != DS_SLOT_BUSY ? 1 : 2;
}

/* Stops the difference, cheapest first: empty slots, then idle workers,
 * then busy ones (after their job); the kept slots close ranks. */
static void
shrink(struct ds_master *m, struct ds_pool_rt *rt, int n)
{
	int drop = rt->nslots - n, kept = 0;

	for (int rank = 0; rank <= 2 && drop > 0; rank++)
		for (int s = 0; s < rt->nslots && drop > 0; s++) {
			struct ds_slot *sl = &rt->slots[s];

			if (sl->restart_at < 0 || drop_rank(m, sl) != rank)
				continue;
			if (sl->pid != 0 && ds_child_by_pid(m, sl->pid) != NULL)
				ds_retire(m, ds_child_by_pid(m, sl->pid), SIGUSR1);
			sl->restart_at = -1;	/* marks it dropped */
			drop--;
		}
	for (int s = 0; s < rt->nslots; s++) {
		struct ds_child *c;

		if (rt->slots[s].restart_at < 0)
			continue;
		rt->slots[kept] = rt->slots[s];
		if (rt->slots[kept].pid != 0 &&
		    (c = ds_child_by_pid(m, rt->slots[kept].pid)) != NULL)
			c->slot = c->last_slot = kept;
		kept++;
	}
	rt->nslots = n;
}

/* -fanalyzer loses the grown array once it is stored in rt (an element
 * of a heap array the caller keeps) and reports it leaked: it is not. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpragmas"
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
void
ds_pool_resize(struct ds_master *m, struct ds_pool_rt *rt, int n)
{
	struct ds_slot *p;

	if (n < rt->nslots) {
		shrink(m, rt, n);
		return;
	}
	if ((p = realloc(rt->slots, ((size_t)n + 1) * sizeof(*p))) == NULL) {
		ds_log(LOG_ERR, "event=out_of_memory where=resize pool=%s",
		    rt->name);
		return;
	}
	memset(p + rt->nslots, 0, (size_t)(n - rt->nslots) * sizeof(*p));
	rt->slots = p;
	rt->nslots = n;
}
#pragma GCC diagnostic pop
