/* signals.c: the worker's signal handlers and the flags they set
 * (signals.h). Only async-signal-safe work happens in a handler. */
#include "worker/signals.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop_kind;	/* enum ds_stop_kind */
static volatile sig_atomic_t drain;
static volatile sig_atomic_t no_job_in_hand;

static void
on_signal(int sig)
{
	if (no_job_in_hand)
		_exit(0);
	if (sig == SIGUSR1)
		drain = 1;
	else if (sig == SIGINT || stop_kind != DS_STOP_NONE)
		stop_kind = DS_STOP_NOW;
	else
		stop_kind = DS_STOP_GRACEFUL;
}

void
ds_worker_signals_init(void)
{
	struct sigaction sa;
	sigset_t stops;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigemptyset(&stops);
	sigaddset(&stops, SIGTERM);
	sigaddset(&stops, SIGINT);
	sigaddset(&stops, SIGUSR1);
	sigprocmask(SIG_UNBLOCK, &stops, NULL);
}

enum ds_stop_kind
ds_stop_requested(void)
{
	return (enum ds_stop_kind)stop_kind;
}

int
ds_drain_requested(void)
{
	return drain;
}

void
ds_set_no_job_in_hand(int none)
{
	no_job_in_hand = none;
}
