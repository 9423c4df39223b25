/* test_msg.c: the worker-to-master messages (common/msg.h). The master
 * trusts nothing in a packet, so every way of being malformed is tried. */
#include "common/msg.h"

#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char buf[DS_MSG_MAX_SIZE + 64];

static void
fill(struct ds_msg *m, int type)
{
	memset(m, 0, sizeof(*m));
	m->type = (uint8_t)type;
}

/* Decodes len bytes from an exact-size heap copy, so that ASan catches any
 * read past the end. */
static int
decode(const unsigned char *p, size_t len, struct ds_msg *m, const char **why)
{
	unsigned char *copy = malloc(len ? len : 1);
	int rc;

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, p, len);
	*why = NULL;
	rc = ds_msg_decode(copy, len, m, why);
	free(copy);
	return rc;
}

static void
round_trip(const struct ds_msg *in)
{
	struct ds_msg out;
	const char *why;
	size_t len = ds_msg_encode(in, buf);

	ck_assert_uint_le(len, DS_MSG_MAX_SIZE);
	ck_assert_uint_eq(len, 24 + 6 + strlen(in->handle) +
	    strlen(in->unique) + strlen(in->function));
	memset(&out, 0x55, sizeof(out));
	ck_assert_int_eq(decode(buf, len, &out, &why), 0);
	ck_assert_ptr_null(why);
	ck_assert_uint_eq(out.type, in->type);
	ck_assert_uint_eq(out.outcome, in->outcome);
	ck_assert_uint_eq(out.http_status, in->http_status);
	ck_assert_uint_eq(out.duration_ms, in->duration_ms);
	ck_assert_int_eq(out.start_ms, in->start_ms);
	ck_assert_str_eq(out.handle, in->handle);
	ck_assert_str_eq(out.unique, in->unique);
	ck_assert_str_eq(out.function, in->function);
}

START_TEST(every_type)
{
	struct ds_msg m;

	for (int t = DS_MSG_STARTING; t <= DS_MSG_LAST_V1; t++) {
		fill(&m, t);
		round_trip(&m);
	}
}
END_TEST

START_TEST(busy_fields)
{
	struct ds_msg m;

	fill(&m, DS_MSG_BUSY);
	m.start_ms = INT64_C(1700000000123);
	snprintf(m.handle, sizeof(m.handle), "H:gm.example:12345");
	snprintf(m.unique, sizeof(m.unique), "u-\xC3\xA9\t\x01 \"x\"");
	snprintf(m.function, sizeof(m.function), "Sum3");
	round_trip(&m);
	/* negative and extreme start times survive the u64 split */
	m.start_ms = -1;
	round_trip(&m);
	m.start_ms = INT64_MIN;
	round_trip(&m);
	m.start_ms = INT64_MAX;
	round_trip(&m);
}
END_TEST

START_TEST(done_fields)
{
	static const int outcomes[] = {DS_OUT_COMPLETE, DS_OUT_FAIL,
	    DS_OUT_TIMEOUT, DS_OUT_ABORTED};
	struct ds_msg m;

	for (size_t i = 0; i < 4; i++) {
		fill(&m, DS_MSG_DONE);
		m.outcome = (uint8_t)outcomes[i];
		m.http_status = 200 + (uint16_t)i;
		m.duration_ms = 123456 + (uint32_t)i;
		snprintf(m.handle, sizeof(m.handle), "H:x:%zu", i);
		round_trip(&m);
	}
	fill(&m, DS_MSG_DONE);
	m.http_status = UINT16_MAX;
	m.duration_ms = UINT32_MAX;
	m.start_ms = INT64_C(0x0102030405060708);
	round_trip(&m);
}
END_TEST

