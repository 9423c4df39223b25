/* test_master_options.c: the master's command line (SPEC section 2,
 * master/options.h): both option forms, the defaults, paths made absolute,
 * --help and --version, and the exact text of every usage error. */
#include "master/options.h"

#include "unit.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct ds_master_opts o;
static char err[1024];
static struct ds_args args;
static char cwd[PATH_MAX];
static char want[PATH_MAX + 64];

static void
setup(void)
{
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
}

static void
teardown(void)
{
	ds_master_opts_free(&o);
	ds_args_free(&args);
}

/* Parses "driveshaft" followed by the NULL-terminated arguments, from
 * writable copies (getopt_long permutes them). */
static int
run(const char *first, ...)
{
	va_list ap;

	ds_master_opts_free(&o);
	va_start(ap, first);
	ds_args_vset(&args, "driveshaft", first, ap);
	va_end(ap);
	memset(err, 0, sizeof(err));
	return ds_master_parse_args(args.argc, args.argv, &o, err,
	    sizeof(err));
}

/* cwd + "/" + rel */
static const char *
abs_path(const char *rel)
{
	snprintf(want, sizeof(want), "%s/%s", cwd, rel);
	return want;
}

/* The arguments fail with exactly msg. */
#define USAGE(msg, ...) do {						\
	ck_assert_int_eq(run(__VA_ARGS__, (char *)NULL), -1);		\
	ck_assert_str_eq(err, (msg));					\
} while (0)

/* With --jobsconfig, the arguments fail with exactly msg. */
#define BAD(msg, ...) USAGE(msg, "--jobsconfig", "/j.json", __VA_ARGS__)

START_TEST(separate_values)
{
	ck_assert_int_eq(run("--jobsconfig", "/etc/ds/jobs.json",
	    "--max_running_time", "1.5", "--loop_timeout", "0.25",
	    "--status_port", "8080", "--status_addr", "0.0.0.0",
	    "--user", "nobody", "--pid_file", "/run/ds.pid",
	    "--daemonize", "--logconfig", "/etc/ds/log.conf", "--check",
	    "--worker", "/opt/ds/bin/driveshaft-worker", (char *)NULL),
	    DS_OPTS_RUN);
	ck_assert_str_eq(err, "");
	ck_assert_str_eq(o.jobsconfig, "/etc/ds/jobs.json");
	ck_assert_int_eq(o.max_running_ms, 1500);
	ck_assert_int_eq(o.loop_timeout_ms, 250);
	ck_assert_int_eq(o.status_port, 8080);
	ck_assert_str_eq(o.status_addr, "0.0.0.0");
	ck_assert_str_eq(o.user, "nobody");
	ck_assert_str_eq(o.pid_file, "/run/ds.pid");
	ck_assert_int_eq(o.daemonize, 1);
	ck_assert_str_eq(o.logconfig, "/etc/ds/log.conf");
	ck_assert_int_eq(o.check, 1);
	ck_assert_str_eq(o.worker_path, "/opt/ds/bin/driveshaft-worker");
}
END_TEST

START_TEST(equals_values)
{
	ck_assert_int_eq(run("--jobsconfig=/etc/ds/jobs.json",
	    "--max_running_time=600", "--loop_timeout=2",
	    "--status_port=65535", "--status_addr=::1",
	    "--user=daemon", "--pid_file=/run/ds.pid",
	    "--logconfig=/etc/ds/log.conf",
	    "--worker=/opt/w", (char *)NULL), DS_OPTS_RUN);
	ck_assert_str_eq(err, "");
	ck_assert_str_eq(o.jobsconfig, "/etc/ds/jobs.json");
	ck_assert_int_eq(o.max_running_ms, 600000);
	ck_assert_int_eq(o.loop_timeout_ms, 2000);
	ck_assert_int_eq(o.status_port, 65535);
	ck_assert_str_eq(o.status_addr, "::1");
	ck_assert_str_eq(o.user, "daemon");
	ck_assert_str_eq(o.pid_file, "/run/ds.pid");
	ck_assert_int_eq(o.daemonize, 0);
	ck_assert_str_eq(o.logconfig, "/etc/ds/log.conf");
	ck_assert_int_eq(o.check, 0);
	ck_assert_str_eq(o.worker_path, "/opt/w");
	/* a value may itself contain "=" */
	ck_assert_int_eq(run("--jobsconfig=/a=b", "--user", "x=y",
	    (char *)NULL), DS_OPTS_RUN);
	ck_assert_str_eq(o.jobsconfig, "/a=b");
	ck_assert_str_eq(o.user, "x=y");
}
END_TEST

