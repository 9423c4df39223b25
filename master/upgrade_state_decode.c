/* upgrade_state_decode.c: the decoder of the upgrade's state
 * (upgrade_state.h), section by section in the order the encoder writes
 * them, with the field readers of upgrade_state_read.c, then the checks
 * across sections (upgrade_state_check.c). On any error what it
 * allocated is freed and what it filled is zero again, so that the new
 * image starts fresh from a clean slate. */
#include "master/upgrade_state.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bounds.h"
#include "master/queue.h"
#include "master/stuck.h"
#include "master/upgrade_state_wire.h"

#define TIME(what, dst) us_get_time(r, what, dst)
#define NONNEG(what, dst) us_get_int(r, what, 0, INT32_MAX, dst)

static int
header(struct us_reader *r, struct ds_upgrade_meta *meta)
{
	uint32_t magic, version;
	uint64_t total;

	if (r->len < US_HEADER)
		return us_fail(r, "state of %zu bytes is shorter than its "
		    "%d-byte header", r->len, US_HEADER);
	(void)us_get_u32(r, "magic", &magic);
	(void)us_get_u32(r, "format version", &version);
	(void)us_get_u64(r, "length", &total);
	if (magic != US_MAGIC)
		return us_fail(r, "magic 0x%08x is not a driveshaft state's",
		    magic);
	if (version < DS_UPGRADE_STATE_MIN || version > DS_UPGRADE_STATE_VERSION)
		return us_fail(r, "format version %u: this binary reads %d to "
		    "%d", version, DS_UPGRADE_STATE_MIN, DS_UPGRADE_STATE_VERSION);
	if (total != r->len || r->len > DS_UPGRADE_STATE_MAX_BYTES)
		return us_fail(r, "length field says %llu bytes, the state has "
		    "%zu (at most %u)", (unsigned long long)total, r->len,
		    DS_UPGRADE_STATE_MAX_BYTES);
	if (us_get_version(r, "from_version", meta->from_version) < 0 ||
	    TIME("t0_ms", &meta->t0_ms) < 0)
		return -1;
	if (meta->from_version[0] == '\0')
		return us_fail(r, "from_version is empty");
	return 0;
}

static int
master(struct us_reader *r, struct ds_master *m, uint64_t *first)
{
	if (us_expect_tag(r, US_TAG_MASTER, "master") < 0 ||
	    us_get_u64(r, "generation", &m->generation) < 0 ||
	    us_get_u64(r, "reloads", &m->reloads) < 0 ||
	    us_get_u64(r, "reloads_failed", &m->reloads_failed) < 0 ||
	    TIME("started_wall_ms", &m->started_wall_ms) < 0 ||
	    us_get_u64(r, "upgrades", &m->upgrades) < 0 ||
	    us_get_u64(r, "upgrades_failed", &m->upgrades_failed) < 0 ||
	    us_get_fd(r, "pid_fd", 1, &m->pid_fd) < 0 ||
	    us_get_fd(r, "status_listen_fd", 1, &m->status_listen_fd) < 0)
		return -1;
	return us_get_u64(r, "spawn_first_pool", first);
}

static int
slot(struct us_reader *r, struct ds_slot *s, const char *pool, size_t i)
{
	snprintf(r->ctx, sizeof(r->ctx), "pool %s slot %zu", pool, i);
	if (us_get_int(r, "pid", 0, INT32_MAX, &s->pid) < 0 ||
	    NONNEG("quick_deaths", &s->quick_deaths) < 0 ||
	    TIME("restart_at", &s->restart_at) < 0)
		return -1;
	if (s->pid == 1)
		return us_fail(r, "pid 1 is not a worker's");
	return 0;
}

