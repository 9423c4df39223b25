/* test_status_serve.c: how the status port's server side treats its
 * clients (master/status.c), driven by hand with socketpairs and a loopback
 * listener: which client a new connection evicts when the table is full,
 * that an empty reply closes at once, that a slow reader keeps its
 * connection while it makes progress, and that the discard after a reply
 * is bounded per wake-up. */
#include "master/status.h"

#include "common/parse.h"

#include "unit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

static struct ds_status st;
static struct pollfd pfd[1 + DS_STATUS_MAX_CLIENTS];

/* A clients' table row: out set means it has a command being answered. */
struct row {
	int answering;
	int64_t last_rx;
};

#define NOW 10000
#define OLD (NOW - DS_STATUS_EVICT_MS)	/* just old enough to evict */
#define END { -1, 0 }

static const struct {
	const char *what;
	struct row rows[5];
	size_t want;		/* index; the row count when nobody */
} victims[] = {
	{ "empty table", { END }, 0 },
	{ "the oldest last byte", { {0, OLD - 5}, {0, OLD - 90}, {0, OLD},
	    END }, 1 },
	{ "one answering is not evicted", { {0, OLD - 5}, {1, OLD - 90},
	    {0, OLD - 10}, END }, 2 },
	{ "idle just long enough", { {0, NOW}, {0, OLD}, END }, 1 },
	{ "nobody idle long enough", { {0, OLD + 1}, {0, NOW}, END }, 2 },
	{ "ties: the first", { {0, 7}, {0, 7}, END }, 0 },
	{ "all answering: nobody", { {1, 1}, {1, 2}, END }, 2 },
};

START_TEST(victim_choice)
{
	for (size_t t = 0; t < sizeof(victims) / sizeof(victims[0]); t++) {
		struct ds_status_client c[5];
		size_t n = 0, v;

		memset(c, 0, sizeof(c));
		for (; victims[t].rows[n].answering >= 0; n++) {
			c[n].out = victims[t].rows[n].answering ? (char *)"x" :
			    NULL;
			c[n].last_rx = victims[t].rows[n].last_rx;
		}
		v = ds_status_victim(c, n, NOW);
		ck_assert_msg(v == victims[t].want, "%s: got %zu",
		    victims[t].what, v);
	}
}
END_TEST

/* The server side needs no master: `threads` of a master with no pools is
 * the empty reply, anything else a short one. */
static char *
fake_reply(void *ctx, const char *line, size_t *len)
{
	char *s = strdup(strcmp(line, "threads") == 0 ? "" : "ok\r\n");

	(void)ctx;
	*len = s ? strlen(s) : 0;
	return s;
}

static void
setup(void)
{
	ds_status_init(&st, -1, fake_reply, NULL);
}

static void
teardown(void)
{
	ds_status_close(&st);
}

/* Adds a client on one end of a new socketpair; returns the other end. */
static int
add_client(int64_t deadline, const char *out, size_t outoff)
{
	struct ds_status_client *c = &st.clients[st.nclients++];
	int sp[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sp), 0);
	memset(c, 0, sizeof(*c));
	c->fd = sp[0];
	c->deadline = deadline;
	if (out != NULL) {
		c->out = strdup(out);
		c->outlen = strlen(out);
		c->outoff = outoff;
	}
	return sp[1];
}

/* One round of the loop with the given events on the clients. */
static void
serve(short listener, short client_ev, int64_t now)
{
	size_t n = ds_status_pollfds(&st, pfd);

	if (n == 0)		/* no listener: lay out the clients by hand */
		for (n = 1; n <= st.nclients; n++)
			pfd[n] = (struct pollfd){st.clients[n - 1].fd, 0, 0};
	pfd[0].revents = listener;
	for (size_t i = 1; i < n; i++)
		pfd[i].revents = client_ev;
	ds_status_serve(&st, pfd, n, now);
}

static int
connect_to(int lfd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&sin, &len), 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, len), 0);
	return fd;
}

START_TEST(full_table_evicts_the_idle_longest)
{
	char err[256];
	int lfd = ds_status_listen("127.0.0.1", 0, err, sizeof(err));
	int peer[DS_STATUS_MAX_CLIENTS], c[3];
	int64_t now = ds_now_ms();
	struct pollfd lp;

	ck_assert_int_ge(lfd, 0);
	st.listen_fd = lfd;
	/* all being answered but 7 and 9; 3 is the oldest of all */
	for (int i = 0; i < DS_STATUS_MAX_CLIENTS; i++) {
		peer[i] = add_client(now + 5000, i == 7 || i == 9 ? NULL :
		    "reply", 0);
		st.clients[i].last_rx = now - 1000 + i;
	}
	st.clients[3].last_rx = now - 9000;
	st.clients[7].last_rx = now - 300;
	st.clients[9].last_rx = now - 2000;
	for (int i = 0; i < 3; i++)
		c[i] = connect_to(lfd);
	serve(POLLIN, 0, now);
	ck_assert_uint_eq(st.nclients, DS_STATUS_MAX_CLIENTS);
	/* 9 made room first, then 7; their peers see the close */
	ck_assert_int_eq(st.clients[9].last_rx, now);
	ck_assert_int_eq(st.clients[7].last_rx, now);
	ck_assert_int_eq(recv(peer[9], err, 1, MSG_DONTWAIT), 0);
	ck_assert_int_eq(recv(peer[7], err, 1, MSG_DONTWAIT), 0);
	ck_assert_int_eq(st.clients[3].last_rx, now - 9000);
	/* the third waits: the newcomers have had no time to send a line,
	 * and the listener is not watched until one has, so no spin */
	lp = (struct pollfd){lfd, POLLIN, 0};
	ck_assert_int_eq(poll(&lp, 1, 0), 1);
	ck_assert_uint_eq(ds_status_pollfds(&st, pfd), 1 + st.nclients);
	ck_assert_int_eq(pfd[0].fd, -1);
	ck_assert_int_eq(st.evict_at, now + DS_STATUS_EVICT_MS);
	ck_assert_int_eq(ds_status_next_deadline(&st),
	    now + DS_STATUS_EVICT_MS);
	/* as if that time had passed for the one at 7 */
	st.clients[7].last_rx -= DS_STATUS_EVICT_MS;
	serve(POLLIN, 0, now + 1);
	ck_assert_int_eq(pfd[0].fd, lfd);
	ck_assert_int_eq(st.clients[7].last_rx, now + 1);
	ck_assert_int_eq(recv(c[1], err, 1, MSG_DONTWAIT), 0);	/* was at 7 */

	/* nobody without a command: paused with no wake-up for it */
	for (size_t i = 0; i < st.nclients; i++)
		if (st.clients[i].out == NULL)
			st.clients[i].out = strdup("x");
	ck_assert_uint_eq(ds_status_pollfds(&st, pfd), 1 + st.nclients);
	ck_assert_int_eq(pfd[0].fd, -1);
	ck_assert_int_eq(st.paused, 1);
	ck_assert_int_eq(st.evict_at, 0);
	for (int i = 0; i < DS_STATUS_MAX_CLIENTS; i++)
		close(peer[i]);
	for (int i = 0; i < 3; i++)
		close(c[i]);
}
END_TEST

