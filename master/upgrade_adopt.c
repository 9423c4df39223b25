/* upgrade_adopt.c: the new image's half of an upgrade in place
 * (upgrade_adopt.h). The state is bytes from the image before, read by a
 * checking parser (upgrade_state.c); here every descriptor it names is
 * checked to be what it claims before anything is used, each slot page is
 * mapped again from its memfd, the pools are tied to the config read from
 * disk (the old image put that same config in force just before), and only
 * when all of that held is anything moved into the master. */
#include "master/upgrade_adopt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fds.h"
#include "common/parse.h"
#include "common/text.h"
#include "master/priority.h"
#include "master/queue.h"
#include "master/status_reply.h"
#include "master/upgrade_state.h"

/* 0 when fd is open and of the kind wanted: 's' socket, 'r' regular
 * file, 'm' a sealed memfd exactly len bytes long. */
static int
fd_is(int fd, char kind, size_t len)
{
	struct stat sb;

	if (fstat(fd, &sb) < 0)
		return -1;
	switch (kind) {
	case 's':
		return S_ISSOCK(sb.st_mode) ? 0 : -1;
	case 'r':
		return S_ISREG(sb.st_mode) ? 0 : -1;
	default:
		return S_ISREG(sb.st_mode) && fcntl(fd, F_GET_SEALS) >= 0 &&
		    (uint64_t)sb.st_size == len ? 0 : -1;
	}
}

static int
check_fds(const struct ds_master *t, const struct ds_status *ts, char *err,
    size_t errlen)
{
	if (ts->listen_fd >= 0 && fd_is(ts->listen_fd, 's', 0) < 0) {
		snprintf(err, errlen, "status listener fd %d is not a socket",
		    ts->listen_fd);
		return -1;
	}
	for (size_t i = 0; i < ts->nclients; i++)
		if (fd_is(ts->clients[i].fd, 's', 0) < 0) {
			snprintf(err, errlen, "status client fd %d is not a "
			    "socket", ts->clients[i].fd);
			return -1;
		}
	if (t->pid_fd >= 0 && fd_is(t->pid_fd, 'r', 0) < 0) {
		snprintf(err, errlen, "pid file fd %d is not a file", t->pid_fd);
		return -1;
	}
	if (t->queue != NULL && t->queue->fd >= 0 &&
	    fd_is(t->queue->fd, 's', 0) < 0) {
		snprintf(err, errlen, "queue monitor fd %d is not a socket",
		    t->queue->fd);
		return -1;
	}
	for (size_t i = 0; i < t->nchildren; i++) {
		const struct ds_child *c = &t->children[i];

		if ((c->fd >= 0 && fd_is(c->fd, 's', 0) < 0) ||
		    fd_is(c->page_fd, 'm', c->page_len) < 0) {
			snprintf(err, errlen, "child %d: fd %d or page fd %d is "
			    "not what the state says", (int)c->pid, c->fd,
			    c->page_fd);
			return -1;
		}
	}
	return 0;
}

static void
unmap_pages(struct ds_master *t)
{
	for (size_t i = 0; i < t->nchildren; i++) {
		struct ds_child *c = &t->children[i];

		if (c->page != NULL)
			munmap(c->page, c->page_len);
		c->page = NULL;
	}
}

static int
map_pages(struct ds_master *t, char *err, size_t errlen)
{
	for (size_t i = 0; i < t->nchildren; i++) {
		struct ds_child *c = &t->children[i];
		void *p;

		if (c->page_len < ds_slot_base_size(c->nfunctions)) {
			snprintf(err, errlen, "child %d: a page of %zu bytes "
			    "for %zu functions", (int)c->pid, c->page_len,
			    c->nfunctions);
			return -1;
		}
		p = mmap(NULL, c->page_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		    c->page_fd, 0);
		if (p == MAP_FAILED) {
			snprintf(err, errlen, "child %d: cannot map its page: %s",
			    (int)c->pid, strerror(errno));
			return -1;
		}
		c->page = p;
	}
	return 0;
}

/* Each pool of the state to the config's pool of its name, and no pool
 * of the config left out. */
