/* supervisor.c: the master's poll loop, in the manner of nginx's process
 * cycle: signal handlers only set flags and write a byte to a self-pipe;
 * the loop acts on them, reads the queue monitor's reports, serves the
 * status port and sleeps until the next deadline, with no periodic
 * wake-up. Workers send nothing: the master reads their slot pages when
 * it needs to. */
#include "master/supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/nelem.h"
#include "common/parse.h"
#include "master/children.h"
#include "master/monitor.h"
#include "master/reload.h"
#include "master/roll.h"
#include "master/spawn_turn.h"
#include "master/spawner.h"
#include "master/upgrade.h"

/* got_chld starts set: children an earlier image left may be waiting */
static volatile sig_atomic_t got_hup, got_chld = 1, got_usr2;
/* only the handler writes these; the loop counts what it has acted on */
static volatile sig_atomic_t got_stop, got_drain;
static sig_atomic_t done_stop, done_drain;
static int wake_fds[2] = {-1, -1};

static void
on_signal(int sig)
{
	int saved = errno;

	switch (sig) {
	case SIGHUP:
		got_hup = 1;
		break;
	case SIGCHLD:
		got_chld = 1;
		break;
	case SIGUSR2:
		got_usr2 = 1;
		break;
	case SIGTERM:
	case SIGINT:
		got_stop++;
		break;
	default:
		got_drain++;
		break;
	}
	(void)write(wake_fds[1], "", 1);
	errno = saved;
}

