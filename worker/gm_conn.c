/* gm_conn.c: a non-blocking connection to one gearmand (gm_conn.h). */
#include "worker/gm_conn.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* a buffer grown past this for a large job goes back once it is read */
#define IN_KEEP (256 * 1024)
#define IN_MIN 8192

void
ds_gm_conn_init(struct ds_gm_conn *c, const struct ds_server *srv)
{
	memset(c, 0, sizeof(*c));
	c->srv = srv;
	c->fd = -1;
	snprintf(c->name, sizeof(c->name), strchr(srv->host, ':') ?
	    "[%s]:%d" : "%s:%d", srv->host, srv->port);
}

static void
set_options(int fd)
{
	int on = 1, idle = DS_GM_KEEPIDLE, intvl = DS_GM_KEEPINTVL,
	    cnt = DS_GM_KEEPCNT;

	/* best effort: a connection without them still works */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
}

static int
try_addr(struct ds_gm_conn *c, const struct addrinfo *ai)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, ai->ai_protocol);

	if (fd < 0)
		return -1;
	set_options(fd);
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 &&
	    errno != EINPROGRESS) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	c->fd = fd;
	return 0;
}

int
ds_gm_connect(struct ds_gm_conn *c, char *err, size_t errlen)
{
	struct addrinfo hints, *res, *ai;
	char port[16];
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%d", c->srv->port);
	if ((rc = getaddrinfo(c->srv->host, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "%s", gai_strerror(rc));
		return -1;
	}
	errno = 0;
	for (ai = res; ai != NULL; ai = ai->ai_next)
		if (try_addr(c, ai) == 0)
			break;
	freeaddrinfo(res);
	if (c->fd < 0) {
		snprintf(err, errlen, "connect: %s", strerror(errno ? errno :
		    EHOSTUNREACH));
		return -1;
	}
	c->state = DS_GM_CONNECTING;
	return 0;
}

int
ds_gm_connect_done(struct ds_gm_conn *c, char *err, size_t errlen)
{
	int e = 0;
	socklen_t len = sizeof(e);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
		e = errno;
	if (e == 0)
		return 0;
	snprintf(err, errlen, "connect: %s", strerror(e));
	return -1;
}

/* Room for at least want bytes past in_len, parsed bytes moved out. */
static int
in_room(struct ds_gm_conn *c, size_t want)
{
	size_t cap;
	char *p;

	if (c->in_off == c->in_len && c->in_cap > IN_KEEP) {
		free(c->in);
		c->in = NULL;
		c->in_cap = 0;
	}
	if (c->in_off == c->in_len)
		c->in_off = c->in_len = 0;
	if (c->in != NULL && c->in_off > 0 && c->in_cap - c->in_len < want) {
		memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
		c->in_len -= c->in_off;
		c->in_off = 0;
	}
	if (c->in_cap - c->in_len >= want)
		return 0;
	for (cap = c->in_cap ? c->in_cap : IN_MIN; cap - c->in_len < want; )
		cap *= 2;
	if ((p = realloc(c->in, cap)) == NULL)
		return -1;
	c->in = p;
	c->in_cap = cap;
	return 0;
}

int
ds_gm_read(struct ds_gm_conn *c, char *err, size_t errlen)
{
	struct ds_gm_packet pk;
	const char *why;
	size_t need = DS_GM_HEADER, want;
	ssize_t n;

	if (c->in_len > c->in_off)
		ds_gm_parse(c->in + c->in_off, c->in_len - c->in_off, &pk,
		    &need, &why);
	want = need > c->in_len - c->in_off ? need - (c->in_len - c->in_off) :
	    0;
	if (in_room(c, want > IN_MIN / 2 ? want : IN_MIN / 2) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
	if (n > 0) {
		c->in_len += (size_t)n;
		return 1;
	}
	if (n == 0) {
		snprintf(err, errlen, "connection closed by the server");
		return 0;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return 1;
	snprintf(err, errlen, "read: %s", strerror(errno));
	return -1;
}

int
ds_gm_next(struct ds_gm_conn *c, struct ds_gm_packet *pk, char *err,
    size_t errlen)
{
	const char *why = "";
	size_t need;
	long n = ds_gm_parse(c->in + c->in_off, c->in_len - c->in_off, pk,
	    &need, &why);

	if (n < 0) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	if (n == 0)
		return 0;
	c->in_off += (size_t)n;
	return 1;
}

int
ds_gm_flush(struct ds_gm_conn *c, char *err, size_t errlen)
{
	ssize_t n;

	while (c->out.off < c->out.len) {
		n = send(c->fd, c->out.data + c->out.off,
		    c->out.len - c->out.off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 1;
			snprintf(err, errlen, "write: %s", strerror(errno));
			return -1;
		}
		c->out.off += (size_t)n;
	}
	ds_gm_out_compact(&c->out);
	return 0;
}

void
ds_gm_close(struct ds_gm_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->state = DS_GM_DOWN;
	c->wait_since = 0;
	c->echo_out = 0;
	c->in_off = c->in_len = 0;
	c->out.off = c->out.len = 0;
}

void
ds_gm_conn_free(struct ds_gm_conn *c)
{
	ds_gm_close(c);
	free(c->in);
	c->in = NULL;
	ds_gm_out_free(&c->out);
}
