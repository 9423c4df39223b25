/* reload.c: applies a SIGHUP reload to the pool records (pools.c):
 * unchanged pools keep their processes, a resized pool starts or
 * stops only the difference (idle workers first), a changed pool is drained
 * and replaced, and a config that does not load changes nothing. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/parse.h"
#include "common/text.h"
#include "master/limits.h"
#include "master/children.h"
#include "master/reload.h"
#include "master/reload_diff.h"
#include "master/monitor.h"
#include "master/pools.h"
#include "master/scale.h"

static void
retire_pool(struct ds_master *m, const char *name)
{
	for (size_t i = 0; i < m->nchildren; i++) {
		struct ds_child *c = &m->children[i];

		if (c->slot >= 0 && strcmp(c->pool, name) == 0)
			ds_retire(m, c, SIGUSR1);
	}
}

static void
log_config_messages(const struct ds_diag *diag, const char *event)
{
	struct ds_lv v;

	for (size_t i = 0; i < diag->nerrors; i++)
		ds_log(LOG_ERR, "event=%s error=%s", event,
		    DS_LV(v, diag->errors[i]));
	for (size_t i = 0; i < diag->nwarnings; i++)
		ds_log(LOG_WARNING, "event=config_warning warning=%s",
		    DS_LV(v, diag->warnings[i]));
}

int
ds_master_log_settings(const struct ds_master_opts *o,
    struct ds_log_settings *ls, char *err, size_t errlen, char *warn,
    size_t warnlen)
{
	ds_log_defaults(ls);
	warn[0] = '\0';
	if (o->logconfig != NULL && ds_log_read_config(o->logconfig, ls, err,
	    errlen, warn, warnlen) < 0)
		return -1;
	/* a daemon's stderr is /dev/null once it is ready */
	if (o->daemonize && ls->to_stderr == DS_LOG_STDERR_AUTO)
		ls->to_stderr = 0;
	ds_log_resolve_stderr(ls);
	return 0;
}

/* Returns 1 when the settings changed (workers get them at start). */
static int
reload_log_settings(struct ds_master *m)
{
	struct ds_log_settings ls;
	char err[512], warn[512];
	struct ds_lv v;

	if (m->opts->logconfig == NULL)
		return 0;
	if (ds_master_log_settings(m->opts, &ls, err, sizeof(err), warn,
	    sizeof(warn)) < 0) {
		ds_log(LOG_ERR, "event=logconfig_failed error=%s",
		    DS_LV(v, err));
		return 0;
	}
	if (warn[0])
		ds_log(LOG_WARNING, "event=logconfig_warning warning=%s",
		    DS_LV(v, warn));
	if (memcmp(&ls, &m->log, sizeof(ls)) == 0)
		return 0;
	m->log = ls;
	ds_log_open(&m->log);
	return 1;
}

/* Appends " name:old->new" style items to the summary of one change. */
static void
summarize(char *buf, size_t len, const struct ds_pool_diff *d, size_t nd,
    enum ds_pool_change change)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < nd && off + 1 < len; i++) {
		if (d[i].change != change)
			continue;
		off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? "," : "",
		    d[i].name);
		if (change == DS_POOL_RESIZED && off < len)
			off += (size_t)snprintf(buf + off, len - off, ":%d->%d",
			    d[i].old_count, d[i].new_count);
	}
	if (off == 0)
		snprintf(buf, len, "-");
}

static void
log_reload(const struct ds_master *m, const struct ds_pool_diff *d, size_t nd)
{
	char added[512], removed[512], replaced[512], resized[512];

	summarize(added, sizeof(added), d, nd, DS_POOL_ADDED);
	summarize(removed, sizeof(removed), d, nd, DS_POOL_REMOVED);
	summarize(replaced, sizeof(replaced), d, nd, DS_POOL_REPLACED);
	summarize(resized, sizeof(resized), d, nd, DS_POOL_RESIZED);
	ds_log(LOG_NOTICE, "event=reload generation=%llu added=%s removed=%s "
	    "replaced=%s resized=%s", (unsigned long long)m->generation, added,
	    removed, replaced, resized);
}

int
ds_reload(struct ds_master *m)
{
	struct ds_config ncfg;
	struct ds_diag diag;
	struct ds_pool_diff *d;
	struct ds_pool_rt *npools;
	size_t nd;
	int log_changed;

	char err[512];
	struct ds_lv v;

	/* a HUP is the operator saying "try again now" */
	for (size_t i = 0; i < m->npools; i++)
		m->pools[i].spawn_retry_at = 0;
	if (ds_config_load(m->opts->jobsconfig, &ncfg, &diag) < 0) {
		log_config_messages(&diag, "reload_failed");
		ds_diag_free(&diag);
		m->reloads_failed++;
		return -1;
	}
	log_config_messages(&diag, "reload_failed");
	ds_diag_free(&diag);
	if (ds_config_fits(&ncfg, ds_raise_nofile(), err, sizeof(err)) < 0) {
		ds_log(LOG_ERR, "event=reload_failed error=%s",
		    DS_LV(v, err));
		ds_config_free(&ncfg);
		m->reloads_failed++;
		return -1;
	}
	ds_fd_table_reserve(&ncfg, ds_raise_nofile());
	log_changed = reload_log_settings(m);
	d = calloc(m->cfg.npools + ncfg.npools + 1, sizeof(*d));
	npools = calloc(ncfg.npools + 1, sizeof(*npools));
	if (d == NULL || npools == NULL) {
		free(d);
		free(npools);
		ds_config_free(&ncfg);
		m->reloads_failed++;
		ds_log(LOG_ERR, "event=reload_failed error=\"out of memory\"");
		return -1;
	}
	nd = ds_config_diff(&m->cfg, &ncfg, d);
	for (size_t i = 0; i < nd && log_changed; i++)
		if (d[i].change == DS_POOL_SAME || d[i].change == DS_POOL_RESIZED)
			d[i].change = DS_POOL_REPLACED;
	for (size_t i = 0; i < nd; i++)
		if (d[i].change == DS_POOL_REMOVED ||
		    d[i].change == DS_POOL_REPLACED)
			retire_pool(m, d[i].name);
	for (size_t i = 0; i < ncfg.npools; i++) {
		struct ds_pool_rt *old = ds_pool_rt_find(m, ncfg.pools[i].name);

		if (old == NULL || d[i].change == DS_POOL_REPLACED) {
			ds_pool_rt_init(&npools[i], &ncfg.pools[i]);
			if (old != NULL)
				npools[i].stats = old->stats;
			continue;
		}
		npools[i] = *old;	/* takes over its slots */
		npools[i].cfg = &ncfg.pools[i];
		old->name = NULL;
		old->slots = NULL;
	}
	ds_pools_free(m);
	m->pools = npools;
	m->npools = ncfg.npools;
	for (size_t i = 0; i < ncfg.npools; i++)
		if (d[i].change == DS_POOL_RESIZED)
			ds_pool_resize(m, &m->pools[i],
			    ds_scale_reload_count(&m->pools[i], d[i].new_count));
	m->generation++;
	m->reloads++;
	log_reload(m, d, nd);	/* before the old names it points to go */
	free(d);
	ds_config_free(&m->cfg);
	m->cfg = ncfg;
	ds_monitor_reload(m);
	return 0;
}
