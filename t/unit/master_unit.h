/* master_unit.h: the set-up the unit tests of the master's process table
 * share (test_reload.c, test_supervise.c), header-only like unit.h:
 *
 *   ds_t_master_init(m, o)    a master without processes: quiet log,
 *                             loop_timeout 1 s, max_running_time 60 s, and
 *                             every signal to a worker recorded, not sent
 *   ds_t_sent, ds_t_nsent     the signals recorded, in order
 *   ds_t_was_sent(pid, sig)   whether that signal went to that pid
 *   ds_t_children_free(m)     the children's pages, names, table, pid map
 *                             and metrics freed */
#ifndef DS_T_MASTER_UNIT_H
#define DS_T_MASTER_UNIT_H

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "master/master.h"
#include "master/slot_page.h"

#define DS_T_SENT_MAX 64

static struct { pid_t pid; int sig; } ds_t_sent[DS_T_SENT_MAX];
static int ds_t_nsent;

static inline int
ds_t_record_kill(pid_t pid, int sig)
{
	ck_assert_int_lt(ds_t_nsent, DS_T_SENT_MAX);
	ds_t_sent[ds_t_nsent].pid = pid;
	ds_t_sent[ds_t_nsent++].sig = sig;
	return 0;
}

static inline int
ds_t_was_sent(pid_t pid, int sig)
{
	for (int i = 0; i < ds_t_nsent; i++)
		if (ds_t_sent[i].pid == pid && ds_t_sent[i].sig == sig)
			return 1;
	return 0;
}

static inline void
ds_t_master_init(struct ds_master *m, struct ds_master_opts *o)
{
	struct ds_log_settings quiet;

	ds_log_defaults(&quiet);
	quiet.to_stderr = 0;
	ds_log_open(&quiet);
	memset(m, 0, sizeof(*m));
	memset(o, 0, sizeof(*o));
	o->loop_timeout_ms = 1000;
	o->max_running_ms = 60000;
	m->opts = o;
	m->kill_fn = ds_t_record_kill;
	ds_t_nsent = 0;
}

static inline void
ds_t_children_free(struct ds_master *m)
{
	for (size_t i = 0; i < m->nchildren; i++) {
		ds_slot_page_close(&m->children[i]);
		free(m->children[i].pool);
	}
	free(m->children);
	ds_pidmap_free(&m->pids);
	ds_metrics_free(&m->metrics);
}

#endif
