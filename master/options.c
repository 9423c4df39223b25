/* options.c: parses the master's command line (options.h). */
#include "master/options.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/parse.h"
#include "common/worker_args.h"
#include "master/query.h"

enum {
	OPT_JOBSCONFIG = 256, OPT_MAX_RUNNING, OPT_LOOP_TIMEOUT, OPT_PORT,
	OPT_ADDR, OPT_USER, OPT_PIDFILE, OPT_DAEMONIZE, OPT_LOGCONFIG,
	OPT_CHECK, OPT_VERSION, OPT_HELP, OPT_WORKER, OPT_QUERY,
	OPT_UPGRADE, OPT_UPGRADE_CHECK, OPT_UPGRADE_STATE,
};

static const struct option longopts[] = {
	{"jobsconfig", required_argument, NULL, OPT_JOBSCONFIG},
	{"max_running_time", required_argument, NULL, OPT_MAX_RUNNING},
	{"loop_timeout", required_argument, NULL, OPT_LOOP_TIMEOUT},
	{"status_port", required_argument, NULL, OPT_PORT},
	{"status_addr", required_argument, NULL, OPT_ADDR},
	{"user", required_argument, NULL, OPT_USER},
	{"pid_file", required_argument, NULL, OPT_PIDFILE},
	{"daemonize", no_argument, NULL, OPT_DAEMONIZE},
	{"logconfig", required_argument, NULL, OPT_LOGCONFIG},
	{"check", no_argument, NULL, OPT_CHECK},
	{"version", no_argument, NULL, OPT_VERSION},
	{"help", no_argument, NULL, OPT_HELP},
	{"worker", required_argument, NULL, OPT_WORKER},
	{"query", required_argument, NULL, OPT_QUERY},
	{"upgrade", no_argument, NULL, OPT_UPGRADE},
	{"upgrade-check", no_argument, NULL, OPT_UPGRADE_CHECK},
	{"upgrade-state", required_argument, NULL, OPT_UPGRADE_STATE},
	{NULL, 0, NULL, 0},
};

void
ds_master_usage(void)
{
	printf(
"usage: driveshaft --jobsconfig FILE [options]\n"
"\n"
"Keeps worker_count driveshaft-worker processes per pool of the jobs config\n"
"busy: each grabs jobs from gearmand and POSTs them to the pool's endpoint.\n"
"\n"
"  --jobsconfig FILE         jobs config (JSON) (required)\n"
"  --max_running_time S      longest a job may run, seconds (default 300)\n"
"  --loop_timeout S          longest a worker waits on gearmand before it\n"
"                            looks around, seconds (default 5)\n"
"  --status_port PORT        serve the status port (default: none)\n"
"  --status_addr ADDR        address it binds (default 127.0.0.1)\n"
"  --user NAME               drop to this user and its groups after binding\n"
"  --pid_file FILE           write and lock the master's pid\n"
"  --daemonize               detach; exit status tells start-up success\n"
"  --logconfig FILE          key = value lines: ident, facility, level,\n"
"                            stderr (a log4cxx XML file: warning, defaults)\n"
"  --check                   validate config and options, print what would\n"
"                            run, exit 0 or 1\n"
"  --query CMD               send CMD (threads, pools, metrics, version) to\n"
"                            the status port at --status_addr/--status_port,\n"
"                            print the reply; exit 2 when nothing answers\n"
"  --worker PATH             driveshaft-worker to run (default: the one\n"
"                            beside driveshaft, else ../libexec/driveshaft/)\n"
"  --upgrade                 signal the master of --pid_file to upgrade in\n"
"                            place (USR2), wait for the outcome on\n"
"                            --status_port; exit 0 upgraded, 1 refused\n"
"  --upgrade-check           can this binary take over a running master\n"
"                            with these options: exit 0 or 1\n"
"  --version, --help         print and exit\n"
"\n"
"Signals: HUP reloads the jobs and log config; TERM or INT stops (jobs in\n"
"hand get 2 x loop_timeout); QUIT or USR1 drains (jobs in hand get their\n"
"max_running_time); a second signal stops at once. USR2 upgrades in place:\n"
"same pid, same workers, then the workers roll to the new binary.\n"
"Exit status: 0 clean stop, 1 usage or config error, 2 runtime failure.\n");
}

