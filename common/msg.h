/* msg.h: the small typed messages a worker (or the queue monitor) sends
 * its master over their SOCK_SEQPACKET socketpair, one message per packet.
 * The master trusts nothing in them: ds_msg_decode() checks every length.
 *
 * Version 1 carries a worker's state (types STARTING..STOPPING); version 2
 * adds the queue monitor's reports (types Q_SERVER..Q_ROUND) and changes
 * nothing of version 1, so a master reads the workers of either. */
#ifndef DS_MSG_H
#define DS_MSG_H

#include <stddef.h>
#include <stdint.h>

enum ds_msg_type {
	DS_MSG_STARTING = 1,	/* process is up, not yet asking for work */
	DS_MSG_IDLE,		/* waiting for a job from gearmand */
	DS_MSG_BUSY,		/* a job is in hand: handle, unique, function */
	DS_MSG_DONE,		/* the job in hand got its final answer */
	DS_MSG_DISCONNECTED,	/* gearmand unreachable; retrying */
	DS_MSG_STOPPING,	/* will take no new job */
	/* version 2: the queue monitor, one round of admin reads */
	DS_MSG_Q_SERVER,	/* server: up (a = 1) or down (a = 0, text why);
				 * starts that server's part of the round */
	DS_MSG_Q_FUNC,		/* server, text function: a total, b running,
				 * c available workers */
	DS_MSG_Q_WORKER,	/* server, text pool: one of ours registered
				 * there, a slot, b pid */
	DS_MSG_Q_ROUND,		/* every server has been read: act on it */
};
#define DS_MSG_LAST_V1 DS_MSG_STOPPING
#define DS_MSG_LAST DS_MSG_Q_ROUND

enum ds_outcome {
	DS_OUT_COMPLETE = 0,	/* WORK_COMPLETE sent */
	DS_OUT_FAIL,		/* WORK_FAIL: the endpoint said no or misbehaved */
	DS_OUT_TIMEOUT,		/* WORK_FAIL: max_running_time reached */
	DS_OUT_ABORTED,		/* WORK_FAIL: stopped before the endpoint answered */
	DS_OUT_ANSWER_LOST,	/* the answer could not be sent to gearmand */
};
#define DS_OUT_LAST DS_OUT_ANSWER_LOST

#define DS_MSG_STR_MAX 512	/* a gearman function name may be this long */
#define DS_MSG_MAX_SIZE (24 + 3 * (2 + DS_MSG_STR_MAX))
#define DS_MSG_V2_HEADER 20

struct ds_msg {
	uint8_t type;
	uint8_t outcome;	/* DONE */
	uint16_t http_status;	/* DONE: last HTTP status, 0 if none */
	uint32_t duration_ms;	/* DONE */
	int64_t start_ms;	/* BUSY: wall clock, ms since the epoch */
	char handle[DS_MSG_STR_MAX + 1];
	char unique[DS_MSG_STR_MAX + 1];
	char function[DS_MSG_STR_MAX + 1];
	/* version 2 */
	uint16_t server;	/* index into the config's server list */
	uint32_t a, b, c;	/* as the type says */
	char text[DS_MSG_STR_MAX + 1];
};

/* Encodes m into buf (at least DS_MSG_MAX_SIZE bytes); strings longer than
 * DS_MSG_STR_MAX are cut. Returns the packet length. */
size_t ds_msg_encode(const struct ds_msg *m, unsigned char *buf);

/* Decodes one packet. Returns 0, or -1 with why set to what is wrong. */
int ds_msg_decode(const unsigned char *buf, size_t len, struct ds_msg *m,
    const char **why);

const char *ds_msg_type_name(int type);
const char *ds_outcome_name(int outcome);

#endif
