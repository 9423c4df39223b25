/* test_limits.c: the descriptor budget a config needs and the retry
 * backoff that spawn failures and crashing slots share. */
#include "master/limits.h"

#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

START_TEST(backoff_steps)
{
	static const struct { int step; int64_t ms; } cases[] = {
		{-1, 0}, {0, 0}, {1, 1000}, {2, 2000}, {3, 4000}, {4, 8000},
		{5, 16000}, {6, 30000}, {7, 30000}, {1000, 30000},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(ds_backoff_ms(cases[i].step) == cases[i].ms,
		    "step %d: %lld, want %lld", cases[i].step,
		    (long long)ds_backoff_ms(cases[i].step),
		    (long long)cases[i].ms);
}
END_TEST

static struct ds_config
config_of(const int *counts, size_t n)
{
	struct ds_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.pools = calloc(n, sizeof(*cfg.pools));
	ck_assert_ptr_nonnull(cfg.pools);
	cfg.npools = n;
	for (size_t i = 0; i < n; i++)
		cfg.pools[i].worker_count = counts[i];
	return cfg;
}

START_TEST(config_fits_descriptors)
{
	static const struct {
		int counts[3];
		uint64_t nofile;
		int fits;
	} cases[] = {
		{{0, 0, 0}, DS_FD_RESERVE, 1},
		{{0, 0, 0}, DS_FD_RESERVE - 1, 0},
		/* two each, and a spare a pool that has workers */
		{{350, 16, 0}, 1024, 1},
		{{350, 17, 0}, 1024, 0},
		{{10000, 10000, 10000}, 60006 + DS_FD_RESERVE, 1},
		{{10000, 10000, 10000}, 60005 + DS_FD_RESERVE, 0},
		{{10000, 10000, 10000}, UINT64_MAX, 1},
		{{1, 0, 0}, 40, 0},
	};
	char err[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ds_config cfg = config_of(cases[i].counts, 3);
		int rc = ds_config_fits(&cfg, cases[i].nofile, err, sizeof(err));

		ck_assert_msg((rc == 0) == cases[i].fits, "case %zu", i);
		free(cfg.pools);
	}
}
END_TEST

START_TEST(config_too_big_says_what_to_do)
{
	int counts[] = {1000};
	struct ds_config cfg = config_of(counts, 1);
	char err[512], want[512];

	ck_assert_int_eq(ds_config_fits(&cfg, 1024, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "1000 workers need %d descriptors (2 "
	    "each, one more worker a pool while an upgrade rolls them, and %d "
	    "for the master), but RLIMIT_NOFILE is 1024: lower worker_count "
	    "or raise the limit (ulimit -n, LimitNOFILE=)",
	    2 * 1001 + DS_FD_RESERVE, DS_FD_RESERVE);
	ck_assert_str_eq(err, want);
	free(cfg.pools);
}
END_TEST

static Suite *
limits_suite(void)
{
	Suite *s = suite_create("limits");
	TCase *tc = tcase_create("limits");

	tcase_add_test(tc, backoff_steps);
	tcase_add_test(tc, config_fits_descriptors);
	tcase_add_test(tc, config_too_big_says_what_to_do);
	suite_add_tcase(s, tc);
	return s;
}

DS_CHECK_MAIN(limits_suite)
