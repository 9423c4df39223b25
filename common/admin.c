/* admin.c: parsers of gearmand's admin replies (admin.h). A line is split
 * from its end where that is safer: a function name of someone else's may
 * hold a tab, but the three counts after it cannot. */
#include "common/admin.h"

#include <string.h>

struct line {
	const char *p;
	size_t len;		/* without the "\n" or "\r\n" */
};

/* The line at *pos (which must end with "\n" before len); advances *pos. */
static int
next_line(const char *buf, size_t len, size_t *pos, struct line *l)
{
	const char *nl;

	if (*pos >= len)
		return 0;
	nl = memchr(buf + *pos, '\n', len - *pos);
	if (nl == NULL)
		return 0;
	l->p = buf + *pos;
	l->len = (size_t)(nl - l->p);
	if (l->len > 0 && l->p[l->len - 1] == '\r')
		l->len--;
	*pos = (size_t)(nl - buf) + 1;
	return 1;
}

static int
is_dot(const struct line *l)
{
	return l->len == 1 && l->p[0] == '.';
}

static int
is_err(const struct line *l)
{
	return l->len >= 3 && memcmp(l->p, "ERR", 3) == 0 &&
	    (l->len == 3 || l->p[3] == ' ');
}

ssize_t
ds_admin_reply_len(const char *buf, size_t len)
{
	size_t pos = 0, start;
	struct line l;

	for (;;) {
		start = pos;
		if (!next_line(buf, len, &pos, &l))
			return len - start > DS_ADMIN_LINE_MAX ? -1 : 0;
		if (l.len > DS_ADMIN_LINE_MAX)
			return -1;
		if ((start == 0 && is_err(&l)) || is_dot(&l))
			return (ssize_t)pos;
	}
}

/* A count: 1 to 10 decimal digits, at most UINT32_MAX. */
static int
get_u32(const char *p, size_t n, uint32_t *out)
{
	uint64_t v = 0;

	if (n == 0 || n > 10)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	if (v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* Where the last tab before end is, or NULL. */
static const char *
last_tab(const char *p, const char *end)
{
	while (end > p)
		if (*--end == '\t')
			return end;
	return NULL;
}

static int
status_line(const struct line *l, struct ds_admin_func *f)
{
	const char *end = l->p + l->len, *t[3];

	for (int i = 0; i < 3; i++) {
		if ((t[i] = last_tab(l->p, end)) == NULL)
			return -1;
		end = t[i];
	}
	/* t[2] ends the name, t[1] the total, t[0] the running count */
	f->name = l->p;
	f->name_len = (size_t)(t[2] - l->p);
	if (f->name_len == 0 ||
	    get_u32(t[2] + 1, (size_t)(t[1] - t[2] - 1), &f->total) < 0 ||
	    get_u32(t[1] + 1, (size_t)(t[0] - t[1] - 1), &f->running) < 0 ||
	    get_u32(t[0] + 1, (size_t)(l->p + l->len - t[0] - 1),
	    &f->available) < 0)
		return -1;
	return 0;
}

/* Checks the frame both replies share: lines, then a "." that ends the
 * buffer; an ERR reply is the server saying no. */
static int
check_frame(const char *buf, size_t len, const char **why)
{
	size_t pos = 0;
	struct line l;

	if (!next_line(buf, len, &pos, &l)) {
		*why = "reply without a complete line";
		return -1;
	}
	if (is_err(&l)) {
		*why = "the server answered ERR";
		return -1;
	}
	pos = 0;
	while (next_line(buf, len, &pos, &l))
		if (is_dot(&l))
			break;
	if (!is_dot(&l) || pos != len) {
		*why = "reply not ended by a \".\" line";
		return -1;
	}
	return 0;
}

int
ds_admin_parse_status(const char *buf, size_t len,
    void (*fn)(void *ctx, const struct ds_admin_func *f), void *ctx,
    const char **why)
{
	size_t pos = 0;
	struct line l;
	struct ds_admin_func f;

	if (check_frame(buf, len, why) < 0)
		return -1;
	while (next_line(buf, len, &pos, &l) && !is_dot(&l)) {
		if (status_line(&l, &f) < 0) {
			*why = "status line is not FUNCTION\\tTOTAL\\tRUNNING"
			    "\\tAVAILABLE";
			return -1;
		}
		fn(ctx, &f);
	}
	return 0;
}

/* The next space-separated token of [*p, end), advancing *p past it. */
static int
token(const char **p, const char *end, const char **tok, size_t *n)
{
	const char *sp;

	if (*p >= end)
		return -1;
	sp = memchr(*p, ' ', (size_t)(end - *p));
	*tok = *p;
	*n = (size_t)((sp ? sp : end) - *p);
	*p = sp ? sp + 1 : end;
	return *n > 0 ? 0 : -1;
}

/* "FD IP ID :" then " FUNCTION" for each function it can do. */
static int
workers_line(const struct line *l, struct ds_admin_worker *w)
{
	const char *p = l->p, *end = l->p + l->len, *tok;
	size_t n;
	uint32_t fd;

	if (token(&p, end, &tok, &n) < 0 || get_u32(tok, n, &fd) < 0 ||
	    token(&p, end, &tok, &n) < 0 ||
	    token(&p, end, &w->id, &w->id_len) < 0 ||
	    token(&p, end, &tok, &n) < 0 || n != 1 || *tok != ':')
		return -1;
	w->functions = p;
	w->functions_len = (size_t)(end - p);
	return 0;
}

int
ds_admin_parse_workers(const char *buf, size_t len,
    void (*fn)(void *ctx, const struct ds_admin_worker *w), void *ctx,
    const char **why)
{
	size_t pos = 0;
	struct line l;
	struct ds_admin_worker w;

	if (check_frame(buf, len, why) < 0)
		return -1;
	while (next_line(buf, len, &pos, &l) && !is_dot(&l)) {
		if (workers_line(&l, &w) < 0) {
			*why = "workers line is not FD IP CLIENT_ID : FUNCTIONS";
			return -1;
		}
		fn(ctx, &w);
	}
	return 0;
}

int
ds_admin_has_function(const char *list, size_t len, const char *name)
{
	const char *p = list, *end = list + len, *tok;
	size_t n, want = strlen(name);

	while (p < end) {
		if (token(&p, end, &tok, &n) < 0)
			continue;	/* two spaces in a row */
		if (n == want && memcmp(tok, name, n) == 0)
			return 1;
	}
	return 0;
}

/* A decimal in [min, INT32_MAX] of n bytes. */
static int
get_int(const char *p, size_t n, int min, int *out)
{
	uint32_t v;

	if (get_u32(p, n, &v) < 0 || v > INT32_MAX || (int)v < min)
		return -1;
	*out = (int)v;
	return 0;
}

int
ds_admin_our_id(const char *id, size_t len, char *pool, size_t poolsz,
    int *slot, int *pid)
{
	const char *c2, *c1;

	c2 = len ? memrchr(id, ':', len) : NULL;
	if (c2 == NULL || c2 == id)
		return -1;
	c1 = memrchr(id, ':', (size_t)(c2 - id));
	if (c1 == NULL || c1 == id || (size_t)(c1 - id) >= poolsz)
		return -1;
	if (get_int(c1 + 1, (size_t)(c2 - c1 - 1), 0, slot) < 0 ||
	    get_int(c2 + 1, len - (size_t)(c2 - id) - 1, 1, pid) < 0)
		return -1;
	memcpy(pool, id, (size_t)(c1 - id));
	pool[c1 - id] = '\0';
	return 0;
}
