/* reload.h: what a SIGHUP changes in the pool records (reload.c). */
#ifndef DS_RELOAD_H
#define DS_RELOAD_H

#include "master/master.h"

/* Re-reads the jobs and log config; a bad one changes nothing. Returns 0
 * when applied. */
int ds_reload(struct ds_master *m);
/* The log settings o asks for, with stderr decided for this process. */
int ds_master_log_settings(const struct ds_master_opts *o,
    struct ds_log_settings *ls, char *err, size_t errlen, char *warn,
    size_t warnlen);

#endif
