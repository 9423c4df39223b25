/* test_unix_socket.c: the optional pool key unix_socket (docs/config.md):
 * one case per bad shape with its exact message, the good ones, the
 * worker's --unix_socket option, and a reload that changes it replacing
 * the pool. */
#include "config/config.h"
#include "master/reload_diff.h"
#include "worker/options.h"

#include "unit.h"

#include <stdio.h>
#include <string.h>

#define HEAD	"{\"gearman_servers_list\": [\"localhost\"], \"pools_list\": " \
		"{\"P\": {\"worker_count\": 1, \"jobs_list\": [\"j\"], " \
		"\"job_processing_uri\": \"http://localhost/job.php\""
#define ERR	"jobs.json: pools_list.P.unix_socket: expected "

static struct ds_config cfg;
static struct ds_diag diag;
static struct ds_args args;
static char text[1024], err[1024];

static void
teardown(void)
{
	ds_config_free(&cfg);
	ds_diag_free(&diag);
	ds_args_free(&args);
}

/* Parses the one-pool config with unix_socket set to the JSON value v. */
static int
parse_with(const char *v)
{
	ds_config_free(&cfg);
	ds_diag_free(&diag);
	snprintf(text, sizeof(text), "%s, \"unix_socket\": %s}}}", HEAD, v);
	return ds_config_parse(text, strlen(text), "jobs.json", &cfg, &diag);
}

START_TEST(bad_shapes)
{
	char long_path[DS_MAX_UNIX_SOCKET_PATH + 8];
	static const struct {
		const char *value, *msg;
	} cases[] = {
		{"42", "an absolute path string, got 42"},
		{"null", "an absolute path string, got null"},
		{"true", "an absolute path string, got true"},
		{"[\"/run/php.sock\"]", "an absolute path string, got an array"},
		{"{}", "an absolute path string, got an empty object"},
		{"\"\"", "an absolute path (starting with /), got \"\""},
		{"\"run/php.sock\"", "an absolute path (starting with /), got "
		    "\"run/php.sock\""},
		{"\"./php.sock\"", "an absolute path (starting with /), got "
		    "\"./php.sock\""},
		{"\"/run/php\\n.sock\"", "a path without control characters, "
		    "got \"/run/php\\n.sock\""},
		{"\"/run/\\u0001\"", "a path without control characters, got "
		    "\"/run/\\u0001\""},
	};
	char want[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_int_eq(parse_with(cases[i].value), -1);
		ck_assert_uint_eq(diag.nerrors, 1);
		snprintf(want, sizeof(want), ERR "%s", cases[i].msg);
		ck_assert_str_eq(diag.errors[0], want);
	}
	/* one byte over what a sockaddr_un holds */
	memset(long_path, 'a', sizeof(long_path));
	long_path[0] = '"';
	long_path[1] = '/';
	long_path[DS_MAX_UNIX_SOCKET_PATH + 2] = '"';
	long_path[DS_MAX_UNIX_SOCKET_PATH + 3] = '\0';
	ck_assert_int_eq(parse_with(long_path), -1);
	ck_assert_uint_eq(diag.nerrors, 1);
	ck_assert_ptr_nonnull(strstr(diag.errors[0], ERR "a path of at most "
	    "107 bytes (a unix socket address), got \"/aaaa"));
	/* a duplicate key is an error like any other */
	snprintf(text, sizeof(text), "%s, \"unix_socket\": \"/a\", "
	    "\"unix_socket\": \"/b\"}}}", HEAD);
	ds_config_free(&cfg);
	ds_diag_free(&diag);
	ck_assert_int_eq(ds_config_parse(text, strlen(text), "jobs.json",
	    &cfg, &diag), -1);
	ck_assert_str_eq(diag.errors[0], "jobs.json: pools_list.P.unix_socket: "
	    "duplicate key");
}
END_TEST

