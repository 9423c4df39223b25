/* test_config_pool.c: the jobs config loader (docs/config.md), the pools:
 * their names, their keys and the limits on them, with the exact text of
 * every message. The file, its syntax, the top level and the servers are in
 * test_config.c. */
#include "config_unit.h"

#include <inttypes.h>

/* --- pools --- */

static const struct doc_case pool_cases[] = {
	{DOC("{" SERVERS ", \"pools_list\": {\"bad name\": {" GOOD "}, "
	    "\"\": {" GOOD "}, \"p/q\": {" GOOD "}, \"tab\\t\": {" GOOD "}}}"),
	    "jobs.json: pools_list[\"bad name\"]: expected pool name of "
	    "letters, digits and _.:-, got \"bad name\"\n"
	    "jobs.json: pools_list[\"\"]: expected pool name of letters, "
	    "digits and _.:-, got \"\"\n"
	    "jobs.json: pools_list[\"p/q\"]: expected pool name of letters, "
	    "digits and _.:-, got \"p/q\"\n"
	    "jobs.json: pools_list[\"tab\\t\"]: expected pool name of "
	    "letters, digits and _.:-, got \"tab\\t\""},
	/* Errors inside a badly named pool are still reported. */
	{DOC("{" SERVERS ", \"pools_list\": {\"a b\": {\"worker_count\": "
	    "\"x\", \"jobs_list\": [\"j\"], \"job_processing_uri\": "
	    "\"http://h\"}}}"),
	    "jobs.json: pools_list[\"a b\"]: expected pool name of letters, "
	    "digits and _.:-, got \"a b\"\n"
	    "jobs.json: pools_list[\"a b\"].worker_count: expected integer >= "
	    "0, got \"x\""},
	{DOC("{" SERVERS ", \"pools_list\": {\"Regular\": {" GOOD "}, "
	    "\"Other\": {" GOOD "}, \"Regular\": {" GOOD "}}}"),
	    "jobs.json: pools_list.Regular: duplicate pool name"},
	{DOC(POOL(GOOD ", \"worker_count\": 2")),
	    "jobs.json: pools_list.P.worker_count: duplicate key"},
	{DOC(POOL("\"worker_count\": 1, \"jobs_list\": [\"Sum\", \"x\", "
	    "\"Sum\"], \"job_processing_uri\": \"http://h\"")),
	    "jobs.json: pools_list.P.jobs_list[2]: duplicate job name "
	    "\"Sum\""},
	{DOC("{" SERVERS ", \"pools_list\": {\"P\": 3, \"Q\": []}}"),
	    "jobs.json: pools_list.P: expected pool object, got 3\n"
	    "jobs.json: pools_list.Q: expected pool object, got an empty "
	    "array"},
	{DOC(POOL("")),
	    "jobs.json: pools_list.P: missing required key worker_count\n"
	    "jobs.json: pools_list.P: missing required key jobs_list\n"
	    "jobs.json: pools_list.P: missing required key "
	    "job_processing_uri"},
	{DOC(POOL("\"worker_count\": 1, \"jobs_list\": [\"j\"]")),
	    "jobs.json: pools_list.P: missing required key "
	    "job_processing_uri"},
};

START_TEST(bad_pools)
{
	doc_fails(&pool_cases[_i]);
}
END_TEST

START_TEST(same_job_in_two_pools)
{
	/* The same job in two pools is fine: both serve it. */
	loads("{" SERVERS ", \"pools_list\": {\"A\": {" GOOD "}, "
	    "\"B\": {" GOOD "}}}");
}
END_TEST

/* --- pool keys --- */

/* A config with the one pool P: worker_count 1, jobs_list ["j"] and
 * job_processing_uri "http://h", but key set to value (a JSON text), in
 * their place if key is one of those, after them if not. */
static const char *
pool_with(const char *key, const char *value)
{
	static const char *const keys[] = {"worker_count", "jobs_list",
	    "job_processing_uri"};
	static const char *const values[] = {"1", "[\"j\"]", "\"http://h\""};
	static char text[4096];
	size_t o;
	int found = 0;

	o = (size_t)snprintf(text, sizeof(text), "{" SERVERS ", "
	    "\"pools_list\": {\"P\": {");
	for (size_t i = 0; i < NELEM(keys); i++) {
		found |= strcmp(key, keys[i]) == 0;
		o += (size_t)snprintf(text + o, sizeof(text) - o,
		    "%s\"%s\": %s", i ? ", " : "", keys[i],
		    strcmp(key, keys[i]) == 0 ? value : values[i]);
	}
	if (!found)
		o += (size_t)snprintf(text + o, sizeof(text) - o,
		    ", \"%s\": %s", key, value);
	snprintf(text + o, sizeof(text) - o, "}}}");
	return text;
}

