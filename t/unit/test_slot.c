/* test_slot.c: the slot page a worker shares with its master
 * (common/slot.h): buckets, counting, the job view, and a page that a
 * confused or hostile worker filled with nonsense. */
#include "common/slot.h"

#include "unit.h"

#include <stdlib.h>
#include <string.h>

static struct ds_slot_shm *s;

static void
setup(void)
{
	s = malloc(ds_slot_size(3));
	ck_assert_ptr_nonnull(s);
	ds_slot_init(s, 3);
}

static void
teardown(void)
{
	free(s);
}

START_TEST(buckets)
{
	static const struct { uint32_t ms; int bucket; } cases[] = {
		{0, 0}, {5, 0}, {6, 1}, {10, 1}, {11, 2}, {999, 7}, {1000, 7},
		{1001, 8}, {300000, 13}, {300001, DS_DURATION_NBUCKETS},
		{UINT32_MAX, DS_DURATION_NBUCKETS},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(ds_duration_bucket(cases[i].ms) == cases[i].bucket,
		    "%u ms", cases[i].ms);
}
END_TEST

START_TEST(fresh_page_is_starting)
{
	struct ds_slot_view v;

	ck_assert_int_eq(s->magic, DS_SLOT_MAGIC);
	ck_assert_int_eq(s->nfunctions, 3);
	ck_assert_int_eq(ds_slot_read(s, 3, &v), 0);
	ck_assert_int_eq(v.state, DS_SLOT_STARTING);
	ck_assert_str_eq(v.handle, "");
}
END_TEST

START_TEST(counts_by_function_outcome_and_code)
{
	struct ds_fn_counts c;
	uint64_t n;

	ds_slot_count(s, 1, DS_OUT_COMPLETE, 200, 3);
	ds_slot_count(s, 1, DS_OUT_FAIL, 500, 1500);
	ds_slot_count(s, 1, DS_OUT_TIMEOUT, 0, 400000);
	ds_slot_count(s, 2, DS_OUT_ANSWER_LOST, 404, 20);
	ds_slot_count(s, 3, DS_OUT_COMPLETE, 500, 1);	/* not a function */
	ds_slot_count(s, 0, DS_OUT_LAST + 1, 0, 1);	/* not an outcome */
	ds_slot_read_counts(s, 1, &c);
	ck_assert_uint_eq(c.outcome[DS_OUT_COMPLETE], 1);
	ck_assert_uint_eq(c.outcome[DS_OUT_FAIL], 1);
	ck_assert_uint_eq(c.outcome[DS_OUT_TIMEOUT], 1);
	ck_assert_uint_eq(c.count, 3);
	ck_assert_uint_eq(c.sum_ms, 401503);
	ck_assert_uint_eq(c.buckets[0], 1);
	ck_assert_uint_eq(c.buckets[8], 1);
	ds_slot_read_counts(s, 0, &c);
	ck_assert_uint_eq(c.count, 0);
	ds_slot_read_counts(s, 2, &c);
	ck_assert_uint_eq(c.outcome[DS_OUT_ANSWER_LOST], 1);
	ck_assert_uint_eq(ds_slot_read_http(s, 0, &n), 500);
	ck_assert_uint_eq(n, 2);	/* the code counts whatever the function */
	ck_assert_uint_eq(ds_slot_read_http(s, 1, &n), 404);
	ck_assert_uint_eq(n, 1);
}
END_TEST

START_TEST(http_codes_past_the_table)
{
	uint64_t n;

	for (int i = 0; i < DS_SLOT_HTTP_CODES + 3; i++)
		ds_slot_count(s, 0, DS_OUT_FAIL, 400 + i, 1);
	ck_assert_uint_eq(ds_slot_read_http(s, DS_SLOT_HTTP_CODES - 1, &n),
	    400 + DS_SLOT_HTTP_CODES - 1);
	ck_assert_uint_eq(s->http_other, 3);
}
END_TEST

START_TEST(job_view)
{
	struct ds_slot_view v;

	ds_slot_begin(s);
	s->state = DS_SLOT_BUSY;
	s->function = 2;
	s->jobs_started = 7;
	s->busy_since_ms = 1234;
	strcpy(s->handle, "H:host:1");
	strcpy(s->unique, "u1");
	ck_assert_int_eq(ds_slot_read(s, 3, &v), -1);	/* mid-change */
	ds_slot_end(s);
	ck_assert_int_eq(ds_slot_read(s, 3, &v), 0);
	ck_assert_int_eq(v.state, DS_SLOT_BUSY);
	ck_assert_uint_eq(v.function, 2);
	ck_assert_uint_eq(v.jobs_started, 7);
	ck_assert_int_eq(v.busy_since_ms, 1234);
	ck_assert_str_eq(v.handle, "H:host:1");
	ck_assert_str_eq(v.unique, "u1");
}
END_TEST

/* Each state a worker writes reads back as itself, by its value of the
 * previous releases (a master reads the page of another release's worker),
 * and has its name for the log. */
static const struct {
	enum ds_slot_state state;
	uint32_t value;
	const char *name;
} state_cases[] = {
	{DS_SLOT_STARTING, 1, "starting"},
	{DS_SLOT_IDLE, 2, "idle"},
	{DS_SLOT_BUSY, 3, "busy"},
	{DS_SLOT_DISCONNECTED, 5, "disconnected"},
	{DS_SLOT_STOPPING, 6, "stopping"},
};

START_TEST(every_state)
{
	struct ds_slot_view v;

	ck_assert_uint_eq((uint32_t)state_cases[_i].state,
	    state_cases[_i].value);
	ds_slot_begin(s);
	s->state = state_cases[_i].value;
	ds_slot_end(s);
	ck_assert_int_eq(ds_slot_read(s, 3, &v), 0);
	ck_assert_int_eq(v.state, state_cases[_i].state);
	ck_assert_str_eq(ds_slot_state_name((int)state_cases[_i].value),
	    state_cases[_i].name);
}
END_TEST

static const struct ds_name_case name_cases[] = {
	{"state", ds_slot_state_name, 0, "?"},
	{"state", ds_slot_state_name, 4, "?"},
	{"state", ds_slot_state_name, DS_SLOT_STOPPING + 1, "?"},
	{"state", ds_slot_state_name, -1, "?"},
	{"outcome", ds_outcome_name, DS_OUT_COMPLETE, "complete"},
	{"outcome", ds_outcome_name, DS_OUT_FAIL, "fail"},
	{"outcome", ds_outcome_name, DS_OUT_TIMEOUT, "timeout"},
	{"outcome", ds_outcome_name, DS_OUT_ABORTED, "aborted"},
	{"outcome", ds_outcome_name, DS_OUT_ANSWER_LOST, "answer_lost"},
	{"outcome", ds_outcome_name, DS_OUT_LAST + 1, "?"},
	{"outcome", ds_outcome_name, -1, "?"},
};

START_TEST(names)
{
	ds_check_name(&name_cases[_i]);
}
END_TEST

/* A copy is whole only when no change was under way at the first load of
 * seq and none began before the second. */
static const struct {
	uint32_t before, after;
	int whole;
} seq_cases[] = {
	{0, 0, 1},
	{4, 4, 1},
	{UINT32_MAX - 1, UINT32_MAX - 1, 1},
	{3, 3, 0},		/* a change under way all along */
	{4, 5, 0},		/* one began during the copy */
	{4, 6, 0},		/* a whole change during the copy */
	{4, 8, 0},		/* two of them */
	{UINT32_MAX - 1, 0, 0},	/* a whole change across the wrap */
	{4, 2, 0},
};

START_TEST(seq_whole)
{
	ck_assert_msg(ds_slot_seq_whole(seq_cases[_i].before,
	    seq_cases[_i].after) == seq_cases[_i].whole, "seq %u then %u",
	    seq_cases[_i].before, seq_cases[_i].after);
}
END_TEST

/* Whatever a worker writes, the master reads a bounded, valid view. */
START_TEST(hostile_page)
{
	/* 4 was a job just done, which no worker writes any more */
	static const uint32_t states[] = {0, 4, DS_SLOT_STOPPING + 1,
	    0xFFFFFFFF};
	struct ds_slot_view v;

	memset(s->handle, 'h', sizeof(s->handle));	/* no NUL at all */
	memset(s->unique, 'u', sizeof(s->unique));
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		s->state = states[i];
		ck_assert_int_eq(ds_slot_read(s, 3, &v), 0);
		ck_assert_int_eq(v.state, DS_SLOT_IDLE);
	}
	s->state = DS_SLOT_BUSY;
	s->function = 3;	/* past the master's 3 functions */
	ck_assert_int_eq(ds_slot_read(s, 3, &v), 0);
	ck_assert_int_eq(v.state, DS_SLOT_IDLE);
	s->function = 0;
	ck_assert_int_eq(ds_slot_read(s, 3, &v), 0);
	ck_assert_int_eq(v.state, DS_SLOT_BUSY);
	ck_assert_uint_eq(strlen(v.handle), DS_SLOT_STR_MAX);
	ck_assert_uint_eq(strlen(v.unique), DS_SLOT_STR_MAX);
	s->seq = 1;		/* a worker stuck mid-change: give up */
	ck_assert_int_eq(ds_slot_read(s, 3, &v), -1);
}
END_TEST

