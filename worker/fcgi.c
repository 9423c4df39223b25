/* fcgi.c: the FastCGI record protocol as a client (a web server's side)
 * speaks it, after the FastCGI Specification 1.0 (Open Market, 1996):
 * section 3.3 records (an 8-byte header: version, type, request id,
 * content length, padding length), 3.4 name-value pairs (lengths of 1
 * byte up to 127, else 4 bytes with the top bit set), 5.1 BEGIN_REQUEST
 * with FCGI_KEEP_CONN, 5.5 END_REQUEST (appStatus, protocolStatus), 6.2 the
 * RESPONDER's PARAMS, STDIN, STDOUT and STDERR streams, each closed by an
 * empty record. The CGI header block on STDOUT is RFC 3875 section 6.
 *
 * Everything read is bounded: a record's content is streamed to callbacks,
 * never buffered whole, and anything that is not an answer to request 1 is
 * an error naming the field. */
#include "worker/fcgi.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

enum { S_HEADER, S_CONTENT, S_PADDING, S_DONE, S_FAILED };

static size_t
padding(size_t clen)
{
	return (8 - clen % 8) % 8;
}

static void
put_header(uint8_t *out, int type, size_t clen, size_t plen)
{
	out[0] = DS_FCGI_VERSION;
	out[1] = (uint8_t)type;
	out[2] = DS_FCGI_REQUEST_ID >> 8;
	out[3] = DS_FCGI_REQUEST_ID & 0xFF;
	out[4] = (uint8_t)(clen >> 8);
	out[5] = (uint8_t)(clen & 0xFF);
	out[6] = (uint8_t)plen;
	out[7] = 0;
}

size_t
ds_fcgi_stream_size(size_t n, size_t chunk)
{
	size_t full = n / chunk, last = n % chunk;
	size_t size = full * (DS_FCGI_HEADER_LEN + chunk + padding(chunk));

	if (last)
		size += DS_FCGI_HEADER_LEN + last + padding(last);
	return size + DS_FCGI_HEADER_LEN;	/* the closing empty record */
}

size_t
ds_fcgi_put_stream(uint8_t *out, int type, const void *data, size_t n,
    size_t chunk)
{
	const uint8_t *d = data;
	size_t o = 0;

	while (n > 0) {
		size_t c = n < chunk ? n : chunk, p = padding(c);

		put_header(out + o, type, c, p);
		memcpy(out + o + DS_FCGI_HEADER_LEN, d, c);
		memset(out + o + DS_FCGI_HEADER_LEN + c, 0, p);
		o += DS_FCGI_HEADER_LEN + c + p;
		d += c;
		n -= c;
	}
	put_header(out + o, type, 0, 0);
	return o + DS_FCGI_HEADER_LEN;
}

size_t
ds_fcgi_put_begin(uint8_t out[16], int keep_conn)
{
	put_header(out, DS_FCGI_BEGIN_REQUEST, 8, 0);
	memset(out + 8, 0, 8);
	out[9] = 1;			/* role: FCGI_RESPONDER */
	out[10] = keep_conn ? 1 : 0;	/* flags: FCGI_KEEP_CONN */
	return 16;
}

#define NV_MAX_LEN 0x7FFFFFFFu

static size_t
len_size(size_t n)
{
	return n <= 127 ? 1 : 4;
}

size_t
ds_fcgi_nv_size(size_t nlen, size_t vlen)
{
	if (nlen > NV_MAX_LEN || vlen > NV_MAX_LEN)
		return 0;
	return len_size(nlen) + len_size(vlen) + nlen + vlen;
}

static size_t
put_len(uint8_t *out, size_t n)
{
	if (n <= 127) {
		out[0] = (uint8_t)n;
		return 1;
	}
	out[0] = (uint8_t)((n >> 24) | 0x80);
	out[1] = (uint8_t)(n >> 16);
	out[2] = (uint8_t)(n >> 8);
	out[3] = (uint8_t)n;
	return 4;
}

