/* test_worker_options.c: the worker's command line (worker/options.h) and the
 * exact text of every usage error. */
#include "worker/options.h"
#include "common/worker_args.h"

#include "unit.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static struct ds_worker_opts o;
static char err[1024];
static struct ds_args args;

static void
teardown(void)
{
	ds_args_free(&args);
}

/* Parses "driveshaft-worker" followed by the NULL-terminated arguments,
 * from writable copies (getopt_long may permute them). The copies stay
 * alive until the next call, since o points into them. */
static int
run(const char *first, ...)
{
	va_list ap;

	va_start(ap, first);
	ds_args_vset(&args, "driveshaft-worker", first, ap);
	va_end(ap);
	memset(err, 0, sizeof(err));
	return ds_worker_parse_args(args.argc, args.argv, &o, err,
	    sizeof(err));
}

#define REQUIRED "--pool", "P", "--server", "localhost", "--function", "F", \
	"--uri", "http://h/job"

/* The required options plus the given ones fail with exactly msg. */
#define USAGE(msg, ...) do {						\
	ck_assert_int_eq(run(REQUIRED, __VA_ARGS__, (char *)NULL), -1);	\
	ck_assert_str_eq(err, (msg));					\
} while (0)

/* What the master builds, the worker parses back to the same values: the
 * contract has one owner (common/worker_args.h). */
START_TEST(round_trip_from_the_master)
{
	char *servers[] = {"gm1", "gm2:4731", "[::1]:4732"};
	char *functions[DS_MAX_JOBS_PER_POOL];
	char name[DS_MAX_FUNCTION_LEN + 1];
	struct ds_log_settings log;
	struct ds_worker_spec spec = {
		.pool = "Regular", .slot = 9999,
		.servers = servers, .nservers = 3,
		.functions = functions, .nfunctions = DS_MAX_JOBS_PER_POOL,
		.unix_socket = "/run/ep.sock", .format = DS_FORMAT_FORM,
		.max_running_ms = DS_MAX_RUNNING_SECONDS * 1000LL - 1,
		.loop_timeout_ms = 1,
		.max_jobs = 123456789012LL,
		.max_response_bytes = DS_MAX_RESPONSE_BYTES_CAP,
		.master_pid = 4242, .log = &log,
	};
	struct ds_worker_argv a;
	struct ds_worker_opts o;
	char err[512];

	memset(name, 'f', DS_MAX_FUNCTION_LEN);
	name[DS_MAX_FUNCTION_LEN] = '\0';
	for (int i = 0; i < DS_MAX_JOBS_PER_POOL; i++)
		functions[i] = name;
	ds_log_defaults(&log);
	snprintf(log.ident, sizeof(log.ident), "ds-prod");
	log.facility = LOG_LOCAL3;
	log.level = LOG_DEBUG;
	log.to_stderr = 1;
	ck_assert_int_eq(ds_worker_argv_build(&spec, &a), 0);
	setenv(DS_WORKER_URI_ENV, "http://u:p@h/x", 1);
	ds_reset_getopt();
	ck_assert_int_eq(ds_worker_parse_args(a.n, a.v, &o, err, sizeof(err)),
	    0);
	unsetenv(DS_WORKER_URI_ENV);
	ck_assert_str_eq(o.pool, "Regular");
	ck_assert_int_eq(o.slot, 9999);
	ck_assert_uint_eq(o.nservers, 3);
	ck_assert_str_eq(o.servers[1].host, "gm2");
	ck_assert_int_eq(o.servers[1].port, 4731);
	ck_assert_str_eq(o.servers[2].host, "::1");
	ck_assert_uint_eq(o.nfunctions, DS_MAX_JOBS_PER_POOL);
	ck_assert_str_eq(o.functions[DS_MAX_JOBS_PER_POOL - 1], name);
	ck_assert_str_eq(o.uri, "http://u:p@h/x");
	ck_assert_str_eq(o.unix_socket, "/run/ep.sock");
	ck_assert_int_eq(o.format, DS_FORMAT_FORM);
	ck_assert_int_eq(o.max_running_ms, spec.max_running_ms);
	ck_assert_int_eq(o.loop_timeout_ms, 1);
	ck_assert_int_eq(o.max_jobs, spec.max_jobs);
	ck_assert_int_eq(o.max_response_bytes, DS_MAX_RESPONSE_BYTES_CAP);
	ck_assert_int_eq(o.master_fd, DS_WORKER_FD);
	ck_assert_int_eq(o.master_pid, 4242);
	ck_assert_str_eq(o.log.ident, "ds-prod");
	ck_assert_int_eq(o.log.facility, LOG_LOCAL3);
	ck_assert_int_eq(o.log.level, LOG_DEBUG);
	ck_assert_int_eq(o.log.to_stderr, 1);
	for (int i = 0; i < a.n; i++)	/* argv carries no URI */
		ck_assert_ptr_null(strstr(a.v[i], "u:p@"));
	ds_worker_argv_free(&a);
}
END_TEST

