/* test_supervise.c: the master's supervision rules without processes:
 * restart backoff, kill deadlines, what a stop sends, which workers a
 * shrink stops. Signals go to a recorder through ds_master.kill_fn. */
#include "master/children.h"
#include "master/pools.h"
#include "master/slot_page.h"

#include "common/parse.h"
#include "master_unit.h"
#include "unit.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct ds_master m;
static struct ds_master_opts o;
static void
setup(void)
{
	ds_t_master_init(&m, &o);
}

static void
teardown(void)
{
	ds_t_children_free(&m);
	for (size_t i = 0; i < m.npools; i++) {
		free(m.pools[i].name);
		free(m.pools[i].slots);
	}
	free(m.pools);
}

static struct ds_pool_rt *
add_pool(const char *name, int nslots)
{
	struct ds_pool_rt *p;

	m.pools = realloc(m.pools, (m.npools + 1) * sizeof(*m.pools));
	ck_assert_ptr_nonnull(m.pools);
	p = &m.pools[m.npools++];
	memset(p, 0, sizeof(*p));
	p->name = strdup(name);
	p->slots = calloc((size_t)nslots + 1, sizeof(*p->slots));
	p->nslots = nslots;
	return p;
}

/* What the worker writes in its page: state st, a job of function fn
 * since busy_since when busy; then the master's look at it. */
static void
worker_writes(struct ds_child *c, enum ds_slot_state st, uint32_t fn,
    int64_t busy_since)
{
	ds_slot_begin(c->page);
	c->page->state = st;
	if (st == DS_SLOT_BUSY) {
		c->page->function = fn;
		c->page->jobs_started++;
		c->page->busy_since_ms = busy_since;
	}
	ds_slot_end(c->page);
	ds_child_sync(&m, c);
}

/* A child in slot of p (or retired when slot < 0) in state st, with a
 * real slot page for functions Fa and Fb; a busy one since now. */
static struct ds_child *
add_child(struct ds_pool_rt *p, int slot, pid_t pid, enum ds_slot_state st)
{
	static char *jobs[] = {"Fa", "Fb"};
	struct ds_pool cfg = {.jobs = jobs, .njobs = 2};
	struct ds_child *c;
	int fd;

	/* room for all at once: callers keep pointers across calls */
	if (m.children == NULL)
		m.children = calloc(16, sizeof(*c));
	ck_assert_ptr_nonnull(m.children);
	ck_assert_uint_lt(m.nchildren, 16);
	ck_assert_int_eq(ds_pidmap_put(&m.pids, pid, m.nchildren), 0);
	c = &m.children[m.nchildren++];
	memset(c, 0, sizeof(*c));
	c->pid = pid;
	c->fd = -1;
	c->pool = strdup(p->name);
	c->slot = c->last_slot = slot;
	c->state = DS_SLOT_STARTING;
	/* spawned long ago: a job's start may be set far back */
	c->started_ms = ds_now_ms() - 100 * o.max_running_ms;
	c->max_running_ms = o.max_running_ms;
	ck_assert_int_ge(fd = ds_slot_page_open(c, &cfg), 0);
	if (slot >= 0)
		p->slots[slot].pid = pid;
	worker_writes(c, st, 0, ds_now_ms());
	return c;
}

START_TEST(restart_backoff)
{
	static const struct { int64_t lived_ms; int clean; int64_t delay; } deaths[] = {
		{500, 0, 0},		/* the first quick death: at once */
		{500, 0, 1000},
		{9999, 0, 2000},
		{0, 0, 4000},
		{10000, 0, 0},		/* lived 10 s: the backoff clears */
		{500, 0, 0},
		{500, 0, 1000},
		{500, 1, 0},		/* a clean exit clears it too */
		{500, 0, 0},
		{500, 0, 1000}, {500, 0, 2000}, {500, 0, 4000}, {500, 0, 8000},
		{500, 0, 16000}, {500, 0, 30000}, {500, 0, 30000},
	};
	struct ds_pool_rt *p = add_pool("P", 1);

	for (size_t i = 0; i < sizeof(deaths) / sizeof(deaths[0]); i++) {
		ds_schedule_restart(p, 0, deaths[i].lived_ms, deaths[i].clean,
		    1000000);
		ck_assert_msg(p->slots[0].restart_at == 1000000 + deaths[i].delay,
		    "death %zu: delay %lld, want %lld", i,
		    (long long)(p->slots[0].restart_at - 1000000),
		    (long long)deaths[i].delay);
		ck_assert_int_eq(p->slots[0].pid, 0);
	}
}
END_TEST

