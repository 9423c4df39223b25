/* upgrade_state_wire.h: private to master/upgrade_state*.c: the format's
 * constants (upgrade_state.h describes the layout), and the reader's
 * cursor and the checks across sections it runs once all is read. */
#ifndef DS_UPGRADE_STATE_WIRE_H
#define DS_UPGRADE_STATE_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "master/master.h"
#include "master/status.h"

#define US_MAGIC 0x44535550u	/* "DSUP" */
#define US_HEADER 16		/* magic, version, total length */
#define US_TAG_MASTER 0x4d415354u	/* "MAST" */
#define US_TAG_POOLS 0x504f4f4cu	/* "POOL" */
#define US_TAG_CHILDREN 0x43484c44u	/* "CHLD" */
#define US_TAG_METRICS 0x4d455452u	/* "METR" */
#define US_TAG_STUCK 0x5354554bu	/* "STUK" */
#define US_TAG_QUEUE 0x514d4f4eu	/* "QMON" */
#define US_TAG_STATUS 0x53544154u	/* "STAT" */
#define US_NCOUNTS (DS_OUT_LAST + 1 + DS_DURATION_NBUCKETS + 2)

/* The least bytes one element takes, so that a count can never ask for
 * more memory than the bytes left could fill (an allocation in proportion
 * to the input, whatever the count says). */
#define US_MIN_POOL (4 + 1 + 4 + 32 + 4 + 8 + 4 + 8)
#define US_MIN_SLOT 16
#define US_MIN_CHILD (12 + 8 + 5 + 8 + 4 + 40 + 1 + 16 + 4 + 128 + 8)
#define US_MIN_FUNCTION (4 + 1 + 8 * US_NCOUNTS)
#define US_MIN_JOB_SERIES (10 + 8 * (6 + DS_METRICS_NBUCKETS))
#define US_MIN_COUNT_SERIES (4 + 1 + 4 + 8)
#define US_MIN_STUCK 17
#define US_MIN_CLIENT (4 + 16 + 4 + 1 + 4 + 8)

/* What was read and the master's state so far. */
struct us_reader {
	const unsigned char *b;
	size_t len, off;
	char *err;
	size_t errlen;
	char ctx[192];		/* "child 3", "pool web": prefixes errors */
};

/* The readers of one field (upgrade_state_read.c): each names what in
 * its error, advances r->off, and returns 0 or -1 with r->err. */
int us_get_u32(struct us_reader *r, const char *what, uint32_t *v);
int us_get_u64(struct us_reader *r, const char *what, uint64_t *v);
/* an i32 in [lo, hi] */
int us_get_int(struct us_reader *r, const char *what, int64_t lo, int64_t hi,
    int *v);
/* an i64 time: monotonic or wall ms, or 0; never negative */
int us_get_time(struct us_reader *r, const char *what, int64_t *v);
/* a u8 of 0 or 1 */
int us_get_flag(struct us_reader *r, const char *what, int *v);
/* an fd (us_fd_ok) */
int us_get_fd(struct us_reader *r, const char *what, int none_ok, int *v);
/* a u32 count <= cap of elements of at least min bytes: never more than
 * the bytes left could hold */
int us_get_count(struct us_reader *r, const char *what, size_t cap,
    size_t min, size_t *n);
/* u32 length + bytes of at most max, any bytes: where in *p */
int us_get_span(struct us_reader *r, const char *what, size_t max,
    const unsigned char **p, size_t *n);
/* a string of at most max bytes without NUL, into dst[max + 1] */
int us_get_str(struct us_reader *r, const char *what, size_t max, char *dst);
/* a version as DS_VERSION, held to the slot page's rule (letters, digits,
 * ".-_+~": it goes into log lines and metric labels), into
 * dst[DS_VERSION_MAX + 1]; may be empty */
int us_get_version(struct us_reader *r, const char *what, char *dst);
/* the same, malloc'd into *dst, which once set is the caller's to free,
 * on error too; then one that must not be empty; then a pool name */
int us_dup_str(struct us_reader *r, const char *what, size_t max,
    char **dst);
int us_dup_nonempty(struct us_reader *r, const char *what, size_t max,
    char **dst);
int us_dup_pool_name(struct us_reader *r, const char *what, char **dst);
/* a section's tag; clears r->ctx */
int us_expect_tag(struct us_reader *r, uint32_t tag, const char *name);

/* "ctx: " and the message into r->err; us_fail is -1 where the caller
 * (and the analyzer) sees it. */
void us_failv(struct us_reader *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
#define us_fail(...) (us_failv(__VA_ARGS__), -1)
/* A pool name as config/ allows one: 1-128 of letters, digits, _.:- */
int us_pool_name_ok(const char *s);
/* The checks across sections: fds named once, pids unique, pools, slots
 * and children agreeing. 0, or -1 with r->err. */
int us_check_whole(struct us_reader *r, const struct ds_master *m,
    const struct ds_status *st);
/* An fd the state may name: -1 when none is allowed, else >= 3 and below
 * DS_UPGRADE_FD_LIMIT. */
int us_fd_ok(int32_t fd, int none_ok);

#endif
