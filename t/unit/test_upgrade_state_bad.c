/* test_upgrade_state_bad.c: the upgrade's state reader
 * (master/upgrade_state.h) is a parser of hostile bytes. Every prefix of
 * a state fails cleanly; each check is one row of a table: a small valid
 * state (upgrade_state_unit.h) changed in one way, in the model or in its
 * bytes, whose error must name what is wrong, and after which nothing is
 * left allocated (san-unit) and what decode fills is zero again. */
#include "upgrade_state_unit.h"

#include <math.h>

static void
set_str(char **p, const char *s)
{
	free(*p);
	*p = xstrdup(s);
}

/* n bytes of c, NUL-terminated, in a static buffer */
static const char *
rep(char c, size_t n)
{
	static char buf[1024];

	memset(buf, c, n);
	buf[n] = '\0';
	return buf;
}

#define C0 (&x->m.children[0])
#define C1 (&x->m.children[1])
#define WEB (&x->m.pools[0])
#define CL0 (&x->st->clients[0])
#define MUT(fn, stmt) static void fn(struct model *x) { stmt; }

MUT(slot_past, C0->slot = 7)
MUT(pool_absent, set_str(&C0->pool, "nope"))
MUT(slot_other_pid, WEB->slots[0].pid = 999)
MUT(slot_orphan, WEB->slots[1].pid = 555)
MUT(slot_retired, WEB->slots[1].pid = 150)
MUT(slot_monitor, WEB->slots[1].pid = 300)
MUT(pid_twice, C1->pid = 101)
MUT(monitor_pid_child, x->m.queue->pid = 150)
MUT(fd_twice, C1->fd = 11)
MUT(client_listener, CL0->fd = 5)
MUT(pidfile_monitor, x->m.queue->fd = 4)
MUT(listen_other, x->m.status_listen_fd = 6)
MUT(fd_low, C0->fd = 2)
MUT(fd_high, C0->page_fd = 1 << 20)
MUT(page_fd_none, C0->page_fd = -1)
MUT(client_fd_none, CL0->fd = -1)
MUT(pid_fd_zero, x->m.pid_fd = 0)
MUT(child_pid_1, C0->pid = WEB->slots[0].pid = 1)
MUT(child_pid_neg, C1->pid = -5)
MUT(slot_pid_1, WEB->slots[1].pid = 1)
MUT(stuck_pid_0, x->m.stuck[0].pid = 0)
MUT(monitor_pid_1, x->m.queue->pid = 1)
MUT(state_4, C0->state = 4)
MUT(state_0, C0->state = 0)
MUT(slot_neg, C1->slot = -2)
MUT(time_neg, C0->started_ms = -5)
MUT(restart_neg, WEB->slots[1].restart_at = -1)
MUT(t0_neg, x->meta.t0_ms = -1)
MUT(running_long, C0->max_running_ms = 86400001)
MUT(page_len_0, C0->page_len = 0)
MUT(page_len_big, C0->page_len = DS_UPGRADE_PAGE_MAX + 1)
MUT(pool_name_long, set_str(&WEB->name, rep('a', 129)))
MUT(pool_name_space, set_str(&WEB->name, "we b"))
MUT(pool_twice, add_pool(x, "web", 0, NULL))
MUT(child_pool_empty, set_str(&C1->pool, ""))
MUT(fn_empty, set_str(&C0->functions[0], ""))
MUT(fn_long, set_str(&C0->functions[0], rep('f', 513)))
MUT(slots_many, add_pool(x, "big", DS_MAX_WORKERS_PER_POOL + 1, NULL))
MUT(sum_nan, x->m.metrics.jobs[0].sum_s = NAN)
MUT(sum_neg, x->m.metrics.jobs[0].sum_s = -1)
MUT(series_fn_empty, set_str(&x->m.metrics.jobs[0].function, ""))
MUT(label_long, set_str(&x->m.metrics.exits[0].label, rep('l', 513)))
MUT(stuck_server, x->m.stuck[0].server = DS_MAX_SERVERS)
MUT(first_pool, x->m.spawn_first_pool = 1)
MUT(in_long, CL0->inlen = DS_STATUS_LINE_MAX + 1)
MUT(outoff_past, CL0->outoff = 8)
MUT(from_empty, x->meta.from_version[0] = '\0')
MUT(from_space, x->meta.from_version[1] = ' ')
MUT(version_nl, snprintf(C0->version, sizeof(C0->version), "0.1\n"))
/* printable, but a quote would end a metric label the version goes in */
MUT(version_quote, snprintf(C0->version, sizeof(C0->version), "0.1\""))
/* for the rows that poke the bytes where a change shows */
MUT(killed_1, C0->killed = 1)
MUT(paused_1, x->st->paused = 1)
MUT(handle_x, C0->handle[2] = 'x')
MUT(no_out, free(CL0->out); CL0->out = NULL; CL0->outlen = CL0->outoff = 0)
MUT(client_more, add_client(x, 31, "", 0, NULL, 0))
MUT(child_more, add_child(x, 170, "web", -1, 1))
MUT(pool_more, add_pool(x, "z", 0, NULL))
MUT(exit_more, add_series(&x->m.metrics.exits, &x->m.metrics.nexits, "w",
    "", 1))