START_TEST(good_paths)
{
	char path[DS_MAX_UNIX_SOCKET_PATH + 4];

	ck_assert_int_eq(parse_with("\"/run/php/php-fpm.sock\""), 0);
	ck_assert_uint_eq(diag.nwarnings, 0);
	ck_assert_str_eq(cfg.pools[0].unix_socket, "/run/php/php-fpm.sock");
	/* exactly the limit */
	memset(path, 'b', sizeof(path));
	path[0] = '"';
	path[1] = '/';
	path[DS_MAX_UNIX_SOCKET_PATH + 1] = '"';
	path[DS_MAX_UNIX_SOCKET_PATH + 2] = '\0';
	ck_assert_int_eq(parse_with(path), 0);
	ck_assert_uint_eq(strlen(cfg.pools[0].unix_socket),
	    DS_MAX_UNIX_SOCKET_PATH);
	/* absent: TCP to the URI's host */
	snprintf(text, sizeof(text), "%s}}}", HEAD);
	ds_config_free(&cfg);
	ds_diag_free(&diag);
	ck_assert_int_eq(ds_config_parse(text, strlen(text), "jobs.json",
	    &cfg, &diag), 0);
	ck_assert_ptr_null(cfg.pools[0].unix_socket);
}
END_TEST

START_TEST(reload_replaces_pool)
{
	struct ds_config old, new;
	struct ds_diag d;
	struct ds_pool_diff out[4];
	size_t n;

	snprintf(text, sizeof(text), "%s}}}", HEAD);
	ck_assert_int_eq(ds_config_parse(text, strlen(text), "a", &old, &d), 0);
	ds_diag_free(&d);
	snprintf(text, sizeof(text), "%s, \"unix_socket\": \"/s\"}}}", HEAD);
	ck_assert_int_eq(ds_config_parse(text, strlen(text), "b", &new, &d), 0);
	ds_diag_free(&d);
	n = ds_config_diff(&old, &new, out);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(out[0].change, DS_POOL_REPLACED);
	/* the same socket again: untouched */
	n = ds_config_diff(&new, &new, out);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(out[0].change, DS_POOL_SAME);
	ds_config_free(&old);
	ds_config_free(&new);
}
END_TEST

static int
worker_args(const char *sock)
{
	struct ds_worker_opts o;
	int rc;

	ds_args_free(&args);
	args.argv[args.argc++] = strdup("driveshaft-worker");
	args.argv[args.argc++] = strdup("--pool=P");
	args.argv[args.argc++] = strdup("--server=localhost");
	args.argv[args.argc++] = strdup("--function=f");
	args.argv[args.argc++] = strdup("--uri=http://localhost/job.php");
	args.argv[args.argc++] = strdup(sock);
	args.argv[args.argc] = NULL;
	rc = ds_worker_parse_args(args.argc, args.argv, &o, err, sizeof(err));
	if (rc == 0)
		snprintf(err, sizeof(err), "%s", o.unix_socket ?
		    o.unix_socket : "(none)");
	ds_worker_opts_free(&o);
	return rc;
}

START_TEST(worker_option)
{
	ck_assert_int_eq(worker_args("--unix_socket=/run/ep.sock"), 0);
	ck_assert_str_eq(err, "/run/ep.sock");
	ck_assert_int_eq(worker_args("--unix_socket=ep.sock"), -1);
	ck_assert_str_eq(err, "--unix_socket: expected an absolute path of at "
	    "most 107 bytes, got \"ep.sock\"");
	ck_assert_int_eq(worker_args("--unix_socket="), -1);
	ck_assert_int_eq(worker_args("--slot=0"), 0);
	ck_assert_str_eq(err, "(none)");
}
END_TEST

static Suite *
unix_socket_suite(void)
{
	Suite *s = suite_create("unix_socket");
	TCase *tc = tcase_create("config");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, bad_shapes);
	tcase_add_test(tc, good_paths);
	tcase_add_test(tc, reload_replaces_pool);
	tcase_add_test(tc, worker_option);
	suite_add_tcase(s, tc);
	return s;
}

DS_CHECK_MAIN(unix_socket_suite)
