/* test_admin.c: the parsers of gearmand's admin replies (common/admin.h),
 * table-driven: each good reply with the rows it must give, each bad one
 * with the reason it must be refused for. */
#include "common/admin.h"

#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NELEM_T(a) (sizeof(a) / sizeof((a)[0]))

struct rows {
	char text[8][160];	/* "name=T/R/A" or "id|functions" */
	int n;
};

static void
on_func(void *ctx, const struct ds_admin_func *f)
{
	struct rows *r = ctx;

	ck_assert_int_lt(r->n, 8);
	snprintf(r->text[r->n++], sizeof(r->text[0]), "%.*s=%u/%u/%u",
	    (int)f->name_len, f->name, f->total, f->running, f->available);
}

static void
on_worker(void *ctx, const struct ds_admin_worker *w)
{
	struct rows *r = ctx;

	ck_assert_int_lt(r->n, 8);
	snprintf(r->text[r->n++], sizeof(r->text[0]), "%.*s|%.*s",
	    (int)w->id_len, w->id, (int)w->functions_len, w->functions);
}

/* Parses s from an exact-size heap copy, so ASan sees any overread. */
static int
parse(int workers, const char *s, struct rows *r, const char **why)
{
	size_t len = strlen(s);
	char *copy = malloc(len ? len : 1);
	int rc;

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, s, len);
	memset(r, 0, sizeof(*r));
	*why = NULL;
	rc = workers ? ds_admin_parse_workers(copy, len, on_worker, r, why) :
	    ds_admin_parse_status(copy, len, on_func, r, why);
	free(copy);
	return rc;
}

static const struct {
	const char *in;
	int n;
	const char *rows[3];
} good_status[] = {
	{".\n", 0, {NULL}},
	{"Sum\t3\t1\t2\n.\n", 1, {"Sum=3/1/2"}},
	{"a\t0\t0\t1\nb\t1\t0\t0\n.\n", 2, {"a=0/0/1", "b=1/0/0"}},
	{"a\t1\t2\t3\r\n.\r\n", 1, {"a=1/2/3"}},
	{"a\tb\t1\t2\t3\n.\n", 1, {"a\tb=1/2/3"}},	/* a tab in a name */
	{"f n\t4294967295\t0\t0\n.\n", 1, {"f n=4294967295/0/0"}},
	{"x\t0000000001\t0\t0\n.\n", 1, {"x=1/0/0"}},
};

static const struct {
	const char *in;
	const char *why;
} bad_status[] = {
	{"", "reply without a complete line"},
	{"a\t1\t2\t3", "reply without a complete line"},
	{"a\t1\t2\t3\n", "reply not ended by a \".\" line"},
	{"a\t1\t2\t3\n.\nb\t1\t1\t1\n", "reply not ended by a \".\" line"},
	{"ERR UNKNOWN_COMMAND Unknown+server+command\r\n",
	    "the server answered ERR"},
	{"ERR\n", "the server answered ERR"},
};

#define BAD_LINE "status line is not FUNCTION\\tTOTAL\\tRUNNING\\tAVAILABLE"
static const char *const bad_status_lines[] = {
	"a\t4294967296\t0\t0",		/* over u32 */
	"a\t10000000000\t0\t0",		/* eleven digits */
	"a\t-1\t0\t0",
	"a\t+1\t0\t0",
	"a\t 1\t0\t0",
	"a\t1\t0\t0 ",
	"a\t\t0\t0",
	"a\t1\t2",			/* a field short */
	"\t1\t2\t3",			/* no name */
	"a 1 2 3",
	"a\t1\t2\t3\t",
	"a\t0x1\t0\t0",
	"ERR x",			/* not first: just a bad line */
};

START_TEST(status_good)
{
	struct rows r;
	const char *why;

	for (size_t i = 0; i < NELEM_T(good_status); i++) {
		ck_assert_msg(parse(0, good_status[i].in, &r, &why) == 0,
		    "case %zu: %s", i, why);
		ck_assert_int_eq(r.n, good_status[i].n);
		for (int k = 0; k < r.n; k++)
			ck_assert_str_eq(r.text[k], good_status[i].rows[k]);
	}
}
END_TEST

START_TEST(status_bad)
{
	struct rows r;
	const char *why;
	char in[200];

	for (size_t i = 0; i < NELEM_T(bad_status); i++) {
		ck_assert_msg(parse(0, bad_status[i].in, &r, &why) == -1,
		    "case %zu accepted", i);
		ck_assert_str_eq(why, bad_status[i].why);
	}
	for (size_t i = 0; i < NELEM_T(bad_status_lines); i++) {
		snprintf(in, sizeof(in), "ok\t1\t1\t1\n%s\n.\n",
		    bad_status_lines[i]);
		ck_assert_msg(parse(0, in, &r, &why) == -1, "line %zu", i);
		ck_assert_str_eq(why, BAD_LINE);
		ck_assert_int_eq(r.n, 1);	/* the good line before it */
	}
}
END_TEST

START_TEST(workers_good)
{
	struct rows r;
	const char *why;

	ck_assert_int_eq(parse(1, "21 127.0.0.1 - :\n"
	    "20 127.0.0.1 pool:0:42 : foo bar\n"
	    "7 ::1 x : f\n.\n", &r, &why), 0);
	ck_assert_int_eq(r.n, 3);
	ck_assert_str_eq(r.text[0], "-|");
	ck_assert_str_eq(r.text[1], "pool:0:42|foo bar");
	ck_assert_str_eq(r.text[2], "x|f");
	ck_assert_int_eq(parse(1, ".\r\n", &r, &why), 0);
	ck_assert_int_eq(r.n, 0);
}
END_TEST

