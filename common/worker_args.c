/* worker_args.c: builds a worker's command line from what the master
 * knows (worker_args.h); worker/options.c parses the same names. */
#include "common/worker_args.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
arg(struct ds_worker_argv *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
arg(struct ds_worker_argv *a, const char *fmt, ...)
{
	va_list ap;
	int rc;

	if (a->n >= DS_WORKER_ARGV_MAX)
		return -1;	/* the config's limits make this impossible */
	va_start(ap, fmt);
	rc = vasprintf(&a->v[a->n], fmt, ap);
	va_end(ap);
	if (rc < 0)
		return -1;
	a->v[++a->n] = NULL;
	return 0;
}

/* Seconds with millisecond precision, as ds_parse_seconds_ms() reads. */
static int
seconds(struct ds_worker_argv *a, const char *name, int64_t ms)
{
	return arg(a, "--%s=%lld.%03lld", name, (long long)(ms / 1000),
	    (long long)(ms % 1000));
}

/* What a worker and the monitor share: the master and the log. */
static int
common_tail(struct ds_worker_argv *a, int master_pid,
    const struct ds_log_settings *l, int shm)
{
	int rc = 0;

	rc |= arg(a, "--" DS_WARG_MASTER_FD "=%d", DS_WORKER_FD);
	if (shm)	/* a worker's slot page; the monitor has none */
		rc |= arg(a, "--" DS_WARG_SHM_FD "=%d", DS_WORKER_SHM_FD);
	rc |= arg(a, "--" DS_WARG_MASTER_PID "=%d", master_pid);
	rc |= arg(a, "--" DS_WARG_LOG_IDENT "=%s", l->ident);
	rc |= arg(a, "--" DS_WARG_LOG_FACILITY "=%s",
	    ds_log_facility_name(l->facility));
	rc |= arg(a, "--" DS_WARG_LOG_LEVEL "=%s", ds_log_level_name(l->level));
	rc |= arg(a, "--" DS_WARG_LOG_STDERR "=%d", l->to_stderr > 0);
	return rc;
}

static int
build(const struct ds_worker_spec *s, struct ds_worker_argv *a)
{
	int rc = 0;

	rc |= arg(a, "driveshaft-worker");
	rc |= arg(a, "--" DS_WARG_POOL "=%s", s->pool);
	rc |= arg(a, "--" DS_WARG_SLOT "=%d", s->slot);
	for (size_t i = 0; i < s->nservers; i++)
		rc |= arg(a, "--" DS_WARG_SERVER "=%s", s->servers[i]);
	for (size_t i = 0; i < s->nfunctions; i++)
		rc |= arg(a, "--" DS_WARG_FUNCTION "=%s", s->functions[i]);
	if (s->unix_socket != NULL)
		rc |= arg(a, "--" DS_WARG_UNIX_SOCKET "=%s", s->unix_socket);
	rc |= arg(a, "--" DS_WARG_FORMAT "=%s", s->format == DS_FORMAT_FORM ?
	    "form" : "json");
	rc |= seconds(a, DS_WARG_MAX_RUNNING, s->max_running_ms);
	rc |= seconds(a, DS_WARG_LOOP_TIMEOUT, s->loop_timeout_ms);
	rc |= arg(a, "--" DS_WARG_MAX_JOBS "=%lld", (long long)s->max_jobs);
	rc |= arg(a, "--" DS_WARG_MAX_RESPONSE "=%lld",
	    (long long)s->max_response_bytes);
	rc |= common_tail(a, s->master_pid, s->log, 1);
	return rc;
}

static int
build_monitor(const struct ds_monitor_spec *s, struct ds_worker_argv *a)
{
	int rc = 0;

	rc |= arg(a, "driveshaft-worker");
	rc |= arg(a, "--" DS_WARG_MONITOR);
	for (size_t i = 0; i < s->nservers; i++)
		rc |= arg(a, "--" DS_WARG_SERVER "=%s", s->servers[i]);
	for (size_t i = 0; i < s->nfunctions; i++)
		rc |= arg(a, "--" DS_WARG_FUNCTION "=%s", s->functions[i]);
	rc |= seconds(a, DS_WARG_QUEUE_POLL, s->interval_ms);
	rc |= arg(a, "--" DS_WARG_MAX_WORKERS "=%zu", s->max_workers);
	rc |= common_tail(a, s->master_pid, s->log, 0);
	return rc;
}

int
ds_monitor_argv_build(const struct ds_monitor_spec *s,
    struct ds_worker_argv *a)
{
	a->n = 0;
	a->v[0] = NULL;
	if (build_monitor(s, a) == 0)
		return 0;
	ds_worker_argv_free(a);
	return -1;
}

int
ds_worker_argv_build(const struct ds_worker_spec *s, struct ds_worker_argv *a)
{
	a->n = 0;
	a->v[0] = NULL;
	if (build(s, a) == 0)
		return 0;
	ds_worker_argv_free(a);
	return -1;
}

void
ds_worker_argv_free(struct ds_worker_argv *a)
{
	for (int i = 0; i < a->n; i++)
		free(a->v[i]);
	a->n = 0;
	a->v[0] = NULL;
}

int
ds_arg_bad(char *err, size_t errlen, const char *opt, const char *val,
    const char *want)
{
	snprintf(err, errlen, "--%s: expected %s, got \"%s\"", opt, want, val);
	return -1;
}

int
ds_log_arg(const char *name, const char *a, struct ds_log_settings *log,
    char *err, size_t errlen)
{
	if (strcmp(name, DS_WARG_LOG_IDENT) == 0) {
		if (*a == '\0' || strlen(a) >= sizeof(log->ident))
			return ds_arg_bad(err, errlen, name, a,
			    "1 to 63 characters");
		snprintf(log->ident, sizeof(log->ident), "%s", a);
	} else if (strcmp(name, DS_WARG_LOG_FACILITY) == 0) {
		if ((log->facility = ds_log_facility(a)) < 0)
			return ds_arg_bad(err, errlen, name, a,
			    "daemon, user or local0..local7");
	} else if (strcmp(name, DS_WARG_LOG_LEVEL) == 0) {
		if ((log->level = ds_log_level(a)) < 0)
			return ds_arg_bad(err, errlen, name, a,
			    "err, warning, notice, info or debug");
	} else {
		if (strcmp(a, "0") != 0 && strcmp(a, "1") != 0)
			return ds_arg_bad(err, errlen, name, a, "0 or 1");
		log->to_stderr = a[0] == '1';
	}
	return 0;
}
