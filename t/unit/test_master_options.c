/* test_master_options.c: the master's command line (docs/operations.md,
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
/* Parses "driveshaft" followed by the NULL-terminated list. */
static int
run_list(const char *const *list)
{
	ds_master_opts_free(&o);
	ds_args_set_list(&args, "driveshaft", list);
	memset(err, 0, sizeof(err));
	return ds_master_parse_args(args.argc, args.argv, &o, err,
	    sizeof(err));
}

/* --- valid command lines --- */

/* What the options hold after a parse; worker_path NULL is not checked. */
struct want_opts {
	const char *jobsconfig, *status_addr, *user, *pid_file, *logconfig,
	    *worker_path;
	int64_t max_running_ms, loop_timeout_ms;
	int status_port, daemonize, check;
};

static const struct {
	const char *args[32];
	struct want_opts want;
} valid_cases[] = {
	/* each option with its value as the next argument */
	{{"--jobsconfig", "/etc/ds/jobs.json", "--max_running_time", "1.5",
	    "--loop_timeout", "0.25", "--status_port", "8080",
	    "--status_addr", "0.0.0.0", "--user", "nobody", "--pid_file",
	    "/run/ds.pid", "--daemonize", "--logconfig", "/etc/ds/log.conf",
	    "--check", "--worker", "/opt/ds/bin/driveshaft-worker"},
	    {"/etc/ds/jobs.json", "0.0.0.0", "nobody", "/run/ds.pid",
	    "/etc/ds/log.conf", "/opt/ds/bin/driveshaft-worker", 1500, 250,
	    8080, 1, 1}},
	/* each with "=" */
	{{"--jobsconfig=/etc/ds/jobs.json", "--max_running_time=600",
	    "--loop_timeout=2", "--status_port=65535", "--status_addr=::1",
	    "--user=daemon", "--pid_file=/run/ds.pid",
	    "--logconfig=/etc/ds/log.conf", "--worker=/opt/w"},
	    {"/etc/ds/jobs.json", "::1", "daemon", "/run/ds.pid",
	    "/etc/ds/log.conf", "/opt/w", 600000, 2000, 65535, 0, 0}},
	/* a value may itself contain "=" */
	{{"--jobsconfig=/a=b", "--user", "x=y"},
	    {"/a=b", "127.0.0.1", "x=y", NULL, NULL, NULL, 300000, 5000, 0, 0,
	    0}},
	/* options in any order, the last of a repeated one wins */
	{{"--daemonize", "--status_port", "1", "--jobsconfig", "/a",
	    "--status_port=2", "--jobsconfig=/b", "--user", "u1", "--user=u2",
	    "--status_addr", "10.0.0.1", "--status_addr=10.0.0.2",
	    "--pid_file", "/p1", "--pid_file", "/p2", "--logconfig", "/l1",
	    "--logconfig", "/l2", "--max_running_time", "1",
	    "--max_running_time=2", "--loop_timeout=3", "--loop_timeout", "4",
	    "--worker", "/w1", "--worker=/w2", "--daemonize"},
	    {"/b", "10.0.0.2", "u2", "/p2", "/l2", "/w2", 2000, 4000, 2, 1, 0}},
	/* the limits */
	{{"--jobsconfig", "/j", "--max_running_time", "86400",
	    "--loop_timeout", "3600", "--status_port", "0"},
	    {"/j", "127.0.0.1", NULL, NULL, NULL, NULL, 86400000, 3600000, 0,
	    0, 0}},
	/* below a millisecond rounds up to one */
	{{"--jobsconfig", "/j", "--max_running_time", "0.0001",
	    "--loop_timeout=0.001", "--status_port=1"},
	    {"/j", "127.0.0.1", NULL, NULL, NULL, NULL, 1, 1, 1, 0, 0}},
	/* getopt_long takes an unambiguous prefix of a long option */
	{{"--jobs", "/j", "--max_running", "5", "--loop=2", "--status_p", "9",
	    "--daemon"},
	    {"/j", "127.0.0.1", NULL, NULL, NULL, NULL, 5000, 2000, 9, 1, 0}},
};

/* a and b are both NULL or the same string */
static int
same(const char *a, const char *b)
{
	return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

#define SAME_STR(f) ck_assert_msg(same(o.f, w->f), "case %s: " #f " \"%s\", " \
	"expected \"%s\"", name, o.f ? o.f : "(null)", w->f ? w->f : "(null)")
#define SAME_INT(f) ck_assert_msg(o.f == w->f, "case %s: " #f " %lld, " \
	"expected %lld", name, (long long)o.f, (long long)w->f)