static int
pool(struct us_reader *r, struct ds_pool_rt *p, size_t i)
{
	size_t n;
	uint32_t backlog;

	snprintf(r->ctx, sizeof(r->ctx), "pool %zu", i);
	if (us_dup_pool_name(r, "name", &p->name) < 0)
		return -1;
	snprintf(r->ctx, sizeof(r->ctx), "pool %s", p->name);
	if (us_get_count(r, "slots", DS_MAX_WORKERS_PER_POOL, US_MIN_SLOT,
	    &n) < 0)
		return -1;
	if ((p->slots = calloc(n ? n : 1, sizeof(*p->slots))) == NULL)
		return us_fail(r, "out of memory");
	p->nslots = (int)n;
	for (size_t k = 0; k < n; k++)
		if (slot(r, &p->slots[k], p->name, k) < 0)
			return -1;
	snprintf(r->ctx, sizeof(r->ctx), "pool %s", p->name);
	if (us_get_u64(r, "completed", &p->stats.completed) < 0 ||
	    us_get_u64(r, "failed", &p->stats.failed) < 0 ||
	    us_get_u64(r, "timed_out", &p->stats.timed_out) < 0 ||
	    us_get_u64(r, "answer_lost", &p->stats.answer_lost) < 0 ||
	    NONNEG("spawn_failures", &p->spawn_failures) < 0 ||
	    TIME("spawn_retry_at", &p->spawn_retry_at) < 0 ||
	    us_get_u32(r, "backlog", &backlog) < 0)
		return -1;
	p->backlog = backlog;
	return TIME("zero_since", &p->zero_since);
}

static int
pools(struct us_reader *r, struct ds_master *m, uint64_t first)
{
	size_t n;

	if (us_expect_tag(r, US_TAG_POOLS, "pools") < 0 ||
	    us_get_count(r, "pools", DS_UPGRADE_MAX_POOLS, US_MIN_POOL, &n) < 0)
		return -1;
	if ((m->pools = calloc(n ? n : 1, sizeof(*m->pools))) == NULL)
		return us_fail(r, "pools: out of memory");
	m->npools = n;
	for (size_t i = 0; i < n; i++)
		if (pool(r, &m->pools[i], i) < 0)
			return -1;
	r->ctx[0] = '\0';
	if (first >= (n ? n : 1))
		return us_fail(r, "spawn_first_pool %llu past the %zu pools",
		    (unsigned long long)first, n);
	m->spawn_first_pool = (size_t)first;
	return 0;
}

static int
counts(struct us_reader *r, struct ds_fn_counts *c)
{
	uint64_t *v[US_NCOUNTS];
	size_t k = 0;

	for (int i = 0; i <= DS_OUT_LAST; i++)
		v[k++] = &c->outcome[i];
	for (int i = 0; i < DS_DURATION_NBUCKETS; i++)
		v[k++] = &c->buckets[i];
	v[k++] = &c->count;
	v[k++] = &c->sum_ms;
	for (k = 0; k < US_NCOUNTS; k++)
		if (us_get_u64(r, "function counts", v[k]) < 0)
			return -1;
	return 0;
}

static int
functions(struct us_reader *r, struct ds_child *c)
{
	size_t n;

	if (us_get_count(r, "functions", DS_MAX_JOBS_PER_POOL,
	    US_MIN_FUNCTION, &n) < 0)
		return -1;
	c->functions = calloc(n + 1, sizeof(*c->functions));
	c->seen = calloc(n + 1, sizeof(*c->seen));
	if (c->functions == NULL || c->seen == NULL)
		return us_fail(r, "functions: out of memory");
	c->nfunctions = n;
	for (size_t i = 0; i < n; i++)
		if (us_dup_nonempty(r, "function name", DS_MAX_FUNCTION_LEN,
		    &c->functions[i]) < 0 || counts(r, &c->seen[i]) < 0)
			return -1;
	for (int i = 0; i < DS_SLOT_HTTP_CODES; i++)
		if (us_get_u64(r, "http_seen", &c->http_seen[i]) < 0)
			return -1;
	return us_get_u64(r, "jobs_seen", &c->jobs_seen);
}

static int
child_state(struct us_reader *r, struct ds_child *c)
{
	uint32_t s;

	if (us_get_u32(r, "state", &s) < 0)
		return -1;
	if (s != DS_SLOT_STARTING && s != DS_SLOT_IDLE && s != DS_SLOT_BUSY &&
	    s != DS_SLOT_DISCONNECTED && s != DS_SLOT_STOPPING)
		return us_fail(r, "state %u is not a slot state", s);
	c->state = (enum ds_slot_state)s;
	return 0;
}

