/* stuck_rule.c: when an idle worker is stuck (stuck_rule.h). */
#include "master/stuck_rule.h"

int
ds_stuck_due(const struct ds_stuck_in *in)
{
	int64_t after = in->after_ms;

	if (after <= 0 || in->waiting_since == 0)
		return 0;
	if (in->now - in->waiting_since < after)
		return 0;
	if (in->acted_ms != 0 && in->now - in->acted_ms < after)
		return 0;
	return in->now - in->idle_since >= after;
}
