/* test_queue_rows.c: what the master keeps of a monitor's rows (issue 16,
 * master/queue_view.h) whatever the monitor sends: one row per (server,
 * function of ours), the last one winning; rows of functions not ours
 * dropped; worker rows capped; every drop counted for the round's log
 * line. And commit() carrying each function's history over by index, in
 * whatever order the rows come, and across a reload that changes our
 * functions. Tables of rounds, one check a row. */
#include "master/queue_view.h"

#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct ds_queue_view v;
static const char *const ours[] = {"C", "A", "B", "A"};	/* any order */
#define MAX_WORKERS 2

static int
msg(int type, int server, uint32_t a, uint32_t b, const char *text)
{
	struct ds_qmsg m;
	const char *why = NULL;

	memset(&m, 0, sizeof(m));
	m.type = (uint8_t)type;
	m.server = (uint16_t)server;
	m.a = a;
	m.b = b;
	snprintf(m.text, sizeof(m.text), "%.512s", text);
	return ds_qview_apply(&v, &m, 1, &why);
}

static void
setup(void)
{
	ck_assert_int_eq(ds_qview_init(&v, 2), 0);
	ck_assert_int_eq(ds_qview_set_ours(&v, ours, NELEM(ours), MAX_WORKERS),
	    0);
}

static void
teardown(void)
{
	ds_qview_free(&v);
}

/* S: a server's part begins (up); F: a function row (a is its total);
 * W: a worker row (a slot, b pid). */
enum { END, S, F, W };
#define SV(s) {S, s, "", 0, 0}
#define FN(s, name, total) {F, s, name, total, 0}
#define WK(s, slot) {W, s, "P", slot, 100 + slot}

struct row {
	int kind, server;
	const char *text;
	uint32_t a, b;
};

struct want {
	int server;
	const char *fn;
	uint32_t total;
};

static const struct {
	const char *what;
	struct row rows[8];
	struct want want[4];	/* every row kept; ends at fn NULL */
	size_t nw0;		/* worker rows kept on server 0 */
	struct ds_qdrops drops;
} cases[] = {
	{"one row each", {SV(0), FN(0, "A", 1), FN(0, "B", 2)},
	    {{0, "A", 1}, {0, "B", 2}}, 0, {0, 0, 0}},
	{"the last row wins", {SV(0), FN(0, "A", 1), FN(0, "A", 2),
	    FN(0, "A", 3)}, {{0, "A", 3}}, 0, {2, 0, 0}},
	{"duplicates between others", {SV(0), FN(0, "A", 1),
	    FN(0, "B", 1), FN(0, "A", 5), FN(0, "B", 6), FN(0, "C", 0)},
	    {{0, "A", 5}, {0, "B", 6}, {0, "C", 0}}, 0, {2, 0, 0}},
	{"not ours is dropped", {SV(0), FN(0, "X", 1), FN(0, "A", 1),
	    FN(0, "a", 2), FN(0, "AB", 3), FN(0, "", 4)},
	    {{0, "A", 1}}, 0, {0, 4, 0}},
	{"per server, not a duplicate", {SV(0), FN(0, "A", 1),
	    SV(1), FN(1, "A", 2)}, {{0, "A", 1}, {1, "A", 2}}, 0,
	    {0, 0, 0}},
	{"a restarted part drops the first", {SV(0), FN(0, "A", 1),
	    FN(0, "A", 2), SV(0), FN(0, "B", 3)}, {{0, "B", 3}}, 0,
	    {1, 0, 0}},
	{"workers past the cap", {SV(0), WK(0, 0),
	    WK(0, 1), WK(0, 2), WK(0, 3)},
	    {{0}}, MAX_WORKERS, {0, 0, 2}},
	{"the cap is a server's", {SV(0), WK(0, 0),
	    WK(0, 1), SV(1), WK(1, 0)},
	    {{0}}, MAX_WORKERS, {0, 0, 0}},
};

static void
apply_round(const struct row *rows, size_t n)
{
	static const int type[] = {0, DS_QMSG_SERVER, DS_QMSG_FUNC,
	    DS_QMSG_WORKER};

	for (size_t i = 0; i < n && rows[i].kind != END; i++)
		ck_assert_int_eq(msg(type[rows[i].kind], rows[i].server,
		    rows[i].kind == S ? 1 : rows[i].a, rows[i].b,
		    rows[i].text), 0);
	ck_assert_int_eq(msg(DS_QMSG_ROUND, 0, 2, 0, ""), 1);
}

