/* main.c: driveshaft, the master. Start-up in this order: options, log
 * config, jobs config, bind the status port, daemonize, pid file, drop the
 * user, then the supervisor loop until a stop or drain ends. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fds.h"
#include "common/log.h"
#include "common/parse.h"
#include "common/proctitle.h"
#include "common/text.h"
#include "master/daemon.h"
#include "master/limits.h"
#include "master/master.h"
#include "master/monitor.h"
#include "master/query.h"
#include "master/pools.h"
#include "master/preflight.h"
#include "master/priority.h"
#include "master/reload.h"
#include "master/status_reply.h"
#include "master/spawner.h"
#include "master/supervisor.h"
#include "master/upgrade.h"
#include "master/upgrade_adopt.h"
#include "master/upgrade_check.h"
#include "master/upgrade_cli.h"
#include "master/warn.h"

/* Set when an upgrade's state could not be read: this start is a fresh
 * one in a process that is already the daemon, as its user. */
static int after_upgrade;

static int
fail(int status, const char *msg)
{
	struct ds_lv v;

	ds_log(LOG_ERR, "event=start_failed error=%s", DS_LV(v, msg));
	if (ds_daemon_detached())
		ds_daemon_fail(status, msg);
	else if (!ds_log_current()->to_stderr)
		fprintf(stderr, "driveshaft: %s\n", msg);
	return status;
}

static void
print_plan(const struct ds_master_opts *o, const struct ds_config *cfg)
{
	printf("config %s: OK\nservers:", o->jobsconfig);
	for (size_t i = 0; i < cfg->nservers; i++)
		printf(" %s:%d", cfg->servers[i].host, cfg->servers[i].port);
	printf("\n");
	for (size_t i = 0; i < cfg->npools; i++) {
		const struct ds_pool *p = &cfg->pools[i];
		char uri[2048];
		int64_t mrt = p->max_running_ms ? p->max_running_ms :
		    o->max_running_ms;

		if (p->queue_sized)
			printf("pool %s: %d to %d workers by the queue "
			    "(scale_down_after %.3fs), ", p->name,
			    p->min_workers, p->max_workers,
			    p->scale_down_after_ms / 1000.0);
		else
			printf("pool %s: %d workers, ", p->name,
			    p->worker_count);
		printf("%s to %s, max_running_time %.3fs, "
		    "functions:",
		    p->format == DS_FORMAT_FORM ? "form" : "json",
		    ds_uri_redact(uri, sizeof(uri), p->uri),
		    mrt / 1000.0);
		for (size_t k = 0; k < p->njobs; k++)
			printf(" %s", p->jobs[k]);
		if (p->unix_socket)
			printf(", over unix socket %s", p->unix_socket);
		printf("\n");
	}
	if (cfg->queue_poll_ms)
		printf("queue view: every %.3fs, stuck_after %.3fs\n",
		    cfg->queue_poll_ms / 1000.0, cfg->stuck_after_ms / 1000.0);
	else
		printf("queue view: off\n");
	printf("status port: ");
	if (o->status_port)
		printf("%s:%d\n", o->status_addr, o->status_port);
	else
		printf("none\n");
}

/* --check: what would not stop a start but should be fixed. */
static void
print_warnings(const struct ds_master_opts *o, const struct ds_config *cfg)
{
	const char *root = ds_warn_root(geteuid(), o->user);
	struct stat st;
	char msg[1024];

	if (root)
		fprintf(stderr, "driveshaft: warning: running as root: %s\n",
		    root);
	if (stat(o->jobsconfig, &st) == 0 &&
	    ds_warn_exposed_config(o->jobsconfig, st.st_mode, cfg, msg,
	    sizeof(msg)))
		fprintf(stderr, "driveshaft: warning: %s\n", msg);
}

