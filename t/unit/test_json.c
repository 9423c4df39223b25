/* test_json.c: the strict JSON checker and string decoder of worker/json.h:
 * which texts are one valid JSON value (RFC 8259, and the three leniencies
 * json.c names), what each string decodes to, and which top-level members
 * are handed over. */
#include "worker/json.h"

#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OBJ	DS_JSON_OBJECT
#define OTHER	DS_JSON_OTHER
#define BAD	DS_JSON_INVALID

/* Scans an exact-size heap copy, so that ASan sees any read past the end. */
static enum ds_json_shape
scan(const char *text, size_t len, struct ds_json_want *want, size_t nwant)
{
	char *copy = malloc(len ? len : 1);
	enum ds_json_shape shape;

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, text, len);
	shape = ds_json_scan(copy, len, want, nwant);
	free(copy);
	return shape;
}

/* J(): the length is the literal's, NULs included. */
#define J(t, shape)	{t, sizeof(t) - 1, shape}
static const struct {
	const char		*text;
	size_t			 len;
	enum ds_json_shape	 shape;
} shapes[] = {
	/* values */
	J("{}", OBJ), J("[]", OTHER), J("0", OTHER), J("\"s\"", OTHER),
	J("null", OTHER), J("true", OTHER), J("false", OTHER),
	J(" \t\r\n{\"a\":1} \t\r\n", OBJ), J("[ 1 , { \"a\" : [ ] } ]", OTHER),
	J("", BAD), J(" ", BAD), J("{", BAD), J("}", BAD), J("[", BAD), J("]", BAD),
	J("[1,]", BAD), J("[,1]", BAD), J("{\"a\":1,}", BAD), J("{,}", BAD),
	J("{\"a\" 1}", BAD), J("{\"a\":}", BAD), J("{\"a\"}", BAD), J("{1:1}", BAD),
	J("{'a':1}", BAD), J("{a:1}", BAD), J("[1 2]", BAD), J("{} {}", BAD),
	J("{}x", BAD), J("{}}", BAD), J("[]]", BAD), J("[}", BAD), J("{]", BAD),
	J("[nul]", BAD), J("[tru]", BAD), J("[fals]", BAD), J("[nullx]", BAD),
	J("[True]", BAD), J("[NULL]", BAD), J("[NaN]", BAD), J("[Infinity]", BAD),
	J("[-Infinity]", BAD), J("[1/*c*/]", BAD), J("// c\n{}", BAD),
	J("{\"a\":{\"b\":[{\"c\":[]}],\"d\":{}},\"e\":[[],{}]}", OBJ),
	J("{\"a\":{\"b\":1,}}", BAD), J("{\"a\":[{]}", BAD), J("{\"a\":[}", BAD),
	/* white space is space, tab, LF and CR, nothing else */
	J("\f{}", BAD), J("{}\f", BAD), J("{\v}", BAD), J("\x01{}", BAD),
	J("{\"a\"\x1f:1}", BAD), J("[1\x7f]", BAD), J("{}\x00", BAD),
	J("\xC2\xA0{}", BAD),
	/* a byte order mark at the very start is skipped, once */
	J("\xEF\xBB\xBF{}", OBJ), J("\xEF\xBB\xBF" "1", OTHER),
	J("\xEF\xBB\xBF \t{}", OBJ), J(" \xEF\xBB\xBF{}", BAD),
	J("\xEF\xBB\xBF\xEF\xBB\xBF{}", BAD), J("\xEF\xBB{}", BAD),
	J("\xEF\xBB\xBF", BAD), J("{}\xEF\xBB\xBF", BAD),
	/* numbers */
	J("[0]", OTHER), J("[-0]", OTHER), J("[10]", OTHER), J("[-1]", OTHER),
	J("[1.5]", OTHER), J("[0.5]", OTHER), J("[-0.0]", OTHER), J("[1e5]", OTHER),
	J("[1E5]", OTHER), J("[1e+5]", OTHER), J("[1e-05]", OTHER),
	J("[0e0]", OTHER), J("[-1.25E-0]", OTHER), J("123", OTHER),
	J("[01]", BAD), J("[00]", BAD), J("[-01]", BAD), J("[.5]", BAD),
	J("[-.5]", BAD), J("[1.]", BAD), J("[1.e5]", BAD), J("[+1]", BAD),
	J("[-]", BAD), J("[--1]", BAD), J("[- 1]", BAD), J("[1e]", BAD),
	J("[1e+]", BAD), J("[1ee5]", BAD), J("[1.2.3]", BAD), J("[1-2]", BAD),
	J("[0x10]", BAD), J("[1 .5]", BAD), J("1e", BAD), J("-", BAD), J("1.", BAD),
	/* strings: every escape, and nothing else after a backslash */
	J("[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]", OTHER),
	J("[\"\\u0000\\u00e9\\u00E9\\uFFFF\\uabcd\"]", OTHER),
	J("[\"\\x41\"]", BAD), J("[\"\\'\"]", BAD), J("[\"\\a\"]", BAD),
	J("[\"\\0\"]", BAD), J("[\"\\U0041\"]", BAD), J("[\"\\ \"]", BAD),
	J("[\"\\u12\"]", BAD), J("[\"\\u123\"]", BAD), J("[\"\\u12G4\"]", BAD),
	J("[\"\\uZZZZ\"]", BAD), J("[\"\\u\"]", BAD), J("\"\\u00", BAD),
	J("[\"a]", BAD), J("[\"a\\\"]", BAD), J("\"\\", BAD), J("\"", BAD),
	/* control bytes must be escaped; DEL and bytes past ASCII need not
	 * (the latter are not checked as UTF-8) */
	J("[\"a\x01\"]", BAD), J("[\"\x1f\"]", BAD), J("[\"\t\"]", BAD),
	J("[\"a\nb\"]", BAD), J("[\"a\x00" "b\"]", BAD), J("[\"\x7f\"]", OTHER),
	J("[\"\xFF\xC0 not UTF-8\"]", OTHER), J("[\"\xC3\xA9\"]", OTHER),
	/* surrogates: a high one followed at once by a low one, no other */
	J("[\"\\ud83d\\ude00\"]", OTHER), J("[\"\\uD800\\uDC00\"]", OTHER),
	J("[\"\\uDBFF\\uDFFF\"]", OTHER), J("[\"\\uD800\"]", BAD),
	J("[\"\\uDBFF\"]", BAD), J("[\"\\uDC00\"]", BAD), J("[\"\\uDFFF\"]", BAD),
	J("[\"\\uDC00\\uD800\"]", BAD), J("[\"\\uD800\\u0041\"]", BAD),
	J("[\"\\uD800\\uDBFF\"]", BAD), J("[\"\\uD800\\uE000\"]", BAD),
	J("[\"\\uDBFF\\uFFFF\"]", BAD), J("[\"\\uD800\\uD800\"]", BAD),
	J("[\"\\uD800x\\uDC00\"]", BAD), J("[\"\\uD800\\n\"]", BAD),
	J("[\"\\uD800\\uDC0\"]", BAD), J("[\"\\uD800\\uZZZZ\"]", BAD),
	J("[\"\\uD800\\\\uDC00\"]", BAD), J("\"\\uD800\\u", BAD),
};
#undef J

