/* test_request.c: the JSON body a worker POSTs for one job (docs/endpoint.md),
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

/* The body has the string key with the value want. */
static int
field_is(const char *key, const char *want)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, key);

	return cJSON_IsString(v) && strcmp(v->valuestring, want) == 0;
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

/* The workload went as is; name is the case. */
static void
plain(const char *name, const char *workload)
{
	ck_assert_msg(field_is("workload", workload) &&
	    cJSON_GetObjectItemCaseSensitive(doc, "workload_encoding") ==
	    NULL && cJSON_GetArraySize(doc) == 4,
	    "case \"%s\": not as is: %.300s", name, out);
}

/* The workload went base64-encoded and decodes to these bytes. */
static void
encoded(const char *name, const char *want, size_t wlen)
{
	const char *b64;
	size_t n;
	char *raw;

	ck_assert_msg(field_is("workload_encoding", "base64") &&
	    cJSON_GetArraySize(doc) == 5, "case \"%s\": not base64: %.300s",
	    name, out);
	b64 = field("workload");
	raw = ds_base64_decode(b64, strlen(b64), &n);
	ck_assert_msg(raw != NULL && n == wlen && memcmp(raw, want, wlen) == 0,
	    "case \"%s\": %s decodes to other bytes", name,
	    ds_show(b64, strlen(b64)));
	free(raw);
}

/* A string literal and its length, NULs and all. */
#define S(s)	(s), sizeof(s) - 1

/* A job, and whether its workload goes base64-encoded. */
static const struct {
	const char *function, *handle, *unique, *workload;
	size_t wlen;
	int base64;
} job_cases[] = {
	{"Sum3", "H:gm.example:42", "unique-7", S("1 2 3"), 0},
	{"f", "h", "", S(""), 0},
	/* UTF-8 goes as is */
	{"Sum", "H:gm:1", "u-1",
	    S("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"), 0},
	{"Sum", "H:gm:1", "u-1", S("\xEF\xB7\x90"), 0},
	/* so do quotes, escapes and control characters, escaped */
	{"Sum", "H:gm:1", "u-1", S("say \"hi\"\n\ttab \\ back/slash \r\x01\x1f"
	    "\x7f </script> {\"a\":1}"), 0},
	{"f\"n", "h\\1", "u\nx", S("x"), 0},
	/* what is not UTF-8 goes base64 */
	{"Sum", "H:gm:1", "u-1", S("\xFF\xFE\x00\x01"), 1},
	{"Sum", "H:gm:1", "u-1", S("abc\xC3"), 1},	/* truncated sequence */
	{"Sum", "H:gm:1", "u-1", S("\xED\xA0\x80"), 1},	/* surrogate */
	{"Sum", "H:gm:1", "u-1", S("\xC0\xAF"), 1},	/* overlong */
	{"Sum", "H:gm:1", "u-1", S("caf\xE9"), 1},	/* Latin-1 */
	/* and so does a NUL */
	{"Sum", "H:gm:1", "u-1", S("a\0b"), 1},
	{"Sum", "H:gm:1", "u-1", S("\0"), 1},
	{"Sum", "H:gm:1", "u-1", S("text\0"), 1},
};

/* The body has the job's fields, and its workload as is or base64. */
START_TEST(job)
{
	const char *w = job_cases[_i].workload;
	size_t wlen = job_cases[_i].wlen;
	const char *name = ds_show(w, wlen);

	build(job_cases[_i].function, job_cases[_i].handle,
	    job_cases[_i].unique, w, wlen);
	ck_assert_msg(field_is("function_name", job_cases[_i].function) &&
	    field_is("job_handle", job_cases[_i].handle) &&
	    field_is("unique", job_cases[_i].unique),
	    "case \"%s\": %.300s", name, out);
	if (job_cases[_i].base64)
		encoded(name, w, wlen);
	else
		plain(name, w);
}
END_TEST

START_TEST(four_fields)
{
	build("Sum3", "H:gm.example:42", "unique-7", "1 2 3", 5);
	ck_assert_str_eq(out, "{\"function_name\":\"Sum3\","
	    "\"job_handle\":\"H:gm.example:42\",\"unique\":\"unique-7\","
	    "\"workload\":\"1 2 3\"}");
}
END_TEST

