/* test_qmon_msg.c: the queue monitor's reports to the master
 * (common/qmon_msg.h). The master trusts nothing in a packet, so every way
 * of being malformed is tried; the bytes are pinned, since a master of
 * another release reads them while the package is upgraded. */
#include "common/qmon_msg.h"

#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char buf[DS_QMSG_MAX_SIZE + 64];

/* Decodes len bytes from an exact-size heap copy, so that ASan catches any
 * read past the end. */
static int
decode(const unsigned char *p, size_t len, struct ds_qmsg *m, const char **why)
{
	unsigned char *copy = malloc(len ? len : 1);
	int rc;

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, p, len);
	*why = NULL;
	rc = ds_qmsg_decode(copy, len, m, why);
	free(copy);
	return rc;
}

static void
fill(struct ds_qmsg *m, int type, uint16_t server, uint32_t a, uint32_t b,
    uint32_t c, const char *text)
{
	memset(m, 0, sizeof(*m));
	m->type = (uint8_t)type;
	m->server = server;
	m->a = a;
	m->b = b;
	m->c = c;
	snprintf(m->text, sizeof(m->text), "%s", text);
}

static void
round_trip(const struct ds_qmsg *in)
{
	struct ds_qmsg out;
	const char *why;
	size_t len = ds_qmsg_encode(in, buf);

	ck_assert_uint_eq(len, DS_QMSG_HEADER + 2 + strlen(in->text));
	ck_assert_uint_le(len, DS_QMSG_MAX_SIZE);
	memset(&out, 0x55, sizeof(out));
	ck_assert_int_eq(decode(buf, len, &out, &why), 0);
	ck_assert_uint_eq(out.type, in->type);
	ck_assert_uint_eq(out.server, in->server);
	ck_assert_uint_eq(out.a, in->a);
	ck_assert_uint_eq(out.b, in->b);
	ck_assert_uint_eq(out.c, in->c);
	ck_assert_str_eq(out.text, in->text);
}

START_TEST(every_type)
{
	struct ds_qmsg m;

	fill(&m, DS_QMSG_SERVER, 3, 0, 0, 0, "connect: refused");
	round_trip(&m);
	fill(&m, DS_QMSG_FUNC, 65535, UINT32_MAX, 7, 0, "Sum");
	round_trip(&m);
	fill(&m, DS_QMSG_WORKER, 0, 12, 4242, 0, "pool:with:colons");
	round_trip(&m);
	fill(&m, DS_QMSG_ROUND, 0, 0, 0, 0, "");
	round_trip(&m);
	memset(m.text, 'f', DS_QMSG_STR_MAX);
	m.text[DS_QMSG_STR_MAX] = '\0';
	round_trip(&m);
	ck_assert_uint_eq(ds_qmsg_encode(&m, buf), DS_QMSG_MAX_SIZE);
}
END_TEST

START_TEST(byte_layout)
{
	struct ds_qmsg m;
	static const unsigned char want[] = {
		2, 8, 0x01, 0x02, 0, 0, 0, 9,
		0, 0, 0x01, 0x00, 0xFF, 0xFF, 0xFF, 0xFF,
		0, 0, 0, 0, 0, 2, 'f', 'n',
	};

	/* the type values of the previous release, byte for byte */
	ck_assert_int_eq(DS_QMSG_SERVER, 7);
	ck_assert_int_eq(DS_QMSG_ROUND, 10);
	fill(&m, DS_QMSG_FUNC, 0x0102, 9, 256, UINT32_MAX, "fn");
	ck_assert_uint_eq(ds_qmsg_encode(&m, buf), sizeof(want));
	ck_assert(memcmp(buf, want, sizeof(want)) == 0);
}
END_TEST

START_TEST(text_cut)
{
	/* not NUL-terminated within DS_QMSG_STR_MAX: the encoder must not
	 * read past it; the struct is followed by more bytes here */
	struct {
		struct ds_qmsg m;
		char more[64];
	} big;
	struct ds_qmsg out;
	const char *why;
	size_t len;

	memset(&big, 'x', sizeof(big));
	big.m.type = DS_QMSG_FUNC;
	len = ds_qmsg_encode(&big.m, buf);
	ck_assert_uint_eq(len, DS_QMSG_MAX_SIZE);
	ck_assert_int_eq(decode(buf, len, &out, &why), 0);
	ck_assert_uint_eq(strlen(out.text), DS_QMSG_STR_MAX);
}
END_TEST

/* A value and the name ds_qmsg_type_name gives it. */
#define TYPE(v, s)	{"type", ds_qmsg_type_name, (v), (s)}

static const struct ds_name_case name_cases[] = {
	TYPE(DS_QMSG_SERVER, "q_server"), TYPE(DS_QMSG_FUNC, "q_func"),
	TYPE(DS_QMSG_WORKER, "q_worker"), TYPE(DS_QMSG_ROUND, "q_round"),
	TYPE(0, "?"), TYPE(DS_QMSG_FIRST - 1, "?"),
	TYPE(DS_QMSG_LAST + 1, "?"), TYPE(-1, "?"),
};

