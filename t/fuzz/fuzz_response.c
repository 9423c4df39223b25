/* fuzz_response.c: libFuzzer harness for ds_response_parse()
 * (worker/response.h): an endpoint's HTTP body, any bytes. It must never
 * crash, leak or read past len, its result must be consistent, and it must
 * answer exactly as the parser it replaced (response_ref.c, which parsed
 * the whole body with cJSON) did. */
#include <assert.h>
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "worker/response.h"

int ds_response_parse_ref(const char *body, size_t len, struct ds_response *r);
void ds_response_free_ref(struct ds_response *r);

/* The old parser looked for a free NUL marker in the whole body, the new
 * one in each string it decodes: only the new one can get past this. */
#define NO_MARKER "response_string: too many NUL escapes and noncharacters " \
	"to decode"

/* The old parser (cJSON) took \u with a non-hex digit as a NUL and cut
 * the string; the new one calls such a body invalid. */
static int
bad_u_escape(const char *b, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++) {
		if (b[i] != '\\')
			continue;
		if (b[i + 1] == 'u')
			for (size_t k = i + 2; k < i + 6; k++)
				if (k >= n || !isxdigit((unsigned char)b[k]))
					return 1;
		i++;
	}
	return 0;
}

static void
same_as_before(const char *body, size_t size, int rc, const struct ds_response *r)
{
	struct ds_response old;
	int orc = ds_response_parse_ref(body, size, &old);

	if ((orc < 0 && strcmp(old.reason, NO_MARKER) == 0) ||
	    (rc < 0 && strcmp(r->reason, "response is not valid JSON") == 0 &&
	    bad_u_escape(body, size))) {
		ds_response_free_ref(&old);
		return;
	}
	assert(rc == orc);
	assert(r->complete == old.complete);
	assert(strcmp(r->reason, old.reason) == 0);
	assert(r->len == old.len);
	assert(r->len == 0 || memcmp(r->data, old.data, r->len) == 0);
	ds_response_free_ref(&old);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ds_response r;
	char *body = malloc(size ? size : 1);	/* exact size, no NUL */
	int rc;

	if (body == NULL)
		return 0;
	memcpy(body, data, size);
	rc = ds_response_parse(body, size, &r);
	memcpy(body, data, size);	/* the parser may rewrite it */
	assert(rc == 0 || rc == -1);
	if (rc < 0 || !r.complete) {
		assert(r.data == NULL && r.len == 0);
		assert(memchr(r.reason, '\0', sizeof(r.reason)) != NULL);
		assert(r.reason[0] != '\0');
	} else {
		assert(r.data != NULL);
		assert(r.data[r.len] == '\0');
	}
	same_as_before(body, size, rc, &r);
	ds_response_free(&r);
	free(body);
	return 0;
}
