/* upgrade_state.h: the state an in-place upgrade hands from the old image
 * of the master to the new one (docs/operations.md, "Upgrading without a
 * stop"): a versioned, length-checked byte format, written into a sealed
 * memfd before the execve and read back after it.
 *
 * The reader treats the bytes as hostile: a state another binary wrote,
 * or one changed under it, must give a clear error and leave nothing
 * allocated, never a crash or a master that trusts a bad count. It checks
 * every count against a cap and the bytes left, every string's bound,
 * every enum, that each fd is plausible and named once, that pids are
 * unique, and that pools, slots and children agree with each other.
 *
 * Layout, all integers big-endian, strings as u32 length + bytes (no NUL):
 *   u32 magic "DSUP", u32 format version, u64 total length
 *   meta:     str from_version, i64 t0_ms
 *   "MAST":   u64 generation reloads reloads_failed, i64 started_wall_ms,
 *             u64 upgrades upgrades_failed, i32 pid_fd status_listen_fd,
 *             u64 spawn_first_pool
 *   "POOL":   u32 n, each: str name, u32 nslots, slots (i32 pid,
 *             i32 quick_deaths, i64 restart_at), 4 x u64 stats,
 *             i32 spawn_failures, i64 spawn_retry_at, u32 backlog,
 *             i64 zero_since
 *   "CHLD":   u32 n, each: i32 pid fd page_fd, u64 page_len, str pool,
 *             i32 slot last_slot, u32 state, i64 started_ms busy_since_ms
 *             job_seen_ms max_running_ms kill_at, u8 killed, str handle
 *             unique function version, u32 nfunctions, each: str name and
 *             its counts (u64 x 21), 16 x u64 http_seen, u64 jobs_seen
 *   "METR":   u32 n job series (str pool function, u64 x 4 outcomes,
 *             u64 x 14 buckets, u64 count, u64 sum_s's IEEE bits), then
 *             http_errors, starts, exits: u32 n, each str pool label,
 *             u64 count
 *   "STUK":   u32 n, each: i32 pid, u32 server, i64 since, u8 seen
 *   "QMON":   u8 present; when 1: i32 pid fd, i64 started_ms restart_at
 *             kill_at, i32 quick_deaths, u8 replace, u64 bad, u8 has_spec,
 *             str spec
 *   "STAT":   i32 listen_fd, u8 paused, i64 evict_at accept_after, u32 n
 *             clients, each: i32 fd, i64 deadline last_rx, str in (any
 *             bytes), u8 has_out, str out (any bytes), u64 outoff
 * An fd of -1 is "none" where the master allows it (pid file, listener,
 * a child's socketpair end, the queue monitor's socket). */
#ifndef DS_UPGRADE_STATE_H
#define DS_UPGRADE_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "master/master.h"
#include "master/status.h"

#define DS_UPGRADE_STATE_VERSION 1	/* what this binary writes */
#define DS_UPGRADE_STATE_MIN 1		/* the oldest it reads */
#define DS_UPGRADE_STATE_MAX_BYTES (256u << 20)

/* Caps the reader holds counts to, besides the bytes left. Pools: the
 * config sets no number, this is far past any sane one. Children: each
 * holds two fds below DS_UPGRADE_FD_LIMIT. */
#define DS_UPGRADE_MAX_POOLS 65536
#define DS_UPGRADE_MAX_CHILDREN (1 << 19)
#define DS_UPGRADE_MAX_SERIES (1 << 20)	/* each kind of metric series */
#define DS_UPGRADE_MAX_STUCK (1 << 20)
#define DS_UPGRADE_POOL_NAME_MAX 128	/* config/'s bound on a pool name */
#define DS_UPGRADE_LABEL_MAX 512	/* a metric's label value */
#define DS_UPGRADE_SPEC_MAX (1u << 20)	/* the queue monitor's spec */
#define DS_UPGRADE_PAGE_MAX (4u << 20)	/* a slot page's length */
#define DS_UPGRADE_FD_LIMIT (1 << 20)	/* an fd is >= 3 and below this */

struct ds_upgrade_meta {
	char from_version[DS_VERSION_MAX + 1];	/* the writer's DS_VERSION */
	int64_t t0_ms;		/* CLOCK_MONOTONIC ms (ds_now_ms) of the USR2 */
};

/* malloc'd encoding of m, st (listener + clients) and meta; NULL on ENOMEM */
unsigned char *ds_upgrade_state_encode(const struct ds_master *m,
    const struct ds_status *st, const struct ds_upgrade_meta *meta,
    size_t *len);
/* buf into a new memfd (MFD_CLOEXEC|MFD_ALLOW_SEALING), sealed
 * F_SEAL_SHRINK|F_SEAL_GROW|F_SEAL_WRITE|F_SEAL_SEAL; fd, or -1 errno */
int ds_upgrade_state_memfd(const unsigned char *buf, size_t len);
/* reads a whole state memfd: checks it is a memfd with those seals and a
 * size <= MAX_BYTES; 0 and a malloc'd *buf, or -1 with err */
int ds_upgrade_state_read_fd(int fd, unsigned char **buf, size_t *len,
    char *err, size_t errlen);
/* decodes into m, st, meta (the caller zeroes them first); 0, or -1 with
 * err naming what is wrong ("child 3: slot 7 past pool P's 4 slots") and
 * everything it allocated freed, the fields it fills zero again. Closes no
 * fd. Pools' cfg and children's page stay NULL, the pidmap and the queue
 * view empty: the caller links, maps and rebuilds them. */
int ds_upgrade_state_decode(const unsigned char *buf, size_t len,
    struct ds_master *m, struct ds_status *st, struct ds_upgrade_meta *meta,
    char *err, size_t errlen);
/* every fd the state names, each once: status listener and clients, pid
 * file, each child's fd and page_fd, the queue monitor's fd; malloc'd */
int *ds_upgrade_state_fds(const struct ds_master *m,
    const struct ds_status *st, size_t *n);
/* frees what decode allocated in m and st, the queue view too if the
 * caller filled it since (not fds, nor mapped pages) */
void ds_upgrade_state_free(struct ds_master *m, struct ds_status *st);

#endif