START_TEST(valid)
{
	const struct want_opts *w = &valid_cases[_i].want;
	const char *name = ds_show_argv(valid_cases[_i].args);
	int rc = run_list(valid_cases[_i].args);

	ck_assert_msg(rc == DS_OPTS_RUN && err[0] == '\0',
	    "case %s: %d \"%s\"", name, rc, err);
	SAME_STR(jobsconfig);
	SAME_STR(status_addr);
	SAME_STR(user);
	SAME_STR(pid_file);
	SAME_STR(logconfig);
	if (w->worker_path != NULL)
		SAME_STR(worker_path);
	SAME_INT(max_running_ms);
	SAME_INT(loop_timeout_ms);
	SAME_INT(status_port);
	SAME_INT(daemonize);
	SAME_INT(check);
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

static const struct {
	const char *args[8];
	int want;
} help_cases[] = {
	{{"--help"}, DS_OPTS_HELP},
	{{"--version"}, DS_OPTS_VERSION},
	/* even with other options, and without the required one */
	{{"--jobsconfig", "/j", "--help", "--daemonize"}, DS_OPTS_HELP},
	{{"--status_port=1", "--version", "--check"}, DS_OPTS_VERSION},
	{{"--jobsconfig=/j", "--user", "u", "--version"}, DS_OPTS_VERSION},
	/* a stray argument does not hide them either */
	{{"extra", "--help"}, DS_OPTS_HELP},
	{{"--version", "extra"}, DS_OPTS_VERSION},
};

START_TEST(help_and_version)
{
	int rc = run_list(help_cases[_i].args);

	ck_assert_msg(rc == help_cases[_i].want && err[0] == '\0',
	    "case %s: %d \"%s\", expected %d",
	    ds_show_argv(help_cases[_i].args), rc, err, help_cases[_i].want);
}
END_TEST

/* --- usage errors --- */

/* The arguments and the exact message they fail with. */
struct usage_case {
	const char *args[8];
	const char *msg;
};

static void
usage_fails(const struct usage_case *c)
{
	int rc = run_list(c->args);

	ck_assert_msg(rc == -1 && strcmp(err, c->msg) == 0,
	    "case %s: %d \"%s\", expected \"%s\"", ds_show_argv(c->args), rc,
	    err, c->msg);
}

/* With --jobsconfig, which every case but those about it gives. */
#define J	"--jobsconfig", "/j.json"
#define PORT_ERR "--status_port: expected a port number from 0 to 65535, got "

static const struct usage_case usage_cases[] = {
	{{NULL}, "missing --jobsconfig FILE"},
	{{"--status_port", "80", "--daemonize"}, "missing --jobsconfig FILE"},
	{{"--jobsconfig="}, "--jobsconfig: expected a file name, got \"\""},
	{{"--jobsconfig", ""}, "--jobsconfig: expected a file name, got \"\""},
	{{J, "--pid_file="}, "--pid_file: expected a file name, got \"\""},
	{{J, "--logconfig", ""}, "--logconfig: expected a file name, got \"\""},
	{{J, "--worker="}, "--worker: expected a file name, got \"\""},

	{{J, "--bogus"}, "unknown option \"--bogus\""},
	{{J, "--bogus=1"}, "unknown option \"--bogus=1\""},
	{{J, "--jobs_config", "x"}, "unknown option \"--jobs_config\""},
	/* no short options at all */
	{{J, "-x"}, "unknown option \"-x\""},
	{{J, "-j", "/j"}, "unknown option \"-j\""},
	{{J, "-xy"}, "unknown option \"-x\""},
	/* a switch takes no value */
	{{J, "--daemonize=1"}, "unknown option \"--daemonize=1\""},
	{{J, "--check=yes"}, "unknown option \"--check=yes\""},
	/* ambiguous: --status_port or --status_addr */
	{{J, "--status", "1"}, "unknown option \"--status\""},
	{{"--bogus", "--jobsconfig", "/j"}, "unknown option \"--bogus\""},

	{{"--jobsconfig"}, "option \"--jobsconfig\" needs a value"},

	{{J, "--status_port", "65536"}, PORT_ERR "\"65536\""},
	{{J, "--status_port=-1"}, PORT_ERR "\"-1\""},
	{{J, "--status_port", "http"}, PORT_ERR "\"http\""},
	{{J, "--status_port", "80x"}, PORT_ERR "\"80x\""},
	{{J, "--status_port="}, PORT_ERR "\"\""},
	{{J, "--status_port", " 80"}, PORT_ERR "\" 80\""},
	{{J, "--status_port", "99999999999999999999"},
	    PORT_ERR "\"99999999999999999999\""},

	{{J, "--loop_timeout=0"},
	    "--loop_timeout: expected seconds > 0 and <= 3600, got \"0\""},
	{{J, "--max_running_time=0"},
	    "--max_running_time: expected seconds > 0 and <= 86400, got \"0\""},

	{{J, "--status_addr", ""}, "--status_addr: expected an address, "
	    "got \"\""},
	{{J, "--user="}, "--user: expected a user name, got \"\""},

	{{J, "extra"}, "unexpected argument \"extra\""},
	{{"extra", "--jobsconfig", "/j"}, "unexpected argument \"extra\""},
	{{J, "a", "b"}, "unexpected argument \"a\""},
	{{J, "-"}, "unexpected argument \"-\""},
	/* after "--" everything is an argument */
	{{J, "--", "--daemonize"}, "unexpected argument \"--daemonize\""},
	/* reported before a missing --jobsconfig */
	{{"jobs.json"}, "unexpected argument \"jobs.json\""},
};

START_TEST(usage)
{
	usage_fails(&usage_cases[_i]);
}
END_TEST

/* Each option that takes a value, given none. */
static const char *const valued[] = {
	"--jobsconfig", "--max_running_time", "--loop_timeout",
	"--status_port", "--status_addr", "--user", "--pid_file",
	"--logconfig", "--worker",
};

START_TEST(missing_value)
{
	struct usage_case c = {{J, valued[_i]}, NULL};
	char msg[128];

	snprintf(msg, sizeof(msg), "option \"%s\" needs a value", valued[_i]);
	c.msg = msg;
	usage_fails(&c);
}
END_TEST

/* Each bad value of the two options in seconds, and their upper limits. */
static const struct {
	const char *option, *max, *value;
} bad_seconds[] = {
	{"--loop_timeout", "3600", "0"}, {"--loop_timeout", "3600", "0.0"},
	{"--loop_timeout", "3600", "3601"},
	{"--loop_timeout", "3600", "3600.5"},
	{"--loop_timeout", "3600", "-1"}, {"--loop_timeout", "3600", ""},
	{"--loop_timeout", "3600", "5s"}, {"--loop_timeout", "3600", "1e3"},
	{"--loop_timeout", "3600", "0x10"}, {"--loop_timeout", "3600", "abc"},
	{"--loop_timeout", "3600", " 5"}, {"--loop_timeout", "3600", "inf"},
	{"--loop_timeout", "3600", "nan"},
	{"--max_running_time", "86400", "0"},
	{"--max_running_time", "86400", "86401"},
	{"--max_running_time", "86400", "86400.001"},
	{"--max_running_time", "86400", "-5"},
	{"--max_running_time", "86400", ""},
	{"--max_running_time", "86400", "1m"},
	{"--max_running_time", "86400", "1e2"},
	{"--max_running_time", "86400", "x"},
	{"--max_running_time", "86400", "inf"},
};

START_TEST(bad_seconds_value)
{
	struct usage_case c = {{J, bad_seconds[_i].option,
	    bad_seconds[_i].value}, NULL};
	char msg[128];

	snprintf(msg, sizeof(msg), "%s: expected seconds > 0 and <= %s, got "
	    "\"%s\"", bad_seconds[_i].option, bad_seconds[_i].max,
	    bad_seconds[_i].value);
	c.msg = msg;
	usage_fails(&c);
}
END_TEST

START_TEST(reparse)
{
	/* a second parse starts from scratch, after an error too */
	usage_fails(&(struct usage_case){{J, "-xyz"}, "unknown option \"-x\""});
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

	tc = ds_tcase(s, "valid", setup, teardown);
	tcase_add_loop_test(tc, valid, 0, NELEM(valid_cases));
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, relative_paths);
	tcase_add_test(tc, relative_paths_other_dir);
	tcase_add_loop_test(tc, help_and_version, 0, NELEM(help_cases));
	tcase_add_test(tc, reparse);
	tcase_add_test(tc, free_clears);

	tc = ds_tcase(s, "usage", setup, teardown);
	tcase_add_loop_test(tc, usage, 0, NELEM(usage_cases));
	tcase_add_loop_test(tc, missing_value, 0, NELEM(valued));
	tcase_add_loop_test(tc, bad_seconds_value, 0, NELEM(bad_seconds));
	return s;
}

DS_CHECK_MAIN(master_options_suite)
