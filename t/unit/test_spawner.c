/* test_spawner.c: the master's spawner thread (master/spawner.h) hands
 * back each request with what posix_spawn made of it, one row per case:
 * a program that starts, one that does not exist, one that is not a
 * program. The child gets the request's socket as DS_WORKER_FD. */
#include "master/spawner.h"

#include "unit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const struct {
	const char *path;
	int started;	/* 1: a pid and exit 0; 0: -1 and err */
	int err;
} cases[] = {
	{"/bin/sh", 1, 0},
	{"/nonexistent/driveshaft-worker", 0, ENOENT},
	{"/etc/passwd", 0, EACCES},
};

START_TEST(hands_back)
{
	struct ds_spawn_req r;
	int sv[2], status;
	char *argv[] = {"sh", "-c", "test -S /dev/fd/3 || exit 3", NULL};

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	memset(&r, 0, sizeof(r));
	r.path = cases[_i].path;
	for (int i = 0; argv[i] != NULL; i++)
		r.argv.v[r.argv.n++] = argv[i];
	r.env = environ;
	r.sock = sv[1];
	r.page = -1;
	ck_assert_int_eq(ds_spawner_post(&r), 0);
	ck_assert_int_ge(ds_spawner_fd(), 0);
	ck_assert_ptr_eq(ds_spawner_take(-1), &r);
	ck_assert_ptr_null(ds_spawner_take(0));	/* nothing else done */
	if (cases[_i].started) {
		ck_assert_int_gt(r.pid, 0);
		ck_assert_int_eq(waitpid(r.pid, &status, 0), r.pid);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "%s: status %d", cases[_i].path, status);
	} else {
		ck_assert_int_eq(r.pid, -1);
		ck_assert_int_eq(r.err, cases[_i].err);
	}
	close(sv[0]);
	close(sv[1]);
}
END_TEST

static Suite *
spawner_suite(void)
{
	Suite *s = suite_create("spawner");
	TCase *tc = tcase_create("thread");

	tcase_add_loop_test(tc, hands_back, 0, NELEM(cases));
	suite_add_tcase(s, tc);
	return s;
}

DS_CHECK_MAIN(spawner_suite)