size_t
ds_fcgi_nv_put(uint8_t *out, const char *name, size_t nlen, const char *value,
    size_t vlen)
{
	size_t o = put_len(out, nlen);

	o += put_len(out + o, vlen);
	memcpy(out + o, name, nlen);
	memcpy(out + o + nlen, value, vlen);
	return o + nlen + vlen;
}

/* One length at in[*o]; 0 when in is too short. */
static int
get_len(const uint8_t *in, size_t len, size_t *o, size_t *n)
{
	if (*o >= len)
		return 0;
	if (in[*o] < 0x80) {
		*n = in[(*o)++];
		return 1;
	}
	if (len - *o < 4)
		return 0;
	*n = ((size_t)(in[*o] & 0x7F) << 24) | ((size_t)in[*o + 1] << 16) |
	    ((size_t)in[*o + 2] << 8) | in[*o + 3];
	*o += 4;
	return 1;
}

size_t
ds_fcgi_nv_get(const uint8_t *in, size_t len, const uint8_t **name,
    size_t *nlen, const uint8_t **value, size_t *vlen)
{
	size_t o = 0;

	if (!get_len(in, len, &o, nlen) || !get_len(in, len, &o, vlen))
		return 0;
	if (*nlen > len - o || *vlen > len - o - *nlen)
		return 0;
	*name = in + o;
	*value = in + o + *nlen;
	return o + *nlen + *vlen;
}

void
ds_fcgi_reader_init(struct ds_fcgi_reader *r)
{
	r->state = S_HEADER;
	r->have = 0;
	r->at_start = 1;
	r->app_status = 0;
	r->protocol_status = 0;
	r->error[0] = '\0';
}

int
ds_fcgi_reader_at_record(const struct ds_fcgi_reader *r)
{
	return r->state == S_HEADER && r->have == 0;
}

