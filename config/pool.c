/* pool.c: validates pools_list and each pool's keys (docs/config.md),
 * reporting every problem with its JSON path. */
#include "config/cfg.h"

#include "common/text.h"
#include "common/bounds.h"
#include "config/fcgi_uri.h"
#include "config/server.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int
check_job(struct ctx *c, const char *path, const cJSON *v)
{
	char what[64];

	if (!cJSON_IsString(v) || *v->valuestring == '\0') {
		cfg_expected(c, path, "non-empty string", v);
		return -1;
	}
	if (cfg_has_control(v->valuestring)) {
		cfg_expected(c, path, "job name without control characters", v);
		return -1;
	}
	if (strlen(v->valuestring) > MAX_JOB_NAME) {
		snprintf(what, sizeof(what), "a job name of at most %d bytes",
		    MAX_JOB_NAME);
		cfg_expected(c, path, what, v);
		return -1;
	}
	return 0;
}

/* -fanalyzer loses the job array once it is stored in p (an element of
 * the config's heap array of pools) and reports it leaked: it is not,
 * ds_config_free() frees it. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpragmas"
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
static void
parse_jobs(struct ctx *c, struct ds_pool *p, const char *path, const cJSON *v)
{
	char ipath[PATH_MAX_LEN];
	const cJSON *e;
	size_t i = 0, j;

	if (!cJSON_IsArray(v) || v->child == NULL) {
		cfg_expected(c, path, "non-empty array of job names", v);
		return;
	}
	if (cJSON_GetArraySize(v) > DS_MAX_JOBS_PER_POOL) {
		cfg_report(c, 0, "%s: expected at most %d job names, got %d", path,
		    DS_MAX_JOBS_PER_POOL, cJSON_GetArraySize(v));
		return;
	}
	p->jobs = calloc((size_t)cJSON_GetArraySize(v), sizeof(*p->jobs));
	if (p->jobs == NULL) {
		c->oom = 1;
		return;
	}
	cJSON_ArrayForEach(e, v) {
		cfg_pathf(ipath, sizeof(ipath), "%s[%zu]", path, i++);
		if (check_job(c, ipath, e) < 0)
			continue;
		for (j = 0; j < p->njobs; j++)
			if (strcmp(p->jobs[j], e->valuestring) == 0)
				break;
		if (j < p->njobs) {
			cfg_report(c, 0, "%s: duplicate job name \"%s\"", ipath,
			    e->valuestring);
			continue;
		}
		if (cfg_dup_str(c, &p->jobs[p->njobs], e->valuestring) < 0)
			return;
		p->njobs++;
	}
}
#pragma GCC diagnostic pop

/* The port after a host, if any, is 1 to 65535 (workers cannot parse
 * another and would stop at start). A password with an unescaped '/'
 * ends the host part early, and its first half shows up here. */
static int
valid_port(const char *host, const char *end)
{
	const char *p = host;
	int port;

	if (*host == '[') {
		if ((p = memchr(host, ']', (size_t)(end - host))) == NULL)
			return 0;	/* an IPv6 address never closed */
		if (++p < end && *p != ':')
			return 0;
	}
	if ((p = memchr(p, ':', (size_t)(end - p))) == NULL || p + 1 == end)
		return 1;	/* none, or empty: the scheme's own */
	p++;
	return ds_port_parse(p, (size_t)(end - p), &port) == 0;
}

/* True when uri is http(s)://host... with a non-empty host and a port
 * that is a port. */
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
	return a < end && *a != ':' && valid_port(a, end);
}

/* As cfg_expected(), without showing a password the value may hold. */
static void
expected_uri(struct ctx *c, const char *path, const char *what,
    const cJSON *v)
{
	char *redacted;
	cJSON *shown;

	if (!cJSON_IsString(v) || strchr(v->valuestring, '@') == NULL) {
		cfg_expected(c, path, what, v);
		return;
	}
	redacted = malloc(strlen(v->valuestring) + 4);
	shown = redacted ? cJSON_CreateString(ds_uri_redact(redacted,
	    strlen(v->valuestring) + 4, v->valuestring)) : NULL;
	if (shown == NULL || strcmp(shown->valuestring, v->valuestring) == 0) {
		/* an '@' past the host part: perhaps a password with an
		 * unescaped '/', which no redaction can find */
		cfg_report(c, 0, "%s: expected %s, got a URL with '@' after "
		    "its host (not shown; in a password, write '/' as %%2F)",
		    path, what);
		cJSON_Delete(shown);
		free(redacted);
		return;
	}
	cfg_expected(c, path, what, shown);
	cJSON_Delete(shown);
	free(redacted);
}

