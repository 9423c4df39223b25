/* test_config_queue.c: the queue view's keys of the jobs config
 * (docs/config.md): queue_poll_interval and stuck_after at the top, and a pool's
 * min_workers, max_workers and scale_down_after. One row per bad shape,
 * with the exact message an operator reads. */
#include "config/config.h"

#include "unit.h"

#include <stdio.h>
#include <string.h>

#define NELEM_T(a) (sizeof(a) / sizeof((a)[0]))
#define SERVERS "\"gearman_servers_list\": [\"localhost\"]"
#define JOBS "\"jobs_list\": [\"j\"], \"job_processing_uri\": \"http://h\""

static struct ds_config cfg;
static struct ds_diag diag;

/* A whole config: top-level extras, then pool P with body b. */
static int
parse(const char *top, const char *body)
{
	char text[2048];

	snprintf(text, sizeof(text), "{" SERVERS "%s, \"pools_list\": "
	    "{\"P\": {" JOBS "%s}}}", top, body);
	ds_config_free(&cfg);
	ds_diag_free(&diag);
	return ds_config_parse(text, strlen(text), "jobs.json", &cfg, &diag);
}

START_TEST(defaults)
{
	ck_assert_int_eq(parse("", ", \"worker_count\": 2"), 0);
	ck_assert_int_eq(cfg.queue_poll_ms, 5000);
	ck_assert_int_eq(cfg.stuck_after_ms, 60000);
	ck_assert_int_eq(cfg.pools[0].queue_sized, 0);
	ck_assert_int_eq(cfg.pools[0].min_workers, 2);
	ck_assert_int_eq(cfg.pools[0].max_workers, 2);
	ck_assert_int_eq(cfg.pools[0].scale_down_after_ms, 60000);
}
END_TEST

START_TEST(queue_sized)
{
	ck_assert_int_eq(parse(", \"queue_poll_interval\": 0.5, "
	    "\"stuck_after\": 3", ", \"min_workers\": 1, \"max_workers\": 8, "
	    "\"scale_down_after\": 2.5"), 0);
	ck_assert_int_eq(cfg.queue_poll_ms, 500);
	ck_assert_int_eq(cfg.stuck_after_ms, 3000);
	ck_assert_int_eq(cfg.pools[0].queue_sized, 1);
	ck_assert_int_eq(cfg.pools[0].worker_count, 1);	/* it starts there */
	ck_assert_int_eq(cfg.pools[0].min_workers, 1);
	ck_assert_int_eq(cfg.pools[0].max_workers, 8);
	ck_assert_int_eq(cfg.pools[0].scale_down_after_ms, 2500);
	/* the edges */
	ck_assert_int_eq(parse("", ", \"min_workers\": 0, \"max_workers\": "
	    "0, \"scale_down_after\": 0"), 0);
	ck_assert_int_eq(parse("", ", \"min_workers\": 10000, "
	    "\"max_workers\": 10000"), 0);
	ck_assert_int_eq(parse(", \"queue_poll_interval\": 0", ", "
	    "\"worker_count\": 1"), 0);
	ck_assert_int_eq(cfg.queue_poll_ms, 0);
}
END_TEST

