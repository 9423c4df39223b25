/* test_response.c: strict parsing of an endpoint's answer (docs/endpoint.md):
 * what is WORK_COMPLETE, what is WORK_FAIL, and the exact reason logged. */
#include "worker/response.h"

#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct ds_response r;

static void
teardown(void)
{
	ds_response_free(&r);
}

/* Parses len bytes from an exact-size heap copy (not NUL-terminated), so
 * that ASan catches any read past the end. */
static int
parse_len(const char *body, size_t len)
{
	char *copy = malloc(len ? len : 1);
	int rc;

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, body, len);
	ds_response_free(&r);
	memset(&r, 0x55, sizeof(r));
	r.data = NULL;
	rc = ds_response_parse(copy, len, &r);
	free(copy);
	return rc;
}

#define PARSE(s)	parse_len((s), sizeof(s) - 1)

/* The body is a WORK_COMPLETE with exactly these bytes. */
static void
completes_len(const char *body, size_t blen, const char *want, size_t wlen)
{
	ck_assert_int_eq(parse_len(body, blen), 0);
	ck_assert_msg(r.complete == 1, "not complete: %s", r.reason);
	ck_assert_ptr_nonnull(r.data);
	ck_assert_uint_eq(r.len, wlen);
	ck_assert(memcmp(r.data, want, wlen) == 0);
	ck_assert_int_eq(r.data[wlen], '\0');
}

#define COMPLETES(b, w)	completes_len((b), sizeof(b) - 1, (w), sizeof(w) - 1)

/* The body is well formed and says WORK_FAIL. */
static void
fails_len(const char *body, size_t blen, const char *reason)
{
	ck_assert_int_eq(parse_len(body, blen), 0);
	ck_assert_int_eq(r.complete, 0);
	ck_assert_ptr_null(r.data);
	ck_assert_uint_eq(r.len, 0);
	ck_assert_str_eq(r.reason, reason);
}

#define FAILS(b, why)	fails_len((b), sizeof(b) - 1, (why))

/* The body is not a well-formed answer (also WORK_FAIL). */
static void
bad_len(const char *body, size_t blen, const char *reason)
{
	ck_assert_msg(parse_len(body, blen) == -1, "accepted: %.*s", (int)blen,
	    body);
	ck_assert_int_eq(r.complete, 0);
	ck_assert_ptr_null(r.data);
	ck_assert_uint_eq(r.len, 0);
	ck_assert_str_eq(r.reason, reason);
}

#define BAD(b, why)	bad_len((b), sizeof(b) - 1, (why))

#define RET(v)	"{\"gearman_ret\": " v ", \"response_string\": \"x\"}"
#define STR(v)	"{\"gearman_ret\": 0, \"response_string\": " v "}"

START_TEST(complete)
{
	COMPLETES("{\"gearman_ret\": 0, \"response_string\": \"hello\"}",
	    "hello");
	COMPLETES("{\"response_string\":\"\",\"gearman_ret\":0}", "");
	COMPLETES(STR("\"caf\\u00e9 \\\"q\\\" \\\\ \\n \\ud83d\\ude00\""),
	    "caf\xC3\xA9 \"q\" \\ \n \xF0\x9F\x98\x80");
	COMPLETES(STR("\"\xC3\xA9t\xC3\xA9\""), "\xC3\xA9t\xC3\xA9");
	/* other keys are ignored */
	COMPLETES("{\"gearman_ret\":0,\"response_string\":\"a\",\"x\":[1,{}]}",
	    "a");
	COMPLETES("{\"gearman_ret\": -0, \"response_string\": \"a\"}", "a");
	COMPLETES("{\"gearman_ret\": 0.0, \"response_string\": \"a\"}", "a");
}
END_TEST

START_TEST(white_space)
{
	COMPLETES(" \t\r\n{\"gearman_ret\":0,\"response_string\":\"a\"}",
	    "a");
	COMPLETES("{\"gearman_ret\":0,\"response_string\":\"a\"} \t\r\n",
	    "a");
	COMPLETES("{ \"gearman_ret\" : 0 ,\n \"response_string\" : \"a\" }\n",
	    "a");
}
END_TEST

