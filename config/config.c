/* config.c: loads and validates the jobs config (SPEC section 3). The
 * strict syntax check in json_syntax.c runs first so that errors carry an
 * exact line:column and a reason; cJSON then builds the tree that the
 * validator walks, collecting every problem it finds. */
#include "config/config.h"

#include "common/text.h"
#include "config/json_syntax.h"

#include <sys/stat.h>

#include <cjson/cJSON.h>
#include <libgearman-1.0/limits.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define MAX_FILE_BYTES		(16 * 1024 * 1024)
#define MAX_RESPONSE_BYTES	(1024 * 1024 * 1024)
#define MAX_RUNNING_SECONDS	86400
#define MAX_EXACT_INT		9007199254740992.0	/* 2^53 */
/* libgearman refuses to register a longer function name, so such a job
 * could never be served: better to say so at load time than in a worker's
 * log. */
#define MAX_JOB_NAME		GEARMAN_FUNCTION_MAX_SIZE
/* Pool names end up in worker command lines, log lines and metric labels;
 * a bound keeps all of those readable. */
#define MAX_POOL_NAME		128
/* First buffer for a file whose size fstat does not know (a pipe). */
#define MIN_READ_BUF		4096
#define SHOW_CHARS		40
#define PATH_MAX_LEN		1024

struct ctx {
	const char	*file;
	struct ds_diag	*diag;
	int		 oom;
};

/* --- messages --- */

static int
push(char ***list, size_t *n, char *s)
{
	char **nl;

	nl = realloc(*list, (*n + 1) * sizeof(*nl));
	if (nl == NULL)
		return -1;
	nl[(*n)++] = s;
	*list = nl;
	return 0;
}

/* sep goes between the file name and the body: ": " before a JSON path,
 * ":" before the line:column of a syntax error. */
static void
vreport(struct ctx *c, int warning, const char *sep, const char *fmt,
    va_list ap)
{
	char *body, *line;
	int rc;

	if (vasprintf(&body, fmt, ap) < 0) {
		c->oom = 1;
		return;
	}
	rc = asprintf(&line, "%s%s%s", c->file, sep, body);
	free(body);
	if (rc < 0) {
		c->oom = 1;
		return;
	}
	if ((warning ? push(&c->diag->warnings, &c->diag->nwarnings, line) :
	    push(&c->diag->errors, &c->diag->nerrors, line)) < 0) {
		free(line);
		c->oom = 1;
	}
}

static void __attribute__((format(printf, 3, 4)))
report(struct ctx *c, int warning, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(c, warning, ": ", fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 2, 3)))
report_at(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(c, 0, ":", fmt, ap);
	va_end(ap);
}

/* Quotes s JSON-style, escaping anything that would break the one-line
 * message, and cuts it at about SHOW_CHARS bytes. */
static void
quote(char *dst, size_t size, const char *s)
{
	size_t o = 0, i;
	char esc[8];

	dst[o++] = '"';
	for (i = 0; s[i] != '\0' && o + 12 < size; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (i >= SHOW_CHARS && (ch & 0xC0) != 0x80) {
			memcpy(dst + o, "...", 3);
			o += 3;
			break;
		}
		if (ch == '"' || ch == '\\')
			snprintf(esc, sizeof(esc), "\\%c", ch);
		else if (ch == '\n')
			snprintf(esc, sizeof(esc), "\\n");
		else if (ch == '\t')
			snprintf(esc, sizeof(esc), "\\t");
		else if (ch == '\r')
			snprintf(esc, sizeof(esc), "\\r");
		else if (ch < 0x20 || ch == 0x7F)
			snprintf(esc, sizeof(esc), "\\u%04x", ch);
		else {
			esc[0] = (char)ch;
			esc[1] = '\0';
		}
		memcpy(dst + o, esc, strlen(esc));
		o += strlen(esc);
	}
	dst[o++] = '"';
	dst[o] = '\0';
}

