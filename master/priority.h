/* priority.h: the master's loop runs a few nice steps above its workers
 * (priority.c). */
#ifndef DS_PRIORITY_H
#define DS_PRIORITY_H

#include <sys/types.h>

/* How many nice steps the loop's thread is raised by, when allowed. */
#define DS_LOOP_NICE_BOOST 10
/* Its real-time priority (SCHED_RR), when allowed: the lowest. */
#define DS_LOOP_RT_PRIORITY 1

/* Raises the calling thread (the loop) by DS_LOOP_NICE_BOOST and to
 * SCHED_RR (reset on fork); call it before privileges are dropped and
 * before any other thread exists. Does nothing, silently, where the
 * process may not raise itself. */
void ds_priority_boost_loop(void);

/* Puts who (0: the calling thread; else a child's pid) back at the nice
 * value the master started with: a child or a thread must not inherit the
 * loop's boost. */
void ds_priority_unboost(pid_t who);

/* After an upgrade's exec: the loop's thread kept its nice; the value to
 * put children back at is child's (0: none, then the loop's own). */
void ds_priority_adopt(pid_t child);

#endif
