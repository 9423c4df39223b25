/* gm_conn.h: one worker's connection to one gearmand, non-blocking, with
 * its buffers and the state of the talk on it (gm_sched.c moves it along).
 * The worker polls every connection's descriptor itself, so a server that
 * stops answering holds up nothing but its own connection. */
#ifndef DS_GM_CONN_H
#define DS_GM_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "config/server.h"
#include "worker/gm_proto.h"

/* TCP keepalive on every gearmand connection: a host gone without a FIN
 * is dropped after about KEEPIDLE + KEEPINTVL * KEEPCNT = 10 s of silence,
 * not the kernel's two hours. */
#define DS_GM_KEEPIDLE 4
#define DS_GM_KEEPINTVL 2
#define DS_GM_KEEPCNT 3

enum ds_gm_state {
	DS_GM_DOWN,		/* no connection; a new one at retry_ms */
	DS_GM_CONNECTING,	/* connect() under way */
	DS_GM_PROBING,		/* registered; its first ECHO_RES not yet in */
	DS_GM_READY,		/* answers: may have work, a GRAB may go */
	DS_GM_GRABBING,		/* GRAB_JOB_UNIQ sent, its answer awaited */
	DS_GM_SLEEPING,		/* PRE_SLEEP sent, a NOOP awaited */
};

struct ds_gm_conn {
	const struct ds_server *srv;
	char name[300];		/* host:port, for log lines */
	int fd;
	enum ds_gm_state state;
	int64_t wait_since;	/* 0, or when what it must answer went out */
	int echo_out;		/* an ECHO_REQ is unanswered */
	int64_t heard_ms;	/* when it last sent us something */
	int64_t retry_ms;	/* DOWN: when to connect again */
	int64_t backoff_ms;
	int64_t down_since;	/* 0: up, or not yet tried */
	char *in;		/* bytes read, parsed from in_off */
	size_t in_off, in_len, in_cap;
	struct ds_gm_out out;
};

void ds_gm_conn_init(struct ds_gm_conn *c, const struct ds_server *srv);

/* Starts a non-blocking connect. Returns 0 (state CONNECTING), or -1 with
 * err (state unchanged: the caller backs off). */
int ds_gm_connect(struct ds_gm_conn *c, char *err, size_t errlen);
/* A CONNECTING descriptor polled writable: 0 connected, -1 with err. */
int ds_gm_connect_done(struct ds_gm_conn *c, char *err, size_t errlen);

/* Reads what is there. Returns 1 (bytes or nothing yet), 0 on EOF, -1
 * with err. */
int ds_gm_read(struct ds_gm_conn *c, char *err, size_t errlen);
/* The next whole packet read: 1 with *pk (its bytes stay valid until the
 * next ds_gm_read()), 0 when none yet, -1 with err on garbage. */
int ds_gm_next(struct ds_gm_conn *c, struct ds_gm_packet *pk, char *err,
    size_t errlen);

/* Writes what is queued. Returns 0 when all is out, 1 when some waits for
 * POLLOUT, -1 with err. */
int ds_gm_flush(struct ds_gm_conn *c, char *err, size_t errlen);

/* Closes the connection and drops what was queued or read (state DOWN). */
void ds_gm_close(struct ds_gm_conn *c);
void ds_gm_conn_free(struct ds_gm_conn *c);

#endif
