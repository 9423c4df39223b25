/* json.c: the strict JSON checker and string decoder of json.h.
 *
 * Accepted is one JSON text as RFC 8259 defines it:
 *   - white space is space, tab, LF and CR only, around any token;
 *   - numbers are -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, however
 *     long (so no 01, 1., .5, +1, NaN or Infinity);
 *   - literals are true, false and null, in lower case;
 *   - in a string, a byte below 0x20 must be escaped; the escapes are
 *     \" \\ \/ \b \f \n \r \t and \uXXXX (hex in either case); a \u
 *     escape of a high surrogate (D800-DBFF) must be followed at once by
 *     one of a low surrogate (DC00-DFFF), and a low one may not stand
 *     alone;
 *   - no trailing commas, no comments, nothing after the value but white
 *     space.
 * Three deliberate differences, each one the RFC allows a parser:
 *   - a UTF-8 byte order mark at the very start is skipped (section 8.1);
 *   - bytes 0x80-0xFF in strings are taken as they are, not checked as
 *     UTF-8 (section 9 lets a parser accept more than JSON): an answer's
 *     string is bytes the worker hands on unchanged, and cJSON, which
 *     read answers before, took them too;
 *   - arrays and objects nest at most DS_JSON_MAX_DEPTH deep (section 9).
 * Duplicate names are not an error here: ds_json_scan() counts them, and
 * its caller decides.
 *
 * The walk is a loop, not a recursion, with one bit per open container;
 * nothing is allocated. t/unit/test_json.c holds each rule. */
#include "worker/json.h"

#include <stdint.h>
#include <string.h>

#define BOM		"\xEF\xBB\xBF"
#define KEY_MAX		128	/* an escaped key longer than this cannot
				 * decode to a wanted name (6 bytes a char) */

struct scan {
	const unsigned char	*p, *end;
	size_t			 depth;
	uint64_t		 is_object[(DS_JSON_MAX_DEPTH + 63) / 64];
	struct ds_json_want	*want, *member;	/* member: the wanted one
						 * being read, or NULL */
	size_t			 nwant;
};

static int
at(const struct scan *sc)
{
	return sc->p < sc->end ? *sc->p : -1;
}

static void
skip_ws(struct scan *sc)
{
	while (sc->p < sc->end && (*sc->p == ' ' || *sc->p == '\n' ||
	    *sc->p == '\r' || *sc->p == '\t'))
		sc->p++;
}

/* Four hex digits at p as a value; -1 when one is not a hex digit. */
static long
hex4(const unsigned char *p)
{
	long h = 0;

	for (int i = 0; i < 4; i++) {
		int c = p[i];

		if (c >= '0' && c <= '9')
			c -= '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			c = (c | 0x20) - 'a' + 10;
		else
			return -1;
		h = h << 4 | c;
	}
	return h;
}

/* The escape at p (a backslash, end the end of the text): its length, and
 * in *cp the character it stands for; 0 when it is not a valid escape. */
static size_t
read_escape(const unsigned char *p, const unsigned char *end, long *cp)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *e;
	long lo;

	if (end - p < 2)
		return 0;
	if (p[1] != 'u') {
		if (p[1] == '\0' || (e = strchr(from, p[1])) == NULL)
			return 0;
		*cp = (unsigned char)to[e - from];
		return 2;
	}
	if (end - p < 6 || (*cp = hex4(p + 2)) < 0 ||
	    (*cp >= 0xDC00 && *cp <= 0xDFFF))
		return 0;
	if (*cp < 0xD800 || *cp > 0xDBFF)
		return 6;
	/* a high surrogate: a low one must follow */
	if (end - p < 12 || p[6] != '\\' || p[7] != 'u' ||
	    (lo = hex4(p + 8)) < 0xDC00 || lo > 0xDFFF)
		return 0;
	*cp = 0x10000 + ((*cp - 0xD800) << 10) + (lo - 0xDC00);
	return 12;
}

#define ONES	0x0101010101010101ULL
#define HIGHS	0x8080808080808080ULL

/* Nonzero when one of the 8 bytes of w ends a run of plain text in a
 * string: a byte below 0x20, '"' or '\\'. The classic tests for a byte
 * below n, (w - n * ONES) & ~w & HIGHS, for n 0x20 on w and 1 on w ^ '"'
 * and w ^ '\\' (which keep w's high bits, the two being ASCII, so the
 * three share ~w). Never wrong about the whole word, which is all that is
 * asked of it. */