START_TEST(full_command_line)
{
	ck_assert_int_eq(run("--pool", "Regular", "--slot", "3",
	    "--server", "gm1.example:4731", "--server=[::1]:4732",
	    "--server", "gm3",
	    "--function", "Sum", "--function=Sum2", "--function", "Sum3",
	    "--uri=https://api.example/job.php",
	    "--request_format", "form",
	    "--max_running_time", "1.5",
	    "--loop_timeout=0.25",
	    "--max_jobs_per_worker", "1000",
	    "--max_response_bytes=4096",
	    "--master_fd", "3",
	    "--log_ident", "ds-test",
	    "--log_facility=local3",
	    "--log_level", "debug",
	    "--log_stderr=1", (char *)NULL), 0);
	ck_assert_str_eq(err, "");
	ck_assert_str_eq(o.pool, "Regular");
	ck_assert_int_eq(o.slot, 3);
	ck_assert_uint_eq(o.nservers, 3);
	ck_assert_str_eq(o.servers[0].host, "gm1.example");
	ck_assert_int_eq(o.servers[0].port, 4731);
	ck_assert_str_eq(o.servers[1].host, "::1");
	ck_assert_int_eq(o.servers[1].port, 4732);
	ck_assert_str_eq(o.servers[2].host, "gm3");
	ck_assert_int_eq(o.servers[2].port, 4730);
	ck_assert_uint_eq(o.nfunctions, 3);
	ck_assert_str_eq(o.functions[0], "Sum");
	ck_assert_str_eq(o.functions[1], "Sum2");
	ck_assert_str_eq(o.functions[2], "Sum3");
	ck_assert_str_eq(o.uri, "https://api.example/job.php");
	ck_assert_int_eq(o.format, DS_FORMAT_FORM);
	ck_assert_int_eq(o.max_running_ms, 1500);
	ck_assert_int_eq(o.loop_timeout_ms, 250);
	ck_assert_int_eq(o.max_jobs, 1000);
	ck_assert_int_eq(o.max_response_bytes, 4096);
	ck_assert_int_eq(o.master_fd, 3);
	ck_assert_str_eq(o.log.ident, "ds-test");
	ck_assert_int_eq(o.log.facility, LOG_LOCAL3);
	ck_assert_int_eq(o.log.level, LOG_DEBUG);
	ck_assert_int_eq(o.log.to_stderr, 1);
}
END_TEST

START_TEST(defaults)
{
	ck_assert_int_eq(run(REQUIRED, (char *)NULL), 0);
	ck_assert_str_eq(o.pool, "P");
	ck_assert_int_eq(o.slot, 0);
	ck_assert_uint_eq(o.nservers, 1);
	ck_assert_str_eq(o.servers[0].host, "localhost");
	ck_assert_int_eq(o.servers[0].port, 4730);
	ck_assert_uint_eq(o.nfunctions, 1);
	ck_assert_str_eq(o.functions[0], "F");
	ck_assert_str_eq(o.uri, "http://h/job");
	ck_assert_int_eq(o.format, DS_FORMAT_JSON);
	ck_assert_int_eq(o.max_running_ms, 300000);
	ck_assert_int_eq(o.loop_timeout_ms, 5000);
	ck_assert_int_eq(o.max_jobs, 0);
	ck_assert_int_eq(o.max_response_bytes, 16 * 1024 * 1024);
	ck_assert_int_eq(o.master_fd, -1);
	ck_assert_str_eq(o.log.ident, "driveshaft");
	ck_assert_int_eq(o.log.facility, LOG_DAEMON);
	ck_assert_int_eq(o.log.level, LOG_INFO);
	/* run by hand: log to standard error */
	ck_assert_int_eq(o.log.to_stderr, 1);
}
END_TEST

