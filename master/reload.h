/* reload.h: the pools' runtime records and what a SIGHUP changes in them
 * (reload.c). */
#ifndef DS_RELOAD_H
#define DS_RELOAD_H

#include "master/master.h"

void ds_pools_start(struct ds_master *m);
void ds_pools_free(struct ds_master *m);
/* Re-reads the jobs and log config; a bad one changes nothing. Returns 0
 * when applied. */
int ds_reload(struct ds_master *m);
/* Starts or stops the difference; a shrink stops empty slots first, then
 * idle workers, then busy ones after their job. */
void ds_pool_resize(struct ds_master *m, struct ds_pool_rt *rt, int n);
/* The log settings o asks for, with stderr decided for this process. */
int ds_master_log_settings(const struct ds_master_opts *o,
    struct ds_log_settings *ls, char *err, size_t errlen, char *warn,
    size_t warnlen);

#endif
