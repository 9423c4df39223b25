/* fcgi_client.c: one job as one FastCGI request (fcgi_client.h), over a
 * connection kept from job to job (FCGI_KEEP_CONN, request id 1).
 *
 * A job runs at most once: a request is written only to a connection that
 * looked alive just before (no EOF, nothing unread), and once a byte of it
 * has left, whatever goes wrong is the job's WORK_FAIL, never a resend;
 * gearmand and the client decide about a retry, as they do for HTTP. Any
 * error closes the connection, so the next job starts on a clean one.
 * Memory is bounded whatever the server sends: STDOUT up to the CGI
 * headers' limit plus max_response_bytes, STDERR up to a log line (and
 * counted up to max_response_bytes), one read buffer. */
#include "worker/fcgi_client.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/log.h"
#include "common/parse.h"
#include "common/text.h"
#include "config/fcgi_uri.h"
#include "worker/fcgi.h"

#define READ_BYTES (32 * 1024)
#define HEADERS_MAX (16 * 1024)	/* the CGI header block */
#define OUT_KEEP (64 * 1024)	/* a request buffer kept between jobs */

int
ds_fcgi_client_init(struct ds_endpoint *ep, char *err, size_t errlen)
{
	const struct ds_worker_opts *o = ep->opts;
	struct ds_fcgi_client *c = calloc(1, sizeof(*c));
	struct ds_fcgi_uri u;
	char why[160];

	if (c == NULL || (c->rbuf = malloc(READ_BYTES)) == NULL) {
		free(c);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->ep = ep;
	c->fd = -1;
	ep->fcgi = c;
	if (ds_fcgi_uri_parse(o->uri, o->unix_socket != NULL, &u, why,
	    sizeof(why)) < 0) {
		snprintf(err, errlen, "--uri: expected %s", why);
		return -1;
	}
	if (ds_fcgi_params_init(&c->pp, o->uri, o->unix_socket != NULL, err,
	    errlen) < 0)
		return -1;
	c->unix_socket = o->unix_socket;
	snprintf(c->host, sizeof(c->host), "%s", u.host);
	snprintf(c->port, sizeof(c->port), "%d", u.port);
	if (c->unix_socket != NULL)
		snprintf(c->where, sizeof(c->where), "%s", c->unix_socket);
	else
		snprintf(c->where, sizeof(c->where), "%s%s%s:%d",
		    strchr(u.host, ':') ? "[" : "", u.host,
		    strchr(u.host, ':') ? "]" : "", u.port);
	return 0;
}

/* STDOUT: the CGI headers, then the body, up to max_response_bytes. */
static int
on_stdout(void *ctx, const uint8_t *p, size_t n)
{
	struct ds_fcgi_client *c = ctx;
	struct ds_endpoint *ep = c->ep;
	size_t cap = (size_t)ep->opts->max_response_bytes;
	int rc;

	if ((c->hlen ? ep->len - c->hlen + n > cap :
	    ep->len + n > HEADERS_MAX + cap)) {
		snprintf(c->stop_why, sizeof(c->stop_why), "response body over "
		    "the max_response_bytes cap of %zu bytes", cap);
		return 1;
	}
	if (ds_endpoint_body_add(ep, p, n) < 0) {
		snprintf(c->stop_why, sizeof(c->stop_why), "out of memory");
		return 1;
	}
	if (c->hlen)
		return 0;
	rc = ds_cgi_headers(ep->body, ep->len, &c->status, &c->hlen,
	    c->stop_why, sizeof(c->stop_why));
	if (rc < 0)
		return 1;
	if (rc == 0 && ep->len > HEADERS_MAX) {
		snprintf(c->stop_why, sizeof(c->stop_why), "CGI headers over "
		    "%d bytes", HEADERS_MAX);
		return 1;
	}
	if (rc > 0 && ep->len - c->hlen > cap) {
		snprintf(c->stop_why, sizeof(c->stop_why), "response body over "
		    "the max_response_bytes cap of %zu bytes", cap);
		return 1;
	}
	return 0;
}

/* STDERR: the start kept for one log line, the rest counted. */
static int
on_stderr(void *ctx, const uint8_t *p, size_t n)
{
	struct ds_fcgi_client *c = ctx;
	size_t room = sizeof(c->err_text) - c->err_len;

	memcpy(c->err_text + c->err_len, p, n < room ? n : room);
	c->err_len += n < room ? n : room;
	c->err_total += n;
	if (c->err_total > (size_t)c->ep->opts->max_response_bytes) {
		snprintf(c->stop_why, sizeof(c->stop_why), "FastCGI STDERR "
		    "over %lld bytes (max_response_bytes)",
		    (long long)c->ep->opts->max_response_bytes);
		return 1;
	}
	return 0;
}

static void
log_stderr(const struct ds_fcgi_client *c, const struct ds_job_view *job)
{
	char esc[DS_FCGI_STDERR_KEEP * 4 + 1];
	struct ds_lv f, h, t;

	if (c->err_total == 0)
		return;
	ds_escape(esc, sizeof(esc), c->err_text, c->err_len);
	ds_log(LOG_NOTICE, "event=fastcgi_stderr pool=%s function=%s handle=%s "
	    "bytes=%zu text=%s%s", c->ep->opts->pool, DS_LV(f, job->function),
	    DS_LV(h, job->handle), c->err_total, DS_LV(t, esc),
	    c->err_total > c->err_len ? " cut=1" : "");
}

enum { X_DONE, X_FAILED };

/* What the server's bytes came to: END, or a failure in res. */
static int
feed(struct ds_fcgi_client *c, const uint8_t *in, size_t n, size_t *used,
    struct ds_call *res)
{
	switch (ds_fcgi_read(&c->rd, in, n, used)) {
	case DS_FCGI_MORE:
		return -1;
	case DS_FCGI_END:
		return X_DONE;
	case DS_FCGI_ERROR:
		ds_call_fail(res, DS_OUT_FAIL, "%s", c->rd.error);
		return X_FAILED;
	default:
		ds_call_fail(res, DS_OUT_FAIL, "%s", c->stop_why);
		return X_FAILED;
	}
}

/* Reads what is there; X_DONE, X_FAILED or -1 for more to come. */
static int
read_some(struct ds_fcgi_client *c, size_t wrote, struct ds_call *res)
{
	ssize_t n = recv(c->fd, c->rbuf, READ_BYTES, 0);
	size_t used;
	int rc;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return -1;
	if (n < 0) {
		ds_call_fail(res, DS_OUT_FAIL, "FastCGI: read from %s: %s",
		    c->where, strerror(errno));
		return X_FAILED;
	}
	if (n == 0) {
		if (c->rd.at_start)	/* dropped unread, or died at once */
			ds_fcgi_recycle_closed(&c->recycle);
		ds_call_fail(res, DS_OUT_FAIL, "FastCGI: %s closed the "
		    "connection %s (%zu request bytes sent)", c->where,
		    ds_fcgi_reader_at_record(&c->rd) ? "before END_REQUEST" :
		    "mid-record", wrote);
		return X_FAILED;
	}
	if ((rc = feed(c, c->rbuf, (size_t)n, &used, res)) == X_DONE &&
	    used < (size_t)n)
		ds_fcgi_conn_close(c);	/* more than the answer: not to be reused */
	return rc;
}

/* Writes the request while reading the answer (an application may answer
 * before it has read all of STDIN), until END_REQUEST or a failure. */
static int
exchange(struct ds_fcgi_client *c, const uint8_t *req, size_t len,
    int64_t started, struct ds_call *res)
{
	int64_t deadline = started + c->ep->opts->max_running_ms;
	size_t off = 0;
	int rc;

	for (;;) {
		if (off < len) {
			ssize_t n = send(c->fd, req + off, len - off,
			    MSG_NOSIGNAL | MSG_DONTWAIT);

			if (n < 0 && errno != EAGAIN && errno != EINTR) {
				ds_call_fail(res, DS_OUT_FAIL, "FastCGI: write "
				    "to %s after %zu bytes: %s", c->where, off,
				    strerror(errno));
				return X_FAILED;
			}
			off += n > 0 ? (size_t)n : 0;
		}
		rc = ds_fcgi_wait(c, (short)(POLLIN | (off < len ? POLLOUT : 0)),
		    deadline, started, res);
		if (rc == 0) {
			ds_call_fail(res, DS_OUT_TIMEOUT, "max_running_time of "
			    "%lld ms exceeded", (long long)c->ep->opts->max_running_ms);
			return X_FAILED;
		}
		if (rc < 0)
			return X_FAILED;
		if ((rc = read_some(c, off, res)) >= 0) {
			if (rc == X_DONE && off < len)
				ds_fcgi_conn_close(c);	/* it did not read all of it */
			return rc;
		}
	}
}

static void
judge(struct ds_fcgi_client *c, struct ds_call *res)
{
	if (c->rd.protocol_status != DS_FCGI_REQUEST_COMPLETE) {
		static const char *const why[] = {"", "CANT_MPX_CONN",
		    "OVERLOADED", "UNKNOWN_ROLE"};
		unsigned s = c->rd.protocol_status;

		ds_fcgi_conn_close(c);
		ds_call_fail(res, DS_OUT_FAIL, "FastCGI END_REQUEST with "
		    "protocol status %u%s%s", s, s < 4 ? " " : "",
		    s < 4 ? why[s] : "");
		return;
	}
	if (c->rd.app_status != 0) {
		ds_call_fail(res, DS_OUT_FAIL, "FastCGI application exited "
		    "with status %u", c->rd.app_status);
		return;
	}
	if (c->hlen == 0) {
		ds_call_fail(res, DS_OUT_FAIL, "FastCGI STDOUT ended before the "
		    "end of its CGI headers");
		return;
	}
	res->http_status = c->status;
	ds_endpoint_judge(c->ep, c->hlen, res);
}

static const char *
build_body(struct ds_fcgi_client *c, const struct ds_job_view *job,
    size_t *len, char *ctype, size_t ctypelen)
{
	if (c->ep->opts->format == DS_FORMAT_JSON) {
		snprintf(ctype, ctypelen, "application/json");
		return ds_request_build(&c->ep->req, job, len);
	}
	const char *b = ds_request_form(&c->form, job, len);

	snprintf(ctype, ctypelen, "multipart/form-data; boundary=%s",
	    c->form.boundary);
	return b;
}

void
ds_fcgi_client_call(struct ds_endpoint *ep, const struct ds_job_view *job,
    struct ds_call *res)
{
	struct ds_fcgi_client *c = ep->fcgi;
	int64_t started = ds_now_ms();
	char ctype[96];
	const char *body;
	size_t blen, len;

	c->hlen = 0;
	c->status = 0;
	c->err_total = c->err_len = 0;
	c->stop_why[0] = '\0';
	body = build_body(c, job, &blen, ctype, sizeof(ctype));
	if (body == NULL || ds_fcgi_conn_ensure(c, started, res) < 0 ||
	    (len = ds_fcgi_params_request(&c->pp, ctype, c->remote_addr, body,
	    blen)) == 0) {
		if (res->reason[0] == '\0')
			ds_call_fail(res, DS_OUT_FAIL, "cannot build the request");
		return;
	}
	ds_fcgi_reader_init(&c->rd);
	c->rd.on_stdout = on_stdout;
	c->rd.on_stderr = on_stderr;
	c->rd.ctx = c;
	if (exchange(c, c->pp.out, len, started, res) == X_DONE) {
		ds_fcgi_recycle_answered(&c->recycle, ds_now_ms());
		judge(c, res);
	}
	else
		ds_fcgi_conn_close(c);
	log_stderr(c, job);
}

void
ds_fcgi_client_idle(struct ds_fcgi_client *c)
{
	if (c->pp.out_cap > OUT_KEEP) {
		free(c->pp.out);
		c->pp.out = NULL;
		c->pp.out_cap = 0;
	}
	if (c->form.cap > OUT_KEEP)
		ds_form_free(&c->form);
}

void
ds_fcgi_client_free(struct ds_fcgi_client *c)
{
	if (c == NULL)
		return;
	ds_fcgi_conn_close(c);
	ds_fcgi_params_free(&c->pp);
	ds_form_free(&c->form);
	free(c->rbuf);
	free(c);
}
