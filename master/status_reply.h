/* status_reply.h: what the status port answers (status_reply.c); the
 * server side (status.c) calls ds_status_reply through its callback. */
#ifndef DS_STATUS_REPLY_H
#define DS_STATUS_REPLY_H

#include <stddef.h>

struct ds_master;
struct ds_buf;

/* A ds_status_reply_fn: ctx is the struct ds_master. */
char *ds_status_reply(void *ctx, const char *line, size_t *len);
void ds_status_threads(struct ds_master *m, struct ds_buf *b);
void ds_status_pools(struct ds_master *m, struct ds_buf *b);

#endif