START_TEST(byte_layout)
{
	struct ds_msg m;
	static const unsigned char want[] = {
		1, DS_MSG_DONE, DS_OUT_TIMEOUT, 0, 0x01, 0xF4, 0, 0,
		0x00, 0x01, 0xE2, 0x40, 0x01, 0x02, 0x03, 0x04,
		0x05, 0x06, 0x07, 0x08, 0, 0, 0, 0,
		0, 1, 'h', 0, 0, 0, 2, 'f', 'n',
	};

	fill(&m, DS_MSG_DONE);
	m.outcome = DS_OUT_TIMEOUT;
	m.http_status = 500;
	m.duration_ms = 123456;
	m.start_ms = INT64_C(0x0102030405060708);
	snprintf(m.handle, sizeof(m.handle), "h");
	snprintf(m.function, sizeof(m.function), "fn");
	ck_assert_uint_eq(ds_msg_encode(&m, buf), sizeof(want));
	ck_assert(memcmp(buf, want, sizeof(want)) == 0);
}
END_TEST

START_TEST(max_strings)
{
	struct ds_msg m;
	size_t len;

	fill(&m, DS_MSG_BUSY);
	memset(m.handle, 'h', DS_MSG_STR_MAX);
	memset(m.unique, 'u', DS_MSG_STR_MAX);
	memset(m.function, 'f', DS_MSG_STR_MAX);
	round_trip(&m);
	len = ds_msg_encode(&m, buf);
	ck_assert_uint_eq(len, DS_MSG_MAX_SIZE);
}
END_TEST

START_TEST(strings_cut)
{
	/* not NUL-terminated within DS_MSG_STR_MAX: the encoder must not read
	 * past it; the struct fields are followed by more bytes here */
	struct {
		struct ds_msg m;
		char more[64];
	} big;
	struct ds_msg out;
	const char *why;
	size_t len;

	memset(&big, 'x', sizeof(big));
	big.m.type = DS_MSG_BUSY;
	big.m.outcome = 0;
	len = ds_msg_encode(&big.m, buf);
	ck_assert_uint_eq(len, DS_MSG_MAX_SIZE);
	ck_assert_int_eq(decode(buf, len, &out, &why), 0);
	ck_assert_uint_eq(strlen(out.handle), DS_MSG_STR_MAX);
	ck_assert_uint_eq(strlen(out.unique), DS_MSG_STR_MAX);
	ck_assert_uint_eq(strlen(out.function), DS_MSG_STR_MAX);
	ck_assert_int_eq(out.handle[0], 'x');
}
END_TEST

/* A value and the name ds_msg_type_name or ds_outcome_name gives it. */
#define TYPE(v, s)	{"type", ds_msg_type_name, (v), (s)}
#define OUT(v, s)	{"outcome", ds_outcome_name, (v), (s)}

static const struct ds_name_case name_cases[] = {
	TYPE(DS_MSG_STARTING, "starting"), TYPE(DS_MSG_IDLE, "idle"),
	TYPE(DS_MSG_BUSY, "busy"), TYPE(DS_MSG_DONE, "done"),
	TYPE(DS_MSG_DISCONNECTED, "disconnected"),
	TYPE(DS_MSG_STOPPING, "stopping"),
	TYPE(DS_MSG_Q_SERVER, "q_server"), TYPE(DS_MSG_Q_ROUND, "q_round"),
	TYPE(0, "?"), TYPE(DS_MSG_LAST + 1, "?"), TYPE(-1, "?"),
	OUT(DS_OUT_COMPLETE, "complete"), OUT(DS_OUT_FAIL, "fail"),
	OUT(DS_OUT_TIMEOUT, "timeout"), OUT(DS_OUT_ABORTED, "aborted"),
	OUT(DS_OUT_ANSWER_LOST, "answer_lost"), OUT(DS_OUT_LAST + 1, "?"),
	OUT(-1, "?"),
};

START_TEST(names)
{
	ds_check_name(&name_cases[_i]);
}
END_TEST

/* A valid BUSY packet "h", "u", "f" in buf; returns its length, GOOD_LEN:
 * the lengths at 24, 27 and 30, the bytes at 26, 29 and 32. */
