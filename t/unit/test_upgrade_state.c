/* test_upgrade_state.c: the upgrade's state codec (master/upgrade_state.h)
 * on states that are right: a rich one comes back field by field, the
 * sealed memfd carries it and refuses what is not one, and the list of
 * fds to hand over names each once. Hostile states: test_upgrade_state_bad.c. */
#include "upgrade_state_unit.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

/* Three pools (one without slots), children in and out of slots (one of
 * a pool gone by a reload, one without a socket), every counter set,
 * series of each kind, clients with partial input and partial output. */
static void
model_rich(struct model *x)
{
	static const pid_t web[] = {101, 0, 103}, mail[] = {201, 202};
	struct ds_pool_rt *p;
	struct ds_child *c;
	struct ds_job_series *s;

	model_init(x);
	x->m.generation = 7;
	x->m.reloads = 5;
	x->m.reloads_failed = 2;
	x->m.started_wall_ms = 1700000000000;
	x->m.upgrades = 3;
	x->m.upgrades_failed = 1;
	x->m.spawn_first_pool = 2;
	p = add_pool(x, "web", 3, web);
	p->slots[1] = (struct ds_slot){0, 3, 99000};
	p->slots[2].quick_deaths = 1;
	p->stats = (struct ds_pool_stats){10, 2, 1, UINT64_MAX};
	p->spawn_failures = 4;
	p->spawn_retry_at = 55000;
	p->backlog = 17;
	p->zero_since = 42;
	add_pool(x, "mail.q:1-x_", 2, mail);
	add_pool(x, "empty", 0, NULL);
	add_child(x, 101, "web", 0, 2);
	c = add_child(x, 103, "web", 2, 3);
	c->state = DS_SLOT_BUSY;
	snprintf(c->handle, sizeof(c->handle), "H:host:12");
	snprintf(c->unique, sizeof(c->unique), "u-%0500d", 7);
	snprintf(c->function, sizeof(c->function), "f2");
	snprintf(c->version, sizeof(c->version), "0.1.0");
	c->busy_since_ms = 2000;
	c->job_seen_ms = 2100;
	c->kill_at = 307100;
	c->seen[1] = (struct ds_fn_counts){{5, 4, 3, 2, 1},
	    {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, UINT64_MAX}, 15, 999};
	c->http_seen[0] = 6;
	c->http_seen[15] = 9;
	c->jobs_seen = 21;
	add_child(x, 201, "mail.q:1-x_", 0, 1)->state = DS_SLOT_DISCONNECTED;
	add_child(x, 202, "mail.q:1-x_", 1, 1)->state = DS_SLOT_STARTING;
	c = add_child(x, 150, "web", -1, 2);
	c->last_slot = 1;
	c->state = DS_SLOT_STOPPING;
	c->killed = 1;
	c = add_child(x, 160, "gone", -1, 1);
	c->fd = -1;
	s = x->m.metrics.jobs = calloc(2, sizeof(*s));
	ck_assert_ptr_nonnull(s);
	x->m.metrics.njobs = 2;
	s[0] = (struct ds_job_series){xstrdup("web"), xstrdup("f0"), 1, 2, 3,
	    4, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}, 14, 1.25};
	s[1] = (struct ds_job_series){.pool = xstrdup("gone"),
	    .function = xstrdup("Other"), .count = 1, .sum_s = 0.001};
	add_series(&x->m.metrics.http_errors, &x->m.metrics.nhttp_errors,
	    "web", "502", 3);
	add_series(&x->m.metrics.starts, &x->m.metrics.nstarts, "web", "", 9);
	add_series(&x->m.metrics.starts, &x->m.metrics.nstarts, "gone", "", 1);
	add_series(&x->m.metrics.exits, &x->m.metrics.nexits, "web", "killed",
	    1);
	x->m.stuck = calloc(2, sizeof(*x->m.stuck));
	ck_assert_ptr_nonnull(x->m.stuck);
	x->m.stuck[0] = (struct ds_stuck_rec){101, 0, 77, 1};
	x->m.stuck[1] = (struct ds_stuck_rec){4242, 63, 78, 0};
	x->m.nstuck = x->m.capstuck = 2;
	add_queue(x, 300, 40, "gm1:4730\n\nf0\nf1\n\nmax_workers 12");
	x->st->paused = 1;
	x->st->evict_at = 111;
	x->st->accept_after = 222;
	add_client(x, 30, "poo", 3, NULL, 0);
	add_client(x, 31, "a\0b", 3, NULL, 0);
	add_client(x, 32, "pools", 5, "pool web 3\r\n.\r\n", 4);
	add_client(x, 33, "", 0, "", 0);	/* an empty answer */
}