START_TEST(binary_round_trip)
{
	char all[256];

	for (size_t i = 0; i < sizeof(all); i++)
		all[i] = (char)i;
	build("f", "h", "u", all, sizeof(all));
	encoded("0 to 255", all, sizeof(all));
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
	plain("1 MiB of w", w);
	w[len / 2] = '\xFF';
	build("f", "h", "u", w, len);
	encoded("1 MiB of w and one 0xFF", w, len);
	free(w);
}
END_TEST

/* A workload and whether it needs base64. */
static const struct {
	const char *w;
	size_t len;
	int want;
} needs_cases[] = {
	{"abc", 3, 0},
	{"abc", 0, 0},
	{"a\0c", 3, 1},
	{"\xC3\xA9", 2, 0},
	{"\xC3\xA9", 1, 1},
};

START_TEST(needs_base64)
{
	struct ds_job_view job = {"f", "h", "u", needs_cases[_i].w,
	    needs_cases[_i].len};

	ck_assert_msg(ds_workload_needs_base64(&job) == needs_cases[_i].want,
	    "case \"%s\": expected %d", ds_show(needs_cases[_i].w,
	    needs_cases[_i].len), needs_cases[_i].want);
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

/* One builder for a run of jobs, as a worker keeps it: each body is the one
 * a fresh builder makes, whatever came before (a reused tree, base64 jobs,
 * a large job), and buffers grown for a large job go back once smaller
 * jobs follow, or at once when the worker idles. */
START_TEST(builder_reused)
{
	static const size_t sizes[] = {5, 300000, 7, 300000, 300000, 4, 0};
	struct ds_request rq;
	char *w = malloc(300000);

	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(ds_request_init(&rq), 0);
	for (size_t k = 0; k < NELEM(sizes) * 2; k++) {
		size_t n = sizes[k % NELEM(sizes)], len;
		struct ds_job_view job = {"Sum", "H:gm:1", "u-1", w, n};
		const char *body;
		char *fresh;

		/* the second time round, every workload is binary */
		for (size_t i = 0; i < n; i++)
			w[i] = k < NELEM(sizes) ? (char)('a' + i % 26) :
			    (char)(i * 7);
		body = ds_request_build(&rq, &job, &len);
		fresh = ds_request_json(&job);
		ck_assert_ptr_nonnull(body);
		ck_assert_ptr_nonnull(fresh);
		ck_assert_uint_eq(len, strlen(fresh));
		ck_assert_msg(strcmp(body, fresh) == 0, "job %zu differs", k);
		free(fresh);
		ds_request_trim(&rq, 0);
		/* kept while a job of its size needs half of it */
		if (n < 1000)
			ck_assert_uint_le(rq.body.cap + rq.text.cap,
			    2 * 64 * 1024);
		else
			ck_assert_uint_gt(rq.body.cap, 64 * 1024);
	}
	ds_request_build(&rq, &(struct ds_job_view){"f", "h", "u", w, 300000},
	    &(size_t){0});
	ds_request_trim(&rq, 1);
	ck_assert_uint_le(rq.body.cap, 64 * 1024);
	ck_assert_uint_le(rq.text.cap, 64 * 1024);
	ds_request_free(&rq);
	free(w);
}
END_TEST

static Suite *
request_suite(void)
{
	Suite *s = suite_create("request");
	TCase *tc;

	tc = ds_tcase(s, "json", NULL, teardown);
	tcase_add_loop_test(tc, job, 0, NELEM(job_cases));
	tcase_add_test(tc, four_fields);
	tcase_add_test(tc, binary_round_trip);
	tcase_add_test(tc, large_workload);
	tcase_add_loop_test(tc, needs_base64, 0, NELEM(needs_cases));
	tcase_add_test(tc, non_utf8_unique_is_flagged);
	tcase_add_test(tc, builder_reused);
	return s;
}

DS_CHECK_MAIN(request_suite)