static enum ds_fcgi_read_rc fail(struct ds_fcgi_reader *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static enum ds_fcgi_read_rc
fail(struct ds_fcgi_reader *r, const char *fmt, ...)
{
	va_list ap;

	r->state = S_FAILED;
	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
	return DS_FCGI_ERROR;
}

/* A whole header is in r->hdr: only records of our request's answer. */
static enum ds_fcgi_read_rc
take_header(struct ds_fcgi_reader *r)
{
	const uint8_t *h = r->hdr;
	unsigned id = (unsigned)h[2] << 8 | h[3];

	r->type = h[1];
	r->content_left = (size_t)h[4] << 8 | h[5];
	r->padding_left = h[6];
	r->have = 0;
	if (h[0] != DS_FCGI_VERSION)
		return fail(r, "FastCGI record of version %u, expected 1", h[0]);
	if (id != DS_FCGI_REQUEST_ID)
		return fail(r, "FastCGI record for request id %u, expected %d",
		    id, DS_FCGI_REQUEST_ID);
	if (r->type == DS_FCGI_END_REQUEST && r->content_left != 8)
		return fail(r, "FastCGI END_REQUEST of %zu bytes, expected 8",
		    r->content_left);
	if (r->type != DS_FCGI_STDOUT && r->type != DS_FCGI_STDERR &&
	    r->type != DS_FCGI_END_REQUEST)
		return fail(r, "FastCGI record of type %d, expected STDOUT, "
		    "STDERR or END_REQUEST", r->type);
	r->state = S_CONTENT;
	return DS_FCGI_MORE;
}

/* The record's content is all read: on to its padding. */
static void
content_done(struct ds_fcgi_reader *r)
{
	if (r->type == DS_FCGI_END_REQUEST) {
		r->app_status = (uint32_t)r->end[0] << 24 |
		    (uint32_t)r->end[1] << 16 | (uint32_t)r->end[2] << 8 |
		    r->end[3];
		r->protocol_status = r->end[4];
	}
	r->state = S_PADDING;
}

static enum ds_fcgi_read_rc
take_content(struct ds_fcgi_reader *r, const uint8_t *in, size_t n)
{
	int stop = 0;

	if (r->type == DS_FCGI_END_REQUEST)
		memcpy(r->end + r->have, in, n);
	else if (n > 0 && r->type == DS_FCGI_STDOUT && r->on_stdout)
		stop = r->on_stdout(r->ctx, in, n);
	else if (n > 0 && r->type == DS_FCGI_STDERR && r->on_stderr)
		stop = r->on_stderr(r->ctx, in, n);
	r->have += n;
	r->content_left -= n;
	if (r->content_left == 0) {
		r->have = 0;
		content_done(r);
	}
	if (stop) {
		r->state = S_FAILED;
		return DS_FCGI_STOPPED;
	}
	return DS_FCGI_MORE;
}

enum ds_fcgi_read_rc
ds_fcgi_read(struct ds_fcgi_reader *r, const uint8_t *in, size_t len,
    size_t *used)
{
	enum ds_fcgi_read_rc rc = DS_FCGI_MORE;
	size_t o = 0, n;

	if (len > 0)
		r->at_start = 0;
	while (rc == DS_FCGI_MORE && r->state < S_DONE &&
	    (o < len || (r->state != S_HEADER && r->content_left == 0 &&
	    r->padding_left == 0))) {
		switch (r->state) {
		case S_HEADER:
			n = DS_FCGI_HEADER_LEN - r->have;
			n = n < len - o ? n : len - o;
			memcpy(r->hdr + r->have, in + o, n);
			r->have += n;
			o += n;
			if (r->have == DS_FCGI_HEADER_LEN)
				rc = take_header(r);
			break;
		case S_CONTENT:
			n = r->content_left < len - o ? r->content_left : len - o;
			rc = take_content(r, in + o, n);
			o += n;
			break;
		default:	/* S_PADDING */
			n = r->padding_left < len - o ? r->padding_left : len - o;
			r->padding_left -= n;
			o += n;
			if (r->padding_left == 0)
				r->state = r->type == DS_FCGI_END_REQUEST ?
				    S_DONE : S_HEADER;
			break;
		}
	}
	*used = o;
	if (rc != DS_FCGI_MORE)
		return rc;
	if (r->state == S_DONE)
		return DS_FCGI_END;
	return r->state == S_FAILED ? DS_FCGI_ERROR : DS_FCGI_MORE;
}

/* RFC 3875 6.3.3: Status: 3 digits, then a space and a reason, or nothing. */
static int
status_value(const char *v, const char *end, int *status)
{
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	if (end - v < 3 || v[0] < '1' || v[0] > '9' || v[1] < '0' ||
	    v[1] > '9' || v[2] < '0' || v[2] > '9')
		return -1;
	if (end - v > 3 && v[3] != ' ' && v[3] != '\t')
		return -1;
	*status = (v[0] - '0') * 100 + (v[1] - '0') * 10 + (v[2] - '0');
	return 0;
}

/* RFC 3875 6.3 and RFC 7230 3.2.6: a header's name is a token. */
static int
valid_name(const char *p, const char *end)
{
	if (p == end)
		return 0;
	for (; p < end; p++)
		if (*p <= ' ' || *p >= 0x7F || strchr("()<>@,;:\\\"/[]?={}",
		    *p) != NULL)
			return 0;
	return 1;
}

int
ds_cgi_headers(const char *p, size_t len, int *status, size_t *hlen,
    char *why, size_t whylen)
{
	const char *line = p, *end = p + len, *nl, *colon, *eol;

	*status = 200;
	while ((nl = memchr(line, '\n', (size_t)(end - line))) != NULL) {
		eol = nl > line && nl[-1] == '\r' ? nl - 1 : nl;
		if (eol == line) {
			*hlen = (size_t)(nl + 1 - p);
			return 1;
		}
		colon = memchr(line, ':', (size_t)(eol - line));
		if (colon == NULL || !valid_name(line, colon)) {
			snprintf(why, whylen, "CGI header line without a name "
			    "and a colon");
			return -1;
		}
		if (colon - line == 6 && strncasecmp(line, "Status", 6) == 0 &&
		    status_value(colon + 1, eol, status) < 0) {
			snprintf(why, whylen, "CGI Status header without a "
			    "3-digit code");
			return -1;
		}
		line = nl + 1;
	}
	return 0;
}
