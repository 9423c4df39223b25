/* fuzz_response.c: libFuzzer harness for ds_response_parse() and
 * ds_response_parse_in_place() (worker/response.h): an endpoint's HTTP
 * body, any bytes. Invariants:
 *   - no crash, no leak, no read past len (ASan, UBSan);
 *   - the result is consistent: data and length only for a complete job,
 *     always a reason otherwise;
 *   - memory: the in-place parse allocates nothing, the copying one one
 *     buffer no larger than the body;
 *   - both parses agree;
 *   - strict JSON is a subset of what cJSON parses, so a body we take as
 *     JSON cJSON parses too, and its tree gives the same answer (cJSON
 *     cuts a string at \u0000: bodies with that escape skip this check,
 *     and the unit tests hold NULs). */
#include <assert.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <sanitizer/allocator_interface.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/text.h"
#include "worker/response.h"

#define NOT_JSON	"response is not valid JSON"

static size_t allocs, biggest;

static void
on_malloc(const volatile void *p, size_t n)
{
	(void)p;
	allocs++;
	biggest = n > biggest ? n : biggest;
}

static void
on_free(const volatile void *p)
{
	(void)p;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	__sanitizer_install_malloc_and_free_hooks(on_malloc, on_free);
	return 0;
}

/* The one top-level member named name; sets *dup when there are more. */
static const cJSON *
member(const cJSON *obj, const char *name, int *dup)
{
	const cJSON *found = NULL, *c;

	cJSON_ArrayForEach(c, obj) {
		if (strcmp(c->string, name) != 0)
			continue;
		if (found != NULL)
			*dup = 1;
		found = found ? found : c;
	}
	return found;
}

static int
valid_base64(const char *text)
{
	char *raw = ds_base64_decode(text, strlen(text), NULL);

	free(raw);
	return raw != NULL;
}

/* What the answer should be, read off cJSON's tree: the reason, or NULL
 * for a complete job. want_rc: 0 or -1. */
static const char *
expect(const cJSON *v, char *why, size_t n, int *want_rc)
{
	static const char *const names[] = {"gearman_ret", "response_string",
	    "response_encoding"};
	const cJSON *m[3];
	int dup;
	double d;

	*want_rc = -1;
	if (!cJSON_IsObject(v))
		return "response is JSON but not an object";
	for (int i = 0; i < 3; i++) {
		dup = 0;
		m[i] = member(v, names[i], &dup);
		if (dup) {
			snprintf(why, n, "response has more than one %s",
			    names[i]);
			return why;
		}
	}
	if (m[0] == NULL)
		return "response has no gearman_ret";
	if (!cJSON_IsNumber(m[0]))
		return "gearman_ret is not a number";
	d = m[0]->valuedouble;
	if (!isfinite(d) || floor(d) != d)
		return "gearman_ret is not an integer";
	if (d >= 9223372036854775808.0 || d <= -9223372036854775808.0)
		return "gearman_ret is out of range";
	if (m[1] == NULL)
		return "response has no response_string";
	if (!cJSON_IsString(m[1]))
		return "response_string is not a string";
	if (m[2] != NULL && (!cJSON_IsString(m[2]) ||
	    strcmp(m[2]->valuestring, "base64") != 0))
		return "response_encoding is not \"base64\"";
	if (m[2] != NULL && !valid_base64(m[1]->valuestring))
		return "response_string is not valid base64";
	*want_rc = 0;
	if (d == 0)
		return NULL;
	snprintf(why, n, "endpoint returned gearman_ret %lld", (long long)d);
	return why;
}

/* The complete job's bytes, as cJSON decoded them. */
static void
same_data(const cJSON *v, const struct ds_response *r)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(v, "response_string");
	const char *text = s->valuestring;
	size_t n = strlen(text);
	char *raw;
	size_t len;

	if (cJSON_GetObjectItemCaseSensitive(v, "response_encoding") == NULL) {
		assert(r->len == n && memcmp(r->data, text, n) == 0);
		return;
	}
	raw = ds_base64_decode(text, n, &len);
	assert(raw != NULL && r->len == len);
	assert(memcmp(r->data, raw, r->len) == 0);
	free(raw);
}

static void
as_cjson_says(const char *body, size_t size, int rc,
    const struct ds_response *r)
{
	const char *why;
	char buf[96];
	cJSON *v;
	int want_rc;

	if (strcmp(r->reason, NOT_JSON) == 0 ||
	    memmem(body, size, "\\u0000", 6) != NULL)
		return;
	if (size >= 3 && memcmp(body, "\xEF\xBB\xBF", 3) == 0) {
		body += 3;	/* cJSON skips it in longer bodies only */
		size -= 3;
	}
	v = cJSON_ParseWithLength(body, size);
	assert(v != NULL);
	why = expect(v, buf, sizeof(buf), &want_rc);
	assert(rc == want_rc);
	assert(r->complete == (why == NULL));
	if (why != NULL)
		assert(strcmp(r->reason, why) == 0);
	else
		same_data(v, r);
	cJSON_Delete(v);
}

static void
consistent(int rc, const struct ds_response *r)
{
	assert(rc == 0 || rc == -1);
	assert(memchr(r->reason, '\0', sizeof(r->reason)) != NULL);
	if (rc < 0 || !r->complete) {
		assert(r->data == NULL && r->len == 0 && !r->borrowed);
		assert(r->reason[0] != '\0');
		return;
	}
	assert(r->data != NULL);
	assert(r->data[r->len] == '\0');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ds_response r, in;
	char *body = malloc(size ? size : 1);	/* exact size, no NUL */
	int rc, irc;

	if (body == NULL)
		return 0;
	memcpy(body, data, size);
	allocs = biggest = 0;
	rc = ds_response_parse(body, size, &r);
	assert(allocs <= 1 && biggest <= size + 1);
	consistent(rc, &r);
	memcpy(body, data, size);	/* the parse decodes in it */
	allocs = 0;
	irc = ds_response_parse_in_place(body, size, &in);
	assert(allocs == 0);
	consistent(irc, &in);
	assert(irc == rc && in.complete == r.complete);
	assert(strcmp(in.reason, r.reason) == 0 && in.len == r.len);
	if (in.complete) {
		assert(in.borrowed && in.data >= body &&
		    in.data + in.len < body + size);
		assert(memcmp(in.data, r.data, r.len) == 0);
	}
	memcpy(body, data, size);
	as_cjson_says(body, size, rc, &r);
	ds_response_free(&in);
	ds_response_free(&r);
	free(body);
	return 0;
}
