/* test_status.c: what the status port prints (SPEC section 5), to the byte,
 * from a master state built by hand without any process: `threads` in the
 * original's format, `pools`, version, errors, the HTTP answer for
 * Prometheus and the metrics text that scrapers and promtool parse. */
#include "master/children.h"
#include "master/status_reply.h"
#include "master/metrics.h"
#include "master/status.h"

#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/msg.h"

static struct ds_master m;
static struct ds_master_opts opts;
static struct ds_pool cfg[2];

static void
add_child(pid_t pid, const char *pool, int slot, int state,
    const char *handle, const char *unique, const char *function)
{
	struct ds_child *c;

	if (m.nchildren == m.cap_children) {
		m.cap_children = m.cap_children ? 2 * m.cap_children : 4;
		m.children = realloc(m.children,
		    m.cap_children * sizeof(*m.children));
		ck_assert_ptr_nonnull(m.children);
	}
	c = &m.children[m.nchildren++];
	memset(c, 0, sizeof(*c));
	c->pid = pid;
	c->fd = -1;
	c->pool = strdup(pool);
	c->slot = slot;
	c->state = state;
	snprintf(c->handle, sizeof(c->handle), "%s", handle);
	snprintf(c->unique, sizeof(c->unique), "%s", unique);
	snprintf(c->function, sizeof(c->function), "%s", function);
}

static void
add_pool(const char *name, struct ds_pool *pc, int nslots)
{
	struct ds_pool_rt *p;

	m.pools = realloc(m.pools, (m.npools + 1) * sizeof(*m.pools));
	ck_assert_ptr_nonnull(m.pools);
	p = &m.pools[m.npools++];
	memset(p, 0, sizeof(*p));
	p->name = strdup(name);
	p->cfg = pc;
	p->nslots = nslots;
	p->slots = calloc((size_t)nslots, sizeof(*p->slots));
	ck_assert_ptr_nonnull(p->slots);
}

/*
 * Pool Web (3 configured): slot 0 idle, slot 1 busy with a handle and a
 * unique full of control characters, slot 2 empty and backing off after
 * quick deaths. Pool Idle (1): a child still starting. One retired Web child
 * finishing its job.
 */
static void
setup(void)
{
	memset(&m, 0, sizeof(m));
	memset(cfg, 0, sizeof(cfg));
	m.opts = &opts;
	cfg[0].name = "Web";
	cfg[0].worker_count = cfg[0].min_workers = cfg[0].max_workers = 3;
	cfg[1].name = "Idle";
	/* sized by the queue: it is at 1, between 1 and 4 */
	cfg[1].queue_sized = 1;
	cfg[1].worker_count = cfg[1].min_workers = 1;
	cfg[1].max_workers = 4;
	add_pool("Web", &cfg[0], 3);
	add_pool("Idle", &cfg[1], 1);
	add_child(101, "Web", 0, DS_MSG_IDLE, "", "", "");
	add_child(102, "Web", 1, DS_MSG_BUSY, "H:host:1\n", "u\x01\tq\\\x7f",
	    "Sum");
	add_child(103, "Idle", 0, DS_MSG_STARTING, "", "", "");
	add_child(104, "Web", -1, DS_MSG_BUSY, "H:host:9", "r", "Sum");
	m.pools[0].slots[0].pid = 101;
	m.pools[0].slots[1].pid = 102;
	m.pools[0].slots[2].quick_deaths = 2;
	m.pools[0].slots[2].restart_at = 123456;
	m.pools[1].slots[0].pid = 103;
	m.pools[0].stats.completed = 5;
	m.pools[0].stats.failed = 2;
	m.pools[0].stats.timed_out = 1;
	m.pools[0].stats.answer_lost = 4;
	m.started_wall_ms = 1700000000123LL;
	m.generation = 2;
	m.reloads = 1;
}

static void
teardown(void)
{
	for (size_t i = 0; i < m.npools; i++) {
		free(m.pools[i].name);
		free(m.pools[i].slots);
	}
	free(m.pools);
	for (size_t i = 0; i < m.nchildren; i++)
		free(m.children[i].pool);
	free(m.children);
	ds_metrics_free(&m.metrics);
	memset(&m, 0, sizeof(m));
}

/* Runs one formatter into a fresh buffer; the caller frees. */
/* The `metrics` command's reply, as a (master, buffer) filler. */
static void
metrics_reply(struct ds_master *mm, struct ds_buf *b)
{
	size_t n;
	char *s = ds_status_reply(mm, "metrics", &n);

	ck_assert_ptr_nonnull(s);
	ds_buf_add(b, s, n);
	free(s);
}

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