/* The tail after fn[]: inside the page, past the counters, cleared by
 * init, and what the worker writes there is what the master reads. */
START_TEST(tail_after_the_counters)
{
	struct ds_slot_tail *t = ds_slot_tail(s, 3);

	ck_assert_uint_eq(ds_slot_size(3), ds_slot_base_size(3) + sizeof(*t));
	ck_assert_ptr_eq((char *)t, (char *)&s->fn[3]);
	ck_assert_uint_eq(ds_slot_read_servers(s, 3), 0);
	t->gearman_up = 5;
	ck_assert_uint_eq(ds_slot_read_servers(s, 3), 5);
	ds_slot_count(s, 2, DS_OUT_COMPLETE, 200, 1);
	ck_assert_uint_eq(ds_slot_read_servers(s, 3), 5);
}
END_TEST

/* What a page of a length holds past fn[]: pages of an older layout
 * (another release's master) are shorter. */
static const struct { long delta; int from_end; int parts; } parts_cases[] = {
	{-1, 0, DS_SLOT_NO_TAIL},	/* base - 1: not even a page */
	{0, 0, DS_SLOT_NO_TAIL},	/* before the tail was added */
	{7, 0, DS_SLOT_NO_TAIL},
	{8, 0, DS_SLOT_SERVERS},	/* gearman_up only: an older master */
	{-1, 1, DS_SLOT_SERVERS},	/* a byte short of this release's */
	{0, 1, DS_SLOT_WITH_VERSION},
	{4096, 1, DS_SLOT_WITH_VERSION},	/* a later release's, longer */
};