static int
link_pools(const struct ds_master *m, struct ds_master *t, char *err,
    size_t errlen)
{
	if (t->npools != m->cfg.npools) {
		snprintf(err, errlen, "the state has %zu pools, the config %zu",
		    t->npools, m->cfg.npools);
		return -1;
	}
	for (size_t i = 0; i < t->npools; i++) {
		struct ds_pool_rt *p = &t->pools[i];

		p->cfg = NULL;
		for (size_t k = 0; k < m->cfg.npools; k++)
			if (strcmp(m->cfg.pools[k].name, p->name) == 0)
				p->cfg = &m->cfg.pools[k];
		if (p->cfg == NULL) {
			snprintf(err, errlen, "pool %s of the state is not in "
			    "the config", p->name);
			return -1;
		}
	}
	return 0;
}

/* Moves what t and ts hold into m and st; t and ts keep nothing. */
static int
move_in(struct ds_master *m, struct ds_master *t, struct ds_status *st,
    struct ds_status *ts)
{
	for (size_t i = 0; i < t->nchildren; i++)
		if (ds_pidmap_put(&m->pids, t->children[i].pid, i) < 0)
			return -1;
	m->pools = t->pools;
	m->npools = t->npools;
	m->children = t->children;
	m->nchildren = m->cap_children = t->nchildren;
	m->metrics = t->metrics;
	m->stuck = t->stuck;
	m->nstuck = t->nstuck;
	m->capstuck = t->capstuck;
	m->queue = t->queue;
	m->generation = t->generation;
	m->reloads = t->reloads;
	m->reloads_failed = t->reloads_failed;
	m->started_wall_ms = t->started_wall_ms;
	m->upgrades = t->upgrades;
	m->upgrades_failed = t->upgrades_failed;
	m->pid_fd = t->pid_fd;
	m->spawn_first_pool = t->spawn_first_pool;
	ds_status_init(st, ts->listen_fd, ds_status_reply, m);
	memcpy(st->clients, ts->clients, ts->nclients * sizeof(ts->clients[0]));
	st->nclients = ts->nclients;
	st->paused = ts->paused;
	st->evict_at = ts->evict_at;
	st->accept_after = ts->accept_after;
	m->status_listen_fd = st->listen_fd;
	memset(t, 0, sizeof(*t));
	memset(ts, 0, sizeof(*ts));
	return 0;
}

/* The old image cleared close-on-exec on what it handed over; this image's
 * children (workers, the monitor, the next check) must not inherit it. */
static void
cloexec_again(const struct ds_master *m, const struct ds_status *st)
{
	size_t n = 0;
	int *fds = ds_upgrade_state_fds(m, st, &n);

	if (fds != NULL)
		ds_set_cloexec(fds, n, 1);
	free(fds);
}

int
ds_upgrade_adopt(struct ds_master *m, struct ds_status *st, int fd,
    char *err, size_t errlen)
{
	struct ds_master t;
	struct ds_status ts;
	struct ds_upgrade_meta meta;
	unsigned char *buf = NULL;
	size_t len = 0;
	struct ds_lv v;
	int rc;

	memset(&t, 0, sizeof(t));
	memset(&ts, 0, sizeof(ts));
	memset(&meta, 0, sizeof(meta));
	err[0] = '\0';
	if (ds_upgrade_state_read_fd(fd, &buf, &len, err, errlen) < 0)
		return -1;
	close(fd);
	rc = ds_upgrade_state_decode(buf, len, &t, &ts, &meta, err, errlen);
	free(buf);
	if (rc < 0)
		return -1;
	if (check_fds(&t, &ts, err, errlen) < 0 ||
	    link_pools(m, &t, err, errlen) < 0 ||
	    map_pages(&t, err, errlen) < 0 || move_in(m, &t, st, &ts) < 0) {
		if (err[0] == '\0')
			snprintf(err, errlen, "out of memory");
		unmap_pages(&t);
		ds_pidmap_free(&m->pids);
		ds_upgrade_state_free(&t, &ts);
		return -1;
	}
	cloexec_again(m, st);
	/* nice is per thread and survives the exec; the base it came from
	 * is any worker's */
	ds_priority_adopt(m->nchildren ? m->children[0].pid : 0);
	m->upgrades++;
	ds_log(LOG_NOTICE, "event=upgrade from=%s to=%s children=%zu ms=%lld",
	    DS_LV(v, meta.from_version), DS_VERSION, m->nchildren,
	    (long long)(ds_now_ms() - meta.t0_ms));
	return 0;
}