int
ds_signals_init(void)
{
	struct sigaction sa;
	int sigs[] = {SIGHUP, SIGCHLD, SIGTERM, SIGINT, SIGQUIT, SIGUSR1,
	    SIGUSR2};
	sigset_t mine;

	if (pipe2(wake_fds, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigfillset(&sa.sa_mask);
	for (size_t i = 0; i < NELEM(sigs); i++)
		sigaction(sigs[i], &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	/* an upgrade's exec runs with these blocked (upgrade.c): what came
	 * in its window is delivered now, to the handlers */
	sigemptyset(&mine);
	for (size_t i = 0; i < NELEM(sigs); i++)
		sigaddset(&mine, sigs[i]);
	sigprocmask(SIG_UNBLOCK, &mine, NULL);
	return 0;
}

static void
begin_stop(struct ds_master *m, enum ds_stopping kind)
{
	int64_t now = ds_now_ms();

	if (++m->stop_signals > 1) {
		/* a second signal: jobs in hand are failed back at once */
		ds_log(LOG_NOTICE, "event=stop_now children=%zu", m->nchildren);
		ds_signal_all(m, SIGINT, now + DS_KILL_GRACE_MS);
		return;
	}
	m->stopping = kind;
	ds_monitor_stop(m);
	ds_log(LOG_NOTICE, "event=%s children=%zu", kind == DS_STOP ? "stopping" :
	    "draining", m->nchildren);
	if (kind == DS_STOP)
		ds_signal_all(m, SIGTERM, now + 2 * m->opts->loop_timeout_ms +
		    DS_KILL_GRACE_MS);
	else
		ds_signal_all(m, SIGUSR1, 0);
}

/* A pid ds_reap does not know: the queue monitor's, or the child of a
 * spawn in flight, gone before the spawner handed it back (the spawner
 * is done with it, so the wait is for at most the spawns posted before
 * it). */
static struct ds_child *
reaped_other(struct ds_master *m, pid_t pid, int status)
{
	struct ds_child *c = NULL;

	if (ds_monitor_reaped(m, pid, status) ||
	    ds_upgrade_reaped(m, pid, status))
		return NULL;
	while (c == NULL && ds_spawn_wait(m, -1))
		c = ds_child_by_pid(m, pid);
	return c;
}

/* The process table's turn: spawns done while we slept (the spawner's
 * pipe woke us), then the table's deadlines, then the next spawns. */
static void
children_tick(struct ds_master *m, int64_t now)
{
	while (ds_spawn_wait(m, 0))
		;
	ds_children_tick(m, now);
	ds_roll_tick(m, now);	/* may ask the spawn turn for a spare */
	m->starting = ds_spawn_turn(m, now);
}

static void
act_on_signals(struct ds_master *m)
{
	char buf[64];

	while (read(wake_fds[0], buf, sizeof(buf)) > 0)
		;
	if (got_chld) {
		got_chld = 0;
		ds_reap(m, reaped_other);
	}
	while (got_stop != done_stop || got_drain != done_drain) {
		enum ds_stopping kind = got_stop != done_stop ? DS_STOP :
		    DS_DRAIN;

		if (kind == DS_STOP)
			done_stop++;
		else
			done_drain++;
		begin_stop(m, kind);
	}
	if (got_hup) {
		got_hup = 0;
		if (!m->stopping) {
			ds_reload(m);
			ds_roll_restart(m);	/* a stalled roll tries again */
		}
	}
	/* after the reload: a HUP and a USR2 together upgrade to the new
	 * config */
	if (got_usr2) {
		got_usr2 = 0;
		ds_upgrade_request(m);
	}
}

static int
poll_timeout(const struct ds_master *m, const struct ds_status *st,
    int64_t now)
{
	int64_t next = ds_children_next_deadline(m);
	int64_t s = ds_status_next_deadline(st);

	if (s && (next == 0 || s < next))
		next = s;
	s = ds_monitor_next_deadline(m);
	if (s && (next == 0 || s < next))
		next = s;
	s = ds_upgrade_next_deadline(m);
	if (s && (next == 0 || s < next))
		next = s;
	s = ds_roll_next_deadline(m);
	if (s && (next == 0 || s < next))
		next = s;
	if (next == 0)
		return -1;
	if (next <= now)
		return 0;
	return next - now > INT_MAX ? INT_MAX : (int)(next - now);
}

/* The children are not in the poll set: they write their state to their
 * slot pages (slot_page.c), read when a status client asks or a deadline
 * or a signal wakes us. A job costs this loop no wake-up. */
void
ds_supervise(struct ds_master *m, struct ds_status *st)
{
	size_t max = 3 + ds_status_max_pollfds();
	struct pollfd *pfd = calloc(max, sizeof(*pfd));

	while (pfd == NULL) {	/* at start; retried, never spun */
		ds_log(LOG_ERR, "event=out_of_memory where=poll");
		sleep(1);
		pfd = calloc(max, sizeof(*pfd));
	}
	for (;;) {
		size_t nst, nmon;
		int64_t now;

		act_on_signals(m);
		now = ds_now_ms();
		children_tick(m, now);
		ds_monitor_tick(m, now);
		ds_upgrade_tick(m, st, now);
		if (m->stopping && m->nchildren == 0 && m->pending == NULL &&
		    !ds_monitor_alive(m))
			break;
		pfd[0] = (struct pollfd){wake_fds[0], POLLIN, 0};
		nst = ds_status_pollfds(st, pfd + 1);
		/* the queue monitor's reports, its only child socket read */
		nmon = ds_monitor_pollfd(m, pfd + 1 + nst);
		/* the spawner's word on a spawn in flight; the next tick
		 * takes it */
		pfd[1 + nst + nmon] = (struct pollfd){m->pending != NULL ?
		    ds_spawner_fd() : -1, POLLIN, 0};
		/* the tick took time (spawns): the deadlines are from now */
		if (poll(pfd, 2 + nst + nmon, poll_timeout(m, st,
		    ds_now_ms())) < 0 && errno != EINTR) {
			ds_log(LOG_ERR, "event=poll_failed error=%d", errno);
			sleep(1);	/* not a spin, should it persist */
		}
		ds_status_serve(st, pfd + 1, nst, ds_now_ms());
		ds_monitor_serve(m, pfd + 1 + nst, nmon);
	}
	free(pfd);
}
