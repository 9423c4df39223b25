/* test_reload_diff.c: what a reload changes, pool by pool (SPEC section 6):
 * unchanged pools are not touched, a count change only resizes, anything a
 * worker gets on its command line replaces the pool's workers. */
#include "master/reload_diff.h"

#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SERVERS	"\"gearman_servers_list\": [\"localhost\", \"g2:4731\"]"
/* A whole config with the given servers and pools. */
#define CFG(servers, pools) "{" servers ", \"pools_list\": {" pools "}}"
/* A pool named n with count c, jobs j (a JSON list body) and extra keys x. */
#define POOL(n, c, j, x) "\"" n "\": {\"worker_count\": " #c ", " \
	"\"jobs_list\": [" j "], \"job_processing_uri\": \"http://h/job\"" x "}"

static struct ds_config oldc, newc;
static struct ds_pool_diff out[64];
static size_t nout;

static void
teardown(void)
{
	ds_config_free(&oldc);
	ds_config_free(&newc);
	nout = 0;
}

static void
load(struct ds_config *cfg, const char *text)
{
	struct ds_diag diag;
	int rc;

	memset(&diag, 0, sizeof(diag));
	ds_config_free(cfg);
	rc = ds_config_parse(text, strlen(text), "jobs.json", cfg, &diag);
	ck_assert_msg(rc == 0, "config does not load: %s",
	    diag.nerrors ? diag.errors[0] : "?");
	ds_diag_free(&diag);
}

/* Diffs old text o against new text n. */
static void
diff(const char *o, const char *n)
{
	load(&oldc, o);
	load(&newc, n);
	ck_assert_uint_le(oldc.npools + newc.npools,
	    sizeof(out) / sizeof(out[0]));
	for (size_t i = 0; i < sizeof(out) / sizeof(out[0]); i++) {
		out[i].name = NULL;
		out[i].change = (enum ds_pool_change)-1;
		out[i].old_count = out[i].new_count = -1;
	}
	nout = ds_config_diff(&oldc, &newc, out);
}

/* Entry i is pool name with change ch, counts oc -> nc. */
static void
entry(size_t i, const char *name, enum ds_pool_change ch, int oc, int nc)
{
	ck_assert_uint_lt(i, nout);
	ck_assert_str_eq(out[i].name, name);
	ck_assert_msg(out[i].change == ch, "%s: change %s, expected %s", name,
	    ds_pool_change_name(out[i].change), ds_pool_change_name(ch));
	ck_assert_int_eq(out[i].old_count, oc);
	ck_assert_int_eq(out[i].new_count, nc);
}

/* The one-pool config with extra keys x (before) changes to extra keys y:
 * the pool is classified as ch. */
static void
one_pool(const char *x, const char *y, int ch)
{
	char a[1024], b[1024];

	snprintf(a, sizeof(a), "{" SERVERS ", \"pools_list\": {\"P\": "
	    "{\"worker_count\": 2, \"jobs_list\": [\"j\"], %s}}}", x);
	snprintf(b, sizeof(b), "{" SERVERS ", \"pools_list\": {\"P\": "
	    "{\"worker_count\": 2, \"jobs_list\": [\"j\"], %s}}}", y);
	diff(a, b);
	ck_assert_uint_eq(nout, 1);
	entry(0, "P", ch, 2, 2);
}

#define URI	"\"job_processing_uri\": \"http://h/job\""

static const char three[] = CFG(SERVERS,
    POOL("A", 1, "\"a\"", "") ", "
    POOL("B", 2, "\"b1\", \"b2\"", ", \"request_format\": \"form\"") ", "
    POOL("C", 0, "\"c\"", ", \"max_running_time\": 10, "
	"\"max_jobs_per_worker\": 5, \"max_response_bytes\": 100"));

