/* upgrade_check.c: driveshaft --upgrade-check (upgrade_check.h). The same
 * checks a start makes (preflight.c), minus what the running master holds
 * (its pid file lock, its status port): what is left is whether this
 * binary would run with these options and config, and which state
 * versions it reads. The running master parses the one line printed. */
#include "master/upgrade_check.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "master/preflight.h"

int
ds_upgrade_check_line(char *buf, size_t len)
{
	return snprintf(buf, len, "upgrade-check ok version=%s "
	    "reads_state=%d-%d", DS_VERSION, DS_UPGRADE_STATE_MIN,
	    DS_UPGRADE_STATE_VERSION);
}

/* A master that dropped to --user runs its check as that user, who cannot
 * switch users: it opens the configs itself, as its reloads will. */
static int
user_reads_as_self(const struct ds_master_opts *o)
{
	const char *paths[] = {o->jobsconfig, o->logconfig};
	const char *names[] = {"--jobsconfig", "--logconfig"};
	struct passwd *pw = getpwnam(o->user);
	int ok = 1, fd;

	if (pw == NULL) {
		fprintf(stderr, "driveshaft: --user %s: no such user\n",
		    o->user);
		return 0;
	}
	if (pw->pw_uid != geteuid()) {
		fprintf(stderr, "driveshaft: --user %s: the check runs as uid "
		    "%d, neither root nor %s\n", o->user, (int)geteuid(),
		    o->user);
		return 0;
	}
	for (size_t i = 0; i < 2; i++) {
		if (paths[i] == NULL)
			continue;
		if ((fd = open(paths[i], O_RDONLY | O_CLOEXEC |
		    O_NONBLOCK)) >= 0) {
			close(fd);
			continue;
		}
		fprintf(stderr, "driveshaft: %s %s: cannot be read by user "
		    "%s: %s\n", names[i], paths[i], o->user, strerror(errno));
		ok = 0;
	}
	return ok;
}

static int
user_reads(const struct ds_master_opts *o)
{
	if (o->user == NULL)
		return 1;
	return geteuid() == 0 ? ds_preflight_user_reads(o) :
	    user_reads_as_self(o);
}

/* The roll starts the new workers from this path: a master that could not
 * would upgrade into a pool it cannot refill. */
static int
worker_runs(const struct ds_master_opts *o)
{
	if (o->worker_path == NULL) {
		fprintf(stderr, "driveshaft: no driveshaft-worker found beside "
		    "this binary: give --worker PATH\n");
		return 0;
	}
	if (access(o->worker_path, X_OK) == 0)
		return 1;
	fprintf(stderr, "driveshaft: cannot run the worker %s: %s\n",
	    o->worker_path, strerror(errno));
	return 0;
}

int
ds_upgrade_check(const struct ds_master_opts *o,
    struct ds_log_settings *ls, struct ds_config *cfg)
{
	char line[256];

	if (ds_preflight_log(o, ls) < 0 || ds_preflight_jobs(o, cfg) < 0 ||
	    !user_reads(o) || !worker_runs(o)) {
		fprintf(stderr, "driveshaft: upgrade-check failed: this binary "
		    "would not start with these options\n");
		return 1;
	}
	ds_upgrade_check_line(line, sizeof(line));
	/* the line last, after every warning: a reader of one pipe for both
	 * streams finds it at the end */
	if (printf("%s\n", line) < 0 || fflush(stdout) != 0) {
		fprintf(stderr, "driveshaft: upgrade-check: cannot write to "
		    "standard output: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}
