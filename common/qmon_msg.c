/* qmon_msg.c: encoder and decoder of the queue monitor's reports
 * (qmon_msg.h). Layout, all integers big-endian:
 *   u8 version (2), u8 type, u16 server, u32 a, u32 b, u32 c,
 *   u32 reserved, then text as u16 length + bytes. */
#include "common/qmon_msg.h"

#include <string.h>

#define VERSION 2

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

size_t
ds_qmsg_encode(const struct ds_qmsg *m, unsigned char *buf)
{
	size_t n = strnlen(m->text, DS_QMSG_STR_MAX);

	memset(buf, 0, DS_QMSG_HEADER);
	buf[0] = VERSION;
	buf[1] = m->type;
	put16(buf + 2, m->server);
	put32(buf + 4, m->a);
	put32(buf + 8, m->b);
	put32(buf + 12, m->c);
	put16(buf + DS_QMSG_HEADER, (uint16_t)n);
	memcpy(buf + DS_QMSG_HEADER + 2, m->text, n);
	return DS_QMSG_HEADER + 2 + n;
}

/* The text: a length that fits what is left, no NUL, nothing after. */
static const char *
get_text(const unsigned char *buf, size_t len, char *out)
{
	size_t off = DS_QMSG_HEADER, n;

	if (len - off < 2)
		return "bad string field";
	n = get16(buf + off);
	off += 2;
	if (n > DS_QMSG_STR_MAX || len - off < n || memchr(buf + off, 0, n))
		return "bad string field";
	memcpy(out, buf + off, n);
	out[n] = '\0';
	if (off + n != len)
		return "trailing bytes after message";
	return NULL;
}

int
ds_qmsg_decode(const unsigned char *buf, size_t len, struct ds_qmsg *m,
    const char **why)
{
	memset(m, 0, sizeof(*m));
	if (len < DS_QMSG_HEADER) {
		*why = "message shorter than its header";
		return -1;
	}
	if (buf[0] != VERSION) {
		*why = "unknown message version";
		return -1;
	}
	if (buf[1] < DS_QMSG_FIRST || buf[1] > DS_QMSG_LAST) {
		*why = "unknown message type";
		return -1;
	}
	m->type = buf[1];
	m->server = get16(buf + 2);
	m->a = get32(buf + 4);
	m->b = get32(buf + 8);
	m->c = get32(buf + 12);
	*why = get_text(buf, len, m->text);
	return *why == NULL ? 0 : -1;
}

const char *
ds_qmsg_type_name(int type)
{
	static const char *names[] = {"q_server", "q_func", "q_worker",
	    "q_round"};

	if (type < DS_QMSG_FIRST || type > DS_QMSG_LAST)
		return "?";
	return names[type - DS_QMSG_FIRST];
}