static char *
absolute(const char *path)
{
	char cwd[PATH_MAX], *out;

	if (path[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
		return strdup(path);
	if (asprintf(&out, "%s/%s", cwd, path) < 0)
		return NULL;
	return out;
}

/* The master binary's path now, before an upgrade replaces the file: an
 * upgrade runs whatever is at this path then. */
static char *
self_path(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0)
		return NULL;
	self[n] = '\0';
	return strdup(self);
}

/* The build tree has the worker beside the master; an installed tree has
 * it in PREFIX/libexec/driveshaft beside PREFIX/sbin. Both are found from
 * where the master is, so a DESTDIR tree runs as it is. When neither is
 * there, the one beside is named in the start-up error. */
static char *
worker_beside_self(void)
{
	char self[PATH_MAX], *slash, *out, *lib;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0)
		return strdup("driveshaft-worker");
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) != NULL)
		*slash = '\0';
	if (asprintf(&out, "%s/driveshaft-worker", self) < 0)
		return NULL;
	if (access(out, F_OK) == 0 || (slash = strrchr(self, '/')) == NULL)
		return out;
	*slash = '\0';
	if (asprintf(&lib, "%s/libexec/driveshaft/driveshaft-worker",
	    self) < 0)
		return out;
	if (access(lib, F_OK) == 0) {
		free(out);
		return lib;
	}
	free(lib);
	return out;
}

static int
set_path(char **dst, const char *val, const char *opt, char *err,
    size_t errlen)
{
	if (*val == '\0') {
		snprintf(err, errlen, "--%s: expected a file name, got \"\"", opt);
		return -1;
	}
	free(*dst);
	*dst = absolute(val);
	return 0;
}

static int
take(int c, const char *opt, const char *a, struct ds_master_opts *o,
    char *err, size_t errlen)
{
	int64_t v;

	switch (c) {
	case OPT_JOBSCONFIG:
		return set_path(&o->jobsconfig, a, opt, err, errlen);
	case OPT_PIDFILE:
		return set_path(&o->pid_file, a, opt, err, errlen);
	case OPT_LOGCONFIG:
		return set_path(&o->logconfig, a, opt, err, errlen);
	case OPT_WORKER:
		return set_path(&o->worker_path, a, opt, err, errlen);
	case OPT_MAX_RUNNING:
		if ((o->max_running_ms = ds_parse_seconds_ms(a,
		    DS_MAX_RUNNING_SECONDS)) < 0)
			break;
		return 0;
	case OPT_LOOP_TIMEOUT:
		if ((o->loop_timeout_ms = ds_parse_seconds_ms(a,
		    DS_MAX_LOOP_TIMEOUT_SECONDS)) < 0)
			break;
		return 0;
	case OPT_PORT:
		if (ds_parse_int64(a, 0, 65535, &v) < 0)
			break;
		o->status_port = (int)v;
		return 0;
	case OPT_ADDR:
		if (*a == '\0')
			break;
		free(o->status_addr);
		o->status_addr = strdup(a);
		return 0;
	case OPT_USER:
		if (*a == '\0')
			break;
		free(o->user);
		o->user = strdup(a);
		return 0;
	case OPT_DAEMONIZE:
		o->daemonize = 1;
		return 0;
	case OPT_CHECK:
		o->check = 1;
		return 0;
	case OPT_UPGRADE:
		o->upgrade = 1;
		return 0;
	case OPT_UPGRADE_CHECK:
		o->upgrade_check = 1;
		return 0;
	case OPT_UPGRADE_STATE:
		if (ds_parse_int64(a, 3, INT_MAX, &v) < 0)
			break;
		o->upgrade_state_fd = (int)v;
		return 0;
	case OPT_QUERY:
		if (!ds_query_command_ok(a))
			break;
		free(o->query);
		o->query = strdup(a);
		return 0;
	default:
		return 0;
	}
	snprintf(err, errlen, "--%s: expected %s, got \"%s\"", opt,
	    c == OPT_MAX_RUNNING ? "seconds > 0 and <= "
	    DS_XSTR(DS_MAX_RUNNING_SECONDS) :
	    c == OPT_LOOP_TIMEOUT ? "seconds > 0 and <= "
	    DS_XSTR(DS_MAX_LOOP_TIMEOUT_SECONDS) :
	    c == OPT_PORT ? "a port number from 0 to 65535" :
	    c == OPT_ADDR ? "an address" :
	    c == OPT_QUERY ? "threads, pools, metrics or version" :
	    c == OPT_UPGRADE_STATE ? "a descriptor number from 3" :
	    "a user name", a);
	return -1;
}

