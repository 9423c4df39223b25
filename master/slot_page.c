/* slot_page.c: the master's side of the shared slot pages (slot_page.h).
 * Each page is one worker's, written by it alone; the master keeps what
 * it has already counted of it, so a look adds only what is new, and a
 * page that goes backwards (a confused or hostile worker) adds nothing. */
#include "master/slot_page.h"

#include <errno.h>
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
	if ((fd = memfd_create("driveshaft-slot", MFD_CLOEXEC)) < 0 ||
	    ftruncate(fd, (off_t)len) < 0 ||
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
	ds_slot_init(c->page, p->njobs);
	return fd;
}

void
ds_slot_page_close(struct ds_child *c)
{
	if (c->page != NULL)
		munmap(c->page, ds_slot_size(c->nfunctions));
	c->page = NULL;
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

static void
take_view(struct ds_child *c, const struct ds_slot_view *v)
{
	c->state = v->state;
	if (v->state != DS_MSG_BUSY) {
		c->handle[0] = c->unique[0] = c->function[0] = '\0';
		return;
	}
	c->busy_since_ms = v->busy_since_ms;
	c->busy_wall_ms = v->busy_wall_ms;
	memcpy(c->handle, v->handle, sizeof(c->handle));
	memcpy(c->unique, v->unique, sizeof(c->unique));
	strncpy(c->function, c->functions[v->function], sizeof(c->function) - 1);
	c->function[sizeof(c->function) - 1] = '\0';
}

void
ds_child_sync(struct ds_master *m, struct ds_child *c)
{
	struct ds_slot_view v;

	if (c->page == NULL)
		return;		/* a child of a unit test: fields set by hand */
	add_counts(m, c, ds_pool_rt_find(m, c->pool));
	add_http(m, c);
	if (ds_slot_read(c->page, c->nfunctions, &v) < 0)
		return;		/* changing under us: the next look */
	take_view(c, &v);
	if (v.state == DS_MSG_BUSY && v.jobs_started != c->jobs_seen) {
		c->jobs_seen = v.jobs_started;
		/* retired while idle, then got a job: it has its time */
		if (c->slot < 0)
			c->kill_at = c->busy_since_ms + c->max_running_ms +
			    DS_KILL_GRACE_MS;
	}
}

void
ds_children_sync(struct ds_master *m)
{
	for (size_t i = 0; i < m->nchildren; i++)
		ds_child_sync(m, &m->children[i]);
}
