/* test_log.c: the log config file reader and the facility and level names
 * (common/log.h). Operators read the messages, so their text is exact. */
#include "common/log.h"

#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpname[64];
static struct ds_log_settings ls;
static char err[512], warn[512], want[512];

static void
setup(void)
{
	ds_log_defaults(&ls);
	tmpname[0] = '\0';
	memset(err, 0, sizeof(err));
	memset(warn, 'W', sizeof(warn) - 1);
	warn[sizeof(warn) - 1] = '\0';
}

static void
teardown(void)
{
	if (tmpname[0] != '\0')
		unlink(tmpname);
	tmpname[0] = '\0';
}

static void
write_tmp(const char *text)
{
	size_t len = strlen(text);
	int fd;

	teardown();
	snprintf(tmpname, sizeof(tmpname), "/tmp/ds_test_log.XXXXXX");
	fd = mkstemp(tmpname);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
}

static int
read_text(const char *text)
{
	write_tmp(text);
	memset(err, 0, sizeof(err));
	return ds_log_read_config(tmpname, &ls, err, sizeof(err), warn,
	    sizeof(warn));
}

static void
assert_defaults(void)
{
	struct ds_log_settings d;

	ds_log_defaults(&d);
	ck_assert_str_eq(ls.ident, d.ident);
	ck_assert_int_eq(ls.facility, d.facility);
	ck_assert_int_eq(ls.level, d.level);
	ck_assert_int_eq(ls.to_stderr, d.to_stderr);
}

/* The text fails with "FILE:" followed by msg, leaving ls alone. */
static void
fails(const char *text, const char *msg)
{
	int rc = read_text(text);

	snprintf(want, sizeof(want), "%s:%s", tmpname, msg);
	ck_assert_msg(rc == -1 && strcmp(err, want) == 0,
	    "case \"%s\": %d \"%s\", expected \"%s\"",
	    ds_show(text, strlen(text)), rc, err, want);
	assert_defaults();
}

START_TEST(defaults)
{
	ck_assert_str_eq(ls.ident, "driveshaft");
	ck_assert_int_eq(ls.facility, LOG_DAEMON);
	ck_assert_int_eq(ls.level, LOG_INFO);
	ck_assert_int_eq(ls.to_stderr, DS_LOG_STDERR_AUTO);
}
END_TEST

/* A line is never doubled (journal reads both) and never lost (no
 * syslog socket in a container). */
