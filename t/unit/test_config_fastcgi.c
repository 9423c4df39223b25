/* test_config_fastcgi.c: a pool's fastcgi:// job_processing_uri in the jobs
 * config: every bad shape with its exact error (at start, --check and HUP
 * all load the config through this parser), the good ones, and the URI's
 * parts as the worker reads them (config/fcgi_uri.h). */
#include "config_unit.h"
#include "config/fcgi_uri.h"

#define JOBS	"\"worker_count\": 1, \"jobs_list\": [\"j\"], "
#define FPOOL(uri, extra) POOL(JOBS "\"job_processing_uri\": \"" uri "\"" extra)
#define SOCK	", \"unix_socket\": \"/run/php/fpm.sock\""
#define ERR	"jobs.json: pools_list.P.job_processing_uri: expected " \
		"fastcgi://HOST:PORT/abs/script.php with "

static const struct doc_case bad_cases[] = {
	/* no host, and no unix_socket to use instead */
	{DOC(FPOOL("fastcgi:///srv/job.php", "")),
	    ERR "a host, or fastcgi:///abs/script.php and unix_socket, got "
	    "\"fastcgi:///srv/job.php\""},
	{DOC(FPOOL("fastcgi://:9000/srv/job.php", "")),
	    ERR "a host, or fastcgi:///abs/script.php and unix_socket, got "
	    "\"fastcgi://:9000/srv/job.php\""},
	/* no port: FastCGI has none by default */
	{DOC(FPOOL("fastcgi://127.0.0.1/srv/job.php", "")),
	    ERR "a port (FastCGI has no default port), got "
	    "\"fastcgi://127.0.0.1/srv/job.php\""},
	{DOC(FPOOL("fastcgi://127.0.0.1:/srv/job.php", "")),
	    ERR "a port of 1 to 65535, got \"fastcgi://127.0.0.1:/srv/job.php\""},
	{DOC(FPOOL("fastcgi://h:0/srv/job.php", "")),
	    ERR "a port of 1 to 65535, got \"fastcgi://h:0/srv/job.php\""},
	{DOC(FPOOL("fastcgi://h:65536/srv/job.php", "")),
	    ERR "a port of 1 to 65535, got \"fastcgi://h:65536/srv/job.php\""},
	{DOC(FPOOL("fastcgi://h:90x0/srv/job.php", "")),
	    ERR "a port of 1 to 65535, got \"fastcgi://h:90x0/srv/job.php\""},
	/* a port is checked even when unix_socket makes it unused */
	{DOC(FPOOL("fastcgi://h:-1/srv/job.php", SOCK)),
	    ERR "a port of 1 to 65535, got \"fastcgi://h:-1/srv/job.php\""},
	{DOC(FPOOL("fastcgi://[::1:9000/srv/job.php", "")),
	    ERR "a closed [IPv6] host, got \"fastcgi://[::1:9000/srv/job.php\""},
	{DOC(FPOOL("fastcgi://[::1]9000/srv/job.php", "")),
	    ERR "':' after the [IPv6] host, got "
	    "\"fastcgi://[::1]9000/srv/job.php\""},
	/* a relative path, or none */
	{DOC(FPOOL("fastcgi://h:9000", "")),
	    ERR "the script's absolute path, got \"fastcgi://h:9000\""},
	{DOC(FPOOL("fastcgi://h:9000/", "")),
	    ERR "the script's absolute path, got \"fastcgi://h:9000/\""},
	{DOC(FPOOL("fastcgi://h:9000?x=1", "")),
	    ERR "the script's absolute path, got \"fastcgi://h:9000?x=1\""},
	{DOC(FPOOL("fastcgi://job.php", SOCK)),
	    ERR "the script's absolute path, got \"fastcgi://job.php\""},
	{DOC(FPOOL("fastcgi:///srv/../etc/job.php", SOCK)),
	    ERR "an absolute path without . or .. segments, got "
	    "\"fastcgi:///srv/../etc/job.php\""},
	{DOC(FPOOL("fastcgi:///srv/./job.php", SOCK)),
	    ERR "an absolute path without . or .. segments, got "
	    "\"fastcgi:///srv/./job.php\""},
	{DOC(FPOOL("fastcgi:///srv/job.php/..", SOCK)),
	    ERR "an absolute path without . or .. segments, got "
	    "\"fastcgi:///srv/job.php/..\""},
	/* not the scheme's shape at all */
	{DOC(FPOOL("fastcgi:/srv/job.php", "")),
	    "jobs.json: pools_list.P.job_processing_uri: expected http:// or "
	    "https:// URL with a host, or fastcgi://HOST:PORT/abs/script.php, "
	    "got \"fastcgi:/srv/job.php\""},
	{DOC(FPOOL("fastcgi://h:9000/srv/a b.php", "")),
	    "jobs.json: pools_list.P.job_processing_uri: expected URL without "
	    "spaces or control characters, got \"fastcgi://h:9000/srv/a b.php\""},
	/* a password is never shown */
	{DOC(FPOOL("fastcgi://u:secret@h/srv/job.php", "")),
	    ERR "a port (FastCGI has no default port), got "
	    "\"fastcgi://***@h/srv/job.php\""},
};

