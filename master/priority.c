/* priority.c: the master's loop runs DS_LOOP_NICE_BOOST nice steps above
 * its workers. With the kernel's autogroup scheduling the master and all
 * its workers form one scheduling group (one session), so while thousands
 * of workers start, the loop competes with each of them as an equal and
 * waited a scheduler's round of them for the CPU (status replies of 250 to
 * 400 ms during a 2,000-worker start beside CPU hogs). The loop uses
 * little CPU and never spins, so a higher weight costs the workers
 * nothing measurable and keeps the status port, signals and reaps prompt.
 *
 * Nice orders threads only within their scheduling group, though: other
 * sessions (each its own group under autogroup) still took turns with the
 * master's whole group, and beside two CPU hogs in other sessions a status
 * reply could wait 500 ms. So the loop's thread also takes the lowest
 * real-time priority (SCHED_RR 1), which no fair-class task delays. It
 * never spins and uses little CPU, and the kernel's real-time throttling
 * (95% of a CPU by default) bounds what a bug could take. With
 * SCHED_RESET_ON_FORK no thread or child it creates inherits the policy.
 *
 * Nice is per thread on Linux: the boost is the loop's thread alone; the
 * spawner thread and every child are put back at the starting value. Not
 * being allowed to boost (no root, no CAP_SYS_NICE, RLIMIT_NICE,
 * RLIMIT_RTPRIO) is fine: the master then runs as before. */
#include "master/priority.h"

#include <errno.h>
#include <sched.h>
#include <sys/resource.h>

static int base_nice, boosted;

static void
boost_realtime(void)
{
	struct sched_param sp = {.sched_priority = DS_LOOP_RT_PRIORITY};

	(void)sched_setscheduler(0, SCHED_RR | SCHED_RESET_ON_FORK, &sp);
}

void
ds_priority_boost_loop(void)
{
	int now;

	boost_realtime();
	errno = 0;
	now = getpriority(PRIO_PROCESS, 0);
	if (now == -1 && errno != 0)
		return;
	if (setpriority(PRIO_PROCESS, 0, now - DS_LOOP_NICE_BOOST) < 0)
		return;
	base_nice = now;
	boosted = 1;
}

void
ds_priority_unboost(pid_t who)
{
	if (boosted)
		(void)setpriority(PRIO_PROCESS, (id_t)who, base_nice);
}

void
ds_priority_adopt(pid_t child)
{
	int now, base;

	errno = 0;
	now = getpriority(PRIO_PROCESS, 0);
	if (now == -1 && errno != 0)
		return;
	errno = 0;
	base = child > 0 ? getpriority(PRIO_PROCESS, (id_t)child) : now;
	if (base == -1 && errno != 0)
		return;
	base_nice = base;
	boosted = base != now;
}
