/* test_status.c: what the status port prints (docs/status-port.md), to
 * the byte, from a master state built by hand without any process
 * (status_unit.h): `threads` in the original's format, `pools`, version, errors and the HTTP
 * answer for Prometheus. The metrics text itself: test_status_metrics.c. */
#include "status_unit.h"

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

/* Every state but busy and starting reads as waiting, whatever handle the
 * worker left behind: one that lost gearmand or is stopping has no job to
 * show. */
static const enum ds_slot_state waiting_states[] = {
	DS_SLOT_IDLE, DS_SLOT_DISCONNECTED, DS_SLOT_STOPPING,
};

START_TEST(threads_not_busy_is_waiting)
{
	size_t len;
	char *s, *state;

	m.children[0].state = waiting_states[_i];
	snprintf(m.children[0].handle, sizeof(m.children[0].handle),
	    "H:stale:1");
	s = run(ds_status_threads, &len);
	/* the first line is pid 101's; SHUTDOWN is 1 while it stops */
	ck_assert_msg(strncmp(s, "101\tWeb\t", 8) == 0, "%s", s);
	state = strchr(s + 8, '\t');
	ck_assert_ptr_nonnull(state);
	ck_assert_msg(strncmp(state, "\tWaiting for work\r\n", 19) == 0,
	    "state %d: %s", (int)waiting_states[_i], s);
	free(s);
}
END_TEST

/* A handle and a unique of the longest size a message carries, all control
 * characters, still come out whole: every byte as \xNN. */
START_TEST(threads_longest_escapes)
{
	struct ds_child *c = ds_child_by_pid(&m, 102);
	char want[64 + 8 * DS_SLOT_STR_MAX], *o = want;
	size_t len;
	char *s;

	memset(c->handle, '\x1b', DS_SLOT_STR_MAX);
	c->handle[DS_SLOT_STR_MAX] = '\0';
	memset(c->unique, '\n', DS_SLOT_STR_MAX);
	c->unique[DS_SLOT_STR_MAX] = '\0';
	o += sprintf(o, "102\tWeb\t0\tjob_handle=");
	for (int i = 0; i < DS_SLOT_STR_MAX; i++)
		o += sprintf(o, "\\x1B");
	o += sprintf(o, " job_unique=");
	for (int i = 0; i < DS_SLOT_STR_MAX; i++)
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
	    "Web\t3\t2\t1\t1\t5\t2\t1\t4\t3\t3\t3\tunknown:3\r\n"
	    "Idle\t1\t1\t0\t0\t0\t0\t0\t0\t1\t1\t4\tunknown:1\r\n");
	free(s);
}
END_TEST

/* Child i's worker writes the version it runs into its page. */
static void
says_version(size_t i, const char *version)
{
	struct ds_child *c = &m.children[i];

	ds_slot_write_version(ds_slot_tail(c->page, c->nfunctions), version);
	ds_child_sync(&m, c);
}

/* The version reply: the master's line as before, then the workers by
 * the version their pages say (none: unknown), sorted, then the
 * upgrades; `pools` gains the pool's own counts as its last field. */
START_TEST(versions)
{
	size_t len;
	char *s;

	says_version(0, "0.1.0");
	says_version(1, "9.9.9-test");
	m.upgrades = 3;
	m.upgrades_failed = 1;
	reply_is("version", "driveshaft " DS_VERSION "\r\n"
	    "workers 0.1.0 1\r\n"
	    "workers 9.9.9-test 1\r\n"
	    "workers unknown 2\r\n"
	    "upgrades 3 failed 1\r\n");
	s = run(ds_status_pools, &len);
	ck_assert_str_eq(s,
	    "Web\t3\t2\t1\t1\t5\t2\t1\t4\t3\t3\t3\t"
	    "0.1.0:1,9.9.9-test:1,unknown:1\r\n"
	    "Idle\t1\t1\t0\t0\t0\t0\t0\t0\t1\t1\t4\tunknown:1\r\n");
	free(s);
}
END_TEST

/* A roll's spare is in no slot: a line of its own after the slots,
 * SHUTDOWN 0, in the original's format; it counts in its pool's
 * versions but not as one of its slots' workers. */
START_TEST(threads_spare)
{
	size_t len;
	char *s;

	add_child(105, "Web", DS_SLOT_SPARE, DS_SLOT_IDLE, "", "", "");
	says_version(4, DS_VERSION);
	s = run(ds_status_threads, &len);
	ck_assert_str_eq(s,
	    "101\tWeb\t0\tWaiting for work\r\n"
	    "102\tWeb\t0\tjob_handle=H:host:1\\x0A "
	    "job_unique=u\\x01\\x09q\\x5C\\x7F\r\n"
	    "0\tWeb\t0\tStarting up\r\n"
	    "103\tIdle\t0\tStarting up\r\n"
	    "104\tWeb\t1\tjob_handle=H:host:9 job_unique=r\r\n"
	    "105\tWeb\t0\tWaiting for work\r\n");
	free(s);
	s = run(ds_status_pools, &len);
	ck_assert_str_eq(s,
	    "Web\t3\t2\t1\t1\t5\t2\t1\t4\t3\t3\t3\t"
	    DS_VERSION ":1,unknown:3\r\n"
	    "Idle\t1\t1\t0\t0\t0\t0\t0\t0\t1\t1\t4\tunknown:1\r\n");
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

	reply_is("version", "driveshaft " DS_VERSION "\r\n"
	    "workers unknown 4\r\nupgrades 0 failed 0\r\n");
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

	counted_job(&m.metrics, "Web", "Sum", DS_OUT_COMPLETE, 3, 200);
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

static Suite *
status_suite(void)
{
	Suite *s = suite_create("status");
	TCase *tc;

	tc = tcase_create("status");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, threads_every_state);
	tcase_add_test(tc, threads_while_stopping);
	tcase_add_loop_test(tc, threads_not_busy_is_waiting, 0,
	    NELEM(waiting_states));
	tcase_add_test(tc, threads_longest_escapes);
	tcase_add_test(tc, pools_counts);
	tcase_add_test(tc, versions);
	tcase_add_test(tc, threads_spare);
	tcase_add_test(tc, empty_master);
	tcase_add_test(tc, replies);
	tcase_add_test(tc, http_metrics);
	suite_add_tcase(s, tc);
	return s;
}

DS_CHECK_MAIN(status_suite)
