/* test_config.c: the jobs config loader (SPEC section 3): every rule and the
 * exact text of every kind of message, since operators and scripts read them. */
#include "config/config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include "unit.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SERVERS	"\"gearman_servers_list\": [\"localhost\"]"
#define GOOD	"\"worker_count\": 1, \"jobs_list\": [\"j\"], " \
		"\"job_processing_uri\": \"http://h/job\""
/* A whole config with one pool P whose body is b. */
#define POOL(b)	"{" SERVERS ", \"pools_list\": {\"P\": {" b "}}}"

static const char readme[] =
"{\n"
"    \"gearman_servers_list\":\n"
"    [\n"
"        \"localhost\"\n"
"    ],\n"
"    \"pools_list\":\n"
"    {\n"
"        \"ShopStats\":\n"
"        {\n"
"            \"job_processing_uri\": \"http://localhost/job.php\",\n"
"            \"worker_count\": 0,\n"
"            \"jobs_list\":\n"
"            [\n"
"                \"ShopStats\"\n"
"            ]\n"
"        },\n"
"        \"Newsfeed\":\n"
"        {\n"
"            \"job_processing_uri\": \"http://localhost/job.php\",\n"
"            \"worker_count\": 0,\n"
"            \"jobs_list\":\n"
"            [\n"
"                \"Newsfeed\"\n"
"            ]\n"
"        },\n"
"        \"Regular\":\n"
"        {\n"
"            \"job_processing_uri\": \"http://localhost/job.php\",\n"
"            \"worker_count\": 0,\n"
"            \"jobs_list\":\n"
"            [\n"
"                \"Sum3\",\n"
"                \"Sum\",\n"
"                \"Sum2\"\n"
"            ]\n"
"        }\n"
"    }\n"
"}\n";

static struct ds_config cfg;
static struct ds_diag diag;
static char joined[8192];

static void
teardown(void)
{
	ds_config_free(&cfg);
	ds_diag_free(&diag);
}

static const char *
join(char **list, size_t n)
{
	size_t o = 0;

	joined[0] = '\0';
	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(joined + o, sizeof(joined) - o, "%s%s",
		    i ? "\n" : "", list[i]);
	return joined;
}

/* Parses len bytes from an exact-size heap copy, so that ASan catches any
 * read past the end (the text need not be NUL-terminated). */
static int
parse_len(const char *text, size_t len)
{
	char *copy = malloc(len ? len : 1);
	int rc;

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, text, len);
	teardown();
	rc = ds_config_parse(copy, len, "jobs.json", &cfg, &diag);
	free(copy);
	return rc;
}

static int
parse(const char *text)
{
	return parse_len(text, strlen(text));
}

static void
assert_empty_cfg(void)
{
	static const struct ds_config zero;

	ck_assert(memcmp(&cfg, &zero, sizeof(cfg)) == 0);
}

/* The load fails with exactly these errors (joined by newlines). */
static void
fails(const char *text, const char *errors)
{
	ck_assert_int_eq(parse(text), -1);
	ck_assert_str_eq(join(diag.errors, diag.nerrors), errors);
	assert_empty_cfg();
}

static void
loads(const char *text)
{
	int rc = parse(text);

	ck_assert_msg(rc == 0, "unexpected errors: %s",
	    join(diag.errors, diag.nerrors));
	ck_assert_uint_eq(diag.nerrors, 0);
}

/* --- valid configs --- */

START_TEST(readme_example)
{
	const struct ds_pool *p;

	loads(readme);
	ck_assert_uint_eq(diag.nwarnings, 0);
	ck_assert_uint_eq(cfg.nservers, 1);
	ck_assert_str_eq(cfg.server_strs[0], "localhost");
	ck_assert_str_eq(cfg.servers[0].host, "localhost");
	ck_assert_int_eq(cfg.servers[0].port, 4730);
	ck_assert_uint_eq(cfg.npools, 3);
	ck_assert_str_eq(cfg.pools[0].name, "ShopStats");
	ck_assert_str_eq(cfg.pools[1].name, "Newsfeed");
	ck_assert_str_eq(cfg.pools[2].name, "Regular");
	p = ds_config_pool(&cfg, "Regular");
	ck_assert_ptr_eq(p, &cfg.pools[2]);
	ck_assert_int_eq(p->worker_count, 0);
	ck_assert_uint_eq(p->njobs, 3);
	ck_assert_str_eq(p->jobs[0], "Sum3");
	ck_assert_str_eq(p->jobs[1], "Sum");
	ck_assert_str_eq(p->jobs[2], "Sum2");
	ck_assert_str_eq(p->uri, "http://localhost/job.php");
	ck_assert_ptr_null(ds_config_pool(&cfg, "Nope"));
	ck_assert_ptr_null(ds_config_pool(&cfg, "regular"));
}
END_TEST

