/* slot.c: the shared slot page (slot.h). A seqlock makes the job view
 * consistent for the reader without a lock the worker could hold forever;
 * counters have one writer and are read with relaxed atomic loads. */
#include "common/slot.h"

#include <stddef.h>
#include <string.h>

const uint32_t ds_duration_bucket_ms[DS_DURATION_NBUCKETS] = {
	5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000,
	300000,
};

#define LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)

const char *
ds_slot_state_name(int state)
{
	static const char *names[] = {"?", "starting", "idle", "busy", "?",
	    "disconnected", "stopping"};

	if (state < 0 || state > DS_SLOT_STOPPING)
		return "?";
	return names[state];
}

const char *
ds_outcome_name(int outcome)
{
	static const char *names[] = {"complete", "fail", "timeout", "aborted",
	    "answer_lost"};

	if (outcome < 0 || outcome > DS_OUT_LAST)
		return "?";
	return names[outcome];
}

int
ds_duration_bucket(uint32_t ms)
{
	int i = 0;

	while (i < DS_DURATION_NBUCKETS && ms > ds_duration_bucket_ms[i])
		i++;
	return i;
}

size_t
ds_slot_base_size(size_t nfunctions)
{
	return sizeof(struct ds_slot_shm) + nfunctions *
	    sizeof(struct ds_fn_counts);
}

size_t
ds_slot_size(size_t nfunctions)
{
	return ds_slot_base_size(nfunctions) + sizeof(struct ds_slot_tail);
}

struct ds_slot_tail *
ds_slot_tail(struct ds_slot_shm *s, size_t nfunctions)
{
	/* fn[] is 8-byte aligned and a whole number of 8-byte words */
	return (struct ds_slot_tail *)(void *)((char *)s +
	    ds_slot_base_size(nfunctions));
}

void
ds_slot_init(struct ds_slot_shm *s, size_t nfunctions)
{
	memset(s, 0, ds_slot_size(nfunctions));
	s->magic = DS_SLOT_MAGIC;
	s->version = DS_SLOT_VERSION;
	s->nfunctions = (uint32_t)nfunctions;
	s->state = DS_SLOT_STARTING;
}

static void
copy_str(char *dst, const char *src, size_t size)
{
	memcpy(dst, src, size);
	dst[size - 1] = '\0';
}

int
ds_slot_seq_whole(uint32_t before, uint32_t after)
{
	return (before & 1) == 0 && after == before;
}

/* The state as the master may act on it: a page anyone of the service
 * user can write may hold any value, which reads as idle. */
static enum ds_slot_state
known_state(uint32_t v)
{
	switch (v) {
	case DS_SLOT_STARTING:
	case DS_SLOT_BUSY:
	case DS_SLOT_DISCONNECTED:
	case DS_SLOT_STOPPING:
		return (enum ds_slot_state)v;
	default:
		return DS_SLOT_IDLE;
	}
}

int
ds_slot_read(const struct ds_slot_shm *s, size_t nfunctions,
    struct ds_slot_view *v)
{
	for (int tries = 0; tries < 4; tries++) {
		uint32_t seq = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
		uint32_t state;

		if (seq & 1)
			continue;	/* a change under way: no use copying */
		state = LOAD(&s->state);
		v->function = LOAD(&s->function);
		v->jobs_started = LOAD(&s->jobs_started);
		v->busy_since_ms = LOAD(&s->busy_since_ms);
		copy_str(v->handle, s->handle, sizeof(v->handle));
		copy_str(v->unique, s->unique, sizeof(v->unique));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (!ds_slot_seq_whole(seq, __atomic_load_n(&s->seq,
		    __ATOMIC_RELAXED)))
			continue;
		v->state = known_state(state);
		if (v->state == DS_SLOT_BUSY && v->function >= nfunctions)
			v->state = DS_SLOT_IDLE;	/* not ours to name */
		return 0;
	}
	return -1;
}

void
ds_slot_read_counts(const struct ds_slot_shm *s, size_t i,
    struct ds_fn_counts *out)
{
	const struct ds_fn_counts *f = &s->fn[i];

