/* children.c: the master's process table: spawn a worker into a slot,
 * follow its state in its slot page (slot_page.c), reap it, restart it
 * with backoff, and kill one that stays busy past its max_running_time
 * plus a grace period. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/nelem.h"
#include "common/parse.h"
#include "common/worker_args.h"
#include "common/text.h"
#include "master/limits.h"
#include "master/children.h"
#include "master/monitor.h"
#include "master/slot_page.h"

extern char **environ;

/* Every signal to a child goes through here, so that the supervision rules
 * can be tested without processes (ds_master.kill_fn). */
static void
signal_child(struct ds_master *m, pid_t pid, int sig)
{
	(void)(m->kill_fn ? m->kill_fn : kill)(pid, sig);
}

/* The earliest moment c is to be killed, 0 for never. */
static int64_t
kill_deadline(const struct ds_child *c)
{
	int64_t due = c->kill_at;

	if (c->killed)
		return 0;
	if (c->state == DS_SLOT_BUSY && c->slot >= 0 &&
	    (due == 0 || ds_child_overdue_at(c) < due))
		due = ds_child_overdue_at(c);
	return due;
}

static int
build_argv(const struct ds_master *m, const struct ds_pool_rt *p, int slot,
    struct ds_worker_argv *a)
{
	const struct ds_pool *pc = p->cfg;
	struct ds_worker_spec spec = {
		.pool = p->name,
		.slot = slot,
		.servers = m->cfg.server_strs,
		.nservers = m->cfg.nservers,
		.functions = pc->jobs,
		.nfunctions = pc->njobs,
		.unix_socket = pc->unix_socket,
		.format = pc->format,
		.max_running_ms = ds_pool_max_running_ms(m, pc),
		.loop_timeout_ms = m->opts->loop_timeout_ms,
		.max_jobs = pc->max_jobs_per_worker,
		.max_response_bytes = pc->max_response_bytes,
		.master_pid = (int)getpid(),
		.log = &m->log,
	};

	return ds_worker_argv_build(&spec, a);
}

/* The master's environment plus the pool's URI (worker_args.h); NULL when
 * out of memory. Free with free_env(). */
static char **
build_env(const char *uri)
{
	size_t n = 0, k = 0, keylen = strlen(DS_WORKER_URI_ENV);
	char **env;

	while (environ[n] != NULL)
		n++;
	if ((env = calloc(n + 2, sizeof(*env))) == NULL)
		return NULL;
	if (asprintf(&env[k++], "%s=%s", DS_WORKER_URI_ENV, uri) < 0) {
		free(env);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], DS_WORKER_URI_ENV, keylen) != 0 ||
		    environ[i][keylen] != '=')
			env[k++] = environ[i];
	return env;
}

static void
free_env(char **env)
{
	if (env != NULL)
		free(env[0]);
	free(env);
}

/* What a new child starts with: default signal actions, the stops blocked
 * until its handlers are in (the mask survives exec), and a process group
 * of its own, so that the terminal's ^C reaches only the master, which
 * decides what a job in hand gets. */
static int
spawn_attr(posix_spawnattr_t *at)
{
	sigset_t def, mask;

	/* all of them: nothing the master's starter ignored stays ignored,
	 * and a signal in this set costs the vfork child one sigaction where
	 * glibc reads then resets one outside it (64 calls, not 120, while
	 * the master waits for the exec) */
	sigfillset(&def);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGUSR1);
	if (posix_spawnattr_init(at) != 0)
		return -1;
	if (posix_spawnattr_setflags(at, POSIX_SPAWN_SETSIGDEF |
	    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP) != 0 ||
	    posix_spawnattr_setsigdefault(at, &def) != 0 ||
	    posix_spawnattr_setsigmask(at, &mask) != 0 ||
	    posix_spawnattr_setpgroup(at, 0) != 0) {
		posix_spawnattr_destroy(at);
		return -1;
	}
	return 0;
}

/* posix_spawn (glibc: clone with CLONE_VM|CLONE_VFORK) rather than fork:
 * a fork copies the master's mappings, one slot page per worker, so with
 * thousands of workers each fork cost more than the last (1,500 workers:
 * 1.2 s of the master's CPU, three quarters of it in the kernel's
 * dup_mmap). sock and page go to DS_WORKER_FD and DS_WORKER_SHM_FD (page
 * -1: none); copies above both numbers first, so that neither dup2 closes
 * the other. Returns the pid, or -1 with errno set. */