START_TEST(defaults)
{
	char self[PATH_MAX], *slash;
	ssize_t n;

	ck_assert_int_eq(run("--jobsconfig", "/j.json", (char *)NULL),
	    DS_OPTS_RUN);
	ck_assert_str_eq(err, "");
	ck_assert_str_eq(o.jobsconfig, "/j.json");
	ck_assert_int_eq(o.max_running_ms, 300000);
	ck_assert_int_eq(o.loop_timeout_ms, 5000);
	ck_assert_int_eq(o.status_port, 0);
	ck_assert_str_eq(o.status_addr, "127.0.0.1");
	ck_assert_ptr_null(o.user);
	ck_assert_ptr_null(o.pid_file);
	ck_assert_ptr_null(o.logconfig);
	ck_assert_int_eq(o.daemonize, 0);
	ck_assert_int_eq(o.check, 0);
	/* the worker installed beside this program */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	ck_assert_int_gt(n, 0);
	self[n] = '\0';
	slash = strrchr(self, '/');
	ck_assert_ptr_nonnull(slash);
	strcpy(slash, "/driveshaft-worker");
	ck_assert_str_eq(o.worker_path, self);
	ck_assert(o.worker_path[0] == '/');
}
END_TEST

START_TEST(relative_paths)
{
	ck_assert_int_eq(run("--jobsconfig", "jobs.json", "--pid_file",
	    "run/ds.pid", "--logconfig=./log.conf", "--worker", "bin/w",
	    (char *)NULL), DS_OPTS_RUN);
	ck_assert_str_eq(o.jobsconfig, abs_path("jobs.json"));
	ck_assert_str_eq(o.pid_file, abs_path("run/ds.pid"));
	ck_assert_str_eq(o.logconfig, abs_path("./log.conf"));
	ck_assert_str_eq(o.worker_path, abs_path("bin/w"));
	ck_assert_int_eq(run("--jobsconfig=../x.json", (char *)NULL),
	    DS_OPTS_RUN);
	ck_assert_str_eq(o.jobsconfig, abs_path("../x.json"));
}
END_TEST

START_TEST(relative_paths_other_dir)
{
	char *tmp = strdup("/tmp/ds-opts-XXXXXX"), *here;

	ck_assert_ptr_nonnull(tmp);
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	ck_assert_int_eq(chdir(tmp), 0);
	/* /tmp may be a symbolic link: compare with what getcwd says */
	here = getcwd(NULL, 0);
	ck_assert_ptr_nonnull(here);
	ck_assert_int_eq(run("--pid_file=ds.pid", "--jobsconfig", "j.json",
	    "--logconfig", "l", (char *)NULL), DS_OPTS_RUN);
	ck_assert_int_eq(chdir(cwd), 0);
	rmdir(tmp);
	snprintf(want, sizeof(want), "%s/j.json", here);
	ck_assert_str_eq(o.jobsconfig, want);
	snprintf(want, sizeof(want), "%s/ds.pid", here);
	ck_assert_str_eq(o.pid_file, want);
	snprintf(want, sizeof(want), "%s/l", here);
	ck_assert_str_eq(o.logconfig, want);
	free(here);
	free(tmp);
}
END_TEST

