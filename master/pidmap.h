/* pidmap.h: pid -> index in the process table, so that finding a child
 * costs the same with 10 workers or 10,000 (open addressing, linear
 * probing, deletion by backward shift: no tombstones to clean up). */
#ifndef DS_PIDMAP_H
#define DS_PIDMAP_H

#include <stddef.h>
#include <sys/types.h>

struct ds_pidmap {
	pid_t *pids;		/* 0: empty */
	size_t *idx;
	size_t cap, n;		/* cap a power of two, n < cap / 2 */
};

/* 0, or -1 when out of memory (the map is then unchanged). */
int ds_pidmap_put(struct ds_pidmap *pm, pid_t pid, size_t idx);
/* The index of pid, or (size_t)-1. */
size_t ds_pidmap_get(const struct ds_pidmap *pm, pid_t pid);
void ds_pidmap_del(struct ds_pidmap *pm, pid_t pid);
void ds_pidmap_free(struct ds_pidmap *pm);

#endif
