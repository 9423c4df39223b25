/* config.c: loads and validates the jobs config (docs/config.md). The
 * strict syntax check in json_syntax.c runs first so that errors carry an
 * exact line:column and a reason; cJSON then builds the tree that the
 * validator walks, collecting every problem it finds. */
#include "config/config.h"
#include "config/cfg.h"

#include "common/text.h"
#include "common/bounds.h"
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
/* First buffer for a file whose size fstat does not know (a pipe). */
#define MIN_READ_BUF		4096

static void
parse_servers(struct ctx *c, struct ds_config *cfg, const cJSON *v)
{
	const char *path = "gearman_servers_list";
	char ipath[64], err[512];
	const cJSON *e;
	size_t n, i = 0;

	if (!cJSON_IsArray(v) || v->child == NULL) {
		cfg_expected(c, path, "non-empty array of server strings", v);
		return;
	}
	n = (size_t)cJSON_GetArraySize(v);
	if (n > DS_MAX_SERVERS) {
		cfg_report(c, 0, "%s: expected at most %d servers, got %zu", path,
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

		cfg_pathf(ipath, sizeof(ipath), "%s[%zu]", path, i++);
		if (!cJSON_IsString(e)) {
			cfg_expected(c, ipath, "server string", e);
			continue;
		}
		/* ds_server_parse quotes the string raw in its message. */
		if (cfg_has_control(e->valuestring)) {
			cfg_expected(c, ipath, "server string without control "
			    "characters", e);
			continue;
		}
		if (ds_server_parse(e->valuestring, sv, err, sizeof(err)) < 0) {
			cfg_report(c, 0, "%s: %s", ipath, err);
			continue;
		}
		if (cfg_dup_str(c, &cfg->server_strs[cfg->nservers],
		    e->valuestring) < 0)
			return;
		cfg->nservers++;
	}
}

/* One top-level key whose slot parse_top found. */
static void
parse_top_key(struct ctx *c, struct ds_config *cfg, const char *name,
    const char *path, const cJSON *e)
{
	if (strcmp(name, "gearman_servers_list") == 0)
		parse_servers(c, cfg, e);
	else if (strcmp(name, "pools_list") == 0)
		cfg_parse_pools(c, cfg, e);
	else if (strcmp(name, "queue_poll_interval") == 0)
		cfg_get_seconds(c, path, e, 1, DS_MAX_QUEUE_POLL_SECONDS,
		    &cfg->queue_poll_ms);
	else
		cfg_get_seconds(c, path, e, 0, DS_MAX_QUEUE_SECONDS,
		    &cfg->stuck_after_ms);
}

static void
parse_top(struct ctx *c, struct ds_config *cfg, const cJSON *root)
{
	const cJSON *servers = NULL, *pools = NULL, *poll = NULL, *stuck = NULL;
	const cJSON *e;
	char path[PATH_MAX_LEN];

	cfg->queue_poll_ms = DS_DEFAULT_QUEUE_POLL_MS;
	cfg->stuck_after_ms = DS_DEFAULT_STUCK_AFTER_MS;

	if (!cJSON_IsObject(root)) {
		char buf[64];

		cfg_report(c, 0, "expected an object at the top level, got %s",
		    cfg_show(buf, sizeof(buf), root));
		return;
	}
	cJSON_ArrayForEach(e, root) {
		const cJSON **slot = NULL;

		if (strcmp(e->string, "gearman_servers_list") == 0)
			slot = &servers;
		else if (strcmp(e->string, "pools_list") == 0)
			slot = &pools;
		else if (strcmp(e->string, "queue_poll_interval") == 0)
			slot = &poll;
		else if (strcmp(e->string, "stuck_after") == 0)
			slot = &stuck;
		cfg_path_key(path, sizeof(path), "", e->string);
		if (slot == NULL) {
			cfg_report(c, 1, "%s: unknown key, ignored", path);
			continue;
		}
		if (*slot != NULL) {
			cfg_report(c, 0, "%s: duplicate key", path);
			continue;
		}
		*slot = e;
		parse_top_key(c, cfg, e->string, path, e);
	}
	if (servers == NULL)
		cfg_report(c, 0, "missing required key gearman_servers_list");
	if (pools == NULL)
		cfg_report(c, 0, "missing required key pools_list");
	cfg_check_queue(c, cfg);
}

static int
finish(struct ctx *c, struct ds_config *cfg)
{
	if (c->oom)
		cfg_report(c, 0, "out of memory");
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
	cfg_report_at(c, "%zu:%zu: invalid JSON: %s", err.line, err.col,
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
			cfg_report(c, 0, "file is larger than 16 MiB");
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
			cfg_report(c, 0, "cannot read: %s", strerror(errno));
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
		cfg_report(c, 0, "cannot read: %s", strerror(errno));
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
