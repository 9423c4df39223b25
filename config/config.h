/* config.h: the jobs config (docs/config.md): model, loader and validator.
 * Loading is strict: every problem is reported with the file and either the
 * line:column of a syntax error or the JSON path of a bad value. */
#ifndef DS_CONFIG_H
#define DS_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "common/bounds.h"
#include "config/server.h"

enum ds_request_format { DS_FORMAT_JSON = 0, DS_FORMAT_FORM = 1 };

#define DS_DEFAULT_MAX_RESPONSE_BYTES (16 * 1024 * 1024)
/* What one worker's command line carries; the worker enforces the same. */
#define DS_MAX_SERVERS 64
/* one process each: past this a typo (100000 for 10000) forks a host to
 * its knees before any other limit says no */
#define DS_MAX_WORKERS_PER_POOL 10000
#define DS_MAX_JOBS_PER_POOL 256
/* sun_path holds 108 bytes with the NUL. */
#define DS_MAX_UNIX_SOCKET_PATH 107
/* The queue view's settings (docs/config.md). */
#define DS_DEFAULT_QUEUE_POLL_MS 5000
#define DS_DEFAULT_STUCK_AFTER_MS 60000
#define DS_DEFAULT_SCALE_DOWN_MS 60000
#define DS_MAX_QUEUE_POLL_SECONDS 3600
/* The monitor gets every function of every pool on its command line. */
#define DS_MAX_MONITOR_FUNCTIONS 1024

struct ds_pool {
	char *name;
	int worker_count;		/* >= 0; a queue-sized pool: its start */
	char **jobs;			/* non-empty strings, njobs >= 1 */
	size_t njobs;
	char *uri;			/* http:// or https:// */
	enum ds_request_format format;	/* "json" (default) or "form" */
	int64_t max_running_ms;		/* 0: the --max_running_time option */
	int64_t max_jobs_per_worker;	/* 0: never recycle */
	int64_t max_response_bytes;	/* default 16 MiB */
	char *unix_socket;		/* absolute path, or NULL: TCP */
	/* sized by the queue (min_workers and max_workers given) */
	int queue_sized;
	int min_workers, max_workers;	/* fixed pools: both worker_count */
	int64_t scale_down_after_ms;	/* default 60 s */
};

struct ds_config {
	char **server_strs;		/* as written in the file */
	struct ds_server *servers;	/* parsed, same order */
	size_t nservers;		/* >= 1 */
	struct ds_pool *pools;		/* in file order */
	size_t npools;
	int64_t queue_poll_ms;		/* 0: no queue view; default 5 s */
	int64_t stuck_after_ms;		/* default 60 s */
};

/* Messages collected while loading: errors make the load fail, warnings
 * (unknown keys) do not. Each message is one line, already prefixed with
 * the file name. */
struct ds_diag {
	char **errors;
	size_t nerrors;
	char **warnings;
	size_t nwarnings;
};

/* Parses text (len bytes, need not be NUL-terminated) named filename in
 * messages. Returns 0 and fills cfg, or -1 with diag->nerrors >= 1 and cfg
 * left empty. */
int ds_config_parse(const char *text, size_t len, const char *filename,
    struct ds_config *cfg, struct ds_diag *diag);

/* Reads and parses path. An unreadable file is one error naming it. */
int ds_config_load(const char *path, struct ds_config *cfg,
    struct ds_diag *diag);

const struct ds_pool *ds_config_pool(const struct ds_config *cfg,
    const char *name);

void ds_config_free(struct ds_config *cfg);
void ds_diag_free(struct ds_diag *diag);

#endif
