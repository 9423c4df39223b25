/* test_worker_options.c: the worker's command line (worker/options.h) and the
 * exact text of every usage error. */
#include "worker/options.h"
#include "common/worker_args.h"

#include "unit.h"
#include <inttypes.h>
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
	ds_worker_opts_free(&o);
	return ds_worker_parse_args(args.argc, args.argv, &o, err,
	    sizeof(err));
}

/* The same for a NULL-terminated list. */
static int
run_list(const char *const *list)
{
	ds_args_set_list(&args, "driveshaft-worker", list);
	memset(err, 0, sizeof(err));
	ds_worker_opts_free(&o);
	return ds_worker_parse_args(args.argc, args.argv, &o, err,
	    sizeof(err));
}

#define REQUIRED "--pool", "P", "--server", "localhost", "--function", "F", \
	"--uri", "http://h/job"

/* A function name of 512 bytes, the most, and of 513. */
#define F8	"ffffffff"
#define F64	F8 F8 F8 F8 F8 F8 F8 F8
#define F512	F64 F64 F64 F64 F64 F64 F64 F64
#define F513	F512 "f"

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
	ds_worker_opts_free(&o);
	ds_worker_argv_free(&a);
}
END_TEST

/* --- valid command lines --- */

/* Every field of the parsed options on one line, to compare whole. */
static const char *
render(const struct ds_worker_opts *w)
{
	static char buf[4096];
	size_t o = 0;

#define PUT(...) o += (size_t)snprintf(buf + o, sizeof(buf) - o, __VA_ARGS__)
	PUT("pool=%s slot=%d servers=", w->pool, w->slot);
	for (size_t i = 0; i < w->nservers; i++) {
		const char *h = w->servers[i].host;
		int v6 = strchr(h, ':') != NULL;

		PUT("%s%s%s%s:%d", i ? "," : "", v6 ? "[" : "", h,
		    v6 ? "]" : "", w->servers[i].port);
	}
	PUT(" functions=");
	for (size_t i = 0; i < w->nfunctions; i++)
		PUT("%s%s", i ? "," : "", w->functions[i]);
	PUT(" uri=%s socket=%s format=%s running=%" PRId64 " loop=%" PRId64
	    " max_jobs=%" PRId64 " bytes=%" PRId64 " master_fd=%d master_pid=%d"
	    " ident=%s facility=%s level=%s stderr=%d", w->uri,
	    w->unix_socket ? w->unix_socket : "-",
	    w->format == DS_FORMAT_FORM ? "form" : "json", w->max_running_ms,
	    w->loop_timeout_ms, w->max_jobs, w->max_response_bytes,
	    w->master_fd, w->master_pid, w->log.ident,
	    ds_log_facility_name(w->log.facility),
	    ds_log_level_name(w->log.level), w->log.to_stderr);
#undef PUT
	return buf;
}

/* What the required options alone give, around the parts the rows vary. */
#define DEF_JOB	"uri=http://h/job socket=- format=json running=300000 " \
	"loop=5000 max_jobs=0 bytes=16777216 "
#define DEF_LOG	"ident=driveshaft facility=daemon level=info "
#define DEF_P	"pool=P slot=0 servers=localhost:4730 functions=F "

static const struct {
	const char *args[40];
	const char *want;
} valid_cases[] = {
	{{"--pool", "Regular", "--slot", "3",
	    "--server", "gm1.example:4731", "--server=[::1]:4732",
	    "--server", "gm3",
	    "--function", "Sum", "--function=Sum2", "--function", "Sum3",
	    "--uri=https://api.example/job.php", "--request_format", "form",
	    "--max_running_time", "1.5", "--loop_timeout=0.25",
	    "--max_jobs_per_worker", "1000", "--max_response_bytes=4096",
	    "--master_fd", "3", "--log_ident", "ds-test",
	    "--log_facility=local3", "--log_level", "debug", "--log_stderr=1"},
	    "pool=Regular slot=3 servers=gm1.example:4731,[::1]:4732,gm3:4730 "
	    "functions=Sum,Sum2,Sum3 uri=https://api.example/job.php socket=- "
	    "format=form running=1500 loop=250 max_jobs=1000 bytes=4096 "
	    "master_fd=3 master_pid=0 ident=ds-test facility=local3 "
	    "level=debug stderr=1"},
	/* the defaults; run by hand: log to standard error */
	{{REQUIRED}, DEF_P DEF_JOB "master_fd=-1 master_pid=0 " DEF_LOG
	    "stderr=1"},
	/* under a master, not */
	{{REQUIRED, "--master_fd", "5"}, DEF_P DEF_JOB "master_fd=5 "
	    "master_pid=0 " DEF_LOG "stderr=0"},
	{{REQUIRED, "--master_fd", "0"}, DEF_P DEF_JOB "master_fd=0 "
	    "master_pid=0 " DEF_LOG "stderr=0"},
	/* an explicit --log_stderr wins either way */
	{{REQUIRED, "--master_fd", "5", "--log_stderr", "1"}, DEF_P DEF_JOB
	    "master_fd=5 master_pid=0 " DEF_LOG "stderr=1"},
	{{"--log_stderr", "0", REQUIRED}, DEF_P DEF_JOB "master_fd=-1 "
	    "master_pid=0 " DEF_LOG "stderr=0"},
	/* servers and functions add up; the last one wins for the others */
	{{REQUIRED, "--server", "b:1", "--server=c:2", "--function", "G",
	    "--function=H", "--pool", "Q", "--uri", "http://other/", "--slot",
	    "1", "--slot", "2"},
	    "pool=Q slot=2 servers=localhost:4730,b:1,c:2 functions=F,G,H "
	    "uri=http://other/ socket=- format=json running=300000 loop=5000 "
	    "max_jobs=0 bytes=16777216 master_fd=-1 master_pid=0 " DEF_LOG
	    "stderr=1"},
	/* the limits */
	{{REQUIRED, "--function", F512, "--slot", "1000000",
	    "--max_running_time", "86400", "--loop_timeout", "3600",
	    "--max_response_bytes", "1073741824", "--master_fd", "65535",
	    "--max_jobs_per_worker", "9223372036854775807", "--log_ident",
	    "123456789012345678901234567890123456789012345678901234567890123"},
	    "pool=P slot=1000000 servers=localhost:4730 functions=F," F512
	    " uri=http://h/job socket=- format=json running=86400000 "
	    "loop=3600000 max_jobs=9223372036854775807 bytes=1073741824 "
	    "master_fd=65535 master_pid=0 ident=123456789012345678901234567890"
	    "123456789012345678901234567890123 facility=daemon level=info "
	    "stderr=0"},
};

