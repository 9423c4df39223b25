/* qmon.h: the queue monitor, driveshaft-worker --monitor: one child of
 * the master that reads every gearmand's admin `status` and `workers` each
 * queue_poll_interval and reports what concerns our pools over its
 * socketpair (common/qmon_msg.h). It blocks as it likes (name
 * lookups, slow servers), which the master never may. What it reports is
 * bounded by the config whatever a server sends: one row per function of
 * ours and server (the last wins), at most max_workers worker rows. */
#ifndef DS_WORKER_QMON_H
#define DS_WORKER_QMON_H

#include <stddef.h>
#include <stdint.h>

#include "common/log.h"
#include "config/config.h"

struct ds_qmon_opts {
	struct ds_server servers[DS_MAX_SERVERS];
	const char *server_strs[DS_MAX_SERVERS];	/* as given, for logs */
	size_t nservers;
	const char *functions[DS_MAX_MONITOR_FUNCTIONS];	/* sorted */
	size_t nfunctions;
	int64_t interval_ms;
	size_t max_workers;		/* worker rows a server may list */
	int master_fd;			/* -1: by hand, print the reports */
	int master_pid;
	struct ds_log_settings log;
};

/* qmon_opts.c: 0 to run, 1 for --help (printed), -1 with err set. */
int ds_qmon_parse_args(int argc, char **argv, struct ds_qmon_opts *o,
    char *err, size_t errlen);

/* One server's part of a round (qmon_io.c). */
struct ds_admin_read {
	int up;
	char why[160];		/* when down */
	char *buf;		/* the status reply, then the workers reply */
	size_t status_len, workers_len;
};

/* Reads every server at once, each within timeout_ms; r has nservers
 * entries; free their bufs with ds_admin_reads_free(). */
void ds_admin_read_all(const struct ds_server *servers, size_t nservers,
    int64_t timeout_ms, struct ds_admin_read *r);
void ds_admin_reads_free(struct ds_admin_read *r, size_t n);

/* qmon.c: runs until a stop signal or the master's exit. */
int ds_qmon_main(int argc, char **argv);

#endif
