/* slot.h: the state a worker shares with its master through one page of
 * shared memory (a memfd the worker inherits as DS_WORKER_SHM_FD): what it
 * is doing, the job in hand, and its counters per function. The worker
 * writes; the master reads when it needs to (a status reply, a deadline, a
 * reap), so a job costs the master no wake-up.
 *
 * The master trusts nothing in it. The worker parses hostile bytes, and
 * other processes of the service user can write the page too: through
 * the worker's descriptor in /proc/PID/fd until it has mapped the page
 * and closed it, or through the worker's memory by ptrace. So the master:
 * - reads the job view under a seqlock it gives up on (ds_slot_read), so a
 *   writer stuck mid-change cannot hold it;
 * - bounds each field: the state to enum ds_slot_state, the function to its own
 *   list, strings to their buffers, the job's start to between the spawn
 *   and its first sighting of the job (master/slot_page.c), counters by
 *   what it has counted already (they never go back);
 * - seals the memfd's size before the spawn, so no one can shrink it under
 *   the master's mapping (a SIGBUS at its next look) or grow it.
 * It does not defend against a writer that lies within those bounds: the
 * page can claim idle while busy or stay mid-change (the master then keeps
 * its last view), show a new job at every look (each a fresh sighting with
 * its own max_running_time), or count jobs that never ran. Such a writer
 * already commands that worker and its job. The master's kill is for a
 * worker frozen or wedged, which writes nothing; the worker's own timer
 * fails a job that runs long; neither stops a live liar. */
#ifndef DS_SLOT_H
#define DS_SLOT_H

#include <stddef.h>
#include <stdint.h>

#define DS_SLOT_MAGIC 0x44535331u	/* "DSS1" */
#define DS_SLOT_VERSION 1
#define DS_DURATION_NBUCKETS 14		/* and +Inf, which is the count */
#define DS_SLOT_HTTP_CODES 16		/* distinct non-200 codes kept */
#define DS_SLOT_STR_MAX 512		/* a handle or unique kept */
#define DS_SLOT_VERSION_LEN 32		/* a worker's version, NUL included */

/* What the worker is doing, as it writes it in its page. The values are
 * the page's since version 1, where 4 meant a job just done, which no
 * worker writes any more: kept so that a master and the worker binary of
 * another release read each other's page alike. */
enum ds_slot_state {
	DS_SLOT_STARTING = 1,	/* process is up, not yet asking for work */
	DS_SLOT_IDLE = 2,	/* waiting for a job from gearmand */
	DS_SLOT_BUSY = 3,	/* a job is in hand: handle, unique, function */
	DS_SLOT_DISCONNECTED = 5,	/* gearmand unreachable; retrying */
	DS_SLOT_STOPPING = 6,	/* will take no new job */
};

/* "starting", "idle", ...; "?" for any other value. */
const char *ds_slot_state_name(int state);

/* How a job ended: the index of a function's outcome counters. */
enum ds_outcome {
	DS_OUT_COMPLETE = 0,	/* WORK_COMPLETE sent */
	DS_OUT_FAIL,		/* WORK_FAIL: the endpoint said no or misbehaved */
	DS_OUT_TIMEOUT,		/* WORK_FAIL: max_running_time reached */
	DS_OUT_ABORTED,		/* WORK_FAIL: stopped before the endpoint answered */
	DS_OUT_ANSWER_LOST,	/* the answer could not be sent to gearmand */
};
#define DS_OUT_LAST DS_OUT_ANSWER_LOST

const char *ds_outcome_name(int outcome);

/* Upper bounds of the duration buckets, in milliseconds. */
extern const uint32_t ds_duration_bucket_ms[DS_DURATION_NBUCKETS];

/* The bucket of a duration; DS_DURATION_NBUCKETS for +Inf only. */
int ds_duration_bucket(uint32_t ms);

struct ds_fn_counts {
	uint64_t outcome[DS_OUT_LAST + 1];	/* by enum ds_outcome */
	uint64_t buckets[DS_DURATION_NBUCKETS];	/* not cumulative */
	uint64_t count;
	uint64_t sum_ms;
};

struct ds_http_count {
	uint32_t code;			/* 0: unused */
	uint64_t count;
};

struct ds_slot_shm {
	uint32_t magic, version;
	uint32_t nfunctions;		/* the length of fn[] */
	uint32_t seq;			/* odd while the fields below change */
	uint32_t state;			/* enum ds_slot_state */
	uint32_t function;		/* index of the job's function */
	uint64_t jobs_started;
	int64_t busy_since_ms;		/* CLOCK_MONOTONIC, as ds_now_ms() */
	/* was busy_wall_ms, never read: kept as a hole so that the layout
	 * and the version stay, and a master running when the package is
	 * upgraded can still start the new worker binary */
	int64_t unused;
	char handle[DS_SLOT_STR_MAX + 1];
	char unique[DS_SLOT_STR_MAX + 1];
	struct ds_http_count http[DS_SLOT_HTTP_CODES];
	uint64_t http_other;		/* codes past the table */
	struct ds_fn_counts fn[];
};

