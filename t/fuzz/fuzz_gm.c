/* fuzz_gm.c: libFuzzer harness for ds_gm_parse() (worker/gm_proto.h):
 * bytes from a gearmand, any. Packets are read one after the other as the
 * worker reads them; each one parsed must lie within the bytes given, its
 * arguments within the packet, every argument but the last followed by a
 * NUL, and a short read must ask for more than it has. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "worker/gm_proto.h"

static void
check(const char *p, long n, const struct ds_gm_packet *pk)
{
	assert(n >= DS_GM_HEADER);
	for (size_t i = 0; i < pk->nargs; i++) {
		assert(pk->arg[i] >= p + DS_GM_HEADER);
		assert(pk->arg[i] + pk->arglen[i] <= p + n);
		if (i + 1 < pk->nargs)
			assert(pk->arg[i][pk->arglen[i]] == '\0');
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);	/* exact size */
	struct ds_gm_packet pk;
	const char *why = NULL;
	size_t off = 0, need;
	long n;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	while ((n = ds_gm_parse(buf + off, size - off, &pk, &need, &why)) > 0) {
		assert((size_t)n <= size - off);
		check(buf + off, n, &pk);
		off += (size_t)n;
	}
	if (n == 0)
		assert(need > size - off);
	else
		assert(why != NULL);
	free(buf);
	return 0;
}