static pid_t
spawn_child(const char *path, char **argv, char **env, int sock, int page)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	int hs = fcntl(sock, F_DUPFD_CLOEXEC, 10);
	int hp = page >= 0 ? fcntl(page, F_DUPFD_CLOEXEC, 10) : -1;
	int rc = hs < 0 || (page >= 0 && hp < 0) ? errno : ENOMEM;
	pid_t pid = -1;

	if (hs >= 0 && (page < 0 || hp >= 0) && spawn_attr(&at) == 0) {
		if ((rc = posix_spawn_file_actions_init(&fa)) == 0) {
			if ((rc = posix_spawn_file_actions_adddup2(&fa, hs,
			    DS_WORKER_FD)) == 0 && (hp < 0 ||
			    (rc = posix_spawn_file_actions_adddup2(&fa, hp,
			    DS_WORKER_SHM_FD)) == 0))
				rc = posix_spawn(&pid, path, &fa, &at, argv,
				    env);
			posix_spawn_file_actions_destroy(&fa);
		}
		posix_spawnattr_destroy(&at);
	}
	if (hs >= 0)
		close(hs);
	if (hp >= 0)
		close(hp);
	errno = rc;
	return rc == 0 ? pid : -1;
}

static struct ds_child *
add_child(struct ds_master *m)
{
	if (m->nchildren == m->cap_children) {
		size_t cap = m->cap_children ? m->cap_children * 2 : 16;
		struct ds_child *p = realloc(m->children, cap * sizeof(*p));

		if (p == NULL)
			return NULL;
		m->children = p;
		m->cap_children = cap;
	}
	/* not counted until the caller commits it */
	memset(&m->children[m->nchildren], 0, sizeof(struct ds_child));
	return &m->children[m->nchildren];
}

/* Starts path with the other end of a new socketpair as
 * DS_WORKER_FD and page (if not -1) as DS_WORKER_SHM_FD: a worker, or the
 * queue monitor (master/monitor.c). Returns the pid and our end in *fd,
 * or -1 with errno set. */
pid_t
ds_spawn_child(const char *path, char **argv, char **env, int page, int *fd)
{
	int sv[2], saved;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	pid = spawn_child(path, argv, env, sv[1], page);
	saved = errno;
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		errno = saved;
		return -1;
	}
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	*fd = sv[0];
	return pid;
}

/* Starts the worker into c; returns its pid, or -1 with errno
 * set (c's page then closed). */
static pid_t
fork_worker(struct ds_master *m, struct ds_pool_rt *p, int slot,
    struct ds_child *c, int *fd)
{
	struct ds_worker_argv a;
	char **env = NULL;
	int page, saved;
	pid_t pid;

	if ((page = ds_slot_page_open(c, p->cfg)) < 0)
		return -1;
	if ((env = build_env(p->cfg->uri)) == NULL ||
	    build_argv(m, p, slot, &a) < 0) {
		free_env(env);
		close(page);
		ds_slot_page_close(c);
		errno = ENOMEM;
		return -1;
	}
	pid = ds_spawn_child(m->opts->worker_path, a.v, env, page, fd);
	saved = errno;
	ds_worker_argv_free(&a);
	free_env(env);
	close(page);	/* the mapping stays */
	if (pid < 0) {
		ds_slot_page_close(c);
		errno = saved;
		return -1;
	}
	return pid;
}

/* Starts a worker in p's slot. On failure returns -1 with errno set and
 * logs nothing: the caller backs the pool off and says so once. */
