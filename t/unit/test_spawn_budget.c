/* test_spawn_budget.c: how many spawns one turn of the master's loop may
 * try (master/spawn_budget.h), one row per situation: the turn so far in,
 * one more or not out; then the count of a turn's spawns. */
#include "master/spawn_budget.h"

#include "unit.h"

#define B DS_SPAWN_BUDGET_US

static const struct {
	const char *what;
	struct ds_spawn_turn turn;
	int64_t budget_us;
	int want;
} cases[] = {
	{"the first spawn of a turn always", {0, 0, 0}, B, 1},
	{"the first even with the budget spent", {0, 5 * B, 5 * B}, B, 1},
	{"the first even with no budget", {0, 0, 0}, 0, 1},
	{"fast spawns: more while the next fits", {3, 3000, 1000}, B, 1},
	{"the next one ends exactly at the budget", {9, 9000, 1000}, B, 1},
	{"the next one would end past the budget", {9, 9500, 1000}, B, 0},
	{"the budget spent", {10, B, 0}, B, 0},
	{"past the budget", {1, 2 * B, 2 * B}, B, 0},
	{"one slow spawn (a loaded machine): the turn ends", {1, 40000, 40000},
	    B, 0},
	{"a slow spawn early: the next would not fit", {2, 2000, 9000}, B, 0},
	{"no budget: one a turn", {1, 0, 0}, 0, 0},
	{"a clock that stepped back counts as no time", {1, -5000, -5000}, B,
	    1},
	{"huge figures do not overflow", {1, INT64_MAX, INT64_MAX}, B, 0},
	{"huge last spawn after a little time", {1, 1, INT64_MAX}, B, 0},
};

START_TEST(more)
{
	int got = ds_spawn_more(&cases[_i].turn, cases[_i].budget_us);

	ck_assert_msg(got == cases[_i].want, "%s: got %d, want %d",
	    cases[_i].what, got, cases[_i].want);
}
END_TEST

static const struct {
	const char *what;
	int64_t first, begin, end;
	struct ds_spawn_turn want;
} counts[] = {
	{"the first spawn of a turn", 100, 100, 1100, {1, 1000, 1000}},
	{"a later one", 100, 5000, 6500, {1, 6400, 1500}},
	{"a clock that stepped back", 100, 5000, 50, {1, 0, 0}},
};

START_TEST(count)
{
	struct ds_spawn_turn t = {0, 0, 0};

	ds_spawn_count(&t, counts[_i].first, counts[_i].begin, counts[_i].end);
	ck_assert_msg(t.started == counts[_i].want.started &&
	    t.spent_us == counts[_i].want.spent_us &&
	    t.last_us == counts[_i].want.last_us,
	    "%s: got %d %lld %lld", counts[_i].what, t.started,
	    (long long)t.spent_us, (long long)t.last_us);
}
END_TEST

/* A turn of spawns taking 700 us each, as on an idle machine: as many as
 * fit in the budget, and the turn ends within it. */
START_TEST(a_fast_turn)
{
	struct ds_spawn_turn t = {0, 0, 0};
	int64_t now = 0;

	while (ds_spawn_more(&t, B)) {
		ds_spawn_count(&t, 0, now, now + 700);
		now += 700;
	}
	ck_assert_int_eq(t.started, B / 700);
	ck_assert_int_le(t.spent_us, B);
}
END_TEST

static Suite *
spawn_budget_suite(void)
{
	Suite *s = suite_create("spawn_budget");
	TCase *tc = tcase_create("rule");

	tcase_add_loop_test(tc, more, 0, NELEM(cases));
	tcase_add_loop_test(tc, count, 0, NELEM(counts));
	tcase_add_test(tc, a_fast_turn);
	suite_add_tcase(s, tc);
	return s;
}

DS_CHECK_MAIN(spawn_budget_suite)