START_TEST(defaults)
{
	const struct ds_pool *p;

	loads(POOL(GOOD));
	p = ds_config_pool(&cfg, "P");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(p->worker_count, 1);
	ck_assert_int_eq(p->format, DS_FORMAT_JSON);
	ck_assert_int_eq(p->max_running_ms, 0);
	ck_assert_int_eq(p->max_jobs_per_worker, 0);
	ck_assert_int_eq(p->max_response_bytes, DS_DEFAULT_MAX_RESPONSE_BYTES);
	ck_assert_int_eq(p->max_response_bytes, 16 * 1024 * 1024);
}
END_TEST

START_TEST(all_options)
{
	const struct ds_pool *p;

	loads("{\"gearman_servers_list\": [\"g1:4731\", \"[::1]:4732\", "
	    "\"[fe80::1]\", \"10.0.0.1\"], \"pools_list\": {"
	    "\"a.b:c-d_1\": {" GOOD ", \"request_format\": \"form\", "
	    "\"max_running_time\": 1.5, \"max_jobs_per_worker\": 100, "
	    "\"max_response_bytes\": 1073741824}, "
	    "\"B\": {" GOOD ", \"request_format\": \"json\", "
	    "\"max_running_time\": 86400, \"max_response_bytes\": 1, "
	    "\"max_jobs_per_worker\": 0}}}");
	ck_assert_uint_eq(cfg.nservers, 4);
	ck_assert_str_eq(cfg.server_strs[0], "g1:4731");
	ck_assert_str_eq(cfg.servers[0].host, "g1");
	ck_assert_int_eq(cfg.servers[0].port, 4731);
	ck_assert_str_eq(cfg.server_strs[1], "[::1]:4732");
	ck_assert_str_eq(cfg.servers[1].host, "::1");
	ck_assert_int_eq(cfg.servers[1].port, 4732);
	ck_assert_str_eq(cfg.servers[2].host, "fe80::1");
	ck_assert_int_eq(cfg.servers[2].port, 4730);
	ck_assert_str_eq(cfg.servers[3].host, "10.0.0.1");
	p = ds_config_pool(&cfg, "a.b:c-d_1");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(p->format, DS_FORMAT_FORM);
	ck_assert_int_eq(p->max_running_ms, 1500);
	ck_assert_int_eq(p->max_jobs_per_worker, 100);
	ck_assert_int_eq(p->max_response_bytes, 1073741824);
	p = ds_config_pool(&cfg, "B");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(p->format, DS_FORMAT_JSON);
	ck_assert_int_eq(p->max_running_ms, 86400000);
	ck_assert_int_eq(p->max_response_bytes, 1);
	ck_assert_int_eq(p->max_jobs_per_worker, 0);
}
END_TEST

START_TEST(zero_pools_and_workers)
{
	loads("{" SERVERS ", \"pools_list\": {}}");
	ck_assert_uint_eq(cfg.npools, 0);
	ck_assert_ptr_null(ds_config_pool(&cfg, "P"));
	loads(POOL("\"worker_count\": 0, \"jobs_list\": [\"j\"], "
	    "\"job_processing_uri\": \"https://h\""));
	ck_assert_int_eq(cfg.pools[0].worker_count, 0);
	ck_assert_str_eq(cfg.pools[0].uri, "https://h");
}
END_TEST

START_TEST(lenient_but_valid_forms)
{
	/* An integer written as 2.0 or 2e0 is still an integer; a BOM, an
	 * escaped slash and a non-ASCII job name are all fine. */
	loads("\xEF\xBB\xBF" POOL("\"worker_count\": 2.0, \"jobs_list\": "
	    "[\"a\\/b\", \"caf\\u00e9\", \"\xC3\xA9t\xC3\xA9\"], "
	    "\"job_processing_uri\": \"HTTPS://user@h:8080/x?y#z\", "
	    "\"max_jobs_per_worker\": 2e0"));
	ck_assert_int_eq(cfg.pools[0].worker_count, 2);
	ck_assert_int_eq(cfg.pools[0].max_jobs_per_worker, 2);
	ck_assert_str_eq(cfg.pools[0].jobs[0], "a/b");
	ck_assert_str_eq(cfg.pools[0].jobs[1], "caf\xC3\xA9");
	ck_assert_str_eq(cfg.pools[0].jobs[2], "\xC3\xA9t\xC3\xA9");
}
END_TEST

START_TEST(unknown_keys_warn)
{
	ck_assert_int_eq(parse("{" SERVERS ", \"extra\": 1, \"pools_list\": "
	    "{\"Regular\": {" GOOD ", \"workr_count\": 3, \"a b\": null}}}"), 0);
	ck_assert_uint_eq(diag.nerrors, 0);
	ck_assert_str_eq(join(diag.warnings, diag.nwarnings),
	    "jobs.json: extra: unknown key, ignored\n"
	    "jobs.json: pools_list.Regular.workr_count: unknown key, ignored\n"
	    "jobs.json: pools_list.Regular[\"a b\"]: unknown key, ignored");
	ck_assert_uint_eq(cfg.npools, 1);
}
END_TEST