#define GOOD_LEN 33
static size_t
good_packet(void)
{
	struct ds_msg m;

	fill(&m, DS_MSG_BUSY);
	snprintf(m.handle, sizeof(m.handle), "h");
	snprintf(m.unique, sizeof(m.unique), "u");
	snprintf(m.function, sizeof(m.function), "f");
	return ds_msg_encode(&m, buf);
}

/* p[0 .. len-1] is rejected with the reason want; case names it. */
static void
rejects(const char *cname, const unsigned char *p, size_t len,
    const char *want)
{
	struct ds_msg out;
	const char *why;
	int rc;

	memset(&out, 0x55, sizeof(out));
	rc = decode(p, len, &out, &why);
	ck_assert_msg(rc == -1 && why != NULL && strcmp(why, want) == 0,
	    "case %s: %d \"%s\", expected \"%s\"", cname, rc,
	    why ? why : "(null)", want);
}

/* Every cut of the good packet short of its end. */
START_TEST(cut_short)
{
	char name[32];

	ck_assert_uint_eq(good_packet(), GOOD_LEN);
	snprintf(name, sizeof(name), "the first %d bytes", _i);
	rejects(name, buf, (size_t)_i, _i < 24 ?
	    "message shorter than its header" : "bad string field");
}
END_TEST

/* The good packet with n bytes from at set to these, and why it is bad. */
static const struct {
	const char *name;
	size_t at, n;
	unsigned char bytes[2];
	const char *why;
} patch_cases[] = {
	{"version 0", 0, 1, {0}, "unknown message version"},
	/* version 2 is the monitor's: a worker's type is not one of it */
	{"version 2", 0, 1, {2}, "unknown message type"},
	{"version 3", 0, 1, {3}, "unknown message version"},
	{"version 0xFF", 0, 1, {0xFF}, "unknown message version"},
	{"type 0", 1, 1, {0}, "unknown message type"},
	{"type past STOPPING", 1, 1, {DS_MSG_STOPPING + 1},
	    "unknown message type"},
	{"type 0xFF", 1, 1, {0xFF}, "unknown message type"},
	{"a version 2 type in version 1", 1, 1, {DS_MSG_Q_ROUND},
	    "unknown message type"},
	{"outcome past the last", 2, 1, {DS_OUT_LAST + 1},
	    "unknown job outcome"},
	{"outcome 0xFF", 2, 1, {0xFF}, "unknown job outcome"},
	/* a length that runs past the packet */
	{"handle length 100", 24, 2, {0, 100}, "bad string field"},
	{"function length 2, with 1 byte", 30, 2, {0, 2}, "bad string field"},
	/* a huge length on a short packet */
	{"unique length 0xFFFF", 27, 2, {0xFF, 0xFF}, "bad string field"},
	{"NUL handle byte", 26, 1, {0}, "bad string field"},
	{"NUL unique byte", 29, 1, {0}, "bad string field"},
	{"NUL function byte", 32, 1, {0}, "bad string field"},
};

START_TEST(bad_field)
{
	good_packet();
	memcpy(buf + patch_cases[_i].at, patch_cases[_i].bytes,
	    patch_cases[_i].n);
	rejects(patch_cases[_i].name, buf, GOOD_LEN, patch_cases[_i].why);
}
END_TEST

START_TEST(string_over_max)
{
	struct ds_msg m;
	size_t len;

	fill(&m, DS_MSG_BUSY);
	memset(m.handle, 'h', DS_MSG_STR_MAX);
	len = ds_msg_encode(&m, buf);
	ck_assert_uint_eq(len, 24 + 6 + DS_MSG_STR_MAX);
	/* one more byte, and the length says so */
	memmove(buf + 26 + DS_MSG_STR_MAX + 1, buf + 26 + DS_MSG_STR_MAX, 4);
	buf[26 + DS_MSG_STR_MAX] = 'h';
	buf[24] = (DS_MSG_STR_MAX + 1) >> 8;
	buf[25] = (DS_MSG_STR_MAX + 1) & 0xFF;
	rejects("handle of DS_MSG_STR_MAX + 1", buf, len + 1,
	    "bad string field");
}
END_TEST

