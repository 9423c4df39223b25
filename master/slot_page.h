/* slot_page.h: the master's side of each worker's shared slot page
 * (common/slot.h): make one for a new worker, read it when the master
 * needs the worker's state, fold its counters into the pool's, drop it. */
#ifndef DS_SLOT_PAGE_H
#define DS_SLOT_PAGE_H

#include "master/master.h"

/* A slot page for a worker of p: mapped into c, and a memfd for the
 * worker to inherit (the caller closes it once the worker is forked).
 * Returns the fd, or -1 with errno set. */
int ds_slot_page_open(struct ds_child *c, const struct ds_pool *p);
/* Reads c's page: its state and job in hand into c, what it counted since
 * the last look into the pool's stats and the metrics. */
void ds_child_sync(struct ds_master *m, struct ds_child *c);
void ds_children_sync(struct ds_master *m);
/* When c, busy, is past its job's time and the grace period: the bounded
 * start plus both, INT64_MAX for never. */
int64_t ds_child_overdue_at(const struct ds_child *c);
/* After the last ds_child_sync() of a reaped child. */
void ds_slot_page_close(struct ds_child *c);

#endif