MUT(no_queue, free(x->m.queue->spec); free(x->m.queue); x->m.queue = NULL)
MUT(no_spec, free(x->m.queue->spec); x->m.queue->spec = NULL)

static void
fn_many(struct model *x)
{
	size_t n = DS_MAX_JOBS_PER_POOL + 1;

	C0->functions = realloc(C0->functions, (n + 1) * sizeof(char *));
	C0->seen = realloc(C0->seen, (n + 1) * sizeof(*C0->seen));
	ck_assert(C0->functions != NULL && C0->seen != NULL);
	for (size_t i = C0->nfunctions; i < n; i++) {
		C0->functions[i] = xstrdup("g");
		memset(&C0->seen[i], 0, sizeof(C0->seen[i]));
	}
	C0->nfunctions = n;
}

enum poke { NONE, BYTE, U32, AT };

static const struct bad_case {
	const char *what;
	void (*mut)(struct model *);
	enum poke poke;		/* the base's bytes, where mut changes them */
	uint32_t value;		/* BYTE, U32 (ending there); AT: offset */
	uint8_t at_value;
	const char *want;
} bad_cases[] = {
	{"slot past", slot_past, NONE, 0, 0,
	    "child 0: slot 7 past pool web's 2 slots"},
	{"pool absent", pool_absent, NONE, 0, 0,
	    "child 0: in slot 0 of pool nope, which the state does not have"},
	{"slot other pid", slot_other_pid, NONE, 0, 0,
	    "child 0: pid 101 in pool web slot 0, which holds pid 999"},
	{"slot orphan", slot_orphan, NONE, 0, 0,
	    "pool web slot 1: pid 555 has no child in that slot"},
	{"slot retired", slot_retired, NONE, 0, 0,
	    "pool web slot 1: pid 150 has no child in that slot"},
	{"slot monitor", slot_monitor, NONE, 0, 0,
	    "pool web slot 1: pid 300 has no child in that slot"},
	{"pid twice", pid_twice, NONE, 0, 0,
	    "pid 101 named twice: by child 0 and by child 1"},
	{"monitor pid", monitor_pid_child, NONE, 0, 0,
	    "pid 150 named twice: by the queue monitor and by child 1"},
	{"fd twice", fd_twice, NONE, 0, 0, "fd 11 named twice: by the socket "
	    "of child 1 and by the page of child 0"},
	{"client listener", client_listener, NONE, 0, 0,
	    "fd 5 named twice: by the status listener and by status client 0"},
	{"pid file monitor", pidfile_monitor, NONE, 0, 0,
	    "fd 4 named twice: by the pid file and by the queue monitor"},
	{"listen other", listen_other, NONE, 0, 0,
	    "status_listen_fd 6 is not the status listener 5"},
	{"fd low", fd_low, NONE, 0, 0,
	    "child 0: fd 2 is not -1 or a descriptor from 3 to 1048575"},
	{"fd high", fd_high, NONE, 0, 0,
	    "child 0: page_fd 1048576 is not a descriptor from 3 to 1048575"},
	{"page fd none", page_fd_none, NONE, 0, 0,
	    "child 0: page_fd -1 is not a descriptor"},
	{"client fd none", client_fd_none, NONE, 0, 0,
	    "status client 0: fd -1 is not a descriptor"},
	{"pid fd 0", pid_fd_zero, NONE, 0, 0,
	    "pid_fd 0 is not -1 or a descriptor"},
	{"child pid 1", child_pid_1, NONE, 0, 0,
	    "pool web slot 0: pid 1 is not a worker's"},
	{"child pid neg", child_pid_neg, NONE, 0, 0,
	    "child 1: pid -5 out of range 2 to 2147483647"},
	{"slot pid 1", slot_pid_1, NONE, 0, 0,
	    "pool web slot 1: pid 1 is not a worker's"},
	{"stuck pid 0", stuck_pid_0, NONE, 0, 0,
	    "stuck record 0: pid 0 out of range 2 to"},
	{"monitor pid 1", monitor_pid_1, NONE, 0, 0,
	    "queue monitor: pid 1 is not the monitor's"},
	{"state 4", state_4, NONE, 0, 0, "child 0: state 4 is not a slot state"},
	{"state 0", state_0, NONE, 0, 0, "child 0: state 0 is not a slot state"},
	{"slot neg", slot_neg, NONE, 0, 0,
	    "child 1: slot -2 out of range -1 to 9999"},
	{"time neg", time_neg, NONE, 0, 0, "child 0: started_ms -5 is negative"},
	{"restart neg", restart_neg, NONE, 0, 0,
	    "pool web slot 1: restart_at -1 is negative"},
	{"t0 neg", t0_neg, NONE, 0, 0, "t0_ms -1 is negative"},
	{"running long", running_long, NONE, 0, 0,
	    "child 0: max_running_ms 86400001 past 86400 s"},
	{"page len 0", page_len_0, NONE, 0, 0,
	    "child 0: page_len 0 is not 1 to 4194304"},
	{"page len big", page_len_big, NONE, 0, 0,
	    "child 0: page_len 4194305 is not 1 to 4194304"},
	{"pool name long", pool_name_long, NONE, 0, 0,
	    "pool 0: name of 129 bytes past 128"},
	{"pool name space", pool_name_space, NONE, 0, 0,
	    "pool 0: name is not a pool name"},
	{"pool twice", pool_twice, NONE, 0, 0, "pool web named twice"},
	{"child pool empty", child_pool_empty, NONE, 0, 0,
	    "child 1: pool is not a pool name"},
	{"function empty", fn_empty, NONE, 0, 0,
	    "child 0: function name is empty"},
	{"function long", fn_long, NONE, 0, 0,
	    "child 0: function name of 513 bytes past 512"},
	{"functions many", fn_many, NONE, 0, 0,
	    "child 0: functions 257 past the cap of 256"},
	{"slots many", slots_many, NONE, 0, 0,
	    "pool big: slots 10001 past the cap of 10000"},
	{"sum nan", sum_nan, NONE, 0, 0,
	    "job series 0: sum_s is not a finite number >= 0"},
	{"sum neg", sum_neg, NONE, 0, 0,
	    "job series 0: sum_s is not a finite number >= 0"},
	{"series function empty", series_fn_empty, NONE, 0, 0,
	    "job series 0: function is empty"},
	{"label long", label_long, NONE, 0, 0,
	    "exits 0: label of 513 bytes past 512"},
	{"stuck server", stuck_server, NONE, 0, 0,
	    "stuck record 0: server 64 past 63"},
	{"first pool", first_pool, NONE, 0, 0,
	    "spawn_first_pool 1 past the 1 pools"},
	{"input long", in_long, NONE, 0, 0,
	    "status client 0: input of 1025 bytes past 1024"},
	{"outoff past", outoff_past, NONE, 0, 0,
	    "status client 0: outoff 8 past outlen 7"},
	{"from empty", from_empty, NONE, 0, 0, "from_version is empty"},
	{"from space", from_space, NONE, 0, 0, "from_version holds a byte "
	    "other than a letter, a digit or one of \".-_+~\""},
	{"version newline", version_nl, NONE, 0, 0, "child 0: version holds a "
	    "byte other than a letter, a digit or one of \".-_+~\""},
	{"version quote", version_quote, NONE, 0, 0, "child 0: version holds a "
	    "byte other than a letter, a digit or one of \".-_+~\""},
	{"killed 2", killed_1, BYTE, 2, 0, "child 0: killed 2 is not 0 or 1"},
	{"paused 2", paused_1, BYTE, 2, 0, "paused 2 is not 0 or 1"},
	{"handle NUL", handle_x, BYTE, 0, 0, "child 0: handle holds a NUL byte"},
	{"output unflagged", no_out, BYTE, 0, 0,
	    "status client 0: output of 7 bytes past 0"},
	{"queue flag 2", no_queue, BYTE, 2, 0, "queue monitor 2 is not 0 or 1"},
	{"spec unflagged", no_spec, BYTE, 0, 0,
	    "queue monitor: spec of 1 bytes past 0"},
	{"clients many", client_more, U32, DS_STATUS_MAX_CLIENTS + 1, 0,
	    "status clients 257 past the cap of 256"},
	{"children many", child_more, U32, DS_UPGRADE_MAX_CHILDREN + 1, 0,
	    "children 524289 past the cap of 524288"},
	{"children unfit", child_more, U32, 1000, 0,
	    "children 1000 cannot fit in the"},
	{"pools many", pool_more, U32, DS_UPGRADE_MAX_POOLS + 1, 0,
	    "pools 65537 past the cap of 65536"},
	{"series many", exit_more, U32, DS_UPGRADE_MAX_SERIES + 1, 0,
	    "exits 1048577 past the cap of 1048576"},
	{"magic", NULL, AT, 0, 'X', "magic 0x58535550 is not a driveshaft"},
	{"version 2", NULL, AT, 7, 2, "format version 2: this binary reads 1 "
	    "to 1"},
	{"version 0", NULL, AT, 7, 0, "format version 0: this binary reads"},
	{"length", NULL, AT, 8, 1, "length field says 720575940379"},
	{"section tag", NULL, AT, 16 + 4 + 5 + 8, 'X',
	    "section master expected at byte 33, found tag 0x58415354"},
};