START_TEST(overdue_busy_child_is_killed_once)
{
	struct ds_pool_rt *p = add_pool("P", 3);
	int64_t now = ds_now_ms();
	struct ds_child *late = add_child(p, 0, 101, DS_SLOT_BUSY);
	struct ds_child *soon = add_child(p, 1, 102, DS_SLOT_BUSY);
	struct ds_child *idle = add_child(p, 2, 103, DS_SLOT_IDLE);

	worker_writes(late, DS_SLOT_BUSY, 0,
	    now - o.max_running_ms - DS_KILL_GRACE_MS - 1);
	worker_writes(soon, DS_SLOT_BUSY, 0, now - o.max_running_ms);
	/* idle after a job long ago: nothing to kill */
	worker_writes(idle, DS_SLOT_BUSY, 0, now - 10 * o.max_running_ms);
	worker_writes(idle, DS_SLOT_IDLE, 0, 0);
	m.stopping = DS_DRAIN;	/* no spawning in this test */
	ds_children_tick(&m, now);
	ck_assert_int_eq(ds_t_nsent, 1);
	ck_assert(ds_t_was_sent(101, SIGKILL));
	ck_assert_int_eq(ds_children_next_deadline(&m),
	    soon->busy_since_ms + o.max_running_ms + DS_KILL_GRACE_MS);
	ds_children_tick(&m, now + 1);
	ck_assert_int_eq(ds_t_nsent, 1);	/* killed once, then waited for */
}
END_TEST

START_TEST(stop_deadlines)
{
	struct ds_pool_rt *p = add_pool("P", 3);
	struct ds_child *busy = add_child(p, 0, 201, DS_SLOT_BUSY);
	struct ds_child *idle = add_child(p, 1, 202, DS_SLOT_IDLE);
	int64_t before = ds_now_ms(), after;

	ds_retire(&m, busy, SIGUSR1);	/* drain: its whole max_running_time */
	ds_retire(&m, idle, SIGTERM);	/* stop: 2 x loop_timeout + grace */
	after = ds_now_ms();
	ck_assert(ds_t_was_sent(201, SIGUSR1));
	ck_assert(ds_t_was_sent(202, SIGTERM));
	ck_assert_int_eq(busy->slot, -1);
	ck_assert_int_eq(p->slots[0].pid, 0);
	ck_assert_int_eq(busy->kill_at, busy->busy_since_ms + o.max_running_ms +
	    DS_KILL_GRACE_MS);
	ck_assert_int_ge(idle->kill_at, before + 2 * o.loop_timeout_ms +
	    DS_KILL_GRACE_MS);
	ck_assert_int_le(idle->kill_at, after + 2 * o.loop_timeout_ms +
	    DS_KILL_GRACE_MS);
}
END_TEST

/* A retired idle worker (a shrink, a reload) takes no new job: it has
 * loop_timeout to see the signal, then the grace, before the kill. */
START_TEST(idle_retirement_deadline)
{
	struct ds_pool_rt *p = add_pool("P", 2);
	struct ds_child *idle = add_child(p, 1, 602, DS_SLOT_IDLE);
	int64_t before = ds_now_ms(), after;

	ds_retire(&m, idle, SIGUSR1);
	after = ds_now_ms();
	ck_assert(ds_t_was_sent(602, SIGUSR1));
	ck_assert_int_eq(idle->slot, -1);
	ck_assert_int_eq(p->slots[1].pid, 0);
	ck_assert_int_ge(idle->kill_at, before + o.loop_timeout_ms +
	    DS_KILL_GRACE_MS);
	ck_assert_int_le(idle->kill_at, after + o.loop_timeout_ms +
	    DS_KILL_GRACE_MS);
	m.stopping = DS_DRAIN;	/* the empty slot is no deadline then */
	ck_assert_int_eq(ds_children_next_deadline(&m), idle->kill_at);
}
END_TEST

/* Slots B I . I B (busy, idle, empty) shrunk to n: who is stopped. */
START_TEST(shrink_stops_the_cheapest_first)
{
	static const struct {
		int n;
		pid_t stopped[4];
		pid_t kept[4];
	} cases[] = {
		{4, {0}, {301, 302, 304, 305}},
		{3, {302}, {301, 304, 305}},
		{2, {302, 304}, {301, 305}},
		{1, {302, 304, 301}, {305}},
		{0, {302, 304, 301, 305}, {0}},
	};

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct ds_pool_rt *p;

		teardown();
		setup();
		p = add_pool("P", 5);
		add_child(p, 0, 301, DS_SLOT_BUSY);
		add_child(p, 1, 302, DS_SLOT_IDLE);
		add_child(p, 3, 304, DS_SLOT_IDLE);
		add_child(p, 4, 305, DS_SLOT_BUSY);
		ds_pool_resize(&m, p, cases[k].n);
		ck_assert_int_eq(p->nslots, cases[k].n);
		for (int i = 0; i < 4 && cases[k].stopped[i]; i++)
			ck_assert_msg(ds_t_was_sent(cases[k].stopped[i], SIGUSR1),
			    "n=%d: %d not stopped", cases[k].n,
			    (int)cases[k].stopped[i]);
		for (int i = 0; i < cases[k].n; i++) {
			struct ds_child *c = ds_child_by_pid(&m, cases[k].kept[i]);

			ck_assert_int_eq(p->slots[i].pid, cases[k].kept[i]);
			ck_assert_int_eq(c->slot, i);	/* ranks closed */
		}
		ck_assert_int_eq(ds_t_nsent, 4 - cases[k].n);
	}
}
END_TEST

