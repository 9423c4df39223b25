/* admin.h: gearmand's admin text protocol, as the queue monitor reads it:
 * the replies to `status` (FUNCTION\tTOTAL\tRUNNING\tAVAILABLE_WORKERS a
 * line) and `workers` (FD IP CLIENT_ID : FUNCTION ... a line), each ended
 * by a line ".", or a single "ERR ..." line. Pure functions over bytes a
 * server sent, so they trust nothing and are fuzzed (t/fuzz/fuzz_admin.c). */
#ifndef DS_ADMIN_H
#define DS_ADMIN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Longest line we accept: a function name is at most 512 bytes, a worker
 * line lists many; a longer one is a server we do not understand. */
#define DS_ADMIN_LINE_MAX 65536

struct ds_admin_func {
	const char *name;	/* not NUL-terminated: name_len bytes */
	size_t name_len;
	uint32_t total, running, available;
};

struct ds_admin_worker {
	const char *id;		/* the client id, "-" when it set none */
	size_t id_len;
	const char *functions;	/* space-separated, may be empty */
	size_t functions_len;
};

/* The length of the first complete reply in buf[0..len): through its "."
 * line, or its one "ERR" line. 0 when more bytes are needed; -1 when a
 * line is longer than DS_ADMIN_LINE_MAX. */
ssize_t ds_admin_reply_len(const char *buf, size_t len);

/* Parse one complete reply (as ds_admin_reply_len measured it), calling fn
 * for each line. Return 0, or -1 with why set (an ERR reply, a malformed
 * line); fn may have been called for the lines before a bad one. */
int ds_admin_parse_status(const char *buf, size_t len,
    void (*fn)(void *ctx, const struct ds_admin_func *f), void *ctx,
    const char **why);
int ds_admin_parse_workers(const char *buf, size_t len,
    void (*fn)(void *ctx, const struct ds_admin_worker *w), void *ctx,
    const char **why);

/* True when the space-separated list holds name exactly. */
int ds_admin_has_function(const char *list, size_t len, const char *name);

/* A worker of ours sets its client id to POOL:SLOT:PID (worker/loop.c);
 * the pool may hold ':'. Returns 0 and fills the parts, or -1. */
int ds_admin_our_id(const char *id, size_t len, char *pool, size_t poolsz,
    int *slot, int *pid);

#endif
