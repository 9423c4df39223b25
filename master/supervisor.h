/* supervisor.h: the master's one poll loop. */
#ifndef DS_SUPERVISOR_H
#define DS_SUPERVISOR_H

#include "master/master.h"
#include "master/status.h"

/* Installs the signal handlers (they only set flags and wake the loop). */
int ds_signals_init(void);

/* Runs until a stop or drain has ended with every child reaped. */
void ds_supervise(struct ds_master *m, struct ds_status *st);

#endif
