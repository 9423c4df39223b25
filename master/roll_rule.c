/* roll_rule.c: what a pool's roll does next (roll_rule.h). One spare per
 * pool at a time; it is handed a slot only once it is up and only in
 * exchange for an idle old worker, so the pool's workers in slots never
 * fall below its size; a spare that is no better than the workers it
 * should replace stops the roll instead of being respawned for ever. */
#include "master/roll_rule.h"

static enum ds_roll_act
with_spare_up(const struct ds_roll_in *in)
{
	if (!in->spare_current)
		return DS_ROLL_STALL;	/* the binary on disk is not ours */
	if (in->old == 0)
		return DS_ROLL_DROP_SPARE;
	return in->old_idle > 0 ? DS_ROLL_HANDOVER : DS_ROLL_WAIT;
}

enum ds_roll_act
ds_roll_rule(const struct ds_roll_in *in)
{
	if (in->stopping)
		return DS_ROLL_WAIT;	/* the stop retires the spare too */
	if (in->spare == DS_SPARE_LOST)
		return in->fails + 1 >= DS_ROLL_MAX_FAILS ? DS_ROLL_STALL :
		    DS_ROLL_RETRY;
	if (in->spare == DS_SPARE_UP)
		return in->stalled ? DS_ROLL_DROP_SPARE : with_spare_up(in);
	if (in->spare == DS_SPARE_STARTING || in->stalled)
		return DS_ROLL_WAIT;
	if (in->old == 0)
		return in->rolling ? DS_ROLL_DONE : DS_ROLL_WAIT;
	/* a spare while the pool fills would compete with its start, whose
	 * workers are of the binary on disk anyway */
	if (in->filling > 0 || in->now < in->retry_at || !in->room)
		return DS_ROLL_WAIT;
	return DS_ROLL_SPAWN;
}

int
ds_roll_room(uint64_t workers, uint64_t reserve, uint64_t nofile,
    uint64_t nproc)
{
	uint64_t need;

	/* past this, need x descriptors per worker + reserve overflows */
	if (workers >= (UINT64_MAX - reserve) / DS_ROLL_FDS_PER_WORKER)
		return 0;
	need = workers + 1;
	if (need * DS_ROLL_FDS_PER_WORKER + reserve > nofile)
		return 0;
	/* the queue monitor is a process of the master's too */
	return nproc == UINT64_MAX || need + 1 <= nproc;
}

const char *
ds_roll_act_name(enum ds_roll_act a)
{
	static const char *names[] = {"wait", "spawn", "handover", "stall",
	    "drop_spare", "retry", "done"};

	if ((int)a < 0 || a > DS_ROLL_DONE)
		return "?";
	return names[a];
}