static const struct {
	const char *top, *body, *error;
} bad[] = {
	{"", ", \"worker_count\": 1, \"min_workers\": 1, \"max_workers\": 2",
	    "jobs.json: pools_list.P: worker_count and "
	    "min_workers/max_workers exclude each other: give one or the other"},
	{"", ", \"worker_count\": 1, \"max_workers\": 2",
	    "jobs.json: pools_list.P: worker_count and "
	    "min_workers/max_workers exclude each other: give one or the other"},
	{"", ", \"min_workers\": 1",
	    "jobs.json: pools_list.P: min_workers needs max_workers too"},
	{"", ", \"max_workers\": 1",
	    "jobs.json: pools_list.P: max_workers needs min_workers too"},
	{"", ", \"min_workers\": 3, \"max_workers\": 2",
	    "jobs.json: pools_list.P.min_workers: expected integer <= "
	    "max_workers (2), got 3"},
	{"", ", \"min_workers\": 0, \"max_workers\": 10001",
	    "jobs.json: pools_list.P.max_workers: expected integer <= 10000, "
	    "got 10001"},
	{"", ", \"min_workers\": -1, \"max_workers\": 1",
	    "jobs.json: pools_list.P.min_workers: expected integer >= 0, "
	    "got -1"},
	{"", ", \"min_workers\": \"1\", \"max_workers\": 1",
	    "jobs.json: pools_list.P.min_workers: expected integer >= 0, "
	    "got \"1\""},
	{"", ", \"min_workers\": 1.5, \"max_workers\": 2",
	    "jobs.json: pools_list.P.min_workers: expected integer >= 0, "
	    "got 1.5"},
	{"", ", \"min_workers\": 1, \"max_workers\": null",
	    "jobs.json: pools_list.P.max_workers: expected integer >= 0, "
	    "got null"},
	{"", ", \"min_workers\": 1, \"max_workers\": 2, \"min_workers\": 1",
	    "jobs.json: pools_list.P.min_workers: duplicate key"},
	{"", ", \"worker_count\": 1, \"scale_down_after\": 5",
	    "jobs.json: pools_list.P.scale_down_after: only for a pool with "
	    "min_workers and max_workers"},
	{"", ", \"min_workers\": 1, \"max_workers\": 2, "
	    "\"scale_down_after\": -1",
	    "jobs.json: pools_list.P.scale_down_after: expected number of "
	    "seconds >= 0, got -1"},
	{"", ", \"min_workers\": 1, \"max_workers\": 2, "
	    "\"scale_down_after\": \"60\"",
	    "jobs.json: pools_list.P.scale_down_after: expected number of "
	    "seconds >= 0, got \"60\""},
	{"", ", \"min_workers\": 1, \"max_workers\": 2, "
	    "\"scale_down_after\": 86401",
	    "jobs.json: pools_list.P.scale_down_after: expected number of "
	    "seconds <= 86400, got 86401"},
	{"", "", "jobs.json: pools_list.P: missing required key worker_count"},
	{", \"queue_poll_interval\": -1", ", \"worker_count\": 1",
	    "jobs.json: queue_poll_interval: expected number of seconds >= 0, "
	    "got -1"},
	{", \"queue_poll_interval\": 3601", ", \"worker_count\": 1",
	    "jobs.json: queue_poll_interval: expected number of seconds <= "
	    "3600, got 3601"},
	{", \"queue_poll_interval\": true", ", \"worker_count\": 1",
	    "jobs.json: queue_poll_interval: expected number of seconds >= 0, "
	    "got true"},
	{", \"stuck_after\": 0", ", \"worker_count\": 1",
	    "jobs.json: stuck_after: expected number of seconds >= 0.001, "
	    "got 0"},
	{", \"stuck_after\": [1]", ", \"worker_count\": 1",
	    "jobs.json: stuck_after: expected number of seconds >= 0.001, "
	    "got an array"},
	{", \"stuck_after\": 1e9", ", \"worker_count\": 1",
	    "jobs.json: stuck_after: expected number of seconds <= 86400, "
	    "got 1e+09"},
	{", \"stuck_after\": 1, \"stuck_after\": 2", ", \"worker_count\": 1",
	    "jobs.json: stuck_after: duplicate key"},
	{", \"queue_poll_interval\": 0", ", \"min_workers\": 1, "
	    "\"max_workers\": 2",
	    "jobs.json: queue_poll_interval: 0 turns the queue view off, but "
	    "pools_list.P is sized by it (min_workers, max_workers)"},
};

START_TEST(bad_shapes)
{
	for (size_t i = 0; i < NELEM_T(bad); i++) {
		ck_assert_msg(parse(bad[i].top, bad[i].body) == -1,
		    "case %zu loaded", i);
		ck_assert_msg(diag.nerrors == 1 &&
		    strcmp(diag.errors[0], bad[i].error) == 0,
		    "case %zu: %zu errors, first: %s", i, diag.nerrors,
		    diag.nerrors ? diag.errors[0] : "-");
	}
}
END_TEST

/* The monitor takes every function on its command line: bounded. */
START_TEST(too_many_functions)
{
	static char text[DS_MAX_MONITOR_FUNCTIONS * 16 + 512];
	size_t o;

	o = (size_t)snprintf(text, sizeof(text), "{" SERVERS ", \"pools_list\": "
	    "{\"P\": {\"worker_count\": 1, \"job_processing_uri\": \"http://h\","
	    " \"jobs_list\": [\"f\"]}");
	/* 5 pools of 256 distinct names, past the limit of 1024 */
	for (int p = 0; p < 5; p++) {
		o += (size_t)snprintf(text + o, sizeof(text) - o, ", \"Q%d\": "
		    "{\"worker_count\": 1, \"job_processing_uri\": \"http://h\","
		    " \"jobs_list\": [", p);
		for (int j = 0; j < 256; j++)
			o += (size_t)snprintf(text + o, sizeof(text) - o,
			    "%s\"f%d_%d\"", j ? "," : "", p, j);
		o += (size_t)snprintf(text + o, sizeof(text) - o, "]}");
	}
	snprintf(text + o, sizeof(text) - o, "}}");
	ds_config_free(&cfg);
	ds_diag_free(&diag);
	ck_assert_int_eq(ds_config_parse(text, strlen(text), "jobs.json", &cfg,
	    &diag), -1);
	ck_assert_str_eq(diag.errors[0], "jobs.json: queue_poll_interval: the "
	    "queue view reads at most 1024 functions, the pools have 1281: set "
	    "it to 0 or use fewer functions");
}
END_TEST

static void
teardown(void)
{
	ds_config_free(&cfg);
	ds_diag_free(&diag);
}

static Suite *
config_queue_suite(void)
{
	Suite *s = suite_create("config_queue");
	TCase *tc = tcase_create("keys");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, queue_sized);
	tcase_add_test(tc, bad_shapes);
	tcase_add_test(tc, too_many_functions);
	suite_add_tcase(s, tc);
	return s;
}

DS_CHECK_MAIN(config_queue_suite)
