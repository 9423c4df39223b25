/* test_fcgi.c: the FastCGI record protocol (worker/fcgi.h): records and
 * name-value pairs as written (the 1-byte/4-byte length boundary at
 * 127/128), the answer's records as read back in any slicing, every way a
 * hostile answer is refused with its reason, and the CGI header block. */
#include "worker/fcgi.h"

#include "unit.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- writing --- */

struct nv_case {
	size_t nlen, vlen;
	size_t size;		/* the pair's encoded size */
	uint8_t head[8];	/* its first bytes: the two lengths */
	size_t headlen;
};

static const struct nv_case nv_cases[] = {
	{0, 0, 2, {0, 0}, 2},
	{1, 127, 130, {1, 127}, 2},
	{1, 128, 134, {1, 0x80, 0, 0, 128}, 5},
	{127, 1, 130, {127, 1}, 2},
	{128, 1, 134, {0x80, 0, 0, 128, 1}, 5},
	{128, 128, 264, {0x80, 0, 0, 128, 0x80, 0, 0, 128}, 8},
	{5, 70000, 70010, {5, 0x80, 0x01, 0x11, 0x70}, 5},
};

START_TEST(nv_pairs)
{
	const struct nv_case *c = &nv_cases[_i];
	char *name = malloc(c->nlen + 1), *value = malloc(c->vlen + 1);
	uint8_t *out = malloc(c->size);
	const uint8_t *n, *v;
	size_t nl, vl;

	memset(name, 'n', c->nlen);
	memset(value, 'v', c->vlen);
	ck_assert_uint_eq(ds_fcgi_nv_size(c->nlen, c->vlen), c->size);
	ck_assert_uint_eq(ds_fcgi_nv_put(out, name, c->nlen, value, c->vlen),
	    c->size);
	ck_assert(memcmp(out, c->head, c->headlen) == 0);
	/* read back whole, and refused when cut anywhere */
	ck_assert_uint_eq(ds_fcgi_nv_get(out, c->size, &n, &nl, &v, &vl),
	    c->size);
	ck_assert(nl == c->nlen && vl == c->vlen);
	ck_assert(memcmp(n, name, nl) == 0 && memcmp(v, value, vl) == 0);
	for (size_t cut = 0; cut < c->size; cut += 1 + cut / 7)
		ck_assert_uint_eq(ds_fcgi_nv_get(out, cut, &n, &nl, &v, &vl), 0);
	free(name);
	free(value);
	free(out);
}
END_TEST

START_TEST(nv_too_long)
{
	ck_assert_uint_eq(ds_fcgi_nv_size((size_t)1 << 31, 1), 0);
	ck_assert_uint_eq(ds_fcgi_nv_size(1, ((size_t)1 << 31) - 1),
	    1 + 4 + 1 + (((size_t)1 << 31) - 1));
}
END_TEST

START_TEST(begin_request)
{
	uint8_t b[16];
	static const uint8_t want[16] = {1, 1, 0, 1, 0, 8, 0, 0,
	    0, 1, 1, 0, 0, 0, 0, 0};

	ck_assert_uint_eq(ds_fcgi_put_begin(b, 1), 16);
	ck_assert(memcmp(b, want, 16) == 0);
	ds_fcgi_put_begin(b, 0);
	ck_assert_uint_eq(b[10], 0);
}
END_TEST

/* A stream of n bytes in chunk-sized records: headers, padding to 8, the
 * closing empty record, all in the predicted size. */
struct stream_case {
	size_t n, chunk, records;
};

static const struct stream_case stream_cases[] = {
	{0, 65528, 1}, {1, 65528, 2}, {8, 65528, 2}, {65528, 65528, 2},
	{65529, 65528, 3}, {200000, 65528, 5}, {100, 16, 8},
};

