/* queue_view.c: applies the queue monitor's reports (queue_view.h). Pure
 * but for allocation: no process, no socket, no log, so the unit tests
 * drive it with hand-made rounds and the fuzz target with hostile ones.
 *
 * A function row is found by a binary search of our sorted functions,
 * then by index (ds_qlist.at), never by scanning the rows: a round costs
 * O(rows log functions) and keeps at most one row per function. */
#include "master/queue_view.h"

#include <stdlib.h>
#include <string.h>

int
ds_qview_init(struct ds_queue_view *v, size_t nservers)
{
	memset(v, 0, sizeof(*v));
	if ((v->s = calloc(nservers + 1, sizeof(*v->s))) == NULL)
		return -1;
	v->ns = nservers;
	for (size_t i = 0; i < nservers; i++)
		v->s[i].state = v->s[i].prev_state = v->s[i].next_state =
		    DS_Q_UNKNOWN;
	return 0;
}

/* Empties l, keeping its arrays: only the rows it has are unindexed, so
 * this costs what the list holds, not what it could. */
static void
clear_list(struct ds_qlist *l)
{
	for (size_t i = 0; i < l->nf; i++)
		l->at[l->f[i].fn] = 0;
	for (size_t i = 0; i < l->nw; i++)
		free(l->w[i].pool);
	l->nf = l->nw = 0;
}

static void
free_funcs(struct ds_qlist *l)
{
	clear_list(l);
	free(l->f);
	free(l->at);
	l->f = NULL;
	l->at = NULL;
}

static void
free_list(struct ds_qlist *l)
{
	free_funcs(l);
	free(l->w);
	memset(l, 0, sizeof(*l));
}

static void
free_names(struct ds_queue_view *v)
{
	for (size_t i = 0; i < v->nfuncs; i++)
		free(v->funcs[i]);
	free(v->funcs);
	v->funcs = NULL;
	v->nfuncs = 0;
}

void
ds_qview_free(struct ds_queue_view *v)
{
	for (size_t i = 0; i < v->ns; i++) {
		free_list(&v->s[i].now);
		free_list(&v->s[i].next);
	}
	free(v->s);
	free_names(v);
	memset(v, 0, sizeof(*v));
}

