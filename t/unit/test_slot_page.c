/* test_slot_page.c: the master's side of a worker's slot page (master/
 * slot_page.c) with real pages: a memfd made by ds_slot_page_open(), the
 * worker's own writes through worker/report.c, and a hostile writer's
 * through a second mapping, as another process of the service user could
 * make. Checked: what the master then decides (the kill deadline, the kill)
 * and what it answers (the `threads` row, the `metrics` gauge of the
 * longest job in hand), and that the page can be neither shrunk nor grown. */
#include "master/children.h"
#include "master/slot_page.h"
#include "master/status_reply.h"
#include "worker/report.h"

#include "common/parse.h"
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PID 999999		/* signals go to the recorder, never to it */
#define MAX_MS 60000
#define WAIT_MS (MAX_MS + DS_KILL_GRACE_MS)	/* start to kill */
#define SPAWN_AGO_MS 7500	/* the gauge shows 7 s for a job from then */

static struct ds_master m;
static struct ds_master_opts o;
static char *jobs[] = {"Fn"};
static struct ds_pool pc = {.name = "P", .jobs = jobs, .njobs = 1};
static struct ds_slot_shm *hostile;	/* a second writer's mapping */
static int nkilled;

static int
record_kill(pid_t pid, int sig)
{
	ck_assert_int_eq(pid, PID);
	nkilled += sig == SIGKILL;
	return 0;
}

/* One pool P of one slot, its worker spawned SPAWN_AGO_MS ago with a real
 * page that the worker side (report.c) has mapped, and that `hostile`
 * maps too. */
static void
setup(void)
{
	static struct ds_pool_rt p;
	static struct ds_slot slot;
	static struct ds_child c;
	struct ds_log_settings quiet;
	char err[128];
	int fd;

	ds_log_defaults(&quiet);
	quiet.to_stderr = 0;
	ds_log_open(&quiet);
	memset(&m, 0, sizeof(m));
	memset(&o, 0, sizeof(o));
	o.loop_timeout_ms = 1000;
	o.max_running_ms = MAX_MS;
	m.opts = &o;
	m.kill_fn = record_kill;
	nkilled = 0;
	p = (struct ds_pool_rt){.name = "P", .cfg = &pc, .slots = &slot,
	    .nslots = 1};
	slot = (struct ds_slot){.pid = PID};
	c = (struct ds_child){.pid = PID, .fd = -1, .pool = "P", .slot = 0,
	    .state = DS_SLOT_STARTING, .max_running_ms = MAX_MS,
	    .started_ms = ds_now_ms() - SPAWN_AGO_MS};
	m.pools = &p;
	m.npools = 1;
	m.children = &c;
	m.nchildren = m.cap_children = 1;
	ck_assert_int_eq(ds_pidmap_put(&m.pids, PID, 0), 0);
	fd = ds_slot_page_open(&c, &pc);
	ck_assert_int_ge(fd, 0);
	hostile = mmap(NULL, ds_slot_size(1), PROT_READ | PROT_WRITE,
	    MAP_SHARED, fd, 0);
	ck_assert_ptr_ne(hostile, MAP_FAILED);
	/* the worker's end: it maps its copy and closes it */
	ck_assert_int_eq(ds_report_init(-1, dup(fd), (const char *const *)jobs,
	    1, err, sizeof(err)), 0);
}

static void
teardown(void)
{
	munmap(hostile, ds_slot_size(1));
	ds_slot_page_close(&m.children[0]);
	ds_pidmap_free(&m.pids);
	ds_metrics_free(&m.metrics);
}

static void
write_start(int64_t ms)
{
	ds_slot_begin(hostile);
	hostile->busy_since_ms = ms;
	ds_slot_end(hostile);
}

/* Waits for the monotonic clock to move: a look after it is at a later
 * millisecond than anything before. */
static void
next_ms(void)
{
	int64_t t = ds_now_ms();

	while (ds_now_ms() == t)
		;
}

static char *
reply(const char *line)
{
	size_t len;
	char *s = ds_status_reply(&m, line, &len);

	ck_assert_ptr_nonnull(s);
	return s;
}

/* The seconds the `metrics` gauge gives pool P's longest job in hand. */
static long
gauge_seconds(void)
{
	static const char name[] = "driveshaft_oldest_job_seconds{pool=\"P\"} ";
	char *s = reply("metrics"), *at = strstr(s, name);
	long v;

	ck_assert_msg(at != NULL, "no %s in the metrics", name);
	v = strtol(at + strlen(name), NULL, 10);
	free(s);
	return v;
}

