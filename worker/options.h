/* options.h: the worker's command line. The master passes everything a
 * worker needs here, so a worker never reads the (possibly changed) jobs
 * config file. */
#ifndef DS_WORKER_OPTIONS_H
#define DS_WORKER_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/log.h"
#include "config/config.h"

#define DS_WORKER_MAX_SERVERS DS_MAX_SERVERS
#define DS_WORKER_MAX_FUNCTIONS DS_MAX_JOBS_PER_POOL

struct ds_worker_opts {
	const char *pool;
	int slot;
	size_t nservers;
	size_t nfunctions;
	const char *uri;
	const char *unix_socket;	/* NULL: connect to the URI's host */
	enum ds_request_format format;
	int64_t max_running_ms;
	int64_t loop_timeout_ms;
	int64_t max_jobs;		/* 0: never recycle */
	int64_t max_response_bytes;
	int master_fd;			/* -1: run by hand, no master */
	int shm_fd;			/* -1: no shared slot page */
	int master_pid;			/* 0: not given */
	struct ds_log_settings log;
	/* as many as given, malloc'd: room for the most a worker may take
	 * (19 KB) would cost a resident page of its own */
	const char **functions;
	struct ds_server *servers;
};

/* Fills o from argv (o's old contents are overwritten, not freed; o
 * points into argv). Returns 0 to run, 1 when --help was printed, -1 on a
 * usage error with err naming the option at fault. Either way, free o
 * with ds_worker_opts_free(). */
int ds_worker_parse_args(int argc, char **argv, struct ds_worker_opts *o,
    char *err, size_t errlen);

void ds_worker_opts_free(struct ds_worker_opts *o);

void ds_worker_usage(FILE *f);

#endif
