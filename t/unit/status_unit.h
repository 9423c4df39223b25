/* status_unit.h: what test_status.c (threads, pools, replies, the HTTP
 * answer) and test_status_metrics.c (the metrics text) share: a master state
 * without any process, its children's states written in real slot pages
 * and read by the master's look, as the fixture setup()/teardown(), and
 *
 *   counted_job(...)       one finished job, through a real slot page
 *   run(fn, &len)          one formatter run into a fresh buffer
 *   metrics_reply          the `metrics` command's reply, as such a formatter
 *   reply_is(line, want)   the reply to a status-port line is exactly want */
#ifndef DS_T_STATUS_UNIT_H
#define DS_T_STATUS_UNIT_H

#include "master/children.h"
#include "master/status_reply.h"
#include "master/metrics.h"
#include "master/slot_page.h"
#include "master/status.h"

#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/parse.h"
#include "common/slot.h"

static struct ds_master m;
static struct ds_master_opts opts;
static struct ds_pool cfg[2];

/* A child with a real slot page (its one function Sum), in state st as
 * its worker writes it, and the master's look at it: a busy one has
 * handle, unique and function (Sum or none) in hand since now. */
static inline void
add_child(pid_t pid, const char *pool, int slot, int state,
    const char *handle, const char *unique, const char *function)
{
	static char *jobs[] = {"Sum"};
	struct ds_pool pc = {.jobs = jobs, .njobs = 1};
	struct ds_child *c;
	int fd;

	if (m.nchildren == m.cap_children) {
		m.cap_children = m.cap_children ? 2 * m.cap_children : 4;
		m.children = realloc(m.children,
		    m.cap_children * sizeof(*m.children));
		ck_assert_ptr_nonnull(m.children);
	}
	ck_assert_int_eq(ds_pidmap_put(&m.pids, pid, m.nchildren), 0);
	c = &m.children[m.nchildren++];
	memset(c, 0, sizeof(*c));
	c->pid = pid;
	c->fd = -1;
	c->pool = strdup(pool);
	c->slot = slot;
	c->state = DS_SLOT_STARTING;
	c->started_ms = ds_now_ms() - 3600000;	/* jobs may start back then */
	ck_assert_int_ge(fd = ds_slot_page_open(c, &pc), 0);
	close(fd);
	ck_assert(function[0] == '\0' || strcmp(function, "Sum") == 0);
	ds_slot_begin(c->page);
	c->page->state = (uint32_t)state;
	c->page->function = 0;
	c->page->jobs_started = state == DS_SLOT_BUSY;
	c->page->busy_since_ms = ds_now_ms();
	snprintf(c->page->handle, sizeof(c->page->handle), "%s", handle);
	snprintf(c->page->unique, sizeof(c->page->unique), "%s", unique);
	ds_slot_end(c->page);
	ds_child_sync(&m, c);
}

/* Child i's worker writes that its job began ago_ms back. */
static inline void
busy_for(size_t i, int64_t ago_ms)
{
	struct ds_child *c = &m.children[i];

	ds_slot_begin(c->page);
	c->page->busy_since_ms = ds_now_ms() - ago_ms;
	ds_slot_end(c->page);
	ds_child_sync(&m, c);
}

static inline void
add_pool(const char *name, struct ds_pool *pc, int nslots)
{
	struct ds_pool_rt *p;

	m.pools = realloc(m.pools, (m.npools + 1) * sizeof(*m.pools));
	ck_assert_ptr_nonnull(m.pools);
	p = &m.pools[m.npools++];
	memset(p, 0, sizeof(*p));
	p->name = strdup(name);
	p->cfg = pc;
	p->nslots = nslots;
	p->slots = calloc((size_t)nslots, sizeof(*p->slots));
	ck_assert_ptr_nonnull(p->slots);
}

/*
 * Pool Web (3 configured): slot 0 idle, slot 1 busy with a handle and a
 * unique full of control characters, slot 2 empty and backing off after
 * quick deaths. Pool Idle (1): a child still starting. One retired Web child
 * finishing its job. Web's longest job in hand has run 42.5 s.
 */
