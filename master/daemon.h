/* daemon.h: start-up hygiene (docs/operations.md): pid file, detaching with the
 * daemon's start-up result reported to the caller, dropping privileges. */
#ifndef DS_DAEMON_H
#define DS_DAEMON_H

#include <stddef.h>

/* Creates and locks path. Returns the fd, or -1 with err saying why (a
 * live instance holding the lock names its pid). A stale file is reused. */
int ds_pidfile_lock(const char *path, char *err, size_t errlen);
int ds_pidfile_write(int fd);
void ds_pidfile_remove(const char *path, int fd);

/* Forks; the parent waits for ds_daemon_ready() or ds_daemon_fail() from
 * the child and exits with its status, printing its error. Returns in the
 * child only, which is then in a new session. */
int ds_daemonize(char *err, size_t errlen);
void ds_daemon_ready(void);
void ds_daemon_fail(int status, const char *msg);
int ds_daemon_detached(void);

/* initgroups, setgid, setuid. Returns 0 or -1 with err. */
int ds_drop_user(const char *user, char *err, size_t errlen);

struct ds_user_file {
	const char *option;	/* for the message: "--jobsconfig" */
	const char *path;	/* NULL: skipped */
};

/* Whether user (after initgroups, setgid, setuid, in a child) can open
 * each file for reading; reloads read them as that user. Returns 0, or -1
 * with err naming each file it cannot read, one per line. */
int ds_user_can_read(const char *user, const struct ds_user_file *files,
    size_t n, char *err, size_t errlen);

#endif
