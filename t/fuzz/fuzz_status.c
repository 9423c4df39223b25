/* fuzz_status.c: libFuzzer harness for ds_status_reply() (master/status.h):
 * one command line of the status port, any bytes up to the first NUL (the
 * server hands it a C string). The master has one pool with a busy child
 * whose handle and unique come from the rest of the input, so that the
 * threads, pools and metrics replies escape untrusted text too. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/parse.h"
#include "master/slot_page.h"
#include "master/status_reply.h"
#include "master/table.h"

static void
check_reply(const char *out, size_t len)
{
	assert(out != NULL);
	assert(strlen(out) == len);
	/* a reply is empty (no pools) or ends a line */
	assert(len == 0 || (len >= 2 && out[len - 1] == '\n'));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ds_master zero;
	struct ds_master m;
	struct ds_pool cfg;
	struct ds_slot slot;
	struct ds_pool_rt pool;
	struct ds_child child;
	char *line = malloc(size + 1), *out, *rest;
	static char *jobs[] = {"fuzz"};
	size_t len, rlen, hl;
	int fd;

	assert(line != NULL);
	memcpy(line, data, size);
	line[size] = '\0';
	len = strlen(line);

	/* a zeroed master with no pools */
	memset(&m, 0, sizeof(m));
	out = ds_status_reply(&zero, line, &rlen);
	check_reply(out, rlen);
	free(out);

	/* one pool, one busy child: handle and unique from after the NUL */
	memset(&cfg, 0, sizeof(cfg));
	cfg.name = "fuzz";
	cfg.worker_count = 1;
	memset(&slot, 0, sizeof(slot));
	slot.pid = 4242;
	memset(&pool, 0, sizeof(pool));
	pool.name = "fuzz";
	pool.cfg = &cfg;
	pool.slots = &slot;
	pool.nslots = 1;
	memset(&child, 0, sizeof(child));
	child.pid = 4242;
	child.fd = -1;
	child.pool = "fuzz";
	child.slot = 0;
	child.state = DS_SLOT_STARTING;
	/* the worker's real page: the reply's look reads the job from it */
	cfg.jobs = jobs;
	cfg.njobs = 1;
	fd = ds_slot_page_open(&child, &cfg);
	assert(fd >= 0);
	close(fd);
	rest = len < size ? line + len + 1 : line + size;
	hl = strnlen(rest, DS_SLOT_STR_MAX);
	ds_slot_begin(child.page);
	child.page->state = DS_SLOT_BUSY;
	child.page->jobs_started = 1;
	child.page->busy_since_ms = ds_now_ms();
	memcpy(child.page->handle, rest, hl);
	child.page->handle[hl] = '\0';
	memcpy(child.page->unique, rest, hl + 1);
	child.page->unique[hl] = '\0';
	ds_slot_end(child.page);
	m.pools = &pool;
	m.npools = 1;
	m.children = &child;
	m.nchildren = m.cap_children = 1;
	assert(ds_pidmap_put(&m.pids, child.pid, 0) == 0);
	out = ds_status_reply(&m, line, &rlen);
	check_reply(out, rlen);
	if (strcmp(line, "threads") == 0)
		for (size_t i = 0; i + 1 < rlen; i++)
			assert((unsigned char)out[i] >= 0x20 ||
			    out[i] == '\t' ||
			    (out[i] == '\r' && out[i + 1] == '\n') ||
			    (out[i] == '\n' && i > 0 && out[i - 1] == '\r'));
	free(out);
	ds_slot_page_close(&child);
	ds_pidmap_free(&m.pids);
	ds_metrics_free(&m.metrics);
	free(line);
	return 0;
}
