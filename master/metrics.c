/* metrics.c: job, worker and reload counters and their Prometheus text
 * (metrics.h). Series are few (pools x functions), so lookups are linear. */
#include "master/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/slot.h"


static struct ds_job_series *
job_series(struct ds_metrics *mt, const char *pool, const char *function)
{
	struct ds_job_series *p;

	for (size_t i = 0; i < mt->njobs; i++)
		if (strcmp(mt->jobs[i].pool, pool) == 0 &&
		    strcmp(mt->jobs[i].function, function) == 0)
			return &mt->jobs[i];
	if ((p = realloc(mt->jobs, (mt->njobs + 1) * sizeof(*p))) == NULL)
		return NULL;
	mt->jobs = p;
	p = &mt->jobs[mt->njobs++];
	memset(p, 0, sizeof(*p));
	p->pool = strdup(pool);
	p->function = strdup(function);
	return p;
}

static void
count(struct ds_count_series **arr, size_t *n, const char *pool,
    const char *label, uint64_t by)
{
	struct ds_count_series *p;

	for (size_t i = 0; i < *n; i++)
		if (strcmp((*arr)[i].pool, pool) == 0 &&
		    strcmp((*arr)[i].label, label) == 0) {
			(*arr)[i].count += by;
			return;
		}
	if ((p = realloc(*arr, (*n + 1) * sizeof(*p))) == NULL)
		return;
	*arr = p;
	p[*n].pool = strdup(pool);
	p[*n].label = strdup(label);
	p[*n].count = by;
	(*n)++;
}

void
ds_metrics_add(struct ds_metrics *mt, const char *pool, const char *function,
    const struct ds_fn_counts *d)
{
	struct ds_job_series *s = job_series(mt, pool, function);

	if (s == NULL)
		return;
	s->completed += d->outcome[DS_OUT_COMPLETE];
	s->timed_out += d->outcome[DS_OUT_TIMEOUT];
	s->answer_lost += d->outcome[DS_OUT_ANSWER_LOST];
	s->failed += d->outcome[DS_OUT_FAIL] + d->outcome[DS_OUT_ABORTED];
	for (int i = 0; i < DS_METRICS_NBUCKETS; i++)
		s->buckets[i] += d->buckets[i];
	s->count += d->count;
	s->sum_s += d->sum_ms / 1000.0;
}

void
ds_metrics_http(struct ds_metrics *mt, const char *pool, uint32_t code,
    uint64_t n)
{
	char label[16];

	snprintf(label, sizeof(label), "%u", (unsigned)code);
	count(&mt->http_errors, &mt->nhttp_errors, pool, label, n);
}

void
ds_metrics_worker_start(struct ds_metrics *mt, const char *pool)
{
	count(&mt->starts, &mt->nstarts, pool, "", 1);
}

void
ds_metrics_worker_exit(struct ds_metrics *mt, const char *pool,
    const char *reason)
{
	count(&mt->exits, &mt->nexits, pool, reason, 1);
}

static void
free_counts(struct ds_count_series *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(a[i].pool);
		free(a[i].label);
	}
	free(a);
}

void
ds_metrics_free(struct ds_metrics *mt)
{
	for (size_t i = 0; i < mt->njobs; i++) {
		free(mt->jobs[i].pool);
		free(mt->jobs[i].function);
	}
	free(mt->jobs);
	free_counts(mt->http_errors, mt->nhttp_errors);
	free_counts(mt->starts, mt->nstarts);
	free_counts(mt->exits, mt->nexits);
	memset(mt, 0, sizeof(*mt));
}

/* Label values: backslash, double quote and newline escaped (0.0.4).
 * Written whole into a growable scratch buffer, valid until its next use:
 * pool names have no length limit, and a label cut to fit a fixed array
 * would merge two pools' series or split a UTF-8 sequence. */