/* What was added since version 1 follows fn[], so that the layout and the
 * version stay: a master running while the package is upgraded makes
 * pages without it, and the new worker binary it starts writes none. */
struct ds_slot_tail {
	uint64_t gearman_up;		/* bit i: the worker's server i answers */
	/* Since 0.1.0's upgrade in place: the worker's DS_VERSION, written
	 * once at its start under a seqlock of its own (version_seq 0: not
	 * written, odd: being written, else whole), so that the master can
	 * tell which workers run an old binary. A page made by an older
	 * master ends before version_seq: that worker writes none. */
	uint32_t version_seq;
	char version[DS_SLOT_VERSION_LEN];
};

/* What a page of len bytes for n functions holds past fn[]: a worker and
 * a master of another release may have made it with a shorter tail. */
enum ds_slot_parts {
	DS_SLOT_NO_TAIL = 0,	/* fn[] and nothing after it */
	DS_SLOT_SERVERS,	/* gearman_up only */
	DS_SLOT_WITH_VERSION,	/* the whole tail of this release */
};
enum ds_slot_parts ds_slot_tail_parts(size_t len, size_t nfunctions);

/* Worker: writes its version (cut to DS_SLOT_VERSION_LEN - 1 bytes) into a
 * page whose tail has DS_SLOT_WITH_VERSION. */
void ds_slot_write_version(struct ds_slot_tail *t, const char *version);
/* Master: the version in t as out (outlen bytes, at least 1): 0, or -1
 * and out "" when none is written yet, it is being written, or it is
 * not a version (empty, not NUL-terminated, or a byte other than a
 * letter, a digit or one of ".-_+~": a page anyone can write must not
 * put a space or a quote into a status line or a metric label). */
int ds_slot_read_version(const struct ds_slot_tail *t, char *out,
    size_t outlen);
/* Whether v[0..n) is a version by that rule (n > 0, those bytes only);
 * the upgrade state's reader holds the versions it carries to it too. */
int ds_version_text_ok(const char *v, size_t n);

/* Bytes of a slot for n functions, its tail included. */
size_t ds_slot_size(size_t nfunctions);
/* Bytes of a slot for n functions without a tail. */
size_t ds_slot_base_size(size_t nfunctions);
/* The tail of a page for n functions that is ds_slot_size(n) long. */
struct ds_slot_tail *ds_slot_tail(struct ds_slot_shm *s, size_t nfunctions);

/* Master: a fresh slot for n functions in memory of ds_slot_size(n). */
void ds_slot_init(struct ds_slot_shm *s, size_t nfunctions);

/* What the master reads of the job in hand: a consistent copy, strings
 * NUL-terminated, state one of the enum (IDLE for any other value). */
struct ds_slot_view {
	enum ds_slot_state state;
	uint32_t function;		/* < nfunctions when state is BUSY */
	uint64_t jobs_started;
	int64_t busy_since_ms;		/* as written: unbounded */
	char handle[DS_SLOT_STR_MAX + 1];
	char unique[DS_SLOT_STR_MAX + 1];
};

/* Copies the job view; -1 when the worker kept it changing (torn). */
int ds_slot_read(const struct ds_slot_shm *s, size_t nfunctions,
    struct ds_slot_view *v);
/* True when a copy made between two loads of seq, before and after, is
 * whole: no change was under way at the first (even) and none began
 * since (the same value; before + 2 is a whole change in between). */
int ds_slot_seq_whole(uint32_t before, uint32_t after);
/* Copies function i's counters (i < nfunctions of the master's own). */
void ds_slot_read_counts(const struct ds_slot_shm *s, size_t i,
    struct ds_fn_counts *out);

/* Non-200 HTTP status i of the table (i < DS_SLOT_HTTP_CODES): 0 when
 * unused; its count in *count. */
uint32_t ds_slot_read_http(const struct ds_slot_shm *s, size_t i,
    uint64_t *count);

/* Worker: the job view changes between begin and end. */
void ds_slot_begin(struct ds_slot_shm *s);
void ds_slot_end(struct ds_slot_shm *s);
/* Worker: counts a finished job of function i. */
void ds_slot_count(struct ds_slot_shm *s, uint32_t i, int outcome,
    int http_status, uint32_t duration_ms);

/* Master: the bits of the worker's servers that answer it (bit i: its
 * --server i, the i-th of gearman_servers_list), from a page for n
 * functions with a tail. */
uint64_t ds_slot_read_servers(const struct ds_slot_shm *s, size_t nfunctions);

#endif