static void
same_child(const struct ds_child *a, const struct ds_child *b)
{
	ck_assert_int_eq(a->pid, b->pid);
	ck_assert_int_eq(a->fd, b->fd);
	ck_assert_int_eq(a->page_fd, b->page_fd);
	ck_assert_uint_eq(a->page_len, b->page_len);
	ck_assert_str_eq(a->pool, b->pool);
	ck_assert_int_eq(a->slot, b->slot);
	ck_assert_int_eq(a->last_slot, b->last_slot);
	ck_assert_int_eq(a->state, b->state);
	ck_assert(a->started_ms == b->started_ms &&
	    a->busy_since_ms == b->busy_since_ms &&
	    a->job_seen_ms == b->job_seen_ms &&
	    a->max_running_ms == b->max_running_ms && a->kill_at == b->kill_at);
	ck_assert_int_eq(a->killed, b->killed);
	ck_assert_str_eq(a->handle, b->handle);
	ck_assert_str_eq(a->unique, b->unique);
	ck_assert_str_eq(a->function, b->function);
	ck_assert_str_eq(a->version, b->version);
	ck_assert_uint_eq(a->nfunctions, b->nfunctions);
	for (size_t k = 0; k < a->nfunctions; k++) {
		ck_assert_str_eq(a->functions[k], b->functions[k]);
		ck_assert(memcmp(&a->seen[k], &b->seen[k], sizeof(a->seen[k]))
		    == 0);
	}
	ck_assert_ptr_null(b->functions[b->nfunctions]);
	ck_assert(memcmp(a->http_seen, b->http_seen, sizeof(a->http_seen)) == 0);
	ck_assert_uint_eq(a->jobs_seen, b->jobs_seen);
	ck_assert_ptr_null(b->page);
}

static void
same_pool(const struct ds_pool_rt *a, const struct ds_pool_rt *b)
{
	ck_assert_str_eq(a->name, b->name);
	ck_assert_ptr_null(b->cfg);
	ck_assert_int_eq(a->nslots, b->nslots);
	for (int i = 0; i < a->nslots; i++) {
		ck_assert_int_eq(a->slots[i].pid, b->slots[i].pid);
		ck_assert_int_eq(a->slots[i].quick_deaths,
		    b->slots[i].quick_deaths);
		ck_assert(a->slots[i].restart_at == b->slots[i].restart_at);
	}
	ck_assert(memcmp(&a->stats, &b->stats, sizeof(a->stats)) == 0);
	ck_assert_int_eq(a->spawn_failures, b->spawn_failures);
	ck_assert(a->spawn_retry_at == b->spawn_retry_at);
	ck_assert_uint_eq(a->backlog, b->backlog);
	ck_assert(a->zero_since == b->zero_since);
}

static void
same_counts(const struct ds_count_series *a, const struct ds_count_series *b,
    size_t n)
{
	for (size_t i = 0; i < n; i++) {
		ck_assert_str_eq(a[i].pool, b[i].pool);
		ck_assert_str_eq(a[i].label, b[i].label);
		ck_assert_uint_eq(a[i].count, b[i].count);
	}
}

static void
same_metrics(const struct ds_metrics *a, const struct ds_metrics *b)
{
	ck_assert_uint_eq(a->njobs, b->njobs);
	for (size_t i = 0; i < a->njobs; i++) {
		const struct ds_job_series *x = &a->jobs[i], *y = &b->jobs[i];

		ck_assert_str_eq(x->pool, y->pool);
		ck_assert_str_eq(x->function, y->function);
		ck_assert(x->completed == y->completed &&
		    x->failed == y->failed && x->timed_out == y->timed_out &&
		    x->answer_lost == y->answer_lost && x->count == y->count);
		ck_assert(memcmp(x->buckets, y->buckets, sizeof(x->buckets))
		    == 0);
		ck_assert(memcmp(&x->sum_s, &y->sum_s, sizeof(x->sum_s)) == 0);
	}
	ck_assert_uint_eq(a->nhttp_errors, b->nhttp_errors);
	ck_assert_uint_eq(a->nstarts, b->nstarts);
	ck_assert_uint_eq(a->nexits, b->nexits);
	same_counts(a->http_errors, b->http_errors, a->nhttp_errors);
	same_counts(a->starts, b->starts, a->nstarts);
	same_counts(a->exits, b->exits, a->nexits);
}

static void
same_queue(const struct ds_queue *a, const struct ds_queue *b)
{
	ck_assert_int_eq(a == NULL, b == NULL);
	if (a == NULL)
		return;
	ck_assert_int_eq(a->pid, b->pid);
	ck_assert_int_eq(a->fd, b->fd);
	ck_assert(a->started_ms == b->started_ms &&
	    a->restart_at == b->restart_at && a->kill_at == b->kill_at);
	ck_assert_int_eq(a->quick_deaths, b->quick_deaths);
	ck_assert_int_eq(a->replace, b->replace);
	ck_assert_uint_eq(a->bad, b->bad);
	ck_assert_int_eq(a->spec == NULL, b->spec == NULL);
	if (a->spec != NULL)
		ck_assert_str_eq(a->spec, b->spec);
	ck_assert(b->gather_until == 0 && b->view.s == NULL);
}