static int
cmp_key(const void *key, const void *elem)
{
	return strcmp(key, *(char *const *)elem);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The index of name among funcs, or -1. */
static long
func_index(char *const *funcs, size_t n, const char *name)
{
	char *const *p = n ? bsearch(name, funcs, n, sizeof(*funcs), cmp_key) :
	    NULL;

	return p ? (long)(p - funcs) : -1;
}

/* -fanalyzer loses the arrays and the names once they are stored in the
 * list (a member of a heap array the view keeps) and calls them leaked;
 * clear_list() and free_list() free both. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpragmas"
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"

/* The sorted copy of funcs, each once, into v; 0 or -1. */
static int
copy_names(struct ds_queue_view *v, const char *const *funcs, size_t n)
{
	char **c = calloc(n + 1, sizeof(*c));
	size_t k = 0;

	if (c == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		if ((c[i] = strdup(funcs[i])) == NULL)
			goto fail;
	qsort(c, n, sizeof(*c), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (k > 0 && strcmp(c[k - 1], c[i]) == 0)
			free(c[i]);
		else
			c[k++] = c[i];
	}
	v->funcs = c;
	v->nfuncs = k;
	return 0;
fail:
	for (size_t i = 0; i < n; i++)
		free(c[i]);
	free(c);
	return -1;
}

/* Room in l for one row per function of ours; 0 or -1. */
static int
list_room(struct ds_qlist *l, size_t nfuncs)
{
	struct ds_qfunc *f;
	uint32_t *at;

	if (l->f != NULL)
		return 0;
	f = calloc(nfuncs + 1, sizeof(*f));
	at = calloc(nfuncs + 1, sizeof(*at));
	if (f == NULL || at == NULL) {
		free(f);
		free(at);
		return -1;
	}
	l->f = f;
	l->at = at;
	return 0;
}

/* Moves l's rows onto v's functions, which have just been replaced (the
 * rows' names still point at the old ones): a row of a function that is
 * still ours keeps what it carries, the others go. */
static int
remap(struct ds_qlist *l, const struct ds_queue_view *v)
{
	struct ds_qlist o = *l;
	long k;

	if (o.f == NULL)
		return 0;
	l->f = NULL;
	l->at = NULL;
	l->nf = 0;
	if (v->nfuncs > 0 && list_room(l, v->nfuncs) < 0) {
		free(o.f);
		free(o.at);
		return -1;
	}
	for (size_t i = 0; i < o.nf && l->f != NULL; i++) {
		if ((k = func_index(v->funcs, v->nfuncs, o.f[i].name)) < 0)
			continue;
		l->f[l->nf] = o.f[i];
		l->f[l->nf].name = v->funcs[k];
		l->f[l->nf].fn = (uint32_t)k;
		l->at[k] = (uint32_t)++l->nf;
	}
	free(o.f);
	free(o.at);
	return 0;
}

/* A lower cap holds for the rows already kept too. */
static void
trim_workers(struct ds_qlist *l, size_t max)
{
	while (l->nw > max)
		free(l->w[--l->nw].pool);
}

int
ds_qview_set_ours(struct ds_queue_view *v, const char *const *funcs,
    size_t nfuncs, size_t max_workers)
{
	char **old = v->funcs;
	size_t nold = v->nfuncs;
	int rc = copy_names(v, funcs, nfuncs);

	v->max_workers = max_workers;
	if (rc < 0) {
		v->funcs = NULL;
		v->nfuncs = 0;
	}
	/* the rows point at the old names until remapped */
	for (size_t i = 0; i < v->ns; i++) {
		struct ds_qserver *s = &v->s[i];

		if (remap(&s->now, v) < 0 || remap(&s->next, v) < 0)
			rc = -1;
		trim_workers(&s->now, max_workers);
		trim_workers(&s->next, max_workers);
	}
	for (size_t i = 0; i < nold; i++)
		free(old[i]);
	free(old);
	return rc;
}

/* The row of function m->text on this server: the last one wins. */
static int
add_func(struct ds_queue_view *v, struct ds_qlist *l, const struct ds_qmsg *m)
{
	long k = func_index(v->funcs, v->nfuncs, m->text);
	struct ds_qfunc *f;

	if (k < 0) {
		v->dropping.unknown++;
		return 0;
	}
	if (list_room(l, v->nfuncs) < 0)
		return -1;
	if (l->at[k] != 0) {
		v->dropping.duplicates++;
		f = &l->f[l->at[k] - 1];
	} else {
		f = &l->f[l->nf];
		memset(f, 0, sizeof(*f));
		f->name = v->funcs[k];
		f->fn = (uint32_t)k;
		l->at[k] = (uint32_t)++l->nf;
	}
	f->total = m->a;
	f->running = m->b;
	f->available = m->c;
	return 0;
}

/* Room for one more worker row; 0 or -1. */
static int
grow_workers(struct ds_qlist *l)
{
	size_t cap = l->capw ? 2 * l->capw : 16;
	void *p;

	if (l->nw < l->capw)
		return 0;
	if ((p = realloc(l->w, cap * sizeof(*l->w))) == NULL)
		return -1;
	l->w = p;
	l->capw = cap;
	return 0;
}

static int
add_worker(struct ds_queue_view *v, struct ds_qlist *l, const struct ds_qmsg *m)
{
	struct ds_qworker *w;

	if (m->a > INT32_MAX || m->b == 0 || m->b > INT32_MAX)
		return 0;	/* not one of ours after all */
	if (l->nw >= v->max_workers) {
		v->dropping.over_cap++;
		return 0;
	}
	if (grow_workers(l) < 0)
		return -1;
	w = &l->w[l->nw];
	if ((w->pool = strdup(m->text)) == NULL)
		return -1;
	w->slot = (int)m->a;
	w->pid = (int)m->b;
	l->nw++;
	return 0;
}

#pragma GCC diagnostic pop

static const struct ds_qfunc *
find(const struct ds_queue_view *v, const struct ds_qlist *l, const char *name)
{
	long k = l->nf ? func_index(v->funcs, v->nfuncs, name) : -1;

	return k >= 0 && l->at[k] ? &l->f[l->at[k] - 1] : NULL;
}

const struct ds_qfunc *
ds_qview_func(const struct ds_queue_view *v, size_t i, const char *name)
{
	return i < v->ns ? find(v, &v->s[i].now, name) : NULL;
}

/* The round's rows replace the last ones; how long jobs have waited and
 * when we last acted carry over by function, found by its index. */
static void
commit(struct ds_qserver *s, int64_t now)
{
	struct ds_qlist old = s->now;

	s->changed = s->next_state != s->state;
	if (s->changed) {
		s->state_since = now;
		s->prev_state = s->state;
	}
	s->state = s->next_state;
	memcpy(s->why, s->next_why, sizeof(s->why));
	s->now = s->next;
	for (size_t i = 0; i < s->now.nf; i++) {
		struct ds_qfunc *f = &s->now.f[i];
		const struct ds_qfunc *o = old.nf && old.at[f->fn] ?
		    &old.f[old.at[f->fn] - 1] : NULL;

		if (f->total > f->running)
			f->waiting_since = o && o->waiting_since ?
			    o->waiting_since : now;
		if (o != NULL)
			f->acted_ms = o->acted_ms;
	}
	clear_list(&old);
	s->next = old;		/* its arrays are reused */
	s->next_state = DS_Q_UNKNOWN;
}

static void
round_done(struct ds_queue_view *v, int64_t now)
{
	for (size_t i = 0; i < v->ns; i++) {
		v->s[i].changed = 0;
		if (v->s[i].next_state != DS_Q_UNKNOWN)
			commit(&v->s[i], now);
	}
	v->rounds++;
	v->round_ms = now;
	v->dropped = v->dropping;
	memset(&v->dropping, 0, sizeof(v->dropping));
}

int
ds_qview_apply(struct ds_queue_view *v, const struct ds_qmsg *m, int64_t now,
    const char **why)
{
	struct ds_qserver *s = m->server < v->ns ? &v->s[m->server] : NULL;

	if (m->type < DS_QMSG_FIRST) {
		*why = "not a monitor's message";
		return -1;
	}
	if (m->type == DS_QMSG_ROUND) {
		round_done(v, now);
		return 1;
	}
	if (s == NULL) {
		*why = "server out of range";
		return -1;
	}
	if (m->type == DS_QMSG_SERVER) {
		clear_list(&s->next);
		s->next_state = m->a ? DS_Q_UP : DS_Q_DOWN;
		memcpy(s->next_why, m->text, sizeof(s->next_why));
		return 0;
	}
	if (s->next_state != DS_Q_UP) {
		*why = "a row without its server up";
		return -1;
	}
	if ((m->type == DS_QMSG_FUNC ? add_func(v, &s->next, m) :
	    add_worker(v, &s->next, m)) < 0) {
		*why = "out of memory";
		return -1;
	}
	return 0;
}
