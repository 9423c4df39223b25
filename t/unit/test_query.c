/* test_query.c: driveshaft --query (master/query.h): the options it takes
 * and refuses, and the client against a listener that answers (a hostile
 * one too: escape sequences), one that never does and a port where nothing
 * listens. */
#include "master/options.h"
#include "master/query.h"

#include "unit.h"

#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/parse.h"

static struct ds_master_opts o;
static struct ds_args args;
static char err[1024];

static int
run(const char *first, ...)
{
	va_list ap;

	ds_master_opts_free(&o);
	va_start(ap, first);
	ds_args_vset(&args, "driveshaft", first, ap);
	va_end(ap);
	memset(err, 0, sizeof(err));
	return ds_master_parse_args(args.argc, args.argv, &o, err,
	    sizeof(err));
}

static void
teardown(void)
{
	ds_master_opts_free(&o);
	ds_args_free(&args);
}

START_TEST(query_forms)
{
	static const char *const cmds[] = {"threads", "pools", "metrics",
	    "version"};

	for (size_t i = 0; i < 4; i++) {
		ck_assert_int_eq(run("--query", cmds[i], "--status_port",
		    "4731", (char *)NULL), DS_OPTS_QUERY);
		ck_assert_str_eq(o.query, cmds[i]);
		ck_assert_int_eq(o.status_port, 4731);
		ck_assert_str_eq(o.status_addr, "127.0.0.1");
	}
	/* --opt=value, an address, and no --jobsconfig needed */
	ck_assert_int_eq(run("--status_addr=::1", "--query=metrics",
	    "--status_port=1", (char *)NULL), DS_OPTS_QUERY);
	ck_assert_str_eq(o.query, "metrics");
	ck_assert_str_eq(o.status_addr, "::1");
	/* the original's full command line with --query added works too */
	ck_assert_int_eq(run("--jobsconfig", "/etc/j.json", "--user", "ds",
	    "--daemonize", "--status_port", "4731", "--query", "pools",
	    (char *)NULL), DS_OPTS_QUERY);
	/* --help still wins */
	ck_assert_int_eq(run("--query", "pools", "--help", (char *)NULL),
	    DS_OPTS_HELP);
}
END_TEST

