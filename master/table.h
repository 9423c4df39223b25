/* table.h: lookups in the master's process table (table.c). */
#ifndef DS_TABLE_H
#define DS_TABLE_H

#include "master/master.h"

int64_t ds_pool_max_running_ms(const struct ds_master *m,
    const struct ds_pool *p);
struct ds_child *ds_child_by_pid(struct ds_master *m, pid_t pid);
struct ds_pool_rt *ds_pool_rt_find(struct ds_master *m, const char *name);
/* Fills n with p's slots by state; returns how many have a process. */
int ds_pool_gauges(struct ds_master *m, const struct ds_pool_rt *p,
    int n[DS_WG_N]);
/* How long the longest job in hand of p's workers (retired ones too) has
 * run at now, by their bounded starts; 0 when none. */
int64_t ds_pool_oldest_job_ms(const struct ds_master *m,
    const struct ds_pool_rt *p, int64_t now);

/* A worker's version as the status port names it: "unknown" for "". */
const char *ds_version_name(const char *version);
/* The workers of pool (NULL: of every pool), in slots, spares and
 * retired alike, by the version they say, sorted by ds_version_name; *n
 * of them. NULL with *n 0 when there are none or memory ran out; free()
 * it. Valid until the table changes. */
struct ds_version_count *ds_version_counts(const struct ds_master *m,
    const char *pool, size_t *n);

#endif
