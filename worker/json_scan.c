/* json_scan.c: the tree-less walk over an endpoint's body (json_scan.h).
 *
 * It follows the decisions of cJSON 1.7's parser one by one, quirks
 * included, so that a body passes exactly when cJSON would parse it and
 * workers answer as they did when cJSON parsed every body whole:
 *   - any byte up to 32 is white space between tokens;
 *   - a UTF-8 BOM is skipped at the start of a body of 5 bytes or more;
 *   - a number is what strtod() reads from the bytes of [0-9+-eE.] that
 *     start with '-' or a digit (so 01, 1. and -.5 pass), however many
 *     (Debian's 1.7.15 reads them all; older builds stopped at 63);
 *   - a string ends at the first quote not paired with a backslash; its
 *     escapes are then checked in a second pass that steps over \uXXXX as a
 *     whole and surrogates must pair; raw control bytes are allowed;
 *   - one deliberate difference: a \u escape with a digit that is not hex
 *     makes the body invalid, where cJSON reads it as a NUL and cuts the
 *     string there (an answer would then complete with bytes the endpoint
 *     never sent);
 *   - arrays and objects nest at most CJSON_NESTING_LIMIT deep.
 * Nothing is allocated; each byte is read at most three times.
 * t/unit/test_json_scan.c holds each rule against the cJSON installed, and
 * t/fuzz/fuzz_response.c the whole parser against the one that used cJSON. */
#include "worker/json_scan.h"

#include <cjson/cJSON.h>
#include <string.h>

#define BOM		"\xEF\xBB\xBF"

struct scan {
	const unsigned char	*s;
	size_t			 len, pos;
	size_t			 depth;
	unsigned char		 open[CJSON_NESTING_LIMIT];	/* '{' or '[' */
	struct ds_json_member	 m;	/* top-level member being read */
	ds_json_member_fn	 fn;
	void			*ctx;
};

static int
peek(const struct scan *sc)
{
	return sc->pos < sc->len ? sc->s[sc->pos] : -1;
}

static void
skip_ws(struct scan *sc)
{
	while (sc->pos < sc->len && sc->s[sc->pos] <= 32)
		sc->pos++;
}

/* Four hex digits as a value; -1 when one is not a hex digit. */
static long
hex4(const unsigned char *p)
{
	long h = 0;

	for (int i = 0; i < 4; i++) {
		if (p[i] >= '0' && p[i] <= '9')
			h = h << 4 | (p[i] - '0');
		else if (p[i] >= 'A' && p[i] <= 'F')
			h = h << 4 | (p[i] - 'A' + 10);
		else if (p[i] >= 'a' && p[i] <= 'f')
			h = h << 4 | (p[i] - 'a' + 10);
		else
			return -1;
	}
	return h;
}

/* Length of the \u escape at p, avail bytes before the closing quote;
 * 0 where cJSON's utf16_literal_to_utf8() fails. */
static size_t
utf16_len(const unsigned char *p, size_t avail)
{
	long first, second;

	if (avail < 6 || (first = hex4(p + 2)) < 0)
		return 0;
	if (first >= 0xDC00 && first <= 0xDFFF)
		return 0;
	if (first < 0xD800 || first > 0xDBFF)
		return 6;
	if (avail - 6 < 6 || p[6] != '\\' || p[7] != 'u')
		return 0;
	second = hex4(p + 8);
	return second >= 0xDC00 && second <= 0xDFFF ? 12 : 0;
}

/* Length of the escape at p (a backslash before the closing quote, which
 * p[1] may be); 0 when cJSON rejects it. */
static size_t
escape_len(const unsigned char *p, size_t avail)
{
	switch (p[1]) {
	case 'b': case 'f': case 'n': case 'r': case 't':
	case '"': case '\\': case '/':
		return 2;
	case 'u':
		return utf16_len(p, avail);
	default:
		return 0;
	}
}

/* At a quote: cJSON's parse_string() without the output. */
static int
scan_string(struct scan *sc)
{
	const unsigned char *s = sc->s, *q = NULL, *bs;
	size_t end = sc->pos + 1;

	/* memchr() to the next quote, then to a backslash before it: a long
	 * base64 answer is read at memchr() speed, each byte twice */
	for (;;) {
		if ((q == NULL || q < s + end) && (end >= sc->len ||
		    (q = memchr(s + end, '"', sc->len - end)) == NULL))
			return -1;
		if ((bs = memchr(s + end, '\\', (size_t)(q - s) - end)) == NULL)
			break;
		end = (size_t)(bs - s) + 2;	/* past the escaped byte */
	}
	end = (size_t)(q - s);
	for (size_t i = sc->pos + 1; i < end;) {
		const unsigned char *bs = memchr(s + i, '\\', end - i);
		size_t n;

		if (bs == NULL)
			break;
		i = (size_t)(bs - s);
		if ((n = escape_len(bs, end - i)) == 0)
			return -1;
		i += n;
	}
	sc->pos = end + 1;
	return 0;
}

static size_t
after_digits(const struct scan *sc, size_t i)
{
	while (i < sc->len && sc->s[i] >= '0' && sc->s[i] <= '9')
		i++;
	return i;
}

/* At '-' or a digit. cJSON's parse_number() hands the bytes of [0-9+-eE.]
 * from here to strtod() and moves on by as many as strtod() read: in C's
 * decimal syntax, a sign, digits with at most one '.' (at least one digit),
 * then an exponent only if it is complete. The run can be megabytes long;
 * this reads it once and copies nothing. */