START_TEST(same_config)
{
	diff(three, three);
	ck_assert_uint_eq(nout, 3);
	entry(0, "A", DS_POOL_SAME, 1, 1);
	entry(1, "B", DS_POOL_SAME, 2, 2);
	entry(2, "C", DS_POOL_SAME, 0, 0);
	/* names point into the new config */
	ck_assert_ptr_eq(out[0].name, newc.pools[0].name);
	ck_assert_ptr_eq(out[2].name, newc.pools[2].name);
}
END_TEST

START_TEST(same_config_other_layout)
{
	/* whitespace, key order and explicit defaults change nothing */
	diff(three, "{\"pools_list\": {"
	    "\"A\": {\"job_processing_uri\": \"http://h/job\", "
	    "\"jobs_list\": [\"a\"], \"worker_count\": 1, "
	    "\"request_format\": \"json\", \"max_jobs_per_worker\": 0, "
	    "\"max_response_bytes\": 16777216},\n"
	    "\"B\": {\"jobs_list\": [\"b1\", \"b2\"], \"worker_count\": 2, "
	    "\"request_format\": \"form\", " URI "},\n"
	    "\"C\": {\"max_response_bytes\": 100, \"max_jobs_per_worker\": 5, "
	    "\"max_running_time\": 10, \"worker_count\": 0, "
	    "\"jobs_list\": [\"c\"], " URI "}}, "
	    "\"gearman_servers_list\": [\"localhost\", \"g2:4731\"]}");
	ck_assert_uint_eq(nout, 3);
	entry(0, "A", DS_POOL_SAME, 1, 1);
	entry(1, "B", DS_POOL_SAME, 2, 2);
	entry(2, "C", DS_POOL_SAME, 0, 0);
}
END_TEST

START_TEST(no_pools)
{
	diff(CFG(SERVERS, ""), CFG(SERVERS, ""));
	ck_assert_uint_eq(nout, 0);
}
END_TEST

START_TEST(count_change)
{
	diff(three, CFG(SERVERS,
	    POOL("A", 3, "\"a\"", "") ", "
	    POOL("B", 0, "\"b1\", \"b2\"", ", \"request_format\": \"form\"")
	    ", "
	    POOL("C", 0, "\"c\"", ", \"max_running_time\": 10, "
		"\"max_jobs_per_worker\": 5, \"max_response_bytes\": 100")));
	ck_assert_uint_eq(nout, 3);
	entry(0, "A", DS_POOL_RESIZED, 1, 3);
	entry(1, "B", DS_POOL_RESIZED, 2, 0);
	entry(2, "C", DS_POOL_SAME, 0, 0);
}
END_TEST

START_TEST(uri_change)
{
	one_pool(URI, "\"job_processing_uri\": \"http://h/other\"",
	    DS_POOL_REPLACED);
	one_pool(URI, "\"job_processing_uri\": \"https://h/job\"",
	    DS_POOL_REPLACED);
	one_pool(URI, "\"job_processing_uri\": \"http://h/job/\"",
	    DS_POOL_REPLACED);
}
END_TEST

START_TEST(jobs_change)
{
	const char *o = CFG(SERVERS, POOL("P", 2, "\"x\", \"y\", \"z\"", ""));

	/* one job more, one less, one other */
	diff(o, CFG(SERVERS, POOL("P", 2, "\"x\", \"y\", \"z\", \"w\"", "")));
	entry(0, "P", DS_POOL_REPLACED, 2, 2);
	diff(o, CFG(SERVERS, POOL("P", 2, "\"x\", \"y\"", "")));
	entry(0, "P", DS_POOL_REPLACED, 2, 2);
	diff(o, CFG(SERVERS, POOL("P", 2, "\"x\", \"y\", \"Z\"", "")));
	entry(0, "P", DS_POOL_REPLACED, 2, 2);
	diff(o, CFG(SERVERS, POOL("P", 2, "\"w\"", "")));
	entry(0, "P", DS_POOL_REPLACED, 2, 2);
	/* replaced wins over resized */
	diff(o, CFG(SERVERS, POOL("P", 5, "\"x\"", "")));
	ck_assert_uint_eq(nout, 1);
	entry(0, "P", DS_POOL_REPLACED, 2, 5);
}
END_TEST