START_TEST(stderr_follows_master_fd)
{
	ck_assert_int_eq(run(REQUIRED, "--master_fd", "5", (char *)NULL), 0);
	ck_assert_int_eq(o.master_fd, 5);
	ck_assert_int_eq(o.log.to_stderr, 0);
	ck_assert_int_eq(run(REQUIRED, "--master_fd", "0", (char *)NULL), 0);
	ck_assert_int_eq(o.master_fd, 0);
	ck_assert_int_eq(o.log.to_stderr, 0);
	/* an explicit --log_stderr wins either way */
	ck_assert_int_eq(run(REQUIRED, "--master_fd", "5", "--log_stderr",
	    "1", (char *)NULL), 0);
	ck_assert_int_eq(o.log.to_stderr, 1);
	ck_assert_int_eq(run("--log_stderr", "0", REQUIRED, (char *)NULL), 0);
	ck_assert_int_eq(o.master_fd, -1);
	ck_assert_int_eq(o.log.to_stderr, 0);
}
END_TEST

START_TEST(repeated_options)
{
	ck_assert_int_eq(run(REQUIRED, "--server", "b:1", "--server=c:2",
	    "--function", "G", "--function=H", "--pool", "Q", "--uri",
	    "http://other/", "--slot", "1", "--slot", "2", (char *)NULL), 0);
	ck_assert_uint_eq(o.nservers, 3);
	ck_assert_str_eq(o.servers[0].host, "localhost");
	ck_assert_str_eq(o.servers[1].host, "b");
	ck_assert_int_eq(o.servers[1].port, 1);
	ck_assert_str_eq(o.servers[2].host, "c");
	ck_assert_int_eq(o.servers[2].port, 2);
	ck_assert_uint_eq(o.nfunctions, 3);
	ck_assert_str_eq(o.functions[0], "F");
	ck_assert_str_eq(o.functions[1], "G");
	ck_assert_str_eq(o.functions[2], "H");
	/* the last one wins for single-valued options */
	ck_assert_str_eq(o.pool, "Q");
	ck_assert_str_eq(o.uri, "http://other/");
	ck_assert_int_eq(o.slot, 2);
}
END_TEST

START_TEST(limits)
{
	char name[600];

	memset(name, 'f', 512);
	name[512] = '\0';
	ck_assert_int_eq(run(REQUIRED, "--function", name, "--slot",
	    "1000000", "--max_running_time", "86400", "--loop_timeout",
	    "3600", "--max_response_bytes", "1073741824", "--master_fd",
	    "65535", "--max_jobs_per_worker", "9223372036854775807",
	    "--log_ident", "123456789012345678901234567890123456789012345678"
	    "901234567890123", (char *)NULL), 0);
	ck_assert_uint_eq(strlen(o.functions[1]), 512);
	ck_assert_int_eq(o.slot, 1000000);
	ck_assert_int_eq(o.max_running_ms, 86400000);
	ck_assert_int_eq(o.loop_timeout_ms, 3600000);
	ck_assert_int_eq(o.max_response_bytes, 1073741824);
	ck_assert_int_eq(o.master_fd, 65535);
	ck_assert_int_eq(o.max_jobs, INT64_MAX);
	ck_assert_uint_eq(strlen(o.log.ident), 63);
}
END_TEST

START_TEST(many_servers_and_functions)
{
	/* up to the limits, straight through ds_worker_parse_args */
	static char *args[2 + 2 * (DS_WORKER_MAX_FUNCTIONS + 1) + 8];
	char fn[DS_WORKER_MAX_FUNCTIONS + 1][32];
	int n = 0;

	args[n++] = "w";
	args[n++] = "--pool=P";
	args[n++] = "--uri=http://h/";
	for (int i = 0; i < DS_WORKER_MAX_SERVERS; i++)
		args[n++] = "--server=s";
	for (int i = 0; i < DS_WORKER_MAX_FUNCTIONS; i++) {
		snprintf(fn[i], sizeof(fn[i]), "--function=%d", i);
		args[n++] = fn[i];
	}
	ck_assert_int_le(n, (int)(sizeof(args) / sizeof(args[0])));
	ck_assert_int_eq(ds_worker_parse_args(n, args, &o, err, sizeof(err)), 0);
	ck_assert_uint_eq(o.nservers, DS_WORKER_MAX_SERVERS);
	ck_assert_uint_eq(o.nfunctions, DS_WORKER_MAX_FUNCTIONS);
	ck_assert_str_eq(o.functions[255], "255");
}
END_TEST

START_TEST(too_many_servers_and_functions)
{
	static char *args[DS_WORKER_MAX_FUNCTIONS + 8];
	int n = 0;

	args[n++] = "w";
	for (int i = 0; i <= DS_WORKER_MAX_SERVERS; i++)
		args[n++] = "--server=s";
	ck_assert_int_eq(ds_worker_parse_args(n, args, &o, err, sizeof(err)),
	    -1);
	ck_assert_str_eq(err,
	    "--server: expected at most 64 servers, got \"s\"");
	n = 1;
	for (int i = 0; i <= DS_WORKER_MAX_FUNCTIONS; i++)
		args[n++] = "--function=f";
	ck_assert_int_eq(ds_worker_parse_args(n, args, &o, err, sizeof(err)),
	    -1);
	ck_assert_str_eq(err,
	    "--function: expected at most 256 functions, got \"f\"");
}
END_TEST

