/* fuzz_upgrade_state.c: libFuzzer harness for the upgrade's state reader
 * (master/upgrade_state.h): the bytes an old image hands the new one,
 * any bytes. Each input is decoded as it is, then once more with its
 * length field saying its size, so that mutations get past the header.
 * Decoding must never crash or leak; a state it accepts must encode to
 * exactly the same bytes (the format has one spelling of each state),
 * and the fds it names must come out each once. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "master/upgrade_state.h"

static void
check_fds(const struct ds_master *m, const struct ds_status *st)
{
	size_t n;
	int *fds = ds_upgrade_state_fds(m, st, &n);

	assert(fds != NULL);
	for (size_t i = 0; i < n; i++) {
		assert(fds[i] >= 3);
		for (size_t k = 0; k < i; k++)
			assert(fds[k] != fds[i]);
	}
	free(fds);
}

static void
one(const unsigned char *data, size_t size)
{
	unsigned char *buf = malloc(size ? size : 1);	/* exact size */
	static struct ds_status st;
	struct ds_master m;
	struct ds_upgrade_meta meta;
	char err[256] = "";
	unsigned char *again;
	size_t len;

	assert(buf != NULL);
	memcpy(buf, data, size);
	memset(&m, 0, sizeof(m));
	memset(&st, 0, sizeof(st));
	memset(&meta, 0, sizeof(meta));
	if (ds_upgrade_state_decode(buf, size, &m, &st, &meta, err,
	    sizeof(err)) < 0) {
		assert(err[0] != '\0' && m.pools == NULL && m.children == NULL &&
		    st.nclients == 0 && m.queue == NULL);
		free(buf);
		return;
	}
	again = ds_upgrade_state_encode(&m, &st, &meta, &len);
	assert(again != NULL && len == size && memcmp(again, buf, size) == 0);
	check_fds(&m, &st);
	free(again);
	ds_upgrade_state_free(&m, &st);
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *fixed;

	one(data, size);
	if (size < 16 || (fixed = malloc(size)) == NULL)
		return 0;
	memcpy(fixed, data, size);
	for (int k = 0; k < 8; k++)
		fixed[15 - k] = (unsigned char)((uint64_t)size >> (8 * k));
	if (memcmp(fixed, data, size) != 0)
		one(fixed, size);
	free(fixed);
	return 0;
}
