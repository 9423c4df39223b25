/* cfg_util.c: how the config loader reports a problem (with the file and
 * the line:column or JSON path) and the small checks every key shares. */
#include "config/cfg.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- messages --- */

/* -fanalyzer loses s and the array once stored through list and calls
 * them leaked; ds_diag_free() frees both. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpragmas"
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
static int
push(char ***list, size_t *n, char *s)
{
	char **nl;

	nl = realloc(*list, (*n + 1) * sizeof(*nl));
	if (nl == NULL)
		return -1;
	nl[(*n)++] = s;
	*list = nl;
	return 0;
}

/* sep goes between the file name and the body: ": " before a JSON path,
 * ":" before the line:column of a syntax error. */
static void
vreport(struct ctx *c, int warning, const char *sep, const char *fmt,
    va_list ap)
{
	char *body, *line;
	int rc;

	if (vasprintf(&body, fmt, ap) < 0) {
		c->oom = 1;
		return;
	}
	rc = asprintf(&line, "%s%s%s", c->file, sep, body);
	free(body);
	if (rc < 0) {
		c->oom = 1;
		return;
	}
	if ((warning ? push(&c->diag->warnings, &c->diag->nwarnings, line) :
	    push(&c->diag->errors, &c->diag->nerrors, line)) < 0) {
		free(line);
		c->oom = 1;
	}
}
#pragma GCC diagnostic pop

void __attribute__((format(printf, 3, 4)))
cfg_report(struct ctx *c, int warning, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(c, warning, ": ", fmt, ap);
	va_end(ap);
}

void __attribute__((format(printf, 2, 3)))
cfg_report_at(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(c, 0, ":", fmt, ap);
	va_end(ap);
}

/* Quotes s JSON-style, escaping anything that would break the one-line
 * message, and cuts it at about SHOW_CHARS bytes. */
void
cfg_quote(char *dst, size_t size, const char *s)
{
	size_t o = 0, i;
	char esc[8];

	dst[o++] = '"';
	for (i = 0; s[i] != '\0' && o + 12 < size; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (i >= SHOW_CHARS && (ch & 0xC0) != 0x80) {
			memcpy(dst + o, "...", 3);
			o += 3;
			break;
		}
		if (ch == '"' || ch == '\\')
			snprintf(esc, sizeof(esc), "\\%c", ch);
		else if (ch == '\n')
			snprintf(esc, sizeof(esc), "\\n");
		else if (ch == '\t')
			snprintf(esc, sizeof(esc), "\\t");
		else if (ch == '\r')
			snprintf(esc, sizeof(esc), "\\r");
		else if (ch < 0x20 || ch == 0x7F)
			snprintf(esc, sizeof(esc), "\\u%04x", ch);
		else {
			esc[0] = (char)ch;
			esc[1] = '\0';
		}
		memcpy(dst + o, esc, strlen(esc));
		o += strlen(esc);
	}
	dst[o++] = '"';
	dst[o] = '\0';
}

/* Short JSON-ish form of a value found where something else was expected. */
const char *
cfg_show(char *buf, size_t size, const cJSON *v)
{
	if (cJSON_IsString(v))
		cfg_quote(buf, size, v->valuestring);
	else if (cJSON_IsNumber(v))
		snprintf(buf, size, "%g", v->valuedouble);
	else if (cJSON_IsTrue(v))
		snprintf(buf, size, "true");
	else if (cJSON_IsFalse(v))
		snprintf(buf, size, "false");
	else if (cJSON_IsNull(v))
		snprintf(buf, size, "null");
	else if (cJSON_IsArray(v))
		snprintf(buf, size, v->child ? "an array" : "an empty array");
	else if (cJSON_IsObject(v))
		snprintf(buf, size, v->child ? "an object" : "an empty object");
	else
		snprintf(buf, size, "an invalid value");
	return buf;
}

void
cfg_expected(struct ctx *c, const char *path, const char *what, const cJSON *v)
{
	char buf[SHOW_CHARS * 6 + 16];

	cfg_report(c, 0, "%s: expected %s, got %s", path, what,
	    cfg_show(buf, sizeof(buf), v));
}

/* --- validation --- */

static int
cfg_name_char(unsigned char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	    (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == ':' ||
	    ch == '-';
}

int
cfg_valid_name(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!cfg_name_char((unsigned char)*s))
			return 0;
	return 1;
}

int
cfg_has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7F)
			return 1;
	return 0;
}

/* Paths are only for messages: a cut one is better than none. */
void __attribute__((format(printf, 3, 4)))
cfg_pathf(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, size, fmt, ap);
	va_end(ap);
}

/* Appends key to base: bare when it is a plain name, else ["quoted"], so a
 * path always stays readable and on one line. */
void
cfg_path_key(char *dst, size_t size, const char *base, const char *key)
{
	char q[SHOW_CHARS * 6 + 16];

	if (cfg_valid_name(key)) {
		cfg_pathf(dst, size, "%s%s%s", base, *base ? "." : "", key);
		return;
	}
	cfg_quote(q, sizeof(q), key);
	cfg_pathf(dst, size, "%s[%s]", base, q);
}

/* An integer in [min, max]: a JSON number without a fractional part. */
int
cfg_get_int(struct ctx *c, const char *path, const cJSON *v, int64_t min,
    int64_t max, int64_t *out)
{
	char what[64];
	double d;

	d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
	if (isnan(d) || d != floor(d) || d < (double)min) {
		snprintf(what, sizeof(what), "integer >= %lld", (long long)min);
		cfg_expected(c, path, what, v);
		return -1;
	}
	if (d > (double)max) {
		snprintf(what, sizeof(what), "integer <= %lld", (long long)max);
		cfg_expected(c, path, what, v);
		return -1;
	}
	*out = (int64_t)d;
	return 0;
}

int
cfg_dup_str(struct ctx *c, char **dst, const char *s)
{
	if ((*dst = strdup(s)) == NULL) {
		c->oom = 1;
		return -1;
	}
	return 0;
}

int
cfg_get_seconds(struct ctx *c, const char *path, const cJSON *v, int zero_ok,
    double max, int64_t *ms)
{
	char what[64];
	double d = cJSON_IsNumber(v) ? v->valuedouble : NAN;

	if (isnan(d) || d < 0 || (!zero_ok && llround(d * 1000) < 1)) {
		cfg_expected(c, path, zero_ok ? "number of seconds >= 0" :
		    "number of seconds >= 0.001", v);
		return -1;
	}
	if (d > max) {
		snprintf(what, sizeof(what), "number of seconds <= %g", max);
		cfg_expected(c, path, what, v);
		return -1;
	}
	*ms = llround(d * 1000);
	return 0;
}
