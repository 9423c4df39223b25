/* options.c: parses and checks the worker's command line (options.h). */
#include "worker/options.h"

#include "config/fcgi_uri.h"

#include "common/parse.h"
#include "common/text.h"
#include "common/worker_args.h"

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum {
	OPT_POOL = 256, OPT_SLOT, OPT_SERVER, OPT_FUNCTION, OPT_URI,
	OPT_FORMAT, OPT_MAX_RUNNING, OPT_LOOP_TIMEOUT, OPT_MAX_JOBS,
	OPT_MAX_RESPONSE, OPT_FD, OPT_LOG_IDENT, OPT_LOG_FACILITY,
	OPT_LOG_LEVEL, OPT_LOG_STDERR, OPT_HELP, OPT_MASTER_PID,
	OPT_UNIX_SOCKET, OPT_SHM_FD,
};

static const struct option longopts[] = {
	{DS_WARG_POOL, required_argument, NULL, OPT_POOL},
	{DS_WARG_SLOT, required_argument, NULL, OPT_SLOT},
	{DS_WARG_SERVER, required_argument, NULL, OPT_SERVER},
	{DS_WARG_FUNCTION, required_argument, NULL, OPT_FUNCTION},
	{DS_WARG_URI, required_argument, NULL, OPT_URI},
	{DS_WARG_FORMAT, required_argument, NULL, OPT_FORMAT},
	{DS_WARG_MAX_RUNNING, required_argument, NULL, OPT_MAX_RUNNING},
	{DS_WARG_LOOP_TIMEOUT, required_argument, NULL, OPT_LOOP_TIMEOUT},
	{DS_WARG_MAX_JOBS, required_argument, NULL, OPT_MAX_JOBS},
	{DS_WARG_MAX_RESPONSE, required_argument, NULL, OPT_MAX_RESPONSE},
	{DS_WARG_MASTER_FD, required_argument, NULL, OPT_FD},
	{DS_WARG_MASTER_PID, required_argument, NULL, OPT_MASTER_PID},
	{DS_WARG_LOG_IDENT, required_argument, NULL, OPT_LOG_IDENT},
	{DS_WARG_LOG_FACILITY, required_argument, NULL, OPT_LOG_FACILITY},
	{DS_WARG_LOG_LEVEL, required_argument, NULL, OPT_LOG_LEVEL},
	{DS_WARG_LOG_STDERR, required_argument, NULL, OPT_LOG_STDERR},
	{"help", no_argument, NULL, OPT_HELP},
	{DS_WARG_UNIX_SOCKET, required_argument, NULL, OPT_UNIX_SOCKET},
	{DS_WARG_SHM_FD, required_argument, NULL, OPT_SHM_FD},
	{NULL, 0, NULL, 0},
};

void
ds_worker_usage(FILE *f)
{
	fprintf(f,
"usage: driveshaft-worker --pool NAME --server HOST[:PORT] --function NAME\n"
"                         --uri URL [options]\n"
"\n"
"One Driveshaft worker: grabs jobs from gearmand, POSTs each to the pool's\n"
"endpoint and returns the result. The master starts one per slot; it can\n"
"also be run by hand for debugging (it then logs to standard error).\n"
"\n"
"  --pool NAME               pool this worker serves (required)\n"
"  --slot N                  slot number within the pool (default 0)\n"
"  --server HOST[:PORT]      gearmand address, [v6]:port allowed; repeat for\n"
"                            several servers, each served on its own\n"
"                            (required, port 4730 default)\n"
"  --function NAME           function to register; repeatable (required)\n"
"  --uri URL                 endpoint, http://, https:// or fastcgi://\n"
"                            (required; the master passes it in\n"
"                            $DRIVESHAFT_URI, out of sight of other users)\n"
"  --unix_socket PATH        connect there instead of the URI's host\n"
"  --request_format FMT      json (default) or form (multipart/form-data)\n"
"  --max_running_time S      longest a job may run, seconds (default 300)\n"
"  --loop_timeout S          longest wait on gearmand before looking around\n"
"                            for a stop request, seconds (default 5); a\n"
"                            server that leaves the worker waiting longer\n"
"                            (at least 1 s) is dropped and tried again\n"
"  --max_jobs_per_worker N   exit 0 after N jobs (default 0: never)\n"
"  --max_response_bytes N    cap on the endpoint's response (default 16 MiB)\n"
"  --master_fd FD            socketpair to the master (default: none)\n"
"  --shm_fd FD               the slot page shared with the master, where\n"
"                            the worker keeps its state and counters\n"
"                            (default: none)\n"
"  --master_pid PID          the master; exit if it is already gone\n"
"  --log_ident S, --log_facility F, --log_level L, --log_stderr 0|1\n"
"                            syslog settings (default driveshaft, daemon,\n"
"                            info; stderr 1 when run without a master)\n"
"  --help                    print this and exit\n"
"\n"
"Signals: SIGTERM stops (a job in hand gets 2 x loop_timeout, then fails),\n"
"a second SIGTERM or a SIGINT fails it at once; SIGUSR1 drains (the job in\n"
"hand gets its full max_running_time). Each exits at once when idle.\n");
}

