/* test_json_syntax.c: the strict JSON syntax check on its own: what it
 * accepts, and the line, column and reason it gives for what it does not.
 * The full messages, with the file name, are in test_config.c. */
#include "config/json_syntax.h"

#include "unit.h"

#include <stdlib.h>
#include <string.h>

static struct ds_json_syntax_error err;

/* Checks len bytes from an exact-size heap copy, so that ASan catches any
 * read past the end. */
static int
check_len(const char *text, size_t len)
{
	char *copy = malloc(len ? len : 1);
	int rc;

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, text, len);
	memset(&err, 0, sizeof(err));
	rc = ds_json_syntax_check(copy, len, &err);
	free(copy);
	return rc;
}

static void
good(const char *text)
{
	ck_assert_msg(check_len(text, strlen(text)) == 0, "%s: %zu:%zu: %s",
	    text, err.line, err.col, err.reason);
}

static void
bad(const char *text, size_t line, size_t col, const char *reason)
{
	ck_assert_int_eq(check_len(text, strlen(text)), -1);
	ck_assert_uint_eq(err.line, line);
	ck_assert_uint_eq(err.col, col);
	ck_assert_str_eq(err.reason, reason);
}

START_TEST(accepts)
{
	good("{}");
	good("[]");
	good("0");
	good("-0.5e+10");
	good("1E-2");
	good("\"x\"");
	good("true");
	good("false");
	good("null");
	good(" \t\r\n{\"a\": [1, {\"b\": null}], \"c\": \"\\\"\\\\\\/\\b\\f\\n"
	    "\\r\\t\"} \n");
	good("\xEF\xBB\xBF{}");
	good("[\"\\ud83d\\ude00\", \"\\u00E9\", \"\xC3\xA9\"]");
}
END_TEST

START_TEST(rejects)
{
	bad("", 1, 1, "the file is empty");
	bad("\xEF\xBB\xBF \n", 1, 1, "the file is empty");
	bad("\n\n  ]", 3, 3, "expected a value, got ']'");
	bad("{\"a\": 1,}", 1, 9, "trailing comma before '}'");
	bad("[1]]", 1, 4, "unexpected text after the top-level value");
	bad("[\"\\ud800\\u0041\"]", 1, 3, "UTF-16 high surrogate without a "
	    "low surrogate");
	bad("[\"\\u00g0\"]", 1, 3, "\\u must be followed by 4 hex digits");
	bad("[\"a\\", 1, 2, "unterminated string");
	bad("[1,\n\x7F]", 2, 1, "expected a value, got byte 0x7F");
	bad("[ ", 1, 3, "expected a value, got end of input");
	bad("nul", 1, 1, "expected a value, got 'n'");
	/* The BOM takes no column; later lines never see it. */
	bad("\xEF\xBB\xBF[x]", 1, 2, "expected a value, got 'x'");
	bad("\xEF\xBB\xBF[\n x]", 2, 2, "expected a value, got 'x'");
	/* The longest reason fits whole. */
	bad("[\"\n\"]", 1, 3, "control character in a string (write it as an "
	    "escape such as \\n)");
}
END_TEST

START_TEST(not_nul_terminated)
{
	/* Only len bytes are looked at: what follows does not count. */
	ck_assert_int_eq(check_len("[1] junk", 3), 0);
	ck_assert_int_eq(check_len("[1", 2), -1);
	ck_assert_str_eq(err.reason, "expected ',' or ']' after an array "
	    "element, got end of input");
	ck_assert_int_eq(check_len("tru", 3), -1);
	ck_assert_int_eq(check_len("[\"\\u00", 6), -1);
	ck_assert_str_eq(err.reason, "\\u must be followed by 4 hex digits");
	ck_assert_int_eq(check_len("\"\\ud800\\u", 9), -1);
	ck_assert_str_eq(err.reason, "UTF-16 high surrogate without a low "
	    "surrogate");
}
END_TEST

START_TEST(depth_limit)
{
	char text[2 * (DS_JSON_MAX_DEPTH + 2)];
	size_t n = DS_JSON_MAX_DEPTH + 1;

	/* The top-level value is depth 0, so MAX + 1 brackets still pass. */
	memset(text, '[', n);
	memset(text + n, ']', n);
	ck_assert_int_eq(check_len(text, 2 * n), 0);
	n++;
	memset(text, '[', n);
	memset(text + n, ']', n);
	ck_assert_int_eq(check_len(text, 2 * n), -1);
	ck_assert_uint_eq(err.col, n);
	ck_assert_str_eq(err.reason, "nesting too deep");
}
END_TEST

static Suite *
json_syntax_suite(void)
{
	Suite *s = suite_create("json_syntax");
	TCase *tc = tcase_create("check");

	tcase_add_test(tc, accepts);
	tcase_add_test(tc, rejects);
	tcase_add_test(tc, not_nul_terminated);
	tcase_add_test(tc, depth_limit);
	suite_add_tcase(s, tc);
	return s;
}

DS_CHECK_MAIN(json_syntax_suite)
