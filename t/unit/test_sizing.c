/* test_sizing.c: the rule that sizes a pool by its queue (master/sizing.h),
 * one row per situation: figures in, size and reason out. */
#include "master/sizing.h"

#include "unit.h"

#define NELEM_T(a) (sizeof(a) / sizeof((a)[0]))
#define T0 1000000		/* a monotonic "now" well past 0 */

static const struct {
	const char *what;
	struct ds_sizing_in in;
	int want;
	enum ds_sizing_reason why;
} cases[] = {
	{"quiet pool at min stays",
	    {1, 1, 8, 0, 1, 1, T0 - 120000, 60000, T0}, 1, DS_SIZE_KEEP},
	{"backlog 1 with 1 idle: enough",
	    {1, 1, 8, 1, 1, 1, 0, 60000, T0}, 1, DS_SIZE_KEEP},
	{"backlog 3, 1 idle: grows by the difference",
	    {1, 1, 8, 3, 1, 1, 0, 60000, T0}, 3, DS_SIZE_BACKLOG},
	{"backlog 100: grows by the step, not by 99",
	    {1, 1, 100, 100, 1, 1, 0, 60000, T0}, 1 + DS_SCALE_STEP_MIN,
	    DS_SIZE_BACKLOG},
	{"large pool grows by half of itself",
	    {40, 1, 1000, 5000, 0, 0, 0, 60000, T0}, 60, DS_SIZE_BACKLOG},
	{"very large pool grows by the cap",
	    {500, 1, 1000, 5000, 0, 0, 0, 60000, T0}, 500 + DS_SCALE_STEP_MAX,
	    DS_SIZE_BACKLOG},
	{"growth stops at max",
	    {7, 1, 8, 50, 0, 0, 0, 60000, T0}, 8, DS_SIZE_BACKLOG},
	{"at max with backlog: stays",
	    {8, 1, 8, 50, 0, 0, 0, 60000, T0}, 8, DS_SIZE_KEEP},
	{"starting workers count as spare: no overshoot",
	    {5, 1, 8, 4, 4, 0, 0, 60000, T0}, 5, DS_SIZE_KEEP},
	{"backlog but busy pool: grows",
	    {4, 1, 8, 2, 0, 0, 0, 60000, T0}, 6, DS_SIZE_BACKLOG},
	{"no backlog, cool-down not over: stays",
	    {6, 1, 8, 0, 6, 6, T0 - 59999, 60000, T0}, 6, DS_SIZE_KEEP},
	{"no backlog past the cool-down: one retired",
	    {6, 1, 8, 0, 6, 6, T0 - 60000, 60000, T0}, 5, DS_SIZE_IDLE},
	{"no backlog, but nobody idle: nothing to retire",
	    {6, 1, 8, 0, 0, 0, T0 - 600000, 60000, T0}, 6, DS_SIZE_KEEP},
	{"at min: never below",
	    {1, 1, 8, 0, 1, 1, T0 - 600000, 60000, T0}, 1, DS_SIZE_KEEP},
	{"backlog not zero: no shrink whatever the time",
	    {6, 1, 8, 1, 6, 6, 0, 60000, T0}, 6, DS_SIZE_KEEP},
	{"cool-down 0 shrinks at once",
	    {3, 0, 8, 0, 3, 3, T0, 0, T0}, 2, DS_SIZE_IDLE},
	{"above a new max: brought down",
	    {12, 1, 8, 0, 0, 0, 0, 60000, T0}, 8, DS_SIZE_BOUNDS},
	{"below a new min: brought up",
	    {1, 3, 8, 0, 0, 0, 0, 60000, T0}, 3, DS_SIZE_BOUNDS},
	{"below min with backlog: min, then the step",
	    {0, 2, 20, 30, 0, 0, 0, 60000, T0}, 2 + DS_SCALE_STEP_MIN,
	    DS_SIZE_BACKLOG},
	{"min 0 max 0: nothing ever",
	    {0, 0, 0, 99, 0, 0, 0, 60000, T0}, 0, DS_SIZE_KEEP},
	{"huge backlog does not overflow",
	    {1, 1, 10000, UINT32_MAX, 0, 0, 0, 60000, T0},
	    1 + DS_SCALE_STEP_MIN, DS_SIZE_BACKLOG},
};

START_TEST(table)
{
	for (size_t i = 0; i < NELEM_T(cases); i++) {
		enum ds_sizing_reason why;
		int n = ds_sizing(&cases[i].in, &why);

		ck_assert_msg(n == cases[i].want && why == cases[i].why,
		    "%s: got %d (%s), want %d (%s)", cases[i].what, n,
		    ds_sizing_reason_name(why), cases[i].want,
		    ds_sizing_reason_name(cases[i].why));
	}
}
END_TEST

/* A spike, round after round: the pool reaches max in bounded steps and
 * never forks more than the step at once. */
START_TEST(spike)
{
	struct ds_sizing_in in = {1, 1, 200, 10000, 1, 1, 0, 60000, T0};
	enum ds_sizing_reason why;
	int rounds = 0, n;

	while (in.current < in.max) {
		n = ds_sizing(&in, &why);
		ck_assert_int_gt(n, in.current);
		ck_assert_int_le(n - in.current, DS_SCALE_STEP_MAX);
		in.current = n;
		in.spare = 0;	/* all busy */
		ck_assert_int_lt(++rounds, 50);
	}
	ck_assert_int_eq(rounds, 10);	/* 1 5 9 13 19 28 42 63 94 141 200 */
}
END_TEST

START_TEST(zero_since)
{
	ck_assert_int_eq(ds_sizing_zero_since(0, 0, T0), T0);
	ck_assert_int_eq(ds_sizing_zero_since(T0 - 5, 0, T0), T0 - 5);
	ck_assert_int_eq(ds_sizing_zero_since(T0 - 5, 1, T0), 0);
	ck_assert_int_eq(ds_sizing_zero_since(0, 7, T0), 0);
	ck_assert_str_eq(ds_sizing_reason_name(DS_SIZE_IDLE), "idle");
}
END_TEST

static Suite *
sizing_suite(void)
{
	Suite *s = suite_create("sizing");
	TCase *tc = tcase_create("rule");

	tcase_add_test(tc, table);
	tcase_add_test(tc, spike);
	tcase_add_test(tc, zero_since);
	suite_add_tcase(s, tc);
	return s;
}

DS_CHECK_MAIN(sizing_suite)
