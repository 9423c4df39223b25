/* spawn.c: how the master starts a child process (spawn.h): its argv and
 * environment, its signal state and process group, its descriptors, and
 * posix_spawn. Mechanism only: which slot gets a worker and when is the
 * process table's (children.c). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/worker_args.h"
#include "master/slot_page.h"
#include "master/spawn.h"

extern char **environ;

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

/* Readies the start of the worker of p's slot into c: its slot page
 * (mapped into c), a socketpair (ours in *fd), its argv and environment.
 * Returns 0, or -1 with errno set and nothing left open. */
int
ds_spawn_prepare(struct ds_master *m, struct ds_pool_rt *p, int slot,
    struct ds_child *c, struct ds_spawn_req *r, int *fd)
{
	int sv[2] = {-1, -1};

	memset(r, 0, sizeof(*r));
	r->path = m->opts->worker_path;
	r->pid = -1;
	if ((r->page = ds_slot_page_open(c, p->cfg)) < 0)
		return -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		int saved = errno;

		ds_slot_page_close(c);
		errno = saved;
		return -1;
	}
	r->sock = sv[1];
	if ((r->env = build_env(p->cfg->uri)) == NULL ||
	    build_argv(m, p, slot, &r->argv) < 0) {
		free_env(r->env);
		close(sv[0]);
		close(sv[1]);
		ds_slot_page_close(c);
		errno = ENOMEM;
		return -1;
	}
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	*fd = sv[0];
	return 0;
}

void
ds_spawn_run(struct ds_spawn_req *r)
{
	r->pid = spawn_child(r->path, r->argv.v, r->env, r->sock, r->page);
	r->err = r->pid < 0 ? errno : 0;
}

void
ds_spawn_release(struct ds_spawn_req *r)
{
	ds_worker_argv_free(&r->argv);
	free_env(r->env);
	r->env = NULL;
	close(r->sock);
	/* the page's memfd stays with the child's record (slot_page.c) */
	r->sock = r->page = -1;
}
