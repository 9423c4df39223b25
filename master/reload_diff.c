/* reload_diff.c: compares two jobs configs pool by pool (reload_diff.h).
 * Anything a worker gets on its command line, other than the count, makes
 * the pool's workers stale, so the pool is replaced. */
#include "master/reload_diff.h"

#include <string.h>

static int
has_job(const struct ds_pool *p, const char *job)
{
	for (size_t i = 0; i < p->njobs; i++)
		if (strcmp(p->jobs[i], job) == 0)
			return 1;
	return 0;
}

static int
same_jobs(const struct ds_pool *a, const struct ds_pool *b)
{
	if (a->njobs != b->njobs)
		return 0;
	for (size_t i = 0; i < a->njobs; i++)
		if (!has_job(b, a->jobs[i]))
			return 0;
	return 1;
}

static int
same_servers(const struct ds_config *a, const struct ds_config *b)
{
	if (a->nservers != b->nservers)
		return 0;
	for (size_t i = 0; i < a->nservers; i++)
		if (strcmp(a->server_strs[i], b->server_strs[i]) != 0)
			return 0;
	return 1;
}

static int
same_str(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

static int
same_worker_args(const struct ds_pool *a, const struct ds_pool *b)
{
	return strcmp(a->uri, b->uri) == 0 && same_jobs(a, b) &&
	    same_str(a->unix_socket, b->unix_socket) &&
	    a->format == b->format && a->max_running_ms == b->max_running_ms &&
	    a->max_jobs_per_worker == b->max_jobs_per_worker &&
	    a->max_response_bytes == b->max_response_bytes;
}

size_t
ds_config_diff(const struct ds_config *old, const struct ds_config *new,
    struct ds_pool_diff *out)
{
	int servers_same = same_servers(old, new);
	size_t n = 0;

	for (size_t i = 0; i < new->npools; i++) {
		const struct ds_pool *np = &new->pools[i];
		const struct ds_pool *op = ds_config_pool(old, np->name);
		struct ds_pool_diff *d = &out[n++];

		d->name = np->name;
		d->new_count = np->worker_count;
		d->old_count = op ? op->worker_count : 0;
		if (op == NULL)
			d->change = DS_POOL_ADDED;
		else if (!servers_same || !same_worker_args(op, np))
			d->change = DS_POOL_REPLACED;
		else if (op->worker_count != np->worker_count ||
		    op->queue_sized != np->queue_sized ||
		    op->min_workers != np->min_workers ||
		    op->max_workers != np->max_workers)
			d->change = DS_POOL_RESIZED;
		else
			d->change = DS_POOL_SAME;
	}
	for (size_t i = 0; i < old->npools; i++) {
		const struct ds_pool *op = &old->pools[i];

		if (ds_config_pool(new, op->name) != NULL)
			continue;
		out[n].name = op->name;
		out[n].change = DS_POOL_REMOVED;
		out[n].old_count = op->worker_count;
		out[n].new_count = 0;
		n++;
	}
	return n;
}

const char *
ds_pool_change_name(enum ds_pool_change change)
{
	switch (change) {
	case DS_POOL_SAME:
		return "same";
	case DS_POOL_RESIZED:
		return "resized";
	case DS_POOL_REPLACED:
		return "replaced";
	case DS_POOL_ADDED:
		return "added";
	case DS_POOL_REMOVED:
		return "removed";
	}
	return "?";
}
