/* upgrade.c: the old image's half of an upgrade in place (SIGUSR2,
 * docs/operations.md). First the binary on disk is asked, as a child that
 * the loop waits for without blocking, whether it can take over:
 * `--upgrade-check` with our own options. Only on its yes is the state
 * written to a sealed memfd (upgrade_state.c), close-on-exec cleared on
 * exactly the descriptors the state names, and the binary exec'd in place:
 * same pid, same children. Until the exec nothing has changed, so every
 * refusal, and an exec that fails, leaves the master as it was with one
 * event=upgrade_failed line. upgrade_adopt.c is the new image's half. */
#include "master/upgrade.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fds.h"
#include "common/parse.h"
#include "common/text.h"
#include "master/roll.h"
#include "master/reload.h"
#include "master/slot_page.h"
#include "master/upgrade_reply.h"
#include "master/upgrade_state.h"

extern char **environ;

/* The check loads the config as a start would; a slow machine gets time. */
#define CHECK_TIMEOUT_MS 30000

struct ds_upgrade {
	pid_t check_pid;
	int out_fd;		/* the check's stdout and stderr */
	char out[1024];
	size_t outlen;
	int64_t t0_ms, deadline_ms;
	int checked;		/* it said yes: exec once no spawn is out */
	int reloaded;		/* the config on disk is in force */
};

/* The master's argv, for the check and the exec: as given, less an
 * earlier upgrade's --upgrade-state. */
static char **args;
static int nargs;
/* A check killed at its deadline, reaped later. */
static pid_t killed_check;

void
ds_upgrade_set_args(int argc, char **argv)
{
	nargs = argc;
	args = argv;
}

/* argv for the binary: self, extra (may be NULL), our options without
 * --upgrade-state, tail (NULL-terminated, may be NULL). */
static char **
build_argv(const char *self, const char *extra, char *const *tail)
{
	char **v = calloc((size_t)nargs + 4, sizeof(*v));
	int k = 0;

	if (v == NULL)
		return NULL;
	v[k++] = (char *)self;
	if (extra != NULL)
		v[k++] = (char *)extra;
	for (int i = 1; i < nargs; i++) {
		if (strcmp(args[i], "--upgrade-state") == 0 && i + 1 < nargs) {
			i++;
			continue;
		}
		if (strncmp(args[i], "--upgrade-state=", 16) == 0)
			continue;
		v[k++] = args[i];
	}
	for (; tail != NULL && *tail != NULL; tail++)
		v[k++] = *tail;
	v[k] = NULL;
	return v;
}

static void
finish(struct ds_master *m)
{
	struct ds_upgrade *u = m->upgrade;

	if (u == NULL)
		return;
	if (u->out_fd >= 0)
		close(u->out_fd);
	free(u);
	m->upgrade = NULL;
	m->hold_spawns = 0;
}

static void
refuse(struct ds_master *m, const char *reason, const char *detail)
{
	struct ds_lv v;

	m->upgrades_failed++;
	ds_log(LOG_ERR, "event=upgrade_failed reason=%s detail=%s", reason,
	    DS_LV(v, detail));
	finish(m);
}

static pid_t
spawn_check(const char *self, int out)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	char **argv = build_argv(self, "--upgrade-check", NULL);
	pid_t pid = -1;
	int rc = ENOMEM;

	if (argv == NULL)
		return -1;
	sigemptyset(&none);
	sigfillset(&all);
	if (posix_spawnattr_init(&at) == 0) {
		posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK |
		    POSIX_SPAWN_SETSIGDEF);
		posix_spawnattr_setsigmask(&at, &none);
		posix_spawnattr_setsigdefault(&at, &all);
		if ((rc = posix_spawn_file_actions_init(&fa)) == 0) {
			posix_spawn_file_actions_addopen(&fa, 0, "/dev/null",
			    O_RDONLY, 0);
			posix_spawn_file_actions_adddup2(&fa, out, 1);
			posix_spawn_file_actions_adddup2(&fa, out, 2);
			rc = posix_spawn(&pid, self, &fa, &at, argv, environ);
			posix_spawn_file_actions_destroy(&fa);
		}
		posix_spawnattr_destroy(&at);
	}
	free(argv);
	errno = rc;
	return rc == 0 ? pid : -1;
}