/* A pool key, a value for it, and the errors that value fails with. */
struct key_case {
	const char *key, *value, *errors;
};

#define WC_ERR "jobs.json: pools_list.P.worker_count: expected integer " \
	">= 0, got "
#define URI_ERR "jobs.json: pools_list.P.job_processing_uri: expected " \
	"http:// or https:// URL with a host, or " \
	"fastcgi://HOST:PORT/abs/script.php, got "
#define URI_CTL "jobs.json: pools_list.P.job_processing_uri: expected " \
	"URL without spaces or control characters, got "
#define OPT_ERR(k) "jobs.json: pools_list.P." k ": expected "

static const struct key_case key_cases[] = {
	{"worker_count", "\"3\"", WC_ERR "\"3\""},
	{"worker_count", "-1", WC_ERR "-1"},
	{"worker_count", "1.5", WC_ERR "1.5"},
	{"worker_count", "true", WC_ERR "true"},
	{"worker_count", "false", WC_ERR "false"},
	{"worker_count", "null", WC_ERR "null"},
	{"worker_count", "{}", WC_ERR "an empty object"},
	{"worker_count", "{\"a\": 1}", WC_ERR "an object"},
	{"worker_count", "[1]", WC_ERR "an array"},
	{"worker_count", "-1e400", WC_ERR "-inf"},
	{"worker_count", "10001", "jobs.json: pools_list.P.worker_count: "
	    "expected integer <= 10000, got 10001"},
	{"worker_count", "2147483648", "jobs.json: pools_list.P.worker_count: "
	    "expected integer <= 10000, got 2.14748e+09"},
	{"worker_count", "1e400", "jobs.json: pools_list.P.worker_count: "
	    "expected integer <= 10000, got inf"},
	/* long values are cut */
	{"worker_count", "\"0123456789012345678901234567890123456789xyz\"",
	    WC_ERR "\"0123456789012345678901234567890123456789...\""},
	{"worker_count", "\"0123456789012345678901234567890123456789\"",
	    WC_ERR "\"0123456789012345678901234567890123456789\""},
	{"worker_count", "\"q\\\"\\\\\"", WC_ERR "\"q\\\"\\\\\""},

	{"jobs_list", "[]", "jobs.json: pools_list.P.jobs_list: expected "
	    "non-empty array of job names, got an empty array"},
	{"jobs_list", "\"Sum\"", "jobs.json: pools_list.P.jobs_list: expected "
	    "non-empty array of job names, got \"Sum\""},
	{"jobs_list", "[\"ok\", \"\", 3, null, \"a\\u0001b\", \"c\\u007f\"]",
	    "jobs.json: pools_list.P.jobs_list[1]: expected non-empty string, "
	    "got \"\"\n"
	    "jobs.json: pools_list.P.jobs_list[2]: expected non-empty string, "
	    "got 3\n"
	    "jobs.json: pools_list.P.jobs_list[3]: expected non-empty string, "
	    "got null\n"
	    "jobs.json: pools_list.P.jobs_list[4]: expected job name without "
	    "control characters, got \"a\\u0001b\"\n"
	    "jobs.json: pools_list.P.jobs_list[5]: expected job name without "
	    "control characters, got \"c\\u007f\""},

	{"job_processing_uri", "\"ftp://h/x\"", URI_ERR "\"ftp://h/x\""},
	{"job_processing_uri", "\"localhost/job.php\"",
	    URI_ERR "\"localhost/job.php\""},
	{"job_processing_uri", "\"http://\"", URI_ERR "\"http://\""},
	{"job_processing_uri", "\"https:///x\"", URI_ERR "\"https:///x\""},
	{"job_processing_uri", "\"http://user@/x\"",
	    URI_ERR "\"http://***@/x\""},
	/* a password is never shown, not even in an error */
	{"job_processing_uri", "\"ftp://u:secret@h/\"",
	    URI_ERR "\"ftp://***@h/\""},
	{"job_processing_uri", "\"http://:80/x\"", URI_ERR "\"http://:80/x\""},
	{"job_processing_uri", "\"http://h:99999/x\"",
	    URI_ERR "\"http://h:99999/x\""},
	{"job_processing_uri", "\"http://h:0/x\"", URI_ERR "\"http://h:0/x\""},
	{"job_processing_uri", "\"http://h:8o/x\"", URI_ERR "\"http://h:8o/x\""},
	{"job_processing_uri", "\"http://[::1/x\"", URI_ERR "\"http://[::1/x\""},
	{"job_processing_uri", "\"http://[::1]8080/x\"",
	    URI_ERR "\"http://[::1]8080/x\""},
	/* nor half of one, cut at an unescaped '/' */
	{"job_processing_uri", "\"http://u:se/cret@h/x\"",
	    "jobs.json: pools_list.P.job_processing_uri: expected http:// or "
	    "https:// URL with a host, or fastcgi://HOST:PORT/abs/script.php, "
	    "got a URL with '@' after its host (not "
	    "shown; in a password, write '/' as %2F)"},
	{"job_processing_uri", "\"http:/h\"", URI_ERR "\"http:/h\""},
	{"job_processing_uri", "\"\"", URI_ERR "\"\""},
	{"job_processing_uri", "7", URI_ERR "7"},
	{"job_processing_uri", "\"http://h/a b\"", URI_CTL "\"http://h/a b\""},
	{"job_processing_uri", "\"http://h/\\r\\nX: y\"",
	    URI_CTL "\"http://h/\\r\\nX: y\""},

	{"request_format", "\"xml\"", OPT_ERR("request_format")
	    "\"json\" or \"form\", got \"xml\""},
	{"request_format", "\"JSON\"", OPT_ERR("request_format")
	    "\"json\" or \"form\", got \"JSON\""},
	{"request_format", "1", OPT_ERR("request_format")
	    "\"json\" or \"form\", got 1"},

	{"max_running_time", "0", OPT_ERR("max_running_time")
	    "number of seconds > 0, got 0"},
	{"max_running_time", "-5", OPT_ERR("max_running_time")
	    "number of seconds > 0, got -5"},
	{"max_running_time", "\"5\"", OPT_ERR("max_running_time")
	    "number of seconds > 0, got \"5\""},
	{"max_running_time", "86400.5", OPT_ERR("max_running_time")
	    "number of seconds <= 86400, got 86400.5"},
	{"max_running_time", "0.0001", OPT_ERR("max_running_time")
	    "number of seconds >= 0.001, got 0.0001"},

	{"max_jobs_per_worker", "-1", OPT_ERR("max_jobs_per_worker")
	    "integer >= 0, got -1"},
	{"max_jobs_per_worker", "2.5", OPT_ERR("max_jobs_per_worker")
	    "integer >= 0, got 2.5"},
	{"max_jobs_per_worker", "\"10\"", OPT_ERR("max_jobs_per_worker")
	    "integer >= 0, got \"10\""},
	{"max_jobs_per_worker", "1e300", OPT_ERR("max_jobs_per_worker")
	    "integer <= 9007199254740992, got 1e+300"},

	{"max_response_bytes", "0", OPT_ERR("max_response_bytes")
	    "integer >= 1, got 0"},
	{"max_response_bytes", "1.5", OPT_ERR("max_response_bytes")
	    "integer >= 1, got 1.5"},
	{"max_response_bytes", "1073741825", OPT_ERR("max_response_bytes")
	    "integer <= 1073741824, got 1.07374e+09"},
};

