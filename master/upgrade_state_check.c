/* upgrade_state_check.c: the checks of the upgrade's state that need all
 * of it read (upgrade_state_decode.c calls them last): every fd named
 * once, so that adopting them never closes one twice or hands one out
 * as two; pids unique; and pools, slots and children agreeing both ways,
 * so that the new image never finds a slot whose child it does not know
 * or a child in a slot that is not its. */
#include "master/upgrade_state.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "master/queue.h"
#include "master/upgrade_state_wire.h"

void
us_failv(struct us_reader *r, const char *fmt, ...)
{
	size_t n = 0;
	va_list ap;

	if (r->errlen == 0)
		return;
	if (r->ctx[0] != '\0')
		n = (size_t)snprintf(r->err, r->errlen, "%s: ", r->ctx);
	if (n >= r->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(r->err + n, r->errlen - n, fmt, ap);
	va_end(ap);
}

int
us_pool_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= DS_UPGRADE_POOL_NAME_MAX && strspn(s,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-")
	    == n;
}

int
us_fd_ok(int32_t fd, int none_ok)
{
	return (none_ok && fd == -1) || (fd >= 3 && fd < DS_UPGRADE_FD_LIMIT);
}

/* Who names an fd or a pid: a kind and its index, for the message. */
enum { O_LISTENER, O_PIDFILE, O_CLIENT, O_SOCKET, O_PAGE, O_QUEUE,
	O_CHILD };

struct owner {
	int key;		/* the fd or the pid */
	int kind;
	size_t i;
};

static const char *
owner_name(const struct owner *o, char *buf, size_t len)
{
	static const char *const names[] = {"the status listener",
	    "the pid file", "status client", "the socket of child",
	    "the page of child", "the queue monitor", "child"};

	if (o->kind == O_CLIENT || o->kind == O_SOCKET || o->kind == O_PAGE ||
	    o->kind == O_CHILD)
		snprintf(buf, len, "%s %zu", names[o->kind], o->i);
	else
		snprintf(buf, len, "%s", names[o->kind]);
	return buf;
}

static int
cmp_owner(const void *a, const void *b)
{
	const struct owner *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

static void
add(struct owner *o, size_t *n, int key, int kind, size_t i)
{
	if (key != -1 && key != 0)
		o[(*n)++] = (struct owner){key, kind, i};
}

/* Sorts o and fails on the first key named twice. */
static int
once(struct us_reader *r, struct owner *o, size_t n, const char *what)
{
	char a[64], b[64];

	qsort(o, n, sizeof(*o), cmp_owner);
	for (size_t i = 1; i < n; i++)
		if (o[i].key == o[i - 1].key)
			return us_fail(r, "%s %d named twice: by %s and by %s",
			    what, o[i].key, owner_name(&o[i - 1], a, sizeof(a)),
			    owner_name(&o[i], b, sizeof(b)));
	return 0;
}

static int
fds_once(struct us_reader *r, const struct ds_master *m,
    const struct ds_status *st, struct owner *o)
{
	size_t n = 0;

	if (m->status_listen_fd != -1 && m->status_listen_fd != st->listen_fd)
		return us_fail(r, "status_listen_fd %d is not the status "
		    "listener %d", m->status_listen_fd, st->listen_fd);
	add(o, &n, st->listen_fd, O_LISTENER, 0);
	add(o, &n, m->pid_fd, O_PIDFILE, 0);
	for (size_t i = 0; i < st->nclients; i++)
		add(o, &n, st->clients[i].fd, O_CLIENT, i);
	for (size_t i = 0; i < m->nchildren; i++) {
		add(o, &n, m->children[i].fd, O_SOCKET, i);
		add(o, &n, m->children[i].page_fd, O_PAGE, i);
	}
	if (m->queue != NULL)
		add(o, &n, m->queue->fd, O_QUEUE, 0);
	return once(r, o, n, "fd");
}

/* Sorted by pid, for the slots to find their child in. */
static int
pids_once(struct us_reader *r, const struct ds_master *m, struct owner *o)
{
	size_t n = 0;

	for (size_t i = 0; i < m->nchildren; i++)
		add(o, &n, m->children[i].pid, O_CHILD, i);
	if (m->queue != NULL)
		add(o, &n, m->queue->pid, O_QUEUE, 0);
	return once(r, o, n, "pid");
}

static const struct ds_pool_rt *
pool_named(const struct ds_master *m, const struct ds_pool_rt *const *byname,
    const char *name)
{
	size_t lo = 0, hi = m->npools;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, byname[mid]->name);

		if (c == 0)
			return byname[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static int
cmp_pool(const void *a, const void *b)
{
	return strcmp((*(const struct ds_pool_rt *const *)a)->name,
	    (*(const struct ds_pool_rt *const *)b)->name);
}

static int
names_once(struct us_reader *r, const struct ds_master *m,
    const struct ds_pool_rt **byname)
{
	for (size_t i = 0; i < m->npools; i++)
		byname[i] = &m->pools[i];
	qsort(byname, m->npools, sizeof(*byname), cmp_pool);
	for (size_t i = 1; i < m->npools; i++)
		if (strcmp(byname[i]->name, byname[i - 1]->name) == 0)
			return us_fail(r, "pool %s named twice", byname[i]->name);
	return 0;
}

/* Each child in a slot is that slot's. */
static int
children_in_slots(struct us_reader *r, const struct ds_master *m,
    const struct ds_pool_rt *const *byname)
{
	for (size_t i = 0; i < m->nchildren; i++) {
		const struct ds_child *c = &m->children[i];
		const struct ds_pool_rt *p;

		if (c->slot < 0)
			continue;
		if ((p = pool_named(m, byname, c->pool)) == NULL)
			return us_fail(r, "child %zu: in slot %d of pool %s, "
			    "which the state does not have", i, c->slot, c->pool);
		if (c->slot >= p->nslots)
			return us_fail(r, "child %zu: slot %d past pool %s's %d "
			    "slots", i, c->slot, p->name, p->nslots);
		if (p->slots[c->slot].pid != c->pid)
			return us_fail(r, "child %zu: pid %d in pool %s slot %d, "
			    "which holds pid %d", i, (int)c->pid, p->name,
			    c->slot, (int)p->slots[c->slot].pid);
	}
	return 0;
}

static const struct owner *
pid_owner(const struct owner *o, size_t n, pid_t pid)
{
	struct owner key = {.key = pid};
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (o[mid].key == key.key)
			return &o[mid];
		if (o[mid].key < key.key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Each slot with a pid has its child: in that pool, in that slot. */
static int
slots_have_children(struct us_reader *r, const struct ds_master *m,
    const struct owner *pids, size_t npids)
{
	for (size_t i = 0; i < m->npools; i++) {
		const struct ds_pool_rt *p = &m->pools[i];

		for (int k = 0; k < p->nslots; k++) {
			const struct owner *o;
			const struct ds_child *c;

			if (p->slots[k].pid == 0)
				continue;
			o = pid_owner(pids, npids, p->slots[k].pid);
			c = o && o->kind == O_CHILD ? &m->children[o->i] : NULL;
			if (c == NULL || c->slot != k ||
			    strcmp(c->pool, p->name) != 0)
				return us_fail(r, "pool %s slot %d: pid %d has "
				    "no child in that slot", p->name, k,
				    (int)p->slots[k].pid);
		}
	}
	return 0;
}

static int
check(struct us_reader *r, const struct ds_master *m,
    const struct ds_status *st, struct owner *o,
    const struct ds_pool_rt **byname)
{
	size_t npids = m->nchildren + (m->queue && m->queue->pid ? 1 : 0);

	if (fds_once(r, m, st, o) < 0 || names_once(r, m, byname) < 0 ||
	    children_in_slots(r, m, byname) < 0 || pids_once(r, m, o) < 0)
		return -1;
	return slots_have_children(r, m, o, npids);
}

int
us_check_whole(struct us_reader *r, const struct ds_master *m,
    const struct ds_status *st)
{
	size_t nfds = 3 + st->nclients + 2 * m->nchildren;
	struct owner *o = malloc(nfds * sizeof(*o));
	const struct ds_pool_rt **byname = malloc((m->npools + 1) *
	    sizeof(*byname));
	int rc;

	r->ctx[0] = '\0';
	if (o == NULL || byname == NULL)
		rc = us_fail(r, "out of memory");
	else
		rc = check(r, m, st, o, byname);
	free(o);
	free(byname);
	return rc;
}
