/* response.c: parses an endpoint's JSON answer (response.h).
 *
 * A body may be as large as max_response_bytes, and a JSON tree of it can
 * cost 40 times that, so worker/json.c checks the whole body as strict
 * JSON (what it accepts is written there) and finds the three members of
 * the top-level object without a tree: gearman_ret, response_string and
 * the optional response_encoding. Other members are ignored, at any depth.
 * A name that appears twice among the top-level members is a bad answer:
 * parsers differ on which one counts (cJSON takes the first, PHP and
 * Python the last), so no choice would be safe.
 *
 * response_string is decoded in the body itself (a decoded string is
 * never longer than its text), so reading an answer allocates nothing;
 * ds_response_parse() alone copies the result out of the body. */
#include "worker/response.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/text.h"
#include "worker/json.h"

enum member { RET, STRING, ENCODING, MEMBERS };

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

/* The usual gearman_ret, a few digits, read without strtod() (hundreds of
 * instructions a job). Up to 15 digits a double holds the value exactly,
 * so the answer is the one strtod() gives. */
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
read_ret(const struct ds_json_want *m, long long *ret, struct ds_response *r)
{
	char *end;
	double d;

	if (m->value[0] != '-' && (m->value[0] < '0' || m->value[0] > '9'))
		return fail(r, "gearman_ret is not a number");
	if (short_int(m->value, m->valuelen, ret) == 0)
		return 0;
	/* a JSON number is in C's syntax, and the checked body goes on
	 * after it (',' '}' or white space), where strtod() stops; the
	 * worker keeps the C locale, whose decimal point is '.' */
	d = strtod(m->value, &end);
	if (end != m->value + m->valuelen)
		return fail(r, "gearman_ret is not a number");
	if (!isfinite(d) || floor(d) != d)
		return fail(r, "gearman_ret is not an integer");
	/* a double cannot tell -2^63 from -2^63 - 1: reject both, as
	 * 2^63 - 1 (which rounds to 2^63) already is */
	if (d >= 9223372036854775808.0 || d <= -9223372036854775808.0)
		return fail(r, "gearman_ret is out of range");
	*ret = (long long)d;
	return 0;
}

/* Decodes the string member m where it is written (value: m->value in
 * the writable body) and NUL-terminates it, at the latest where its
 * closing quote was. Returns its first byte, *n its length. */
static char *
decode_in_place(char *value, const struct ds_json_want *m, size_t *n)
{
	char *text = value + 1;

	*n = ds_json_unescape(text, text, m->valuelen - 2);
	text[*n] = '\0';
	return text;
}

/* "base64", escaped or not: at most 6 escapes of 6 bytes. Decoded in a
 * copy, as only response_string is decoded in the body. */
static int
read_encoding(const struct ds_json_want *m, struct ds_response *r)
{
	char enc[36];
	size_t n = m->valuelen - 2;

	if (m->value[0] != '"' || n > sizeof(enc) ||
	    ds_json_unescape(enc, m->value + 1, n) != 6 ||
	    memcmp(enc, "base64", 6) != 0)
		return fail(r, "response_encoding is not \"base64\"");
	return 0;
}

static int
read_string(char *body, const struct ds_json_want *want, struct ds_response *r)
{
	const struct ds_json_want *s = &want[STRING], *enc = &want[ENCODING];
	long decoded;

	if (s->count == 0)
		return fail(r, "response has no response_string");
	if (s->value[0] != '"')
		return fail(r, "response_string is not a string");
	if (enc->count > 0 && read_encoding(enc, r) < 0)
		return -1;
	r->data = decode_in_place(body + (s->value - body), s, &r->len);
	r->borrowed = 1;
	if (enc->count == 0)
		return 0;
	/* in place: the output never overtakes the input */
	if ((decoded = ds_base64_decode_to(r->data, r->data, r->len)) < 0)
		return fail(r, "response_string is not valid base64");
	r->data[decoded] = '\0';
	r->len = (size_t)decoded;
	return 0;
}

/* The members, once each: which is missing or written twice. */
static int
check_members(const struct ds_json_want *want, struct ds_response *r)
{
	char why[64];

	for (int i = 0; i < MEMBERS; i++) {
		if (want[i].count <= 1)
			continue;
		snprintf(why, sizeof(why), "response has more than one %s",
		    want[i].name);
		return fail(r, why);
	}
	if (want[RET].count == 0)
		return fail(r, "response has no gearman_ret");
	return 0;
}

int
ds_response_parse_in_place(char *body, size_t len, struct ds_response *r)
{
	struct ds_json_want want[MEMBERS] = {
		[RET] = {.name = "gearman_ret"},
		[STRING] = {.name = "response_string"},
		[ENCODING] = {.name = "response_encoding"},
	};
	long long ret = 0;

	memset(r, 0, sizeof(*r));
	switch (ds_json_scan(body, len, want, MEMBERS)) {
	case DS_JSON_OBJECT:
		break;
	case DS_JSON_OTHER:
		return fail(r, "response is JSON but not an object");
	case DS_JSON_INVALID:
		return fail(r, "response is not valid JSON");
	}
	if (check_members(want, r) < 0 || read_ret(&want[RET], &ret, r) < 0 ||
	    read_string(body, want, r) < 0)
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
