/* fuzz_admin.c: libFuzzer harness for the parsers of gearmand's admin
 * replies (common/admin.h): any bytes a server may send. Every field a
 * parser hands out must lie inside the input, and a reply either parser
 * accepts must be exactly one reply as ds_admin_reply_len() measures it. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/admin.h"

static const char *lo, *hi;

static void
inside(const char *p, size_t n)
{
	assert(n == 0 || (p >= lo && p + n <= hi));
}

static void
on_func(void *ctx, const struct ds_admin_func *f)
{
	(void)ctx;
	inside(f->name, f->name_len);
	assert(f->name_len > 0);
}

static void
on_worker(void *ctx, const struct ds_admin_worker *w)
{
	char pool[64];
	int slot, pid;

	(void)ctx;
	inside(w->id, w->id_len);
	inside(w->functions, w->functions_len);
	if (ds_admin_our_id(w->id, w->id_len, pool, sizeof(pool), &slot,
	    &pid) == 0)
		assert(slot >= 0 && pid > 0 && strlen(pool) < sizeof(pool));
	(void)ds_admin_has_function(w->functions, w->functions_len, "f");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);	/* exact size */
	const char *why;
	ssize_t n;
	int ok;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	lo = buf;
	hi = buf + size;
	n = ds_admin_reply_len(buf, size);
	assert(n >= -1 && n <= (ssize_t)size);
	why = NULL;
	ok = ds_admin_parse_status(buf, size, on_func, NULL, &why) == 0;
	assert(ok || why != NULL);
	why = NULL;
	ok |= ds_admin_parse_workers(buf, size, on_worker, NULL, &why) == 0;
	if (ok && size <= DS_ADMIN_LINE_MAX)
		assert(n == (ssize_t)size);
	free(buf);
	return 0;
}
