/* slot_page.c: the master's side of the shared slot pages (slot_page.h).
 * Each page is one worker's, and any process of the service user may
 * write it too (common/slot.h says what the master defends against and
 * what it does not). The master makes the page, seals its size, and reads
 * it as a packet from outside:
 * - counters: it keeps what it has counted already, so a look adds only
 *   what is new, and a page that goes backwards adds nothing;
 * - the job's start: believed only between the worker's spawn and the
 *   master's first look at that job (a new jobs_started), both times of
 *   its own, and never later than the start it believed at an earlier look
 *   at the same job. A start from the future cannot postpone the kill past
 *   that look plus max_running_time plus the grace, and one written after
 *   an honest look not even that far; a start from before the spawn cannot
 *   make an age the worker does not have. Clamping to "now" at each look
 *   would not do: the deadline would move with every look, and a frozen
 *   worker whose page says "the future" would never be killed. */
#include "master/slot_page.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/parse.h"
#include "master/table.h"

static void
free_names(struct ds_child *c)
{
	for (size_t i = 0; c->functions != NULL && i < c->nfunctions; i++)
		free(c->functions[i]);
	free(c->functions);
	free(c->seen);
	c->functions = NULL;
	c->seen = NULL;
}

/* The names counts are filed under: the pool may change before the
 * worker is gone. */
static int
copy_names(struct ds_child *c, const struct ds_pool *p)
{
	c->nfunctions = p->njobs;
	c->functions = calloc(p->njobs + 1, sizeof(*c->functions));
	c->seen = calloc(p->njobs + 1, sizeof(*c->seen));
	if (c->functions == NULL || c->seen == NULL)
		return -1;
	for (size_t i = 0; i < p->njobs; i++)
		if ((c->functions[i] = strdup(p->jobs[i])) == NULL)
			return -1;
	return 0;
}

int
ds_slot_page_open(struct ds_child *c, const struct ds_pool *p)
{
	size_t len = ds_slot_size(p->njobs);
	void *page;
	int fd;

	if (copy_names(c, p) < 0) {
		free_names(c);
		errno = ENOMEM;
		return -1;
	}
	/* sealed before any other process can see it: a shrink would kill
	 * the master with SIGBUS at its next look */
	if ((fd = memfd_create("driveshaft-slot", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING)) < 0 || ftruncate(fd, (off_t)len) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_SEAL) < 0 ||
	    (page = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
	    0)) == MAP_FAILED) {
		int saved = errno;

		if (fd >= 0)
			close(fd);
		free_names(c);
		errno = saved;
		return -1;
	}
	c->page = page;
	c->page_fd = fd;
	c->page_len = len;
	ds_slot_init(c->page, p->njobs);
	return fd;
}

void
ds_slot_page_close(struct ds_child *c)
{
	/* page_fd is only ever set with page: a zeroed record has no fd 0 */
	if (c->page != NULL) {
		munmap(c->page, c->page_len ? c->page_len :
		    ds_slot_size(c->nfunctions));
		if (c->page_fd >= 0)
			close(c->page_fd);
	}
	c->page = NULL;
	c->page_fd = -1;
	free_names(c);
}

static uint64_t
delta(uint64_t now, uint64_t *seen)
{
	uint64_t d = now >= *seen ? now - *seen : 0;

	*seen = now;
	return d;
}

static void
add_counts(struct ds_master *m, struct ds_child *c, struct ds_pool_rt *p)
{
	for (size_t i = 0; i < c->nfunctions; i++) {
		struct ds_fn_counts now, d;

		ds_slot_read_counts(c->page, i, &now);
		for (int k = 0; k <= DS_OUT_LAST; k++)
			d.outcome[k] = delta(now.outcome[k],
			    &c->seen[i].outcome[k]);
		for (int k = 0; k < DS_DURATION_NBUCKETS; k++)
			d.buckets[k] = delta(now.buckets[k], &c->seen[i].buckets[k]);
		d.count = delta(now.count, &c->seen[i].count);
		d.sum_ms = delta(now.sum_ms, &c->seen[i].sum_ms);
		if (d.count == 0)
			continue;
		ds_metrics_add(&m->metrics, c->pool, c->functions[i], &d);
		if (p == NULL)
			continue;
		p->stats.completed += d.outcome[DS_OUT_COMPLETE];
		p->stats.timed_out += d.outcome[DS_OUT_TIMEOUT];
		p->stats.answer_lost += d.outcome[DS_OUT_ANSWER_LOST];
		p->stats.failed += d.outcome[DS_OUT_FAIL] +
		    d.outcome[DS_OUT_ABORTED];
	}
}

