/* test_status_metrics.c: the `metrics` reply of the status port
 * (docs/status-port.md), the Prometheus text that scrapers and promtool
 * parse, to the
 * byte, from the master state of status_unit.h: every series, no series yet,
 * and label values of any length escaped whole. */
#include "status_unit.h"

/* Compares two texts line by line, so that a mismatch names the line and
 * shows both versions of it instead of two whole bodies. */
static void
assert_same_lines(const char *got, const char *want)
{
	int line = 1;

	while (*got || *want) {
		size_t g = strcspn(got, "\n"), w = strcspn(want, "\n");

		ck_assert_msg(g == w && strncmp(got, want, g) == 0,
		    "line %d differs:\n got: %.*s\nwant: %.*s", line, (int)g,
		    got, (int)w, want);
		got += g + (got[g] == '\n');
		want += w + (want[w] == '\n');
		line++;
	}
}

#define B(le, n) "driveshaft_job_duration_seconds_bucket{pool=\"Web\"," \
	"function=\"Sum\",le=\"" le "\"} " #n "\n"
#define Q(le) "driveshaft_job_duration_seconds_bucket{pool=\"Web\"," \
	"function=\"a\\\"b\\\\c\",le=\"" le "\"} 1\n"

static const char metrics_want[] =
"# HELP driveshaft_job_duration_seconds Time from grabbing a job to its answer.\n"
"# TYPE driveshaft_job_duration_seconds histogram\n"
B("0.005", 1) B("0.01", 2) B("0.025", 3) B("0.05", 3) B("0.1", 3)
B("0.25", 3) B("0.5", 3) B("1", 3) B("2.5", 4) B("5", 4) B("10", 4)
B("30", 4) B("60", 4) B("300", 4) B("+Inf", 5)
"driveshaft_job_duration_seconds_sum{pool=\"Web\",function=\"Sum\"} 401.533\n"
"driveshaft_job_duration_seconds_count{pool=\"Web\",function=\"Sum\"} 5\n"
Q("0.005") Q("0.01") Q("0.025") Q("0.05") Q("0.1") Q("0.25") Q("0.5")
Q("1") Q("2.5") Q("5") Q("10") Q("30") Q("60") Q("300") Q("+Inf")
"driveshaft_job_duration_seconds_sum{pool=\"Web\",function=\"a\\\"b\\\\c\"} 0.000\n"
"driveshaft_job_duration_seconds_count{pool=\"Web\",function=\"a\\\"b\\\\c\"} 1\n"
"# HELP driveshaft_jobs_completed_total Jobs answered WORK_COMPLETE.\n"
"# TYPE driveshaft_jobs_completed_total counter\n"
"driveshaft_jobs_completed_total{pool=\"Web\",function=\"Sum\"} 2\n"
"driveshaft_jobs_completed_total{pool=\"Web\",function=\"a\\\"b\\\\c\"} 0\n"
"# HELP driveshaft_jobs_failed_total Jobs answered WORK_FAIL, timeouts excluded.\n"
"# TYPE driveshaft_jobs_failed_total counter\n"
"driveshaft_jobs_failed_total{pool=\"Web\",function=\"Sum\"} 2\n"
"driveshaft_jobs_failed_total{pool=\"Web\",function=\"a\\\"b\\\\c\"} 1\n"
"# HELP driveshaft_jobs_timed_out_total Jobs failed for running past max_running_time.\n"
"# TYPE driveshaft_jobs_timed_out_total counter\n"
"driveshaft_jobs_timed_out_total{pool=\"Web\",function=\"Sum\"} 1\n"
"driveshaft_jobs_timed_out_total{pool=\"Web\",function=\"a\\\"b\\\\c\"} 0\n"
"# HELP driveshaft_jobs_answer_lost_total Jobs whose answer could not be sent to gearmand.\n"
"# TYPE driveshaft_jobs_answer_lost_total counter\n"
"driveshaft_jobs_answer_lost_total{pool=\"Web\",function=\"Sum\"} 0\n"
"driveshaft_jobs_answer_lost_total{pool=\"Web\",function=\"a\\\"b\\\\c\"} 0\n"
"# HELP driveshaft_http_errors_total Endpoint answers with an HTTP status other than 200.\n"
"# TYPE driveshaft_http_errors_total counter\n"
"driveshaft_http_errors_total{pool=\"Web\",code=\"500\"} 1\n"
"driveshaft_http_errors_total{pool=\"Web\",code=\"404\"} 1\n"
"# HELP driveshaft_worker_starts_total Worker processes started.\n"
"# TYPE driveshaft_worker_starts_total counter\n"
"driveshaft_worker_starts_total{pool=\"Web\"} 3\n"
"driveshaft_worker_starts_total{pool=\"Idle\"} 1\n"
"# HELP driveshaft_worker_exits_total Worker processes that exited, by reason.\n"
"# TYPE driveshaft_worker_exits_total counter\n"
"driveshaft_worker_exits_total{pool=\"Web\",reason=\"signal\"} 2\n"
"driveshaft_worker_exits_total{pool=\"Web\",reason=\"killed\"} 1\n"
"# HELP driveshaft_workers Worker slots by state.\n"
"# TYPE driveshaft_workers gauge\n"
"driveshaft_workers{pool=\"Web\",state=\"starting\"} 0\n"
"driveshaft_workers{pool=\"Web\",state=\"idle\"} 1\n"
"driveshaft_workers{pool=\"Web\",state=\"busy\"} 1\n"
"driveshaft_workers{pool=\"Web\",state=\"disconnected\"} 0\n"
"driveshaft_workers{pool=\"Web\",state=\"backoff\"} 1\n"
"driveshaft_workers{pool=\"Idle\",state=\"starting\"} 1\n"
"driveshaft_workers{pool=\"Idle\",state=\"idle\"} 0\n"
"driveshaft_workers{pool=\"Idle\",state=\"busy\"} 0\n"
"driveshaft_workers{pool=\"Idle\",state=\"disconnected\"} 0\n"
"driveshaft_workers{pool=\"Idle\",state=\"backoff\"} 0\n"
"# HELP driveshaft_oldest_job_seconds How long the longest job in hand of the pool has run, 0 when none; its worker is killed past max_running_time and 5 s more.\n"
"# TYPE driveshaft_oldest_job_seconds gauge\n"
"driveshaft_oldest_job_seconds{pool=\"Web\"} 42\n"
"driveshaft_oldest_job_seconds{pool=\"Idle\"} 0\n"
"# HELP driveshaft_reloads_total Config reloads applied.\n"
"# TYPE driveshaft_reloads_total counter\n"
"driveshaft_reloads_total 1\n"
"# HELP driveshaft_reloads_failed_total Config reloads refused for a bad config.\n"
"# TYPE driveshaft_reloads_failed_total counter\n"
"driveshaft_reloads_failed_total 0\n"
"# HELP driveshaft_start_time_seconds When the master started, seconds since the epoch.\n"
"# TYPE driveshaft_start_time_seconds gauge\n"
"driveshaft_start_time_seconds 1700000000.123\n"
"# HELP driveshaft_workers_by_version Worker processes by the version they say (unknown: none).\n"
"# TYPE driveshaft_workers_by_version gauge\n"
"driveshaft_workers_by_version{version=\"0.1.0\"} 1\n"
"driveshaft_workers_by_version{version=\"unknown\"} 3\n"
"# HELP driveshaft_upgrades_total In-place upgrades of the master (USR2), by result.\n"
"# TYPE driveshaft_upgrades_total counter\n"
"driveshaft_upgrades_total{result=\"done\"} 2\n"
"driveshaft_upgrades_total{result=\"failed\"} 5\n"
"# HELP driveshaft_config_generation Config loads applied since start, the first being 1.\n"
"# TYPE driveshaft_config_generation gauge\n"
"driveshaft_config_generation 2\n"
"# HELP driveshaft_pool_workers_target Worker slots the pool has now.\n"
"# TYPE driveshaft_pool_workers_target gauge\n"
"driveshaft_pool_workers_target{pool=\"Web\"} 3\n"
"driveshaft_pool_workers_target{pool=\"Idle\"} 1\n"
"# HELP driveshaft_pool_workers_min Least workers of the pool (worker_count or min_workers).\n"
"# TYPE driveshaft_pool_workers_min gauge\n"
"driveshaft_pool_workers_min{pool=\"Web\"} 3\n"
"driveshaft_pool_workers_min{pool=\"Idle\"} 1\n"
"# HELP driveshaft_pool_workers_max Most workers of the pool (worker_count or max_workers).\n"
"# TYPE driveshaft_pool_workers_max gauge\n"
"driveshaft_pool_workers_max{pool=\"Web\"} 3\n"
"driveshaft_pool_workers_max{pool=\"Idle\"} 4\n"
"# HELP driveshaft_pool_backlog Jobs of the pool's functions queued and not running, over the servers that answered.\n"
"# TYPE driveshaft_pool_backlog gauge\n"
"driveshaft_pool_backlog{pool=\"Web\"} 0\n"
"driveshaft_pool_backlog{pool=\"Idle\"} 0\n";

