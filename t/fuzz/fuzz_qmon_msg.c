/* fuzz_qmon_msg.c: libFuzzer harness for ds_qmsg_decode()
 * (common/qmon_msg.h): a packet from the queue monitor, any bytes.
 * Whenever decoding succeeds, encoding the result must give back exactly
 * the same bytes, but for the reserved header bytes 16-19: decoding
 * ignores them on purpose (see reserved_ignored in
 * t/unit/test_qmon_msg.c) and encoding writes 0. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/qmon_msg.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char out[DS_QMSG_MAX_SIZE];
	unsigned char *pkt = malloc(size ? size : 1);	/* exact size */
	const char *why = NULL;
	struct ds_qmsg m;
	size_t n;

	if (pkt == NULL)
		return 0;
	memcpy(pkt, data, size);
	if (ds_qmsg_decode(pkt, size, &m, &why) < 0) {
		assert(why != NULL);
		free(pkt);
		return 0;
	}
	assert(size <= DS_QMSG_MAX_SIZE);
	n = ds_qmsg_encode(&m, out);
	assert(n == size);
	memset(pkt + 16, 0, 4);
	assert(memcmp(out, pkt, size) == 0);
	(void)ds_qmsg_type_name(m.type);
	free(pkt);
	return 0;
}
