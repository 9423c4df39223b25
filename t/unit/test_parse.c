/* test_parse.c: strict number parsing for command lines (common/parse.h). */
#include "common/parse.h"

#include "unit.h"

#include <stdint.h>

static int64_t got;

static int
p64(const char *s, int64_t min, int64_t max)
{
	got = 424242;
	return ds_parse_int64(s, min, max, &got);
}

/* s parses in [min, max] to want. */
static void
int_ok(const char *s, int64_t min, int64_t max, int64_t want)
{
	ck_assert_msg(p64(s, min, max) == 0, "\"%s\" rejected", s);
	ck_assert_int_eq(got, want);
}

/* s is rejected and *out is left alone. */
static void
int_bad(const char *s, int64_t min, int64_t max)
{
	ck_assert_msg(p64(s, min, max) == -1, "\"%s\" accepted", s);
	ck_assert_int_eq(got, 424242);
}

START_TEST(int64_valid)
{
	int_ok("0", 0, 10, 0);
	int_ok("7", 0, 10, 7);
	int_ok("10", 0, 10, 10);
	int_ok("007", 0, 10, 7);
	int_ok("-5", -10, 10, -5);
	int_ok("-0", 0, 10, 0);
	int_ok("9223372036854775807", INT64_MIN, INT64_MAX, INT64_MAX);
	int_ok("-9223372036854775808", INT64_MIN, INT64_MAX, INT64_MIN);
	int_ok("65535", 0, 65535, 65535);
}
END_TEST

START_TEST(int64_bounds)
{
	int_bad("11", 0, 10);
	int_bad("-1", 0, 10);
	int_bad("0", 1, 10);
	int_bad("-11", -10, 10);
	int_bad("65536", 0, 65535);
	int_bad("9223372036854775808", INT64_MIN, INT64_MAX);
	int_bad("-9223372036854775809", INT64_MIN, INT64_MAX);
	int_bad("99999999999999999999999", INT64_MIN, INT64_MAX);
}
END_TEST

START_TEST(int64_junk)
{
	int_bad("", 0, 10);
	int_bad(" 5", 0, 10);
	int_bad("\t5", 0, 10);
	int_bad("5 ", 0, 10);
	int_bad("5\n", 0, 10);
	int_bad("+5", 0, 10);
	int_bad("-", 0, 10);
	int_bad("--5", -10, 10);
	int_bad("- 5", -10, 10);
	int_bad("5x", 0, 10);
	int_bad("x5", 0, 10);
	int_bad("1.0", 0, 10);
	int_bad("1e1", 0, 100);
	int_bad("0x5", 0, 10);
	int_bad("five", 0, 10);
}
END_TEST

START_TEST(seconds_valid)
{
	ck_assert_int_eq(ds_parse_seconds_ms("5", 3600), 5000);
	ck_assert_int_eq(ds_parse_seconds_ms("1.5", 3600), 1500);
	ck_assert_int_eq(ds_parse_seconds_ms(".5", 3600), 500);
	ck_assert_int_eq(ds_parse_seconds_ms("0.25", 3600), 250);
	ck_assert_int_eq(ds_parse_seconds_ms("0.001", 3600), 1);
	ck_assert_int_eq(ds_parse_seconds_ms("0.0015", 3600), 2);	/* rounds */
	ck_assert_int_eq(ds_parse_seconds_ms("1.0004", 3600), 1000);
	ck_assert_int_eq(ds_parse_seconds_ms("300", 86400), 300000);
	ck_assert_int_eq(ds_parse_seconds_ms("3600", 3600), 3600000);
	ck_assert_int_eq(ds_parse_seconds_ms("86400", 86400), 86400000);
	ck_assert_int_eq(ds_parse_seconds_ms("007", 3600), 7000);
	ck_assert_int_eq(ds_parse_seconds_ms("5.", 3600), 5000);
}
END_TEST

/* Anything > 0 is at least 1 ms: a tiny positive value is not turned into
 * "no limit" or rejected. */
START_TEST(seconds_tiny_rounds_up)
{
	ck_assert_int_eq(ds_parse_seconds_ms("0.0001", 3600), 1);
	ck_assert_int_eq(ds_parse_seconds_ms("0.0004999", 3600), 1);
	ck_assert_int_eq(ds_parse_seconds_ms("0.000000001", 3600), 1);
}
END_TEST

START_TEST(seconds_bad)
{
	ck_assert_int_eq(ds_parse_seconds_ms("0", 3600), -1);
	ck_assert_int_eq(ds_parse_seconds_ms("0.0", 3600), -1);
	ck_assert_int_eq(ds_parse_seconds_ms("-1", 3600), -1);
	ck_assert_int_eq(ds_parse_seconds_ms("-0.5", 3600), -1);
	ck_assert_int_eq(ds_parse_seconds_ms("3600.001", 3600), -1);
	ck_assert_int_eq(ds_parse_seconds_ms("86401", 86400), -1);
	ck_assert_int_eq(ds_parse_seconds_ms("1e999", 1e308), -1);
	ck_assert_int_eq(ds_parse_seconds_ms("", 3600), -1);
	ck_assert_int_eq(ds_parse_seconds_ms(" 5", 3600), -1);
	ck_assert_int_eq(ds_parse_seconds_ms("5 ", 3600), -1);
	ck_assert_int_eq(ds_parse_seconds_ms("+5", 3600), -1);
	ck_assert_int_eq(ds_parse_seconds_ms("5s", 3600), -1);
	ck_assert_int_eq(ds_parse_seconds_ms("1,5", 3600), -1);
	ck_assert_int_eq(ds_parse_seconds_ms(".", 3600), -1);
	ck_assert_int_eq(ds_parse_seconds_ms("inf", 3600), -1);
	ck_assert_int_eq(ds_parse_seconds_ms("nan", 3600), -1);
	ck_assert_int_eq(ds_parse_seconds_ms("abc", 3600), -1);
	ck_assert_int_eq(ds_parse_seconds_ms("1.2.3", 3600), -1);
	/* decimal only, as the usage says: no hex, no exponent */
	ck_assert_int_eq(ds_parse_seconds_ms("0x10", 3600), -1);
	ck_assert_int_eq(ds_parse_seconds_ms("0x1p-20", 3600), -1);
	ck_assert_int_eq(ds_parse_seconds_ms("1e3", 3600), -1);
	ck_assert_int_eq(ds_parse_seconds_ms("1E1", 3600), -1);
	ck_assert_int_eq(ds_parse_seconds_ms("5e-1", 3600), -1);
}
END_TEST

START_TEST(clocks)
{
	int64_t a = ds_now_ms(), b = ds_now_ms();

	ck_assert_int_ge(a, 0);
	ck_assert_int_ge(b, a);
	/* after 2020-01-01 */
	ck_assert_int_gt(ds_wall_ms(), INT64_C(1577836800000));
}
END_TEST

static Suite *
parse_suite(void)
{
	Suite *s = suite_create("parse");
	TCase *tc;

	tc = tcase_create("int64");
	tcase_add_test(tc, int64_valid);
	tcase_add_test(tc, int64_bounds);
	tcase_add_test(tc, int64_junk);
	suite_add_tcase(s, tc);

	tc = tcase_create("seconds");
	tcase_add_test(tc, seconds_valid);
	tcase_add_test(tc, seconds_tiny_rounds_up);
	tcase_add_test(tc, seconds_bad);
	tcase_add_test(tc, clocks);
	suite_add_tcase(s, tc);
	return s;
}

DS_CHECK_MAIN(parse_suite)