int
ds_spawn(struct ds_master *m, struct ds_pool_rt *p, int slot)
{
	struct ds_child *c;
	pid_t pid;
	int fd;

	if ((c = add_child(m)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	if ((pid = fork_worker(m, p, slot, c, &fd)) < 0)
		return -1;
	if (ds_pidmap_put(&m->pids, pid, m->nchildren) < 0)
		ds_log(LOG_ERR, "event=out_of_memory where=pidmap pid=%d",
		    (int)pid);	/* found by a scan instead: slower, right */
	m->nchildren++;		/* add_child made room; commit it now */
	c->pid = pid;
	c->fd = fd;
	c->pool = strdup(p->name);
	c->slot = slot;
	c->last_slot = slot;
	c->state = DS_SLOT_STARTING;
	c->started_ms = ds_now_ms();
	c->max_running_ms = ds_pool_max_running_ms(m, p->cfg);
	p->slots[slot].pid = pid;
	p->slots[slot].restart_at = 0;
	ds_metrics_worker_start(&m->metrics, p->name);
	ds_log(LOG_INFO, "event=child_start pool=%s slot=%d pid=%d", p->name,
	    slot, (int)pid);
	return 0;
}

/* Takes c out of its slot: it takes no new job and leaves after the one
 * in hand (SIGUSR1), or within 2 x loop_timeout (SIGTERM). */
void
ds_retire(struct ds_master *m, struct ds_child *c, int sig)
{
	struct ds_pool_rt *p = ds_pool_rt_find(m, c->pool);
	int64_t now = ds_now_ms();
	int64_t deadline;

	ds_child_sync(m, c);	/* busy or not decides its deadline */
	if (p != NULL && c->slot >= 0 && c->slot < p->nslots &&
	    p->slots[c->slot].pid == c->pid)
		p->slots[c->slot].pid = 0;
	c->slot = -1;
	if (sig == SIGTERM)
		deadline = now + 2 * m->opts->loop_timeout_ms + DS_KILL_GRACE_MS;
	else if (c->state == DS_SLOT_BUSY)
		deadline = ds_child_overdue_at(c);
	else
		deadline = now + m->opts->loop_timeout_ms + DS_KILL_GRACE_MS;
	if (c->kill_at == 0 || deadline < c->kill_at)
		c->kill_at = deadline;
	signal_child(m, c->pid, sig);
}

void
ds_signal_all(struct ds_master *m, int sig, int64_t kill_at)
{
	for (size_t i = 0; i < m->nchildren; i++) {
		struct ds_child *c = &m->children[i];

		if (c->slot >= 0)
			ds_retire(m, c, sig);
		else
			signal_child(m, c->pid, sig);
		if (kill_at && (c->kill_at == 0 || kill_at < c->kill_at))
			c->kill_at = kill_at;
	}
}

/* A quick death backs the slot off: at once, then 1 s, 2 s, 4 s ... 30 s. */
void
ds_schedule_restart(struct ds_pool_rt *p, int slot, int64_t lived_ms,
    int clean, int64_t now)
{
	struct ds_slot *s = &p->slots[slot];
	int64_t delay = 0;

	s->pid = 0;
	if (clean || lived_ms >= DS_BACKOFF_WINDOW_MS)
		s->quick_deaths = 0;
	else
		s->quick_deaths++;
	if (s->quick_deaths >= 2) {
		delay = ds_backoff_ms(s->quick_deaths - 1);
		ds_log(LOG_WARNING, "event=slot_backoff pool=%s slot=%d "
		    "quick_deaths=%d delay_ms=%lld", p->name, slot,
		    s->quick_deaths, (long long)delay);
	}
	s->restart_at = now + delay;
}

static void
child_exited(struct ds_master *m, struct ds_child *c, int status)
{
	struct ds_pool_rt *p = ds_pool_rt_find(m, c->pool);
	int64_t lived = ds_now_ms() - c->started_ms;
	char how[48];
	int clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;

	ds_metrics_worker_exit(&m->metrics, c->pool, c->killed ? "killed" :
	    WIFSIGNALED(status) ? "signal" : clean ? "clean" : "error");
	if (WIFSIGNALED(status))
		snprintf(how, sizeof(how), "signal=%s",
		    sigabbrev_np(WTERMSIG(status)) ? sigabbrev_np(WTERMSIG(status))
		    : "?");
	else
		snprintf(how, sizeof(how), "status=%d", WEXITSTATUS(status));
	ds_log(clean ? LOG_INFO : LOG_WARNING, "event=child_exit pool=%s "
	    "slot=%d pid=%d %s lived_ms=%lld retired=%d", c->pool, c->last_slot,
	    (int)c->pid, how, (long long)lived, c->slot < 0);
	if (p != NULL && c->slot >= 0 && c->slot < p->nslots &&
	    p->slots[c->slot].pid == c->pid) {
		if (WIFEXITED(status) && WEXITSTATUS(status) == DS_EXEC_FAILED) {
			/* it never ran: a resource problem of the pool, not
			 * of the slot */
			p->slots[c->slot].pid = 0;
			p->slots[c->slot].restart_at = 0;
			ds_pool_spawn_failed(p, "exec failed", ds_now_ms());
		} else {
			/* a child we killed for an overdue job was not
			 * failing to start: that must not back it off */
			ds_schedule_restart(p, c->slot, lived, clean ||
			    c->killed, ds_now_ms());
		}
	}
	if (c->fd >= 0)
		close(c->fd);
	ds_slot_page_close(c);
	free(c->pool);
	ds_pidmap_del(&m->pids, c->pid);
	*c = m->children[--m->nchildren];
	if (c != &m->children[m->nchildren])	/* the last one moved here */
		(void)ds_pidmap_put(&m->pids, c->pid, (size_t)(c - m->children));
}

void
ds_reap(struct ds_master *m)
{
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct ds_child *c = ds_child_by_pid(m, pid);

		if (c != NULL) {
			/* count what it did before it went */
			ds_child_sync(m, c);
			child_exited(m, c, status);
		} else
			(void)ds_monitor_reaped(m, pid, status);
	}
}

void
ds_pool_spawn_failed(struct ds_pool_rt *p, const char *why, int64_t now)
{
	int64_t delay;
	int missing = 0;
	struct ds_lv v;

	if (p->spawn_retry_at > now)
		return;		/* this step is already said and scheduled */
	delay = ds_backoff_ms(++p->spawn_failures);
	p->spawn_retry_at = now + delay;
	for (int s = 0; s < p->nslots; s++)
		missing += p->slots[s].pid == 0;
	ds_log(LOG_ERR, "event=spawn_failed pool=%s error=%s failures=%d "
	    "retry_ms=%lld missing=%d", p->name, DS_LV(v, why),
	    p->spawn_failures, (long long)delay, missing);
}

/* Starts what p's empty slots are due; the first failure stops the pool
 * until its backoff passes, so a host out of processes or descriptors
 * costs one log line and one attempt per step, not a loop. */
static void
fill_pool(struct ds_master *m, struct ds_pool_rt *p, int64_t now,
    int *budget)
{
	int started = 0;

	if (p->spawn_retry_at > now)
		return;
	for (int s = 0; s < p->nslots && *budget > 0; s++) {
		if (p->slots[s].pid != 0 || p->slots[s].restart_at > now)
			continue;
		--*budget;
		if (ds_spawn(m, p, s) < 0) {
			ds_pool_spawn_failed(p, strerror(errno), now);
			return;
		}
		started++;
	}
	if (p->spawn_failures && started) {
		ds_log(LOG_NOTICE, "event=spawn_recovered pool=%s failures=%d",
		    p->name, p->spawn_failures);
		p->spawn_failures = 0;
	}
}

void
ds_children_tick(struct ds_master *m, int64_t now)
{
	/* a batch per turn of the loop: 2,000 new workers must not keep the
	 * status port and the signals waiting while they fork */
	int budget = DS_SPAWN_BATCH;

	/* the only look at the slot pages when no one asks: a deadline, a
	 * reap or a signal woke us */
	ds_children_sync(m);
	for (size_t i = 0; i < m->nchildren; i++) {
		struct ds_child *c = &m->children[i];
		int64_t due = kill_deadline(c);

		if (due == 0 || due > now)
			continue;
		ds_log(LOG_WARNING, "event=child_kill pool=%s slot=%d pid=%d "
		    "state=%s busy_ms=%lld", c->pool, c->last_slot, (int)c->pid,
		    ds_slot_state_name(c->state), c->state == DS_SLOT_BUSY ?
		    (long long)(now - c->busy_since_ms) : 0LL);
		signal_child(m, c->pid, SIGKILL);
		c->killed = 1;
	}
	if (m->stopping)
		return;
	for (size_t i = 0; i < m->npools; i++)
		fill_pool(m, &m->pools[i], now, &budget);
}

int64_t
ds_children_next_deadline(const struct ds_master *m)
{
	int64_t next = 0, now = ds_now_ms();

	for (size_t i = 0; i < m->nchildren; i++) {
		const struct ds_child *c = &m->children[i];
		int64_t due = kill_deadline(c);

		/* a job it takes after this look is overdue no sooner than
		 * this: look again then, and not before */
		if (c->page != NULL && !c->killed && c->state != DS_SLOT_BUSY &&
		    (due == 0 || now + c->max_running_ms + DS_KILL_GRACE_MS < due))
			due = now + c->max_running_ms + DS_KILL_GRACE_MS;
		if (due && (next == 0 || due < next))
			next = due;
	}
	for (size_t i = 0; i < m->npools && !m->stopping; i++)
		for (int s = 0; s < m->pools[i].nslots; s++) {
			const struct ds_slot *sl = &m->pools[i].slots[s];
			int64_t due = sl->restart_at > m->pools[i].spawn_retry_at ?
			    sl->restart_at : m->pools[i].spawn_retry_at;

			/* due now (0 included, a new slot): 0 would read as
			 * "no deadline" and leave the rest of a batch waiting */
			if (due < now)
				due = now;
			if (sl->pid == 0 && (next == 0 || due < next))
				next = due;
		}
	return next;
}

