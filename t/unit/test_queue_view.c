/* test_queue_view.c: the master's queue view (master/queue_view.h) driven
 * by hand-made monitor rounds: a round applies whole, waiting time carries
 * over by function, a server's state changes once, bad messages are
 * refused without touching the view. */
#include "master/queue_view.h"
#include "master/metrics.h"
#include "common/buf.h"

#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct ds_queue_view v;

static int
msg(int type, int server, uint32_t a, uint32_t b, uint32_t c,
    const char *text, int64_t now)
{
	struct ds_qmsg m;
	const char *why = NULL;
	int rc;

	memset(&m, 0, sizeof(m));
	m.type = (uint8_t)type;
	m.server = (uint16_t)server;
	m.a = a;
	m.b = b;
	m.c = c;
	snprintf(m.text, sizeof(m.text), "%s", text);
	rc = ds_qview_apply(&v, &m, now, &why);
	ck_assert(rc >= 0 || why != NULL);
	return rc;
}

static void
setup(void)
{
	static const char *const ours[] = {"Sum", "Old", "New"};

	ck_assert_int_eq(ds_qview_init(&v, 2), 0);
	ck_assert_int_eq(ds_qview_set_ours(&v, ours, NELEM(ours), 8), 0);
}

static void
teardown(void)
{
	ds_qview_free(&v);
}

START_TEST(round_applies_whole)
{
	ck_assert_int_eq(msg(DS_QMSG_SERVER, 0, 1, 0, 0, "", 100), 0);
	ck_assert_int_eq(msg(DS_QMSG_FUNC, 0, 5, 2, 3, "Sum", 100), 0);
	ck_assert_int_eq(msg(DS_QMSG_WORKER, 0, 1, 4242, 0, "P", 100), 0);
	ck_assert_int_eq(msg(DS_QMSG_SERVER, 1, 0, 0, 0, "refused", 100), 0);
	/* nothing shows before the round ends */
	ck_assert_ptr_null(ds_qview_func(&v, 0, "Sum"));
	ck_assert_int_eq(v.s[0].state, DS_Q_UNKNOWN);
	ck_assert_int_eq(msg(DS_QMSG_ROUND, 0, 2, 0, 0, "", 100), 1);
	ck_assert_int_eq(v.s[0].state, DS_Q_UP);
	ck_assert_int_eq(v.s[1].state, DS_Q_DOWN);
	ck_assert_str_eq(v.s[1].why, "refused");
	ck_assert(v.s[0].changed && v.s[1].changed);
	ck_assert_uint_eq(ds_qview_func(&v, 0, "Sum")->total, 5);
	ck_assert_uint_eq(ds_qview_func(&v, 0, "Sum")->available, 3);
	ck_assert_int_eq(ds_qview_func(&v, 0, "Sum")->waiting_since, 100);
	ck_assert_uint_eq(v.s[0].now.nw, 1);
	ck_assert_int_eq(v.s[0].now.w[0].pid, 4242);
	ck_assert_str_eq(v.s[0].now.w[0].pool, "P");
	ck_assert_uint_eq(v.rounds, 1);
}
END_TEST

START_TEST(waiting_carries_over)
{
	struct ds_qfunc *f;

	for (int64_t t = 100; t <= 300; t += 100) {
		msg(DS_QMSG_SERVER, 0, 1, 0, 0, "", t);
		msg(DS_QMSG_FUNC, 0, 3, 1, 1, "Sum", t);
		msg(DS_QMSG_ROUND, 0, 1, 0, 0, "", t);
		/* an unchanged state is not a change */
		ck_assert_int_eq(v.s[0].changed, t == 100);
	}
	ck_assert_int_eq(ds_qview_func(&v, 0, "Sum")->waiting_since, 100);
	f = (struct ds_qfunc *)ds_qview_func(&v, 0, "Sum");
	f->acted_ms = 250;
	/* drained: no longer waiting; what we did is remembered */
	msg(DS_QMSG_SERVER, 0, 1, 0, 0, "", 400);
	msg(DS_QMSG_FUNC, 0, 1, 1, 1, "Sum", 400);
	msg(DS_QMSG_ROUND, 0, 1, 0, 0, "", 400);
	ck_assert_int_eq(ds_qview_func(&v, 0, "Sum")->waiting_since, 0);
	ck_assert_int_eq(ds_qview_func(&v, 0, "Sum")->acted_ms, 250);
	/* waiting again starts a new count */
	msg(DS_QMSG_SERVER, 0, 1, 0, 0, "", 500);
	msg(DS_QMSG_FUNC, 0, 2, 1, 1, "Sum", 500);
	msg(DS_QMSG_ROUND, 0, 1, 0, 0, "", 500);
	ck_assert_int_eq(ds_qview_func(&v, 0, "Sum")->waiting_since, 500);
	/* a server gone down has no rows */
	msg(DS_QMSG_SERVER, 0, 0, 0, 0, "timeout", 600);
	msg(DS_QMSG_ROUND, 0, 1, 0, 0, "", 600);
	ck_assert_ptr_null(ds_qview_func(&v, 0, "Sum"));
	ck_assert(v.s[0].changed);
	ck_assert_int_eq(v.s[0].state_since, 600);
}
END_TEST