START_TEST(valid)
{
	int rc = run_list(valid_cases[_i].args);
	const char *got;

	ck_assert_msg(rc == 0 && err[0] == '\0', "case %s: %d \"%s\"",
	    ds_show_argv(valid_cases[_i].args), rc, err);
	got = render(&o);
	ck_assert_msg(strcmp(got, valid_cases[_i].want) == 0,
	    "case %s:\n%s\nexpected\n%s", ds_show_argv(valid_cases[_i].args),
	    got, valid_cases[_i].want);
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
	ck_assert_int_le(n, (int)NELEM(args));
	ds_worker_opts_free(&o);
	ck_assert_int_eq(ds_worker_parse_args(n, args, &o, err, sizeof(err)),
	    0);
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
	ds_worker_opts_free(&o);
	ck_assert_int_eq(ds_worker_parse_args(n, args, &o, err, sizeof(err)),
	    -1);
	ck_assert_str_eq(err,
	    "--server: expected at most 64 servers, got \"s\"");
	n = 1;
	for (int i = 0; i <= DS_WORKER_MAX_FUNCTIONS; i++)
		args[n++] = "--function=f";
	ds_worker_opts_free(&o);
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
/* --- usage errors --- */

/* The arguments and the exact message they fail with. */
static const struct {
	const char *args[16];
	const char *msg;
} usage_cases[] = {
	{{NULL}, "missing --pool"},
	{{"--server", "s", "--function", "f", "--uri", "http://h/"},
	    "missing --pool"},
	{{"--pool", "p", "--function", "f", "--uri", "http://h/"},
	    "missing --server"},
	{{"--pool", "p", "--server", "s", "--uri", "http://h/"},
	    "missing --function"},
	{{"--pool", "p", "--server", "s", "--function", "f"}, "missing --uri"},

	{{REQUIRED, "--bogus"}, "unknown option \"--bogus\""},
	{{REQUIRED, "--bogus=1"}, "unknown option \"--bogus=1\""},
	{{REQUIRED, "-x"}, "unknown option \"-x\""},
	{{REQUIRED, "--help=yes"}, "unknown option \"--help=yes\""},
	{{REQUIRED, "--slot"}, "option \"--slot\" needs a value"},
	{{"--pool"}, "option \"--pool\" needs a value"},
	{{REQUIRED, "extra"}, "unexpected argument \"extra\""},
	{{REQUIRED, "--", "extra"}, "unexpected argument \"extra\""},
	/* a positional argument among the options is still extra */
	{{"--pool", "P", "stray", "--server", "s", "--function", "f", "--uri",
	    "http://h/"}, "unexpected argument \"stray\""},
	/* the first error wins */
	{{"--slot", "x", "--bogus"},
	    "--slot: expected an integer >= 0, got \"x\""},
	{{"--bogus", "--slot", "x"}, "unknown option \"--bogus\""},

	{{REQUIRED, "--pool", ""}, "--pool: expected a pool name, got \"\""},
	{{REQUIRED, "--pool="}, "--pool: expected a pool name, got \"\""},
	{{REQUIRED, "--slot", "-1"},
	    "--slot: expected an integer >= 0, got \"-1\""},
	{{REQUIRED, "--slot=x"}, "--slot: expected an integer >= 0, got \"x\""},
	{{REQUIRED, "--slot", "1000001"},
	    "--slot: expected an integer >= 0, got \"1000001\""},
	{{REQUIRED, "--server", ""},
	    "--server: \"\": expected a host name or address"},
	{{REQUIRED, "--server", "h:0"},
	    "--server: \"h:0\": port must be 1 to 65535"},
	{{REQUIRED, "--server", "[::1"},
	    "--server: \"[::1\": missing ']' after IPv6 address"},
	{{REQUIRED, "--function", ""}, "--function: expected a function name "
	    "of 1 to 512 bytes, got \"\""},
	{{REQUIRED, "--function", F513}, "--function: expected a function name "
	    "of 1 to 512 bytes, got \"" F513 "\""},
	{{REQUIRED, "--uri", "ftp://h/"},
	    "--uri: expected an http://, https:// or fastcgi:// URL, got \"ftp://h/\""},
	{{REQUIRED, "--uri=h/job"},
	    "--uri: expected an http://, https:// or fastcgi:// URL, got \"h/job\""},
	{{REQUIRED, "--request_format", "xml"},
	    "--request_format: expected json or form, got \"xml\""},
	{{REQUIRED, "--request_format", "JSON"},
	    "--request_format: expected json or form, got \"JSON\""},
	{{REQUIRED, "--max_running_time", "0"}, "--max_running_time: "
	    "expected seconds > 0 and <= 86400, got \"0\""},
	{{REQUIRED, "--max_running_time", "86401"}, "--max_running_time: "
	    "expected seconds > 0 and <= 86400, got \"86401\""},
	{{REQUIRED, "--max_running_time=5m"}, "--max_running_time: "
	    "expected seconds > 0 and <= 86400, got \"5m\""},
	{{REQUIRED, "--loop_timeout", "-1"},
	    "--loop_timeout: expected seconds > 0 and <= 3600, got \"-1\""},
	{{REQUIRED, "--loop_timeout", "3601"},
	    "--loop_timeout: expected seconds > 0 and <= 3600, got \"3601\""},
	{{REQUIRED, "--max_jobs_per_worker", "-1"},
	    "--max_jobs_per_worker: expected an integer >= 0, got \"-1\""},
	{{REQUIRED, "--max_jobs_per_worker", "1.5"},
	    "--max_jobs_per_worker: expected an integer >= 0, got \"1.5\""},
	{{REQUIRED, "--max_response_bytes", "0"}, "--max_response_bytes: "
	    "expected an integer from 1 to 1073741824, got \"0\""},
	{{REQUIRED, "--max_response_bytes", "1073741825"},
	    "--max_response_bytes: expected an integer from 1 to 1073741824, "
	    "got \"1073741825\""},
	{{REQUIRED, "--master_fd", "-1"},
	    "--master_fd: expected a descriptor number, got \"-1\""},
	{{REQUIRED, "--master_fd", "65536"},
	    "--master_fd: expected a descriptor number, got \"65536\""},
	{{REQUIRED, "--master_fd=fd"},
	    "--master_fd: expected a descriptor number, got \"fd\""},
	{{REQUIRED, "--log_ident", ""},
	    "--log_ident: expected 1 to 63 characters, got \"\""},
	{{REQUIRED, "--log_ident", "12345678901234567890123456789012345678901"
	    "23456789012345678901234"}, "--log_ident: expected 1 to 63 "
	    "characters, got \"1234567890123456789012345678901234567890123456"
	    "789012345678901234\""},
	{{REQUIRED, "--log_facility", "local8"}, "--log_facility: expected "
	    "daemon, user or local0..local7, got \"local8\""},
	{{REQUIRED, "--log_level", "verbose"}, "--log_level: expected err, "
	    "warning, notice, info or debug, got \"verbose\""},
	{{REQUIRED, "--log_stderr", "yes"},
	    "--log_stderr: expected 0 or 1, got \"yes\""},
	{{REQUIRED, "--log_stderr="},
	    "--log_stderr: expected 0 or 1, got \"\""},
};

START_TEST(usage)
{
	int rc = run_list(usage_cases[_i].args);

	ck_assert_msg(rc == -1 && strcmp(err, usage_cases[_i].msg) == 0,
	    "case %s: %d \"%s\", expected \"%s\"",
	    ds_show_argv(usage_cases[_i].args), rc, err, usage_cases[_i].msg);
}
END_TEST

START_TEST(reusable)
{
	/* getopt_long keeps state: a parse after a failed one starts afresh */
	ck_assert_int_eq(run(REQUIRED, "--bogus", (char *)NULL), -1);
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

	tc = ds_tcase(s, "valid", NULL, teardown);
	tcase_add_test(tc, round_trip_from_the_master);
	tcase_add_loop_test(tc, valid, 0, NELEM(valid_cases));
	tcase_add_test(tc, many_servers_and_functions);
	tcase_add_test(tc, help);
	tcase_add_test(tc, usage_text);
	tcase_add_test(tc, reusable);

	tc = ds_tcase(s, "usage_errors", NULL, teardown);
	tcase_add_loop_test(tc, usage, 0, NELEM(usage_cases));
	tcase_add_test(tc, too_many_servers_and_functions);
	return s;
}

DS_CHECK_MAIN(worker_options_suite)