START_TEST(valid_and_invalid)
{
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		const char *t = shapes[i].text;
		enum ds_json_shape got = scan(t, shapes[i].len, NULL, 0);

		ck_assert_msg(got == shapes[i].shape, "case %zu: %s: got %d, "
		    "want %d", i, t, got, shapes[i].shape);
	}
}
END_TEST

/* Escaped text (between the quotes) and what it decodes to. */
static const struct {
	const char	*text;
	const char	*want;
	size_t		 wantlen;
} strings[] = {
#define S(t, w)	{t, w, sizeof(w) - 1}
	S("", ""), S("abc", "abc"),
	S("\\\"\\\\\\/\\b\\f\\n\\r\\t", "\"\\/\b\f\n\r\t"),
	S("\\u0000", "\0"), S("a\\u0000b\\u0000", "a\0b\0"),
	S("\\\\u0000", "\\u0000"), S("\\\\\\u0000", "\\\0"),
	/* each UTF-8 length at its edges */
	S("\\u0041\\u007F", "A\x7F"), S("\\u0080\\u00e9\\u07FF",
	    "\xC2\x80\xC3\xA9\xDF\xBF"),
	S("\\u0800\\u20AC\\uFFFF", "\xE0\xA0\x80\xE2\x82\xAC\xEF\xBF\xBF"),
	S("\\uFDD0", "\xEF\xB7\x90"), S("\\uD7FF\\uE000",
	    "\xED\x9F\xBF\xEE\x80\x80"),
	S("\\uD800\\uDC00", "\xF0\x90\x80\x80"),
	S("\\ud83d\\ude00", "\xF0\x9F\x98\x80"),
	S("\\uDBFF\\uDFFF", "\xF4\x8F\xBF\xBF"),
	/* raw bytes stay as they are */
	S("\xFF\xC3\xA9\x7F", "\xFF\xC3\xA9\x7F"),
	S("x\\n\xE2\x82\xAC\\u20ac", "x\n\xE2\x82\xAC\xE2\x82\xAC"),
#undef S
};

