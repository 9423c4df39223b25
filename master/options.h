/* options.h: the master's command line (docs/operations.md), compatible with
 * the original's: every option in both --opt value and --opt=value forms. */
#ifndef DS_MASTER_OPTIONS_H
#define DS_MASTER_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

struct ds_master_opts {
	char *jobsconfig;	/* absolute path */
	int64_t max_running_ms;
	int64_t loop_timeout_ms;
	int status_port;	/* 0: none */
	char *status_addr;
	char *user;
	char *pid_file;		/* absolute path or NULL */
	char *logconfig;	/* absolute path or NULL */
	char *worker_path;	/* driveshaft-worker to exec */
	int daemonize;
	int check;
	char *query;		/* --query CMD, or NULL */
	char *self_path;	/* the master binary, as started: what an
				 * upgrade runs (docs/operations.md) */
	int upgrade;		/* --upgrade: signal the running master */
	int upgrade_check;	/* --upgrade-check: can this binary adopt
				 * the running master (upgrade_check.c) */
	int upgrade_state_fd;	/* --upgrade-state FD; -1 when not given */
};

enum { DS_OPTS_RUN = 0, DS_OPTS_HELP = 1, DS_OPTS_VERSION = 2,
	DS_OPTS_QUERY = 3, DS_OPTS_UPGRADE = 4, DS_OPTS_UPGRADE_CHECK = 5 };

/* Returns DS_OPTS_*, or -1 with err naming the option at fault. Paths are
 * made absolute against the current directory. */
int ds_master_parse_args(int argc, char **argv, struct ds_master_opts *o,
    char *err, size_t errlen);
void ds_master_opts_free(struct ds_master_opts *o);
void ds_master_usage(void);

#endif