START_TEST(work_fail)
{
	ck_assert_int_eq(PARSE(RET("1")), 0);
	ck_assert_int_eq(r.complete, 0);
	ck_assert_ptr_null(r.data);
	ck_assert_str_eq(r.reason, "endpoint returned gearman_ret 1");
	FAILS(RET("-1"), "endpoint returned gearman_ret -1");
	FAILS(RET("25"), "endpoint returned gearman_ret 25");
	FAILS(RET("1.0"), "endpoint returned gearman_ret 1");
	FAILS(RET("1e3"), "endpoint returned gearman_ret 1000");
	FAILS(RET("9007199254740992"),
	    "endpoint returned gearman_ret 9007199254740992");
	FAILS(RET("-9223372036854774784"),
	    "endpoint returned gearman_ret -9223372036854774784");
	/* the string is still required and checked */
	BAD("{\"gearman_ret\": 1}", "response has no response_string");
	BAD("{\"gearman_ret\": 1, \"response_string\": 1}",
	    "response_string is not a string");
}
END_TEST

START_TEST(not_json)
{
	BAD("", "response is not valid JSON");
	BAD(" \n", "response is not valid JSON");
	BAD("OK", "response is not valid JSON");
	BAD("<html><body>Internal error</body></html>",
	    "response is not valid JSON");
	BAD("{", "response is not valid JSON");
	BAD("{\"gearman_ret\": 0, \"response_string\": \"a\"",
	    "response is not valid JSON");
	BAD("{\"gearman_ret\": 0, \"response_string\": \"a}",
	    "response is not valid JSON");
	BAD("{\"gearman_ret\": 0 \"response_string\": \"a\"}",
	    "response is not valid JSON");
	BAD("{'gearman_ret': 0, 'response_string': 'a'}",
	    "response is not valid JSON");
	BAD("{\"gearman_ret\": 0, \"response_string\": \"\\x41\"}",
	    "response is not valid JSON");
	BAD("{\"gearman_ret\": 0, \"response_string\": \"\\ud800\"}",
	    "response is not valid JSON");
}
END_TEST

START_TEST(trailing_garbage)
{
	BAD("{\"gearman_ret\":0,\"response_string\":\"a\"}x",
	    "response is not valid JSON");
	BAD("{\"gearman_ret\":0,\"response_string\":\"a\"} {}",
	    "response is not valid JSON");
	BAD("{\"gearman_ret\":0,\"response_string\":\"a\"}}",
	    "response is not valid JSON");
	BAD("{\"gearman_ret\":0,\"response_string\":\"a\"}\n\n<!-- 3ms -->",
	    "response is not valid JSON");
	BAD("{\"gearman_ret\":0,\"response_string\":\"a\"}\0",
	    "response is not valid JSON");
	BAD("{\"gearman_ret\":0,\"response_string\":\"a\"}\f",
	    "response is not valid JSON");
	/* the body length is what counts: a NUL does not end it early */
	bad_len("{\"gearman_ret\":0,\"response_string\":\"a\"}\0junk",
	    sizeof("{\"gearman_ret\":0,\"response_string\":\"a\"}\0junk") - 1,
	    "response is not valid JSON");
}
END_TEST

/* JSON text may not hold a raw NUL; cJSON would cut the string there and
 * send the first part as a WORK_COMPLETE. */
START_TEST(raw_nul)
{
	BAD("{\"gearman_ret\":0,\"response_string\":\"a\0b\"}",
	    "response is not valid JSON");
	BAD("\0{\"gearman_ret\":0,\"response_string\":\"a\"}",
	    "response is not valid JSON");
	BAD("{\"gearman_ret\":0,\0\"response_string\":\"a\"}",
	    "response is not valid JSON");
}
END_TEST

START_TEST(not_object)
{
	BAD("[]", "response is JSON but not an object");
	BAD("[{\"gearman_ret\":0,\"response_string\":\"a\"}]",
	    "response is JSON but not an object");
	BAD("\"hello\"", "response is JSON but not an object");
	BAD("0", "response is JSON but not an object");
	BAD("null", "response is JSON but not an object");
	BAD("true", "response is JSON but not an object");
}
END_TEST

