/* queue_view.c: applies the queue monitor's messages (queue_view.h). Pure
 * but for allocation: no process, no socket, no log, so the unit tests
 * drive it with hand-made rounds. */
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

static void
clear_list(struct ds_qlist *l)
{
	for (size_t i = 0; i < l->nf; i++)
		free(l->f[i].name);
	for (size_t i = 0; i < l->nw; i++)
		free(l->w[i].pool);
	l->nf = l->nw = 0;
}

static void
free_list(struct ds_qlist *l)
{
	clear_list(l);
	free(l->f);
	free(l->w);
	memset(l, 0, sizeof(*l));
}

void
ds_qview_free(struct ds_queue_view *v)
{
	for (size_t i = 0; i < v->ns; i++) {
		free_list(&v->s[i].now);
		free_list(&v->s[i].next);
	}
	free(v->s);
	memset(v, 0, sizeof(*v));
}

/* -fanalyzer loses the arrays and the names once they are stored in the
 * list (a member of a heap array the view keeps) and calls them leaked;
 * clear_list() and free_list() free both. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpragmas"
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"

/* Room for one more of n elements of size sz in *arr of capacity *cap. */
static int
grow(void **arr, size_t n, size_t *cap, size_t sz)
{
	void *p;

	if (n < *cap)
		return 0;
	if ((p = realloc(*arr, (*cap ? 2 * *cap : 16) * sz)) == NULL)
		return -1;
	*arr = p;
	*cap = *cap ? 2 * *cap : 16;
	return 0;
}

static int
add_func(struct ds_qlist *l, const struct ds_msg *m)
{
	struct ds_qfunc *f;

	if (grow((void **)&l->f, l->nf, &l->capf, sizeof(*l->f)) < 0)
		return -1;
	f = &l->f[l->nf];
	memset(f, 0, sizeof(*f));
	if ((f->name = strdup(m->text)) == NULL)
		return -1;
	f->total = m->a;
	f->running = m->b;
	f->available = m->c;
	l->nf++;
	return 0;
}

static int
add_worker(struct ds_qlist *l, const struct ds_msg *m)
{
	struct ds_qworker *w;

	if (m->a > INT32_MAX || m->b == 0 || m->b > INT32_MAX)
		return 0;	/* not one of ours after all */
	if (grow((void **)&l->w, l->nw, &l->capw, sizeof(*l->w)) < 0)
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
find(const struct ds_qlist *l, const char *name)
{
	for (size_t i = 0; i < l->nf; i++)
		if (strcmp(l->f[i].name, name) == 0)
			return &l->f[i];
	return NULL;
}

const struct ds_qfunc *
ds_qview_func(const struct ds_queue_view *v, size_t i, const char *name)
{
	return i < v->ns ? find(&v->s[i].now, name) : NULL;
}

/* The round's rows replace the last ones; how long jobs have waited and
 * when we last acted carry over by function name. */
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
		const struct ds_qfunc *o = find(&old, f->name);

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
}

int
ds_qview_apply(struct ds_queue_view *v, const struct ds_msg *m, int64_t now,
    const char **why)
{
	struct ds_qserver *s = m->server < v->ns ? &v->s[m->server] : NULL;

	if (m->type < DS_MSG_Q_SERVER) {
		*why = "not a monitor's message";
		return -1;
	}
	if (m->type == DS_MSG_Q_ROUND) {
		round_done(v, now);
		return 1;
	}
	if (s == NULL) {
		*why = "server out of range";
		return -1;
	}
	if (m->type == DS_MSG_Q_SERVER) {
		clear_list(&s->next);
		s->next_state = m->a ? DS_Q_UP : DS_Q_DOWN;
		memcpy(s->next_why, m->text, sizeof(s->next_why));
		return 0;
	}
	if (s->next_state != DS_Q_UP) {
		*why = "a row without its server up";
		return -1;
	}
	if ((m->type == DS_MSG_Q_FUNC ? add_func(&s->next, m) :
	    add_worker(&s->next, m)) < 0) {
		*why = "out of memory";
		return -1;
	}
	return 0;
}
