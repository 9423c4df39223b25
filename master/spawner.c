/* spawner.c: a thread whose only work is posix_spawn. A spawn holds its
 * caller until the child has exec'd (glibc: clone with CLONE_VFORK), and
 * while thousands of workers start on busy cores the child may wait
 * seconds for a CPU to do that: measured with four CPU hogs, single spawns
 * of 0.5 to 2.2 s, the whole time the master could not answer its status
 * port or act on a signal. CLONE_VFORK stops only the calling thread, so
 * the master's loop hands each spawn to this thread and keeps serving.
 *
 * The thread touches nothing but the request it was handed (prepared by
 * the loop, which does not touch it until the thread hands it back) and
 * its two pipes: pointers to requests go in on one and come back on the
 * other. It blocks every signal, so that they reach the loop's thread. */
#include "master/spawner.h"
#include "master/priority.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

static int to_thread[2] = {-1, -1}, from_thread[2] = {-1, -1};

static void *
run(void *arg)
{
	struct ds_spawn_req *r;
	ssize_t n;

	(void)arg;
	ds_priority_unboost(0);	/* its children start at the usual nice */
	for (;;) {
		n = read(to_thread[0], &r, sizeof(r));
		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(r))
			return NULL;	/* the pipe is gone: never, while we run */
		ds_spawn_run(r);
		/* a pointer is less than PIPE_BUF: written whole or not */
		while (write(from_thread[1], &r, sizeof(r)) < 0 && errno == EINTR)
			;
	}
}

static void
close_pipes(void)
{
	for (int i = 0; i < 2; i++) {
		if (to_thread[i] >= 0)
			close(to_thread[i]);
		if (from_thread[i] >= 0)
			close(from_thread[i]);
		to_thread[i] = from_thread[i] = -1;
	}
}

static int
start(void)
{
	pthread_attr_t attr;
	pthread_t t;
	sigset_t all, old;
	int rc;

	if (pipe2(to_thread, O_CLOEXEC) < 0 ||
	    pipe2(from_thread, O_CLOEXEC | O_NONBLOCK) < 0) {
		rc = errno;
		close_pipes();
		errno = rc;
		return -1;
	}
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);	/* inherited */
	if ((rc = pthread_attr_init(&attr)) == 0) {
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		rc = pthread_create(&t, &attr, run, NULL);
		pthread_attr_destroy(&attr);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		close_pipes();
		errno = rc;
		return -1;
	}
	return 0;
}

int
ds_spawner_start(void)
{
	return to_thread[1] >= 0 ? 0 : start();
}

int
ds_spawner_post(struct ds_spawn_req *r)
{
	ssize_t n;

	if (to_thread[1] < 0 && start() < 0)
		return -1;
	while ((n = write(to_thread[1], &r, sizeof(r))) < 0 && errno == EINTR)
		;
	return n == (ssize_t)sizeof(r) ? 0 : -1;
}

int
ds_spawner_fd(void)
{
	return from_thread[0];
}

struct ds_spawn_req *
ds_spawner_take(int timeout_ms)
{
	struct pollfd pfd = {from_thread[0], POLLIN, 0};
	struct ds_spawn_req *r;

	if (from_thread[0] < 0)
		return NULL;
	/* a signal cuts a timed wait short (the loop has it to act on), not
	 * an untimed one */
	while (timeout_ms != 0 && poll(&pfd, 1, timeout_ms) < 0)
		if (errno != EINTR || timeout_ms > 0)
			break;
	if (read(from_thread[0], &r, sizeof(r)) != (ssize_t)sizeof(r))
		return NULL;
	return r;
}