START_TEST(bad_gearman_ret)
{
	BAD("{}", "response has no gearman_ret");
	BAD("{\"response_string\": \"a\"}", "response has no gearman_ret");
	BAD("{\"Gearman_Ret\": 0, \"response_string\": \"a\"}",
	    "response has no gearman_ret");
	BAD(RET("\"0\""), "gearman_ret is not a number");
	BAD(RET("null"), "gearman_ret is not a number");
	BAD(RET("false"), "gearman_ret is not a number");
	BAD(RET("[0]"), "gearman_ret is not a number");
	BAD(RET("{}"), "gearman_ret is not a number");
	BAD(RET("1.5"), "gearman_ret is not an integer");
	BAD(RET("-0.5"), "gearman_ret is not an integer");
	BAD(RET("0.1"), "gearman_ret is not an integer");
	/* cJSON turns it into infinity */
	BAD(RET("1e400"), "gearman_ret is not an integer");
	BAD(RET("-1e400"), "gearman_ret is not an integer");
	BAD(RET("9223372036854775808"), "gearman_ret is out of range");
	BAD(RET("9223372036854775807"), "gearman_ret is out of range");
	BAD(RET("-9223372036854775809"), "gearman_ret is out of range");
	/* as a double -2^63 is -2^63 - 1 too */
	BAD(RET("-9223372036854775808"), "gearman_ret is out of range");
	BAD(RET("1e19"), "gearman_ret is out of range");
	BAD(RET("-1e19"), "gearman_ret is out of range");
	/* checked before response_string */
	BAD("{\"gearman_ret\": \"0\"}", "gearman_ret is not a number");
}
END_TEST

START_TEST(bad_response_string)
{
	BAD("{\"gearman_ret\": 0}", "response has no response_string");
	BAD("{\"gearman_ret\": 0, \"Response_String\": \"a\"}",
	    "response has no response_string");
	BAD(STR("1"), "response_string is not a string");
	BAD(STR("null"), "response_string is not a string");
	BAD(STR("true"), "response_string is not a string");
	BAD(STR("[\"a\"]"), "response_string is not a string");
	BAD(STR("{}"), "response_string is not a string");
}
END_TEST

START_TEST(nul_escapes)
{
	COMPLETES(STR("\"\\u0000\""), "\0");
	COMPLETES(STR("\"a\\u0000b\\u0000\\u0000c\""), "a\0b\0\0c");
	COMPLETES(STR("\"\\u0000\\u0000\""), "\0\0");
	/* an escaped backslash followed by u0000 is text, not a NUL */
	COMPLETES(STR("\"a\\\\u0000\""), "a\\u0000");
	COMPLETES(STR("\"\\\\\\u0000\""), "\\\0");
	COMPLETES(STR("\"\\\\\\\\u0000\\u0000\""), "\\\\u0000\0");
	/* \u0000 outside response_string does not leak into it */
	COMPLETES("{\"x\\u0000\": 1, \"gearman_ret\": 0, "
	    "\"response_string\": \"ab\"}", "ab");
}
END_TEST

/* Noncharacters are text like any other, raw or escaped, beside NULs. */
START_TEST(nul_escapes_and_noncharacters)
{
	char body[1024], want[256];
	size_t o, w = 0;

	COMPLETES(STR("\"\xEF\xB7\x90\\u0000\""), "\xEF\xB7\x90\0");
	COMPLETES(STR("\"\\ufdd0\\u0000\\uFdD1\""),
	    "\xEF\xB7\x90\0\xEF\xB7\x91");
	o = (size_t)snprintf(body, sizeof(body),
	    "{\"gearman_ret\": 0, \"response_string\": \"");
	for (unsigned cp = 0xFDD0; cp <= 0xFDEF; cp++) {
		o += (size_t)snprintf(body + o, sizeof(body) - o, "\\u%04X", cp);
		want[w++] = (char)0xEF;
		want[w++] = (char)0xB7;
		want[w++] = (char)(0x80 | (cp & 0x3F));
	}
	o += (size_t)snprintf(body + o, sizeof(body) - o, "\\u0000\"}");
	want[w++] = '\0';
	completes_len(body, o, want, w);
}
END_TEST

START_TEST(base64)
{
	COMPLETES("{\"gearman_ret\": 0, \"response_string\": \"Zm9vYmFy\", "
	    "\"response_encoding\": \"base64\"}", "foobar");
	COMPLETES("{\"response_encoding\": \"base64\", \"gearman_ret\": 0, "
	    "\"response_string\": \"AP8A\"}", "\0\xFF\0");
	COMPLETES("{\"gearman_ret\": 0, \"response_string\": \"\", "
	    "\"response_encoding\": \"base64\"}", "");
	BAD("{\"gearman_ret\": 0, \"response_string\": \"Zm9vY\", "
	    "\"response_encoding\": \"base64\"}",
	    "response_string is not valid base64");
	BAD("{\"gearman_ret\": 0, \"response_string\": \"Zm9v!A==\", "
	    "\"response_encoding\": \"base64\"}",
	    "response_string is not valid base64");
	BAD("{\"gearman_ret\": 0, \"response_string\": \"Zg=a\", "
	    "\"response_encoding\": \"base64\"}",
	    "response_string is not valid base64");
	BAD("{\"gearman_ret\": 0, \"response_string\": \"Zm9v\\u0000\", "
	    "\"response_encoding\": \"base64\"}",
	    "response_string is not valid base64");
	BAD("{\"gearman_ret\": 0, \"response_string\": 1, "
	    "\"response_encoding\": \"base64\"}",
	    "response_string is not a string");
	/* a failure's string is checked too */
	BAD("{\"gearman_ret\": 3, \"response_string\": \"@@@@\", "
	    "\"response_encoding\": \"base64\"}",
	    "response_string is not valid base64");
	FAILS("{\"gearman_ret\": 3, \"response_string\": \"Zm9v\", "
	    "\"response_encoding\": \"base64\"}",
	    "endpoint returned gearman_ret 3");
}
END_TEST

