/* upgrade_adopt.h: the new image's half of an upgrade in place
 * (upgrade_adopt.c); the old image's half is upgrade.h. */
#ifndef DS_UPGRADE_ADOPT_H
#define DS_UPGRADE_ADOPT_H

#include <stddef.h>

#include "master/master.h"
#include "master/status.h"

/* Reads the state in the memfd fd (closed) and takes over everything it
 * names: children, slot pages, pools, counters, the status listener and
 * its clients, the pid file, the queue monitor. m holds the options and
 * the config read from disk; st is set up here. 0, or -1 with err saying
 * what was wrong, and m and st as they were. */
int ds_upgrade_adopt(struct ds_master *m, struct ds_status *st, int fd,
    char *err, size_t errlen);

#endif