START_TEST(rows_kept)
{
	size_t kept[2] = {0, 0};

	apply_round(cases[_i].rows, NELEM(cases[_i].rows));
	for (size_t k = 0; k < NELEM(cases[_i].want) &&
	    cases[_i].want[k].fn != NULL; k++) {
		const struct want *w = &cases[_i].want[k];
		const struct ds_qfunc *f = ds_qview_func(&v, (size_t)w->server,
		    w->fn);

		ck_assert_msg(f != NULL, "%s: no row %s", cases[_i].what, w->fn);
		ck_assert_msg(f->total == w->total, "%s: %s total %u, want %u",
		    cases[_i].what, w->fn, f->total, w->total);
		kept[w->server]++;
	}
	for (size_t s = 0; s < 2; s++)
		ck_assert_msg(v.s[s].now.nf == kept[s], "%s: server %zu has %zu "
		    "rows, want %zu", cases[_i].what, s, v.s[s].now.nf, kept[s]);
	ck_assert_msg(v.s[0].now.nw == cases[_i].nw0, "%s: %zu workers",
	    cases[_i].what, v.s[0].now.nw);
	ck_assert_msg(v.dropped.duplicates == cases[_i].drops.duplicates &&
	    v.dropped.unknown == cases[_i].drops.unknown &&
	    v.dropped.over_cap == cases[_i].drops.over_cap,
	    "%s: dropped %llu/%llu/%llu", cases[_i].what,
	    (unsigned long long)v.dropped.duplicates,
	    (unsigned long long)v.dropped.unknown,
	    (unsigned long long)v.dropped.over_cap);
	/* the counts are the round's: the next one starts from 0 */
	msg(DS_QMSG_SERVER, 0, 1, 0, "");
	msg(DS_QMSG_ROUND, 0, 2, 0, "");
	ck_assert_uint_eq(v.dropped.duplicates + v.dropped.unknown +
	    v.dropped.over_cap, 0);
}
END_TEST

/* --- a flood: the rows kept are bounded by our functions --- */

#define NFUNCS 1024

static char names[NFUNCS][16];
static const char *name_ptrs[NFUNCS];

static void
setup_many(void)
{
	for (size_t i = 0; i < NFUNCS; i++) {
		snprintf(names[i], sizeof(names[i]), "F%04zu", i);
		name_ptrs[i] = names[i];
	}
	ck_assert_int_eq(ds_qview_init(&v, 1), 0);
	ck_assert_int_eq(ds_qview_set_ours(&v, name_ptrs, NFUNCS, 4), 0);
}

START_TEST(flood_is_capped)
{
	char unknown[32];

	msg(DS_QMSG_SERVER, 0, 1, 0, "");
	for (int pass = 0; pass < 20; pass++) {
		for (size_t i = 0; i < NFUNCS; i++)
			msg(DS_QMSG_FUNC, 0, (uint32_t)pass, 0, names[i]);
		snprintf(unknown, sizeof(unknown), "G%d", pass);
		msg(DS_QMSG_FUNC, 0, 1, 0, unknown);
	}
	for (uint32_t i = 0; i < 1000; i++)
		msg(DS_QMSG_WORKER, 0, i, i + 1, "P");
	msg(DS_QMSG_ROUND, 0, 1, 0, "");
	ck_assert_uint_eq(v.s[0].now.nf, NFUNCS);
	ck_assert_uint_eq(v.s[0].now.nw, 4);
	ck_assert_uint_eq(v.dropped.duplicates, 19 * NFUNCS);
	ck_assert_uint_eq(v.dropped.unknown, 20);
	ck_assert_uint_eq(v.dropped.over_cap, 996);
	ck_assert_uint_eq(ds_qview_func(&v, 0, "F0517")->total, 19);
}
END_TEST

/* --- commit: each function's history found by index, any order --- */

/* The place of the i-th row of a round of n rows, in four orders. */
static size_t
order(int how, size_t i, size_t n)
{
	switch (how) {
	case 0: return i;			/* as the functions sort */
	case 1: return n - 1 - i;		/* reversed */
	case 2: return (i * 7) % n;		/* scattered (7 and 1024 coprime) */
	default: return (i + n / 2) % n;	/* the halves swapped */
	}
}