START_TEST(warnings_kept_on_failure)
{
	fails(POOL("\"worker_count\": -1, \"jobs_list\": [\"j\"], "
	    "\"job_processing_uri\": \"http://h\", \"Worker_count\": 1"),
	    "jobs.json: pools_list.P.worker_count: expected integer >= 0, "
	    "got -1");
	ck_assert_str_eq(join(diag.warnings, diag.nwarnings),
	    "jobs.json: pools_list.P.Worker_count: unknown key, ignored");
}
END_TEST

/* --- syntax errors --- */

START_TEST(syntax_errors)
{
	fails("", "jobs.json:1:1: invalid JSON: the file is empty");
	fails(" \n\t\r\n", "jobs.json:1:1: invalid JSON: the file is empty");
	fails("{\"a\": 1",
	    "jobs.json:1:8: invalid JSON: expected ',' or '}' after an "
	    "object member, got end of input");
	fails("{\n  \"a\": 1 x}",
	    "jobs.json:2:10: invalid JSON: expected ',' or '}' after an "
	    "object member, got 'x'");
	fails("{\n  \"a\": 1,\n}",
	    "jobs.json:3:1: invalid JSON: trailing comma before '}'");
	fails("[1,\n ]", "jobs.json:2:2: invalid JSON: trailing comma before "
	    "']'");
	fails("[1 2]", "jobs.json:1:4: invalid JSON: expected ',' or ']' "
	    "after an array element, got '2'");
	fails("{}\n\nx", "jobs.json:3:1: invalid JSON: unexpected text after "
	    "the top-level value");
	fails("{} {}", "jobs.json:1:4: invalid JSON: unexpected text after "
	    "the top-level value");
	fails("{\"a\" 1}", "jobs.json:1:6: invalid JSON: expected ':' after "
	    "an object key, got '1'");
	fails("{a: 1}", "jobs.json:1:2: invalid JSON: expected a string key, "
	    "got 'a'");
	fails("{\"a\": tru}", "jobs.json:1:7: invalid JSON: expected a value, "
	    "got 't'");
	fails("{\"a\": }", "jobs.json:1:7: invalid JSON: expected a value, "
	    "got '}'");
	fails("{\"a\": 'x'}", "jobs.json:1:7: invalid JSON: expected a value, "
	    "got byte 0x27");
	fails("{\"a\":\n\"abc", "jobs.json:2:1: invalid JSON: unterminated "
	    "string");
	fails("{\"a\": \"x\\qy\"}", "jobs.json:1:9: invalid JSON: invalid "
	    "escape in a string");
	fails("{\"a\": \"\\u12\"}", "jobs.json:1:8: invalid JSON: \\u must be "
	    "followed by 4 hex digits");
	fails("{\"a\": \"ab\\u0000c\"}", "jobs.json:1:10: invalid JSON: "
	    "\\u0000 (NUL) is not allowed");
	fails("[\"\\udc00\"]", "jobs.json:1:3: invalid JSON: lone UTF-16 low "
	    "surrogate");
	fails("[\"\\ud800x\"]", "jobs.json:1:3: invalid JSON: UTF-16 high "
	    "surrogate without a low surrogate");
	fails("{\"a\": \"x\ty\"}", "jobs.json:1:9: invalid JSON: control "
	    "character in a string (write it as an escape such as \\n)");
	fails("[01]", "jobs.json:1:2: invalid JSON: invalid number (leading "
	    "zero)");
	fails("[1.]", "jobs.json:1:2: invalid JSON: invalid number (no digit "
	    "after '.')");
	fails("[1e+]", "jobs.json:1:2: invalid JSON: invalid number (no digit "
	    "in exponent)");
	fails("[-x]", "jobs.json:1:2: invalid JSON: invalid number");
	fails("[+1]", "jobs.json:1:2: invalid JSON: expected a value, got "
	    "'+'");
	/* Columns count characters, not bytes. */
	fails("{\"\xC3\xA9\xC3\xA9\" 1}", "jobs.json:1:7: invalid JSON: "
	    "expected ':' after an object key, got '1'");
	fails("[\x01]", "jobs.json:1:2: invalid JSON: expected a value, got "
	    "byte 0x01");
}
END_TEST

START_TEST(nul_bytes)
{
	/* The text is a byte buffer: a NUL is an error, not an early end. */
	static const char a[] = "{}\0junk";
	static const char b[] = "[\"a\0b\"]";

	ck_assert_int_eq(parse_len(a, sizeof(a) - 1), -1);
	ck_assert_str_eq(join(diag.errors, diag.nerrors), "jobs.json:1:3: "
	    "invalid JSON: unexpected text after the top-level value");
	ck_assert_int_eq(parse_len(b, sizeof(b) - 1), -1);
	ck_assert_str_eq(join(diag.errors, diag.nerrors), "jobs.json:1:4: "
	    "invalid JSON: control character in a string (write it as an "
	    "escape such as \\n)");
}
END_TEST

START_TEST(deep_nesting)
{
	char text[2200];

	memset(text, '[', 1000);
	memset(text + 1000, ']', 1000);
	text[2000] = '\0';
	fails(text, "jobs.json:1:514: invalid JSON: nesting too deep");
}
END_TEST

/* --- top level --- */

