/* fcgi_recycle.c: when a kept FastCGI connection is due to be closed by
 * php-fpm (fcgi_recycle.h). */
#include "worker/fcgi_recycle.h"

static int
at_count(const struct ds_fcgi_recycle *r)
{
	return r->close_at != 0 && r->served >= r->close_at;
}

void
ds_fcgi_recycle_connected(struct ds_fcgi_recycle *r)
{
	r->served = 0;
}

void
ds_fcgi_recycle_answered(struct ds_fcgi_recycle *r, int64_t now)
{
	r->served++;
	r->end_ms = now;
}

int
ds_fcgi_recycle_wait_ms(struct ds_fcgi_recycle *r, int64_t now, int cap_ms)
{
	int64_t settle = r->end_ms + DS_RECYCLE_SETTLE_MS - now;
	int ms = 0;

	r->full_wait = 0;
	if (at_count(r)) {
		ms = DS_RECYCLE_WAIT_MS;
		r->full_wait = cap_ms >= DS_RECYCLE_WAIT_MS;
	} else if (r->close_at == 0 && r->settles < DS_RECYCLE_LEARN &&
	    settle > 0) {
		r->settles++;
		ms = (int)settle;
	}
	return ms < cap_ms ? ms : (cap_ms > 0 ? cap_ms : 0);
}

/* A connection at the count that did not close is still never written
 * to: on a slow machine the close may simply be late, and a request sent
 * into it would be lost. Only after closes failed to come twice in a row,
 * each in a whole wait (not one cut short by a short max_running_time), is
 * the count taken for a wrong guess (a php-fpm restart taught it). */
int
ds_fcgi_recycle_verdict(struct ds_fcgi_recycle *r, int closed)
{
	if (closed) {
		ds_fcgi_recycle_closed(r);
		return 0;
	}
	if (!at_count(r))
		return 1;
	if (r->full_wait && ++r->misses >= DS_RECYCLE_MISSES) {
		r->close_at = 0;
		r->lower = 0;
		r->settles = 0;
		r->misses = 0;
	}
	return 0;
}

/* A larger count than the one known is taken at once: a child that served
 * other clients before ours closes early, so the largest count is the best
 * guess, and a smaller one only wins when seen twice in a row (php-fpm's
 * pm.max_requests was lowered), not from one early close. */
void
ds_fcgi_recycle_closed(struct ds_fcgi_recycle *r)
{
	if (r->served == 0)
		return;		/* closed before any answer: teaches nothing */
	if (at_count(r))
		r->misses = 0;
	if (r->served >= r->close_at) {
		r->close_at = r->served;
		r->lower = 0;
		return;
	}
	if (r->served == r->lower) {
		r->close_at = r->served;
		r->lower = 0;
		return;
	}
	r->lower = r->served;
}