START_TEST(help)
{
	ck_assert_int_eq(run("--help", (char *)NULL), 1);
	ck_assert_int_eq(run(REQUIRED, "--help", (char *)NULL), 1);
	/* --help wins over what comes after it */
	ck_assert_int_eq(run("--help", "--bogus", (char *)NULL), 1);
}
END_TEST

START_TEST(usage_text)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(f);
	ds_worker_usage(f);
	fclose(f);
	ck_assert(strncmp(text, "usage: driveshaft-worker ", 25) == 0);
	ck_assert_ptr_nonnull(strstr(text, "--max_response_bytes"));
	free(text);
}
END_TEST

START_TEST(missing_required)
{
	ck_assert_int_eq(run((char *)NULL), -1);
	ck_assert_str_eq(err, "missing --pool");
	ck_assert_int_eq(run("--server", "s", "--function", "f", "--uri",
	    "http://h/", (char *)NULL), -1);
	ck_assert_str_eq(err, "missing --pool");
	ck_assert_int_eq(run("--pool", "p", "--function", "f", "--uri",
	    "http://h/", (char *)NULL), -1);
	ck_assert_str_eq(err, "missing --server");
	ck_assert_int_eq(run("--pool", "p", "--server", "s", "--uri",
	    "http://h/", (char *)NULL), -1);
	ck_assert_str_eq(err, "missing --function");
	ck_assert_int_eq(run("--pool", "p", "--server", "s", "--function",
	    "f", (char *)NULL), -1);
	ck_assert_str_eq(err, "missing --uri");
}
END_TEST

START_TEST(getopt_errors)
{
	USAGE("unknown option \"--bogus\"", "--bogus");
	USAGE("unknown option \"--bogus=1\"", "--bogus=1");
	USAGE("unknown option \"-x\"", "-x");
	USAGE("unknown option \"--help=yes\"", "--help=yes");
	USAGE("option \"--slot\" needs a value", "--slot");
	ck_assert_int_eq(run("--pool", (char *)NULL), -1);
	ck_assert_str_eq(err, "option \"--pool\" needs a value");
	USAGE("unexpected argument \"extra\"", "extra");
	USAGE("unexpected argument \"extra\"", "--", "extra");
	/* a positional argument among the options is still extra */
	ck_assert_int_eq(run("--pool", "P", "stray", "--server", "s",
	    "--function", "f", "--uri", "http://h/", (char *)NULL), -1);
	ck_assert_str_eq(err, "unexpected argument \"stray\"");
}
END_TEST

