/* fuzz_msg.c: libFuzzer harness for ds_msg_decode() (common/msg.h): a
 * packet from a worker, any bytes. Whenever decoding succeeds, encoding
 * the result must give back exactly the same bytes, but for the reserved
 * header bytes (version 1: 3, 6-7, 20-23; version 2: 16-19): decoding
 * ignores them on purpose (see reserved_bytes_ignored and
 * q_reserved_ignored in t/unit/test_msg.c) and encoding writes 0. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/msg.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char out[DS_MSG_MAX_SIZE];
	unsigned char *pkt = malloc(size ? size : 1);	/* exact size */
	const char *why = NULL;
	struct ds_msg m;
	size_t n;

	if (pkt == NULL)
		return 0;
	memcpy(pkt, data, size);
	if (ds_msg_decode(pkt, size, &m, &why) < 0) {
		assert(why != NULL);
		free(pkt);
		return 0;
	}
	assert(size <= DS_MSG_MAX_SIZE);
	n = ds_msg_encode(&m, out);
	assert(n <= DS_MSG_MAX_SIZE);
	assert(n == size);
	if (pkt[0] == 2) {
		memset(pkt + 16, 0, 4);
	} else {
		pkt[3] = pkt[6] = pkt[7] = 0;
		memset(pkt + 20, 0, 4);
	}
	assert(memcmp(out, pkt, size) == 0);
	(void)ds_msg_type_name(m.type);
	(void)ds_outcome_name(m.outcome);
	free(pkt);
	return 0;
}
