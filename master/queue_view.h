/* queue_view.h: the master's picture of gearmand's queues, built from the
 * queue monitor's rounds (common/qmon_msg.h): per server whether it
 * answered, and for our functions the jobs queued and running and the
 * workers able to take them, with how long jobs have been waiting; per
 * server which of our workers it lists. A round is applied whole at its
 * Q_ROUND, so the rules (scale.c, stuck.c) never see half of one.
 *
 * The master trusts the monitor no more than the monitor trusts gearmand
 * (issue 16): a server has at most one row per function of ours (the last
 * one wins), a row of a function not ours is dropped, and worker rows are
 * capped, so what a round costs and what `metrics` shows is bounded by the
 * config, not by what a server sent. What was dropped is counted for one
 * log line a round. */
#ifndef DS_QUEUE_VIEW_H
#define DS_QUEUE_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "common/qmon_msg.h"

struct ds_qfunc {
	const char *name;	/* the view's copy of one of our functions */
	uint32_t fn;		/* its index in the view's functions */
	uint32_t total, running, available;
	int64_t waiting_since;	/* monotonic ms since total > running; 0 */
	int64_t acted_ms;	/* the last stuck replacement for it here */
};

struct ds_qworker {
	char *pool;
	int slot, pid;
};

struct ds_qlist {
	struct ds_qfunc *f;	/* room for one row per function of ours */
	size_t nf;
	uint32_t *at;		/* by function index: 1 + its row in f, or 0 */
	struct ds_qworker *w;
	size_t nw, capw;
};

enum ds_qstate { DS_Q_UNKNOWN = -1, DS_Q_DOWN = 0, DS_Q_UP = 1 };

struct ds_qserver {
	enum ds_qstate state, prev_state;
	int64_t state_since;	/* monotonic ms */
	char why[DS_QMSG_STR_MAX + 1];	/* when down */
	struct ds_qlist now;	/* the last round */
	struct ds_qlist next;	/* the round being received */
	enum ds_qstate next_state;	/* DS_Q_UNKNOWN: not in this round */
	char next_why[DS_QMSG_STR_MAX + 1];
	int changed;		/* the last round changed its state */
};

/* Rows dropped, over one round. */
struct ds_qdrops {
	uint64_t duplicates;	/* a second row of a function on a server */
	uint64_t unknown;	/* a function that is not ours */
	uint64_t over_cap;	/* worker rows past max_workers on a server */
};

struct ds_queue_view {
	struct ds_qserver *s;
	size_t ns;
	char **funcs;		/* ours: sorted, each once */
	size_t nfuncs;
	size_t max_workers;	/* worker rows a server may list */
	uint64_t rounds;
	int64_t round_ms;	/* when the last round was applied */
	struct ds_qdrops dropping;	/* the round being received */
	struct ds_qdrops dropped;	/* the last round applied */
};

/* 0, or -1 when out of memory (the view is then empty). It knows no
 * function yet: every row is dropped until ds_qview_set_ours(). */
int ds_qview_init(struct ds_queue_view *v, size_t nservers);
void ds_qview_free(struct ds_queue_view *v);

/* Our functions (any order, repeats allowed; copied) and how many worker
 * rows a server may list. Rows of functions still ours keep what they
 * carry (waiting time, the last action); the others go. Returns 0, or -1
 * when out of memory (the view then knows no function). */
int ds_qview_set_ours(struct ds_queue_view *v, const char *const *funcs,
    size_t nfuncs, size_t max_workers);

/* Takes one message of the monitor. Returns 1 when it completed a round,
 * 0 when it was taken (a row dropped, as above, counts as taken: it is
 * counted in dropping), -1 with why set when it makes no sense (a server
 * out of range, a row before its server). At a round's end dropping moves
 * to dropped. Costs O(log functions) a row, whatever the rows. */
int ds_qview_apply(struct ds_queue_view *v, const struct ds_qmsg *m,
    int64_t now, const char **why);

/* The row of function name on server i, or NULL; a binary search of our
 * functions, then an index. */
const struct ds_qfunc *ds_qview_func(const struct ds_queue_view *v,
    size_t i, const char *name);

#endif
