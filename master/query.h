/* query.h: driveshaft --query CMD: one status-port command from the command
 * line (docs/operations.md), so scripts and the init script need no netcat. */
#ifndef DS_QUERY_H
#define DS_QUERY_H

#include <stddef.h>
#include <stdio.h>


/* How long a query waits to connect, and for the whole reply. */
#define DS_QUERY_CONNECT_MS	3000
#define DS_QUERY_REPLY_MS	10000
/* A reply larger than this is cut (a metrics page is far smaller). */
#define DS_QUERY_MAX_BYTES	(16 * 1024 * 1024)

/* True when cmd is one the status port answers. */
int ds_query_command_ok(const char *cmd);

/* Sends cmd to addr:port and writes the reply to out, "\r\n" line ends
 * made "\n" and control bytes but tab, CR and LF as \xNN (what
 * ds_escape_terminal() writes). Returns 0, or -1 with err saying what did
 * not answer. */
int ds_query(const char *addr, int port, const char *cmd, int connect_ms,
    int reply_ms, FILE *out, char *err, size_t errlen);

#endif
