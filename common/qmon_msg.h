/* qmon_msg.h: the reports the queue monitor (worker/qmon.c) sends the
 * master over their SOCK_SEQPACKET socketpair, one report per packet. The
 * master trusts nothing in them: ds_qmsg_decode() checks every length.
 * Workers send nothing here: their state is in their slot page
 * (common/slot.h).
 *
 * The version byte is 2 and the types start at 7 because the packets once
 * shared a channel with workers' messages (version 1, types 1-6), since
 * removed; the bytes stay as they were, so a master of the previous
 * release reads the monitor of this one while the package is upgraded. */
#ifndef DS_QMON_MSG_H
#define DS_QMON_MSG_H

#include <stddef.h>
#include <stdint.h>

enum ds_qmsg_type {
	DS_QMSG_SERVER = 7,	/* server: up (a = 1) or down (a = 0, text
				 * why); starts that server's part of the
				 * round */
	DS_QMSG_FUNC,		/* server, text function: a total, b running,
				 * c available workers */
	DS_QMSG_WORKER,		/* server, text pool: one of ours registered
				 * there, a slot, b pid */
	DS_QMSG_ROUND,		/* every server has been read: act on it */
};
#define DS_QMSG_FIRST DS_QMSG_SERVER
#define DS_QMSG_LAST DS_QMSG_ROUND

#define DS_QMSG_STR_MAX 512	/* a gearman function name may be this long */
#define DS_QMSG_HEADER 20
#define DS_QMSG_MAX_SIZE (DS_QMSG_HEADER + 2 + DS_QMSG_STR_MAX)

struct ds_qmsg {
	uint8_t type;
	uint16_t server;	/* index into the config's server list */
	uint32_t a, b, c;	/* as the type says */
	char text[DS_QMSG_STR_MAX + 1];
};

/* Encodes m into buf (at least DS_QMSG_MAX_SIZE bytes); a text longer than
 * DS_QMSG_STR_MAX is cut. Returns the packet length. */
size_t ds_qmsg_encode(const struct ds_qmsg *m, unsigned char *buf);

/* Decodes one packet. Returns 0, or -1 with why set to what is wrong. */
int ds_qmsg_decode(const unsigned char *buf, size_t len, struct ds_qmsg *m,
    const char **why);

/* "q_server" .. "q_round"; "?" for any other value. */
const char *ds_qmsg_type_name(int type);

#endif
