/* qmon_io.c: one round of the queue monitor's reads (qmon.h): every
 * server at once over non-blocking sockets, "status" and "workers" on one
 * connection, each server within the same deadline, so one that does not
 * answer (down, or cut off by a partition) delays no other. */
#include "worker/qmon.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/admin.h"
#include "common/parse.h"

/* A gearmand with thousands of workers answers `workers` with megabytes;
 * past this it is not a server we can follow. */
#define READ_CAP (32 << 20)

static const char request[] = "status\nworkers\n";

enum phase { P_CONNECT, P_SEND, P_READ, P_DONE, P_FAILED };

struct conn {
	struct addrinfo *ai, *cur;
	int fd;
	enum phase phase;
	size_t sent, len, cap;
};

static void __attribute__((format(printf, 3, 4)))
fail(struct conn *c, struct ds_admin_read *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->phase = P_FAILED;
}

/* Connects to c->cur or the addresses after it; the first that does not
 * refuse at once is waited on. */
static void
try_connect(struct conn *c, struct ds_admin_read *r, int err)
{
	for (; c->cur != NULL; c->cur = c->cur->ai_next) {
		c->fd = socket(c->cur->ai_family, c->cur->ai_socktype |
		    SOCK_NONBLOCK | SOCK_CLOEXEC, c->cur->ai_protocol);
		if (c->fd < 0) {
			err = errno;
			continue;
		}
		if (connect(c->fd, c->cur->ai_addr, c->cur->ai_addrlen) == 0) {
			c->phase = P_SEND;
			return;
		}
		if (errno == EINPROGRESS) {
			c->phase = P_CONNECT;
			return;
		}
		err = errno;
		close(c->fd);
		c->fd = -1;
	}
	fail(c, r, "connect: %s", strerror(err));
}

static void
start(struct conn *c, struct ds_admin_read *r, const struct ds_server *sv)
{
	struct addrinfo hints;
	char port[16];
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%d", sv->port);
	c->fd = -1;
	/* a blocking lookup: the monitor may wait, the master may not */
	if ((rc = getaddrinfo(sv->host, port, &hints, &c->ai)) != 0) {
		c->ai = NULL;
		fail(c, r, "lookup: %s", gai_strerror(rc));
		return;
	}
	c->cur = c->ai;
	try_connect(c, r, ECONNREFUSED);
}

/* Both replies in? Then the server's part is done. */
static void
check_complete(struct conn *c, struct ds_admin_read *r)
{
	ssize_t n1 = ds_admin_reply_len(r->buf, c->len), n2 = 0;

	if (n1 > 0)
		n2 = ds_admin_reply_len(r->buf + n1, c->len - (size_t)n1);
	if (n1 < 0 || n2 < 0) {
		fail(c, r, "reply line too long");
		return;
	}
	if (n1 == 0 || n2 == 0)
		return;
	r->status_len = (size_t)n1;
	r->workers_len = (size_t)n2;
	r->up = 1;
	close(c->fd);
	c->fd = -1;
	c->phase = P_DONE;
}

/* -fanalyzer loses the grown buffer once it is stored in r (an element of
 * the caller's array) and reports it leaked: ds_admin_reads_free() frees
 * it. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpragmas"
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
static void
on_readable(struct conn *c, struct ds_admin_read *r)
{
	ssize_t n;
	char *nb;

	if (c->cap - c->len < 4096) {
		if (c->cap >= READ_CAP) {
			fail(c, r, "reply over %d bytes", READ_CAP);
			return;
		}
		if ((nb = realloc(r->buf, c->cap ? 2 * c->cap : 65536)) == NULL) {
			fail(c, r, "out of memory");
			return;
		}
		r->buf = nb;
		c->cap = c->cap ? 2 * c->cap : 65536;
	}
	n = recv(c->fd, r->buf + c->len, c->cap - c->len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		fail(c, r, "%s", n == 0 ? "closed before its reply ended" :
		    strerror(errno));
		return;
	}
	c->len += (size_t)n;
	check_complete(c, r);
}

static void
on_event(struct conn *c, struct ds_admin_read *r)
{
	int err = 0;
	socklen_t len = sizeof(err);
	ssize_t n;

	switch (c->phase) {
	case P_CONNECT:
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err == 0) {
			c->phase = P_SEND;
			return;
		}
		close(c->fd);
		c->fd = -1;
		c->cur = c->cur->ai_next;
		try_connect(c, r, err);
		return;
	case P_SEND:
		n = send(c->fd, request + c->sent, sizeof(request) - 1 - c->sent,
		    MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			fail(c, r, "send: %s", strerror(errno));
		else if (n > 0 && (c->sent += (size_t)n) == sizeof(request) - 1)
			c->phase = P_READ;
		return;
	case P_READ:
		on_readable(c, r);
		return;
	case P_DONE:
	case P_FAILED:
		return;
	}
}

#pragma GCC diagnostic pop

/* Polls the connections still under way until all are over or the
 * deadline; returns how many are still under way. */
static size_t
poll_once(struct conn *c, struct ds_admin_read *r, size_t n, int64_t deadline)
{
	struct pollfd pfd[DS_MAX_SERVERS];
	size_t idx[DS_MAX_SERVERS], k = 0;
	int64_t left = deadline - ds_now_ms();

	for (size_t i = 0; i < n; i++) {
		if (c[i].phase >= P_DONE)
			continue;
		pfd[k] = (struct pollfd){c[i].fd, c[i].phase == P_READ ?
		    POLLIN : POLLOUT, 0};
		idx[k++] = i;
	}
	if (k == 0 || left <= 0)
		return k;
	if (poll(pfd, k, (int)left) < 0 && errno != EINTR)
		return k;
	for (size_t j = 0; j < k; j++)
		if (pfd[j].revents)
			on_event(&c[idx[j]], &r[idx[j]]);
	return k;
}

void
ds_admin_read_all(const struct ds_server *servers, size_t nservers,
    int64_t timeout_ms, struct ds_admin_read *r)
{
	struct conn c[DS_MAX_SERVERS];
	int64_t deadline = ds_now_ms() + timeout_ms;

	memset(c, 0, sizeof(c));
	memset(r, 0, nservers * sizeof(*r));
	for (size_t i = 0; i < nservers; i++)
		start(&c[i], &r[i], &servers[i]);
	while (poll_once(c, r, nservers, deadline) > 0 &&
	    ds_now_ms() < deadline)
		;
	for (size_t i = 0; i < nservers; i++) {
		if (c[i].phase < P_DONE)
			fail(&c[i], &r[i], "no answer within %lld ms",
			    (long long)timeout_ms);
		if (c[i].ai != NULL)
			freeaddrinfo(c[i].ai);
	}
}

void
ds_admin_reads_free(struct ds_admin_read *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(r[i].buf);
		r[i].buf = NULL;
	}
}