START_TEST(other_encoding)
{
	BAD("{\"gearman_ret\": 0, \"response_string\": \"Zm9v\", "
	    "\"response_encoding\": \"Base64\"}",
	    "response_encoding is not \"base64\"");
	BAD("{\"gearman_ret\": 0, \"response_string\": \"Zm9v\", "
	    "\"response_encoding\": \"hex\"}",
	    "response_encoding is not \"base64\"");
	BAD("{\"gearman_ret\": 0, \"response_string\": \"Zm9v\", "
	    "\"response_encoding\": \"\"}",
	    "response_encoding is not \"base64\"");
	BAD("{\"gearman_ret\": 0, \"response_string\": \"Zm9v\", "
	    "\"response_encoding\": null}",
	    "response_encoding is not \"base64\"");
	BAD("{\"gearman_ret\": 0, \"response_string\": \"Zm9v\", "
	    "\"response_encoding\": 64}",
	    "response_encoding is not \"base64\"");
	BAD("{\"gearman_ret\": 0, \"response_string\": \"Zm9v\", "
	    "\"response_encoding\": \"base64\\u0000\"}",
	    "response_encoding is not \"base64\"");
}
END_TEST

/* The three members are looked for in the top-level object only, by
 * their decoded names; one written twice makes the answer bad (parsers
 * disagree on which of two counts). */
static const struct {
	const char	*body;
	int		 rc;		/* 1 COMPLETES, 0 FAILS, -1 BAD */
	const char	*want;		/* data, or the reason */
} members[] = {
	{"{\"gearman\\u005fret\":0,\"\\u0072esponse_string\":\"a\"}", 1, "a"},
	{"{\"gearman_ret\":1,\"gearman_ret\":0,\"response_string\":\"a\"}", -1,
	    "response has more than one gearman_ret"},
	{"{\"gearman_ret\":0,\"response_string\":\"a\",\"response_string\":2}",
	    -1, "response has more than one response_string"},
	{"{\"gearman_ret\":0,\"response_string\":\"a\",\"response_encoding\":"
	    "\"base64\",\"response_encoding\":\"base64\"}", -1,
	    "response has more than one response_encoding"},
	{"{\"gearman_ret\":\"0\",\"gearman\\u005fret\":0,\"response_string\":"
	    "\"a\"}", -1, "response has more than one gearman_ret"},
	/* other names may repeat */
	{"{\"x\":1,\"x\":2,\"gearman_ret\":0,\"response_string\":\"a\"}", 1, "a"},
	{"{\"gearman_ret\\u0000\":0,\"response_string\":\"a\"}", -1,
	    "response has no gearman_ret"},
	{"{\"gearman_ret\\uZZZZjunk\":0,\"response_string\":\"a\"}", -1,
	    "response is not valid JSON"},
	{"{\"gearman_ret\":0,\"response_string\":\"ab\\uZZZZcd\"}", -1,
	    "response is not valid JSON"},
	{"{\"x\":{\"gearman_ret\":0,\"response_string\":\"a\"}}", -1,
	    "response has no gearman_ret"},
	{"{\"x\":[{\"gearman_ret\":1}],\"gearman_ret\":0,\"response_string\":"
	    "\"a\"}", 1, "a"},
	{"{\"gearman_ret\":[0,{\"a\":0}],\"response_string\":\"a\"}", -1,
	    "gearman_ret is not a number"},
	{"{\"gearman_ret\":true,\"response_string\":\"a\"}", -1,
	    "gearman_ret is not a number"},
	/* numbers as RFC 8259 writes them, nothing looser */
	{"{\"gearman_ret\":0000,\"response_string\":\"a\"}", -1,
	    "response is not valid JSON"},
	{"{\"gearman_ret\":01,\"response_string\":\"a\"}", -1,
	    "response is not valid JSON"},
	{"{\"gearman_ret\":-.0e5,\"response_string\":\"a\"}", -1,
	    "response is not valid JSON"},
	{"{\"gearman_ret\":-0.0e5,\"response_string\":\"a\"}", 1, "a"},
	{"{\"gearman_ret\":0,\"response_string\":\"Zm9v\",\"response_encoding\":"
	    "\"base\\u0036\\u0034\"}", 1, "foo"},
	{"{\"gearman_ret\":0,\"response_string\":\"a\",\"x\":[\"\\q\"]}", -1,
	    "response is not valid JSON"},
	{"{\"gearman_ret\":0,\"response_string\":\"a\",\"x\":[1,]}", -1,
	    "response is not valid JSON"},
	{"{\"gearman_ret\":0,\"response_string\":\"a\tb\"}", -1,
	    "response is not valid JSON"},
	{"\xEF\xBB\xBF{\"gearman_ret\":0,\"response_string\":\"a\"}", 1, "a"},
	{"{\"gearman_ret\":0,\"response_string\":\"\xFF\xFE\"}", 1,
	    "\xFF\xFE"},
};

