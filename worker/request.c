/* request.c: builds the JSON request body with cJSON (request.h). The form
 * body is built by libcurl's mime API in endpoint.c. */
#include "worker/request.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/text.h"

int
ds_workload_needs_base64(const struct ds_job_view *job)
{
	return !ds_utf8_valid(job->workload, job->workload_len);
}

/* Gearman handles, uniques and function names are C strings in libgearman;
 * they can still hold bytes that are not UTF-8, which JSON cannot carry:
 * those go base64-encoded, flagged with "<key>_encoding", like a workload. */
static int
add_text(cJSON *obj, const char *key, const char *s)
{
	size_t n = strlen(s);
	char flag[64], *b;
	int ok;

	if (ds_utf8_valid(s, n))
		return cJSON_AddStringToObject(obj, key, s) ? 0 : -1;
	if ((b = ds_base64_encode(s, n, NULL)) == NULL)
		return -1;
	snprintf(flag, sizeof(flag), "%s_encoding", key);
	ok = cJSON_AddStringToObject(obj, key, b) != NULL &&
	    cJSON_AddStringToObject(obj, flag, "base64") != NULL;
	free(b);
	return ok ? 0 : -1;
}

char *
ds_request_json(const struct ds_job_view *job)
{
	cJSON *obj = cJSON_CreateObject();
	char *out = NULL, *b64 = NULL;
	int ok;

	if (obj == NULL)
		return NULL;
	ok = add_text(obj, "function_name", job->function) == 0 &&
	    add_text(obj, "job_handle", job->handle) == 0 &&
	    add_text(obj, "unique", job->unique) == 0;
	if (ok && ds_workload_needs_base64(job)) {
		b64 = ds_base64_encode(job->workload, job->workload_len, NULL);
		ok = b64 != NULL &&
		    cJSON_AddStringToObject(obj, "workload", b64) != NULL &&
		    cJSON_AddStringToObject(obj, "workload_encoding",
		    "base64") != NULL;
	} else if (ok) {
		/* valid UTF-8 without NUL is a C string already, but not
		 * NUL-terminated: workload buffers come from libgearman */
		char *w = malloc(job->workload_len + 1);

		ok = w != NULL;
		if (ok) {
			memcpy(w, job->workload, job->workload_len);
			w[job->workload_len] = '\0';
			ok = cJSON_AddStringToObject(obj, "workload", w) != NULL;
			free(w);
		}
	}
	if (ok)
		out = cJSON_PrintUnformatted(obj);
	free(b64);
	cJSON_Delete(obj);
	return out;
}
