/* request.h: the body a worker POSTs for one job (SPEC section 4). */
#ifndef DS_REQUEST_H
#define DS_REQUEST_H

#include <stddef.h>

struct ds_job_view {
	const char *function;
	const char *handle;
	const char *unique;
	const char *workload;	/* may hold any bytes, NULs included */
	size_t workload_len;
};

/* The JSON body: function_name, job_handle, unique, workload; a workload
 * that is not NUL-free UTF-8 goes base64-encoded with
 * "workload_encoding":"base64". Returns a malloc'd string or NULL. */
char *ds_request_json(const struct ds_job_view *job);

/* Whether the workload must be base64-encoded in the JSON body. */
int ds_workload_needs_base64(const struct ds_job_view *job);

#endif