START_TEST(option_order_and_repeats)
{
	/* options in any order, the last of a repeated one wins */
	ck_assert_int_eq(run("--daemonize", "--status_port", "1",
	    "--jobsconfig", "/a", "--status_port=2", "--jobsconfig=/b",
	    "--user", "u1", "--user=u2", "--status_addr", "10.0.0.1",
	    "--status_addr=10.0.0.2", "--pid_file", "/p1", "--pid_file",
	    "/p2", "--logconfig", "/l1", "--logconfig", "/l2",
	    "--max_running_time", "1", "--max_running_time=2",
	    "--loop_timeout=3", "--loop_timeout", "4", "--worker", "/w1",
	    "--worker=/w2", "--daemonize", (char *)NULL), DS_OPTS_RUN);
	ck_assert_str_eq(o.jobsconfig, "/b");
	ck_assert_int_eq(o.status_port, 2);
	ck_assert_str_eq(o.user, "u2");
	ck_assert_str_eq(o.status_addr, "10.0.0.2");
	ck_assert_str_eq(o.pid_file, "/p2");
	ck_assert_str_eq(o.logconfig, "/l2");
	ck_assert_int_eq(o.max_running_ms, 2000);
	ck_assert_int_eq(o.loop_timeout_ms, 4000);
	ck_assert_str_eq(o.worker_path, "/w2");
	ck_assert_int_eq(o.daemonize, 1);
}
END_TEST

START_TEST(limits)
{
	ck_assert_int_eq(run("--jobsconfig", "/j", "--max_running_time",
	    "86400", "--loop_timeout", "3600", "--status_port", "0",
	    (char *)NULL), DS_OPTS_RUN);
	ck_assert_int_eq(o.max_running_ms, 86400000);
	ck_assert_int_eq(o.loop_timeout_ms, 3600000);
	ck_assert_int_eq(o.status_port, 0);
	/* below a millisecond rounds up to one */
	ck_assert_int_eq(run("--jobsconfig", "/j", "--max_running_time",
	    "0.0001", "--loop_timeout=0.001", "--status_port=1",
	    (char *)NULL), DS_OPTS_RUN);
	ck_assert_int_eq(o.max_running_ms, 1);
	ck_assert_int_eq(o.loop_timeout_ms, 1);
	ck_assert_int_eq(o.status_port, 1);
}
END_TEST

START_TEST(abbreviations)
{
	/* getopt_long takes an unambiguous prefix of a long option */
	ck_assert_int_eq(run("--jobs", "/j", "--max_running", "5",
	    "--loop=2", "--status_p", "9", "--daemon", (char *)NULL),
	    DS_OPTS_RUN);
	ck_assert_str_eq(o.jobsconfig, "/j");
	ck_assert_int_eq(o.max_running_ms, 5000);
	ck_assert_int_eq(o.loop_timeout_ms, 2000);
	ck_assert_int_eq(o.status_port, 9);
	ck_assert_int_eq(o.daemonize, 1);
}
END_TEST

START_TEST(help_and_version)
{
	ck_assert_int_eq(run("--help", (char *)NULL), DS_OPTS_HELP);
	ck_assert_int_eq(run("--version", (char *)NULL), DS_OPTS_VERSION);
	/* even with other options, and without the required one */
	ck_assert_int_eq(run("--jobsconfig", "/j", "--help", "--daemonize",
	    (char *)NULL), DS_OPTS_HELP);
	ck_assert_int_eq(run("--status_port=1", "--version", "--check",
	    (char *)NULL), DS_OPTS_VERSION);
	ck_assert_int_eq(run("--jobsconfig=/j", "--user", "u", "--version",
	    (char *)NULL), DS_OPTS_VERSION);
	/* a stray argument does not hide them either */
	ck_assert_int_eq(run("extra", "--help", (char *)NULL), DS_OPTS_HELP);
	ck_assert_int_eq(run("--version", "extra", (char *)NULL),
	    DS_OPTS_VERSION);
	ck_assert_str_eq(err, "");
}
END_TEST