START_TEST(members_found)
{
	for (size_t i = 0; i < sizeof(members) / sizeof(members[0]); i++) {
		const char *b = members[i].body, *w = members[i].want;

		if (members[i].rc > 0)
			completes_len(b, strlen(b), w, strlen(w));
		else if (members[i].rc == 0)
			fails_len(b, strlen(b), w);
		else
			bad_len(b, strlen(b), w);
	}
}
END_TEST

/* A gearman_ret of digits alone is read without strtod() up to 15 of
 * them: on both sides of that line it must read as strtod() reads it. */
START_TEST(gearman_ret_digits)
{
	static const char *const rets[] = {"7", "-42", "-100000000000042",
	    "999999999999999", "-999999999999999", "1234567890123456",
	    "-1234567890123456", "9007199254740993"};
	char body[128], want[80];

	for (size_t i = 0; i < sizeof(rets) / sizeof(rets[0]); i++) {
		int n = snprintf(body, sizeof(body), RET("%s"), rets[i]);

		snprintf(want, sizeof(want), "endpoint returned gearman_ret %lld",
		    (long long)strtod(rets[i], NULL));
		fails_len(body, (size_t)n, want);
	}
	COMPLETES(RET("0"), "x");
	COMPLETES(RET("-0"), "x");
}
END_TEST

/* In place, an escaped answer is decoded where it is written as well: the
 * worker allocates nothing to read one. */
START_TEST(escaped_in_place)
{
	char body[] = "{\"gearman_ret\":0,\"response_string\":\"a\\u0000\\n"
	    "\\u00e9\\\"\"}";
	char *at = strstr(body, "a\\u0000");

	ck_assert_int_eq(ds_response_parse_in_place(body, sizeof(body) - 1,
	    &r), 0);
	ck_assert_int_eq(r.complete, 1);
	ck_assert_int_eq(r.borrowed, 1);
	ck_assert_ptr_eq(r.data, at);
	ck_assert_uint_eq(r.len, 6);
	ck_assert(memcmp(r.data, "a\0\n\xC3\xA9\"", 7) == 0);
}
END_TEST

START_TEST(free_twice)
{
	COMPLETES(STR("\"abc\""), "abc");
	ds_response_free(&r);
	ck_assert_ptr_null(r.data);
	ck_assert_uint_eq(r.len, 0);
	ds_response_free(&r);
}
END_TEST

static Suite *
response_suite(void)
{
	Suite *s = suite_create("response");
	TCase *tc;

	tc = tcase_create("answers");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, complete);
	tcase_add_test(tc, white_space);
	tcase_add_test(tc, work_fail);
	tcase_add_test(tc, gearman_ret_digits);
	tcase_add_test(tc, free_twice);
	tcase_add_test(tc, escaped_in_place);
	suite_add_tcase(s, tc);

	tc = tcase_create("malformed");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, not_json);
	tcase_add_test(tc, trailing_garbage);
	tcase_add_test(tc, raw_nul);
	tcase_add_test(tc, not_object);
	tcase_add_test(tc, bad_gearman_ret);
	tcase_add_test(tc, bad_response_string);
	suite_add_tcase(s, tc);

	tc = tcase_create("bytes");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, nul_escapes);
	tcase_add_test(tc, nul_escapes_and_noncharacters);
	tcase_add_test(tc, base64);
	tcase_add_test(tc, other_encoding);
	tcase_add_test(tc, members_found);
	suite_add_tcase(s, tc);
	return s;
}

DS_CHECK_MAIN(response_suite)
