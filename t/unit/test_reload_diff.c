/* test_reload_diff.c: what a reload changes, pool by pool (docs/operations.md):
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
	ck_assert_uint_le(oldc.npools + newc.npools, NELEM(out));
	for (size_t i = 0; i < NELEM(out); i++) {
		out[i].name = NULL;
		out[i].change = (enum ds_pool_change)-1;
		out[i].old_count = out[i].new_count = -1;
	}
	nout = ds_config_diff(&oldc, &newc, out);
}

/* One pool in the diff: its name, change and counts old -> new. */
struct entry {
	const char *name;
	enum ds_pool_change change;
	int old_count, new_count;
};

/* Entry i is e; case names the diff. */
static void
entry_is(const char *cname, size_t i, const struct entry *e)
{
	ck_assert_msg(i < nout, "case %s: %zu entries, expected entry %zu (%s)",
	    cname, nout, i, e->name);
	ck_assert_msg(strcmp(out[i].name, e->name) == 0 &&
	    out[i].change == e->change && out[i].old_count == e->old_count &&
	    out[i].new_count == e->new_count, "case %s: entry %zu is %s %s "
	    "%d -> %d, expected %s %s %d -> %d", cname, i, out[i].name,
	    ds_pool_change_name(out[i].change), out[i].old_count,
	    out[i].new_count, e->name, ds_pool_change_name(e->change),
	    e->old_count, e->new_count);
}

/* The diff of old and new is exactly the n entries. */
static void
diff_is(const char *cname, const char *o, const char *n,
    const struct entry *want, size_t nwant)
{
	diff(o, n);
	ck_assert_msg(nout == nwant, "case %s: %zu entries, expected %zu",
	    cname, nout, nwant);
	for (size_t i = 0; i < nwant; i++)
		entry_is(cname, i, &want[i]);
}

#define URI	"\"job_processing_uri\": \"http://h/job\""

static const char three[] = CFG(SERVERS,
    POOL("A", 1, "\"a\"", "") ", "
    POOL("B", 2, "\"b1\", \"b2\"", ", \"request_format\": \"form\"") ", "
    POOL("C", 0, "\"c\"", ", \"max_running_time\": 10, "
	"\"max_jobs_per_worker\": 5, \"max_response_bytes\": 100"));

/* --- whole configs --- */