START_TEST(metrics_text)
{
	struct ds_metrics *mt = &m.metrics;
	size_t len;
	char *s;

	/* durations on bucket bounds fall in that bucket; past the last
	 * bound only in +Inf */
	counted_job(mt, "Web", "Sum", DS_OUT_COMPLETE, 3, 200);
	counted_job(mt, "Web", "Sum", DS_OUT_COMPLETE, 10, 200);
	counted_job(mt, "Web", "Sum", DS_OUT_FAIL, 1500, 500);
	counted_job(mt, "Web", "Sum", DS_OUT_TIMEOUT, 400000, 0);
	counted_job(mt, "Web", "a\"b\\c", DS_OUT_ABORTED, 0, 0);
	counted_job(mt, "Web", "Sum", DS_OUT_FAIL, 20, 404);
	ds_metrics_worker_start(mt, "Web");
	ds_metrics_worker_start(mt, "Web");
	ds_metrics_worker_start(mt, "Idle");
	ds_metrics_worker_start(mt, "Web");
	ds_metrics_worker_exit(mt, "Web", "signal");
	ds_metrics_worker_exit(mt, "Web", "killed");
	ds_metrics_worker_exit(mt, "Web", "signal");
	/* child 0's worker says its version; the others' pages none */
	ds_slot_write_version(ds_slot_tail(m.children[0].page, 1), "0.1.0");
	m.upgrades = 2;
	m.upgrades_failed = 5;
	s = run(metrics_reply, &len);
	assert_same_lines(s, metrics_want);
	free(s);
}
END_TEST