/* Short JSON-ish form of a value found where something else was expected. */
static const char *
show(char *buf, size_t size, const cJSON *v)
{
	if (cJSON_IsString(v))
		quote(buf, size, v->valuestring);
	else if (cJSON_IsNumber(v))
		snprintf(buf, size, "%g", v->valuedouble);
	else if (cJSON_IsTrue(v))
		snprintf(buf, size, "true");
	else if (cJSON_IsFalse(v))
		snprintf(buf, size, "false");
	else if (cJSON_IsNull(v))
		snprintf(buf, size, "null");
	else if (cJSON_IsArray(v))
		snprintf(buf, size, v->child ? "an array" : "an empty array");
	else if (cJSON_IsObject(v))
		snprintf(buf, size, v->child ? "an object" : "an empty object");
	else
		snprintf(buf, size, "an invalid value");
	return buf;
}

static void
expected(struct ctx *c, const char *path, const char *what, const cJSON *v)
{
	char buf[SHOW_CHARS * 6 + 16];

	report(c, 0, "%s: expected %s, got %s", path, what,
	    show(buf, sizeof(buf), v));
}

/* --- validation --- */

static int
name_char(unsigned char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	    (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == ':' ||
	    ch == '-';
}

static int
valid_name(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!name_char((unsigned char)*s))
			return 0;
	return 1;
}

static int
has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7F)
			return 1;
	return 0;
}

/* Paths are only for messages: a cut one is better than none. */
static void __attribute__((format(printf, 3, 4)))
pathf(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, size, fmt, ap);
	va_end(ap);
}

/* Appends key to base: bare when it is a plain name, else ["quoted"], so a
 * path always stays readable and on one line. */
static void
path_key(char *dst, size_t size, const char *base, const char *key)
{
	char q[SHOW_CHARS * 6 + 16];

	if (valid_name(key)) {
		pathf(dst, size, "%s%s%s", base, *base ? "." : "", key);
		return;
	}
	quote(q, sizeof(q), key);
	pathf(dst, size, "%s[%s]", base, q);
}

/* An integer in [min, max]: a JSON number without a fractional part. */
static int
get_int(struct ctx *c, const char *path, const cJSON *v, int64_t min,
    int64_t max, int64_t *out)
{
	char what[64];
	double d;

	d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
	if (isnan(d) || d != floor(d) || d < (double)min) {
		snprintf(what, sizeof(what), "integer >= %lld", (long long)min);
		expected(c, path, what, v);
		return -1;
	}
	if (d > (double)max) {
		snprintf(what, sizeof(what), "integer <= %lld", (long long)max);
		expected(c, path, what, v);
		return -1;
	}
	*out = (int64_t)d;
	return 0;
}

static int
dup_str(struct ctx *c, char **dst, const char *s)
{
	if ((*dst = strdup(s)) == NULL) {
		c->oom = 1;
		return -1;
	}
	return 0;
}

static void
parse_servers(struct ctx *c, struct ds_config *cfg, const cJSON *v)
{
	const char *path = "gearman_servers_list";
	char ipath[64], err[512];
	const cJSON *e;
	size_t n, i = 0;

	if (!cJSON_IsArray(v) || v->child == NULL) {
		expected(c, path, "non-empty array of server strings", v);
		return;
	}
	n = (size_t)cJSON_GetArraySize(v);
	if (n > DS_MAX_SERVERS) {
		report(c, 0, "%s: expected at most %d servers, got %zu", path,
		    DS_MAX_SERVERS, n);
		return;
	}
	cfg->server_strs = calloc(n, sizeof(*cfg->server_strs));
	cfg->servers = calloc(n, sizeof(*cfg->servers));
	if (cfg->server_strs == NULL || cfg->servers == NULL) {
		c->oom = 1;
		return;
	}
	cJSON_ArrayForEach(e, v) {
		struct ds_server *sv = &cfg->servers[cfg->nservers];

		pathf(ipath, sizeof(ipath), "%s[%zu]", path, i++);
		if (!cJSON_IsString(e)) {
			expected(c, ipath, "server string", e);
			continue;
		}
		/* ds_server_parse quotes the string raw in its message. */
		if (has_control(e->valuestring)) {
			expected(c, ipath, "server string without control "
			    "characters", e);
			continue;
		}
		if (ds_server_parse(e->valuestring, sv, err, sizeof(err)) < 0) {
			report(c, 0, "%s: %s", ipath, err);
			continue;
		}
		if (dup_str(c, &cfg->server_strs[cfg->nservers],
		    e->valuestring) < 0)
			return;
		cfg->nservers++;
	}
}