static char *
run(void (*fn)(struct ds_master *, struct ds_buf *), size_t *len)
{
	struct ds_buf b = {0};
	char *s;

	fn(&m, &b);
	s = ds_buf_take(&b, len);
	ck_assert_ptr_nonnull(s);
	/* an empty buffer's bytes are not set (common/buf.c), so only a
	 * non-empty one is checked to be one C string of that length */
	if (*len > 0)
		ck_assert_uint_eq(strlen(s), *len);
	return s;
}

static void
reply_is(const char *line, const char *want)
{
	size_t len;
	char *got = ds_status_reply(&m, line, &len);

	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, want);
	ck_assert_uint_eq(len, strlen(want));
	free(got);
}

START_TEST(threads_every_state)
{
	size_t len;
	char *s = run(ds_status_threads, &len);

	ck_assert_str_eq(s,
	    "101\tWeb\t0\tWaiting for work\r\n"
	    "102\tWeb\t0\tjob_handle=H:host:1\\x0A "
	    "job_unique=u\\x01\\x09q\\x5C\\x7F\r\n"
	    "0\tWeb\t0\tStarting up\r\n"
	    "103\tIdle\t0\tStarting up\r\n"
	    "104\tWeb\t1\tjob_handle=H:host:9 job_unique=r\r\n");
	free(s);
}
END_TEST

START_TEST(threads_while_stopping)
{
	size_t len;
	char *s;

	m.stopping = DS_STOP;
	s = run(ds_status_threads, &len);
	ck_assert_str_eq(s,
	    "101\tWeb\t1\tWaiting for work\r\n"
	    "102\tWeb\t1\tjob_handle=H:host:1\\x0A "
	    "job_unique=u\\x01\\x09q\\x5C\\x7F\r\n"
	    "0\tWeb\t1\tStarting up\r\n"
	    "103\tIdle\t1\tStarting up\r\n"
	    "104\tWeb\t1\tjob_handle=H:host:9 job_unique=r\r\n");
	free(s);
}
END_TEST

/* A handle and a unique of the longest size a message carries, all control
 * characters, still come out whole: every byte as \xNN. */
START_TEST(threads_longest_escapes)
{
	struct ds_child *c = ds_child_by_pid(&m, 102);
	char want[64 + 8 * DS_MSG_STR_MAX], *o = want;
	size_t len;
	char *s;

	memset(c->handle, '\x1b', DS_MSG_STR_MAX);
	c->handle[DS_MSG_STR_MAX] = '\0';
	memset(c->unique, '\n', DS_MSG_STR_MAX);
	c->unique[DS_MSG_STR_MAX] = '\0';
	o += sprintf(o, "102\tWeb\t0\tjob_handle=");
	for (int i = 0; i < DS_MSG_STR_MAX; i++)
		o += sprintf(o, "\\x1B");
	o += sprintf(o, " job_unique=");
	for (int i = 0; i < DS_MSG_STR_MAX; i++)
		o += sprintf(o, "\\x0A");
	sprintf(o, "\r\n");
	s = run(ds_status_threads, &len);
	ck_assert_ptr_nonnull(strstr(s, want));
	free(s);
}
END_TEST

START_TEST(pools_counts)
{
	size_t len;
	char *s = run(ds_status_pools, &len);

	ck_assert_str_eq(s,
	    "Web\t3\t2\t1\t1\t5\t2\t1\t4\t3\t3\t3\r\n"
	    "Idle\t1\t1\t0\t0\t0\t0\t0\t0\t1\t1\t4\r\n");
	free(s);
}
END_TEST

START_TEST(empty_master)
{
	size_t len;
	char *s;

	teardown();
	m.opts = &opts;
	s = run(ds_status_threads, &len);
	ck_assert_uint_eq(len, 0);
	free(s);
	s = run(ds_status_pools, &len);
	ck_assert_uint_eq(len, 0);
	free(s);
	/* an empty reply is still a reply, not a dropped connection */
	s = ds_status_reply(&m, "threads", &len);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(len, 0);
	free(s);
}
END_TEST

START_TEST(replies)
{
	size_t len;
	char *t = run(ds_status_threads, &len);
	char *p;

	reply_is("version", "driveshaft " DS_VERSION "\r\n");
	reply_is("threads", t);
	free(t);
	p = run(ds_status_pools, &len);
	reply_is("pools", p);
	free(p);
	reply_is("bogus", "Error: unrecognized command\r\n");
	reply_is("", "Error: unrecognized command\r\n");
	reply_is("version ", "Error: unrecognized command\r\n");
	reply_is("VERSION", "Error: unrecognized command\r\n");
	reply_is("threads\r", "Error: unrecognized command\r\n");
	reply_is("GET /metrics HTTP/1.2", "Error: unrecognized command\r\n");
	reply_is("GET /metrics HTTP/1.", "Error: unrecognized command\r\n");
	reply_is("GET /metrics HTTP/1.10", "Error: unrecognized command\r\n");
	reply_is("GET /metricsX HTTP/1.1", "Error: unrecognized command\r\n");
	reply_is("GET / HTTP/1.1", "Error: unrecognized command\r\n");
}
END_TEST

