/* fcgi_uri.h: a pool's fastcgi:// job_processing_uri, read the same way by
 * the config (at start, on --check and on HUP) and by the worker. */
#ifndef DS_FCGI_URI_H
#define DS_FCGI_URI_H

#include <stddef.h>

struct ds_fcgi_uri {
	char host[256];		/* "" when php-fpm is at unix_socket */
	int port;		/* 0 when not given */
	const char *userinfo;	/* into the URI; NULL when none */
	size_t userinfo_len;
	const char *path;	/* the script, into the URI: /abs/script.php */
	size_t path_len;
	const char *query;	/* after '?', "" when none; not the #fragment */
	size_t query_len;
};

/* Whether uri has the fastcgi:// scheme (any case). */
int ds_is_fcgi_uri(const char *uri);

/* Reads fastcgi://[user:pass@]HOST:PORT/abs/script.php[?query], or
 * fastcgi:///abs/script.php when have_unix_socket. Returns 0, or -1 with
 * why completing "expected ..." (what the URI lacks). */
int ds_fcgi_uri_parse(const char *uri, int have_unix_socket,
    struct ds_fcgi_uri *out, char *why, size_t whylen);

#endif
