/* fuzz_fcgi.c: libFuzzer harness for the FastCGI record reader, the CGI
 * header parser and the name-value pair reader (worker/fcgi.h): what a
 * FastCGI server sends, any bytes. The first byte picks the slice size the
 * bytes are fed in. Nothing may crash, read past the input, take bytes
 * after it has ended, or hand the callbacks more than came in; the answer
 * must not depend on how it was sliced. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "worker/fcgi.h"

struct sink {
	size_t out, err;
	char head[16384];	/* the start of STDOUT, for the CGI headers */
	size_t headlen;
};

static int
to_out(void *ctx, const uint8_t *p, size_t n)
{
	struct sink *s = ctx;
	size_t room = sizeof(s->head) - s->headlen;

	assert(n > 0);
	memcpy(s->head + s->headlen, p, n < room ? n : room);
	s->headlen += n < room ? n : room;
	s->out += n;
	return 0;
}

static int
to_err(void *ctx, const uint8_t *p, size_t n)
{
	struct sink *s = ctx;

	(void)p;
	assert(n > 0);
	s->err += n;
	return 0;
}

/* Reads data in slices of step; returns the result, *taken the bytes. */
static enum ds_fcgi_read_rc
run(const uint8_t *data, size_t size, size_t step, struct sink *s,
    size_t *taken, struct ds_fcgi_reader *r)
{
	enum ds_fcgi_read_rc rc = DS_FCGI_MORE;
	size_t o = 0, used;

	memset(s, 0, sizeof(*s));
	ds_fcgi_reader_init(r);
	r->on_stdout = to_out;
	r->on_stderr = to_err;
	r->ctx = s;
	while (o < size && rc == DS_FCGI_MORE) {
		size_t n = size - o < step ? size - o : step;

		rc = ds_fcgi_read(r, data + o, n, &used);
		assert(used <= n);
		assert(rc != DS_FCGI_MORE || used == n);
		o += used;
	}
	*taken = o;
	if (rc != DS_FCGI_MORE) {	/* ended: takes nothing more */
		assert(ds_fcgi_read(r, data, size, &used) == rc);
		assert(used == 0);
	}
	return rc;
}

static void
pairs(const uint8_t *data, size_t size)
{
	const uint8_t *n, *v;
	size_t nl, vl, o = 0, used;

	while (o < size && (used = ds_fcgi_nv_get(data + o, size - o, &n, &nl,
	    &v, &vl)) > 0) {
		assert(used <= size - o);
		assert(n >= data + o && v + vl <= data + size);
		o += used;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sink a, b;
	struct ds_fcgi_reader ra, rb;
	size_t ta, tb, hlen = 0;
	enum ds_fcgi_read_rc rc;
	char why[96];
	int status;

	if (size < 1)
		return 0;
	rc = run(data + 1, size - 1, 1 + data[0], &a, &ta, &ra);
	assert(run(data + 1, size - 1, size, &b, &tb, &rb) == rc);
	assert(ta == tb && a.out == b.out && a.err == b.err);
	assert(a.out + a.err <= ta);
	if (rc == DS_FCGI_ERROR)
		assert(strcmp(ra.error, rb.error) == 0 && ra.error[0] != '\0');
	if (rc == DS_FCGI_END)
		assert(ra.app_status == rb.app_status &&
		    ra.protocol_status == rb.protocol_status);
	if (ds_cgi_headers(a.head, a.headlen, &status, &hlen, why,
	    sizeof(why)) > 0)
		assert(hlen <= a.headlen && status >= 100 && status <= 999);
	pairs(data, size);
	return 0;
}