static int
scan_number(struct scan *sc)
{
	size_t i = sc->pos + (sc->s[sc->pos] == '-'), m, e;

	m = after_digits(sc, i);
	if (m < sc->len && sc->s[m] == '.')
		m = after_digits(sc, m + 1);
	if (m == i || (m == i + 1 && sc->s[i] == '.'))
		return -1;	/* no digit */
	e = m;
	if (e < sc->len && (sc->s[e] == 'e' || sc->s[e] == 'E')) {
		e++;
		if (e < sc->len && (sc->s[e] == '+' || sc->s[e] == '-'))
			e++;
		if (e < sc->len && sc->s[e] >= '0' && sc->s[e] <= '9')
			m = after_digits(sc, e);
	}
	sc->pos = m;
	return 0;
}

/* At a value that is not an array or an object. */
static int
scan_scalar(struct scan *sc)
{
	const char *p = (const char *)sc->s + sc->pos;
	size_t avail = sc->len - sc->pos;
	int c = peek(sc);

	if ((avail >= 4 && memcmp(p, "null", 4) == 0) ||
	    (avail >= 4 && memcmp(p, "true", 4) == 0)) {
		sc->pos += 4;
		return 0;
	}
	if (avail >= 5 && memcmp(p, "false", 5) == 0) {
		sc->pos += 5;
		return 0;
	}
	if (c == '"')
		return scan_string(sc);
	if (c == '-' || (c >= '0' && c <= '9'))
		return scan_number(sc);
	return -1;
}

/* Before a key: the key, the colon and the white space up to the value. */
static int
scan_key(struct scan *sc)
{
	size_t at;

	skip_ws(sc);
	at = sc->pos;
	if (peek(sc) != '"' || scan_string(sc) < 0)
		return -1;
	if (sc->depth == 1) {
		sc->m.key = (const char *)sc->s + at;
		sc->m.keylen = sc->pos - at;
	}
	skip_ws(sc);
	if (peek(sc) != ':')
		return -1;
	sc->pos++;
	skip_ws(sc);
	if (sc->depth == 1)
		sc->m.value = (const char *)sc->s + sc->pos;
	return 0;
}

/* At '[' or '{'. Returns 1 when it closed at once (empty), 0 when a value
 * (and for an object, its key) comes next. */
static int
open_container(struct scan *sc)
{
	unsigned char c = sc->s[sc->pos];

	if (sc->depth >= CJSON_NESTING_LIMIT)
		return -1;
	sc->open[sc->depth++] = c;
	sc->pos++;
	skip_ws(sc);
	if (peek(sc) == (c == '{' ? '}' : ']')) {
		sc->pos++;
		sc->depth--;
		return 1;
	}
	return c == '{' ? scan_key(sc) : 0;
}

/* After a value: hands over a finished top-level member, then closes
 * containers until a comma asks for the next value. Returns 1 when a value
 * comes next, 0 at the end of the top-level value, -1 on bad text and -2
 * when the callback stopped the walk. */
static int
after_value(struct scan *sc)
{
	for (;;) {
		unsigned char open;

		if (sc->depth == 0)
			return 0;
		open = sc->open[sc->depth - 1];
		if (sc->depth == 1 && open == '{') {
			sc->m.valuelen = (size_t)((const char *)sc->s +
			    sc->pos - sc->m.value);
			if (sc->fn(&sc->m, sc->ctx) != 0)
				return -2;
		}
		skip_ws(sc);
		if (peek(sc) == ',') {
			sc->pos++;
			if (open == '{')
				return scan_key(sc) < 0 ? -1 : 1;
			skip_ws(sc);
			return 1;
		}
		if (peek(sc) != (open == '{' ? '}' : ']'))
			return -1;
		sc->pos++;
		sc->depth--;
	}
}

/* One value, containers included, without recursion. */
static int
scan_value(struct scan *sc)
{
	for (;;) {
		int c = peek(sc), rc;

		if (c == '[' || c == '{')
			rc = open_container(sc);
		else
			rc = scan_scalar(sc);
		if (rc < 0)
			return -1;
		if (rc == 0 && (c == '[' || c == '{'))
			continue;	/* first value inside */
		if ((rc = after_value(sc)) <= 0)
			return rc;
	}
}

enum ds_json_shape
ds_json_scan(const char *body, size_t len, ds_json_member_fn fn, void *ctx)
{
	struct scan sc = {.s = (const unsigned char *)body, .len = len,
	    .fn = fn, .ctx = ctx};
	size_t start;
	int rc;

	if (len >= 5 && memcmp(body, BOM, 3) == 0)
		sc.pos = 3;
	skip_ws(&sc);
	start = sc.pos;
	if ((rc = scan_value(&sc)) == -2)
		return DS_JSON_STOPPED;
	if (rc < 0)
		return DS_JSON_INVALID;
	/* cJSON stops after the value; the caller always wanted nothing
	 * but white space after it */
	for (; sc.pos < len; sc.pos++)
		if (strchr(" \t\r\n", body[sc.pos]) == NULL ||
		    body[sc.pos] == '\0')
			return DS_JSON_INVALID;
	return body[start] == '{' ? DS_JSON_OBJECT : DS_JSON_OTHER;
}
