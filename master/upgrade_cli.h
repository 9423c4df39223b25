/* upgrade_cli.h: driveshaft --upgrade --pid_file F --status_port P
 * (docs/operations.md, "Upgrading without a stop"): signals the running
 * master to upgrade in place (USR2) and waits for the outcome on its
 * status port, so that a script or the init script gets it as an exit
 * status. The parsers are apart so they can be tested by table. */
#ifndef DS_UPGRADE_CLI_H
#define DS_UPGRADE_CLI_H

#include <stddef.h>
#include <sys/types.h>

#include "master/options.h"

/* How long --upgrade waits for the outcome, and how often it looks. */
#define DS_UPGRADE_WAIT_MS	60000
#define DS_UPGRADE_POLL_MS	100

/* What a `version` reply says. */
struct ds_upgrade_seen {
	char version[64];	/* the master's, from "driveshaft V" */
	long upgrades;		/* from "upgrades N failed M" */
	long failed;
};

/* The content of a pid file (len bytes of text): one pid, optional
 * surrounding blanks and newline. Returns 0 with *pid set, or -1 with err
 * saying what is wrong (empty, not a number, out of range). */
int ds_upgrade_parse_pid(const char *text, size_t len, pid_t *pid,
    char *err, size_t errlen);

/* A `version` reply (lines ending "\n" or "\r\n"). Returns 1 with every
 * field set, 0 when the counters line is absent (a master too old to
 * upgrade in place; version is set), -1 with err when it is not a
 * version reply or a counters line is malformed. */
int ds_upgrade_parse_version(const char *reply, struct ds_upgrade_seen *s,
    char *err, size_t errlen);

/* The whole of --upgrade; returns the exit status (0 upgraded, 1 not). */
int ds_upgrade_cli(const struct ds_master_opts *o);

#endif
