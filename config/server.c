/* server.c: parses one gearmand address of the jobs config or the worker's
 * command line (see server.h). */
#include "config/server.h"

#include <stdio.h>
#include <string.h>

int
ds_port_parse(const char *p, size_t len, int *port)
{
	long v = 0;

	if (len == 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9' ||
		    (v = v * 10 + (p[i] - '0')) > 65535)
			return -1;
	}
	if (v < 1)
		return -1;
	*port = (int)v;
	return 0;
}

int
ds_server_parse(const char *s, struct ds_server *out, char *err, size_t errlen)
{
	const char *host = s, *colon, *port = NULL;
	size_t hostlen;

	out->port = DS_DEFAULT_GEARMAN_PORT;
	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL) {
			snprintf(err, errlen, "\"%s\": missing ']' after IPv6 "
			    "address", s);
			return -1;
		}
		host = s + 1;
		hostlen = (size_t)(close - host);
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] != '\0') {
			snprintf(err, errlen, "\"%s\": expected ':port' after ']'",
			    s);
			return -1;
		}
	} else {
		colon = strchr(s, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL) {
			snprintf(err, errlen, "\"%s\": an IPv6 address needs "
			    "brackets, as in [::1]:4730", s);
			return -1;
		}
		hostlen = colon ? (size_t)(colon - s) : strlen(s);
		if (colon)
			port = colon + 1;
	}
	if (hostlen == 0 || hostlen >= sizeof(out->host)) {
		snprintf(err, errlen, "\"%s\": expected a host name or address",
		    s);
		return -1;
	}
	for (size_t i = 0; i < hostlen; i++) {
		unsigned char c = (unsigned char)host[i];
		if (c <= ' ' || c >= 0x7F || c == '/' || c == '[' || c == ']') {
			snprintf(err, errlen, "\"%s\": bad character in host", s);
			return -1;
		}
	}
	if (port != NULL && ds_port_parse(port, strlen(port), &out->port) < 0) {
		snprintf(err, errlen, "\"%s\": port must be 1 to 65535", s);
		return -1;
	}
	memcpy(out->host, host, hostlen);
	out->host[hostlen] = '\0';
	return 0;
}
