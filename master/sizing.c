/* sizing.c: the queue-driven pool size (sizing.h). Grows while the backlog
 * is more than the workers that could take it (idle or starting), by a
 * bounded step; shrinks by one idle worker a round once the backlog has
 * been zero for the cool-down; always within [min, max]. */
#include "master/sizing.h"

static int
clamp(int n, int lo, int hi)
{
	return n < lo ? lo : n > hi ? hi : n;
}

static int
step_up(int current)
{
	return clamp(current / 2, DS_SCALE_STEP_MIN, DS_SCALE_STEP_MAX);
}

int
ds_sizing(const struct ds_sizing_in *in, enum ds_sizing_reason *why)
{
	int n = clamp(in->current, in->min, in->max);
	int64_t want;

	*why = n != in->current ? DS_SIZE_BOUNDS : DS_SIZE_KEEP;
	if ((int64_t)in->backlog > in->spare && n < in->max) {
		want = (int64_t)in->backlog - in->spare;
		if (want > step_up(n))
			want = step_up(n);
		if (want > in->max - n)
			want = in->max - n;
		*why = DS_SIZE_BACKLOG;
		return n + (int)want;
	}
	if (in->backlog == 0 && in->zero_since != 0 &&
	    in->now - in->zero_since >= in->scale_down_after_ms &&
	    in->idle > 0 && n > in->min && *why == DS_SIZE_KEEP) {
		*why = DS_SIZE_IDLE;
		return n - 1;
	}
	return n;
}

int64_t
ds_sizing_zero_since(int64_t zero_since, uint32_t backlog, int64_t now)
{
	if (backlog > 0)
		return 0;
	return zero_since ? zero_since : now;
}

const char *
ds_sizing_reason_name(enum ds_sizing_reason why)
{
	switch (why) {
	case DS_SIZE_KEEP:
		return "keep";
	case DS_SIZE_BOUNDS:
		return "bounds";
	case DS_SIZE_BACKLOG:
		return "backlog";
	case DS_SIZE_IDLE:
		return "idle";
	}
	return "?";
}
