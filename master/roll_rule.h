/* roll_rule.h: the rule that rolls a pool's workers to the master's
 * version (roll.c applies it), a pure function of figures so that it is
 * tested without processes or servers. */
#ifndef DS_ROLL_RULE_H
#define DS_ROLL_RULE_H

#include <stdint.h>

/* Spares lost before they were up, in a row, before the roll stalls: a
 * worker binary that cannot start is not respawned for ever. */
#define DS_ROLL_MAX_FAILS 3
/* How often a pool with a roll under way is looked at: workers send the
 * master nothing, their slot pages are read when it looks. */
#define DS_ROLL_LOOK_MS 20
/* How often a pool is looked at whose only candidates are still
 * starting (their version is not known yet). */
#define DS_ROLL_SLOW_LOOK_MS 500
/* Descriptors the master holds per worker: its socketpair end and its
 * slot page's memfd (kept for an upgrade in place). */
#include "master/limits.h"

#define DS_ROLL_FDS_PER_WORKER DS_FDS_PER_WORKER	/* limits.h */

/* Where the pool's replacement worker is. */
enum ds_roll_spare {
	DS_SPARE_NONE,		/* none asked for */
	DS_SPARE_STARTING,	/* asked for, in flight, or not yet idle */
	DS_SPARE_UP,		/* idle or busy: it has taken work */
	DS_SPARE_LOST,		/* asked for, gone before it was handed a slot */
};

struct ds_roll_in {
	int stopping;		/* the master stops or drains */
	int stalled;		/* roll_stalled said; until a restart */
	int rolling;		/* roll_start said, roll_done not yet */
	int old;		/* workers in slots on another version (unknown
				 * included), those still starting excluded */
	int old_idle;		/* of those, idle: one may be retired now */
	int filling;		/* slots due a worker, and workers in slots
				 * still starting: the pool's own start */
	enum ds_roll_spare spare;
	int spare_current;	/* the spare says the master's version */
	int fails;		/* spares lost in a row so far */
	int room;		/* one more worker fits the fd and process budget */
	int64_t now, retry_at;	/* monotonic ms; no spare before retry_at */
};

enum ds_roll_act {
	DS_ROLL_WAIT,		/* nothing now */
	DS_ROLL_SPAWN,		/* ask for a spare */
	DS_ROLL_HANDOVER,	/* retire an idle old worker, its slot to the spare */
	DS_ROLL_STALL,		/* the spare is no better: retire it, stop */
	DS_ROLL_DROP_SPARE,	/* nothing left to replace: retire the spare */
	DS_ROLL_RETRY,		/* the spare was lost: back off, then again */
	DS_ROLL_DONE,		/* every worker in a slot is current */
};

enum ds_roll_act ds_roll_rule(const struct ds_roll_in *in);

/* 1 when one more worker fits: workers (the master's children and spawns
 * in flight) plus one, DS_ROLL_FDS_PER_WORKER descriptors each and the
 * reserve, within nofile descriptors, and within nproc processes
 * (UINT64_MAX: no limit; the queue monitor counts one). */
int ds_roll_room(uint64_t workers, uint64_t reserve, uint64_t nofile,
    uint64_t nproc);

const char *ds_roll_act_name(enum ds_roll_act a);

#endif