/* Nothing counted yet: headers and gauges only, still valid text. */
START_TEST(metrics_empty)
{
	size_t len;
	char *s = run(metrics_reply, &len);

	ck_assert_ptr_nonnull(strstr(s,
	    "# TYPE driveshaft_job_duration_seconds histogram\n"
	    "# HELP driveshaft_jobs_completed_total Jobs answered "
	    "WORK_COMPLETE.\n"
	    "# TYPE driveshaft_jobs_completed_total counter\n"
	    "# HELP driveshaft_jobs_failed_total"));
	ck_assert_ptr_null(strstr(s, "_bucket"));
	ck_assert_ptr_nonnull(strstr(s, "driveshaft_reloads_total 1\n"));
	free(s);
}
END_TEST

/* Label values of any length come out whole and escaped: a cut label
 * would merge two series or split a UTF-8 sequence. */
START_TEST(metrics_long_labels)
{
	char pool[301], fn[DS_SLOT_STR_MAX + 1], want[2048];
	size_t len;
	char *s;

	memset(pool, 'p', sizeof(pool) - 1);
	pool[sizeof(pool) - 1] = '\0';
	memset(fn, '"', sizeof(fn) - 1);
	fn[sizeof(fn) - 1] = '\0';
	free(m.pools[1].name);
	m.pools[1].name = strdup(pool);
	counted_job(&m.metrics, pool, fn, DS_OUT_COMPLETE, 1, 200);
	ds_metrics_worker_exit(&m.metrics, pool, "signal");
	s = run(metrics_reply, &len);
	snprintf(want, sizeof(want), "driveshaft_workers{pool=\"%s\","
	    "state=\"starting\"} 1\n", pool);
	ck_assert_ptr_nonnull(strstr(s, want));
	snprintf(want, sizeof(want), "driveshaft_worker_exits_total{pool=\"%s\","
	    "reason=\"signal\"} 1\n", pool);
	ck_assert_ptr_nonnull(strstr(s, want));
	{
		char *o = want;

		o += sprintf(o, "driveshaft_jobs_completed_total{pool=\"%s\","
		    "function=\"", pool);
		for (int i = 0; i < DS_SLOT_STR_MAX; i++)
			o += sprintf(o, "\\\"");
		ck_assert_uint_lt((size_t)(o - want) + 8, sizeof(want));
		sprintf(o, "\"} 1\n");
	}
	ck_assert_ptr_nonnull(strstr(s, want));
	free(s);
}
END_TEST

static Suite *
status_metrics_suite(void)
{
	Suite *s = suite_create("status_metrics");
	TCase *tc;

	tc = tcase_create("metrics");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, metrics_text);
	tcase_add_test(tc, metrics_empty);
	tcase_add_test(tc, metrics_long_labels);
	suite_add_tcase(s, tc);
	return s;
}

DS_CHECK_MAIN(status_metrics_suite)