static int
start(struct ds_master *m, struct ds_status *st)
{
	const struct ds_master_opts *o = m->opts;
	char err[1024];
	int fd = -1;

	if (o->status_port &&
	    (fd = ds_status_listen(o->status_addr, o->status_port, err,
	    sizeof(err))) < 0)
		return fail(2, err);
	ds_status_init(st, fd, ds_status_reply, m);
	if (o->daemonize && ds_daemonize(err, sizeof(err)) < 0)
		return fail(2, err);
	return 0;
}

/* The loop until a stop or a drain ends, then the way out. */
static int
serve(struct ds_master *m, struct ds_status *st)
{
	ds_supervise(m, st);
	ds_log(LOG_NOTICE, "event=stop mode=%s", m->stopping == DS_DRAIN ?
	    "drain" : "stop");
	ds_status_close(st);
	ds_pidfile_remove(m->opts->pid_file, m->pid_fd);
	return 0;
}

static int
run(struct ds_master *m)
{
	const struct ds_master_opts *o = m->opts;
	struct ds_status st;
	struct ds_lv v;
	const char *msg;
	char err[1024];
	int pidfd = -1, rc;

	/* the lock first, so a second instance is told who holds it rather
	 * than that the port is taken; the daemon inherits the lock */
	if (o->pid_file && (pidfd = ds_pidfile_lock(o->pid_file, err,
	    sizeof(err))) < 0 && !after_upgrade)
		return fail(2, err);
	if (pidfd < 0 && o->pid_file)	/* as the user: carry on without */
		ds_log(LOG_ERR, "event=pid_file_lost error=%s", DS_LV(v, err));
	if ((rc = start(m, &st)) != 0) {
		ds_pidfile_remove(o->pid_file, pidfd);
		return rc;
	}
	if (pidfd >= 0 && ds_pidfile_write(pidfd) < 0) {
		ds_pidfile_remove(o->pid_file, pidfd);
		return fail(2, "cannot write the pid file");
	}
	m->pid_fd = pidfd;
	/* while still allowed to: raising a priority needs privilege */
	if (!after_upgrade)
		ds_priority_boost_loop();
	if (o->user && !after_upgrade &&
	    ds_drop_user(o->user, err, sizeof(err)) < 0) {
		ds_pidfile_remove(o->pid_file, pidfd);
		return fail(2, err);
	}
	/* checked as the user the workers will run as */
	if (access(o->worker_path, X_OK) < 0) {
		snprintf(err, sizeof(err), "cannot run the worker %s%s%s: %s",
		    o->worker_path, o->user ? " as user " : "",
		    o->user ? o->user : "", strerror(errno));
		ds_pidfile_remove(o->pid_file, pidfd);
		return fail(2, err);
	}
	if (ds_signals_init() < 0)
		return fail(2, "cannot set up signal handling");
	ds_setproctitle("driveshaft: master %s", o->jobsconfig);
	if ((msg = ds_warn_root(geteuid(), o->user)) != NULL)
		ds_log(LOG_WARNING, "event=running_as_root detail=%s",
		    DS_LV(v, msg));
	m->started_wall_ms = ds_wall_ms();
	m->generation = 1;
	ds_fd_table_reserve(&m->cfg, ds_raise_nofile());
	ds_pools_start(m);
	ds_log(LOG_NOTICE, "event=start version=%s pools=%zu status_port=%d "
	    "user=%s", DS_VERSION, m->cfg.npools, o->status_port,
	    o->user ? o->user : "-");
	ds_daemon_ready();
	return serve(m, &st);
}

/* The new image of an upgrade: adopt what the old one handed over, or,
 * when its state cannot be read after all, let go of everything (the old
 * workers see their socket close and leave after the job in hand) and
 * start afresh in this same process. */