START_TEST(missing_jobsconfig)
{
	USAGE("missing --jobsconfig FILE", (char *)NULL);
	USAGE("missing --jobsconfig FILE", "--status_port", "80",
	    "--daemonize");
	USAGE("--jobsconfig: expected a file name, got \"\"",
	    "--jobsconfig=");
	USAGE("--jobsconfig: expected a file name, got \"\"",
	    "--jobsconfig", "");
	BAD("--pid_file: expected a file name, got \"\"", "--pid_file=");
	BAD("--logconfig: expected a file name, got \"\"", "--logconfig", "");
	BAD("--worker: expected a file name, got \"\"", "--worker=");
}
END_TEST

START_TEST(unknown_options)
{
	BAD("unknown option \"--bogus\"", "--bogus");
	BAD("unknown option \"--bogus=1\"", "--bogus=1");
	BAD("unknown option \"--jobs_config\"", "--jobs_config", "x");
	/* no short options at all */
	BAD("unknown option \"-x\"", "-x");
	BAD("unknown option \"-j\"", "-j", "/j");
	BAD("unknown option \"-x\"", "-xy");
	/* a switch takes no value */
	BAD("unknown option \"--daemonize=1\"", "--daemonize=1");
	BAD("unknown option \"--check=yes\"", "--check=yes");
	/* ambiguous: --status_port or --status_addr */
	BAD("unknown option \"--status\"", "--status", "1");
	USAGE("unknown option \"--bogus\"", "--bogus", "--jobsconfig", "/j");
}
END_TEST

START_TEST(missing_values)
{
	static const char *opts[] = {
		"--jobsconfig", "--max_running_time", "--loop_timeout",
		"--status_port", "--status_addr", "--user", "--pid_file",
		"--logconfig", "--worker",
	};
	char msg[128];

	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		snprintf(msg, sizeof(msg), "option \"%s\" needs a value",
		    opts[i]);
		BAD(msg, opts[i]);
	}
	USAGE("option \"--jobsconfig\" needs a value", "--jobsconfig");
}
END_TEST

START_TEST(bad_status_port)
{
	BAD("--status_port: expected a port number from 0 to 65535, got "
	    "\"65536\"", "--status_port", "65536");
	BAD("--status_port: expected a port number from 0 to 65535, got "
	    "\"-1\"", "--status_port=-1");
	BAD("--status_port: expected a port number from 0 to 65535, got "
	    "\"http\"", "--status_port", "http");
	BAD("--status_port: expected a port number from 0 to 65535, got "
	    "\"80x\"", "--status_port", "80x");
	BAD("--status_port: expected a port number from 0 to 65535, got "
	    "\"\"", "--status_port=");
	BAD("--status_port: expected a port number from 0 to 65535, got "
	    "\" 80\"", "--status_port", " 80");
	BAD("--status_port: expected a port number from 0 to 65535, got "
	    "\"99999999999999999999\"", "--status_port",
	    "99999999999999999999");
}
END_TEST

START_TEST(bad_loop_timeout)
{
	static const char *bad[] = {"0", "0.0", "3601", "3600.5", "-1", "",
	    "5s", "1e3", "0x10", "abc", " 5", "inf", "nan"};
	char msg[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(msg, sizeof(msg), "--loop_timeout: expected seconds "
		    "> 0 and <= 3600, got \"%s\"", bad[i]);
		BAD(msg, "--loop_timeout", bad[i]);
	}
	BAD("--loop_timeout: expected seconds > 0 and <= 3600, got \"0\"",
	    "--loop_timeout=0");
}
END_TEST