START_TEST(bad_messages)
{
	ck_assert_int_eq(msg(DS_QMSG_SERVER, 2, 1, 0, 0, "", 1), -1);
	ck_assert_int_eq(msg(DS_QMSG_FUNC, 0, 1, 0, 0, "Sum", 1), -1);
	ck_assert_int_eq(msg(DS_QMSG_FIRST - 1, 0, 0, 0, 0, "", 1), -1);
	msg(DS_QMSG_SERVER, 0, 0, 0, 0, "down", 1);
	ck_assert_int_eq(msg(DS_QMSG_WORKER, 0, 1, 2, 0, "P", 1), -1);
	/* a restarted round drops what the broken one had */
	msg(DS_QMSG_SERVER, 1, 1, 0, 0, "", 1);
	msg(DS_QMSG_FUNC, 1, 9, 0, 0, "Old", 1);
	msg(DS_QMSG_SERVER, 1, 1, 0, 0, "", 2);
	msg(DS_QMSG_FUNC, 1, 1, 0, 0, "New", 2);
	/* a pid of 0 is nobody's */
	msg(DS_QMSG_WORKER, 1, 1, 0, 0, "P", 2);
	msg(DS_QMSG_ROUND, 0, 2, 0, 0, "", 2);
	ck_assert_ptr_null(ds_qview_func(&v, 1, "Old"));
	ck_assert_ptr_nonnull(ds_qview_func(&v, 1, "New"));
	ck_assert_uint_eq(v.s[1].now.nw, 0);
}
END_TEST

/* What the metrics show of a view: a server that answered with its rows,
 * one that did not with up 0 and no rows, the pools' sizes and bounds. */
START_TEST(metrics_lines)
{
	static char *servers[] = {"gm1:4730", "gm\"2"};
	struct ds_pool_gauges pools[] = {
		{.pool = "P", .target = 3, .min = 1, .max = 8, .backlog = 2},
	};
	struct ds_master_gauges g = {.pools = pools, .npools = 1,
	    .queue = &v, .servers = servers};
	struct ds_buf b = {0};
	static const char *const want[] = {
		"driveshaft_pool_workers_target{pool=\"P\"} 3\n",
		"driveshaft_pool_workers_min{pool=\"P\"} 1\n",
		"driveshaft_pool_workers_max{pool=\"P\"} 8\n",
		"driveshaft_pool_backlog{pool=\"P\"} 2\n",
		"driveshaft_gearman_up{server=\"gm1:4730\"} 1\n",
		"driveshaft_gearman_up{server=\"gm\\\"2\"} 0\n",
		"driveshaft_gearman_queue_jobs{server=\"gm1:4730\","
		    "function=\"Sum\"} 5\n",
		"driveshaft_gearman_running_jobs{server=\"gm1:4730\","
		    "function=\"Sum\"} 2\n",
		"driveshaft_gearman_available_workers{server=\"gm1:4730\","
		    "function=\"Sum\"} 3\n",
		"# TYPE driveshaft_gearman_up gauge\n",
	};

	msg(DS_QMSG_SERVER, 0, 1, 0, 0, "", 1);
	msg(DS_QMSG_FUNC, 0, 5, 2, 3, "Sum", 1);
	msg(DS_QMSG_SERVER, 1, 0, 0, 0, "refused", 1);
	msg(DS_QMSG_ROUND, 0, 2, 0, 0, "", 1);
	ds_metrics_render_queue(&g, &b);
	ck_assert_ptr_nonnull(b.data);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ck_assert_msg(strstr(b.data, want[i]) != NULL, "missing %s in\n%s",
		    want[i], b.data);
	/* no rows for the server that did not answer */
	ck_assert_ptr_null(strstr(b.data, "function=\"Sum\"} 0"));
	ck_assert_ptr_null(strstr(b.data, "_jobs{server=\"gm\\\"2\""));
	free(b.data);
}
END_TEST

static Suite *
queue_view_suite(void)
{
	Suite *s = suite_create("queue_view");
	TCase *tc = tcase_create("apply");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, round_applies_whole);
	tcase_add_test(tc, waiting_carries_over);
	tcase_add_test(tc, bad_messages);
	tcase_add_test(tc, metrics_lines);
	suite_add_tcase(s, tc);
	return s;
}

DS_CHECK_MAIN(queue_view_suite)
