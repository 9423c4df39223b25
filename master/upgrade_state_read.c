/* upgrade_state_read.c: the reading side of the upgrade's state
 * (upgrade_state.h): the sealed memfd's bytes, and the readers of fields
 * for the decoder, which reads
 * them as hostile, field by field (upgrade_state_decode.c uses these
 * readers). Each field is bounded as it is read: counts by their
 * cap and by the bytes left (so that no count allocates more than the
 * input could fill), strings by their buffers and NUL-free, enums and
 * flags by their values, fds and times by their ranges. What needs the
 * whole state (fds named once, pids, slots against children) follows in
 * upgrade_state_check.c. */
#include "master/upgrade_state.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/slot.h"
#include "master/queue.h"
#include "master/stuck.h"
#include "master/upgrade_state_wire.h"

#define SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL)

static int
read_all(int fd, unsigned char *p, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = pread(fd, p + off, len - off, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

int
ds_upgrade_state_read_fd(int fd, unsigned char **buf, size_t *len,
    char *err, size_t errlen)
{
	struct stat sb;
	int seals = fcntl(fd, F_GET_SEALS);

	*buf = NULL;
	if (seals < 0 || (seals & SEALS) != SEALS) {
		snprintf(err, errlen, "fd %d is not a sealed memfd (%s)", fd,
		    seals < 0 ? strerror(errno) : "seals missing");
		return -1;
	}
	if (fstat(fd, &sb) < 0) {
		snprintf(err, errlen, "fd %d: %s", fd, strerror(errno));
		return -1;
	}
	if (!S_ISREG(sb.st_mode) || sb.st_size <= 0 ||
	    (uint64_t)sb.st_size > DS_UPGRADE_STATE_MAX_BYTES) {
		snprintf(err, errlen, "fd %d: size %lld is not 1 to %u bytes",
		    fd, (long long)sb.st_size, DS_UPGRADE_STATE_MAX_BYTES);
		return -1;
	}
	*len = (size_t)sb.st_size;
	if ((*buf = malloc(*len)) == NULL || read_all(fd, *buf, *len) < 0) {
		snprintf(err, errlen, "fd %d: %s", fd, *buf ? "short read" :
		    "out of memory");
		free(*buf);
		*buf = NULL;
		return -1;
	}
	return 0;
}

static int
need(struct us_reader *r, size_t n, const char *what)
{
	if (r->len - r->off >= n)
		return 0;
	return us_fail(r, "%s truncated at byte %zu (%zu bytes needed, %zu "
	    "left)", what, r->off, n, r->len - r->off);
}

static uint64_t
be(const unsigned char *p, int bytes)
{
	uint64_t v = 0;

	for (int i = 0; i < bytes; i++)
		v = v << 8 | p[i];
	return v;
}

static int
get_be(struct us_reader *r, int bytes, const char *what, uint64_t *v)
{
	if (need(r, (size_t)bytes, what) < 0)
		return -1;
	*v = be(r->b + r->off, bytes);
	r->off += (size_t)bytes;
	return 0;
}

int
us_get_u32(struct us_reader *r, const char *what, uint32_t *v)
{
	uint64_t x;

	if (get_be(r, 4, what, &x) < 0)
		return -1;
	*v = (uint32_t)x;
	return 0;
}

int
us_get_u64(struct us_reader *r, const char *what, uint64_t *v)
{
	return get_be(r, 8, what, v);
}

/* An i32 in [lo, hi]. */
int
us_get_int(struct us_reader *r, const char *what, int64_t lo, int64_t hi,
    int *v)
{
	uint32_t x;

	if (us_get_u32(r, what, &x) < 0)
		return -1;
	*v = (int32_t)x;
	if (*v < lo || *v > hi)
		return us_fail(r, "%s %d out of range %lld to %lld", what, *v,
		    (long long)lo, (long long)hi);
	return 0;
}

/* An i64 that is a monotonic or wall time, or 0: never negative. */
int
us_get_time(struct us_reader *r, const char *what, int64_t *v)
{
	uint64_t x;

	if (us_get_u64(r, what, &x) < 0)
		return -1;
	*v = (int64_t)x;
	if (*v < 0)
		return us_fail(r, "%s %lld is negative", what, (long long)*v);
	return 0;
}

int
us_get_flag(struct us_reader *r, const char *what, int *v)
{
	if (need(r, 1, what) < 0)
		return -1;
	*v = r->b[r->off++];
	if (*v > 1)
		return us_fail(r, "%s %d is not 0 or 1", what, *v);
	return 0;
}

int
us_get_fd(struct us_reader *r, const char *what, int none_ok, int *v)
{
	if (us_get_int(r, what, INT32_MIN, INT32_MAX, v) < 0)
		return -1;
	if (!us_fd_ok(*v, none_ok))
		return us_fail(r, "%s %d is not %sa descriptor from 3 to %d",
		    what, *v, none_ok ? "-1 or " : "", DS_UPGRADE_FD_LIMIT - 1);
	return 0;
}

/* A count of elements of at least min bytes each, at most cap. */
int
us_get_count(struct us_reader *r, const char *what, size_t cap, size_t min,
    size_t *n)
{
	uint32_t x;

	if (us_get_u32(r, what, &x) < 0)
		return -1;
	*n = x;
	if (*n > cap)
		return us_fail(r, "%s %zu past the cap of %zu", what, *n, cap);
	if (*n > (r->len - r->off) / min)
		return us_fail(r, "%s %zu cannot fit in the %zu bytes left",
		    what, *n, r->len - r->off);
	return 0;
}

/* Bytes of at most max; where they are in *p. */
int
us_get_span(struct us_reader *r, const char *what, size_t max,
    const unsigned char **p, size_t *n)
{
	uint32_t x;

	*p = NULL;
	*n = 0;
	if (us_get_u32(r, what, &x) < 0)
		return -1;
	if (x > max)
		return us_fail(r, "%s of %u bytes past %zu", what, x, max);
	if (need(r, x, what) < 0)
		return -1;
	*p = r->b + r->off;
	*n = x;
	r->off += x;
	return 0;
}

/* A string of at most max bytes, NUL-free, into dst[max + 1]. */
int
us_get_str(struct us_reader *r, const char *what, size_t max, char *dst)
{
	const unsigned char *p;
	size_t n;

	if (us_get_span(r, what, max, &p, &n) < 0)
		return -1;
	if (memchr(p, '\0', n) != NULL)
		return us_fail(r, "%s holds a NUL byte", what);
	memcpy(dst, p, n);
	dst[n] = '\0';
	return 0;
}

int
us_get_version(struct us_reader *r, const char *what, char *dst)
{
	if (us_get_str(r, what, DS_VERSION_MAX, dst) < 0)
		return -1;
	if (dst[0] != '\0' && !ds_version_text_ok(dst, strlen(dst)))
		return us_fail(r, "%s holds a byte other than a letter, a "
		    "digit or one of \".-_+~\"", what);
	return 0;
}

int
us_dup_str(struct us_reader *r, const char *what, size_t max, char **dst)
{
	char *s = malloc(max + 1);

	if (s == NULL)
		return us_fail(r, "%s: out of memory", what);
	if (us_get_str(r, what, max, s) < 0) {
		free(s);
		return -1;
	}
	*dst = realloc(s, strlen(s) + 1);
	if (*dst == NULL)
		*dst = s;
	return 0;
}

int
us_dup_nonempty(struct us_reader *r, const char *what, size_t max, char **dst)
{
	if (us_dup_str(r, what, max, dst) < 0)
		return -1;
	if (**dst == '\0')
		return us_fail(r, "%s is empty", what);
	return 0;
}

int
us_dup_pool_name(struct us_reader *r, const char *what, char **dst)
{
	if (us_dup_str(r, what, DS_UPGRADE_POOL_NAME_MAX, dst) < 0)
		return -1;
	if (!us_pool_name_ok(*dst))
		return us_fail(r, "%s is not a pool name", what);
	return 0;
}

int
us_expect_tag(struct us_reader *r, uint32_t tag, const char *name)
{
	uint32_t got;

	r->ctx[0] = '\0';
	if (us_get_u32(r, name, &got) < 0)
		return -1;
	if (got != tag)
		return us_fail(r, "section %s expected at byte %zu, found tag "
		    "0x%08x", name, r->off - 4, got);
	return 0;
}