static int
child(struct us_reader *r, struct ds_child *c, size_t i)
{
	uint64_t page_len;

	snprintf(r->ctx, sizeof(r->ctx), "child %zu", i);
	if (us_get_int(r, "pid", 2, INT32_MAX, &c->pid) < 0 ||
	    us_get_fd(r, "fd", 1, &c->fd) < 0 ||
	    us_get_fd(r, "page_fd", 0, &c->page_fd) < 0 ||
	    us_get_u64(r, "page_len", &page_len) < 0)
		return -1;
	if (page_len == 0 || page_len > DS_UPGRADE_PAGE_MAX)
		return us_fail(r, "page_len %llu is not 1 to %u",
		    (unsigned long long)page_len, DS_UPGRADE_PAGE_MAX);
	c->page_len = (size_t)page_len;
	if (us_dup_pool_name(r, "pool", &c->pool) < 0 ||
	    us_get_int(r, "slot", -1, DS_MAX_WORKERS_PER_POOL - 1,
	    &c->slot) < 0 ||
	    us_get_int(r, "last_slot", -1, DS_MAX_WORKERS_PER_POOL,
	    &c->last_slot) < 0 || child_state(r, c) < 0 ||
	    TIME("started_ms", &c->started_ms) < 0 ||
	    TIME("busy_since_ms", &c->busy_since_ms) < 0 ||
	    TIME("job_seen_ms", &c->job_seen_ms) < 0 ||
	    TIME("max_running_ms", &c->max_running_ms) < 0 ||
	    TIME("kill_at", &c->kill_at) < 0 ||
	    us_get_flag(r, "killed", &c->killed) < 0 ||
	    us_get_str(r, "handle", DS_SLOT_STR_MAX, c->handle) < 0 ||
	    us_get_str(r, "unique", DS_SLOT_STR_MAX, c->unique) < 0 ||
	    us_get_str(r, "function", DS_SLOT_STR_MAX, c->function) < 0 ||
	    us_get_version(r, "version", c->version) < 0)
		return -1;
	if (c->max_running_ms > (int64_t)DS_MAX_RUNNING_SECONDS * 1000)
		return us_fail(r, "max_running_ms %lld past %d s",
		    (long long)c->max_running_ms, DS_MAX_RUNNING_SECONDS);
	return functions(r, c);
}

static int
children(struct us_reader *r, struct ds_master *m)
{
	size_t n;

	if (us_expect_tag(r, US_TAG_CHILDREN, "children") < 0 ||
	    us_get_count(r, "children", DS_UPGRADE_MAX_CHILDREN, US_MIN_CHILD,
	    &n) < 0)
		return -1;
	if ((m->children = calloc(n ? n : 1, sizeof(*m->children))) == NULL)
		return us_fail(r, "children: out of memory");
	m->nchildren = n;
	m->cap_children = n ? n : 1;
	for (size_t i = 0; i < n; i++)
		if (child(r, &m->children[i], i) < 0)
			return -1;
	return 0;
}

static int
job_series(struct us_reader *r, struct ds_job_series *s, size_t i)
{
	uint64_t *v[] = {&s->completed, &s->failed, &s->timed_out,
	    &s->answer_lost};
	uint64_t bits;

	snprintf(r->ctx, sizeof(r->ctx), "job series %zu", i);
	if (us_dup_pool_name(r, "pool", &s->pool) < 0 ||
	    us_dup_nonempty(r, "function", DS_MAX_FUNCTION_LEN,
	    &s->function) < 0)
		return -1;
	for (size_t k = 0; k < 4; k++)
		if (us_get_u64(r, "outcome count", v[k]) < 0)
			return -1;
	for (int k = 0; k < DS_METRICS_NBUCKETS; k++)
		if (us_get_u64(r, "bucket", &s->buckets[k]) < 0)
			return -1;
	if (us_get_u64(r, "count", &s->count) < 0 ||
	    us_get_u64(r, "sum_s", &bits) < 0)
		return -1;
	memcpy(&s->sum_s, &bits, sizeof(bits));
	if (!isfinite(s->sum_s) || s->sum_s < 0)
		return us_fail(r, "sum_s is not a finite number >= 0");
	return 0;
}

static int
count_series(struct us_reader *r, const char *what,
    struct ds_count_series **arr, size_t *na)
{
	size_t n;

