/* test_reload.c: a SIGHUP reload (master/reload.h) from a real jobs
 * config file: unchanged pools keep their workers, a resized pool keeps
 * its slots and grows, a removed pool's and a changed pool's workers are
 * retired (SIGUSR1 through ds_master.kill_fn), a new pool gets empty
 * slots, and a config that does not load changes nothing. */
#include "master/children.h"
#include "master/pools.h"
#include "master/reload.h"
#include "master/slot_page.h"

#include "common/parse.h"
#include "master_unit.h"
#include "unit.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SERVERS "\"gearman_servers_list\": [\"127.0.0.1:4730\"]"
#define P(name, n, uri) "\"" name "\": {\"worker_count\": " #n ", " \
	"\"jobs_list\": [\"j\"], \"job_processing_uri\": \"" uri "\"}"
#define CONFIG(pools) "{" SERVERS ", \"pools_list\": {" pools "}}"
#define URI "http://h/job"

static struct ds_master m;
static struct ds_master_opts o;
static char path[] = "/tmp/ds-reload-XXXXXX";
static void
write_config(const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

/* A worker idle in slot of pool, as its real slot page says. */
static void
add_child(const char *pool, int slot, pid_t pid)
{
	struct ds_pool_rt *p = ds_pool_rt_find(&m, pool);
	struct ds_child *c = ds_child_room(&m);
	int fd;

	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(ds_pidmap_put(&m.pids, pid, m.nchildren), 0);
	m.nchildren++;
	c->pid = pid;
	c->fd = -1;
	c->pool = strdup(pool);
	c->slot = c->last_slot = slot;
	c->state = DS_SLOT_STARTING;
	/* the memfd stays open in c, as the master keeps it */
	ck_assert_int_ge(fd = ds_slot_page_open(c, p->cfg), 0);
	ds_slot_begin(c->page);
	c->page->state = DS_SLOT_IDLE;
	ds_slot_end(c->page);
	ds_child_sync(&m, c);
	ck_assert_int_eq(c->state, DS_SLOT_IDLE);
	p->slots[slot].pid = pid;
}

static void
setup(void)
{
	struct ds_diag diag;
	int fd;

	ds_t_master_init(&m, &o);
	strcpy(path, "/tmp/ds-reload-XXXXXX");
	ck_assert_int_ge(fd = mkstemp(path), 0);
	close(fd);
	o.jobsconfig = path;
	write_config(CONFIG(P("Keep", 2, URI) "," P("Gone", 1, URI) ","
	    P("Grow", 1, URI)));
	ck_assert_int_eq(ds_config_load(path, &m.cfg, &diag), 0);
	ds_diag_free(&diag);
	ds_pools_start(&m);
	add_child("Keep", 0, 701);
	add_child("Gone", 0, 702);
	add_child("Grow", 0, 703);
}

static void
teardown(void)
{
	ds_t_children_free(&m);
	ds_pools_free(&m);
	ds_config_free(&m.cfg);
	unlink(path);
}

START_TEST(applies_the_difference)
{
	write_config(CONFIG(P("Keep", 2, URI) "," P("Grow", 3, URI) ","
	    P("New", 1, URI)));
	ck_assert_int_eq(ds_reload(&m), 0);
	ck_assert_uint_eq(m.generation, 1);
	ck_assert_uint_eq(m.reloads, 1);
	ck_assert_uint_eq(m.npools, 3);
	ck_assert_int_eq(ds_pool_rt_find(&m, "Keep")->slots[0].pid, 701);
	ck_assert_int_eq(ds_pool_rt_find(&m, "Grow")->nslots, 3);
	ck_assert_int_eq(ds_pool_rt_find(&m, "Grow")->slots[0].pid, 703);
	ck_assert_int_eq(ds_pool_rt_find(&m, "New")->nslots, 1);
	ck_assert_int_eq(ds_pool_rt_find(&m, "New")->slots[0].pid, 0);
	ck_assert_ptr_null(ds_pool_rt_find(&m, "Gone"));
	ck_assert_int_eq(ds_t_nsent, 1);
	ck_assert(ds_t_was_sent(702, SIGUSR1));
	ck_assert_int_eq(ds_child_by_pid(&m, 702)->slot, -1);
}
END_TEST

/* A URI that differs only in a way a loose comparison would miss is a
 * changed pool all the same: its workers are replaced. */
START_TEST(a_changed_uri_replaces_the_pool)
{
	static const char *const uris[] = {
		CONFIG(P("Keep", 2, "http://H/job") "," P("Grow", 1, URI)),
		CONFIG(P("Keep", 2, "http://h/job/") "," P("Grow", 1, URI)),
		CONFIG(P("Keep", 2, "http://h/job?x=1") "," P("Grow", 1, URI)),
	};

	for (size_t i = 0; i < NELEM(uris); i++) {
		teardown();
		setup();
		write_config(uris[i]);
		ck_assert_int_eq(ds_reload(&m), 0);
		ck_assert_msg(ds_t_was_sent(701, SIGUSR1), "config %zu: %s", i,
		    uris[i]);
		ck_assert(!ds_t_was_sent(703, SIGUSR1));
		ck_assert_int_eq(ds_pool_rt_find(&m, "Keep")->slots[0].pid, 0);
	}
}
END_TEST

START_TEST(a_bad_config_changes_nothing)
{
	write_config("{\"gearman_servers_list\": ");
	ck_assert_int_eq(ds_reload(&m), -1);
	ck_assert_uint_eq(m.reloads_failed, 1);
	ck_assert_uint_eq(m.generation, 0);
	ck_assert_uint_eq(m.npools, 3);
	ck_assert_int_eq(ds_pool_rt_find(&m, "Gone")->slots[0].pid, 702);
	ck_assert_int_eq(ds_t_nsent, 0);
}
END_TEST

static Suite *
reload_suite(void)
{
	Suite *s = suite_create("reload");
	TCase *tc = ds_tcase(s, "reload", setup, teardown);

	tcase_add_test(tc, applies_the_difference);
	tcase_add_test(tc, a_changed_uri_replaces_the_pool);
	tcase_add_test(tc, a_bad_config_changes_nothing);
	return s;
}

DS_CHECK_MAIN(reload_suite)