START_TEST(workers_bad)
{
	static const char *const lines[] = {
		"x 127.0.0.1 - :", "21 127.0.0.1 -", "21 127.0.0.1 - foo",
		"21", "", "21  127.0.0.1 - :", "21 127.0.0.1 - ::",
		"-1 127.0.0.1 - :",
	};
	struct rows r;
	const char *why;
	char in[200];

	for (size_t i = 0; i < NELEM_T(lines); i++) {
		snprintf(in, sizeof(in), "%s\n.\n", lines[i]);
		ck_assert_msg(parse(1, in, &r, &why) == -1, "line %zu", i);
		ck_assert_str_eq(why, "workers line is not FD IP CLIENT_ID : "
		    "FUNCTIONS");
	}
	ck_assert_int_eq(parse(1, "ERR NO_SUCH\r\n", &r, &why), -1);
	ck_assert_str_eq(why, "the server answered ERR");
}
END_TEST

START_TEST(reply_len)
{
	static const struct {
		const char *in;
		ssize_t want;
	} cases[] = {
		{"", 0},
		{"a\t1\t1\t1\n", 0},
		{"a\t1\t1\t1\n.", 0},
		{"a\t1\t1\t1\n.\n", 10},
		{".\n21 x - :\n.\n", 2},		/* two replies in a row */
		{"ERR X y\r\n.\n", 9},
		{"a\nERR X\n.\n", 10},			/* ERR only first */
		{"..\n.\r\n", 6},
	};
	char *big;

	for (size_t i = 0; i < NELEM_T(cases); i++)
		ck_assert_int_eq(ds_admin_reply_len(cases[i].in,
		    strlen(cases[i].in)), cases[i].want);
	/* an endless line is refused once it passes the limit */
	big = malloc(DS_ADMIN_LINE_MAX + 2);
	ck_assert_ptr_nonnull(big);
	memset(big, 'a', DS_ADMIN_LINE_MAX + 2);
	ck_assert_int_eq(ds_admin_reply_len(big, DS_ADMIN_LINE_MAX), 0);
	ck_assert_int_eq(ds_admin_reply_len(big, DS_ADMIN_LINE_MAX + 1), -1);
	big[DS_ADMIN_LINE_MAX + 1] = '\n';
	ck_assert_int_eq(ds_admin_reply_len(big, DS_ADMIN_LINE_MAX + 2), -1);
	free(big);
}
END_TEST

START_TEST(has_function)
{
	ck_assert(ds_admin_has_function("foo bar", 7, "bar"));
	ck_assert(ds_admin_has_function("foo bar", 7, "foo"));
	ck_assert(!ds_admin_has_function("foo bar", 7, "fo"));
	ck_assert(!ds_admin_has_function("foo bar", 7, "foo bar"));
	ck_assert(!ds_admin_has_function("", 0, "foo"));
	ck_assert(ds_admin_has_function("a  b", 4, "b"));
	ck_assert(!ds_admin_has_function("foobar", 3, "foobar"));
}
END_TEST

START_TEST(our_id)
{
	static const struct {
		const char *id;
		int ok;
		const char *pool;
		int slot, pid;
	} cases[] = {
		{"Regular:0:42", 1, "Regular", 0, 42},
		{"a:b:12:2147483647", 1, "a:b", 12, 2147483647},
		{"-", 0, NULL, 0, 0},
		{"p:0:0", 0, NULL, 0, 0},
		{"p::1", 0, NULL, 0, 0},
		{":0:1", 0, NULL, 0, 0},
		{"p:0:", 0, NULL, 0, 0},
		{"p:x:1", 0, NULL, 0, 0},
		{"0:1", 0, NULL, 0, 0},
		{"p:1:2147483648", 0, NULL, 0, 0},
		{"p:-1:5", 0, NULL, 0, 0},
		{"0123456789abcdef:1:2", 0, NULL, 0, 0},	/* pool too long */
		{"", 0, NULL, 0, 0},
	};
	char pool[16];
	int slot, pid;

	for (size_t i = 0; i < NELEM_T(cases); i++) {
		int rc = ds_admin_our_id(cases[i].id, strlen(cases[i].id), pool,
		    sizeof(pool), &slot, &pid);

		ck_assert_msg(rc == (cases[i].ok ? 0 : -1), "case %zu", i);
		if (!cases[i].ok)
			continue;
		ck_assert_str_eq(pool, cases[i].pool);
		ck_assert_int_eq(slot, cases[i].slot);
		ck_assert_int_eq(pid, cases[i].pid);
	}
}
END_TEST

static Suite *
admin_suite(void)
{
	Suite *s = suite_create("admin");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, status_good);
	tcase_add_test(tc, status_bad);
	tcase_add_test(tc, workers_good);
	tcase_add_test(tc, workers_bad);
	tcase_add_test(tc, reply_len);
	tcase_add_test(tc, has_function);
	tcase_add_test(tc, our_id);
	suite_add_tcase(s, tc);
	return s;
}

DS_CHECK_MAIN(admin_suite)