static void
same_status(const struct ds_status *a, const struct ds_status *b)
{
	ck_assert_int_eq(a->listen_fd, b->listen_fd);
	ck_assert_int_eq(a->paused, b->paused);
	ck_assert(a->evict_at == b->evict_at &&
	    a->accept_after == b->accept_after);
	ck_assert_uint_eq(a->nclients, b->nclients);
	for (size_t i = 0; i < a->nclients; i++) {
		const struct ds_status_client *x = &a->clients[i];
		const struct ds_status_client *y = &b->clients[i];

		ck_assert_int_eq(x->fd, y->fd);
		ck_assert(x->deadline == y->deadline && x->last_rx == y->last_rx);
		ck_assert_uint_eq(x->inlen, y->inlen);
		ck_assert(memcmp(x->in, y->in, x->inlen) == 0);
		ck_assert_int_eq(y->in[y->inlen], '\0');
		ck_assert_int_eq(x->out == NULL, y->out == NULL);
		ck_assert_uint_eq(x->outlen, y->outlen);
		ck_assert_uint_eq(x->outoff, y->outoff);
		if (x->out != NULL)
			ck_assert(memcmp(x->out, y->out, x->outlen) == 0);
	}
}

static void
check_same(const struct model *a, const struct model *b)
{
	const struct ds_master *x = &a->m, *y = &b->m;

	ck_assert_str_eq(a->meta.from_version, b->meta.from_version);
	ck_assert(a->meta.t0_ms == b->meta.t0_ms);
	ck_assert(x->generation == y->generation && x->reloads == y->reloads &&
	    x->reloads_failed == y->reloads_failed &&
	    x->started_wall_ms == y->started_wall_ms &&
	    x->upgrades == y->upgrades &&
	    x->upgrades_failed == y->upgrades_failed);
	ck_assert_int_eq(x->pid_fd, y->pid_fd);
	ck_assert_int_eq(x->status_listen_fd, y->status_listen_fd);
	ck_assert_uint_eq(x->spawn_first_pool, y->spawn_first_pool);
	ck_assert_uint_eq(x->npools, y->npools);
	for (size_t i = 0; i < x->npools; i++)
		same_pool(&x->pools[i], &y->pools[i]);
	ck_assert_uint_eq(x->nchildren, y->nchildren);
	for (size_t i = 0; i < x->nchildren; i++)
		same_child(&x->children[i], &y->children[i]);
	same_metrics(&x->metrics, &y->metrics);
	ck_assert_uint_eq(x->nstuck, y->nstuck);
	for (size_t i = 0; i < x->nstuck; i++)
		ck_assert(memcmp(&x->stuck[i], &y->stuck[i],
		    sizeof(x->stuck[i])) == 0);
	same_queue(x->queue, y->queue);
	same_status(a->st, b->st);
}

/* Encoded, decoded, equal, and encoded again to the same bytes. */
static void
round_trip(void (*build)(struct model *))
{
	struct model a, b;
	char err[256];
	size_t len, len2;
	unsigned char *buf, *buf2;

	build(&a);
	buf = encode(&a, &len);
	ck_assert_msg(decode_copy(buf, len, &b, err, sizeof(err)) == 0,
	    "decode: %s", err);
	check_same(&a, &b);
	buf2 = encode(&b, &len2);
	ck_assert_uint_eq(len, len2);
	ck_assert(memcmp(buf, buf2, len) == 0);
	free(buf);
	free(buf2);
	model_free(&a);
	model_free(&b);
}

START_TEST(rich_round_trip)
{
	round_trip(model_rich);
	round_trip(model_small);
}
END_TEST

START_TEST(bare_round_trip)
{
	struct model a, b;
	char err[256];
	size_t len;
	unsigned char *buf;

	/* no pool, no child, no queue monitor, no status port */
	model_init(&a);
	a.m.pid_fd = a.m.status_listen_fd = a.st->listen_fd = -1;
	buf = encode(&a, &len);
	ck_assert_msg(decode_copy(buf, len, &b, err, sizeof(err)) == 0,
	    "decode: %s", err);
	check_same(&a, &b);
	free(buf);
	model_free(&a);
	model_free(&b);
}
END_TEST

