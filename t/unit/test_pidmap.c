/* test_pidmap.c: pid -> index (master/pidmap.h) against a plain array,
 * through growth and many deletions (the backward shift is the part that
 * goes wrong). */
#include "master/pidmap.h"

#include "unit.h"

#include <stdint.h>
#include <stdlib.h>

#define N 5000

START_TEST(matches_a_plain_array)
{
	static size_t ref[4 * N];	/* pid -> index + 1, 0: absent */
	struct ds_pidmap pm = {0};
	unsigned seed = 42;

	for (int round = 0; round < 20 * N; round++) {
		pid_t pid = 1 + (pid_t)(rand_r(&seed) % (4 * N - 1));

		if (rand_r(&seed) % 3 == 0) {
			ds_pidmap_del(&pm, pid);
			ref[pid] = 0;
		} else {
			ck_assert_int_eq(ds_pidmap_put(&pm, pid, (size_t)round), 0);
			ref[pid] = (size_t)round + 1;
		}
	}
	for (pid_t pid = 1; pid < 4 * N; pid++)
		ck_assert_msg(ds_pidmap_get(&pm, pid) + 1 == ref[pid],
		    "pid %d", (int)pid);
	ds_pidmap_free(&pm);
}
END_TEST

START_TEST(edges)
{
	struct ds_pidmap pm = {0};

	ck_assert_uint_eq(ds_pidmap_get(&pm, 5), (size_t)-1);
	ds_pidmap_del(&pm, 5);		/* nothing there: fine */
	ck_assert_int_eq(ds_pidmap_put(&pm, 0, 1), -1);
	ck_assert_int_eq(ds_pidmap_put(&pm, -3, 1), -1);
	ck_assert_int_eq(ds_pidmap_put(&pm, 7, 1), 0);
	ck_assert_int_eq(ds_pidmap_put(&pm, 7, 2), 0);	/* replaces */
	ck_assert_uint_eq(pm.n, 1);
	ck_assert_uint_eq(ds_pidmap_get(&pm, 7), 2);
	ds_pidmap_del(&pm, 7);
	ck_assert_uint_eq(pm.n, 0);
	ck_assert_uint_eq(ds_pidmap_get(&pm, 7), (size_t)-1);
	ds_pidmap_free(&pm);
}
END_TEST

/* The home slot of pid in a map of cap slots: pidmap.c's hash, written
 * again here so that a test can place entries where it wants them. */
static size_t
home_of(pid_t pid, size_t cap)
{
	return (size_t)(((uint64_t)(uint32_t)pid * 11400714819323198485ull) >>
	    32) & (cap - 1);
}

/* pids whose home is slot h of a 64-slot map (a new map's size) */
static void
pids_at(size_t h, pid_t *out, int n)
{
	for (pid_t pid = 1; n > 0; pid++)
		if (home_of(pid, 64) == h) {
			*out++ = pid;
			n--;
		}
}

/* Deletion where the probe run wraps past the last slot: each row puts
 * pids with these homes in order, deletes the first, and every other one
 * must still be found. The entry wrapped to slot 0 whose home is the hole
 * itself is the edge a random test almost never makes. */
static const struct {
	const char *what;
	size_t homes[3];
	int n;
} wrap_cases[] = {
	{"two at the last slot, the second wrapped to 0", {63, 63}, 2},
	{"three at the last slot", {63, 63, 63}, 3},
	{"one before the last, two wrapped", {62, 62, 62}, 3},
	{"a wrapped one whose home is slot 0 stays", {63, 63, 0}, 3},
};

START_TEST(delete_across_the_wrap)
{
	struct ds_pidmap pm = {0};
	pid_t pids[3];
	int n = wrap_cases[_i].n;

	for (int k = 0; k < n; k++) {
		pid_t pick[3];
		int same = 0;	/* earlier rows of this home: take the next pid */

		for (int m = 0; m < k; m++)
			same += wrap_cases[_i].homes[m] == wrap_cases[_i].homes[k];
		pids_at(wrap_cases[_i].homes[k], pick, same + 1);
		pids[k] = pick[same];
		ck_assert_int_eq(ds_pidmap_put(&pm, pids[k], (size_t)k), 0);
	}
	ck_assert_uint_eq(pm.cap, 64);
	ds_pidmap_del(&pm, pids[0]);
	ck_assert_uint_eq(ds_pidmap_get(&pm, pids[0]), (size_t)-1);
	for (int k = 1; k < n; k++)
		ck_assert_msg(ds_pidmap_get(&pm, pids[k]) == (size_t)k,
		    "%s: pid %d lost", wrap_cases[_i].what, (int)pids[k]);
	ds_pidmap_free(&pm);
}
END_TEST

static Suite *
pidmap_suite(void)
{
	Suite *s = suite_create("pidmap");
	TCase *tc = tcase_create("pidmap");

	tcase_add_test(tc, matches_a_plain_array);
	tcase_add_test(tc, edges);
	tcase_add_loop_test(tc, delete_across_the_wrap, 0, NELEM(wrap_cases));
	suite_add_tcase(s, tc);
	return s;
}

DS_CHECK_MAIN(pidmap_suite)