static void
parse_uri(struct ctx *c, struct ds_pool *p, const char *path, const cJSON *v)
{
	const char *s;

	/* a fastcgi:// URI is read once unix_socket is known: check_fcgi() */
	if (!cJSON_IsString(v) || (!valid_uri(v->valuestring) &&
	    !ds_is_fcgi_uri(v->valuestring))) {
		expected_uri(c, path, "http:// or https:// URL with a host, or "
		    "fastcgi://HOST:PORT/abs/script.php", v);
		return;
	}
	for (s = v->valuestring; *s != '\0'; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7F) {
			expected_uri(c, path, "URL without spaces or control "
			    "characters", v);
			return;
		}
	cfg_dup_str(c, &p->uri, v->valuestring);
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
		cfg_expected(c, path, "\"json\" or \"form\"", v);
}

static void
parse_running_time(struct ctx *c, struct ds_pool *p, const char *path,
    const cJSON *v)
{
	double d;

	if (!cJSON_IsNumber(v) || (d = v->valuedouble) <= 0) {
		cfg_expected(c, path, "number of seconds > 0", v);
		return;
	}
	if (d > DS_MAX_RUNNING_SECONDS) {
		cfg_expected(c, path, "number of seconds <= "
		    DS_XSTR(DS_MAX_RUNNING_SECONDS), v);
		return;
	}
	/* 0 ms would mean "use the command line option". */
	if (llround(d * 1000) < 1) {
		cfg_expected(c, path, "number of seconds >= 0.001", v);
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
		cfg_expected(c, path, "an absolute path string", v);
		return;
	}
	if (v->valuestring[0] != '/') {
		cfg_expected(c, path, "an absolute path (starting with /)", v);
		return;
	}
	if (cfg_has_control(v->valuestring)) {
		cfg_expected(c, path, "a path without control characters", v);
		return;
	}
	if (strlen(v->valuestring) > DS_MAX_UNIX_SOCKET_PATH) {
		snprintf(what, sizeof(what), "a path of at most %d bytes "
		    "(a unix socket address)", DS_MAX_UNIX_SOCKET_PATH);
		cfg_expected(c, path, what, v);
		return;
	}
	cfg_dup_str(c, &p->unix_socket, v->valuestring);
}

enum pool_key {
	K_WORKERS, K_JOBS, K_URI, K_FORMAT, K_RUNNING, K_RECYCLE, K_RESPONSE,
	K_SOCKET, K_MIN, K_MAX, K_SCALE_DOWN, K_NKEYS
};

static const char *const pool_keys[K_NKEYS] = {
	"worker_count", "jobs_list", "job_processing_uri", "request_format",
	"max_running_time", "max_jobs_per_worker", "max_response_bytes",
	"unix_socket", "min_workers", "max_workers", "scale_down_after",
};

static void
parse_pool_key(struct ctx *c, struct ds_pool *p, enum pool_key k,
    const char *path, const cJSON *v)
{
	int64_t n;

	switch (k) {
	case K_WORKERS:
		if (cfg_get_int(c, path, v, 0, DS_MAX_WORKERS_PER_POOL, &n) == 0)
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
		cfg_get_int(c, path, v, 0, (int64_t)MAX_EXACT_INT,
		    &p->max_jobs_per_worker);
		break;
	case K_RESPONSE:
		cfg_get_int(c, path, v, 1, DS_MAX_RESPONSE_BYTES_CAP,
		    &p->max_response_bytes);
		break;
	case K_SOCKET:
		parse_unix_socket(c, p, path, v);
		break;
	case K_MIN:
		if (cfg_get_int(c, path, v, 0, DS_MAX_WORKERS_PER_POOL, &n) == 0)
			p->min_workers = (int)n;
		break;
	case K_MAX:
		if (cfg_get_int(c, path, v, 0, DS_MAX_WORKERS_PER_POOL, &n) == 0)
			p->max_workers = (int)n;
		break;
	case K_SCALE_DOWN:
		cfg_get_seconds(c, path, v, 1, DS_MAX_QUEUE_SECONDS,
		    &p->scale_down_after_ms);
		break;
	default:
		break;
	}
}

/* worker_count, or min_workers and max_workers (sized by the queue):
 * exactly one of the two shapes. */
