/* fcgi_conn.c: the FastCGI transport's one kept connection per worker
 * (fcgi_client.h): connecting over TCP or a unix socket within the job's
 * time, and deciding before each request whether the kept connection may
 * carry it.
 *
 * php-fpm's closing count is fcgi_recycle.c's to learn. Nothing is ever
 * resent: its waits come before any byte of a request is written. */
#include "worker/fcgi_client.h"

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/parse.h"

#define CONNECT_TIMEOUT_MS 5000
#define ABORT_CHECK_MS 1000	/* should_abort() is asked this often */
_Static_assert(DS_RECYCLE_WAIT_MS <= ABORT_CHECK_MS,
    "the wait for php-fpm's close must not hold a stop longer");

void
ds_fcgi_conn_close(struct ds_fcgi_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* Waits for fd to be ready for events until deadline; 1 ready, 0 timed
 * out, -1 the worker is asked to stop (res says so) or poll failed. */
int
ds_fcgi_wait(struct ds_fcgi_client *c, short events, int64_t deadline,
    int64_t started, struct ds_call *res)
{
	struct ds_endpoint *ep = c->ep;
	struct pollfd pfd = {c->fd, events, 0};

	for (;;) {
		int64_t left = deadline - ds_now_ms();
		int n;

		if (ep->should_abort && ep->should_abort(ep->abort_ctx)) {
			ds_call_fail(res, DS_OUT_ABORTED, "worker stopped after "
			    "%lld ms", (long long)(ds_now_ms() - started));
			return -1;
		}
		if (left <= 0)
			return 0;
		n = poll(&pfd, 1, (int)(left < ABORT_CHECK_MS ? left :
		    ABORT_CHECK_MS));
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR) {
			ds_call_fail(res, DS_OUT_FAIL, "FastCGI: poll: %s",
			    strerror(errno));
			return -1;
		}
	}
}

static void
note_local_addr(struct ds_fcgi_client *c)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char port[8];

	snprintf(c->remote_addr, sizeof(c->remote_addr), "127.0.0.1");
	if (c->unix_socket == NULL &&
	    getsockname(c->fd, (struct sockaddr *)&ss, &sl) == 0)
		getnameinfo((struct sockaddr *)&ss, sl, c->remote_addr,
		    sizeof(c->remote_addr), port, sizeof(port),
		    NI_NUMERICHOST | NI_NUMERICSERV);
}

/* One non-blocking connect to addr; 0 connected, -1 with errno. */
static int
connect_one(struct ds_fcgi_client *c, const struct sockaddr *sa, socklen_t sl,
    int family, int64_t deadline, int64_t started, struct ds_call *res)
{
	int e = 0;
	socklen_t el = sizeof(e);

	c->fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -1;
	if (connect(c->fd, sa, sl) == 0)
		return 0;
	if (errno != EINPROGRESS && errno != EAGAIN)
		return -1;
	switch (ds_fcgi_wait(c, POLLOUT, deadline, started, res)) {
	case 1:
		break;
	case 0:
		errno = ETIMEDOUT;
		return -1;
	default:
		return -2;
	}
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &el) < 0 || e != 0) {
		errno = e ? e : errno;
		return -1;
	}
	return 0;
}

static int
connect_tcp(struct ds_fcgi_client *c, int64_t deadline, int64_t started,
    struct ds_call *res)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai, *a;
	int rc = -1, gai;

	if ((gai = getaddrinfo(c->host, c->port, &hints, &ai)) != 0) {
		ds_call_fail(res, DS_OUT_FAIL, "FastCGI: cannot resolve %s: %s",
		    c->host, gai_strerror(gai));
		return -2;
	}
	for (a = ai; a != NULL && rc == -1; a = a->ai_next) {
		if ((rc = connect_one(c, a->ai_addr, a->ai_addrlen,
		    a->ai_family, deadline, started, res)) < 0)
			ds_fcgi_conn_close(c);
	}
	freeaddrinfo(ai);
	return rc;
}

/* Whether the kept connection may carry a request: an idle one has
 * nothing to say, so anything (EOF after pm.max_requests, a reset, stray
 * bytes) means it is gone; and one at php-fpm's closing count is replaced
 * even when its close is late (fcgi_recycle.h). The wait counts against
 * the job's time, so it takes at most a quarter of it; and at most 1 s, no
 * longer than a stop already waits between should_abort() checks. */
static int
kept_alive(struct ds_fcgi_client *c)
{
	struct pollfd pfd = {c->fd, POLLIN | POLLRDHUP, 0};
	int64_t cap = c->ep->opts->max_running_ms / 4;
	int ms = ds_fcgi_recycle_wait_ms(&c->recycle, ds_now_ms(),
	    cap > INT_MAX ? INT_MAX : (int)cap);

	int n = poll(&pfd, 1, ms);

	if (n < 0)
		return 0;	/* a signal: start afresh, learning nothing */
	return ds_fcgi_recycle_verdict(&c->recycle, n > 0);
}

/* A connection to use: the kept one when it is still good, else a new
 * one. Returns 0, or -1 with res set. */
int
ds_fcgi_conn_ensure(struct ds_fcgi_client *c, int64_t started, struct ds_call *res)
{
	int64_t deadline = started + c->ep->opts->max_running_ms, cdl;
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int rc;

	if (c->fd >= 0 && !kept_alive(c))
		ds_fcgi_conn_close(c);
	if (c->fd >= 0)
		return 0;
	ds_fcgi_recycle_connected(&c->recycle);
	cdl = started + CONNECT_TIMEOUT_MS < deadline ?
	    started + CONNECT_TIMEOUT_MS : deadline;
	if (c->unix_socket != NULL) {
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", c->unix_socket);
		rc = connect_one(c, (struct sockaddr *)&sun, sizeof(sun),
		    AF_UNIX, cdl, started, res);
	} else
		rc = connect_tcp(c, cdl, started, res);
	if (rc == 0) {
		note_local_addr(c);
		return 0;
	}
	if (rc == -1)
		ds_call_fail(res, DS_OUT_FAIL, "FastCGI: cannot connect to "
		    "%s: %s", c->where, strerror(errno));
	ds_fcgi_conn_close(c);
	return -1;
}
