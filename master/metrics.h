/* metrics.h: counters the master keeps from its children's reports, so
 * they outlive any worker, and their Prometheus text rendering (format
 * 0.0.4). */
#ifndef DS_METRICS_H
#define DS_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct ds_buf;
struct ds_queue_view;

#include "common/slot.h"

#define DS_METRICS_NBUCKETS DS_DURATION_NBUCKETS

struct ds_job_series {
	char *pool, *function;
	uint64_t completed, failed, timed_out, answer_lost;
	uint64_t buckets[DS_METRICS_NBUCKETS];	/* cumulative at render */
	uint64_t count;
	double sum_s;
};

struct ds_count_series {
	char *pool;
	char *label;		/* status code, exit reason */
	uint64_t count;
};

struct ds_metrics {
	struct ds_job_series *jobs;
	size_t njobs;
	struct ds_count_series *http_errors, *starts, *exits;
	size_t nhttp_errors, nstarts, nexits;
};

/* Adds what a worker counted since the last look (its delta). */
void ds_metrics_add(struct ds_metrics *mt, const char *pool,
    const char *function, const struct ds_fn_counts *delta);
void ds_metrics_http(struct ds_metrics *mt, const char *pool, uint32_t code,
    uint64_t n);
void ds_metrics_worker_start(struct ds_metrics *mt, const char *pool);
void ds_metrics_worker_exit(struct ds_metrics *mt, const char *pool,
    const char *reason);
void ds_metrics_free(struct ds_metrics *mt);

/* Worker slots by state, as driveshaft_workers shows them. */
enum ds_worker_gauge {
	DS_WG_STARTING,		/* starting, or an empty slot about to be */
	DS_WG_IDLE,
	DS_WG_BUSY,
	DS_WG_DISCONNECTED,
	DS_WG_BACKOFF,		/* an empty slot waiting out its backoff */
	DS_WG_N
};

/* What the metrics show of the master's state, filled by the caller: the
 * metrics never look into the process table. */
struct ds_pool_gauges {
	const char *pool;
	int workers[DS_WG_N];
	int target, min, max;	/* its size now and its bounds */
	uint32_t backlog;	/* queued minus running, last round */
	int64_t oldest_job_ms;	/* the longest job in hand has run; 0 */
};

/* Workers that say one version ("unknown": none). */
struct ds_version_count {
	const char *version;
	int n;
};

struct ds_master_gauges {
	const struct ds_pool_gauges *pools;
	size_t npools;
	uint64_t reloads, reloads_failed, generation;
	int64_t started_wall_ms;
	/* the queue view (metrics_queue.c); NULL: off */
	const struct ds_queue_view *queue;
	char *const *servers;		/* its servers' names */
	/* per server of the config (nservers of them): workers that
	 * answers come from (metrics_queue.c) */
	const uint32_t *connected;
	size_t nservers;
	/* every worker by the version it says, sorted by version */
	const struct ds_version_count *versions;
	size_t nversions;
	uint64_t upgrades, upgrades_failed;	/* in-place upgrades */
};


/* A label value escaped as text format 0.0.4 asks, in dst's memory. */
const char *ds_metrics_lv(struct ds_buf *dst, const char *s);
/* The # HELP and # TYPE lines of a metric. */
void ds_metrics_header(struct ds_buf *b, const char *name, const char *type,
    const char *help);

void ds_metrics_render(const struct ds_metrics *mt,
    const struct ds_master_gauges *g, struct ds_buf *b);
/* metrics_queue.c: pool sizes and bounds, and the queue view. */
void ds_metrics_render_queue(const struct ds_master_gauges *g,
    struct ds_buf *b);

#endif
