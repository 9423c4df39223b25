/* response.c: parses an endpoint's JSON answer (response.h).
 *
 * A body may be as large as max_response_bytes, and a cJSON tree of it can
 * cost 40 times that, so worker/json_scan.c checks the whole body and finds
 * the members of the top-level object without a tree; cJSON then parses
 * only the values of gearman_ret, response_string and response_encoding
 * (and keys written with escapes, to compare them as cJSON would). As with
 * cJSON_GetObjectItemCaseSensitive, the first of duplicate keys counts.
 *
 * cJSON keeps strings NUL-terminated, so a "\u0000" escape would cut a
 * string short. Before a string is parsed, each such escape is swapped, in
 * the body itself, for an escape of a Unicode noncharacter that the string
 * does not otherwise contain (same length); the marker's UTF-8 bytes are
 * turned back into NULs afterwards. Swapping in place spares a copy of the
 * string: at most the body and one decoded string are held at once. */
#include "worker/response.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/text.h"
#include "worker/json_scan.h"

#define NUL_ESCAPE	"\\u0000"
#define MARKER_FIRST	0xFDD0	/* U+FDD0 .. U+FDEF: 32 noncharacters */
#define MARKER_COUNT	32

enum decode_rc { DECODE_OK, DECODE_NOMEM, DECODE_NO_MARKER };

enum member { RET, STRING, ENCODING, MEMBERS };

static const char *const member_names[MEMBERS] = {
	[RET] = "gearman_ret",
	[STRING] = "response_string",
	[ENCODING] = "response_encoding",
};

/* What the walk over the body found: the first member of each name (key
 * NULL when absent), and why it stopped if it did. */
struct members {
	char			*body;	/* what found[] points into */
	struct ds_json_member	found[MEMBERS];
	int			nfound;
	enum decode_rc		rc;
};

static int
has_nul_escape(const char *s, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (s[i] != '\\')
			continue;
		if (len - i >= 6 && memcmp(s + i, NUL_ESCAPE, 6) == 0)
			return 1;
		i++;	/* skip the escaped character */
	}
	return 0;
}

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Bit i set: U+FDD0 + i is in s, raw or as a \u escape in any case. One
 * pass, whatever the text. */
static uint32_t
markers_used(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t used = 0;

	for (size_t i = 0; i + 3 <= len; i++) {
		int third, h;

		if (p[i] == 0xEF && p[i + 1] == 0xB7 && p[i + 2] >= 0x90 &&
		    p[i + 2] <= 0xAF)
			used |= 1u << (p[i + 2] - 0x90);
		if (p[i] != '\\' || len - i < 6 || (p[i + 1] | 0x20) != 'u' ||
		    (p[i + 2] | 0x20) != 'f' || (p[i + 3] | 0x20) != 'd')
			continue;
		third = p[i + 4] | 0x20;
		if ((third == 'd' || third == 'e') && (h = hexval(p[i + 5])) >= 0)
			used |= 1u << ((third == 'e') * 16 + h);
	}
	return used;
}

/* The first noncharacter absent from s; 0 if none is. */
static unsigned
pick_marker(const char *s, size_t len)
{
	uint32_t used = markers_used(s, len);

	for (unsigned i = 0; i < MARKER_COUNT; i++)
		if (!(used & (1u << i)))
			return MARKER_FIRST + i;
	return 0;
}

static void
swap_nul_escapes(char *s, size_t len, unsigned marker)
{
	char esc[8];

	snprintf(esc, sizeof(esc), "\\u%04X", marker);
	for (size_t i = 0; i + 1 < len; i++) {
		if (s[i] != '\\')
			continue;
		if (len - i >= 6 && memcmp(s + i, NUL_ESCAPE, 6) == 0)
			memcpy(s + i, esc, 6);
		i++;
	}
}

/* Turns marker sequences in s back into NULs, in place; returns the length.
 * Like cJSON, a NUL already in s ends it. */
static size_t
restore_nuls(char *s, unsigned marker)
{
	size_t n = strlen(s), o = 0;
	char raw[3] = {(char)0xEF, (char)0xB7, (char)(0x80 | (marker & 0x3F))};

	for (size_t i = 0; i < n; i++) {
		if (marker && n - i >= 3 && memcmp(s + i, raw, 3) == 0) {
			s[o++] = '\0';
			i += 2;
		} else {
			s[o++] = s[i];
		}
	}
	s[o] = '\0';
	return o;
}

