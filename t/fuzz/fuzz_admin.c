/* fuzz_admin.c: libFuzzer harness for the parsers of gearmand's admin
 * replies (common/admin.h): any bytes a server may send. Every field a
 * parser hands out must lie inside the input, and a reply either parser
 * accepts must be exactly one reply as ds_admin_reply_len() measures it.
 *
 * Then the master's side (master/queue_view.h), which trusts the monitor
 * no more than the monitor trusts gearmand: every row parsed goes through
 * the wire format (common/qmon_msg.h) into a queue view as a monitor gone
 * wrong would send it, duplicates and functions not ours included, over
 * two rounds with a reload between; then the same bytes as a stream of
 * packets of any type. After each round the view holds at most one row
 * per (server, function of ours), each found by ds_qview_func(), and at
 * most max_workers worker rows a server. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/admin.h"
#include "common/qmon_msg.h"
#include "master/queue_view.h"

#define NSERVERS 2
#define MAX_WORKERS 3
#define NOURS 6		/* "f", "g" and the first names the input lists */

static const char *lo, *hi;

/* The master's side of one input: the view, our functions, the round. */
static struct {
	struct ds_queue_view v;
	char ours[NOURS][DS_QMSG_STR_MAX + 1];
	const char *ours_p[NOURS];
	size_t nours;
	size_t row;		/* rows sent, to spread them over servers */
} ms;

static void
inside(const char *p, size_t n)
{
	assert(n == 0 || (p >= lo && p + n <= hi));
}

/* Through the wire and into the view, as the master takes a message. */
static int
send_view(struct ds_qmsg *m)
{
	unsigned char pkt[DS_QMSG_MAX_SIZE];
	struct ds_qmsg d;
	const char *why = NULL;
	size_t n = ds_qmsg_encode(m, pkt);
	int rc;

	assert(ds_qmsg_decode(pkt, n, &d, &why) == 0);
	rc = ds_qview_apply(&ms.v, &d, (int64_t)ms.row, &why);
	assert(rc >= 0 || why != NULL);
	return rc;
}

static void
send_row(int type, const char *text, size_t len, uint32_t a, uint32_t b,
    uint32_t c)
{
	struct ds_qmsg m;

	memset(&m, 0, sizeof(m));
	m.type = (uint8_t)type;
	/* server 2 is out of range: refused, not stored */
	m.server = (uint16_t)(ms.row++ % (NSERVERS + 1));
	m.a = a;
	m.b = b;
	m.c = c;
	if (len > DS_QMSG_STR_MAX)
		len = DS_QMSG_STR_MAX;
	memcpy(m.text, text, len);
	send_view(&m);
}

static void
on_func(void *ctx, const struct ds_admin_func *f)
{
	inside(f->name, f->name_len);
	assert(f->name_len > 0);
	if (ctx != NULL)
		send_row(DS_QMSG_FUNC, f->name, f->name_len, f->total,
		    f->running, f->available);
}

static void
on_worker(void *ctx, const struct ds_admin_worker *w)
{
	char pool[64];
	int slot, pid;

	inside(w->id, w->id_len);
	inside(w->functions, w->functions_len);
	if (ds_admin_our_id(w->id, w->id_len, pool, sizeof(pool), &slot,
	    &pid) == 0) {
		assert(slot >= 0 && pid > 0 && strlen(pool) < sizeof(pool));
		if (ctx != NULL)
			send_row(DS_QMSG_WORKER, pool, strlen(pool),
			    (uint32_t)slot, (uint32_t)pid, 0);
	}
	(void)ds_admin_has_function(w->functions, w->functions_len, "f");
}

/* Our functions: "f", "g", then the first names of the status lines. */
static void
pick_ours(void *ctx, const struct ds_admin_func *f)
{
	size_t len = f->name_len > DS_QMSG_STR_MAX ? DS_QMSG_STR_MAX :
	    f->name_len;

	(void)ctx;
	if (ms.nours == NOURS || memchr(f->name, '\0', len) != NULL)
		return;
	memcpy(ms.ours[ms.nours], f->name, len);
	ms.ours[ms.nours][len] = '\0';
	ms.ours_p[ms.nours] = ms.ours[ms.nours];
	ms.nours++;
}