void
ds_upgrade_request(struct ds_master *m)
{
	struct ds_upgrade *u;
	int p[2];

	if (m->upgrade != NULL) {
		ds_log(LOG_NOTICE, "event=upgrade_busy check_pid=%d",
		    (int)m->upgrade->check_pid);
		return;
	}
	if (m->stopping) {
		m->upgrades_failed++;
		ds_log(LOG_ERR, "event=upgrade_failed reason=stopping "
		    "detail=\"the master is stopping\"");
		return;
	}
	if ((u = calloc(1, sizeof(*u))) == NULL) {
		m->upgrades_failed++;
		ds_log(LOG_ERR, "event=upgrade_failed reason=out_of_memory");
		return;
	}
	m->upgrade = u;
	u->out_fd = -1;
	u->t0_ms = ds_now_ms();
	u->deadline_ms = u->t0_ms + CHECK_TIMEOUT_MS;
	if (m->opts->self_path == NULL) {
		refuse(m, "check_exec", "cannot tell which binary runs");
		return;
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		refuse(m, "check_exec", strerror(errno));
		return;
	}
	u->check_pid = spawn_check(m->opts->self_path, p[1]);
	close(p[1]);
	u->out_fd = p[0];
	fcntl(u->out_fd, F_SETFL, O_NONBLOCK);
	if (u->check_pid < 0) {
		char why[1024];

		snprintf(why, sizeof(why), "%s: %s", m->opts->self_path,
		    strerror(errno));
		refuse(m, "check_exec", why);
		return;
	}
	ds_log(LOG_INFO, "event=upgrade_check pid=%d binary=%s",
	    (int)u->check_pid, m->opts->self_path);
}

/* The check's output, its end kept: the answer is its last line, after
 * however many warnings about the config. */
static void
read_output(struct ds_upgrade *u)
{
	const size_t cap = sizeof(u->out) - 1;
	ssize_t r;

	for (;;) {
		if (u->outlen == cap) {	/* the older half goes */
			memmove(u->out, u->out + cap / 2, cap - cap / 2);
			u->outlen = cap - cap / 2;
		}
		r = read(u->out_fd, u->out + u->outlen, cap - u->outlen);
		if (r <= 0)
			break;
		u->outlen += (size_t)r;
	}
	u->out[u->outlen] = '\0';
}

int
ds_upgrade_reaped(struct ds_master *m, pid_t pid, int status)
{
	struct ds_upgrade *u = m->upgrade;
	char why[1200];
	const char *err;

	if (pid == killed_check && pid > 0) {
		killed_check = 0;
		return 1;
	}
	if (u == NULL || pid != u->check_pid)
		return 0;
	u->check_pid = 0;
	read_output(u);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(why, sizeof(why), "%s %d: %s", WIFEXITED(status) ?
		    "exit" : "signal", WIFEXITED(status) ? WEXITSTATUS(status) :
		    WTERMSIG(status), u->out);
		refuse(m, "check_exit", why);
		return 1;
	}
	if ((err = ds_upgrade_reply_check(u->out, DS_UPGRADE_STATE_VERSION))
	    != NULL) {
		snprintf(why, sizeof(why), "%s: %s", err, u->out);
		refuse(m, strstr(err, "state") ? "state_version" :
		    "check_output", why);
		return 1;
	}
	u->checked = 1;
	m->hold_spawns = 1;	/* the spawns out now are the last ones */
	ds_log(LOG_INFO, "event=upgrade_checked ms=%lld",
	    (long long)(ds_now_ms() - u->t0_ms));
	return 1;
}

