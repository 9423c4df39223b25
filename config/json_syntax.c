/* json_syntax.c: the strict JSON syntax check (see json_syntax.h). A
 * recursive descent over the bytes that keeps only the position and reason
 * of the first problem; it allocates nothing. */
#include "config/json_syntax.h"

#include <stdio.h>
#include <string.h>

#define BOM	"\xEF\xBB\xBF"

/* The text, the next byte to read, and the first failure: where it is,
 * what was expected there and whether to name what was found instead. */
struct lex {
	const unsigned char	*s;
	size_t			 len, pos;
	size_t			 errpos;
	const char		*what;
	int			 got;	/* append what is at errpos */
};

static int
lex_fail(struct lex *l, size_t pos, const char *what, int got)
{
	l->errpos = pos;
	l->what = what;
	l->got = got;
	return -1;
}

static void
lex_ws(struct lex *l)
{
	while (l->pos < l->len && (l->s[l->pos] == ' ' ||
	    l->s[l->pos] == '\t' || l->s[l->pos] == '\n' ||
	    l->s[l->pos] == '\r'))
		l->pos++;
}

static int
lex_peek(const struct lex *l)
{
	return l->pos < l->len ? l->s[l->pos] : -1;
}

static int
hex4(const unsigned char *p, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		unsigned char ch = p[i];

		v <<= 4;
		if (ch >= '0' && ch <= '9')
			v |= ch - '0';
		else if (ch >= 'a' && ch <= 'f')
			v |= ch - 'a' + 10;
		else if (ch >= 'A' && ch <= 'F')
			v |= ch - 'A' + 10;
		else
			return -1;
	}
	*out = v;
	return 0;
}

static int
lex_unicode(struct lex *l, size_t at)
{
	unsigned cp, lo;

	if (l->len - l->pos < 4 || hex4(l->s + l->pos, &cp) < 0)
		return lex_fail(l, at, "\\u must be followed by 4 hex digits",
		    0);
	l->pos += 4;
	/* A C string cannot carry NUL: every name would be cut short. */
	if (cp == 0)
		return lex_fail(l, at, "\\u0000 (NUL) is not allowed", 0);
	if (cp >= 0xDC00 && cp <= 0xDFFF)
		return lex_fail(l, at, "lone UTF-16 low surrogate", 0);
	if (cp < 0xD800 || cp > 0xDBFF)
		return 0;
	if (l->len - l->pos < 6 || l->s[l->pos] != '\\' ||
	    l->s[l->pos + 1] != 'u' || hex4(l->s + l->pos + 2, &lo) < 0 ||
	    lo < 0xDC00 || lo > 0xDFFF)
		return lex_fail(l, at, "UTF-16 high surrogate without a low "
		    "surrogate", 0);
	l->pos += 6;
	return 0;
}

static int
lex_string(struct lex *l)
{
	size_t start = l->pos++;

	while (l->pos < l->len) {
		unsigned char ch = l->s[l->pos];
		size_t at = l->pos++;

		if (ch == '"')
			return 0;
		if (ch < 0x20)
			return lex_fail(l, at, "control character in a string "
			    "(write it as an escape such as \\n)", 0);
		if (ch != '\\')
			continue;
		if (l->pos >= l->len)
			break;
		ch = l->s[l->pos++];
		if (ch == 'u') {
			if (lex_unicode(l, at) < 0)
				return -1;
		} else if (strchr("\"\\/bfnrt", ch) == NULL || ch == '\0')
			return lex_fail(l, at, "invalid escape in a string", 0);
	}
	return lex_fail(l, start, "unterminated string", 0);
}

static int
lex_digits(struct lex *l)
{
	size_t start = l->pos;

	while (l->pos < l->len && l->s[l->pos] >= '0' && l->s[l->pos] <= '9')
		l->pos++;
	return l->pos > start ? 0 : -1;
}

static int
lex_number(struct lex *l)
{
	size_t start = l->pos;

	if (lex_peek(l) == '-')
		l->pos++;
	if (lex_peek(l) == '0') {
		l->pos++;
		if (lex_peek(l) >= '0' && lex_peek(l) <= '9')
			return lex_fail(l, start, "invalid number (leading "
			    "zero)", 0);
	} else if (lex_digits(l) < 0)
		return lex_fail(l, start, "invalid number", 0);
	if (lex_peek(l) == '.') {
		l->pos++;
		if (lex_digits(l) < 0)
			return lex_fail(l, start, "invalid number (no digit "
			    "after '.')", 0);
	}
	if (lex_peek(l) == 'e' || lex_peek(l) == 'E') {
		l->pos++;
		if (lex_peek(l) == '+' || lex_peek(l) == '-')
			l->pos++;
		if (lex_digits(l) < 0)
			return lex_fail(l, start, "invalid number (no digit in "
			    "exponent)", 0);
	}
	return 0;
}

static int lex_value(struct lex *, int);

/* After an element or member: 1 when the container closes (at close),
 * 0 when a comma leads to the next one, -1 on an error (the messages are
 * kept by pointer: static strings). */
