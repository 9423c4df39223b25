/* upgrade.h: SIGUSR2, the old image's half of an upgrade in place
 * (upgrade.c); the new image's half is upgrade_adopt.h. */
#ifndef DS_UPGRADE_H
#define DS_UPGRADE_H

#include <stdint.h>
#include <sys/types.h>

#include "master/master.h"
#include "master/status.h"

/* The master's own argv, kept for the check and the exec. */
void ds_upgrade_set_args(int argc, char **argv);
/* A USR2: starts the check, or says why not (stopping, one under way). */
void ds_upgrade_request(struct ds_master *m);
/* 1 when pid was the check's (then acted on), 0 otherwise. */
int ds_upgrade_reaped(struct ds_master *m, pid_t pid, int status);
/* The check's deadline; the exec once it said yes and no spawn is out.
 * Returns only when there was nothing to do or the exec failed. */
void ds_upgrade_tick(struct ds_master *m, struct ds_status *st, int64_t now);
int64_t ds_upgrade_next_deadline(const struct ds_master *m);
void ds_upgrade_free(struct ds_master *m);

#endif