static int
check_job(struct ctx *c, const char *path, const cJSON *v)
{
	char what[64];

	if (!cJSON_IsString(v) || *v->valuestring == '\0') {
		expected(c, path, "non-empty string", v);
		return -1;
	}
	if (has_control(v->valuestring)) {
		expected(c, path, "job name without control characters", v);
		return -1;
	}
	if (strlen(v->valuestring) > MAX_JOB_NAME) {
		snprintf(what, sizeof(what), "a job name of at most %d bytes",
		    MAX_JOB_NAME);
		expected(c, path, what, v);
		return -1;
	}
	return 0;
}

static void
parse_jobs(struct ctx *c, struct ds_pool *p, const char *path, const cJSON *v)
{
	char ipath[PATH_MAX_LEN];
	const cJSON *e;
	size_t i = 0, j;

	if (!cJSON_IsArray(v) || v->child == NULL) {
		expected(c, path, "non-empty array of job names", v);
		return;
	}
	if (cJSON_GetArraySize(v) > DS_MAX_JOBS_PER_POOL) {
		report(c, 0, "%s: expected at most %d job names, got %d", path,
		    DS_MAX_JOBS_PER_POOL, cJSON_GetArraySize(v));
		return;
	}
	p->jobs = calloc((size_t)cJSON_GetArraySize(v), sizeof(*p->jobs));
	if (p->jobs == NULL) {
		c->oom = 1;
		return;
	}
	cJSON_ArrayForEach(e, v) {
		pathf(ipath, sizeof(ipath), "%s[%zu]", path, i++);
		if (check_job(c, ipath, e) < 0)
			continue;
		for (j = 0; j < p->njobs; j++)
			if (strcmp(p->jobs[j], e->valuestring) == 0)
				break;
		if (j < p->njobs) {
			report(c, 0, "%s: duplicate job name \"%s\"", ipath,
			    e->valuestring);
			continue;
		}
		if (dup_str(c, &p->jobs[p->njobs], e->valuestring) < 0)
			return;
		p->njobs++;
	}
}

/* True when uri is http(s)://host... with a non-empty host. */
static int
valid_uri(const char *uri)
{
	const char *a, *end, *at;

	if (strncasecmp(uri, "http://", 7) == 0)
		a = uri + 7;
	else if (strncasecmp(uri, "https://", 8) == 0)
		a = uri + 8;
	else
		return 0;
	end = a + strcspn(a, "/?#");
	/* Skip user:password@ to find the host. */
	for (at = a; at < end; at++)
		if (*at == '@')
			a = at + 1;
	return a < end && *a != ':';
}

/* As expected(), without showing a password the value may hold. */
static void
expected_uri(struct ctx *c, const char *path, const char *what,
    const cJSON *v)
{
	char *redacted;
	cJSON *shown;

	if (!cJSON_IsString(v) || strchr(v->valuestring, '@') == NULL) {
		expected(c, path, what, v);
		return;
	}
	redacted = malloc(strlen(v->valuestring) + 4);
	shown = redacted ? cJSON_CreateString(ds_uri_redact(redacted,
	    strlen(v->valuestring) + 4, v->valuestring)) : NULL;
	expected(c, path, what, shown ? shown : v);
	cJSON_Delete(shown);
	free(redacted);
}

static void
parse_uri(struct ctx *c, struct ds_pool *p, const char *path, const cJSON *v)
{
	const char *s;

	if (!cJSON_IsString(v) || !valid_uri(v->valuestring)) {
		expected_uri(c, path, "http:// or https:// URL with a host", v);
		return;
	}
	for (s = v->valuestring; *s != '\0'; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7F) {
			expected_uri(c, path, "URL without spaces or control "
			    "characters", v);
			return;
		}
	dup_str(c, &p->uri, v->valuestring);
}

static void
parse_format(struct ctx *c, struct ds_pool *p, const char *path,
    const cJSON *v)
{
	if (cJSON_IsString(v) && strcmp(v->valuestring, "json") == 0)
		p->format = DS_FORMAT_JSON;
	else if (cJSON_IsString(v) && strcmp(v->valuestring, "form") == 0)
		p->format = DS_FORMAT_FORM;
	else
		expected(c, path, "\"json\" or \"form\"", v);
}