START_TEST(bad_uris)
{
	doc_fails(&bad_cases[_i]);
}
END_TEST

static const struct doc_case good_cases[] = {
	{DOC(FPOOL("fastcgi://127.0.0.1:9000/srv/job.php", "")), NULL},
	{DOC(FPOOL("FastCGI://[::1]:9000/srv/job.php?a=1&b", "")), NULL},
	{DOC(FPOOL("fastcgi:///srv/job.php", SOCK)), NULL},
	{DOC(FPOOL("fastcgi://u:p%2F@h:1/srv/job.php", "")), NULL},
	{DOC(FPOOL("fastcgi://ignored/srv/job.php", SOCK)), NULL},
	{DOC(FPOOL("fastcgi://h:65535/srv/...x/.job.php", "")), NULL},
};

START_TEST(good_uris)
{
	loads_as(good_cases[_i].text, good_cases[_i].text);
}
END_TEST

START_TEST(uri_parts)
{
	struct ds_fcgi_uri u;
	char why[160];

	ck_assert_int_eq(ds_fcgi_uri_parse("fastcgi://us%40r:pw@[::1]:9000"
	    "/srv/job.php?a=1#frag", 0, &u, why, sizeof(why)), 0);
	ck_assert_str_eq(u.host, "::1");
	ck_assert_int_eq(u.port, 9000);
	ck_assert_int_eq((int)u.userinfo_len, 9);
	ck_assert(strncmp(u.userinfo, "us%40r:pw", u.userinfo_len) == 0);
	ck_assert(u.path_len == 12 && strncmp(u.path, "/srv/job.php", 12) == 0);
	ck_assert(u.query_len == 3 && strncmp(u.query, "a=1", 3) == 0);
	ck_assert_int_eq(ds_fcgi_uri_parse("fastcgi:///srv/job.php", 1, &u,
	    why, sizeof(why)), 0);
	ck_assert_str_eq(u.host, "");
	ck_assert_ptr_null(u.userinfo);
	ck_assert_int_eq((int)u.query_len, 0);
}
END_TEST

/* The host's length at its bound, plain and as [IPv6]: 255 bytes fit
 * the buffer with its NUL, 256 are refused by name. */
static const struct {
	size_t n;
	int bracket, rc;
} host_len_cases[] = {
	{255, 0, 0}, {256, 0, -1}, {255, 1, 0}, {256, 1, -1}, {1000, 0, -1},
};

START_TEST(host_length)
{
	struct ds_fcgi_uri u;
	char uri[1100], host[1001], why[160];
	size_t n = host_len_cases[_i].n;
	int rc;

	memset(host, 'h', n);
	host[n] = '\0';
	snprintf(uri, sizeof(uri), host_len_cases[_i].bracket ?
	    "fastcgi://[%s]:9000/srv/job.php" : "fastcgi://%s:9000/srv/job.php",
	    host);
	why[0] = '\0';
	rc = ds_fcgi_uri_parse(uri, 0, &u, why, sizeof(why));
	ck_assert_msg(rc == host_len_cases[_i].rc, "%zu bytes: rc %d (%s)", n,
	    rc, why);
	if (rc == 0) {
		ck_assert_uint_eq(strlen(u.host), n);
		ck_assert_int_eq(u.port, 9000);
	} else {
		ck_assert_msg(strstr(why, "a host of at most 255 bytes") != NULL,
		    "%s", why);
	}
}
END_TEST

/* Every problem of a config is reported at once, a bad URI with the
 * forms it may take. */
START_TEST(all_problems_reported)
{
	fails("{\"gearman_servers_list\": [\"[::1\"], \"pools_list\": {"
	    "\"Regular\": {\"worker_count\": \"3\", \"jobs_list\": [], "
	    "\"job_processing_uri\": \"gopher://h\", \"request_format\": "
	    "\"xml\", \"workr_count\": 1}, "
	    "\"Other\": {\"worker_count\": -1}}}",
	    "jobs.json: gearman_servers_list[0]: \"[::1\": missing ']' after "
	    "IPv6 address\n"
	    "jobs.json: pools_list.Regular.worker_count: expected integer "
	    ">= 0, got \"3\"\n"
	    "jobs.json: pools_list.Regular.jobs_list: expected non-empty array "
	    "of job names, got an empty array\n"
	    "jobs.json: pools_list.Regular.job_processing_uri: expected "
	    "http:// or https:// URL with a host, or "
	    "fastcgi://HOST:PORT/abs/script.php, got \"gopher://h\"\n"
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

static Suite *
config_fastcgi_suite(void)
{
	Suite *s = suite_create("config_fastcgi");
	TCase *tc = ds_tcase(s, "fastcgi_uri", NULL, teardown);

	tcase_add_loop_test(tc, bad_uris, 0, NELEM(bad_cases));
	tcase_add_loop_test(tc, good_uris, 0, NELEM(good_cases));
	tcase_add_test(tc, uri_parts);
	tcase_add_loop_test(tc, host_length, 0, NELEM(host_len_cases));
	tcase_add_test(tc, all_problems_reported);
	return s;
}

DS_CHECK_MAIN(config_fastcgi_suite)