START_TEST(decode)
{
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		size_t n = strlen(strings[i].text), got;
		char quoted[128], out[128], *inplace = malloc(n ? n : 1);

		/* it is a valid string first */
		snprintf(quoted, sizeof(quoted), "\"%s\"", strings[i].text);
		ck_assert_int_eq(scan(quoted, n + 2, NULL, 0), OTHER);
		got = ds_json_unescape(out, strings[i].text, n);
		ck_assert_msg(got == strings[i].wantlen &&
		    memcmp(out, strings[i].want, got) == 0, "case %zu: %s", i,
		    strings[i].text);
		/* in place, the same */
		ck_assert_ptr_nonnull(inplace);
		memcpy(inplace, strings[i].text, n);
		ck_assert_uint_eq(ds_json_unescape(inplace, inplace, n), got);
		ck_assert(memcmp(inplace, strings[i].want, got) == 0);
		free(inplace);
	}
}
END_TEST

enum { A, B, C, NWANT };

static enum ds_json_shape
scan_abc(const char *text, struct ds_json_want *w)
{
	memset(w, 0x55, NWANT * sizeof(*w));
	w[A].name = "a";
	w[B].name = "bb";
	w[C].name = "gearman_ret";
	return ds_json_scan(text, strlen(text), w, NWANT);
}

static void
value_is(const struct ds_json_want *w, unsigned count, const char *want)
{
	ck_assert_uint_eq(w->count, count);
	if (want == NULL) {
		ck_assert_ptr_null(w->value);
		return;
	}
	ck_assert_uint_eq(w->valuelen, strlen(want));
	ck_assert(memcmp(w->value, want, w->valuelen) == 0);
}

/* The wanted members of the top-level object: their values as written,
 * the first of a name, names compared once decoded, nothing nested. */
START_TEST(members)
{
	struct ds_json_want w[NWANT];

	ck_assert_int_eq(scan_abc("\xEF\xBB\xBF { \"a\" : 1e5 ,\"b\\u0062\":"
	    "\"x\\\"y\" , \"c\":{\"a\":[1,{\"bb\":2}]},\"a\":[ ],\"\":null\n}\n",
	    w), OBJ);
	value_is(&w[A], 2, "1e5");
	value_is(&w[B], 1, "\"x\\\"y\"");
	value_is(&w[C], 0, NULL);
	ck_assert_int_eq(scan_abc("{\"bb\":{\"a\":{},\"bb\":[]},\"gearman\\u005f"
	    "ret\":-0.5}", w), OBJ);
	value_is(&w[A], 0, NULL);
	value_is(&w[B], 1, "{\"a\":{},\"bb\":[]}");
	value_is(&w[C], 1, "-0.5");
	/* a name is only a name once decoded whole */
	ck_assert_int_eq(scan_abc("{\"a\\u0000\":1,\"b\":2,\"bbb\":3,\"A\":4}", w),
	    OBJ);
	value_is(&w[A], 0, NULL);
	value_is(&w[B], 0, NULL);
	/* only an object's members count, and only a valid one's */
	ck_assert_int_eq(scan_abc("[{\"a\":1}]", w), OTHER);
	value_is(&w[A], 0, NULL);
	ck_assert_int_eq(scan_abc("{\"a\":1,}", w), BAD);
}
END_TEST

