/* endpoint.c: builds the request, performs it with libcurl and turns what
 * came back into a job outcome (endpoint.h). Anything the endpoint does ends
 * as a complete or a fail with a reason; nothing here exits. */
#include "worker/endpoint.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/parse.h"
#include "config/fcgi_uri.h"
#include "worker/fcgi_client.h"
#include "worker/memtune.h"
#include "worker/response.h"

#define CONNECT_TIMEOUT_MS 5000
/* A response buffer grown past this is kept only while answers keep filling
 * half of it, and given back when the worker waits for work, so that one
 * large answer does not stay resident for the rest of a worker's life while
 * a run of them does not map and fault in a new buffer each. */
#define BODY_KEEP_BYTES (64 * 1024)

int
ds_endpoint_body_add(struct ds_endpoint *ep, const void *ptr, size_t n)
{
	if (ep->len + n + 1 > ep->cap) {
		size_t cap = ep->cap ? ep->cap : 1024;
		char *p;

		while (cap < ep->len + n + 1)
			cap *= 2;
		if ((p = realloc(ep->body, cap)) == NULL)
			return -1;
		ep->body = p;
		ep->cap = cap;
	}
	memcpy(ep->body + ep->len, ptr, n);
	ep->len += n;
	return 0;
}

static size_t
on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct ds_endpoint *ep = userdata;
	size_t n = size * nmemb;

	if (ep->len + n > (size_t)ep->opts->max_response_bytes) {
		ep->over_cap = 1;
		return 0;	/* makes curl stop with CURLE_WRITE_ERROR */
	}
	return ds_endpoint_body_add(ep, ptr, n) < 0 ? 0 : n;
}

static int
on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	struct ds_endpoint *ep = userdata;

	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	return ep->should_abort && ep->should_abort(ep->abort_ctx);
}

/* Given the URL as a string, libcurl parses it again for every transfer:
 * 11k of a JSON job's 84k instructions. A parsed handle it only reads. */
static int
set_url(struct ds_endpoint *ep, const char *uri, char *err, size_t errlen)
{
	CURLUcode uc;

	if ((ep->url = curl_url()) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((uc = curl_url_set(ep->url, CURLUPART_URL, uri, 0)) != CURLUE_OK) {
		/* not the URI itself: libcurl could not find its parts, so
		 * a password in it may be where no redaction looks */
		snprintf(err, errlen, "--uri: %s", curl_url_strerror(uc));
		return -1;
	}
	curl_easy_setopt(ep->curl, CURLOPT_CURLU, ep->url);
	return 0;
}

int
ds_endpoint_init(struct ds_endpoint *ep, const struct ds_worker_opts *o,
    char *err, size_t errlen)
{
	CURL *c;
	long connect_ms = o->max_running_ms < CONNECT_TIMEOUT_MS ?
	    (long)o->max_running_ms : CONNECT_TIMEOUT_MS;

	memset(ep, 0, sizeof(*ep));
	ep->opts = o;
	if (ds_request_init(&ep->req) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* response-sized blocks go back to the kernel when freed */
	ds_memtune_init();
	/* a fastcgi:// pool: no libcurl at all (fcgi_client.c) */
	if (ds_is_fcgi_uri(o->uri))
		return ds_fcgi_client_init(ep, err, errlen);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (c = curl_easy_init()) == NULL) {
		snprintf(err, errlen, "cannot initialise libcurl");
		return -1;
	}
	ep->curl = c;
	ep->headers = curl_slist_append(NULL, "Expect:");
	if (o->format == DS_FORMAT_JSON)
		ep->headers = curl_slist_append(ep->headers,
		    "Content-Type: application/json");
	if (ep->headers == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (set_url(ep, o->uri, err, errlen) < 0)
		return -1;
	/* no proxy: one named in the environment of whoever started the
	 * daemon must not see the jobs (and looking for it, and for
	 * no_proxy, cost each job 2k instructions) */
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_NOPROXY, "");
	/* same keep-alive: curl reuses the unix socket connection too */
	if (o->unix_socket != NULL)
		curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, o->unix_socket);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, ep->headers);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "driveshaft/" DS_VERSION);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)o->max_running_ms);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ep->errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, ep);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)o->max_response_bytes);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, ep);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	return 0;
}

static curl_mime *
build_form(CURL *c, const struct ds_job_view *job)
{
	curl_mime *mime = curl_mime_init(c);
	const char *names[] = {"function_name", "job_handle", "unique",
	    "workload"};
	const char *values[] = {job->function, job->handle, job->unique,
	    job->workload};

	if (mime == NULL)
		return NULL;
	for (int i = 0; i < 4; i++) {
		curl_mimepart *part = curl_mime_addpart(mime);
		size_t len = i == 3 ? job->workload_len : CURL_ZERO_TERMINATED;

		if (part == NULL || curl_mime_name(part, names[i]) != CURLE_OK ||
		    curl_mime_data(part, values[i], len) != CURLE_OK) {
			curl_mime_free(mime);
			return NULL;
		}
	}
	return mime;
}

void
ds_call_fail(struct ds_call *res, enum ds_outcome outcome, const char *fmt, ...)
{
	va_list ap;

	res->outcome = outcome;
	va_start(ap, fmt);
	vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
	va_end(ap);
}

