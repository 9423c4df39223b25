/* upgrade_state.c: the writing side of the upgrade's state
 * (upgrade_state.h): the encoder, the sealed memfd, the list of fds the
 * state names, and freeing what the reader allocated. The encoder writes
 * what the master holds as it is; the reader (upgrade_state_read.c)
 * decides what it believes. */
#include "master/upgrade_state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "master/queue.h"
#include "master/stuck.h"
#include "master/upgrade_state_wire.h"

struct writer {
	unsigned char *p;
	size_t len, cap;
	int failed;
};

static unsigned char *
room(struct writer *w, size_t n)
{
	size_t cap = w->cap ? w->cap : 4096;
	unsigned char *p;

	if (w->failed)
		return NULL;
	while (cap - w->len < n)
		cap *= 2;
	if (cap != w->cap) {
		if ((p = realloc(w->p, cap)) == NULL) {
			w->failed = 1;
			return NULL;
		}
		w->p = p;
		w->cap = cap;
	}
	w->len += n;
	return w->p + w->len - n;
}

static void
put_be(unsigned char *p, uint64_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static void
put(struct writer *w, uint64_t v, int bytes)
{
	unsigned char *p = room(w, (size_t)bytes);

	if (p != NULL)
		put_be(p, v, bytes);
}

#define PUT8(w, v) put((w), (uint8_t)(v), 1)
#define PUT32(w, v) put((w), (uint32_t)(v), 4)
#define PUT64(w, v) put((w), (uint64_t)(v), 8)

static void
put_bytes(struct writer *w, const void *s, size_t n)
{
	unsigned char *p;

	PUT32(w, n);
	if (n > 0 && (p = room(w, n)) != NULL)
		memcpy(p, s, n);
}

/* NULL as "": the reader refuses what must not be empty */
static void
put_str(struct writer *w, const char *s)
{
	put_bytes(w, s ? s : "", s ? strlen(s) : 0);
}

static void
put_master(struct writer *w, const struct ds_master *m)
{
	PUT32(w, US_TAG_MASTER);
	PUT64(w, m->generation);
	PUT64(w, m->reloads);
	PUT64(w, m->reloads_failed);
	PUT64(w, m->started_wall_ms);
	PUT64(w, m->upgrades);
	PUT64(w, m->upgrades_failed);
	PUT32(w, m->pid_fd);
	PUT32(w, m->status_listen_fd);
	PUT64(w, m->spawn_first_pool);
}

static void
put_pool(struct writer *w, const struct ds_pool_rt *p)
{
	put_str(w, p->name);
	PUT32(w, p->nslots);
	for (int i = 0; i < p->nslots; i++) {
		PUT32(w, p->slots[i].pid);
		PUT32(w, p->slots[i].quick_deaths);
		PUT64(w, p->slots[i].restart_at);
	}
	PUT64(w, p->stats.completed);
	PUT64(w, p->stats.failed);
	PUT64(w, p->stats.timed_out);
	PUT64(w, p->stats.answer_lost);
	PUT32(w, p->spawn_failures);
	PUT64(w, p->spawn_retry_at);
	PUT32(w, p->backlog);
	PUT64(w, p->zero_since);
}

static void
put_counts(struct writer *w, const struct ds_fn_counts *c)
{
	static const struct ds_fn_counts zero;

	if (c == NULL)
		c = &zero;
	for (int k = 0; k <= DS_OUT_LAST; k++)
		PUT64(w, c->outcome[k]);
	for (int k = 0; k < DS_DURATION_NBUCKETS; k++)
		PUT64(w, c->buckets[k]);
	PUT64(w, c->count);
	PUT64(w, c->sum_ms);
}

static void
put_child(struct writer *w, const struct ds_child *c)
{
	PUT32(w, c->pid);
	PUT32(w, c->fd);
	PUT32(w, c->page_fd);
	PUT64(w, c->page_len);
	put_str(w, c->pool);
	PUT32(w, c->slot);
	PUT32(w, c->last_slot);
	PUT32(w, c->state);
	PUT64(w, c->started_ms);
	PUT64(w, c->busy_since_ms);
	PUT64(w, c->job_seen_ms);
	PUT64(w, c->max_running_ms);
	PUT64(w, c->kill_at);
	PUT8(w, c->killed != 0);
	put_str(w, c->handle);
	put_str(w, c->unique);
	put_str(w, c->function);
	put_str(w, c->version);
	PUT32(w, c->nfunctions);
	for (size_t i = 0; i < c->nfunctions; i++) {
		put_str(w, c->functions ? c->functions[i] : NULL);
		put_counts(w, c->seen ? &c->seen[i] : NULL);
	}
	for (int i = 0; i < DS_SLOT_HTTP_CODES; i++)
		PUT64(w, c->http_seen[i]);
	PUT64(w, c->jobs_seen);
}

static void
put_count_series(struct writer *w, const struct ds_count_series *s, size_t n)
{
	PUT32(w, n);
	for (size_t i = 0; i < n; i++) {
		put_str(w, s[i].pool);
		put_str(w, s[i].label);
		PUT64(w, s[i].count);
	}
}

static void
put_metrics(struct writer *w, const struct ds_metrics *mt)
{
	PUT32(w, US_TAG_METRICS);
	PUT32(w, mt->njobs);
	for (size_t i = 0; i < mt->njobs; i++) {
		const struct ds_job_series *s = &mt->jobs[i];
		uint64_t bits;

		put_str(w, s->pool);
		put_str(w, s->function);
		PUT64(w, s->completed);
		PUT64(w, s->failed);
		PUT64(w, s->timed_out);
		PUT64(w, s->answer_lost);
		for (int k = 0; k < DS_METRICS_NBUCKETS; k++)
			PUT64(w, s->buckets[k]);
		PUT64(w, s->count);
		memcpy(&bits, &s->sum_s, sizeof(bits));
		PUT64(w, bits);
	}
	put_count_series(w, mt->http_errors, mt->nhttp_errors);
	put_count_series(w, mt->starts, mt->nstarts);
	put_count_series(w, mt->exits, mt->nexits);
}

static void
put_queue(struct writer *w, const struct ds_queue *q)
{
	PUT32(w, US_TAG_QUEUE);
	PUT8(w, q != NULL);
	if (q == NULL)
		return;
	PUT32(w, q->pid);
	PUT32(w, q->fd);
	PUT64(w, q->started_ms);
	PUT64(w, q->restart_at);
	PUT64(w, q->kill_at);
	PUT32(w, q->quick_deaths);
	PUT8(w, q->replace != 0);
	PUT64(w, q->bad);
	PUT8(w, q->spec != NULL);
	put_str(w, q->spec);
}

static void
put_status(struct writer *w, const struct ds_status *st)
{
	size_t n = st ? st->nclients : 0;

	PUT32(w, US_TAG_STATUS);
	PUT32(w, st ? st->listen_fd : -1);
	PUT8(w, st && st->paused);
	PUT64(w, st ? st->evict_at : 0);
	PUT64(w, st ? st->accept_after : 0);
	PUT32(w, n);
	for (size_t i = 0; i < n; i++) {
		const struct ds_status_client *c = &st->clients[i];

		PUT32(w, c->fd);
		PUT64(w, c->deadline);
		PUT64(w, c->last_rx);
		put_bytes(w, c->in, c->inlen);
		PUT8(w, c->out != NULL);
		put_bytes(w, c->out, c->out ? c->outlen : 0);
		PUT64(w, c->outoff);
	}
}

unsigned char *
ds_upgrade_state_encode(const struct ds_master *m, const struct ds_status *st,
    const struct ds_upgrade_meta *meta, size_t *len)
{
	struct writer w = {0};

	PUT32(&w, US_MAGIC);
	PUT32(&w, DS_UPGRADE_STATE_VERSION);
	PUT64(&w, 0);		/* the total, once known */
	put_str(&w, meta->from_version);
	PUT64(&w, meta->t0_ms);
	put_master(&w, m);
	PUT32(&w, US_TAG_POOLS);
	PUT32(&w, m->npools);
	for (size_t i = 0; i < m->npools; i++)
		put_pool(&w, &m->pools[i]);
	PUT32(&w, US_TAG_CHILDREN);
	PUT32(&w, m->nchildren);
	for (size_t i = 0; i < m->nchildren; i++)
		put_child(&w, &m->children[i]);
	put_metrics(&w, &m->metrics);
	PUT32(&w, US_TAG_STUCK);
	PUT32(&w, m->nstuck);
	for (size_t i = 0; i < m->nstuck; i++) {
		PUT32(&w, m->stuck[i].pid);
		PUT32(&w, m->stuck[i].server);
		PUT64(&w, m->stuck[i].since);
		PUT8(&w, m->stuck[i].seen != 0);
	}
	put_queue(&w, m->queue);
	put_status(&w, st);
	if (w.failed) {
		free(w.p);
		errno = ENOMEM;
		return NULL;
	}
	put_be(w.p + 8, w.len, 8);
	*len = w.len;
	return w.p;
}

int
ds_upgrade_state_memfd(const unsigned char *buf, size_t len)
{
	int fd = memfd_create("driveshaft-upgrade-state", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING);
	size_t off = 0;

	if (fd < 0)
		return -1;
	while (off < len) {
		ssize_t n = write(fd, buf + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		off += (size_t)n;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_WRITE | F_SEAL_SEAL) < 0)
		goto fail;
	return fd;
fail:
	{
		int saved = errno ? errno : EIO;

		close(fd);
		errno = saved;
		return -1;
	}
}

static void
add_fd(int *fds, size_t *n, int fd)
{
	if (fd < 0)
		return;
	for (size_t i = 0; i < *n; i++)
		if (fds[i] == fd)
			return;
	fds[(*n)++] = fd;
}

int *
ds_upgrade_state_fds(const struct ds_master *m, const struct ds_status *st,
    size_t *n)
{
	size_t nc = st ? st->nclients : 0;
	int *fds = malloc((4 + nc + 2 * m->nchildren) * sizeof(*fds));

	*n = 0;
	if (fds == NULL)
		return NULL;
	if (st != NULL)
		add_fd(fds, n, st->listen_fd);
	add_fd(fds, n, m->status_listen_fd);
	for (size_t i = 0; i < nc; i++)
		add_fd(fds, n, st->clients[i].fd);
	add_fd(fds, n, m->pid_fd);
	/* a child's two fds are its own: no search through the rest */
	for (size_t i = 0; i < m->nchildren; i++) {
		if (m->children[i].fd >= 0)
			fds[(*n)++] = m->children[i].fd;
		if (m->children[i].page_fd >= 0)
			fds[(*n)++] = m->children[i].page_fd;
	}
	if (m->queue != NULL)
		add_fd(fds, n, m->queue->fd);
	return fds;
}

static void
free_child(struct ds_child *c)
{
	free(c->pool);
	for (size_t i = 0; c->functions != NULL && i < c->nfunctions; i++)
		free(c->functions[i]);
	free(c->functions);
	free(c->seen);
}

void
ds_upgrade_state_free(struct ds_master *m, struct ds_status *st)
{
	for (size_t i = 0; m->pools != NULL && i < m->npools; i++) {
		free(m->pools[i].name);
		free(m->pools[i].slots);
	}
	free(m->pools);
	m->pools = NULL;
	m->npools = 0;
	for (size_t i = 0; m->children != NULL && i < m->nchildren; i++)
		free_child(&m->children[i]);
	free(m->children);
	m->children = NULL;
	m->nchildren = m->cap_children = 0;
	ds_metrics_free(&m->metrics);
	free(m->stuck);
	m->stuck = NULL;
	m->nstuck = m->capstuck = 0;
	if (m->queue != NULL) {
		free(m->queue->spec);
		ds_qview_free(&m->queue->view);
		free(m->queue);
		m->queue = NULL;
	}
	for (size_t i = 0; st != NULL && i < st->nclients; i++) {
		free(st->clients[i].out);
		st->clients[i].out = NULL;
	}
	if (st != NULL)
		st->nclients = 0;
}
