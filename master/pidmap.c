/* pidmap.c: pid -> index (pidmap.h). */
#include "master/pidmap.h"

#include <stdint.h>
#include <stdlib.h>

#define NONE ((size_t)-1)

static size_t
home(const struct ds_pidmap *pm, pid_t pid)
{
	/* Fibonacci hashing: consecutive pids spread over the table */
	return (size_t)(((uint64_t)(uint32_t)pid * 11400714819323198485ull) >>
	    32) & (pm->cap - 1);
}

static size_t
find(const struct ds_pidmap *pm, pid_t pid)
{
	if (pm->cap == 0)
		return NONE;
	for (size_t i = home(pm, pid);; i = (i + 1) & (pm->cap - 1)) {
		if (pm->pids[i] == pid)
			return i;
		if (pm->pids[i] == 0)
			return NONE;
	}
}

static int
grow(struct ds_pidmap *pm)
{
	struct ds_pidmap big = {0};
	size_t cap = pm->cap ? pm->cap * 2 : 64;

	big.pids = calloc(cap, sizeof(*big.pids));
	big.idx = calloc(cap, sizeof(*big.idx));
	if (big.pids == NULL || big.idx == NULL) {
		ds_pidmap_free(&big);
		return -1;
	}
	big.cap = cap;
	for (size_t i = 0; i < pm->cap; i++)
		if (pm->pids[i] != 0)
			(void)ds_pidmap_put(&big, pm->pids[i], pm->idx[i]);
	ds_pidmap_free(pm);
	*pm = big;
	return 0;
}

int
ds_pidmap_put(struct ds_pidmap *pm, pid_t pid, size_t idx)
{
	size_t i;

	if (pid <= 0)
		return -1;
	if ((i = find(pm, pid)) != NONE) {
		pm->idx[i] = idx;
		return 0;
	}
	if (2 * (pm->n + 1) > pm->cap && grow(pm) < 0)
		return -1;
	for (i = home(pm, pid); pm->pids[i] != 0; i = (i + 1) & (pm->cap - 1))
		;
	pm->pids[i] = pid;
	pm->idx[i] = idx;
	pm->n++;
	return 0;
}

size_t
ds_pidmap_get(const struct ds_pidmap *pm, pid_t pid)
{
	size_t i = pid > 0 ? find(pm, pid) : NONE;

	return i == NONE ? NONE : pm->idx[i];
}

/* Whether the entry at j, whose home is h, may move into the hole at i. */
static int
may_fill(size_t i, size_t j, size_t h)
{
	return i <= j ? (h <= i || h > j) : (h <= i && h > j);
}

void
ds_pidmap_del(struct ds_pidmap *pm, pid_t pid)
{
	size_t i = pid > 0 ? find(pm, pid) : NONE, mask = pm->cap - 1;

	if (i == NONE)
		return;
	pm->pids[i] = 0;
	pm->n--;
	for (size_t j = (i + 1) & mask; pm->pids[j] != 0; j = (j + 1) & mask) {
		if (!may_fill(i, j, home(pm, pm->pids[j])))
			continue;
		pm->pids[i] = pm->pids[j];
		pm->idx[i] = pm->idx[j];
		pm->pids[j] = 0;
		i = j;
	}
}

void
ds_pidmap_free(struct ds_pidmap *pm)
{
	free(pm->pids);
	free(pm->idx);
	pm->pids = NULL;
	pm->idx = NULL;
	pm->cap = pm->n = 0;
}
