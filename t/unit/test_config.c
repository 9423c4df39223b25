/* test_config.c: the jobs config loader (docs/config.md), the file and the
 * document: valid configs, JSON syntax, the top level and the servers, with
 * the exact text of every message, since operators and scripts read them.
 * The pool keys are in test_config_pool.c. */
#include "config_unit.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <inttypes.h>
#include <unistd.h>

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
	static const struct {
		const char *name;
		enum ds_request_format format;
		int64_t running_ms, jobs, bytes;
	} pools[] = {
		{"a.b:c-d_1", DS_FORMAT_FORM, 1500, 100, 1073741824},
		{"B", DS_FORMAT_JSON, 86400000, 0, 1},
	};
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
	for (size_t i = 0; i < NELEM(pools); i++) {
		p = ds_config_pool(&cfg, pools[i].name);
		ck_assert_msg(p != NULL, "pool %s", pools[i].name);
		ck_assert_msg(p->format == pools[i].format &&
		    p->max_running_ms == pools[i].running_ms &&
		    p->max_jobs_per_worker == pools[i].jobs &&
		    p->max_response_bytes == pools[i].bytes, "pool %s: %d %"
		    PRId64 " %" PRId64 " %" PRId64, pools[i].name, p->format,
		    p->max_running_ms, p->max_jobs_per_worker,
		    p->max_response_bytes);
	}
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
	    "{\"Regular\": {" GOOD ", \"workr_count\": 3, \"a b\": null}}}"),
	    0);
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

static const struct doc_case syntax_cases[] = {
	{DOC(""), "jobs.json:1:1: invalid JSON: the file is empty"},
	{DOC(" \n\t\r\n"), "jobs.json:1:1: invalid JSON: the file is empty"},
	{DOC("{\"a\": 1"), "jobs.json:1:8: invalid JSON: expected ',' or '}' "
	    "after an object member, got end of input"},
	{DOC("{\n  \"a\": 1 x}"), "jobs.json:2:10: invalid JSON: expected ',' "
	    "or '}' after an object member, got 'x'"},
	{DOC("{\n  \"a\": 1,\n}"),
	    "jobs.json:3:1: invalid JSON: trailing comma before '}'"},
	{DOC("[1,\n ]"), "jobs.json:2:2: invalid JSON: trailing comma before "
	    "']'"},
	{DOC("[1 2]"), "jobs.json:1:4: invalid JSON: expected ',' or ']' "
	    "after an array element, got '2'"},
	{DOC("{}\n\nx"), "jobs.json:3:1: invalid JSON: unexpected text after "
	    "the top-level value"},
	{DOC("{} {}"), "jobs.json:1:4: invalid JSON: unexpected text after "
	    "the top-level value"},
	{DOC("{\"a\" 1}"), "jobs.json:1:6: invalid JSON: expected ':' after "
	    "an object key, got '1'"},
	{DOC("{a: 1}"), "jobs.json:1:2: invalid JSON: expected a string key, "
	    "got 'a'"},
	{DOC("{\"a\": tru}"), "jobs.json:1:7: invalid JSON: expected a value, "
	    "got 't'"},
	{DOC("{\"a\": }"), "jobs.json:1:7: invalid JSON: expected a value, "
	    "got '}'"},
	{DOC("{\"a\": 'x'}"), "jobs.json:1:7: invalid JSON: expected a value, "
	    "got byte 0x27"},
	{DOC("{\"a\":\n\"abc"), "jobs.json:2:1: invalid JSON: unterminated "
	    "string"},
	{DOC("{\"a\": \"x\\qy\"}"), "jobs.json:1:9: invalid JSON: invalid "
	    "escape in a string"},
	{DOC("{\"a\": \"\\u12\"}"), "jobs.json:1:8: invalid JSON: \\u must "
	    "be followed by 4 hex digits"},
	{DOC("{\"a\": \"ab\\u0000c\"}"), "jobs.json:1:10: invalid JSON: "
	    "\\u0000 (NUL) is not allowed"},
	{DOC("[\"\\udc00\"]"), "jobs.json:1:3: invalid JSON: lone UTF-16 "
	    "low surrogate"},
	{DOC("[\"\\ud800x\"]"), "jobs.json:1:3: invalid JSON: UTF-16 high "
	    "surrogate without a low surrogate"},
	{DOC("{\"a\": \"x\ty\"}"), "jobs.json:1:9: invalid JSON: control "
	    "character in a string (write it as an escape such as \\n)"},
	{DOC("[01]"), "jobs.json:1:2: invalid JSON: invalid number (leading "
	    "zero)"},
	{DOC("[1.]"), "jobs.json:1:2: invalid JSON: invalid number (no digit "
	    "after '.')"},
	{DOC("[1e+]"), "jobs.json:1:2: invalid JSON: invalid number (no digit "
	    "in exponent)"},
	{DOC("[-x]"), "jobs.json:1:2: invalid JSON: invalid number"},
	{DOC("[+1]"), "jobs.json:1:2: invalid JSON: expected a value, got "
	    "'+'"},
	/* Columns count characters, not bytes. */
	{DOC("{\"\xC3\xA9\xC3\xA9\" 1}"), "jobs.json:1:7: invalid JSON: "
	    "expected ':' after an object key, got '1'"},
	{DOC("[\x01]"), "jobs.json:1:2: invalid JSON: expected a value, got "
	    "byte 0x01"},
	/* The text is a byte buffer: a NUL is an error, not an early end. */
	{DOC("{}\0junk"), "jobs.json:1:3: invalid JSON: unexpected text after "
	    "the top-level value"},
	{DOC("[\"a\0b\"]"), "jobs.json:1:4: invalid JSON: control character "
	    "in a string (write it as an escape such as \\n)"},
};