static int
run_adopted(struct ds_master *m)
{
	struct ds_master_opts *o = m->opts;
	struct ds_status st;
	struct ds_lv v;
	char err[1024];

	if (ds_upgrade_adopt(m, &st, o->upgrade_state_fd, err,
	    sizeof(err)) < 0) {
		ds_log(LOG_ERR, "event=upgrade_state_unreadable error=%s",
		    DS_LV(v, err));
		ds_close_inherited(-1);
		ds_log_open(&m->log);
		after_upgrade = 1;
		o->daemonize = 0;
		return run(m);
	}
	if (ds_signals_init() < 0)
		return fail(2, "cannot set up signal handling");
	ds_fd_table_reserve(&m->cfg, ds_raise_nofile());
	if (ds_spawner_start() < 0)	/* retried at the first spawn */
		ds_log(LOG_ERR, "event=spawner_failed error=%d", errno);
	ds_setproctitle("driveshaft: master %s", o->jobsconfig);
	return serve(m, &st);
}

/* An upgrade's new image: what it inherited is its state, not strays. */
static int
upgrading(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strncmp(argv[i], "--upgrade-state", 15) == 0)
			return 1;
	return 0;
}

static void
free_args(int argc, char **args)
{
	for (int i = 0; i < argc; i++)
		free(args[i]);
	free(args);
}

/* driveshaft --query: prints the reply and returns 0, or prints why not to
 * standard error and returns 2. */
static int
query_main(const struct ds_master_opts *o)
{
	char err[512];

	if (ds_query(o->status_addr, o->status_port, o->query,
	    DS_QUERY_CONNECT_MS, DS_QUERY_REPLY_MS, stdout, err,
	    sizeof(err)) < 0) {
		fprintf(stderr, "driveshaft: --query %s: %s\n", o->query, err);
		return 2;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct ds_master_opts o;
	struct ds_master m;
	char err[512];
	char **args;
	int rc;

	/* before anything of ours is open: what the caller left open (a
	 * launcher's pipe, a file) must reach neither us nor the workers */
	if (!upgrading(argc, argv))
		ds_close_inherited(-1);
	if ((args = ds_proctitle_init(argc, argv)) == NULL) {
		fprintf(stderr, "driveshaft: out of memory\n");
		return 2;
	}
	rc = ds_master_parse_args(argc, args, &o, err, sizeof(err));

	memset(&m, 0, sizeof(m));
	m.opts = &o;
	m.pid_fd = m.status_listen_fd = -1;
	if (rc < 0) {
		fprintf(stderr, "driveshaft: %s (see --help)\n", err);
		rc = 1;
	} else if (rc == DS_OPTS_HELP) {
		ds_master_usage();
		rc = 0;
	} else if (rc == DS_OPTS_VERSION) {
		printf("driveshaft %s\n", DS_VERSION);
		rc = 0;
	} else if (rc == DS_OPTS_QUERY) {
		rc = query_main(&o);
	} else if (rc == DS_OPTS_UPGRADE) {
		rc = ds_upgrade_cli(&o);
	} else if (rc == DS_OPTS_UPGRADE_CHECK) {
		rc = ds_upgrade_check(&o, &m.log, &m.cfg);
	} else if (ds_preflight_log(&o, &m.log) < 0 ||
	    ds_preflight_jobs(&o, &m.cfg) < 0) {
		rc = 1;
	} else if (o.user && o.upgrade_state_fd < 0 &&
	    !ds_preflight_user_reads(&o)) {
		/* (an upgrade's new image runs as the user already: its
		 * check, run the same way, has read the configs) */
		rc = o.check ? 1 : 2;
	} else if (o.check) {
		print_warnings(&o, &m.cfg);
		print_plan(&o, &m.cfg);
		rc = 0;
	} else {
		ds_upgrade_set_args(argc, args);
		ds_log_open(&m.log);
		rc = o.upgrade_state_fd >= 0 ? run_adopted(&m) : run(&m);
	}
	ds_upgrade_free(&m);
	ds_pools_free(&m);
	ds_monitor_free(&m);
	ds_metrics_free(&m.metrics);
	ds_pidmap_free(&m.pids);
	free(m.children);
	ds_config_free(&m.cfg);
	ds_master_opts_free(&o);
	free_args(argc, args);
	return rc;
}