START_TEST(top_level)
{
	fails("[]", "jobs.json: expected an object at the top level, got an "
	    "empty array");
	fails("\"x\"", "jobs.json: expected an object at the top level, got "
	    "\"x\"");
	/* found by t/fuzz: cJSON skips a BOM only when more than one byte
	 * follows, so this was reported as "out of memory" */
	fails("\xEF\xBB\xBF" "3", "jobs.json: expected an object at the top "
	    "level, got 3");
	fails("{}", "jobs.json: missing required key gearman_servers_list\n"
	    "jobs.json: missing required key pools_list");
	fails("{" SERVERS "}", "jobs.json: missing required key pools_list");
	fails("{\"pools_list\": {}}",
	    "jobs.json: missing required key gearman_servers_list");
	fails("{" SERVERS ", \"pools_list\": [], \"pools_list\": {}}",
	    "jobs.json: pools_list: expected object of pool name to pool, "
	    "got an empty array\n"
	    "jobs.json: pools_list: duplicate key");
	fails("{" SERVERS ", " SERVERS ", \"pools_list\": null}",
	    "jobs.json: gearman_servers_list: duplicate key\n"
	    "jobs.json: pools_list: expected object of pool name to pool, "
	    "got null");
}
END_TEST

/* --- servers --- */

#define SRV(list) "{\"gearman_servers_list\": " list ", \"pools_list\": {}}"

START_TEST(bad_servers)
{
	fails(SRV("\"localhost\""), "jobs.json: gearman_servers_list: "
	    "expected non-empty array of server strings, got \"localhost\"");
	fails(SRV("[]"), "jobs.json: gearman_servers_list: expected non-empty "
	    "array of server strings, got an empty array");
	fails(SRV("{}"), "jobs.json: gearman_servers_list: expected non-empty "
	    "array of server strings, got an empty object");
	fails(SRV("[\"ok\", \"[::1\", 4730, \"::1\", \"h:0\", \"h:65536\", "
	    "\"h:abc\", \"\", \"a\\nb\", \"[::1]x\", \"h:\"]"),
	    "jobs.json: gearman_servers_list[1]: \"[::1\": missing ']' after "
	    "IPv6 address\n"
	    "jobs.json: gearman_servers_list[2]: expected server string, "
	    "got 4730\n"
	    "jobs.json: gearman_servers_list[3]: \"::1\": an IPv6 address "
	    "needs brackets, as in [::1]:4730\n"
	    "jobs.json: gearman_servers_list[4]: \"h:0\": port must be 1 to "
	    "65535\n"
	    "jobs.json: gearman_servers_list[5]: \"h:65536\": port must be 1 "
	    "to 65535\n"
	    "jobs.json: gearman_servers_list[6]: \"h:abc\": port must be 1 to "
	    "65535\n"
	    "jobs.json: gearman_servers_list[7]: \"\": expected a host name "
	    "or address\n"
	    "jobs.json: gearman_servers_list[8]: expected server string "
	    "without control characters, got \"a\\nb\"\n"
	    "jobs.json: gearman_servers_list[9]: \"[::1]x\": expected ':port' "
	    "after ']'\n"
	    "jobs.json: gearman_servers_list[10]: \"h:\": port must be 1 to "
	    "65535");
}
END_TEST

/* --- pools --- */

START_TEST(pool_names)
{
	fails("{" SERVERS ", \"pools_list\": {\"bad name\": {" GOOD "}, "
	    "\"\": {" GOOD "}, \"p/q\": {" GOOD "}, \"tab\\t\": {" GOOD "}}}",
	    "jobs.json: pools_list[\"bad name\"]: expected pool name of "
	    "letters, digits and _.:-, got \"bad name\"\n"
	    "jobs.json: pools_list[\"\"]: expected pool name of letters, "
	    "digits and _.:-, got \"\"\n"
	    "jobs.json: pools_list[\"p/q\"]: expected pool name of letters, "
	    "digits and _.:-, got \"p/q\"\n"
	    "jobs.json: pools_list[\"tab\\t\"]: expected pool name of "
	    "letters, digits and _.:-, got \"tab\\t\"");
	/* Errors inside a badly named pool are still reported. */
	fails("{" SERVERS ", \"pools_list\": {\"a b\": {\"worker_count\": "
	    "\"x\", \"jobs_list\": [\"j\"], \"job_processing_uri\": "
	    "\"http://h\"}}}",
	    "jobs.json: pools_list[\"a b\"]: expected pool name of letters, "
	    "digits and _.:-, got \"a b\"\n"
	    "jobs.json: pools_list[\"a b\"].worker_count: expected integer >= "
	    "0, got \"x\"");
}
END_TEST

START_TEST(duplicates)
{
	fails("{" SERVERS ", \"pools_list\": {\"Regular\": {" GOOD "}, "
	    "\"Other\": {" GOOD "}, \"Regular\": {" GOOD "}}}",
	    "jobs.json: pools_list.Regular: duplicate pool name");
	fails(POOL(GOOD ", \"worker_count\": 2"),
	    "jobs.json: pools_list.P.worker_count: duplicate key");
	fails(POOL("\"worker_count\": 1, \"jobs_list\": [\"Sum\", \"x\", "
	    "\"Sum\"], \"job_processing_uri\": \"http://h\""),
	    "jobs.json: pools_list.P.jobs_list[2]: duplicate job name "
	    "\"Sum\"");
	/* The same job in two pools is fine: both serve it. */
	loads("{" SERVERS ", \"pools_list\": {\"A\": {" GOOD "}, "
	    "\"B\": {" GOOD "}}}");
}
END_TEST

