/* daemon.c: pid file, daemonizing and dropping privileges (daemon.h). */
#include "master/daemon.h"

#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdint.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int status_fd = -1;	/* write end to the waiting parent */

static int
not_plain_file(int fd, const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "--pid_file %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "--pid_file %s: not a regular file", path);
		return -1;
	}
	if (st.st_nlink > 1) {
		snprintf(err, errlen, "--pid_file %s: has %ju hard links; refusing "
		    "to write to a file with other names", path,
		    (uintmax_t)st.st_nlink);
		return -1;
	}
	return 0;
}

int
ds_pidfile_lock(const char *path, char *err, size_t errlen)
{
	char buf[32] = "";
	ssize_t n;
	/* as root, a link planted where the pid file goes would have us
	 * truncate its target: never follow one, and accept only a plain
	 * file that is not a second name of another file */
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW |
	    O_NONBLOCK | O_NOCTTY, 0644);

	if (fd < 0) {
		snprintf(err, errlen, "--pid_file %s: %s", path, errno == ELOOP ?
		    "is a symbolic link; refusing to follow it" : strerror(errno));
		return -1;
	}
	if (not_plain_file(fd, path, err, errlen) < 0) {
		close(fd);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return fd;
	if (errno != EWOULDBLOCK) {
		snprintf(err, errlen, "--pid_file %s: %s", path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	snprintf(err, errlen, "--pid_file %s: locked by a running driveshaft "
	    "(pid %s)", path, buf[0] ? buf : "unknown");
	close(fd);
	return -1;
}

int
ds_pidfile_write(int fd)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());

	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n)
		return -1;
	return 0;
}

void
ds_pidfile_remove(const char *path, int fd)
{
	if (fd < 0)
		return;
	/* unlink may be refused after dropping privileges; an empty
	 * unlocked file is then what is left, and it blocks nothing */
	if (unlink(path) < 0 && ftruncate(fd, 0) < 0)
		ds_log(LOG_WARNING, "event=pid_file_left path=%s error=\"%s\"",
		    path, strerror(errno));
	close(fd);
}

int
ds_daemonize(char *err, size_t errlen)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "daemonize: %s", strerror(errno));
		return -1;
	}
	if ((pid = fork()) < 0) {
		snprintf(err, errlen, "daemonize: %s", strerror(errno));
		return -1;
	}
	if (pid > 0) {
		char msg[1024];
		ssize_t n, got = 0;

		close(p[1]);
		while ((n = read(p[0], msg + got, sizeof(msg) - 1 -
		    (size_t)got)) > 0 || (n < 0 && errno == EINTR))
			if (n > 0)
				got += n;
		if (got == 0) {
			fprintf(stderr, "driveshaft: the daemon exited during "
			    "start-up\n");
			_exit(2);
		}
		msg[got] = '\0';
		if (msg[0] != '0')
			fprintf(stderr, "%s\n", msg + 1);
		_exit(msg[0] - '0');
	}
	close(p[0]);
	status_fd = p[1];
	setsid();
	umask(022);
	if (chdir("/") < 0) {
		snprintf(err, errlen, "daemonize: chdir /: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* The start-up result for the waiting parent; then the pipe is closed. A
 * parent that is gone already has nobody to tell. */
static void
tell_parent(const char *buf, size_t len)
{
	ssize_t n;

	while ((n = write(status_fd, buf, len)) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)len)
		ds_log(LOG_WARNING, "event=start_report_lost error=\"%s\"",
		    n < 0 ? strerror(errno) : "short write");
	close(status_fd);
	status_fd = -1;
}

int
ds_daemon_detached(void)
{
	return status_fd >= 0;
}

void
ds_daemon_ready(void)
{
	int fd;

	if (status_fd < 0)
		return;
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	tell_parent("0", 1);
}

void
ds_daemon_fail(int status, const char *msg)
{
	char buf[1024];
	int n;

	if (status_fd < 0)
		return;
	n = snprintf(buf, sizeof(buf), "%c%s", '0' + status, msg);
	tell_parent(buf, (size_t)(n < (int)sizeof(buf) ? n :
	    (int)sizeof(buf) - 1));
}

int
ds_drop_user(const char *user, char *err, size_t errlen)
{
	struct passwd *pw;

	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		snprintf(err, errlen, "--user %s: no such user", user);
		return -1;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) < 0) {
		snprintf(err, errlen, "--user %s: initgroups: %s", user,
		    strerror(errno));
		return -1;
	}
	if (setgid(pw->pw_gid) < 0) {
		snprintf(err, errlen, "--user %s: setgid(%d): %s", user,
		    (int)pw->pw_gid, strerror(errno));
		return -1;
	}
	if (setuid(pw->pw_uid) < 0) {
		snprintf(err, errlen, "--user %s: setuid(%d): %s", user,
		    (int)pw->pw_uid, strerror(errno));
		return -1;
	}
	if (pw->pw_uid != 0 && setuid(0) == 0) {
		snprintf(err, errlen, "--user %s: could get root back", user);
		return -1;
	}
	return 0;
}

/* In a child as user: opens each file, writes one line per failure. */
static void
try_reads_as(const char *user, const struct ds_user_file *files, size_t n,
    int out)
{
	char err[1024];

	if (ds_drop_user(user, err, sizeof(err)) < 0) {
		dprintf(out, "%s\n", err);
		_exit(1);
	}
	for (size_t i = 0; i < n; i++) {
		int fd;

		if (files[i].path == NULL)
			continue;
		if ((fd = open(files[i].path, O_RDONLY | O_CLOEXEC |
		    O_NONBLOCK)) < 0)
			dprintf(out, "%s %s: cannot be read by user %s: %s\n",
			    files[i].option, files[i].path, user,
			    strerror(errno));
		else
			close(fd);
	}
	_exit(0);
}

int
ds_user_can_read(const char *user, const struct ds_user_file *files,
    size_t n, char *err, size_t errlen)
{
	size_t got = 0;
	ssize_t r;
	pid_t pid;
	int p[2], status;

	if (pipe2(p, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
		snprintf(err, errlen, "--user %s: cannot check what the user can "
		    "read: %s", user, strerror(errno));
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		try_reads_as(user, files, n, p[1]);
	}
	close(p[1]);
	err[0] = '\0';
	while (got + 1 < errlen && ((r = read(p[0], err + got, errlen - 1 -
	    got)) > 0 || (r < 0 && errno == EINTR)))
		got += r > 0 ? (size_t)r : 0;
	err[got] = '\0';
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (got && err[got - 1] == '\n')
		err[got - 1] = '\0';
	return got ? -1 : 0;
}
