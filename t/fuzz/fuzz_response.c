/* fuzz_response.c: libFuzzer harness for ds_response_parse()
 * (worker/response.h): an endpoint's HTTP body, any bytes. It must never
 * crash, leak or read past len, and its result must be consistent. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "worker/response.h"

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
	assert(rc == 0 || rc == -1);
	if (rc < 0 || !r.complete) {
		assert(r.data == NULL && r.len == 0);
		assert(memchr(r.reason, '\0', sizeof(r.reason)) != NULL);
		assert(r.reason[0] != '\0');
	} else {
		assert(r.data != NULL);
		assert(r.data[r.len] == '\0');
	}
	ds_response_free(&r);
	free(body);
	return 0;
}
