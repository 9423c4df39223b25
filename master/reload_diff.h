/* reload_diff.h: what a reload changes, pool by pool (docs/operations.md). */
#ifndef DS_RELOAD_DIFF_H
#define DS_RELOAD_DIFF_H

#include <stddef.h>

#include "config/config.h"

enum ds_pool_change {
	DS_POOL_SAME,		/* keep its processes */
	DS_POOL_RESIZED,	/* start or stop only the difference */
	DS_POOL_REPLACED,	/* URI, jobs, servers, ...: new workers */
	DS_POOL_ADDED,
	DS_POOL_REMOVED,
};

struct ds_pool_diff {
	const char *name;	/* points into old or new config */
	enum ds_pool_change change;
	int old_count, new_count;
};

/* Fills out (room for old->npools + new->npools entries): new pools in the
 * new config's order, then removed ones. Returns the count. */
size_t ds_config_diff(const struct ds_config *old, const struct ds_config *new,
    struct ds_pool_diff *out);

const char *ds_pool_change_name(enum ds_pool_change change);

#endif
