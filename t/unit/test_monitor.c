/* test_monitor.c: the queue monitor's life cycle (master/monitor.h) with a
 * real child process (a script stands in for driveshaft-worker --monitor
 * and sends nothing): started when the config asks for a queue
 * view, killed when no round comes by its deadline, restarted at once
 * after one quick death and with backoff after the next, stopped with
 * the master and not restarted then. */
#include "master/monitor.h"

#include "common/parse.h"
#include "unit.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define POLL_MS 1000

static struct ds_master m;
static struct ds_master_opts o;
static char *jobs[] = {"Sum"};
static struct ds_pool pool = {.name = "P", .jobs = jobs, .njobs = 1,
	.worker_count = 1, .min_workers = 1, .max_workers = 1};
static char *servers[] = {"127.0.0.1:4730"};
static char script[] = "/tmp/ds-monitor-XXXXXX";

static void
setup(void)
{
	struct ds_log_settings quiet;
	FILE *f;
	int fd;

	ds_log_defaults(&quiet);
	quiet.to_stderr = 0;
	ds_log_open(&quiet);
	strcpy(script, "/tmp/ds-monitor-XXXXXX");
	ck_assert_int_ge(fd = mkstemp(script), 0);
	ck_assert_ptr_nonnull(f = fdopen(fd, "w"));
	/* the master starts its children with SIGTERM blocked until their
	 * handlers are in: the stand-in takes it as the default says */
	fputs("#!/usr/bin/env python3\nimport signal, time\n"
	    "signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})\n"
	    "time.sleep(60)\n", f);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(script, 0700), 0);
	memset(&m, 0, sizeof(m));
	memset(&o, 0, sizeof(o));
	o.worker_path = script;
	m.opts = &o;
	ds_log_defaults(&m.log);
	m.cfg.pools = &pool;
	m.cfg.npools = 1;
	m.cfg.server_strs = servers;
	m.cfg.nservers = 1;
	m.cfg.queue_poll_ms = POLL_MS;
}

static void
teardown(void)
{
	if (m.queue != NULL && m.queue->pid != 0) {
		kill(m.queue->pid, SIGKILL);
		waitpid(m.queue->pid, NULL, 0);
	}
	ds_monitor_free(&m);
	unlink(script);
}

/* Waits for the monitor process and hands its status to the master;
 * returns the signal it died of. */
static int
reap(void)
{
	pid_t pid = m.queue->pid;
	int status;

	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(ds_monitor_reaped(&m, pid, status), 1);
	ck_assert_int_eq(m.queue->pid, 0);
	ck_assert(!ds_monitor_alive(&m));
	return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

START_TEST(life_cycle)
{
	int64_t now = ds_now_ms();
	pid_t first;

	ds_monitor_tick(&m, now);
	ck_assert_ptr_nonnull(m.queue);
	ck_assert_int_gt(first = m.queue->pid, 0);
	ck_assert(ds_monitor_alive(&m));
	/* silent: no round by one interval and the slack means hung */
	ck_assert_int_gt(ds_monitor_next_deadline(&m), now + POLL_MS);
	ds_monitor_tick(&m, ds_monitor_next_deadline(&m) - 1);
	ck_assert_int_eq(m.queue->pid, first);
	ds_monitor_tick(&m, ds_monitor_next_deadline(&m));
	ck_assert_int_eq(reap(), SIGKILL);
	/* a first quick death: back at once */
	ck_assert_int_le(ds_monitor_next_deadline(&m), ds_now_ms());
	ds_monitor_tick(&m, ds_now_ms());
	ck_assert_int_gt(m.queue->pid, 0);
	ck_assert_int_ne(m.queue->pid, first);
	kill(m.queue->pid, SIGKILL);
	ck_assert_int_eq(reap(), SIGKILL);
	/* the second: backoff */
	now = ds_now_ms();
	ck_assert_int_ge(ds_monitor_next_deadline(&m), now + 500);
	ds_monitor_tick(&m, now);
	ck_assert_int_eq(m.queue->pid, 0);
	ds_monitor_tick(&m, ds_monitor_next_deadline(&m));
	ck_assert_int_gt(m.queue->pid, 0);
	/* stopped with the master, and not started again */
	m.stopping = DS_STOP;
	ds_monitor_stop(&m);
	ck_assert_int_eq(reap(), SIGTERM);
	ds_monitor_tick(&m, ds_now_ms() + 3600000);
	ck_assert_int_eq(m.queue->pid, 0);
	ck_assert_int_eq(ds_monitor_next_deadline(&m), 0);
}
END_TEST

START_TEST(no_queue_view_no_monitor)
{
	m.cfg.queue_poll_ms = 0;
	ds_monitor_tick(&m, ds_now_ms());
	ck_assert_ptr_null(m.queue);
	ck_assert_int_eq(ds_monitor_next_deadline(&m), 0);
}
END_TEST

static Suite *
monitor_suite(void)
{
	Suite *s = suite_create("monitor");
	TCase *tc = ds_tcase(s, "life", setup, teardown);

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, life_cycle);
	tcase_add_test(tc, no_queue_view_no_monitor);
	return s;
}

DS_CHECK_MAIN(monitor_suite)
