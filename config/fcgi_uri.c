/* fcgi_uri.c: reads a fastcgi:// URI (fcgi_uri.h). The path is a file
 * php-fpm opens (SCRIPT_FILENAME), so it must be absolute and plain; the
 * port has no default, since FastCGI has no well-known one. */
#include "config/fcgi_uri.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config/server.h"

#define SCHEME "fastcgi://"
#define SHAPE "fastcgi://HOST:PORT/abs/script.php"

int
ds_is_fcgi_uri(const char *uri)
{
	return strncasecmp(uri, SCHEME, strlen(SCHEME)) == 0;
}

/* host[:port] or [v6]:port of len bytes. */
static int
host_port(const char *a, size_t len, struct ds_fcgi_uri *out, char *why,
    size_t whylen)
{
	const char *end = a + len, *colon, *h = a, *hend;

	if (*a == '[') {
		if ((hend = memchr(a, ']', len)) == NULL) {
			snprintf(why, whylen, SHAPE " with a closed [IPv6] host");
			return -1;
		}
		h = a + 1;
		colon = hend + 1 < end ? hend + 1 : NULL;
		if (colon != NULL && *colon != ':') {
			snprintf(why, whylen, SHAPE " with ':' after the "
			    "[IPv6] host");
			return -1;
		}
	} else {
		colon = memchr(a, ':', len);
		hend = colon ? colon : end;
	}
	if ((size_t)(hend - h) >= sizeof(out->host)) {
		snprintf(why, whylen, SHAPE " with a host of at most %zu bytes",
		    sizeof(out->host) - 1);
		return -1;
	}
	memcpy(out->host, h, (size_t)(hend - h));
	out->host[hend - h] = '\0';
	if (colon == NULL)
		return 0;
	if (ds_port_parse(colon + 1, (size_t)(end - colon - 1), &out->port) < 0) {
		snprintf(why, whylen, SHAPE " with a port of 1 to 65535");
		return -1;
	}
	return 0;
}

/* The script path: absolute, with no "." or ".." segment. */
static int
check_path(const char *p, size_t len, char *why, size_t whylen)
{
	if (len == 0 || *p != '/' || len == 1) {
		snprintf(why, whylen, SHAPE " with the script's absolute path");
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		size_t seg;

		if (p[i] != '/')
			continue;
		seg = strcspn(p + i + 1, "/?#");	/* p ends at ? or # */
		if ((seg == 1 && p[i + 1] == '.') ||
		    (seg == 2 && p[i + 1] == '.' && p[i + 2] == '.')) {
			snprintf(why, whylen, SHAPE " with an absolute path "
			    "without . or .. segments");
			return -1;
		}
	}
	return 0;
}

int
ds_fcgi_uri_parse(const char *uri, int have_unix_socket,
    struct ds_fcgi_uri *out, char *why, size_t whylen)
{
	const char *a, *end, *at = NULL;

	memset(out, 0, sizeof(*out));
	if (!ds_is_fcgi_uri(uri)) {
		snprintf(why, whylen, SHAPE);
		return -1;
	}
	a = uri + strlen(SCHEME);
	end = a + strcspn(a, "/?#");
	for (const char *p = a; p < end; p++)	/* the host follows the last @ */
		if (*p == '@')
			at = p;
	if (at != NULL) {
		out->userinfo = a;
		out->userinfo_len = (size_t)(at - a);
		a = at + 1;
	}
	if (end > a && host_port(a, (size_t)(end - a), out, why, whylen) < 0)
		return -1;
	if (out->host[0] == '\0' && !have_unix_socket) {
		snprintf(why, whylen, SHAPE " with a host, or fastcgi:///"
		    "abs/script.php and unix_socket");
		return -1;
	}
	if (out->host[0] != '\0' && out->port == 0 && !have_unix_socket) {
		snprintf(why, whylen, SHAPE " with a port (FastCGI has no "
		    "default port)");
		return -1;
	}
	out->path = end;
	out->path_len = strcspn(end, "?#");
	if (check_path(out->path, out->path_len, why, whylen) < 0)
		return -1;
	out->query = out->path[out->path_len] == '?' ?
	    out->path + out->path_len + 1 : "";
	out->query_len = strcspn(out->query, "#");
	return 0;
}
