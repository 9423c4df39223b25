/* upgrade_check.h: driveshaft --upgrade-check (docs/operations.md,
 * "Upgrading without a stop"). A running master runs its binary on disk
 * with this and its own options before an in-place upgrade: the new
 * binary says whether it would start with them, and which state versions
 * it can adopt. */
#ifndef DS_UPGRADE_CHECK_H
#define DS_UPGRADE_CHECK_H

#include <stddef.h>

#include "master/master.h"

/* DS_UPGRADE_STATE_MIN and DS_UPGRADE_STATE_VERSION: the state versions
 * this binary can read (the codec's). */
#include "master/upgrade_state.h"

/* The line a check that passes prints (no newline):
 * "upgrade-check ok version=V reads_state=LOW-HIGH". Returns its length
 * as snprintf does. */
int ds_upgrade_check_line(char *buf, size_t len);

/* Validates o, the log config (into ls) and the jobs config (into cfg)
 * as a start would; prints the line above on standard output and returns
 * 0, or prints what is wrong on standard error and returns 1. */
int ds_upgrade_check(const struct ds_master_opts *o,
    struct ds_log_settings *ls, struct ds_config *cfg);

#endif