static const struct {
	const char *name, *old, *new;
	size_t n;
	struct entry want[9];
} diff_cases[] = {
	{"same config", three, three, 3, {
	    {"A", DS_POOL_SAME, 1, 1}, {"B", DS_POOL_SAME, 2, 2},
	    {"C", DS_POOL_SAME, 0, 0}}},
	/* whitespace, key order and explicit defaults change nothing */
	{"same config, other layout", three, "{\"pools_list\": {"
	    "\"A\": {\"job_processing_uri\": \"http://h/job\", "
	    "\"jobs_list\": [\"a\"], \"worker_count\": 1, "
	    "\"request_format\": \"json\", \"max_jobs_per_worker\": 0, "
	    "\"max_response_bytes\": 16777216},\n"
	    "\"B\": {\"jobs_list\": [\"b1\", \"b2\"], \"worker_count\": 2, "
	    "\"request_format\": \"form\", " URI "},\n"
	    "\"C\": {\"max_response_bytes\": 100, \"max_jobs_per_worker\": 5, "
	    "\"max_running_time\": 10, \"worker_count\": 0, "
	    "\"jobs_list\": [\"c\"], " URI "}}, "
	    "\"gearman_servers_list\": [\"localhost\", \"g2:4731\"]}", 3, {
	    {"A", DS_POOL_SAME, 1, 1}, {"B", DS_POOL_SAME, 2, 2},
	    {"C", DS_POOL_SAME, 0, 0}}},
	{"no pools", CFG(SERVERS, ""), CFG(SERVERS, ""), 0, {{NULL, 0, 0, 0}}},
	{"count change", three, CFG(SERVERS,
	    POOL("A", 3, "\"a\"", "") ", "
	    POOL("B", 0, "\"b1\", \"b2\"", ", \"request_format\": \"form\"")
	    ", "
	    POOL("C", 0, "\"c\"", ", \"max_running_time\": 10, "
		"\"max_jobs_per_worker\": 5, \"max_response_bytes\": 100")),
	    3, {
	    {"A", DS_POOL_RESIZED, 1, 3}, {"B", DS_POOL_RESIZED, 2, 0},
	    {"C", DS_POOL_SAME, 0, 0}}},
	{"pools added", CFG(SERVERS, POOL("A", 1, "\"a\"", "")),
	    CFG(SERVERS, POOL("N", 4, "\"n\"", "") ", "
	    POOL("A", 1, "\"a\"", "") ", " POOL("Z", 0, "\"z\"", "")), 3, {
	    {"N", DS_POOL_ADDED, 0, 4}, {"A", DS_POOL_SAME, 1, 1},
	    {"Z", DS_POOL_ADDED, 0, 0}}},
	{"pool added to none", CFG(SERVERS, ""),
	    CFG(SERVERS, POOL("N", 2, "\"n\"", "")), 1, {
	    {"N", DS_POOL_ADDED, 0, 2}}},
	{"pools removed", CFG(SERVERS, POOL("R1", 3, "\"r\"", "") ", "
	    POOL("A", 1, "\"a\"", "") ", " POOL("R2", 0, "\"r\"", "")),
	    CFG(SERVERS, POOL("A", 1, "\"a\"", "")), 3, {
	    {"A", DS_POOL_SAME, 1, 1}, {"R1", DS_POOL_REMOVED, 3, 0},
	    {"R2", DS_POOL_REMOVED, 0, 0}}},
	{"only pool removed", CFG(SERVERS, POOL("R", 2, "\"r\"", "")),
	    CFG(SERVERS, ""), 1, {
	    {"R", DS_POOL_REMOVED, 2, 0}}},
	/* names are case-sensitive: a renamed pool is removed and added */
	{"pool renamed", CFG(SERVERS, POOL("pool", 2, "\"a\"", "")),
	    CFG(SERVERS, POOL("Pool", 2, "\"a\"", "")), 2, {
	    {"Pool", DS_POOL_ADDED, 0, 2}, {"pool", DS_POOL_REMOVED, 2, 0}}},
	{"mixture", CFG(SERVERS,
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
	    POOL("Grow", 6, "\"g\"", "")), 9, {
	    {"New", DS_POOL_ADDED, 0, 2}, {"Jobs", DS_POOL_REPLACED, 3, 1},
	    {"Shrink", DS_POOL_RESIZED, 4, 1}, {"Uri", DS_POOL_REPLACED, 2, 2},
	    {"Same", DS_POOL_SAME, 1, 1}, {"Fmt", DS_POOL_REPLACED, 1, 1},
	    {"Grow", DS_POOL_RESIZED, 1, 6}, {"Gone1", DS_POOL_REMOVED, 2, 0},
	    {"Gone2", DS_POOL_REMOVED, 5, 0}}},
	/* a server change replaces every kept pool; added and removed stay */
	{"mixture and servers", CFG(SERVERS, POOL("Gone", 2, "\"g\"", "") ", "
	    POOL("Same", 1, "\"s\"", "") ", " POOL("Grow", 1, "\"g\"", "")),
	    CFG("\"gearman_servers_list\": [\"localhost\"]",
	    POOL("Grow", 3, "\"g\"", "") ", " POOL("New", 1, "\"n\"", "") ", "
	    POOL("Same", 1, "\"s\"", "")), 4, {
	    {"Grow", DS_POOL_REPLACED, 1, 3}, {"New", DS_POOL_ADDED, 0, 1},
	    {"Same", DS_POOL_REPLACED, 1, 1}, {"Gone", DS_POOL_REMOVED, 2, 0}}},
};

START_TEST(whole_config)
{
	diff_is(diff_cases[_i].name, diff_cases[_i].old, diff_cases[_i].new,
	    diff_cases[_i].want, diff_cases[_i].n);
}
END_TEST

START_TEST(names_point_into_the_configs)
{
	/* a kept or added pool's name into the new config */
	diff(three, three);
	ck_assert_ptr_eq(out[0].name, newc.pools[0].name);
	ck_assert_ptr_eq(out[2].name, newc.pools[2].name);
	diff(CFG(SERVERS, ""), CFG(SERVERS, POOL("N", 2, "\"n\"", "")));
	ck_assert_ptr_eq(out[0].name, newc.pools[0].name);
	/* a removed pool's name into the old config */
	diff(CFG(SERVERS, POOL("R1", 3, "\"r\"", "") ", "
	    POOL("A", 1, "\"a\"", "") ", " POOL("R2", 0, "\"r\"", "")),
	    CFG(SERVERS, POOL("A", 1, "\"a\"", "")));
	ck_assert_ptr_eq(out[1].name, oldc.pools[0].name);
}
END_TEST

/* --- one pool's keys --- */

/* The one pool P (2 workers, job j) with the keys before, then after: the
 * change it is classified as. */