/* "[" n times, "]" n times: n levels. */
START_TEST(nesting_limit)
{
	size_t n = DS_JSON_MAX_DEPTH + 1;
	char *s = malloc(2 * n + 16);

	ck_assert_ptr_nonnull(s);
	for (size_t levels = n - 2; levels <= n; levels++) {
		memset(s, '[', levels);
		memset(s + levels, ']', levels);
		ck_assert_int_eq(scan(s, 2 * levels, NULL, 0),
		    levels <= DS_JSON_MAX_DEPTH ? OTHER : BAD);
		/* the same depth with an object outside */
		s[0] = '{';
		memcpy(s + 1, "\"a\":", 4);
		memset(s + 5, '[', levels - 1);
		memset(s + 4 + levels, ']', levels - 1);
		s[3 + 2 * levels] = '}';
		ck_assert_int_eq(scan(s, 4 + 2 * levels, NULL, 0),
		    levels <= DS_JSON_MAX_DEPTH ? OBJ : BAD);
	}
	free(s);
}
END_TEST

/* A number or a string is as long as it is written. */
START_TEST(long_values)
{
	size_t n = 100000;
	char *s = malloc(n + 16);

	ck_assert_ptr_nonnull(s);
	s[0] = '[';
	memset(s + 1, '7', n);
	strcpy(s + 1 + n, "]");
	ck_assert_int_eq(scan(s, n + 2, NULL, 0), OTHER);
	s[n / 2] = '.';
	ck_assert_int_eq(scan(s, n + 2, NULL, 0), OTHER);
	s[n / 3] = 'e';
	ck_assert_int_eq(scan(s, n + 2, NULL, 0), BAD);
	memset(s + 1, 'x', n);
	s[1] = s[n] = '"';
	ck_assert_int_eq(scan(s, n + 2, NULL, 0), OTHER);
	s[n / 2] = '\x1f';
	ck_assert_int_eq(scan(s, n + 2, NULL, 0), BAD);
	free(s);
}
END_TEST

/* Every byte value at every offset of a string, in the 8-byte words read
 * at once and the bytes after them: only a control byte, a quote (which
 * ends the string early) or a backslash (here before an 'x') spoils it. */
START_TEST(every_byte_everywhere)
{
	char s[32];

	for (int c = 0; c < 256; c++) {
		for (size_t at = 2; at < 22; at++) {
			int bad = c < 0x20 || c == '"' || c == '\\';

			memset(s, 'x', sizeof(s));
			s[0] = '[';
			s[1] = '"';
			s[at] = (char)c;
			memcpy(s + 22, "\"]", 2);
			ck_assert_msg(scan(s, 24, NULL, 0) == (bad ? BAD : OTHER),
			    "byte 0x%02x at %zu", c, at);
		}
	}
}
END_TEST

static Suite *
json_suite(void)
{
	Suite *s = suite_create("json");
	TCase *tc = tcase_create("json");

	tcase_add_test(tc, valid_and_invalid);
	tcase_add_test(tc, decode);
	tcase_add_test(tc, members);
	tcase_add_test(tc, nesting_limit);
	tcase_add_test(tc, long_values);
	tcase_add_test(tc, every_byte_everywhere);
	suite_add_tcase(s, tc);
	return s;
}

DS_CHECK_MAIN(json_suite)