START_TEST(streams)
{
	const struct stream_case *c = &stream_cases[_i];
	size_t size = ds_fcgi_stream_size(c->n, c->chunk), o = 0, got = 0;
	uint8_t *data = malloc(c->n + 1), *out = malloc(size);
	size_t records = 0;

	for (size_t i = 0; i < c->n; i++)
		data[i] = (uint8_t)(i * 7);
	ck_assert_uint_eq(ds_fcgi_put_stream(out, DS_FCGI_STDIN, data, c->n,
	    c->chunk), size);
	while (o < size) {
		size_t clen = (size_t)out[o + 4] << 8 | out[o + 5];

		ck_assert_uint_eq(out[o], 1);
		ck_assert_uint_eq(out[o + 1], DS_FCGI_STDIN);
		ck_assert_uint_eq(out[o + 3], 1);
		ck_assert_uint_le(clen, c->chunk);
		ck_assert_uint_eq((clen + out[o + 6]) % 8, 0);
		ck_assert(memcmp(out + o + 8, data + got, clen) == 0);
		got += clen;
		o += 8 + clen + out[o + 6];
		records++;
	}
	ck_assert_uint_eq(o, size);
	ck_assert_uint_eq(got, c->n);
	ck_assert_uint_eq(records, c->records);
	free(data);
	free(out);
}
END_TEST

/* --- reading --- */

struct sink {
	char out[4096], err[4096];
	size_t nout, nerr;
	size_t stop_after;	/* stop once this much STDOUT came; 0 never */
};

static int
to_out(void *ctx, const uint8_t *p, size_t n)
{
	struct sink *s = ctx;

	memcpy(s->out + s->nout, p, n);
	s->nout += n;
	return s->stop_after && s->nout >= s->stop_after;
}

static int
to_err(void *ctx, const uint8_t *p, size_t n)
{
	struct sink *s = ctx;

	memcpy(s->err + s->nerr, p, n);
	s->nerr += n;
	return 0;
}

/* A record of type with content (clen bytes) and padding, appended at o. */
static size_t
rec(uint8_t *b, size_t o, int version, int type, unsigned id, const char *c,
    size_t clen, size_t pad)
{
	uint8_t h[8] = {(uint8_t)version, (uint8_t)type, (uint8_t)(id >> 8),
	    (uint8_t)id, (uint8_t)(clen >> 8), (uint8_t)clen, (uint8_t)pad, 0};

	memcpy(b + o, h, 8);
	memcpy(b + o + 8, c, clen);
	memset(b + o + 8 + clen, 0xEE, pad);
	return o + 8 + clen + pad;
}

static size_t
end_rec(uint8_t *b, size_t o, uint32_t app, int proto, size_t pad)
{
	char e[8] = {(char)(app >> 24), (char)(app >> 16), (char)(app >> 8),
	    (char)app, (char)proto, 0, 0, 0};

	return rec(b, o, 1, DS_FCGI_END_REQUEST, 1, e, 8, pad);
}

/* Feeds len bytes in slices of step; returns the last result. */
static enum ds_fcgi_read_rc
feed(struct ds_fcgi_reader *r, struct sink *s, const uint8_t *b, size_t len,
    size_t step, size_t *taken)
{
	enum ds_fcgi_read_rc rc = DS_FCGI_MORE;
	size_t o = 0, used;

	memset(s, 0, sizeof(*s) - sizeof(s->stop_after));
	ds_fcgi_reader_init(r);
	r->on_stdout = to_out;
	r->on_stderr = to_err;
	r->ctx = s;
	while (o < len && rc == DS_FCGI_MORE) {
		size_t n = len - o < step ? len - o : step;

		rc = ds_fcgi_read(r, b + o, n, &used);
		o += used;
	}
	*taken = o;
	return rc;
}

START_TEST(answer_in_any_slices)
{
	static const size_t steps[] = {1, 2, 3, 7, 8, 9, 64, 4096};
	uint8_t b[512];
	size_t len = 0, taken;
	struct ds_fcgi_reader r;
	struct sink s = {0};

	len = rec(b, len, 1, DS_FCGI_STDOUT, 1, "Status: 200\r\n\r\n{", 16, 0);
	len = rec(b, len, 1, DS_FCGI_STDERR, 1, "warn", 4, 4);
	len = rec(b, len, 1, DS_FCGI_STDOUT, 1, "}", 1, 7);
	len = rec(b, len, 1, DS_FCGI_STDOUT, 1, "", 0, 0);
	len = rec(b, len, 1, DS_FCGI_STDERR, 1, "", 0, 3);
	len = end_rec(b, len, 0, 0, 8);
	b[len] = 'X';	/* past the answer: not taken */
	for (size_t i = 0; i < NELEM(steps); i++) {
		ck_assert_int_eq(feed(&r, &s, b, len + 1, steps[i], &taken),
		    DS_FCGI_END);
		ck_assert_uint_eq(taken, len);
		ck_assert_uint_eq(s.nout, 17);
		ck_assert(memcmp(s.out, "Status: 200\r\n\r\n{}", 17) == 0);
		ck_assert(s.nerr == 4 && memcmp(s.err, "warn", 4) == 0);
		ck_assert_uint_eq(r.app_status, 0);
		ck_assert_uint_eq(r.protocol_status, 0);
	}
}
END_TEST