static int
lex_next(struct lex *l, char close, const char *no_comma,
    const char *trailing)
{
	lex_ws(l);
	if (lex_peek(l) == close) {
		l->pos++;
		return 1;
	}
	if (lex_peek(l) != ',')
		return lex_fail(l, l->pos, no_comma, 1);
	l->pos++;
	lex_ws(l);
	if (lex_peek(l) == close)
		return lex_fail(l, l->pos, trailing, 0);
	return 0;
}

/* At an opening bracket: 1 when the container is empty. */
static int
lex_open(struct lex *l, char close)
{
	l->pos++;
	lex_ws(l);
	if (lex_peek(l) != close)
		return 0;
	l->pos++;
	return 1;
}

static int
lex_object(struct lex *l, int depth)
{
	int rc;

	if (lex_open(l, '}'))
		return 0;
	for (;;) {
		if (lex_peek(l) != '"')
			return lex_fail(l, l->pos, "expected a string key", 1);
		if (lex_string(l) < 0)
			return -1;
		lex_ws(l);
		if (lex_peek(l) != ':')
			return lex_fail(l, l->pos, "expected ':' after an "
			    "object key", 1);
		l->pos++;
		if (lex_value(l, depth + 1) < 0)
			return -1;
		if ((rc = lex_next(l, '}', "expected ',' or '}' after an "
		    "object member", "trailing comma before '}'")) != 0)
			return rc < 0 ? -1 : 0;
	}
}

static int
lex_array(struct lex *l, int depth)
{
	int rc;

	if (lex_open(l, ']'))
		return 0;
	for (;;) {
		if (lex_value(l, depth + 1) < 0)
			return -1;
		if ((rc = lex_next(l, ']', "expected ',' or ']' after an "
		    "array element", "trailing comma before ']'")) != 0)
			return rc < 0 ? -1 : 0;
	}
}

static int
lex_literal(struct lex *l, const char *word)
{
	size_t n = strlen(word);

	if (l->len - l->pos < n || memcmp(l->s + l->pos, word, n) != 0)
		return lex_fail(l, l->pos, "expected a value", 1);
	l->pos += n;
	return 0;
}

static int
lex_value(struct lex *l, int depth)
{
	int ch;

	if (depth > DS_JSON_MAX_DEPTH)
		return lex_fail(l, l->pos, "nesting too deep", 0);
	lex_ws(l);
	ch = lex_peek(l);
	if (ch == '{')
		return lex_object(l, depth);
	if (ch == '[')
		return lex_array(l, depth);
	if (ch == '"')
		return lex_string(l);
	if (ch == '-' || (ch >= '0' && ch <= '9'))
		return lex_number(l);
	if (ch == 't')
		return lex_literal(l, "true");
	if (ch == 'f')
		return lex_literal(l, "false");
	if (ch == 'n')
		return lex_literal(l, "null");
	return lex_fail(l, l->pos, "expected a value", 1);
}

/* Line and column (1-based, in characters rather than bytes, as editors
 * count them) of byte offset pos. */
static void
line_col(const unsigned char *s, size_t pos, size_t *line, size_t *col)
{
	size_t i = 0;

	*line = 1;
	*col = 1;
	if (pos >= 3 && memcmp(s, BOM, 3) == 0)
		i = 3;
	for (; i < pos; i++) {
		if (s[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if ((s[i] & 0xC0) != 0x80)
			(*col)++;
	}
}

/* Names what stands at the error, for reasons that end in ", got ...". A
 * quote would be confusing inside '', and other bytes may not print. */
static void
what_got(const struct lex *l, char *dst, size_t size)
{
	unsigned char ch;

	if (l->errpos >= l->len)
		snprintf(dst, size, "end of input");
	else if ((ch = l->s[l->errpos]) > 0x20 && ch < 0x7F && ch != '\'')
		snprintf(dst, size, "'%c'", ch);
	else
		snprintf(dst, size, "byte 0x%02X", ch);
}

static int
syntax_error(const struct lex *l, struct ds_json_syntax_error *err)
{
	char got[32];

	line_col(l->s, l->errpos, &err->line, &err->col);
	if (!l->got) {
		snprintf(err->reason, sizeof(err->reason), "%s", l->what);
		return -1;
	}
	what_got(l, got, sizeof(got));
	snprintf(err->reason, sizeof(err->reason), "%s, got %s", l->what, got);
	return -1;
}

int
ds_json_syntax_check(const char *text, size_t len,
    struct ds_json_syntax_error *err)
{
	struct lex l = { .s = (const unsigned char *)text, .len = len };

	if (len >= 3 && memcmp(text, BOM, 3) == 0)
		l.pos = 3;
	lex_ws(&l);
	if (l.pos >= len) {
		/* Blank text: point at its start, not past the blanks. */
		lex_fail(&l, 0, "the file is empty", 0);
		return syntax_error(&l, err);
	}
	if (lex_value(&l, 0) == 0) {
		lex_ws(&l);
		if (l.pos >= len)
			return 0;
		lex_fail(&l, l.pos, "unexpected text after the top-level "
		    "value", 0);
	}
	return syntax_error(&l, err);
}
