/* log.c: syslog(3) with an optional copy on stderr, and the log config file
 * reader. One event is one line so that grep and tail -f work on it. */
#include "common/log.h"
#include "common/nelem.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DS_LOG_LINE_MAX 4096

static struct ds_log_settings current;
static int opened;

static const struct {
	const char *name;
	int value;
} facilities[] = {
	{"daemon", LOG_DAEMON}, {"user", LOG_USER},
	{"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1},
	{"local2", LOG_LOCAL2}, {"local3", LOG_LOCAL3},
	{"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},
	{"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
}, levels[] = {
	{"emerg", LOG_EMERG}, {"alert", LOG_ALERT}, {"crit", LOG_CRIT},
	{"err", LOG_ERR}, {"error", LOG_ERR}, {"warning", LOG_WARNING},
	{"warn", LOG_WARNING}, {"notice", LOG_NOTICE}, {"info", LOG_INFO},
	{"debug", LOG_DEBUG},
};

void
ds_log_defaults(struct ds_log_settings *ls)
{
	memset(ls, 0, sizeof(*ls));
	snprintf(ls->ident, sizeof(ls->ident), "driveshaft");
	ls->facility = LOG_DAEMON;
	ls->level = LOG_INFO;
	ls->to_stderr = DS_LOG_STDERR_AUTO;
}

int
ds_log_stderr_rule(int stderr_is_tty, int have_syslog_socket)
{
	/* under a service manager stderr already goes to the journal,
	 * which also reads syslog: one copy is enough */
	return stderr_is_tty || !have_syslog_socket;
}

void
ds_log_resolve_stderr(struct ds_log_settings *ls)
{
	struct stat st;
	int have_socket;

	if (ls->to_stderr != DS_LOG_STDERR_AUTO)
		return;
	have_socket = stat(_PATH_LOG, &st) == 0 && S_ISSOCK(st.st_mode);
	ls->to_stderr = ds_log_stderr_rule(isatty(STDERR_FILENO), have_socket);
}

void
ds_log_open(const struct ds_log_settings *ls)
{
	if (opened)
		closelog();
	current = *ls;
	ds_log_resolve_stderr(&current);
	openlog(current.ident, LOG_PID | LOG_NDELAY, current.facility);
	opened = 1;
}

const struct ds_log_settings *
ds_log_current(void)
{
	if (!opened)
		ds_log_defaults(&current);
	return &current;
}

/* One write(2) a line, so that lines of several processes sharing the
 * descriptor do not interleave; not dprintf, which also seeks the
 * descriptor first. On a file the master shares with thousands of starting
 * workers, the seek and the write each take the file's position lock,
 * which a worker waiting for a CPU may hold: one round of it a line, not
 * two. */
static void
copy_to_stderr(int prio, const char *line)
{
	char ts[32], *buf;
	struct tm tm;
	time_t now = time(NULL);
	size_t len = DS_LOG_LINE_MAX + 128, off = 0;
	int n;

	if ((buf = malloc(len)) == NULL)
		return;
	localtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(buf, len, "%s %s[%d]: %s %s\n", ts, current.ident,
	    (int)getpid(), ds_log_level_name(prio), line);
	if (n > 0 && (size_t)n >= len) {
		n = (int)len - 1;
		buf[n - 1] = '\n';
	}
	while (n > 0 && off < (size_t)n) {
		ssize_t w = write(STDERR_FILENO, buf + off, (size_t)n - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	free(buf);
}

void
ds_log(int prio, const char *fmt, ...)
{
	char *line;
	va_list ap;

	if (!opened) {
		ds_log_defaults(&current);
		current.to_stderr = 1;
		openlog(current.ident, LOG_PID, current.facility);
		opened = 1;
	}
	if (prio > current.level)
		return;
	/* on the heap, not the stack: a worker's start-up line would keep
	 * its stack a page deeper for good, where a freed chunk is reused */
	va_start(ap, fmt);
	if ((line = malloc(DS_LOG_LINE_MAX)) == NULL) {
		vsyslog(prio, fmt, ap);	/* say it at least once */
		va_end(ap);
		return;
	}
	vsnprintf(line, DS_LOG_LINE_MAX, fmt, ap);
	va_end(ap);
	syslog(prio, "%s", line);
	if (current.to_stderr > 0)
		copy_to_stderr(prio, line);
	free(line);
}

int
ds_log_facility(const char *name)
{
	for (size_t i = 0; i < NELEM(facilities); i++)
		if (strcasecmp(name, facilities[i].name) == 0)
			return facilities[i].value;
	return -1;
}

int
ds_log_level(const char *name)
{
	for (size_t i = 0; i < NELEM(levels); i++)
		if (strcasecmp(name, levels[i].name) == 0)
			return levels[i].value;
	return -1;
}

const char *
ds_log_facility_name(int facility)
{
	for (size_t i = 0; i < NELEM(facilities); i++)
		if (facilities[i].value == facility)
			return facilities[i].name;
	return "daemon";
}

const char *
ds_log_level_name(int level)
{
	for (size_t i = 0; i < NELEM(levels); i++)
		if (levels[i].value == level)
			return levels[i].name;
	return "info";
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int
apply_setting(struct ds_log_settings *ls, const char *key, const char *val,
    char *why, size_t whylen)
{
	int v;

	if (strcmp(key, "ident") == 0) {
		if (*val == '\0' || strlen(val) >= sizeof(ls->ident)) {
			snprintf(why, whylen, "ident: expected 1 to %zu characters",
			    sizeof(ls->ident) - 1);
			return -1;
		}
		snprintf(ls->ident, sizeof(ls->ident), "%s", val);
	} else if (strcmp(key, "facility") == 0) {
		if ((v = ds_log_facility(val)) < 0) {
			snprintf(why, whylen, "facility: expected daemon, user or "
			    "local0..local7, got \"%s\"", val);
			return -1;
		}
		ls->facility = v;
	} else if (strcmp(key, "level") == 0) {
		if ((v = ds_log_level(val)) < 0) {
			snprintf(why, whylen, "level: expected err, warning, notice, "
			    "info or debug, got \"%s\"", val);
			return -1;
		}
		ls->level = v;
	} else if (strcmp(key, "stderr") == 0) {
		if (strcmp(val, "0") != 0 && strcmp(val, "1") != 0) {
			snprintf(why, whylen, "stderr: expected 0 or 1, got \"%s\"",
			    val);
			return -1;
		}
		ls->to_stderr = val[0] == '1';
	} else {
		snprintf(why, whylen, "unknown key \"%s\" (expected ident, "
		    "facility, level or stderr)", key);
		return -1;
	}
	return 0;
}

int
ds_log_read_config(const char *path, struct ds_log_settings *ls, char *err,
    size_t errlen, char *warn, size_t warnlen)
{
	struct ds_log_settings next = *ls;
	char buf[1024], why[256];
	int lineno = 0;
	FILE *f;

	if (warnlen)
		warn[0] = '\0';
	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(buf, sizeof(buf), f) != NULL) {
		char *line = trim(buf), *eq;

		lineno++;
		if (lineno == 1 && line[0] == '<') {
			snprintf(warn, warnlen, "%s: log4cxx XML config is not "
			    "supported, using default logging settings", path);
			fclose(f);
			return 0;
		}
		if (*line == '\0' || *line == '#')
			continue;
		if ((eq = strchr(line, '=')) == NULL) {
			snprintf(err, errlen, "%s:%d: expected key = value, got "
			    "\"%.80s\"", path, lineno, line);
			fclose(f);
			return -1;
		}
		*eq = '\0';
		if (apply_setting(&next, trim(line), trim(eq + 1), why,
		    sizeof(why)) < 0) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
			fclose(f);
			return -1;
		}
	}
	if (ferror(f)) {	/* a directory opens, then fails with EISDIR */
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		fclose(f);
		return -1;
	}
	fclose(f);
	*ls = next;
	return 0;
}