START_TEST(bad_values)
{
	const struct key_case *c = &key_cases[_i];
	const char *text = pool_with(c->key, c->value);
	char name[256];

	snprintf(name, sizeof(name), "%s = %s", c->key, c->value);
	fails_as(name, text, strlen(text), c->errors);
}
END_TEST

/* What the loaded pool holds for key, as text: the first job for jobs_list,
 * milliseconds for max_running_time. */
static const char *
pool_value(const struct ds_pool *p, const char *key)
{
	static char buf[600];

	if (strcmp(key, "worker_count") == 0)
		snprintf(buf, sizeof(buf), "%d", p->worker_count);
	else if (strcmp(key, "jobs_list") == 0)
		snprintf(buf, sizeof(buf), "%s", p->jobs[0]);
	else if (strcmp(key, "job_processing_uri") == 0)
		snprintf(buf, sizeof(buf), "%s", p->uri);
	else if (strcmp(key, "request_format") == 0)
		snprintf(buf, sizeof(buf), "%s", p->format == DS_FORMAT_FORM ?
		    "form" : p->format == DS_FORMAT_JSON ? "json" : "?");
	else if (strcmp(key, "max_running_time") == 0)
		snprintf(buf, sizeof(buf), "%" PRId64 " ms", p->max_running_ms);
	else if (strcmp(key, "max_jobs_per_worker") == 0)
		snprintf(buf, sizeof(buf), "%" PRId64, p->max_jobs_per_worker);
	else if (strcmp(key, "max_response_bytes") == 0)
		snprintf(buf, sizeof(buf), "%" PRId64, p->max_response_bytes);
	else
		ck_abort_msg("no such key %s", key);
	return buf;
}

