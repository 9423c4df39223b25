/* response_ref.c: the worker's response parser as it was before
 * worker/json_scan.c, when cJSON parsed every body whole (and a 16 MiB body
 * could cost 657 MB). Kept only as the oracle of fuzz_response.c: the new
 * parser must give the same answer, byte for byte and reason for reason,
 * for every body small enough for this one to parse.
 *
 * cJSON keeps strings NUL-terminated, so a "\u0000" escape inside
 * response_string would cut it short. Before parsing, each such escape is
 * swapped for an escape of a Unicode noncharacter that the body does not
 * otherwise contain (same length, so positions in error messages hold); the
 * marker's UTF-8 bytes are turned back into NULs afterwards. */
#include "worker/response.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/text.h"

#define NUL_ESCAPE "\\u0000"

static int
has_nul_escape(const char *body, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (body[i] != '\\')
			continue;
		if (len - i >= 6 && memcmp(body + i, NUL_ESCAPE, 6) == 0)
			return 1;
		i++;	/* skip the escaped character */
	}
	return 0;
}

static int
contains_ci(const char *hay, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; i + n <= len; i++)
		if (strncasecmp(hay + i, needle, n) == 0)
			return 1;
	return 0;
}

/* Finds U+FDD0..U+FDEF absent from body, raw or escaped; 0 if none is. */
static unsigned
pick_marker(const char *body, size_t len)
{
	for (unsigned cp = 0xFDD0; cp <= 0xFDEF; cp++) {
		char esc[8], raw[4] = {(char)0xEF, (char)0xB7,
		    (char)(0x80 | (cp & 0x3F)), 0};

		snprintf(esc, sizeof(esc), "\\u%04X", cp);
		if (!contains_ci(body, len, esc) && !memmem(body, len, raw, 3))
			return cp;
	}
	return 0;
}

static char *
swap_nul_escapes(const char *body, size_t len, unsigned marker)
{
	char *copy = malloc(len + 1);
	char esc[8];

	if (copy == NULL)
		return NULL;
	memcpy(copy, body, len);
	copy[len] = '\0';
	snprintf(esc, sizeof(esc), "\\u%04X", marker);
	for (size_t i = 0; i + 1 < len; i++) {
		if (copy[i] != '\\')
			continue;
		if (len - i >= 6 && memcmp(copy + i, NUL_ESCAPE, 6) == 0)
			memcpy(copy + i, esc, 6);
		i++;
	}
	return copy;
}

/* Copies s into r->data, turning marker sequences back into NULs. */
static int
restore_nuls(const char *s, unsigned marker, struct ds_response *r)
{
	size_t n = strlen(s), o = 0;
	char raw[3] = {(char)0xEF, (char)0xB7, (char)(0x80 | (marker & 0x3F))};

	if ((r->data = malloc(n + 1)) == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (marker && n - i >= 3 && memcmp(s + i, raw, 3) == 0) {
			r->data[o++] = '\0';
			i += 2;
		} else {
			r->data[o++] = s[i];
		}
	}
	r->data[o] = '\0';
	r->len = o;
	return 0;
}

static int
fail(struct ds_response *r, const char *why)
{
	free(r->data);
	r->data = NULL;
	r->len = 0;
	r->complete = 0;
	snprintf(r->reason, sizeof(r->reason), "%s", why);
	return -1;
}

/* gearman_ret must be an integer that fits in 64 bits. */
static int
read_ret(const cJSON *v, long long *ret, struct ds_response *r)
{
	if (v == NULL)
		return fail(r, "response has no gearman_ret");
	if (!cJSON_IsNumber(v))
		return fail(r, "gearman_ret is not a number");
	if (!isfinite(v->valuedouble) || floor(v->valuedouble) != v->valuedouble)
		return fail(r, "gearman_ret is not an integer");
	/* a double cannot tell -2^63 from -2^63 - 1: reject both, as
	 * 2^63 - 1 (which rounds to 2^63) already is */
	if (v->valuedouble >= 9223372036854775808.0 ||
	    v->valuedouble <= -9223372036854775808.0)
		return fail(r, "gearman_ret is out of range");
	*ret = (long long)v->valuedouble;
	return 0;
}

static int
read_string(const cJSON *obj, unsigned marker, struct ds_response *r)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(obj, "response_string");
	const cJSON *enc = cJSON_GetObjectItemCaseSensitive(obj,
	    "response_encoding");
	size_t n;
	char *raw;

	if (s == NULL)
		return fail(r, "response has no response_string");
	if (!cJSON_IsString(s))
		return fail(r, "response_string is not a string");
	if (enc == NULL)
		return restore_nuls(s->valuestring, marker, r) < 0 ?
		    fail(r, "out of memory") : 0;
	if (!cJSON_IsString(enc) || strcmp(enc->valuestring, "base64") != 0)
		return fail(r, "response_encoding is not \"base64\"");
	raw = ds_base64_decode(s->valuestring, strlen(s->valuestring), &n);
	if (raw == NULL)
		return fail(r, "response_string is not valid base64");
	r->data = raw;
	r->len = n;
	return 0;
}

int
ds_response_parse_ref(const char *body, size_t len, struct ds_response *r)
{
	unsigned marker = 0;
	const char *end = NULL;
	char *text = NULL;
	cJSON *obj;
	long long ret;
	int rc;

	memset(r, 0, sizeof(*r));
	/* JSON text never holds a raw NUL; cJSON would end a string there */
	if (memchr(body, '\0', len) != NULL)
		return fail(r, "response is not valid JSON");
	if (has_nul_escape(body, len)) {
		if ((marker = pick_marker(body, len)) == 0)
			return fail(r, "response_string: too many NUL escapes "
			    "and noncharacters to decode");
		if ((text = swap_nul_escapes(body, len, marker)) == NULL)
			return fail(r, "out of memory");
		body = text;
	}
	obj = cJSON_ParseWithLengthOpts(body, len, &end, 0);
	if (obj != NULL && (size_t)(end - body) < len) {
		/* cJSON stops after the first value; anything but white
		 * space after it makes the body not JSON */
		for (const char *p = end; p < body + len; p++)
			if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') {
				cJSON_Delete(obj);
				obj = NULL;
				break;
			}
	}
	free(text);
	if (obj == NULL)
		return fail(r, "response is not valid JSON");
	if (!cJSON_IsObject(obj)) {
		cJSON_Delete(obj);
		return fail(r, "response is JSON but not an object");
	}
	rc = read_ret(cJSON_GetObjectItemCaseSensitive(obj, "gearman_ret"), &ret,
	    r);
	if (rc == 0)
		rc = read_string(obj, marker, r);
	cJSON_Delete(obj);
	if (rc < 0)
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

void
ds_response_free_ref(struct ds_response *r)
{
	free(r->data);
	r->data = NULL;
	r->len = 0;
}
