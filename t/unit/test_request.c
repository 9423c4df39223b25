/* test_request.c: the JSON body a worker POSTs for one job (SPEC section 4),
 * read back with cJSON as an endpoint would. */
#include "worker/request.h"

#include "unit.h"
#include <cjson/cJSON.h>

#include <stdlib.h>
#include <string.h>

#include "common/text.h"

static char *out;
static cJSON *doc;

static void
teardown(void)
{
	free(out);
	out = NULL;
	cJSON_Delete(doc);
	doc = NULL;
}

static const char *
field(const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, key);

	ck_assert_msg(cJSON_IsString(v), "%s missing or not a string", key);
	return v->valuestring;
}

/* Builds the body for the job (the workload from an exact-size heap copy,
 * not NUL-terminated) and parses it back into doc. */
static void
build(const char *function, const char *handle, const char *unique,
    const char *workload, size_t wlen)
{
	char *w = malloc(wlen ? wlen : 1);
	struct ds_job_view job = {function, handle, unique, w, wlen};

	ck_assert_ptr_nonnull(w);
	memcpy(w, workload, wlen);
	teardown();
	out = ds_request_json(&job);
	free(w);
	ck_assert_ptr_nonnull(out);
	/* one line: nothing to cut it in a log or a proxy */
	ck_assert_ptr_null(strchr(out, '\n'));
	doc = cJSON_Parse(out);
	ck_assert_msg(doc != NULL, "not JSON: %s", out);
	ck_assert(cJSON_IsObject(doc));
}

static void
assert_fields(const char *function, const char *handle, const char *unique)
{
	ck_assert_str_eq(field("function_name"), function);
	ck_assert_str_eq(field("job_handle"), handle);
	ck_assert_str_eq(field("unique"), unique);
}

/* The workload went as is. */
static void
plain(const char *workload)
{
	ck_assert_str_eq(field("workload"), workload);
	ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(doc,
	    "workload_encoding"));
	ck_assert_int_eq(cJSON_GetArraySize(doc), 4);
}

/* The workload went base64-encoded and decodes to these bytes. */
static void
encoded(const char *want, size_t wlen)
{
	const char *b64 = field("workload");
	size_t n;
	char *raw;

	ck_assert_str_eq(field("workload_encoding"), "base64");
	ck_assert_int_eq(cJSON_GetArraySize(doc), 5);
	raw = ds_base64_decode(b64, strlen(b64), &n);
	ck_assert_ptr_nonnull(raw);
	ck_assert_uint_eq(n, wlen);
	ck_assert(memcmp(raw, want, wlen) == 0);
	free(raw);
}

#define BUILD(w)	build("Sum", "H:gm:1", "u-1", (w), sizeof(w) - 1)

START_TEST(four_fields)
{
	build("Sum3", "H:gm.example:42", "unique-7", "1 2 3", 5);
	assert_fields("Sum3", "H:gm.example:42", "unique-7");
	plain("1 2 3");
	ck_assert_str_eq(out, "{\"function_name\":\"Sum3\","
	    "\"job_handle\":\"H:gm.example:42\",\"unique\":\"unique-7\","
	    "\"workload\":\"1 2 3\"}");
}
END_TEST

START_TEST(empty_values)
{
	build("f", "h", "", "", 0);
	assert_fields("f", "h", "");
	plain("");
}
END_TEST

START_TEST(utf8_as_is)
{
	BUILD("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
	assert_fields("Sum", "H:gm:1", "u-1");
	plain("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
	BUILD("\xEF\xB7\x90");
	plain("\xEF\xB7\x90");
}
END_TEST

START_TEST(special_chars)
{
	static const char w[] = "say \"hi\"\n\ttab \\ back/slash \r\x01\x1f"
	    "\x7f </script> {\"a\":1}";

	BUILD(w);
	plain(w);
	build("f\"n", "h\\1", "u\nx", "x", 1);
	assert_fields("f\"n", "h\\1", "u\nx");
	plain("x");
}
END_TEST

START_TEST(not_utf8_goes_base64)
{
	BUILD("\xFF\xFE\x00\x01");
	assert_fields("Sum", "H:gm:1", "u-1");
	encoded("\xFF\xFE\x00\x01", 4);
	BUILD("abc\xC3");		/* truncated sequence */
	encoded("abc\xC3", 4);
	BUILD("\xED\xA0\x80");		/* surrogate */
	encoded("\xED\xA0\x80", 3);
	BUILD("\xC0\xAF");		/* overlong */
	encoded("\xC0\xAF", 2);
	BUILD("caf\xE9");		/* Latin-1 */
	encoded("caf\xE9", 4);
}
END_TEST

START_TEST(nul_goes_base64)
{
	BUILD("a\0b");
	encoded("a\0b", 3);
	BUILD("\0");
	encoded("\0", 1);
	BUILD("text\0");
	encoded("text\0", 5);
}
END_TEST

START_TEST(binary_round_trip)
{
	char all[256];

	for (size_t i = 0; i < sizeof(all); i++)
		all[i] = (char)i;
	build("f", "h", "u", all, sizeof(all));
	encoded(all, sizeof(all));
}
END_TEST

START_TEST(large_workload)
{
	size_t len = 1 << 20;
	char *w = malloc(len + 1);

	ck_assert_ptr_nonnull(w);
	memset(w, 'w', len);
	w[len] = '\0';
	build("f", "h", "u", w, len);
	plain(w);
	w[len / 2] = '\xFF';
	build("f", "h", "u", w, len);
	encoded(w, len);
	free(w);
}
END_TEST

START_TEST(needs_base64)
{
	struct ds_job_view job = {"f", "h", "u", "abc", 3};

	ck_assert_int_eq(ds_workload_needs_base64(&job), 0);
	job.workload_len = 0;
	ck_assert_int_eq(ds_workload_needs_base64(&job), 0);
	job.workload = "a\0c";
	job.workload_len = 3;
	ck_assert_int_eq(ds_workload_needs_base64(&job), 1);
	job.workload = "\xC3\xA9";
	job.workload_len = 2;
	ck_assert_int_eq(ds_workload_needs_base64(&job), 0);
	job.workload_len = 1;
	ck_assert_int_eq(ds_workload_needs_base64(&job), 1);
}
END_TEST

/* A unique (or handle, or function) that is not UTF-8 is flagged too. */
START_TEST(non_utf8_unique_is_flagged)
{
	build("Sum", "H:gm:1", "u\xFF", "1 2", 3);
	ck_assert_str_eq(field("unique"), "df8=");
	ck_assert_str_eq(field("unique_encoding"), "base64");
	ck_assert_str_eq(field("job_handle"), "H:gm:1");
	ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(doc,
	    "job_handle_encoding"));
	ck_assert_str_eq(field("workload"), "1 2");
}
END_TEST

static Suite *
request_suite(void)
{
	Suite *s = suite_create("request");
	TCase *tc;

	tc = tcase_create("json");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, four_fields);
	tcase_add_test(tc, empty_values);
	tcase_add_test(tc, utf8_as_is);
	tcase_add_test(tc, special_chars);
	tcase_add_test(tc, not_utf8_goes_base64);
	tcase_add_test(tc, nul_goes_base64);
	tcase_add_test(tc, binary_round_trip);
	tcase_add_test(tc, large_workload);
	tcase_add_test(tc, needs_base64);
	tcase_add_test(tc, non_utf8_unique_is_flagged);
	suite_add_tcase(s, tc);
	return s;
}

DS_CHECK_MAIN(request_suite)
