/* test_response_hostile.c: what a hostile endpoint body costs
 * ds_response_parse() (worker/response.h). Every byte cJSON allocates goes
 * through counting hooks: a tree of the whole body cost some 40 bytes per
 * byte of text (issue 7); only the values the worker uses may cost now. */
#include "worker/response.h"

#include "unit.h"

#include <cjson/cJSON.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/text.h"

#define BODY	(4u << 20)

static size_t live, peak;

static void *
count_malloc(size_t n)
{
	void *p = malloc(n);

	if (p != NULL && (live += malloc_usable_size(p)) > peak)
		peak = live;
	return p;
}

/* The parser takes some strings over and frees them with free(): they
 * stay counted, which only makes the peak larger. */
static void
count_free(void *p)
{
	if (p != NULL)
		live -= malloc_usable_size(p);
	free(p);
}

static void
hooks_on(void)
{
	cJSON_Hooks h = {count_malloc, count_free};

	cJSON_InitHooks(&h);
}

static void
hooks_off(void)
{
	cJSON_InitHooks(NULL);
}

/* Appends s to b (at *o) until the body is about BODY bytes long. */
static void
repeat(char *b, size_t *o, const char *s)
{
	size_t n = strlen(s);

	while (*o + n < BODY - 64) {
		memcpy(b + *o, s, n);
		*o += n;
	}
}

static const struct {
	const char	*name;
	const char	*head, *unit, *tail;
	const char	*want;		/* data, NULL: "response is not valid
					 * JSON" */
	size_t		 cjson_max;	/* bytes cJSON may hold at once */
} bodies[] = {
	{"array", "{\"gearman_ret\":0,\"response_string\":\"ok\",\"x\":[",
	    "0,", "0]}", "ok", 4096},
	{"members", "{", "\"a\":0,",
	    "\"gearman_ret\":0,\"response_string\":\"ok\"}", "ok", 4096},
	{"escaped keys", "{", "\"\\u0061\":0,",
	    "\"gearman_ret\":0,\"response_string\":\"ok\"}", "ok", 4096},
	{"nests", "{\"gearman_ret\":0,\"response_string\":\"ok\",\"x\":[",
	    "[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]],", "0]}", "ok", 4096},
	{"deep", "{\"gearman_ret\":0,\"response_string\":\"ok\",\"x\":", "[",
	    "", NULL, 4096},
	{"objects", "{\"gearman_ret\":0,\"response_string\":\"ok\",\"x\":[",
	    "{\"a\":{\"b\":\"c\"}},", "0]}", "ok", 4096},
	/* the decoded string itself is allowed */
	{"string", "{\"gearman_ret\":0,\"response_string\":\"", "xxxxxxxx",
	    "\"}", "", BODY + 4096},
	{"NUL escapes", "{\"gearman_ret\":0,\"response_string\":\"", "\\u0000",
	    "\\uFDD0\\uFDD1\\uFDD2\"}", "", BODY + 4096},
};

START_TEST(cjson_holds_only_the_values_used)
{
	char *b = malloc(BODY);
	struct ds_response r;

	ck_assert_ptr_nonnull(b);
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		size_t o = strlen(bodies[i].head);

		memcpy(b, bodies[i].head, o);
		repeat(b, &o, bodies[i].unit);
		memcpy(b + o, bodies[i].tail, strlen(bodies[i].tail));
		o += strlen(bodies[i].tail);
		live = peak = 0;
		hooks_on();
		ds_response_parse(b, o, &r);
		hooks_off();
		ck_assert_msg(peak <= bodies[i].cjson_max, "%s: cJSON held %zu "
		    "bytes for a %zu-byte body", bodies[i].name, peak, o);
		if (bodies[i].want == NULL)
			ck_assert_str_eq(r.reason, "response is not valid JSON");
		else if (bodies[i].want[0] != '\0')
			ck_assert_str_eq(r.data, bodies[i].want);
		ck_assert_int_eq(r.complete, bodies[i].want != NULL);
		ds_response_free(&r);
	}
	free(b);
}
END_TEST

