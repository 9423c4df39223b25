/* test_roll_rule.c: the rule that rolls a pool's workers to the master's
 * version (master/roll_rule.h), one row per situation: figures in, what
 * the roll does out; and the budget a spare must fit in. */
#include "master/roll_rule.h"

#include "unit.h"

#define T0 1000000		/* a monotonic "now" well past 0 */

/* The fields in the order of struct ds_roll_in: stopping, stalled,
 * rolling, old, old_idle, filling, spare, spare_current, fails, room,
 * now, retry_at. */
#define IN(stalled, rolling, old, idle, spare, cur, fails, room, retry) \
	{0, stalled, rolling, old, idle, 0, spare, cur, fails, room, T0, retry}
#define FILLING(n, spare) \
	{0, 0, 0, 3, 1, n, spare, 1, 0, 1, T0, 0}

static const struct {
	const char *what;
	struct ds_roll_in in;
	enum ds_roll_act want;
} cases[] = {
	{"every worker current, no roll: nothing",
	    IN(0, 0, 0, 0, DS_SPARE_NONE, 0, 0, 1, 0), DS_ROLL_WAIT},
	{"old workers, room: a spare is asked for",
	    IN(0, 0, 3, 1, DS_SPARE_NONE, 0, 0, 1, 0), DS_ROLL_SPAWN},
	{"old workers all busy: the spare is still started first",
	    IN(0, 1, 3, 0, DS_SPARE_NONE, 0, 0, 1, 0), DS_ROLL_SPAWN},
	{"old workers, no room in the budget: waits",
	    IN(0, 0, 3, 1, DS_SPARE_NONE, 0, 0, 0, 0), DS_ROLL_WAIT},
	{"old workers, spare lost a moment ago: waits out the backoff",
	    IN(0, 1, 3, 1, DS_SPARE_NONE, 0, 1, 1, T0 + 1), DS_ROLL_WAIT},
	{"backoff over: asks again",
	    IN(0, 1, 3, 1, DS_SPARE_NONE, 0, 1, 1, T0), DS_ROLL_SPAWN},
	{"spare in flight or starting: one at a time, waits",
	    IN(0, 1, 3, 3, DS_SPARE_STARTING, 0, 0, 1, 0), DS_ROLL_WAIT},
	{"spare up and current, an old one idle: hand over",
	    IN(0, 1, 3, 1, DS_SPARE_UP, 1, 0, 1, 0), DS_ROLL_HANDOVER},
	{"spare up and current, every old one busy: waits for an idle one",
	    IN(0, 1, 3, 0, DS_SPARE_UP, 1, 0, 1, 0), DS_ROLL_WAIT},
	{"spare up, old binary on disk: stalls",
	    IN(0, 1, 3, 1, DS_SPARE_UP, 0, 0, 1, 0), DS_ROLL_STALL},
	{"spare up, not current, nothing idle: stalls all the same",
	    IN(0, 1, 3, 0, DS_SPARE_UP, 0, 0, 1, 0), DS_ROLL_STALL},
	{"spare up, the old ones left by themselves: the spare goes",
	    IN(0, 1, 0, 0, DS_SPARE_UP, 1, 0, 1, 0), DS_ROLL_DROP_SPARE},
	{"stalled: no spare asked for, however many are old",
	    IN(1, 0, 3, 3, DS_SPARE_NONE, 0, 0, 1, 0), DS_ROLL_WAIT},
	{"stalled with a spare up: the spare goes",
	    IN(1, 0, 3, 3, DS_SPARE_UP, 1, 0, 1, 0), DS_ROLL_DROP_SPARE},
	{"stalled, a spare still starting: waits for it",
	    IN(1, 0, 3, 3, DS_SPARE_STARTING, 0, 0, 1, 0), DS_ROLL_WAIT},
	{"spare lost before it was up: retry after a backoff",
	    IN(0, 1, 3, 1, DS_SPARE_LOST, 0, 0, 1, 0), DS_ROLL_RETRY},
	{"spare lost again, one short of the limit: retry",
	    IN(0, 1, 3, 1, DS_SPARE_LOST, 0, DS_ROLL_MAX_FAILS - 2, 1, 0),
	    DS_ROLL_RETRY},
	{"spare lost the last time allowed: stalls, no endless respawn",
	    IN(0, 1, 3, 1, DS_SPARE_LOST, 0, DS_ROLL_MAX_FAILS - 1, 1, 0),
	    DS_ROLL_STALL},
	{"a slot due a worker (the pool's start): no spare yet",
	    FILLING(1, DS_SPARE_NONE), DS_ROLL_WAIT},
	{"the pool filled: a spare",
	    FILLING(0, DS_SPARE_NONE), DS_ROLL_SPAWN},
	{"a spare up while a slot refills: the handover goes on",
	    FILLING(1, DS_SPARE_UP), DS_ROLL_HANDOVER},
	{"rolling, no old one left, no spare: done",
	    IN(0, 1, 0, 0, DS_SPARE_NONE, 0, 0, 1, 0), DS_ROLL_DONE},
	{"rolling, no old one left, no room: done all the same",
	    IN(0, 1, 0, 0, DS_SPARE_NONE, 0, 0, 0, 0), DS_ROLL_DONE},
};