static void
parse_running_time(struct ctx *c, struct ds_pool *p, const char *path,
    const cJSON *v)
{
	double d;

	if (!cJSON_IsNumber(v) || (d = v->valuedouble) <= 0) {
		expected(c, path, "number of seconds > 0", v);
		return;
	}
	if (d > MAX_RUNNING_SECONDS) {
		expected(c, path, "number of seconds <= 86400", v);
		return;
	}
	/* 0 ms would mean "use the command line option". */
	if (llround(d * 1000) < 1) {
		expected(c, path, "number of seconds >= 0.001", v);
		return;
	}
	p->max_running_ms = llround(d * 1000);
}

/* unix_socket: where the worker connects instead of the URI's host. The
 * path goes into a sockaddr_un, so its length is bounded by sun_path. */
static void
parse_unix_socket(struct ctx *c, struct ds_pool *p, const char *path,
    const cJSON *v)
{
	char what[96];

	if (!cJSON_IsString(v)) {
		expected(c, path, "an absolute path string", v);
		return;
	}
	if (v->valuestring[0] != '/') {
		expected(c, path, "an absolute path (starting with /)", v);
		return;
	}
	if (has_control(v->valuestring)) {
		expected(c, path, "a path without control characters", v);
		return;
	}
	if (strlen(v->valuestring) > DS_MAX_UNIX_SOCKET_PATH) {
		snprintf(what, sizeof(what), "a path of at most %d bytes "
		    "(a unix socket address)", DS_MAX_UNIX_SOCKET_PATH);
		expected(c, path, what, v);
		return;
	}
	dup_str(c, &p->unix_socket, v->valuestring);
}

enum pool_key {
	K_WORKERS, K_JOBS, K_URI, K_FORMAT, K_RUNNING, K_RECYCLE, K_RESPONSE,
	K_SOCKET, K_NKEYS
};

static const char *const pool_keys[K_NKEYS] = {
	"worker_count", "jobs_list", "job_processing_uri", "request_format",
	"max_running_time", "max_jobs_per_worker", "max_response_bytes",
	"unix_socket",
};

static void
parse_pool_key(struct ctx *c, struct ds_pool *p, enum pool_key k,
    const char *path, const cJSON *v)
{
	int64_t n;

	switch (k) {
	case K_WORKERS:
		if (get_int(c, path, v, 0, DS_MAX_WORKERS_PER_POOL, &n) == 0)
			p->worker_count = (int)n;
		break;
	case K_JOBS:
		parse_jobs(c, p, path, v);
		break;
	case K_URI:
		parse_uri(c, p, path, v);
		break;
	case K_FORMAT:
		parse_format(c, p, path, v);
		break;
	case K_RUNNING:
		parse_running_time(c, p, path, v);
		break;
	case K_RECYCLE:
		get_int(c, path, v, 0, (int64_t)MAX_EXACT_INT,
		    &p->max_jobs_per_worker);
		break;
	case K_RESPONSE:
		get_int(c, path, v, 1, MAX_RESPONSE_BYTES,
		    &p->max_response_bytes);
		break;
	case K_SOCKET:
		parse_unix_socket(c, p, path, v);
		break;
	default:
		break;
	}
}

static void
parse_pool(struct ctx *c, struct ds_pool *p, const char *path, const cJSON *v)
{
	const cJSON *seen[K_NKEYS] = { NULL };
	char kpath[PATH_MAX_LEN];
	const cJSON *e;
	int k;

	p->max_response_bytes = DS_DEFAULT_MAX_RESPONSE_BYTES;
	if (!cJSON_IsObject(v)) {
		expected(c, path, "pool object", v);
		return;
	}
	cJSON_ArrayForEach(e, v) {
		path_key(kpath, sizeof(kpath), path, e->string);
		for (k = 0; k < K_NKEYS; k++)
			if (strcmp(e->string, pool_keys[k]) == 0)
				break;
		if (k == K_NKEYS) {
			report(c, 1, "%s: unknown key, ignored", kpath);
			continue;
		}
		if (seen[k] != NULL) {
			report(c, 0, "%s: duplicate key", kpath);
			continue;
		}
		seen[k] = e;
		parse_pool_key(c, p, (enum pool_key)k, kpath, e);
	}
	for (k = K_WORKERS; k <= K_URI; k++)
		if (seen[k] == NULL)
			report(c, 0, "%s: missing required key %s", path,
			    pool_keys[k]);
}

