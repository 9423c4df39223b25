/* buf.h: a growable byte buffer with printf, for replies built in pieces. */
#ifndef DS_BUF_H
#define DS_BUF_H

#include <stddef.h>

struct ds_buf {
	char *data;
	size_t len, cap;
	int failed;	/* an allocation failed; data holds what fit */
};

void ds_buf_printf(struct ds_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void ds_buf_add(struct ds_buf *b, const char *s, size_t len);
/* Hands over data (NUL-terminated, never NULL unless failed) and resets b. */
char *ds_buf_take(struct ds_buf *b, size_t *len);

#endif
