/* cfg.h: private to config/: the loader's context and the helpers that
 * report a problem with its file and JSON path, shared by config.c (the
 * file and the top level) and pool.c (one pool's keys). */
#ifndef DS_CFG_H
#define DS_CFG_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <libgearman-1.0/limits.h>

#include "config/config.h"

#define MAX_EXACT_INT		9007199254740992.0	/* 2^53 */
/* libgearman refuses to register a longer function name, so such a job
 * could never be served: better to say so at load time than in a worker's
 * log. */
#define MAX_JOB_NAME		GEARMAN_FUNCTION_MAX_SIZE
/* Pool names end up in worker command lines, log lines and metric labels;
 * a bound keeps all of those readable. */
#define MAX_POOL_NAME		128
#define SHOW_CHARS		40
#define PATH_MAX_LEN		1024

struct ctx {
	const char	*file;
	struct ds_diag	*diag;
	int		 oom;
};

void cfg_report(struct ctx *c, int warning, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A syntax error: the message starts with line:column. */
void cfg_report_at(struct ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "PATH: expected WHAT, got VALUE" as an error. */
void cfg_expected(struct ctx *c, const char *path, const char *what,
    const cJSON *v);
/* s quoted for a message, escaped, cut at about SHOW_CHARS bytes. */
void cfg_quote(char *dst, size_t size, const char *s);
/* A short, one-line rendering of v for messages. */
const char *cfg_show(char *buf, size_t size, const cJSON *v);
int cfg_valid_name(const char *s);
int cfg_has_control(const char *s);
void cfg_pathf(char *dst, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* base.key, or base["key"] when key is not a plain name. */
void cfg_path_key(char *dst, size_t size, const char *base, const char *key);
/* An integer in [min, max] into *out; 0, or -1 with the error reported. */
int cfg_get_int(struct ctx *c, const char *path, const cJSON *v, int64_t min,
    int64_t max, int64_t *out);
/* Seconds (a JSON number, millisecond precision) in [0 or 0.001, max]
 * into *ms; zero_ok allows 0. 0, or -1 with the error reported. */
int cfg_get_seconds(struct ctx *c, const char *path, const cJSON *v,
    int zero_ok, double max, int64_t *ms);
/* strdup that notes running out of memory in c. */
int cfg_dup_str(struct ctx *c, char **dst, const char *s);

/* pool.c: pools_list and every pool in it. */
void cfg_parse_pools(struct ctx *c, struct ds_config *cfg, const cJSON *v);
/* After the whole file: what the queue view's keys ask of the pools. */
void cfg_check_queue(struct ctx *c, const struct ds_config *cfg);

#endif