enum believed { SPAWN, SEEN, AS_IS };

static const struct {
	const char *name;
	int64_t start;		/* from now, unless absolute */
	int absolute;
	enum believed as;
	long gauge_s;
} starts[] = {
	{"INT64_MAX", INT64_MAX, 1, SEEN, 0},
	{"INT64_MIN", INT64_MIN, 1, SPAWN, SPAWN_AGO_MS / 1000},
	{"0 (the boot)", 0, 1, SPAWN, SPAWN_AGO_MS / 1000},
	{"an hour ahead", 3600000, 0, SEEN, 0},
	{"a year ahead", 365LL * 86400000, 0, SEEN, 0},
	{"before the spawn", -SPAWN_AGO_MS - 1, 0, SPAWN, SPAWN_AGO_MS / 1000},
	{"3 s ago, after the spawn", -3000, 0, AS_IS, 3},
};

/* Whatever start the page claims, the master believes one between the
 * spawn and its first sighting of the job, kills at that start plus
 * max_running_time plus the grace, and shows that start in `metrics`. */
START_TEST(start_is_bounded_by_what_the_master_saw)
{
	int64_t now = ds_now_ms();
	int64_t claimed = starts[_i].absolute ? starts[_i].start :
	    now + starts[_i].start;
	int64_t spawn = m.children[0].started_ms, seen0, seen1, due, want;
	char *s;

	ds_report_busy("H:x:1", "u1", "Fn");
	write_start(claimed);
	seen0 = ds_now_ms();
	s = reply("threads");	/* the master's first look at this job */
	seen1 = ds_now_ms();
	ck_assert_str_eq(s, "999999\tP\t0\tjob_handle=H:x:1 job_unique=u1\r\n");
	free(s);
	due = ds_children_next_deadline(&m);
	if (starts[_i].as == SEEN)	/* the first look, between the two */
		ck_assert_msg(due >= seen0 + WAIT_MS && due <= seen1 + WAIT_MS,
		    "%s: deadline %lld, want %lld to %lld", starts[_i].name,
		    (long long)due, (long long)(seen0 + WAIT_MS),
		    (long long)(seen1 + WAIT_MS));
	else {
		want = (starts[_i].as == SPAWN ? spawn : claimed) + WAIT_MS;
		ck_assert_msg(due == want, "%s: deadline %lld, want %lld",
		    starts[_i].name, (long long)due, (long long)want);
	}
	/* later looks do not move it, the clock having moved */
	next_ms();
	ds_children_sync(&m);
	ck_assert_int_eq(ds_children_next_deadline(&m), due);
	ds_children_tick(&m, due - 1);
	ck_assert_int_eq(nkilled, 0);
	ds_children_tick(&m, due);
	ck_assert_msg(nkilled == 1, "%s: not killed at its deadline",
	    starts[_i].name);
	ck_assert_int_eq(gauge_seconds(), starts[_i].gauge_s);
}
END_TEST

/* A frozen worker's page, seen once with its honest start, then
 * rewritten again and again with its job count kept: the deadline stays
 * that of the honest start. An earlier start brings it forward. A new job
 * (the count moves) is a new sighting. */
START_TEST(rewrites_do_not_postpone_the_kill)
{
	int64_t honest, due;

	ds_report_busy("H:x:1", "u1", "Fn");
	honest = hostile->busy_since_ms;
	next_ms();		/* the first look is later than the start */
	ds_children_sync(&m);
	due = ds_children_next_deadline(&m);
	ck_assert_int_eq(due, honest + WAIT_MS);
	for (int i = 0; i < 4; i++) {
		next_ms();
		/* the far future, then the time of this look, by turns */
		write_start(i % 2 ? ds_now_ms() : INT64_MAX - i);
		ds_children_sync(&m);
		ck_assert_msg(ds_children_next_deadline(&m) == due,
		    "rewrite %d moved the deadline to %lld from %lld", i,
		    (long long)ds_children_next_deadline(&m), (long long)due);
	}
	write_start(honest - 100);
	ds_children_sync(&m);
	ck_assert_int_eq(ds_children_next_deadline(&m), due - 100);
	due -= 100;
	ds_report_done(DS_OUT_COMPLETE, 200, 1);
	ds_report_busy("H:x:2", "u2", "Fn");
	ds_children_sync(&m);
	ck_assert_int_ge(ds_children_next_deadline(&m), due);
}
END_TEST