START_TEST(jobs_reordered)
{
	const char *o = CFG(SERVERS, POOL("P", 2, "\"x\", \"y\", \"z\"", ""));

	diff(o, CFG(SERVERS, POOL("P", 2, "\"z\", \"x\", \"y\"", "")));
	ck_assert_uint_eq(nout, 1);
	entry(0, "P", DS_POOL_SAME, 2, 2);
	diff(o, CFG(SERVERS, POOL("P", 4, "\"y\", \"z\", \"x\"", "")));
	entry(0, "P", DS_POOL_RESIZED, 2, 4);
}
END_TEST

START_TEST(request_format_change)
{
	one_pool(URI, URI ", \"request_format\": \"form\"", DS_POOL_REPLACED);
	one_pool(URI ", \"request_format\": \"form\"", URI, DS_POOL_REPLACED);
	one_pool(URI ", \"request_format\": \"form\"",
	    URI ", \"request_format\": \"json\"", DS_POOL_REPLACED);
	one_pool(URI, URI ", \"request_format\": \"json\"", DS_POOL_SAME);
}
END_TEST

START_TEST(max_running_time_change)
{
	one_pool(URI, URI ", \"max_running_time\": 10", DS_POOL_REPLACED);
	one_pool(URI ", \"max_running_time\": 10", URI, DS_POOL_REPLACED);
	one_pool(URI ", \"max_running_time\": 10",
	    URI ", \"max_running_time\": 10.5", DS_POOL_REPLACED);
	one_pool(URI ", \"max_running_time\": 10",
	    URI ", \"max_running_time\": 10.0", DS_POOL_SAME);
}
END_TEST

START_TEST(max_jobs_per_worker_change)
{
	one_pool(URI, URI ", \"max_jobs_per_worker\": 100", DS_POOL_REPLACED);
	one_pool(URI ", \"max_jobs_per_worker\": 100",
	    URI ", \"max_jobs_per_worker\": 101", DS_POOL_REPLACED);
	one_pool(URI ", \"max_jobs_per_worker\": 100", URI, DS_POOL_REPLACED);
	one_pool(URI, URI ", \"max_jobs_per_worker\": 0", DS_POOL_SAME);
}
END_TEST

START_TEST(max_response_bytes_change)
{
	one_pool(URI, URI ", \"max_response_bytes\": 1024", DS_POOL_REPLACED);
	one_pool(URI ", \"max_response_bytes\": 1024",
	    URI ", \"max_response_bytes\": 1025", DS_POOL_REPLACED);
	one_pool(URI ", \"max_response_bytes\": 1024", URI, DS_POOL_REPLACED);
	one_pool(URI, URI ", \"max_response_bytes\": 16777216", DS_POOL_SAME);
}
END_TEST

START_TEST(servers_change)
{
	static const char *others[] = {
		"\"gearman_servers_list\": [\"localhost\"]",
		"\"gearman_servers_list\": [\"localhost\", \"g2:4731\", "
		    "\"g3\"]",
		"\"gearman_servers_list\": [\"localhost\", \"g2:4732\"]",
		"\"gearman_servers_list\": [\"localhost\", \"g3:4731\"]",
	};
	char text[2048];

	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		snprintf(text, sizeof(text), "{%s, \"pools_list\": {"
		    POOL("A", 1, "\"a\"", "") ", "
		    POOL("B", 2, "\"b\"", "") ", "
		    POOL("C", 0, "\"c\"", "") "}}", others[i]);
		diff(CFG(SERVERS, POOL("A", 1, "\"a\"", "") ", "
		    POOL("B", 2, "\"b\"", "") ", "
		    POOL("C", 3, "\"c\"", "")), text);
		ck_assert_uint_eq(nout, 3);
		entry(0, "A", DS_POOL_REPLACED, 1, 1);
		entry(1, "B", DS_POOL_REPLACED, 2, 2);
		entry(2, "C", DS_POOL_REPLACED, 3, 0);
	}
}
END_TEST

