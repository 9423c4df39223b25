/* test_scale_round.c: the scaler's round (master/scale.h) on a real queue
 * view fed by hand-made monitor rounds: a queue-sized pool grows by its
 * backlog within its bounds, a fixed pool only records its backlog, and
 * nothing is resized while the master stops. */
#include "master/pools.h"
#include "master/queue.h"
#include "master/scale.h"

#include "common/parse.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 1000000

static struct ds_master m;
static struct ds_master_opts o;
static struct ds_queue q;
static char *sized_jobs[] = {"Sum"};
static char *fixed_jobs[] = {"Fixed"};
static struct ds_pool cfg[2];

static void
msg(int type, uint32_t a, uint32_t b, uint32_t c, const char *text)
{
	struct ds_qmsg qm;
	const char *why = NULL;

	memset(&qm, 0, sizeof(qm));
	qm.type = (uint8_t)type;
	qm.a = a;
	qm.b = b;
	qm.c = c;
	snprintf(qm.text, sizeof(qm.text), "%s", text);
	ck_assert_int_ge(ds_qview_apply(&q.view, &qm, T0, &why), 0);
}

/* One monitor round: server 0 up, Sum with total jobs of which running
 * run, Fixed with its total. */
static void
round_of(uint32_t sum_total, uint32_t running, uint32_t fixed_total)
{
	msg(DS_QMSG_SERVER, 1, 0, 0, "");
	msg(DS_QMSG_FUNC, sum_total, running, 0, "Sum");
	msg(DS_QMSG_FUNC, fixed_total, 0, 0, "Fixed");
	msg(DS_QMSG_ROUND, 1, 0, 0, "");
}

static void
setup(void)
{
	static const char *const ours[] = {"Sum", "Fixed"};
	struct ds_log_settings quiet;

	ds_log_defaults(&quiet);
	quiet.to_stderr = 0;
	ds_log_open(&quiet);
	memset(&m, 0, sizeof(m));
	memset(&q, 0, sizeof(q));
	memset(cfg, 0, sizeof(cfg));
	m.opts = &o;
	cfg[0] = (struct ds_pool){.name = "S", .jobs = sized_jobs, .njobs = 1,
	    .queue_sized = 1, .worker_count = 1, .min_workers = 1,
	    .max_workers = 6, .scale_down_after_ms = 60000};
	cfg[1] = (struct ds_pool){.name = "F", .jobs = fixed_jobs, .njobs = 1,
	    .worker_count = 2, .min_workers = 2, .max_workers = 2};
	m.cfg.pools = cfg;
	m.cfg.npools = 2;
	ds_pools_start(&m);
	ck_assert_uint_eq(m.npools, 2);
	ck_assert_int_eq(ds_qview_init(&q.view, 1), 0);
	ck_assert_int_eq(ds_qview_set_ours(&q.view, ours, 2, 8), 0);
	m.queue = &q;
}

static void
teardown(void)
{
	ds_qview_free(&q.view);
	ds_pools_free(&m);
}

START_TEST(no_view_no_change)
{
	m.queue = NULL;
	ds_scale_round(&m, T0);
	ck_assert_int_eq(m.pools[0].nslots, 1);
	ck_assert_uint_eq(m.pools[0].backlog, 0);
}
END_TEST

START_TEST(backlog_grows_the_sized_pool_only)
{
	round_of(5, 2, 50);	/* backlog: queued minus running */
	ds_scale_round(&m, T0);
	ck_assert_uint_eq(m.pools[0].backlog, 3);
	ck_assert_int_eq(m.pools[0].nslots, 3);	/* 0 spare: 3 more wanted */
	ck_assert_uint_eq(m.pools[1].backlog, 50);
	ck_assert_int_eq(m.pools[1].nslots, 2);	/* fixed: never resized */
	ck_assert_int_eq(m.pools[0].zero_since, 0);
}
END_TEST

START_TEST(growth_stops_at_max)
{
	round_of(500, 0, 0);
	ds_scale_round(&m, T0);
	ck_assert_int_eq(m.pools[0].nslots, 5);	/* 1 + DS_SCALE_STEP_MIN */
	ds_scale_round(&m, T0 + 1);
	ck_assert_int_eq(m.pools[0].nslots, 6);	/* max_workers */
	ds_scale_round(&m, T0 + 2);
	ck_assert_int_eq(m.pools[0].nslots, 6);
	ck_assert_int_eq(m.pools[1].zero_since, T0);	/* Fixed: empty */
}
END_TEST

START_TEST(no_resize_while_stopping)
{
	m.stopping = DS_DRAIN;
	round_of(3, 0, 0);
	ds_scale_round(&m, T0);
	ck_assert_uint_eq(m.pools[0].backlog, 3);
	ck_assert_int_eq(m.pools[0].nslots, 1);
}
END_TEST

/* A reload keeps a sized pool's size within its new bounds. */
START_TEST(reload_count)
{
	static const struct {
		int sized, min, max, nslots, new_count, want;
	} cases[] = {
		{0, 3, 3, 5, 3, 3},	/* fixed: the config's count */
		{1, 1, 8, 5, 1, 5},	/* sized: keeps its size */
		{1, 6, 8, 5, 7, 6},	/* raised to the new min */
		{1, 1, 4, 5, 1, 4},	/* lowered to the new max */
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct ds_pool c = {.queue_sized = cases[i].sized,
		    .min_workers = cases[i].min, .max_workers = cases[i].max};
		struct ds_pool_rt p = {.cfg = &c, .nslots = cases[i].nslots};

		ck_assert_int_eq(ds_scale_reload_count(&p, cases[i].new_count),
		    cases[i].want);
	}
}
END_TEST

static Suite *
scale_round_suite(void)
{
	Suite *s = suite_create("scale_round");
	TCase *tc = ds_tcase(s, "round", setup, teardown);

	tcase_add_test(tc, no_view_no_change);
	tcase_add_test(tc, backlog_grows_the_sized_pool_only);
	tcase_add_test(tc, growth_stops_at_max);
	tcase_add_test(tc, no_resize_while_stopping);
	tcase_add_test(tc, reload_count);
	return s;
}

DS_CHECK_MAIN(scale_round_suite)