START_TEST(bad_values)
{
	USAGE("--pool: expected a pool name, got \"\"", "--pool", "");
	USAGE("--pool: expected a pool name, got \"\"", "--pool=");
	USAGE("--slot: expected an integer >= 0, got \"-1\"", "--slot", "-1");
	USAGE("--slot: expected an integer >= 0, got \"x\"", "--slot=x");
	USAGE("--slot: expected an integer >= 0, got \"1000001\"", "--slot",
	    "1000001");
	USAGE("--server: \"\": expected a host name or address", "--server",
	    "");
	USAGE("--server: \"h:0\": port must be 1 to 65535", "--server", "h:0");
	USAGE("--server: \"[::1\": missing ']' after IPv6 address",
	    "--server", "[::1");
	USAGE("--function: expected a function name of 1 to 512 bytes, "
	    "got \"\"", "--function", "");
	USAGE("--uri: expected an http:// or https:// URL, got \"ftp://h/\"",
	    "--uri", "ftp://h/");
	USAGE("--uri: expected an http:// or https:// URL, got \"h/job\"",
	    "--uri=h/job");
	USAGE("--request_format: expected json or form, got \"xml\"",
	    "--request_format", "xml");
	USAGE("--request_format: expected json or form, got \"JSON\"",
	    "--request_format", "JSON");
	USAGE("--max_running_time: expected seconds > 0 and <= 86400, "
	    "got \"0\"", "--max_running_time", "0");
	USAGE("--max_running_time: expected seconds > 0 and <= 86400, "
	    "got \"86401\"", "--max_running_time", "86401");
	USAGE("--max_running_time: expected seconds > 0 and <= 86400, "
	    "got \"5m\"", "--max_running_time=5m");
	USAGE("--loop_timeout: expected seconds > 0 and <= 3600, got \"-1\"",
	    "--loop_timeout", "-1");
	USAGE("--loop_timeout: expected seconds > 0 and <= 3600, "
	    "got \"3601\"", "--loop_timeout", "3601");
	USAGE("--max_jobs_per_worker: expected an integer >= 0, got \"-1\"",
	    "--max_jobs_per_worker", "-1");
	USAGE("--max_jobs_per_worker: expected an integer >= 0, got \"1.5\"",
	    "--max_jobs_per_worker", "1.5");
	USAGE("--max_response_bytes: expected an integer from 1 to "
	    "1073741824, got \"0\"", "--max_response_bytes", "0");
	USAGE("--max_response_bytes: expected an integer from 1 to "
	    "1073741824, got \"1073741825\"", "--max_response_bytes",
	    "1073741825");
	USAGE("--master_fd: expected a descriptor number, got \"-1\"",
	    "--master_fd", "-1");
	USAGE("--master_fd: expected a descriptor number, got \"65536\"",
	    "--master_fd", "65536");
	USAGE("--master_fd: expected a descriptor number, got \"fd\"",
	    "--master_fd=fd");
	USAGE("--log_ident: expected 1 to 63 characters, got \"\"",
	    "--log_ident", "");
	USAGE("--log_ident: expected 1 to 63 characters, got \"1234567890"
	    "123456789012345678901234567890123456789012345678901234\"",
	    "--log_ident", "1234567890123456789012345678901234567890123456"
	    "789012345678901234");
	USAGE("--log_facility: expected daemon, user or local0..local7, "
	    "got \"local8\"", "--log_facility", "local8");
	USAGE("--log_level: expected err, warning, notice, info or debug, "
	    "got \"verbose\"", "--log_level", "verbose");
	USAGE("--log_stderr: expected 0 or 1, got \"yes\"", "--log_stderr",
	    "yes");
	USAGE("--log_stderr: expected 0 or 1, got \"\"", "--log_stderr=");
}
END_TEST

START_TEST(long_function_name)
{
	char name[520], msg[600];

	memset(name, 'f', 513);
	name[513] = '\0';
	snprintf(msg, sizeof(msg), "--function: expected a function name of "
	    "1 to 512 bytes, got \"%s\"", name);
	ck_assert_int_eq(run(REQUIRED, "--function", name, (char *)NULL), -1);
	ck_assert_str_eq(err, msg);
}
END_TEST

START_TEST(first_error_wins)
{
	ck_assert_int_eq(run("--slot", "x", "--bogus", (char *)NULL), -1);
	ck_assert_str_eq(err, "--slot: expected an integer >= 0, got \"x\"");
	ck_assert_int_eq(run("--bogus", "--slot", "x", (char *)NULL), -1);
	ck_assert_str_eq(err, "unknown option \"--bogus\"");
}
END_TEST

START_TEST(reusable)
{
	/* getopt_long keeps state: a parse after a failed one starts afresh */
	USAGE("unknown option \"--bogus\"", "--bogus");
	ck_assert_int_eq(run(REQUIRED, "--slot", "4", (char *)NULL), 0);
	ck_assert_int_eq(o.slot, 4);
	ck_assert_int_eq(run("--help", (char *)NULL), 1);
	ck_assert_int_eq(run(REQUIRED, (char *)NULL), 0);
	ck_assert_int_eq(o.slot, 0);
	ck_assert_uint_eq(o.nservers, 1);
	ck_assert_uint_eq(o.nfunctions, 1);
}
END_TEST

static Suite *
worker_options_suite(void)
{
	Suite *s = suite_create("worker_options");
	TCase *tc;

	tc = tcase_create("valid");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, round_trip_from_the_master);
	tcase_add_test(tc, full_command_line);
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, stderr_follows_master_fd);
	tcase_add_test(tc, repeated_options);
	tcase_add_test(tc, limits);
	tcase_add_test(tc, many_servers_and_functions);
	tcase_add_test(tc, help);
	tcase_add_test(tc, usage_text);
	tcase_add_test(tc, reusable);
	suite_add_tcase(s, tc);

	tc = tcase_create("usage_errors");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, missing_required);
	tcase_add_test(tc, getopt_errors);
	tcase_add_test(tc, bad_values);
	tcase_add_test(tc, long_function_name);
	tcase_add_test(tc, too_many_servers_and_functions);
	tcase_add_test(tc, first_error_wins);
	suite_add_tcase(s, tc);
	return s;
}

DS_CHECK_MAIN(worker_options_suite)
