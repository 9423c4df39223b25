/* preflight.h: what a start checks before it touches anything (the log
 * config, the jobs config, that the --user can read them), shared by a
 * start, --check and --upgrade-check so that the three can never disagree
 * on what is valid. Each prints what is wrong to standard error. */
#ifndef DS_PREFLIGHT_H
#define DS_PREFLIGHT_H

#include "master/master.h"

/* The log settings of --logconfig into ls. Returns 0, or -1. */
int ds_preflight_log(const struct ds_master_opts *o,
    struct ds_log_settings *ls);
/* The jobs config of --jobsconfig into cfg, and that it fits the
 * descriptor limit. Returns 0, or -1. */
int ds_preflight_jobs(const struct ds_master_opts *o, struct ds_config *cfg);
/* True when o->user (set) can read the configs: reloads read them as the
 * user, so a start that would make every later HUP fail is refused. Needs
 * root, as a start has (it switches to the user in a child). */
int ds_preflight_user_reads(const struct ds_master_opts *o);

#endif