static void
set_defaults(struct ds_worker_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->format = DS_FORMAT_JSON;
	o->max_running_ms = 300 * 1000;
	o->loop_timeout_ms = 5 * 1000;
	o->max_response_bytes = DS_DEFAULT_MAX_RESPONSE_BYTES;
	o->master_fd = -1;
	o->shm_fd = -1;
	ds_log_defaults(&o->log);
	o->log.to_stderr = -1;	/* decided once we know about the master */
}


/* Makes room in *arr (n elements of size each) for one more. */
static int
grow(void **arr, size_t n, size_t size, char *err, size_t errlen)
{
	void *p = realloc(*arr, (n + 1) * size);

	if (p == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	*arr = p;
	return 0;
}

static int
take(int c, const char *optname, const char *a, struct ds_worker_opts *o,
    char *err, size_t errlen)
{
	char why[300];
	int64_t v;

	switch (c) {
	case OPT_POOL:
		if (*a == '\0')
			return ds_arg_bad(err, errlen, optname, a, "a pool name");
		o->pool = a;
		break;
	case OPT_SLOT:
		if (ds_parse_int64(a, 0, 1000000, &v) < 0)
			return ds_arg_bad(err, errlen, optname, a, "an integer >= 0");
		o->slot = (int)v;
		break;
	case OPT_SERVER:
		if (o->nservers == DS_WORKER_MAX_SERVERS)
			return ds_arg_bad(err, errlen, optname, a,
			    "at most " DS_XSTR(DS_MAX_SERVERS) " servers");
		if (grow((void **)&o->servers, o->nservers,
		    sizeof(*o->servers), err, errlen) < 0)
			return -1;
		if (ds_server_parse(a, &o->servers[o->nservers], why,
		    sizeof(why)) < 0) {
			snprintf(err, errlen, "--server: %s", why);
			return -1;
		}
		o->nservers++;
		break;
	case OPT_FUNCTION:
		if (*a == '\0' || strlen(a) > DS_MAX_FUNCTION_LEN)
			return ds_arg_bad(err, errlen, optname, a,
			    "a function name of 1 to "
			    DS_XSTR(DS_MAX_FUNCTION_LEN) " bytes");
		if (o->nfunctions == DS_WORKER_MAX_FUNCTIONS)
			return ds_arg_bad(err, errlen, optname, a,
			    "at most " DS_XSTR(DS_MAX_JOBS_PER_POOL)
			    " functions");
		if (grow((void **)&o->functions, o->nfunctions,
		    sizeof(*o->functions), err, errlen) < 0)
			return -1;
		o->functions[o->nfunctions++] = a;
		break;
	case OPT_URI:
		if (strncasecmp(a, "http://", 7) != 0 &&
		    strncasecmp(a, "https://", 8) != 0 && !ds_is_fcgi_uri(a))
			return ds_arg_bad(err, errlen, optname, ds_uri_redact(why,
			    sizeof(why), a), "an http://, https:// or fastcgi:// "
			    "URL");
		o->uri = a;
		break;
	case OPT_UNIX_SOCKET:
		if (a[0] != '/' || strlen(a) > DS_MAX_UNIX_SOCKET_PATH)
			return ds_arg_bad(err, errlen, optname, a,
			    "an absolute path of at most 107 bytes");
		o->unix_socket = a;
		break;
	case OPT_FORMAT:
		if (strcmp(a, "json") == 0)
			o->format = DS_FORMAT_JSON;
		else if (strcmp(a, "form") == 0)
			o->format = DS_FORMAT_FORM;
		else
			return ds_arg_bad(err, errlen, optname, a, "json or form");
		break;
	case OPT_MAX_RUNNING:
		if ((o->max_running_ms = ds_parse_seconds_ms(a,
		    DS_MAX_RUNNING_SECONDS)) < 0)
			return ds_arg_bad(err, errlen, optname, a,
			    "seconds > 0 and <= "
			    DS_XSTR(DS_MAX_RUNNING_SECONDS));
		break;
	case OPT_LOOP_TIMEOUT:
		if ((o->loop_timeout_ms = ds_parse_seconds_ms(a,
		    DS_MAX_LOOP_TIMEOUT_SECONDS)) < 0)
			return ds_arg_bad(err, errlen, optname, a,
			    "seconds > 0 and <= "
			    DS_XSTR(DS_MAX_LOOP_TIMEOUT_SECONDS));
		break;
	case OPT_MAX_JOBS:
		if (ds_parse_int64(a, 0, INT64_MAX, &o->max_jobs) < 0)
			return ds_arg_bad(err, errlen, optname, a, "an integer >= 0");
		break;
	case OPT_MAX_RESPONSE:
		if (ds_parse_int64(a, 1, DS_MAX_RESPONSE_BYTES_CAP,
		    &o->max_response_bytes) < 0)
			return ds_arg_bad(err, errlen, optname, a,
			    "an integer from 1 to "
			    DS_XSTR(DS_MAX_RESPONSE_BYTES_CAP));
		break;
	case OPT_FD:
		if (ds_parse_int64(a, 0, 65535, &v) < 0)
			return ds_arg_bad(err, errlen, optname, a, "a descriptor number");
		o->master_fd = (int)v;
		break;
	case OPT_SHM_FD:
		if (ds_parse_int64(a, 0, 65535, &v) < 0)
			return ds_arg_bad(err, errlen, optname, a, "a descriptor number");
		o->shm_fd = (int)v;
		break;
	case OPT_MASTER_PID:
		if (ds_parse_int64(a, 1, INT32_MAX, &v) < 0)
			return ds_arg_bad(err, errlen, optname, a, "a process id");
		o->master_pid = (int)v;
		break;
	case OPT_LOG_IDENT:
	case OPT_LOG_FACILITY:
	case OPT_LOG_LEVEL:
	case OPT_LOG_STDERR:
		return ds_log_arg(optname, a, &o->log, err, errlen);
	}
	return 0;
}

int
ds_worker_parse_args(int argc, char **argv, struct ds_worker_opts *o,
    char *err, size_t errlen)
{
	int c, idx;

	set_defaults(o);
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", longopts, &idx)) != -1) {
		if (c == OPT_HELP)
			return 1;
		if (c == '?') {
			snprintf(err, errlen, "unknown option \"%s\"",
			    argv[optind - 1]);
			return -1;
		}
		if (c == ':') {
			snprintf(err, errlen, "option \"%s\" needs a value",
			    argv[optind - 1]);
			return -1;
		}
		if (take(c, longopts[idx].name, optarg, o, err, errlen) < 0)
			return -1;
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument \"%s\"", argv[optind]);
		return -1;
	}
	/* the master passes the URI where other users cannot read it */
	if (o->uri == NULL && getenv(DS_WORKER_URI_ENV) != NULL &&
	    take(OPT_URI, DS_WARG_URI, getenv(DS_WORKER_URI_ENV), o, err, errlen) < 0)
		return -1;
	if (o->pool == NULL || o->nservers == 0 || o->nfunctions == 0 ||
	    o->uri == NULL) {
		snprintf(err, errlen, "missing %s", o->pool == NULL ? "--pool" :
		    o->nservers == 0 ? "--server" :
		    o->nfunctions == 0 ? "--function" : "--uri");
		return -1;
	}
	if (o->log.to_stderr < 0)
		o->log.to_stderr = o->master_fd < 0;
	return 0;
}

void
ds_worker_opts_free(struct ds_worker_opts *o)
{
	free(o->functions);
	free(o->servers);
	o->functions = NULL;
	o->servers = NULL;
	o->nfunctions = o->nservers = 0;
}