START_TEST(syntax_errors)
{
	doc_fails(&syntax_cases[_i]);
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

static const struct doc_case top_level_cases[] = {
	{DOC("[]"), "jobs.json: expected an object at the top level, got an "
	    "empty array"},
	{DOC("\"x\""), "jobs.json: expected an object at the top level, got "
	    "\"x\""},
	/* found by t/fuzz: cJSON skips a BOM only when more than one byte
	 * follows, so this was reported as "out of memory" */
	{DOC("\xEF\xBB\xBF" "3"), "jobs.json: expected an object at the top "
	    "level, got 3"},
	{DOC("{}"), "jobs.json: missing required key gearman_servers_list\n"
	    "jobs.json: missing required key pools_list"},
	{DOC("{" SERVERS "}"), "jobs.json: missing required key pools_list"},
	{DOC("{\"pools_list\": {}}"),
	    "jobs.json: missing required key gearman_servers_list"},
	{DOC("{" SERVERS ", \"pools_list\": [], \"pools_list\": {}}"),
	    "jobs.json: pools_list: expected object of pool name to pool, "
	    "got an empty array\n"
	    "jobs.json: pools_list: duplicate key"},
	{DOC("{" SERVERS ", " SERVERS ", \"pools_list\": null}"),
	    "jobs.json: gearman_servers_list: duplicate key\n"
	    "jobs.json: pools_list: expected object of pool name to pool, "
	    "got null"},
};

START_TEST(top_level)
{
	doc_fails(&top_level_cases[_i]);
}
END_TEST

/* --- servers --- */

#define SRV(list) "{\"gearman_servers_list\": " list ", \"pools_list\": {}}"

static const struct doc_case server_cases[] = {
	{DOC(SRV("\"localhost\"")), "jobs.json: gearman_servers_list: "
	    "expected non-empty array of server strings, got \"localhost\""},
	{DOC(SRV("[]")), "jobs.json: gearman_servers_list: expected non-empty "
	    "array of server strings, got an empty array"},
	{DOC(SRV("{}")), "jobs.json: gearman_servers_list: expected non-empty "
	    "array of server strings, got an empty object"},
	{DOC(SRV("[\"ok\", \"[::1\", 4730, \"::1\", \"h:0\", \"h:65536\", "
	    "\"h:abc\", \"\", \"a\\nb\", \"[::1]x\", \"h:\"]")),
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
	    "65535"},
};

START_TEST(bad_servers)
{
	doc_fails(&server_cases[_i]);
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

	tc = ds_tcase(s, "valid", NULL, teardown);
	tcase_add_test(tc, readme_example);
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, all_options);
	tcase_add_test(tc, zero_pools_and_workers);
	tcase_add_test(tc, lenient_but_valid_forms);
	tcase_add_test(tc, unknown_keys_warn);
	tcase_add_test(tc, warnings_kept_on_failure);

	tc = ds_tcase(s, "syntax", NULL, teardown);
	tcase_add_loop_test(tc, syntax_errors, 0, NELEM(syntax_cases));
	tcase_add_test(tc, deep_nesting);

	tc = ds_tcase(s, "values", NULL, teardown);
	tcase_add_loop_test(tc, top_level, 0, NELEM(top_level_cases));
	tcase_add_loop_test(tc, bad_servers, 0, NELEM(server_cases));

	tc = ds_tcase(s, "load", NULL, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, load_file);
	tcase_add_test(tc, load_unreadable);
	tcase_add_test(tc, load_too_big);
	tcase_add_test(tc, load_sizes);
	tcase_add_test(tc, load_fifo);
	return s;
}

DS_CHECK_MAIN(config_suite)
