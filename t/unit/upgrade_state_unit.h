/* upgrade_state_unit.h: what test_upgrade_state.c (round trips, the
 * memfd, the fds) and test_upgrade_state_bad.c (tables of hostile states)
 * share: master states built in memory as the decoder builds them (so
 * that ds_upgrade_state_free frees either), and
 *
 *   model_small(x), model_rich(x)   a small and a rich consistent state
 *   model_free(x)                   frees one
 *   encode(x, &len)                 its bytes (malloc'd)
 *   decode_copy(buf, len, x, err)   decodes an exact-size heap copy into
 *                                   a zeroed x, so ASan sees overreads
 *   check_same(a, b)                every field the state covers, equal
 *   check_cleared(x)                what decode fills, zero again */
#ifndef DS_T_UPGRADE_STATE_UNIT_H
#define DS_T_UPGRADE_STATE_UNIT_H

#include "master/upgrade_state.h"

#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "master/queue.h"
#include "master/stuck.h"

struct model {
	struct ds_master m;
	struct ds_status *st;
	struct ds_upgrade_meta meta;
};

static inline char *
xstrdup(const char *s)
{
	char *d = strdup(s);

	ck_assert_ptr_nonnull(d);
	return d;
}

static inline void
model_init(struct model *x)
{
	memset(x, 0, sizeof(*x));
	x->st = calloc(1, sizeof(*x->st));
	ck_assert_ptr_nonnull(x->st);
	x->m.pools = calloc(8, sizeof(*x->m.pools));
	x->m.children = calloc(16, sizeof(*x->m.children));
	ck_assert(x->m.pools != NULL && x->m.children != NULL);
	x->m.cap_children = 16;
	x->m.pid_fd = 4;
	x->m.status_listen_fd = x->st->listen_fd = 5;
	snprintf(x->meta.from_version, sizeof(x->meta.from_version), "0.1.0");
	x->meta.t0_ms = 123456;
}

/* A pool of nslots, slot i holding pids[i] (0: empty). */
static inline struct ds_pool_rt *
add_pool(struct model *x, const char *name, int nslots, const pid_t *pids)
{
	struct ds_pool_rt *p = &x->m.pools[x->m.npools++];

	p->name = xstrdup(name);
	p->nslots = nslots;
	p->slots = calloc((size_t)nslots + 1, sizeof(*p->slots));
	ck_assert_ptr_nonnull(p->slots);
	for (int i = 0; i < nslots && pids != NULL; i++)
		p->slots[i].pid = pids[i];
	return p;
}

/* A child with nf functions (f0, f1, ...), its fds 10 + 2 * index and
 * the next one. */
static inline struct ds_child *
add_child(struct model *x, pid_t pid, const char *pool, int slot, size_t nf)
{
	size_t i = x->m.nchildren++;
	struct ds_child *c = &x->m.children[i];
	char name[16];

	c->pid = pid;
	c->fd = 10 + 2 * (int)i;
	c->page_fd = c->fd + 1;
	c->page_len = 4096;
	c->pool = xstrdup(pool);
	c->slot = c->last_slot = slot;
	c->state = DS_SLOT_IDLE;
	c->started_ms = 1000;
	c->max_running_ms = 300000;
	c->nfunctions = nf;
	c->functions = calloc(nf + 1, sizeof(*c->functions));
	c->seen = calloc(nf + 1, sizeof(*c->seen));
	ck_assert(c->functions != NULL && c->seen != NULL);
	for (size_t k = 0; k < nf; k++) {
		snprintf(name, sizeof(name), "f%zu", k);
		c->functions[k] = xstrdup(name);
	}
	return c;
}

static inline void
add_series(struct ds_count_series **a, size_t *n, const char *pool,
    const char *label, uint64_t count)
{
	*a = realloc(*a, (*n + 1) * sizeof(**a));
	ck_assert_ptr_nonnull(*a);
	(*a)[*n] = (struct ds_count_series){xstrdup(pool), xstrdup(label),
	    count};
	(*n)++;
}

static inline void
add_client(struct model *x, int fd, const char *in, size_t inlen,
    const char *out, size_t outoff)
{
	struct ds_status_client *c = &x->st->clients[x->st->nclients++];

	c->fd = fd;
	c->deadline = 9000 + fd;
	c->last_rx = 8000 + fd;
	memcpy(c->in, in, inlen);
	c->inlen = inlen;
	if (out != NULL) {
		c->out = xstrdup(out);
		c->outlen = strlen(out);
		c->outoff = outoff;
	}
}

