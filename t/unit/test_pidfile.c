/* test_pidfile.c: the --pid_file (docs/operations.md, master/daemon.h): created
 * and locked, a live holder refuses a second start and is named, a stale
 * file never blocks a start, removed on clean exit. */
#include "master/daemon.h"

#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64];
static char path[PATH_MAX];
static char want[PATH_MAX + 128];
static char err[PATH_MAX + 256];
static char content[256];

static void
setup(void)
{
	strcpy(dir, "/tmp/ds-pidfile-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/driveshaft.pid", dir);
	memset(err, 0, sizeof(err));
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* The whole of file p, or NULL if it cannot be opened. */
static const char *
slurp(const char *p)
{
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return NULL;
	n = read(fd, content, sizeof(content) - 1);
	close(fd);
	ck_assert_int_ge(n, 0);
	content[n] = '\0';
	return content;
}

static void
put(const char *p, const char *text)
{
	FILE *f = fopen(p, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

static const char *
my_pid(void)
{
	static char buf[32];

	snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	return buf;
}

static int
is_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1 || errno != EBADF;
}

START_TEST(creates_and_writes)
{
	struct stat st;
	mode_t old = umask(022);
	int fd = ds_pidfile_lock(path, err, sizeof(err));

	umask(old);
	ck_assert_msg(fd >= 0, "lock failed: %s", err);
	ck_assert_str_eq(err, "");
	/* close-on-exec: no child inherits the lock */
	ck_assert_int_eq(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_int_eq(st.st_mode & 0777, 0644);
	ck_assert_int_eq(ds_pidfile_write(fd), 0);
	ck_assert_str_eq(slurp(path), my_pid());
	/* writing again leaves one line */
	ck_assert_int_eq(ds_pidfile_write(fd), 0);
	ck_assert_str_eq(slurp(path), my_pid());
	ds_pidfile_remove(path, fd);
}
END_TEST

START_TEST(stale_file_reused)
{
	int fd;

	/* longer than ours, so the old text must be cut, not overwritten */
	put(path, "2147483647\nsomething else\n");
	fd = ds_pidfile_lock(path, err, sizeof(err));
	ck_assert_msg(fd >= 0, "lock failed: %s", err);
	/* locking alone does not change it */
	ck_assert_str_eq(slurp(path), "2147483647\nsomething else\n");
	ck_assert_int_eq(ds_pidfile_write(fd), 0);
	ck_assert_str_eq(slurp(path), my_pid());
	ds_pidfile_remove(path, fd);
	ck_assert_ptr_null(slurp(path));
}
END_TEST

START_TEST(stale_garbage_and_empty)
{
	static const char *stale[] = {"not a pid", ""};
	int fd;

	for (size_t i = 0; i < sizeof(stale) / sizeof(stale[0]); i++) {
		put(path, stale[i]);
		fd = ds_pidfile_lock(path, err, sizeof(err));
		ck_assert_msg(fd >= 0, "lock failed: %s", err);
		ck_assert_int_eq(ds_pidfile_write(fd), 0);
		ck_assert_str_eq(slurp(path), my_pid());
		ds_pidfile_remove(path, fd);
	}
}
END_TEST

START_TEST(locked_by_running)
{
	int fd, fd2;

	fd = ds_pidfile_lock(path, err, sizeof(err));
	ck_assert_msg(fd >= 0, "lock failed: %s", err);
	ck_assert_int_eq(ds_pidfile_write(fd), 0);
	/* flock locks belong to the open file description: a second open
	 * in this process conflicts like another process would */
	ck_assert_int_eq(ds_pidfile_lock(path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "--pid_file %s: locked by a running "
	    "driveshaft (pid %d)", path, (int)getpid());
	ck_assert_str_eq(err, want);
	/* the holder's file is untouched */
	ck_assert_str_eq(slurp(path), my_pid());
	ck_assert(is_open(fd));

	/* once the holder is gone, the next start goes ahead */
	close(fd);
	fd2 = ds_pidfile_lock(path, err, sizeof(err));
	ck_assert_msg(fd2 >= 0, "lock failed: %s", err);
	ds_pidfile_remove(path, fd2);
}
END_TEST

START_TEST(locked_other_pid)
{
	int fd;

	fd = ds_pidfile_lock(path, err, sizeof(err));
	ck_assert_msg(fd >= 0, "lock failed: %s", err);
	/* what the holder wrote is what is named, first line only */
	ck_assert_int_eq(pwrite(fd, "4242\nmore\n", 10, 0), 10);
	ck_assert_int_eq(ds_pidfile_lock(path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "--pid_file %s: locked by a running "
	    "driveshaft (pid 4242)", path);
	ck_assert_str_eq(err, want);
	ds_pidfile_remove(path, fd);
}
END_TEST

START_TEST(locked_before_write)
{
	int fd;

	/* the holder has locked but not yet written */
	fd = ds_pidfile_lock(path, err, sizeof(err));
	ck_assert_msg(fd >= 0, "lock failed: %s", err);
	ck_assert_int_eq(ds_pidfile_lock(path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "--pid_file %s: locked by a running "
	    "driveshaft (pid unknown)", path);
	ck_assert_str_eq(err, want);
	ds_pidfile_remove(path, fd);
}
END_TEST

START_TEST(locked_by_child)
{
	int fd, up[2], down[2], status;
	pid_t pid;
	char c;

	ck_assert_int_eq(pipe(up), 0);
	ck_assert_int_eq(pipe(down), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char e[PATH_MAX + 256];
		int cfd = ds_pidfile_lock(path, e, sizeof(e));

		if (cfd < 0 || ds_pidfile_write(cfd) < 0 ||
		    write(up[1], "x", 1) != 1)
			_exit(1);
		/* hold it until the parent is done */
		_exit(read(down[0], &c, 1) == 1 ? 0 : 1);
	}
	ck_assert_int_eq(read(up[0], &c, 1), 1);
	ck_assert_int_eq(ds_pidfile_lock(path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "--pid_file %s: locked by a running "
	    "driveshaft (pid %d)", path, (int)pid);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(write(down[1], "x", 1), 1);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(up[0]);
	close(up[1]);
	close(down[0]);
	close(down[1]);
	/* the child died without removing it: stale, never blocks */
	fd = ds_pidfile_lock(path, err, sizeof(err));
	ck_assert_msg(fd >= 0, "lock failed: %s", err);
	ck_assert_int_eq(ds_pidfile_write(fd), 0);
	ck_assert_str_eq(slurp(path), my_pid());
	ds_pidfile_remove(path, fd);
}
END_TEST

START_TEST(no_such_directory)
{
	snprintf(path, sizeof(path), "%s/nope/driveshaft.pid", dir);
	ck_assert_int_eq(ds_pidfile_lock(path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "--pid_file %s: No such file or "
	    "directory", path);
	ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(unwritable_directory)
{
	char sub[128];
	pid_t pid;
	int status;

	snprintf(sub, sizeof(sub), "%s/ro", dir);
	ck_assert_int_eq(chmod(dir, 0755), 0);
	ck_assert_int_eq(mkdir(sub, 0555), 0);
	snprintf(path, sizeof(path), "%s/driveshaft.pid", sub);
	snprintf(want, sizeof(want), "--pid_file %s: Permission denied",
	    path);
	/* in a child, which root first leaves for nobody: root writes
	 * anywhere */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (geteuid() == 0 && (setgid(65534) < 0 || setuid(65534) < 0))
			_exit(2);
		if (ds_pidfile_lock(path, err, sizeof(err)) != -1)
			_exit(3);
		if (strcmp(err, want) != 0) {
			fprintf(stderr, "got: %s\n", err);
			_exit(4);
		}
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert_int_eq(access(path, F_OK), -1);
}
END_TEST

START_TEST(not_a_directory)
{
	char file[128];

	snprintf(file, sizeof(file), "%s/file", dir);
	put(file, "");
	snprintf(path, sizeof(path), "%s/driveshaft.pid", file);
	ck_assert_int_eq(ds_pidfile_lock(path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "--pid_file %s: Not a directory", path);
	ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(path_is_directory)
{
	ck_assert_int_eq(ds_pidfile_lock(dir, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "--pid_file %s: Is a directory", dir);
	ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(remove_unlinks)
{
	int fd = ds_pidfile_lock(path, err, sizeof(err));

	ck_assert_msg(fd >= 0, "lock failed: %s", err);
	ck_assert_int_eq(ds_pidfile_write(fd), 0);
	ck_assert_int_eq(access(path, F_OK), 0);
	ds_pidfile_remove(path, fd);
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert(!is_open(fd));
	/* no pid file, no descriptor: nothing to do */
	ds_pidfile_remove(path, -1);
	/* and a new start goes ahead */
	fd = ds_pidfile_lock(path, err, sizeof(err));
	ck_assert_msg(fd >= 0, "lock failed: %s", err);
	ds_pidfile_remove(path, fd);
	ck_assert_int_eq(access(path, F_OK), -1);
}
END_TEST

START_TEST(remove_refused_empties)
{
	char moved[PATH_MAX + 16];
	struct stat st;
	int fd = ds_pidfile_lock(path, err, sizeof(err));

	ck_assert_msg(fd >= 0, "lock failed: %s", err);
	ck_assert_int_eq(ds_pidfile_write(fd), 0);
	/* the unlink fails (here: the name is gone); the file the fd holds
	 * is emptied and unlocked instead */
	snprintf(moved, sizeof(moved), "%s.moved", path);
	ck_assert_int_eq(rename(path, moved), 0);
	ds_pidfile_remove(path, fd);
	ck_assert(!is_open(fd));
	ck_assert_int_eq(stat(moved, &st), 0);
	ck_assert_int_eq(st.st_size, 0);
	ck_assert_int_eq(rename(moved, path), 0);
	fd = ds_pidfile_lock(path, err, sizeof(err));
	ck_assert_msg(fd >= 0, "lock failed: %s", err);
	ds_pidfile_remove(path, fd);
}
END_TEST

static Suite *
pidfile_suite(void)
{
	Suite *s = suite_create("pidfile");
	TCase *tc;

	tc = tcase_create("pidfile");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, creates_and_writes);
	tcase_add_test(tc, stale_file_reused);
	tcase_add_test(tc, stale_garbage_and_empty);
	tcase_add_test(tc, locked_by_running);
	tcase_add_test(tc, locked_other_pid);
	tcase_add_test(tc, locked_before_write);
	tcase_add_test(tc, locked_by_child);
	tcase_add_test(tc, no_such_directory);
	tcase_add_test(tc, unwritable_directory);
	tcase_add_test(tc, not_a_directory);
	tcase_add_test(tc, path_is_directory);
	tcase_add_test(tc, remove_unlinks);
	tcase_add_test(tc, remove_refused_empties);
	suite_add_tcase(s, tc);
	return s;
}

DS_CHECK_MAIN(pidfile_suite)
