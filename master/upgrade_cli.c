/* upgrade_cli.c: driveshaft --upgrade (upgrade_cli.h). Reads the master's
 * pid from its pid file, reads the upgrade counters on its status port,
 * sends USR2, then asks `version` every DS_UPGRADE_POLL_MS until one of
 * the counters moves: the master's log line says why, the counters say
 * what happened, and only they cross the status port. A master whose
 * reply has no counters predates USR2: to it the signal would be fatal,
 * so none is sent. */
#include "master/upgrade_cli.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/parse.h"
#include "common/text.h"
#include "master/query.h"

static int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Digits at *p into *out (no sign, at least one, no overflow); *p moves
 * past them. Returns 0, or -1. */
static int
take_count(const char **p, const char *end, long *out)
{
	long v = 0;
	const char *s = *p;

	if (s == end || *s < '0' || *s > '9')
		return -1;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		if (v > (LONG_MAX - (*s - '0')) / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	*p = s;
	*out = v;
	return 0;
}

int
ds_upgrade_parse_pid(const char *text, size_t len, pid_t *pid, char *err,
    size_t errlen)
{
	const char *p = text, *end = text + len, *start;
	char shown[4 * 32 + 1];
	long v;

	while (p < end && is_blank(*p))
		p++;
	while (end > p && is_blank(end[-1]))
		end--;
	if (p == end) {
		snprintf(err, errlen, "is empty (the master is not running)");
		return -1;
	}
	start = p;
	if (take_count(&p, end, &v) < 0 || p != end) {
		ds_escape(shown, sizeof(shown), start, (size_t)(end - start) <
		    32 ? (size_t)(end - start) : 32);
		snprintf(err, errlen, "does not hold a pid: \"%s\"", shown);
		return -1;
	}
	if (v < 1 || v > INT_MAX) {
		snprintf(err, errlen, "holds %ld, not a pid", v);
		return -1;
	}
	*pid = (pid_t)v;
	return 0;
}

/* "upgrades N failed M", nothing else on the line [p, end). */
static int
parse_counters(const char *p, const char *end, struct ds_upgrade_seen *s)
{
	static const char mid[] = " failed ";

	p += strlen("upgrades ");
	if (take_count(&p, end, &s->upgrades) < 0 ||
	    (size_t)(end - p) < strlen(mid) ||
	    strncmp(p, mid, strlen(mid)) != 0)
		return -1;
	p += strlen(mid);
	if (take_count(&p, end, &s->failed) < 0 || p != end)
		return -1;
	return 0;
}

/* The first line, "driveshaft VERSION", into s->version. */
static int
parse_first(const char *p, const char *end, struct ds_upgrade_seen *s)
{
	static const char head[] = "driveshaft ";
	size_t n;

	if ((size_t)(end - p) <= strlen(head) ||
	    strncmp(p, head, strlen(head)) != 0)
		return -1;
	p += strlen(head);
	n = (size_t)(end - p);
	if (n >= sizeof(s->version) || memchr(p, ' ', n) != NULL)
		return -1;
	memcpy(s->version, p, n);
	s->version[n] = '\0';
	return 0;
}

int
ds_upgrade_parse_version(const char *reply, struct ds_upgrade_seen *s,
    char *err, size_t errlen)
{
	const char *p = reply, *nl, *end;
	int first = 1, found = 0;

	memset(s, 0, sizeof(*s));
	for (; *p != '\0'; p = *nl ? nl + 1 : nl) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p);
		end = nl > p && nl[-1] == '\r' ? nl - 1 : nl;
		if (first && parse_first(p, end, s) < 0) {
			snprintf(err, errlen, "not a driveshaft version reply");
			return -1;
		}
		if (!first && !found && (size_t)(end - p) >= 9 &&
		    strncmp(p, "upgrades ", 9) == 0) {
			if (parse_counters(p, end, s) < 0) {
				snprintf(err, errlen, "a malformed line \"upgrades"
				    " N failed M\" in the version reply");
				return -1;
			}
			found = 1;
		}
		first = 0;
	}
	if (first) {
		snprintf(err, errlen, "an empty version reply");
		return -1;
	}
	return found;
}