/* A pool key, a value for it, and what the pool then holds (pool_value). */
_Static_assert(DS_MAX_WORKERS_PER_POOL == 10000, "the tables' limit");

static const struct key_case good_values[] = {
	{"worker_count", "10000", "10000"},
	{"worker_count", "-0", "0"},
	{"jobs_list", "[\"with space\"]", "with space"},
	{"job_processing_uri", "\"http://[::1]:8080/x\"",
	    "http://[::1]:8080/x"},
	{"job_processing_uri", "\"http://h:65535\"", "http://h:65535"},
	{"job_processing_uri", "\"https://u:p%2Fw@h:/x\"",
	    "https://u:p%2Fw@h:/x"},
	{"job_processing_uri", "\"http://[::1]\"", "http://[::1]"},
	{"request_format", "\"form\"", "form"},
	{"max_running_time", "0.001", "1 ms"},
	{"max_running_time", "30", "30000 ms"},
	{"max_running_time", "2.0005", "2001 ms"},
	{"max_jobs_per_worker", "1000000", "1000000"},
	{"max_response_bytes", "4096", "4096"},
};

START_TEST(good_value)
{
	const struct key_case *c = &good_values[_i];
	char name[256];
	const char *got;

	snprintf(name, sizeof(name), "%s = %s", c->key, c->value);
	loads_as(name, pool_with(c->key, c->value));
	got = pool_value(&cfg.pools[0], c->key);
	ck_assert_msg(strcmp(got, c->errors) == 0, "case %s: got %s, "
	    "expected %s", name, got, c->errors);
}
END_TEST

/* --- lengths and limits --- */

/* n copies of s, in a static buffer big enough for the tests below. */
static const char *
rep(const char *s, size_t n)
{
	static char buf[2048];
	size_t len = strlen(s);

	ck_assert_uint_lt(n * len, sizeof(buf));
	for (size_t i = 0; i < n; i++)
		memcpy(buf + i * len, s, len);
	buf[n * len] = '\0';
	return buf;
}

#define X40	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
#define E20	"\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9" \
		"\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9" \
		"\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"

/* A pool P whose jobs_list holds the one job name j. */
static const char *
one_job(const char *j)
{
	static char text[4096];

	snprintf(text, sizeof(text), POOL("\"worker_count\": 1, "
	    "\"jobs_list\": [\"%s\", \"ok\"], \"job_processing_uri\": "
	    "\"http://h\""), j);
	return text;
}
/* A job name of n pieces and the errors it fails with, NULL if it loads: as
 * a 512-byte name, since gearmand's limit is GEARMAN_FUNCTION_MAX_SIZE bytes,
 * not chars, and escapes count as the bytes they stand for. */
static const struct {
	const char *piece;
	size_t n;
	const char *errors;
} job_name_cases[] = {
	{"x", 512, NULL},
	{"x", 513, "jobs.json: pools_list.P.jobs_list[0]: "
	    "expected a job name of at most 512 bytes, got \"" X40 "...\""},
	{"\xC3\xA9", 256, NULL},
	{"\xC3\xA9", 257, "jobs.json: "
	    "pools_list.P.jobs_list[0]: expected a job name of at most 512 "
	    "bytes, got \"" E20 "...\""},
	{"\\u00e9", 256, NULL},
	{"\\u00e9", 257, "jobs.json: "
	    "pools_list.P.jobs_list[0]: expected a job name of at most 512 "
	    "bytes, got \"" E20 "...\""},
};

START_TEST(job_name_length)
{
	const char *text = one_job(rep(job_name_cases[_i].piece,
	    job_name_cases[_i].n));
	char name[64];

	snprintf(name, sizeof(name), "%zu x \"%s\"", job_name_cases[_i].n,
	    ds_show(job_name_cases[_i].piece,
	    strlen(job_name_cases[_i].piece)));
	if (job_name_cases[_i].errors != NULL) {
		fails_as(name, text, strlen(text), job_name_cases[_i].errors);
		return;
	}
	loads_as(name, text);
	ck_assert_uint_eq(strlen(cfg.pools[0].jobs[0]), 512);
	ck_assert_uint_eq(cfg.pools[0].njobs, 2);
}
END_TEST

