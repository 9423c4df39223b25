/* scale.h: applies the sizing rule (sizing.h) to the pools after each
 * round of the queue view, and to a reload that changes a pool's bounds. */
#ifndef DS_SCALE_H
#define DS_SCALE_H

#include "master/master.h"

void ds_scale_round(struct ds_master *m, int64_t now);
/* The size a pool resized by a reload gets: new_count for a fixed pool,
 * its current size within the new bounds for a queue-sized one, so that a
 * HUP touches no more workers than the bounds need. */
int ds_scale_reload_count(const struct ds_pool_rt *p, int new_count);

#endif
