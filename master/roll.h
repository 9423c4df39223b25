/* roll.h: rolls each pool's workers to the master's version after an
 * upgrade in place (roll.c), at a bounded pace and without a job failed. */
#ifndef DS_ROLL_H
#define DS_ROLL_H

#include "master/master.h"

/* The loop's look at every pool: asks for a spare, hands a slot over,
 * says a stall or the end of a roll. */
void ds_roll_tick(struct ds_master *m, int64_t now);
/* When the loop is to look again (monotonic ms), 0 for no need: a roll
 * under way is looked at every DS_ROLL_LOOK_MS, for its workers tell the
 * master nothing. */
int64_t ds_roll_next_deadline(const struct ds_master *m);
/* Before an upgrade's exec: each spare, in no slot, leaves after its
 * job, and its pool asks for none until its next look. */
void ds_roll_drop_spares(struct ds_master *m);
/* A HUP or an upgrade: the pools whose roll stalled try again. */
void ds_roll_restart(struct ds_master *m);

#endif