START_TEST(history_by_function)
{
	struct ds_qfunc *f;

	/* round 1 in order: every function waiting since 100 */
	msg(DS_QMSG_SERVER, 0, 1, 0, "");
	for (size_t i = 0; i < NFUNCS; i++)
		msg(DS_QMSG_FUNC, 0, 2, 0, names[i]);
	ck_assert_int_eq(ds_qview_apply(&v, &(struct ds_qmsg){.type =
	    DS_QMSG_ROUND}, 100, &(const char *){NULL}), 1);
	for (size_t i = 0; i < NFUNCS; i++) {
		f = (struct ds_qfunc *)ds_qview_func(&v, 0, names[i]);
		f->acted_ms = 1000 + (int64_t)i;
	}
	/* round 2 in another order: each keeps its own */
	msg(DS_QMSG_SERVER, 0, 1, 0, "");
	for (size_t i = 0; i < NFUNCS; i++)
		msg(DS_QMSG_FUNC, 0, 2, 0, names[order(_i, i, NFUNCS)]);
	ck_assert_int_eq(ds_qview_apply(&v, &(struct ds_qmsg){.type =
	    DS_QMSG_ROUND}, 200, &(const char *){NULL}), 1);
	for (size_t i = 0; i < NFUNCS; i++) {
		const struct ds_qfunc *g = ds_qview_func(&v, 0, names[i]);

		ck_assert_str_eq(g->name, names[i]);
		ck_assert_int_eq(g->acted_ms, 1000 + (int64_t)i);
		ck_assert_int_eq(g->waiting_since, 100);
	}
}
END_TEST

/* A reload changes our functions: the rows still ours keep their past,
 * half a round in flight keeps its rows still ours, a lower worker cap
 * trims the rows kept. */
START_TEST(reload_keeps_what_is_still_ours)
{
	static const char *const next[] = {"D", "B", "C"};
	struct ds_qfunc *f;

	msg(DS_QMSG_SERVER, 0, 1, 0, "");
	msg(DS_QMSG_FUNC, 0, 5, 0, "A");
	msg(DS_QMSG_FUNC, 0, 5, 0, "B");
	msg(DS_QMSG_WORKER, 0, 0, 10, "P");
	msg(DS_QMSG_WORKER, 0, 1, 11, "P");
	msg(DS_QMSG_ROUND, 0, 1, 0, "");
	f = (struct ds_qfunc *)ds_qview_func(&v, 0, "B");
	f->acted_ms = 77;
	msg(DS_QMSG_SERVER, 0, 1, 0, "");
	msg(DS_QMSG_FUNC, 0, 6, 0, "A");
	msg(DS_QMSG_FUNC, 0, 6, 0, "B");
	ck_assert_int_eq(ds_qview_set_ours(&v, next, NELEM(next), 1), 0);
	ck_assert_uint_eq(v.s[0].now.nw, 1);	/* a lower cap holds at once */
	ck_assert_ptr_null(ds_qview_func(&v, 0, "A"));
	ck_assert_int_eq(ds_qview_func(&v, 0, "B")->acted_ms, 77);
	ck_assert_str_eq(ds_qview_func(&v, 0, "B")->name, "B");
	msg(DS_QMSG_FUNC, 0, 7, 0, "D");
	msg(DS_QMSG_FUNC, 0, 7, 0, "A");
	msg(DS_QMSG_ROUND, 0, 1, 0, "");
	ck_assert_uint_eq(v.s[0].now.nf, 2);
	ck_assert_uint_eq(ds_qview_func(&v, 0, "B")->total, 6);
	ck_assert_int_eq(ds_qview_func(&v, 0, "B")->acted_ms, 77);
	ck_assert_uint_eq(ds_qview_func(&v, 0, "D")->total, 7);
	ck_assert_uint_eq(v.dropped.unknown, 1);
	/* none of ours: every row goes, nothing breaks */
	ck_assert_int_eq(ds_qview_set_ours(&v, NULL, 0, 0), 0);
	ck_assert_ptr_null(ds_qview_func(&v, 0, "B"));
	msg(DS_QMSG_SERVER, 0, 1, 0, "");
	msg(DS_QMSG_FUNC, 0, 7, 0, "B");
	msg(DS_QMSG_WORKER, 0, 1, 2, "P");
	msg(DS_QMSG_ROUND, 0, 1, 0, "");
	ck_assert_uint_eq(v.s[0].now.nf + v.s[0].now.nw, 0);
	ck_assert_uint_eq(v.dropped.unknown + v.dropped.over_cap, 2);
}
END_TEST

static Suite *
queue_rows_suite(void)
{
	Suite *s = suite_create("queue_rows");
	TCase *tc = ds_tcase(s, "rows", setup, teardown);

	tcase_add_loop_test(tc, rows_kept, 0, NELEM(cases));
	tcase_add_test(tc, reload_keeps_what_is_still_ours);
	tc = ds_tcase(s, "many", setup_many, teardown);
	tcase_add_test(tc, flood_is_capped);
	tcase_add_loop_test(tc, history_by_function, 0, 4);
	return s;
}

DS_CHECK_MAIN(queue_rows_suite)
