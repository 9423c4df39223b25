/* queue.c: what the queue view's top-level keys ask of the pools
 * (docs/config.md): a pool sized by the queue needs the view on, and the
 * monitor that reads it takes every function on its command line, so their number
 * is bounded. Run once the whole file has been read. */
#include "config/cfg.h"

#include <string.h>

/* Functions of pools[0..i) and of pools[i].jobs[0..j) that equal name. */
static int
seen_before(const struct ds_config *cfg, size_t i, size_t j,
    const char *name)
{
	for (size_t a = 0; a <= i; a++) {
		const struct ds_pool *p = &cfg->pools[a];
		size_t end = a == i ? j : p->njobs;

		for (size_t b = 0; b < end; b++)
			if (strcmp(p->jobs[b], name) == 0)
				return 1;
	}
	return 0;
}

static size_t
distinct_functions(const struct ds_config *cfg)
{
	size_t n = 0;

	for (size_t i = 0; i < cfg->npools; i++)
		for (size_t j = 0; j < cfg->pools[i].njobs; j++)
			n += !seen_before(cfg, i, j, cfg->pools[i].jobs[j]);
	return n;
}

void
cfg_check_queue(struct ctx *c, const struct ds_config *cfg)
{
	size_t n;

	if (cfg->queue_poll_ms > 0) {
		n = distinct_functions(cfg);
		if (n > DS_MAX_MONITOR_FUNCTIONS)
			cfg_report(c, 0, "queue_poll_interval: the queue view "
			    "reads at most %d functions, the pools have %zu: "
			    "set it to 0 or use fewer functions",
			    DS_MAX_MONITOR_FUNCTIONS, n);
		return;
	}
	for (size_t i = 0; i < cfg->npools; i++)
		if (cfg->pools[i].queue_sized && cfg->pools[i].name != NULL)
			cfg_report(c, 0, "queue_poll_interval: 0 turns the "
			    "queue view off, but pools_list.%s is sized by it "
			    "(min_workers, max_workers)", cfg->pools[i].name);
}
