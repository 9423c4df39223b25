/* test_slot_race.c: the slot page's seqlock under a real writer. A thread
 * writes jobs into a memfd page through the worker's own functions
 * (worker/report.c) as fast as it can, while the master's reader
 * (ds_slot_read) copies the job view from its own mapping of the same
 * memfd. A copy the reader accepts must be one job whole: the number at
 * the start and at the end of the handle, the unique and jobs_started all
 * the same. A reader that took a copy across a whole write (its two loads
 * of seq differing by 2) would mix two jobs. */
#include "common/slot.h"
#include "worker/report.h"

#include "unit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define READS_MIN 200000	/* whole copies to check, at least */
#define WRITES_MIN 200000	/* jobs written while the reader reads */
#define RUN_MAX_S 20		/* bound on a very slow machine */

static const char *const functions[] = {"F"};
static int stop;
static unsigned long writes;

/* The handle of job n: n, 480 zeros, n; the copy that mixes two jobs'
 * handles shows two numbers. */
static void
job_handle(char *h, size_t size, unsigned long n)
{
	snprintf(h, size, "%lu:%0480d:%lu", n, 0, n);
}

static void *
writer(void *arg)
{
	char h[DS_SLOT_STR_MAX + 1], u[32];
	unsigned long n = 0;

	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		n++;
		job_handle(h, sizeof(h), n);
		snprintf(u, sizeof(u), "%lu", n);
		ds_report_busy(h, u, "F");
		ds_report_done(DS_OUT_COMPLETE, 200, 1);
		__atomic_store_n(&writes, n, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* One accepted copy: the same job throughout, or none yet. */
static void
check_whole(const struct ds_slot_view *v)
{
	unsigned long front, back, uniq;
	const char *tail = strrchr(v->handle, ':');

	if (v->jobs_started == 0) {
		ck_assert_str_eq(v->handle, "");
		return;
	}
	ck_assert_ptr_nonnull(tail);
	front = strtoul(v->handle, NULL, 10);
	back = strtoul(tail + 1, NULL, 10);
	uniq = strtoul(v->unique, NULL, 10);
	ck_assert_msg(front == back && back == uniq &&
	    uniq == v->jobs_started, "a torn copy: handle %lu..%lu, unique "
	    "%lu, jobs_started %llu", front, back, uniq,
	    (unsigned long long)v->jobs_started);
}

static struct ds_slot_shm *
page_pair(void)
{
	size_t len = ds_slot_size(1);
	int fd = memfd_create("ds-slot-test", 0);
	struct ds_slot_shm *page;
	char err[256];

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)len), 0);
	page = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ck_assert_ptr_ne(page, MAP_FAILED);
	ds_slot_init(page, 1);
	/* the worker's mapping of the same memfd; it closes fd */
	ck_assert_msg(ds_report_init(-1, fd, functions, 1, err,
	    sizeof(err)) == 0, "%s", err);
	return page;
}

START_TEST(reads_under_a_writer_are_whole)
{
	struct ds_slot_shm *page = page_pair();
	struct ds_slot_view v;
	unsigned long reads = 0, torn = 0;
	time_t until = time(NULL) + RUN_MAX_S;
	pthread_t t;

	ck_assert_int_eq(pthread_create(&t, NULL, writer, NULL), 0);
	while ((reads < READS_MIN ||
	    __atomic_load_n(&writes, __ATOMIC_RELAXED) < WRITES_MIN) &&
	    time(NULL) < until) {
		if (ds_slot_read(page, 1, &v) < 0) {
			torn++;		/* given up: fine, nothing was used */
			continue;
		}
		check_whole(&v);
		reads++;
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	/* the run overlapped the writer: jobs were written during it */
	ck_assert_uint_gt(__atomic_load_n(&writes, __ATOMIC_RELAXED), 0);
	ck_assert_uint_gt(reads, 0);
	printf("slot_race: %lu whole copies, %lu given up, %lu jobs written\n",
	    reads, torn, writes);
}
END_TEST

static Suite *
slot_race_suite(void)
{
	Suite *s = suite_create("slot_race");
	TCase *tc = ds_tcase(s, "slot_race", NULL, NULL);

	tcase_set_timeout(tc, RUN_MAX_S + 10);
	tcase_add_test(tc, reads_under_a_writer_are_whole);
	return s;
}

DS_CHECK_MAIN(slot_race_suite)
