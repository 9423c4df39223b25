/* request_form.c: the multipart/form-data body of a form job for a FastCGI
 * pool (request.h). Over HTTP libcurl's mime API builds it (endpoint.c);
 * here it is written as libcurl writes it: one part per field, each with
 * a Content-Disposition and no Content-Type, the values as raw bytes. */
#include "worker/request.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static const char *const names[4] = {"function_name", "job_handle",
    "unique", "workload"};

#define PART_HEAD "\r\nContent-Disposition: form-data; name=\"\"\r\n\r\n"

/* A boundary found in none of the values: 24 dashes and 16 random hex
 * digits, as likely to be in a workload as a 64-bit guess. */
static void
pick_boundary(struct ds_form *f, const char *const v[4], const size_t len[4])
{
	for (;;) {
		uint64_t r = 0;
		int clash = 0;

		if (getrandom(&r, sizeof(r), 0) != sizeof(r))
			r = (uint64_t)(uintptr_t)f ^ ((uint64_t)f->uses++ << 32);
		snprintf(f->boundary, sizeof(f->boundary),
		    "------------------------%016llx", (unsigned long long)r);
		for (int i = 0; i < 4 && !clash; i++)
			clash = memmem(v[i], len[i], f->boundary,
			    strlen(f->boundary)) != NULL;
		if (!clash)
			return;
	}
}

const char *
ds_request_form(struct ds_form *f, const struct ds_job_view *job, size_t *len)
{
	const char *v[4] = {job->function, job->handle, job->unique,
	    job->workload};
	size_t vl[4] = {strlen(job->function), strlen(job->handle),
	    strlen(job->unique), job->workload_len};
	size_t blen, need, o = 0;

	if (f->boundary[0] == '\0')
		pick_boundary(f, v, vl);
	else
		for (int i = 0; i < 4; i++)
			if (memmem(v[i], vl[i], f->boundary,
			    strlen(f->boundary)) != NULL) {
				pick_boundary(f, v, vl);
				break;
			}
	blen = strlen(f->boundary);
	need = 2 + blen + 4 + 2;		/* the closing --b--\r\n */
	for (int i = 0; i < 4; i++)
		need += 2 + blen + strlen(PART_HEAD) + strlen(names[i]) +
		    vl[i] + 2;
	if (need > f->cap) {
		free(f->p);
		f->cap = 0;
		if ((f->p = malloc(need)) == NULL)
			return NULL;
		f->cap = need;
	}
	for (int i = 0; i < 4; i++) {
		o += (size_t)sprintf(f->p + o, "--%s\r\nContent-Disposition: "
		    "form-data; name=\"%s\"\r\n\r\n", f->boundary, names[i]);
		memcpy(f->p + o, v[i], vl[i]);
		o += vl[i];
		memcpy(f->p + o, "\r\n", 2);
		o += 2;
	}
	o += (size_t)sprintf(f->p + o, "--%s--\r\n", f->boundary);
	*len = o;
	return f->p;
}

void
ds_form_free(struct ds_form *f)
{
	free(f->p);
	f->p = NULL;
	f->cap = 0;
}
