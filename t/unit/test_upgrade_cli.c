/* test_upgrade_cli.c: the parsers of driveshaft --upgrade and the line of
 * --upgrade-check (master/upgrade_cli.h, master/upgrade_check.h): a pid
 * file's content, a `version` reply with and without its upgrade
 * counters, and the one line the running master reads from the check. */
#include "master/upgrade_check.h"
#include "master/upgrade_cli.h"

#include "unit.h"

#include <string.h>

struct pid_case {
	const char *text;	/* the pid file's content */
	int pid;		/* 0: refused */
	const char *err;	/* a part of the error */
};

static const struct pid_case pid_cases[] = {
	{"1234\n", 1234, NULL},
	{"1234", 1234, NULL},
	{"  77 \r\n", 77, NULL},
	{"2147483647\n", 2147483647, NULL},
	{"", 0, "is empty (the master is not running)"},
	{"\n\n", 0, "is empty"},
	{"abc\n", 0, "does not hold a pid: \"abc\""},
	{"12 34\n", 0, "does not hold a pid: \"12 34\""},
	{"-5\n", 0, "does not hold a pid: \"-5\""},
	{"+5\n", 0, "does not hold a pid"},
	{"12a\n", 0, "does not hold a pid: \"12a\""},
	{"0\n", 0, "holds 0, not a pid"},
	{"2147483648\n", 0, "holds 2147483648, not a pid"},
	{"99999999999999999999999\n", 0, "does not hold a pid"},
	{"1\x1b]2;x\x07\n", 0, "does not hold a pid: \"1\\x1B]2;x\\x07\""},
};

START_TEST(test_pid_file)
{
	const struct pid_case *c = &pid_cases[_i];
	char err[256] = "";
	pid_t pid = -1;
	int rc = ds_upgrade_parse_pid(c->text, strlen(c->text), &pid, err,
	    sizeof(err));

	if (c->pid) {
		ck_assert_msg(rc == 0 && pid == c->pid, "\"%s\": rc %d pid %d "
		    "(%s)", ds_show(c->text, strlen(c->text)), rc, (int)pid,
		    err);
		return;
	}
	ck_assert_msg(rc == -1 && strstr(err, c->err) != NULL,
	    "\"%s\": rc %d, err \"%s\", expected \"%s\"",
	    ds_show(c->text, strlen(c->text)), rc, err, c->err);
}
END_TEST