START_TEST(table)
{
	enum ds_roll_act got = ds_roll_rule(&cases[_i].in);

	ck_assert_msg(got == cases[_i].want, "%s: got %s, want %s",
	    cases[_i].what, ds_roll_act_name(got),
	    ds_roll_act_name(cases[_i].want));
}
END_TEST

/* A stop or a drain retires the spare with everyone else: the roll does
 * nothing, whatever else holds. */
START_TEST(stopping_does_nothing)
{
	struct ds_roll_in in = cases[_i].in;

	in.stopping = 1;
	ck_assert_int_eq(ds_roll_rule(&in), DS_ROLL_WAIT);
}
END_TEST

/* workers, reserve, nofile, nproc: one more worker fits or not. */
static const struct {
	const char *what;
	uint64_t workers, reserve, nofile, nproc;
	int want;
} rooms[] = {
	{"plenty", 10, 288, 65536, UINT64_MAX, 1},
	{"exactly the descriptors for one more", 10, 288,
	    11 * DS_ROLL_FDS_PER_WORKER + 288, UINT64_MAX, 1},
	{"one descriptor short", 10, 288,
	    11 * DS_ROLL_FDS_PER_WORKER + 287, UINT64_MAX, 0},
	{"no descriptors past the reserve", 0, 288, 288, UINT64_MAX, 0},
	{"processes: the worker and the queue monitor fit", 10, 288, 65536,
	    12, 1},
	{"processes: one short", 10, 288, 65536, 11, 0},
	{"no file limit", UINT64_MAX - 1, 288, UINT64_MAX, UINT64_MAX, 0},
	{"a count that would overflow", UINT64_MAX, 288, UINT64_MAX,
	    UINT64_MAX, 0},
};

START_TEST(room)
{
	ck_assert_msg(ds_roll_room(rooms[_i].workers, rooms[_i].reserve,
	    rooms[_i].nofile, rooms[_i].nproc) == rooms[_i].want, "%s",
	    rooms[_i].what);
}
END_TEST

START_TEST(act_names)
{
	ck_assert_str_eq(ds_roll_act_name(DS_ROLL_HANDOVER), "handover");
	ck_assert_str_eq(ds_roll_act_name(DS_ROLL_DONE), "done");
	ck_assert_str_eq(ds_roll_act_name((enum ds_roll_act)99), "?");
}
END_TEST

static Suite *
roll_rule_suite(void)
{
	Suite *s = suite_create("roll_rule");
	TCase *tc = tcase_create("roll_rule");

	tcase_add_loop_test(tc, table, 0, NELEM(cases));
	tcase_add_loop_test(tc, stopping_does_nothing, 0, NELEM(cases));
	tcase_add_loop_test(tc, room, 0, NELEM(rooms));
	tcase_add_test(tc, act_names);
	suite_add_tcase(s, tc);
	return s;
}

DS_CHECK_MAIN(roll_rule_suite)