START_TEST(pool_added)
{
	diff(CFG(SERVERS, POOL("A", 1, "\"a\"", "")),
	    CFG(SERVERS, POOL("N", 4, "\"n\"", "") ", "
	    POOL("A", 1, "\"a\"", "") ", " POOL("Z", 0, "\"z\"", "")));
	ck_assert_uint_eq(nout, 3);
	entry(0, "N", DS_POOL_ADDED, 0, 4);
	entry(1, "A", DS_POOL_SAME, 1, 1);
	entry(2, "Z", DS_POOL_ADDED, 0, 0);

	diff(CFG(SERVERS, ""), CFG(SERVERS, POOL("N", 2, "\"n\"", "")));
	ck_assert_uint_eq(nout, 1);
	entry(0, "N", DS_POOL_ADDED, 0, 2);
	ck_assert_ptr_eq(out[0].name, newc.pools[0].name);
}
END_TEST

START_TEST(pool_removed)
{
	diff(CFG(SERVERS, POOL("R1", 3, "\"r\"", "") ", "
	    POOL("A", 1, "\"a\"", "") ", " POOL("R2", 0, "\"r\"", "")),
	    CFG(SERVERS, POOL("A", 1, "\"a\"", "")));
	ck_assert_uint_eq(nout, 3);
	entry(0, "A", DS_POOL_SAME, 1, 1);
	entry(1, "R1", DS_POOL_REMOVED, 3, 0);
	entry(2, "R2", DS_POOL_REMOVED, 0, 0);
	/* a removed pool's name points into the old config */
	ck_assert_ptr_eq(out[1].name, oldc.pools[0].name);

	diff(CFG(SERVERS, POOL("R", 2, "\"r\"", "")), CFG(SERVERS, ""));
	ck_assert_uint_eq(nout, 1);
	entry(0, "R", DS_POOL_REMOVED, 2, 0);
}
END_TEST

START_TEST(pool_renamed)
{
	/* names are case-sensitive: a renamed pool is removed and added */
	diff(CFG(SERVERS, POOL("pool", 2, "\"a\"", "")),
	    CFG(SERVERS, POOL("Pool", 2, "\"a\"", "")));
	ck_assert_uint_eq(nout, 2);
	entry(0, "Pool", DS_POOL_ADDED, 0, 2);
	entry(1, "pool", DS_POOL_REMOVED, 2, 0);
}
END_TEST

START_TEST(mixture)
{
	diff(CFG(SERVERS,
	    POOL("Gone1", 2, "\"g\"", "") ", "
	    POOL("Same", 1, "\"s1\", \"s2\"", "") ", "
	    POOL("Grow", 1, "\"g\"", "") ", "
	    POOL("Gone2", 5, "\"g\"", "") ", "
	    POOL("Uri", 2, "\"u\"", "") ", "
	    POOL("Shrink", 4, "\"s\"", "") ", "
	    POOL("Fmt", 1, "\"f\"", "") ", "
	    POOL("Jobs", 3, "\"j\"", "")),
	    CFG(SERVERS,
	    POOL("New", 2, "\"n\"", "") ", "
	    POOL("Jobs", 1, "\"j\", \"k\"", "") ", "
	    POOL("Shrink", 1, "\"s\"", "") ", "
	    "\"Uri\": {\"worker_count\": 2, \"jobs_list\": [\"u\"], "
	    "\"job_processing_uri\": \"http://h/v2\"}, "
	    POOL("Same", 1, "\"s2\", \"s1\"", "") ", "
	    POOL("Fmt", 1, "\"f\"", ", \"request_format\": \"form\"") ", "
	    POOL("Grow", 6, "\"g\"", "")));
	ck_assert_uint_eq(nout, 9);
	entry(0, "New", DS_POOL_ADDED, 0, 2);
	entry(1, "Jobs", DS_POOL_REPLACED, 3, 1);
	entry(2, "Shrink", DS_POOL_RESIZED, 4, 1);
	entry(3, "Uri", DS_POOL_REPLACED, 2, 2);
	entry(4, "Same", DS_POOL_SAME, 1, 1);
	entry(5, "Fmt", DS_POOL_REPLACED, 1, 1);
	entry(6, "Grow", DS_POOL_RESIZED, 1, 6);
	entry(7, "Gone1", DS_POOL_REMOVED, 2, 0);
	entry(8, "Gone2", DS_POOL_REMOVED, 5, 0);
}
END_TEST

