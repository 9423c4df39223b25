/* fcgi_client.h: the FastCGI transport of a fastcgi:// pool: one job as one
 * RESPONDER request to php-fpm (or any FastCGI application) over one kept
 * connection per worker. endpoint.c dispatches to it; the answer goes
 * through the same response buffer and judgement as an HTTP one. */
#ifndef DS_FCGI_CLIENT_H
#define DS_FCGI_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "worker/endpoint.h"
#include "worker/fcgi.h"
#include "worker/fcgi_recycle.h"
#include "worker/request.h"

/* The request's PARAMS and records (fcgi_params.c). */
struct ds_fcgi_params {
	uint8_t *fixed;		/* the pairs that are the same for every job */
	size_t fixed_len;
	uint8_t *out;		/* one job's request: all its records */
	size_t out_cap;
};

#define DS_FCGI_STDERR_KEEP 400	/* what the log line shows of STDERR */

struct ds_fcgi_client {
	struct ds_endpoint *ep;
	struct ds_fcgi_params pp;
	struct ds_form form;
	int fd;
	char host[256], port[8];
	const char *unix_socket;
	char remote_addr[64];
	char where[300];		/* for reasons: host:port or the socket */
	uint8_t *rbuf;
	struct ds_fcgi_reader rd;
	/* this job's answer */
	size_t hlen;			/* the CGI header block; 0: not yet */
	int status;
	size_t err_total, err_len;
	char err_text[DS_FCGI_STDERR_KEEP];
	char stop_why[160];
	struct ds_fcgi_recycle recycle;	/* when php-fpm closes it */
};

/* Reads the pool's fastcgi:// URI and sets ep->fcgi. Returns 0, or -1 with
 * err saying why. Connects on the first job, not here. */
int ds_fcgi_client_init(struct ds_endpoint *ep, char *err, size_t errlen);

void ds_fcgi_client_call(struct ds_endpoint *ep, const struct ds_job_view *job,
    struct ds_call *res);

/* The worker waits for work: buffers grown for large jobs go back. */
void ds_fcgi_client_idle(struct ds_fcgi_client *c);

/* Closes the connection and frees c (NULL is fine). */
void ds_fcgi_client_free(struct ds_fcgi_client *c);

/* Builds the fixed pairs from the URI. Returns 0, or -1 with err. */
int ds_fcgi_params_init(struct ds_fcgi_params *pp, const char *uri,
    int have_unix_socket, char *err, size_t errlen);

/* One job's request, BEGIN_REQUEST to the empty STDIN, in pp->out: returns
 * its length, 0 when memory ran out. */
size_t ds_fcgi_params_request(struct ds_fcgi_params *pp, const char *ctype,
    const char *remote_addr, const char *body, size_t body_len);

void ds_fcgi_params_free(struct ds_fcgi_params *pp);

/* The connection (fcgi_conn.c). */

/* A connection to write a request on: the kept one when it still looks
 * alive, else a new one. Returns 0, or -1 with res set. */
int ds_fcgi_conn_ensure(struct ds_fcgi_client *c, int64_t started,
    struct ds_call *res);

/* Waits until fd is ready for events or deadline; 1 ready, 0 timed out,
 * -1 the worker is asked to stop or poll failed (res says which). */
int ds_fcgi_wait(struct ds_fcgi_client *c, short events, int64_t deadline,
    int64_t started, struct ds_call *res);

void ds_fcgi_conn_close(struct ds_fcgi_client *c);

#endif