static void
judge_transfer(struct ds_endpoint *ep, CURLcode rc, int64_t elapsed_ms,
    struct ds_call *res)
{
	const char *detail = ep->errbuf[0] ? ep->errbuf : curl_easy_strerror(rc);

	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		/* libcurl rounds its elapsed time up and ours down: its
		 * timeout can fire 1 ms before our clock says it is due */
		if (elapsed_ms + 1 >= ep->opts->max_running_ms)
			ds_call_fail(res, DS_OUT_TIMEOUT, "max_running_time of "
			    "%lld ms exceeded", (long long)ep->opts->max_running_ms);
		else
			ds_call_fail(res, DS_OUT_FAIL, "endpoint: %s", detail);
		return;
	case CURLE_ABORTED_BY_CALLBACK:
		ds_call_fail(res, DS_OUT_ABORTED, "worker stopped after %lld ms",
		    (long long)elapsed_ms);
		return;
	case CURLE_WRITE_ERROR:
	case CURLE_FILESIZE_EXCEEDED:
		if (ep->over_cap || rc == CURLE_FILESIZE_EXCEEDED) {
			ds_call_fail(res, DS_OUT_FAIL, "response body over the "
			    "max_response_bytes cap of %lld bytes",
			    (long long)ep->opts->max_response_bytes);
			return;
		}
		break;
	default:
		break;
	}
	ds_call_fail(res, DS_OUT_FAIL, "endpoint: %s", detail);
}

static void
release_body(struct ds_endpoint *ep, int idle)
{
	size_t used = ep->len;

	ep->len = 0;
	if (ep->cap <= BODY_KEEP_BYTES || (!idle && 2 * used >= ep->cap))
		return;
	free(ep->body);
	ep->body = NULL;
	ep->cap = 0;
}

void
ds_endpoint_judge(struct ds_endpoint *ep, size_t off, struct ds_call *res)
{
	struct ds_response r;
	char none[1] = "";

	if (res->http_status != 200) {
		ds_call_fail(res, DS_OUT_FAIL, "HTTP status %d", res->http_status);
		return;
	}
	/* the answer stays in the body when it can: ds_call_done() */
	if (ep->body != NULL)
		ds_response_parse_in_place(ep->body + off, ep->len - off, &r);
	else
		ds_response_parse_in_place(none, 0, &r);
	if (!r.complete) {
		ds_call_fail(res, DS_OUT_FAIL, "%s", r.reason);
		ds_response_free(&r);
		return;
	}
	res->outcome = DS_OUT_COMPLETE;
	res->data = r.data;
	res->len = r.len;
	res->borrowed = r.borrowed;
}

void
ds_endpoint_call(struct ds_endpoint *ep, const struct ds_job_view *job,
    struct ds_call *res)
{
	curl_mime *mime = NULL;
	const char *json = NULL;
	size_t json_len = 0;
	int64_t started = ds_now_ms();
	long status = 0;
	CURLcode rc;

	memset(res, 0, sizeof(*res));
	ep->worked = 1;
	ep->len = 0;
	if (ep->fcgi != NULL) {
		ds_fcgi_client_call(ep, job, res);
		return;
	}
	ep->over_cap = 0;
	ep->errbuf[0] = '\0';
	if (ep->opts->format == DS_FORMAT_FORM) {
		mime = build_form(ep->curl, job);
		curl_easy_setopt(ep->curl, CURLOPT_MIMEPOST, mime);
	} else {
		json = ds_request_build(&ep->req, job, &json_len);
		curl_easy_setopt(ep->curl, CURLOPT_POSTFIELDS, json);
		curl_easy_setopt(ep->curl, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)json_len);
	}
	if (mime == NULL && json == NULL) {
		ds_call_fail(res, DS_OUT_FAIL, "cannot build the request");
		return;
	}
	rc = curl_easy_perform(ep->curl);
	curl_easy_getinfo(ep->curl, CURLINFO_RESPONSE_CODE, &status);
	res->http_status = (int)status;
	if (rc != CURLE_OK)
		judge_transfer(ep, rc, ds_now_ms() - started, res);
	else
		ds_endpoint_judge(ep, 0, res);
	if (mime) {
		curl_easy_setopt(ep->curl, CURLOPT_MIMEPOST, NULL);
		curl_mime_free(mime);
	}
}

int
ds_call_own(struct ds_call *res)
{
	char *copy;

	if (!res->borrowed)
		return 0;
	if ((copy = malloc(res->len + 1)) == NULL)
		return -1;
	memcpy(copy, res->data, res->len);
	copy[res->len] = '\0';
	res->data = copy;
	res->borrowed = 0;
	return 0;
}

void
ds_call_done(struct ds_endpoint *ep, struct ds_call *res)
{
	if (!res->borrowed)
		free(res->data);
	res->data = NULL;
	res->borrowed = 0;
	release_body(ep, 0);
	ds_request_trim(&ep->req, 0);
}

void
ds_endpoint_idle(struct ds_endpoint *ep)
{
	/* once per spell of waiting: a worker idle for hours would trim an
	 * unchanged heap every loop timeout */
	if (!ep->worked)
		return;
	ep->worked = 0;
	release_body(ep, 1);
	ds_request_trim(&ep->req, 1);
	if (ep->fcgi != NULL)
		ds_fcgi_client_idle(ep->fcgi);
	/* and the pages of what the jobs freed inside the heap: a waiting
	 * worker holds no more than it needs to take the next job */
	ds_memtune_trim();
}

void
ds_endpoint_cleanup(struct ds_endpoint *ep)
{
	ds_fcgi_client_free(ep->fcgi);
	if (ep->curl)
		curl_easy_cleanup(ep->curl);
	curl_url_cleanup(ep->url);
	curl_slist_free_all(ep->headers);
	ds_request_free(&ep->req);
	free(ep->body);
	memset(ep, 0, sizeof(*ep));
}
