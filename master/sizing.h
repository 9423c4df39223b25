/* sizing.h: the rule that sizes a pool by its queue (docs/config.md), a
 * pure function of figures so that it is tested without processes. */
#ifndef DS_SIZING_H
#define DS_SIZING_H

#include <stdint.h>

/* Growth per round: at least this many, half the pool when larger, never
 * more than the cap, so a spike of thousands of jobs does not fork
 * hundreds of workers at once and a large pool still catches up. */
#define DS_SCALE_STEP_MIN 4
#define DS_SCALE_STEP_MAX 64

struct ds_sizing_in {
	int current;		/* slots now */
	int min, max;
	uint32_t backlog;	/* queued minus running, over servers */
	int spare;		/* idle workers and those starting */
	int idle;		/* idle workers: a shrink retires only these */
	int64_t zero_since;	/* monotonic ms the backlog is 0 since; 0 */
	int64_t scale_down_after_ms;
	int64_t now;
};

enum ds_sizing_reason {
	DS_SIZE_KEEP,		/* no change */
	DS_SIZE_BOUNDS,		/* brought into [min, max] */
	DS_SIZE_BACKLOG,	/* grown: more queued than spare workers */
	DS_SIZE_IDLE,		/* one retired: no backlog for the cool-down */
};

/* The pool's new size and why. */
int ds_sizing(const struct ds_sizing_in *in, enum ds_sizing_reason *why);

/* When the backlog has been 0 since, given the last value and this
 * round's backlog. */
int64_t ds_sizing_zero_since(int64_t zero_since, uint32_t backlog,
    int64_t now);

const char *ds_sizing_reason_name(enum ds_sizing_reason why);

#endif