START_TEST(tail_parts)
{
	size_t len = (size_t)((long)(parts_cases[_i].from_end ?
	    ds_slot_size(3) : ds_slot_base_size(3)) + parts_cases[_i].delta);

	ck_assert_int_eq(ds_slot_tail_parts(len, 3), parts_cases[_i].parts);
}
END_TEST

/* The version as the master reads it: what the worker wrote, or -1 and
 * "" for none, one being written, or bytes that are not a version. */
static const struct {
	uint32_t seq;
	const char *bytes;	/* NULL: DS_SLOT_VERSION_LEN x 'x', no NUL */
	const char *want;	/* NULL: -1 and "" */
} version_cases[] = {
	{2, "0.1.0", "0.1.0"},
	{2, "9.9.9-test", "9.9.9-test"},
	{6, "1.2+deb12u1~bpo_1", "1.2+deb12u1~bpo_1"},
	{0, "0.1.0", NULL},		/* never written */
	{1, "0.1.0", NULL},		/* being written */
	{2, "", NULL},
	{2, "0.1 0", NULL},		/* would split a status line */
	{2, "0.1\"0", NULL},		/* would end a metric label */
	{2, "0.1\n", NULL},
	{2, "\xc3\xa9", NULL},
	{2, NULL, NULL},		/* no NUL in the field */
};

START_TEST(version_read)
{
	struct ds_slot_tail *t = ds_slot_tail(s, 3);
	char out[DS_SLOT_VERSION_LEN] = "stale";
	int rc;

	t->version_seq = version_cases[_i].seq;
	if (version_cases[_i].bytes != NULL)
		snprintf(t->version, sizeof(t->version), "%s",
		    version_cases[_i].bytes);
	else
		memset(t->version, 'x', sizeof(t->version));
	rc = ds_slot_read_version(t, out, sizeof(out));
	if (version_cases[_i].want == NULL) {
		ck_assert_int_eq(rc, -1);
		ck_assert_str_eq(out, "");
	} else {
		ck_assert_int_eq(rc, 0);
		ck_assert_str_eq(out, version_cases[_i].want);
	}
}
END_TEST

/* What the worker writes is what the master reads, cut to the field, and
 * a buffer too short for it gets none rather than a part. */
START_TEST(version_round_trip)
{
	struct ds_slot_tail *t = ds_slot_tail(s, 3);
	char out[DS_SLOT_VERSION_LEN], small[4];
	char longv[DS_SLOT_VERSION_LEN + 10];

	ck_assert_int_eq(ds_slot_read_version(t, out, sizeof(out)), -1);
	ds_slot_write_version(t, "0.1.0");
	ck_assert_int_eq(ds_slot_read_version(t, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "0.1.0");
	ck_assert_int_eq(ds_slot_read_version(t, small, sizeof(small)), -1);
	ck_assert_str_eq(small, "");
	memset(longv, '7', sizeof(longv) - 1);
	longv[sizeof(longv) - 1] = '\0';
	ds_slot_write_version(t, longv);
	ck_assert_int_eq(ds_slot_read_version(t, out, sizeof(out)), 0);
	ck_assert_uint_eq(strlen(out), DS_SLOT_VERSION_LEN - 1);
	ck_assert_uint_eq(ds_slot_read_servers(s, 3), 0);
}
END_TEST

static Suite *
slot_suite(void)
{
	Suite *su = suite_create("slot");
	TCase *tc = tcase_create("slot");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, buckets);
	tcase_add_test(tc, fresh_page_is_starting);
	tcase_add_test(tc, counts_by_function_outcome_and_code);
	tcase_add_test(tc, http_codes_past_the_table);
	tcase_add_test(tc, job_view);
	tcase_add_test(tc, hostile_page);
	tcase_add_test(tc, tail_after_the_counters);
	tcase_add_loop_test(tc, tail_parts, 0, NELEM(parts_cases));
	tcase_add_loop_test(tc, version_read, 0, NELEM(version_cases));
	tcase_add_test(tc, version_round_trip);
	tcase_add_loop_test(tc, every_state, 0, NELEM(state_cases));
	tcase_add_loop_test(tc, names, 0, NELEM(name_cases));
	tcase_add_loop_test(tc, seq_whole, 0, NELEM(seq_cases));
	suite_add_tcase(su, tc);
	return su;
}

DS_CHECK_MAIN(slot_suite)