static uint64_t
stops(uint64_t w)
{
	uint64_t q = w ^ (ONES * '"'), b = w ^ (ONES * '\\');

	return ((w - ONES * 0x20) | (q - ONES) | (b - ONES)) & ~w & HIGHS;
}

/* Past the bytes that stand for themselves in a string. Eight at a time
 * first: a long base64 answer then costs 2 instructions a byte, not 13
 * (callgrind, make bench's 64 KiB answer). */
static const unsigned char *
skip_plain(const unsigned char *p, const unsigned char *end)
{
	uint64_t w;

	while (end - p >= 8) {
		memcpy(&w, p, 8);
		if (stops(w))
			break;
		p += 8;
	}
	while (p < end && *p >= 0x20 && *p != '"' && *p != '\\')
		p++;
	return p;
}

/* At a quote: past the string. Returns 1 when it holds an escape, 0 when
 * not, -1 when it is not a valid string. */
static int
scan_string(struct scan *sc)
{
	const unsigned char *p = sc->p + 1, *end = sc->end;
	int escaped = 0;
	long cp;

	for (;;) {
		size_t n;

		p = skip_plain(p, end);
		if (p == end || *p != '\\')
			break;
		if ((n = read_escape(p, end, &cp)) == 0)
			return -1;
		p += n;
		escaped = 1;
	}
	if (p == end || *p != '"')
		return -1;	/* the end, or a raw control byte */
	sc->p = p + 1;
	return escaped;
}

static const unsigned char *
digits(const unsigned char *p, const unsigned char *end)
{
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	return p;
}

/* At '-' or a digit: past the number. */
static int
scan_number(struct scan *sc)
{
	const unsigned char *p = sc->p, *end = sc->end, *q;

	if (*p == '-')
		p++;
	if (p < end && *p == '0')
		p++;
	else if ((q = digits(p, end)) > p && *p != '0')
		p = q;
	else
		return -1;
	if (p < end && *p == '.') {
		if ((q = digits(p + 1, end)) == p + 1)
			return -1;
		p = q;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if ((q = digits(p, end)) == p)
			return -1;
		p = q;
	}
	sc->p = p;
	return 0;
}

static int
scan_literal(struct scan *sc, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(sc->end - sc->p) < n || memcmp(sc->p, word, n) != 0)
		return -1;
	sc->p += n;
	return 0;
}

/* At a value that is not an array or an object. */
static int
scan_scalar(struct scan *sc)
{
	switch (at(sc)) {
	case '"':
		return scan_string(sc) < 0 ? -1 : 0;
	case 't':
		return scan_literal(sc, "true");
	case 'f':
		return scan_literal(sc, "false");
	case 'n':
		return scan_literal(sc, "null");
	default:
		if (at(sc) == '-' || (at(sc) >= '0' && at(sc) <= '9'))
			return scan_number(sc);
		return -1;
	}
}

/* The wanted member named by the key key[0..len), escaped or not. */
static struct ds_json_want *
wanted(struct scan *sc, const char *key, size_t len, int escaped)
{
	char buf[KEY_MAX];

	if (escaped) {
		if (len > sizeof(buf))
			return NULL;
		len = ds_json_unescape(buf, key, len);
		key = buf;
	}
	for (size_t i = 0; i < sc->nwant; i++)
		if (strlen(sc->want[i].name) == len &&
		    memcmp(sc->want[i].name, key, len) == 0)
			return &sc->want[i];
	return NULL;
}

/* Before a key: the key, the colon and the white space up to the value. */
static int
scan_key(struct scan *sc)
{
	const unsigned char *key;
	struct ds_json_want *w = NULL;
	int escaped;

	skip_ws(sc);
	key = sc->p + 1;
	if (at(sc) != '"' || (escaped = scan_string(sc)) < 0)
		return -1;
	if (sc->depth == 1 && sc->nwant > 0)
		w = wanted(sc, (const char *)key, (size_t)(sc->p - 1 - key),
		    escaped);
	skip_ws(sc);
	if (at(sc) != ':')
		return -1;
	sc->p++;
	skip_ws(sc);
	if (w != NULL && w->count++ == 0) {	/* the first of its name */
		sc->member = w;
		w->value = (const char *)sc->p;
	}
	return 0;
}

