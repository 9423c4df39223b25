/* status_reply.c: what the status port answers (docs/status-port.md): threads
 * in the original's format, pools, metrics (also over HTTP for Prometheus)
 * and version. */
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/parse.h"
#include "common/text.h"
#include "master/slot_page.h"
#include "master/table.h"
#include "master/metrics.h"
#include "master/monitor.h"
#include "master/status_reply.h"

static const char unrecognized[] = "Error: unrecognized command\r\n";

static void
thread_line(struct ds_buf *b, const struct ds_child *c, const char *pool,
    int shutdown)
{
	char h[4 * DS_SLOT_STR_MAX + 1], u[4 * DS_SLOT_STR_MAX + 1];

	ds_buf_printf(b, "%d\t%s\t%d\t", c ? (int)c->pid : 0, pool, shutdown);
	if (c == NULL || c->state == DS_SLOT_STARTING) {
		ds_buf_printf(b, "Starting up\r\n");
		return;
	}
	if (c->state != DS_SLOT_BUSY) {
		ds_buf_printf(b, "Waiting for work\r\n");
		return;
	}
	ds_escape(h, sizeof(h), c->handle, strlen(c->handle));
	ds_escape(u, sizeof(u), c->unique, strlen(c->unique));
	ds_buf_printf(b, "job_handle=%s job_unique=%s\r\n", h, u);
}

/* One line per slot of every pool, then the retired children that are
 * finishing a job (SHUTDOWN 1). An empty slot (backing off) shows pid 0. */
void
ds_status_threads(struct ds_master *m, struct ds_buf *b)
{
	for (size_t i = 0; i < m->npools; i++) {
		const struct ds_pool_rt *p = &m->pools[i];

		for (int s = 0; s < p->nslots; s++) {
			struct ds_child *c = p->slots[s].pid ?
			    ds_child_by_pid(m, p->slots[s].pid) : NULL;

			thread_line(b, c, p->name, m->stopping != 0 ||
			    (c != NULL && c->state == DS_SLOT_STOPPING));
		}
	}
	/* a roll's spare (master/roll.c) is a worker in no slot yet: a
	 * line of its own, SHUTDOWN 0 */
	for (size_t i = 0; i < m->nchildren; i++)
		if (m->children[i].slot < 0 ||
		    m->children[i].slot == DS_SLOT_SPARE)
			thread_line(b, &m->children[i], m->children[i].pool,
			    m->children[i].slot < 0);
}

/* "0.1.0:3,unknown:1": the pool's workers by version; "-" none. */
static void
pool_versions(struct ds_master *m, const char *pool, struct ds_buf *b)
{
	size_t n;
	struct ds_version_count *vc = ds_version_counts(m, pool, &n);

	if (n == 0)
		ds_buf_printf(b, "-");
	for (size_t i = 0; i < n; i++)
		ds_buf_printf(b, "%s%s:%d", i ? "," : "", vc[i].version,
		    vc[i].n);
	free(vc);
}

/* The first line is the reply of old: scripts read it alone. */
static void
status_version(struct ds_master *m, struct ds_buf *b)
{
	size_t n;
	struct ds_version_count *vc = ds_version_counts(m, NULL, &n);

	ds_buf_printf(b, "driveshaft %s\r\n", DS_VERSION);
	for (size_t i = 0; i < n; i++)
		ds_buf_printf(b, "workers %s %d\r\n", vc[i].version, vc[i].n);
	ds_buf_printf(b, "upgrades %llu failed %llu\r\n",
	    (unsigned long long)m->upgrades,
	    (unsigned long long)m->upgrades_failed);
	free(vc);
}

void
ds_status_pools(struct ds_master *m, struct ds_buf *b)
{
	for (size_t i = 0; i < m->npools; i++) {
		const struct ds_pool_rt *p = &m->pools[i];
		int n[DS_WG_N], running = ds_pool_gauges(m, p, n);

		/* answers lost, then the size and its bounds, come last:
		 * scripts that read the original eight columns keep working;
		 * a queue-sized pool's count is its size now */
		ds_buf_printf(b, "%s\t%d\t%d\t%d\t%d\t%llu\t%llu\t%llu\t%llu"
		    "\t%d\t%d\t%d\t", p->name, p->cfg->queue_sized ?
		    p->nslots : p->cfg->worker_count, running, n[DS_WG_BUSY],
		    n[DS_WG_IDLE], (unsigned long long)p->stats.completed,
		    (unsigned long long)p->stats.failed,
		    (unsigned long long)p->stats.timed_out,
		    (unsigned long long)p->stats.answer_lost, p->nslots,
		    p->cfg->min_workers, p->cfg->max_workers);
		pool_versions(m, p->name, b);
		ds_buf_printf(b, "\r\n");
	}
}