/* The NUL escapes come out as NULs, the noncharacters as themselves. */
START_TEST(nul_escapes_worst_case)
{
	const char *head = "{\"gearman_ret\":0,\"response_string\":\"";
	char *b = malloc(BODY + 256);	/* room for the noncharacters */
	size_t o = strlen(head), nuls;
	struct ds_response r;

	ck_assert_ptr_nonnull(b);
	memcpy(b, head, o);
	repeat(b, &o, "\\u0000");
	nuls = (o - strlen(head)) / 6;
	for (unsigned cp = 0xFDD0; cp < 0xFDEF; cp++)
		o += (size_t)sprintf(b + o, "\\u%04x", cp);
	o += (size_t)sprintf(b + o, "\"}");
	ck_assert_int_eq(ds_response_parse(b, o, &r), 0);
	ck_assert_int_eq(r.complete, 1);
	ck_assert_uint_eq(r.len, nuls + 31 * 3);
	for (size_t i = 0; i < nuls; i++)
		if (r.data[i] != '\0')
			ck_abort_msg("byte %zu of %zu is not NUL", i, nuls);
	ck_assert(memcmp(r.data + nuls, "\xEF\xB7\x90", 3) == 0);
	ck_assert(memcmp(r.data + r.len - 3, "\xEF\xB7\xAE", 3) == 0);
	ds_response_free(&r);
	free(b);
}
END_TEST

/* Base64 answers are decoded in place (worker/response.c): the bytes and the
 * rules on padding are those of the whole text, however long. */
START_TEST(base64_large)
{
	const char *head = "{\"gearman_ret\":0,\"response_encoding\":"
	    "\"base64\",\"response_string\":\"";
	size_t n = 200002, elen, h = strlen(head), chunk = 48 * 1024;
	char *raw = malloc(n), *enc, *b;
	struct ds_response r;

	ck_assert_ptr_nonnull(raw);
	for (size_t i = 0; i < n; i++)
		raw[i] = (char)(i * 7 + i / 251);
	enc = ds_base64_encode(raw, n, &elen);
	ck_assert_ptr_nonnull(enc);
	ck_assert_int_eq(enc[elen - 1], '=');
	ck_assert_ptr_nonnull(b = malloc(h + elen + 2));
	memcpy(b, head, h);
	memcpy(b + h, enc, elen);
	memcpy(b + h + elen, "\"}", 2);
	ck_assert_int_eq(ds_response_parse(b, h + elen + 2, &r), 0);
	ck_assert_int_eq(r.complete, 1);
	ck_assert_uint_eq(r.len, n);
	ck_assert(memcmp(r.data, raw, n) == 0);
	ds_response_free(&r);
	/* the worker's way: decoded in the body, no copy */
	memcpy(b + h, enc, elen);
	memcpy(b + h + elen, "\"}", 2);
	ck_assert_int_eq(ds_response_parse_in_place(b, h + elen + 2, &r), 0);
	ck_assert_int_eq(r.complete, 1);
	ck_assert_int_eq(r.borrowed, 1);
	ck_assert_ptr_eq(r.data, b + h);
	ck_assert_uint_eq(r.len, n);
	ck_assert(memcmp(r.data, raw, n) == 0);
	ck_assert_int_eq(r.data[n], '\0');
	ds_response_free(&r);
	/* padding before the end of the text (the body is scratch space:
	 * each parse gets it whole again) */
	memcpy(b + h, enc, elen);
	memcpy(b + h + elen, "\"}", 2);
	memcpy(b + h + chunk - 4, "Zg==", 4);
	ck_assert_int_eq(ds_response_parse(b, h + elen + 2, &r), -1);
	ck_assert_str_eq(r.reason, "response_string is not valid base64");
	/* a bad byte near the end */
	memcpy(b + h, enc, elen);
	memcpy(b + h + elen, "\"}", 2);
	b[h + elen - 5] = '!';
	ck_assert_int_eq(ds_response_parse(b, h + elen + 2, &r), -1);
	ck_assert_str_eq(r.reason, "response_string is not valid base64");
	free(enc);
	free(raw);
	free(b);
}
END_TEST

static Suite *
hostile_suite(void)
{
	Suite *s = suite_create("response_hostile");
	TCase *tc = tcase_create("bodies");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, cjson_holds_only_the_values_used);
	tcase_add_test(tc, nul_escapes_worst_case);
	tcase_add_test(tc, base64_large);
	suite_add_tcase(s, tc);
	return s;
}

DS_CHECK_MAIN(hostile_suite)