static const struct {
	const char *before, *after;
	enum ds_pool_change change;
} key_cases[] = {
	{URI, "\"job_processing_uri\": \"http://h/other\"", DS_POOL_REPLACED},
	{URI, "\"job_processing_uri\": \"https://h/job\"", DS_POOL_REPLACED},
	{URI, "\"job_processing_uri\": \"http://h/job/\"", DS_POOL_REPLACED},
	/* what a loose comparison (case, a prefix) would call the same */
	{URI, "\"job_processing_uri\": \"http://h/JOB\"", DS_POOL_REPLACED},
	{URI, "\"job_processing_uri\": \"http://H/job\"", DS_POOL_REPLACED},
	{URI, "\"job_processing_uri\": \"http://h/job?x=1\"", DS_POOL_REPLACED},
	{URI, "\"job_processing_uri\": \"http://h/jo\"", DS_POOL_REPLACED},

	{URI, URI ", \"request_format\": \"form\"", DS_POOL_REPLACED},
	{URI ", \"request_format\": \"form\"", URI, DS_POOL_REPLACED},
	{URI ", \"request_format\": \"form\"",
	    URI ", \"request_format\": \"json\"", DS_POOL_REPLACED},
	{URI, URI ", \"request_format\": \"json\"", DS_POOL_SAME},

	{URI, URI ", \"max_running_time\": 10", DS_POOL_REPLACED},
	{URI ", \"max_running_time\": 10", URI, DS_POOL_REPLACED},
	{URI ", \"max_running_time\": 10",
	    URI ", \"max_running_time\": 10.5", DS_POOL_REPLACED},
	{URI ", \"max_running_time\": 10",
	    URI ", \"max_running_time\": 10.0", DS_POOL_SAME},

	{URI, URI ", \"max_jobs_per_worker\": 100", DS_POOL_REPLACED},
	{URI ", \"max_jobs_per_worker\": 100",
	    URI ", \"max_jobs_per_worker\": 101", DS_POOL_REPLACED},
	{URI ", \"max_jobs_per_worker\": 100", URI, DS_POOL_REPLACED},
	{URI, URI ", \"max_jobs_per_worker\": 0", DS_POOL_SAME},

	{URI, URI ", \"max_response_bytes\": 1024", DS_POOL_REPLACED},
	{URI ", \"max_response_bytes\": 1024",
	    URI ", \"max_response_bytes\": 1025", DS_POOL_REPLACED},
	{URI ", \"max_response_bytes\": 1024", URI, DS_POOL_REPLACED},
	{URI, URI ", \"max_response_bytes\": 16777216", DS_POOL_SAME},
};

START_TEST(pool_keys)
{
	char a[1024], b[1024], name[512];
	struct entry want = {"P", key_cases[_i].change, 2, 2};

	snprintf(a, sizeof(a), "{" SERVERS ", \"pools_list\": {\"P\": "
	    "{\"worker_count\": 2, \"jobs_list\": [\"j\"], %s}}}",
	    key_cases[_i].before);
	snprintf(b, sizeof(b), "{" SERVERS ", \"pools_list\": {\"P\": "
	    "{\"worker_count\": 2, \"jobs_list\": [\"j\"], %s}}}",
	    key_cases[_i].after);
	snprintf(name, sizeof(name), "{%s} -> {%s}", key_cases[_i].before,
	    key_cases[_i].after);
	diff_is(name, a, b, &want, 1);
}
END_TEST

/* The one pool P with 2 workers and jobs x, y, z, then with count workers
 * and these jobs: the change. */
static const struct {
	int count;
	const char *jobs;
	enum ds_pool_change change;
} jobs_cases[] = {
	/* one job more, one less, one other */
	{2, "\"x\", \"y\", \"z\", \"w\"", DS_POOL_REPLACED},
	{2, "\"x\", \"y\"", DS_POOL_REPLACED},
	{2, "\"x\", \"y\", \"Z\"", DS_POOL_REPLACED},
	{2, "\"w\"", DS_POOL_REPLACED},
	/* replaced wins over resized */
	{5, "\"x\"", DS_POOL_REPLACED},
	/* the order of the jobs does not matter */
	{2, "\"z\", \"x\", \"y\"", DS_POOL_SAME},
	{4, "\"y\", \"z\", \"x\"", DS_POOL_RESIZED},
};

START_TEST(jobs)
{
	char b[1024], name[256];
	struct entry want = {"P", jobs_cases[_i].change, 2,
	    jobs_cases[_i].count};

	snprintf(b, sizeof(b), "{" SERVERS ", \"pools_list\": {\"P\": "
	    "{\"worker_count\": %d, \"jobs_list\": [%s], " URI "}}}",
	    jobs_cases[_i].count, jobs_cases[_i].jobs);
	snprintf(name, sizeof(name), "%d workers, jobs [%s]",
	    jobs_cases[_i].count, jobs_cases[_i].jobs);
	diff_is(name, CFG(SERVERS, POOL("P", 2, "\"x\", \"y\", \"z\"", "")),
	    b, &want, 1);
}
END_TEST

/* --- servers --- */

static const char *const other_servers[] = {
	"\"gearman_servers_list\": [\"localhost\"]",
	"\"gearman_servers_list\": [\"localhost\", \"g2:4731\", \"g3\"]",
	"\"gearman_servers_list\": [\"localhost\", \"g2:4732\"]",
	"\"gearman_servers_list\": [\"localhost\", \"g3:4731\"]",
};

