/* limit.c: the physical limit of Driveshaft's design, for make bench.
 *
 * One process per worker, nothing else: a libgearman grab loop and one
 * reused curl handle that POSTs the body driveshaft-worker sends (the same
 * JSON bytes, or the same multipart form), reads the endpoint's
 * {"gearman_ret", "response_string"} answer and hands it to gearmand.
 * No master, no status messages, no logging, no stop handling.
 *
 *   limit --server HOST:PORT --function NAME --uri URL [--form]
 *         [--max_jobs N] [--parsed_url]
 * exits 0 after N jobs (0: never), for the callgrind runs. --parsed_url
 * gives libcurl the URL as driveshaft-worker does, parsed once (and no
 * proxy to look up), so the bench can show what that alone is worth. */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <libgearman-1.0/gearman.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct buf {
	char *p;
	size_t len, cap;
};

static struct {
	CURL *curl;
	int form, parsed_url;
	CURLU *url;
	struct buf req, resp;
	long jobs, max_jobs;
} L;

static void
put(struct buf *b, const void *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;

		while (cap < b->len + n + 1)
			cap *= 2;
		if ((b->p = realloc(b->p, cap)) == NULL)
			abort();
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static size_t
on_body(char *ptr, size_t size, size_t nmemb, void *u)
{
	put(u, ptr, size * nmemb);
	return size * nmemb;
}

/* Well-formed UTF-8 without NUL: what a JSON string can carry as is. */
static int
utf8_ok(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = s[i], k;
		uint32_t cp;

		if (c == 0)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			k = 1, cp = c & 0x1F;
		else if (c >= 0xE0 && c <= 0xEF)
			k = 2, cp = c & 0x0F;
		else if (c >= 0xF0 && c <= 0xF4)
			k = 3, cp = c & 0x07;
		else
			return 0;
		if (i + k >= n)
			return 0;
		for (unsigned j = 1; j <= k; j++) {
			if ((s[i + j] & 0xC0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + j] & 0x3F);
		}
		if ((k == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
		    (k == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
			return 0;
		i += k + 1;
	}
	return 1;
}

static const char B64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void
put_b64(struct buf *b, const unsigned char *s, size_t n)
{
	char q[4];

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16 |
		    (i + 1 < n ? (uint32_t)s[i + 1] << 8 : 0) |
		    (i + 2 < n ? s[i + 2] : 0);

		q[0] = B64[v >> 18 & 63];
		q[1] = B64[v >> 12 & 63];
		q[2] = i + 1 < n ? B64[v >> 6 & 63] : '=';
		q[3] = i + 2 < n ? B64[v & 63] : '=';
		put(b, q, 4);
	}
}

/* Decodes in place; returns the length or -1. */
static long
b64_decode(char *s, size_t n)
{
	static signed char val[256];
	size_t o = 0;

	if (val['B'] == 0) {
		memset(val, -1, sizeof(val));
		for (int i = 0; i < 64; i++)
			val[(unsigned char)B64[i]] = (signed char)i;
	}
	if (n % 4)
		return -1;
	for (size_t i = 0; i < n; i += 4) {
		int a = val[(unsigned char)s[i]], b = val[(unsigned char)s[i + 1]];
		int c = s[i + 2] == '=' ? 0 : val[(unsigned char)s[i + 2]];
		int d = s[i + 3] == '=' ? 0 : val[(unsigned char)s[i + 3]];

		if ((a | b | c | d) < 0)
			return -1;
		s[o++] = (char)(a << 2 | b >> 4);
		if (s[i + 2] != '=')
			s[o++] = (char)((b & 15) << 4 | c >> 2);
		if (s[i + 3] != '=')
			s[o++] = (char)((c & 3) << 6 | d);
	}
	return (long)o;
}

/* A JSON string as cJSON_PrintUnformatted writes it. */
static void
put_str(struct buf *b, const char *s, size_t n)
{
	size_t run = 0;

	put(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char e[8];

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		put(b, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"': put(b, "\\\"", 2); break;
		case '\\': put(b, "\\\\", 2); break;
		case '\b': put(b, "\\b", 2); break;
		case '\f': put(b, "\\f", 2); break;
		case '\n': put(b, "\\n", 2); break;
		case '\r': put(b, "\\r", 2); break;
		case '\t': put(b, "\\t", 2); break;
		default:
			snprintf(e, sizeof(e), "\\u%04x", c);
			put(b, e, 6);
		}
	}
	put(b, s + run, n - run);
	put(b, "\"", 1);
}

static void
put_field(struct buf *b, const char *key, const char *s, size_t n, int last)
{
	put(b, "\"", 1);
	put(b, key, strlen(key));
	put(b, "\":", 2);
	if (utf8_ok((const unsigned char *)s, n)) {
		put_str(b, s, n);
	} else {
		put(b, "\"", 1);
		put_b64(b, (const unsigned char *)s, n);
		put(b, "\",\"", 3);
		put(b, key, strlen(key));
		put(b, "_encoding\":\"base64\"", 19);
	}
	put(b, last ? "}" : ",", 1);
}

static curl_mime *
form(gearman_job_st *job, const char *w, size_t wn)
{
	curl_mime *m = curl_mime_init(L.curl);
	const char *k[] = {"function_name", "job_handle", "unique", "workload"};
	const char *v[] = {gearman_job_function_name(job),
	    gearman_job_handle(job), gearman_job_unique(job), w};

	for (int i = 0; i < 4; i++) {
		curl_mimepart *p = curl_mime_addpart(m);

		curl_mime_name(p, k[i]);
		curl_mime_data(p, v[i] ? v[i] : "", i == 3 ? wn :
		    CURL_ZERO_TERMINATED);
	}
	return m;
}

/* The endpoint's answer: the bytes of response_string, or NULL. */
static char *
answer(size_t *n)
{
	cJSON *o = cJSON_ParseWithLength(L.resp.p, L.resp.len);
	cJSON *r = cJSON_GetObjectItemCaseSensitive(o, "gearman_ret");
	cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "response_string");
	cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "response_encoding");
	char *out = NULL;
	long len;

	if (cJSON_IsNumber(r) && r->valuedouble == 0 && cJSON_IsString(s)) {
		out = strdup(s->valuestring);
		len = (long)strlen(out);
		if (e != NULL && (len = b64_decode(out, (size_t)len)) < 0) {
			free(out);
			out = NULL;
		}
		*n = (size_t)len;
	}
	cJSON_Delete(o);
	return out;
}