/* Decodes the JSON string at p (quotes included, already checked by the
 * walk; its \u0000 escapes are rewritten) into a malloc'd buffer, NULs
 * included. */
static enum decode_rc
decode_string(const struct members *mb, const char *p, size_t len,
    char **out, size_t *outlen, int *borrowed)
{
	char *text = mb->body + (p - mb->body);
	unsigned marker = 0;
	cJSON *item;

	/* no escape (base64 never has one): the bytes between the quotes
	 * are the value, and a second parse of them would be wasted; where
	 * the caller allows, they stay in the body, the closing quote
	 * turned into a NUL */
	if (len >= 2 && borrowed != NULL &&
	    memchr(text + 1, '\\', len - 2) == NULL) {
		text[len - 1] = '\0';
		*out = text + 1;
		*outlen = len - 2;
		*borrowed = 1;
		return DECODE_OK;
	}
	if (len >= 2 && memchr(text + 1, '\\', len - 2) == NULL) {
		if ((*out = malloc(len - 1)) == NULL)
			return DECODE_NOMEM;
		memcpy(*out, text + 1, len - 2);
		(*out)[len - 2] = '\0';
		*outlen = len - 2;
		return DECODE_OK;
	}
	if (has_nul_escape(text, len)) {
		if ((marker = pick_marker(text, len)) == 0)
			return DECODE_NO_MARKER;
		swap_nul_escapes(text, len, marker);
	}
	item = cJSON_ParseWithLength(text, len);
	if (!cJSON_IsString(item)) {	/* the text was checked: no memory */
		cJSON_Delete(item);
		return DECODE_NOMEM;
	}
	/* take the string over rather than copy it: it goes back with
	 * cJSON_free(), or to callers as r->data, who free() it (the worker
	 * leaves cJSON's hooks at malloc and free) */
	*out = item->valuestring;
	item->valuestring = NULL;
	cJSON_Delete(item);
	*outlen = restore_nuls(*out, marker);
	return DECODE_OK;
}

static const char *
decode_error(enum decode_rc rc)
{
	return rc == DECODE_NO_MARKER ? "response_string: too many NUL escapes "
	    "and noncharacters to decode" : "out of memory";
}

/* ds_json_scan() callback: keeps the first member of each wanted name. */
static int
on_member(const struct ds_json_member *m, void *ctx)
{
	struct members *mb = ctx;
	const char *key = m->key + 1;
	size_t klen = m->keylen - 2;
	char *decoded = NULL;

	if (mb->nfound == MEMBERS)
		return 0;
	if (memchr(key, '\\', klen) != NULL) {
		mb->rc = decode_string(mb, m->key, m->keylen, &decoded, &klen,
		    NULL);
		if (mb->rc != DECODE_OK)
			return -1;
		key = decoded;
	}
	for (int i = 0; i < MEMBERS; i++) {
		if (mb->found[i].key != NULL || klen != strlen(member_names[i]) ||
		    memcmp(key, member_names[i], klen) != 0)
			continue;
		mb->found[i] = *m;
		mb->nfound++;
	}
	cJSON_free(decoded);
	return 0;
}

static void
free_data(struct ds_response *r)
{
	if (!r->borrowed)
		free(r->data);
	r->borrowed = 0;
}

static int
fail(struct ds_response *r, const char *why)
{
	free_data(r);
	r->data = NULL;
	r->len = 0;
	r->complete = 0;
	snprintf(r->reason, sizeof(r->reason), "%s", why);
	return -1;
}

/* The usual gearman_ret, a few digits, read without a cJSON item and
 * strtod() (800 instructions a job). Up to 15 digits a double holds the
 * value exactly, so the answer is the one the cJSON path gives. */
static int
short_int(const char *s, size_t n, long long *out)
{
	size_t i = s[0] == '-';
	long long v = 0;

	if (n <= i || n - i > 15)
		return -1;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = s[0] == '-' ? -v : v;
	return 0;
}

