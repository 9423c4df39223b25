/* main.c: driveshaft-worker: one child of the master per worker slot.
 * Startup only; the job loop is in loop.c. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <syslog.h>
#include <unistd.h>

#include "common/fds.h"
#include "common/log.h"
#include "common/proctitle.h"
#include "common/worker_args.h"
#include "worker/loop.h"
#include "worker/memtune.h"
#include "worker/qmon.h"
#include "worker/options.h"
#include "worker/report.h"
#include "worker/signals.h"

static int
start(const struct ds_worker_opts *o)
{
	/* the master blocks stops across exec until the handlers are in */
	ds_worker_signals_init();
	/* No PR_SET_PDEATHSIG: it fires when the thread that started us
	 * ends, and the master starts workers from its spawner thread, which
	 * an upgrade's execve ends while the master lives on. The master's
	 * death shows as EOF on the socketpair (loop.c), looked at between
	 * jobs; the job in hand is finished, as a drain would. */
	if (o->master_fd >= 0 &&
	    (o->master_pid ? getppid() != o->master_pid : getppid() == 1))
		return 0;
	ds_log_open(&o->log);
	ds_setproctitle("driveshaft-worker: pool=%s slot=%d", o->pool, o->slot);
	return ds_worker_run(o);
}

/* Parses the options into o and maps the slot page: -1 to go on to
 * start(), else the exit status. Its buffer is gone by the time the job
 * loop runs below main's frame. */
static DS_OWN_FRAME int
prepare(int argc, char **args, struct ds_worker_opts *o)
{
	char err[512];
	int rc = ds_worker_parse_args(argc, args, o, err, sizeof(err));

	if (rc == 1) {
		ds_worker_usage(stdout);
		return 0;
	}
	if (rc < 0) {
		/* a daemonized master's stderr is /dev/null: say it in the
		 * log too, or a pool that cannot start is a mystery */
		fprintf(stderr, "driveshaft-worker: %s (see --help)\n", err);
		syslog(LOG_ERR, "event=worker_usage_error error=\"%s\"", err);
		return 1;
	}
	if (ds_report_init(o->master_fd, o->shm_fd, o->functions,
	    o->nfunctions, err, sizeof(err)) < 0) {
		fprintf(stderr, "driveshaft-worker: %s\n", err);
		syslog(LOG_ERR, "event=worker_failed error=\"%s\"", err);
		return 2;
	}
	/* the slot page is mapped (and its fd closed): only 0, 1, 2 and the
	 * master's socketpair are ours to keep */
	ds_close_inherited(o->master_fd);
	return -1;
}

int
main(int argc, char **argv)
{
	struct ds_worker_opts o;
	char **args = ds_proctitle_init(argc, argv);
	int rc;

	if (args == NULL) {
		fprintf(stderr, "driveshaft-worker: out of memory\n");
		return 2;
	}
	if (argc > 1 && strcmp(args[1], "--" DS_WARG_MONITOR) == 0) {
		ds_close_inherited(DS_WORKER_FD);
		rc = ds_qmon_main(argc, args);
		for (int i = 0; i < argc; i++)
			free(args[i]);
		free(args);
		return rc;
	}
	if ((rc = prepare(argc, args, &o)) < 0)
		rc = start(&o);
	ds_worker_opts_free(&o);
	for (int i = 0; i < argc; i++)
		free(args[i]);
	free(args);
	return rc;
}