START_TEST(empty_reply_closes_at_once)
{
	int peer = add_client(5000, NULL, 0);
	char b[8];

	ck_assert_int_eq(send(peer, "threads\n", 8, 0), 8);
	serve(0, POLLIN, 100);
	ck_assert_uint_eq(st.nclients, 1);
	/* the client reads end of file now, not at the idle timeout */
	ck_assert_int_eq(recv(peer, b, sizeof(b), MSG_DONTWAIT), 0);
	ck_assert_int_le(st.clients[0].deadline, 100 + 1000);
	close(peer);
	serve(0, POLLIN, 101);
	ck_assert_uint_eq(st.nclients, 0);
}
END_TEST

static size_t
drain_peer(int peer)
{
	char b[65536];
	size_t got = 0;
	ssize_t n;

	while ((n = recv(peer, b, sizeof(b), MSG_DONTWAIT)) > 0)
		got += (size_t)n;
	return got;
}

START_TEST(slow_reader_keeps_its_connection_while_it_progresses)
{
	size_t big = 4u << 20, got;
	char *reply = malloc(big + 1);
	int peer;

	memset(reply, 'r', big);
	reply[big] = '\0';
	peer = add_client(5000, reply, 0);
	free(reply);
	serve(0, POLLOUT, 4000);	/* part sent: 5 s from now */
	ck_assert_uint_eq(st.nclients, 1);
	ck_assert_uint_lt(st.clients[0].outoff, big);
	ck_assert_int_eq(st.clients[0].deadline, 4000 + DS_STATUS_IDLE_MS);
	serve(0, POLLOUT, 8000);	/* no room: no progress, same deadline */
	ck_assert_int_eq(st.clients[0].deadline, 4000 + DS_STATUS_IDLE_MS);
	got = drain_peer(peer);
	ck_assert_uint_gt(got, 0);
	serve(0, POLLOUT, 8500);
	ck_assert_uint_eq(st.nclients, 1);
	ck_assert_int_eq(st.clients[0].deadline, 8500 + DS_STATUS_IDLE_MS);
	/* the reader stops: dropped at its deadline with the reply unsent */
	serve(0, 0, 8500 + DS_STATUS_IDLE_MS - 1);
	ck_assert_uint_eq(st.nclients, 1);
	serve(0, 0, 8500 + DS_STATUS_IDLE_MS);
	ck_assert_uint_eq(st.nclients, 0);
	ck_assert_uint_lt(got + drain_peer(peer), big);
	close(peer);
}
END_TEST

START_TEST(discard_after_the_reply_is_bounded)
{
	int peer = add_client(5000, "done", 4);
	int sz = 4 << 20, queued = 0;
	static char junk[8192];
	size_t sent = 0;
	ssize_t n;

	setsockopt(peer, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	while ((n = send(peer, junk, sizeof(junk), MSG_DONTWAIT)) > 0)
		sent += (size_t)n;
	ck_assert_uint_gt(sent, 256 * 1024);
	serve(0, POLLIN, 100);
	ck_assert_uint_eq(st.nclients, 1);
	ck_assert_int_eq(ioctl(st.clients[0].fd, FIONREAD, &queued), 0);
	/* at most 64 KiB read in one wake-up; the rest waits its turn */
	ck_assert_uint_ge((size_t)queued, sent - 64 * 1024);
	ck_assert_uint_lt((size_t)queued, sent);
	close(peer);
}
END_TEST

static Suite *
status_serve_suite(void)
{
	Suite *s = suite_create("status_serve");
	TCase *tc = tcase_create("victim");

	tcase_add_test(tc, victim_choice);
	suite_add_tcase(s, tc);
	tc = tcase_create("serve");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, full_table_evicts_the_idle_longest);
	tcase_add_test(tc, empty_reply_closes_at_once);
	tcase_add_test(tc, slow_reader_keeps_its_connection_while_it_progresses);
	tcase_add_test(tc, discard_after_the_reply_is_bounded);
	suite_add_tcase(s, tc);
	return s;
}

DS_CHECK_MAIN(status_serve_suite)
