/* test_json_scan.c: the tree-less walk over an endpoint's body
 * (worker/json_scan.h) accepts exactly what cJSON parses, quirks included,
 * and hands over the top-level members as written. cJSON itself is the
 * oracle: every case is also parsed whole with it. */
#include "worker/json_scan.h"

#include "unit.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What the worker made of a body when cJSON parsed it whole: cJSON's
 * verdict, then nothing but space, tab, CR or LF after the value. */
static enum ds_json_shape
cjson_shape(const char *text, size_t len)
{
	const char *end = NULL;
	cJSON *v = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	enum ds_json_shape shape;

	if (v == NULL)
		return DS_JSON_INVALID;
	shape = cJSON_IsObject(v) ? DS_JSON_OBJECT : DS_JSON_OTHER;
	cJSON_Delete(v);
	for (; end < text + len; end++)
		if (*end != ' ' && *end != '\t' && *end != '\r' && *end != '\n')
			return DS_JSON_INVALID;
	return shape;
}

static int
count_member(const struct ds_json_member *m, void *ctx)
{
	(void)m;
	++*(int *)ctx;
	return 0;
}

/* Scans an exact-size heap copy (ASan sees any read past the end) and
 * checks the answer against want and against cJSON. */
static void
scans_as(const char *text, size_t len, enum ds_json_shape want)
{
	char *copy = malloc(len ? len : 1);
	int n = 0;

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, text, len);
	ck_assert_msg(ds_json_scan(copy, len, count_member, &n) == want,
	    "ds_json_scan(%.*s) != %d", (int)(len > 80 ? 80 : len), text, want);
	ck_assert_msg(cjson_shape(copy, len) == want, "cJSON(%.*s) != %d",
	    (int)(len > 80 ? 80 : len), text, want);
	free(copy);
}

#define OBJ	DS_JSON_OBJECT
#define OTHER	DS_JSON_OTHER
#define BAD	DS_JSON_INVALID

static const struct {
	const char		*text;
	enum ds_json_shape	 shape;
} cases[] = {
	{"{}", OBJ}, {" {\"a\":1} \r\n", OBJ}, {"[]", OTHER}, {"0", OTHER},
	{"\"s\"", OTHER}, {"null", OTHER}, {"true", OTHER}, {"false", OTHER},
	{"", BAD}, {" ", BAD}, {"{", BAD}, {"}", BAD}, {"[1,]", BAD},
	{"{\"a\":1,}", BAD}, {"{\"a\" 1}", BAD}, {"{\"a\":}", BAD},
	{"{1:1}", BAD}, {"{'a':1}", BAD}, {"[1 2]", BAD}, {"{} {}", BAD},
	{"{}x", BAD}, {"{}\f", BAD}, {"[nul]", BAD}, {"[tru]", BAD},
	{"[nullx]", BAD}, {"[True]", BAD}, {"[NaN]", BAD}, {"[Infinity]", BAD},
	/* white space between tokens is any byte up to 32, after the value
	 * only JSON's four */
	{"\x01{\x0b\"a\"\x1f:\x7f}", BAD}, {"\x01{\x0b\"a\"\x1f:1\x02}", OBJ},
	{"{}\x01", BAD},
	/* a BOM at the start, only in a body of 5 bytes or more */
	{"\xEF\xBB\xBF{}  ", OBJ}, {"\xEF\xBB\xBF{}", OBJ}, {"\xEF\xBB\xBF" "1", BAD},
	{" \xEF\xBB\xBF{}", BAD},
	/* numbers: what strtod() reads from [0-9+-eE.]* */
	{"[01]", OTHER}, {"[-.5]", OTHER}, {"[1.]", OTHER}, {"[-0]", OTHER},
	{"[1e5]", OTHER}, {"[1E+5]", OTHER}, {"[1e-05]", OTHER},
	{"[.5]", BAD}, {"[+1]", BAD}, {"[-]", BAD}, {"[-.]", BAD},
	{"[1e]", BAD}, {"[1e+]", BAD}, {"[1.2.3]", BAD}, {"[1-2]", BAD},
	{"[1+]", BAD}, {"[--1]", BAD}, {"[0x10]", BAD}, {"[1.e5]", OTHER},
	{"[-.e5]", BAD}, {"[1ee5]", BAD}, {"1e", BAD}, {"-", BAD},
	/* strings */
	{"[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]", OTHER}, {"[\"\\x\"]", BAD},
	{"[\"\\'\"]", BAD}, {"[\"a]", BAD}, {"[\"a\\\"]", BAD}, {"\"\\", BAD},
	{"[\"raw\x01\x1f\ttab\"]", OTHER}, {"[\"\xFF\xC0 not UTF-8\"]", OTHER},
	{"[\"\\u00e9\\uFFFF\"]", OTHER}, {"[\"\\u12\"]", BAD},
	{"[\"\\u123\"]", BAD},
	{"[\"\\ud83d\\ude00\"]", OTHER}, {"[\"\\uD800\"]", BAD},
	{"[\"\\uDC00\"]", BAD}, {"[\"\\uD800\\u0041\"]", BAD},
	{"[\"\\uD800\\uZZZZ\"]", BAD}, {"[\"\\uD800x\\uDC00\"]", BAD},
	{"[\"\\uDBFF\\uDFFF\"]", OTHER}, {"[\"\\uD800\\uDC0\"]", BAD},
	/* nested members are walked, not handed over */
	{"{\"a\":{\"b\":[{\"c\":[]}],\"d\":{}},\"e\":[[],{}]}", OBJ},
	{"{\"a\":{\"b\":1,}}", BAD}, {"{\"a\":[{]}", BAD}, {"{\"a\":[}", BAD},
};

