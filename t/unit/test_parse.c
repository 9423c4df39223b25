/* test_parse.c: strict number parsing for command lines (common/parse.h). */
#include "common/parse.h"

#include "unit.h"

#include <inttypes.h>
#include <stdint.h>

#define REJECTED	INT64_C(424242)	/* what *out holds if s is rejected */

/* A string, the range it must be in, and what it parses to (REJECTED). */
static const struct {
	const char *s;
	int64_t min, max, want;
} int64_cases[] = {
	{"0", 0, 10, 0},
	{"7", 0, 10, 7},
	{"10", 0, 10, 10},
	{"007", 0, 10, 7},
	{"-5", -10, 10, -5},
	{"-0", 0, 10, 0},
	{"9223372036854775807", INT64_MIN, INT64_MAX, INT64_MAX},
	{"-9223372036854775808", INT64_MIN, INT64_MAX, INT64_MIN},
	{"65535", 0, 65535, 65535},

	/* out of bounds */
	{"11", 0, 10, REJECTED},
	{"-1", 0, 10, REJECTED},
	{"0", 1, 10, REJECTED},
	{"-11", -10, 10, REJECTED},
	{"65536", 0, 65535, REJECTED},
	{"9223372036854775808", INT64_MIN, INT64_MAX, REJECTED},
	{"-9223372036854775809", INT64_MIN, INT64_MAX, REJECTED},
	{"99999999999999999999999", INT64_MIN, INT64_MAX, REJECTED},

	/* not a plain decimal integer */
	{"", 0, 10, REJECTED},
	{" 5", 0, 10, REJECTED},
	{"\t5", 0, 10, REJECTED},
	{"5 ", 0, 10, REJECTED},
	{"5\n", 0, 10, REJECTED},
	{"+5", 0, 10, REJECTED},
	{"-", 0, 10, REJECTED},
	{"--5", -10, 10, REJECTED},
	{"- 5", -10, 10, REJECTED},
	{"5x", 0, 10, REJECTED},
	{"x5", 0, 10, REJECTED},
	{"1.0", 0, 10, REJECTED},
	{"1e1", 0, 100, REJECTED},
	{"0x5", 0, 10, REJECTED},
	{"five", 0, 10, REJECTED},
};

START_TEST(int64)
{
	int64_t got = REJECTED;
	int rc = ds_parse_int64(int64_cases[_i].s, int64_cases[_i].min,
	    int64_cases[_i].max, &got);
	int64_t want = int64_cases[_i].want;

	/* a rejected string leaves *out alone */
	ck_assert_msg(rc == (want == REJECTED ? -1 : 0) && got == want,
	    "case \"%s\" in [%" PRId64 ", %" PRId64 "]: %d, %" PRId64 ", "
	    "expected %" PRId64, ds_show(int64_cases[_i].s,
	    strlen(int64_cases[_i].s)), int64_cases[_i].min,
	    int64_cases[_i].max, rc, got, want);
}
END_TEST

/* A string, the most seconds it may be, and the milliseconds it gives (-1:
 * rejected). */
static const struct {
	const char *s;
	double max;
	int64_t want;
} seconds_cases[] = {
	{"5", 3600, 5000},
	{"1.5", 3600, 1500},
	{".5", 3600, 500},
	{"0.25", 3600, 250},
	{"0.001", 3600, 1},
	{"0.0015", 3600, 2},	/* rounds */
	{"1.0004", 3600, 1000},
	{"300", 86400, 300000},
	{"3600", 3600, 3600000},
	{"86400", 86400, 86400000},
	{"007", 3600, 7000},
	{"5.", 3600, 5000},

	/* Anything > 0 is at least 1 ms: a tiny positive value is not turned
	 * into "no limit" or rejected. */
	{"0.0001", 3600, 1},
	{"0.0004999", 3600, 1},
	{"0.000000001", 3600, 1},

	{"0", 3600, -1},
	{"0.0", 3600, -1},
	{"-1", 3600, -1},
	{"-0.5", 3600, -1},
	{"3600.001", 3600, -1},
	{"86401", 86400, -1},
	{"1e999", 1e308, -1},
	{"", 3600, -1},
	{" 5", 3600, -1},
	{"5 ", 3600, -1},
	{"+5", 3600, -1},
	{"5s", 3600, -1},
	{"1,5", 3600, -1},
	{".", 3600, -1},
	{"inf", 3600, -1},
	{"nan", 3600, -1},
	{"abc", 3600, -1},
	{"1.2.3", 3600, -1},
	/* decimal only, as the usage says: no hex, no exponent */
	{"0x10", 3600, -1},
	{"0x1p-20", 3600, -1},
	{"1e3", 3600, -1},
	{"1E1", 3600, -1},
	{"5e-1", 3600, -1},
};

START_TEST(seconds)
{
	int64_t got = ds_parse_seconds_ms(seconds_cases[_i].s,
	    seconds_cases[_i].max);

	ck_assert_msg(got == seconds_cases[_i].want, "case \"%s\" up to %g: "
	    "%" PRId64 ", expected %" PRId64, seconds_cases[_i].s,
	    seconds_cases[_i].max, got, seconds_cases[_i].want);
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

	tc = ds_tcase(s, "int64", NULL, NULL);
	tcase_add_loop_test(tc, int64, 0, NELEM(int64_cases));

	tc = ds_tcase(s, "seconds", NULL, NULL);
	tcase_add_loop_test(tc, seconds, 0, NELEM(seconds_cases));
	tcase_add_test(tc, clocks);
	return s;
}

DS_CHECK_MAIN(parse_suite)
