/* stuck_rule.h: the rule that says when an idle worker is stuck (stuck.c
 * applies it), a pure function of times so that it is tested without
 * processes or servers. */
#ifndef DS_STUCK_RULE_H
#define DS_STUCK_RULE_H

#include <stdint.h>

struct ds_stuck_in {
	int64_t now;		/* monotonic ms */
	int64_t after_ms;	/* stuck_after; <= 0: the rule is off */
	int64_t waiting_since;	/* jobs of the function wait since; 0: none */
	int64_t acted_ms;	/* last replacement for the function; 0: none */
	int64_t idle_since;	/* the worker is idle and listed since */
};

/* 1 when the worker is to be replaced: jobs have waited stuck_after, the
 * worker has been idle and listed all that long, and no replacement for
 * the function happened in the last stuck_after (the new worker gets its
 * chance first). */
int ds_stuck_due(const struct ds_stuck_in *in);

#endif