START_TEST(servers_change)
{
	static const struct entry want[] = {{"A", DS_POOL_REPLACED, 1, 1},
	    {"B", DS_POOL_REPLACED, 2, 2}, {"C", DS_POOL_REPLACED, 3, 0}};
	char text[2048];

	snprintf(text, sizeof(text), "{%s, \"pools_list\": {"
	    POOL("A", 1, "\"a\"", "") ", "
	    POOL("B", 2, "\"b\"", "") ", "
	    POOL("C", 0, "\"c\"", "") "}}", other_servers[_i]);
	diff_is(other_servers[_i], CFG(SERVERS, POOL("A", 1, "\"a\"", "") ", "
	    POOL("B", 2, "\"b\"", "") ", "
	    POOL("C", 3, "\"c\"", "")), text, want, NELEM(want));
}
END_TEST

/* --- names --- */

static const struct {
	int change;
	const char *name;
} name_cases[] = {
	{DS_POOL_SAME, "same"}, {DS_POOL_RESIZED, "resized"},
	{DS_POOL_REPLACED, "replaced"}, {DS_POOL_ADDED, "added"},
	{DS_POOL_REMOVED, "removed"}, {-1, "?"}, {DS_POOL_REMOVED + 1, "?"},
	{1000, "?"},
};

START_TEST(change_names)
{
	const char *got = ds_pool_change_name(name_cases[_i].change);

	ck_assert_msg(strcmp(got, name_cases[_i].name) == 0,
	    "case %d: \"%s\", expected \"%s\"", name_cases[_i].change, got,
	    name_cases[_i].name);
}
END_TEST

/* --- sized by the queue: a change of shape or bounds resizes, never
 * replaces (master/scale.c then keeps the size within the bounds) --- */

#define FIXED(n) "\"worker_count\": " #n
#define BOUNDS(lo, hi) "\"min_workers\": " #lo ", \"max_workers\": " #hi
static const struct {
	const char *before, *after;
	enum ds_pool_change change;
	int old_count, new_count;	/* a queue-sized pool's: its minimum */
} sizing_cases[] = {
	{FIXED(3), BOUNDS(1, 5), DS_POOL_RESIZED, 3, 1},
	{BOUNDS(1, 5), FIXED(3), DS_POOL_RESIZED, 1, 3},
	{BOUNDS(1, 5), BOUNDS(1, 8), DS_POOL_RESIZED, 1, 1},
	{BOUNDS(1, 5), BOUNDS(2, 5), DS_POOL_RESIZED, 1, 2},
	{BOUNDS(1, 5), BOUNDS(1, 5), DS_POOL_SAME, 1, 1},
	{FIXED(2), BOUNDS(2, 2), DS_POOL_RESIZED, 2, 2},
	{BOUNDS(1, 5), BOUNDS(1, 5) ", \"scale_down_after\": 9",
	    DS_POOL_SAME, 1, 1},
};

START_TEST(sizing_shape)
{
	char a[1024], b[1024], name[512];
	struct entry want = {"P", sizing_cases[_i].change,
	    sizing_cases[_i].old_count, sizing_cases[_i].new_count};

	snprintf(a, sizeof(a), "{" SERVERS ", \"pools_list\": {\"P\": "
	    "{%s, \"jobs_list\": [\"j\"], " URI "}}}", sizing_cases[_i].before);
	snprintf(b, sizeof(b), "{" SERVERS ", \"pools_list\": {\"P\": "
	    "{%s, \"jobs_list\": [\"j\"], " URI "}}}", sizing_cases[_i].after);
	snprintf(name, sizeof(name), "{%s} -> {%s}", sizing_cases[_i].before,
	    sizing_cases[_i].after);
	diff_is(name, a, b, &want, 1);
}
END_TEST

static Suite *
reload_diff_suite(void)
{
	Suite *s = suite_create("reload_diff");
	TCase *tc;

	tc = ds_tcase(s, "diff", NULL, teardown);
	tcase_add_loop_test(tc, whole_config, 0, NELEM(diff_cases));
	tcase_add_test(tc, names_point_into_the_configs);
	tcase_add_loop_test(tc, pool_keys, 0, NELEM(key_cases));
	tcase_add_loop_test(tc, jobs, 0, NELEM(jobs_cases));
	tcase_add_loop_test(tc, servers_change, 0, NELEM(other_servers));
	tcase_add_loop_test(tc, sizing_shape, 0, NELEM(sizing_cases));

	tc = ds_tcase(s, "names", NULL, NULL);
	tcase_add_loop_test(tc, change_names, 0, NELEM(name_cases));
	return s;
}

DS_CHECK_MAIN(reload_diff_suite)