START_TEST(http_metrics)
{
	const char *versions[] = {"GET /metrics HTTP/1.1", "GET /metrics HTTP/1.0"};
	size_t blen, len;
	char *body, *want, *got;

	ds_metrics_job(&m.metrics, "Web", "Sum", DS_OUT_COMPLETE, 3, 200);
	body = run(metrics_reply, &blen);
	ck_assert_uint_gt(blen, 1000);
	want = malloc(blen + 256);
	ck_assert_ptr_nonnull(want);
	sprintf(want, "HTTP/1.1 200 OK\r\n"
	    "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
	    "Content-Length: %zu\r\n"
	    "Connection: close\r\n"
	    "\r\n%s", blen, body);
	for (int i = 0; i < 2; i++)
		reply_is(versions[i], want);
	got = ds_status_reply(&m, "metrics", &len);
	ck_assert_str_eq(got, body);
	ck_assert_uint_eq(len, blen);
	free(got);
	free(want);
	free(body);
}
END_TEST

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
"# HELP driveshaft_reloads_total Config reloads applied.\n"
"# TYPE driveshaft_reloads_total counter\n"
"driveshaft_reloads_total 1\n"
"# HELP driveshaft_reloads_failed_total Config reloads refused for a bad config.\n"
"# TYPE driveshaft_reloads_failed_total counter\n"
"driveshaft_reloads_failed_total 0\n"
"# HELP driveshaft_start_time_seconds When the master started, seconds since the epoch.\n"
"# TYPE driveshaft_start_time_seconds gauge\n"
"driveshaft_start_time_seconds 1700000000.123\n"
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
	ds_metrics_job(mt, "Web", "Sum", DS_OUT_COMPLETE, 3, 200);
	ds_metrics_job(mt, "Web", "Sum", DS_OUT_COMPLETE, 10, 200);
	ds_metrics_job(mt, "Web", "Sum", DS_OUT_FAIL, 1500, 500);
	ds_metrics_job(mt, "Web", "Sum", DS_OUT_TIMEOUT, 400000, 0);
	ds_metrics_job(mt, "Web", "a\"b\\c", DS_OUT_ABORTED, 0, 0);
	ds_metrics_job(mt, "Web", "Sum", DS_OUT_FAIL, 20, 404);
	ds_metrics_worker_start(mt, "Web");
	ds_metrics_worker_start(mt, "Web");
	ds_metrics_worker_start(mt, "Idle");
	ds_metrics_worker_start(mt, "Web");
	ds_metrics_worker_exit(mt, "Web", "signal");
	ds_metrics_worker_exit(mt, "Web", "killed");
	ds_metrics_worker_exit(mt, "Web", "signal");
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
	char pool[301], fn[DS_MSG_STR_MAX + 1], want[2048];
	size_t len;
	char *s;

	memset(pool, 'p', sizeof(pool) - 1);
	pool[sizeof(pool) - 1] = '\0';
	memset(fn, '"', sizeof(fn) - 1);
	fn[sizeof(fn) - 1] = '\0';
	free(m.pools[1].name);
	m.pools[1].name = strdup(pool);
	ds_metrics_job(&m.metrics, pool, fn, DS_OUT_COMPLETE, 1, 200);
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
		for (int i = 0; i < DS_MSG_STR_MAX; i++)
			o += sprintf(o, "\\\"");
		ck_assert_uint_lt((size_t)(o - want) + 8, sizeof(want));
		sprintf(o, "\"} 1\n");
	}
	ck_assert_ptr_nonnull(strstr(s, want));
	free(s);
}
END_TEST

static Suite *
status_suite(void)
{
	Suite *s = suite_create("status");
	TCase *tc;

	tc = tcase_create("status");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, threads_every_state);
	tcase_add_test(tc, threads_while_stopping);
	tcase_add_test(tc, threads_longest_escapes);
	tcase_add_test(tc, pools_counts);
	tcase_add_test(tc, empty_master);
	tcase_add_test(tc, replies);
	tcase_add_test(tc, http_metrics);
	suite_add_tcase(s, tc);

	tc = tcase_create("metrics");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, metrics_text);
	tcase_add_test(tc, metrics_empty);
	tcase_add_test(tc, metrics_long_labels);
	suite_add_tcase(s, tc);
	return s;
}

DS_CHECK_MAIN(status_suite)