/* A NUL inside the file is not a digit: the length, not strlen, bounds it. */
START_TEST(test_pid_file_nul)
{
	char err[256] = "";
	pid_t pid = -1;

	ck_assert_int_eq(ds_upgrade_parse_pid("12\0" "3", 4, &pid, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "does not hold a pid: \"12\\x003\""));
	ck_assert_int_eq(ds_upgrade_parse_pid("12\0" "3", 2, &pid, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(pid, 12);
}
END_TEST

struct version_case {
	const char *reply;	/* as --query writes it, or raw */
	int rc;
	const char *version;
	long upgrades, failed;
	const char *err;
};

static const struct version_case version_cases[] = {
	{"driveshaft 0.1.0\nworkers 0.1.0 12\nupgrades 3 failed 1\n", 1,
	    "0.1.0", 3, 1, NULL},
	{"driveshaft 0.2.0\r\nworkers 0.1.0 2\r\nworkers unknown 1\r\n"
	    "upgrades 0 failed 0\r\n", 1, "0.2.0", 0, 0, NULL},
	{"driveshaft 0.1.0\nupgrades 18446744 failed 7", 1, "0.1.0",
	    18446744, 7, NULL},
	/* a master before in-place upgrades: no counters, version known */
	{"driveshaft 0.1.0\n", 0, "0.1.0", 0, 0, NULL},
	{"driveshaft 0.1.0\r\n", 0, "0.1.0", 0, 0, NULL},
	{"driveshaft 0.1.0\nworkers 0.1.0 3\n", 0, "0.1.0", 0, 0, NULL},
	/* the counters only count after the first line */
	{"upgrades 1 failed 0\n", -1, NULL, 0, 0, "not a driveshaft version"},
	{"", -1, NULL, 0, 0, "an empty version reply"},
	{"driveshaft \n", -1, NULL, 0, 0, "not a driveshaft version reply"},
	{"driveshaft\n", -1, NULL, 0, 0, "not a driveshaft version reply"},
	{"gearmand 1.1\nupgrades 1 failed 0\n", -1, NULL, 0, 0,
	    "not a driveshaft version reply"},
	{"driveshaft 0.1.0 extra\n", -1, NULL, 0, 0, "not a driveshaft"},
	{"driveshaft 0123456789012345678901234567890123456789012345678901234"
	    "56789abcdefghij\n", -1, NULL, 0, 0, "not a driveshaft version reply"},
	{"driveshaft 0.1.0\nupgrades x failed 0\n", -1, NULL, 0, 0,
	    "malformed line \"upgrades N failed M\""},
	{"driveshaft 0.1.0\nupgrades 1 failed\n", -1, NULL, 0, 0, "malformed"},
	{"driveshaft 0.1.0\nupgrades 1 failed 2 3\n", -1, NULL, 0, 0,
	    "malformed"},
	{"driveshaft 0.1.0\nupgrades -1 failed 2\n", -1, NULL, 0, 0,
	    "malformed"},
	{"driveshaft 0.1.0\nupgrades 1  failed 2\n", -1, NULL, 0, 0,
	    "malformed"},
	{"driveshaft 0.1.0\nupgrades 99999999999999999999999 failed 2\n", -1,
	    NULL, 0, 0, "malformed"},
	/* a line that only starts like it is another line */
	{"driveshaft 0.1.0\nupgradesX 1 failed 2\n", 0, "0.1.0", 0, 0, NULL},
};

START_TEST(test_version_reply)
{
	const struct version_case *c = &version_cases[_i];
	struct ds_upgrade_seen s;
	char err[256] = "";
	int rc = ds_upgrade_parse_version(c->reply, &s, err, sizeof(err));
	const char *shown = ds_show(c->reply, strlen(c->reply));

	ck_assert_msg(rc == c->rc, "\"%s\": rc %d, expected %d (%s)", shown,
	    rc, c->rc, err);
	if (rc < 0) {
		ck_assert_msg(strstr(err, c->err) != NULL, "\"%s\": err \"%s\", "
		    "expected \"%s\"", shown, err, c->err);
		return;
	}
	ck_assert_msg(strcmp(s.version, c->version) == 0, "\"%s\": version "
	    "\"%s\"", shown, s.version);
	ck_assert_msg(s.upgrades == c->upgrades && s.failed == c->failed,
	    "\"%s\": upgrades %ld failed %ld", shown, s.upgrades, s.failed);
}
END_TEST

/* What the running master parses: one line, the state versions read. */
START_TEST(test_check_line)
{
	char line[256], want[256];
	int n = ds_upgrade_check_line(line, sizeof(line));

	snprintf(want, sizeof(want), "upgrade-check ok version=%s "
	    "reads_state=%d-%d", DS_VERSION, DS_UPGRADE_STATE_MIN,
	    DS_UPGRADE_STATE_VERSION);
	ck_assert_str_eq(line, want);
	ck_assert_int_eq(n, (int)strlen(want));
	ck_assert_ptr_null(strchr(line, '\n'));
	ck_assert_int_le(DS_UPGRADE_STATE_MIN, DS_UPGRADE_STATE_VERSION);
	ck_assert_int_ge(DS_UPGRADE_STATE_MIN, 1);
}
END_TEST

static Suite *
upgrade_cli_suite(void)
{
	Suite *s = suite_create("upgrade_cli");
	TCase *tc = ds_tcase(s, "parse", NULL, NULL);

	tcase_add_loop_test(tc, test_pid_file, 0, NELEM(pid_cases));
	tcase_add_test(tc, test_pid_file_nul);
	tcase_add_loop_test(tc, test_version_reply, 0, NELEM(version_cases));
	tcase_add_test(tc, test_check_line);
	return s;
}

DS_CHECK_MAIN(upgrade_cli_suite)