static int
top_is_object(const struct scan *sc)
{
	size_t i = sc->depth - 1;

	return (sc->is_object[i / 64] >> (i % 64)) & 1;
}

/* At '[' or '{'. Returns 1 when it closed at once (empty), 0 when a value
 * (and for an object, its key) comes next. */
static int
open_container(struct scan *sc)
{
	int object = *sc->p == '{';
	size_t i = sc->depth;

	if (sc->depth >= DS_JSON_MAX_DEPTH)
		return -1;
	sc->is_object[i / 64] &= ~((uint64_t)1 << (i % 64));
	sc->is_object[i / 64] |= (uint64_t)object << (i % 64);
	sc->depth++;
	sc->p++;
	skip_ws(sc);
	if (at(sc) == (object ? '}' : ']')) {
		sc->p++;
		sc->depth--;
		return 1;
	}
	return object ? scan_key(sc) : 0;
}

/* After a value: closes containers until a comma asks for the next value.
 * Returns 1 when a value comes next, 0 at the end of the top-level value,
 * -1 on bad text. */
static int
after_value(struct scan *sc)
{
	while (sc->depth > 0) {
		int object = top_is_object(sc);

		if (sc->depth == 1 && sc->member != NULL) {
			sc->member->valuelen = (size_t)((const char *)sc->p -
			    sc->member->value);
			sc->member = NULL;
		}
		skip_ws(sc);
		if (at(sc) == ',') {
			sc->p++;
			if (object)
				return scan_key(sc) < 0 ? -1 : 1;
			skip_ws(sc);
			return 1;
		}
		if (at(sc) != (object ? '}' : ']'))
			return -1;
		sc->p++;
		sc->depth--;
	}
	return 0;
}

/* One value, containers included. */
static int
scan_value(struct scan *sc)
{
	for (;;) {
		int c = at(sc), rc;

		if (c == '[' || c == '{') {
			if ((rc = open_container(sc)) < 0)
				return -1;
			if (rc == 0)
				continue;	/* the first value inside */
		} else if (scan_scalar(sc) < 0) {
			return -1;
		}
		if ((rc = after_value(sc)) <= 0)
			return rc;
	}
}

enum ds_json_shape
ds_json_scan(const char *text, size_t len, struct ds_json_want *want,
    size_t nwant)
{
	struct scan sc = {.p = (const unsigned char *)text,
	    .end = (const unsigned char *)text + len, .want = want,
	    .nwant = nwant};
	int object;

	for (size_t i = 0; i < nwant; i++) {
		want[i].value = NULL;
		want[i].valuelen = 0;
		want[i].count = 0;
	}
	if (len >= 3 && memcmp(text, BOM, 3) == 0)
		sc.p += 3;
	skip_ws(&sc);
	object = at(&sc) == '{';
	if (scan_value(&sc) < 0)
		return DS_JSON_INVALID;
	skip_ws(&sc);
	if (sc.p != sc.end)
		return DS_JSON_INVALID;
	return object ? DS_JSON_OBJECT : DS_JSON_OTHER;
}

/* Writes cp as UTF-8 at out; returns the byte count. */
static size_t
put_utf8(char *out, long cp)
{
	unsigned char *o = (unsigned char *)out;

	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xC0 | cp >> 6);
		o[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xE0 | cp >> 12);
		o[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
		o[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (unsigned char)(0xF0 | cp >> 18);
	o[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
	o[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
	o[3] = (unsigned char)(0x80 | (cp & 0x3F));
	return 4;
}

size_t
ds_json_unescape(char *out, const char *in, size_t len)
{
	const unsigned char *p = (const unsigned char *)in;
	const unsigned char *end = p + len;
	size_t o = 0;

	while (p < end) {
		const unsigned char *bs = memchr(p, '\\', (size_t)(end - p));
		size_t n = (size_t)((bs != NULL ? bs : end) - p);
		long cp = 0;

		/* the text before the escape: already in place when decoding
		 * in place and nothing has been shortened yet */
		if (out + o != (const char *)p)
			memmove(out + o, p, n);
		o += n;
		if (bs == NULL)
			break;
		p = bs + read_escape(bs, end, &cp);	/* checked: > 0 */
		o += put_utf8(out + o, cp);
	}
	return o;
}