/* Per server of the config, the workers it answers (their slot pages'
 * bits); NULL when out of memory. */
static uint32_t *
count_connected(const struct ds_master *m, size_t *n)
{
	uint32_t *c = calloc(m->cfg.nservers + 1, sizeof(*c));

	*n = c ? m->cfg.nservers : 0;
	for (size_t i = 0; c != NULL && i < m->nchildren; i++) {
		uint64_t up;

		/* a page an older master made (an upgrade in place) may
		 * have no tail */
		if (ds_slot_tail_parts(m->children[i].page_len,
		    m->children[i].nfunctions) == DS_SLOT_NO_TAIL)
			continue;
		up = ds_slot_read_servers(m->children[i].page,
		    m->children[i].nfunctions);
		/* bits past the servers: a page not to believe */
		if (*n < 64 && (up >> *n) != 0)
			continue;
		for (size_t k = 0; k < *n && k < 64; k++)
			c[k] += (up >> k) & 1;
	}
	return c;
}

/* The metrics text, with the gauges read off the process table here. */
static void
render_metrics(struct ds_master *m, struct ds_buf *b)
{
	struct ds_pool_gauges *pg = calloc(m->npools + 1, sizeof(*pg));
	int64_t now = ds_now_ms();
	struct ds_master_gauges g = {
		.pools = pg, .npools = pg ? m->npools : 0,
		.reloads = m->reloads, .reloads_failed = m->reloads_failed,
		.generation = m->generation,
		.started_wall_ms = m->started_wall_ms,
		.servers = m->cfg.server_strs,
	};

	/* a view of another server list (until the monitor is replaced)
	 * is not shown against this one */
	if (m->queue != NULL && m->queue->view.ns == m->cfg.nservers)
		g.queue = &m->queue->view;
	for (size_t i = 0; i < g.npools; i++) {
		const struct ds_pool_rt *p = &m->pools[i];

		pg[i].pool = p->name;
		ds_pool_gauges(m, p, pg[i].workers);
		pg[i].target = p->nslots;
		pg[i].min = p->cfg->min_workers;
		pg[i].max = p->cfg->max_workers;
		pg[i].backlog = p->backlog;
		pg[i].oldest_job_ms = ds_pool_oldest_job_ms(m, p, now);
	}
	g.connected = count_connected(m, &g.nservers);
	g.versions = ds_version_counts(m, NULL, &g.nversions);
	g.upgrades = m->upgrades;
	g.upgrades_failed = m->upgrades_failed;
	ds_metrics_render(&m->metrics, &g, b);
	ds_metrics_render_queue(&g, b);
	free((void *)g.versions);
	free((void *)g.connected);
	free(pg);
}

static int
is_http_metrics(const char *line)
{
	return strncmp(line, "GET /metrics HTTP/1.", 20) == 0 &&
	    (line[20] == '0' || line[20] == '1') && line[21] == '\0';
}

char *
ds_status_reply(void *ctx, const char *line, size_t *len)
{
	struct ds_master *m = ctx;
	struct ds_buf b = {0};

	/* the workers' slot pages are read now, when someone asks */
	ds_children_sync(m);
	if (strcmp(line, "threads") == 0)
		ds_status_threads(m, &b);
	else if (strcmp(line, "pools") == 0)
		ds_status_pools(m, &b);
	else if (strcmp(line, "version") == 0)
		status_version(m, &b);
	else if (strcmp(line, "metrics") == 0)
		render_metrics(m, &b);
	else if (is_http_metrics(line)) {
		struct ds_buf body = {0};
		size_t n;
		char *text;

		render_metrics(m, &body);
		text = ds_buf_take(&body, &n);
		ds_buf_printf(&b, "HTTP/1.1 200 OK\r\nContent-Type: text/plain; "
		    "version=0.0.4; charset=utf-8\r\nContent-Length: %zu\r\n"
		    "Connection: close\r\n\r\n", n);
		ds_buf_add(&b, text ? text : "", n);
		free(text);
	} else
		ds_buf_add(&b, unrecognized, sizeof(unrecognized) - 1);
	return ds_buf_take(&b, len);
}