/* After the options are parsed: --query needs --status_port. Returns
 * DS_OPTS_QUERY, or -1 with err. */
static int
query_opts_check(const struct ds_master_opts *o, char *err, size_t errlen)
{
	if (o->status_port == 0) {
		snprintf(err, errlen, "--query %s needs --status_port PORT",
		    o->query);
		return -1;
	}
	return DS_OPTS_QUERY;
}

int
ds_master_parse_args(int argc, char **argv, struct ds_master_opts *o,
    char *err, size_t errlen)
{
	int c, idx, wanted = DS_OPTS_RUN;

	memset(o, 0, sizeof(*o));
	o->max_running_ms = 300 * 1000;
	o->loop_timeout_ms = 5 * 1000;
	o->status_addr = strdup("127.0.0.1");
	o->upgrade_state_fd = -1;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", longopts, &idx)) != -1) {
		if (c == OPT_HELP || c == OPT_VERSION) {
			wanted = c == OPT_HELP ? DS_OPTS_HELP : DS_OPTS_VERSION;
			continue;
		}
		/* in a cluster ("-xy") argv[optind - 1] is not the option */
		if (c == '?' && optopt > 0 && optopt < OPT_JOBSCONFIG) {
			snprintf(err, errlen, "unknown option \"-%c\"",
			    optopt);
			return -1;
		}
		if (c == '?' || c == ':') {
			snprintf(err, errlen, c == '?' ? "unknown option \"%s\"" :
			    "option \"%s\" needs a value", argv[optind - 1]);
			return -1;
		}
		if (take(c, longopts[idx].name, optarg, o, err, errlen) < 0)
			return -1;
	}
	if (wanted != DS_OPTS_RUN)
		return wanted;
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument \"%s\"", argv[optind]);
		return -1;
	}
	if (o->query != NULL)
		return query_opts_check(o, err, errlen);
	if (o->upgrade) {
		if (o->pid_file == NULL || o->status_port == 0) {
			snprintf(err, errlen, "--upgrade needs --pid_file FILE "
			    "and --status_port PORT: the master to signal, "
			    "and where to see the outcome");
			return -1;
		}
		return DS_OPTS_UPGRADE;
	}
	if (o->jobsconfig == NULL) {
		snprintf(err, errlen, "missing --jobsconfig FILE");
		return -1;
	}
	if (o->worker_path == NULL)
		o->worker_path = worker_beside_self();
	o->self_path = self_path();
	return o->upgrade_check ? DS_OPTS_UPGRADE_CHECK : DS_OPTS_RUN;
}

void
ds_master_opts_free(struct ds_master_opts *o)
{
	free(o->jobsconfig);
	free(o->status_addr);
	free(o->user);
	free(o->pid_file);
	free(o->logconfig);
	free(o->worker_path);
	free(o->query);
	free(o->self_path);
	memset(o, 0, sizeof(*o));
}