static size_t
first_diff(const unsigned char *a, size_t alen, const unsigned char *b,
    size_t blen)
{
	size_t i = 16;		/* past the header: its length differs */

	while (i < alen && i < blen && a[i] == b[i])
		i++;
	ck_assert_uint_lt(i, alen);
	return i;
}

/* The bytes of the row's state: the base's, poked, or the changed model's. */
static unsigned char *
row_bytes(const struct bad_case *c, size_t *len)
{
	struct model base, mod;
	unsigned char *b, *m;
	size_t mlen, at;

	model_small(&base);
	b = encode(&base, len);
	model_free(&base);
	if (c->poke == AT) {
		b[c->value] = c->at_value;
		return b;
	}
	model_small(&mod);
	c->mut(&mod);
	m = encode(&mod, &mlen);
	model_free(&mod);
	if (c->poke == NONE) {
		free(b);
		*len = mlen;
		return m;
	}
	at = first_diff(b, *len, m, mlen);
	free(m);
	if (c->poke == BYTE) {
		b[at] = (unsigned char)c->value;
		return b;
	}
	ck_assert_uint_ge(at, 3);
	for (int k = 0; k < 4; k++)
		b[at - (size_t)k] = (unsigned char)(c->value >> (8 * k));
	return b;
}

START_TEST(bad_state)
{
	const struct bad_case *c = &bad_cases[_i];
	struct model x;
	char err[256];
	size_t len;
	unsigned char *b = row_bytes(c, &len);

	ck_assert_int_eq(decode_copy(b, len, &x, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, c->want) != NULL,
	    "%s: \"%s\", expected \"%s\"", c->what, err, c->want);
	check_cleared(&x);
	free(x.st);
	free(b);
}
END_TEST