/* The memfd of the whole state, or -1 with why. */
static int
state_fd(struct ds_master *m, struct ds_status *st, const char **why)
{
	struct ds_upgrade_meta meta;
	unsigned char *buf;
	size_t len;
	int fd;

	memset(&meta, 0, sizeof(meta));
	snprintf(meta.from_version, sizeof(meta.from_version), "%s",
	    DS_VERSION);
	meta.t0_ms = ds_now_ms();
	ds_children_sync(m);	/* the counters as of now go across */
	m->status_listen_fd = st->listen_fd;
	if ((buf = ds_upgrade_state_encode(m, st, &meta, &len)) == NULL) {
		*why = "out of memory";
		return -1;
	}
	/* the tests' only way to the new image's fallback, which the check
	 * makes unreachable otherwise: a state it cannot read */
	if (getenv("DS_TEST_CORRUPT_STATE") != NULL)
		buf[0] ^= 0xff;
	fd = ds_upgrade_state_memfd(buf, len);
	free(buf);
	if (fd < 0)
		*why = strerror(errno);
	return fd;
}

/* Hands everything over to the binary on disk; returns only when the
 * exec failed, having put everything back. */
static void
exec_new(struct ds_master *m, struct ds_status *st)
{
	const char *why = NULL;
	char fdarg[16], *tail[3] = {"--upgrade-state", fdarg, NULL};
	char **argv;
	sigset_t all, old;
	size_t n = 0;
	int *fds = NULL, fd, saved;

	/* a roll's spare is in no slot: it leaves after its job, and the
	 * new image's roll starts its own */
	ds_roll_drop_spares(m);
	if ((fd = state_fd(m, st, &why)) < 0) {
		refuse(m, "state_write", why);
		return;
	}
	snprintf(fdarg, sizeof(fdarg), "%d", fd);
	if ((fds = ds_upgrade_state_fds(m, st, &n)) == NULL ||
	    (argv = build_argv(m->opts->self_path, NULL, tail)) == NULL) {
		free(fds);
		close(fd);
		refuse(m, "state_write", "out of memory");
		return;
	}
	ds_log(LOG_NOTICE, "event=upgrade_exec binary=%s children=%zu "
	    "state_fd=%d", m->opts->self_path, m->nchildren, fd);
	/* a signal in the exec's window waits for the new image's handlers
	 * instead of meeting the default action (a USR2 would kill us) */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	ds_set_cloexec(fds, n, 0);
	ds_set_cloexec(&fd, 1, 0);
	execve(m->opts->self_path, argv, environ);
	saved = errno;
	ds_set_cloexec(fds, n, 1);
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(fd);
	free(fds);
	free(argv);
	refuse(m, "exec", strerror(saved));
}

void
ds_upgrade_tick(struct ds_master *m, struct ds_status *st, int64_t now)
{
	struct ds_upgrade *u = m->upgrade;

	if (u == NULL)
		return;
	if (u->check_pid > 0) {
		read_output(u);
		if (now < u->deadline_ms)
			return;
		kill(u->check_pid, SIGKILL);
		killed_check = u->check_pid;
		refuse(m, "check_timeout", "the check did not answer in time");
		return;
	}
	/* the new image reads the config on disk: put it in force now, as
	 * a HUP would, so that what goes across is what it finds */
	if (u->checked && !u->reloaded) {
		u->reloaded = 1;
		if (ds_reload(m) < 0) {
			refuse(m, "config", "the jobs config on disk does not "
			    "load (see event=reload_failed)");
			return;
		}
	}
	if (u->checked && m->pending == NULL) {
		if (m->stopping) {
			refuse(m, "stopping", "the master is stopping");
			return;
		}
		exec_new(m, st);
	}
}

int64_t
ds_upgrade_next_deadline(const struct ds_master *m)
{
	const struct ds_upgrade *u = m->upgrade;

	if (u == NULL)
		return 0;
	if (u->check_pid > 0)
		return u->deadline_ms;
	return u->checked && (!u->reloaded || m->pending == NULL) ?
	    ds_now_ms() : 0;
}

void
ds_upgrade_free(struct ds_master *m)
{
	finish(m);
}
