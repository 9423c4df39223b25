/* status.c: the status port's server side: non-blocking accept, read one
 * line, write one reply, close. Every client has a deadline, lines are
 * capped, and the work per client per wake-up is bounded. At the connection
 * cap a new connection evicts the client idle longest without a complete
 * command, so held connections cannot lock everyone out; when nobody can be
 * evicted the listener pauses rather than let a flood starve the rest of
 * the loop (signals, reaping, the queue monitor's reports). */
#include "master/status.h"

#include "common/parse.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define DRAIN_MS 1000	/* after the reply, read what the client still sends */
#define DRAIN_MAX (64 * 1024)	/* bytes discarded per client per wake-up */

static const char too_long[] = "Error: line too long\r\n";

int
ds_status_listen(const char *addr, int port, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t sslen;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		sslen = sizeof(*sin);
	} else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		sslen = sizeof(*sin6);
	} else {
		snprintf(err, errlen, "--status_addr %s: not an IPv4 or IPv6 "
		    "address", addr);
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "status port: socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sslen) < 0 || listen(fd, 128) < 0) {
		snprintf(err, errlen, "--status_port %d: cannot bind %s:%d: %s",
		    port, addr, port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

void
ds_status_init(struct ds_status *st, int listen_fd, ds_status_reply_fn *reply,
    void *reply_ctx)
{
	memset(st, 0, sizeof(*st));
	st->listen_fd = listen_fd;
	st->reply = reply;
	st->reply_ctx = reply_ctx;
}

size_t
ds_status_max_pollfds(void)
{
	return 1 + DS_STATUS_MAX_CLIENTS;
}

static void
drop(struct ds_status *st, size_t i)
{
	close(st->clients[i].fd);
	free(st->clients[i].out);
	st->clients[i] = st->clients[--st->nclients];
}

void
ds_status_close(struct ds_status *st)
{
	while (st->nclients)
		drop(st, 0);
	if (st->listen_fd >= 0)
		close(st->listen_fd);
	st->listen_fd = -1;
}

size_t
ds_status_oldest_idle(const struct ds_status_client *c, size_t n)
{
	size_t v = n;

	/* one that has a command is being answered: never a candidate */
	for (size_t i = 0; i < n; i++)
		if (c[i].out == NULL && (v == n || c[i].last_rx < c[v].last_rx))
			v = i;
	return v;
}

size_t
ds_status_victim(const struct ds_status_client *c, size_t n, int64_t now)
{
	size_t v = ds_status_oldest_idle(c, n);

	/* a newcomer is not evicted before its line had time to come */
	if (v < n && now - c[v].last_rx < DS_STATUS_EVICT_MS)
		return n;
	return v;
}

/* The listener is watched only when a connection would find a place, so a
 * full table of busy clients never makes the loop spin on it; when a
 * client will become evictable, evict_at says when to look again. */
static void
set_paused(struct ds_status *st, int64_t now)
{
	size_t o;

	if (st->accept_after && now >= st->accept_after)
		st->accept_after = 0;
	st->evict_at = 0;
	st->paused = st->accept_after != 0;
	if (st->paused || st->nclients < DS_STATUS_MAX_CLIENTS ||
	    ds_status_victim(st->clients, st->nclients, now) < st->nclients)
		return;
	st->paused = 1;
	o = ds_status_oldest_idle(st->clients, st->nclients);
	if (o < st->nclients)
		st->evict_at = st->clients[o].last_rx + DS_STATUS_EVICT_MS;
}

size_t
ds_status_pollfds(struct ds_status *st, struct pollfd *pfd)
{
	size_t n = 0;

	if (st->listen_fd < 0)
		return 0;
	set_paused(st, ds_now_ms());
	/* the listener always has its place so indexes stay fixed */
	pfd[n++] = (struct pollfd){st->paused ? -1 : st->listen_fd, POLLIN, 0};
	for (size_t i = 0; i < st->nclients; i++) {
		struct ds_status_client *c = &st->clients[i];
		short ev = c->out && c->outoff < c->outlen ? POLLOUT : POLLIN;

		pfd[n++] = (struct pollfd){c->fd, ev, 0};
	}
	return n;
}

/* Where a new connection goes: a free place, else the victim's (evicted
 * only once a connection is really there); nclients when neither. */
static size_t
free_place(const struct ds_status *st, int64_t now)
{
	if (st->nclients < DS_STATUS_MAX_CLIENTS)
		return st->nclients;
	return ds_status_victim(st->clients, st->nclients, now);
}

/* -fanalyzer loses out once it is stored in the client table and calls it
 * leaked; drop() frees it. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpragmas"
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
static void
set_reply(struct ds_status_client *c, char *out, size_t len)
{
	c->out = out;
	c->outlen = out ? len : 0;
	c->outoff = 0;
}
#pragma GCC diagnostic pop

/* The whole reply is in the kernel's hands. Closing with unread input
 * would reset the connection and could lose the reply: half-close, then
 * drain briefly. */
static void
reply_sent(struct ds_status_client *c, int64_t now)
{
	shutdown(c->fd, SHUT_WR);
	c->deadline = now + DRAIN_MS;
}

/* After the reply: discard what the client still sends until EOF, at most
 * DRAIN_MAX bytes a wake-up so that a client blasting bytes cannot hold
 * the loop. Returns -1 when the client is to be dropped. */
static int
discard_input(struct ds_status_client *c)
{
	char sink[4096];
	ssize_t n;

	for (size_t got = 0; got < DRAIN_MAX; got += (size_t)n) {
		n = recv(c->fd, sink, sizeof(sink), 0);
		if (n == 0)
			return -1;
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
	}
	return 0;
}

static int
answer(struct ds_status *st, struct ds_status_client *c, int64_t now)
{
	size_t len;
	char *out = st->reply(st->reply_ctx, c->in, &len);

	if (out == NULL)
		return -1;
	set_reply(c, out, len);
	if (len == 0)		/* nothing to write: tell the client at once */
		reply_sent(c, now);
	return 0;
}

/* Returns -1 when the client is to be dropped. */
static int
read_request(struct ds_status *st, struct ds_status_client *c, int64_t now)
{
	ssize_t n;
	char *nl;

	if (c->out != NULL)
		return discard_input(c);
	n = recv(c->fd, c->in + c->inlen, DS_STATUS_LINE_MAX - c->inlen, 0);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (n > 0)
		c->last_rx = now;
	c->inlen += (size_t)n;
	c->in[c->inlen] = '\0';
	nl = memchr(c->in, '\n', c->inlen);
	if (nl == NULL && n > 0 && c->inlen < DS_STATUS_LINE_MAX)
		return 0;
	if (nl == NULL && c->inlen >= DS_STATUS_LINE_MAX) {
		set_reply(c, strdup(too_long), sizeof(too_long) - 1);
		return c->out ? 0 : -1;
	}
	if (nl == NULL && c->inlen == 0)
		return -1;	/* closed without a word */
	if (nl != NULL)
		*nl = '\0';
	c->inlen = strlen(c->in);
	if (c->inlen && c->in[c->inlen - 1] == '\r')
		c->in[--c->inlen] = '\0';
	return answer(st, c, now);
}

static int
write_reply(struct ds_status_client *c, int64_t now)
{
	ssize_t n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
	    MSG_NOSIGNAL);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	c->outoff += (size_t)n;
	/* a slow reader keeps its connection while it makes progress; one
	 * that stops is dropped DS_STATUS_IDLE_MS after its last progress */
	c->deadline = now + DS_STATUS_IDLE_MS;
	if (c->outoff == c->outlen)
		reply_sent(c, now);
	return 0;
}

/* One client's share of a wake-up: write what is pending, or read its
 * line and answer it. Returns -1 when the client is to be dropped. */
static int
serve_client(struct ds_status *st, struct ds_status_client *c, short revents,
    int64_t now)
{
	int rc = 0;

	if (revents & POLLOUT)
		rc = write_reply(c, now);
	else if (revents & (POLLIN | POLLHUP | POLLERR))
		rc = read_request(st, c, now);
	if (rc == 0 && c->out && c->outoff < c->outlen && !(revents & POLLOUT))
		rc = write_reply(c, now);
	return rc;
}

static void
accept_clients(struct ds_status *st, int64_t now)
{
	size_t i;

	while ((i = free_place(st, now)) < DS_STATUS_MAX_CLIENTS) {
		int fd = accept4(st->listen_fd, NULL, NULL,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct ds_status_client *c = &st->clients[i];

		if (fd < 0) {
			/* out of descriptors or memory the listener stays
			 * readable: back off instead of spinning on it */
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				st->accept_after = now + 250;
			return;
		}
		if (i < st->nclients) {		/* evicted */
			close(c->fd);
			free(c->out);
		} else
			st->nclients++;
		memset(c, 0, sizeof(*c));
		c->fd = fd;
		c->last_rx = now;
		c->deadline = now + DS_STATUS_IDLE_MS;
		/* its line is most often there already: answered in this
		 * turn, not the next, which may come a spawn later */
		if (serve_client(st, c, POLLIN, now) < 0)
			drop(st, i);
	}
}

void
ds_status_serve(struct ds_status *st, const struct pollfd *pfd, size_t n,
    int64_t now)
{
	size_t nclients = st->nclients;

	if (n == 0)
		return;
	/* walk backwards: drop() moves the last client into the hole */
	for (size_t i = nclients; i-- > 0;) {
		struct ds_status_client *c = &st->clients[i];
		int rc = serve_client(st, c, pfd[1 + i].revents, now);

		if (rc < 0 || now >= c->deadline)
			drop(st, i);
	}
	if (pfd[0].revents & POLLIN)
		accept_clients(st, now);
}

int64_t
ds_status_next_deadline(const struct ds_status *st)
{
	int64_t next = st->accept_after ? st->accept_after : st->evict_at;

	for (size_t i = 0; i < st->nclients; i++)
		if (next == 0 || st->clients[i].deadline < next)
			next = st->clients[i].deadline;
	return next;
}