/* A bad name is reported but the pool is still checked, so that one run
 * shows every problem. */
static void
check_pool_name(struct ctx *c, const char *path, const char *name)
{
	char q[SHOW_CHARS * 6 + 16];

	quote(q, sizeof(q), name);
	if (!valid_name(name))
		report(c, 0, "%s: expected pool name of letters, digits and "
		    "_.:-, got %s", path, q);
	if (strlen(name) > MAX_POOL_NAME)
		report(c, 0, "%s: expected a pool name of at most %d bytes, "
		    "got %s", path, MAX_POOL_NAME, q);
}

static void
parse_pools(struct ctx *c, struct ds_config *cfg, const cJSON *v)
{
	char path[PATH_MAX_LEN];
	const cJSON *e, *prev;

	if (!cJSON_IsObject(v)) {
		expected(c, "pools_list", "object of pool name to pool", v);
		return;
	}
	if (v->child == NULL)
		return;
	cfg->pools = calloc((size_t)cJSON_GetArraySize(v), sizeof(*cfg->pools));
	if (cfg->pools == NULL) {
		c->oom = 1;
		return;
	}
	cJSON_ArrayForEach(e, v) {
		struct ds_pool *p = &cfg->pools[cfg->npools++];

		path_key(path, sizeof(path), "pools_list", e->string);
		for (prev = v->child; prev != e; prev = prev->next)
			if (strcmp(prev->string, e->string) == 0)
				break;
		if (prev != e) {
			report(c, 0, "%s: duplicate pool name", path);
			continue;
		}
		check_pool_name(c, path, e->string);
		if (dup_str(c, &p->name, e->string) < 0)
			return;
		parse_pool(c, p, path, e);
	}
}

static void
parse_top(struct ctx *c, struct ds_config *cfg, const cJSON *root)
{
	const cJSON *servers = NULL, *pools = NULL, *e;
	char path[PATH_MAX_LEN];

	if (!cJSON_IsObject(root)) {
		char buf[64];

		report(c, 0, "expected an object at the top level, got %s",
		    show(buf, sizeof(buf), root));
		return;
	}
	cJSON_ArrayForEach(e, root) {
		const cJSON **slot = NULL;

		if (strcmp(e->string, "gearman_servers_list") == 0)
			slot = &servers;
		else if (strcmp(e->string, "pools_list") == 0)
			slot = &pools;
		path_key(path, sizeof(path), "", e->string);
		if (slot == NULL) {
			report(c, 1, "%s: unknown key, ignored", path);
			continue;
		}
		if (*slot != NULL) {
			report(c, 0, "%s: duplicate key", path);
			continue;
		}
		*slot = e;
		if (slot == &servers)
			parse_servers(c, cfg, e);
		else
			parse_pools(c, cfg, e);
	}
	if (servers == NULL)
		report(c, 0, "missing required key gearman_servers_list");
	if (pools == NULL)
		report(c, 0, "missing required key pools_list");
}

static int
finish(struct ctx *c, struct ds_config *cfg)
{
	if (c->oom)
		report(c, 0, "out of memory");
	if (c->diag->nerrors == 0 && !c->oom)
		return 0;
	ds_config_free(cfg);
	return -1;
}

/* The checker knows nothing of files; the message gets the name here. */
static int
check_syntax(struct ctx *c, const char *text, size_t len)
{
	struct ds_json_syntax_error err;

	if (ds_json_syntax_check(text, len, &err) == 0)
		return 0;
	report_at(c, "%zu:%zu: invalid JSON: %s", err.line, err.col,
	    err.reason);
	return -1;
}

int
ds_config_parse(const char *text, size_t len, const char *filename,
    struct ds_config *cfg, struct ds_diag *diag)
{
	struct ctx c = { .file = filename, .diag = diag };
	cJSON *root;
	char *copy;