START_TEST(stderr_rule)
{
	static const struct { int tty, sock, want; } cases[] = {
		{1, 1, 1}, {1, 0, 1}, {0, 1, 0}, {0, 0, 1},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(ds_log_stderr_rule(cases[i].tty, cases[i].sock) ==
		    cases[i].want, "tty=%d socket=%d", cases[i].tty,
		    cases[i].sock);
}
END_TEST

START_TEST(resolve_keeps_a_forced_setting)
{
	struct ds_log_settings l;

	ds_log_defaults(&l);
	l.to_stderr = 0;
	ds_log_resolve_stderr(&l);
	ck_assert_int_eq(l.to_stderr, 0);
	l.to_stderr = 1;
	ds_log_resolve_stderr(&l);
	ck_assert_int_eq(l.to_stderr, 1);
	l.to_stderr = DS_LOG_STDERR_AUTO;
	ds_log_resolve_stderr(&l);
	ck_assert(l.to_stderr == 0 || l.to_stderr == 1);
}
END_TEST

START_TEST(all_keys)
{
	ck_assert_int_eq(read_text(
	    "# Driveshaft logging\n"
	    "\n"
	    "ident = ds-prod\n"
	    "   # indented comment\n"
	    "facility=local5\n"
	    "\t\n"
	    "  level   =   debug  \n"
	    "stderr = 1\r\n"), 0);
	ck_assert_str_eq(warn, "");
	ck_assert_str_eq(ls.ident, "ds-prod");
	ck_assert_int_eq(ls.facility, LOG_LOCAL5);
	ck_assert_int_eq(ls.level, LOG_DEBUG);
	ck_assert_int_eq(ls.to_stderr, 1);
}
END_TEST

START_TEST(partial_and_last_wins)
{
	ck_assert_int_eq(read_text("level = warning\nlevel = err"), 0);
	ck_assert_int_eq(ls.level, LOG_ERR);
	ck_assert_str_eq(ls.ident, "driveshaft");
	ck_assert_int_eq(ls.facility, LOG_DAEMON);
	/* read over what is there, not over the defaults */
	ck_assert_int_eq(read_text("stderr = 1\n"), 0);
	ck_assert_int_eq(ls.level, LOG_ERR);
	ck_assert_int_eq(ls.to_stderr, 1);
	ck_assert_int_eq(read_text("stderr = 0\nfacility = USER\n"), 0);
	ck_assert_int_eq(ls.to_stderr, 0);
	ck_assert_int_eq(ls.facility, LOG_USER);
}
END_TEST

START_TEST(empty_file)
{
	ck_assert_int_eq(read_text(""), 0);
	ck_assert_str_eq(warn, "");
	assert_defaults();
	ck_assert_int_eq(read_text("# nothing\n\n   \n"), 0);
	assert_defaults();
}
END_TEST

START_TEST(value_with_equals_and_spaces)
{
	ck_assert_int_eq(read_text("ident = a=b c\n"), 0);
	ck_assert_str_eq(ls.ident, "a=b c");
}
END_TEST

/* A config text and the message it fails with, after "FILE:". */
static const struct {
	const char *text, *msg;
} bad_cases[] = {
	{"ident = \n", "1: ident: expected 1 to 63 characters"},
	{"ident = 1234567890123456789012345678901234567890123456789012"
	    "345678901234\n", "1: ident: expected 1 to 63 characters"},
	{"# c\n\nfacility = kern\n", "3: facility: expected daemon, user "
	    "or local0..local7, got \"kern\""},
	{"facility = local8\n", "1: facility: expected daemon, user or "
	    "local0..local7, got \"local8\""},
	{"level = verbose\n", "1: level: expected err, warning, notice, "
	    "info or debug, got \"verbose\""},
	{"level =\n", "1: level: expected err, warning, notice, info or "
	    "debug, got \"\""},
	{"stderr = yes\n", "1: stderr: expected 0 or 1, got \"yes\""},
	{"stderr = 01\n", "1: stderr: expected 0 or 1, got \"01\""},
	/* nothing is applied when a later line is bad */
	{"ident = x\nlevel = debug\nstderr = 2\n",
	    "3: stderr: expected 0 or 1, got \"2\""},

	{"ident = x\nlog_level = debug\n", "2: unknown key \"log_level\" "
	    "(expected ident, facility, level or stderr)"},
	{"Level = debug\n", "1: unknown key \"Level\" (expected ident, "
	    "facility, level or stderr)"},
	{" = debug\n", "1: unknown key \"\" (expected ident, facility, "
	    "level or stderr)"},

	{"ident x\n", "1: expected key = value, got \"ident x\""},
	{"\n\n  level  \n", "3: expected key = value, got \"level\""},
	/* a very long line is cut in the message */
	{"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
	    "1: expected key = value, got \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\""},
	/* an XML-looking line that is not the first is just bad */
	{"level = info\n<log4j:configuration>\n",
	    "2: expected key = value, got \"<log4j:configuration>\""},
};

START_TEST(bad_config)
{
	fails(bad_cases[_i].text, bad_cases[_i].msg);
}
END_TEST

START_TEST(xml_file)
{
	ls.level = LOG_DEBUG;
	ls.to_stderr = 1;
	ck_assert_int_eq(read_text(
	    "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n"
	    "<log4j:configuration "
	    "xmlns:log4j=\"http://jakarta.apache.org/log4j/\">\n"
	    "  <root><priority value=\"info\"/></root>\n"
	    "</log4j:configuration>\n"), 0);
	snprintf(want, sizeof(want), "%s: log4cxx XML config is not supported, "
	    "using default logging settings", tmpname);
	ck_assert_str_eq(warn, want);
	ck_assert_ptr_nonnull(strstr(warn, "log4cxx"));
	/* settings unchanged */
	ck_assert_str_eq(ls.ident, "driveshaft");
	ck_assert_int_eq(ls.facility, LOG_DAEMON);
	ck_assert_int_eq(ls.level, LOG_DEBUG);
	ck_assert_int_eq(ls.to_stderr, 1);
	/* leading white space before the '<' too */
	ck_assert_int_eq(read_text("  <configuration/>\n"), 0);
	ck_assert_ptr_nonnull(strstr(warn, "log4cxx"));
}
END_TEST

START_TEST(unreadable)
{
	ls.level = LOG_DEBUG;
	ck_assert_int_eq(ds_log_read_config("/nonexistent/log.conf", &ls, err,
	    sizeof(err), warn, sizeof(warn)), -1);
	ck_assert_str_eq(err,
	    "/nonexistent/log.conf: No such file or directory");
	ck_assert_int_eq(ls.level, LOG_DEBUG);
	/* a directory opens, but cannot be read */
	ck_assert_int_eq(ds_log_read_config("/tmp", &ls, err, sizeof(err),
	    warn, sizeof(warn)), -1);
	ck_assert_str_eq(err, "/tmp: Is a directory");
	ck_assert_int_eq(ls.level, LOG_DEBUG);
}
END_TEST

/* A name and what ds_log_facility or ds_log_level makes of it. */
#define FAC(s, v)	{"facility", ds_log_facility, (s), (v)}
#define LVL(s, v)	{"level", ds_log_level, (s), (v)}

static const struct {
	const char *what;
	int (*parse)(const char *);
	const char *s;
	int want;
} parse_cases[] = {
	FAC("daemon", LOG_DAEMON), FAC("user", LOG_USER),
	FAC("local0", LOG_LOCAL0), FAC("local1", LOG_LOCAL1),
	FAC("local2", LOG_LOCAL2), FAC("local3", LOG_LOCAL3),
	FAC("local4", LOG_LOCAL4), FAC("local5", LOG_LOCAL5),
	FAC("local6", LOG_LOCAL6), FAC("local7", LOG_LOCAL7),
	FAC("DAEMON", LOG_DAEMON), FAC("Local7", LOG_LOCAL7),
	FAC("local8", -1), FAC("kern", -1), FAC("", -1), FAC(" daemon", -1),

	LVL("emerg", LOG_EMERG), LVL("alert", LOG_ALERT),
	LVL("crit", LOG_CRIT), LVL("err", LOG_ERR), LVL("error", LOG_ERR),
	LVL("warning", LOG_WARNING), LVL("warn", LOG_WARNING),
	LVL("notice", LOG_NOTICE), LVL("info", LOG_INFO),
	LVL("debug", LOG_DEBUG), LVL("DEBUG", LOG_DEBUG),
	LVL("verbose", -1), LVL("", -1), LVL("7", -1),
};

START_TEST(parse_names)
{
	int got = parse_cases[_i].parse(parse_cases[_i].s);

	ck_assert_msg(got == parse_cases[_i].want, "case %s \"%s\": %d, "
	    "expected %d", parse_cases[_i].what, parse_cases[_i].s, got,
	    parse_cases[_i].want);
}
END_TEST

/* A value and the name ds_log_facility_name or ds_log_level_name gives it
 * (an unknown one: the default's). */
#define FAC_NAME(v, s)	{"facility", ds_log_facility_name, (v), (s)}
#define LVL_NAME(v, s)	{"level", ds_log_level_name, (v), (s)}

static const struct ds_name_case name_cases[] = {
	FAC_NAME(LOG_DAEMON, "daemon"), FAC_NAME(LOG_USER, "user"),
	FAC_NAME(LOG_LOCAL0, "local0"), FAC_NAME(LOG_LOCAL7, "local7"),
	FAC_NAME(LOG_KERN, "daemon"),

	LVL_NAME(LOG_ERR, "err"), LVL_NAME(LOG_WARNING, "warning"),
	LVL_NAME(LOG_NOTICE, "notice"), LVL_NAME(LOG_INFO, "info"),
	LVL_NAME(LOG_DEBUG, "debug"), LVL_NAME(LOG_EMERG, "emerg"),
	LVL_NAME(99, "info"),
};

START_TEST(value_names)
{
	ds_check_name(&name_cases[_i]);
}
END_TEST

/* The level is the highest priority logged: a line at the level shows, one
 * below it (a larger value) does not. Read back from stderr, where an
 * operator running in the foreground sees it. */
static const struct {
	int level, prio, shown;
} level_cases[] = {
	{LOG_INFO, LOG_ERR, 1}, {LOG_INFO, LOG_INFO, 1},
	{LOG_INFO, LOG_DEBUG, 0}, {LOG_WARNING, LOG_WARNING, 1},
	{LOG_WARNING, LOG_NOTICE, 0}, {LOG_DEBUG, LOG_DEBUG, 1},
	{LOG_ERR, LOG_ERR, 1}, {LOG_ERR, LOG_WARNING, 0},
};

START_TEST(level_filters)
{
	char out[256] = "";
	int saved = dup(STDERR_FILENO);
	FILE *f = tmpfile();
	size_t n;

	ck_assert(saved >= 0 && f != NULL);
	dup2(fileno(f), STDERR_FILENO);
	snprintf(ls.ident, sizeof(ls.ident), "ds-unit-test");
	ls.level = level_cases[_i].level;
	ls.to_stderr = 1;
	ds_log_open(&ls);
	ds_log(level_cases[_i].prio, "event=unit_test");
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	fclose(f);
	ck_assert_msg((strstr(out, "event=unit_test") != NULL) ==
	    level_cases[_i].shown, "level %d, prio %d: got \"%s\"",
	    level_cases[_i].level, level_cases[_i].prio, out);
}
END_TEST

static Suite *
log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc;

	tc = ds_tcase(s, "config", setup, teardown);
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, stderr_rule);
	tcase_add_test(tc, resolve_keeps_a_forced_setting);
	tcase_add_test(tc, all_keys);
	tcase_add_test(tc, partial_and_last_wins);
	tcase_add_test(tc, empty_file);
	tcase_add_test(tc, value_with_equals_and_spaces);
	tcase_add_loop_test(tc, bad_config, 0, NELEM(bad_cases));
	tcase_add_test(tc, xml_file);
	tcase_add_test(tc, unreadable);
	tcase_add_loop_test(tc, level_filters, 0, NELEM(level_cases));

	tc = ds_tcase(s, "names", NULL, NULL);
	tcase_add_loop_test(tc, parse_names, 0, NELEM(parse_cases));
	tcase_add_loop_test(tc, value_names, 0, NELEM(name_cases));
	return s;
}

DS_CHECK_MAIN(log_suite)
