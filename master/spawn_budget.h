/* spawn_budget.h: how long one turn of the master's loop spends starting
 * workers, decided by time and not by count (issue 16), a pure function of
 * figures so that it is tested without processes. A spawn lasts until the
 * child has exec'd (posix_spawn's vfork): 1 ms on an idle machine, 30 ms to
 * seconds when thousands of children start on busy cores. The loop hands
 * each spawn to its spawner thread (spawner.c) and waits for it only while
 * the turn's budget lasts: a dozen spawns a turn on an idle machine, and on
 * a busy one the status port, signals and reaps wait no longer than the
 * budget, however long the child waits for a CPU. */
#ifndef DS_SPAWN_BUDGET_H
#define DS_SPAWN_BUDGET_H

#include <stdint.h>

/* What one turn may spend waiting for spawns before the loop serves the
 * status port, signals and reaps again: small next to the 250 ms a status
 * reply and a signal are promised, large next to one spawn on an idle
 * machine. */
#define DS_SPAWN_BUDGET_US 10000

/* The spawns of this turn so far. */
struct ds_spawn_turn {
	int started;		/* spawns tried this turn */
	int64_t spent_us;	/* since the turn's first spawn began */
	int64_t last_us;	/* what the last spawn took */
};

/* 1 when the turn may start one more spawn: the first always, so that a
 * start never stalls however slow the machine; then while the next one,
 * taking as long as the last, still ends within budget_us. */
int ds_spawn_more(const struct ds_spawn_turn *t, int64_t budget_us);

/* Counts a spawn that began at begin_us and ended at end_us, in a turn
 * whose first spawn began at first_us (microseconds, one clock). */
void ds_spawn_count(struct ds_spawn_turn *t, int64_t first_us,
    int64_t begin_us, int64_t end_us);

#endif
