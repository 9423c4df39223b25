/* queue_view.h: the master's picture of gearmand's queues, built from the
 * queue monitor's rounds (common/msg.h version 2): per server whether it
 * answered, and for our functions the jobs queued and running and the
 * workers able to take them, with how long jobs have been waiting; per
 * server which of our workers it lists. A round is applied whole at its
 * Q_ROUND, so the rules (scale.c, stuck.c) never see half of one. */
#ifndef DS_QUEUE_VIEW_H
#define DS_QUEUE_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "common/msg.h"

struct ds_qfunc {
	char *name;
	uint32_t total, running, available;
	int64_t waiting_since;	/* monotonic ms since total > running; 0 */
	int64_t acted_ms;	/* the last stuck replacement for it here */
};

struct ds_qworker {
	char *pool;
	int slot, pid;
};

struct ds_qlist {
	struct ds_qfunc *f;
	size_t nf, capf;
	struct ds_qworker *w;
	size_t nw, capw;
};

enum ds_qstate { DS_Q_UNKNOWN = -1, DS_Q_DOWN = 0, DS_Q_UP = 1 };

struct ds_qserver {
	enum ds_qstate state, prev_state;
	int64_t state_since;	/* monotonic ms */
	char why[DS_MSG_STR_MAX + 1];	/* when down */
	struct ds_qlist now;	/* the last round */
	struct ds_qlist next;	/* the round being received */
	enum ds_qstate next_state;	/* DS_Q_UNKNOWN: not in this round */
	char next_why[DS_MSG_STR_MAX + 1];
	int changed;		/* the last round changed its state */
};

struct ds_queue_view {
	struct ds_qserver *s;
	size_t ns;
	uint64_t rounds;
	int64_t round_ms;	/* when the last round was applied */
};

/* 0, or -1 when out of memory (the view is then empty). */
int ds_qview_init(struct ds_queue_view *v, size_t nservers);
void ds_qview_free(struct ds_queue_view *v);

/* Takes one message of the monitor. Returns 1 when it completed a round,
 * 0 when it was taken, -1 with why set when it makes no sense (a server
 * out of range, a row before its server). */
int ds_qview_apply(struct ds_queue_view *v, const struct ds_msg *m,
    int64_t now, const char **why);

/* The row of function name on server i, or NULL. */
const struct ds_qfunc *ds_qview_func(const struct ds_queue_view *v,
    size_t i, const char *name);

#endif