START_TEST(bad_max_running_time)
{
	static const char *bad[] = {"0", "86401", "86400.001", "-5", "",
	    "1m", "1e2", "x", "inf"};
	char msg[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(msg, sizeof(msg), "--max_running_time: expected "
		    "seconds > 0 and <= 86400, got \"%s\"", bad[i]);
		BAD(msg, "--max_running_time", bad[i]);
	}
	BAD("--max_running_time: expected seconds > 0 and <= 86400, got "
	    "\"0\"", "--max_running_time=0");
}
END_TEST

START_TEST(bad_strings)
{
	BAD("--status_addr: expected an address, got \"\"", "--status_addr",
	    "");
	BAD("--user: expected a user name, got \"\"", "--user=");
}
END_TEST

START_TEST(positional_arguments)
{
	BAD("unexpected argument \"extra\"", "extra");
	USAGE("unexpected argument \"extra\"", "extra", "--jobsconfig", "/j");
	BAD("unexpected argument \"a\"", "a", "b");
	BAD("unexpected argument \"-\"", "-");
	/* after "--" everything is an argument */
	BAD("unexpected argument \"--daemonize\"", "--", "--daemonize");
	/* reported before a missing --jobsconfig */
	USAGE("unexpected argument \"jobs.json\"", "jobs.json");
}
END_TEST

START_TEST(reparse)
{
	/* a second parse starts from scratch, after an error too */
	BAD("unknown option \"-x\"", "-xyz");
	ck_assert_int_eq(run("--jobsconfig", "/j", (char *)NULL),
	    DS_OPTS_RUN);
	ck_assert_int_eq(o.daemonize, 0);
	ck_assert_int_eq(run("--jobsconfig", "/j", "--daemonize",
	    "--user", "u", (char *)NULL), DS_OPTS_RUN);
	ck_assert_int_eq(o.daemonize, 1);
	ck_assert_int_eq(run("--jobsconfig", "/k", (char *)NULL),
	    DS_OPTS_RUN);
	ck_assert_str_eq(o.jobsconfig, "/k");
	ck_assert_int_eq(o.daemonize, 0);
	ck_assert_ptr_null(o.user);
}
END_TEST

START_TEST(free_clears)
{
	ck_assert_int_eq(run("--jobsconfig", "j", "--user", "u",
	    "--pid_file", "p", "--logconfig", "l", (char *)NULL),
	    DS_OPTS_RUN);
	ds_master_opts_free(&o);
	ck_assert_ptr_null(o.jobsconfig);
	ck_assert_ptr_null(o.status_addr);
	ck_assert_ptr_null(o.user);
	ck_assert_ptr_null(o.pid_file);
	ck_assert_ptr_null(o.logconfig);
	ck_assert_ptr_null(o.worker_path);
	/* twice is harmless */
	ds_master_opts_free(&o);
}
END_TEST

static Suite *
master_options_suite(void)
{
	Suite *s = suite_create("master_options");
	TCase *tc;

	tc = tcase_create("valid");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, separate_values);
	tcase_add_test(tc, equals_values);
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, relative_paths);
	tcase_add_test(tc, relative_paths_other_dir);
	tcase_add_test(tc, option_order_and_repeats);
	tcase_add_test(tc, limits);
	tcase_add_test(tc, abbreviations);
	tcase_add_test(tc, help_and_version);
	tcase_add_test(tc, reparse);
	tcase_add_test(tc, free_clears);
	suite_add_tcase(s, tc);

	tc = tcase_create("usage");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, missing_jobsconfig);
	tcase_add_test(tc, unknown_options);
	tcase_add_test(tc, missing_values);
	tcase_add_test(tc, bad_status_port);
	tcase_add_test(tc, bad_loop_timeout);
	tcase_add_test(tc, bad_max_running_time);
	tcase_add_test(tc, bad_strings);
	tcase_add_test(tc, positional_arguments);
	suite_add_tcase(s, tc);
	return s;
}

DS_CHECK_MAIN(master_options_suite)