/* The base of the table is right, or no row proves anything. */
START_TEST(base_decodes)
{
	struct model a, x;
	char err[256];
	size_t len;
	unsigned char *b;

	model_small(&a);
	b = encode(&a, &len);
	ck_assert_msg(decode_copy(b, len, &x, err, sizeof(err)) == 0, "%s",
	    err);
	free(b);
	model_free(&a);
	model_free(&x);
}
END_TEST

static void
set_total(unsigned char *b, uint64_t total)
{
	for (int k = 0; k < 8; k++)
		b[15 - k] = (unsigned char)(total >> (8 * k));
}

static void
must_fail(const unsigned char *b, size_t len, const char *want)
{
	struct model x;
	char err[256];

	ck_assert_int_eq(decode_copy(b, len, &x, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, want) != NULL, "at %zu: \"%s\", expected "
	    "\"%s\"", len, err, want);
	check_cleared(&x);
	free(x.st);
}

/* Every prefix, as it is and with its length field saying its length:
 * each fails cleanly, as a short state. */
START_TEST(every_prefix)
{
	struct model a;
	size_t len;
	unsigned char *b, *p;

	model_small(&a);
	b = encode(&a, &len);
	model_free(&a);
	p = malloc(len);
	ck_assert_ptr_nonnull(p);
	for (size_t n = 0; n < len; n++) {
		memcpy(p, b, n);
		must_fail(p, n, n < 16 ? "shorter than its 16-byte header" :
		    "length field says");
		if (n < 16)
			continue;
		set_total(p, n);
		{
			struct model x;
			char err[256];

			ck_assert_int_eq(decode_copy(p, n, &x, err,
			    sizeof(err)), -1);
			ck_assert_msg(strstr(err, "truncated at byte") ||
			    strstr(err, "cannot fit in the"),
			    "at %zu: \"%s\"", n, err);
			check_cleared(&x);
			free(x.st);
		}
	}
	free(p);
	free(b);
}
END_TEST

START_TEST(trailing_bytes)
{
	struct model a;
	size_t len;
	unsigned char *b, *p;

	model_small(&a);
	b = encode(&a, &len);
	model_free(&a);
	p = calloc(1, len + 3);
	ck_assert_ptr_nonnull(p);
	memcpy(p, b, len);
	must_fail(p, len + 3, "length field says");
	set_total(p, len + 3);
	must_fail(p, len + 3, "3 trailing bytes after the state's end");
	free(p);
	free(b);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("upgrade_state_bad");
	TCase *tc = ds_tcase(s, "hostile", NULL, NULL);

	tcase_add_test(tc, base_decodes);
	tcase_add_loop_test(tc, bad_state, 0, NELEM(bad_cases));
	tcase_add_test(tc, every_prefix);
	tcase_add_test(tc, trailing_bytes);
	return s;
}

DS_CHECK_MAIN(suite)