/* What the master may keep, whatever it was sent. */
static void
check_view(const struct ds_queue_view *v)
{
	for (size_t i = 0; i < v->ns; i++) {
		const struct ds_qlist *l = &v->s[i].now;

		assert(l->nf <= v->nfuncs && l->nw <= v->max_workers);
		if (v->s[i].state != DS_Q_UP)
			assert(l->nf == 0 && l->nw == 0);
		for (size_t j = 0; j < l->nf; j++) {
			const struct ds_qfunc *f = &l->f[j];

			assert(f->fn < v->nfuncs && f->name == v->funcs[f->fn]);
			assert(l->at[f->fn] == j + 1);
			assert(ds_qview_func(v, i, f->name) == f);
		}
	}
	for (size_t k = 1; k < v->nfuncs; k++)
		assert(strcmp(v->funcs[k - 1], v->funcs[k]) < 0);
}

static void
round_of(const char *buf, size_t size, int down)
{
	struct ds_qmsg m;
	const char *why;

	for (uint16_t i = 0; i < NSERVERS; i++) {
		memset(&m, 0, sizeof(m));
		m.type = DS_QMSG_SERVER;
		m.server = i;
		m.a = !(down && i == 1);
		snprintf(m.text, sizeof(m.text), "%s", m.a ? "" : "down");
		assert(send_view(&m) == 0);
	}
	(void)ds_admin_parse_status(buf, size, on_func, &ms, &why);
	(void)ds_admin_parse_workers(buf, size, on_worker, &ms, &why);
	memset(&m, 0, sizeof(m));
	m.type = DS_QMSG_ROUND;
	assert(send_view(&m) == 1);
	check_view(&ms.v);
}

/* The input as packets: a length byte pair, then that many bytes. */
static void
packets(const uint8_t *data, size_t size)
{
	struct ds_qmsg m;
	const char *why;
	size_t pos = 0, n;

	while (pos + 2 <= size) {
		n = (size_t)data[pos] << 8 | data[pos + 1];
		pos += 2;
		if (n > size - pos)
			n = size - pos;
		why = NULL;
		if (ds_qmsg_decode(data + pos, n, &m, &why) == 0 &&
		    ds_qview_apply(&ms.v, &m, 1, &why) < 0)
			assert(why != NULL);
		pos += n;
	}
	memset(&m, 0, sizeof(m));
	m.type = DS_QMSG_ROUND;
	assert(send_view(&m) == 1);
	check_view(&ms.v);
}

static void
master_side(const uint8_t *data, const char *buf, size_t size)
{
	const char *why;

	memset(&ms, 0, sizeof(ms));
	snprintf(ms.ours[0], sizeof(ms.ours[0]), "f");
	snprintf(ms.ours[1], sizeof(ms.ours[1]), "g");
	ms.ours_p[0] = ms.ours[0];
	ms.ours_p[1] = ms.ours[1];
	ms.nours = 2;
	(void)ds_admin_parse_status(buf, size, pick_ours, NULL, &why);
	if (ds_qview_init(&ms.v, NSERVERS) < 0 ||
	    ds_qview_set_ours(&ms.v, ms.ours_p, ms.nours, MAX_WORKERS) < 0)
		goto out;
	round_of(buf, size, 0);
	/* a reload: the first of ours is ours no more */
	if (ds_qview_set_ours(&ms.v, ms.ours_p + 1, ms.nours - 1,
	    MAX_WORKERS - 1) < 0)
		goto out;
	check_view(&ms.v);
	round_of(buf, size, 1);
	packets(data, size);
out:
	ds_qview_free(&ms.v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);	/* exact size */
	const char *why;
	ssize_t n;
	int ok;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	lo = buf;
	hi = buf + size;
	n = ds_admin_reply_len(buf, size);
	assert(n >= -1 && n <= (ssize_t)size);
	why = NULL;
	ok = ds_admin_parse_status(buf, size, on_func, NULL, &why) == 0;
	assert(ok || why != NULL);
	why = NULL;
	ok |= ds_admin_parse_workers(buf, size, on_worker, NULL, &why) == 0;
	if (ok && size <= DS_ADMIN_LINE_MAX)
		assert(n == (ssize_t)size);
	master_side(data, buf, size);
	free(buf);
	return 0;
}