	r->ctx[0] = '\0';
	if (us_get_count(r, what, DS_UPGRADE_MAX_SERIES, US_MIN_COUNT_SERIES,
	    &n) < 0)
		return -1;
	if ((*arr = calloc(n ? n : 1, sizeof(**arr))) == NULL)
		return us_fail(r, "%s: out of memory", what);
	*na = n;
	for (size_t i = 0; i < n; i++) {
		snprintf(r->ctx, sizeof(r->ctx), "%s %zu", what, i);
		if (us_dup_pool_name(r, "pool", &(*arr)[i].pool) < 0 ||
		    us_dup_str(r, "label", DS_UPGRADE_LABEL_MAX,
		    &(*arr)[i].label) < 0 ||
		    us_get_u64(r, "count", &(*arr)[i].count) < 0)
			return -1;
	}
	return 0;
}

static int
metrics(struct us_reader *r, struct ds_metrics *mt)
{
	size_t n;

	if (us_expect_tag(r, US_TAG_METRICS, "metrics") < 0 ||
	    us_get_count(r, "job series", DS_UPGRADE_MAX_SERIES,
	    US_MIN_JOB_SERIES, &n) < 0)
		return -1;
	if ((mt->jobs = calloc(n ? n : 1, sizeof(*mt->jobs))) == NULL)
		return us_fail(r, "job series: out of memory");
	mt->njobs = n;
	for (size_t i = 0; i < n; i++)
		if (job_series(r, &mt->jobs[i], i) < 0)
			return -1;
	if (count_series(r, "http_errors", &mt->http_errors,
	    &mt->nhttp_errors) < 0 ||
	    count_series(r, "starts", &mt->starts, &mt->nstarts) < 0)
		return -1;
	return count_series(r, "exits", &mt->exits, &mt->nexits);
}

static int
stuck(struct us_reader *r, struct ds_master *m)
{
	size_t n;
	uint32_t server;

	if (us_expect_tag(r, US_TAG_STUCK, "stuck") < 0 ||
	    us_get_count(r, "stuck records", DS_UPGRADE_MAX_STUCK,
	    US_MIN_STUCK, &n) < 0)
		return -1;
	if ((m->stuck = calloc(n ? n : 1, sizeof(*m->stuck))) == NULL)
		return us_fail(r, "stuck records: out of memory");
	m->nstuck = m->capstuck = n;
	for (size_t i = 0; i < n; i++) {
		struct ds_stuck_rec *s = &m->stuck[i];

		snprintf(r->ctx, sizeof(r->ctx), "stuck record %zu", i);
		if (us_get_int(r, "pid", 2, INT32_MAX, &s->pid) < 0 ||
		    us_get_u32(r, "server", &server) < 0)
			return -1;
		if (server >= DS_MAX_SERVERS)
			return us_fail(r, "server %u past %d", server,
			    DS_MAX_SERVERS - 1);
		s->server = server;
		if (TIME("since", &s->since) < 0 ||
		    us_get_flag(r, "seen", &s->seen) < 0)
			return -1;
	}
	return 0;
}

static int
queue(struct us_reader *r, struct ds_master *m)
{
	struct ds_queue *q;
	int present = 0, has_spec;

	if (us_expect_tag(r, US_TAG_QUEUE, "queue") < 0 ||
	    us_get_flag(r, "queue monitor", &present) < 0)
		return -1;
	if (!present)
		return 0;
	if ((q = m->queue = calloc(1, sizeof(*q))) == NULL)
		return us_fail(r, "queue monitor: out of memory");
	snprintf(r->ctx, sizeof(r->ctx), "queue monitor");
	if (us_get_int(r, "pid", 0, INT32_MAX, &q->pid) < 0)
		return -1;
	if (q->pid == 1)
		return us_fail(r, "pid 1 is not the monitor's");
	if (us_get_fd(r, "fd", 1, &q->fd) < 0 ||
	    TIME("started_ms", &q->started_ms) < 0 ||
	    TIME("restart_at", &q->restart_at) < 0 ||
	    TIME("kill_at", &q->kill_at) < 0 ||
	    NONNEG("quick_deaths", &q->quick_deaths) < 0 ||
	    us_get_flag(r, "replace", &q->replace) < 0 ||
	    us_get_u64(r, "bad", &q->bad) < 0 ||
	    us_get_flag(r, "has_spec", &has_spec) < 0 ||
	    us_dup_str(r, "spec", has_spec ? DS_UPGRADE_SPEC_MAX : 0,
	    &q->spec) < 0)
		return -1;
	if (!has_spec) {
		free(q->spec);
		q->spec = NULL;
	}
	return 0;
}