/* The state through a sealed memfd, as the exec hands it over. */
START_TEST(memfd_round_trip)
{
	struct model a, b;
	char err[256];
	size_t len, glen;
	unsigned char *buf, *got;
	int fd;

	model_rich(&a);
	buf = encode(&a, &len);
	fd = ds_upgrade_state_memfd(buf, len);
	ck_assert_int_ge(fd, 3);
	ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	ck_assert_int_eq(fcntl(fd, F_GET_SEALS), F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_WRITE | F_SEAL_SEAL);
	ck_assert_int_eq(pwrite(fd, "x", 1, 0), -1);	/* sealed */
	ck_assert_int_eq(ds_upgrade_state_read_fd(fd, &got, &glen, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(glen, len);
	ck_assert(memcmp(got, buf, len) == 0);
	ck_assert_msg(decode_copy(got, glen, &b, err, sizeof(err)) == 0,
	    "decode: %s", err);
	check_same(&a, &b);
	close(fd);
	free(buf);
	free(got);
	model_free(&a);
	model_free(&b);
}
END_TEST

static int
memfd_with(const char *data, size_t len, unsigned flags, int seals)
{
	int fd = memfd_create("t", flags);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	if (seals)
		ck_assert_int_eq(fcntl(fd, F_ADD_SEALS, seals), 0);
	return fd;
}

static int
huge_memfd(void)
{
	int fd = memfd_create("t", MFD_ALLOW_SEALING);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, DS_UPGRADE_STATE_MAX_BYTES + 1), 0);
	ck_assert_int_eq(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_WRITE | F_SEAL_SEAL), 0);
	return fd;
}

static int
tmp_file(void)
{
	int fd = open("/tmp", O_TMPFILE | O_RDWR, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "DSUP", 4), 4);
	return fd;
}

static int
pipe_end(void)
{
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	close(p[1]);
	return p[0];
}

#define ALL_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL)

static const struct {
	const char *what;
	int kind;	/* 0 memfd_with, 1 huge, 2 regular file, 3 pipe */
	unsigned flags;
	int seals;
	size_t len;	/* of "DSUP" written */
	const char *want;
} fd_cases[] = {
	{"unsealed memfd", 0, MFD_ALLOW_SEALING, 0, 4,
	    "is not a sealed memfd"},
	{"writable memfd", 0, MFD_ALLOW_SEALING,
	    F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL, 4,
	    "is not a sealed memfd"},
	{"memfd without sealing", 0, 0, 0, 4, "is not a sealed memfd"},
	{"empty sealed memfd", 0, MFD_ALLOW_SEALING, ALL_SEALS, 0,
	    "size 0 is not 1 to"},
	{"memfd past the cap", 1, 0, 0, 0, "size 268435457 is not 1 to"},
	{"regular file", 2, 0, 0, 0, "is not a sealed memfd"},
	{"pipe", 3, 0, 0, 0, "is not a sealed memfd"},
};

START_TEST(read_fd_refuses)
{
	char err[256] = "";
	unsigned char *got = (unsigned char *)"untouched";
	size_t glen = 0;
	int fd;

	switch (fd_cases[_i].kind) {
	case 0:
		fd = memfd_with("DSUP", fd_cases[_i].len, fd_cases[_i].flags,
		    fd_cases[_i].seals);
		break;
	case 1:
		fd = huge_memfd();
		break;
	case 2:
		fd = tmp_file();
		break;
	default:
		fd = pipe_end();
	}
	ck_assert_int_eq(ds_upgrade_state_read_fd(fd, &got, &glen, err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, fd_cases[_i].want) != NULL,
	    "%s: \"%s\", expected \"%s\"", fd_cases[_i].what, err,
	    fd_cases[_i].want);
	ck_assert_ptr_null(got);
	close(fd);
}
END_TEST

static int
cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* The listener once though both the master and the status name it, no
 * -1, every child's two fds. */
START_TEST(fds_each_once)
{
	static const int want[] = {4, 5, 10, 11, 12, 13, 14, 15, 16, 17, 18,
	    19, 21, 30, 31, 32, 33, 40};
	struct model a;
	size_t n;
	int *fds;

	model_rich(&a);
	fds = ds_upgrade_state_fds(&a.m, a.st, &n);
	ck_assert_ptr_nonnull(fds);
	qsort(fds, n, sizeof(*fds), cmp_int);
	ck_assert_uint_eq(n, NELEM(want));
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(fds[i], want[i]);
	free(fds);
	model_free(&a);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("upgrade_state");
	TCase *tc = ds_tcase(s, "codec", NULL, NULL);

	tcase_add_test(tc, rich_round_trip);
	tcase_add_test(tc, bare_round_trip);
	tcase_add_test(tc, memfd_round_trip);
	tcase_add_loop_test(tc, read_fd_refuses, 0, NELEM(fd_cases));
	tcase_add_test(tc, fds_each_once);
	return s;
}

DS_CHECK_MAIN(suite)
