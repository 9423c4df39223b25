/* test_upgrade_reply.c: what the master makes of the answer of
 * `driveshaft --upgrade-check` (master/upgrade_reply.h): yes only for one
 * well-formed line whose state range holds the version asked for. */
#include "master/upgrade_reply.h"

#include "unit.h"

static const struct {
	const char *out;
	int want;
	const char *err;	/* NULL: yes; else a part of the reason */
} cases[] = {
	{"upgrade-check ok version=0.1.0 reads_state=1-1\n", 1, NULL},
	{"upgrade-check ok version=2.0 reads_state=1-3\n", 2, NULL},
	{"upgrade-check ok version=2.0 reads_state=1-3\n", 3, NULL},
	{"upgrade-check ok version=9 reads_state=9-9\n", 1, "state version"},
	{"upgrade-check ok version=9 reads_state=2-9\n", 1, "state version"},
	{"upgrade-check ok version=0.1.0 reads_state=1-1", 1, "one line"},
	{"upgrade-check ok version=0.1.0 reads_state=1-1\nmore\n", 1,
	    "did not answer"},
	{"driveshaft: warning: x\nupgrade-check ok version=0.1.0 "
	    "reads_state=1-1\n", 1, NULL},
	{"upgrade-check ok version=0.1.0 reads_state=1-1\n\n", 1,
	    "one line"},
	{"\n", 1, "did not answer"},
	{"", 1, "did not answer"},
	{"Error: no\n", 1, "did not answer"},
	{"upgrade-check ok version= reads_state=1-1\n", 1, "no version"},
	{"upgrade-check ok version=0.1.0\n", 1, "no version"},
	{"upgrade-check ok version=0.1.0 state=1-1\n", 1, "no reads_state"},
	{"upgrade-check ok version=0.1.0 reads_state=1\n", 1, "LOW-HIGH"},
	{"upgrade-check ok version=0.1.0 reads_state=2-1\n", 1, "LOW-HIGH"},
	{"upgrade-check ok version=0.1.0 reads_state=0-1\n", 1, "LOW-HIGH"},
	{"upgrade-check ok version=0.1.0 reads_state=1-x\n", 1, "LOW-HIGH"},
	{"upgrade-check ok version=0.1.0 reads_state=-1-1\n", 1, "LOW-HIGH"},
	{"upgrade-check ok version=0.1.0 reads_state=1-99999999999999999\n",
	    1, "LOW-HIGH"},
	{"upgrade-check ok version=0123456789012345678901234567890123 "
	    "reads_state=1-1\n", 1, "no version"},
};

START_TEST(reply)
{
	const char *err = ds_upgrade_reply_check(cases[_i].out, cases[_i].want);

	if (cases[_i].err == NULL)
		ck_assert_msg(err == NULL, "row %d: %s", _i, err);
	else
		ck_assert_msg(err != NULL && strstr(err, cases[_i].err),
		    "row %d: got %s, wanted %s", _i, err ? err : "yes",
		    cases[_i].err);
}
END_TEST

static Suite *
upgrade_reply_suite(void)
{
	Suite *s = suite_create("upgrade_reply");
	TCase *tc = ds_tcase(s, "check line", NULL, NULL);

	tcase_add_loop_test(tc, reply, 0, NELEM(cases));
	return s;
}

DS_CHECK_MAIN(upgrade_reply_suite)
