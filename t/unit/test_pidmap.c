/* test_pidmap.c: pid -> index (master/pidmap.h) against a plain array,
 * through growth and many deletions (the backward shift is the part that
 * goes wrong). */
#include "master/pidmap.h"

#include "unit.h"

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

static Suite *
pidmap_suite(void)
{
	Suite *s = suite_create("pidmap");
	TCase *tc = tcase_create("pidmap");

	tcase_add_test(tc, matches_a_plain_array);
	tcase_add_test(tc, edges);
	suite_add_tcase(s, tc);
	return s;
}

DS_CHECK_MAIN(pidmap_suite)