START_TEST(pool_not_object)
{
	fails("{" SERVERS ", \"pools_list\": {\"P\": 3, \"Q\": []}}",
	    "jobs.json: pools_list.P: expected pool object, got 3\n"
	    "jobs.json: pools_list.Q: expected pool object, got an empty "
	    "array");
}
END_TEST

START_TEST(missing_pool_keys)
{
	fails(POOL(""),
	    "jobs.json: pools_list.P: missing required key worker_count\n"
	    "jobs.json: pools_list.P: missing required key jobs_list\n"
	    "jobs.json: pools_list.P: missing required key "
	    "job_processing_uri");
	fails(POOL("\"worker_count\": 1, \"jobs_list\": [\"j\"]"),
	    "jobs.json: pools_list.P: missing required key "
	    "job_processing_uri");
}
END_TEST

#define WC(v) POOL("\"worker_count\": " v ", \"jobs_list\": [\"j\"], " \
	"\"job_processing_uri\": \"http://h\"")
#define WC_ERR "jobs.json: pools_list.P.worker_count: expected integer >= 0, got "

START_TEST(worker_count)
{
	fails(WC("\"3\""), WC_ERR "\"3\"");
	fails(WC("-1"), WC_ERR "-1");
	fails(WC("1.5"), WC_ERR "1.5");
	fails(WC("true"), WC_ERR "true");
	fails(WC("false"), WC_ERR "false");
	fails(WC("null"), WC_ERR "null");
	fails(WC("{}"), WC_ERR "an empty object");
	fails(WC("{\"a\": 1}"), WC_ERR "an object");
	fails(WC("[1]"), WC_ERR "an array");
	fails(WC("-1e400"), WC_ERR "-inf");
	fails(WC("10001"), "jobs.json: pools_list.P.worker_count: "
	    "expected integer <= 10000, got 10001");
	fails(WC("2147483648"), "jobs.json: pools_list.P.worker_count: "
	    "expected integer <= 10000, got 2.14748e+09");
	fails(WC("1e400"), "jobs.json: pools_list.P.worker_count: "
	    "expected integer <= 10000, got inf");
	loads(WC("10000"));
	ck_assert_int_eq(cfg.pools[0].worker_count, DS_MAX_WORKERS_PER_POOL);
	loads(WC("-0"));
	ck_assert_int_eq(cfg.pools[0].worker_count, 0);
}
END_TEST

#define JL(v) POOL("\"worker_count\": 1, \"jobs_list\": " v ", " \
	"\"job_processing_uri\": \"http://h\"")

START_TEST(jobs_list)
{
	fails(JL("[]"), "jobs.json: pools_list.P.jobs_list: expected "
	    "non-empty array of job names, got an empty array");
	fails(JL("\"Sum\""), "jobs.json: pools_list.P.jobs_list: expected "
	    "non-empty array of job names, got \"Sum\"");
	fails(JL("[\"ok\", \"\", 3, null, \"a\\u0001b\", \"c\\u007f\"]"),
	    "jobs.json: pools_list.P.jobs_list[1]: expected non-empty string, "
	    "got \"\"\n"
	    "jobs.json: pools_list.P.jobs_list[2]: expected non-empty string, "
	    "got 3\n"
	    "jobs.json: pools_list.P.jobs_list[3]: expected non-empty string, "
	    "got null\n"
	    "jobs.json: pools_list.P.jobs_list[4]: expected job name without "
	    "control characters, got \"a\\u0001b\"\n"
	    "jobs.json: pools_list.P.jobs_list[5]: expected job name without "
	    "control characters, got \"c\\u007f\"");
	loads(JL("[\"with space\"]"));
	ck_assert_str_eq(cfg.pools[0].jobs[0], "with space");
}
END_TEST

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

