/* status.h: the status port (docs/status-port.md), served from the
 * master's poll loop without ever blocking it. */
#ifndef DS_STATUS_H
#define DS_STATUS_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

/* Answers one command line (without its line ending): a malloc'd reply
 * and its length, or NULL when out of memory. */
typedef char *ds_status_reply_fn(void *ctx, const char *line, size_t *len);

#define DS_STATUS_MAX_CLIENTS 256
#define DS_STATUS_LINE_MAX 1024
#define DS_STATUS_IDLE_MS 5000
/* A full table lets a new connection evict a client without a command
 * silent this long: short enough that a query under a flood of held
 * connections is answered well within a second, long enough that clients
 * of a burst that connect and then send at once are not evicted. */
#define DS_STATUS_EVICT_MS 250

struct ds_status_client {
	int fd;
	int64_t deadline;	/* monotonic ms: dropped when passed */
	int64_t last_rx;	/* monotonic ms: accepted or last request byte */
	char in[DS_STATUS_LINE_MAX + 1];
	size_t inlen;
	char *out;		/* reply being written */
	size_t outlen, outoff;
};

struct ds_status {
	int listen_fd;		/* -1: no status port */
	struct ds_status_client clients[DS_STATUS_MAX_CLIENTS];
	size_t nclients;
	int paused;		/* full and nobody evictable, or accept_after */
	int64_t evict_at;	/* paused while full: someone evictable then */
	int64_t accept_after;	/* out of descriptors: retry accept then */
	ds_status_reply_fn *reply;
	void *reply_ctx;
};

/* Binds and listens; returns the fd or -1 with err. */
int ds_status_listen(const char *addr, int port, char *err, size_t errlen);
void ds_status_init(struct ds_status *st, int listen_fd,
    ds_status_reply_fn *reply, void *reply_ctx);
void ds_status_close(struct ds_status *st);

/* The most descriptors ds_status_pollfds() ever adds. */
size_t ds_status_max_pollfds(void);
/* Adds the descriptors to watch; returns how many were added. */
size_t ds_status_pollfds(struct ds_status *st, struct pollfd *pfd);
/* Serves whatever pfd (as filled by ds_status_pollfds) says is ready. */
void ds_status_serve(struct ds_status *st, const struct pollfd *pfd,
    size_t n, int64_t now);
int64_t ds_status_next_deadline(const struct ds_status *st);

/* Of the clients without a complete command, the one idle longest (oldest
 * last_rx, the first of equals); n when there is none. */
size_t ds_status_oldest_idle(const struct ds_status_client *c, size_t n);
/* The client a new connection evicts when the table is full: the oldest
 * idle one, once idle DS_STATUS_EVICT_MS at now; n when there is none. */
size_t ds_status_victim(const struct ds_status_client *c, size_t n,
    int64_t now);

#endif
