/* test_gm_proto.c: the worker's Gearman packets, built and parsed
 * (worker/gm_proto.h): whole packets, packets cut short, and bytes that
 * are no Gearman response; and the bound on a server's answers that
 * loop_timeout gives (worker/gm_sched.h). */
#include "worker/gm_proto.h"
#include "worker/gm_sched.h"

#include "unit.h"

#include <string.h>

struct parse_case {
	const char *bytes;
	size_t len;
	long rc;		/* what ds_gm_parse() returns */
	uint32_t type;
	size_t nargs;
	const char *last;	/* the last argument, when rc > 0 */
	size_t last_len;
	const char *why;	/* when rc < 0 */
};

#define RES(t, n) "\0RES\0\0\0" t "\0\0\0" n
static const struct parse_case parse_cases[] = {
	{RES("\x06", "\0"), 12, 12, DS_GM_NOOP, 0, NULL, 0, NULL},
	{RES("\x0a", "\0"), 12, 12, DS_GM_NO_JOB, 0, NULL, 0, NULL},
	{RES("\x11", "\x02") "hi", 14, 14, DS_GM_ECHO_RES, 1, "hi", 2, NULL},
	{RES("\x1f", "\x0b") "H:1\0f\0u\0w\0x", 23, 23, DS_GM_JOB_ASSIGN_UNIQ,
	    4, "w\0x", 3, NULL},
	{RES("\x1f", "\x06") "H\0f\0u\0", 18, 18, DS_GM_JOB_ASSIGN_UNIQ, 4, "",
	    0, NULL},
	{RES("\x13", "\x05") "E\0bad", 17, 17, DS_GM_ERROR, 2, "bad", 3, NULL},
	{RES("\x63", "\x03") "abc", 15, 15, 99, 0, NULL, 0, NULL},
	/* cut short: more bytes wanted */
	{RES("\x06", "\0"), 11, 0, 0, 0, NULL, 0, NULL},
	{RES("\x1f", "\x0b") "H:1\0f", 17, 0, 0, 0, NULL, 0, NULL},
	{"", 0, 0, 0, 0, NULL, 0, NULL},
	/* not ours */
	{"\0REQ\0\0\0\x06\0\0\0\0", 12, -1, 0, 0, NULL, 0,
	    "not a gearman response (bad magic)"},
	{"HTTP/1.1 200", 12, -1, 0, 0, NULL, 0,
	    "not a gearman response (bad magic)"},
	{"\0RES\0\0\0\x1f\x04\0\0\x01", 12, -1, 0, 0, NULL, 0,
	    "packet larger than 64 MiB"},
	{RES("\x1f", "\x04") "H\0fu", 16, -1, 0, 0, NULL, 0,
	    "packet short of arguments"},
	{RES("\x13", "\x03") "Ebd", 15, -1, 0, 0, NULL, 0,
	    "packet short of arguments"},
};

START_TEST(parse)
{
	const struct parse_case *c = &parse_cases[_i];
	struct ds_gm_packet pk;
	const char *why = NULL;
	size_t need = 0;
	long rc = ds_gm_parse(c->bytes, c->len, &pk, &need, &why);

	ck_assert_msg(rc == c->rc, "case %d: rc %ld, want %ld", _i, rc, c->rc);
	if (rc < 0) {
		ck_assert_str_eq(why, c->why);
		return;
	}
	if (rc == 0) {
		ck_assert_msg(need > c->len, "case %d: need %zu", _i, need);
		return;
	}
	ck_assert_uint_eq(pk.type, c->type);
	ck_assert_uint_eq(pk.nargs, c->nargs);
	if (c->nargs == 0)
		return;
	ck_assert_uint_eq(pk.arglen[c->nargs - 1], c->last_len);
	ck_assert(memcmp(pk.arg[c->nargs - 1], c->last, c->last_len) == 0);
	for (size_t i = 0; i + 1 < c->nargs; i++)
		ck_assert_int_eq(pk.arg[i][pk.arglen[i]], '\0');
}
END_TEST

START_TEST(put_packets)
{
	struct ds_gm_out o = {0};
	const char *args[2] = {"H:1", "res\0ult"};
	size_t lens[2] = {3, 7};

	ck_assert_int_eq(ds_gm_put(&o, DS_GM_GRAB_JOB_UNIQ, 0, NULL, NULL), 0);
	ck_assert_int_eq(ds_gm_put(&o, DS_GM_WORK_COMPLETE, 2, args, lens), 0);
	ck_assert_uint_eq(o.len, 12 + 12 + 3 + 1 + 7);
	ck_assert(memcmp(o.data, "\0REQ\0\0\0\x1e\0\0\0\0", 12) == 0);
	ck_assert(memcmp(o.data + 12, "\0REQ\0\0\0\x0d\0\0\0\x0bH:1\0res\0ult",
	    23) == 0);
	o.off = 12;
	ds_gm_out_compact(&o);
	ck_assert_uint_eq(o.len, 23);
	ck_assert_int_eq(o.data[7], DS_GM_WORK_COMPLETE);
	o.off = o.len;
	ds_gm_out_compact(&o);
	ck_assert_uint_eq(o.len, 0);
	lens[1] = DS_GM_MAX_PACKET;
	ck_assert_int_eq(ds_gm_put(&o, DS_GM_WORK_COMPLETE, 2, args, lens), -1);
	ck_assert_uint_eq(o.len, 0);
	ds_gm_out_free(&o);
}
END_TEST

static const int64_t bound_cases[][2] = {
	/* loop_timeout ms, bound ms: loop_timeout, at least 1 s */
	{1, 1000}, {100, 1000}, {999, 1000}, {1000, 1000}, {1500, 1500},
	{5000, 5000}, {3600000, 3600000},
};

START_TEST(unresponsive_bound)
{
	ck_assert_int_eq(ds_gm_unresponsive_ms(bound_cases[_i][0]),
	    bound_cases[_i][1]);
}
END_TEST

/* A header not yet whole asks for the header and no more: the size field
 * is not read before its last byte is in. The bytes after len say 16 (a
 * reader that looked there would ask for 28). */
static const char short_header[] = RES("\x11", "\x10") "0123456789abcdef";

START_TEST(short_header_wants_the_header)
{
	struct ds_gm_packet pk;
	const char *why = NULL;
	size_t need = 0;

	ck_assert_int_eq(ds_gm_parse(short_header, (size_t)_i, &pk, &need,
	    &why), 0);
	ck_assert_msg(need == DS_GM_HEADER, "%d bytes in: need %zu", _i, need);
}
END_TEST

static Suite *
gm_proto_suite(void)
{
	Suite *s = suite_create("gm_proto");
	TCase *tc = tcase_create("packets");

	tcase_add_loop_test(tc, parse, 0, NELEM(parse_cases));
	tcase_add_test(tc, put_packets);
	tcase_add_loop_test(tc, short_header_wants_the_header, 0, DS_GM_HEADER);
	tcase_add_loop_test(tc, unresponsive_bound, 0, NELEM(bound_cases));
	suite_add_tcase(s, tc);
	return s;
}

DS_CHECK_MAIN(gm_proto_suite)
