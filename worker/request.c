/* request.c: builds the JSON request body with cJSON (request.h). The form
 * body is built by libcurl's mime API in endpoint.c.
 *
 * A job's strings go into the tree as references and the tree is printed
 * into a buffer kept from job to job, so a body costs no allocation and no
 * copy of the workload beyond the one that NUL-terminates it. A job whose
 * text is all UTF-8 (nearly every one) reuses one tree made at start-up;
 * base64 values are written quoted into that same scratch buffer and go in
 * as raw references, which cJSON copies as they are. */
#include "worker/request.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "common/nelem.h"
#include "common/text.h"

/* Buffers grown past this are given back once jobs stop needing them. */
#define KEEP_BYTES	(64 * 1024)

enum { FUNCTION, HANDLE, UNIQUE, WORKLOAD, FIELDS };

static const char *const keys[FIELDS] = {
	[FUNCTION] = "function_name",
	[HANDLE] = "job_handle",
	[UNIQUE] = "unique",
	[WORKLOAD] = "workload",
};

static const char *const flag_keys[FIELDS] = {
	[FUNCTION] = "function_name_encoding",
	[HANDLE] = "job_handle_encoding",
	[UNIQUE] = "unique_encoding",
	[WORKLOAD] = "workload_encoding",
};

int
ds_workload_needs_base64(const struct ds_job_view *job)
{
	return !ds_utf8_valid(job->workload, job->workload_len);
}

/* The printed value's size at most: every byte of a string could become a
 * six-byte \u escape. */
#define STRING_BOUND(n)	(6 * (n) + 2)

static int
grow(struct ds_reqbuf *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 1024;
	char *p;

	b->need = need;
	if (need <= b->cap)
		return 0;
	while (cap < need)
		cap *= 2;
	free(b->p);	/* nothing in it is kept across a grow */
	if ((p = malloc(cap)) == NULL) {
		b->p = NULL;
		b->cap = 0;
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

/* Gives a buffer back when the last job used less than half of it (or
 * idle is set), unless it is small. */
static void
trim(struct ds_reqbuf *b, int idle)
{
	if (b->cap <= KEEP_BYTES || (!idle && 2 * b->need >= b->cap))
		return;
	free(b->p);
	b->p = NULL;
	b->cap = 0;
}

void
ds_request_trim(struct ds_request *rq, int idle)
{
	trim(&rq->body, idle);
	trim(&rq->text, idle);
}

static cJSON *
add_ref(cJSON *obj, const char *key, const char *value)
{
	cJSON *item = cJSON_CreateStringReference(value);

	if (item != NULL && !cJSON_AddItemToObjectCS(obj, key, item)) {
		cJSON_Delete(item);
		return NULL;
	}
	return item;
}

int
ds_request_init(struct ds_request *rq)
{
	memset(rq, 0, sizeof(*rq));
	if ((rq->tree = cJSON_CreateObject()) == NULL)
		return -1;
	for (int i = 0; i < FIELDS; i++)
		if ((rq->value[i] = add_ref(rq->tree, keys[i], "")) == NULL)
			return -1;
	return 0;
}

void
ds_request_free(struct ds_request *rq)
{
	cJSON_Delete(rq->tree);
	free(rq->body.p);
	free(rq->text.p);
	memset(rq, 0, sizeof(*rq));
}

/* Where each field's text goes in rq->text, and how big the body can be. */
struct layout {
	const char *src[FIELDS];
	size_t len[FIELDS];
	int base64[FIELDS];
	int any_base64;
	size_t text, body;
};

static void
plan(struct layout *l, const struct ds_job_view *job)
{
	const char *src[FIELDS] = {job->function, job->handle, job->unique,
	    job->workload};

	memset(l, 0, sizeof(*l));
	l->body = 80;	/* braces, commas, a NUL, cJSON's 5 spare bytes */
	for (int i = 0; i < FIELDS; i++) {
		l->src[i] = src[i];
		l->len[i] = i == WORKLOAD ? job->workload_len : strlen(src[i]);
		l->base64[i] = !ds_utf8_valid(src[i], l->len[i]);
		l->any_base64 |= l->base64[i];
		l->body += strlen(keys[i]) + 3;
		if (l->base64[i]) {
			/* quoted, NUL-terminated; and the flag member */
			l->text += DS_BASE64_LEN(l->len[i]) + 3;
			l->body += DS_BASE64_LEN(l->len[i]) + 2 +
			    strlen(flag_keys[i]) + 14;
		} else {
			l->body += STRING_BOUND(l->len[i]);
		}
	}
	/* the workload is not NUL-terminated in libgearman's buffer */
	if (!l->base64[WORKLOAD])
		l->text += l->len[WORKLOAD] + 1;
}

/* Fills rq->text and points value[] at each field's text in it (or at the
 * job's own C strings). */
static void
place(struct ds_request *rq, const struct layout *l, const char *value[])
{
	char *t = rq->text.p;

	for (int i = 0; i < FIELDS; i++) {
		value[i] = l->src[i];
		if (l->base64[i]) {
			value[i] = t;
			*t++ = '"';
			t += ds_base64_encode_to(t, l->src[i], l->len[i]);
			*t++ = '"';
			*t++ = '\0';
		} else if (i == WORKLOAD) {
			value[i] = t;
			memcpy(t, l->src[i], l->len[i]);
			t[l->len[i]] = '\0';
			t += l->len[i] + 1;
		}
	}
}

/* The tree of a job with base64 members: made for it, freed after. */
static cJSON *
tree_with_base64(const struct layout *l, const char *value[])
{
	cJSON *obj = cJSON_CreateObject();

	for (int i = 0; obj != NULL && i < FIELDS; i++) {
		cJSON *item = add_ref(obj, keys[i], value[i]);

		if (item == NULL || (l->base64[i] &&
		    add_ref(obj, flag_keys[i], "base64") == NULL)) {
			cJSON_Delete(obj);
			return NULL;
		}
		/* a raw item keeps the reference and const-key flags */
		if (l->base64[i])
			item->type = (item->type & ~0xFF) | cJSON_Raw;
	}
	return obj;
}

const char *
ds_request_build(struct ds_request *rq, const struct ds_job_view *job,
    size_t *len)
{
	const char *value[FIELDS];
	struct layout l;
	cJSON *tree = rq->tree;
	int ok;

	plan(&l, job);
	if (l.body > INT_MAX || grow(&rq->text, l.text + 1) < 0 ||
	    grow(&rq->body, l.body) < 0)
		return NULL;
	place(rq, &l, value);
	if (l.any_base64) {
		if ((tree = tree_with_base64(&l, value)) == NULL)
			return NULL;
	} else {
		/* references: cJSON neither copies nor frees these */
		for (int i = 0; i < FIELDS; i++)
			rq->value[i]->valuestring = (char *)value[i];
	}
	ok = cJSON_PrintPreallocated(tree, rq->body.p, (int)rq->body.cap, 0);
	if (tree != rq->tree)
		cJSON_Delete(tree);
	if (!ok)
		return NULL;
	*len = strlen(rq->body.p);
	return rq->body.p;
}

char *
ds_request_json(const struct ds_job_view *job)
{
	struct ds_request rq;
	const char *body = NULL;
	char *out = NULL;
	size_t len;

	if (ds_request_init(&rq) == 0)
		body = ds_request_build(&rq, job, &len);
	if (body != NULL)
		out = strdup(body);
	ds_request_free(&rq);
	return out;
}