/* n servers, or n job names: what one worker's command line can carry. */
static const char *
many(int servers, int jobs)
{
	static char text[16384];
	size_t o = 0;

	o += (size_t)snprintf(text + o, sizeof(text) - o,
	    "{\"gearman_servers_list\": [");
	for (int i = 0; i < servers; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, "%s\"h%d\"",
		    i ? "," : "", i);
	o += (size_t)snprintf(text + o, sizeof(text) - o, "], \"pools_list\": "
	    "{\"P\": {\"worker_count\": 1, \"job_processing_uri\": "
	    "\"http://h/\", \"jobs_list\": [");
	for (int i = 0; i < jobs; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, "%s\"j%d\"",
		    i ? "," : "", i);
	snprintf(text + o, sizeof(text) - o, "]}}}");
	return text;
}

/* Servers and job names and the errors they fail with, NULL if they load. */
static const struct {
	int servers, jobs;
	const char *errors;
} list_cases[] = {
	{64, 256, NULL},
	{65, 1, "jobs.json: gearman_servers_list: expected at most "
	    "64 servers, got 65"},
	{1, 257, "jobs.json: pools_list.P.jobs_list: expected at "
	    "most 256 job names, got 257"},
};

START_TEST(list_limits)
{
	const char *text = many(list_cases[_i].servers, list_cases[_i].jobs);
	char name[64];

	snprintf(name, sizeof(name), "%d servers, %d jobs",
	    list_cases[_i].servers, list_cases[_i].jobs);
	if (list_cases[_i].errors != NULL)
		fails_as(name, text, strlen(text), list_cases[_i].errors);
	else
		loads_as(name, text);
}
END_TEST

/* A config with the one pool name p. */
static const char *
one_pool(const char *p)
{
	static char text[4096];

	snprintf(text, sizeof(text), "{" SERVERS ", \"pools_list\": "
	    "{\"%s\": {" GOOD "}}}", p);
	return text;
}

START_TEST(pool_name_length)
{
	char want[4096];
	const char *name;

	loads(one_pool(rep("p", 128)));
	ck_assert_uint_eq(strlen(cfg.pools[0].name), 128);
	name = rep("p", 129);
	snprintf(want, sizeof(want), "jobs.json: pools_list.%s: expected a "
	    "pool name of at most 128 bytes, got \"%.40s...\"", name, name);
	fails(one_pool(name), want);
	/* Both problems of a long name with a bad character are reported. */
	name = rep("p p", 43);
	snprintf(want, sizeof(want), "jobs.json: pools_list[\"%.40s...\"]: "
	    "expected pool name of letters, digits and _.:-, got \"%.40s...\"\n"
	    "jobs.json: pools_list[\"%.40s...\"]: expected a pool name of at "
	    "most 128 bytes, got \"%.40s...\"", name, name, name, name);
	fails(one_pool(name), want);
	/* Errors inside such a pool are still reported. */
	name = rep("p", 129);
	snprintf(want, sizeof(want), "{" SERVERS ", \"pools_list\": {\"%s\": "
	    "{\"worker_count\": -1}}}", name);
	ck_assert_int_eq(parse(want), -1);
	ck_assert_uint_eq(diag.nerrors, 4);
	ck_assert(strstr(diag.errors[0], "at most 128 bytes") != NULL);
	ck_assert(strstr(diag.errors[1], "worker_count: expected integer") !=
	    NULL);
}
END_TEST

START_TEST(reuse_after_failure)
{
	/* A failed parse leaves nothing to free; a later one works. */
	fails(pool_with("worker_count", "-1"), WC_ERR "-1");
	ds_diag_free(&diag);
	loads(readme);
	ck_assert_uint_eq(cfg.npools, 3);
}
END_TEST

static Suite *
config_pool_suite(void)
{
	Suite *s = suite_create("config_pool");
	TCase *tc;

	tc = ds_tcase(s, "pools", NULL, teardown);
	tcase_add_loop_test(tc, bad_pools, 0, NELEM(pool_cases));
	tcase_add_test(tc, same_job_in_two_pools);
	tcase_add_test(tc, reuse_after_failure);

	tc = ds_tcase(s, "keys", NULL, teardown);
	tcase_add_loop_test(tc, bad_values, 0, NELEM(key_cases));
	tcase_add_loop_test(tc, good_value, 0, NELEM(good_values));

	tc = ds_tcase(s, "limits", NULL, teardown);
	tcase_add_loop_test(tc, job_name_length, 0, NELEM(job_name_cases));
	tcase_add_loop_test(tc, list_limits, 0, NELEM(list_cases));
	tcase_add_test(tc, pool_name_length);
	return s;
}

DS_CHECK_MAIN(config_pool_suite)
