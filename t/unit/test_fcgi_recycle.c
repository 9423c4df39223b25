/* test_fcgi_recycle.c: when a kept FastCGI connection may carry a request
 * (worker/fcgi_recycle.h), against a simulated php-fpm on a clock of its
 * own: its children close a connection after pm.max_requests, some time
 * after the last answer. A request written to a child that is closing is
 * a lost job; each case bounds the jobs lost, the connections opened and
 * the time spent waiting, on a fast machine and on one so slow that every
 * close is late. */
#include "worker/fcgi_recycle.h"

#include "unit.h"

#include <stdint.h>

struct sim {
	int cap;		/* the wait's cap: a quarter of max_running_time */
	/* the server */
	unsigned max_requests;	/* 0: never closes */
	int close_delay;	/* ms from the last answer to the close */
	unsigned child_served;
	int64_t close_time;	/* -1: not closing */
	/* the worker */
	struct ds_fcgi_recycle r;
	int connected;
	int64_t now;
	/* what came of it */
	unsigned lost, conns, waited;
};

static void
sim_init(struct sim *s, unsigned max_requests, int close_delay)
{
	memset(s, 0, sizeof(*s));
	s->max_requests = max_requests;
	s->close_delay = close_delay;
	s->close_time = -1;
	s->cap = 75000;
}

/* A fresh child accepts: pm = static, one child per kept connection. */
static void
sim_connect(struct sim *s)
{
	s->connected = 1;
	s->child_served = 0;
	s->close_time = -1;
	s->conns++;
	ds_fcgi_recycle_connected(&s->r);
}

/* What fcgi_conn.c does before a request: wait as told, then ask. */
static void
sim_check(struct sim *s)
{
	int ms = ds_fcgi_recycle_wait_ms(&s->r, s->now, s->cap);
	int closed = s->close_time >= 0 && s->close_time <= s->now + ms;

	int64_t until = !closed ? s->now + ms :
	    s->close_time > s->now ? s->close_time : s->now;

	s->waited += (unsigned)(until - s->now);
	s->now = until;
	if (!ds_fcgi_recycle_verdict(&s->r, closed))
		s->connected = 0;
}

/* One job, gap ms after the last. */
static void
sim_job(struct sim *s, int gap)
{
	s->now += gap;
	if (s->connected)
		sim_check(s);
	if (!s->connected)
		sim_connect(s);
	if (s->close_time >= 0) {	/* read and dropped: the job fails */
		s->lost++;
		ds_fcgi_recycle_closed(&s->r);
		s->connected = 0;
		return;
	}
	s->now += 1;
	s->child_served++;
	ds_fcgi_recycle_answered(&s->r, s->now);
	if (s->max_requests && s->child_served == s->max_requests)
		s->close_time = s->now + s->close_delay;
}

static void
sim_jobs(struct sim *s, unsigned n, int gap)
{
	for (unsigned i = 0; i < n; i++)
		sim_job(s, gap);
}

struct recycle_case {
	const char *what;
	unsigned max_requests;
	int close_delay, gap;
	unsigned jobs;
	unsigned lost_max, conns_max, waited_max;
};

static const struct recycle_case cases[] = {
	/* pm.max_requests = 7, a close as the answer ends: nothing is lost,
	 * one connection per 7 jobs, and no wait beyond the settling */
	{"fast close", 7, 0, 0, 700, 0, 100, 300},
	/* every close comes 500 ms late, and jobs come back to back: the
	 * first close costs its job (nothing had taught the count yet), and
	 * none after it does; each later connection waits for its close */
	{"late close", 7, 500, 0, 700, 1, 100, 100 * 500},
	/* 3 s late, longer than the wait: a connection at the count is
	 * replaced, not used; two such misses in a row read as a wrong count
	 * (forgotten, then learned again at the cost of a job), so at most
	 * one connection in three loses a job, where waiting and then writing
	 * would lose one on every connection */
	{"close later than the wait", 7, 3000, 0, 700, 700 / 7 / 3 + 1, 110,
	    110 * DS_RECYCLE_WAIT_MS},
	/* never closes: one connection, and waits only while learning */
	{"never closes", 0, 0, 0, 1000, 0, 1,
	    DS_RECYCLE_LEARN * DS_RECYCLE_SETTLE_MS},
	{"never closes, jobs far apart", 0, 0, 50, 1000, 0, 1, 0},
	/* the settle covers a close 1 ms late */
	{"close within the settle", 5, 1, 0, 500, 0, 100, 500},
};