/* During a long start the loop's turns come one spawn apart and read the
 * slot pages only every DS_SYNC_EVERY_MS; a kill still rests on a fresh
 * look at that child, never on one a turn old. */
START_TEST(a_start_reads_pages_rarely_and_kills_on_a_fresh_look)
{
	struct ds_pool_rt *p = add_pool("P", 2);
	struct ds_child *done = add_child(p, 0, 501, DS_SLOT_BUSY);
	struct ds_child *counted = add_child(p, 1, 502, DS_SLOT_IDLE);
	int64_t now = ds_now_ms();

	/* the last look saw a job far past its time; it has ended since */
	worker_writes(done, DS_SLOT_BUSY, 0,
	    now - o.max_running_ms - DS_KILL_GRACE_MS - 1);
	done->page->state = DS_SLOT_IDLE;
	ds_slot_count(counted->page, 0, DS_OUT_COMPLETE, 200, 3);
	m.stopping = DS_DRAIN;	/* no spawning in this test */
	m.starting = 1;
	m.synced_ms = now;
	ds_children_tick(&m, now + DS_SYNC_EVERY_MS - 1);
	ck_assert_int_eq(ds_t_nsent, 0);		/* looked again: not killed */
	ck_assert_int_eq(done->state, DS_SLOT_IDLE);
	ck_assert_uint_eq(p->stats.completed, 0);	/* not read yet */
	m.starting = 1;
	ds_children_tick(&m, now + DS_SYNC_EVERY_MS);
	ck_assert_uint_eq(p->stats.completed, 1);	/* read now */
	ds_slot_page_close(done);
	ds_slot_page_close(counted);
	ds_metrics_free(&m.metrics);
}
END_TEST

/* A worker's slot page: counted once, whatever it claims later. */
START_TEST(slot_page_counts_once)
{
	struct ds_pool_rt *p = add_pool("P", 1);
	struct ds_child *c = add_child(p, 0, 401, DS_SLOT_STARTING);

	ds_slot_count(c->page, 1, DS_OUT_COMPLETE, 200, 3);
	ds_slot_count(c->page, 1, DS_OUT_TIMEOUT, 0, 400000);
	ds_slot_count(c->page, 0, DS_OUT_FAIL, 503, 20);
	ds_child_sync(&m, c);
	ds_child_sync(&m, c);	/* a second look adds nothing */
	ck_assert_uint_eq(p->stats.completed, 1);
	ck_assert_uint_eq(p->stats.timed_out, 1);
	ck_assert_uint_eq(p->stats.failed, 1);
	ck_assert_uint_eq(m.metrics.njobs, 2);
	ck_assert_uint_eq(m.metrics.nhttp_errors, 1);
	ck_assert_uint_eq(m.metrics.http_errors[0].count, 1);
	/* a page that goes backwards, then forwards again */
	c->page->fn[1].outcome[DS_OUT_COMPLETE] = 0;
	c->page->fn[1].count = 0;
	ds_child_sync(&m, c);
	ck_assert_uint_eq(p->stats.completed, 1);
	ds_slot_count(c->page, 1, DS_OUT_COMPLETE, 200, 3);
	ds_child_sync(&m, c);
	ck_assert_uint_eq(p->stats.completed, 2);
	/* the job in hand, as threads shows it */
	ds_slot_begin(c->page);
	c->page->state = DS_SLOT_BUSY;
	c->page->function = 1;
	c->page->jobs_started = 1;
	strcpy(c->page->handle, "H:x:1");
	ds_slot_end(c->page);
	ds_child_sync(&m, c);
	ck_assert_int_eq(c->state, DS_SLOT_BUSY);
	ck_assert_str_eq(c->handle, "H:x:1");
	ck_assert_str_eq(c->function, "Fb");
	ds_slot_page_close(c);
	ds_metrics_free(&m.metrics);
}
END_TEST

static Suite *
supervise_suite(void)
{
	Suite *s = suite_create("supervise");
	TCase *tc = tcase_create("rules");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, restart_backoff);
	tcase_add_test(tc, overdue_busy_child_is_killed_once);
	tcase_add_test(tc, a_start_reads_pages_rarely_and_kills_on_a_fresh_look);
	tcase_add_test(tc, stop_deadlines);
	tcase_add_test(tc, idle_retirement_deadline);
	tcase_add_test(tc, shrink_stops_the_cheapest_first);
	tcase_add_test(tc, slot_page_counts_once);
	suite_add_tcase(s, tc);
	return s;
}

DS_CHECK_MAIN(supervise_suite)
