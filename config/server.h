/* server.h: gearmand server strings: "host", "host:port", "[v6addr]:port". */
#ifndef DS_SERVER_H
#define DS_SERVER_H

#include <stddef.h>

#define DS_DEFAULT_GEARMAN_PORT 4730

struct ds_server {
	char host[256];
	int port;
};

/* A port of len bytes: digits only, 1 to 65535. Returns 0 or -1. */
int ds_port_parse(const char *p, size_t len, int *port);

/* Returns 0, or -1 with err saying what is wrong with s. */
int ds_server_parse(const char *s, struct ds_server *out, char *err,
    size_t errlen);

#endif
