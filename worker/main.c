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
#include "worker/loop.h"
#include "worker/options.h"

/* With no job in hand there is nothing to finish: leave at once, even from
 * inside a blocking libgearman call. A job gearmand has just assigned is
 * handed to another worker when our connection drops. */
static void
on_signal(int sig)
{
	if (ds_no_job_in_hand)
		_exit(0);
	if (sig == SIGUSR1)
		ds_drain_requested = 1;
	else if (sig == SIGINT)
		ds_stop_requested = 2;	/* fail the job in hand now */
	else
		ds_stop_requested = ds_stop_requested ? 2 : 1;
}

static void
install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static int
start(const struct ds_worker_opts *o)
{
	sigset_t stops;

	install_signals();
	/* the master blocks these across exec until the handlers are in */
	sigemptyset(&stops);
	sigaddset(&stops, SIGTERM);
	sigaddset(&stops, SIGINT);
	sigaddset(&stops, SIGUSR1);
	sigprocmask(SIG_UNBLOCK, &stops, NULL);
	if (o->master_fd >= 0) {
		/* the master's death drains us, like EOF on the socketpair */
		prctl(PR_SET_PDEATHSIG, SIGUSR1);
		if (o->master_pid ? getppid() != o->master_pid : getppid() == 1)
			return 0;
	}
	ds_log_open(&o->log);
	ds_setproctitle("driveshaft-worker: pool=%s slot=%d", o->pool, o->slot);
	return ds_worker_run(o);
}

int
main(int argc, char **argv)
{
	struct ds_worker_opts o;
	char err[512];
	char **args = ds_proctitle_init(argc, argv);
	int rc = ds_worker_parse_args(argc, args, &o, err, sizeof(err));

	if (rc == 1) {
		ds_worker_usage(stdout);
		rc = 0;
	} else if (rc < 0) {
		/* a daemonized master's stderr is /dev/null: say it in the
		 * log too, or a pool that cannot start is a mystery */
		fprintf(stderr, "driveshaft-worker: %s (see --help)\n", err);
		syslog(LOG_ERR, "event=worker_usage_error error=\"%s\"", err);
		rc = 1;
	} else {
		/* only 0, 1, 2 and the master's socketpair are ours to keep */
		ds_close_inherited(o.master_fd);
		rc = start(&o);
	}
	for (int i = 0; i < argc; i++)
		free(args[i]);
	free(args);
	return rc;
}