	memset(cfg, 0, sizeof(*cfg));
	memset(diag, 0, sizeof(*diag));
	if (check_syntax(&c, text, len) < 0)
		return finish(&c, cfg);
	/* cJSON skips a BOM only when more than one byte follows it. */
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
		text += 3;
		len -= 3;
	}
	/* cJSON gets a NUL-terminated copy so it can never read past len. */
	if ((copy = malloc(len + 1)) == NULL) {
		c.oom = 1;
		return finish(&c, cfg);
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	root = cJSON_ParseWithLengthOpts(copy, len, NULL, 0);
	free(copy);
	if (root == NULL) {
		/* The syntax check passed, so cJSON can only have run out of
		 * memory. */
		c.oom = 1;
		return finish(&c, cfg);
	}
	parse_top(&c, cfg, root);
	cJSON_Delete(root);
	return finish(&c, cfg);
}

/* The next read buffer size: first the size fstat gave plus one byte, so
 * that a file read whole sees end of file without growing, then doubling;
 * never more than one byte past the limit, which is all it takes to tell a
 * full-size file from a larger one. */
static size_t
next_cap(size_t cap, size_t hint)
{
	size_t want;

	if (cap == 0)
		want = hint < MIN_READ_BUF ? MIN_READ_BUF : hint + 1;
	else
		want = cap * 2;
	return want > MAX_FILE_BYTES ? MAX_FILE_BYTES + 1 : want;
}

/* Reads fd to its end. hint is only a first guess: the file may grow while
 * it is read, and pipes and /proc files report a size of 0. */
static char *
read_fd(struct ctx *c, int fd, size_t hint, size_t *lenp)
{
	char *buf = NULL, *nb;
	size_t len = 0, cap = 0;
	ssize_t n;

	for (;;) {
		if (len == cap && len > MAX_FILE_BYTES) {
			report(c, 0, "file is larger than 16 MiB");
			break;
		}
		if (len == cap) {
			cap = next_cap(cap, hint);
			if ((nb = realloc(buf, cap)) == NULL) {
				c->oom = 1;
				break;
			}
			buf = nb;
		}
		if ((n = read(fd, buf + len, cap - len)) > 0) {
			len += (size_t)n;
			continue;
		}
		if (n == 0) {
			*lenp = len;
			return buf;
		}
		if (errno != EINTR) {
			report(c, 0, "cannot read: %s", strerror(errno));
			break;
		}
	}
	free(buf);
	return NULL;
}

static char *
read_file(struct ctx *c, const char *path, size_t *lenp)
{
	struct stat st;
	size_t hint = 0;
	char *buf;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		report(c, 0, "cannot read: %s", strerror(errno));
		return NULL;
	}
	/* No size is no problem: read_fd grows the buffer as it goes. */
	if (fstat(fd, &st) == 0 && st.st_size > 0)
		hint = st.st_size > MAX_FILE_BYTES ? MAX_FILE_BYTES :
		    (size_t)st.st_size;
	buf = read_fd(c, fd, hint, lenp);
	close(fd);
	return buf;
}

int
ds_config_load(const char *path, struct ds_config *cfg, struct ds_diag *diag)
{
	struct ctx c = { .file = path, .diag = diag };
	char *text;
	size_t len;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	memset(diag, 0, sizeof(*diag));
	if ((text = read_file(&c, path, &len)) == NULL)
		return finish(&c, cfg);
	rc = ds_config_parse(text, len, path, cfg, diag);
	free(text);
	return rc;
}

const struct ds_pool *
ds_config_pool(const struct ds_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->npools; i++)
		if (cfg->pools[i].name != NULL &&
		    strcmp(cfg->pools[i].name, name) == 0)
			return &cfg->pools[i];
	return NULL;
}

void
ds_config_free(struct ds_config *cfg)
{
	size_t i, j;

	for (i = 0; i < cfg->nservers; i++)
		free(cfg->server_strs[i]);
	free(cfg->server_strs);
	free(cfg->servers);
	for (i = 0; i < cfg->npools; i++) {
		struct ds_pool *p = &cfg->pools[i];

		free(p->name);
		for (j = 0; j < p->njobs; j++)
			free(p->jobs[j]);
		free(p->jobs);
		free(p->uri);
		free(p->unix_socket);
	}
	free(cfg->pools);
	memset(cfg, 0, sizeof(*cfg));
}

static void
free_list(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

void
ds_diag_free(struct ds_diag *diag)
{
	free_list(diag->errors, diag->nerrors);
	free_list(diag->warnings, diag->nwarnings);
	memset(diag, 0, sizeof(*diag));
}
