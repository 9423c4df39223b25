/* msg.c: encoder and decoder of the worker-to-master messages (msg.h).
 * Layout, all integers big-endian:
 *   u8 version, u8 type, u8 outcome, u8 reserved, u16 http_status,
 *   u16 reserved, u32 duration_ms, i64 start_ms, u32 reserved,
 *   then handle, unique, function, each as u16 length + bytes. */
#include "common/msg.h"

#include <string.h>

#define MSG_VERSION 1
#define HEADER_SIZE 24

static void
put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static void
put32(unsigned char *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint16_t
get16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static size_t
put_str(unsigned char *p, const char *s)
{
	size_t n = strnlen(s, DS_MSG_STR_MAX);

	put16(p, (uint16_t)n);
	memcpy(p + 2, s, n);
	return 2 + n;
}

size_t
ds_msg_encode(const struct ds_msg *m, unsigned char *buf)
{
	uint64_t start = (uint64_t)m->start_ms;
	size_t off = HEADER_SIZE;

	memset(buf, 0, HEADER_SIZE);
	buf[0] = MSG_VERSION;
	buf[1] = m->type;
	buf[2] = m->outcome;
	put16(buf + 4, m->http_status);
	put32(buf + 8, m->duration_ms);
	put32(buf + 12, (uint32_t)(start >> 32));
	put32(buf + 16, (uint32_t)start);
	off += put_str(buf + off, m->handle);
	off += put_str(buf + off, m->unique);
	off += put_str(buf + off, m->function);
	return off;
}

static int
get_str(const unsigned char *buf, size_t len, size_t *off, char *out)
{
	size_t n;

	if (len - *off < 2)
		return -1;
	n = get16(buf + *off);
	*off += 2;
	if (n > DS_MSG_STR_MAX || len - *off < n || memchr(buf + *off, 0, n))
		return -1;
	memcpy(out, buf + *off, n);
	out[n] = '\0';
	*off += n;
	return 0;
}

int
ds_msg_decode(const unsigned char *buf, size_t len, struct ds_msg *m,
    const char **why)
{
	size_t off = HEADER_SIZE;

	memset(m, 0, sizeof(*m));
	if (len < HEADER_SIZE) {
		*why = "message shorter than its header";
		return -1;
	}
	if (buf[0] != MSG_VERSION) {
		*why = "unknown message version";
		return -1;
	}
	if (buf[1] < DS_MSG_STARTING || buf[1] > DS_MSG_STOPPING) {
		*why = "unknown message type";
		return -1;
	}
	if (buf[2] > DS_OUT_LAST) {
		*why = "unknown job outcome";
		return -1;
	}
	m->type = buf[1];
	m->outcome = buf[2];
	m->http_status = get16(buf + 4);
	m->duration_ms = get32(buf + 8);
	m->start_ms = (int64_t)((uint64_t)get32(buf + 12) << 32 | get32(buf + 16));
	if (get_str(buf, len, &off, m->handle) < 0 ||
	    get_str(buf, len, &off, m->unique) < 0 ||
	    get_str(buf, len, &off, m->function) < 0) {
		*why = "bad string field";
		return -1;
	}
	if (off != len) {
		*why = "trailing bytes after message";
		return -1;
	}
	return 0;
}

const char *
ds_msg_type_name(int type)
{
	static const char *names[] = {"?", "starting", "idle", "busy", "done",
	    "disconnected", "stopping"};

	if (type < DS_MSG_STARTING || type > DS_MSG_STOPPING)
		return "?";
	return names[type];
}

const char *
ds_outcome_name(int outcome)
{
	static const char *names[] = {"complete", "fail", "timeout", "aborted",
	    "answer_lost"};

	if (outcome < 0 || outcome > DS_OUT_LAST)
		return "?";
	return names[outcome];
}
