/* limits.h: what the host lets the master run: a worker costs the master
 * two descriptors (its socketpair end and its slot page's memfd, kept for
 * an upgrade to map again) and the host one process. A config
 * that cannot fit is refused up front instead of failing spawn by spawn;
 * what still fails at spawn time (RLIMIT_NPROC, memory) backs off. */
#ifndef DS_LIMITS_H
#define DS_LIMITS_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

/* Descriptors the master needs besides one per worker: the status port's
 * clients and listener, the self-pipe, pid file, syslog, stdio, slack. */
#define DS_FD_RESERVE (256 + 32)
#define DS_FDS_PER_WORKER 2

/* Raises the soft RLIMIT_NOFILE to the hard one; returns the soft limit
 * now in force. */
uint64_t ds_raise_nofile(void);

/* 0 when cfg's workers fit in nofile descriptors, or -1 with err saying
 * what is needed and what to change. */
int ds_config_fits(const struct ds_config *cfg, uint64_t nofile, char *err,
    size_t errlen);

/* Grows the master's descriptor table at once to what cfg needs (at most
 * nofile). It grows by doubling as workers' sockets and pages are opened,
 * and in a process with threads each growth waits for an RCU grace
 * period: tens of ms on a loaded machine, several times in the middle of
 * a start, with the loop unable to answer. Best effort. */
void ds_fd_table_reserve(const struct ds_config *cfg, uint64_t nofile);

/* The wait before retry number `step` (1, 2, ...): 1 s, 2 s, 4 s ...
 * capped at 30 s; 0 for step <= 0. */
int64_t ds_backoff_ms(int step);

#endif
