/* metrics.h: counters the master keeps from its children's reports, so
 * they outlive any worker, and their Prometheus text rendering (format
 * 0.0.4). */
#ifndef DS_METRICS_H
#define DS_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct ds_master;
struct ds_buf;

#define DS_METRICS_NBUCKETS 14

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

void ds_metrics_job(struct ds_metrics *mt, const char *pool,
    const char *function, int outcome, uint32_t duration_ms, int http_status);
void ds_metrics_worker_start(struct ds_metrics *mt, const char *pool);
void ds_metrics_worker_exit(struct ds_metrics *mt, const char *pool,
    const char *reason);
void ds_metrics_free(struct ds_metrics *mt);

void ds_metrics_render(struct ds_master *m, struct ds_buf *b);

#endif