static void *
run_job(gearman_job_st *job, void *ctx, size_t *size, gearman_return_t *ret)
{
	const char *w = gearman_job_workload(job);
	size_t wn = gearman_job_workload_size(job);
	const char *u = gearman_job_unique(job);
	const char *f = gearman_job_function_name(job);
	const char *h = gearman_job_handle(job);
	curl_mime *m = NULL;
	long status = 0;
	char *out = NULL;

	(void)ctx;
	if (w == NULL)
		w = "";
	if (u == NULL)
		u = "";
	L.resp.len = 0;
	if (L.form) {
		m = form(job, w, wn);
		curl_easy_setopt(L.curl, CURLOPT_MIMEPOST, m);
	} else {
		L.req.len = 0;
		put(&L.req, "{", 1);
		put_field(&L.req, "function_name", f, strlen(f), 0);
		put_field(&L.req, "job_handle", h, strlen(h), 0);
		put_field(&L.req, "unique", u, strlen(u), 0);
		put_field(&L.req, "workload", w, wn, 1);
		curl_easy_setopt(L.curl, CURLOPT_POSTFIELDS, L.req.p);
		curl_easy_setopt(L.curl, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)L.req.len);
	}
	if (curl_easy_perform(L.curl) == CURLE_OK &&
	    curl_easy_getinfo(L.curl, CURLINFO_RESPONSE_CODE, &status) ==
	    CURLE_OK && status == 200 && L.resp.len > 0)
		out = answer(size);
	if (m != NULL)
		curl_mime_free(m);
	L.jobs++;
	*ret = out ? GEARMAN_SUCCESS : GEARMAN_WORK_FAIL;
	if (out == NULL)
		*size = 0;
	return out;	/* libgearman sends and frees it */
}

int
main(int argc, char **argv)
{
	const char *server = NULL, *function = NULL, *uri = NULL;
	struct curl_slist *hdr;
	gearman_worker_st *gw;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--form") == 0)
			L.form = 1;
		else if (strcmp(a, "--parsed_url") == 0)
			L.parsed_url = 1;
		else if (v && strcmp(a, "--server") == 0)
			server = v, i++;
		else if (v && strcmp(a, "--function") == 0)
			function = v, i++;
		else if (v && strcmp(a, "--uri") == 0)
			uri = v, i++;
		else if (v && strcmp(a, "--max_jobs") == 0)
			L.max_jobs = atol(v), i++;
		else {
			fprintf(stderr, "usage: limit --server HOST:PORT "
			    "--function NAME --uri URL [--form] [--max_jobs N] "
			    "[--parsed_url]\n");
			return 2;
		}
	}
	if (!server || !function || !uri)
		return 2;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	L.curl = curl_easy_init();
	hdr = curl_slist_append(NULL, "Expect:");
	if (!L.form)
		hdr = curl_slist_append(hdr, "Content-Type: application/json");
	if (L.parsed_url) {
		if ((L.url = curl_url()) == NULL || curl_url_set(L.url,
		    CURLUPART_URL, uri, 0) != CURLUE_OK) {
			fprintf(stderr, "limit: bad URL\n");
			return 2;
		}
		curl_easy_setopt(L.curl, CURLOPT_CURLU, L.url);
		curl_easy_setopt(L.curl, CURLOPT_PROXY, "");
		curl_easy_setopt(L.curl, CURLOPT_NOPROXY, "");
	} else {
		curl_easy_setopt(L.curl, CURLOPT_URL, uri);
	}
	curl_easy_setopt(L.curl, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(L.curl, CURLOPT_USERAGENT, "driveshaft/limit");
	curl_easy_setopt(L.curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(L.curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(L.curl, CURLOPT_WRITEDATA, &L.resp);
	gw = gearman_worker_create(NULL);
	gearman_worker_add_options(gw, GEARMAN_WORKER_GRAB_UNIQ);
	if (gearman_worker_add_servers(gw, server) != GEARMAN_SUCCESS ||
	    gearman_worker_add_function(gw, function, 0, run_job, NULL) !=
	    GEARMAN_SUCCESS) {
		fprintf(stderr, "limit: %s\n", gearman_worker_error(gw));
		return 2;
	}
	while (L.max_jobs == 0 || L.jobs < L.max_jobs) {
		gearman_return_t rc = gearman_worker_work(gw);

		if (rc != GEARMAN_SUCCESS && rc != GEARMAN_WORK_FAIL &&
		    rc != GEARMAN_TIMEOUT && rc != GEARMAN_NO_JOBS &&
		    rc != GEARMAN_IO_WAIT) {
			fprintf(stderr, "limit: %s\n", gearman_worker_error(gw));
			return 1;
		}
	}
	gearman_worker_free(gw);
	curl_easy_cleanup(L.curl);
	curl_url_cleanup(L.url);
	curl_slist_free_all(hdr);
	curl_global_cleanup();
	return 0;
}