static inline void
setup(void)
{
	memset(&m, 0, sizeof(m));
	memset(cfg, 0, sizeof(cfg));
	m.opts = &opts;
	cfg[0].name = "Web";
	cfg[0].worker_count = cfg[0].min_workers = cfg[0].max_workers = 3;
	cfg[1].name = "Idle";
	/* sized by the queue: it is at 1, between 1 and 4 */
	cfg[1].queue_sized = 1;
	cfg[1].worker_count = cfg[1].min_workers = 1;
	cfg[1].max_workers = 4;
	add_pool("Web", &cfg[0], 3);
	add_pool("Idle", &cfg[1], 1);
	add_child(101, "Web", 0, DS_SLOT_IDLE, "", "", "");
	add_child(102, "Web", 1, DS_SLOT_BUSY, "H:host:1\n", "u\x01\tq\\\x7f",
	    "Sum");
	add_child(103, "Idle", 0, DS_SLOT_STARTING, "", "", "");
	add_child(104, "Web", -1, DS_SLOT_BUSY, "H:host:9", "r", "Sum");
	busy_for(1, 42500);
	busy_for(3, 1000);
	m.pools[0].slots[0].pid = 101;
	m.pools[0].slots[1].pid = 102;
	m.pools[0].slots[2].quick_deaths = 2;
	m.pools[0].slots[2].restart_at = 123456;
	m.pools[1].slots[0].pid = 103;
	m.pools[0].stats.completed = 5;
	m.pools[0].stats.failed = 2;
	m.pools[0].stats.timed_out = 1;
	m.pools[0].stats.answer_lost = 4;
	m.started_wall_ms = 1700000000123LL;
	m.generation = 2;
	m.reloads = 1;
}

static inline void
teardown(void)
{
	for (size_t i = 0; i < m.npools; i++) {
		free(m.pools[i].name);
		free(m.pools[i].slots);
	}
	free(m.pools);
	for (size_t i = 0; i < m.nchildren; i++) {
		ds_slot_page_close(&m.children[i]);
		free(m.children[i].pool);
	}
	free(m.children);
	ds_pidmap_free(&m.pids);
	ds_metrics_free(&m.metrics);
	memset(&m, 0, sizeof(m));
}
/* One finished job of pool's function, counted the way a worker counts
 * it: in a real slot page (ds_slot_count), read by the master's look
 * (ds_child_sync) into mt. A scratch master with no pools, so that only
 * the metrics see it. */
static inline void
counted_job(struct ds_metrics *mt, const char *pool, const char *function,
    int outcome, uint32_t duration_ms, int http_status)
{
	struct ds_master scratch;
	struct ds_child c;
	char *jobs[] = {(char *)function};
	struct ds_pool pc = {.name = (char *)pool, .jobs = jobs, .njobs = 1};
	int fd;

	memset(&scratch, 0, sizeof(scratch));
	memset(&c, 0, sizeof(c));
	scratch.metrics = *mt;
	c.pid = 1;
	c.fd = -1;
	c.pool = (char *)pool;
	c.slot = -1;
	c.started_ms = ds_now_ms();
	ck_assert_int_ge(fd = ds_slot_page_open(&c, &pc), 0);
	close(fd);
	ds_slot_count(c.page, 0, outcome, http_status, duration_ms);
	ds_child_sync(&scratch, &c);
	ds_slot_page_close(&c);
	*mt = scratch.metrics;
}

/* The `metrics` command's reply, as a (master, buffer) filler. */
static inline void
metrics_reply(struct ds_master *mm, struct ds_buf *b)
{
	size_t n;
	char *s = ds_status_reply(mm, "metrics", &n);

	ck_assert_ptr_nonnull(s);
	ds_buf_add(b, s, n);
	free(s);
}
/* Runs one formatter into a fresh buffer; the caller frees. */
static inline char *
run(void (*fn)(struct ds_master *, struct ds_buf *), size_t *len)
{
	struct ds_buf b = {0};
	char *s;

	fn(&m, &b);
	s = ds_buf_take(&b, len);
	ck_assert_ptr_nonnull(s);
	/* an empty buffer's bytes are not set (common/buf.c), so only a
	 * non-empty one is checked to be one C string of that length */
	if (*len > 0)
		ck_assert_uint_eq(strlen(s), *len);
	return s;
}

static inline void
reply_is(const char *line, const char *want)
{
	size_t len;
	char *got = ds_status_reply(&m, line, &len);

	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, want);
	ck_assert_uint_eq(len, strlen(want));
	free(got);
}

#endif
