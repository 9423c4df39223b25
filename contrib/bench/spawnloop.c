/* spawnloop.c: the start-up floor's launcher, for make bench: starts N
 * copies of a program back to back from a minimal C loop (posix_spawn, as
 * the master does, with nothing else between two spawns), then waits for
 * SIGTERM or SIGINT, kills them all and reaps them.
 *
 *   spawnloop N PROGRAM [ARG...]
 *
 * Prints "spawned N in MS ms" once the last one is started. What the
 * master does per worker beyond this (its slot page, socketpair,
 * environment, bookkeeping and loop) is what its start-up adds to the
 * floor. */
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int
main(int argc, char **argv)
{
	int n = argc >= 3 ? atoi(argv[1]) : 0, sig;
	pid_t *pids;
	posix_spawnattr_t at;
	sigset_t stop, none;
	double t0;

	if (n <= 0 || (pids = calloc((size_t)n, sizeof(*pids))) == NULL) {
		fprintf(stderr, "usage: spawnloop N PROGRAM [ARG...]\n");
		return 2;
	}
	/* held from the start, so that a stop during the loop is not lost;
	 * the children start with an empty mask */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigprocmask(SIG_BLOCK, &stop, NULL);
	sigemptyset(&none);
	posix_spawnattr_init(&at);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK);
	t0 = now_ms();
	for (int i = 0; i < n; i++)
		if (posix_spawn(&pids[i], argv[2], NULL, &at, argv + 2,
		    environ) != 0) {
			perror("spawnloop: posix_spawn");
			n = i;
			break;
		}
	printf("spawned %d in %.0f ms\n", n, now_ms() - t0);
	fflush(stdout);
	sigwait(&stop, &sig);
	for (int i = 0; i < n; i++)
		kill(pids[i], SIGKILL);
	for (int i = 0; i < n; i++)
		waitpid(pids[i], NULL, 0);
	posix_spawnattr_destroy(&at);
	free(pids);
	return 0;
}
