/* spawn_budget.c: the spawn budget of a turn of the master's loop
 * (spawn_budget.h). A clock that steps back (it should not: monotonic)
 * counts as no time spent rather than as a negative. */
#include "master/spawn_budget.h"

static int64_t
not_negative(int64_t v)
{
	return v < 0 ? 0 : v;
}

int
ds_spawn_more(const struct ds_spawn_turn *t, int64_t budget_us)
{
	int64_t spent = not_negative(t->spent_us);

	if (t->started <= 0)
		return 1;
	if (spent >= budget_us)
		return 0;
	/* no overflow: both are below budget_us here or clamped by it */
	return not_negative(t->last_us) <= budget_us - spent;
}

void
ds_spawn_count(struct ds_spawn_turn *t, int64_t first_us, int64_t begin_us,
    int64_t end_us)
{
	t->started++;
	t->spent_us = not_negative(end_us - first_us);
	t->last_us = not_negative(end_us - begin_us);
}