const char *
ds_metrics_lv(struct ds_buf *dst, const char *s)
{
	dst->len = 0;
	if (dst->data != NULL)
		dst->data[0] = '\0';
	for (; *s; s++) {
		if (*s == '\\' || *s == '"') {
			ds_buf_add(dst, "\\", 1);
			ds_buf_add(dst, s, 1);
		} else if (*s == '\n')
			ds_buf_add(dst, "\\n", 2);
		else
			ds_buf_add(dst, s, 1);
	}
	return dst->data != NULL && !dst->failed ? dst->data : "";
}

void
ds_metrics_header(struct ds_buf *b, const char *name, const char *type,
    const char *help)
{
	ds_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
render_jobs(const struct ds_metrics *mt, struct ds_buf *b)
{
	static const char *names[] = {"driveshaft_jobs_completed_total",
	    "driveshaft_jobs_failed_total", "driveshaft_jobs_timed_out_total",
	    "driveshaft_jobs_answer_lost_total"};
	static const char *helps[] = {"Jobs answered WORK_COMPLETE.",
	    "Jobs answered WORK_FAIL, timeouts excluded.",
	    "Jobs failed for running past max_running_time.",
	    "Jobs whose answer could not be sent to gearmand."};
	struct ds_buf plb = {0}, flb = {0};
	const char *pl, *fl;

	ds_metrics_header(b, "driveshaft_job_duration_seconds", "histogram",
	    "Time from grabbing a job to its answer.");
	for (size_t i = 0; i < mt->njobs; i++) {
		const struct ds_job_series *s = &mt->jobs[i];
		uint64_t cum = 0;

		pl = ds_metrics_lv(&plb, s->pool);
		fl = ds_metrics_lv(&flb, s->function);
		for (int k = 0; k < DS_METRICS_NBUCKETS; k++) {
			cum += s->buckets[k];
			ds_buf_printf(b, "driveshaft_job_duration_seconds_bucket{"
			    "pool=\"%s\",function=\"%s\",le=\"%g\"} %llu\n", pl, fl,
			    ds_duration_bucket_ms[k] / 1000.0,
			    (unsigned long long)cum);
		}
		ds_buf_printf(b, "driveshaft_job_duration_seconds_bucket{pool=\"%s\","
		    "function=\"%s\",le=\"+Inf\"} %llu\n", pl, fl,
		    (unsigned long long)s->count);
		ds_buf_printf(b, "driveshaft_job_duration_seconds_sum{pool=\"%s\","
		    "function=\"%s\"} %.3f\n", pl, fl, s->sum_s);
		ds_buf_printf(b, "driveshaft_job_duration_seconds_count{pool=\"%s\","
		    "function=\"%s\"} %llu\n", pl, fl, (unsigned long long)s->count);
	}
	for (int k = 0; k < 4; k++) {
		ds_metrics_header(b, names[k], "counter", helps[k]);
		for (size_t i = 0; i < mt->njobs; i++) {
			const struct ds_job_series *s = &mt->jobs[i];
			uint64_t v = k == 0 ? s->completed : k == 1 ? s->failed :
			    k == 2 ? s->timed_out : s->answer_lost;

			ds_buf_printf(b, "%s{pool=\"%s\",function=\"%s\"} %llu\n",
			    names[k], ds_metrics_lv(&plb, s->pool), ds_metrics_lv(&flb, s->function),
			    (unsigned long long)v);
		}
	}
	free(plb.data);
	free(flb.data);
}

static void
render_counts(struct ds_buf *b, const char *name, const char *help,
    const char *label, const struct ds_count_series *a, size_t n)
{
	struct ds_buf pl = {0}, ll = {0};

	ds_metrics_header(b, name, "counter", help);
	for (size_t i = 0; i < n; i++) {
		if (label == NULL)
			ds_buf_printf(b, "%s{pool=\"%s\"} %llu\n", name,
			    ds_metrics_lv(&pl, a[i].pool), (unsigned long long)a[i].count);
		else
			ds_buf_printf(b, "%s{pool=\"%s\",%s=\"%s\"} %llu\n", name,
			    ds_metrics_lv(&pl, a[i].pool), label, ds_metrics_lv(&ll, a[i].label),
			    (unsigned long long)a[i].count);
	}
	free(pl.data);
	free(ll.data);
}

static void
render_workers(const struct ds_master_gauges *g, struct ds_buf *b)
{
	static const char *states[DS_WG_N] = {"starting", "idle", "busy",
	    "disconnected", "backoff"};
	struct ds_buf pl = {0};

	ds_metrics_header(b, "driveshaft_workers", "gauge", "Worker slots by state.");
	for (size_t i = 0; i < g->npools; i++)
		for (int k = 0; k < DS_WG_N; k++)
			ds_buf_printf(b, "driveshaft_workers{pool=\"%s\",state="
			    "\"%s\"} %d\n", ds_metrics_lv(&pl, g->pools[i].pool), states[k],
			    g->pools[i].workers[k]);
	/* whole seconds: the kill's grace alone is 5 s */
	ds_metrics_header(b, "driveshaft_oldest_job_seconds", "gauge",
	    "How long the longest job in hand of the pool has run, 0 when "
	    "none; its worker is killed past max_running_time and 5 s more.");
	for (size_t i = 0; i < g->npools; i++)
		ds_buf_printf(b, "driveshaft_oldest_job_seconds{pool=\"%s\"} "
		    "%lld\n", ds_metrics_lv(&pl, g->pools[i].pool),
		    (long long)(g->pools[i].oldest_job_ms / 1000));
	free(pl.data);
}

/* Which binaries run: the workers by the version they say, and the
 * in-place upgrades of the master. */
static void
render_versions(const struct ds_master_gauges *g, struct ds_buf *b)
{
	struct ds_buf vl = {0};

	ds_metrics_header(b, "driveshaft_workers_by_version", "gauge",
	    "Worker processes by the version they say (unknown: none).");
	for (size_t i = 0; i < g->nversions; i++)
		ds_buf_printf(b, "driveshaft_workers_by_version{version=\"%s\"} "
		    "%d\n", ds_metrics_lv(&vl, g->versions[i].version),
		    g->versions[i].n);
	free(vl.data);
	ds_metrics_header(b, "driveshaft_upgrades_total", "counter",
	    "In-place upgrades of the master (USR2), by result.");
	ds_buf_printf(b, "driveshaft_upgrades_total{result=\"done\"} %llu\n",
	    (unsigned long long)g->upgrades);
	ds_buf_printf(b, "driveshaft_upgrades_total{result=\"failed\"} "
	    "%llu\n", (unsigned long long)g->upgrades_failed);
}

void
ds_metrics_render(const struct ds_metrics *mt,
    const struct ds_master_gauges *g, struct ds_buf *b)
{
	render_jobs(mt, b);
	render_counts(b, "driveshaft_http_errors_total",
	    "Endpoint answers with an HTTP status other than 200.", "code",
	    mt->http_errors, mt->nhttp_errors);
	render_counts(b, "driveshaft_worker_starts_total",
	    "Worker processes started.", NULL, mt->starts, mt->nstarts);
	render_counts(b, "driveshaft_worker_exits_total",
	    "Worker processes that exited, by reason.", "reason", mt->exits,
	    mt->nexits);
	render_workers(g, b);
	ds_metrics_header(b, "driveshaft_reloads_total", "counter",
	    "Config reloads applied.");
	ds_buf_printf(b, "driveshaft_reloads_total %llu\n",
	    (unsigned long long)g->reloads);
	ds_metrics_header(b, "driveshaft_reloads_failed_total", "counter",
	    "Config reloads refused for a bad config.");
	ds_buf_printf(b, "driveshaft_reloads_failed_total %llu\n",
	    (unsigned long long)g->reloads_failed);
	ds_metrics_header(b, "driveshaft_start_time_seconds", "gauge",
	    "When the master started, seconds since the epoch.");
	ds_buf_printf(b, "driveshaft_start_time_seconds %.3f\n",
	    g->started_wall_ms / 1000.0);
	render_versions(g, b);
	ds_metrics_header(b, "driveshaft_config_generation", "gauge",
	    "Config loads applied since start, the first being 1.");
	ds_buf_printf(b, "driveshaft_config_generation %llu\n",
	    (unsigned long long)g->generation);
}
