/* master.h: the master's state: the config in force, one runtime record per
 * pool with its slots, and one table of every child process we have not
 * reaped yet (in a slot, or retired and finishing its job). */
#ifndef DS_MASTER_H
#define DS_MASTER_H

#include <stdint.h>
#include <sys/types.h>

#include "common/log.h"
#include "common/slot.h"
#include "config/config.h"
#include "master/metrics.h"
#include "master/options.h"
#include "master/pidmap.h"

#define DS_BACKOFF_WINDOW_MS 10000	/* a death sooner than this is quick */
#define DS_BACKOFF_MAX_MS 30000
#define DS_KILL_GRACE_MS 5000		/* past max_running_time, then KILL */
#define DS_EXEC_FAILED 127		/* a child's status when exec failed */
/* During a start, how often the loop still reads every slot page: a kill
 * deadline is seconds away, a look at 2,000 pages costs ms */
#define DS_SYNC_EVERY_MS 100
#define DS_VERSION_MAX 31	/* a version string, as DS_VERSION */
/* ds_child.slot of a roll's replacement (roll.c): a worker of its pool
 * in no slot yet, until an old worker's slot is handed to it */
#define DS_SLOT_SPARE 0x7fffffff

struct ds_pool_stats {
	uint64_t completed, failed, timed_out, answer_lost;
};

struct ds_slot {
	pid_t pid;		/* 0: no child in this slot */
	int quick_deaths;	/* children that died within the window */
	int64_t restart_at;	/* monotonic ms; when pid is 0 */
};

/* A pool's roll to the master's version (roll.c): its replacement worker
 * in hand, and whether the roll stalled (until the next HUP or upgrade). */
struct ds_pool_roll {
	int rolling;		/* roll_start logged, roll_done not yet */
	int stalled;		/* roll_stalled logged: no spare until restart */
	int want_spare;		/* the next spawn turn posts the spare */
	int spare_posted;	/* a spare was asked for and is not settled */
	int fails;		/* spares lost before they were up, in a row */
	int replaced;		/* workers handed over in this roll */
	int64_t started_ms;	/* monotonic: roll_start */
	int64_t retry_at;	/* monotonic: no spare before it */
	int64_t look_at;	/* monotonic: roll.c's next look; 0 none */
};

struct ds_pool_rt {
	char *name;
	const struct ds_pool *cfg;	/* points into ds_master.cfg */
	struct ds_slot *slots;
	int nslots;
	struct ds_pool_stats stats;
	int spawn_failures;	/* fork/socketpair/exec failures in a row */
	int64_t spawn_retry_at;	/* monotonic ms; no spawn before it */
	/* sized by the queue (master/scale.c) */
	uint32_t backlog;	/* at the last round */
	int64_t zero_since;	/* monotonic ms the backlog is 0 since; 0 */
	struct ds_pool_roll roll;
};

struct ds_child {
	pid_t pid;
	int fd;			/* our end of the socketpair, never read: the
				 * worker sees the master gone by its EOF */
	char *pool;
	int slot;		/* -1: retired, leaves after its job;
				 * DS_SLOT_SPARE: a roll's replacement */
	int last_slot;		/* the slot it had, for the log */
	enum ds_slot_state state;
	int64_t started_ms;	/* monotonic */
	/* monotonic, when state is BUSY: the page's claim, bounded to
	 * [started_ms, job_seen_ms] (slot_page.c) */
	int64_t busy_since_ms;
	int64_t job_seen_ms;	/* our first look at the job in hand; 0 */
	int64_t max_running_ms;
	int64_t kill_at;	/* monotonic; 0: no deadline */
	int killed;
	char handle[DS_SLOT_STR_MAX + 1];
	char unique[DS_SLOT_STR_MAX + 1];
	char function[DS_SLOT_STR_MAX + 1];
	/* its shared slot page (slot_page.c), always mapped; the memfd
	 * stays open so that an upgraded image maps it again */
	struct ds_slot_shm *page;
	int page_fd;
	size_t page_len;
	/* what the worker said it runs (its slot page); "" unknown */
	char version[DS_VERSION_MAX + 1];
	size_t nfunctions;
	char **functions;		/* what its counts are filed under */
	struct ds_fn_counts *seen;	/* counted so far, per function */
	uint64_t http_seen[DS_SLOT_HTTP_CODES];
	uint64_t jobs_seen;
};

enum ds_stopping { DS_RUNNING = 0, DS_STOP, DS_DRAIN };

struct ds_queue;	/* the queue monitor and its view (queue.h) */
struct ds_pending;	/* a spawn in the spawner's hands (spawn_turn.c) */
struct ds_stuck_rec;	/* a worker seen idle (stuck.h) */
struct ds_upgrade;	/* an upgrade under way (upgrade.c) */

struct ds_master {
	struct ds_master_opts *opts;
	struct ds_config cfg;
	uint64_t generation;
	struct ds_log_settings log;
	struct ds_pool_rt *pools;
	size_t npools;
	struct ds_child *children;
	size_t nchildren, cap_children;
	struct ds_pidmap pids;		/* pid -> index in children */
	enum ds_stopping stopping;
	int stop_signals;	/* how many stop/drain signals came */
	int64_t started_wall_ms;
	uint64_t reloads, reloads_failed;
	struct ds_metrics metrics;
	/* The one test seam of the master: every signal to a worker goes
	 * through children.c's signal_child(), which calls this when set
	 * (unit tests record the signals) and kill(2) when NULL. */
	int (*kill_fn)(pid_t, int);
	struct ds_queue *queue;		/* NULL: no queue view */
	struct ds_stuck_rec *stuck;	/* workers seen idle (stuck.c) */
	size_t nstuck, capstuck;
	/* a start is under way: the last turn left spawns in the spawner's
	 * hands (master/spawn_turn.c), and turns come one spawn apart */
	int starting;
	struct ds_pending *pending;	/* spawns in flight, oldest first */
	int npending;
	int64_t synced_ms;	/* the tick's last look at every slot page */
	/* in-place upgrades (upgrade.c): done and refused, over every
	 * image of this pid; the one under way, NULL none */
	uint64_t upgrades, upgrades_failed;
	struct ds_upgrade *upgrade;
	int hold_spawns;	/* an exec is next: post no new spawn */
	int status_listen_fd;	/* for the upgrade's hand-over; -1 */
	int pid_fd;		/* the pid file's, locked; -1 */
	size_t spawn_first_pool;	/* where the next turn's spawns begin */
};

#endif