START_TEST(closes_at_pm_max_requests)
{
	const struct recycle_case *c = &cases[_i];
	struct sim s;

	sim_init(&s, c->max_requests, c->close_delay);
	sim_jobs(&s, c->jobs, c->gap);
	ck_assert_msg(s.lost <= c->lost_max, "%s: %u lost", c->what, s.lost);
	ck_assert_msg(s.conns <= c->conns_max, "%s: %u connections", c->what,
	    s.conns);
	ck_assert_msg(s.waited <= c->waited_max, "%s: waited %u ms", c->what,
	    s.waited);
	if (c->max_requests)
		ck_assert_uint_eq(s.r.close_at, c->max_requests);
}
END_TEST

/* A php-fpm restart closes an idle connection at any count: it teaches a
 * wrong count, which costs two waits and is then forgotten. */
START_TEST(a_restart_teaches_a_count_that_is_forgotten)
{
	struct sim s;

	sim_init(&s, 0, 0);
	sim_jobs(&s, 3, 10);
	s.close_time = s.now;	/* the restart */
	sim_jobs(&s, 1, 10);
	ck_assert_uint_eq(s.r.close_at, 3);
	sim_jobs(&s, 1000, 10);
	ck_assert_uint_eq(s.lost, 0);
	ck_assert_uint_eq(s.r.close_at, 0);
	ck_assert_uint_le(s.waited, DS_RECYCLE_MISSES * DS_RECYCLE_WAIT_MS);
	ck_assert_uint_le(s.conns, 2 + DS_RECYCLE_MISSES);
}
END_TEST

/* One early close (a child that served others first) does not lower the
 * count; pm.max_requests lowered in php-fpm does, once seen twice. */
START_TEST(a_lower_count_wins_only_when_seen_twice)
{
	struct sim s;

	sim_init(&s, 10, 0);
	sim_jobs(&s, 100, 0);
	ck_assert_uint_eq(s.r.close_at, 10);
	sim_jobs(&s, 1, 0);	/* a new connection, to a child that */
	s.child_served += 6;	/* had served 6 for someone else */
	sim_jobs(&s, 4, 0);	/* it closes after our 4th */
	ck_assert_uint_eq(s.r.close_at, 10);
	ck_assert_uint_eq(s.r.lower, 4);
	sim_jobs(&s, 30, 0);
	ck_assert_uint_eq(s.r.close_at, 10);
	s.max_requests = 4;
	sim_jobs(&s, 100, 0);
	ck_assert_uint_eq(s.r.close_at, 4);
	ck_assert_uint_le(s.lost, 3);
}
END_TEST

/* A short max_running_time cuts the wait short: a close later than that
 * is no sign of a wrong count, so the count is kept, and no job is lost
 * to it (each connection at the count is replaced). */
START_TEST(a_wait_cut_short_is_not_a_miss)
{
	struct sim s;

	sim_init(&s, 7, 100);
	s.cap = 25;
	sim_jobs(&s, 700, 0);
	ck_assert_uint_eq(s.r.close_at, 7);
	ck_assert_uint_le(s.lost, 1);	/* the first close, while learning */
	ck_assert_uint_le(s.waited, 100 * 25 + DS_RECYCLE_LEARN *
	    DS_RECYCLE_SETTLE_MS);
}
END_TEST

START_TEST(a_close_before_any_answer_teaches_nothing)
{
	struct ds_fcgi_recycle r = {.close_at = 7, .served = 7};

	ds_fcgi_recycle_connected(&r);
	ds_fcgi_recycle_closed(&r);
	ds_fcgi_recycle_closed(&r);
	ck_assert_uint_eq(r.close_at, 7);
	ck_assert_int_eq(ds_fcgi_recycle_verdict(&r, 0), 1);
}
END_TEST

/* The wait never exceeds what the job's time allows. */
START_TEST(the_wait_is_capped)
{
	struct ds_fcgi_recycle r = {.close_at = 7, .served = 7};

	ck_assert_int_eq(ds_fcgi_recycle_wait_ms(&r, 0, 250), 250);
	ck_assert_int_eq(ds_fcgi_recycle_wait_ms(&r, 0, 0), 0);
	ck_assert_int_eq(ds_fcgi_recycle_wait_ms(&r, 0, 5000),
	    DS_RECYCLE_WAIT_MS);
}
END_TEST

static Suite *
recycle_suite(void)
{
	Suite *s = suite_create("fcgi_recycle");
	TCase *tc = ds_tcase(s, "recycle", NULL, NULL);

	tcase_add_loop_test(tc, closes_at_pm_max_requests, 0, NELEM(cases));
	tcase_add_test(tc, a_restart_teaches_a_count_that_is_forgotten);
	tcase_add_test(tc, a_lower_count_wins_only_when_seen_twice);
	tcase_add_test(tc, a_wait_cut_short_is_not_a_miss);
	tcase_add_test(tc, a_close_before_any_answer_teaches_nothing);
	tcase_add_test(tc, the_wait_is_capped);
	return s;
}

DS_CHECK_MAIN(recycle_suite)
