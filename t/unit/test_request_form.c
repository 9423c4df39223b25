/* test_request_form.c: the multipart/form-data body a FastCGI pool sends
 * for a form job (worker/request.h, ds_request_form()): libcurl's layout,
 * values as raw bytes, and a boundary that is in none of the values. */
#include "worker/request.h"

#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct ds_form f;

static void
teardown(void)
{
	ds_form_free(&f);
	memset(&f, 0, sizeof(f));
}

/* The body libcurl's mime API writes for these four values. */
static size_t
expected(char *out, const char *b, const struct ds_job_view *j)
{
	const char *names[4] = {"function_name", "job_handle", "unique",
	    "workload"};
	const char *v[4] = {j->function, j->handle, j->unique, j->workload};
	size_t vl[4] = {strlen(j->function), strlen(j->handle),
	    strlen(j->unique), j->workload_len}, o = 0;

	for (int i = 0; i < 4; i++) {
		o += (size_t)sprintf(out + o, "--%s\r\nContent-Disposition: "
		    "form-data; name=\"%s\"\r\n\r\n", b, names[i]);
		memcpy(out + o, v[i], vl[i]);
		o += vl[i];
		o += (size_t)sprintf(out + o, "\r\n");
	}
	return o + (size_t)sprintf(out + o, "--%s--\r\n", b);
}

START_TEST(layout_and_bytes)
{
	char wl[256], want[2048];
	struct ds_job_view j = {"Fn", "H:1", "u-1", wl, sizeof(wl)};
	size_t len, n;
	const char *body;

	for (int i = 0; i < 256; i++)
		wl[i] = (char)i;
	body = ds_request_form(&f, &j, &len);
	ck_assert_ptr_nonnull(body);
	ck_assert_uint_eq(strlen(f.boundary), 40);
	ck_assert(strncmp(f.boundary, "------------------------", 24) == 0);
	n = expected(want, f.boundary, &j);
	ck_assert_uint_eq(len, n);
	ck_assert(memcmp(body, want, n) == 0);
}
END_TEST

START_TEST(boundary_never_in_a_value)
{
	char wl[128], old[48];
	struct ds_job_view j = {"Fn", "H:1", "u", "x", 1};
	size_t len;

	ck_assert_ptr_nonnull(ds_request_form(&f, &j, &len));
	snprintf(old, sizeof(old), "%s", f.boundary);
	/* the same boundary is kept from job to job... */
	ck_assert_ptr_nonnull(ds_request_form(&f, &j, &len));
	ck_assert_str_eq(f.boundary, old);
	/* ...until a value holds it */
	snprintf(wl, sizeof(wl), "a\r\n--%s--\r\n", old);
	j.workload = wl;
	j.workload_len = strlen(wl);
	ck_assert_ptr_nonnull(ds_request_form(&f, &j, &len));
	ck_assert_str_ne(f.boundary, old);
	ck_assert_ptr_null(memmem(wl, strlen(wl), f.boundary,
	    strlen(f.boundary)));
}
END_TEST

static Suite *
request_form_suite(void)
{
	Suite *s = suite_create("request_form");
	TCase *tc = ds_tcase(s, "form", NULL, teardown);

	tcase_add_test(tc, layout_and_bytes);
	tcase_add_test(tc, boundary_never_in_a_value);
	return s;
}

DS_CHECK_MAIN(request_form_suite)
