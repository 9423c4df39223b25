/* fcgi.h: the FastCGI 1.0 record protocol, client side (fcgi.c): records
 * and name-value pairs written for a request, and the records of its answer
 * read back by a bounded reader. No I/O here; fcgi_client.c does that. */
#ifndef DS_FCGI_H
#define DS_FCGI_H

#include <stddef.h>
#include <stdint.h>

#define DS_FCGI_VERSION		1
#define DS_FCGI_HEADER_LEN	8
#define DS_FCGI_MAX_CONTENT	65535	/* a record's content length is 16 bits */
#define DS_FCGI_REQUEST_ID	1	/* one request per connection at a time */

enum ds_fcgi_type {
	DS_FCGI_BEGIN_REQUEST = 1,
	DS_FCGI_ABORT_REQUEST = 2,
	DS_FCGI_END_REQUEST = 3,
	DS_FCGI_PARAMS = 4,
	DS_FCGI_STDIN = 5,
	DS_FCGI_STDOUT = 6,
	DS_FCGI_STDERR = 7,
};

/* protocolStatus of an FCGI_END_REQUEST */
#define DS_FCGI_REQUEST_COMPLETE 0

/* The bytes of the records that carry n bytes of one stream (PARAMS or
 * STDIN) in records of at most chunk content bytes, each padded to a
 * multiple of 8, plus the stream's closing empty record. */
size_t ds_fcgi_stream_size(size_t n, size_t chunk);

/* Writes those records of type for data into out (ds_fcgi_stream_size()
 * bytes); returns the bytes written. */
size_t ds_fcgi_put_stream(uint8_t *out, int type, const void *data, size_t n,
    size_t chunk);

/* FCGI_BEGIN_REQUEST for a RESPONDER, FCGI_KEEP_CONN set when keep_conn:
 * 16 bytes. */
size_t ds_fcgi_put_begin(uint8_t out[16], int keep_conn);

/* The size of one name-value pair: 1-byte lengths up to 127, 4-byte ones
 * from 128 on. Returns 0 for a length over 2^31 - 1. */
size_t ds_fcgi_nv_size(size_t nlen, size_t vlen);

/* Writes the pair into out (ds_fcgi_nv_size() bytes), returns that size. */
size_t ds_fcgi_nv_put(uint8_t *out, const char *name, size_t nlen,
    const char *value, size_t vlen);

/* Reads one pair at in (len bytes): returns the bytes it takes, with name
 * and value pointing into in, or 0 when in does not hold a whole pair. */
size_t ds_fcgi_nv_get(const uint8_t *in, size_t len, const uint8_t **name,
    size_t *nlen, const uint8_t **value, size_t *vlen);

/* The reader of one request's answer. Bytes come in any slices; STDOUT and
 * STDERR content goes to the callbacks as it arrives (nothing is kept here
 * but one header), so the reader's memory is fixed whatever the server
 * sends. A callback returning non-zero stops the reader (DS_FCGI_STOPPED). */
struct ds_fcgi_reader {
	int (*on_stdout)(void *ctx, const uint8_t *p, size_t n);
	int (*on_stderr)(void *ctx, const uint8_t *p, size_t n);
	void *ctx;
	/* the outcome, once DS_FCGI_END */
	uint32_t app_status;
	uint8_t protocol_status;
	char error[128];	/* DS_FCGI_ERROR: what was wrong */
	int at_start;		/* not a byte of the answer read yet */
	/* private */
	int state;
	uint8_t hdr[DS_FCGI_HEADER_LEN];
	uint8_t end[8];
	size_t have;		/* bytes of hdr or end read */
	int type;
	size_t content_left, padding_left;
};

enum ds_fcgi_read_rc {
	DS_FCGI_MORE,		/* all of the bytes taken; the answer goes on */
	DS_FCGI_END,		/* FCGI_END_REQUEST and its padding read */
	DS_FCGI_ERROR,		/* not an answer to our request: error says */
	DS_FCGI_STOPPED,	/* a callback said stop */
};

void ds_fcgi_reader_init(struct ds_fcgi_reader *r);

/* Feeds len bytes; *used says how many were taken (all of them for MORE;
 * bytes past the END_REQUEST record are not taken). After END, ERROR or
 * STOPPED the reader takes nothing more until ds_fcgi_reader_init(). */
enum ds_fcgi_read_rc ds_fcgi_read(struct ds_fcgi_reader *r, const uint8_t *in,
    size_t len, size_t *used);

/* Whether the reader is between records: a connection closed here closed
 * cleanly, one closed elsewhere closed mid-record. */
int ds_fcgi_reader_at_record(const struct ds_fcgi_reader *r);

/* The CGI response headers at the start of STDOUT (RFC 3875 section 6.3):
 * 1 with the HTTP status (Status:, 200 when there is none) and the length
 * of the header block with its blank line; 0 when more bytes are needed,
 * -1 with why on a malformed block. */
int ds_cgi_headers(const char *p, size_t len, int *status, size_t *hlen,
    char *why, size_t whylen);

#endif