START_TEST(mixture_and_servers)
{
	/* a server change replaces every kept pool; added and removed stay */
	diff(CFG(SERVERS, POOL("Gone", 2, "\"g\"", "") ", "
	    POOL("Same", 1, "\"s\"", "") ", " POOL("Grow", 1, "\"g\"", "")),
	    CFG("\"gearman_servers_list\": [\"localhost\"]",
	    POOL("Grow", 3, "\"g\"", "") ", " POOL("New", 1, "\"n\"", "") ", "
	    POOL("Same", 1, "\"s\"", "")));
	ck_assert_uint_eq(nout, 4);
	entry(0, "Grow", DS_POOL_REPLACED, 1, 3);
	entry(1, "New", DS_POOL_ADDED, 0, 1);
	entry(2, "Same", DS_POOL_REPLACED, 1, 1);
	entry(3, "Gone", DS_POOL_REMOVED, 2, 0);
}
END_TEST

START_TEST(change_names)
{
	ck_assert_str_eq(ds_pool_change_name(DS_POOL_SAME), "same");
	ck_assert_str_eq(ds_pool_change_name(DS_POOL_RESIZED), "resized");
	ck_assert_str_eq(ds_pool_change_name(DS_POOL_REPLACED), "replaced");
	ck_assert_str_eq(ds_pool_change_name(DS_POOL_ADDED), "added");
	ck_assert_str_eq(ds_pool_change_name(DS_POOL_REMOVED), "removed");
	ck_assert_str_eq(ds_pool_change_name(-1), "?");
	ck_assert_str_eq(ds_pool_change_name(DS_POOL_REMOVED + 1), "?");
	ck_assert_str_eq(ds_pool_change_name(1000), "?");
}
END_TEST

static Suite *
reload_diff_suite(void)
{
	Suite *s = suite_create("reload_diff");
	TCase *tc;

	tc = tcase_create("diff");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, same_config);
	tcase_add_test(tc, same_config_other_layout);
	tcase_add_test(tc, no_pools);
	tcase_add_test(tc, count_change);
	tcase_add_test(tc, uri_change);
	tcase_add_test(tc, jobs_change);
	tcase_add_test(tc, jobs_reordered);
	tcase_add_test(tc, request_format_change);
	tcase_add_test(tc, max_running_time_change);
	tcase_add_test(tc, max_jobs_per_worker_change);
	tcase_add_test(tc, max_response_bytes_change);
	tcase_add_test(tc, servers_change);
	tcase_add_test(tc, pool_added);
	tcase_add_test(tc, pool_removed);
	tcase_add_test(tc, pool_renamed);
	tcase_add_test(tc, mixture);
	tcase_add_test(tc, mixture_and_servers);
	suite_add_tcase(s, tc);

	tc = tcase_create("names");
	tcase_add_test(tc, change_names);
	suite_add_tcase(s, tc);
	return s;
}

DS_CHECK_MAIN(reload_diff_suite)