START_TEST(names)
{
	ds_check_name(&name_cases[_i]);
}
END_TEST

/* p[0 .. len-1] is rejected with the reason want; case names it. */
static void
rejects(const char *cname, const unsigned char *p, size_t len,
    const char *want)
{
	struct ds_qmsg out;
	const char *why;
	int rc;

	memset(&out, 0x55, sizeof(out));
	rc = decode(p, len, &out, &why);
	ck_assert_msg(rc == -1 && why != NULL && strcmp(why, want) == 0,
	    "case %s: %d \"%s\", expected \"%s\"", cname, rc,
	    why ? why : "(null)", want);
	/* no stale bytes: the text is terminated whatever happened */
	ck_assert_uint_le(strlen(out.text), DS_QMSG_STR_MAX);
}

/* A valid Q_FUNC "fn" (24 bytes, then an 'x' past its end) with one
 * change, and why it is bad. */
static const struct {
	size_t at;	/* byte to set; SIZE_MAX: none */
	int value;
	size_t len;	/* 0: the good length */
	const char *why;
} bad_cases[] = {
	{SIZE_MAX, 0, 1, "message shorter than its header"},
	{SIZE_MAX, 0, 19, "message shorter than its header"},
	{SIZE_MAX, 0, 20, "bad string field"},
	{SIZE_MAX, 0, 23, "bad string field"},
	{SIZE_MAX, 0, 25, "trailing bytes after message"},
	/* version 1 was the workers' messages, which no process sends */
	{0, 1, 0, "unknown message version"},
	{0, 0, 0, "unknown message version"},
	{0, 3, 0, "unknown message version"},
	{0, 0xFF, 0, "unknown message version"},
	{1, 0, 0, "unknown message type"},
	{1, DS_QMSG_FIRST - 1, 0, "unknown message type"},
	{1, DS_QMSG_LAST + 1, 0, "unknown message type"},
	{1, 0xFF, 0, "unknown message type"},
	{21, 3, 0, "bad string field"},		/* runs past the packet */
	{20, 0xFF, 0, "bad string field"},	/* over DS_QMSG_STR_MAX */
	{22, 0, 0, "bad string field"},		/* a NUL in the text */
};

START_TEST(bad_packet)
{
	struct ds_qmsg m;
	size_t len;
	char name[64];

	fill(&m, DS_QMSG_FUNC, 1, 2, 3, 4, "fn");
	len = ds_qmsg_encode(&m, buf);
	ck_assert_uint_eq(len, 24);
	buf[24] = 'x';
	if (bad_cases[_i].at != SIZE_MAX)
		buf[bad_cases[_i].at] = (unsigned char)bad_cases[_i].value;
	snprintf(name, sizeof(name), "%d: %s", _i, bad_cases[_i].why);
	rejects(name, buf, bad_cases[_i].len ? bad_cases[_i].len : len,
	    bad_cases[_i].why);
}
END_TEST

START_TEST(text_over_max)
{
	struct ds_qmsg m;
	size_t len;

	fill(&m, DS_QMSG_FUNC, 0, 0, 0, 0, "");
	memset(m.text, 'f', DS_QMSG_STR_MAX);
	len = ds_qmsg_encode(&m, buf);
	/* one more byte, and the length says so */
	buf[len] = 'f';
	buf[20] = (DS_QMSG_STR_MAX + 1) >> 8;
	buf[21] = (DS_QMSG_STR_MAX + 1) & 0xFF;
	rejects("text of DS_QMSG_STR_MAX + 1", buf, len + 1,
	    "bad string field");
}
END_TEST

START_TEST(reserved_ignored)
{
	struct ds_qmsg m, out;
	const char *why;
	size_t len;

	fill(&m, DS_QMSG_WORKER, 1, 2, 3, 0, "p");
	len = ds_qmsg_encode(&m, buf);
	memset(buf + 16, 0xEE, 4);
	ck_assert_int_eq(decode(buf, len, &out, &why), 0);
	ck_assert_uint_eq(out.b, 3);
	ck_assert_str_eq(out.text, "p");
}
END_TEST

static Suite *
qmon_msg_suite(void)
{
	Suite *s = suite_create("qmon_msg");
	TCase *tc;

	tc = ds_tcase(s, "round_trip", NULL, NULL);
	tcase_add_test(tc, every_type);
	tcase_add_test(tc, byte_layout);
	tcase_add_test(tc, text_cut);
	tcase_add_loop_test(tc, names, 0, NELEM(name_cases));

	tc = ds_tcase(s, "decode", NULL, NULL);
	tcase_add_loop_test(tc, bad_packet, 0, NELEM(bad_cases));
	tcase_add_test(tc, text_over_max);
	tcase_add_test(tc, reserved_ignored);
	return s;
}

DS_CHECK_MAIN(qmon_msg_suite)