static int
client(struct us_reader *r, struct ds_status_client *c, size_t i)
{
	const unsigned char *p;
	size_t n;
	int has_out;
	uint64_t off;

	snprintf(r->ctx, sizeof(r->ctx), "status client %zu", i);
	if (us_get_fd(r, "fd", 0, &c->fd) < 0 ||
	    TIME("deadline", &c->deadline) < 0 ||
	    TIME("last_rx", &c->last_rx) < 0 ||
	    us_get_span(r, "input", DS_STATUS_LINE_MAX, &p, &n) < 0)
		return -1;
	memcpy(c->in, p, n);
	c->in[n] = '\0';
	c->inlen = n;
	if (us_get_flag(r, "has_out", &has_out) < 0 ||
	    us_get_span(r, "output", has_out ? DS_UPGRADE_STATE_MAX_BYTES : 0,
	    &p, &n) < 0 || us_get_u64(r, "outoff", &off) < 0)
		return -1;
	if (off > n)
		return us_fail(r, "outoff %llu past outlen %zu",
		    (unsigned long long)off, n);
	if (has_out && (c->out = malloc(n + 1)) == NULL)
		return us_fail(r, "output: out of memory");
	if (has_out) {
		memcpy(c->out, p, n);
		c->out[n] = '\0';
		c->outlen = n;
		c->outoff = (size_t)off;
	}
	return 0;
}

static int
status(struct us_reader *r, struct ds_status *st)
{
	size_t n;

	if (us_expect_tag(r, US_TAG_STATUS, "status") < 0 ||
	    us_get_fd(r, "listen_fd", 1, &st->listen_fd) < 0 ||
	    us_get_flag(r, "paused", &st->paused) < 0 ||
	    TIME("evict_at", &st->evict_at) < 0 ||
	    TIME("accept_after", &st->accept_after) < 0 ||
	    us_get_count(r, "status clients", DS_STATUS_MAX_CLIENTS,
	    US_MIN_CLIENT, &n) < 0)
		return -1;
	st->nclients = n;
	for (size_t i = 0; i < n; i++)
		if (client(r, &st->clients[i], i) < 0)
			return -1;
	return 0;
}

static int
decode(struct us_reader *r, struct ds_master *m, struct ds_status *st,
    struct ds_upgrade_meta *meta)
{
	uint64_t first;

	if (header(r, meta) < 0 || master(r, m, &first) < 0 ||
	    pools(r, m, first) < 0 || children(r, m) < 0 ||
	    metrics(r, &m->metrics) < 0 || stuck(r, m) < 0 ||
	    queue(r, m) < 0 || status(r, st) < 0)
		return -1;
	r->ctx[0] = '\0';
	if (r->off != r->len)
		return us_fail(r, "%zu trailing bytes after the state's end at "
		    "byte %zu", r->len - r->off, r->off);
	return us_check_whole(r, m, st);
}

/* What decode() fills, zero again (the caller gave it zeroed). */
static void
clear(struct ds_master *m, struct ds_status *st, struct ds_upgrade_meta *meta)
{
	ds_upgrade_state_free(m, st);
	m->generation = m->reloads = m->reloads_failed = 0;
	m->upgrades = m->upgrades_failed = 0;
	m->started_wall_ms = 0;
	m->pid_fd = m->status_listen_fd = 0;
	m->spawn_first_pool = 0;
	memset(st->clients, 0, sizeof(st->clients));
	st->listen_fd = st->paused = 0;
	st->evict_at = st->accept_after = 0;
	memset(meta, 0, sizeof(*meta));
}

int
ds_upgrade_state_decode(const unsigned char *buf, size_t len,
    struct ds_master *m, struct ds_status *st, struct ds_upgrade_meta *meta,
    char *err, size_t errlen)
{
	struct us_reader r = {.b = buf, .len = len, .err = err,
	    .errlen = errlen};

	if (decode(&r, m, st, meta) == 0)
		return 0;
	clear(m, st, meta);
	return -1;
}
