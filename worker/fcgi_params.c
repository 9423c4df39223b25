/* fcgi_params.c: the CGI variables a FastCGI pool sends as PARAMS
 * (RFC 3875 section 4.1, as nginx's fastcgi_params sets them), and one
 * job's request as records (fcgi_client.h). What is the same for every job
 * is encoded once at start; a job adds its CONTENT_TYPE, CONTENT_LENGTH and
 * REMOTE_ADDR, then the body as STDIN. */
#include "worker/fcgi_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/text.h"
#include "config/fcgi_uri.h"
#include "worker/fcgi.h"

/* records of at most 64 KiB whose content needs no padding */
#define CHUNK (DS_FCGI_MAX_CONTENT & ~7u)
#define UA "driveshaft/" DS_VERSION
/* room for the per-job pairs: a content type with a boundary, a length,
 * an address */
#define JOB_PAIRS_MAX 256

/* %XX decoded into dst (room for len + 1); returns the length. */
static size_t
pct_decode(char *dst, const char *s, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '%' && i + 2 < len && ds_hex_digit(s[i + 1]) >= 0 &&
		    ds_hex_digit(s[i + 2]) >= 0) {
			dst[o++] = (char)(ds_hex_digit(s[i + 1]) << 4 | ds_hex_digit(s[i + 2]));
			i += 2;
		} else
			dst[o++] = s[i];
	}
	dst[o] = '\0';
	return o;
}

struct pairs {
	uint8_t *p;
	size_t len, cap;
	int oom;
	int fixed;		/* p is not on the heap: never grown */
};

static void
add(struct pairs *ps, const char *name, const char *value, size_t vlen)
{
	size_t n = ds_fcgi_nv_size(strlen(name), vlen);
	uint8_t *p;

	if (ps->oom)
		return;
	if (ps->len + n > ps->cap) {
		size_t cap = (ps->len + n) * 2;

		if (ps->fixed || (p = realloc(ps->p, cap)) == NULL) {
			ps->oom = 1;
			return;
		}
		ps->p = p;
		ps->cap = cap;
	}
	ps->len += ds_fcgi_nv_put(ps->p + ps->len, name, strlen(name), value,
	    vlen);
}

static void
adds(struct pairs *ps, const char *name, const char *value)
{
	add(ps, name, value, strlen(value));
}

/* HTTP_AUTHORIZATION from user:password@, as libcurl sends it over HTTP:
 * Basic, each half %-decoded. */
static void
add_auth(struct pairs *ps, const struct ds_fcgi_uri *u)
{
	size_t len = u->userinfo_len;
	char *plain = malloc(len + 1), *basic = NULL;

	if (plain != NULL)
		basic = malloc(sizeof("Basic ") + DS_BASE64_LEN(len) + 1);
	if (basic == NULL) {
		ps->oom = 1;
		free(plain);
		return;
	}
	len = pct_decode(plain, u->userinfo, len);
	if (memchr(u->userinfo, ':', u->userinfo_len) == NULL)
		plain[len++] = ':';	/* a user without a password */
	memcpy(basic, "Basic ", 6);
	ds_base64_encode_to(basic + 6, plain, len);
	adds(ps, "HTTP_AUTHORIZATION", basic);
	free(plain);
	free(basic);
}

static void
add_fixed(struct pairs *ps, const struct ds_fcgi_uri *u, const char *path,
    char *tmp, size_t tmplen)
{
	adds(ps, "GATEWAY_INTERFACE", "CGI/1.1");
	adds(ps, "SERVER_SOFTWARE", UA);
	adds(ps, "SERVER_PROTOCOL", "HTTP/1.1");
	adds(ps, "REQUEST_METHOD", "POST");
	adds(ps, "SCRIPT_FILENAME", path);
	adds(ps, "SCRIPT_NAME", path);
	adds(ps, "DOCUMENT_URI", path);
	add(ps, "QUERY_STRING", u->query, u->query_len);
	snprintf(tmp, tmplen, "%.*s%s%.*s", (int)u->path_len, u->path,
	    u->query_len ? "?" : "", (int)u->query_len, u->query);
	adds(ps, "REQUEST_URI", tmp);
	adds(ps, "SERVER_NAME", u->host[0] ? u->host : "localhost");
	snprintf(tmp, tmplen, "%d", u->port ? u->port : 80);
	adds(ps, "SERVER_PORT", tmp);
	snprintf(tmp, tmplen, "%s", u->host[0] ? u->host : "localhost");
	adds(ps, "HTTP_HOST", tmp);
	adds(ps, "HTTP_USER_AGENT", UA);
	if (u->userinfo != NULL)
		add_auth(ps, u);
}

int
ds_fcgi_params_init(struct ds_fcgi_params *pp, const char *uri,
    int have_unix_socket, char *err, size_t errlen)
{
	struct ds_fcgi_uri u;
	struct pairs ps = {0};
	char why[160], *path, *tmp;
	size_t tmplen = strlen(uri) + 32;

	memset(pp, 0, sizeof(*pp));
	if (ds_fcgi_uri_parse(uri, have_unix_socket, &u, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "--uri: expected %s", why);
		return -1;
	}
	path = malloc(u.path_len + 1);
	tmp = malloc(tmplen);
	if (path == NULL || tmp == NULL) {
		ps.oom = 1;
	} else {
		pct_decode(path, u.path, u.path_len);
		add_fixed(&ps, &u, path, tmp, tmplen);
	}
	free(path);
	free(tmp);
	if (ps.oom) {
		free(ps.p);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	pp->fixed = ps.p;
	pp->fixed_len = ps.len;
	return 0;
}

size_t
ds_fcgi_params_request(struct ds_fcgi_params *pp, const char *ctype,
    const char *remote_addr, const char *body, size_t body_len)
{
	uint8_t job[JOB_PAIRS_MAX];
	struct pairs ps = {job, 0, sizeof(job), 0, 1};
	char clen[24];
	size_t nparams, need, o;
	uint8_t *params;

	snprintf(clen, sizeof(clen), "%zu", body_len);
	adds(&ps, "CONTENT_TYPE", ctype);
	adds(&ps, "CONTENT_LENGTH", clen);
	adds(&ps, "REMOTE_ADDR", remote_addr);
	if (ps.oom)
		return 0;	/* cannot be: JOB_PAIRS_MAX holds them */
	nparams = pp->fixed_len + ps.len;
	need = 16 + ds_fcgi_stream_size(nparams, CHUNK) +
	    ds_fcgi_stream_size(body_len, CHUNK) + nparams;
	if (need > pp->out_cap) {
		free(pp->out);
		pp->out_cap = 0;
		if ((pp->out = malloc(need)) == NULL)
			return 0;
		pp->out_cap = need;
	}
	/* the pairs are put together at the end, then framed at the start */
	params = pp->out + need - nparams;
	memcpy(params, pp->fixed, pp->fixed_len);
	memcpy(params + pp->fixed_len, job, ps.len);
	o = ds_fcgi_put_begin(pp->out, 1);
	o += ds_fcgi_put_stream(pp->out + o, DS_FCGI_PARAMS, params, nparams,
	    CHUNK);
	o += ds_fcgi_put_stream(pp->out + o, DS_FCGI_STDIN, body, body_len,
	    CHUNK);
	return o;
}

void
ds_fcgi_params_free(struct ds_fcgi_params *pp)
{
	free(pp->fixed);
	free(pp->out);
	memset(pp, 0, sizeof(*pp));
}
