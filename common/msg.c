/* msg.c: encoder and decoder of the worker-to-master messages (msg.h).
 * Layouts, all integers big-endian:
 * version 1 (a worker's state):
 *   u8 version, u8 type, u8 outcome, u8 reserved, u16 http_status,
 *   u16 reserved, u32 duration_ms, i64 start_ms, u32 reserved,
 *   then handle, unique, function, each as u16 length + bytes.
 * version 2 (the queue monitor's reports):
 *   u8 version, u8 type, u16 server, u32 a, u32 b, u32 c, u32 reserved,
 *   then text as u16 length + bytes.
 * The type decides the version: an old master keeps reading new workers,
 * which send nothing but version 1. */
#include "common/msg.h"

#include <string.h>

#define MSG_VERSION 1
#define MSG_VERSION_Q 2
#define HEADER_SIZE 24
#define HEADER_Q DS_MSG_V2_HEADER

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

static size_t
encode_q(const struct ds_msg *m, unsigned char *buf)
{
	memset(buf, 0, HEADER_Q);
	buf[0] = MSG_VERSION_Q;
	buf[1] = m->type;
	put16(buf + 2, m->server);
	put32(buf + 4, m->a);
	put32(buf + 8, m->b);
	put32(buf + 12, m->c);
	return HEADER_Q + put_str(buf + HEADER_Q, m->text);
}

size_t
ds_msg_encode(const struct ds_msg *m, unsigned char *buf)
{
	uint64_t start = (uint64_t)m->start_ms;
	size_t off = HEADER_SIZE;

	if (m->type > DS_MSG_LAST_V1)
		return encode_q(m, buf);

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

static int
decode_q(const unsigned char *buf, size_t len, struct ds_msg *m,
    const char **why)
{
	size_t off = HEADER_Q;

	if (len < HEADER_Q) {
		*why = "message shorter than its header";
		return -1;
	}
	if (buf[1] <= DS_MSG_LAST_V1 || buf[1] > DS_MSG_LAST) {
		*why = "unknown message type";
		return -1;
	}
	m->type = buf[1];
	m->server = get16(buf + 2);
	m->a = get32(buf + 4);
	m->b = get32(buf + 8);
	m->c = get32(buf + 12);
	if (get_str(buf, len, &off, m->text) < 0) {
		*why = "bad string field";
		return -1;
	}
	if (off != len) {
		*why = "trailing bytes after message";
		return -1;
	}
	return 0;
}

int
ds_msg_decode(const unsigned char *buf, size_t len, struct ds_msg *m,
    const char **why)
{
	size_t off = HEADER_SIZE;

	memset(m, 0, sizeof(*m));
	if (len >= 1 && buf[0] == MSG_VERSION_Q)
		return decode_q(buf, len, m, why);
	if (len < HEADER_SIZE) {
		*why = "message shorter than its header";
		return -1;
	}
	if (buf[0] != MSG_VERSION) {
		*why = "unknown message version";
		return -1;
	}
	if (buf[1] < DS_MSG_STARTING || buf[1] > DS_MSG_LAST_V1) {
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
	    "disconnected", "stopping", "q_server", "q_func", "q_worker",
	    "q_round"};

	if (type < DS_MSG_STARTING || type > DS_MSG_LAST)
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