START_TEST(job_name_length)
{
	/* gearmand's limit is GEARMAN_FUNCTION_MAX_SIZE bytes, not chars. */
	loads(one_job(rep("x", 512)));
	ck_assert_uint_eq(strlen(cfg.pools[0].jobs[0]), 512);
	ck_assert_uint_eq(cfg.pools[0].njobs, 2);
	fails(one_job(rep("x", 513)), "jobs.json: pools_list.P.jobs_list[0]: "
	    "expected a job name of at most 512 bytes, got \"" X40 "...\"");
	loads(one_job(rep("\xC3\xA9", 256)));
	fails(one_job(rep("\xC3\xA9", 257)), "jobs.json: "
	    "pools_list.P.jobs_list[0]: expected a job name of at most 512 "
	    "bytes, got \"" E20 "...\"");
	/* Escapes count as the bytes they stand for. */
	loads(one_job(rep("\\u00e9", 256)));
	fails(one_job(rep("\\u00e9", 257)), "jobs.json: "
	    "pools_list.P.jobs_list[0]: expected a job name of at most 512 "
	    "bytes, got \"" E20 "...\"");
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

START_TEST(list_limits)
{
	loads(many(64, 256));
	fails(many(65, 1), "jobs.json: gearman_servers_list: expected at most "
	    "64 servers, got 65");
	fails(many(1, 257), "jobs.json: pools_list.P.jobs_list: expected at "
	    "most 256 job names, got 257");
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

#define URI(v) POOL("\"worker_count\": 1, \"jobs_list\": [\"j\"], " \
	"\"job_processing_uri\": " v)
#define URI_ERR "jobs.json: pools_list.P.job_processing_uri: expected " \
	"http:// or https:// URL with a host, got "
#define URI_CTL "jobs.json: pools_list.P.job_processing_uri: expected " \
	"URL without spaces or control characters, got "

START_TEST(processing_uri)
{
	fails(URI("\"ftp://h/x\""), URI_ERR "\"ftp://h/x\"");
	fails(URI("\"localhost/job.php\""), URI_ERR "\"localhost/job.php\"");
	fails(URI("\"http://\""), URI_ERR "\"http://\"");
	fails(URI("\"https:///x\""), URI_ERR "\"https:///x\"");
	fails(URI("\"http://user@/x\""), URI_ERR "\"http://***@/x\"");
	/* a password is never shown, not even in an error */
	fails(URI("\"ftp://u:secret@h/\""), URI_ERR "\"ftp://***@h/\"");
	fails(URI("\"http://:80/x\""), URI_ERR "\"http://:80/x\"");
	fails(URI("\"http:/h\""), URI_ERR "\"http:/h\"");
	fails(URI("\"\""), URI_ERR "\"\"");
	fails(URI("7"), URI_ERR "7");
	fails(URI("\"http://h/a b\""), URI_CTL "\"http://h/a b\"");
	fails(URI("\"http://h/\\r\\nX: y\""), URI_CTL "\"http://h/\\r\\nX: y\"");
	loads(URI("\"http://[::1]:8080/x\""));
	ck_assert_str_eq(cfg.pools[0].uri, "http://[::1]:8080/x");
}
END_TEST

#define OPT(k, v) POOL(GOOD ", \"" k "\": " v)
#define OPT_ERR(k) "jobs.json: pools_list.P." k ": expected "

START_TEST(request_format)
{
	fails(OPT("request_format", "\"xml\""), OPT_ERR("request_format")
	    "\"json\" or \"form\", got \"xml\"");
	fails(OPT("request_format", "\"JSON\""), OPT_ERR("request_format")
	    "\"json\" or \"form\", got \"JSON\"");
	fails(OPT("request_format", "1"), OPT_ERR("request_format")
	    "\"json\" or \"form\", got 1");
	loads(OPT("request_format", "\"form\""));
	ck_assert_int_eq(cfg.pools[0].format, DS_FORMAT_FORM);
}
END_TEST

START_TEST(max_running_time)
{
	fails(OPT("max_running_time", "0"), OPT_ERR("max_running_time")
	    "number of seconds > 0, got 0");
	fails(OPT("max_running_time", "-5"), OPT_ERR("max_running_time")
	    "number of seconds > 0, got -5");
	fails(OPT("max_running_time", "\"5\""), OPT_ERR("max_running_time")
	    "number of seconds > 0, got \"5\"");
	fails(OPT("max_running_time", "86400.5"), OPT_ERR("max_running_time")
	    "number of seconds <= 86400, got 86400.5");
	fails(OPT("max_running_time", "0.0001"), OPT_ERR("max_running_time")
	    "number of seconds >= 0.001, got 0.0001");
	loads(OPT("max_running_time", "0.001"));
	ck_assert_int_eq(cfg.pools[0].max_running_ms, 1);
	loads(OPT("max_running_time", "30"));
	ck_assert_int_eq(cfg.pools[0].max_running_ms, 30000);
	loads(OPT("max_running_time", "2.0005"));
	ck_assert_int_eq(cfg.pools[0].max_running_ms, 2001);
}
END_TEST

START_TEST(max_jobs_per_worker)
{
	fails(OPT("max_jobs_per_worker", "-1"), OPT_ERR("max_jobs_per_worker")
	    "integer >= 0, got -1");
	fails(OPT("max_jobs_per_worker", "2.5"), OPT_ERR("max_jobs_per_worker")
	    "integer >= 0, got 2.5");
	fails(OPT("max_jobs_per_worker", "\"10\""),
	    OPT_ERR("max_jobs_per_worker") "integer >= 0, got \"10\"");
	fails(OPT("max_jobs_per_worker", "1e300"),
	    OPT_ERR("max_jobs_per_worker") "integer <= 9007199254740992, got "
	    "1e+300");
	loads(OPT("max_jobs_per_worker", "1000000"));
	ck_assert_int_eq(cfg.pools[0].max_jobs_per_worker, 1000000);
}
END_TEST

START_TEST(max_response_bytes)
{
	fails(OPT("max_response_bytes", "0"), OPT_ERR("max_response_bytes")
	    "integer >= 1, got 0");
	fails(OPT("max_response_bytes", "1.5"), OPT_ERR("max_response_bytes")
	    "integer >= 1, got 1.5");
	fails(OPT("max_response_bytes", "1073741825"),
	    OPT_ERR("max_response_bytes") "integer <= 1073741824, got "
	    "1.07374e+09");
	loads(OPT("max_response_bytes", "4096"));
	ck_assert_int_eq(cfg.pools[0].max_response_bytes, 4096);
}
END_TEST

START_TEST(long_values_are_cut)
{
	fails(WC("\"0123456789012345678901234567890123456789xyz\""),
	    WC_ERR "\"0123456789012345678901234567890123456789...\"");
	fails(WC("\"0123456789012345678901234567890123456789\""),
	    WC_ERR "\"0123456789012345678901234567890123456789\"");
	fails(WC("\"q\\\"\\\\\""), WC_ERR "\"q\\\"\\\\\"");
}
END_TEST

START_TEST(all_problems_reported)
{
	fails("{\"gearman_servers_list\": [\"[::1\"], \"pools_list\": {"
	    "\"Regular\": {\"worker_count\": \"3\", \"jobs_list\": [], "
	    "\"job_processing_uri\": \"gopher://h\", \"request_format\": "
	    "\"xml\", \"workr_count\": 1}, "
	    "\"Other\": {\"worker_count\": -1}}}",
	    "jobs.json: gearman_servers_list[0]: \"[::1\": missing ']' after "
	    "IPv6 address\n"
	    "jobs.json: pools_list.Regular.worker_count: expected integer >= 0, "
	    "got \"3\"\n"
	    "jobs.json: pools_list.Regular.jobs_list: expected non-empty array "
	    "of job names, got an empty array\n"
	    "jobs.json: pools_list.Regular.job_processing_uri: expected "
	    "http:// or https:// URL with a host, got \"gopher://h\"\n"
	    "jobs.json: pools_list.Regular.request_format: expected \"json\" "
	    "or \"form\", got \"xml\"\n"
	    "jobs.json: pools_list.Other.worker_count: expected integer >= 0, "
	    "got -1\n"
	    "jobs.json: pools_list.Other: missing required key jobs_list\n"
	    "jobs.json: pools_list.Other: missing required key "
	    "job_processing_uri");
	ck_assert_str_eq(join(diag.warnings, diag.nwarnings),
	    "jobs.json: pools_list.Regular.workr_count: unknown key, ignored");
}
END_TEST

START_TEST(reuse_after_failure)
{
	/* A failed parse leaves nothing to free; a later one works. */
	fails(WC("-1"), WC_ERR "-1");
	ds_diag_free(&diag);
	loads(readme);
	ck_assert_uint_eq(cfg.npools, 3);
}
END_TEST

/* --- ds_config_load --- */

static char tmpname[64];

static void
write_tmp(const char *text, size_t len)
{
	int fd;

	snprintf(tmpname, sizeof(tmpname), "/tmp/ds_test_config_XXXXXX");
	fd = mkstemp(tmpname);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
}

START_TEST(load_file)
{
	write_tmp(readme, strlen(readme));
	ck_assert_int_eq(ds_config_load(tmpname, &cfg, &diag), 0);
	ck_assert_uint_eq(cfg.npools, 3);
	ck_assert_str_eq(cfg.pools[2].jobs[1], "Sum");
	ds_config_free(&cfg);
	ds_diag_free(&diag);
	write_tmp("{\n", 2);
	ck_assert_int_eq(ds_config_load(tmpname, &cfg, &diag), -1);
	unlink(tmpname);
	ck_assert_uint_eq(diag.nerrors, 1);
	snprintf(joined, sizeof(joined), "%s:2:1: invalid JSON: expected a "
	    "string key, got end of input", tmpname);
	ck_assert_str_eq(diag.errors[0], joined);
	assert_empty_cfg();
}
END_TEST

START_TEST(load_unreadable)
{
	ck_assert_int_eq(ds_config_load("/nonexistent/jobs.json", &cfg,
	    &diag), -1);
	ck_assert_str_eq(join(diag.errors, diag.nerrors),
	    "/nonexistent/jobs.json: cannot read: No such file or directory");
	assert_empty_cfg();
	ds_diag_free(&diag);
	ck_assert_int_eq(ds_config_load("/tmp", &cfg, &diag), -1);
	ck_assert_str_eq(join(diag.errors, diag.nerrors),
	    "/tmp: cannot read: Is a directory");
	assert_empty_cfg();
}
END_TEST

START_TEST(load_too_big)
{
	size_t len = 16 * 1024 * 1024 + 1;
	char *big = malloc(len);

	ck_assert_ptr_nonnull(big);
	memset(big, ' ', len);
	big[0] = '{';
	big[len - 1] = '}';
	write_tmp(big, len);
	ck_assert_int_eq(ds_config_load(tmpname, &cfg, &diag), -1);
	snprintf(joined, sizeof(joined), "%s: file is larger than 16 MiB",
	    tmpname);
	ck_assert_uint_eq(diag.nerrors, 1);
	ck_assert_str_eq(diag.errors[0], joined);
	ds_diag_free(&diag);
	/* Exactly 16 MiB is still read (and then validated). */
	ck_assert_int_eq(truncate(tmpname, (off_t)len - 1), 0);
	ck_assert_int_eq(ds_config_load(tmpname, &cfg, &diag), -1);
	unlink(tmpname);
	snprintf(joined, sizeof(joined), "%s:1:16777217: invalid JSON: "
	    "expected a string key, got end of input", tmpname);
	ck_assert_str_eq(join(diag.errors, diag.nerrors), joined);
	free(big);
}
END_TEST

/* readme after pad bytes of blank lines, in a new heap buffer. */
static char *
padded_readme(size_t pad, size_t *lenp)
{
	size_t rlen = strlen(readme);
	char *text = malloc(pad + rlen);

	ck_assert_ptr_nonnull(text);
	memset(text, '\n', pad);
	memcpy(text + pad, readme, rlen);
	*lenp = pad + rlen;
	return text;
}

START_TEST(load_sizes)
{
	static const size_t pads[] = { 0, 3000, 4096, 70000, 1 << 20 };
	size_t len;
	char *text;

	for (size_t i = 0; i < sizeof(pads) / sizeof(pads[0]); i++) {
		text = padded_readme(pads[i], &len);
		write_tmp(text, len);
		free(text);
		ck_assert_int_eq(ds_config_load(tmpname, &cfg, &diag), 0);
		unlink(tmpname);
		ck_assert_uint_eq(cfg.npools, 3);
		teardown();
	}
	/* An empty file is read and then found empty. */
	write_tmp("", 0);
	ck_assert_int_eq(ds_config_load(tmpname, &cfg, &diag), -1);
	unlink(tmpname);
	snprintf(joined, sizeof(joined), "%s:1:1: invalid JSON: the file is "
	    "empty", tmpname);
	ck_assert_str_eq(join(diag.errors, diag.nerrors), joined);
}
END_TEST

/* A pipe has no size to start from, so the buffer grows as it is read. */
START_TEST(load_fifo)
{
	size_t len, off;
	char *text;
	pid_t pid;
	ssize_t n;
	int fd, status;

	snprintf(tmpname, sizeof(tmpname), "/tmp/ds_test_config_%d.fifo",
	    (int)getpid());
	ck_assert_int_eq(mkfifo(tmpname, 0600), 0);
	text = padded_readme(100000, &len);
	if ((pid = fork()) == 0) {
		if ((fd = open(tmpname, O_WRONLY)) < 0)
			_exit(1);
		/* Small writes, so the reader sees the data come in pieces. */
		for (off = 0; off < len; off += (size_t)n)
			if ((n = write(fd, text + off, len - off < 1000 ?
			    len - off : 1000)) < 0)
				_exit(1);
		_exit(0);
	}
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(ds_config_load(tmpname, &cfg, &diag), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	unlink(tmpname);
	free(text);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_uint_eq(cfg.npools, 3);
}
END_TEST

static Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc;

	tc = tcase_create("valid");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, readme_example);
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, all_options);
	tcase_add_test(tc, zero_pools_and_workers);
	tcase_add_test(tc, lenient_but_valid_forms);
	tcase_add_test(tc, unknown_keys_warn);
	tcase_add_test(tc, warnings_kept_on_failure);
	suite_add_tcase(s, tc);

	tc = tcase_create("syntax");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, syntax_errors);
	tcase_add_test(tc, nul_bytes);
	tcase_add_test(tc, deep_nesting);
	suite_add_tcase(s, tc);

	tc = tcase_create("values");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, top_level);
	tcase_add_test(tc, bad_servers);
	tcase_add_test(tc, pool_names);
	tcase_add_test(tc, duplicates);
	tcase_add_test(tc, pool_not_object);
	tcase_add_test(tc, missing_pool_keys);
	tcase_add_test(tc, worker_count);
	tcase_add_test(tc, jobs_list);
	tcase_add_test(tc, job_name_length);
	tcase_add_test(tc, list_limits);
	tcase_add_test(tc, pool_name_length);
	tcase_add_test(tc, processing_uri);
	tcase_add_test(tc, request_format);
	tcase_add_test(tc, max_running_time);
	tcase_add_test(tc, max_jobs_per_worker);
	tcase_add_test(tc, max_response_bytes);
	tcase_add_test(tc, long_values_are_cut);
	tcase_add_test(tc, all_problems_reported);
	tcase_add_test(tc, reuse_after_failure);
	suite_add_tcase(s, tc);

	tc = tcase_create("load");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, load_file);
	tcase_add_test(tc, load_unreadable);
	tcase_add_test(tc, load_too_big);
	tcase_add_test(tc, load_sizes);
	tcase_add_test(tc, load_fifo);
	suite_add_tcase(s, tc);
	return s;
}

DS_CHECK_MAIN(config_suite)
