/* qmon_opts.c: the queue monitor's command line (qmon.h), built by
 * the master with ds_monitor_argv_build() (common/worker_args.h). */
#include "worker/qmon.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/parse.h"
#include "common/worker_args.h"

enum {
	OPT_MONITOR = 256, OPT_SERVER, OPT_FUNCTION, OPT_POLL, OPT_MAX_WORKERS,
	OPT_FD,
	OPT_MASTER_PID, OPT_LOG_IDENT, OPT_LOG_FACILITY, OPT_LOG_LEVEL,
	OPT_LOG_STDERR, OPT_HELP,
};

static const struct option longopts[] = {
	{DS_WARG_MONITOR, no_argument, NULL, OPT_MONITOR},
	{DS_WARG_SERVER, required_argument, NULL, OPT_SERVER},
	{DS_WARG_FUNCTION, required_argument, NULL, OPT_FUNCTION},
	{DS_WARG_QUEUE_POLL, required_argument, NULL, OPT_POLL},
	{DS_WARG_MAX_WORKERS, required_argument, NULL, OPT_MAX_WORKERS},
	{DS_WARG_MASTER_FD, required_argument, NULL, OPT_FD},
	{DS_WARG_MASTER_PID, required_argument, NULL, OPT_MASTER_PID},
	{DS_WARG_LOG_IDENT, required_argument, NULL, OPT_LOG_IDENT},
	{DS_WARG_LOG_FACILITY, required_argument, NULL, OPT_LOG_FACILITY},
	{DS_WARG_LOG_LEVEL, required_argument, NULL, OPT_LOG_LEVEL},
	{DS_WARG_LOG_STDERR, required_argument, NULL, OPT_LOG_STDERR},
	{"help", no_argument, NULL, OPT_HELP},
	{NULL, 0, NULL, 0},
};

static void
usage(void)
{
	printf(
"usage: driveshaft-worker --monitor --server HOST[:PORT] --function NAME\n"
"                         [--queue_poll_interval S] [options]\n"
"\n"
"The queue monitor the master starts when queue_poll_interval is not 0:\n"
"reads each gearmand's admin status and workers every S seconds (default\n"
"5) and reports the given functions and our workers to the master. Run\n"
"by hand it prints its reports.\n"
"\n"
"  --server, --function      repeatable; at least one of each\n"
"  --max_workers N           report at most N of our workers a server\n"
"                            (default: no limit)\n"
"  --master_fd FD, --master_pid PID, --log_ident S, --log_facility F,\n"
"  --log_level L, --log_stderr 0|1   as for a worker\n");
}



static int
take(int c, const char *name, const char *a, struct ds_qmon_opts *o,
    char *err, size_t errlen)
{
	char why[300];
	int64_t v;

	switch (c) {
	case OPT_MONITOR:
		return 0;
	case OPT_SERVER:
		if (o->nservers == DS_MAX_SERVERS)
			return ds_arg_bad(err, errlen, name, a, "fewer servers");
		if (ds_server_parse(a, &o->servers[o->nservers], why,
		    sizeof(why)) < 0)
			return ds_arg_bad(err, errlen, name, a, why);
		o->server_strs[o->nservers++] = a;
		return 0;
	case OPT_FUNCTION:
		if (*a == '\0' || strlen(a) > DS_MAX_FUNCTION_LEN ||
		    o->nfunctions == DS_MAX_MONITOR_FUNCTIONS)
			return ds_arg_bad(err, errlen, name, a,
			    "a function name (at most "
			    DS_XSTR(DS_MAX_MONITOR_FUNCTIONS) ")");
		o->functions[o->nfunctions++] = a;
		return 0;
	case OPT_POLL:
		if ((o->interval_ms = ds_parse_seconds_ms(a,
		    DS_MAX_QUEUE_POLL_SECONDS)) < 0)
			return ds_arg_bad(err, errlen, name, a, "seconds > 0");
		return 0;
	case OPT_MAX_WORKERS:
		if (ds_parse_int64(a, 0, INT32_MAX, &v) < 0)
			return ds_arg_bad(err, errlen, name, a, "a number");
		o->max_workers = (size_t)v;
		return 0;
	case OPT_FD:
	case OPT_MASTER_PID:
		if (ds_parse_int64(a, c == OPT_FD ? 0 : 1, INT32_MAX, &v) < 0)
			return ds_arg_bad(err, errlen, name, a, "a number");
		*(c == OPT_FD ? &o->master_fd : &o->master_pid) = (int)v;
		return 0;
	default:
		return ds_log_arg(name, a, &o->log, err, errlen);
	}
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int
ds_qmon_parse_args(int argc, char **argv, struct ds_qmon_opts *o,
    char *err, size_t errlen)
{
	int c, idx;

	memset(o, 0, sizeof(*o));
	o->interval_ms = DS_DEFAULT_QUEUE_POLL_MS;
	o->max_workers = SIZE_MAX;
	o->master_fd = -1;
	ds_log_defaults(&o->log);
	o->log.to_stderr = -1;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", longopts, &idx)) != -1) {
		if (c == OPT_HELP) {
			usage();
			return 1;
		}
		if (c == '?' || c == ':') {
			snprintf(err, errlen, "bad or incomplete option \"%s\"",
			    argv[optind - 1]);
			return -1;
		}
		if (take(c, longopts[idx].name, optarg, o, err, errlen) < 0)
			return -1;
	}
	if (optind < argc || o->nservers == 0 || o->nfunctions == 0) {
		snprintf(err, errlen, "%s", optind < argc ? "unexpected argument"
		    : o->nservers == 0 ? "missing --server" :
		    "missing --function");
		return -1;
	}
	/* sorted, so a row of a busy server is looked up, not scanned for */
	qsort(o->functions, o->nfunctions, sizeof(o->functions[0]), cmp_str);
	if (o->log.to_stderr < 0)
		o->log.to_stderr = o->master_fd < 0;
	return 0;
}
