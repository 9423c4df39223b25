/* endpoint.h: one POST of one job to the pool's endpoint over libcurl, with
 * one easy handle per worker so the HTTP connection is kept alive. */
#ifndef DS_ENDPOINT_H
#define DS_ENDPOINT_H

#include <curl/curl.h>
#include <stdint.h>

#include "common/slot.h"
#include "worker/options.h"
#include "worker/request.h"

struct ds_fcgi_client;

struct ds_endpoint {
	struct ds_fcgi_client *fcgi;	/* a fastcgi:// pool: no curl */
	CURL *curl;
	CURLU *url;			/* the endpoint's URL, parsed once */
	const struct ds_worker_opts *opts;
	struct curl_slist *headers;
	char errbuf[CURL_ERROR_SIZE];
	struct ds_request req;		/* request bodies, reused */
	int worked;			/* a call since ds_endpoint_idle() */
	char *body;			/* response being received */
	size_t len, cap;
	int over_cap;
	/* asked during the transfer (about once a second at least):
	 * non-zero aborts the job as DS_OUT_ABORTED */
	int (*should_abort)(void *ctx);
	void *abort_ctx;
};

struct ds_call {
	enum ds_outcome outcome;
	int http_status;		/* 0 when no response came */
	char *data;			/* WORK_COMPLETE payload */
	size_t len;
	int borrowed;			/* data is in the endpoint's buffer */
	char reason[256];		/* failures: why, for the log */
};

int ds_endpoint_init(struct ds_endpoint *ep, const struct ds_worker_opts *o,
    char *err, size_t errlen);
void ds_endpoint_call(struct ds_endpoint *ep, const struct ds_job_view *job,
    struct ds_call *res);

/* Makes res->data a malloc'd copy of its own, for a caller that hands it
 * on to be freed. */
int ds_call_own(struct ds_call *res);

/* Ends a call once its answer is sent: frees what res holds, and gives
 * back buffers grown for it that later jobs are unlikely to fill. */
void ds_call_done(struct ds_endpoint *ep, struct ds_call *res);

/* The worker waits for work: buffers grown for large jobs go back. */
void ds_endpoint_idle(struct ds_endpoint *ep);

void ds_endpoint_cleanup(struct ds_endpoint *ep);

/* For the FastCGI transport (fcgi_client.c), which shares the response
 * buffer and its judgement with HTTP: */

/* Appends n bytes to the response buffer; -1 when memory ran out. */
int ds_endpoint_body_add(struct ds_endpoint *ep, const void *p, size_t n);

/* Judges the answer in the response buffer from byte off on, given the
 * HTTP status in res->http_status. */
void ds_endpoint_judge(struct ds_endpoint *ep, size_t off, struct ds_call *res);

void ds_call_fail(struct ds_call *res, enum ds_outcome outcome,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