START_TEST(trailing_bytes)
{
	size_t len = good_packet();

	buf[len] = 0;
	rejects("one NUL after", buf, len + 1, "trailing bytes after message");
	memset(buf + len, 'x', 40);
	rejects("40 bytes after", buf, len + 40,
	    "trailing bytes after message");
}
END_TEST

START_TEST(reserved_bytes_ignored)
{
	struct ds_msg out;
	const char *why;

	good_packet();
	buf[3] = 0xAA;
	buf[6] = 0xBB;
	buf[7] = 0xCC;
	buf[20] = buf[21] = buf[22] = buf[23] = 0xDD;
	ck_assert_int_eq(decode(buf, GOOD_LEN, &out, &why), 0);
	ck_assert_str_eq(out.function, "f");
}
END_TEST

START_TEST(failed_decode_clears)
{
	struct ds_msg out;
	const char *why;

	good_packet();
	buf[32] = '\0';
	memset(&out, 0x55, sizeof(out));
	ck_assert_int_eq(decode(buf, GOOD_LEN, &out, &why), -1);
	/* no stale bytes: strings are terminated whatever happened */
	ck_assert_uint_le(strlen(out.handle), DS_MSG_STR_MAX);
	ck_assert_uint_le(strlen(out.unique), DS_MSG_STR_MAX);
	ck_assert_uint_le(strlen(out.function), DS_MSG_STR_MAX);
}
END_TEST

/* --- version 2: the queue monitor's reports --- */

static void
q_fill(struct ds_msg *m, int type, uint16_t server, uint32_t a, uint32_t b,
    uint32_t c, const char *text)
{
	fill(m, type);
	m->server = server;
	m->a = a;
	m->b = b;
	m->c = c;
	snprintf(m->text, sizeof(m->text), "%s", text);
}

static void
q_round_trip(const struct ds_msg *in)
{
	struct ds_msg out;
	const char *why;
	size_t len = ds_msg_encode(in, buf);

	ck_assert_uint_eq(len, DS_MSG_V2_HEADER + 2 + strlen(in->text));
	ck_assert_uint_le(len, DS_MSG_MAX_SIZE);
	memset(&out, 0x55, sizeof(out));
	ck_assert_int_eq(decode(buf, len, &out, &why), 0);
	ck_assert_uint_eq(out.type, in->type);
	ck_assert_uint_eq(out.server, in->server);
	ck_assert_uint_eq(out.a, in->a);
	ck_assert_uint_eq(out.b, in->b);
	ck_assert_uint_eq(out.c, in->c);
	ck_assert_str_eq(out.text, in->text);
	ck_assert_str_eq(out.handle, "");
	ck_assert_str_eq(out.function, "");
}

START_TEST(q_every_type)
{
	struct ds_msg m;

	q_fill(&m, DS_MSG_Q_SERVER, 3, 0, 0, 0, "connect: refused");
	q_round_trip(&m);
	q_fill(&m, DS_MSG_Q_FUNC, 65535, UINT32_MAX, 7, 0, "Sum");
	q_round_trip(&m);
	q_fill(&m, DS_MSG_Q_WORKER, 0, 12, 4242, 0, "pool:with:colons");
	q_round_trip(&m);
	q_fill(&m, DS_MSG_Q_ROUND, 0, 0, 0, 0, "");
	q_round_trip(&m);
	memset(m.text, 'f', DS_MSG_STR_MAX);
	m.text[DS_MSG_STR_MAX] = '\0';
	q_round_trip(&m);
}
END_TEST