/* gearman_ret must be an integer that fits in 64 bits. */
static int
read_ret(const struct ds_json_member *m, long long *ret, struct ds_response *r)
{
	cJSON *v;
	double d;

	if (m->key == NULL)
		return fail(r, "response has no gearman_ret");
	if (m->value[0] != '-' && (m->value[0] < '0' || m->value[0] > '9'))
		return fail(r, "gearman_ret is not a number");
	if (short_int(m->value, m->valuelen, ret) == 0)
		return 0;
	/* a number is at most 63 bytes: cJSON builds one item */
	if ((v = cJSON_ParseWithLength(m->value, m->valuelen)) == NULL)
		return fail(r, "out of memory");
	d = v->valuedouble;
	cJSON_Delete(v);
	if (!isfinite(d) || floor(d) != d)
		return fail(r, "gearman_ret is not an integer");
	/* a double cannot tell -2^63 from -2^63 - 1: reject both, as
	 * 2^63 - 1 (which rounds to 2^63) already is */
	if (d >= 9223372036854775808.0 || d <= -9223372036854775808.0)
		return fail(r, "gearman_ret is out of range");
	*ret = (long long)d;
	return 0;
}

static int
read_encoding(const struct members *mb, struct ds_response *r)
{
	const struct ds_json_member *m = &mb->found[ENCODING];
	enum decode_rc rc;
	char *enc;
	size_t n;
	int base64;

	if (m->value[0] != '"')
		return fail(r, "response_encoding is not \"base64\"");
	if ((rc = decode_string(mb, m->value, m->valuelen, &enc, &n, NULL)) !=
	    DECODE_OK)
		return fail(r, decode_error(rc));
	base64 = n == 6 && memcmp(enc, "base64", 6) == 0;
	cJSON_free(enc);
	return base64 ? 0 : fail(r, "response_encoding is not \"base64\"");
}

static int
read_string(const struct members *mb, struct ds_response *r)
{
	const struct ds_json_member *s = &mb->found[STRING];
	const struct ds_json_member *enc = &mb->found[ENCODING];
	enum decode_rc rc;
	size_t n = 0;
	char *text = NULL;
	long decoded;

	if (s->key == NULL)
		return fail(r, "response has no response_string");
	if (s->value[0] != '"')
		return fail(r, "response_string is not a string");
	if (enc->key != NULL && read_encoding(mb, r) < 0)
		return -1;
	if ((rc = decode_string(mb, s->value, s->valuelen, &text, &n,
	    &r->borrowed)) != DECODE_OK)
		return fail(r, decode_error(rc));
	r->data = text;
	r->len = n;
	if (enc->key == NULL)
		return 0;
	/* in place: the output never overtakes the input */
	if ((decoded = ds_base64_decode_to(text, text, n)) < 0)
		return fail(r, "response_string is not valid base64");
	text[decoded] = '\0';
	r->len = (size_t)decoded;
	return 0;
}

int
ds_response_parse_in_place(char *body, size_t len, struct ds_response *r)
{
	struct members mb = {.body = body};
	long long ret = 0;

	memset(r, 0, sizeof(*r));
	/* JSON text never holds a raw NUL; cJSON would end a string there */
	if (memchr(body, '\0', len) != NULL)
		return fail(r, "response is not valid JSON");
	switch (ds_json_scan(body, len, on_member, &mb)) {
	case DS_JSON_OBJECT:
		break;
	case DS_JSON_OTHER:
		return fail(r, "response is JSON but not an object");
	case DS_JSON_INVALID:
		return fail(r, "response is not valid JSON");
	case DS_JSON_STOPPED:
		return fail(r, decode_error(mb.rc));
	}
	if (read_ret(&mb.found[RET], &ret, r) < 0 || read_string(&mb, r) < 0)
		return -1;
	if (ret != 0) {
		char why[64];

		snprintf(why, sizeof(why), "endpoint returned gearman_ret %lld",
		    ret);
		fail(r, why);
		return 0;
	}
	r->complete = 1;
	return 0;
}

int
ds_response_parse(char *body, size_t len, struct ds_response *r)
{
	int rc = ds_response_parse_in_place(body, len, r);
	char *copy;

	if (!r->borrowed)
		return rc;
	if ((copy = malloc(r->len + 1)) == NULL)
		return fail(r, "out of memory");
	memcpy(copy, r->data, r->len + 1);
	r->data = copy;
	r->borrowed = 0;
	return rc;
}

void
ds_response_free(struct ds_response *r)
{
	free_data(r);
	r->data = NULL;
	r->len = 0;
}
