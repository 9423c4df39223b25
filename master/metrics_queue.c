/* metrics_queue.c: the metrics of queue-driven sizing and of the queue
 * view (metrics.h): each pool's size and bounds and backlog, and per
 * gearmand server whether it answered the last round and, for our pools'
 * functions, what its `status` said. A server that did not answer has no
 * function rows: absent is "unknown", never a stale figure. */
#include "master/metrics.h"

#include <stdlib.h>

#include "common/buf.h"
#include "master/queue_view.h"



static void
render_pools(const struct ds_master_gauges *g, struct ds_buf *b)
{
	static const char *names[] = {"driveshaft_pool_workers_target",
	    "driveshaft_pool_workers_min", "driveshaft_pool_workers_max",
	    "driveshaft_pool_backlog"};
	static const char *helps[] = {"Worker slots the pool has now.",
	    "Least workers of the pool (worker_count or min_workers).",
	    "Most workers of the pool (worker_count or max_workers).",
	    "Jobs of the pool's functions queued and not running, over the "
	    "servers that answered."};
	struct ds_buf pl = {0};

	for (int k = 0; k < 4; k++) {
		ds_metrics_header(b, names[k], "gauge", helps[k]);
		for (size_t i = 0; i < g->npools; i++) {
			const struct ds_pool_gauges *p = &g->pools[i];
			long long v = k == 0 ? p->target : k == 1 ? p->min :
			    k == 2 ? p->max : (long long)p->backlog;

			ds_buf_printf(b, "%s{pool=\"%s\"} %lld\n", names[k],
			    ds_metrics_lv(&pl, p->pool), v);
		}
	}
	free(pl.data);
}

static void
render_funcs(const struct ds_master_gauges *g, struct ds_buf *b)
{
	static const char *names[] = {"driveshaft_gearman_queue_jobs",
	    "driveshaft_gearman_running_jobs",
	    "driveshaft_gearman_available_workers"};
	static const char *helps[] = {"Jobs gearmand holds for the function, "
	    "running ones included (status TOTAL).",
	    "Jobs of the function running (status RUNNING).",
	    "Workers, ours or not, registered for the function "
	    "(status AVAILABLE_WORKERS)."};
	const struct ds_queue_view *v = g->queue;
	struct ds_buf sl = {0}, fl = {0};

	for (int k = 0; k < 3; k++) {
		ds_metrics_header(b, names[k], "gauge", helps[k]);
		for (size_t i = 0; i < v->ns; i++)
			for (size_t j = 0; j < v->s[i].now.nf; j++) {
				const struct ds_qfunc *f = &v->s[i].now.f[j];

				ds_buf_printf(b, "%s{server=\"%s\",function=\"%s\"}"
				    " %u\n", names[k], ds_metrics_lv(&sl, g->servers[i]),
				    ds_metrics_lv(&fl, f->name), k == 0 ? f->total : k == 1 ?
				    f->running : f->available);
			}
	}
	free(sl.data);
	free(fl.data);
}

/* The workers' side of each server's health: a hung or lost server has
 * none, whatever its TCP connections say. */
static void
render_connected(const struct ds_master_gauges *g, struct ds_buf *b)
{
	struct ds_buf sl = {0};

	if (g->connected == NULL || g->nservers == 0)
		return;
	ds_metrics_header(b, "driveshaft_gearman_connected_workers", "gauge",
	    "Workers whose connection to the server answers them.");
	for (size_t i = 0; i < g->nservers; i++)
		ds_buf_printf(b, "driveshaft_gearman_connected_workers{server="
		    "\"%s\"} %u\n", ds_metrics_lv(&sl, g->servers[i]),
		    g->connected[i]);
	free(sl.data);
}

void
ds_metrics_render_queue(const struct ds_master_gauges *g, struct ds_buf *b)
{
	const struct ds_queue_view *v = g->queue;
	struct ds_buf sl = {0};

	render_pools(g, b);
	render_connected(g, b);
	if (v == NULL)
		return;
	ds_metrics_header(b, "driveshaft_gearman_up", "gauge", "1 when the "
	    "server answered the last admin status read, 0 when not, absent "
	    "before the first.");
	for (size_t i = 0; i < v->ns; i++)
		if (v->s[i].state != DS_Q_UNKNOWN)
			ds_buf_printf(b, "driveshaft_gearman_up{server=\"%s\"} %d\n",
			    ds_metrics_lv(&sl, g->servers[i]), v->s[i].state == DS_Q_UP);
	free(sl.data);
	render_funcs(g, b);
}