static void
check_sizing(struct ctx *c, struct ds_pool *p, const char *path,
    const cJSON *const seen[K_NKEYS])
{
	char kpath[PATH_MAX_LEN];
	int queue = seen[K_MIN] != NULL || seen[K_MAX] != NULL;

	if (queue && seen[K_WORKERS] != NULL)
		cfg_report(c, 0, "%s: worker_count and min_workers/max_workers "
		    "exclude each other: give one or the other", path);
	else if (queue && (seen[K_MIN] == NULL || seen[K_MAX] == NULL))
		cfg_report(c, 0, "%s: %s needs %s too", path,
		    seen[K_MIN] ? "min_workers" : "max_workers",
		    seen[K_MIN] ? "max_workers" : "min_workers");
	else if (!queue && seen[K_WORKERS] == NULL)
		cfg_report(c, 0, "%s: missing required key worker_count", path);
	else if (queue && p->max_workers >= 0 &&
	    p->min_workers > p->max_workers) {
		cfg_path_key(kpath, sizeof(kpath), path, "min_workers");
		cfg_report(c, 0, "%s: expected integer <= max_workers (%d), "
		    "got %d", kpath, p->max_workers, p->min_workers);
	}
	if (!queue && seen[K_SCALE_DOWN] != NULL) {
		cfg_path_key(kpath, sizeof(kpath), path, "scale_down_after");
		cfg_report(c, 0, "%s: only for a pool with min_workers and "
		    "max_workers", kpath);
	}
	p->queue_sized = queue;
	if (queue)
		p->worker_count = p->min_workers;	/* where it starts */
	else
		p->min_workers = p->max_workers = p->worker_count;
}

/* A fastcgi:// URI, now that the pool's unix_socket is known: a URI
 * without a host needs one. */
static void
check_fcgi(struct ctx *c, const struct ds_pool *p, const char *path,
    const cJSON *v)
{
	struct ds_fcgi_uri u;
	char kpath[PATH_MAX_LEN], why[160];

	if (p->uri == NULL || !ds_is_fcgi_uri(p->uri))
		return;
	if (ds_fcgi_uri_parse(p->uri, p->unix_socket != NULL, &u, why,
	    sizeof(why)) == 0)
		return;
	cfg_path_key(kpath, sizeof(kpath), path, "job_processing_uri");
	expected_uri(c, kpath, why, v);
}

static void
parse_pool(struct ctx *c, struct ds_pool *p, const char *path, const cJSON *v)
{
	const cJSON *seen[K_NKEYS] = { NULL };
	char kpath[PATH_MAX_LEN];
	const cJSON *e;
	int k;

	p->max_response_bytes = DS_DEFAULT_MAX_RESPONSE_BYTES;
	p->scale_down_after_ms = DS_DEFAULT_SCALE_DOWN_MS;
	p->min_workers = p->max_workers = -1;	/* not (validly) given */
	if (!cJSON_IsObject(v)) {
		cfg_expected(c, path, "pool object", v);
		return;
	}
	cJSON_ArrayForEach(e, v) {
		cfg_path_key(kpath, sizeof(kpath), path, e->string);
		for (k = 0; k < K_NKEYS; k++)
			if (strcmp(e->string, pool_keys[k]) == 0)
				break;
		if (k == K_NKEYS) {
			cfg_report(c, 1, "%s: unknown key, ignored", kpath);
			continue;
		}
		if (seen[k] != NULL) {
			cfg_report(c, 0, "%s: duplicate key", kpath);
			continue;
		}
		seen[k] = e;
		parse_pool_key(c, p, (enum pool_key)k, kpath, e);
	}
	check_sizing(c, p, path, seen);
	check_fcgi(c, p, path, seen[K_URI]);
	for (k = K_JOBS; k <= K_URI; k++)
		if (seen[k] == NULL)
			cfg_report(c, 0, "%s: missing required key %s", path,
			    pool_keys[k]);
}

/* A bad name is reported but the pool is still checked, so that one run
 * shows every problem. */
static void
check_pool_name(struct ctx *c, const char *path, const char *name)
{
	char q[SHOW_CHARS * 6 + 16];

	cfg_quote(q, sizeof(q), name);
	if (!cfg_valid_name(name))
		cfg_report(c, 0, "%s: expected pool name of letters, digits and "
		    "_.:-, got %s", path, q);
	if (strlen(name) > MAX_POOL_NAME)
		cfg_report(c, 0, "%s: expected a pool name of at most %d bytes, "
		    "got %s", path, MAX_POOL_NAME, q);
}

void
cfg_parse_pools(struct ctx *c, struct ds_config *cfg, const cJSON *v)
{
	char path[PATH_MAX_LEN];
	const cJSON *e, *prev;

	if (!cJSON_IsObject(v)) {
		cfg_expected(c, "pools_list", "object of pool name to pool", v);
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

		cfg_path_key(path, sizeof(path), "pools_list", e->string);
		for (prev = v->child; prev != e; prev = prev->next)
			if (strcmp(prev->string, e->string) == 0)
				break;
		if (prev != e) {
			cfg_report(c, 0, "%s: duplicate pool name", path);
			continue;
		}
		check_pool_name(c, path, e->string);
		if (cfg_dup_str(c, &p->name, e->string) < 0)
			return;
		parse_pool(c, p, path, e);
	}
}