	for (int k = 0; k <= DS_OUT_LAST; k++)
		out->outcome[k] = LOAD(&f->outcome[k]);
	for (int k = 0; k < DS_DURATION_NBUCKETS; k++)
		out->buckets[k] = LOAD(&f->buckets[k]);
	out->count = LOAD(&f->count);
	out->sum_ms = LOAD(&f->sum_ms);
}

uint32_t
ds_slot_read_http(const struct ds_slot_shm *s, size_t i, uint64_t *count)
{
	*count = LOAD(&s->http[i].count);
	return LOAD(&s->http[i].code);
}

void
ds_slot_begin(struct ds_slot_shm *s)
{
	STORE(&s->seq, s->seq + 1);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

void
ds_slot_end(struct ds_slot_shm *s)
{
	__atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELEASE);
}

static void
count_http(struct ds_slot_shm *s, int code)
{
	for (int i = 0; i < DS_SLOT_HTTP_CODES; i++) {
		if (s->http[i].code == 0)
			STORE(&s->http[i].code, (uint32_t)code);
		if (s->http[i].code == (uint32_t)code) {
			STORE(&s->http[i].count, s->http[i].count + 1);
			return;
		}
	}
	STORE(&s->http_other, s->http_other + 1);
}

void
ds_slot_count(struct ds_slot_shm *s, uint32_t i, int outcome,
    int http_status, uint32_t duration_ms)
{
	struct ds_fn_counts *f;
	int b = ds_duration_bucket(duration_ms);

	if (http_status != 0 && http_status != 200)
		count_http(s, http_status);
	if (i >= s->nfunctions || outcome < 0 || outcome > DS_OUT_LAST)
		return;
	f = &s->fn[i];
	if (b < DS_DURATION_NBUCKETS)
		STORE(&f->buckets[b], f->buckets[b] + 1);
	STORE(&f->sum_ms, f->sum_ms + duration_ms);
	STORE(&f->outcome[outcome], f->outcome[outcome] + 1);
	STORE(&f->count, f->count + 1);
}

enum ds_slot_parts
ds_slot_tail_parts(size_t len, size_t nfunctions)
{
	size_t base = ds_slot_base_size(nfunctions);

	if (len >= ds_slot_size(nfunctions))
		return DS_SLOT_WITH_VERSION;
	if (len >= base + offsetof(struct ds_slot_tail, version_seq))
		return DS_SLOT_SERVERS;
	return DS_SLOT_NO_TAIL;
}

void
ds_slot_write_version(struct ds_slot_tail *t, const char *version)
{
	size_t n = strnlen(version, DS_SLOT_VERSION_LEN - 1);
	uint32_t seq = t->version_seq | 1;

	__atomic_store_n(&t->version_seq, seq, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	memset(t->version, 0, sizeof(t->version));
	memcpy(t->version, version, n);
	__atomic_store_n(&t->version_seq, seq + 1, __ATOMIC_RELEASE);
}

static int
version_byte(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_' ||
	    c == '+' || c == '~';
}

int
ds_version_text_ok(const char *v, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!version_byte(v[i]))
			return 0;
	return 1;
}

int
ds_slot_read_version(const struct ds_slot_tail *t, char *out, size_t outlen)
{
	char v[DS_SLOT_VERSION_LEN];
	uint32_t seq = __atomic_load_n(&t->version_seq, __ATOMIC_ACQUIRE);
	size_t n;

	out[0] = '\0';
	if (seq == 0 || (seq & 1))
		return -1;	/* not written, or being written */
	memcpy(v, t->version, sizeof(v));
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (__atomic_load_n(&t->version_seq, __ATOMIC_RELAXED) != seq)
		return -1;	/* written again while we copied */
	n = strnlen(v, sizeof(v));
	if (n == sizeof(v) || n >= outlen || !ds_version_text_ok(v, n))
		return -1;
	memcpy(out, v, n + 1);
	return 0;
}

uint64_t
ds_slot_read_servers(const struct ds_slot_shm *s, size_t nfunctions)
{
	const struct ds_slot_tail *t = ds_slot_tail((struct ds_slot_shm *)s,
	    nfunctions);

	return __atomic_load_n(&t->gearman_up, __ATOMIC_RELAXED);
}
