/* test_stuck_rule.c: the rule that says when an idle worker is stuck
 * (master/stuck_rule.h), one row per situation: times in, verdict out. */
#include "master/stuck_rule.h"

#include "unit.h"

#define T0 1000000		/* a monotonic "now" well past 0 */
#define A 30000			/* stuck_after */

static const struct {
	const char *what;
	struct ds_stuck_in in;	/* now, after, waiting_since, acted, idle */
	int want;
} cases[] = {
	{"jobs waited stuck_after, worker idle as long: replaced",
	    {T0, A, T0 - A, 0, T0 - A}, 1},
	{"long past both: replaced",
	    {T0, A, T0 - 10 * A, 0, T0 - 10 * A}, 1},
	{"jobs waited 1 ms short of stuck_after: not yet",
	    {T0, A, T0 - A + 1, 0, T0 - 10 * A}, 0},
	{"worker idle long, jobs waiting briefly: no replacement",
	    {T0, A, T0 - 1000, 0, T0 - 100 * A}, 0},
	{"worker idle long, jobs just arrived: no replacement",
	    {T0, A, T0, 0, T0 - 100 * A}, 0},
	{"jobs waited long, worker idle briefly: no replacement",
	    {T0, A, T0 - 10 * A, 0, T0 - 1000}, 0},
	{"worker idle 1 ms short of stuck_after: not yet",
	    {T0, A, T0 - 10 * A, 0, T0 - A + 1}, 0},
	{"no job waits: never",
	    {T0, A, 0, 0, T0 - 100 * A}, 0},
	{"replaced for the function just now: the new one gets its chance",
	    {T0, A, T0 - 10 * A, T0 - 1, T0 - 10 * A}, 0},
	{"replaced 1 ms short of stuck_after ago: still waits",
	    {T0, A, T0 - 10 * A, T0 - A + 1, T0 - 10 * A}, 0},
	{"replaced stuck_after ago: may act again",
	    {T0, A, T0 - 10 * A, T0 - A, T0 - 10 * A}, 1},
	{"stuck_after 0: the rule is off",
	    {T0, 0, T0 - 10 * A, 0, T0 - 10 * A}, 0},
	{"stuck_after negative: the rule is off",
	    {T0, -1, T0 - 10 * A, 0, T0 - 10 * A}, 0},
};

START_TEST(table)
{
	int got = ds_stuck_due(&cases[_i].in);

	ck_assert_msg(got == cases[_i].want, "%s: got %d, want %d",
	    cases[_i].what, got, cases[_i].want);
}
END_TEST

static Suite *
stuck_rule_suite(void)
{
	Suite *s = suite_create("stuck_rule");
	TCase *tc = tcase_create("rule");

	tcase_add_loop_test(tc, table, 0, NELEM(cases));
	suite_add_tcase(s, tc);
	return s;
}

DS_CHECK_MAIN(stuck_rule_suite)
