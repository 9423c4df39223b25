/* table.c: lookups in the master's process table (table.h). Nothing here
 * starts or signals a process, so status replies and their fuzz target
 * need none of children.c. */
#include "master/table.h"

#include <stdlib.h>
#include <string.h>

int64_t
ds_pool_max_running_ms(const struct ds_master *m, const struct ds_pool *p)
{
	return p->max_running_ms ? p->max_running_ms : m->opts->max_running_ms;
}

struct ds_child *
ds_child_by_pid(struct ds_master *m, pid_t pid)
{
	size_t i = ds_pidmap_get(&m->pids, pid);

	/* every child is in the map: a spawn it cannot enter fails */
	if (i < m->nchildren && m->children[i].pid == pid)
		return &m->children[i];
	return NULL;
}

struct ds_pool_rt *
ds_pool_rt_find(struct ds_master *m, const char *name)
{
	for (size_t i = 0; i < m->npools; i++)
		if (m->pools[i].name && strcmp(m->pools[i].name, name) == 0)
			return &m->pools[i];
	return NULL;
}

int64_t
ds_pool_oldest_job_ms(const struct ds_master *m, const struct ds_pool_rt *p,
    int64_t now)
{
	int64_t oldest = 0;

	for (size_t i = 0; i < m->nchildren; i++) {
		const struct ds_child *c = &m->children[i];

		/* ds_child_sync bounds a page's start by the time of its
		 * look; a look after the caller's now counts as no age */
		if (c->state == DS_SLOT_BUSY && c->busy_since_ms <= now &&
		    now - c->busy_since_ms > oldest &&
		    strcmp(c->pool, p->name) == 0)
			oldest = now - c->busy_since_ms;
	}
	return oldest;
}

int
ds_pool_gauges(struct ds_master *m, const struct ds_pool_rt *p,
    int n[DS_WG_N])
{
	int running = 0;

	memset(n, 0, DS_WG_N * sizeof(n[0]));
	for (int s = 0; s < p->nslots; s++) {
		const struct ds_child *c = p->slots[s].pid ?
		    ds_child_by_pid(m, p->slots[s].pid) : NULL;

		if (c == NULL) {
			n[p->slots[s].quick_deaths >= 2 ? DS_WG_BACKOFF :
			    DS_WG_STARTING]++;
			continue;
		}
		running++;
		switch (c->state) {
		case DS_SLOT_STARTING:
			n[DS_WG_STARTING]++;
			break;
		case DS_SLOT_BUSY:
			n[DS_WG_BUSY]++;
			break;
		case DS_SLOT_DISCONNECTED:
			n[DS_WG_DISCONNECTED]++;
			break;
		case DS_SLOT_IDLE:
		case DS_SLOT_STOPPING:
			n[DS_WG_IDLE]++;
			break;
		}
	}
	return running;
}

const char *
ds_version_name(const char *version)
{
	return version[0] != '\0' ? version : "unknown";
}

static int
by_version(const void *a, const void *b)
{
	return strcmp(((const struct ds_version_count *)a)->version,
	    ((const struct ds_version_count *)b)->version);
}

/* Adds one worker of version v to the n distinct ones in vc. */
static void
count_version(struct ds_version_count *vc, size_t *n, const char *v)
{
	for (size_t k = 0; k < *n; k++)
		if (strcmp(vc[k].version, v) == 0) {
			vc[k].n++;
			return;
		}
	vc[*n].version = v;
	vc[(*n)++].n = 1;
}

struct ds_version_count *
ds_version_counts(const struct ds_master *m, const char *pool, size_t *n)
{
	struct ds_version_count *vc;

	*n = 0;
	if (m->nchildren == 0 ||
	    (vc = calloc(m->nchildren, sizeof(*vc))) == NULL)
		return NULL;
	for (size_t i = 0; i < m->nchildren; i++)
		if (pool == NULL || strcmp(m->children[i].pool, pool) == 0)
			count_version(vc, n,
			    ds_version_name(m->children[i].version));
	if (*n == 0) {
		free(vc);
		return NULL;
	}
	qsort(vc, *n, sizeof(*vc), by_version);
	return vc;
}