START_TEST(q_byte_layout)
{
	struct ds_msg m;
	static const unsigned char want[] = {
		2, DS_MSG_Q_FUNC, 0x01, 0x02, 0, 0, 0, 9,
		0, 0, 0x01, 0x00, 0xFF, 0xFF, 0xFF, 0xFF,
		0, 0, 0, 0, 0, 2, 'f', 'n',
	};

	q_fill(&m, DS_MSG_Q_FUNC, 0x0102, 9, 256, UINT32_MAX, "fn");
	ck_assert_uint_eq(ds_msg_encode(&m, buf), sizeof(want));
	ck_assert(memcmp(buf, want, sizeof(want)) == 0);
}
END_TEST

/* Same-shape bad packets: a valid Q_FUNC "fn" (24 bytes) with one change. */
START_TEST(q_rejects)
{
	static const struct {
		size_t at;	/* byte to set; SIZE_MAX: none */
		int value;
		size_t len;	/* 0: the good length */
		const char *why;
	} cases[] = {
		{SIZE_MAX, 0, 1, "message shorter than its header"},
		{SIZE_MAX, 0, 19, "message shorter than its header"},
		{SIZE_MAX, 0, 20, "bad string field"},
		{SIZE_MAX, 0, 23, "bad string field"},
		{SIZE_MAX, 0, 25, "trailing bytes after message"},
		{1, 0, 0, "unknown message type"},
		{1, DS_MSG_STOPPING, 0, "unknown message type"},
		{1, DS_MSG_LAST + 1, 0, "unknown message type"},
		{1, 0xFF, 0, "unknown message type"},
		{21, 3, 0, "bad string field"},
		{20, 0xFF, 0, "bad string field"},
		{22, 0, 0, "bad string field"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ds_msg m;
		size_t len;

		q_fill(&m, DS_MSG_Q_FUNC, 1, 2, 3, 4, "fn");
		len = ds_msg_encode(&m, buf);
		ck_assert_uint_eq(len, 24);
		buf[24] = 'x';
		if (cases[i].at != SIZE_MAX)
			buf[cases[i].at] = (unsigned char)cases[i].value;
		rejects(cases[i].why, buf, cases[i].len ? cases[i].len : len,
		    cases[i].why);
	}
}
END_TEST

START_TEST(q_reserved_ignored)
{
	struct ds_msg m, out;
	const char *why;
	size_t len;

	q_fill(&m, DS_MSG_Q_WORKER, 1, 2, 3, 0, "p");
	len = ds_msg_encode(&m, buf);
	memset(buf + 16, 0xEE, 4);
	ck_assert_int_eq(decode(buf, len, &out, &why), 0);
	ck_assert_uint_eq(out.b, 3);
	ck_assert_str_eq(out.text, "p");
}
END_TEST

static Suite *
msg_suite(void)
{
	Suite *s = suite_create("msg");
	TCase *tc;

	tc = ds_tcase(s, "round_trip", NULL, NULL);
	tcase_add_test(tc, every_type);
	tcase_add_test(tc, busy_fields);
	tcase_add_test(tc, done_fields);
	tcase_add_test(tc, byte_layout);
	tcase_add_test(tc, max_strings);
	tcase_add_test(tc, strings_cut);
	tcase_add_loop_test(tc, names, 0, NELEM(name_cases));

	tc = ds_tcase(s, "decode", NULL, NULL);
	tcase_add_loop_test(tc, cut_short, 0, GOOD_LEN);
	tcase_add_loop_test(tc, bad_field, 0, NELEM(patch_cases));
	tcase_add_test(tc, string_over_max);
	tcase_add_test(tc, trailing_bytes);
	tcase_add_test(tc, reserved_bytes_ignored);
	tcase_add_test(tc, failed_decode_clears);

	tc = ds_tcase(s, "queue", NULL, NULL);
	tcase_add_test(tc, q_every_type);
	tcase_add_test(tc, q_byte_layout);
	tcase_add_test(tc, q_rejects);
	tcase_add_test(tc, q_reserved_ignored);
	return s;
}

DS_CHECK_MAIN(msg_suite)
