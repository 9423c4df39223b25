/* monitor.h: the master's side of the queue monitor (worker/qmon.c):
 * one child, fork/exec'd like a worker (ds_spawn_child) when the config has
 * queue_poll_interval > 0, restarted with backoff when it dies, replaced
 * when a reload changes what it reads, killed when it stops reporting. Its
 * rounds feed the queue view, then the pool sizing (scale.c) and the stuck
 * worker check (stuck.c). The supervisor calls in through short hooks. */
#ifndef DS_MONITOR_H
#define DS_MONITOR_H

#include <poll.h>
#include <sys/types.h>

#include "master/master.h"
#include "master/queue.h"

void ds_monitor_tick(struct ds_master *m, int64_t now);
int64_t ds_monitor_next_deadline(const struct ds_master *m);
/* Fills pfd with its descriptor; returns 0 or 1. */
size_t ds_monitor_pollfd(const struct ds_master *m, struct pollfd *pfd);
/* After poll: reads it when pfd (of n, 0 or 1) says so. */
void ds_monitor_serve(struct ds_master *m, const struct pollfd *pfd,
    size_t n);
/* 1 when pid was the monitor (and is now reaped). */
int ds_monitor_reaped(struct ds_master *m, pid_t pid, int status);
/* After a reload was applied: replace it if what it reads changed. */
void ds_monitor_reload(struct ds_master *m);
/* A stop or drain began: it ends now. */
void ds_monitor_stop(struct ds_master *m);
int ds_monitor_alive(const struct ds_master *m);
void ds_monitor_free(struct ds_master *m);

#endif
