/* pools.h: the pool records and their sizes (pools.c). */
#ifndef DS_POOLS_H
#define DS_POOLS_H

#include "master/master.h"

/* Builds m->pools from m->cfg; a pool out of memory runs no slots. */
void ds_pools_start(struct ds_master *m);
void ds_pools_free(struct ds_master *m);
/* rt for cfg with cfg->worker_count empty slots; -1 out of memory (rt
 * then runs no slots). */
int ds_pool_rt_init(struct ds_pool_rt *rt, const struct ds_pool *cfg);
/* n slots: new ones empty, dropped ones cheapest first (pools.c). */
void ds_pool_resize(struct ds_master *m, struct ds_pool_rt *rt, int n);

#endif
