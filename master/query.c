/* query.c: driveshaft --query (query.h). A plain client of the status port:
 * a bounded connect, one command line, a bounded read to EOF. Nothing here
 * blocks without a deadline, so a script calling it never hangs on a
 * master that is stopped, stuck or not listening. */
#include "master/query.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/parse.h"
#include "common/text.h"

static const char *const commands[] = {"threads", "pools", "metrics",
    "version"};

int
ds_query_command_ok(const char *cmd)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(cmd, commands[i]) == 0)
			return 1;
	return 0;
}

/* Milliseconds left until deadline, at least 0. */
static int
left_ms(int64_t deadline)
{
	int64_t n = deadline - ds_now_ms();

	return n < 0 ? 0 : (int)n;
}

/* Non-blocking connect to one address, waited for until deadline.
 * Returns the connected fd, or -1 with errno set. */
static int
connect_one(const struct addrinfo *ai, int64_t deadline)
{
	struct pollfd pfd;
	socklen_t sl = sizeof(int);
	int fd, soerr = 0, n;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, ai->ai_protocol);
	if (fd < 0)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS)
		goto fail;
	pfd.fd = fd;
	pfd.events = POLLOUT;
	while ((n = poll(&pfd, 1, left_ms(deadline))) < 0 && errno == EINTR)
		;
	if (n == 0)
		errno = ETIMEDOUT;
	if (n <= 0)
		goto fail;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
		goto fail;
	if (soerr == 0)
		return fd;
	errno = soerr;
fail:
	n = errno;
	close(fd);
	errno = n;
	return -1;
}

static int
connect_to(const char *addr, int port, int connect_ms, char *err,
    size_t errlen)
{
	struct addrinfo hints, *res, *ai;
	char ports[16];
	int64_t deadline = ds_now_ms() + connect_ms;
	int fd = -1, rc, saved = ECONNREFUSED;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(ports, sizeof(ports), "%d", port);
	if ((rc = getaddrinfo(addr, ports, &hints, &res)) != 0) {
		snprintf(err, errlen, "status port %s:%d: %s", addr, port,
		    gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next)
		if ((fd = connect_one(ai, deadline)) < 0)
			saved = errno;
	freeaddrinfo(res);
	if (fd < 0)
		snprintf(err, errlen, "nothing answers on the status port "
		    "%s:%d: %s", addr, port, strerror(saved));
	return fd;
}

/* Waits for fd to be ready for events until deadline. 1 ready, 0 time
 * is up, -1 error. */
static int
wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int n;

	while ((n = poll(&pfd, 1, left_ms(deadline))) < 0 && errno == EINTR)
		;
	return n;
}

static int
send_line(int fd, const char *cmd, int64_t deadline)
{
	char line[64];
	size_t len, off = 0;
	ssize_t n;

	len = (size_t)snprintf(line, sizeof(line), "%s\n", cmd);
	while (off < len) {
		if (wait_fd(fd, POLLOUT, deadline) <= 0)
			return -1;
		n = send(fd, line + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return -1;
		if (n > 0)
			off += (size_t)n;
	}
	return 0;
}

/* Reads to EOF into *buf. Returns 0, or -1 (time up, error, too big). */
static int
read_reply(int fd, int64_t deadline, char **buf, size_t *len)
{
	size_t cap = 0;
	ssize_t n;
	char *p;

	*buf = NULL;
	*len = 0;
	for (;;) {
		if (*len == cap) {
			cap = cap ? cap * 2 : 4096;
			if (cap > DS_QUERY_MAX_BYTES ||
			    (p = realloc(*buf, cap)) == NULL)
				return -1;
			*buf = p;
		}
		if (wait_fd(fd, POLLIN, deadline) <= 0)
			return -1;
		n = recv(fd, *buf + *len, cap - *len, 0);
		if (n == 0)
			return 0;
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return -1;
		if (n > 0)
			*len += (size_t)n;
	}
}

/* The reply with "\r\n" made "\n" (scripts read lines) and every other
 * control byte escaped: the reply goes to a terminal, often root's, and a
 * hostile status port must not retitle or reprogram it (ESC ] 2 ; ...). */
static void
write_reply(FILE *out, char *buf, size_t len)
{
	char esc[4 * 256 + 1];
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		if (!(buf[i] == '\r' && i + 1 < len && buf[i + 1] == '\n'))
			buf[n++] = buf[i];
	/* chunks end before a C2 so that a UTF-8 C1 control is seen whole;
	 * 4 bytes out per byte in leaves room for any chunk */
	for (size_t i = 0, k, e; i < n; i += k) {
		k = n - i < 256 ? n - i : 256;
		if (k == 256 && (unsigned char)buf[i + k - 1] == 0xC2)
			k--;
		e = ds_escape_terminal(esc, sizeof(esc), buf + i, k);
		fwrite(esc, 1, e, out);
	}
	fflush(out);
}

int
ds_query(const char *addr, int port, const char *cmd, int connect_ms,
    int reply_ms, FILE *out, char *err, size_t errlen)
{
	int64_t deadline;
	char *buf = NULL;
	size_t len = 0;
	int fd, rc;

	if ((fd = connect_to(addr, port, connect_ms, err, errlen)) < 0)
		return -1;
	deadline = ds_now_ms() + reply_ms;
	rc = send_line(fd, cmd, deadline);
	if (rc == 0)
		rc = read_reply(fd, deadline, &buf, &len);
	close(fd);
	if (rc < 0)
		snprintf(err, errlen, "no complete reply from the status port "
		    "%s:%d within %d ms", addr, port, reply_ms);
	else
		write_reply(out, buf, len);
	free(buf);
	return rc;
}