START_TEST(end_request_fields)
{
	uint8_t b[64];
	size_t len = end_rec(b, 0, 0x01020304, 2, 0), taken;
	struct ds_fcgi_reader r;
	struct sink s = {0};

	ck_assert_int_eq(feed(&r, &s, b, len, 3, &taken), DS_FCGI_END);
	ck_assert_uint_eq(r.app_status, 0x01020304);
	ck_assert_uint_eq(r.protocol_status, 2);
}
END_TEST

/* Bytes that are not an answer to request 1, and the reason given. */
struct bad_case {
	const char *name;
	int version, type;
	unsigned id;
	size_t clen;
	const char *error;
};

static const struct bad_case bad_cases[] = {
	{"version 0", 0, DS_FCGI_STDOUT, 1, 1,
	    "FastCGI record of version 0, expected 1"},
	{"version 2", 2, DS_FCGI_STDOUT, 1, 1,
	    "FastCGI record of version 2, expected 1"},
	{"request 2", 1, DS_FCGI_STDOUT, 2, 1,
	    "FastCGI record for request id 2, expected 1"},
	{"request 0", 1, DS_FCGI_STDOUT, 0, 1,
	    "FastCGI record for request id 0, expected 1"},
	{"request 257", 1, DS_FCGI_STDOUT, 257, 1,
	    "FastCGI record for request id 257, expected 1"},
	{"params back", 1, DS_FCGI_PARAMS, 1, 1,
	    "FastCGI record of type 4, expected STDOUT, STDERR or END_REQUEST"},
	{"type 11", 1, 11, 1, 8,
	    "FastCGI record of type 11, expected STDOUT, STDERR or END_REQUEST"},
	{"type 255", 1, 255, 1, 0,
	    "FastCGI record of type 255, expected STDOUT, STDERR or END_REQUEST"},
	{"short end", 1, DS_FCGI_END_REQUEST, 1, 7,
	    "FastCGI END_REQUEST of 7 bytes, expected 8"},
	{"long end", 1, DS_FCGI_END_REQUEST, 1, 9,
	    "FastCGI END_REQUEST of 9 bytes, expected 8"},
};

START_TEST(bad_records)
{
	const struct bad_case *c = &bad_cases[_i];
	uint8_t b[128];
	char z[16] = {0};
	size_t len = rec(b, 0, 1, DS_FCGI_STDOUT, 1, "ok", 2, 6), taken;
	struct ds_fcgi_reader r;
	struct sink s = {0};

	len = rec(b, len, c->version, c->type, c->id, z, c->clen, 0);
	ck_assert_msg(feed(&r, &s, b, len, 5, &taken) == DS_FCGI_ERROR,
	    "case %s", c->name);
	ck_assert_str_eq(r.error, c->error);
	/* it stops at the header: not a byte of its content taken */
	ck_assert_uint_eq(taken, 16 + 8);
	ck_assert_uint_eq(s.nout, 2);
	/* and takes nothing more */
	ck_assert_int_eq(ds_fcgi_read(&r, b, len, &taken), DS_FCGI_ERROR);
	ck_assert_uint_eq(taken, 0);
}
END_TEST

