/* worker_args.h: the contract between the master, which starts a worker,
 * and the worker, which parses what it was given: the option names, the
 * descriptor it inherits, the environment variable; the limits both
 * sides (and the config loader) check are common/bounds.h's. One owner,
 * so they cannot drift. */
#ifndef DS_WORKER_ARGS_H
#define DS_WORKER_ARGS_H

#include <stddef.h>
#include <stdint.h>

#include "common/bounds.h"
#include "common/log.h"
#include "config/config.h"

/* The master's end of the socketpair, as the worker sees it. */
#define DS_WORKER_FD 3
/* The worker's shared slot page (common/slot.h), a memfd. */
#define DS_WORKER_SHM_FD 4

/* argv is readable by every local user (ps, /proc/PID/cmdline); the
 * environment only by the worker's own user and root, so a URI that may
 * carry user:password@ travels there. */
#define DS_WORKER_URI_ENV "DRIVESHAFT_URI"


/* Long option names of driveshaft-worker. */
#define DS_WARG_POOL "pool"
#define DS_WARG_SLOT "slot"
#define DS_WARG_SERVER "server"
#define DS_WARG_FUNCTION "function"
#define DS_WARG_URI "uri"
#define DS_WARG_UNIX_SOCKET "unix_socket"
#define DS_WARG_FORMAT "request_format"
#define DS_WARG_MAX_RUNNING "max_running_time"
#define DS_WARG_LOOP_TIMEOUT "loop_timeout"
#define DS_WARG_MAX_JOBS "max_jobs_per_worker"
#define DS_WARG_MAX_RESPONSE "max_response_bytes"
#define DS_WARG_MASTER_FD "master_fd"
#define DS_WARG_SHM_FD "shm_fd"
#define DS_WARG_MASTER_PID "master_pid"
#define DS_WARG_LOG_IDENT "log_ident"
#define DS_WARG_LOG_FACILITY "log_facility"
#define DS_WARG_LOG_LEVEL "log_level"
#define DS_WARG_LOG_STDERR "log_stderr"
/* The queue monitor is the same program: --monitor first, then --server,
 * --function (every pool's), --queue_poll_interval and the master and log
 * options above. */
#define DS_WARG_MONITOR "monitor"
#define DS_WARG_QUEUE_POLL "queue_poll_interval"
#define DS_WARG_MAX_WORKERS "max_workers"	/* worker rows a server may list */

/* What the master tells one worker; the URI goes by the environment. */
struct ds_worker_spec {
	const char *pool;
	int slot;
	char *const *servers;		/* as written: host[:port], [v6]:port */
	size_t nservers;
	char *const *functions;
	size_t nfunctions;
	const char *unix_socket;	/* NULL: TCP to the URI's host */
	enum ds_request_format format;
	int64_t max_running_ms, loop_timeout_ms;
	int64_t max_jobs, max_response_bytes;
	int master_pid;
	const struct ds_log_settings *log;	/* stderr decided (0 or 1) */
};

/* What the queue monitor is told: every function of every pool. */
struct ds_monitor_spec {
	char *const *servers;
	size_t nservers;
	const char *const *functions;
	size_t nfunctions;		/* at most DS_MAX_MONITOR_FUNCTIONS */
	int64_t interval_ms;
	size_t max_workers;		/* of ours one server may list */
	int master_pid;
	const struct ds_log_settings *log;
};

/* Room for a worker's or the monitor's argv. */
#define DS_WORKER_ARGV_MAX (32 + DS_MAX_SERVERS + DS_MAX_MONITOR_FUNCTIONS)
_Static_assert(DS_MAX_MONITOR_FUNCTIONS >= DS_MAX_JOBS_PER_POOL,
    "the argv must have room for a worker's functions");

struct ds_worker_argv {
	char *v[DS_WORKER_ARGV_MAX + 1];	/* NULL-terminated */
	int n;
};

/* "--opt: expected want, got "val"" into err; returns -1. */
int ds_arg_bad(char *err, size_t errlen, const char *opt, const char *val,
    const char *want);
/* One of the --log_* options (name without the dashes) into log: 0, or
 * -1 with err. The worker and the queue monitor take them alike. */
int ds_log_arg(const char *name, const char *val, struct ds_log_settings *log,
    char *err, size_t errlen);

/* Builds the worker's argv (argv[0] "driveshaft-worker"). Returns 0, or
 * -1 when out of memory (a is then freed). */
int ds_worker_argv_build(const struct ds_worker_spec *s,
    struct ds_worker_argv *a);
void ds_worker_argv_free(struct ds_worker_argv *a);
/* The same for the queue monitor (argv[0] "driveshaft-worker"). */
int ds_monitor_argv_build(const struct ds_monitor_spec *s,
    struct ds_worker_argv *a);

#endif
