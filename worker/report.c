/* report.c: sends state messages to the master (report.h). A send never
 * blocks the job loop for long: the socket has a one-second send timeout,
 * and a master that is gone is noticed, not fatal. */
#include "worker/report.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/log.h"

static int master_fd = -1;
static int last_state;

void
ds_report_init(int fd)
{
	struct timeval tv = {1, 0};

	master_fd = fd;
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static void
send_msg(const struct ds_msg *m)
{
	unsigned char buf[DS_MSG_MAX_SIZE];
	size_t len;

	if (master_fd < 0)
		return;
	len = ds_msg_encode(m, buf);
	while (send(master_fd, buf, len, MSG_NOSIGNAL) < 0) {
		if (errno == EINTR)
			continue;
		if (errno != EPIPE && errno != ECONNRESET)
			ds_log(LOG_WARNING, "event=report_failed type=%s error=%d",
			    ds_msg_type_name(m->type), errno);
		return;
	}
	last_state = m->type;
}

void
ds_report_state(int type)
{
	struct ds_msg m;

	if (type == last_state)
		return;
	memset(&m, 0, sizeof(m));
	m.type = (uint8_t)type;
	send_msg(&m);
}

void
ds_report_busy(const char *handle, const char *unique, const char *function,
    int64_t start_ms)
{
	struct ds_msg m;

	memset(&m, 0, sizeof(m));
	m.type = DS_MSG_BUSY;
	m.start_ms = start_ms;
	snprintf(m.handle, sizeof(m.handle), "%s", handle ? handle : "");
	snprintf(m.unique, sizeof(m.unique), "%s", unique ? unique : "");
	snprintf(m.function, sizeof(m.function), "%s", function ? function : "");
	send_msg(&m);
}

void
ds_report_done(int outcome, int http_status, int64_t duration_ms)
{
	struct ds_msg m;

	memset(&m, 0, sizeof(m));
	m.type = DS_MSG_DONE;
	m.outcome = (uint8_t)outcome;
	m.http_status = (uint16_t)http_status;
	m.duration_ms = duration_ms < 0 ? 0 : (uint32_t)duration_ms;
	send_msg(&m);
}

int
ds_report_master_gone(void)
{
	struct pollfd pfd = {master_fd, POLLIN, 0};
	char c;

	if (master_fd < 0)
		return 0;
	if (poll(&pfd, 1, 0) <= 0)
		return 0;
	/* the master never writes to us: readable means closed */
	return recv(master_fd, &c, 1, MSG_DONTWAIT) == 0 ||
	    (pfd.revents & (POLLHUP | POLLERR)) != 0;
}