static inline void
add_queue(struct model *x, pid_t pid, int fd, const char *spec)
{
	struct ds_queue *q = calloc(1, sizeof(*q));

	ck_assert_ptr_nonnull(q);
	q->pid = pid;
	q->fd = fd;
	q->started_ms = 500;
	q->restart_at = 600;
	q->kill_at = 700;
	q->quick_deaths = 2;
	q->replace = 1;
	q->bad = 3;
	q->spec = spec ? xstrdup(spec) : NULL;
	x->m.queue = q;
}

/* One pool "web" (slot 0: pid 101, slot 1 empty), its child, a retired
 * one, a job series and an exit, a stuck record, the queue monitor, and
 * a status client with an answer half written. */
static inline void
model_small(struct model *x)
{
	static const pid_t web[] = {101, 0};
	struct ds_child *c;

	model_init(x);
	add_pool(x, "web", 2, web);
	c = add_child(x, 101, "web", 0, 1);
	snprintf(c->handle, sizeof(c->handle), "H:1");
	c = add_child(x, 150, "web", -1, 1);
	c->last_slot = 1;
	x->m.metrics.jobs = calloc(1, sizeof(*x->m.metrics.jobs));
	ck_assert_ptr_nonnull(x->m.metrics.jobs);
	x->m.metrics.jobs[0].pool = xstrdup("web");
	x->m.metrics.jobs[0].function = xstrdup("f0");
	x->m.metrics.njobs = 1;
	add_series(&x->m.metrics.exits, &x->m.metrics.nexits, "web", "exit", 1);
	x->m.stuck = calloc(1, sizeof(*x->m.stuck));
	ck_assert_ptr_nonnull(x->m.stuck);
	x->m.stuck[0] = (struct ds_stuck_rec){101, 0, 77, 1};
	x->m.nstuck = x->m.capstuck = 1;
	add_queue(x, 300, 40, "s");
	add_client(x, 30, "ab", 2, "hello\r\n", 2);
}

static inline void
model_free(struct model *x)
{
	ds_upgrade_state_free(&x->m, x->st);
	free(x->st);
	x->st = NULL;
}

static inline unsigned char *
encode(const struct model *x, size_t *len)
{
	unsigned char *b = ds_upgrade_state_encode(&x->m, x->st, &x->meta, len);

	ck_assert_ptr_nonnull(b);
	return b;
}

static inline int
decode_copy(const unsigned char *buf, size_t len, struct model *x,
    char *err, size_t errlen)
{
	unsigned char *copy = malloc(len ? len : 1);
	int rc;

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, buf, len);
	memset(x, 0, sizeof(*x));
	x->st = calloc(1, sizeof(*x->st));
	ck_assert_ptr_nonnull(x->st);
	err[0] = '\0';
	rc = ds_upgrade_state_decode(copy, len, &x->m, x->st, &x->meta, err,
	    errlen);
	free(copy);
	return rc;
}

static inline void
check_cleared(const struct model *x)
{
	static const struct ds_status_client zero;
	const struct ds_master *m = &x->m;

	ck_assert(m->pools == NULL && m->npools == 0);
	ck_assert(m->children == NULL && m->nchildren == 0);
	ck_assert(m->metrics.jobs == NULL && m->metrics.njobs == 0);
	ck_assert(m->metrics.exits == NULL && m->metrics.nexits == 0);
	ck_assert(m->stuck == NULL && m->nstuck == 0 && m->queue == NULL);
	ck_assert(m->generation == 0 && m->upgrades == 0 && m->pid_fd == 0);
	ck_assert(m->status_listen_fd == 0 && m->spawn_first_pool == 0);
	ck_assert(x->st->nclients == 0 && x->st->listen_fd == 0);
	for (size_t i = 0; i < DS_STATUS_MAX_CLIENTS; i++)
		ck_assert(memcmp(&x->st->clients[i], &zero, sizeof(zero)) == 0);
	ck_assert(x->meta.from_version[0] == '\0' && x->meta.t0_ms == 0);
}

#endif