START_TEST(query_errors)
{
	static const struct {
		const char *a, *b, *c, *want;
	} cases[] = {
		{"--query", "pools", NULL,
		    "--query pools needs --status_port PORT"},
		{"--query=threads", "--status_port=0", NULL,
		    "--query threads needs --status_port PORT"},
		{"--query", "status", "--status_port=1",
		    "--query: expected threads, pools, metrics or version, "
		    "got \"status\""},
		{"--query", "", "--status_port=1",
		    "--query: expected threads, pools, metrics or version, "
		    "got \"\""},
		{"--query", "POOLS", "--status_port=1",
		    "--query: expected threads, pools, metrics or version, "
		    "got \"POOLS\""},
		{"--query", "pools\n", "--status_port=1",
		    "--query: expected threads, pools, metrics or version, "
		    "got \"pools\n\""},
		{"--status_port=1", "--query", NULL,
		    "option \"--query\" needs a value"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_int_eq(run(cases[i].a, cases[i].b, cases[i].c,
		    (char *)NULL), -1);
		ck_assert_str_eq(err, cases[i].want);
	}
}
END_TEST

/* A listener on a free loopback port; *port gets its number. */
static int
listener(int *port)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

/* Forks a server that reads one line, checks it, and writes reply. */
static pid_t
serve_once(int lfd, const char *want, const char *reply)
{
	pid_t pid = fork();
	char line[64];
	ssize_t n;
	size_t got = 0;
	int c;

	ck_assert_int_ge(pid, 0);
	if (pid > 0)
		return pid;
	if ((c = accept(lfd, NULL, NULL)) < 0)
		_exit(3);
	while (got < sizeof(line) - 1 && (got == 0 || line[got - 1] != '\n') &&
	    (n = read(c, line + got, sizeof(line) - 1 - got)) > 0)
		got += (size_t)n;
	line[got] = '\0';
	if (strcmp(line, want) != 0)
		_exit(4);
	if (write(c, reply, strlen(reply)) != (ssize_t)strlen(reply))
		_exit(5);
	close(c);
	_exit(0);
}

START_TEST(query_reply)
{
	char *out = NULL;
	size_t outlen = 0;
	FILE *f = open_memstream(&out, &outlen);
	int port, lfd = listener(&port), status;
	pid_t pid = serve_once(lfd, "pools\n",
	    "Regular\t4\t4\t0\t4\t10\t0\t0\r\nForms\t1\t1\t0\t1\t0\t0\t0\r\n");

	ck_assert_int_eq(ds_query("127.0.0.1", port, "pools", 1000, 2000, f,
	    err, sizeof(err)), 0);
	fclose(f);
	ck_assert_str_eq(out, "Regular\t4\t4\t0\t4\t10\t0\t0\n"
	    "Forms\t1\t1\t0\t1\t0\t0\t0\n");
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	free(out);
	close(lfd);
}
END_TEST

/* What a hostile status port sends, and what reaches the terminal: control
 * bytes but tab, CR and LF as \xNN, "\r\n" made "\n". */
static const struct {
	const char *reply, *want;
} hostile_replies[] = {
	{"\x1b]2;owned\x07pool\r\n", "\\x1B]2;owned\\x07pool\n"},
	{"\x1b[2J\x1b[31mred\n", "\\x1B[2J\\x1B[31mred\n"},
	{"a\tb\rc\n", "a\tb\rc\n"},
	{"\x7f\x01\x1f\x0b\x0c\x08", "\\x7F\\x01\\x1F\\x0B\\x0C\\x08"},
	{"\xc2\x9b" "31m \xc2\x9d" "2;x", "\\xC2\\x9B31m \\xC2\\x9D2;x"},
	/* UTF-8 text and Prometheus label escapes pass as sent */
	{"\xc3\xa9t\xc3\xa9 \xc2\xa0 l=\"a\\\\b\\n\"\n",
	    "\xc3\xa9t\xc3\xa9 \xc2\xa0 l=\"a\\\\b\\n\"\n"},
};

START_TEST(query_escapes_control_bytes)
{
	char *out = NULL;
	size_t outlen = 0;
	FILE *f = open_memstream(&out, &outlen);
	int port, lfd = listener(&port), status;
	pid_t pid = serve_once(lfd, "threads\n", hostile_replies[_i].reply);

	ck_assert_int_eq(ds_query("127.0.0.1", port, "threads", 1000, 2000, f,
	    err, sizeof(err)), 0);
	fclose(f);
	ck_assert_str_eq(out, hostile_replies[_i].want);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	free(out);
	close(lfd);
}
END_TEST

/* A long reply is escaped in chunks: none cuts a C1 control in two, and
 * nothing is lost between them. */
START_TEST(query_escapes_across_chunks)
{
	char reply[2100], want[6400], *out = NULL, *w = want;
	size_t outlen = 0, n = 0;
	FILE *f = open_memstream(&out, &outlen);
	int port, lfd = listener(&port), status;
	pid_t pid;

	while (n + 3 < sizeof(reply) - 1) {
		reply[n++] = 'x';
		reply[n++] = '\xc2';
		reply[n++] = '\x9b';
		w += sprintf(w, "x\\xC2\\x9B");
	}
	reply[n] = '\0';
	pid = serve_once(lfd, "metrics\n", reply);
	ck_assert_int_eq(ds_query("127.0.0.1", port, "metrics", 1000, 2000, f,
	    err, sizeof(err)), 0);
	fclose(f);
	ck_assert_str_eq(out, want);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	free(out);
	close(lfd);
}
END_TEST

START_TEST(query_refused)
{
	int port, lfd = listener(&port);

	close(lfd);	/* nothing listens there now */
	ck_assert_int_eq(ds_query("127.0.0.1", port, "version", 1000, 1000,
	    stdout, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "nothing answers on the status "
	    "port 127.0.0.1:"));
	ck_assert_ptr_nonnull(strstr(err, "Connection refused"));
}
END_TEST

START_TEST(query_silent_listener_times_out)
{
	int port, lfd = listener(&port);	/* accepts, never answers */
	int64_t t0 = ds_now_ms(), took;

	ck_assert_int_eq(ds_query("127.0.0.1", port, "threads", 1000, 300,
	    stdout, err, sizeof(err)), -1);
	took = ds_now_ms() - t0;
	ck_assert_int_ge(took, 250);
	ck_assert_int_lt(took, 2000);
	ck_assert_ptr_nonnull(strstr(err, "no complete reply from the status "
	    "port 127.0.0.1:"));
	ck_assert_ptr_nonnull(strstr(err, "within 300 ms"));
	close(lfd);
}
END_TEST

static Suite *
query_suite(void)
{
	Suite *s = suite_create("query");
	TCase *tc = tcase_create("options");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, query_forms);
	tcase_add_test(tc, query_errors);
	suite_add_tcase(s, tc);
	tc = tcase_create("client");
	tcase_add_test(tc, query_reply);
	tcase_add_loop_test(tc, query_escapes_control_bytes, 0,
	    sizeof(hostile_replies) / sizeof(hostile_replies[0]));
	tcase_add_test(tc, query_escapes_across_chunks);
	tcase_add_test(tc, query_refused);
	tcase_add_test(tc, query_silent_listener_times_out);
	suite_add_tcase(s, tc);
	return s;
}

DS_CHECK_MAIN(query_suite)
