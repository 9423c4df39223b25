/* fcgi_recycle.h: whether a kept FastCGI connection may carry the next
 * request, as a state machine without I/O (fcgi_conn.c polls the socket
 * for as long as it is told, and says what it saw).
 *
 * php-fpm closes a kept connection after pm.max_requests, but only at the
 * end of its request shutdown, some time after the END_REQUEST that ended
 * the last job: a request written in that window is read and dropped, and
 * its job would fail. So the count at which this php-fpm closes is learned
 * from the closes seen, and a connection that reaches it never carries
 * another request: the worker waits for the close, and if none comes in
 * time (a slow machine) it replaces the connection itself. Until a close
 * has taught the count, requests wait out a short settling time after the
 * last END_REQUEST. */
#ifndef DS_FCGI_RECYCLE_H
#define DS_FCGI_RECYCLE_H

#include <stdint.h>

#define DS_RECYCLE_WAIT_MS 1000	/* for the close due at the learned count */
#define DS_RECYCLE_SETTLE_MS 10	/* after an END_REQUEST, while learning */
#define DS_RECYCLE_LEARN 100	/* requests that settle, at most */
#define DS_RECYCLE_MISSES 2	/* waits in a row with no close: forget */

struct ds_fcgi_recycle {
	unsigned served;	/* requests answered on this connection */
	unsigned close_at;	/* the count php-fpm closes at; 0: unknown */
	unsigned lower;		/* a smaller count seen once: seen twice wins */
	unsigned settles;	/* requests that waited to learn the count */
	unsigned misses;	/* waits in a row at close_at with no close */
	int full_wait;		/* this wait was DS_RECYCLE_WAIT_MS, not cut */
	int64_t end_ms;		/* the last END_REQUEST came */
};

/* A new connection, or an answer on it. */
void ds_fcgi_recycle_connected(struct ds_fcgi_recycle *r);
void ds_fcgi_recycle_answered(struct ds_fcgi_recycle *r, int64_t now);

/* Before a request on the kept connection: how long to wait for the
 * server's close (0: only look), at most cap_ms. */
int ds_fcgi_recycle_wait_ms(struct ds_fcgi_recycle *r, int64_t now,
    int cap_ms);

/* After that wait: the server closed the connection (closed) or not.
 * Returns 1 if the connection may carry the request, 0 if it is to be
 * replaced. */
int ds_fcgi_recycle_verdict(struct ds_fcgi_recycle *r, int closed);

/* The server closed the connection after r->served requests (seen before
 * a request, or as the answer to one it dropped unread). */
void ds_fcgi_recycle_closed(struct ds_fcgi_recycle *r);

#endif
