/* gm_proto.h: the worker's side of the Gearman binary protocol: the few
 * packets a worker sends and reads, built and parsed by bounded pure
 * functions. The worker speaks it itself (gm_conn.c) so that each gearmand
 * is served on its own: libgearman's grab cycle waits on one server at a
 * time, and a hung one stops the others. */
#ifndef DS_GM_PROTO_H
#define DS_GM_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define DS_GM_HEADER 12
/* the largest packet we accept from gearmand: a job's workload is in it */
#define DS_GM_MAX_PACKET (64u * 1024 * 1024)

enum ds_gm_type {
	DS_GM_CAN_DO = 1,
	DS_GM_PRE_SLEEP = 4,
	DS_GM_NOOP = 6,
	DS_GM_NO_JOB = 10,
	DS_GM_WORK_COMPLETE = 13,
	DS_GM_WORK_FAIL = 14,
	DS_GM_ECHO_REQ = 16,
	DS_GM_ECHO_RES = 17,
	DS_GM_ERROR = 19,
	DS_GM_SET_CLIENT_ID = 22,
	DS_GM_GRAB_JOB_UNIQ = 30,
	DS_GM_JOB_ASSIGN_UNIQ = 31,
};

/* An output buffer: packets are appended, then written from off. */
struct ds_gm_out {
	char *data;
	size_t off, len, cap;
};

/* Appends a request packet whose arguments are args[0..n) joined by NUL
 * bytes (the last one not followed by one). Returns 0, or -1 when out of
 * memory or past DS_GM_MAX_PACKET (nothing is appended then). */
int ds_gm_put(struct ds_gm_out *o, enum ds_gm_type type, size_t n,
    const char *const *args, const size_t *lens);
/* Forgets what was written; keeps the memory. */
void ds_gm_out_compact(struct ds_gm_out *o);
void ds_gm_out_free(struct ds_gm_out *o);

/* One response packet as read: the arguments point into the bytes given
 * to ds_gm_parse() and each but the last is NUL-terminated there. */
struct ds_gm_packet {
	uint32_t type;
	const char *arg[4];
	size_t arglen[4];
	size_t nargs;
};

/* Reads one packet from the len bytes at p. Returns its size when whole,
 * 0 when more bytes are needed (*need: how many in all), or -1 with *why
 * when the bytes are not a Gearman response (wrong magic, too large, a
 * JOB_ASSIGN_UNIQ short of arguments). */
long ds_gm_parse(const char *p, size_t len, struct ds_gm_packet *pk,
    size_t *need, const char **why);

#endif