START_TEST(same_as_cjson)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		scans_as(cases[i].text, strlen(cases[i].text), cases[i].shape);
}
END_TEST

/* "{"a":" + n opening and closing brackets + "}": n + 1 levels. */
START_TEST(nesting_limit)
{
	size_t n = CJSON_NESTING_LIMIT, len = 2 * n + 8;
	char *s = malloc(len);

	ck_assert_ptr_nonnull(s);
	for (size_t levels = n - 2; levels <= n + 1; levels++) {
		size_t o = (size_t)sprintf(s, "{\"a\":");

		memset(s + o, '[', levels - 1);
		memset(s + o + levels - 1, ']', levels - 1);
		s[o + 2 * (levels - 1)] = '}';
		scans_as(s, o + 2 * (levels - 1) + 1,
		    levels <= n ? OBJ : BAD);
	}
	free(s);
}
END_TEST

/* The installed cJSON hands every byte of a number to strtod(), however
 * long the run (builds that stopped at 63 bytes would fail here). */
START_TEST(long_numbers)
{
	size_t n = 100000;
	char *s = malloc(n + 16);

	ck_assert_ptr_nonnull(s);
	s[0] = '[';
	memset(s + 1, '7', n);
	strcpy(s + 1 + n, "]");
	scans_as(s, n + 2, OTHER);
	s[n / 2] = '.';
	scans_as(s, n + 2, OTHER);
	s[n / 3] = 'e';
	scans_as(s, n + 2, BAD);
	free(s);
}
END_TEST

struct seen {
	int	 n;
	char	 keys[8][32], values[8][32];
	int	 stop_at;
};

static int
record(const struct ds_json_member *m, void *ctx)
{
	struct seen *s = ctx;

	ck_assert_int_lt(s->n, 8);
	snprintf(s->keys[s->n], 32, "%.*s", (int)m->keylen, m->key);
	snprintf(s->values[s->n], 32, "%.*s", (int)m->valuelen, m->value);
	return ++s->n == s->stop_at;
}

START_TEST(members_as_written)
{
	const char *body = "\xEF\xBB\xBF { \"a\" : 1e5 ,\"b\\u0062\":\"x\\\"y\" , "
	    "\"c\":{\"d\":[1,{\"e\":2}]},\"a\":[ ],\"\":null\n}\n";
	const char *keys[] = {"\"a\"", "\"b\\u0062\"", "\"c\"", "\"a\"", "\"\""};
	const char *values[] = {"1e5", "\"x\\\"y\"", "{\"d\":[1,{\"e\":2}]}",
	    "[ ]", "null"};
	struct seen s = {0};

	ck_assert_int_eq(ds_json_scan(body, strlen(body), record, &s), OBJ);
	ck_assert_int_eq(s.n, 5);
	for (int i = 0; i < 5; i++) {
		ck_assert_str_eq(s.keys[i], keys[i]);
		ck_assert_str_eq(s.values[i], values[i]);
	}
	/* a non-zero return stops the walk, before the bad tail is seen */
	memset(&s, 0, sizeof(s));
	s.stop_at = 2;
	body = "{\"a\":1,\"b\":2,\"c\":3,";
	ck_assert_int_eq(ds_json_scan(body, strlen(body), record, &s),
	    DS_JSON_STOPPED);
	ck_assert_int_eq(s.n, 2);
	/* only an object's members are handed over */
	memset(&s, 0, sizeof(s));
	body = "[{\"a\":1}]";
	ck_assert_int_eq(ds_json_scan(body, strlen(body), record, &s), OTHER);
	ck_assert_int_eq(s.n, 0);
}
END_TEST

/* The one deliberate difference from cJSON, which reads a \u escape with
 * a digit that is not hex as a NUL and so cuts the string short: an answer
 * must complete with the endpoint's exact bytes or fail. */
START_TEST(bad_hex_digit_is_invalid)
{
	static const char *bodies[] = {
		"[\"\\uZZZZ\"]", "[\"\\u00G0\"]", "[\"ab\\u0g00cd\"]",
		"{\"gearman_ret\\uZZZZjunk\":0}", "[\"\\uD800\\uDCZZ\"]",
		/* cJSON steps over the 4 bytes whole, backslash or not */
		"[\"\\uabc\\\\\"]", "[\"\\u\\\"ab\"]",
	};

	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		int n = 0;

		ck_assert_msg(ds_json_scan(bodies[i], strlen(bodies[i]),
		    count_member, &n) == DS_JSON_INVALID, "%s", bodies[i]);
	}
}
END_TEST

static Suite *
json_scan_suite(void)
{
	Suite *s = suite_create("json_scan");
	TCase *tc = tcase_create("scan");

	tcase_add_test(tc, same_as_cjson);
	tcase_add_test(tc, bad_hex_digit_is_invalid);
	tcase_add_test(tc, nesting_limit);
	tcase_add_test(tc, long_numbers);
	tcase_add_test(tc, members_as_written);
	suite_add_tcase(s, tc);
	return s;
}

DS_CHECK_MAIN(json_scan_suite)
