/* gm_proto.c: Gearman packets built and parsed (gm_proto.h). A packet is
 * a 12-byte header ("\0REQ" or "\0RES", type, size, both big-endian) and
 * its arguments separated by NUL bytes. */
#include "worker/gm_proto.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

static int
reserve(struct ds_gm_out *o, size_t more)
{
	size_t cap = o->cap ? o->cap : 4096;
	char *p;

	if (o->len + more <= o->cap)
		return 0;
	while (cap < o->len + more)
		cap *= 2;
	if ((p = realloc(o->data, cap)) == NULL)
		return -1;
	o->data = p;
	o->cap = cap;
	return 0;
}

static void
put32(char *p, uint32_t v)
{
	v = htonl(v);
	memcpy(p, &v, 4);
}

static uint32_t
get32(const char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return ntohl(v);
}

int
ds_gm_put(struct ds_gm_out *o, enum ds_gm_type type, size_t n,
    const char *const *args, const size_t *lens)
{
	size_t size = n ? n - 1 : 0;
	char *p;

	for (size_t i = 0; i < n; i++) {
		if (lens[i] > DS_GM_MAX_PACKET - size)
			return -1;
		size += lens[i];
	}
	if (reserve(o, DS_GM_HEADER + size) < 0)
		return -1;
	p = o->data + o->len;
	memcpy(p, "\0REQ", 4);
	put32(p + 4, (uint32_t)type);
	put32(p + 8, (uint32_t)size);
	p += DS_GM_HEADER;
	for (size_t i = 0; i < n; i++) {
		if (lens[i])
			memcpy(p, args[i], lens[i]);
		p += lens[i];
		if (i + 1 < n)
			*p++ = '\0';
	}
	o->len += DS_GM_HEADER + size;
	return 0;
}

void
ds_gm_out_compact(struct ds_gm_out *o)
{
	if (o->off == o->len) {
		o->off = o->len = 0;
		return;
	}
	memmove(o->data, o->data + o->off, o->len - o->off);
	o->len -= o->off;
	o->off = 0;
}

void
ds_gm_out_free(struct ds_gm_out *o)
{
	free(o->data);
	memset(o, 0, sizeof(*o));
}

/* How many NUL-separated arguments a response of this type carries: the
 * last one takes the rest of the packet, NUL bytes and all. */
static size_t
nargs_of(uint32_t type)
{
	switch (type) {
	case DS_GM_JOB_ASSIGN_UNIQ:
		return 4;
	case DS_GM_ERROR:
		return 2;
	case DS_GM_ECHO_RES:
		return 1;
	default:
		return 0;
	}
}

long
ds_gm_parse(const char *p, size_t len, struct ds_gm_packet *pk,
    size_t *need, const char **why)
{
	const char *a, *end, *nul;
	uint32_t size;

	*need = DS_GM_HEADER;
	if (len < DS_GM_HEADER)
		return 0;
	if (memcmp(p, "\0RES", 4) != 0) {
		*why = "not a gearman response (bad magic)";
		return -1;
	}
	if ((size = get32(p + 8)) > DS_GM_MAX_PACKET) {
		*why = "packet larger than 64 MiB";
		return -1;
	}
	*need = DS_GM_HEADER + (size_t)size;
	if (len < *need)
		return 0;
	memset(pk, 0, sizeof(*pk));
	pk->type = get32(p + 4);
	a = p + DS_GM_HEADER;
	end = a + size;
	for (size_t i = 0, n = nargs_of(pk->type); i < n; i++) {
		nul = i + 1 < n ? memchr(a, '\0', (size_t)(end - a)) : end;
		if (nul == NULL) {
			*why = "packet short of arguments";
			return -1;
		}
		pk->arg[i] = a;
		pk->arglen[i] = (size_t)(nul - a);
		pk->nargs++;
		a = nul < end ? nul + 1 : end;
	}
	return (long)*need;
}
