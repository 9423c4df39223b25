/* request.h: the body a worker POSTs for one job (docs/endpoint.md). */
#ifndef DS_REQUEST_H
#define DS_REQUEST_H

#include <cjson/cJSON.h>
#include <stddef.h>

struct ds_job_view {
	const char *function;
	const char *handle;
	const char *unique;
	const char *workload;	/* may hold any bytes, NULs included */
	size_t workload_len;
};

struct ds_reqbuf {
	char *p;
	size_t cap;
	size_t need;		/* what the last job needed of it */
};

/* One worker's request builder: see request.c. */
struct ds_request {
	cJSON *tree;		/* the four members, for UTF-8 jobs */
	cJSON *value[4];
	struct ds_reqbuf body;	/* the printed body */
	struct ds_reqbuf text;	/* the workload, NUL-terminated; base64 */
};

int ds_request_init(struct ds_request *rq);

/* The JSON body for the job, in rq (valid until the next call), and its
 * length; NULL when memory ran out. Members as ds_request_json() says. */
const char *ds_request_build(struct ds_request *rq,
    const struct ds_job_view *job, size_t *len);

/* Gives back buffers grown for large jobs: all of them when idle is set
 * (the worker waits for work), else those the last job used under half of. */
void ds_request_trim(struct ds_request *rq, int idle);

void ds_request_free(struct ds_request *rq);

/* The JSON body: function_name, job_handle, unique, workload; a workload
 * that is not NUL-free UTF-8 goes base64-encoded with
 * "workload_encoding":"base64". Returns a malloc'd string or NULL. */
char *ds_request_json(const struct ds_job_view *job);

/* Whether the workload must be base64-encoded in the JSON body. */
int ds_workload_needs_base64(const struct ds_job_view *job);

/* A form job's multipart/form-data body, built by hand for FastCGI pools
 * (request_form.c): Content-Type "multipart/form-data; boundary=" and
 * boundary. */
struct ds_form {
	char *p;
	size_t cap;
	char boundary[48];
	unsigned uses;
};

/* The body in f (valid until the next call), its length in *len; NULL when
 * memory ran out. */
const char *ds_request_form(struct ds_form *f, const struct ds_job_view *job,
    size_t *len);

void ds_form_free(struct ds_form *f);

#endif