static int
say(const char *fmt, ...)
{
	va_list ap;

	fputs("driveshaft: --upgrade: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

/* The pid in path, of a live driveshaft master. Returns 0, or 1 (the exit
 * status) having said why not. */
static int
master_pid(const char *path, pid_t *pid)
{
	char buf[64], err[256], comm[32] = "";
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0)
		return say("--pid_file %s: %s%s", path, strerror(errno),
		    errno == ENOENT ? " (the master is not running)" : "");
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0)
		return say("--pid_file %s: %s", path, strerror(errno));
	if (ds_upgrade_parse_pid(buf, (size_t)n, pid, err, sizeof(err)) < 0)
		return say("--pid_file %s %s", path, err);
	if (kill(*pid, 0) < 0 && errno == ESRCH)
		return say("--pid_file %s names pid %d, and no such process "
		    "runs: a stale pid file, the master is not running", path,
		    (int)*pid);
	/* a stale file's pid may be another program's now: USR2 kills
	 * most programs, so it goes to a driveshaft only */
	snprintf(buf, sizeof(buf), "/proc/%d/comm", (int)*pid);
	if ((fd = open(buf, O_RDONLY | O_CLOEXEC)) >= 0) {
		n = read(fd, comm, sizeof(comm) - 1);
		comm[n > 0 ? n : 0] = '\0';
		close(fd);
	}
	comm[strcspn(comm, "\n")] = '\0';
	if (strncmp(comm, "driveshaft", 10) != 0)
		return say("--pid_file %s names pid %d, which is not driveshaft "
		    "but \"%s\": a stale pid file", path, (int)*pid, comm);
	return 0;
}

/* Asks `version`. Returns what ds_upgrade_parse_version() does, -1 also
 * when nothing answers; err says why. */
static int
ask(const struct ds_master_opts *o, struct ds_upgrade_seen *s, char *err,
    size_t errlen)
{
	char *reply = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&reply, &len);
	int rc;

	if (f == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	rc = ds_query(o->status_addr, o->status_port, "version",
	    DS_QUERY_CONNECT_MS, DS_QUERY_REPLY_MS, f, err, errlen);
	if (fclose(f) != 0 && rc == 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		rc = -1;
	}
	if (rc == 0)
		rc = ds_upgrade_parse_version(reply ? reply : "", s, err,
		    errlen);
	free(reply);
	return rc;
}

static void
pause_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Polls until a counter moves past before's, the master goes, or the
 * deadline. Returns the exit status. */
static int
wait_outcome(const struct ds_master_opts *o, pid_t pid,
    const struct ds_upgrade_seen *before)
{
	int64_t deadline = ds_now_ms() + DS_UPGRADE_WAIT_MS;
	struct ds_upgrade_seen now;
	char err[512] = "no answer yet";

	while (ds_now_ms() < deadline) {
		pause_ms(DS_UPGRADE_POLL_MS);
		if (kill(pid, 0) < 0 && errno == ESRCH)
			return say("the master (pid %d) is gone: it exited "
			    "during the upgrade; see its log", (int)pid);
		if (ask(o, &now, err, sizeof(err)) != 1)
			continue;	/* answered by the next look, or timed out */
		if (now.upgrades > before->upgrades) {
			printf("driveshaft: upgraded in place to %s (pid %d)\n",
			    now.version, (int)pid);
			return fflush(stdout) == 0 ? 0 : 1;
		}
		if (now.failed > before->failed)
			return say("upgrade refused; see the log "
			    "(event=upgrade_failed)");
	}
	return say("no outcome within %d s (last look: %s); the master "
	    "(pid %d) runs on: see its log", DS_UPGRADE_WAIT_MS / 1000, err,
	    (int)pid);
}

int
ds_upgrade_cli(const struct ds_master_opts *o)
{
	struct ds_upgrade_seen before;
	char err[512];
	pid_t pid;
	int rc;

	if (master_pid(o->pid_file, &pid) != 0)
		return 1;
	if ((rc = ask(o, &before, err, sizeof(err))) < 0)
		return say("the status port %s:%d: %s", o->status_addr,
		    o->status_port, err);
	if (rc == 0)
		return say("the master (pid %d, driveshaft %s) is too old to "
		    "upgrade in place: its status port gives no upgrade "
		    "counters; restart it instead", (int)pid, before.version);
	if (kill(pid, SIGUSR2) < 0)
		return say("cannot signal the master (pid %d): %s", (int)pid,
		    strerror(errno));
	return wait_outcome(o, pid, &before);
}