/* The page is sealed before any worker sees it: neither a shrink (the
 * master would die of SIGBUS at its next look) nor a growth, nor a change
 * of the seals. */
START_TEST(page_cannot_be_resized)
{
	struct ds_child c = {.pid = 1};
	int page = ds_slot_page_open(&c, &pc);

	ck_assert_int_ge(page, 0);
	errno = 0;
	ck_assert_int_eq(ftruncate(page, 0), -1);
	ck_assert_int_eq(errno, EPERM);
	errno = 0;
	ck_assert_int_eq(ftruncate(page, 1 << 20), -1);
	ck_assert_int_eq(errno, EPERM);
	ck_assert_int_eq(fcntl(page, F_ADD_SEALS, F_SEAL_WRITE), -1);
	ck_assert_int_eq(errno, EPERM);
	ds_slot_page_close(&c);
}
END_TEST

/* The worker writes its version into the page when it maps it (before its
 * first state change); the master's next look reads it, and the status
 * port shows it. */
START_TEST(worker_version_read)
{
	char *s;

	ds_child_sync(&m, &m.children[0]);
	ck_assert_str_eq(m.children[0].version, DS_VERSION);
	s = reply("version");
	ck_assert_ptr_nonnull(strstr(s, "\r\nworkers " DS_VERSION " 1\r\n"));
	free(s);
}
END_TEST

/* A page made by an older master (after an upgrade in place) ends where
 * its tail ended: the worker writes no version into it, the master reads
 * none (by page_len, not by this release's layout) and says "unknown";
 * a version being written, or one a hostile writer left not a version,
 * reads as unknown too, never as a guess. */
START_TEST(version_unknown)
{
	struct ds_child *c = &m.children[0];
	struct ds_slot_tail *t = ds_slot_tail(hostile, 1);
	char err[128], *s;
	size_t old_len = ds_slot_base_size(1) + sizeof(uint64_t);
	struct ds_slot_shm *old;
	int fd = memfd_create("old-master-page", 0);

	/* the worker's side of an old master's page */
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)old_len), 0);
	old = mmap(NULL, old_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ck_assert_ptr_ne(old, MAP_FAILED);
	old->magic = DS_SLOT_MAGIC;
	old->version = DS_SLOT_VERSION;
	old->nfunctions = 1;
	ck_assert_int_eq(ds_report_init(-1, fd, (const char *const *)jobs, 1,
	    err, sizeof(err)), 0);
	ck_assert_uint_eq(ds_slot_tail_parts(old_len, 1), DS_SLOT_SERVERS);
	/* past the file's end but in its last page: a write there would
	 * not fault, so look that none happened */
	for (size_t i = 0; i < sizeof(*t) - sizeof(uint64_t); i++)
		ck_assert_int_eq(((volatile char *)old)[old_len + i], 0);
	munmap(old, old_len);
	/* the master's side: our page read as an old master's */
	c->page_len = old_len;
	ds_child_sync(&m, c);
	ck_assert_str_eq(c->version, "");
	c->page_len = ds_slot_size(1);
	t->version_seq = 3;	/* being written */
	ds_child_sync(&m, c);
	ck_assert_str_eq(c->version, "");
	t->version_seq = 4;
	memcpy(t->version, "1.0 \"x", 7);
	ds_child_sync(&m, c);
	ck_assert_str_eq(c->version, "");
	s = reply("version");
	ck_assert_ptr_nonnull(strstr(s, "\r\nworkers unknown 1\r\n"));
	free(s);
}
END_TEST

static Suite *
slot_page_suite(void)
{
	Suite *su = suite_create("slot_page");
	TCase *tc = ds_tcase(su, "slot_page", setup, teardown);

	tcase_add_loop_test(tc, start_is_bounded_by_what_the_master_saw, 0,
	    NELEM(starts));
	tcase_add_test(tc, rewrites_do_not_postpone_the_kill);
	tcase_add_test(tc, page_cannot_be_resized);
	tcase_add_test(tc, worker_version_read);
	tcase_add_test(tc, version_unknown);
	return su;
}

DS_CHECK_MAIN(slot_page_suite)