static void
add_http(struct ds_master *m, struct ds_child *c)
{
	for (size_t i = 0; i < DS_SLOT_HTTP_CODES; i++) {
		uint64_t n;
		uint32_t code = ds_slot_read_http(c->page, i, &n);
		uint64_t d = delta(n, &c->http_seen[i]);

		if (code >= 100 && code <= 999 && d > 0)
			ds_metrics_http(&m->metrics, c->pool, code, d);
	}
}

/* a + b, or INT64_MAX past it: a deadline that far is never */
static int64_t
add_ms(int64_t a, int64_t b)
{
	int64_t sum;

	return __builtin_add_overflow(a, b, &sum) ? INT64_MAX : sum;
}

int64_t
ds_child_overdue_at(const struct ds_child *c)
{
	return add_ms(c->busy_since_ms, add_ms(c->max_running_ms,
	    DS_KILL_GRACE_MS));
}

/* The page's claim, between times the master saw itself. */
static int64_t
bound_start(int64_t claimed, int64_t spawned, int64_t seen)
{
	if (claimed < spawned)
		return spawned;
	return claimed > seen ? seen : claimed;
}

/* Returns 1 when v shows a job the master had not seen in hand. */
static int
take_view(struct ds_child *c, const struct ds_slot_view *v, int64_t now)
{
	int fresh = 0;
	int64_t start;

	c->state = v->state;
	if (v->state != DS_SLOT_BUSY) {
		c->handle[0] = c->unique[0] = c->function[0] = '\0';
		c->job_seen_ms = 0;
		return 0;
	}
	if (c->job_seen_ms == 0 || v->jobs_started != c->jobs_seen) {
		c->jobs_seen = v->jobs_started;
		c->job_seen_ms = now;
		fresh = 1;
	}
	start = bound_start(v->busy_since_ms, c->started_ms, c->job_seen_ms);
	/* a job's start only ever moves back: a worker writes it once per
	 * job, so a later one is a rewrite that would postpone the kill */
	if (fresh || start < c->busy_since_ms)
		c->busy_since_ms = start;
	memcpy(c->handle, v->handle, sizeof(c->handle));
	memcpy(c->unique, v->unique, sizeof(c->unique));
	strncpy(c->function, c->functions[v->function], sizeof(c->function) - 1);
	c->function[sizeof(c->function) - 1] = '\0';
	return fresh;
}

_Static_assert(DS_VERSION_MAX + 1 == DS_SLOT_VERSION_LEN,
    "a worker's version fits ds_child.version");

/* What the worker says it runs, once it said it: read from page_len, not
 * from this release's layout, for a page an older master made (after an
 * upgrade in place) has no room for it and stays "" (unknown). Read
 * before the state: the worker writes it before its first change. */
static void
read_version(struct ds_child *c)
{
	if (c->version[0] != '\0' || ds_slot_tail_parts(c->page_len,
	    c->nfunctions) != DS_SLOT_WITH_VERSION)
		return;
	(void)ds_slot_read_version(ds_slot_tail(c->page, c->nfunctions),
	    c->version, sizeof(c->version));
}

void
ds_child_sync(struct ds_master *m, struct ds_child *c)
{
	struct ds_slot_view v;

	add_counts(m, c, ds_pool_rt_find(m, c->pool));
	add_http(m, c);
	read_version(c);
	if (ds_slot_read(c->page, c->nfunctions, &v) < 0)
		return;		/* changing under us: the next look */
	/* retired while idle, then got a job: it has its time */
	if (take_view(c, &v, ds_now_ms()) && c->slot < 0)
		c->kill_at = ds_child_overdue_at(c);
}

void
ds_children_sync(struct ds_master *m)
{
	for (size_t i = 0; i < m->nchildren; i++)
		ds_child_sync(m, &m->children[i]);
}
