/* log.h: one line per event, key=value fields, to syslog(3) and, when asked,
 * a copy on standard error. Shared by the master and the workers. */
#ifndef DS_LOG_H
#define DS_LOG_H

#include <stddef.h>
#include <syslog.h>

struct ds_log_settings {
	char ident[64];
	int facility;	/* LOG_DAEMON, LOG_LOCAL0, ... */
	int level;	/* highest priority value logged, LOG_INFO by default */
	int to_stderr;	/* copy every line to standard error; or AUTO */
};

/* Copy to stderr only where no line would be doubled or lost: when stderr
 * is a terminal, or when there is no syslog socket to write to. */
#define DS_LOG_STDERR_AUTO (-1)
int ds_log_stderr_rule(int stderr_is_tty, int have_syslog_socket);
/* Turns DS_LOG_STDERR_AUTO into 0 or 1 for this process. */
void ds_log_resolve_stderr(struct ds_log_settings *ls);

void ds_log_defaults(struct ds_log_settings *ls);
void ds_log_open(const struct ds_log_settings *ls);
const struct ds_log_settings *ds_log_current(void);

/* fmt is a sequence of key=value fields; quote values with ds_logval(). */
void ds_log(int prio, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Name <-> number for facility ("daemon", "local0".."local7", "user") and
 * level ("err", "warning", "notice", "info", "debug"). -1 when unknown. */
int ds_log_facility(const char *name);
int ds_log_level(const char *name);
const char *ds_log_facility_name(int facility);
const char *ds_log_level_name(int level);

/* Reads a `key = value` log config (ident, facility, level, stderr) over the
 * defaults in ls. An XML file (the original's log4cxx) is accepted with one
 * warning and leaves the defaults. Returns 0, or -1 with err naming the file,
 * line and what is wrong. warn is set (possibly empty) on success. */
int ds_log_read_config(const char *path, struct ds_log_settings *ls,
    char *err, size_t errlen, char *warn, size_t warnlen);

#endif