START_TEST(cut_mid_record)
{
	uint8_t b[128];
	size_t len = rec(b, 0, 1, DS_FCGI_STDOUT, 1, "abcdef", 6, 2), taken;
	struct ds_fcgi_reader r;
	struct sink s = {0};

	len = end_rec(b, len, 0, 0, 0);
	for (size_t cut = 0; cut < len; cut++) {
		ck_assert_int_eq(feed(&r, &s, b, cut, 3, &taken), DS_FCGI_MORE);
		ck_assert_int_eq(ds_fcgi_reader_at_record(&r),
		    cut == 0 || cut == 16);
		ck_assert_int_eq(r.at_start, cut == 0);
	}
}
END_TEST

START_TEST(callback_stops)
{
	uint8_t b[128];
	size_t len = rec(b, 0, 1, DS_FCGI_STDOUT, 1, "abcdef", 6, 2), taken;
	struct ds_fcgi_reader r;
	struct sink s = {.stop_after = 4};

	len = end_rec(b, len, 0, 0, 0);
	ck_assert_int_eq(feed(&r, &s, b, len, 2, &taken), DS_FCGI_STOPPED);
	ck_assert_uint_eq(s.nout, 4);
	ck_assert_uint_eq(taken, 12);
}
END_TEST

/* --- the CGI header block --- */

struct cgi_case {
	const char *in;
	int rc, status;
	size_t hlen;
	const char *why;
};

static const struct cgi_case cgi_cases[] = {
	{"Content-Type: application/json\r\n\r\n{}", 1, 200, 34, NULL},
	{"Status: 503 Service Unavailable\r\nX: y\r\n\r\nbody", 1, 503, 41,
	    NULL},
	{"X-Powered-By: PHP\nstatus:404\n\n", 1, 404, 30, NULL},
	{"\r\n{}", 1, 200, 2, NULL},
	{"Content-Type: text/html\r\n", 0, 0, 0, NULL},
	{"Content-Type: text/html\r\n\r", 0, 0, 0, NULL},
	{"", 0, 0, 0, NULL},
	{"Status: 20\r\n\r\n", -1, 0, 0,
	    "CGI Status header without a 3-digit code"},
	{"Status: 2000\r\n\r\n", -1, 0, 0,
	    "CGI Status header without a 3-digit code"},
	{"Status: OK\r\n\r\n", -1, 0, 0,
	    "CGI Status header without a 3-digit code"},
	{"Status: 099\r\n\r\n", -1, 0, 0,
	    "CGI Status header without a 3-digit code"},
	{"{\"gearman_ret\": 0}\r\n\r\n", -1, 0, 0,
	    "CGI header line without a name and a colon"},
	{": x\r\n\r\n", -1, 0, 0, "CGI header line without a name and a colon"},
};

START_TEST(cgi_headers)
{
	const struct cgi_case *c = &cgi_cases[_i];
	size_t len = strlen(c->in), hlen = 0;
	char *copy = malloc(len + 1), why[96] = "";
	int status = 0, rc;

	memcpy(copy, c->in, len);	/* not NUL-terminated for the parser */
	rc = ds_cgi_headers(copy, len, &status, &hlen, why, sizeof(why));
	ck_assert_msg(rc == c->rc, "case %s: %d", ds_show(c->in, len), rc);
	if (rc > 0)
		ck_assert(status == c->status && hlen == c->hlen);
	if (c->why != NULL)
		ck_assert_str_eq(why, c->why);
	free(copy);
}
END_TEST

static Suite *
fcgi_suite(void)
{
	Suite *s = suite_create("fcgi");
	TCase *tc = ds_tcase(s, "write", NULL, NULL);

	tcase_add_loop_test(tc, nv_pairs, 0, NELEM(nv_cases));
	tcase_add_test(tc, nv_too_long);
	tcase_add_test(tc, begin_request);
	tcase_add_loop_test(tc, streams, 0, NELEM(stream_cases));
	tc = ds_tcase(s, "read", NULL, NULL);
	tcase_add_test(tc, answer_in_any_slices);
	tcase_add_test(tc, end_request_fields);
	tcase_add_loop_test(tc, bad_records, 0, NELEM(bad_cases));
	tcase_add_test(tc, cut_mid_record);
	tcase_add_test(tc, callback_stops);
	tcase_add_loop_test(tc, cgi_headers, 0, NELEM(cgi_cases));
	return s;
}

DS_CHECK_MAIN(fcgi_suite)
